#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ec2_snapshot_set_restore
short_description: Restore EBS volumes of an instance from a snapshot set
version_added: 0.1.0
description:
  - Creates volumes from a snapshot set taken by M(lifeboat.backup.ec2_snapshot_set) in the instance's
    availability zone and attaches them.
  - O(mode=replace) puts them in place of the instance's current data volumes, device by device. The old volumes
    are detached, tagged C(lifeboat:replaced-by-set) and kept unless O(delete_replaced). The instance must be
    stopped, or O(stop_instance) stops it and starts it again afterwards.
  - O(replace_root) also replaces the root volume from the set's boot snapshot with an EC2 replace-root-volume
    task (the instance must be running; EC2 reboots it).
  - O(mode=inspect) attaches the volumes as extra devices (O(devices)) and touches nothing else, to look at or
    copy data from a set.
  - Preflight first - the set is complete (every snapshot there and C(completed)), the instance exists, its
    devices match the set and its state allows the change. Any preflight problem fails the module before
    anything is created or changed.
  - With O(store), the snapshot ids come from the set's record in the backup set (verified against its
    checksum, optionally pinned with O(manifest_sha256)); otherwise the set is found by its tags.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Runs the preflight and reports which volumes would be created, replaced or attached.
options:
  store:
    description:
      - Where backup sets live (the suboptions are those of every module's O(store), see C(docs/stores.md)).
      - Needed to read the snapshots from their record in a backup set.
    type: dict
    required: false
  set_id:
    description: The snapshot set (backup set id) to restore from.
    type: str
    required: true
  host:
    description: The host whose snapshots to restore (tag C(lifeboat:host)). Needed with O(store), or when the set has several hosts.
    type: str
  instance_id:
    description: The instance to restore onto. Defaults to the instance the set was taken of (in another region, it must be given).
    type: str
  mode:
    description: C(replace) swaps the current data volumes; C(inspect) attaches the restored volumes as extra devices.
    type: str
    default: replace
    choices: [replace, inspect]
  devices:
    description:
      - With O(mode=inspect), the devices to attach the volumes at, in order (letters like C(p) or names like
        C(/dev/sdp)). Defaults to the first free of C(/dev/sdf) to C(/dev/sdz).
    type: list
    elements: str
    default: []
  include_boot:
    description: With O(mode=inspect), also attach a volume made from the boot snapshot.
    type: bool
    default: false
  replace_root:
    description: With O(mode=replace), also replace the root volume from the set's boot snapshot (replace-root-volume task).
    type: bool
    default: false
  stop_instance:
    description:
      - With O(mode=replace), stop a running instance for the data-volume swap and start it again afterwards.
        Without it, a running instance fails the preflight.
    type: bool
    default: false
  delete_replaced:
    description: Delete the replaced volumes (data and root) once the new ones are attached. By default they are kept.
    type: bool
    default: false
  volume_type:
    description: Volume type of the new volumes. Defaults to the type recorded with each snapshot, else EC2's default.
    type: str
  wait_timeout:
    description: Seconds to wait for each step (volumes available, attached, instance stopped or running, root task).
    type: int
    default: 1800
  manifest_sha256:
    description: With O(store), the pinned SHA-256 of the backup set's manifest.
    type: str
notes:
  - If a swap fails half way, the module says which devices were swapped; the instance is left stopped and the
    old volumes are kept (tagged), so they can be attached back.
seealso:
  - module: lifeboat.backup.ec2_snapshot_set
    description: Takes and records the snapshot sets this module restores.
  - module: lifeboat.backup.ec2_snapshot_set_info
    description: Lists the snapshot sets in EC2.
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.aws
  - lifeboat.backup.store
'''

EXAMPLES = r'''
- name: Put the data volumes of a set back in place (stops and restarts the instance)
  lifeboat.backup.ec2_snapshot_set_restore:
    set_id: 20261122T031500Z
    host: db1
    region: eu-central-1
    stop_instance: true
  delegate_to: localhost

- name: Attach a set's volumes for inspection at /dev/sdp, /dev/sdq
  lifeboat.backup.ec2_snapshot_set_restore:
    set_id: 20261122T031500Z
    host: db1
    mode: inspect
    devices: [p, q]
  delegate_to: localhost

- name: Restore from the set's verified record in the backup store
  lifeboat.backup.ec2_snapshot_set_restore:
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ __lifeboat_source_host }}"
    store: "{{ lifeboat_store }}"
    manifest_sha256: "{{ __lifeboat_manifest_sha256 }}"
    stop_instance: true
  delegate_to: localhost
'''

RETURN = r'''
set_id:
  description: The set restored from.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly
host:
  description: The host the set belongs to.
  returned: always
  type: str
  sample: web1
instance_id:
  description: The instance restored onto.
  returned: always
  type: str
  sample: i-0a1b2c3d4e5f60718
region:
  description: The region.
  returned: always
  type: str
  sample: eu-west-1
availability_zone:
  description: The instance's availability zone, where the volumes were created.
  returned: always
  type: str
  sample: eu-west-1a
mode:
  description: C(replace) or C(inspect).
  returned: always
  type: str
  sample: replace
instance_state:
  description: The instance state found by the preflight.
  returned: always
  type: str
  sample: stopped
volumes:
  description: One entry per restored volume (device, snapshot_id, old_volume_id, new_volume_id, size_gib, old_volume_deleted).
  returned: always
  type: list
  elements: dict
  sample:
    - {device: /dev/sdf, snapshot_id: snap-0a1b2c3d4e5f60718, old_volume_id: vol-0f1e2d3c4b5a69788,
       new_volume_id: vol-0a1b2c3d4e5f60718, size_gib: 100, old_volume_deleted: false}
root:
  description: The boot snapshot used to replace the root volume, with the task id and state.
  returned: always
  type: dict
  sample: {}
stopped_and_started:
  description: Whether the module stopped the instance and started it again.
  returned: when data volumes were replaced
  type: bool
  sample: true
restored:
  description: One line per volume restored (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ['/dev/sdf: vol-0a1b2c3d4e5f60718 from snap-0a1b2c3d4e5f60718 (replaced vol-0f1e2d3c4b5a69788)']
seconds:
  description: Time the restore took.
  returned: always
  type: float
  sample: 42.7
snapshot_set:
  description: The snapshot set as found (see M(lifeboat.backup.ec2_snapshot_set_info)).
  returned: always
  type: dict
  sample: {set_id: 20261122T031500Z-nightly, host: web1, state: completed, complete: true, snapshot_count: 2}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import restore as snapshot_restore

BOTO3 = ('boto3', aws_client.HAS_BOTO3, aws_client.BOTO3_IMPORT_ERROR)


def argument_spec():
    return dict(
        set_id=dict(type='str', required=True),
        host=dict(type='str'),
        instance_id=dict(type='str'),
        mode=dict(type='str', default='replace', choices=['replace', 'inspect']),
        devices=dict(type='list', elements='str', default=[]),
        include_boot=dict(type='bool', default=False),
        replace_root=dict(type='bool', default=False),
        stop_instance=dict(type='bool', default=False),
        delete_replaced=dict(type='bool', default=False),
        volume_type=dict(type='str'),
        wait_timeout=dict(type='int', default=1800),
        manifest_sha256=dict(type='str'),
        store=dict(type='dict', options=STORE_SPEC),
        **aws_client.AWS_SPEC
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), required_together=[('access_key', 'secret_key')],
                         supports_check_mode=True)


def run(module):
    return snapshot_restore.restore_group(ec2_client.factory(module.params), module.params,
                                          check_mode=module.check_mode, log=module.log)


def main():
    module = build_module()
    _module.execute(module, lambda: run(module), requires=[BOTO3])


if __name__ == '__main__':
    main()
