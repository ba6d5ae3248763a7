# -*- coding: utf-8 -*-
"""Fixtures of the multi-node test cluster (netcluster.py).

``netcluster_session``: one 3-node cluster for the whole pytest session (brought up on first use, ~2-5 s).
``cluster``: the same cluster for one test, healed first (links up, nodes thawed, sshd and lifeboat-app
running, fault mounts gone, PostgreSQL back to primary node1 + streaming standby node2).
Tests skip with a clear reason when the machine cannot build it (not root, no ``ip netns``...).
"""

import os
import shutil
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import netcluster  # noqa: E402  pylint: disable=wrong-import-position
from halib import HA  # noqa: E402  pylint: disable=wrong-import-position


def pytest_configure(config):
    config.addinivalue_line('markers', 'cluster: needs the multi-node network-namespace test cluster (root)')


@pytest.fixture(scope='session')
def netcluster_session():
    reason = netcluster.unavailable_reason()
    if reason:
        pytest.skip(reason)
    netcluster.reap_stale()   # clusters of earlier runs that were killed before their teardown
    c = netcluster.Cluster(nodes=int(os.environ.get('LIFEBOAT_CLUSTER_NODES', '3')))
    c.up()
    try:
        yield c
    finally:
        c.down()


@pytest.fixture
def cluster(netcluster_session):
    c = netcluster_session
    c.heal()
    if c.with_postgresql:
        healthy = False
        try:
            healthy = (c.pg_primary == c.nodes[0].name and c.pg_running(c.nodes[0])
                       and not c.is_in_recovery(c.nodes[0]))
            if healthy and c.with_standby:
                healthy = c.pg_running(c.nodes[1]) and c.is_in_recovery(c.nodes[1])
        except netcluster.ClusterError:
            healthy = False
        if not healthy:
            c.reset_postgresql()
    c.clear_guards()
    for n in c.nodes:
        if c.with_app and not c.app_running(n):
            c.app('start', n)
    c.write_inventory()
    yield c
    c.heal()


@pytest.fixture
def ha(cluster):
    """The cluster for one HA test (test_ha*.py), seeded, with a store prefix of its own (removed after)."""
    prefix = 'ha-' + uuid.uuid4().hex[:8]
    h = HA(cluster, prefix)
    h.seed()
    yield h
    shutil.rmtree(str(cluster.shared_store / prefix), ignore_errors=True)
