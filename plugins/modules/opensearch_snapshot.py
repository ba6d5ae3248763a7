#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: opensearch_snapshot
short_description: Snapshot an OpenSearch or Elasticsearch cluster into a repository and record it in a backup set
version_added: 0.2.0
description:
  - Makes sure the snapshot repository exists (type C(fs) with a location under C(path.repo), or C(s3)) and
    verifies from every node, takes a snapshot named after the set id (lowercase, as OpenSearch requires),
    waits for it (progress - shards done/total, bytes - in the module log and the result) and, with
    O(record_in_set), records it in the open backup set as a small JSON artifact (component C(opensearch)).
  - Only a C(SUCCESS) snapshot is recorded. C(PARTIAL), C(FAILED), a refused start (for example an index without
    an assigned primary) or a timeout fail the module with the shard failures quoted, and nothing is recorded.
  - Idempotent per set id - running it again does not take a second snapshot; it waits for (and records) the
    existing one. A snapshot of another name already running on the cluster makes it refuse, unless
    O(allow_concurrent).
  - O(state=absent) deletes the set's snapshot through the API (retention uses it); a running one is aborted.
  - The data stays in the repository; the set holds the record (repository, snapshot name and uuid, state,
    cluster uuid and version, indices with document counts and sizes, shards, start and end). See
    C(docs/opensearch.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.opensearch
  - lifeboat.backup.store
attributes:
  check_mode:
    support: full
    description:
      - Reports the repository change (create or update), the snapshot name and the indices that would be taken.
        Changes nothing; an existing repository is verified (OpenSearch writes and removes a small test file).
  diff_mode:
    support: none
    description: Nothing to diff.
options:
  store:
    description:
      - Where backup sets live (the suboptions are those of every module's O(store), see C(docs/stores.md)).
      - Needed to record the snapshot in a backup set (O(record_in_set)).
    type: dict
    required: false
  state:
    description: C(present) takes (or finishes, and records) the set's snapshot; C(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
  repository:
    description: Name of the snapshot repository.
    type: str
    required: true
  repository_type:
    description:
      - Register (or update) the repository with this type and O(repository_settings). Without it the repository
        must exist already.
    type: str
    choices: [fs, s3]
  repository_settings:
    description:
      - Repository settings. C(fs) - C(location) (a directory under C(path.repo) of every node, on storage all
        nodes share), C(compress), C(chunk_size), C(max_snapshot_bytes_per_sec). C(s3) - C(bucket),
        C(base_path), C(client) (the S3 client whose endpoint and keys are node settings and keystore entries),
        C(server_side_encryption), C(storage_class), C(canned_acl), C(readonly).
      - S3 keys are refused here; they belong in every node's keystore.
    type: dict
    default: {}
  verify_repository:
    description: Verify the repository from every node (POST C(_snapshot/<repository>/_verify)) before the snapshot.
    type: bool
    default: true
  set_id:
    description:
      - The backup set id; the snapshot is named after it (lowercase, after O(snapshot_prefix)). Defaults to a
        new UTC timestamp id. Required for O(state=absent).
    type: str
  snapshot_prefix:
    description: Text put before the set id in the snapshot name.
    type: str
    default: ''
  indices:
    description: Index, alias and data stream patterns to take (default every index).
    type: list
    elements: str
    default: ['*']
  exclude:
    description: Patterns to leave out (sent as C(-pattern)).
    type: list
    elements: str
    default: []
  include_global_state:
    description: Take the cluster state too (templates, persistent settings, pipelines).
    type: bool
    default: true
  ignore_unavailable:
    description: Skip named indices that do not exist instead of failing.
    type: bool
    default: false
  allow_concurrent:
    description: Start even when another snapshot is running on the cluster.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the snapshot. On timeout the module fails, the snapshot goes on in the cluster, and
        running it again with the same O(set_id) keeps waiting.
    type: int
    default: 3600
  record_in_set:
    description: Record the snapshot in the open backup set O(set_id) of O(store) once it is C(SUCCESS).
    type: bool
    default: false
  record_name:
    description: Name of the record in the set (one per search cluster). Defaults to the cluster name.
    type: str
  host:
    description: Host the record belongs to; in a backup run C(inventory_hostname). Defaults to the first node's host name.
    type: str
'''

EXAMPLES = r'''
- name: Snapshot the search cluster into an fs repository on the shared backup mount, record it in the set
  lifeboat.backup.opensearch_snapshot:
    hosts: [https://search1:9200, https://search2:9200]
    username: admin
    password: "{{ vault_opensearch_password }}"
    ca_path: /etc/ssl/search-root-ca.pem
    repository: lifeboat
    repository_type: fs
    repository_settings:
      location: /mnt/automate_backups/opensearch/automate-elasticsearch-data/lifeboat
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    record_in_set: true
    store: "{{ lifeboat_store }}"

- name: Snapshot an Amazon OpenSearch Service domain (SigV4) into a registered S3 repository
  lifeboat.backup.opensearch_snapshot:
    hosts: [https://search-logs-abc123.eu-central-1.es.amazonaws.com]
    auth_type: sigv4
    aws_region: eu-central-1
    repository: s3-backups
    indices: [logs-*]
    exclude: [logs-debug-*]
    include_global_state: false

- name: Delete the snapshot of a pruned set
  lifeboat.backup.opensearch_snapshot:
    hosts: [http://127.0.0.1:9200]
    repository: lifeboat
    state: absent
    set_id: 20261122T031500Z
'''

RETURN = r'''
snapshot_name:
  description: The snapshot's name.
  returned: always
  type: str
  sample: 20261122t031500z-nightly
repository:
  description: The repository (name, type, settings, action C(none)/C(create)/C(update), verified, verified_nodes).
  returned: when O(state=present)
  type: dict
snapshot:
  description: The snapshot (repository, name, uuid, state, version, indices, data_streams, shards, failures, start_time, end_time, metadata).
  returned: when O(state=present) and the snapshot finished (also when it failed)
  type: dict
progress:
  description: Last progress seen (state, shards_done, shards_failed, shards_total, bytes_done, bytes_total, size_total, files_total).
  returned: when the module waited
  type: dict
indices:
  description: Per index of the snapshot - docs, deleted_docs, primary_size_in_bytes, size_in_bytes, primary_shards, replicas, uuid, aliases.
  returned: when the snapshot succeeded (in check mode - the names that would be taken)
  type: raw
counts_stable:
  description: Whether the document counts were the same before and after the snapshot (no writes meanwhile).
  returned: when the snapshot succeeded
  type: bool
cluster:
  description: Cluster name, uuid, version, distribution.
  returned: when O(state=present)
  type: dict
records:
  description: The backup-set records written (with O(record_in_set)); append them to C(__lifeboat_records).
  returned: always
  type: list
  elements: dict
summary:
  description: For the run summary (host, component, name, size, seconds, indices, docs, primary_bytes, snapshot).
  returned: always
  type: list
  elements: dict
deleted:
  description: Snapshot names deleted (or that would be, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import client as os_client
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import flows as os_flows


def argument_spec():
    spec = dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        repository=dict(type='str', required=True),
        repository_type=dict(type='str', choices=['fs', 's3']),
        repository_settings=dict(type='dict', default={}),
        verify_repository=dict(type='bool', default=True),
        set_id=dict(type='str'),
        snapshot_prefix=dict(type='str', default=''),
        indices=dict(type='list', elements='str', default=['*']),
        exclude=dict(type='list', elements='str', default=[]),
        include_global_state=dict(type='bool', default=True),
        ignore_unavailable=dict(type='bool', default=False),
        allow_concurrent=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=3600),
        record_in_set=dict(type='bool', default=False),
        record_name=dict(type='str'),
        host=dict(type='str'),
        store=dict(type='dict', options=STORE_SPEC),
    )
    spec.update(os_logic.CONNECTION_SPEC)
    return spec


def run(module):
    client = os_client.Client(module.params, log=module.log)
    if module.params['state'] == 'absent':
        return os_flows.delete_set_snapshot(client, module.params, check_mode=module.check_mode, log=module.log)
    return os_flows.take_snapshot(client, module.params, check_mode=module.check_mode, log=module.log)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'absent', ['set_id']), ('record_in_set', True, ['store'])],
        required_together=os_logic.CONNECTION_TOGETHER,
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except LifeboatError as e:
        module.fail_json(msg=e.msg, **e.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
