# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check results (verifications and restore drills) kept beside the sets they checked (docs/verify.md).

A committed set's objects never change, so what a check found goes into its own small JSON document in the
``checks/`` area of the store, one per run and set:

    checks/<set id>/<UTC time>-<kind>-<passed|failed>.json      kind: verify-quick, verify-full, drill

The outcome is part of the key, so a listing of ``checks/`` alone (no reads) tells the last verification
and drill of every set. Pure logic on plain values: keys, documents, and the newest check per set.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

AREA = 'checks'
KINDS = ('verify-quick', 'verify-full', 'drill')
PASSED = 'passed'
FAILED = 'failed'
DOC_KIND = 'lifeboat.backup/check'

_NAME_RE = re.compile(r'^(?P<when>\d{8}T\d{6}Z)-(?P<kind>verify-quick|verify-full|drill)-(?P<outcome>passed|failed)\.json$')


def check_key(set_id, when, kind, passed):
    """The key of one check document (relative to the store prefix)."""
    set_format.parse_set_id(set_id)
    if kind not in KINDS:
        raise ValueError('unknown check kind %r' % (kind,))
    return '%s/%s/%s-%s-%s.json' % (AREA, set_id, when.strftime(set_format.TS_FORMAT), kind, PASSED if passed else FAILED)


def set_prefix(set_id):
    """Where the checks of one set live (removed with the set)."""
    return '%s/%s' % (AREA, set_id)


def parse_check_key(key):
    """{'set_id', 'when' (ISO), 'kind', 'passed'} of a check key, or None for anything else."""
    parts = key.split('/')
    if len(parts) != 3 or parts[0] != AREA or not set_format.is_set_id(parts[1]):
        return None
    found = _NAME_RE.match(parts[2])
    if not found:
        return None
    when = found.group('when')
    try:
        moment = set_format.parse_set_id(when)[0]
    except Exception:  # not a valid time: not one of ours
        return None
    return {'set_id': parts[1], 'when': set_format.iso(moment), 'kind': found.group('kind'),
            'passed': found.group('outcome') == PASSED, 'key': key, 'timestamp': moment}


def latest_by_set(keys, now=None):
    """{set id: {'last_verify': {...}, 'last_drill': {...}}} from the keys of the checks area.

    ``last_verify`` is the newest verification of either level (with its ``level``); ``age_seconds`` is
    given when ``now`` is.
    """
    out = {}
    for key in keys:
        check = parse_check_key(key)
        if check is None:
            continue
        slot = 'last_drill' if check['kind'] == 'drill' else 'last_verify'
        entry = out.setdefault(check['set_id'], {})
        current = entry.get(slot)
        if current is not None and current['when'] >= check['when']:
            continue
        summary = {'when': check['when'], 'epoch': int(check['timestamp'].timestamp()), 'passed': check['passed'], 'key': key}
        if slot == 'last_verify':
            summary['level'] = check['kind'].split('-', 1)[1]
        if now is not None:
            summary['age_seconds'] = int((now - check['timestamp']).total_seconds())
        entry[slot] = summary
    return out


def attach(sets, keys, now=None):
    """Add ``last_verify`` / ``last_drill`` to each summary of a set listing (in place); returns ``sets``."""
    latest = latest_by_set(keys, now)
    for summary in sets:
        found = latest.get(summary.get('id'), {})
        summary['last_verify'] = found.get('last_verify')
        summary['last_drill'] = found.get('last_drill')
    return sets


def check_keys(store):
    """Every key of the checks area (one listing)."""
    return [info.key for info in store.list(AREA)]


def make_check_doc(set_id, kind, passed, started, finished, manifest_sha256, items, problems, runner=None, totals=None):
    """The document of one check run on one set. ``items``: one dict per artifact (or database) checked."""
    if kind not in KINDS:
        raise ValueError('unknown check kind %r' % (kind,))
    doc = {
        'schema_version': set_format.SCHEMA_VERSION,
        'kind': DOC_KIND,
        'set_id': set_id,
        'check': kind,
        'passed': bool(passed),
        'started': started,
        'finished': finished,
        'manifest_sha256': manifest_sha256,
        'problems': list(problems),
        'items': list(items),
    }
    if runner:
        doc['runner'] = runner
    if totals:
        doc['totals'] = totals
    return doc


def load_check_doc(data, key):
    """Parse and validate a check document read back from the store."""
    doc = set_format.loads(data, 'check %s' % key)
    what = 'check %s' % key
    if doc.get('kind') != DOC_KIND:
        raise DamagedError('%s is not a check document (kind %r)' % (what, doc.get('kind')))
    for field, types in (('set_id', str), ('check', str), ('passed', bool), ('items', list), ('problems', list)):
        if not isinstance(doc.get(field), types):
            raise DamagedError('%s has no valid %r field' % (what, field))
    return doc
