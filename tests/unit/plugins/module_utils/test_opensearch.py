# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSearch pure logic, SigV4 signing with a fixed clock and credentials, and the REST client's failover and
error mapping (with a stand-in opener: the real HTTP paths run against real nodes in tests/integration/opensearch)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import io
import json

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DamagedError, DeniedError, LockedError, NotFoundError, UnreachableError)
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import client as os_client


# ---------------------------------------------------------------- names and expressions

def test_snapshot_name_round_trips_the_set_id():
    assert os_logic.snapshot_name('20261122T031500Z-nightly') == '20261122t031500z-nightly'
    assert os_logic.set_id_of('20261122t031500z-nightly') == '20261122T031500Z-nightly'
    assert os_logic.set_id_of('lb-20261122t031500z', 'lb-') == '20261122T031500Z'
    assert os_logic.set_id_of('20261122031500') is None  # one of Chef's own
    assert os_logic.set_id_of('other-20261122t031500z', 'lb-') is None


@pytest.mark.parametrize('bad', ['Upper', '_x', '-x', 'a b', 'a,b', 'a*', 'a/b', ''])
def test_bad_snapshot_names(bad):
    with pytest.raises(ConfigError):
        os_logic.validate_snapshot_name(bad)


def test_index_expression_and_selection():
    assert os_logic.index_expression(None, None) == '*'
    assert os_logic.index_expression(['logs-*', 'orders'], ['logs-debug-*']) == 'logs-*,orders,-logs-debug-*'
    with pytest.raises(ConfigError):
        os_logic.index_expression(['a,b'], [])
    names = ['orders', 'logs-1', 'logs-debug-1', '.hidden']
    assert os_logic.select_indices(names, ['logs-*'], ['logs-debug-*']) == ['logs-1']
    assert os_logic.select_indices(names, [], ['.*']) == ['logs-1', 'logs-debug-1', 'orders']


# ---------------------------------------------------------------- repositories

def test_repository_wanted_and_differences():
    wanted = os_logic.repository_wanted('fs', {'location': '/srv/r', 'compress': True})
    assert wanted == {'type': 'fs', 'settings': {'location': '/srv/r', 'compress': 'true'}}
    assert os_logic.repository_differences({'type': 'fs', 'settings': {'location': '/srv/r', 'compress': 'true'}},
                                           wanted) == []
    diffs = os_logic.repository_differences({'type': 'fs', 'settings': {'location': '/srv/x'}}, wanted)
    assert diffs == ['compress=true (is unset)', 'location=/srv/r (is /srv/x)']
    with pytest.raises(ConfigError, match='location'):
        os_logic.repository_wanted('fs', {})
    with pytest.raises(ConfigError, match='keystore'):
        os_logic.repository_wanted('s3', {'bucket': 'b', 'secret_key': 'x'})


def test_location_must_be_under_path_repo_of_every_node():
    repos = {'a': ['/mnt/automate_backups/opensearch'], 'b': ['/mnt/automate_backups/opensearch/']}
    assert os_logic.location_problems('/mnt/automate_backups/opensearch/automate-elasticsearch-data/x', repos) == []
    assert os_logic.location_problems('/mnt/automate_backups/opensearchX', repos) == [
        'node a has path.repo /mnt/automate_backups/opensearch', 'node b has path.repo /mnt/automate_backups/opensearch']
    assert os_logic.location_problems('/srv', {'a': []}) == ['node a has no path.repo setting']
    assert os_logic.location_problems('relative', {'a': ['/srv']}) == []


def test_path_repo_shapes():
    assert os_logic.path_repo_of({'settings': {'path': {'repo': ['/a', '/b']}}}) == ['/a', '/b']
    assert os_logic.path_repo_of({'settings': {'path': {'repo': '/a,/b'}}}) == ['/a', '/b']
    assert os_logic.path_repo_of({'settings': {}}) == []


def test_redact_settings():
    assert os_logic.redact_settings({'bucket': 'b', 'base_path': 'p', 'secret_key': 's'}) == {
        'bucket': 'b', 'base_path': 'p', 'secret_key': '<redacted>'}


# ---------------------------------------------------------------- errors

def _body(kind, reason):
    return {'error': {'root_cause': [{'type': kind, 'reason': reason}], 'type': kind, 'reason': reason}}


@pytest.mark.parametrize('status,kind,reason,cls', [
    (401, 'security_exception', 'Unauthorized', DeniedError),
    (403, 'security_exception', 'no permissions for [cluster:admin/snapshot/create]', DeniedError),
    (404, 'snapshot_missing_exception', '[r:s] is missing', NotFoundError),
    (500, 'repository_exception', "[r] location [/x] doesn't match any of the locations specified by path.repo",
     ConfigError),
    (503, 'concurrent_snapshot_execution_exception', 'cannot snapshot while a snapshot deletion is in-progress',
     LockedError),
    (503, 'master_not_discovered_exception', 'no master', UnreachableError),
])
def test_http_errors_are_typed(status, kind, reason, cls):
    err = os_logic.http_error(status, _body(kind, reason), 'PUT _snapshot/r/s')
    assert err.__class__ is cls
    assert 'PUT _snapshot/r/s' in err.msg
    if cls is ConfigError:
        assert 'path.repo' in err.msg


# ---------------------------------------------------------------- progress and outcome

def test_progress_while_running_and_done():
    running = {'state': 'STARTED', 'shards_stats': {'done': 2, 'failed': 0, 'total': 5},
               'stats': {'incremental': {'file_count': 10, 'size_in_bytes': 4096},
                         'processed': {'file_count': 3, 'size_in_bytes': 1024},
                         'total': {'file_count': 12, 'size_in_bytes': 8192}}}
    prog = os_logic.progress(running)
    assert (prog['shards_done'], prog['shards_total'], prog['bytes_done'], prog['bytes_total']) == (2, 5, 1024, 4096)
    assert os_logic.progress_text(prog) == '2/5 shards done, 1.0 KiB of 4.0 KiB'
    done = os_logic.progress({'state': 'SUCCESS', 'shards_stats': {'done': 5, 'total': 5},
                              'stats': {'incremental': {'size_in_bytes': 4096}, 'total': {'size_in_bytes': 8192}}})
    assert done['bytes_done'] == 4096 and done['size_total'] == 8192


def test_only_success_counts():
    assert os_logic.snapshot_outcome({'state': 'SUCCESS', 'shards': {'total': 3, 'failed': 0}}) is None
    partial = {'state': 'PARTIAL', 'shards': {'total': 2, 'failed': 1, 'successful': 1},
               'failures': [{'index': 'broken', 'shard_id': 0, 'reason': 'primary shard is not allocated',
                             'status': 'INTERNAL_SERVER_ERROR'}]}
    assert os_logic.snapshot_outcome(partial) == (
        'it ended PARTIAL (1 of 2 shards failed): [broken][0] primary shard is not allocated')
    assert 'FAILED' in os_logic.snapshot_outcome({'state': 'FAILED', 'reason': 'boom'})
    assert os_logic.snapshot_outcome({'state': 'IN_PROGRESS'}) == 'it is still IN_PROGRESS'


# ---------------------------------------------------------------- versions

OS2 = {'number': '2.19.6', 'distribution': 'opensearch', 'minimum_index_compatibility_version': '7.0.0'}
OS3 = {'number': '3.3.2', 'distribution': 'opensearch', 'minimum_index_compatibility_version': '2.0.0'}
ES8 = {'number': '8.15.0', 'minimum_index_compatibility_version': '7.0.0'}


@pytest.mark.parametrize('snap,cluster,ok', [
    ('2.19.6', OS2, True), ('1.3.20', OS2, True), ('7.10.2', OS2, True), ('3.3.2', OS2, False),
    ('8.1.0', OS2, False), ('2.11.0', OS3, True), ('1.3.20', OS3, False), ('7.10.2', OS3, False),
    ('7.17.0', ES8, True), ('2.19.6', ES8, False),
])
def test_version_compatibility(snap, cluster, ok):
    assert (os_logic.version_problem(snap, cluster) is None) is ok


# ---------------------------------------------------------------- restore plan, disk, counts

def test_restore_plan_in_place_renamed_and_refused():
    snap = ['orders', 'customers', 'logs-1']
    plan, problems = os_logic.restore_plan(snap, [], [], None, None, {'orders': 'open', 'logs-1': 'close'}, False, 'close')
    assert [p['action'] for p in plan] == ['create', 'refused', 'refused']
    assert len(problems) == 2 and 'index orders exists (open)' in problems[1]
    plan, problems = os_logic.restore_plan(snap, [], [], None, None, {'orders': 'open', 'logs-1': 'close'}, True, 'close')
    assert problems == [] and {p['index']: p['action'] for p in plan} == {
        'customers': 'create', 'logs-1': 'restore-closed', 'orders': 'close-and-restore'}
    plan, problems = os_logic.restore_plan(snap, ['orders'], [], '(.+)', 'restored-$1', {'orders': 'open'}, False, 'close')
    assert problems == [] and plan == [{'index': 'orders', 'target': 'restored-orders', 'exists': None, 'action': 'create'}]
    _plan, problems = os_logic.restore_plan(snap, ['nope'], [], None, None, {}, False, 'close')
    assert problems == ['the snapshot has no index nope (it has: customers, logs-1, orders)']
    _plan, problems = os_logic.restore_plan(snap, [], [], '.*', 'same', {}, False, 'close')
    assert any('would both be restored as same' in p for p in problems)


def test_watermarks_and_disk():
    assert os_logic.parse_watermark('90%') == ('percent', 90.0)
    assert os_logic.parse_watermark('0.85') == ('percent', 85.0)
    assert os_logic.parse_watermark('500mb') == ('bytes', 500 * 1024 ** 2)
    gib = 1024 ** 3
    nodes = {'a': (100 * gib, 50 * gib), 'b': (100 * gib, 50 * gib)}
    assert os_logic.disk_problems(nodes, '90%', 10 * gib) == []
    assert 'past the high disk watermark' in os_logic.disk_problems(nodes, '90%', 85 * gib)[0]
    assert 'above the high disk watermark (90%) already' in os_logic.disk_problems({'a': (100, 5)}, '90%', 0)[0]
    assert os_logic.disk_problems(nodes, '90%', 10 ** 15, threshold_enabled=False) == []


def test_count_mismatches():
    plan = [{'index': 'orders', 'target': 'restored-orders'}, {'index': 'c', 'target': 'c'}]
    assert os_logic.count_mismatches({'orders': {'docs': 5}, 'c': {'docs': 2}}, {'restored-orders': 5, 'c': 2}, plan) == []
    assert os_logic.count_mismatches({'orders': {'docs': 5}, 'c': {'docs': 2}}, {'restored-orders': 4}, plan) == [
        'restored-orders: 4 documents, the record says 5', 'c: not found after the restore']


def test_record_document_checked():
    doc = os_logic.record_document('20261122T031500Z', {'cluster_name': 'c', 'cluster_uuid': 'u',
                                                        'version': {'number': '2.19.6', 'distribution': 'opensearch'}},
                                   {'name': 'r', 'type': 'fs', 'settings': {'location': '/x'}},
                                   {'snapshot': 's', 'uuid': 'id', 'state': 'SUCCESS', 'indices': ['b', 'a']},
                                   {'size_total': 10, 'bytes_total': 5, 'files_total': 2}, {'a': {'docs': 1}}, True, 'n1')
    assert doc['snapshot']['indices'] == ['a', 'b'] and doc['cluster']['uuid'] == 'u'
    assert os_logic.check_document(doc, '20261122T031500Z') is doc
    with pytest.raises(DamagedError):
        os_logic.check_document(doc, '20261122T031501Z')


# ---------------------------------------------------------------- SigV4 with a fixed clock

def test_sigv4_signature_is_the_published_test_vector(monkeypatch):
    """AWS's SigV4 test suite, case get-vanilla: GET / on example.amazonaws.com, 2015-08-30 12:36:00 UTC."""
    pytest.importorskip('botocore')
    import botocore.auth
    from botocore.credentials import Credentials
    fixed = datetime.datetime(2015, 8, 30, 12, 36, 0)
    monkeypatch.setattr(botocore.auth, 'get_current_datetime', lambda *a, **k: fixed)
    creds = Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')
    headers = os_client.sigv4_headers('GET', 'https://example.amazonaws.com/', None, {}, creds, 'us-east-1', 'service')
    assert headers['X-Amz-Date'] == '20150830T123600Z'
    assert headers['Authorization'] == (
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, '
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')


def test_sigv4_signs_body_and_session_token(monkeypatch):
    pytest.importorskip('botocore')
    import botocore.auth
    from botocore.credentials import Credentials
    monkeypatch.setattr(botocore.auth, 'get_current_datetime', lambda *a, **k: datetime.datetime(2026, 11, 22, 3, 15))
    creds = Credentials('AKID', 'SECRET', 'TOKEN')
    one = os_client.sigv4_headers('PUT', 'https://d.eu-central-1.es.amazonaws.com/_snapshot/r', b'{"type":"s3"}',
                                  {'Content-Type': 'application/json'}, creds, 'eu-central-1', 'es')
    two = os_client.sigv4_headers('PUT', 'https://d.eu-central-1.es.amazonaws.com/_snapshot/r', b'{"type":"fs"}',
                                  {'Content-Type': 'application/json'}, creds, 'eu-central-1', 'es')
    assert one['X-Amz-Security-Token'] == 'TOKEN'
    assert 'content-type;host;x-amz-date;x-amz-security-token' in one['Authorization']
    assert '/20261122/eu-central-1/es/aws4_request' in one['Authorization']
    assert one['Authorization'] != two['Authorization']  # the body is signed
    aoss = os_client.sigv4_headers('GET', 'https://x.aoss.amazonaws.com/', None, {}, creds, 'eu-central-1', 'aoss')
    assert aoss['X-Amz-Content-SHA256'] == 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'


# ---------------------------------------------------------------- the client: failover and errors

class FakeResponse(object):
    def __init__(self, body):
        self.body = body

    def read(self):
        return self.body


class FakeOpener(object):
    """Stands in for module_utils.urls.Request: ``answers`` maps a host to a callable(method, url) -> bytes or raise."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def open(self, method, url, data=None, headers=None, timeout=None):
        self.calls.append((method, url, headers))
        host = url.split('/', 3)[2]
        return FakeResponse(self.answers[host](method, url))


def _refused(_method, _url):
    raise URLError(ConnectionRefusedError(111, 'Connection refused'))


def _ok(_method, _url):
    return b'{"cluster_name": "c", "version": {"number": "2.19.6"}}'


def test_failover_to_the_next_node_and_stick_to_it():
    opener = FakeOpener({'a:9200': _refused, 'b:9200': _ok})
    client = os_client.Client({'hosts': ['http://a:9200', 'http://b:9200/']}, opener=opener)
    assert client.call('GET', '/')['cluster_name'] == 'c'
    assert client.call('GET', '/_cluster/health') is not None
    assert [c[1] for c in opener.calls] == ['http://a:9200/', 'http://b:9200/', 'http://b:9200/_cluster/health']


def test_no_node_answers():
    client = os_client.Client({'hosts': ['http://a:9200', 'http://b:9200']},
                              opener=FakeOpener({'a:9200': _refused, 'b:9200': _refused}))
    with pytest.raises(UnreachableError, match='no OpenSearch node answered'):
        client.call('GET', '/')


def test_http_errors_are_answers_not_failover():
    def unauthorized(_method, url):
        raise HTTPError(url, 401, 'Unauthorized', {}, io.BytesIO(json.dumps(_body('security_exception', 'x')).encode()))
    opener = FakeOpener({'a:9200': unauthorized, 'b:9200': _ok})
    client = os_client.Client({'hosts': ['http://a:9200', 'http://b:9200'], 'username': 'u', 'password': 'p'}, opener=opener)
    with pytest.raises(DeniedError, match='HTTP 401'):
        client.call('GET', '/')
    assert len(opener.calls) == 1


def test_missing_is_none_when_asked():
    def missing(_method, url):
        raise HTTPError(url, 404, 'Not Found', {}, io.BytesIO(json.dumps(_body('snapshot_missing_exception', 'gone')).encode()))
    client = os_client.Client({'hosts': ['http://a:9200']}, opener=FakeOpener({'a:9200': missing}))
    assert client.call('GET', '/_snapshot/r/s', ok_missing=True) is None
    with pytest.raises(NotFoundError):
        client.call('GET', '/_snapshot/r/s')


@pytest.mark.parametrize('params,match', [
    ({'hosts': []}, 'at least one'),
    ({'hosts': ['search1:9200']}, 'not an http'),
    ({'hosts': ['http://a'], 'auth_type': 'basic'}, 'needs username'),
    ({'hosts': ['http://a'], 'auth_type': 'sigv4'}, 'needs aws_region'),
])
def test_bad_connection_options(params, match):
    with pytest.raises(ConfigError, match=match):
        os_client.Client(params, opener=FakeOpener({}))


def test_query_and_path_quoting():
    opener = FakeOpener({'a:9200': lambda m, u: b'{}'})
    client = os_client.Client({'hosts': ['http://a:9200']}, opener=opener)
    client.call('GET', os_client.path('logs-*,-logs-debug-*', '_stats', 'docs,store'),
                query={'expand_wildcards': 'open,hidden', 'ignore_unavailable': True})
    assert opener.calls[0][1] == ('http://a:9200/logs-*,-logs-debug-*/_stats/docs,store'
                                  '?expand_wildcards=open,hidden&ignore_unavailable=true')
