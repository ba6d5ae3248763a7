# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup-set lifecycle on a store: start, record, commit, fail, list, read.

in_progress -> completed (manifest written last, after every part was checked) | failed (with reason).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import getpass
import os
import socket
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format


def default_owner(extra=None):
    try:
        user = getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        user = str(os.getuid())
    owner = {'host': socket.gethostname(), 'pid': os.getppid(), 'user': user}
    if extra:
        owner.update(extra)
    return owner


def read_status(store, set_id):
    data = store.get_bytes(set_format.set_key(set_id, set_format.STATUS_KEY))
    return None if data is None else set_format.loads(data, 'status of set %s' % set_id)


def read_manifest_bytes(store, set_id):
    return store.get_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY))


def read_manifest(store, set_id, pin=None):
    """The manifest of a completed set; with ``pin``, its sha256 must match."""
    data = read_manifest_bytes(store, set_id)
    if data is None:
        return None, None
    digest = set_format.sha256_hex(data)
    if pin and pin.lower() != digest:
        raise LifeboatError('the manifest of set %s has sha256 %s, not the pinned %s: refusing to use it'
                            % (set_id, digest, pin))
    return set_format.loads(data, 'manifest of set %s' % set_id), digest


def derived_status(store, set_id, now):
    manifest, _digest = read_manifest(store, set_id)
    status = read_status(store, set_id)
    return set_format.set_summary(set_id, status, manifest, now, store_lock.live_lock(store, now))


def start(store, label=None, owner=None, lock_ttl=86400, break_lock=False, check_mode=False, now=None):
    """Create a new in-progress set and take the store lock. Returns a result dict."""
    if not check_mode:
        store.check_writable()
    now = now or set_format.utcnow()
    result = {'broken_lock': None}
    doc, exists = store_lock.read_lock(store)
    if exists:
        held_set_status = _terminal_status(store, (doc or {}).get('set_id'))
        action, why = store_lock.decide(doc, now, held_set_status, break_lock)
        if action == 'wait':
            raise LifeboatError(
                'the %s is locked by %s. If that run is still going, wait for it; if it died, run again with '
                'break_lock=true (lifeboat_break_lock) or wait until the lock expires'
                % (store.describe(), store_lock.describe_owner(doc)), lock=doc)
        result['broken_lock'] = {'lock': doc, 'reason': why}
        if not check_mode:
            _break(store, doc, why, now)
    set_id = set_format.make_set_id(now, label)
    if check_mode:
        result.update({'set_id': set_id, 'status': set_format.IN_PROGRESS, 'changed': True})
        return result
    # ids are per second: if this second's id exists (a run that just finished), take the next second
    for _attempt in range(3):
        if not store.list_children(set_id):
            break
        time.sleep(max(0.05, 1.0 - (time.time() % 1.0)))
        now = set_format.utcnow()
        set_id = set_format.make_set_id(now, label)
    else:
        raise LifeboatError('set id %s already exists in the %s' % (set_id, store.describe()))
    owner = default_owner(owner)
    lock_doc = store_lock.make_lock_doc(set_id, owner, now, lock_ttl, set_id)
    if not store_lock.acquire(store, lock_doc):
        other, _e = store_lock.read_lock(store)
        raise LifeboatError('the %s was locked by another run just now: %s'
                            % (store.describe(), store_lock.describe_owner(other or {})))
    status = set_format.status_doc(set_id, set_format.IN_PROGRESS, set_format.iso(now), owner=owner)
    try:
        store.cleanup_incomplete([name for name in store.list_children('') if set_format.is_set_id(name) and read_manifest_bytes(store, name) is None])
    except LifeboatError:
        pass
    try:
        if not store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(status), exclusive=True):
            raise LifeboatError('set %s already exists in the %s' % (set_id, store.describe()))
    except BaseException:
        store_lock.release(store, set_id)
        raise
    result.update({'set_id': set_id, 'status': set_format.IN_PROGRESS, 'started': status['started'], 'owner': owner,
                   'lock_expires': lock_doc['expires'], 'changed': True})
    return result


def _terminal_status(store, set_id):
    """'completed' or 'failed' when the named set has ended, else None."""
    if not set_id or not set_format.is_set_id(set_id):
        return None
    if read_manifest_bytes(store, set_id) is not None:
        return set_format.COMPLETED
    st = read_status(store, set_id)
    return set_format.FAILED if st is not None and st.get('status') == set_format.FAILED else None


def _break(store, doc, why, now):
    """Break a stale lock; an in-progress set it names is marked failed (it was interrupted)."""
    sid = (doc or {}).get('set_id')
    if sid and set_format.is_set_id(sid) and read_manifest_bytes(store, sid) is None:
        st = read_status(store, sid)
        if st is None or st.get('status') == set_format.IN_PROGRESS:
            _write_failed(store, sid, st, 'interrupted: its lock was broken (%s)' % why, now)
    store.delete(set_format.LOCK_KEY)


def _write_failed(store, set_id, status, reason, now):
    started = (status or {}).get('started') or set_format.iso(set_format.parse_set_id(set_id)[0])
    doc = set_format.status_doc(set_id, set_format.FAILED, started, owner=(status or {}).get('owner'), reason=reason,
                                finished=set_format.iso(now))
    store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(doc))
    return doc


def require_open(store, set_id):
    """Components call this before writing into a set: it must exist and be in progress."""
    set_format.parse_set_id(set_id)
    if read_manifest_bytes(store, set_id) is not None:
        raise LifeboatError('set %s is already completed; a completed set is never changed' % set_id)
    st = read_status(store, set_id)
    if st is None:
        raise LifeboatError('set %s does not exist in the %s (start it with lifeboat.backup.backup_set)'
                            % (set_id, store.describe()))
    if st.get('status') != set_format.IN_PROGRESS:
        raise LifeboatError('set %s is %s (%s); nothing more is written into it'
                            % (set_id, st.get('status'), st.get('reason', '')))
    return st


def put_record(store, record):
    store.put_new(set_format.record_key_for(record['key']), set_format.dumps(record))  # parts of an open set are never replaced


def load_records(store, set_id):
    """All artifact records of a set, and a key -> size map of what the store holds."""
    present = {}
    record_keys = []
    for info in store.list(set_id):
        present[info.key] = info.size
        if info.key.endswith(set_format.RECORD_SUFFIX):
            record_keys.append(info.key)
    records = []
    for k in sorted(record_keys):
        data = store.get_bytes(k)
        if data is None:
            continue
        rec = set_format.check_record(set_format.loads(data, 'record %s' % k), set_id)
        if set_format.record_key_for(rec['key']) != k:
            raise LifeboatError('record %s names artifact %s, which is not its own' % (k, rec['key']))
        records.append(rec)
    return records, present


def commit(store, set_id, expect=None, hosts=None, allow_missing_hosts=False, check_mode=False, now=None):
    """Verify every part, write the manifest (the commit), mark completed, release the lock.

    ``expect``: {host: ['component/name', ...]} that must have records. ``hosts``: hosts that must have
    at least one record. When verification fails the set is marked failed and the lock released.
    """
    now = now or set_format.utcnow()
    existing = read_manifest_bytes(store, set_id)
    if existing is not None:
        manifest = set_format.loads(existing, 'manifest of set %s' % set_id)
        return {'changed': False, 'set_id': set_id, 'status': set_format.COMPLETED,
                'manifest_sha256': set_format.sha256_hex(existing), 'size': manifest.get('size'),
                'hosts': manifest.get('hosts'), 'artifact_count': manifest.get('artifact_count')}
    status = require_open(store, set_id)
    records, present = load_records(store, set_id)
    problems = set_format.verify_parts(records, present)
    have = {}
    for r in records:
        have.setdefault(r['host'], set()).add('%s/%s' % (r['component'], r['name']))
    missing_hosts = []
    for h in hosts or []:
        if h not in have:
            missing_hosts.append(h)
    for h, comps in sorted((expect or {}).items()):
        for c in comps or []:
            if isinstance(c, dict):
                c = '%s/%s' % (c.get('component'), c.get('name'))
            if c not in have.get(h, set()):
                if h in missing_hosts and allow_missing_hosts:
                    continue
                problems.append('host %s has no artifact %s' % (h, c))
    if missing_hosts and not allow_missing_hosts:
        problems.append('no artifacts from host(s) %s' % ', '.join(missing_hosts))
    if not records and not problems:
        problems.append('the set has no artifacts')
    if problems:
        reason = 'verification failed: ' + '; '.join(problems[:20])
        if len(problems) > 20:
            reason += '; and %d more' % (len(problems) - 20)
        if not check_mode:
            _write_failed(store, set_id, status, reason, now)
            _release_quietly(store, set_id)
        raise LifeboatError('set %s cannot be committed, it is marked failed: %s' % (set_id, reason),
                            problems=problems)
    manifest = set_format.make_manifest(set_id, status, records, set_format.iso(now), missing_hosts=missing_hosts or None)
    data = set_format.dumps(manifest)
    digest = set_format.sha256_hex(data)
    result = {'changed': True, 'set_id': set_id, 'status': set_format.COMPLETED, 'manifest_sha256': digest,
              'size': manifest['size'], 'hosts': manifest['hosts'], 'artifact_count': manifest['artifact_count'],
              'components': manifest['components']}
    if missing_hosts:
        result['missing_hosts'] = missing_hosts
    if check_mode:
        return result
    if not store.put_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY), data, exclusive=True):
        raise LifeboatError('set %s got a manifest from another run while committing' % set_id)
    done = set_format.status_doc(set_id, set_format.COMPLETED, status.get('started'), owner=status.get('owner'),
                                 finished=set_format.iso(now))
    done['manifest_sha256'] = digest
    store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(done))
    _release_quietly(store, set_id)
    return result


def _release_quietly(store, set_id):
    doc, exists = store_lock.read_lock(store)
    if exists and (doc is None or doc.get('set_id') == set_id):
        store.delete(set_format.LOCK_KEY)


def fail(store, set_id, reason, check_mode=False, now=None):
    """Mark a set failed with a reason and release its lock. A completed set is never changed."""
    now = now or set_format.utcnow()
    set_format.parse_set_id(set_id)
    if read_manifest_bytes(store, set_id) is not None:
        raise LifeboatError('set %s is completed; a completed set is never marked failed' % set_id)
    st = read_status(store, set_id)
    if st is not None and st.get('status') == set_format.FAILED:
        if not check_mode:
            _release_quietly(store, set_id)
        return {'changed': False, 'set_id': set_id, 'status': set_format.FAILED, 'reason': st.get('reason')}
    if not check_mode:
        _write_failed(store, set_id, st, reason, now)
        _release_quietly(store, set_id)
    return {'changed': True, 'set_id': set_id, 'status': set_format.FAILED, 'reason': reason}


def list_sets(store, now=None):
    """Every set in the store, newest first, with its derived status."""
    now = now or set_format.utcnow()
    live = store_lock.live_lock(store, now)
    out = []
    for name in store.list_children(''):
        if not set_format.is_set_id(name):
            continue
        manifest, digest = read_manifest(store, name)
        status = None if manifest is not None else read_status(store, name)
        s = set_format.set_summary(name, status, manifest, now, live)
        if digest:
            s['manifest_sha256'] = digest
        out.append(s)
    out.sort(key=lambda s: s['id'], reverse=True)
    return out


def latest_completed(store, now=None):
    for s in list_sets(store, now):
        if s['status'] == set_format.COMPLETED:
            return s
    return None


def resolve_completed(store, set_id=None, pin=None):
    """The manifest of the named set (or the newest completed one), refusing anything not completed."""
    now = set_format.utcnow()
    if not set_id:
        latest = latest_completed(store, now)
        if latest is None:
            raise LifeboatError('there is no completed backup set in the %s' % store.describe())
        set_id = latest['id']
    set_format.parse_set_id(set_id)
    manifest, digest = read_manifest(store, set_id, pin=pin)
    if manifest is None:
        s = derived_status(store, set_id, now)
        if s['status'] == set_format.FAILED and read_status(store, set_id) is None and not store.list_children(set_id):
            raise LifeboatError('set %s does not exist in the %s' % (set_id, store.describe()))
        raise LifeboatError('set %s is %s%s; only completed sets can be restored'
                            % (set_id, s['status'], ' (%s)' % s['reason'] if s.get('reason') else ''))
    return manifest, digest


def verify_present(store, manifest):
    """Check every artifact of a manifest is in the store with its recorded size."""
    present = {i.key: i.size for i in store.list(manifest['set_id'])}
    return set_format.verify_parts(manifest.get('artifacts', []), present)


def info(store, set_id=None, latest=False, pin=None, verify=False):
    """What backup_set_info returns."""
    sets = list_sets(store)
    result = {'changed': False, 'sets': sets}
    if set_id or latest:
        manifest, digest = resolve_completed(store, set_id, pin)
        one = dict(next(s for s in sets if s['id'] == manifest['set_id']))
        one.update({'manifest': manifest, 'manifest_sha256': digest})
        result['set'] = one
        if verify:
            problems = verify_present(store, manifest)
            result['problems'] = problems
            if problems:
                raise LifeboatError('set %s is damaged: %s' % (manifest['set_id'], '; '.join(problems[:10])),
                                    problems=problems)
    return result
