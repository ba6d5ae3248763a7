#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: opensearch_snapshot_info
short_description: List the snapshot repositories of an OpenSearch or Elasticsearch cluster and their snapshots
version_added: 0.2.0
description:
  - Lists the repositories whose names match O(repository) (a name or a pattern such as C(chef-automate-es*)), with
    their type and settings, and the snapshots in them, newest first, with their state and the backup set id they
    belong to (from the snapshot's metadata, or its name).
  - With O(set_id), only the snapshot of that set is listed.
  - Read only. See C(docs/opensearch.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.opensearch
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
options:
  repository:
    description: Repository name or pattern (C(*) for all).
    type: str
    default: '*'
  set_id:
    description: List only the snapshot of this backup set.
    type: str
  snapshot_prefix:
    description: The prefix the snapshots were named with (see M(lifeboat.backup.opensearch_snapshot)).
    type: str
    default: ''
  snapshots:
    description: List the snapshots of each repository (C(false) - repositories only, for discovery).
    type: bool
    default: true
  with_indices:
    description: Include each snapshot's list of indices (otherwise only their number).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Find Chef Automate's snapshot repositories
  lifeboat.backup.opensearch_snapshot_info:
    hosts: [https://search1:9200]
    username: admin
    password: "{{ vault_opensearch_password }}"
    ca_path: /etc/ssl/search-root-ca.pem
    repository: chef-automate-es*
    snapshots: false
  register: repos

- name: Is the snapshot of this set there and SUCCESS?
  lifeboat.backup.opensearch_snapshot_info:
    hosts: [http://127.0.0.1:9200]
    repository: lifeboat
    set_id: 20261122T031500Z
  register: snap
'''

RETURN = r'''
repositories:
  description: The matching repositories (name, type, settings).
  returned: always
  type: list
  elements: dict
  sample:
    - name: chef-automate-es6-ingest-service
      type: fs
      settings:
        location: /mnt/automate_backups/opensearch/automate-elasticsearch-data/chef-automate-es6-ingest-service
snapshots:
  description:
    - The snapshots, newest first (repository, name, uuid, state, version, set_id, index_count, shards, failures,
      start_time, end_time, include_global_state, metadata; indices with O(with_indices)).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import client as os_client
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import flows as os_flows


def argument_spec():
    spec = dict(
        repository=dict(type='str', default='*'),
        set_id=dict(type='str'),
        snapshot_prefix=dict(type='str', default=''),
        snapshots=dict(type='bool', default=True),
        with_indices=dict(type='bool', default=False),
    )
    spec.update(os_logic.CONNECTION_SPEC)
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_together=os_logic.CONNECTION_TOGETHER,
                           supports_check_mode=True)
    try:
        result = os_flows.list_snapshots(os_client.Client(module.params, log=module.log), module.params)
    except LifeboatError as e:
        module.fail_json(msg=e.msg, **e.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
