# -*- coding: utf-8 -*-
"""OpenSearch faults on a real node: each is one clear error and no completed set (docs/faults.md)."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import lifeboat_opensearch_conftest as oc
from awslib import free_port
from osnode import RestError, rest


def _args(node, name, path, **kw):
    args = {'hosts': [node.url], 'repository': name, 'repository_type': 'fs', 'repository_settings': {'location': path}}
    args.update(kw)
    return args


def _failed_set(store, out):
    """The set the harness started is failed and has no manifest."""
    assert oc.set_status(store, out['set_id']) == ('failed', False)


def test_location_outside_path_repo(os_node, fs_store, os_backup, scratch):
    out = os_backup(fs_store, _args(os_node, 'outside', str(scratch / 'not-in-path-repo')))
    assert not out['ok']
    assert 'is not under path.repo of every node' in out['msg'] and 'node node1 has path.repo' in out['msg']
    _failed_set(fs_store, out)
    with pytest.raises(RestError):
        rest(os_node.url, 'GET', '/_snapshot/outside')


def test_node_down_and_failover(os_node, repo_dir, fs_store, os_backup):
    name, path = repo_dir
    dead = 'http://127.0.0.1:%d' % free_port()
    out = os_backup(fs_store, _args(os_node, name, path, hosts=[dead], request_timeout=5))
    assert not out['ok']
    assert 'no OpenSearch node answered' in out['msg'] and dead in out['msg']
    _failed_set(fs_store, out)
    # the second URL answers: the snapshot is taken through it
    out = os_backup(fs_store, _args(os_node, name, path, hosts=[dead, os_node.url], indices=['customers']))
    assert out['ok'], out['msg']
    assert oc.set_status(fs_store, out['set_id']) == ('completed', True)


class _Refuse(BaseHTTPRequestHandler):
    """What the security plugin answers a wrong password with (HTTP 401 and its JSON body)."""
    seen = []

    def do_GET(self):  # noqa: N802
        _Refuse.seen.append(self.headers.get('Authorization'))
        body = json.dumps({'error': {'root_cause': [{'type': 'security_exception', 'reason': 'Unauthorized'}],
                                     'type': 'security_exception', 'reason': 'Unauthorized'}, 'status': 401}).encode()
        self.send_response(401)
        self.send_header('WWW-Authenticate', 'Basic realm="OpenSearch Security"')
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_GET  # noqa: N815

    def log_message(self, *_args):
        pass


def test_wrong_password(fs_store, os_backup, os_call):
    """The test node runs without the security plugin and ignores credentials, so a wrong password cannot be
    refused by it: a loopback stand-in answers like the security plugin does (401 + its JSON body)."""
    server = HTTPServer(('127.0.0.1', 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    url = 'http://127.0.0.1:%d' % server.server_port
    secret = 'wrong-' + uuid.uuid4().hex
    try:
        out = os_backup(fs_store, {'hosts': [url], 'repository': 'r', 'username': 'admin', 'password': secret})
        assert not out['ok']
        assert 'HTTP 401' in out['msg'] and 'credentials were not accepted' in out['msg']
        _failed_set(fs_store, out)
        assert _Refuse.seen and all(h and h.startswith('Basic ') for h in _Refuse.seen)
        info = os_call('info', {'hosts': [url], 'username': 'admin', 'password': secret}, verbose=True)
        assert not info['ok'] and 'HTTP 401' in info['msg']
        assert secret not in info['playbook'].output  # no_log, even at -vvv
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def slow_repo(os_node, repo_dir):
    """A repository throttled to 5 KB/s, so a snapshot of the data set runs for minutes (and an abort is
    noticed within a second or so)."""
    name, path = repo_dir
    rest(os_node.url, 'PUT', '/_snapshot/' + name, {'type': 'fs', 'settings': {
        'location': path, 'max_snapshot_bytes_per_sec': '5kb', 'compress': False}})
    yield name, path
    for snap in (rest(os_node.url, 'GET', '/_snapshot/%s/_all' % name).get('snapshots') or []):
        rest(os_node.url, 'DELETE', '/_snapshot/%s/%s' % (name, snap['snapshot']))
    rest(os_node.url, 'DELETE', '/_snapshot/' + name)


def test_snapshot_already_running(os_node, slow_repo, repo_dir, fs_store, os_backup):
    slow, _path = slow_repo
    rest(os_node.url, 'PUT', '/_snapshot/%s/someone-elses?wait_for_completion=false' % slow, {'indices': '*'})
    other_name, other_path = 'other-' + repo_dir[0], repo_dir[1] + '-other'
    out = os_backup(fs_store, _args(os_node, other_name, other_path, indices=['customers']))
    assert not out['ok']
    assert 'another snapshot is running on the cluster (someone-elses in repository %s' % slow in out['msg']
    _failed_set(fs_store, out)
    with pytest.raises(RestError):
        rest(os_node.url, 'GET', '/_snapshot/%s' % other_name)  # refused before the repository was touched


def test_wait_timeout_then_absent_aborts(os_node, slow_repo, fs_store, os_backup, os_call):
    slow, _path = slow_repo
    out = os_backup(fs_store, {'hosts': [os_node.url], 'repository': slow, 'wait_timeout': 3})
    assert not out['ok']
    assert 'timed out after 3 seconds waiting for snapshot' in out['msg'] and 'shards done' in out['msg']
    _failed_set(fs_store, out)
    name = out['set_id'].lower()
    assert rest(os_node.url, 'GET', '/_snapshot/%s/%s/_status' % (slow, name))['snapshots'][0]['state'] in ('STARTED', 'IN_PROGRESS')
    gone = os_call('snapshot', {'hosts': [os_node.url], 'repository': slow, 'state': 'absent', 'set_id': out['set_id']})
    assert gone['ok'], gone['msg']
    assert gone['result']['deleted'] == [name]
    with pytest.raises(RestError):
        rest(os_node.url, 'GET', '/_snapshot/%s/%s' % (slow, name))


@pytest.fixture
def broken_index(os_node):
    """An index whose primary cannot be assigned (allocation filtered to a node that does not exist)."""
    settings = {'number_of_shards': 1, 'number_of_replicas': 0, 'index.routing.allocation.require._name': 'nowhere'}
    rest(os_node.url, 'PUT', '/broken?wait_for_active_shards=0', {'settings': settings})
    yield 'broken'
    rest(os_node.url, 'DELETE', '/broken')


def test_unassigned_primary_refused_and_partial_not_recorded(os_node, repo_dir, broken_index, fs_store, os_backup, os_call):
    name, path = repo_dir
    out = os_backup(fs_store, _args(os_node, name, path, indices=['customers', broken_index]))
    assert not out['ok']
    assert 'could not be started' in out['msg'] and "Indices don't have primary shards [broken]" in out['msg']
    _failed_set(fs_store, out)
    # a snapshot of this set's name that really ended PARTIAL (taken with partial=true behind lifeboat's back)
    set_id = '20261201T101500Z-partial'
    answer = rest(os_node.url, 'PUT', '/_snapshot/%s/%s?wait_for_completion=true' % (name, set_id.lower()),
                  {'indices': 'customers,broken', 'partial': True})
    assert answer['snapshot']['state'] == 'PARTIAL'
    got = os_call('snapshot', {'hosts': [os_node.url], 'repository': name, 'set_id': set_id, 'indices': ['customers']})
    assert not got['ok']
    assert 'is not usable: it ended PARTIAL (1 of 2 shards failed): [broken][0]' in got['msg']
    assert got['result']['records'] == []


def test_snapshot_deleted_behind_the_sets_back(os_node, repo_dir, fs_store, os_backup, os_call):
    name, path = repo_dir
    out = os_backup(fs_store, _args(os_node, name, path, indices=['customers']))
    assert out['ok'], out['msg']
    rest(os_node.url, 'DELETE', '/_snapshot/%s/%s' % (name, out['set_id'].lower()))
    before = rest(os_node.url, 'GET', '/customers/_count')['count']
    got = os_call('restore', {'hosts': [os_node.url], 'store': fs_store, 'set_id': out['set_id'], 'force': True})
    assert not got['ok']
    assert 'refused before anything changed' in got['msg']
    assert 'is not in repository %s although set %s recorded it' % (name, out['set_id']) in got['msg']
    assert rest(os_node.url, 'GET', '/customers/_count')['count'] == before
    assert rest(os_node.url, 'GET', '/_cat/indices/customers?format=json')[0]['status'] == 'open'


def test_snapshot_of_an_open_set_only(os_node, repo_dir, fs_store, os_call):
    """record_in_set into a set that was never started: refused before any snapshot is taken."""
    name, path = repo_dir
    got = os_call('snapshot', _args(os_node, name, path, set_id='20261201T101600Z', record_in_set=True,
                                    store=fs_store, indices=['customers']))
    assert not got['ok'] and 'does not exist' in got['msg']
    with pytest.raises(RestError):
        rest(os_node.url, 'GET', '/_snapshot/%s' % name)
