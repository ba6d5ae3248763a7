# -*- coding: utf-8 -*-
"""HA behaviour of playbooks/backup.yml and playbooks/restore.yml on a real 3-node cluster (netcluster.py): backups
that follow the primary, a node cut off mid-backup, a round trip on every node. Restores refused or failing mid-way
are in test_ha_restore_faults.py; the ``ha`` fixture is in conftest.py, its class and helpers in halib.py.

Every node is reached over real SSH; node1 runs the PostgreSQL primary and node2 its streaming standby (both
carry lifeboat_postgresql with the same ``cluster: pg1``); every node runs lifeboat-app (init.d) and has its
data under /srv/app/data; the store is /srv/backup, one host directory bind-mounted into every node (EFS).
Each test uses its own store prefix. Faults are real: a link taken down, a node's disk full, an artifact
changed in the store.
"""

import os
import threading
import time

import netcluster
from halib import CLUSTER_MARKS, PRIMARY, STANDBY, assert_apps_running, pg_records, play_failed, play_ok

pytestmark = CLUSTER_MARKS


# ---------------------------------------------------------------------------------------------- backup

def test_backup_follows_the_primary_after_a_switchover(ha):
    c = ha.c
    c.switchover(STANDBY)       # node2 is primary now, node1 streams from it
    assert not c.is_in_recovery(STANDBY) and c.is_in_recovery(PRIMARY)
    c.psql(STANDBY, "INSERT INTO t VALUES (9001, 'written on node2')", db='appdb')
    play_ok(ha.backup())
    manifest, _sha = ha.manifest(ha.completed()[0]['id'])
    pg = pg_records(manifest)
    names = [r['name'] for r in pg]
    assert 'appdb' in names and len(names) == len(set(names)), sorted(
        '%s/%s' % (r['host'], r['name']) for r in pg)
    for r in pg:
        assert r['host'] == STANDBY, 'dumped on %s, but node2 is the primary' % r['host']
        assert r['extra']['in_recovery'] is False


def test_node_cut_off_mid_backup_fails_the_set_and_keeps_earlier_sets(ha):
    c = ha.c
    play_ok(ha.backup())
    earlier = ha.completed()
    assert len(earlier) == 1
    earlier_id = earlier[0]['id']
    _manifest, earlier_sha = ha.manifest(earlier_id)
    # enough incompressible data on node3, compressed hard enough, that its archive is still being written
    # (seconds, not milliseconds) when its link goes down
    big = c.node('node3').host_path(netcluster.APP_DATA) / 'big.bin'
    with open(str(big), 'wb') as f:
        for _i in range(128):
            f.write(os.urandom(1 << 20))
    box = {}
    runner = threading.Thread(target=lambda: box.update(result=ha.backup(lifeboat_compression_level=9)),
                              daemon=True)
    runner.start()
    try:
        # node3 is archiving: its part of the new set is declared (not yet recorded) and tar or zstd runs there
        # (a tar or zstd seen alone may be the preflight's version probe, before any set exists)
        root = c.shared_store / ha.prefix

        def archiving():
            declared = [p for p in root.glob('*/node3/files/*.part.json') if p.parts[-4] != earlier_id
                        and not p.with_name(p.name[:-len('.part.json')] + '.record.json').exists()]
            return bool(declared) and c.wait_process('node3', ('tar', 'zstd'), timeout=0.5)
        deadline = time.monotonic() + 120
        while not archiving():
            assert time.monotonic() < deadline and runner.is_alive(), 'the backup never started archiving on node3'
            time.sleep(0.05)
        c.link_down('node3')
        runner.join(timeout=300)
        assert not runner.is_alive(), 'the backup did not end after node3 was cut off'
    finally:
        c.link_up('node3')
        c.kill_processes('node3', ('tar', 'zstd'))
        big.unlink()
    play_failed(box['result'], 'node3', 'FAILED')
    sets = {s['id']: s for s in ha.sets()}
    failed = [s for s in sets.values() if s['id'] != earlier_id]
    assert len(failed) == 1, sets
    assert failed[0]['status'] == 'failed' and not failed[0]['restorable'], failed[0]
    assert 'node3' in failed[0].get('reason', ''), failed[0]
    # the earlier set is untouched: still completed, same manifest bytes
    assert sets[earlier_id]['status'] == 'completed'
    assert ha.manifest(earlier_id)[1] == earlier_sha
    assert ha.completed()[0]['id'] == earlier_id


# ---------------------------------------------------------------------------------------------- restore

def test_backup_once_from_primary_change_restore_round_trip_on_every_node(ha):
    c = ha.c
    files_before, db_before = ha.files(), ha.db(PRIMARY)
    play_ok(ha.backup())
    done = ha.completed()
    assert len(done) == 1
    set_id = done[0]['id']
    manifest, sha = ha.manifest(set_id)
    assert sorted(manifest['hosts']) == ['node1', 'node2', 'node3']
    for n in c.nodes:
        assert 'files/app' in manifest['components'][n.name]
    pg = pg_records(manifest)
    names = [r['name'] for r in pg]
    assert 'appdb' in names
    # one copy of each PostgreSQL artifact for the whole pg1 cluster, taken on the primary
    assert len(names) == len(set(names)), 'PostgreSQL cluster pg1 was dumped more than once: %s' % (
        sorted('%s/%s' % (r['host'], r['name']) for r in pg))
    for r in pg:
        assert r['host'] == PRIMARY and r['extra']['in_recovery'] is False, r['key']

    ha.change_everything()
    assert ha.files() != files_before and ha.db(PRIMARY) != db_before
    play_ok(ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha))
    assert ha.files() == files_before
    assert ha.db(PRIMARY) == db_before
    c.wait_replayed(STANDBY)
    assert ha.db(STANDBY) == db_before          # the restore replicated to the standby
    assert c.is_in_recovery(STANDBY)
    assert_apps_running(c)
    assert not any(c.guard_exists(n) for n in c.nodes)
