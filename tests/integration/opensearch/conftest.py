# -*- coding: utf-8 -*-
"""Fixtures of the OpenSearch tests: real OpenSearch nodes (osnode.py) on loopback, the data set, harness playbooks.

``os_node``    one OpenSearch 2.19 node for the whole session, loaded with the data set (osdata.py);
               its path.repo is ``os_repo_root``, under which each test makes its own repository directory
``os_fresh``   a new empty node for one test (restore into a fresh cluster, the DR case)
``os3_node``   one OpenSearch 3.3 node with repository-s3 for the session, its S3 client ``S3_CLIENT`` on ``moto``
``os_call``    run one module through os_module.yml: os_call('snapshot', args) -> outcome dict
``os_backup``  a backup set holding one snapshot, through os_backup.yml -> outcome dict
Nodes start once per session where they can: a start costs 6-12 s on two busy cores.
"""

import json
import os
import shutil
import sys
import tempfile
import uuid

import pytest

# the tests of this directory import this module by a name of its own (`import conftest` finds whichever
# conftest.py pytest loaded last)
sys.modules.setdefault('lifeboat_opensearch_conftest', sys.modules[__name__])

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import awslib  # noqa: E402  pylint: disable=wrong-import-position
import osdata  # noqa: E402  pylint: disable=wrong-import-position
import osnode  # noqa: E402  pylint: disable=wrong-import-position


def _top_conftest():
    mod = sys.modules.get('lifeboat_tests_conftest')
    if mod is None:
        import importlib.util
        spec = importlib.util.spec_from_file_location('lifeboat_tests_conftest', os.path.join(HERE, '..', '..', 'conftest.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules['lifeboat_tests_conftest'] = mod
    return mod


run_playbook = _top_conftest().run_playbook


@pytest.fixture(scope='session')
def os_base():
    reason = osnode.unavailable('os2')
    if reason:
        pytest.skip('no OpenSearch test node: %s' % reason)
    root = os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests')
    os.makedirs(root, exist_ok=True)
    base = tempfile.mkdtemp(prefix='opensearch-', dir=root)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope='session')
def os_repo_root(os_base):
    path = os.path.join(os_base, 'repos')
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope='session')
def os_node(os_base, os_repo_root):
    node = osnode.OsNode(os_base, 'node1', [os_repo_root], cluster_name='lifeboat-src')
    try:
        node.start()
        osdata.load(node.url)
        yield node
    finally:
        node.destroy()


@pytest.fixture
def os_fresh(os_base, os_repo_root):
    node = osnode.OsNode(os_base, 'fresh-' + uuid.uuid4().hex[:6], [os_repo_root], cluster_name='lifeboat-dr')
    try:
        yield node.start()
    finally:
        node.destroy()


@pytest.fixture
def repo_dir(os_repo_root):
    """A new repository directory under path.repo (and a unique repository name)."""
    name = 'r-' + uuid.uuid4().hex[:8]
    path = os.path.join(os_repo_root, name)
    return name, path


@pytest.fixture
def fs_store(scratch):
    path = scratch / 'store'
    return {'type': 'filesystem', 'path': str(path)}


S3_CLIENT = 'lifeboat'


@pytest.fixture(scope='session')
def moto():
    server = awslib.Moto()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def os3_node(os_base, os_repo_root, moto):
    """OpenSearch 3.3 (Maven Central serves repository-s3 from 3.x on): the S3 client's endpoint is a node
    setting, its keys are secure settings handed over like a keystore (never repository settings)."""
    reason = osnode.unavailable('os3')
    if reason:
        pytest.skip('no OpenSearch 3 test node: %s' % reason)
    prefix = 's3.client.%s.' % S3_CLIENT
    node = osnode.OsNode(os_base, 'node-s3', [os_repo_root], line='os3', cluster_name='lifeboat-s3',
                         settings={prefix + 'endpoint': '127.0.0.1:%d' % moto.port, prefix + 'protocol': 'http',
                                   prefix + 'path_style_access': True, prefix + 'region': awslib.REGION},
                         secure={prefix + 'access_key': awslib.KEY, prefix + 'secret_key': awslib.KEY})
    try:
        node.start()
        osdata.load(node.url)
        yield node
    finally:
        node.destroy()


def _outcome(result_file, res):
    if not os.path.exists(result_file):
        raise AssertionError('the harness wrote no outcome:\n%s' % res.output[-8000:])
    with open(result_file) as f:
        out = json.load(f)
    out['playbook'] = res
    return out


@pytest.fixture
def os_call(scratch):
    def call(module, args, check=False, verbose=False):
        result_file = str(scratch / ('out-%s.json' % uuid.uuid4().hex[:6]))
        res = run_playbook(os.path.join(HERE, 'os_module.yml'), check=check, args=['-vvv'] if verbose else [],
                           extra_vars={'os_module': module, 'os_args': args, 'result_file': result_file})
        return _outcome(result_file, res)
    return call


@pytest.fixture
def os_backup(scratch):
    def backup(store, args, check=False):
        result_file = str(scratch / ('backup-%s.json' % uuid.uuid4().hex[:6]))
        res = run_playbook(os.path.join(HERE, 'os_backup.yml'), check=check,
                           extra_vars={'lifeboat_store': store, 'os_args': args, 'result_file': result_file})
        return _outcome(result_file, res)
    return backup


def set_status(store, set_id):
    """(status, manifest exists) of a set in a filesystem store."""
    path = os.path.join(store['path'], set_id)
    with open(os.path.join(path, 'status.json')) as f:
        status = json.load(f)['status']
    return status, os.path.exists(os.path.join(path, 'manifest.json'))
