# -*- coding: utf-8 -*-
"""OpenSearch round trips on a real node: snapshot into a set (fs repository), info, restore in place with
force, renamed beside the originals, into a fresh node (DR), check mode of both."""

import pytest

import lifeboat_opensearch_conftest as oc
import osdata
from osnode import RestError, rest


def _args(node, repo_name, repo_path, **kw):
    args = {'hosts': [node.url], 'repository': repo_name, 'repository_type': 'fs',
            'repository_settings': {'location': repo_path}}
    args.update(kw)
    return args


def test_snapshot_info_restore_in_place_and_renamed(os_node, repo_dir, fs_store, os_backup, os_call):
    name, path = repo_dir
    before = osdata.fingerprint(os_node.url)
    out = os_backup(fs_store, _args(os_node, name, path, exclude=['.*']))
    assert out['ok'], out['msg']
    set_id = out['set_id']
    assert oc.set_status(fs_store, set_id) == ('completed', True)
    backup = out['backup']
    assert backup['snapshot']['state'] == 'SUCCESS'
    assert backup['snapshot']['name'] == set_id.lower()
    assert sorted(backup['snapshot']['indices']) == osdata.NAMES
    assert backup['indices']['orders']['docs'] == 3000 * 3  # nested documents count as Lucene documents
    assert backup['indices']['customers']['docs'] == 1500
    assert backup['indices']['orders']['aliases'] == ['big-orders', 'orders-current']
    assert backup['counts_stable'] is True
    assert backup['repository']['verified_nodes'] == ['node1']
    record = backup['records'][0]
    assert record['component'] == 'opensearch' and record['artifact_kind'] == 'opensearch-snapshot'
    assert record['extra']['snapshot_uuid'] == backup['snapshot']['uuid']
    assert record['extra']['cluster_uuid'] == backup['cluster']['uuid']

    info = os_call('info', {'hosts': [os_node.url], 'repository': name, 'set_id': set_id})
    assert info['ok'], info['msg']
    assert [s['state'] for s in info['result']['snapshots']] == ['SUCCESS']
    assert info['result']['snapshots'][0]['set_id'] == set_id

    # change things: a deleted document, a dropped alias, an index removed
    rest(os_node.url, 'DELETE', '/customers/_doc/7?refresh=true')
    rest(os_node.url, 'POST', '/_aliases', {'actions': [{'remove': {'index': 'orders', 'alias': 'orders-current'}}]})
    rest(os_node.url, 'DELETE', '/logs-2026.11')

    restore = {'hosts': [os_node.url], 'store': fs_store, 'set_id': set_id}
    refused = os_call('restore', restore)
    assert not refused['ok']
    assert 'was refused before anything changed' in refused['msg']
    assert 'index customers exists (open)' in refused['msg'] and 'index orders exists (open)' in refused['msg']
    assert rest(os_node.url, 'GET', '/customers/_count')['count'] == 1499  # nothing changed

    plan = os_call('restore', dict(restore, force=True), check=True)
    assert plan['ok'], plan['msg']
    actions = {p['target']: p['action'] for p in plan['result']['plan']}
    assert actions == {'customers': 'close-and-restore', 'orders': 'close-and-restore', 'logs-2026.11': 'create'}
    assert rest(os_node.url, 'GET', '/customers/_count')['count'] == 1499  # check mode changed nothing

    done = os_call('restore', dict(restore, force=True))
    assert done['ok'], done['msg']
    assert done['result']['count_mismatches'] == []
    assert osdata.fingerprint(os_node.url) == before

    renamed = os_call('restore', dict(restore, indices=['orders', 'customers'], rename_pattern='(.+)',
                                      rename_replacement='restored-$1', include_aliases=False))
    assert renamed['ok'], renamed['msg']
    try:
        got = osdata.fingerprint(os_node.url, ['restored-orders', 'restored-customers'])
        assert got['restored-orders']['hits'] == before['orders']['hits']
        assert got['restored-customers']['sum'] == before['customers']['sum']
        assert got['restored-orders']['mapping'] == before['orders']['mapping']
        assert osdata.fingerprint(os_node.url) == before  # the originals are untouched
    finally:
        osdata.delete_indices(os_node.url, 'restored-*')

    gone = os_call('snapshot', {'hosts': [os_node.url], 'repository': name, 'state': 'absent', 'set_id': set_id})
    assert gone['ok'] and gone['result']['deleted'] == [set_id.lower()]
    again = os_call('snapshot', {'hosts': [os_node.url], 'repository': name, 'state': 'absent', 'set_id': set_id})
    assert again['ok'] and again['result']['changed'] is False


def test_restore_into_a_fresh_node(os_node, os_fresh, repo_dir, fs_store, os_backup, os_call):
    """Disaster recovery: a new empty cluster registers the repository read-only and restores the set."""
    name, path = repo_dir
    before = osdata.fingerprint(os_node.url)
    out = os_backup(fs_store, _args(os_node, name, path, indices=['orders', 'customers', 'logs-*']))
    assert out['ok'], out['msg']
    restore = {'hosts': [os_fresh.url], 'store': fs_store, 'set_id': out['set_id'], 'repository_type': 'fs',
               'repository_settings': {'location': path, 'readonly': True}, 'include_global_state': True,
               'wait_for_status': 'green'}
    plan = os_call('restore', restore, check=True)
    assert not plan['ok'] and 'would be registered first' in plan['msg']
    done = os_call('restore', restore)
    assert done['ok'], done['msg']
    assert osdata.fingerprint(os_fresh.url) == before
    # the global state brought the index template along
    assert rest(os_fresh.url, 'GET', '/_index_template/logs-template')['index_templates']


def test_snapshot_check_mode_changes_nothing(os_node, repo_dir, fs_store, os_backup):
    name, path = repo_dir
    out = os_backup(fs_store, _args(os_node, name, path, indices=['orders']), check=True)
    assert out['ok'], out['msg']
    assert out['backup']['repository']['action'] == 'create'
    assert out['backup']['snapshot']['state'] == 'planned'
    assert out['backup']['indices'] == ['orders']
    with pytest.raises(RestError) as err:
        rest(os_node.url, 'GET', '/_snapshot/%s' % name)
    assert err.value.status == 404  # check mode registered no repository
