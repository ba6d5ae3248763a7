#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_set_info
short_description: List backup sets in a store, or show one
version_added: 0.1.0
description:
  - Lists every set with its id, status, age, size, hosts and components, newest first.
  - The status is derived from what is in the store. C(completed) means the manifest exists (the commit).
    A set whose run ended without committing or failing (killed, lost its controller) is shown as C(failed)
    with the reason C(interrupted) once no live lock belongs to it. Only completed sets are restorable.
  - A set whose manifest (or, without one, its status) cannot be read or fails validation (bad JSON, an unknown
    C(schema_version), a field of the wrong type) is listed as C(damaged) with the reason, and warned about; it
    never stops the listing nor the use of the other sets.
  - With O(latest=true), or O(set_id), returns that one set with its manifest in RV(set). O(latest) skips damaged
    sets (RV(skipped_damaged), and a warning); a damaged O(set_id) is refused.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Read-only; behaves the same in check mode.
seealso:
  - module: lifeboat.backup.backup_set
    description: Starts, commits and fails the sets this module lists.
  - module: lifeboat.backup.files_restore
    description: Restores a files archive of a completed set.
  - module: lifeboat.backup.ec2_snapshot_set_info
    description: Lists the EBS snapshot sets in EC2 itself.
options:
  set_id:
    description: Return this set (it must be completed) with its manifest.
    type: str
  latest:
    description: Return the newest completed set with its manifest.
    type: bool
    default: false
  manifest_sha256:
    description: With O(set_id) or O(latest), refuse the set unless its manifest has this SHA-256.
    type: str
  verify:
    description:
      - With O(set_id) or O(latest), check that every artifact of the manifest is present in the store with
        its recorded size (checksums are verified by the restore modules while they stream).
    type: bool
    default: false
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.store
'''

EXAMPLES = r'''
- name: List sets
  lifeboat.backup.backup_set_info:
    store:
      type: filesystem
      path: /srv/backup
  register: sets

- name: The newest completed set, checked present
  lifeboat.backup.backup_set_info:
    latest: true
    verify: true
    store:
      type: filesystem
      path: /srv/backup
  register: latest
'''

RETURN = r'''
sets:
  description: Every set, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Set id.
      type: str
      sample: 20261122T031500Z-nightly
    status:
      description: C(completed), C(failed), C(in_progress) or C(damaged).
      type: str
      sample: completed
    restorable:
      description: Whether the set can be restored (completed).
      type: bool
      sample: true
    reason:
      description: Why a set failed, or what is damaged.
      type: str
      sample: 'commit failed: web2: unreachable'
    age_seconds:
      description: Seconds since the set started.
      type: int
      sample: 3600
    size:
      description: Total bytes of the artifacts (completed sets).
      type: int
      sample: 104857600
    hosts:
      description: Hosts with artifacts.
      type: list
      elements: str
      sample: [web1, web2]
    components:
      description: Per host, its C(component/name) artifacts.
      type: dict
      sample: {web1: [files/awx, postgresql/awx, postgresql/globals], web2: [files/awx]}
    manifest_sha256:
      description: SHA-256 of the manifest (completed sets).
      type: str
      sample: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4
    needs:
      description:
        - Completed sets, the sets this one depends on - every earlier level of its incremental files entries
          (docs/incremental.md). A restore of the set reads them; retention keeps them while it keeps this set.
      type: list
      elements: str
      sample: [20261122T011500Z, 20261122T021500Z]
    chains:
      description: Completed sets with incremental files entries - per C(host/files/name), its level, base set and the set of its full.
      type: dict
      sample: {web1/files/app: {level: 2, base: 20261122T021500Z, full_set: 20261122T011500Z}}
set:
  description: With O(set_id) or O(latest), the set's summary plus C(manifest) and C(manifest_sha256).
  returned: when O(set_id) or O(latest) is given
  type: dict
  sample:
    {id: 20261122T031500Z-nightly, status: completed, restorable: true, size: 104857600, hosts: [web1],
     components: {web1: [files/awx]}, manifest_sha256: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4,
     manifest: {schema_version: 1, set_id: 20261122T031500Z-nightly, hosts: [web1], artifacts: []}}
damaged:
  description: Ids of the damaged sets.
  returned: always
  type: list
  elements: str
  sample: [20261121T031500Z-nightly]
skipped_damaged:
  description: With O(latest=true), the damaged sets newer than the one returned.
  returned: when O(latest=true) skipped some
  type: list
  elements: str
  sample: [20261121T031500Z-nightly]
problems:
  description: With O(verify=true), what is missing or has the wrong size (empty when all is well).
  returned: when O(verify=true)
  type: list
  elements: str
  sample: ['20261122T031500Z-nightly/web2/files/awx.tar.zst: missing from the store']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle


def argument_spec():
    return dict(
        store=STORE_ARG,
        set_id=dict(type='str'),
        latest=dict(type='bool', default=False),
        manifest_sha256=dict(type='str'),
        verify=dict(type='bool', default=False),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[('set_id', 'latest')],
                         supports_check_mode=True)


def run(store, params, check_mode):
    # read-only: the same in check mode
    return lifecycle.info(store, set_id=params['set_id'], latest=params['latest'], pin=params['manifest_sha256'],
                          verify=params['verify'])


def main():
    module = build_module()
    _module.execute_in_store(module, run)


if __name__ == '__main__':
    main()
