# -*- coding: utf-8 -*-
"""Helpers of the HA tests (test_ha*.py) on the 3-node cluster (netcluster.py): ``HA``, one test's view of the
cluster with a private store prefix (conftest.py's ``ha`` fixture), and checks of play results."""

import hashlib
import json
import os
import time

import pytest

import netcluster

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle

# the marks of every HA test module (pytestmark): the cluster marker, skipped where no cluster can be built
CLUSTER_MARKS = [
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


def tail(result, n=6000):
    return 'ansible-playbook rc=%s, output ends with:\n%s' % (result.rc, result.output[-n:])


def play_ok(result):
    if result.rc != 0:
        pytest.fail(tail(result), pytrace=False)
    return result


def play_failed(result, *needles):
    """The play failed, and its output holds every needle."""
    if result.rc == 0:
        pytest.fail('the play succeeded, it should have failed.\n' + tail(result), pytrace=False)
    missing = [x for x in needles if x not in result.output]
    if missing:
        pytest.fail('the play failed, but its output lacks %s.\n%s' % (missing, tail(result)), pytrace=False)
    return result.output


def pg_records(manifest):
    return [r for r in manifest['artifacts'] if r['component'] == 'postgresql']


def assert_apps_running(c):
    since = time.time()
    for n in c.nodes:
        assert c.app_running(n), '%s: lifeboat-app is not running' % n.name
        assert c.heartbeat_written_after(n, since), '%s: no new heartbeat (last %s s ago)' % (n.name, c.heartbeat_age(n))
