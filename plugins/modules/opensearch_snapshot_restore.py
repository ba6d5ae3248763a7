#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: opensearch_snapshot_restore
short_description: Restore indices of a backup set's OpenSearch snapshot, after a preflight
version_added: 0.2.0
description:
  - Restores all or selected indices of a snapshot - the one a backup set recorded (O(store) and O(set_id)), or
    one named by O(repository) and O(snapshot) - in place or renamed, waits until they are healthy and recovered,
    and compares their document counts with the set's record.
  - A preflight runs before anything changes and refuses the restore, listing every problem - the snapshot is
    missing (deleted behind the set's back), not C(SUCCESS), or not the one recorded (uuid); the cluster's version
    cannot read it; the repository does not verify from every node; an index to be restored exists (open or
    closed) and O(force) is not set; the restored data would pass the high disk watermark.
  - In place, existing indices are replaced only with O(force) - closed and overwritten (O(existing=close), what
    Chef Automate does) or deleted first (O(existing=delete), needed when the shard count differs). Renamed
    (O(rename_pattern), O(rename_replacement)), the restored indices sit beside the originals.
  - See C(docs/opensearch.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.opensearch
  - lifeboat.backup.store
attributes:
  check_mode:
    support: full
    description:
      - Runs the whole preflight and reports the plan - which indices would be restored under which names, and
        which existing ones would be closed or deleted. Changes nothing (the repository verification writes and
        removes a small test file).
  diff_mode:
    support: none
    description: Nothing to diff.
options:
  store:
    description:
      - Where backup sets live (the suboptions are those of every module's O(store), see C(docs/stores.md)).
      - Needed to read the snapshot from its record in a backup set (with O(set_id)).
    type: dict
    required: false
  set_id:
    description:
      - The backup set. With O(store), its OpenSearch record (checked against its sha256) names the repository,
        the snapshot and its uuid, and the document counts to compare. Without O(store), the snapshot named after it.
    type: str
  manifest_sha256:
    description: Refuse the set unless its manifest has this SHA-256.
    type: str
  record_host:
    description: Host of the record in the set, when the set holds records of several search clusters.
    type: str
  record_name:
    description: Name of the record in the set (the search cluster), when there are several.
    type: str
  repository:
    description: Repository to restore from. Defaults to the recorded one.
    type: str
  repository_type:
    description:
      - Register the repository (type and O(repository_settings)) before the preflight - for a fresh cluster
        (disaster recovery). Use C(readonly=true) in the settings when another cluster writes to it.
    type: str
    choices: [fs, s3]
  repository_settings:
    description: Settings for O(repository_type) (see M(lifeboat.backup.opensearch_snapshot)).
    type: dict
    default: {}
  snapshot:
    description: Snapshot name. Defaults to the recorded one, or the name made from O(set_id).
    type: str
  snapshot_prefix:
    description: The prefix the snapshot was named with.
    type: str
    default: ''
  indices:
    description: Indices (names or patterns) of the snapshot to restore; default all of them.
    type: list
    elements: str
    default: []
  exclude:
    description: Patterns of the snapshot's indices to leave out.
    type: list
    elements: str
    default: []
  rename_pattern:
    description: Regular expression on the index names (Java syntax, as the restore API's C(rename_pattern)).
    type: str
  rename_replacement:
    description: Replacement for O(rename_pattern), with C($1) for groups, e.g. C(restored-$1).
    type: str
  force:
    description: Replace indices that exist under a restored name (see O(existing)). Without it the preflight refuses.
    type: bool
    default: false
  existing:
    description: With O(force), what happens to an existing index first - C(close) it (the restore overwrites it) or C(delete) it.
    type: str
    default: close
    choices: [close, delete]
  index_settings:
    description: Index settings for the restored indices, for example C(index.number_of_replicas=0) on a small DR cluster.
    type: dict
  ignore_index_settings:
    description: Index settings of the snapshot not to restore.
    type: list
    elements: str
  include_global_state:
    description: Restore the cluster state too (templates, persistent settings). Replaces the cluster's own.
    type: bool
    default: false
  include_aliases:
    description: Restore the indices' aliases.
    type: bool
    default: true
  wait:
    description: Wait until the restored indices reach O(wait_for_status) and their recovery is done, then compare document counts.
    type: bool
    default: true
  wait_for_status:
    description: Health the restored indices must reach (C(green) needs every replica assigned).
    type: str
    default: yellow
    choices: [yellow, green]
  wait_timeout:
    description: Seconds to wait for the restore.
    type: int
    default: 3600
  verify_counts:
    description:
      - Compare each restored index's document count with the set's record; a difference fails the module
        (unless the record says the index was written during the snapshot, then it is reported only).
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: What a restore of the newest set's search data would do
  lifeboat.backup.opensearch_snapshot_restore:
    hosts: [https://search1:9200]
    username: admin
    password: "{{ vault_opensearch_password }}"
    store: "{{ lifeboat_store }}"
    set_id: 20261122T031500Z
    force: true
  check_mode: true
  register: plan

- name: Restore beside the originals, for inspection
  lifeboat.backup.opensearch_snapshot_restore:
    hosts: [http://127.0.0.1:9200]
    store: "{{ lifeboat_store }}"
    set_id: 20261122T031500Z
    indices: [orders-*]
    rename_pattern: '(.+)'
    rename_replacement: 'restored-$1'

- name: Disaster recovery into a fresh one-node cluster
  lifeboat.backup.opensearch_snapshot_restore:
    hosts: [http://127.0.0.1:9200]
    store: "{{ lifeboat_store }}"
    set_id: 20261122T031500Z
    repository_type: fs
    repository_settings: {location: /mnt/backups/opensearch/lifeboat, readonly: true}
    index_settings: {index.number_of_replicas: 0}
    wait_for_status: green
'''

RETURN = r'''
plan:
  description: Per index - index (in the snapshot), target (name after the restore), exists (C(open)/C(close)/null), action.
  returned: always
  type: list
  elements: dict
  sample: [{index: orders, target: orders, exists: open, action: close-and-restore}]
preflight:
  description: What the preflight found (cluster, repository, verified_nodes, snapshot_info, disk).
  returned: always
  type: dict
problems:
  description: Why the preflight refused.
  returned: on a refused restore
  type: list
  elements: str
counts:
  description: Documents per restored index.
  returned: when the module waited
  type: dict
count_mismatches:
  description: Indices whose count differs from the record.
  returned: when counts were compared
  type: list
  elements: str
recovery:
  description: Last recovery progress (health, shards_done, shards_total, bytes_done, bytes_total).
  returned: when the module waited
  type: dict
record:
  description: The set's OpenSearch artifact record that was used.
  returned: with O(store)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import client as os_client
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import flows as os_flows


def argument_spec():
    spec = dict(
        set_id=dict(type='str'),
        manifest_sha256=dict(type='str'),
        record_host=dict(type='str'),
        record_name=dict(type='str'),
        repository=dict(type='str'),
        repository_type=dict(type='str', choices=['fs', 's3']),
        repository_settings=dict(type='dict', default={}),
        snapshot=dict(type='str'),
        snapshot_prefix=dict(type='str', default=''),
        indices=dict(type='list', elements='str', default=[]),
        exclude=dict(type='list', elements='str', default=[]),
        rename_pattern=dict(type='str'),
        rename_replacement=dict(type='str'),
        force=dict(type='bool', default=False),
        existing=dict(type='str', default='close', choices=['close', 'delete']),
        index_settings=dict(type='dict'),
        ignore_index_settings=dict(type='list', elements='str'),
        include_global_state=dict(type='bool', default=False),
        include_aliases=dict(type='bool', default=True),
        wait=dict(type='bool', default=True),
        wait_for_status=dict(type='str', default='yellow', choices=['yellow', 'green']),
        wait_timeout=dict(type='int', default=3600),
        verify_counts=dict(type='bool', default=True),
        store=dict(type='dict', options=STORE_SPEC),
    )
    spec.update(os_logic.CONNECTION_SPEC)
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_together=os_logic.CONNECTION_TOGETHER +
                           [('rename_pattern', 'rename_replacement')], supports_check_mode=True)
    try:
        result = os_flows.restore_snapshot(os_client.Client(module.params, log=module.log), module.params,
                                           check_mode=module.check_mode, log=module.log)
    except LifeboatError as e:
        module.fail_json(msg=e.msg, **e.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
