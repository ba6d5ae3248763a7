# -*- coding: utf-8 -*-
"""The test cluster itself works: real SSH + Ansible to every node, PostgreSQL streaming replication, the
application service through init.d, private node state, a shared store directory, and the fault helpers.
No lifeboat code is exercised here (see test_ha.py)."""

import json
import pathlib
import time

import pytest

import netcluster

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(netcluster.unavailable_reason() is not None,
                       reason=netcluster.unavailable_reason() or 'cluster available'),
]


def _ok(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_ansible_reaches_every_node_over_ssh(cluster):
    out = _ok(cluster.ansible('cluster', 'ansible.builtin.setup',
                              'filter=ansible_hostname,ansible_service_mgr,ansible_default_ipv4'))
    for n in cluster.nodes:
        assert '%s | SUCCESS' % n.name in out
        assert '"ansible_hostname": "%s"' % n.name in out
        assert '"address": "%s"' % n.ip in out
    assert 'systemd' not in out  # the service module falls back to init.d scripts
    # strict host key checking is on: a node presenting another key is refused
    assert 'StrictHostKeyChecking yes' in cluster.ssh_config.read_text()


def test_postgresql_streams_from_primary_to_standby(cluster):
    primary, standby = cluster.nodes[0], cluster.nodes[1]
    assert not cluster.is_in_recovery(primary)
    assert cluster.is_in_recovery(standby)
    cluster.psql(primary, 'DROP DATABASE IF EXISTS smoke')
    cluster.psql(primary, 'CREATE DATABASE smoke')
    cluster.psql(primary, 'CREATE TABLE t(i int); INSERT INTO t SELECT generate_series(1, 500)', db='smoke')
    cluster.wait_replayed(standby)
    assert cluster.psql(standby, 'SELECT sum(i) FROM t', db='smoke') == str(sum(range(1, 501)))
    cluster.psql(primary, 'DROP DATABASE smoke')


def test_app_service_is_driven_by_ansible_service_module(cluster):
    _ok(cluster.ansible('cluster', 'ansible.builtin.service', 'name=lifeboat-app state=stopped'))
    assert not any(cluster.app_running(n) for n in cluster.nodes)
    _ok(cluster.ansible('cluster', 'ansible.builtin.service', 'name=lifeboat-app state=started'))
    assert all(cluster.app_running(n) for n in cluster.nodes)
    since = time.time()
    assert all(cluster.heartbeat_written_after(n, since) for n in cluster.nodes)
    assert not pathlib.Path('/etc/init.d/lifeboat-app').exists()  # only the nodes see it


def test_nodes_have_private_state_and_a_shared_store(cluster):
    a, b = cluster.nodes[0], cluster.nodes[1]
    cluster.sh(a, 'echo a > /srv/only-on-a; echo shared > /srv/backup/smoke; mkdir -p /var/lib/lifeboat; '
                  'echo g > /var/lib/lifeboat/smoke; echo t > /tmp/smoke')
    try:
        out = cluster.sh(b, 'cat /srv/backup/smoke; test ! -e /srv/only-on-a && test ! -e /var/lib/lifeboat/smoke '
                            '&& test ! -e /tmp/smoke && echo private').stdout.split()
        assert out == ['shared', 'private']
        assert not pathlib.Path('/var/lib/lifeboat/smoke').exists()
        assert cluster.sh(b, 'hostname').stdout.strip() == b.name
    finally:
        cluster.sh(a, 'rm -f /srv/only-on-a /srv/backup/smoke /var/lib/lifeboat/smoke /tmp/smoke')


def test_fault_helpers(cluster):
    n3 = cluster.nodes[2]
    cluster.kill_ssh_masters()
    cluster.link_down(n3)
    proc = cluster.ansible(n3.name, 'ansible.builtin.ping')
    assert proc.returncode != 0 and 'UNREACHABLE' in proc.stdout
    cluster.heal()
    _ok(cluster.ansible(n3.name, 'ansible.builtin.ping'))
    # the default route is back (facts need it)
    assert '"address": "%s"' % n3.ip in _ok(cluster.ansible(n3.name, 'ansible.builtin.setup',
                                                            'filter=ansible_default_ipv4'))
    cluster.stop_sshd(n3)
    proc = cluster.ansible(n3.name, 'ansible.builtin.ping')
    assert proc.returncode != 0 and 'UNREACHABLE' in proc.stdout
    cluster.heal()
    cluster.fill_disk(n3, '/srv/stage', '2m', free_kb=64)
    df = cluster.sh(n3, 'df -k --output=avail /srv/stage | tail -1').stdout.split()
    assert int(df[0]) <= 128
    cluster.heal()
    assert cluster.sh(n3, 'mountpoint -q /srv/stage || echo unmounted').stdout.strip() == 'unmounted'


def test_inventory_follows_the_contract(cluster):
    inv = json.loads(cluster.inventory.read_text())
    group = inv['all']['children']['cluster']
    assert sorted(group['hosts']) == [n.name for n in cluster.nodes]
    assert group['vars']['lifeboat_store'] == {'type': 'filesystem', 'path': netcluster.STORE_PATH}
    pg = [h for h, v in group['hosts'].items() if 'lifeboat_postgresql' in v]
    assert pg == ['node1', 'node2']
    assert {group['hosts'][h]['lifeboat_postgresql']['cluster'] for h in pg} == {'pg1'}
    for v in group['hosts'].values():
        assert v['lifeboat_services'] == ['lifeboat-app']
