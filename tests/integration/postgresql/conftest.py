# -*- coding: utf-8 -*-
"""Fixtures of the PostgreSQL component tests: real PostgreSQL 15 servers (pgserver.py) and playbook helpers.

``pg_src``      one server per test module, loaded with the test dataset (exotic names, roles, 1M rows...)
``pg_fresh``    a new empty server for one test (restore onto a fresh server)
``pg_password`` a new empty server with scram-sha-256 authentication (wrong-password test)
``fs_store``    a filesystem store in a scratch dir
``pg_backup`` / ``pg_restore`` run the harness playbooks and return (PlaybookResult, outcome dict)
"""

import hashlib
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pgserver  # noqa: E402  pylint: disable=wrong-import-position
from pgdata import EXOTIC, MIXED, PLAIN, fingerprint, load_dataset, run_harness  # noqa: E402  pylint: disable=wrong-import-position


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope='session')
def pg_available():
    reason = pgserver.available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope='session')
def pg_root(pg_available):
    root = pgserver.base_dir()
    yield root
    subprocess.run(['rm', '-rf', '--one-file-system', str(root)], check=False)


@pytest.fixture(scope='module')
def pg_src(pg_root, request):
    s = pgserver.PgServer(pg_root, name='src-' + request.module.__name__.split('.')[-1])
    try:
        s.init().start()
        load_dataset(s)
        yield s
    finally:
        s.destroy()


@pytest.fixture
def pg_factory(pg_root, request):
    """new(password=None, peer=False) -> a started, empty server, destroyed at teardown (for tests needing several)."""
    made = []
    tag = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]

    def new(password=None, peer=False):
        s = pgserver.PgServer(pg_root, name='%s-%s-%d' % ('pw' if password else 'fresh', tag, len(made)),
                              password=password, peer=peer)
        made.append(s)
        return s.init().start()
    try:
        yield new
    finally:
        for s in made:
            s.destroy()


@pytest.fixture
def pg_fresh(pg_factory):
    return pg_factory()


@pytest.fixture
def pg_password(pg_factory):
    return pg_factory(password='right-password')


@pytest.fixture
def fs_store(scratch):
    d = scratch / 'store'
    d.mkdir()
    return {'type': 'filesystem', 'path': str(d)}


@pytest.fixture
def pg_backup(scratch):
    def backup(store, server, check=False, **args):
        a = server.conn_params()
        a.update(args)
        return run_harness('pg_backup.yml', store, a, scratch, check=check)
    return backup


@pytest.fixture
def pg_restore(scratch):
    def restore(store, server, check=False, **args):
        a = server.conn_params()
        a.update(args)
        return run_harness('pg_restore.yml', store, a, scratch, check=check)
    return restore


@pytest.fixture(scope='module')
def backed_up(pg_src, pg_root, request):
    """One backup set of pg_src (every database + globals) in a filesystem store shared by the module:
    (store, outcome, {db: fingerprint at backup time})."""
    d = pg_root / ('store-' + request.module.__name__.split('.')[-1])
    d.mkdir()
    store = {'type': 'filesystem', 'path': str(d)}
    fps = {db: fingerprint(pg_src, db) for db in (EXOTIC, MIXED, PLAIN)}
    out = run_harness('pg_backup.yml', store, pg_src.conn_params(), pg_root)
    assert out['ok'], out.run
    return store, out, fps
