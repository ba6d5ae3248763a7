# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store lock: one writer run per store prefix.

Built only on Store.put_bytes(exclusive=True), get_bytes and delete, so every backend gets the same
rules. The lock document names its owner (host, pid, time, set id) and an expiry; a lock is stale when
it expired (TTL), when the set it names is no longer in progress, or when the operator breaks it
explicitly. ``decide`` is pure so the rules unit-test without a store.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format


def make_lock_doc(set_id, owner, now, ttl_seconds, token):
    return {
        'schema_version': set_format.SCHEMA_VERSION,
        'kind': 'lifeboat.backup/lock',
        'set_id': set_id,
        'owner': owner,
        'acquired': set_format.iso(now),
        'expires': set_format.iso(now + datetime.timedelta(seconds=ttl_seconds)),
        'token': token,
    }


def describe_owner(doc):
    o = doc.get('owner') or {}
    return 'host %s (pid %s, user %s) since %s for set %s, expires %s' % (
        o.get('host', '?'), o.get('pid', '?'), o.get('user', '?'), doc.get('acquired', '?'),
        doc.get('set_id', '?'), doc.get('expires', '?'))


def is_expired(doc, now):
    try:
        return set_format.parse_iso(doc['expires']) <= now
    except (KeyError, TypeError, ValueError):
        return True  # unreadable lock: treat as expired


def decide(doc, now, set_status, break_lock):
    """What to do with an existing lock.

    doc        -- the lock document found (dict), or None when unreadable
    set_status -- derived status of the set the lock names ('in_progress', 'completed', 'failed' or None)
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


def live_lock(store, now):
    """The current lock document if one exists and has not expired, else None."""
    doc, exists = read_lock(store)
    if not exists or doc is None or is_expired(doc, now):
        return None
    return doc


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
