# -*- coding: utf-8 -*-
"""HA behaviour of playbooks/backup.yml and playbooks/restore.yml on a real 3-node cluster (netcluster.py).

Every node is reached over real SSH; node1 runs the PostgreSQL primary and node2 its streaming standby (both
carry lifeboat_postgresql with the same ``cluster: pg1``); every node runs lifeboat-app (init.d) and has its
data under /srv/app/data; the store is /srv/backup, one host directory bind-mounted into every node (EFS).
Each test uses its own store prefix. Faults are real: a link taken down, a node's disk full, an artifact
changed in the store.
"""

import hashlib
import json
import os
import shutil
import threading
import time
import uuid

import pytest

import netcluster

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(netcluster.unavailable_reason() is not None,
                       reason=netcluster.unavailable_reason() or 'cluster available'),
]

PRIMARY, STANDBY = 'node1', 'node2'
DIGEST_SQL = ("SELECT count(*) || ':' || md5(coalesce(string_agg(id || '=' || v, ',' ORDER BY id), '')) FROM t")


class HA(object):
    """One test's view: the cluster, a private store prefix, and helpers over both."""

    def __init__(self, cluster, prefix):
        self.c = cluster
        self.prefix = prefix
        self.store_vars = {'lifeboat_store': {'type': 'filesystem', 'path': netcluster.STORE_PATH,
                                              'prefix': prefix}}

    # -- playbooks
    def backup(self, **extra):
        ev = dict(self.store_vars)
        ev.update(extra)
        return self.c.run_playbook('backup.yml', extra_vars=ev)

    def restore(self, **extra):
        ev = dict(self.store_vars)
        ev.update({'lifeboat_restore_force': True})
        ev.update(extra)
        return self.c.run_playbook('restore.yml', extra_vars=ev)

    # -- the store, read on the host
    def sets(self):
        return lifecycle.list_sets(self.c.store(self.prefix))

    def completed(self):
        return [s for s in self.sets() if s['status'] == 'completed']

    def manifest(self, set_id):
        data = (self.c.shared_store / self.prefix / set_id / 'manifest.json').read_bytes()
        return json.loads(data.decode('utf-8')), hashlib.sha256(data).hexdigest()

    def artifact_path(self, record):
        return self.c.shared_store / self.prefix / record['key']

    # -- data
    def seed(self):
        for n in self.c.nodes:
            root = self.c.seed_files(n, {
                'a.txt': 'hello from %s\n' % n.name,
                'conf/app.ini': '[app]\nnode = %s\n' % n.name,
                'sub/b.bin': os.urandom(64 * 1024),
            })
            os.symlink('a.txt', str(root / 'link'))
        c = self.c
        c.psql(PRIMARY, 'DROP DATABASE IF EXISTS appdb WITH (FORCE)')
        c.psql(PRIMARY, 'CREATE DATABASE appdb')
        c.psql(PRIMARY, 'CREATE TABLE t(id int PRIMARY KEY, v text); '
                        'INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 2000) g', db='appdb')
        c.wait_replayed(STANDBY)

    def change_everything(self):
        for n in self.c.nodes:
            root = n.host_path(netcluster.APP_DATA)
            (root / 'a.txt').write_text('changed on %s\n' % n.name)
            (root / 'new.txt').write_text('not in the backup\n')
            (root / 'sub' / 'b.bin').unlink()
        self.c.psql(self.c.pg_primary, "UPDATE t SET v = 'changed' WHERE id <= 10; DELETE FROM t WHERE id > 1900; "
                                       "INSERT INTO t VALUES (5000, 'new')", db='appdb')

    def files(self):
        return {n.name: self.c.tree(n, netcluster.APP_DATA) for n in self.c.nodes}

    def db(self, node):
        return self.c.psql(node, DIGEST_SQL, db='appdb')


@pytest.fixture
def ha(cluster):
    prefix = 'ha-' + uuid.uuid4().hex[:8]
    h = HA(cluster, prefix)
    h.seed()
    yield h
    shutil.rmtree(str(cluster.shared_store / prefix), ignore_errors=True)


def _tail(result, n=6000):
    return 'ansible-playbook rc=%s, output ends with:\n%s' % (result.rc, result.output[-n:])


def _ok(result):
    if result.rc != 0:
        pytest.fail(_tail(result), pytrace=False)
    return result


def _failed(result, *needles):
    """The play failed, and its output holds every needle."""
    if result.rc == 0:
        pytest.fail('the play succeeded, it should have failed.\n' + _tail(result), pytrace=False)
    missing = [x for x in needles if x not in result.output]
    if missing:
        pytest.fail('the play failed, but its output lacks %s.\n%s' % (missing, _tail(result)), pytrace=False)
    return result.output


def _pg_records(manifest):
    return [r for r in manifest['artifacts'] if r['component'] == 'postgresql']


def _assert_apps_running(c):
    since = time.time()
    for n in c.nodes:
        assert c.app_running(n), '%s: lifeboat-app is not running' % n.name
        assert c.heartbeat_written_after(n, since), '%s: no new heartbeat (last %s s ago)' % (n.name, c.heartbeat_age(n))


# ---------------------------------------------------------------------------------------------- backup

def test_backup_follows_the_primary_after_a_switchover(ha):
    c = ha.c
    c.switchover(STANDBY)       # node2 is primary now, node1 streams from it
    assert not c.is_in_recovery(STANDBY) and c.is_in_recovery(PRIMARY)
    c.psql(STANDBY, "INSERT INTO t VALUES (9001, 'written on node2')", db='appdb')
    _ok(ha.backup())
    manifest, _sha = ha.manifest(ha.completed()[0]['id'])
    pg = _pg_records(manifest)
    names = [r['name'] for r in pg]
    assert 'appdb' in names and len(names) == len(set(names)), sorted(
        '%s/%s' % (r['host'], r['name']) for r in pg)
    for r in pg:
        assert r['host'] == STANDBY, 'dumped on %s, but node2 is the primary' % r['host']
        assert r['extra']['in_recovery'] is False


def test_node_cut_off_mid_backup_fails_the_set_and_keeps_earlier_sets(ha):
    c = ha.c
    _ok(ha.backup())
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
    _failed(box['result'], 'node3', 'FAILED')
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
    _ok(ha.backup())
    done = ha.completed()
    assert len(done) == 1
    set_id = done[0]['id']
    manifest, sha = ha.manifest(set_id)
    assert sorted(manifest['hosts']) == ['node1', 'node2', 'node3']
    for n in c.nodes:
        assert 'files/app' in manifest['components'][n.name]
    pg = _pg_records(manifest)
    names = [r['name'] for r in pg]
    assert 'appdb' in names
    # one copy of each PostgreSQL artifact for the whole pg1 cluster, taken on the primary
    assert len(names) == len(set(names)), 'PostgreSQL cluster pg1 was dumped more than once: %s' % (
        sorted('%s/%s' % (r['host'], r['name']) for r in pg))
    for r in pg:
        assert r['host'] == PRIMARY and r['extra']['in_recovery'] is False, r['key']

    ha.change_everything()
    assert ha.files() != files_before and ha.db(PRIMARY) != db_before
    _ok(ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha))
    assert ha.files() == files_before
    assert ha.db(PRIMARY) == db_before
    c.wait_replayed(STANDBY)
    assert ha.db(STANDBY) == db_before          # the restore replicated to the standby
    assert c.is_in_recovery(STANDBY)
    _assert_apps_running(c)
    assert not any(c.guard_exists(n) for n in c.nodes)


def test_restore_is_refused_in_preflight_when_a_node_is_unreachable(ha):
    c = ha.c
    _ok(ha.backup())
    ha.change_everything()
    changed_files, changed_db = ha.files(), ha.db(PRIMARY)
    c.kill_ssh_masters()
    c.link_down('node3')
    try:
        result = ha.restore()
    finally:
        c.link_up('node3')
    _failed(result, 'node3', 'UNREACHABLE', 'Preflight failed', 'nothing was stopped')
    # nothing was stopped or changed anywhere
    _assert_apps_running(c)
    assert ha.files() == changed_files
    assert ha.db(PRIMARY) == changed_db
    assert not any(c.guard_exists(n) for n in c.nodes)


def test_restore_failing_midway_keeps_services_down_behind_the_guard_until_a_good_retry(ha):
    c = ha.c
    files_before, db_before = ha.files(), ha.db(PRIMARY)
    _ok(ha.backup())
    set_id = ha.completed()[0]['id']
    manifest, sha = ha.manifest(set_id)
    # change node3's archive in the store after the backup: same size, one byte different
    rec = [r for r in manifest['artifacts'] if r['host'] == 'node3' and r['component'] == 'files'][0]
    path = ha.artifact_path(rec)

    def flip():
        with open(str(path), 'r+b') as f:
            f.seek(rec['size'] // 2)
            byte = f.read(1)
            f.seek(rec['size'] // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
    flip()
    ha.change_everything()
    changed = ha.files()
    result = ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha)
    # node3 is named, and the play says how to get out: retry, or release the guard
    _failed(result, 'node3', 'sha256', 'release_guard', 'restore again')
    for n in c.nodes:
        assert c.guard_exists(n), '%s has no restore guard' % n.name
        assert not c.app_running(n), '%s: lifeboat-app was started behind the guard' % n.name
    assert ha.files()['node3'] == changed['node3'], "node3's data was touched by a failed verification"
    # fix the store (the artifact's bytes back) and retry: everything back, the guard lowered, services up
    flip()
    _ok(ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha))
    assert ha.files() == files_before
    assert ha.db(PRIMARY) == db_before
    assert not any(c.guard_exists(n) for n in c.nodes)
    _assert_apps_running(c)


def test_disk_full_on_one_node_during_restore_leaves_its_data_untouched(ha):
    c = ha.c
    root = c.node('node3').host_path(netcluster.APP_DATA)
    with open(str(root / 'payload.bin'), 'wb') as f:
        f.write(os.urandom(3 << 20))
    _ok(ha.backup())
    ha.change_everything()
    # node3's /srv/app becomes a 4 MiB filesystem holding its current data and little room to spare
    c.sh('node3', 'rm -rf /tmp/appsave && cp -a /srv/app /tmp/appsave')
    c.small_fs('node3', netcluster.APP_DIR, '4m')
    c.sh('node3', 'cp -a /tmp/appsave/. /srv/app/ && rm -rf /tmp/appsave && '
                  '(dd if=/dev/zero of=/srv/app/.filler bs=64k 2>/dev/null || true) && truncate -s -256K /srv/app/.filler')
    before = c.tree('node3', netcluster.APP_DATA)
    result = ha.restore()
    _failed(result, 'node3', 'space')
    assert c.tree('node3', netcluster.APP_DATA) == before, "node3's data changed"
    guarded = [n.name for n in c.nodes if c.guard_exists(n)]
    if guarded:
        # it failed after services were stopped: all of them stay down behind the guard
        assert guarded == [n.name for n in c.nodes]
        assert not any(c.app_running(n) for n in c.nodes)
    else:
        _assert_apps_running(c)
