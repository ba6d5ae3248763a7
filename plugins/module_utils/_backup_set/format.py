# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup-set format (docs/format.md): ids, keys, records, status and manifest.

Pure logic on plain values: no I/O, so it unit-tests without mocks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import json
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

SCHEMA_VERSION = 1

STATUS_KEY = 'status.json'
MANIFEST_KEY = 'manifest.json'
LOCK_KEY = 'lock.json'
RECORD_SUFFIX = '.record.json'

IN_PROGRESS = 'in_progress'
COMPLETED = 'completed'
FAILED = 'failed'

_ID_RE = re.compile(r'^(?P<ts>\d{8}T\d{6}Z)(?:-(?P<label>[a-z0-9][a-z0-9_.-]{0,62}))?$')
_LABEL_RE = re.compile(r'^[a-z0-9][a-z0-9_.-]{0,62}$')
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$')
_HOST_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,252}$')
TS_FORMAT = '%Y%m%dT%H%M%SZ'


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_iso(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------- ids and names

def validate_label(label):
    if label in (None, ''):
        return None
    if not _LABEL_RE.match(label):
        raise LifeboatError(
            "label %r is not valid: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
            % (label,))
    return label


def make_set_id(now, label=None):
    """Set id: a UTC timestamp like 20261122T031500Z, optionally followed by -label."""
    label = validate_label(label)
    ts = now.astimezone(datetime.timezone.utc).strftime(TS_FORMAT)
    return ts + ('-' + label if label else '')


def parse_set_id(set_id):
    """Return (datetime, label) of a set id, or raise LifeboatError."""
    m = _ID_RE.match(set_id or '')
    if not m:
        raise LifeboatError(
            "%r is not a backup set id (expected a UTC timestamp like 20261122T031500Z, optionally with -label)"
            % (set_id,))
    try:
        dt = datetime.datetime.strptime(m.group('ts'), TS_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise LifeboatError('%r is not a backup set id: %s is not a valid UTC time' % (set_id, m.group('ts')))
    return dt, m.group('label')


def is_set_id(name):
    try:
        parse_set_id(name)
    except LifeboatError:
        return False
    return True


def validate_name(name, what='component name'):
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LifeboatError(
            "%s %r is not valid: use letters, digits, '.', '_', '-', '@' or '+' (max 128), starting with a letter or digit"
            % (what, name))
    return name


def validate_host(host):
    if not isinstance(host, str) or not _HOST_RE.match(host) or host in ('.', '..'):
        raise LifeboatError("host name %r cannot be used in a backup set" % (host,))
    return host


# ---------------------------------------------------------------- keys (relative to the store prefix)

def set_key(set_id, *parts):
    return '/'.join((set_id,) + tuple(parts))


def artifact_key(set_id, host, component, filename):
    return set_key(set_id, validate_host(host), validate_name(component, 'component'), filename)


def record_key_for(artifact_key_):
    return artifact_key_ + RECORD_SUFFIX


# ---------------------------------------------------------------- documents

def dumps(doc):
    """Canonical JSON bytes of a document (sorted keys, UTF-8, trailing newline)."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def loads(data, what):
    try:
        doc = json.loads(data.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as e:
        raise LifeboatError('%s is not valid JSON: %s' % (what, e))
    if not isinstance(doc, dict):
        raise LifeboatError('%s is not a JSON object' % what)
    schema = doc.get('schema_version')
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise LifeboatError(
            '%s has schema_version %r; this collection reads up to %d: upgrade lifeboat.backup to read it'
            % (what, schema, SCHEMA_VERSION))
    return doc


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def status_doc(set_id, status, started, owner=None, reason=None, finished=None):
    doc = {
        'schema_version': SCHEMA_VERSION,
        'kind': 'lifeboat.backup/status',
        'set_id': set_id,
        'status': status,
        'started': started,
    }
    if owner:
        doc['owner'] = owner
    if reason:
        doc['reason'] = reason
    if finished:
        doc['finished'] = finished
    return doc


RECORD_FIELDS = ('host', 'component', 'name', 'kind', 'key', 'source', 'format', 'compression', 'encryption',
                 'size', 'sha256', 'started', 'finished', 'tools')


def make_record(set_id, host, component, name, kind, key, source, fmt, compression, encryption, size, sha256,
                started, finished, tools, extra=None):
    """The record of one artifact. ``extra`` holds component-specific facts (paths, database, sizes...)."""
    rec = {
        'schema_version': SCHEMA_VERSION,
        'kind': 'lifeboat.backup/record',
        'set_id': set_id,
        'host': host,
        'component': component,
        'name': name,
        'artifact_kind': kind,
        'key': key,
        'source': source,
        'format': fmt,
        'compression': compression,
        'encryption': encryption,
        'size': int(size),
        'sha256': sha256,
        'started': started,
        'finished': finished,
        'tools': dict(tools or {}),
    }
    if extra:
        rec['extra'] = extra
    return rec


def check_record(rec, set_id):
    """Validate a record read back from the store; return it or raise."""
    what = 'artifact record %s' % rec.get('key', '?')
    for field in ('host', 'component', 'name', 'key', 'size', 'sha256', 'compression', 'encryption', 'format'):
        if field not in rec:
            raise LifeboatError('%s has no %r field' % (what, field))
    if rec.get('set_id') != set_id:
        raise LifeboatError('%s belongs to set %r, not %r' % (what, rec.get('set_id'), set_id))
    if not re.match(r'^[0-9a-f]{64}$', str(rec['sha256'])):
        raise LifeboatError('%s has no valid sha256' % what)
    if not isinstance(rec['size'], int) or rec['size'] < 0:
        raise LifeboatError('%s has no valid size' % what)
    return rec


def make_manifest(set_id, status_document, records, finished, missing_hosts=None):
    """The manifest: every record of the set. Writing it is the commit."""
    records = sorted(records, key=lambda r: (r['host'], r['component'], r['name']))
    hosts = sorted({r['host'] for r in records})
    doc = {
        'schema_version': SCHEMA_VERSION,
        'kind': 'lifeboat.backup/manifest',
        'set_id': set_id,
        'label': parse_set_id(set_id)[1],
        'status': COMPLETED,
        'started': status_document.get('started'),
        'finished': finished,
        'owner': status_document.get('owner'),
        'hosts': hosts,
        'components': summarize_components(records),
        'artifact_count': len(records),
        'size': sum(r['size'] for r in records),
        'artifacts': records,
    }
    if missing_hosts:
        doc['missing_hosts'] = missing_hosts
    return doc


def summarize_components(records):
    out = {}
    for r in records:
        out.setdefault(r['host'], [])
        label = '%s/%s' % (r['component'], r['name'])
        if label not in out[r['host']]:
            out[r['host']].append(label)
    return out


def verify_parts(records, present):
    """Compare records with what the store holds.

    ``present`` maps key -> size. Returns a list of problems (empty when every part is there, whole).
    """
    problems = []
    for r in records:
        size = present.get(r['key'])
        if size is None:
            problems.append('%s is missing' % r['key'])
        elif size != r['size']:
            problems.append('%s has %d bytes, its record says %d' % (r['key'], size, r['size']))
    return problems


def set_summary(set_id, status_document, manifest, now, lock_doc=None):
    """One line of backup_set_info: derive the status from what is in the store.

    completed  -- a manifest exists (the commit point)
    failed     -- the status says failed, or it says in_progress but no live lock belongs to this set
                  (the run was interrupted)
    in_progress -- a live lock belongs to this set
    """
    dt, label = parse_set_id(set_id)
    out = {'id': set_id, 'label': label, 'timestamp': iso(dt), 'age_seconds': int((now - dt).total_seconds())}
    if manifest is not None:
        out.update({
            'status': COMPLETED,
            'restorable': True,
            'started': manifest.get('started'),
            'finished': manifest.get('finished'),
            'size': manifest.get('size', 0),
            'hosts': manifest.get('hosts', []),
            'components': manifest.get('components', {}),
            'artifact_count': manifest.get('artifact_count', 0),
        })
        if manifest.get('missing_hosts'):
            out['missing_hosts'] = manifest['missing_hosts']
        return out
    out.update({'restorable': False, 'size': 0, 'hosts': [], 'components': {}, 'artifact_count': 0})
    if status_document is None:
        out.update({'status': FAILED, 'reason': 'no status or manifest in the store (interrupted before it started)'})
        return out
    out['started'] = status_document.get('started')
    out['finished'] = status_document.get('finished')
    st = status_document.get('status')
    if st == FAILED:
        out.update({'status': FAILED, 'reason': status_document.get('reason') or 'failed'})
    elif st == IN_PROGRESS and lock_doc is not None and lock_doc.get('set_id') == set_id:
        out.update({'status': IN_PROGRESS})
        if status_document.get('owner'):
            out['owner'] = status_document['owner']
    else:
        out.update({'status': FAILED,
                    'reason': 'interrupted: the run ended without committing or failing the set'})
    return out
