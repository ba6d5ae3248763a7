# -*- coding: utf-8 -*-
"""A backup run killed with SIGKILL mid-write leaves a stale lock and an in-progress set behind.

The next run fails and names the holder; with lifeboat_break_lock=true it succeeds and the killed set is
marked failed (interrupted), is never restorable, and the sets before it are untouched.
"""

import os
import socket
import time

import lb_files_helpers as h


def _wait_for(what, check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError('timed out after %d s waiting for %s' % (timeout, what))


def test_killed_run_then_break_lock(scratch):
    store = scratch / 'store'
    small = scratch / u'sm\u00e4ll'
    small.mkdir()
    (small / 'f').write_text('small\n')
    earlier = h.inprocess_set(store, {'localhost': {'small': [str(small)]}})
    earlier_bytes = h.set_bytes(store, earlier)

    # 48 MiB of random data at zstd level 19 on one thread: many seconds of work, killed in its first second
    big = scratch / 'big'
    big.mkdir()
    for i in range(6):
        (big / ('random-%d' % i)).write_bytes(os.urandom(8 << 20))
    proc = h.start_playbook('backup.yml', scratch / 'killed.log', {
        'lifeboat_store': h.store_spec(store), 'lifeboat_files': [{'name': 'big', 'paths': [str(big)]}],
        'lifeboat_compression_level': 19, 'lifeboat_compression_threads': 1})
    try:
        def writing():
            if proc.poll() is not None:
                raise AssertionError('the run ended before it was killed:\n' + open(str(scratch / 'killed.log')).read())
            for t in h.temp_files(store):
                if os.path.basename(t).startswith('.lifeboat-tmp-big.tar.zst') and os.path.getsize(t) > 0:
                    return t
            return None
        partial = _wait_for('the artifact to be half written', writing, 180)
    finally:
        pids = h.kill_run(proc)
    # the whole run is gone: ansible-playbook, its worker, the module, tar and zstd
    assert len(pids) >= 5, pids
    _wait_for('the killed run to be gone', lambda: not h.alive(pids), 10)
    assert h.processes_mentioning(str(big).lstrip('/')) == []

    killed = partial.split(os.sep)[-4]
    assert h.set_format.is_set_id(killed) and killed != earlier
    st = h.fs_store(store)
    lock, _exists = h.store_lock.read_lock(st)
    assert lock['set_id'] == killed
    assert h.store_objects(store, killed) == [killed + '/status.json']  # the half-written artifact is no object
    # while its lock lives, the killed set cannot be told from a running one
    assert h.lifecycle.list_sets(st)[0]['status'] == 'in_progress'

    # a new run: refused, naming the holder
    files = [{'name': 'small', 'paths': [str(small)]}]
    r = h.backup(store, files)
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('the filesystem store %s is locked by host %s (pid %s, user '
                          % (store, socket.gethostname(), lock['owner']['pid'])), msg
    assert 'for set %s, expires %s' % (killed, lock['expires']) in msg
    assert h.set_ids(store) == [killed, earlier]

    # breaking the lock on request
    r = h.backup(store, files, lifeboat_break_lock=True)
    assert r.rc == 0, r
    assert 'Broke a stale lock: broken on request (break_lock); the set it held was marked failed.' in r.stdout
    listed = h.lifecycle.list_sets(h.fs_store(store))  # what backup_set_info returns (the module is run elsewhere)
    sets = {s['id']: s for s in listed}
    newest = listed[0]['id']
    assert [s['id'] for s in listed] == [newest, killed, earlier]
    assert sets[newest]['status'] == 'completed'
    assert sets[killed]['status'] == 'failed' and sets[killed]['restorable'] is False
    assert sets[killed]['reason'] == 'interrupted: its lock was broken (broken on request (break_lock))'
    assert sets[earlier]['status'] == 'completed'
    assert h.set_bytes(store, earlier) == earlier_bytes
    # what the killed writer left on disk is cleaned up by the next run that holds the lock
    assert h.temp_files(store) == []

    # the killed set is never restorable
    dest = scratch / 'dest'
    r = h.restore(store, lifeboat_set_id=killed, lifeboat_restore_dest=str(dest))
    assert r.rc != 0, r
    assert h.final_msg(r) == ('set %s is failed (interrupted: its lock was broken (broken on request (break_lock))); '
                              'only completed sets can be restored' % killed)
    assert not os.path.lexists(str(dest))
    assert h.set_bytes(store, earlier) == earlier_bytes
