# -*- coding: utf-8 -*-
"""Two hosts in one set (both ansible_connection=local, each with its own lifeboat_files): a host that fails
mid-backup fails the whole set; a host with nothing to back up, or two entries of the same name, fail the run
before the set starts (docs/faults.md)."""

import os
import signal

import pytest

import lb_files_helpers as h


def _tree(root, files):
    os.makedirs(str(root))
    for rel, data in files.items():
        p = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(data)
    return str(root)


def _nothing_started(store):
    """No set, no lock: the store is untouched (or was never created)."""
    assert not os.path.exists(str(store)) or h.store_objects(store) == [], h.store_objects(store)


def test_two_hosts_one_set_and_a_host_failing_mid_backup(scratch):
    a = _tree(scratch / 'app a', {'a.txt': 'from h1\n', 'sub/x': 'x\n'})
    b = _tree(scratch / u'app \u00df', {'b.txt': 'from h2\n'})
    c = _tree(scratch / 'more', {'c.txt': 'also from h2\n'})
    store = scratch / 'store'
    inv = h.inventory(scratch / 'hosts.yml', {
        'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}]},
        'h2': {'lifeboat_files': [{'name': 'etc', 'paths': [b]}, {'name': 'more', 'paths': [c]}]},
    })
    r = h.backup(store, None, inventory=inv)
    assert r.rc == 0, r
    (good,) = h.set_ids(store)

    # h2's tar dies mid-backup (what preflight cannot foresee): h2 fails, h1 succeeds, the set fails as a whole
    slow = scratch / 'slow'
    slow.mkdir()
    # 128 MiB at zstd -19 on one thread: tar stays blocked on its pipe for many seconds (zstd -T1 takes in up to about
    # 4 windows, 32 MiB, before it writes anything, so 48 MiB let tar finish early on an idle machine)
    for i in range(16):
        (slow / ('random-%d' % i)).write_bytes(os.urandom(8 << 20))
    good_bytes = h.set_bytes(store, good)
    proc = h.start_playbook('backup.yml', scratch / 'bad.log', {
        'lifeboat_store': h.store_spec(store), 'lifeboat_compression_level': 19, 'lifeboat_compression_threads': 1},
        inventory=h.inventory(scratch / 'hosts-bad.yml', {
            'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}]},
            'h2': {'lifeboat_files': [{'name': 'etc', 'paths': [b]}, {'name': 'more', 'paths': [str(slow)]}]},
        }))

    def h2_tar():
        if proc.poll() is not None:
            raise AssertionError('the run ended before h2 was archiving:\n' + open(str(scratch / 'bad.log')).read())
        return h.processes_mentioning(str(slow).lstrip('/'))
    try:
        tars = h.wait_for("h2's tar", h2_tar, 900)
        for pid in tars:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            h.kill_run(proc)
    out = open(str(scratch / 'bad.log')).read()
    assert proc.returncode != 0, out
    bad = [i for i in h.set_ids(store) if i != good]
    assert len(bad) == 1, out
    bad = bad[0]
    final = [line for line in out.splitlines() if 'Backup set %s FAILED and was not committed' % bad in line]
    assert final, out
    assert 'h2: Archive files entries into the set: tar was killed by signal 9' in final[-1], final

    res = h.info(store, scratch)
    sets = {s['id']: s for s in res['sets']}
    assert [s['id'] for s in res['sets']] == [bad, good]
    assert sets[good]['status'] == 'completed' and sets[good]['hosts'] == ['h1', 'h2']
    assert sets[good]['components'] == {'h1': ['files/app'], 'h2': ['files/etc', 'files/more']}
    assert sets[good]['artifact_count'] == 3
    assert sets[bad]['status'] == 'failed' and sets[bad]['restorable'] is False
    assert sets[bad]['reason'].startswith('h2: Archive files entries into the set: tar was killed by signal 9')
    assert h.set_bytes(store, good) == good_bytes
    assert h.fs_store(store).stat('lock.json') is None

    # not restorable (the playbook-level refusal of a failed set is in test_files_stale_lock.py)
    with pytest.raises(h.LifeboatError) as e:
        h.lifecycle.resolve_completed(h.fs_store(store), bad)
    assert e.value.msg.startswith('set %s is failed (h2: ' % bad)
    assert e.value.msg.endswith('only completed sets can be restored')

    # the good set restores both hosts
    dest = scratch / 'dest'
    r = h.restore(store, inventory=inv, lifeboat_restore_dest=str(dest))
    assert r.rc == 0, r
    assert open(str(dest) + a + '/a.txt').read() == 'from h1\n'
    assert open(str(dest) + b + '/b.txt').read() == 'from h2\n'
    assert open(str(dest) + c + '/c.txt').read() == 'also from h2\n'


def test_a_missing_path_on_one_host_of_two_stops_the_run_before_the_set(scratch):
    """0.1.0 started the set, archived h1, failed h2 at its tar and left a failed set behind."""
    a = _tree(scratch / 'a', {'a.txt': 'a\n'})
    missing = str(scratch / u'gone \u2603')
    store = scratch / 'store'
    inv = h.inventory(scratch / 'hosts.yml', {
        'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}]},
        'h2': {'lifeboat_files': [{'name': 'etc', 'paths': [a, missing]}]},
    })
    r = h.backup(store, None, inventory=inv)
    assert r.rc != 0, r
    assert h.final_msg(r) == ('Preflight failed, nothing was started (no set, no lock): h2: files entry etc: %s does '
                              'not exist on this host' % missing)
    assert 'Start a new backup set' not in r.stdout
    _nothing_started(store)


def test_a_host_with_nothing_to_back_up_fails_the_run_naming_what_it_lacks(scratch):
    """0.1.0 committed a set without web2 (silently left out); on one host it said "the set has no artifacts"."""
    a = _tree(scratch / 'a', {'a.txt': 'a\n'})
    store = scratch / 'store'
    hosts = {
        'web1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}]},
        'web2': {'lifeboat_file': [{'name': 'app', 'paths': [a]}]},   # misspelled
    }
    r = h.backup(store, None, inventory=h.inventory(scratch / 'hosts.yml', hosts))
    assert r.rc != 0, r
    assert h.final_msg(r) == (
        'Preflight failed, nothing was started (no set, no lock): web2 has nothing to back up: no lifeboat_files, '
        'lifeboat_postgresql, lifeboat_opensearch or lifeboat_snapshot (did you mean lifeboat_files? it has '
        'lifeboat_file). Give it something to back up, leave it out of the play, or set lifeboat_allow_empty_hosts: true')
    _nothing_started(store)

    # one host, nothing at all: the same message, not "the set has no artifacts"
    r = h.backup(store, None)
    assert r.rc != 0, r
    assert h.final_msg(r).startswith('Preflight failed, nothing was started (no set, no lock): localhost has nothing '
                                     'to back up: no lifeboat_files, lifeboat_postgresql, lifeboat_opensearch or '
                                     'lifeboat_snapshot. ')
    _nothing_started(store)

    # said on purpose: the set completes and its manifest says which host had nothing
    r = h.backup(store, None, inventory=h.inventory(scratch / 'hosts.yml', hosts), lifeboat_allow_empty_hosts=True)
    assert r.rc == 0, r
    (sid,) = h.set_ids(store)
    manifest, _digest = h.lifecycle.read_manifest(h.fs_store(store), sid)
    assert manifest['hosts'] == ['web1'] and manifest['empty_hosts'] == ['web2']
    assert h.info(store, scratch)['sets'][0]['empty_hosts'] == ['web2']


def test_two_entries_of_the_same_name_are_refused_before_the_set(scratch):
    """0.1.0 completed a set whose manifest held only the second entry: the first one's data was lost."""
    a = _tree(scratch / 'a', {'a.txt': 'a\n'})
    b = _tree(scratch / 'b', {'b.txt': 'b\n'})
    store = scratch / 'store'
    inv = h.inventory(scratch / 'hosts.yml', {
        'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}, {'name': 'etc', 'paths': [b]},
                                  {'name': 'app', 'paths': [b]}]},
    })
    r = h.backup(store, None, inventory=inv)
    assert r.rc != 0, r
    assert h.final_msg(r) == (
        'Preflight failed, nothing was started (no set, no lock): h1: lifeboat_files has two entries named app (entries '
        '1 and 3): each would write files/app, and only one can be kept. Give each entry its own name')
    _nothing_started(store)
