# -*- coding: utf-8 -*-
"""A backup run killed or cancelled mid-write leaves its lock and an in-progress set behind; the next run
breaks that lock by itself, without lifeboat_break_lock, and the interrupted set ends failed.

0.1.0 kept such a lock for lifeboat_lock_ttl (24 h): the next nightly run failed with "locked by ..." until an
operator set lifeboat_break_lock=true. Now the lock lives only while its run does (heartbeats, docs/ha.md):

* SIGTERM / SIGINT to ansible-playbook (AWX cancel, systemctl stop, Ctrl-C): Ansible passes the signal on to the
  running modules; each stops its pipeline (tar, zstd), leaves its part declared but unfinished, writes a
  ``cancelled`` heartbeat and exits non-zero; the next run sees the cancelled run and breaks the lock at once;
* SIGKILL of the run and everything it started: the module's last heartbeat still says ``running`` but its
  process is gone on this machine: the next run breaks the lock at once;
* SIGKILL of ansible-playbook alone: the modules keep going, but the controller process recorded in the lock is
  gone on this machine: the next run breaks the lock at once (on another machine the expiry,
  lifeboat_lock_expiry, does it).
"""

import contextlib
import os
import signal
import socket

import pytest

import lb_files_helpers as h


def _start_slow_backup(scratch, store, big):
    # 48 MiB of random data at zstd level 19 on one thread: many seconds of work, stopped in its first seconds
    big.mkdir()
    for i in range(6):
        (big / ('random-%d' % i)).write_bytes(os.urandom(8 << 20))
    log = scratch / 'killed.log'
    proc = h.start_playbook('backup.yml', log, {
        'lifeboat_store': h.store_spec(store), 'lifeboat_files': [{'name': 'big', 'paths': [str(big)]}],
        'lifeboat_compression_level': 19, 'lifeboat_compression_threads': 1})

    def writing():
        if proc.poll() is not None:
            raise AssertionError('the run ended before it was stopped:\n' + open(str(log)).read())
        for t in h.temp_files(store):
            if os.path.basename(t).startswith('.lifeboat-tmp-big.tar.zst') and os.path.getsize(t) > 0:
                return t
        return None
    try:
        partial = h.wait_for('the artifact to be half written', writing, 300)
    except BaseException:
        h.kill_run(proc)
        raise
    return proc, partial, log


EXPECT = {
    'sigterm': 'stale: its run was cancelled (files_backup (pid {pid} on {node}, host localhost) stopped on SIGTERM at ',
    'sigint': 'stale: its run was cancelled (files_backup (pid {pid} on {node}, host localhost) stopped on SIGINT at ',
    'sigkill-everything': 'stale: files_backup (pid {pid} on {node}, host localhost) died without finishing (last heartbeat ',
    'sigkill-controller': 'stale: the ansible-playbook process that holds it (pid {controller} on {node}) is gone',
}


def _named(pids, name):
    """The processes among ``pids`` whose command is ``name``."""
    found = []
    for pid in pids:
        try:
            with open('/proc/%d/comm' % pid) as f:
                if f.read().strip() == name:
                    found.append(pid)
        except OSError:
            continue
    return found


@contextlib.contextmanager
def _paused(pids):
    """SIGSTOP ``pids`` for the block, SIGCONT them after it (whatever happened)."""
    assert pids, 'no process to pause'
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass


@pytest.mark.parametrize('how', sorted(EXPECT))
def test_a_killed_or_cancelled_run_does_not_block_the_next_one(scratch, how):
    store = scratch / 'store'
    small = scratch / u'sm\u00e4ll'
    small.mkdir()
    (small / 'f').write_text('small\n')
    earlier = h.inprocess_set(store, {'localhost': {'small': [str(small)]}})
    earlier_bytes = h.set_bytes(store, earlier)
    files = [{'name': 'small', 'paths': [str(small)]}]
    big = scratch / 'big'

    proc, partial, log = _start_slow_backup(scratch, store, big)
    tree = h.descendants(proc.pid)
    killed = partial.split(os.sep)[-4]
    assert h.set_format.is_set_id(killed) and killed != earlier
    try:
        if how == 'sigint':
            # while the run lives, its lock holds: a second run is refused, naming the holder. Its compressor
            # (and tar, while it still reads) is stopped meanwhile (the module and its heartbeat go on), so the
            # slow backup cannot finish while the second playbook runs: zstd is the slow stage, and tar may have
            # handed it all its input already (zstd -19 holds a window of 8 MiB)
            stages = h.wait_for("the run's zstd", lambda: _named(h.descendants(proc.pid), 'zstd'), 120)
            stages += _named(h.descendants(proc.pid), 'tar')
            tree = sorted(set(tree) | set(stages))
            # The cancel comes while they are still stopped (they go on after it, and stop on the module's
            # cancel): on an idle machine the slow backup may be close to its end by now.
            with _paused(stages):
                r = h.backup(store, files)
                proc.send_signal(signal.SIGINT)
            assert r.rc != 0, r
            live_msg = h.final_msg(r)
            assert live_msg.startswith('the filesystem store %s is locked by host %s (pid ' % (store, socket.gethostname()))
            assert 'for set %s, expires ' % killed in live_msg
        if how in ('sigterm', 'sigint'):
            if how == 'sigterm':
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=300)
            # every module stopped its pipeline and exited: nothing of the run is left
            h.wait_for('the cancelled run to be gone', lambda: not h.alive(tree), 120)
            assert proc.returncode != 0
        elif how == 'sigkill-everything':
            h.kill_run(proc)
            h.wait_for('the killed run to be gone', lambda: not h.alive(tree), 120)
        else:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert h.alive(tree), 'the module stopped with its controller'

        lock, _exists = h.store_lock.read_lock(h.fs_store(store))
        assert lock['set_id'] == killed

        # the next run starts by itself
        r = h.backup(store, files)
        assert r.rc == 0, r
        # what the stopped run left: its module's last heartbeat, its part declared but unfinished
        st = h.fs_store(store)
        beats = h.store_lock.read_heartbeats(st, killed)
        (beat,) = [b for b in beats if b.get('module') == 'files_backup']
        if how in ('sigterm', 'sigint'):
            assert (beat['state'], beat['reason']) == ('cancelled', 'SIGTERM' if how == 'sigterm' else 'SIGINT')
        else:
            assert beat['state'] == 'running'
        keys = h.store_objects(store, killed)
        part = killed + '/localhost/files/big.tar.zst'
        assert part + '.part.json' in keys and part not in keys and part + '.record.json' not in keys
        if how != 'sigkill-controller':
            assert h.processes_mentioning(str(big).lstrip('/')) == []

        if how == 'sigint':
            assert '(ansible-playbook pid %d on ' % proc.pid in live_msg
        reason = EXPECT[how].format(pid=beat['pid'], node=socket.gethostname(), controller=proc.pid)
        assert 'Broke a stale lock: %s' % reason in r.stdout, r
        listed = h.lifecycle.list_sets(h.fs_store(store))
        sets = {s['id']: s for s in listed}
        newest = listed[0]['id']
        assert [s['id'] for s in listed] == [newest, killed, earlier]
        assert sets[newest]['status'] == 'completed'
        assert sets[killed]['status'] == 'failed' and sets[killed]['restorable'] is False
        assert sets[killed]['reason'].startswith('interrupted: its lock was broken (%s' % reason)
        assert sets[earlier]['status'] == 'completed'
        assert h.set_bytes(store, earlier) == earlier_bytes
    finally:
        h.kill_pids(tree)   # the modules of a controller killed alone are still going
    h.wait_for('the rest of the run to be gone', lambda: not h.alive(tree), 120)
    if how != 'sigkill-controller':   # (a module writing into an unlinked temp file was just killed)
        assert h.temp_files(store) == []  # what the stopped writer left is cleaned by the next run

    # the interrupted set is never restorable
    dest = scratch / 'dest'
    r = h.restore(store, lifeboat_set_id=killed, lifeboat_restore_dest=str(dest))
    assert r.rc != 0, r
    assert h.final_msg(r).startswith('set %s is failed (interrupted: its lock was broken (stale: ' % killed)
    assert not os.path.lexists(str(dest))
    assert h.set_bytes(store, earlier) == earlier_bytes
