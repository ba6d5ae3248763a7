# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup-set lifecycle on a store: start, record, commit, fail, list, read.

in_progress -> completed (manifest written last, after every part was checked) | failed (with reason).
Everything read back from the store is validated (format.validate_*); a set whose manifest or status cannot
be read is listed as damaged and never blocks the other sets.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import getpass
import os
import socket
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DamagedError, LifeboatError, LockedError, NotFoundError)
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import heartbeat
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental


def default_owner(extra=None):
    """Who takes the lock: this host and process, plus what the role adds (play size, the controller)."""
    try:
        user = getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        user = str(os.getuid())
    owner = {'host': socket.gethostname(), 'pid': os.getpid(), 'user': user}
    for key, value in (extra or {}).items():
        if key != 'controller':
            owner[key] = value
    controller = _controller((extra or {}).get('controller'))
    if controller:
        owner['controller'] = controller
    return owner


def _controller(value):
    """The controller's ansible-playbook process as the role reports it: {pid, host, boot_id, pid_ns}.

    When it runs on this very machine (same boot and PID namespace), its start time is added so that a later
    run here can prove it gone (lock.local_process_state), even if its PID is reused.
    """
    if not isinstance(value, dict):
        return None
    try:
        pid = int(str(value.get('pid') or '').strip())
    except ValueError:
        return None
    if pid <= 1:
        return None
    out = {'pid': pid}
    for key in ('host', 'boot_id', 'pid_ns'):
        text = str(value.get(key) or '').strip()
        if text:
            out[key] = text
    if store_lock.local_process_state(out, pid, None) == 'alive':
        out['pid_start'] = store_lock.process_start(pid)[0]
    return out


def read_status(store, set_id):
    """The validated status document of a set, or None; DamagedError when it cannot be read."""
    data = store.get_bytes(set_format.set_key(set_id, set_format.STATUS_KEY))
    if data is None:
        return None
    return set_format.validate_status(set_format.loads(data, 'the status of set %s' % set_id), set_id)


def read_manifest_bytes(store, set_id):
    return store.get_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY))


def read_manifest(store, set_id, pin=None):
    """The validated manifest of a completed set and its sha256; with ``pin``, the sha256 must match."""
    data = read_manifest_bytes(store, set_id)
    if data is None:
        return None, None
    digest = set_format.sha256_hex(data)
    if pin and pin.lower() != digest:
        raise DamagedError('the manifest of set %s has sha256 %s, not the pinned %s: refusing to use it'
                           % (set_id, digest, pin))
    return set_format.validate_manifest(set_format.loads(data, 'the manifest of set %s' % set_id), set_id), digest


def lock_state(store, now, break_lock=False):
    """The store lock and what to do with it: {exists, doc, heartbeats, action ('break'|'wait'|None), reason}."""
    doc, exists = store_lock.read_lock(store)
    out = {'exists': exists, 'doc': doc, 'heartbeats': [], 'action': None, 'reason': None}
    if not exists:
        return out
    sid = (doc or {}).get('set_id')
    out['heartbeats'] = store_lock.read_heartbeats(store, sid)
    out['action'], out['reason'] = store_lock.decide(doc, now, _terminal_status(store, sid), break_lock,
                                                     out['heartbeats'], store_lock.local_process_state)
    return out


def _live_lock(store, now):
    state = lock_state(store, now)
    return state['doc'] if state['action'] == 'wait' else None


def derived_status(store, set_id, now):
    try:
        manifest, _digest = read_manifest(store, set_id)
        status = None if manifest is not None else read_status(store, set_id)
    except DamagedError as e:
        return set_format.set_summary(set_id, None, None, now, damaged=e.msg)
    return set_format.set_summary(set_id, status, manifest, now, _live_lock(store, now))


def start(store, label=None, owner=None, lock_ttl=store_lock.DEFAULT_TTL, break_lock=False, check_mode=False, now=None,
          lock_expiry=store_lock.DEFAULT_EXPIRY):
    """Create a new in-progress set and take the store lock. Returns a result dict.

    ``lock_expiry``: seconds without a heartbeat after which the lock is stale; ``lock_ttl``: the longest the
    lock lives even while renewed.
    """
    lock_expiry = store_lock.check_expiry(lock_expiry, lock_ttl)
    if not check_mode:
        store.check_writable()
    now = now or set_format.utcnow()
    result = {'broken_lock': None}
    state = lock_state(store, now, break_lock)
    if state['exists']:
        doc = state['doc']
        if state['action'] == 'wait':
            raise LockedError(
                'the %s is locked by %s. If that run is still going, wait for it; if it died, run again with '
                'break_lock=true (lifeboat_break_lock) or wait until the lock expires'
                % (store.describe(), store_lock.describe_owner(doc, state['heartbeats'])), lock=doc)
        result['broken_lock'] = {'lock': doc, 'reason': state['reason']}
        if not check_mode:
            _break(store, doc, state['reason'], now)
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
    lock_doc = store_lock.make_lock_doc(set_id, owner, now, lock_ttl, set_id, lock_expiry)
    if not store_lock.acquire(store, lock_doc):
        other, _e = store_lock.read_lock(store)
        raise LockedError('the %s was locked by another run just now: %s'
                          % (store.describe(), store_lock.describe_owner(other or {})), lock=other)
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
                   'lock_expires': lock_doc['expires'], 'lock_expiry': lock_expiry, 'changed': True})
    return result


def _terminal_status(store, set_id):
    """'completed' or 'failed' when the named set has ended, else None (damaged counts as ended)."""
    if not set_id or not set_format.is_set_id(set_id):
        return None
    if read_manifest_bytes(store, set_id) is not None:
        return set_format.COMPLETED
    try:
        st = read_status(store, set_id)
    except DamagedError:
        return set_format.FAILED
    return set_format.FAILED if st is not None and st.get('status') == set_format.FAILED else None


def _break(store, doc, why, now):
    """Break a stale lock; an in-progress set it names is marked failed (it was interrupted)."""
    sid = (doc or {}).get('set_id')
    if sid and set_format.is_set_id(sid) and read_manifest_bytes(store, sid) is None:
        try:
            st = read_status(store, sid)
        except DamagedError:
            st = None
        if st is None or st.get('status') == set_format.IN_PROGRESS:
            try:
                _write_failed(store, sid, st, 'interrupted: its lock was broken (%s)' % why, now)
            except LifeboatError:
                pass  # it still reads as failed (interrupted) once the lock is gone
    store.delete(set_format.LOCK_KEY)


def _write_failed(store, set_id, status, reason, now):
    started = (status or {}).get('started') or set_format.iso(set_format.parse_set_id(set_id)[0])
    doc = set_format.status_doc(set_id, set_format.FAILED, started, owner=(status or {}).get('owner'), reason=reason,
                                finished=set_format.iso(now))
    store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(doc))
    return doc


def _fail_and_release(store, set_id, status, reason, now):
    """Mark a set failed and release its lock. When the status cannot be written (a full disk), the lock is
    still released, so the set reads as failed (interrupted) and blocks nobody; the error says so."""
    try:
        _write_failed(store, set_id, status, reason, now)
    except LifeboatError as e:
        released = _release_quietly(store, set_id, swallow=True)
        raise e.__class__('set %s could not be marked failed (%s); %s' % (
            set_id, e.msg, 'its lock was released, so it reads as failed (interrupted) and does not block the next run'
            if released else 'its lock could not be released either: the next run breaks it once this run is gone'),
            **e.details)
    _release_quietly(store, set_id)


def require_open(store, set_id, host=None):
    """Components call this before writing into a set: it must exist and be in progress.

    With ``host``, this process's heartbeat in the set starts now (a module with a long way to its first write,
    e.g. waiting hours for EBS snapshots, keeps the lock alive meanwhile).
    """
    set_format.parse_set_id(set_id)
    if read_manifest_bytes(store, set_id) is not None:
        raise LifeboatError('set %s is already completed; a completed set is never changed' % set_id)
    st = read_status(store, set_id)
    if st is None:
        raise NotFoundError('set %s does not exist in the %s (start it with lifeboat.backup.backup_set)'
                            % (set_id, store.describe()))
    if st.get('status') != set_format.IN_PROGRESS:
        raise LifeboatError('set %s is %s (%s); nothing more is written into it'
                            % (set_id, st.get('status'), st.get('reason', '')))
    if host is not None:
        heartbeat.ensure(store, set_id, host)
    return st


def declare_part(store, set_id, host, component, name, key, owner=None):
    """Write the part declaration of an artifact, exclusively, before any of its data. Refuses a part that was
    already declared in this set (two entries with the same name, or two writers)."""
    part_key = set_format.part_key_for(key)
    doc = set_format.make_part(set_id, host, component, name, key, set_format.iso(set_format.utcnow()), owner)
    if store.put_bytes(part_key, set_format.dumps(doc), exclusive=True):
        return doc
    other = None
    try:
        data = store.get_bytes(part_key)
        other = set_format.validate_part(set_format.loads(data, part_key), set_id, part_key) if data else None
    except DamagedError:
        other = None
    when = ' (declared at %s)' % other['started'] if other else ''
    raise PartExistsError('set %s already has a part %s/%s of host %s%s: two entries with the same name, or another '
                          'writer in the same set. Nothing was written; give every entry its own name'
                          % (set_id, component, name, host, when), artifact=key, key=part_key)


class PartExistsError(ConfigError, AlreadyExistsError):
    """A part of that name was already declared in the set (a ConfigError for the user, AlreadyExistsError for a
    caller that may find it is its own, repeated write)."""


def put_record(store, record):
    key = set_format.record_key_for(record['key'])
    try:
        store.put_new(key, set_format.dumps(record))  # parts of an open set are never replaced
    except AlreadyExistsError:
        raise ConfigError('set %s already has a record for %s: a part is only ever written once; nothing was changed'
                          % (record['set_id'], record['key']), artifact=record['key'])


def load_parts(store, set_id):
    """Every part declaration and record of a set (validated), and a key -> size map of what the store holds.

    Returns (parts {artifact key: doc}, records {artifact key: record}, present {key: size}, problems [...]):
    documents that fail validation are problems, never silently skipped.
    """
    present = {}
    keys = []
    for info in store.list(set_id):
        present[info.key] = info.size
        keys.append(info.key)
    parts, records, problems = {}, {}, []
    for k in sorted(keys):
        record_of = set_format.artifact_key_of(k, set_format.RECORD_SUFFIX)
        part_of = set_format.artifact_key_of(k, set_format.PART_SUFFIX)
        if (record_of is None and part_of is None) or not set_format.is_part_area_key(set_id, k):
            continue
        data = store.get_bytes(k)
        if data is None:
            continue
        try:
            if record_of is not None:
                rec = set_format.check_record(set_format.loads(data, 'record %s' % k), set_id)
                if rec['key'] != record_of:
                    raise DamagedError('record %s names artifact %s, which is not its own' % (k, rec['key']))
                records[record_of] = rec
            else:
                parts[part_of] = set_format.validate_part(set_format.loads(data, 'part declaration %s' % k), set_id, k)
        except DamagedError as e:
            problems.append(e.msg)
    return parts, records, present, problems


def deliver(store, set_id, host, writes, empty=False, failure=None, check_mode=False, now=None):
    """A host of a sliced backup records that it delivered its parts (``writes``: it wrote some; ``empty``: it had
    nothing to back up), or why it failed. Written once per host: a host in two slices is refused."""
    now = now or set_format.utcnow()
    require_open(store, set_id)
    doc = set_format.make_delivery(set_id, host, set_format.iso(now), writes, empty, failure)
    result = {'changed': True, 'set_id': set_id, 'host': host, 'delivered': not failure}
    if check_mode:
        return result
    if not store.put_bytes(set_format.delivery_key(set_id, host), set_format.dumps(doc), exclusive=True):
        raise ConfigError('set %s already has a delivery record of host %s: is the host in two slices (or two phase '
                          'hosts jobs)? Nothing was changed' % (set_id, host))
    return result


def load_deliveries(store, set_id):
    """{host: delivery record} of a set; (a damaged one is a problem naming it)."""
    out, problems = {}, []
    for info in store.list(set_format.delivery_prefix(set_id)):
        data = store.get_bytes(info.key)
        if data is None:
            continue
        try:
            doc = set_format.validate_delivery(set_format.loads(data, 'delivery record %s' % info.key), set_id)
        except DamagedError as e:
            problems.append(e.msg)
            continue
        out[doc['host']] = doc
    return out, problems


def load_records(store, set_id):
    """All artifact records of a set, and a key -> size map of what the store holds (DamagedError on a bad one)."""
    _parts, records, present, problems = load_parts(store, set_id)
    if problems:
        raise DamagedError(problems[0], problems=problems)
    return [records[k] for k in sorted(records)], present


def commit(store, set_id, expect=None, hosts=None, allow_missing_hosts=False, check_mode=False, now=None, empty_hosts=None,
           expected_hosts=None):
    """Verify every part from the store alone, write the manifest (the commit), mark completed, release the lock.

    What is checked comes from the store, never from values that travelled through Ansible's output: per host,
    the declared parts, their records and the objects (sizes). ``hosts``: hosts that must each have written at
    least one complete part. ``expect``: optional {host: ['component/name', ...]} that must be among them.
    ``empty_hosts``: hosts of the play with nothing to back up (allowed on purpose), recorded in the manifest.
    ``expected_hosts`` (a sliced backup): the hosts and empty hosts come from the delivery record each host wrote
    (``deliver``); every expected host must have one without a failure (``set_format.delivery_plan``).
    When verification fails the set is marked failed and the lock released.
    """
    now = now or set_format.utcnow()
    existing = read_manifest_bytes(store, set_id)
    if existing is not None:
        manifest, digest = read_manifest(store, set_id)
        return {'changed': False, 'set_id': set_id, 'status': set_format.COMPLETED,
                'manifest_sha256': digest, 'size': manifest.get('size'),
                'hosts': manifest.get('hosts'), 'artifact_count': manifest.get('artifact_count')}
    status = require_open(store, set_id)
    if not check_mode:
        heartbeat.finish_set(store, set_id)  # a set written and committed by one process (tests, scripts)
    parts, records, present, problems = load_parts(store, set_id)
    if expected_hosts:
        deliveries, delivery_problems = load_deliveries(store, set_id)
        writers, empty_hosts, not_delivered, plan_problems = set_format.delivery_plan(
            deliveries, expected_hosts, allow_missing_hosts)
        problems = problems + delivery_problems + plan_problems
        hosts = writers + (not_delivered if allow_missing_hosts else [])
    audit = set_format.audit_parts(parts, records, present)
    chosen, missing_hosts, plan_problems = set_format.commit_plan(audit, hosts, expect, allow_missing_hosts)
    problems = problems + plan_problems
    empty = sorted(set(empty_hosts or []) - {r['host'] for r in chosen})
    if problems:
        reason = 'verification failed: ' + '; '.join(problems[:20])
        if len(problems) > 20:
            reason += '; and %d more' % (len(problems) - 20)
        if not check_mode:
            _fail_and_release(store, set_id, status, reason, now)
        raise LifeboatError('set %s cannot be committed, it is marked failed: %s' % (set_id, reason),
                            problems=problems)
    manifest = set_format.make_manifest(set_id, status, chosen, set_format.iso(now), missing_hosts=missing_hosts or None,
                                        empty_hosts=empty or None)
    data = set_format.dumps(manifest)
    digest = set_format.sha256_hex(data)
    result = {'changed': True, 'set_id': set_id, 'status': set_format.COMPLETED, 'manifest_sha256': digest,
              'size': manifest['size'], 'hosts': manifest['hosts'], 'artifact_count': manifest['artifact_count'],
              'components': manifest['components']}
    if missing_hosts:
        result['missing_hosts'] = missing_hosts
    if empty:
        result['empty_hosts'] = empty
    if check_mode:
        return result
    if not store.put_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY), data, exclusive=True):
        raise LifeboatError('set %s got a manifest from another run while committing; this commit wrote nothing' % set_id)
    done = set_format.status_doc(set_id, set_format.COMPLETED, status.get('started'), owner=status.get('owner'),
                                 finished=set_format.iso(now))
    done['manifest_sha256'] = digest
    try:
        store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(done))
    except LifeboatError as e:
        # the manifest is written: the set is completed whatever status.json says (it is informative)
        result['warnings'] = ['set %s is completed, but its status.json could not be updated: %s' % (set_id, e.msg)]
    _release_quietly(store, set_id, swallow=True)
    return result


def _release_quietly(store, set_id, swallow=False):
    """Delete the lock when it names ``set_id`` (or is unreadable). True when no lock of this set is left."""
    try:
        doc, exists = store_lock.read_lock(store)
        if exists and (doc is None or doc.get('set_id') == set_id):
            store.delete(set_format.LOCK_KEY)
        return True
    except LifeboatError:
        if not swallow:
            raise
        return False


def fail(store, set_id, reason, check_mode=False, now=None):
    """Mark a set failed with a reason and release its lock. A completed set is never changed."""
    now = now or set_format.utcnow()
    set_format.parse_set_id(set_id)
    if read_manifest_bytes(store, set_id) is not None:
        raise LifeboatError('set %s is completed; a completed set is never marked failed' % set_id)
    try:
        st = read_status(store, set_id)
    except DamagedError:
        st = None
    if st is not None and st.get('status') == set_format.FAILED:
        if not check_mode:
            _release_quietly(store, set_id)
        return {'changed': False, 'set_id': set_id, 'status': set_format.FAILED, 'reason': st.get('reason')}
    if not check_mode:
        heartbeat.finish_set(store, set_id)
        _fail_and_release(store, set_id, st, reason, now)
    return {'changed': True, 'set_id': set_id, 'status': set_format.FAILED, 'reason': reason}


def list_sets(store, now=None):
    """Every set in the store, newest first, with its derived status (damaged sets included, with the reason)."""
    now = now or set_format.utcnow()
    live = _live_lock(store, now)
    out = []
    for name in store.list_children(''):
        if not set_format.is_set_id(name):
            continue
        manifest = digest = status = damaged = None
        try:
            manifest, digest = read_manifest(store, name)
            if manifest is None:
                status = read_status(store, name)
        except DamagedError as e:
            damaged = e.msg
        s = set_format.set_summary(name, status, manifest, now, live, damaged=damaged)
        if digest and not damaged:
            s['manifest_sha256'] = digest
        if manifest is not None and not damaged:
            # what the set depends on (every earlier level of its incremental entries), for restores and retention
            records = [record for record in manifest.get('artifacts') or [] if isinstance(record, dict)]
            s['needs'] = incremental.needs(records)
            found = incremental.chains(records)
            if found:
                s['chains'] = found
        out.append(s)
    out.sort(key=lambda s: s['id'], reverse=True)
    return out


def latest_completed(store, now=None, sets=None):
    """The newest completed set's summary (damaged sets are skipped), or None."""
    for s in sets if sets is not None else list_sets(store, now):
        if s['status'] == set_format.COMPLETED:
            return s
    return None


def damaged_newer_than(sets, set_id):
    """Damaged sets listed before (newer than) ``set_id``: what `latest` skipped."""
    out = []
    for s in sets:
        if s['id'] == set_id:
            break
        if s['status'] == set_format.DAMAGED:
            out.append(s)
    return out


def resolve_completed(store, set_id=None, pin=None):
    """The manifest of the named set (or the newest completed one), refusing anything not completed."""
    now = set_format.utcnow()
    if not set_id:
        latest = latest_completed(store, now)
        if latest is None:
            raise NotFoundError('there is no completed backup set in the %s' % store.describe())
        set_id = latest['id']
    set_format.parse_set_id(set_id)
    try:
        manifest, digest = read_manifest(store, set_id)
    except DamagedError as e:
        raise DamagedError('set %s is damaged and cannot be restored: %s' % (set_id, e.msg))
    if manifest is not None and pin and pin.lower() != digest:
        raise DamagedError('the manifest of set %s has sha256 %s, not the pinned %s: refusing to use it'
                           % (set_id, digest, pin))
    if manifest is None:
        s = derived_status(store, set_id, now)
        if s['status'] == set_format.FAILED and not store.list_children(set_id):
            raise NotFoundError('set %s does not exist in the %s' % (set_id, store.describe()))
        raise LifeboatError('set %s is %s%s; only completed sets can be restored'
                            % (set_id, s['status'], ' (%s)' % s['reason'] if s.get('reason') else ''))
    return manifest, digest


def verify_present(store, manifest):
    """Check every artifact of a manifest is in the store with its recorded size."""
    present = {i.key: i.size for i in store.list(manifest['set_id'])}
    return set_format.verify_parts(manifest.get('artifacts', []), present)


def info(store, set_id=None, latest=False, pin=None, verify=False):
    """What backup_set_info returns. Damaged sets are listed as such; `latest` skips them and says so."""
    sets = list_sets(store)
    damaged = [s for s in sets if s['status'] == set_format.DAMAGED]
    result = {'changed': False, 'sets': sets, 'damaged': [s['id'] for s in damaged]}
    skipped = []
    if set_id or latest:
        if set_id:
            manifest, digest = resolve_completed(store, set_id, pin)
        else:
            chosen = latest_completed(store, sets=sets)
            if chosen is None:
                raise NotFoundError('there is no completed backup set in the %s%s' % (
                    store.describe(), ' (damaged sets: %s)' % ', '.join(result['damaged']) if result['damaged'] else ''))
            skipped = damaged_newer_than(sets, chosen['id'])
            if skipped:
                result['skipped_damaged'] = [s['id'] for s in skipped]
            manifest, digest = resolve_completed(store, chosen['id'], pin)
        one = dict(next(s for s in sets if s['id'] == manifest['set_id']))
        one.update({'manifest': manifest, 'manifest_sha256': digest})
        result['set'] = one
        if verify:
            problems = verify_present(store, manifest)
            result['problems'] = problems
            if problems:
                raise DamagedError('set %s is damaged: %s' % (manifest['set_id'], '; '.join(problems[:10])),
                                   problems=problems)
    warnings = ['latest: skipped the newer damaged set %s (%s)' % (s['id'], s['reason']) for s in skipped]
    warnings += ['set %s is damaged: %s' % (s['id'], s['reason']) for s in damaged if s not in skipped]
    if warnings:
        result['warnings'] = warnings
    return result
