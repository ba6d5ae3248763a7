# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental chains in a store: the base of a new archive, and the levels a restore applies.

A chain lives entirely in the store: each incremental record names and pins (key, sha256, size) every level
before it in ``extra.incremental.chain``, and each level's set holds tar's snapshot file as an artifact of its
own. Nothing is kept on a host, so a rebuilt host, or another host that continues its chain, finds everything here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic


def set_epoch(set_id):
    return calendar.timegm(set_format.parse_set_id(set_id)[0].utctimetuple())


def _record_in(manifest, host, component, name):
    for record in manifest.get('artifacts', []):
        if record['host'] == host and record['component'] == component and record['name'] == name:
            return record
    return None


class Manifests(object):
    """Manifests read once per call: {set_id: manifest}, and why a set has none (not completed, unreadable)."""

    def __init__(self, store):
        self.store = store
        self.cache = {}

    def get(self, set_id):
        """(manifest or None, why not, the error class of why not)."""
        if set_id not in self.cache:
            try:
                manifest, _digest = lifecycle.read_manifest(self.store, set_id)
            except LifeboatError as e:
                self.cache[set_id] = (None, 'its manifest cannot be read (%s)' % e.msg, DamagedError)
            else:
                self.cache[set_id] = (manifest, None, None) if manifest is not None else self._why_not(set_id)
        return self.cache[set_id]

    def _why_not(self, set_id):
        try:
            summary = lifecycle.derived_status(self.store, set_id, set_format.utcnow())
        except LifeboatError as e:
            return None, 'its status cannot be read (%s)' % e.msg, DamagedError
        if summary['status'] == set_format.FAILED and lifecycle.read_status(self.store, set_id) is None \
                and not self.store.list_children(set_id):
            return None, 'it is not in the %s (it was removed)' % self.store.describe(), NotFoundError
        return (None, 'it is %s%s, not completed' % (summary['status'], ' (%s)' % summary['reason'] if summary.get('reason') else ''),
                LifeboatError)


def _missing_part(store, record):
    info = store.stat(record['key'])
    if info is None:
        return 'its artifact %s is missing' % record['key']
    if info.size != record['size']:
        return 'its artifact %s has %d bytes, its record says %d' % (record['key'], info.size, record['size'])
    return None


def chain_records(store, record, manifests=None):
    """The records of every level of ``record``'s chain, oldest first, then ``record`` itself.

    Returns (records, None), or (records found so far, (set_id, level, why, error class)) for the first level
    that is missing, not completed, replaced or damaged. Every artifact is checked present with its size.
    """
    manifests = manifests or Manifests(store)
    why = incremental.chain_shape_problem(record)
    if why:
        return [], (record['set_id'], None, why, DamagedError)
    facts = incremental.facts_of(record) or {}
    out = []
    for entry in facts.get('chain') or []:
        manifest, why, error = manifests.get(entry['set_id'])
        if manifest is None:
            return out, (entry['set_id'], entry['level'], why, error)
        found = None
        for candidate in manifest.get('artifacts', []):
            if candidate['key'] == entry['key'] and candidate['host'] == entry['host']:
                found = candidate
        if found is None:
            return out, (entry['set_id'], entry['level'], 'it has no artifact %s' % entry['key'], DamagedError)
        why = incremental.level_problem(entry, found, record) or _missing_part(store, found)
        if why:
            return out, (entry['set_id'], entry['level'], why, DamagedError)
        out.append(found)
    why = _missing_part(store, record)
    if why:
        return out, (record['set_id'], facts.get('level', 0), why, DamagedError)
    out.append(record)
    return out, None


def chain_problem(store, record, manifests=None):
    """Why the chain of an incremental ``record`` cannot be restored (naming the set and level), or None: what
    verification and drills check of every earlier level without reading the archives."""
    _levels, broken = chain_records(store, record, manifests)
    if broken is None:
        return None
    set_id, level, why, _error = broken
    what = 'set %s' % set_id if level is None else 'set %s (level %d of the chain)' % (set_id, level)
    return '%s/%s/%s is level %s of a broken incremental chain: %s: %s' % (
        record['host'], record['component'], record['name'], (incremental.facts_of(record) or {}).get('level', '?'), what, why)


def snapshot_of(store, manifests, record):
    """The record of the snapshot file stored with an incremental archive, when it is there whole, else None."""
    facts = incremental.facts_of(record) or {}
    wanted = (facts.get('snar') or {}).get('key')
    manifest, _why, _error = manifests.get(record['set_id'])
    if not wanted or manifest is None:
        return None
    for candidate in manifest.get('artifacts', []):
        if candidate['key'] == wanted and candidate['host'] == record['host'] and candidate.get('artifact_kind') == incremental.SNAR_KIND:
            return None if _missing_part(store, candidate) else candidate
    return None


def resolve(store, record):
    """The levels a restore of ``record`` applies, oldest first, each with the record of its snapshot file (or
    None): [(record, snapshot record)]. Refuses a broken chain, naming the set."""
    manifests = Manifests(store)
    levels, broken = chain_records(store, record, manifests)
    if broken is None:
        return [(level, snapshot_of(store, manifests, level)) for level in levels]
    set_id, level, why, error = broken
    what = 'set %s' % set_id if level is None else 'set %s (level %d of the chain)' % (set_id, level)
    facts = incremental.facts_of(record) or {}
    raise error('%s/%s/%s of set %s is level %s of an incremental chain that is broken: %s: %s. Nothing was '
                'changed; restore a set whose chain is whole (backup_set_info lists each set\'s chain)'
                % (record['host'], record['component'], record['name'], record['set_id'], facts.get('level', '?'), what, why),
                broken_set=set_id, broken_level=level)


def find_base(store, set_id, host, name, label=None):
    """The base of a new archive of ``host``'s entry ``name`` in the open set ``set_id``.

    The base is the entry in the newest earlier completed set of the same label (sets that are not completed
    are passed over: they are never restored). Returns {record, snar, problem, full_time, passed_over}: the
    base record (None when no earlier set holds the entry), the record of its snapshot file, why its chain
    cannot be continued (None when it can) and the epoch of its chain's level 0.
    """
    manifests = Manifests(store)
    passed = []
    out = {'record': None, 'snar': None, 'problem': None, 'full_time': None, 'passed_over': passed}
    for other in sorted((sid for sid in store.list_children('') if set_format.is_set_id(sid) and sid < set_id),
                        reverse=True):
        if set_format.parse_set_id(other)[1] != (label or None):
            continue
        manifest, why, _error = manifests.get(other)
        if manifest is None:
            passed.append({'set_id': other, 'why': why})
            continue
        record = _record_in(manifest, host, files_logic.COMPONENT, name)
        if record is None:
            continue
        out['record'] = record
        if incremental.facts_of(record) is None:
            return out
        snar = _record_in(manifest, host, files_logic.COMPONENT, incremental.snar_name(name))
        out['snar'] = snar
        _levels, broken = chain_records(store, record, manifests)
        if broken is not None:
            broken_set, level, why, _error = broken
            out['problem'] = 'set %s%s: %s' % (broken_set, '' if level is None else ' (level %d)' % level, why)
        elif snar is None:
            out['problem'] = 'set %s has no snapshot file %s' % (other, incremental.snar_name(name))
        else:
            out['problem'] = _missing_part(store, snar)
            if out['problem']:
                out['problem'] = 'the snapshot file of set %s: %s' % (other, out['problem'])
        out['full_time'] = set_epoch(incremental.full_set_of(record))
        return out
    return out
