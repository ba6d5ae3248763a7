#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ec2_snapshot_set
short_description: Crash-consistent EBS snapshot sets of an EC2 instance
version_added: 0.1.0
description:
  - Takes a crash-consistent snapshot set of one EC2 instance. Every attached EBS volume (or a selection)
    is snapshotted at the same point in time by one EC2 C(CreateSnapshots) call. See C(docs/snapshots.md).
  - Every snapshot is tagged with C(lifeboat:set-id), C(lifeboat:host), C(lifeboat:device),
    C(lifeboat:volume-id), C(lifeboat:instance-id), C(lifeboat:boot) and C(lifeboat:set-size), plus O(tags).
  - Waits until every snapshot is completed (polling with backoff, up to O(wait_timeout)); a snapshot that ends
    in C(error) state fails the module and the set is reported incomplete. Optionally copies the set,
    encrypted, to a second region and waits for the copies too.
  - Idempotent per O(set_id) and O(host) - running it again with the same set id does not take new snapshots,
    it waits for (and copies, and records) the existing ones.
  - With O(record_in_set), writes the completed set as a small JSON artifact (component C(snapshot), name
    C(ec2)) into an open backup set, so the set's commit verifies it and restores can find the snapshots.
  - O(state=absent) deletes every snapshot of a set (in this region, the regions it was copied to, and O(regions)).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Reports which volumes would be snapshotted (or which snapshots would be deleted) and changes nothing.
options:
  store:
    description:
      - Where backup sets live (the suboptions are those of every module's O(store), see C(docs/stores.md)).
      - Needed to record the snapshots in a backup set (O(record_in_set)).
    type: dict
    required: false
  state:
    description: C(present) takes (or completes) the set; C(absent) deletes its snapshots.
    type: str
    default: present
    choices: [present, absent]
  set_id:
    description:
      - The set id, the value of the C(lifeboat:set-id) tag. In a backup run, the backup set id.
      - Required for O(state=absent). For O(state=present) it defaults to a new UTC timestamp id.
    type: str
  host:
    description:
      - The host name the set belongs to (tag C(lifeboat:host)); in a backup run, C(inventory_hostname).
      - Defaults to the instance id. With O(state=absent), limits deletion to this host's snapshots.
    type: str
  instance_id:
    description:
      - The instance to snapshot. Without it, the module asks the instance metadata service (IMDSv2) of the host
        it runs on, and fails with a clear message when that host is not an EC2 instance.
      - C(AWS_EC2_METADATA_SERVICE_ENDPOINT) overrides the metadata service address, as for botocore.
    type: str
  exclude_boot:
    description: Leave the boot (root) volume out of the set.
    type: bool
    default: false
  exclude_volumes:
    description:
      - Data volumes to leave out, by volume id or device name (C(/dev/sdf), C(xvdf)). A name that matches no
        attached volume is an error.
      - Passed to EC2 as C(ExcludeDataVolumeIds); should an endpoint ignore it, the snapshots of excluded volumes are
        deleted right away and never become part of the set.
    type: list
    elements: str
    default: []
  tags:
    description: Extra tags on every snapshot. Keys starting with C(lifeboat:) or C(aws:) are reserved.
    type: dict
    default: {}
  description:
    description: Snapshot description. Defaults to C(lifeboat.backup snapshot set <set_id> of <host>).
    type: str
  wait:
    description:
      - Wait until every snapshot (and copy) is completed. With C(false), returns once the snapshots were started
        (then O(copy_to_region) and O(record_in_set) cannot be used).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the snapshots, and again for the copies. Snapshots of large, busy volumes can take
        hours; on timeout the module fails, the snapshots go on in AWS, and running it again with the same
        O(set_id) keeps waiting. For long waits run the task with C(async).
    type: int
    default: 7200
  copy_to_region:
    description: Copy the completed set to this region (always encrypted), and wait for the copies.
    type: str
  copy_kms_key_id:
    description: KMS key (id, ARN or alias in the destination region) for the copies. Defaults to the account's EBS key.
    type: str
  copy_endpoint_url:
    description: EC2 endpoint URL for the regions other than O(region) (copies, deletion). Defaults to O(endpoint_url).
    type: str
  regions:
    description:
      - With O(state=absent), further regions to search for the set's snapshots (C(all) for every enabled region).
        The module's region and the regions the set was copied to (from its tags) are always searched.
    type: list
    elements: str
    default: []
  pre_command:
    description:
      - A command (argv list, no shell) run on the host running the module right before the snapshots are taken,
        to quiesce applications, for example C([fsfreeze, -f, /srv/data]). Off by default.
      - When it ran (even when it failed), O(post_command) always runs afterwards.
    type: list
    elements: str
  post_command:
    description:
      - A command (argv list) run right after C(CreateSnapshots) returned (the snapshots' point in time is then
        fixed), for example C([fsfreeze, -u, /srv/data]). It runs once whenever O(pre_command) ran; its failure
        fails the module and the set is not recorded.
    type: list
    elements: str
  command_timeout:
    description: Seconds O(pre_command) and O(post_command) may each take before they are killed.
    type: int
    default: 300
  record_in_set:
    description:
      - Once the snapshots (and copies) completed, write the snapshot set as an artifact C(snapshot/ec2) into the
        open backup set O(set_id) in O(store), and return its record in RV(records).
    type: bool
    default: false
notes:
  - Snapshots taken by one C(CreateSnapshots) call are crash-consistent across the instance's volumes - the state a
    power cut would leave. Applications that survive a power cut (PostgreSQL, journaling filesystems) restore
    from it; use O(pre_command)/O(post_command) when an application needs to be quiesced.
  - Run on the instance itself (instance id from the metadata service, instance role credentials) or on the
    controller with O(instance_id) (C(delegate_to) C(localhost)).
seealso:
  - module: lifeboat.backup.ec2_snapshot_set_info
    description: Lists the snapshot sets in EC2.
  - module: lifeboat.backup.ec2_snapshot_set_restore
    description: Creates volumes from a snapshot set and swaps or attaches them.
  - module: lifeboat.backup.backup_set
    description: Starts the backup set the snapshot record is written into (O(record_in_set)).
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.aws
  - lifeboat.backup.store
'''

EXAMPLES = r'''
- name: Snapshot this instance (on the instance, instance role credentials)
  lifeboat.backup.ec2_snapshot_set:
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    exclude_volumes: [/dev/sdg]
    tags:
      team: platform

- name: Snapshot from the controller, copy to a second region, record it in the backup set
  lifeboat.backup.ec2_snapshot_set:
    instance_id: i-0123456789abcdef0
    region: eu-central-1
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    copy_to_region: eu-west-1
    copy_kms_key_id: alias/backup
    record_in_set: true
    store: "{{ lifeboat_store }}"
  delegate_to: localhost
  register: snap

- name: Freeze a filesystem around the snapshot call
  lifeboat.backup.ec2_snapshot_set:
    set_id: 20261122T031500Z
    pre_command: [fsfreeze, -f, /srv/data]
    post_command: [fsfreeze, -u, /srv/data]
  become: true

- name: Delete a set everywhere
  lifeboat.backup.ec2_snapshot_set:
    state: absent
    set_id: 20261122T031500Z
    region: eu-central-1
'''

RETURN = r'''
snapshot_set:
  description: The snapshot set (planned volumes in check mode). Also returned when the module fails on a set.
  returned: when O(state=present)
  type: dict
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
      description: The instance.
      type: str
      sample: i-0a1b2c3d4e5f60718
    region:
      description: The region of the snapshots.
      type: str
      sample: eu-west-1
    availability_zone:
      description: The instance's availability zone.
      type: str
      sample: eu-west-1a
    state:
      description: C(completed), C(pending), C(error), C(incomplete) (snapshots missing), or C(planned) in check mode.
      type: str
      sample: completed
    complete:
      description: Whether every snapshot is there and completed.
      type: bool
      sample: true
    expected_count:
      description: Number of snapshots the set was created with.
      type: int
      sample: 2
    snapshot_count:
      description: Number of snapshots found.
      type: int
      sample: 2
    size_gib:
      description: Total size of the snapshotted volumes in GiB.
      type: int
      sample: 108
    start_time:
      description: When the snapshots were started (UTC, ISO 8601).
      type: str
      sample: '2026-11-22T03:15:02Z'
    snapshots:
      description: The snapshots, boot volume first.
      type: list
      elements: dict
      sample:
        - snapshot_id: snap-0a1b2c3d4e5f60718
          volume_id: vol-0a1b2c3d4e5f60718
          device: /dev/sdf
          boot: false
          size_gib: 100
          state: completed
          progress: 100%
          start_time: '2026-11-22T03:15:02Z'
          encrypted: true
    excluded:
      description: Volumes left out (device, volume_id, boot).
      type: list
      elements: dict
      sample: [{device: /dev/sdg, volume_id: vol-0f1e2d3c4b5a69788, boot: false}]
    copies:
      description: Per region, the copies of the snapshots (same fields, plus source_snapshot_id).
      type: dict
      sample: {eu-central-1: [{snapshot_id: snap-0b1c2d3e4f5a60718, source_snapshot_id: snap-0a1b2c3d4e5f60718, state: completed}]}
records:
  description:
    - The backup-set artifact records written (with O(record_in_set)); append them to C(__lifeboat_records).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: web1, component: snapshot, name: ec2, key: 20261122T031500Z-nightly/web1/snapshot/ec2.json, size: 1830,
       sha256: 5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d}
summary:
  description: For the run summary, the recorded artifact (host, component, name, size, seconds, snapshots, volume_gib).
  returned: when O(record_in_set) wrote a record
  type: list
  elements: dict
  sample:
    - {host: web1, component: snapshot, name: ec2, size: 1830, seconds: 95.2, snapshots: 2, volume_gib: 108}
hooks:
  description: Results of O(pre_command) and O(post_command) (argv, rc, stdout, stderr, seconds).
  returned: when O(state=present)
  type: dict
  sample:
    pre: {argv: [fsfreeze, -f, /srv], rc: 0, stdout: '', stderr: '', seconds: 0.01}
    post: {argv: [fsfreeze, -u, /srv], rc: 0, stdout: '', stderr: '', seconds: 0.01}
deleted_unwanted:
  description: Snapshots of excluded volumes that the EC2 endpoint made anyway and that were deleted.
  returned: when there were any
  type: list
  elements: str
  sample: [snap-0c1d2e3f4a5b60718]
deleted:
  description: Per region, the snapshot ids deleted (or that would be, in check mode).
  returned: when O(state=absent)
  type: dict
  sample: {eu-west-1: [snap-0a1b2c3d4e5f60718, snap-0a1b2c3d4e5f60719]}
regions_searched:
  description: The regions searched for the set's snapshots.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [eu-west-1, eu-central-1]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import backup as snapshot_backup

BOTO3 = ('boto3', aws_client.HAS_BOTO3, aws_client.BOTO3_IMPORT_ERROR)


def argument_spec():
    return dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        set_id=dict(type='str'),
        host=dict(type='str'),
        instance_id=dict(type='str'),
        exclude_boot=dict(type='bool', default=False),
        exclude_volumes=dict(type='list', elements='str', default=[]),
        tags=dict(type='dict', default={}),
        description=dict(type='str'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=7200),
        copy_to_region=dict(type='str'),
        copy_kms_key_id=dict(type='str', no_log=False),
        copy_endpoint_url=dict(type='str'),
        regions=dict(type='list', elements='str', default=[]),
        pre_command=dict(type='list', elements='str'),
        post_command=dict(type='list', elements='str'),
        command_timeout=dict(type='int', default=300),
        record_in_set=dict(type='bool', default=False),
        store=dict(type='dict', options=STORE_SPEC),
        **aws_client.AWS_SPEC
    )


def build_module():
    return AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'absent', ['set_id']), ('record_in_set', True, ['store'])],
        required_together=[('access_key', 'secret_key')],
        supports_check_mode=True,
    )


def run(module):
    params = module.params
    factory = ec2_client.factory(params)
    if params['state'] == 'absent':
        return snapshot_backup.delete_group(factory, params, check_mode=module.check_mode, log=module.log)
    return snapshot_backup.create_group(factory, params, check_mode=module.check_mode, imds=ec2_client.imds_identity,
                                        log=module.log)


def main():
    module = build_module()
    _module.execute(module, lambda: run(module), requires=[BOTO3])


if __name__ == '__main__':
    main()
