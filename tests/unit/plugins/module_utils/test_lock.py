# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store lock: pure rules, and the lock through a real FilesystemStore in tmp_path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import subprocess

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


# ---------------------------------------------------------------- heartbeats and owners that are gone

HERE = {'boot_id': 'boot-1', 'pid_ns': 'pid:[1]'}


def beat(pid, renewed, state=set_format.RUNNING, **kw):
    hb = set_format.make_heartbeat(SID, 'web1', 'node1', pid, '2026-11-22T03:15:00Z', renewed, state,
                                   module=kw.pop('module', 'files_backup'), boot_id=HERE['boot_id'], pid_ns=HERE['pid_ns'],
                                   pid_start=kw.pop('pid_start', 100), **kw)
    return hb


def states(alive=(), unknown=()):
    """process_state for decide(): pids in ``alive`` live, in ``unknown`` cannot be judged, others are gone."""
    def state(identity, pid, start):
        if pid in unknown:
            return None
        return 'alive' if pid in alive else 'gone'
    return state


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def new_doc(expiry=300, ttl=86400, controller=None):
    owner = dict(OWNER, controller=controller) if controller else OWNER
    return store_lock.make_lock_doc(SID, owner, T0, ttl, 'tok', expiry)


def test_make_lock_doc_with_expiry_and_interval():
    d = new_doc(expiry=120)
    assert d['heartbeat_expiry'] == 120 and d['expires'] == '2026-11-23T03:15:00Z'
    assert store_lock.heartbeat_interval(300) == 30.0 and store_lock.heartbeat_interval(10) == 2.0
    assert store_lock.heartbeat_interval(2) == 1.0
    assert store_lock.check_expiry(300, 60) == 60  # never longer than lock_ttl
    with pytest.raises(LifeboatError):
        store_lock.check_expiry(2, 86400)


def test_a_fresh_lock_without_heartbeats_waits_then_expires_without_them():
    d = new_doc(expiry=300)
    assert store_lock.decide(d, at(299), None, False, [], states()) == ('wait', None)
    assert store_lock.decide(d, at(300), None, False, [], states()) == (
        'break', 'stale: no heartbeat since 2026-11-22T03:15:00Z (lock_expiry 300 s)')


def test_heartbeats_keep_it_alive_and_their_end_starts_the_expiry():
    d = new_doc(expiry=300)
    beats = [beat(11, '2026-11-22T03:40:00Z', set_format.ENDED), beat(12, '2026-11-22T04:14:00Z')]
    assert store_lock.decide(d, at(3600), None, False, beats, states(alive=(12,))) == ('wait', None)
    # the working module ended normally: the run may be between two tasks, so only the expiry applies
    beats[1]['state'] = set_format.ENDED
    assert store_lock.decide(d, at(3540 + 299), None, False, beats, states()) == ('wait', None)
    action, why = store_lock.decide(d, at(3540 + 300), None, False, beats, states())
    assert action == 'break' and why == 'stale: no heartbeat since 2026-11-22T04:14:00Z (lock_expiry 300 s)'


def test_lock_ttl_caps_even_a_live_lock():
    d = new_doc(expiry=300, ttl=3600)
    beats = [beat(12, '2026-11-22T04:15:00Z')]
    assert store_lock.decide(d, at(3600), None, False, beats, states(alive=(12,))) == (
        'break', 'stale: it expired at 2026-11-22T04:15:00Z')


def test_a_cancelled_run_is_stale_at_once():
    d = new_doc()
    beats = [beat(11, '2026-11-22T03:16:00Z', set_format.CANCELLED, reason='SIGTERM'),
             beat(12, '2026-11-22T03:16:00Z', set_format.CANCELLED, reason='SIGTERM', module='postgresql_backup')]
    action, why = store_lock.decide(d, at(61), None, False, beats, states())
    assert action == 'break'
    assert why.startswith('stale: its run was cancelled (') and 'stopped on SIGTERM at 2026-11-22T03:16:00Z' in why


def test_a_module_killed_outright_is_stale_at_once_on_its_own_machine():
    d = new_doc()
    beats = [beat(11, '2026-11-22T03:15:30Z', set_format.ENDED), beat(12, '2026-11-22T03:16:00Z')]
    action, why = store_lock.decide(d, at(61), None, False, beats, states())
    assert action == 'break'
    assert why == 'stale: files_backup (pid 12 on node1, host web1) died without finishing (last heartbeat 2026-11-22T03:16:00Z)'
    # another machine cannot judge it: it waits for the expiry
    assert store_lock.decide(d, at(61), None, False, beats, states(unknown=(12,))) == ('wait', None)
    # while any module still works, a dead or cancelled one elsewhere does not make the run dead
    beats.append(beat(13, '2026-11-22T03:15:50Z'))
    assert store_lock.decide(d, at(61), None, False, beats, states(alive=(13,))) == ('wait', None)
    beats[1]['state'] = set_format.CANCELLED
    assert store_lock.decide(d, at(61), None, False, beats, states(unknown=(13,))) == ('wait', None)


def test_the_controller_gone_is_stale_at_once():
    ctl = dict(HERE, pid=4242, host='ctl.example', pid_start=77)
    d = new_doc(controller=ctl)
    beats = [beat(12, '2026-11-22T03:16:00Z')]
    assert store_lock.decide(d, at(61), None, False, beats, states(alive=(12, 4242))) == ('wait', None)
    assert store_lock.decide(d, at(61), None, False, beats, states(alive=(12,))) == (
        'break', 'stale: the ansible-playbook process that holds it (pid 4242 on ctl.example) is gone')
    assert store_lock.decide(d, at(61), None, False, beats, states(alive=(12,), unknown=(4242,))) == ('wait', None)


def test_old_locks_without_heartbeat_expiry_keep_their_ttl():
    d = doc(ttl=86400)  # a 0.1.0 lock
    assert store_lock.decide(d, at(3600), None, False, [], states()) == ('wait', None)
    assert store_lock.decide(d, at(86400), None, False, [], states())[0] == 'break'


def test_describe_owner_with_heartbeats_and_controller():
    d = new_doc(expiry=300, controller=dict(HERE, pid=4242, host='ctl.example'))
    text = store_lock.describe_owner(d, [beat(12, '2026-11-22T03:20:00Z')])
    assert text.startswith('host ctl.example (pid 4242, user awx) since 2026-11-22T03:15:00Z for set %s, '
                           'expires 2026-11-22T03:25:00Z' % SID)
    assert '(ansible-playbook pid 4242 on ctl.example)' in text and 'last heartbeat 2026-11-22T03:20:00Z' in text


def test_local_process_state_on_this_machine():
    here = store_lock.node_identity()
    if not here.get('boot_id') or not here.get('pid_ns'):
        pytest.skip('no /proc here')
    start, zombie = store_lock.process_start(os.getpid())
    assert start is not None and zombie is False
    assert store_lock.local_process_state(here, os.getpid(), start) == 'alive'
    assert store_lock.local_process_state(here, os.getpid(), start + 1) == 'gone'  # the pid was reused
    gone = subprocess.Popen(['true'])
    gone.wait()
    assert store_lock.local_process_state(here, gone.pid, None) == 'gone'
    assert store_lock.local_process_state(dict(here, boot_id='other'), gone.pid, None) is None
    assert store_lock.local_process_state(dict(here, pid_ns='pid:[0]'), gone.pid, None) is None
    assert store_lock.local_process_state({}, os.getpid(), None) is None


def test_read_heartbeats_skips_damaged_ones(store):
    good = beat(12, '2026-11-22T03:16:00Z')
    store.put_bytes(set_format.heartbeat_key(SID, 'web1', 12, 'a'), set_format.dumps(good))
    store.put_bytes(set_format.heartbeat_key(SID, 'web1', 13, 'b'), b'{"schema_version": 1, "kind": "x"}')
    store.put_bytes(set_format.heartbeat_key(SID, 'web1', 14, 'c'), b'garbage')
    assert store_lock.read_heartbeats(store, SID) == [good]
    assert store_lock.read_heartbeats(store, None) == []
