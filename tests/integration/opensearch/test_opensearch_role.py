# -*- coding: utf-8 -*-
"""The OpenSearch part of the backup and restore roles, through playbooks/backup.yml and restore.yml, with the
chef_automate_ha profile: two search nodes of one cluster (one snapshot per set, taken from one of them),
lifeboat's repository found beside Chef Automate's own (discovered with GET _snapshot), fs under the
filesystem store's path and s3 against moto; restore in place with force inside the restore order."""

import json
import os
import uuid

import awslib
import lifeboat_opensearch_conftest as oc
import osdata
from osnode import rest

CHEF_SERVICES = ['automate-cs-oc-erchef', 'compliance-service', 'event-feed-service', 'ingest-service']


def _inventory(scratch, hosts):
    path = scratch / 'inventory.ini'
    path.write_text('[opensearch]\n' + ''.join('%s ansible_connection=local\n' % h for h in hosts))
    return str(path)


def _manifest(store, set_id):
    with open(os.path.join(store['path'], set_id, 'manifest.json')) as f:
        return json.load(f)


def _newest_set(store):
    return sorted(s for s in os.listdir(store['path']) if s[:8].isdigit())[-1]


def test_chef_profile_fs_round_trip(os_node, os_repo_root, scratch):
    # Chef Automate's layout: the store on the backup mount, path.repo below it, one repository per service
    store = {'type': 'filesystem', 'path': os.path.join(os_repo_root, 'mnt-' + uuid.uuid4().hex[:6])}
    chef_root = os.path.join(store['path'], 'opensearch', 'automate-elasticsearch-data')
    for service in CHEF_SERVICES:
        name = 'chef-automate-es6-' + service
        rest(os_node.url, 'PUT', '/_snapshot/' + name, {'type': 'fs', 'settings': {'location': os.path.join(chef_root, name)}})
    inventory = _inventory(scratch, ['search2', 'search1'])
    extra = {'lifeboat_store': store, 'lifeboat_profile': 'chef_automate_ha', 'lifeboat_label': 'chef',
             'lifeboat_opensearch': {'hosts': [os_node.url], 'password': 'not-checked-by-the-test-node'}}
    before = osdata.fingerprint(os_node.url)
    try:
        res = oc.run_playbook('backup.yml', inventory=inventory, extra_vars=extra)
        assert res.rc == 0, res
        set_id = _newest_set(store)
        manifest = _manifest(store, set_id)
        records = [a for a in manifest['artifacts'] if a['component'] == 'opensearch']
        assert [(a['host'], a['name']) for a in records] == [('search1', 'chef-automate-opensearch')]  # once per cluster
        assert records[0]['extra']['repository'] == 'lifeboat'
        assert records[0]['extra']['indices'] == len(osdata.NAMES)
        assert rest(os_node.url, 'GET', '/_snapshot/lifeboat')['lifeboat']['settings']['location'] == os.path.join(chef_root, 'lifeboat')
        assert 'not-checked-by-the-test-node' not in res.output

        rest(os_node.url, 'DELETE', '/orders')
        rest(os_node.url, 'DELETE', '/customers/_doc/3?refresh=true')
        res = oc.run_playbook('restore.yml', inventory=inventory, extra_vars=dict(
            extra, lifeboat_set_id=set_id, lifeboat_restore_force=True))
        assert res.rc == 0, res
        assert 'Search cluster chef-automate-opensearch is restored on search1' in res.output
        assert osdata.fingerprint(os_node.url) == before
    finally:
        for service in CHEF_SERVICES:
            rest(os_node.url, 'DELETE', '/_snapshot/chef-automate-es6-' + service)


def test_chef_profile_s3_round_trip(os3_node, moto, scratch):
    bucket = 'chef-' + uuid.uuid4().hex[:8]
    s3 = moto.client()
    s3.create_bucket(Bucket=bucket)
    store = {'type': 's3', 'bucket': bucket + '-store', 'endpoint_url': moto.url, 'region': awslib.REGION,
             'access_key': awslib.KEY, 'secret_key': awslib.KEY, 'sse': 'none'}
    s3.create_bucket(Bucket=store['bucket'])
    name = 'chef-automate-es6-ingest-service'
    rest(os3_node.url, 'PUT', '/_snapshot/' + name, {'type': 's3', 'settings': {
        'bucket': bucket, 'client': oc.S3_CLIENT, 'base_path': 'automate/automate-elasticsearch-data/' + name}})
    inventory = _inventory(scratch, ['search1'])
    extra = {'lifeboat_store': store, 'lifeboat_profile': 'chef_automate_ha',
             'lifeboat_opensearch': {'hosts': [os3_node.url]}}
    before = osdata.fingerprint(os3_node.url)
    try:
        res = oc.run_playbook('backup.yml', inventory=inventory, extra_vars=extra)
        assert res.rc == 0, res
        lifeboat_repo = rest(os3_node.url, 'GET', '/_snapshot/lifeboat')['lifeboat']
        assert lifeboat_repo['settings']['base_path'] == 'automate/automate-elasticsearch-data/lifeboat'
        assert lifeboat_repo['settings']['bucket'] == bucket
        rest(os3_node.url, 'DELETE', '/logs-2026.11')
        res = oc.run_playbook('restore.yml', inventory=inventory, extra_vars=dict(
            extra, lifeboat_restore_force=True, lifeboat_restore_opensearch={'existing': 'delete'}))
        assert res.rc == 0, res
        assert osdata.fingerprint(os3_node.url) == before
    finally:
        rest(os3_node.url, 'DELETE', '/_snapshot/' + name)
        rest(os3_node.url, 'DELETE', '/_snapshot/lifeboat')
