# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup-set lifecycle on a real FilesystemStore in tmp_path (no mocks): start, commit, fail, list, resolve."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import os
import socket
import subprocess
import time

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import heartbeat
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    CancelledError, ConfigError, DamagedError, LifeboatError, LockedError)
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)


def later(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def snapshot(store):
    """Every file under the store (temp names too) with its bytes' sha256."""
    out = {}
    for dirpath, _dirs, files in os.walk(store.root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, store.root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def put_artifact(store, set_id, host='web1', name='app', data=b'payload', tmp_path=None):
    """Write one artifact through the real write_artifact path (no compression, from a file)."""
    src = os.path.join(str(tmp_path or store.path), '..', 'src-%s-%s' % (host, name))
    with open(src, 'wb') as f:
        f.write(data)
    with open(src, 'rb') as f:
        return artifacts.write_artifact(store, set_id, host, 'files', name, 'files', 'raw', '.bin', 'test',
                                        check_source=lambda res: {'checked': True}, source_file=f,
                                        compression='none')


def started(store, label=None, now=T0, **kw):
    return lifecycle.start(store, label=label, owner=kw.pop('owner', {'host': 'ctl.example', 'pid': 4242}),
                           now=now, **kw)['set_id']


# ---------------------------------------------------------------- start

def test_start_creates_an_in_progress_set_and_takes_the_lock(store):
    res = lifecycle.start(store, label='nightly', owner={'play_hosts': 2}, now=T0)
    sid = res['set_id']
    assert sid == '20261122T031500Z-nightly'
    assert res['status'] == 'in_progress' and res['changed'] and res['broken_lock'] is None
    assert res['owner']['host'] == socket.gethostname() and res['owner']['play_hosts'] == 2
    status = lifecycle.read_status(store, sid)
    assert status['status'] == 'in_progress' and status['started'] == '2026-11-22T03:15:00Z'
    lock, exists = store_lock.read_lock(store)
    assert exists and lock['set_id'] == sid and lock['expires'] == '2026-11-23T03:15:00Z'
    assert store.list_children('') == ['20261122T031500Z-nightly', 'lock.json']


def test_start_check_mode_writes_nothing(store, tmp_path):
    res = lifecycle.start(store, label='x', check_mode=True, now=T0)
    assert res['set_id'] == '20261122T031500Z-x' and res['changed']
    assert not os.path.exists(str(tmp_path / 'store'))


def test_start_refuses_a_bad_label(store):
    with pytest.raises(LifeboatError) as e:
        lifecycle.start(store, label='Bad Label', now=T0)
    assert 'label' in e.value.msg
    assert store_lock.read_lock(store) == (None, False)


def test_start_on_an_unwritable_store(tmp_path):
    (tmp_path / 'afile').write_text('x')
    st = FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'afile' / 'store')})
    with pytest.raises(LifeboatError) as e:
        lifecycle.start(st, now=T0)
    assert 'is not a directory' in e.value.msg


def test_second_start_while_locked_names_the_holder(store):
    sid = started(store, owner={'host': 'ctl.example', 'pid': 4242})
    before = snapshot(store)
    with pytest.raises(LifeboatError) as e:
        lifecycle.start(store, now=later(60))
    msg = e.value.msg
    for part in ('is locked by host ctl.example', 'pid 4242', 'for set %s' % sid, 'break_lock=true',
                 'lifeboat_break_lock'):
        assert part in msg
    assert e.value.details['lock']['set_id'] == sid
    assert snapshot(store) == before  # the loser changed nothing


def test_existing_set_id_makes_start_wait_for_the_next_second(store):
    now = set_format.utcnow()
    first = started(store, now=now)
    lifecycle.fail(store, first, 'x')
    res = lifecycle.start(store, now=now)
    assert res['set_id'] != first and set_format.parse_set_id(res['set_id'])[0] > now


def test_stale_lock_expired_is_broken_and_its_set_marked_failed(store):
    old = started(store, lock_ttl=60)
    put_artifact(store, old)
    res = lifecycle.start(store, now=later(120))
    assert res['broken_lock']['reason'] == 'stale: it expired at 2026-11-22T03:16:00Z'
    assert res['broken_lock']['lock']['set_id'] == old
    st = lifecycle.read_status(store, old)
    assert st['status'] == 'failed'
    assert st['reason'] == 'interrupted: its lock was broken (stale: it expired at 2026-11-22T03:16:00Z)'
    assert st['owner'] == {'host': 'ctl.example', 'pid': 4242, 'user': st['owner']['user']}
    assert store_lock.read_lock(store)[0]['set_id'] == res['set_id']
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store, old)
    assert 'is failed (interrupted: its lock was broken' in e.value.msg
    with pytest.raises(LifeboatError):
        put_artifact(store, old, name='late')  # an interrupted set never takes new parts


def test_live_lock_is_not_broken_without_break_lock(store):
    started(store, lock_ttl=3600, lock_expiry=3600)
    with pytest.raises(LockedError):
        lifecycle.start(store, now=later(3599))
    res = lifecycle.start(store, now=later(3599), break_lock=True)
    assert res['broken_lock']['reason'] == 'broken on request (break_lock)'


def test_break_lock_check_mode_changes_nothing(store):
    started(store)
    before = snapshot(store)
    res = lifecycle.start(store, now=later(10), break_lock=True, check_mode=True)
    assert res['broken_lock']['reason'] == 'broken on request (break_lock)'
    assert snapshot(store) == before


def test_unreadable_lock_is_broken(store):
    store.put_bytes(set_format.LOCK_KEY, b'\x00garbage')
    res = lifecycle.start(store, now=T0)
    assert res['broken_lock']['reason'] == 'the lock file was unreadable'


def test_lock_left_by_a_completed_set_is_broken_and_the_set_untouched(store):
    sid = started(store)
    put_artifact(store, sid)
    lifecycle.commit(store, sid, expect={'web1': ['files/app']}, now=later(5))
    # a run that committed but died before releasing: put its lock back
    store_lock.acquire(store, store_lock.make_lock_doc(sid, {'host': 'ctl'}, later(5), 86400, sid))
    before = {k: v for k, v in snapshot(store).items() if k.startswith(sid)}
    res = lifecycle.start(store, now=later(60))
    assert res['broken_lock']['reason'] == 'stale: its set %s is already completed' % sid
    after = {k: v for k, v in snapshot(store).items() if k.startswith(sid)}
    assert after == before


def test_lock_naming_a_failed_set_is_broken(store):
    sid = started(store)
    lifecycle.fail(store, sid, 'boom', now=later(1))
    store_lock.acquire(store, store_lock.make_lock_doc(sid, {'host': 'ctl'}, later(1), 86400, sid))
    res = lifecycle.start(store, now=later(60))
    assert res['broken_lock']['reason'] == 'stale: its set %s is already failed' % sid
    assert lifecycle.read_status(store, sid)['reason'] == 'boom'  # not rewritten


# ---------------------------------------------------------------- commit

def test_commit(store):
    sid = started(store, label='nightly')
    r1 = put_artifact(store, sid, 'web1', 'app', b'a' * 100)
    r2 = put_artifact(store, sid, 'db1', 'dump', b'b' * 50)
    assert r1['size'] == 100 and r1['sha256'] == hashlib.sha256(b'a' * 100).hexdigest()
    assert r1['extra']['checked'] is True and 'seconds' in r1['extra']
    res = lifecycle.commit(store, sid, expect={'web1': ['files/app'], 'db1': [{'component': 'files', 'name': 'dump'}]},
                           hosts=['web1', 'db1'], now=later(30))
    data = store.get_bytes(sid + '/manifest.json')
    assert res['manifest_sha256'] == hashlib.sha256(data).hexdigest()
    assert res['status'] == 'completed' and res['size'] == 150 and res['hosts'] == ['db1', 'web1']
    assert res['artifact_count'] == 2 and res['changed']
    manifest = set_format.loads(data, 'm')
    assert manifest['finished'] == '2026-11-22T03:15:30Z' and manifest['label'] == 'nightly'
    assert [a['key'] for a in manifest['artifacts']] == [r2['key'], r1['key']]
    st = lifecycle.read_status(store, sid)
    assert st['status'] == 'completed' and st['manifest_sha256'] == res['manifest_sha256']
    assert store_lock.read_lock(store) == (None, False)
    # again: nothing changes, the same digest comes back
    before = snapshot(store)
    again = lifecycle.commit(store, sid, expect={'web1': ['files/app']})
    assert again['changed'] is False and again['manifest_sha256'] == res['manifest_sha256']
    assert snapshot(store) == before


def test_commit_check_mode_writes_nothing(store):
    sid = started(store)
    put_artifact(store, sid)
    before = snapshot(store)
    res = lifecycle.commit(store, sid, expect={'web1': ['files/app']}, check_mode=True)
    assert res['status'] == 'completed' and res['changed']
    assert snapshot(store) == before


def _assert_failed_commit(store, sid, words, **kw):
    with pytest.raises(LifeboatError) as e:
        lifecycle.commit(store, sid, now=later(30), **kw)
    assert e.value.msg.startswith('set %s cannot be committed, it is marked failed: verification failed: ' % sid)
    assert words in e.value.msg
    st = lifecycle.read_status(store, sid)
    assert st['status'] == 'failed' and words in st['reason']
    assert store.stat(sid + '/manifest.json') is None
    assert store_lock.read_lock(store) == (None, False)
    assert lifecycle.list_sets(store)[0]['status'] == 'failed'
    with pytest.raises(LifeboatError) as e2:
        lifecycle.resolve_completed(store, sid)
    assert 'only completed sets can be restored' in e2.value.msg
    return e.value


def test_commit_refuses_a_missing_part(store):
    sid = started(store)
    r = put_artifact(store, sid)
    os.unlink(os.path.join(store.root, r['key']))
    err = _assert_failed_commit(store, sid, '%s is missing' % r['key'], expect={'web1': ['files/app']})
    assert err.details['problems'] == ['host web1: %s is missing' % r['key']]


def test_commit_refuses_a_part_of_the_wrong_size(store):
    sid = started(store)
    r = put_artifact(store, sid, data=b'12345')
    with open(os.path.join(store.root, r['key']), 'ab') as f:
        f.write(b'6')
    _assert_failed_commit(store, sid, '%s has 6 bytes, its record says 5' % r['key'])


def test_commit_refuses_an_expected_component_without_record(store):
    sid = started(store)
    put_artifact(store, sid)
    _assert_failed_commit(store, sid, 'host web1 has no artifact files/other',
                          expect={'web1': ['files/app', 'files/other']})


def test_commit_refuses_missing_hosts(store):
    sid = started(store)
    put_artifact(store, sid)
    _assert_failed_commit(store, sid, 'no artifacts from host(s) web2', hosts=['web1', 'web2'])


def test_commit_allows_missing_hosts_when_asked(store):
    sid = started(store)
    put_artifact(store, sid)
    res = lifecycle.commit(store, sid, hosts=['web1', 'web2'], expect={'web2': ['files/app']}, allow_missing_hosts=True)
    assert res['status'] == 'completed' and res['missing_hosts'] == ['web2']
    assert lifecycle.list_sets(store)[0]['missing_hosts'] == ['web2']


def test_commit_refuses_an_empty_set(store):
    sid = started(store)
    _assert_failed_commit(store, sid, 'the set has no artifacts')


def test_commit_refuses_a_record_of_another_artifact(store):
    sid = started(store)
    r = put_artifact(store, sid)
    other = dict(r, key=r['key'].replace('app.bin', 'other.bin'))
    store.put_bytes(r['key'] + '.record.json', set_format.dumps(other))
    with pytest.raises(LifeboatError) as e:
        lifecycle.commit(store, sid)
    assert 'names artifact %s, which is not its own' % other['key'] in e.value.msg


def test_commit_of_an_unknown_or_failed_set(store):
    with pytest.raises(LifeboatError) as e:
        lifecycle.commit(store, '20261122T031500Z')
    assert 'does not exist' in e.value.msg
    sid = started(store)
    lifecycle.fail(store, sid, 'host web2 failed')
    with pytest.raises(LifeboatError) as e:
        lifecycle.commit(store, sid)
    assert 'is failed (host web2 failed); nothing more is written into it' in e.value.msg


# ---------------------------------------------------------------- fail and immutability of completed sets

def test_fail(store):
    sid = started(store)
    res = lifecycle.fail(store, sid, u'web2: /srv/d\u00fcr missing', now=later(9))
    assert res == {'changed': True, 'set_id': sid, 'status': 'failed', 'reason': u'web2: /srv/d\u00fcr missing'}
    st = lifecycle.read_status(store, sid)
    assert st['finished'] == '2026-11-22T03:15:09Z' and st['started'] == '2026-11-22T03:15:00Z'
    assert store_lock.read_lock(store) == (None, False)
    again = lifecycle.fail(store, sid, 'other reason')
    assert again['changed'] is False and again['reason'] == u'web2: /srv/d\u00fcr missing'


def test_fail_check_mode(store):
    sid = started(store)
    before = snapshot(store)
    assert lifecycle.fail(store, sid, 'x', check_mode=True)['changed']
    assert snapshot(store) == before


def test_fail_does_not_release_another_runs_lock(store):
    sid = started(store, lock_ttl=60)
    other = lifecycle.start(store, now=later(120))['set_id']  # breaks the expired lock, holds a new one
    lifecycle.fail(store, sid, 'late failure of the old run')
    assert store_lock.read_lock(store)[0]['set_id'] == other


def test_completed_sets_never_change(store):
    sid = started(store)
    put_artifact(store, sid)
    lifecycle.commit(store, sid, expect={'web1': ['files/app']})
    before = snapshot(store)
    with pytest.raises(LifeboatError) as e:
        lifecycle.fail(store, sid, 'x')
    assert 'a completed set is never marked failed' in e.value.msg
    with pytest.raises(LifeboatError) as e:
        put_artifact(store, sid, name='more')
    assert 'a completed set is never changed' in e.value.msg
    with pytest.raises(LifeboatError):
        lifecycle.require_open(store, sid)
    assert lifecycle.commit(store, sid)['changed'] is False
    # breaking any lock and starting new sets leaves it alone too
    newer = lifecycle.start(store, break_lock=True)['set_id']
    lifecycle.fail(store, newer, 'x')
    after = snapshot(store)
    assert {k: v for k, v in after.items() if k.startswith(sid)} == before


# ---------------------------------------------------------------- list, resolve, info

def test_list_sets_newest_first_with_derived_status(store):
    a = started(store, now=T0)
    put_artifact(store, a)
    lifecycle.commit(store, a, expect={'web1': ['files/app']})
    b = started(store, now=later(60))
    lifecycle.fail(store, b, 'web2: path missing')
    c = started(store, now=later(120), lock_ttl=600)
    os.makedirs(os.path.join(store.root, 'not-a-set'))
    os.makedirs(os.path.join(store.root, '20261399T000000Z'))  # looks like an id, is none: ignored
    sets = lifecycle.list_sets(store, now=later(180))
    assert [s['id'] for s in sets] == [c, b, a]
    assert [s['status'] for s in sets] == ['in_progress', 'failed', 'completed']
    assert [s['restorable'] for s in sets] == [False, False, True]
    assert sets[1]['reason'] == 'web2: path missing'
    assert sets[2]['manifest_sha256'] == hashlib.sha256(store.get_bytes(a + '/manifest.json')).hexdigest()
    assert sets[0]['owner']['host'] == 'ctl.example'
    # once the lock expires, the set that never committed reads as interrupted
    late = lifecycle.list_sets(store, now=later(120 + 600))
    assert late[0]['status'] == 'failed' and late[0]['reason'].startswith('interrupted')
    assert lifecycle.latest_completed(store)['id'] == a


def test_resolve_completed(store):
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store)
    assert e.value.msg == 'there is no completed backup set in the %s' % store.describe()
    a = started(store, now=T0)
    put_artifact(store, a)
    lifecycle.commit(store, a)
    b = started(store, now=later(60))
    put_artifact(store, b)
    res_b = lifecycle.commit(store, b)
    manifest, digest = lifecycle.resolve_completed(store)
    assert manifest['set_id'] == b and digest == res_b['manifest_sha256']
    assert lifecycle.resolve_completed(store, a)[0]['set_id'] == a
    assert lifecycle.resolve_completed(store, b, pin=digest.upper())[0]['set_id'] == b
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store, b, pin='0' * 64)
    assert 'not the pinned %s: refusing to use it' % ('0' * 64) in e.value.msg
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store, '20301122T031500Z')
    assert e.value.msg == 'set 20301122T031500Z does not exist in the %s' % store.describe()
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store, 'latest')
    assert 'is not a backup set id' in e.value.msg


def test_resolve_skips_newer_failed_and_in_progress_sets(store):
    a = started(store, now=T0)
    put_artifact(store, a)
    lifecycle.commit(store, a)
    b = started(store, now=later(60))
    lifecycle.fail(store, b, 'x')
    c = started(store, now=set_format.utcnow())
    assert lifecycle.resolve_completed(store)[0]['set_id'] == a
    with pytest.raises(LifeboatError) as e:
        lifecycle.resolve_completed(store, c)
    assert e.value.msg == 'set %s is in_progress; only completed sets can be restored' % c


def test_info_verify(store):
    a = started(store)
    r = put_artifact(store, a)
    lifecycle.commit(store, a)
    res = lifecycle.info(store, latest=True, verify=True)
    assert res['set']['id'] == a and res['problems'] == [] and res['set']['manifest']['set_id'] == a
    assert res['changed'] is False and [s['id'] for s in res['sets']] == [a]
    os.unlink(os.path.join(store.root, r['key']))
    with pytest.raises(LifeboatError) as e:
        lifecycle.info(store, set_id=a, verify=True)
    assert e.value.msg == 'set %s is damaged: %s is missing' % (a, r['key'])
    assert 'set' not in lifecycle.info(store)


def test_start_cleans_what_a_killed_writer_left(store):
    old = started(store, lock_ttl=60)
    w = store.open_write(old + '/web1/files/app.tar.zst')
    w.write(b'half an archive')  # the writer is killed here: neither commit nor abort
    lifecycle.start(store, now=later(120))
    assert [f for f in snapshot(store) if '.lifeboat-tmp-' in f] == []
    assert lifecycle.read_status(store, old)['status'] == 'failed'


# ---------------------------------------------------------------- parts, heartbeats, cancellation

def test_write_declares_the_part_first_and_heartbeats(store):
    sid = started(store)
    r = put_artifact(store, sid)
    keys = sorted(i.key for i in store.list(sid))
    beats = [k for k in keys if k.startswith(sid + '/heartbeats/web1-%d-' % os.getpid())]
    assert keys == sorted([sid + '/status.json', r['key'], r['key'] + '.part.json', r['key'] + '.record.json'] + beats)
    assert len(beats) == 1
    part = set_format.validate_part(set_format.loads(store.get_bytes(r['key'] + '.part.json'), 'p'), sid, r['key'] + '.part.json')
    assert (part['host'], part['component'], part['name']) == ('web1', 'files', 'app')
    assert part['owner']['pid'] == os.getpid()
    hb = store_lock.read_heartbeats(store, sid)
    assert [(b['pid'], b['state'], b['host']) for b in hb] == [(os.getpid(), 'running', 'web1')]
    lifecycle.commit(store, sid, hosts=['web1'])
    assert [b['state'] for b in store_lock.read_heartbeats(store, sid)] == ['ended']  # ended before the manifest


def test_a_second_part_of_the_same_name_is_refused_before_any_data(store):
    sid = started(store)
    first = put_artifact(store, sid, data=b'first entry')
    before = snapshot(store)
    with pytest.raises(ConfigError) as e:
        put_artifact(store, sid, data=b'second entry of the same name')
    assert e.value.msg.startswith('set %s already has a part files/app of host web1 (declared at ' % sid)
    assert 'two entries with the same name' in e.value.msg and 'Nothing was written' in e.value.msg
    assert snapshot(store) == before
    res = lifecycle.commit(store, sid, hosts=['web1'])
    manifest = set_format.loads(store.get_bytes(sid + '/manifest.json'), 'm')
    assert res['artifact_count'] == 1 and manifest['artifacts'][0]['sha256'] == first['sha256']


def test_a_refused_record_write_is_a_clear_error(store, monkeypatch):
    sid = started(store)
    real = store.put_bytes

    def put_bytes(key, data, exclusive=False):
        if key.endswith('.record.json'):
            return False  # what an exclusive create answers when the name exists
        return real(key, data, exclusive)
    monkeypatch.setattr(store, 'put_bytes', put_bytes)
    with pytest.raises(ConfigError) as e:
        put_artifact(store, sid)
    assert e.value.msg == ('set %s already has a record for %s/web1/files/app.bin: a part is only ever written once; '
                           'nothing was changed' % (sid, sid))


def test_commit_refuses_an_unfinished_part(store):
    sid = started(store)
    put_artifact(store, sid)
    key = set_format.artifact_key(sid, 'web1', 'files', 'other.bin')
    lifecycle.declare_part(store, sid, 'web1', 'files', 'other', key)  # a module that died after declaring it
    err = _assert_failed_commit(store, sid, 'host web1: part files/other was started at ', hosts=['web1'])
    assert 'but never finished (its module failed, was cancelled or was killed)' in err.msg


def test_commit_takes_everything_from_the_store_not_from_expect(store):
    # what the role passes may have been masked by Ansible (no_log): hosts only, the rest comes from the store
    sid = started(store)
    put_artifact(store, sid, 'web1', 'app')
    put_artifact(store, sid, 'db1', 'appdb')
    res = lifecycle.commit(store, sid, hosts=['web1', 'db1'], empty_hosts=['web3'])
    assert res['components'] == {'db1': ['files/appdb'], 'web1': ['files/app']} and res['empty_hosts'] == ['web3']
    manifest = set_format.loads(store.get_bytes(sid + '/manifest.json'), 'm')
    assert manifest['empty_hosts'] == ['web3'] and manifest['hosts'] == ['db1', 'web1']
    assert lifecycle.list_sets(store)[0]['empty_hosts'] == ['web3']


def test_sigterm_cancels_the_write_and_the_next_start_breaks_the_lock(store, tmp_path):
    sid = started(store)
    put_artifact(store, sid, name='done')
    # the source signals this very process (the "module") while the pipeline runs
    argv = ['sh', '-c', 'kill -TERM %d; exec sleep 30' % os.getpid()]
    with pytest.raises(CancelledError) as e:
        artifacts.write_artifact(store, sid, 'web1', 'files', 'big', 'files', 'raw', '.bin', 'test',
                                 check_source=lambda res: {}, source_argv=argv, compression='none')
    key = set_format.artifact_key(sid, 'web1', 'files', 'big.bin')
    assert e.value.msg == ('cancelled by SIGTERM while writing %s into set %s: the part is left unfinished, so the set '
                           'will not be committed' % (key, sid))
    assert e.value.details['signal'] == 'SIGTERM'
    keys = {i.key for i in store.list(sid)}
    assert key + '.part.json' in keys and key not in keys and key + '.record.json' not in keys
    assert [f for f in snapshot(store) if '.lifeboat-tmp-' in f] == []
    (hb,) = store_lock.read_heartbeats(store, sid)
    assert (hb['state'], hb['reason']) == ('cancelled', 'SIGTERM')
    # once cancelled, this process writes nothing more
    with pytest.raises(CancelledError):
        put_artifact(store, sid, name='after')
    res = lifecycle.start(store, now=later(60))
    assert res['broken_lock']['reason'].startswith('stale: its run was cancelled (')
    st = lifecycle.read_status(store, sid)
    assert st['status'] == 'failed' and st['reason'].startswith('interrupted: its lock was broken (stale: its run was cancelled')


def _dead_pid():
    p = subprocess.Popen(['true'])
    p.wait()
    return p.pid


def test_a_killed_module_or_controller_is_stale_at_once(store):
    here = store_lock.node_identity()
    if not here.get('boot_id') or not here.get('pid_ns'):
        pytest.skip('no /proc here')
    now = set_format.utcnow()
    sid = lifecycle.start(store, now=now)['set_id']
    # a module killed outright (SIGKILL): its heartbeat says running, its process is gone
    dead = _dead_pid()
    hb = set_format.make_heartbeat(sid, 'web1', 'node', dead, set_format.iso(now), set_format.iso(now), 'running',
                                   module='files_backup', boot_id=here['boot_id'], pid_ns=here['pid_ns'])
    store.put_bytes(set_format.heartbeat_key(sid, 'web1', dead, 'x'), set_format.dumps(hb))
    res = lifecycle.start(store, now=now)
    assert res['broken_lock']['reason'] == ('stale: files_backup (pid %d on node, host web1) died without finishing (last '
                                            'heartbeat %s)' % (dead, set_format.iso(now)))
    # the controller: alive, the lock holds; gone, it is stale
    live = lifecycle.start(store, now=now, break_lock=True, owner={'controller': dict(here, pid=os.getpid(), host='ctl')})
    assert live['owner']['controller']['pid_start'] == store_lock.process_start(os.getpid())[0]
    with pytest.raises(LockedError) as e:
        lifecycle.start(store, now=now)
    assert '(ansible-playbook pid %d on ctl)' % os.getpid() in e.value.msg
    dead = _dead_pid()
    lifecycle.start(store, now=now, break_lock=True, owner={'controller': dict(here, pid=dead, host='ctl')})
    res = lifecycle.start(store, now=now)
    assert res['broken_lock']['reason'] == 'stale: the ansible-playbook process that holds it (pid %d on ctl) is gone' % dead


def test_heartbeat_thread_renews_until_the_process_ends(store, monkeypatch):
    sid = started(store)
    writes = []

    class Counting(object):
        def __init__(self, params):
            self.inner = FilesystemStore(params)

        def put_bytes(self, key, data, exclusive=False):
            writes.append(set_format.loads(data, key))
            return self.inner.put_bytes(key, data, exclusive)

        def close(self):
            pass
    monkeypatch.setattr(heartbeat, 'interval_for', lambda expiry: 0.05)
    hb = heartbeat.ensure(store, sid, 'web1', opener=Counting)
    assert heartbeat.ensure(store, sid, 'web1') is hb  # once per process and set
    deadline = time.time() + 60
    while len(writes) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(writes) >= 3 and all(w['state'] == 'running' for w in writes)
    heartbeat.finish_set(store, sid)
    hb._thread.join(30)
    assert writes[-1]['state'] == 'ended' and not hb._thread.is_alive()
    count = len(writes)
    time.sleep(0.2)
    assert len(writes) == count  # nothing after the end


def test_a_failing_heartbeat_never_fails_the_backup(store, monkeypatch):
    sid = started(store)

    class Broken(object):
        def __init__(self, params):
            raise LifeboatError('the store is unreachable')
    hb = heartbeat.ensure(store, sid, 'web1', opener=Broken)
    assert hb.errors == ['the store is unreachable']
    put_artifact(store, sid)


# ---------------------------------------------------------------- damaged sets and documents

def _damage(store, sid, data):
    path = os.path.join(store.root, sid, 'manifest.json')
    with open(path, 'wb') as f:
        f.write(data)


def _committed(store, now, name='app'):
    sid = started(store, now=now)
    put_artifact(store, sid, name=name)
    lifecycle.commit(store, sid, hosts=['web1'])
    return sid


def test_damaged_sets_are_listed_skipped_by_latest_and_block_nothing(store):
    intact = _committed(store, T0)
    bad_json = _committed(store, later(60))
    _damage(store, bad_json, b'{"schema_version": 1, "kind": "lifeboat.backup/manifest", ')
    future = _committed(store, later(120))
    manifest = set_format.loads(store.get_bytes(future + '/manifest.json'), 'm')
    _damage(store, future, set_format.dumps(dict(manifest, schema_version=7)))
    sets = {s['id']: s for s in lifecycle.list_sets(store)}
    assert [s['status'] for s in lifecycle.list_sets(store)] == ['damaged', 'damaged', 'completed']
    assert sets[bad_json]['reason'].startswith('the manifest of set %s is not valid JSON: ' % bad_json)
    assert sets[future]['reason'] == ('the manifest of set %s has schema_version 7; this collection reads up to 1: '
                                      'upgrade lifeboat.backup to read it' % future)
    assert sets[future]['restorable'] is False and 'manifest_sha256' not in sets[future]
    assert lifecycle.latest_completed(store)['id'] == intact
    res = lifecycle.info(store, latest=True, verify=True)
    assert res['set']['id'] == intact and res['problems'] == []
    assert res['skipped_damaged'] == [future, bad_json] and res['damaged'] == [future, bad_json]
    assert res['warnings'][0].startswith('latest: skipped the newer damaged set %s (the manifest of set' % future)
    assert lifecycle.resolve_completed(store, intact)[0]['set_id'] == intact
    with pytest.raises(DamagedError) as e:
        lifecycle.resolve_completed(store, bad_json)
    assert e.value.msg.startswith('set %s is damaged and cannot be restored: the manifest of set %s is not valid JSON'
                                  % (bad_json, bad_json))
    assert lifecycle.info(store)['warnings'] == ['set %s is damaged: %s' % (s, sets[s]['reason']) for s in (future, bad_json)]
    assert lifecycle.start(store, now=later(180))['broken_lock'] is None  # a damaged set never blocks a new run


def test_a_record_with_a_string_size_gives_a_readable_error(store):
    sid = _committed(store, T0)
    manifest = set_format.loads(store.get_bytes(sid + '/manifest.json'), 'm')
    manifest['artifacts'][0]['size'] = str(manifest['artifacts'][0]['size'])
    _damage(store, sid, set_format.dumps(manifest))
    with pytest.raises(DamagedError) as e:
        lifecycle.resolve_completed(store, sid)
    assert e.value.msg == ('set %s is damaged and cannot be restored: the manifest of set %s, artifact 1: \'size\' must be '
                           'a whole number of bytes (0 or more), not the string "7"' % (sid, sid))
    assert lifecycle.list_sets(store)[0]['status'] == 'damaged'


def test_a_damaged_record_fails_the_commit_with_its_reason(store):
    sid = started(store)
    r = put_artifact(store, sid)
    store.put_bytes(r['key'] + '.record.json', set_format.dumps(dict(r, size='7')))
    err = _assert_failed_commit(store, sid, '\'size\' must be a whole number of bytes (0 or more), not the string "7"')
    assert err.msg.startswith('set %s cannot be committed, it is marked failed: verification failed: artifact record ' % sid)


def test_a_status_that_cannot_be_written_still_releases_the_lock(store, monkeypatch):
    sid = started(store)
    real = store.put_bytes

    def full(key, data, exclusive=False):
        if key.endswith('status.json'):
            raise LifeboatError('cannot create %s: no space left on device' % key, errno=28)
        return real(key, data, exclusive)
    monkeypatch.setattr(store, 'put_bytes', full)
    with pytest.raises(LifeboatError) as e:
        lifecycle.fail(store, sid, 'web2 failed')
    assert e.value.msg == ('set %s could not be marked failed (cannot create %s/status.json: no space left on device); '
                           'its lock was released, so it reads as failed (interrupted) and does not block the next run'
                           % (sid, sid))
    assert e.value.details == {'errno': 28}
    assert store_lock.read_lock(store) == (None, False)
    s = lifecycle.list_sets(store)[0]
    assert s['status'] == 'failed' and s['reason'].startswith('interrupted')


def test_small_artifacts_declare_their_part_and_are_written_once(store):
    sid = started(store)
    rec = artifacts.put_small_artifact(store, sid, 'web1', 'snapshot', 'ec2', 'ebs-snapshot-set', 'json', '.json',
                                       'ec2:eu-west-1/i-1', b'{"a": 1}\n')
    assert store.stat(rec['key'] + '.part.json') is not None and rec['size'] == 9
    with pytest.raises(AlreadyExistsError) as e:
        artifacts.put_small_artifact(store, sid, 'web1', 'snapshot', 'ec2', 'ebs-snapshot-set', 'json', '.json',
                                     'ec2:eu-west-1/i-1', b'{"a": 2}\n')
    assert isinstance(e.value, ConfigError) and 'already has a part snapshot/ec2 of host web1' in e.value.msg
    assert store.get_bytes(rec['key']) == b'{"a": 1}\n'
    assert lifecycle.commit(store, sid, hosts=['web1'])['components'] == {'web1': ['snapshot/ec2']}


def test_require_open_with_a_host_starts_the_heartbeat(store):
    sid = started(store)
    lifecycle.require_open(store, sid)
    assert store_lock.read_heartbeats(store, sid) == []
    lifecycle.require_open(store, sid, host='web1')
    assert [b['state'] for b in store_lock.read_heartbeats(store, sid)] == ['running']
