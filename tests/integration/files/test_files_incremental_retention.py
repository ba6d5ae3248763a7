# -*- coding: utf-8 -*-
"""Incremental files backups over several sets, through real playbook runs: prune keeps every set a kept set needs
(playbooks/prune.yml), each host has its own chain and a new host continues an old one through a host map
(docs/incremental.md). Verification of whole chains: test_files_incremental_refused.py."""

import lb_files_helpers as h
from lb_incremental_helpers import backed_up, entry, level_of, restore_to, small_tree


def test_prune_keeps_every_set_a_kept_set_needs(scratch):
    """Two chains (a full and two increments, then a forced full and an increment): keep_last 1 and a kept
    increment of the first chain. Prune removes only what no kept set needs, says why each needed set stays, and
    both kept sets still restore."""
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    ids = []
    for run in range(5):
        (src / 'b.txt').write_text('run %d\n' % run)
        set_id, record, _r = backed_up(store, [entry(src)], lifeboat_full=(run == 3))
        ids.append(set_id)
        assert level_of(record) == [0, 1, 2, 0, 1][run]
    info = h.info(store, scratch)
    assert {s['id']: s['needs'] for s in info['sets']} == {
        ids[0]: [], ids[1]: ids[:1], ids[2]: ids[:2], ids[3]: [], ids[4]: ids[3:4]}
    policy = {'keep_last': 1, 'keep_ids': [ids[1]]}
    pb = h._playbook('prune.yml')
    dry = h.run_playbook(pb, extra_vars={'lifeboat_store': h.store_spec(store), 'lifeboat_retention': policy},
                         check=True, env=h.ENV)
    assert dry.rc == 0, dry
    assert 'needed by %s' % ids[4] in dry.stdout and 'needed by %s' % ids[1] in dry.stdout, dry.stdout
    r = h.run_playbook(pb, extra_vars={'lifeboat_store': h.store_spec(store), 'lifeboat_retention': policy}, env=h.ENV)
    assert r.rc == 0, r
    assert sorted(h.set_ids(store)) == [ids[0], ids[1], ids[3], ids[4]]
    for kept in (ids[1], ids[4]):
        dest = scratch / ('dest-' + kept)
        restore_to(store, kept, dest)
        assert (dest / str(src).lstrip('/') / 'b.txt').read_text() == 'run %d\n' % ids.index(kept)


def test_each_host_has_its_own_chain_and_a_new_host_continues_an_old_one(scratch):
    one = small_tree(scratch / 'one')
    two = small_tree(scratch / 'two')
    store = scratch / 'store'
    hosts = {'h1': {'lifeboat_files': [entry(one)]}, 'h2': {'lifeboat_files': [entry(two)]}}
    inv = h.inventory(scratch / 'hosts.yml', hosts)
    for _run in range(2):
        (one / 'b.txt').write_text('h1 run %d\n' % _run)
        r = h.backup(store, None, inventory=inv)
        assert r.rc == 0, r
    first, second = sorted(h.set_ids(store))
    for host in ('h1', 'h2'):
        record = h.the_artifact(store, second, host=host, name='app')
        assert level_of(record) == 1
        assert [(e['set_id'], e['host']) for e in record['extra']['incremental']['chain']] == [(first, host)]
    # h1 is replaced by h3 (a rebuilt machine under a new name): it continues h1's chain
    inv3 = h.inventory(scratch / 'hosts3.yml', {'h3': {'lifeboat_files': [entry(one)]}, 'h2': hosts['h2']})
    (one / 'b.txt').write_text('h3\n')
    r = h.backup(store, None, inventory=inv3, lifeboat_incremental_host_map={'h3': 'h1'})
    assert r.rc == 0, r
    third = sorted(h.set_ids(store))[-1]
    record = h.the_artifact(store, third, host='h3', name='app')
    assert level_of(record) == 2
    assert [(e['set_id'], e['host']) for e in record['extra']['incremental']['chain']] == [(first, 'h1'), (second, 'h1')]
    # and h4 restores h3's set (the chain goes through h1's sets)
    # (the play covers every host of the set: h2 restores its own entry beside)
    inv4 = h.inventory(scratch / 'hosts4.yml', {'h4': {'lifeboat_files': [entry(one)]}, 'h2': hosts['h2']})
    dest = scratch / 'dest'
    r = h.restore(store, inventory=inv4, lifeboat_set_id=third, lifeboat_restore_dest=str(dest),
                  lifeboat_restore_host_map={'h4': 'h3'})
    assert r.rc == 0, r
    assert (dest / str(one).lstrip('/') / 'b.txt').read_text() == 'h3\n'
