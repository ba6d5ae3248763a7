# -*- coding: utf-8 -*-
"""Check-mode plans of the EC2 snapshot modules, through their main(), against moto's EC2 in this process.

moto (``mock_aws``) answers boto3's real HTTP requests in process: the modules build their own clients as on a
host; nothing of the collection is mocked. The set record goes into a filesystem store in tmp_path.
"""

import pytest

from lb_module_runner import tree

boto3 = pytest.importorskip('boto3')
moto = pytest.importorskip('moto')

REGION = 'eu-west-1'
AZ = REGION + 'a'
AWS = {'region': REGION, 'access_key': 'testing', 'secret_key': 'testing', 'max_attempts': 2}


@pytest.fixture
def ec2(monkeypatch):
    for var in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'):
        monkeypatch.delenv(var, raising=False)
    with moto.mock_aws():
        yield boto3.client('ec2', region_name=REGION, aws_access_key_id='testing', aws_secret_access_key='testing')


def _instance(ec2):
    r = ec2.run_instances(ImageId='ami-12345678', MinCount=1, MaxCount=1, InstanceType='t3.micro',
                          Placement={'AvailabilityZone': AZ})
    iid = r['Instances'][0]['InstanceId']
    vol = ec2.create_volume(AvailabilityZone=AZ, Size=2, VolumeType='gp3')
    ec2.attach_volume(VolumeId=vol['VolumeId'], InstanceId=iid, Device='/dev/sdf')
    return iid


def _snapshots(ec2):
    """The snapshots lifeboat made (moto's own AMIs come with snapshots of their own)."""
    return ec2.describe_snapshots(OwnerIds=['self'], Filters=[{'Name': 'tag-key', 'Values': ['lifeboat:set-id']}])['Snapshots']


def test_ec2_snapshot_set_in_check_mode_plans_the_volumes_and_takes_nothing(run_module, ec2, store):
    iid = _instance(ec2)
    set_id = run_module('backup_set', {'store': store, 'state': 'started'})['set_id']
    before = tree(store['path'])
    r = run_module('ec2_snapshot_set', dict(AWS, set_id=set_id, host='web1', instance_id=iid, record_in_set=True,
                                            store=store), check=True)
    assert r['rc'] == 0 and r['changed'], r
    plan = r['snapshot_set']
    assert plan['state'] == 'planned' and plan['instance_id'] == iid
    assert sorted(s['device'] for s in plan['snapshots']) == ['/dev/sda1', '/dev/sdf']
    assert _snapshots(ec2) == [] and tree(store['path']) == before


def test_ec2_snapshot_set_info_and_restore_in_check_mode(run_module, ec2, store):
    iid = _instance(ec2)
    set_id = run_module('backup_set', {'store': store, 'state': 'started'})['set_id']
    r = run_module('ec2_snapshot_set', dict(AWS, set_id=set_id, host='web1', instance_id=iid, record_in_set=True,
                                            store=store))
    assert r['rc'] == 0 and r['snapshot_set']['state'] == 'completed', r
    r = run_module('backup_set', {'store': store, 'state': 'committed', 'set_id': set_id, 'hosts': ['web1'],
                                  'expect': {'web1': ['snapshot/ec2']}})
    assert r['status'] == 'completed', r

    r = run_module('ec2_snapshot_set_info', dict(AWS, set_id=set_id), check=True)
    assert r['rc'] == 0 and not r['changed'], r
    assert [(s['set_id'], s['host'], s['complete']) for s in r['snapshot_sets']] == [(set_id, 'web1', True)]

    volumes = ec2.describe_volumes()['Volumes']
    before = tree(store['path'])
    r = run_module('ec2_snapshot_set_restore', dict(AWS, set_id=set_id, host='web1', store=store, mode='inspect',
                                                    devices=['/dev/sdh']), check=True)
    assert r['rc'] == 0 and r['changed'] and r['instance_id'] == iid, r
    assert len(r['restored']) == 1 and '/dev/sdh' in r['restored'][0], r
    assert ec2.describe_volumes()['Volumes'] == volumes and tree(store['path']) == before

    r = run_module('ec2_snapshot_set', dict(AWS, state='absent', set_id=set_id), check=True)
    assert r['rc'] == 0 and r['changed'] and len(r['deleted'][REGION]) == 2, r
    assert len(_snapshots(ec2)) == 2
