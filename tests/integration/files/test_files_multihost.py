# -*- coding: utf-8 -*-
"""Two hosts in one set (both ansible_connection=local, each with its own lifeboat_files), and a host that
fails: the set is failed with the host and its reason, and never restorable."""

import os

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


def test_two_hosts_one_set_and_a_failing_host(scratch):
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

    # h2's second path is gone: h2 fails, h1 succeeds, and the set must fail as a whole
    missing = str(scratch / u'gone \u2603')
    inv_bad = h.inventory(scratch / 'hosts-bad.yml', {
        'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a]}]},
        'h2': {'lifeboat_files': [{'name': 'etc', 'paths': [b]}, {'name': 'more', 'paths': [missing]}]},
    })
    good_bytes = h.set_bytes(store, good)
    r = h.backup(store, None, inventory=inv_bad)
    assert r.rc != 0, r
    bad = [i for i in h.set_ids(store) if i != good]
    assert len(bad) == 1
    bad = bad[0]
    msg = h.final_msg(r)
    assert msg.startswith('Backup set %s FAILED and was not committed (earlier sets are untouched): ' % bad), msg
    assert 'h2: Archive files entries into the set: files entry more: %s does not exist on this host' % missing in msg
    assert 'h1' not in msg.split(': ', 1)[1]
    assert '\n' not in msg

    res = h.info(store, scratch)
    sets = {s['id']: s for s in res['sets']}
    assert [s['id'] for s in res['sets']] == [bad, good]
    assert sets[good]['status'] == 'completed' and sets[good]['hosts'] == ['h1', 'h2']
    assert sets[good]['components'] == {'h1': ['files/app'], 'h2': ['files/etc', 'files/more']}
    assert sets[good]['artifact_count'] == 3
    assert sets[bad]['status'] == 'failed' and sets[bad]['restorable'] is False
    assert sets[bad]['reason'] == ('h2: Archive files entries into the set: files entry more: %s does not exist on '
                                   'this host' % missing)
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
