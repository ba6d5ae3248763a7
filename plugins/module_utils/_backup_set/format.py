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

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError

SCHEMA_VERSION = 1

STATUS_KEY = 'status.json'
MANIFEST_KEY = 'manifest.json'
LOCK_KEY = 'lock.json'
RECORD_SUFFIX = '.record.json'
PART_SUFFIX = '.part.json'
HEARTBEAT_DIR = 'heartbeats'
DELIVERY_DIR = 'deliveries'

IN_PROGRESS = 'in_progress'
COMPLETED = 'completed'
FAILED = 'failed'
DAMAGED = 'damaged'
STATUSES = (IN_PROGRESS, COMPLETED, FAILED)

KIND_STATUS = 'lifeboat.backup/status'
KIND_MANIFEST = 'lifeboat.backup/manifest'
KIND_RECORD = 'lifeboat.backup/record'
KIND_PART = 'lifeboat.backup/part'
KIND_HEARTBEAT = 'lifeboat.backup/heartbeat'
KIND_LOCK = 'lifeboat.backup/lock'
KIND_DELIVERY = 'lifeboat.backup/delivery'

# heartbeat states: a module still working, one that ended normally, one stopped by SIGTERM/SIGINT
RUNNING = 'running'
ENDED = 'ended'
CANCELLED = 'cancelled'
HEARTBEAT_STATES = (RUNNING, ENDED, CANCELLED)

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


def parse_iso_or_none(text):
    """A datetime for an ISO 8601 UTC time as written here, or None when it is not one."""
    try:
        return parse_iso(text)
    except (TypeError, ValueError):
        return None


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


def part_key_for(artifact_key_):
    """The part declaration of an artifact: written (exclusively) before the artifact is streamed."""
    return artifact_key_ + PART_SUFFIX


def heartbeat_prefix(set_id):
    return set_key(set_id, HEARTBEAT_DIR)


def heartbeat_key(set_id, host, pid, token):
    """One heartbeat object per module process: <set>/heartbeats/<host>-<pid>-<token>.json."""
    return set_key(set_id, HEARTBEAT_DIR, '%s-%d-%s.json' % (validate_host(host), int(pid), token))


def delivery_prefix(set_id):
    return set_key(set_id, DELIVERY_DIR)


def delivery_key(set_id, host):
    """What one host of a sliced backup reports about its parts: <set>/deliveries/<host>.json (three segments,
    never a part key)."""
    return set_key(set_id, DELIVERY_DIR, '%s.json' % validate_host(host))


def artifact_key_of(key, suffix):
    """The artifact key a record/part key belongs to, or None when ``key`` does not end with ``suffix``."""
    if key.endswith(suffix) and len(key) > len(suffix):
        return key[:-len(suffix)]
    return None


def is_part_area_key(set_id, key):
    """True for keys below <set>/<host>/<component>/ (artifacts, records, part declarations)."""
    parts = key.split('/')
    return len(parts) == 4 and parts[0] == set_id and parts[1] != HEARTBEAT_DIR


# ---------------------------------------------------------------- documents

def dumps(doc):
    """Canonical JSON bytes of a document (sorted keys, UTF-8, trailing newline)."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def loads(data, what):
    """Parse a stored document; DamagedError when it is not JSON, not an object or of an unknown schema."""
    try:
        doc = json.loads(data.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as e:
        raise DamagedError('%s is not valid JSON: %s' % (what, e))
    if not isinstance(doc, dict):
        raise DamagedError('%s is not a JSON object' % what)
    schema = doc.get('schema_version')
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise DamagedError('%s has schema_version %r, which is not a schema version of lifeboat.backup' % (what, schema))
    if schema > SCHEMA_VERSION:
        raise DamagedError(
            '%s has schema_version %r; this collection reads up to %d: upgrade lifeboat.backup to read it'
            % (what, schema, SCHEMA_VERSION))
    return doc


# ---------------------------------------------------------------- validation of documents read from a store
#
# Everything read from a store is checked field by field before use: a damaged or hand-edited document
# gives one readable DamagedError naming the document, the field, what it must be and what it is.

_SHA_RE = re.compile(r'^[0-9a-f]{64}$')


def describe_value(value):
    """A short, readable description of a JSON value for error messages."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'the boolean %s' % ('true' if value else 'false')
    if isinstance(value, str):
        return 'the string %s' % json.dumps(value if len(value) <= 80 else value[:77] + '...', ensure_ascii=False)
    if isinstance(value, (int, float)):
        return 'the number %r' % (value,)
    if isinstance(value, list):
        return 'a list'
    if isinstance(value, dict):
        return 'an object'
    return 'a %s' % type(value).__name__


def _text(value):
    return None if isinstance(value, str) and value else 'a non-empty string'


def _text_or_empty(value):
    return None if isinstance(value, str) else 'a string'


def _count(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return 'a whole number (0 or more)'


def _bytes(value):
    return None if _count(value) is None else 'a whole number of bytes (0 or more)'


def _positive(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return 'a whole number (1 or more)'


def _sha256(value):
    return None if isinstance(value, str) and _SHA_RE.match(value) else 'a SHA-256 in lower-case hex (64 characters)'


def _time(value):
    return None if parse_iso_or_none(value) is not None else 'a UTC time like 2026-11-22T03:15:00Z'


def _time_or_null(value):
    return None if value is None else _time(value)


def _mapping(value):
    return None if isinstance(value, dict) else 'an object'


def _mapping_or_null(value):
    return None if value is None else _mapping(value)


def _host(value):
    return None if isinstance(value, str) and _HOST_RE.match(value) and value not in ('.', '..') else 'a host name'


def _artifact_name(value):
    return None if isinstance(value, str) and _NAME_RE.match(value) else "a name of letters, digits, '.', '_', '-', '@' or '+'"


def _hosts(value):
    if isinstance(value, list) and all(_host(v) is None for v in value):
        return None
    return 'a list of host names'


def _one_of(*choices):
    def check(value):
        return None if value in choices else 'one of %s' % ', '.join(json.dumps(c) for c in choices)
    return check


def _label(value):
    return None if value is None or (isinstance(value, str) and _LABEL_RE.match(value)) else 'a set label or null'


def check_fields(doc, spec, what):
    """Check ``doc`` against ``spec``: (field, required, check) where check(value) -> None or 'what it must be'."""
    for field, required, check in spec:
        if field not in doc:
            if required:
                raise DamagedError('%s has no %r field' % (what, field))
            continue
        must = check(doc[field])
        if must is not None:
            raise DamagedError('%s: %r must be %s, not %s' % (what, field, must, describe_value(doc[field])))
    return doc


def _same_set(doc, set_id, what):
    if doc.get('set_id') != set_id:
        raise DamagedError('%s belongs to set %r, not %r' % (what, doc.get('set_id'), set_id))


STATUS_SPEC = (
    ('kind', False, _one_of(KIND_STATUS)),
    ('set_id', True, _text),
    ('status', True, _one_of(*STATUSES)),
    ('started', False, _time_or_null),
    ('finished', False, _time_or_null),
    ('reason', False, _text_or_empty),
    ('owner', False, _mapping_or_null),
    ('manifest_sha256', False, _sha256),
)


def validate_status(doc, set_id):
    what = 'the status of set %s' % set_id
    check_fields(doc, STATUS_SPEC, what)
    _same_set(doc, set_id, what)
    return doc


def _recipients(value):
    """An encrypted record's recipients: a list of {type, fingerprint, comment} (docs/encryption.md)."""
    if isinstance(value, list) and all(isinstance(entry, dict) and isinstance(entry.get('fingerprint'), str) for entry in value):
        return None
    return 'a list of recipients, each with its fingerprint'


RECORD_SPEC = (
    ('kind', True, _one_of(KIND_RECORD)),
    ('set_id', True, _text),
    ('host', True, _host),
    ('component', True, _artifact_name),
    ('name', True, _artifact_name),
    ('artifact_kind', False, _text),
    ('key', True, _text),
    ('source', False, _text_or_empty),
    ('format', True, _text),
    ('compression', True, _text),
    ('encryption', True, _text),
    ('size', True, _bytes),
    ('sha256', True, _sha256),
    ('started', False, _time_or_null),
    ('finished', False, _time_or_null),
    ('tools', False, _mapping),
    ('extra', False, _mapping),
    ('recipients', False, _recipients),
)


def validate_record(rec, set_id, what=None):
    """Check a record read back from a store (its own file, or a manifest entry); return it or raise DamagedError."""
    if not isinstance(rec, dict):
        raise DamagedError('%s is not a JSON object' % (what or 'an artifact record of set %s' % set_id))
    what = what or 'artifact record %s' % (rec.get('key') if isinstance(rec.get('key'), str) else '?')
    check_fields(rec, RECORD_SPEC, what)
    _same_set(rec, set_id, what)
    prefix = '%s/%s/%s/' % (set_id, rec['host'], rec['component'])
    rest = rec['key'][len(prefix):]
    if not rec['key'].startswith(prefix) or not rest or '/' in rest or rest in ('.', '..'):
        raise DamagedError("%s: 'key' must name an object under %s, not %s" % (what, prefix, describe_value(rec['key'])))
    return rec


def check_record(rec, set_id):
    """Validate a record read back from the store; return it or raise (kept for callers of 0.1.0)."""
    return validate_record(rec, set_id)


MANIFEST_SPEC = (
    ('kind', True, _one_of(KIND_MANIFEST)),
    ('set_id', True, _text),
    ('label', False, _label),
    ('status', True, _one_of(COMPLETED)),
    ('started', False, _time_or_null),
    ('finished', True, _time),
    ('owner', False, _mapping_or_null),
    ('hosts', True, _hosts),
    ('components', True, _mapping),
    ('artifact_count', True, _count),
    ('size', True, _bytes),
    ('artifacts', True, lambda v: None if isinstance(v, list) else 'a list of artifact records'),
    ('missing_hosts', False, _hosts),
    ('empty_hosts', False, _hosts),
)


def validate_manifest(doc, set_id):
    """Check a manifest read from a store, every record in it included; return it or raise DamagedError."""
    what = 'the manifest of set %s' % set_id
    check_fields(doc, MANIFEST_SPEC, what)
    _same_set(doc, set_id, what)
    keys = set()
    for i, rec in enumerate(doc['artifacts']):
        validate_record(rec, set_id, what='%s, artifact %d' % (what, i + 1))
        if rec['key'] in keys:
            raise DamagedError('%s lists artifact %s twice' % (what, rec['key']))
        keys.add(rec['key'])
    if doc['artifact_count'] != len(doc['artifacts']):
        raise DamagedError('%s says it has %d artifacts but lists %d' % (what, doc['artifact_count'], len(doc['artifacts'])))
    total = sum(r['size'] for r in doc['artifacts'])
    if doc['size'] != total:
        raise DamagedError('%s says its artifacts hold %d bytes but they add up to %d' % (what, doc['size'], total))
    hosts = sorted({r['host'] for r in doc['artifacts']})
    if sorted(doc['hosts']) != hosts:
        raise DamagedError('%s lists hosts %s but its artifacts belong to %s'
                           % (what, ', '.join(doc['hosts']) or 'none', ', '.join(hosts) or 'none'))
    return doc


PART_SPEC = (
    ('kind', True, _one_of(KIND_PART)),
    ('set_id', True, _text),
    ('host', True, _host),
    ('component', True, _artifact_name),
    ('name', True, _artifact_name),
    ('key', True, _text),
    ('started', True, _time),
    ('owner', False, _mapping),
)


def validate_part(doc, set_id, key):
    """Check a part declaration read from ``key``; return it or raise DamagedError."""
    what = 'the part declaration %s' % key
    check_fields(doc, PART_SPEC, what)
    _same_set(doc, set_id, what)
    if part_key_for(doc['key']) != key:
        raise DamagedError('%s names artifact %s, which is not its own' % (what, doc['key']))
    return doc


HEARTBEAT_SPEC = (
    ('kind', True, _one_of(KIND_HEARTBEAT)),
    ('set_id', True, _text),
    ('host', True, _host),
    ('node', True, _text),
    ('pid', True, _positive),
    ('boot_id', False, _text_or_empty),
    ('pid_ns', False, _text_or_empty),
    ('pid_start', False, lambda v: None if v is None else _count(v)),
    ('module', False, _text_or_empty),
    ('started', True, _time),
    ('renewed', True, _time),
    ('state', True, _one_of(*HEARTBEAT_STATES)),
    ('reason', False, _text_or_empty),
)


def validate_heartbeat(doc, set_id):
    what = 'a heartbeat of set %s' % set_id
    check_fields(doc, HEARTBEAT_SPEC, what)
    _same_set(doc, set_id, what)
    return doc


DELIVERY_SPEC = (
    ('kind', True, _one_of(KIND_DELIVERY)),
    ('set_id', True, _text),
    ('host', True, _host),
    ('time', True, _time),
    ('writes', True, lambda v: None if isinstance(v, bool) else 'true or false'),
    ('empty', True, lambda v: None if isinstance(v, bool) else 'true or false'),
    ('failure', False, lambda v: None if v is None or isinstance(v, str) else 'text or null'),
)


def make_delivery(set_id, host, time, writes, empty=False, failure=None):
    return {'schema_version': SCHEMA_VERSION, 'kind': KIND_DELIVERY, 'set_id': set_id, 'host': validate_host(host),
            'time': time, 'writes': bool(writes), 'empty': bool(empty), 'failure': failure or None}


def validate_delivery(doc, set_id):
    what = 'a delivery record of set %s' % set_id
    check_fields(doc, DELIVERY_SPEC, what)
    _same_set(doc, set_id, what)
    return doc


def delivery_plan(deliveries, expected, allow_missing_hosts=False):
    """Which hosts a sliced backup commits, from what each host recorded (``deliveries`` {host: doc}).

    Every host of ``expected`` must have recorded its delivery without a failure. Returns (writers, empty_hosts,
    missing, problems): writers must each have written a complete part (the commit checks their parts in the
    store), empty hosts had nothing to back up and were allowed to. A host that recorded a failure, or nothing
    (its slice did not run, it was unreachable, it was not in any slice), is a problem naming it, or with
    ``allow_missing_hosts`` a missing host.
    """
    writers, empty, missing, problems = [], [], [], []
    for host in sorted(set(expected or [])):
        doc = deliveries.get(host)
        if doc is None:
            why = 'host %s did not deliver (no record: its slice did not run, failed before it, or it was unreachable)' % host
        elif doc.get('failure'):
            why = 'host %s failed: %s' % (host, doc['failure'])
        else:
            why = None
        if why is not None:
            missing.append(host)
            if not allow_missing_hosts:
                problems.append(why)
            continue
        if doc['writes']:
            writers.append(host)
        elif doc['empty']:
            empty.append(host)
    return writers, empty, missing, problems


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def status_doc(set_id, status, started, owner=None, reason=None, finished=None):
    doc = {
        'schema_version': SCHEMA_VERSION,
        'kind': KIND_STATUS,
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
        'kind': KIND_RECORD,
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


def make_part(set_id, host, component, name, key, started, owner):
    """A part declaration: what a module is about to write, stored before the artifact (exclusive create).

    A declared part without a record is unfinished: its module failed, was cancelled or was killed.
    """
    return {
        'schema_version': SCHEMA_VERSION,
        'kind': KIND_PART,
        'set_id': set_id,
        'host': host,
        'component': component,
        'name': name,
        'key': key,
        'started': started,
        'owner': dict(owner or {}),
    }


def make_heartbeat(set_id, host, node, pid, started, renewed, state, module=None, boot_id=None, pid_ns=None,
                   pid_start=None, reason=None):
    """A heartbeat: one module process working on an open set, renewed while it runs."""
    doc = {
        'schema_version': SCHEMA_VERSION,
        'kind': KIND_HEARTBEAT,
        'set_id': set_id,
        'host': host,
        'node': node,
        'pid': int(pid),
        'started': started,
        'renewed': renewed,
        'state': state,
    }
    for field, value in (('module', module), ('boot_id', boot_id), ('pid_ns', pid_ns), ('pid_start', pid_start),
                         ('reason', reason)):
        if value is not None:
            doc[field] = value
    return doc


def make_manifest(set_id, status_document, records, finished, missing_hosts=None, empty_hosts=None):
    """The manifest: every record of the set. Writing it is the commit.

    ``missing_hosts``: hosts committed without a backup (allow_missing_hosts); ``empty_hosts``: hosts of the
    play that had nothing to back up, allowed explicitly (allow_empty_hosts).
    """
    records = sorted(records, key=lambda r: (r['host'], r['component'], r['name']))
    hosts = sorted({r['host'] for r in records})
    doc = {
        'schema_version': SCHEMA_VERSION,
        'kind': KIND_MANIFEST,
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
        doc['missing_hosts'] = sorted(missing_hosts)
    if empty_hosts:
        doc['empty_hosts'] = sorted(empty_hosts)
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


def audit_parts(parts, records, present):
    """What each host of an open set really wrote, from the store alone.

    ``parts``: artifact key -> part declaration; ``records``: artifact key -> record; ``present``: key -> size
    of every object. Returns {host: {'records': [...], 'unfinished': [part declaration, ...],
    'problems': [...]}}: a declared part without a record is unfinished (its module failed, was cancelled or
    killed); a record without a declaration, or an object of another size than its record, is a problem.
    """
    out = {}

    def host_entry(host):
        return out.setdefault(host, {'records': [], 'unfinished': [], 'problems': []})

    for key in sorted(parts):
        part = parts[key]
        entry = host_entry(part['host'])
        rec = records.get(key)
        if rec is None:
            entry['unfinished'].append(part)
        elif (rec['host'], rec['component'], rec['name']) != (part['host'], part['component'], part['name']):
            entry['problems'].append('host %s: the record of %s names %s/%s/%s, not what was declared'
                                     % (part['host'], key, rec['host'], rec['component'], rec['name']))
    for key in sorted(records):
        rec = records[key]
        entry = host_entry(rec['host'])
        if key not in parts:
            entry['problems'].append('host %s: %s has a record but was never declared as a part (not written by '
                                     'this collection\'s write path)' % (rec['host'], key))
            continue
        problems = verify_parts([rec], present)
        entry['problems'].extend('host %s: %s' % (rec['host'], p) for p in problems)
        entry['records'].append(rec)
    return out


def commit_plan(audit, hosts=None, expect=None, allow_missing_hosts=False):
    """Decide a commit from ``audit_parts``: (records, missing_hosts, problems).

    ``hosts``: hosts that must each have written at least one complete part. ``expect``: {host: ['component/name',
    ...]} that must be among them. With ``allow_missing_hosts``, a host of ``hosts`` that wrote nothing, or left a
    part unfinished, is recorded as missing and none of its parts go into the manifest; any other problem (a
    missing object, a wrong size, an undeclared record) always fails the commit.
    """
    problems = []
    missing = []
    records = []
    wanted = list(hosts or [])
    for host in sorted(set(audit) | set(wanted) | set(expect or {})):
        entry = audit.get(host) or {'records': [], 'unfinished': [], 'problems': []}
        have = {'%s/%s' % (r['component'], r['name']) for r in entry['records']}
        lacking = []
        for item in (expect or {}).get(host) or []:
            if isinstance(item, dict):
                item = '%s/%s' % (item.get('component'), item.get('name'))
            if item not in have:
                lacking.append(item)
        if host in wanted and allow_missing_hosts and not entry['problems'] and (
                entry['unfinished'] or not entry['records'] or lacking):
            missing.append(host)
            continue
        problems.extend(entry['problems'])
        problems.extend('host %s: part %s/%s was started at %s but never finished (its module failed, was cancelled '
                        'or was killed)' % (host, p['component'], p['name'], p['started']) for p in entry['unfinished'])
        problems.extend('host %s has no artifact %s' % (host, item) for item in lacking)
        if host in wanted and not entry['records'] and not entry['unfinished']:
            missing.append(host)
        records.extend(entry['records'])
    if missing and not allow_missing_hosts:
        problems.append('no artifacts from host(s) %s' % ', '.join(missing))
    if not records and not problems:
        problems.append('the set has no artifacts')
    return records, (sorted(missing) if allow_missing_hosts else []), problems


def set_summary(set_id, status_document, manifest, now, lock_doc=None, damaged=None):
    """One line of backup_set_info: derive the status from what is in the store.

    completed   -- a manifest exists (the commit point)
    damaged     -- its manifest (or, without one, its status) cannot be read: ``damaged`` says why
    failed      -- the status says failed, or it says in_progress but no live lock belongs to this set
                   (the run was interrupted)
    in_progress -- a live lock belongs to this set
    """
    dt, label = parse_set_id(set_id)
    out = {'id': set_id, 'label': label, 'timestamp': iso(dt), 'age_seconds': int((now - dt).total_seconds())}
    if damaged:
        out.update({'status': DAMAGED, 'restorable': False, 'reason': damaged, 'size': 0, 'hosts': [],
                    'components': {}, 'artifact_count': 0})
        return out
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
        for field in ('missing_hosts', 'empty_hosts'):
            if manifest.get(field):
                out[field] = manifest[field]
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
