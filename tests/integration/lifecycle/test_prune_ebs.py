# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pruned set takes its EBS snapshot sets with it, in every region they were copied to (EC2 on a moto server)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from lifecyclelib import fs_params, run_module, set_ids_in

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

boto3 = pytest.importorskip('boto3')

REGION, COPY_REGION, AZ = 'us-east-1', 'eu-west-1', 'us-east-1a'


def ec2_client(moto, region=REGION):
    return moto.client('ec2', region_name=region)


def snapshots_of(client, set_id):
    found = client.describe_snapshots(Filters=[{'Name': 'tag:lifeboat:set-id', 'Values': [set_id]}])['Snapshots']
    return sorted(snap['SnapshotId'] for snap in found)


def snapshot_set(moto, store, instance_id):
    """A completed backup set holding the record of an EBS snapshot set copied to a second region."""
    with open_store(store) as handle:
        set_id = lifecycle.start(handle)['set_id']
    aws = {'region': REGION, 'endpoint_url': moto.url, 'access_key': 'testing', 'secret_key': 'testing', 'max_attempts': 2}
    taken = run_module('ec2_snapshot_set', dict(aws, set_id=set_id, host='web1', instance_id=instance_id, record_in_set=True,
                                                store=store, copy_to_region=COPY_REGION))
    assert not taken.failed, taken
    with open_store(store) as handle:
        lifecycle.commit(handle, set_id, hosts=['web1'])
    return set_id, aws


def test_a_pruned_set_takes_its_snapshots_in_every_region(workdir, moto):
    ec2, ec2_copy = ec2_client(moto), ec2_client(moto, COPY_REGION)
    reservation = ec2.run_instances(ImageId='ami-12345678', MinCount=1, MaxCount=1, InstanceType='t3.micro',
                                    Placement={'AvailabilityZone': AZ})
    instance_id = reservation['Instances'][0]['InstanceId']
    volume = ec2.create_volume(AvailabilityZone=AZ, Size=2, VolumeType='gp3')
    ec2.attach_volume(VolumeId=volume['VolumeId'], InstanceId=instance_id, Device='/dev/sdf')
    store = fs_params(os.path.join(workdir, 'store'))
    old, aws = snapshot_set(moto, store, instance_id)
    new, _aws = snapshot_set(moto, store, instance_id)
    assert snapshots_of(ec2, old) and snapshots_of(ec2_copy, old)
    plan = run_module('backup_prune', dict(aws, store=store, policy={'keep_last': 1}), check=True)
    assert plan['remove'] == [old] and snapshots_of(ec2_copy, old)
    res = run_module('backup_prune', dict(aws, store=store, policy={'keep_last': 1}))
    assert not res.failed, res
    assert res['removed'] == [old]
    assert snapshots_of(ec2, old) == [] and snapshots_of(ec2_copy, old) == []
    assert snapshots_of(ec2, new) and snapshots_of(ec2_copy, new)  # the kept set keeps its snapshots
    assert set_ids_in(store) == [new]


def test_an_unreachable_ec2_keeps_the_set_for_the_next_prune(workdir, moto):
    ec2 = ec2_client(moto)
    reservation = ec2.run_instances(ImageId='ami-12345678', MinCount=1, MaxCount=1, InstanceType='t3.micro',
                                    Placement={'AvailabilityZone': AZ})
    instance_id = reservation['Instances'][0]['InstanceId']
    store = fs_params(os.path.join(workdir, 'store'))
    old, aws = snapshot_set(moto, store, instance_id)
    snapshot_set(moto, store, instance_id)
    dead = dict(aws, endpoint_url='http://127.0.0.1:9')  # nothing listens there
    res = run_module('backup_prune', dict(dead, store=store, policy={'keep_last': 1}))
    assert res['errors'] and res['errors'][0]['id'] == old and 'the set stays' in res['errors'][0]['error']
    assert snapshots_of(ec2, old)
    listing = {item['id']: item['status'] for item in _listing(store)}
    assert listing[old] == 'failed'  # its manifest went first: never restorable again, its records stay
    again = run_module('backup_prune', dict(aws, store=store, policy={'keep_last': 1}))
    assert again['removed'] == [old] and snapshots_of(ec2, old) == []


def _listing(store):
    with open_store(store) as handle:
        return lifecycle.list_sets(handle)
