# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store lock: one writer run per store prefix, valid only while its run is alive.

Built only on Store.put_bytes(exclusive=True), get_bytes, list and delete, so every backend gets the same
rules. The lock document names its owner (host, pid, time, set id, the controller's ansible-playbook process)
and two limits: ``heartbeat_expiry`` (a few minutes: the lock is stale once nothing renewed it for that long)
and ``expires`` (``lock_ttl``, 24 h by default: the longest a lock lives even while renewed, against a hung
run). Every lifeboat module working on the open set renews it by writing its own small heartbeat object
(``<set>/heartbeats/<host>-<pid>-<token>.json``, see heartbeat.py): no two writers ever touch the same object.

A lock is stale when it expired, when nothing renewed it within ``heartbeat_expiry``, when the set it names
ended, when its owner is provably gone (the controller's ansible-playbook process, or the newest module
working on the set, on this very machine and no longer alive; or a module cancelled by SIGTERM/SIGINT with
none alive after it), or when the operator breaks it. ``decide`` is pure so these rules unit-test without a
store; ``local_process_state`` is the one adapter that looks at processes (Linux /proc).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

DEFAULT_TTL = 86400
DEFAULT_EXPIRY = 300
MIN_EXPIRY = 5


def make_lock_doc(set_id, owner, now, ttl_seconds, token, expiry_seconds=None):
    doc = {
        'schema_version': set_format.SCHEMA_VERSION,
        'kind': set_format.KIND_LOCK,
        'set_id': set_id,
        'owner': owner,
        'acquired': set_format.iso(now),
        'expires': set_format.iso(now + datetime.timedelta(seconds=ttl_seconds)),
        'token': token,
    }
    if expiry_seconds:
        doc['heartbeat_expiry'] = int(expiry_seconds)
    return doc


def check_expiry(expiry_seconds, ttl_seconds):
    """The heartbeat expiry to use: lock_expiry, never longer than lock_ttl. ConfigError for impossible values."""
    if int(ttl_seconds) < 1:
        raise ConfigError('lock_ttl must be at least 1 second, got %s' % (ttl_seconds,))
    if int(expiry_seconds) < MIN_EXPIRY:
        raise ConfigError('lock_expiry must be at least %d seconds, got %s' % (MIN_EXPIRY, expiry_seconds))
    return min(int(expiry_seconds), int(ttl_seconds))


def heartbeat_interval(expiry_seconds):
    """Seconds between two renewals: five chances within the expiry, at most every 30 s."""
    return max(1.0, min(30.0, float(expiry_seconds or DEFAULT_EXPIRY) / 5.0))


def expiry_of(doc):
    value = (doc or {}).get('heartbeat_expiry')
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def last_sign_of_life(doc, heartbeats):
    """The newest of the lock's acquisition and every heartbeat's renewal (datetime), or None."""
    times = [set_format.parse_iso_or_none((doc or {}).get('acquired'))]
    times += [set_format.parse_iso_or_none(hb.get('renewed')) for hb in heartbeats or ()]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def stale_at(doc, heartbeats):
    """When the lock becomes stale if nothing renews it (datetime), or None when it cannot tell."""
    hard = set_format.parse_iso_or_none((doc or {}).get('expires'))
    expiry = expiry_of(doc)
    last = last_sign_of_life(doc, heartbeats)
    soft = last + datetime.timedelta(seconds=expiry) if expiry and last else None
    candidates = [t for t in (hard, soft) if t is not None]
    return min(candidates) if candidates else None


def describe_owner(doc, heartbeats=()):
    o = doc.get('owner') or {}
    until = stale_at(doc, heartbeats) if doc.get('expires') or expiry_of(doc) else None
    text = 'host %s (pid %s, user %s) since %s for set %s, expires %s' % (
        o.get('host', '?'), o.get('pid', '?'), o.get('user', '?'), doc.get('acquired', '?'),
        doc.get('set_id', '?'), set_format.iso(until) if until else doc.get('expires', '?'))
    ctl = o.get('controller') if isinstance(o.get('controller'), dict) else {}
    if ctl.get('pid'):
        text += ' (ansible-playbook pid %s on %s)' % (ctl.get('pid'), ctl.get('host') or '?')
    last = last_sign_of_life(doc, heartbeats)
    if heartbeats and last is not None:
        text += ', last heartbeat %s' % set_format.iso(last)
    return text


def is_expired(doc, now):
    """The hard limit (lock_ttl) has passed; an unreadable limit counts as expired."""
    try:
        return set_format.parse_iso(doc['expires']) <= now
    except (KeyError, TypeError, ValueError):
        return True  # unreadable lock: treat as expired


def _who(hb):
    return '%s (pid %s on %s%s)' % (hb.get('module') or 'a module', hb.get('pid'), hb.get('node', '?'),
                                    ', host %s' % hb['host'] if hb.get('host') and hb.get('host') != hb.get('node') else '')


def decide(doc, now, set_status, break_lock, heartbeats=(), process_state=None):
    """What to do with an existing lock.

    doc           -- the lock document found (dict), or None when unreadable
    set_status    -- derived status of the set the lock names ('in_progress', 'completed', 'failed' or None)
    heartbeats    -- the valid heartbeat documents of that set
    process_state -- callable(identity dict, pid, pid_start) -> 'alive', 'gone', or None when this machine cannot
                     tell (another machine, another PID namespace, no /proc)
    Returns ('break', reason) or ('wait', None).
    """
    if doc is None:
        return 'break', 'the lock file was unreadable'
    if break_lock:
        return 'break', 'broken on request (break_lock)'
    if is_expired(doc, now):
        return 'break', 'stale: it expired at %s' % doc.get('expires')
    if set_status in (set_format.COMPLETED, set_format.FAILED):
        return 'break', 'stale: its set %s is already %s' % (doc.get('set_id'), set_status)
    state = process_state or (lambda identity, pid, start: None)
    beats = sorted(heartbeats or (), key=lambda hb: (hb.get('renewed') or '', hb.get('state') == set_format.RUNNING))
    working = [hb for hb in beats if hb.get('state') == set_format.RUNNING and state(hb, hb.get('pid'), hb.get('pid_start')) != 'gone']
    if beats and not working:
        newest = beats[-1]
        if newest.get('state') == set_format.CANCELLED:
            return 'break', 'stale: its run was cancelled (%s stopped on %s at %s)' % (
                _who(newest), newest.get('reason') or 'a signal', newest.get('renewed'))
        if newest.get('state') == set_format.RUNNING:
            return 'break', 'stale: %s died without finishing (last heartbeat %s)' % (_who(newest), newest.get('renewed'))
    owner = doc.get('owner') if isinstance(doc.get('owner'), dict) else {}
    ctl = owner.get('controller') if isinstance(owner.get('controller'), dict) else None
    if ctl and ctl.get('pid') and state(ctl, ctl.get('pid'), ctl.get('pid_start')) == 'gone':
        return 'break', ('stale: the ansible-playbook process that holds it (pid %s on %s) is gone'
                         % (ctl.get('pid'), ctl.get('host') or owner.get('host', '?')))
    expiry = expiry_of(doc)
    last = last_sign_of_life(doc, beats)
    if expiry and last is not None and last + datetime.timedelta(seconds=expiry) <= now:
        return 'break', 'stale: no heartbeat since %s (lock_expiry %d s)' % (set_format.iso(last), expiry)
    return 'wait', None


def read_lock(store):
    data = store.get_bytes(set_format.LOCK_KEY)
    if data is None:
        return None, False
    try:
        doc = json.loads(data.decode('utf-8'))
        if not isinstance(doc, dict):
            doc = None
    except (ValueError, UnicodeDecodeError):
        doc = None
    return doc, True


def read_heartbeats(store, set_id):
    """The valid heartbeat documents of a set (damaged ones cannot keep a lock alive and are left out)."""
    if not set_id or not set_format.is_set_id(set_id):
        return []
    out = []
    for info in store.list(set_format.heartbeat_prefix(set_id)):
        data = store.get_bytes(info.key)
        if data is None:
            continue
        try:
            out.append(set_format.validate_heartbeat(set_format.loads(data, 'heartbeat %s' % info.key), set_id))
        except DamagedError:
            continue
    return out


def live_lock(store, now):
    """The current lock document if one exists and is not stale (set status aside), else None."""
    doc, exists = read_lock(store)
    if not exists or doc is None:
        return None
    beats = read_heartbeats(store, doc.get('set_id'))
    action, _why = decide(doc, now, None, False, beats, local_process_state)
    return doc if action == 'wait' else None


def acquire(store, doc):
    """Try once to create the lock. True when we hold it."""
    return store.put_bytes(set_format.LOCK_KEY, set_format.dumps(doc), exclusive=True)


def release(store, token):
    """Delete the lock if it is still ours. Returns True if released."""
    doc, exists = read_lock(store)
    if not exists:
        return False
    if doc is not None and doc.get('token') != token:
        raise LifeboatError('the store lock is now held by someone else (%s); not releasing it' % describe_owner(doc))
    store.delete(set_format.LOCK_KEY)
    return True


# ---------------------------------------------------------------- processes on this machine (Linux /proc)

def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except (OSError, IOError):
        return None


def node_identity():
    """What makes a PID meaningful here: the kernel's boot id and the PID namespace. Empty off Linux."""
    out = {}
    boot = _read('/proc/sys/kernel/random/boot_id')
    if boot:
        out['boot_id'] = boot
    try:
        out['pid_ns'] = os.readlink('/proc/self/ns/pid')
    except OSError:
        pass
    return out


def process_start(pid):
    """Start time of a process (clock ticks after boot) and whether it is a zombie, or (None, None)."""
    data = _read('/proc/%d/stat' % int(pid))
    if not data or ')' not in data:
        return None, None
    fields = data.rsplit(')', 1)[1].split()
    try:
        return int(fields[19]), fields[0] == 'Z'
    except (IndexError, ValueError):
        return None, None


def local_process_state(identity, pid, pid_start):
    """'alive' or 'gone' for a process recorded with ``identity`` (boot_id, pid_ns), or None when it is not ours to
    judge (another machine or namespace, or no /proc)."""
    here = node_identity()
    if not here.get('boot_id') or not here.get('pid_ns') or not isinstance(identity, dict):
        return None
    if identity.get('boot_id') != here['boot_id'] or identity.get('pid_ns') != here['pid_ns']:
        return None
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return None
    if pid <= 0:
        return None
    start, zombie = process_start(pid)
    if start is None or zombie:
        return 'gone'
    if pid_start is not None and start != pid_start:
        return 'gone'  # the pid was reused by another process
    return 'alive'
