#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ec2_snapshot_set_info
short_description: List EBS snapshot sets with their snapshots and states
version_added: 0.1.0
description:
  - Lists the snapshot sets taken by M(lifeboat.backup.ec2_snapshot_set), by set id, host and age, in one or more
    regions, with each snapshot's state and whether the set is complete.
  - Only the account's own snapshots carrying the C(lifeboat:set-id) tag are listed (C(OwnerIds=self) and a tag
    filter, paginated); public snapshots are never listed.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Read-only; behaves the same in check mode.
options:
  set_id:
    description: Only this set.
    type: str
  host:
    description: Only sets of this host.
    type: str
  max_age:
    description: Only sets started at most this long ago (a number with unit C(s), C(m), C(h), C(d) or C(w), for example C(36h)).
    type: str
  regions:
    description: Regions to search (C(all) for every enabled region). Defaults to O(region).
    type: list
    elements: str
    default: []
  copy_endpoint_url:
    description: EC2 endpoint URL for the regions other than O(region). Defaults to O(endpoint_url).
    type: str
seealso:
  - module: lifeboat.backup.ec2_snapshot_set
    description: Takes the snapshot sets this module lists.
  - module: lifeboat.backup.backup_set_info
    description: Lists the backup sets that record snapshot sets.
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.aws
'''

EXAMPLES = r'''
- name: Sets of web1 from the last two days, here and in the copy region
  lifeboat.backup.ec2_snapshot_set_info:
    host: web1
    max_age: 2d
    region: eu-central-1
    regions: [eu-central-1, eu-west-1]
  register: sets

- name: Fail when the newest set is not complete
  ansible.builtin.assert:
    that: sets.snapshot_sets[0].complete
'''

RETURN = r'''
snapshot_sets:
  description: The sets found, newest first (one entry per set, host and region).
  returned: always
  type: list
  elements: dict
  contains:
    set_id:
      description: The set id.
      type: str
      sample: 20261122T031500Z-nightly
    host:
      description: The host the set belongs to.
      type: str
      sample: web1
    instance_id:
      description: The instance the snapshots were taken of.
      type: str
      sample: i-0a1b2c3d4e5f60718
    region:
      description: The region these snapshots are in.
      type: str
      sample: eu-west-1
    state:
      description: C(completed), C(pending), C(error) or C(incomplete) (fewer snapshots than the set was taken with).
      type: str
      sample: completed
    complete:
      description: Whether the set can be restored.
      type: bool
      sample: true
    expected_count:
      description: Number of snapshots the set was taken with.
      type: int
      sample: 2
    snapshot_count:
      description: Number of snapshots found.
      type: int
      sample: 2
    size_gib:
      description: Total volume size in GiB.
      type: int
      sample: 108
    start_time:
      description: When the set was started (UTC, ISO 8601).
      type: str
      sample: '2026-11-22T03:15:02Z'
    copy_of_region:
      description: For copies, the region they were copied from.
      type: str
      sample: eu-west-1
    snapshots:
      description: The snapshots (snapshot_id, volume_id, device, boot, size_gib, state, progress, start_time, encrypted).
      type: list
      elements: dict
      sample:
        - {snapshot_id: snap-0a1b2c3d4e5f60718, volume_id: vol-0a1b2c3d4e5f60718, device: /dev/sdf, boot: false,
           size_gib: 100, state: completed, progress: 100%, start_time: '2026-11-22T03:15:02Z', encrypted: true}
regions:
  description: The regions searched.
  returned: always
  type: list
  elements: str
  sample: [eu-west-1, eu-central-1]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import info as snapshot_info

BOTO3 = ('boto3', aws_client.HAS_BOTO3, aws_client.BOTO3_IMPORT_ERROR)


def argument_spec():
    return dict(
        set_id=dict(type='str'),
        host=dict(type='str'),
        max_age=dict(type='str'),
        regions=dict(type='list', elements='str', default=[]),
        copy_endpoint_url=dict(type='str'),
        **aws_client.AWS_SPEC
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), required_together=[('access_key', 'secret_key')],
                         supports_check_mode=True)


def run(module):
    # read-only: the same in check mode
    return snapshot_info.list_groups(ec2_client.factory(module.params), module.params)


def main():
    module = build_module()
    _module.execute(module, lambda: run(module), requires=[BOTO3])


if __name__ == '__main__':
    main()
