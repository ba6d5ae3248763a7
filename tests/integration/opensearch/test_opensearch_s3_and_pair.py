# -*- coding: utf-8 -*-
"""OpenSearch with an s3 repository (a real OpenSearch 3.3 node with repository-s3, against the moto server) and
a two-node cluster whose shards live on both nodes, snapshotted into a shared fs repository."""

import os
import uuid

import pytest

import awslib
import lifeboat_opensearch_conftest as oc
import osdata
import osnode
from osnode import rest


def test_s3_repository_round_trip(os3_node, moto, os_backup, os_call):
    bucket = 'os-' + uuid.uuid4().hex[:8]
    moto.client().create_bucket(Bucket=bucket)
    store = {'type': 's3', 'bucket': 'store-' + bucket, 'endpoint_url': moto.url, 'region': awslib.REGION,
             'access_key': awslib.KEY, 'secret_key': awslib.KEY, 'sse': 'none'}
    moto.client().create_bucket(Bucket=store['bucket'])
    before = osdata.fingerprint(os3_node.url)
    settings = {'bucket': bucket, 'base_path': 'search/automate-elasticsearch-data/lifeboat', 'client': oc.S3_CLIENT}
    out = os_backup(store, {'hosts': [os3_node.url], 'repository': 'lifeboat-s3', 'repository_type': 's3',
                            'repository_settings': settings, 'exclude': ['.*']})
    assert out['ok'], out['msg']
    assert out['backup']['cluster']['version'].startswith('3.')
    keys = [o['Key'] for o in moto.client().list_objects_v2(Bucket=bucket).get('Contents', [])]
    assert any(k.startswith('search/automate-elasticsearch-data/lifeboat/index-') for k in keys), keys

    refused = os_call('restore', {'hosts': [os3_node.url], 'store': store, 'set_id': out['set_id'],
                                  'repository_settings': dict(settings, access_key='AKIA-NOT-HERE'),
                                  'repository_type': 's3'})
    assert not refused['ok'] and 'belong in the keystore' in refused['msg']

    rest(os3_node.url, 'DELETE', '/orders')
    done = os_call('restore', {'hosts': [os3_node.url], 'store': store, 'set_id': out['set_id'], 'force': True,
                               'existing': 'delete'})
    assert done['ok'], done['msg']
    assert osdata.fingerprint(os3_node.url) == before
    actions = sorted(p['action'] for p in done['result']['plan'])
    assert actions == ['create', 'delete-and-restore', 'delete-and-restore']


@pytest.fixture(scope='module')
def os_pair(os_base, os_repo_root):
    cluster = osnode.OsCluster(os_base, ['pair-a', 'pair-b'], [os_repo_root], cluster_name='lifeboat-pair')
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


def test_two_node_cluster_shards_on_both_nodes(os_pair, os_repo_root, scratch, os_backup, os_call):
    url = os_pair.url
    rest(url, 'PUT', '/spread', {'settings': {'number_of_shards': 4, 'number_of_replicas': 1}})
    osdata.bulk(url, 'spread', 4000)
    rest(url, 'GET', '/_cluster/health/spread?wait_for_status=green&timeout=60s')
    shards = rest(url, 'GET', '/_cat/shards/spread?format=json&h=node,prirep')
    assert {s['node'] for s in shards if s['prirep'] == 'p'} == {'pair-a', 'pair-b'}  # primaries on both nodes
    store = {'type': 'filesystem', 'path': str(scratch / 'store')}
    location = os.path.join(os_repo_root, 'pair-' + uuid.uuid4().hex[:6])
    args = {'hosts': os_pair.urls, 'repository': 'shared', 'repository_type': 'fs',
            'repository_settings': {'location': location}, 'indices': ['spread']}
    out = os_backup(store, args)
    assert out['ok'], out['msg']
    assert out['backup']['repository']['verified_nodes'] == ['pair-a', 'pair-b']
    assert out['backup']['snapshot']['shards'] == {'total': 4, 'successful': 4, 'failed': 0}
    assert oc.set_status(store, out['set_id']) == ('completed', True)
    rest(url, 'DELETE', '/spread')
    done = os_call('restore', {'hosts': list(reversed(os_pair.urls)), 'store': store, 'set_id': out['set_id'],
                               'wait_for_status': 'green'})
    assert done['ok'], done['msg']
    assert done['result']['counts'] == {'spread': 4000}
    assert done['result']['recovery']['health'] == 'green'
