# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store lock: pure rules, and the lock through a real FilesystemStore in tmp_path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)
OWNER = {'host': 'ctl.example', 'pid': 4242, 'user': 'awx'}
SID = '20261122T031500Z'


def doc(ttl=3600, now=T0, token='tok', set_id=SID):
    return store_lock.make_lock_doc(set_id, OWNER, now, ttl, token)


def test_make_lock_doc():
    d = doc(ttl=90)
    assert d == {'schema_version': 1, 'kind': 'lifeboat.backup/lock', 'set_id': SID, 'owner': OWNER,
                 'acquired': '2026-11-22T03:15:00Z', 'expires': '2026-11-22T03:16:30Z', 'token': 'tok'}


def test_describe_owner_names_everything_an_operator_needs():
    text = store_lock.describe_owner(doc())
    for part in ('ctl.example', 'pid 4242', 'user awx', '2026-11-22T03:15:00Z', SID, 'expires 2026-11-22T04:15:00Z'):
        assert part in text
    assert store_lock.describe_owner({}) == 'host ? (pid ?, user ?) since ? for set ?, expires ?'


def test_is_expired():
    d = doc(ttl=60)
    assert not store_lock.is_expired(d, T0)
    assert not store_lock.is_expired(d, T0 + datetime.timedelta(seconds=59))
    assert store_lock.is_expired(d, T0 + datetime.timedelta(seconds=60))
    for bad in ({}, {'expires': None}, {'expires': 'tomorrow'}, {'expires': 5}):
        assert store_lock.is_expired(bad, T0)


def test_decide_live_lock_of_running_set_waits():
    for status in (set_format.IN_PROGRESS, None):
        assert store_lock.decide(doc(), T0 + datetime.timedelta(minutes=5), status, False) == ('wait', None)


def test_decide_expired():
    action, why = store_lock.decide(doc(ttl=60), T0 + datetime.timedelta(minutes=5), set_format.IN_PROGRESS, False)
    assert action == 'break' and why == 'stale: it expired at 2026-11-22T03:16:00Z'


@pytest.mark.parametrize('status', [set_format.COMPLETED, set_format.FAILED])
def test_decide_terminal_set(status):
    action, why = store_lock.decide(doc(), T0, status, False)
    assert action == 'break' and why == 'stale: its set %s is already %s' % (SID, status)


def test_decide_break_on_request():
    assert store_lock.decide(doc(), T0, set_format.IN_PROGRESS, True) == ('break', 'broken on request (break_lock)')


def test_decide_unreadable():
    assert store_lock.decide(None, T0, None, False) == ('break', 'the lock file was unreadable')


def test_decide_lock_without_expiry_is_stale():
    action, why = store_lock.decide({'set_id': SID}, T0, set_format.IN_PROGRESS, False)
    assert action == 'break' and 'expired' in why


# ---------------------------------------------------------------- through a real filesystem store

@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def test_acquire_twice_second_fails(store):
    first = doc(token='one')
    assert store_lock.acquire(store, first) is True
    assert store_lock.acquire(store, doc(token='two')) is False
    held, exists = store_lock.read_lock(store)
    assert exists and held == first  # the loser did not overwrite it
    assert store.list_children('') == ['lock.json']  # no temp names visible


def test_release_by_token(store):
    assert store_lock.release(store, 'nobody') is False  # nothing to release
    store_lock.acquire(store, doc(token='one'))
    with pytest.raises(LifeboatError) as e:
        store_lock.release(store, 'two')
    assert 'held by someone else' in e.value.msg and 'ctl.example' in e.value.msg
    assert store_lock.read_lock(store)[1] is True
    assert store_lock.release(store, 'one') is True
    assert store_lock.read_lock(store) == (None, False)
    assert store_lock.acquire(store, doc(token='three')) is True


def test_unreadable_lock_reads_as_none_and_can_be_released(store):
    store.put_bytes(set_format.LOCK_KEY, b'{garbage')
    assert store_lock.read_lock(store) == (None, True)
    assert store_lock.live_lock(store, T0) is None
    assert store_lock.decide(None, T0, None, False)[0] == 'break'
    assert store_lock.release(store, 'whatever') is True
    store.put_bytes(set_format.LOCK_KEY, b'[1]')
    assert store_lock.read_lock(store) == (None, True)


def test_live_lock(store):
    assert store_lock.live_lock(store, T0) is None
    d = doc(ttl=60)
    store_lock.acquire(store, d)
    assert store_lock.live_lock(store, T0) == d
    assert store_lock.live_lock(store, T0 + datetime.timedelta(seconds=61)) is None
    assert json.loads(store.get_bytes(set_format.LOCK_KEY).decode('utf-8')) == d
