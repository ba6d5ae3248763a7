# -*- coding: utf-8 -*-
"""backup_prune removes the OpenSearch snapshots of the sets it removes, through the cluster's API, on a real node
(docs/retention.md): a prune that cannot reach the cluster keeps those sets (without their manifest) for the next."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STORES = os.path.join(os.path.dirname(HERE), 'stores')
if STORES not in sys.path:
    sys.path.insert(0, STORES)

from osnode import RestError, rest  # noqa: E402  pylint: disable=wrong-import-position
from storelib import run_module  # noqa: E402  pylint: disable=wrong-import-position


def _snapshot_exists(node, repository, name):
    try:
        rest(node.url, 'GET', '/_snapshot/%s/%s' % (repository, name))
    except RestError:
        return False
    return True


def test_prune_removes_opensearch_snapshots(os_node, repo_dir, fs_store, os_backup):
    name, path = repo_dir
    args = {'hosts': [os_node.url], 'repository': name, 'repository_type': 'fs', 'repository_settings': {'location': path},
            'indices': ['customers']}
    sets = []
    for _round in range(3):
        out = os_backup(fs_store, args)
        assert out['ok'], out['msg']
        sets.append(out['set_id'])
    snapshots = [set_id.lower() for set_id in sets]
    assert all(_snapshot_exists(os_node, name, snap) for snap in snapshots)

    # no cluster given: the two older sets lose their manifest and stay, their snapshots untouched
    cut = run_module('backup_prune', {'store': fs_store, 'policy': {'keep_last': 1}})
    assert not cut.failed, cut
    assert sorted(item['id'] for item in cut['errors']) == sorted(sets[:2])
    assert all('none of the clusters given to the prune' in item['error'] for item in cut['errors'])
    assert all(_snapshot_exists(os_node, name, snap) for snap in snapshots)
    assert not any(os.path.exists(os.path.join(fs_store['path'], set_id, 'manifest.json')) for set_id in sets[:2])

    # with the cluster: the interrupted removals finish, the newest set and its snapshot stay
    done = run_module('backup_prune', {'store': fs_store, 'policy': {'keep_last': 1},
                                       'opensearch': [{'hosts': [os_node.url]}]})
    assert not done.failed, done
    assert sorted(done['removed']) == sorted(sets[:2]) and not done['errors'], done
    assert not any(_snapshot_exists(os_node, name, snap) for snap in snapshots[:2])
    assert _snapshot_exists(os_node, name, snapshots[2])
    # nothing of the removed sets is left behind, not even an empty directory
    assert [entry for entry in sorted(os.listdir(fs_store['path'])) if entry in sets] == [sets[2]]
