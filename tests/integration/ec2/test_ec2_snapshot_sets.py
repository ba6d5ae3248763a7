# -*- coding: utf-8 -*-
"""ec2_snapshot_set, ec2_snapshot_set_info and ec2_snapshot_set_restore against a moto server on loopback.

Each module runs for real (its own process, argument spec, exit_json/fail_json); moto speaks the EC2 HTTP API.
What moto cannot do (pending/error states, throttling, AccessDenied, replace-root-volume tasks) is covered by the
Stubber tests in tests/unit/plugins/module_utils/test_ec2_stubber.py.
"""
import os
import time

import pytest

from ec2lib import (AZ, COPY_REGION, REGION, FakeImds, closed_port, devices_of, instance_state, make_instance,
                    new_set_id, run_module, set_snapshots, tags_of)


def present(aws, **kw):
    args = dict(aws)
    args.update(kw)
    return args


# ---------------------------------------------------------------- create, tag, copy, list, delete

def test_set_created_tagged_copied_listed_and_deleted(aws, ec2, ec2_copy):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='web1', instance_id=iid,
                                               exclude_volumes=['/dev/sdg'], tags={'team': 'platform'},
                                               copy_to_region=COPY_REGION, copy_kms_key_id='alias/lifeboat-test'))
    assert not r.failed, r
    assert r['changed'] and r['records'] == []
    s = r['snapshot_set']
    assert (s['set_id'], s['host'], s['instance_id'], s['region']) == (set_id, 'web1', iid, REGION)
    assert s['state'] == 'completed' and s['complete'] and s['expected_count'] == 2
    assert [(x['device'], x['boot'], x['volume_id']) for x in s['snapshots']] == [
        ('/dev/sda1', True, devs['/dev/sda1']), ('/dev/sdf', False, devs['/dev/sdf'])]
    assert s['excluded'] == [{'device': '/dev/sdg', 'volume_id': devs['/dev/sdg'], 'boot': False}]
    # moto ignores ExcludeDataVolumeIds: the module deleted the snapshot of the excluded volume at once
    assert len(r['deleted_unwanted']) == 1

    found = set_snapshots(ec2, set_id)
    assert sorted(x['VolumeId'] for x in found) == sorted([devs['/dev/sda1'], devs['/dev/sdf']])
    for snap in found:
        t = tags_of(snap)
        assert t['lifeboat:set-id'] == set_id and t['lifeboat:host'] == 'web1'
        assert t['lifeboat:instance-id'] == iid and t['lifeboat:set-size'] == '2'
        assert t['lifeboat:volume-id'] == snap['VolumeId']
        assert t['lifeboat:device'] == {v: d for d, v in devs.items()}[snap['VolumeId']]
        assert t['lifeboat:boot'] == ('true' if t['lifeboat:device'] == '/dev/sda1' else 'false')
        assert t['team'] == 'platform'
        assert t['lifeboat:copied-to:' + COPY_REGION].startswith('snap-')
    excluded_gone = ec2.describe_snapshots(OwnerIds=['self'], Filters=[
        {'Name': 'volume-id', 'Values': [devs['/dev/sdg']]}])['Snapshots']
    assert not [x for x in excluded_gone if tags_of(x).get('lifeboat:set-id') == set_id]

    copies = set_snapshots(ec2_copy, set_id)
    assert len(copies) == 2 and all(c['Encrypted'] and c['KmsKeyId'] == 'alias/lifeboat-test' for c in copies)
    assert sorted(tags_of(c)['lifeboat:source-snapshot-id'] for c in copies) == sorted(x['SnapshotId'] for x in found)
    assert sorted(c['snapshot_id'] for c in s['copies'][COPY_REGION]) == sorted(c['SnapshotId'] for c in copies)

    # idempotent: the same set id does not take new snapshots or copies
    again = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='web1', instance_id=iid,
                                                   exclude_volumes=['/dev/sdg'], copy_to_region=COPY_REGION,
                                                   copy_kms_key_id='alias/lifeboat-test'))
    assert not again.failed and not again['changed'], again
    assert [x['snapshot_id'] for x in again['snapshot_set']['snapshots']] == [x['snapshot_id'] for x in s['snapshots']]
    assert len(set_snapshots(ec2_copy, set_id)) == 2

    info = run_module('ec2_snapshot_set_info', present(aws, set_id=set_id, regions=[REGION, COPY_REGION]))
    assert not info.failed, info
    by_region = {x['region']: x for x in info['snapshot_sets']}
    assert set(by_region) == {REGION, COPY_REGION}
    assert by_region[REGION]['complete'] and by_region[COPY_REGION]['complete']
    assert by_region[COPY_REGION]['copy_of_region'] == REGION
    assert by_region[REGION]['snapshot_count'] == 2 and by_region[REGION]['size_gib'] == 8 + 2
    host_info = run_module('ec2_snapshot_set_info', present(aws, host='web1', max_age='1h'))
    assert set_id in [x['set_id'] for x in host_info['snapshot_sets']]
    assert all(x['host'] == 'web1' for x in host_info['snapshot_sets'])

    dry = run_module('ec2_snapshot_set', present(aws, state='absent', set_id=set_id), check=True)
    assert dry['changed'] and set(dry['deleted']) == {REGION, COPY_REGION}
    assert len(set_snapshots(ec2, set_id)) == 2

    gone = run_module('ec2_snapshot_set', present(aws, state='absent', set_id=set_id))
    assert not gone.failed and gone['changed'], gone
    assert sorted(gone['deleted'][REGION]) == sorted(x['SnapshotId'] for x in found)
    assert COPY_REGION in gone['regions_searched']  # found through the copied-to tags
    assert set_snapshots(ec2, set_id) == [] and set_snapshots(ec2_copy, set_id) == []
    assert not run_module('ec2_snapshot_set', present(aws, state='absent', set_id=set_id))['changed']


def test_check_mode_reports_the_volumes_and_takes_nothing(aws, ec2):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, instance_id=iid, exclude_boot=True), check=True)
    assert not r.failed and r['changed'], r
    planned = r['snapshot_set']['snapshots']
    assert [(x['device'], x['volume_id'], x['size_gib']) for x in planned] == [
        ('/dev/sdf', devs['/dev/sdf'], 2), ('/dev/sdg', devs['/dev/sdg'], 3)]
    assert r['snapshot_set']['excluded'][0]['boot'] is True
    assert r['snapshot_set']['host'] == iid  # host defaults to the instance id
    assert set_snapshots(ec2, set_id) == []


def test_exclude_boot_and_a_typo_in_exclude_volumes(aws, ec2):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='db1', instance_id=iid, exclude_boot=True))
    assert not r.failed, r
    assert [x['device'] for x in r['snapshot_set']['snapshots']] == ['/dev/sdf', '/dev/sdg']
    assert len(set_snapshots(ec2, set_id)) == 2  # no boot snapshot (moto honours ExcludeBootVolume)

    typo = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id=iid,
                                                  exclude_volumes=['/dev/sdx']))
    assert typo.failed and 'exclude_volumes names /dev/sdx, which is not attached' in typo.msg, typo


# ---------------------------------------------------------------- instance id from the metadata service

def test_instance_id_from_imdsv2(aws, ec2):
    iid, _devs = make_instance(ec2)
    set_id = new_set_id()
    with FakeImds(iid) as imds:
        r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='app1'),
                       env={'AWS_EC2_METADATA_SERVICE_ENDPOINT': imds.url, 'AWS_EC2_METADATA_DISABLED': 'false'})
    assert not r.failed, r
    assert r['snapshot_set']['instance_id'] == iid
    assert imds.requests[0] == ('PUT', '/latest/api/token')
    assert ('GET', '/latest/dynamic/instance-identity/document') in imds.requests


def test_not_on_ec2_is_a_clear_error(aws):
    url = 'http://127.0.0.1:%d' % closed_port()
    t0 = time.time()
    r = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id()),
                   env={'AWS_EC2_METADATA_SERVICE_ENDPOINT': url, 'AWS_EC2_METADATA_DISABLED': 'false'})
    assert r.failed
    assert 'does not look like an EC2 instance' in r.msg and 'Pass instance_id' in r.msg, r
    assert time.time() - t0 < 20


# ---------------------------------------------------------------- faults

def test_wrong_instance_id(aws):
    r = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id='i-0123456789abcdef0'))
    assert r.failed and r.msg.startswith('instance i-0123456789abcdef0 does not exist in %s' % REGION), r
    assert 'Traceback' not in r.stdout + r.stderr
    bad = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id='web1'))
    assert bad.failed and "'web1' is not an EC2 instance id" in bad.msg, bad


def test_secrets_never_in_output(aws):
    args = present(aws, set_id=new_set_id(), instance_id='i-0123456789abcdef0', secret_key='s3cr3t-Value-xyz',
                   access_key='AKIDTESTVALUE')
    r = run_module('ec2_snapshot_set', args)
    assert r.failed
    assert 's3cr3t-Value-xyz' not in r.stdout + r.stderr


def test_copy_region_unreachable(aws, ec2, ec2_copy):
    iid, _devs = make_instance(ec2)
    set_id = new_set_id()
    url = 'http://127.0.0.1:%d' % closed_port()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='web9', instance_id=iid,
                                               copy_to_region=COPY_REGION, copy_endpoint_url=url, max_attempts=1))
    assert r.failed
    assert r.msg.startswith('cannot reach EC2 in %s (%s)' % (COPY_REGION, url)), r
    assert r.result.get('records', []) == []
    assert set_snapshots(ec2_copy, set_id) == []


def test_options_that_need_waiting(aws, ec2):
    iid, _devs = make_instance(ec2)
    r = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id=iid, wait=False,
                                               copy_to_region=COPY_REGION))
    assert r.failed and 'copy_to_region needs wait=true' in r.msg, r
    nowait = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id=iid, wait=False))
    assert not nowait.failed and nowait['changed'], nowait


# ---------------------------------------------------------------- quiesce hooks

def test_pre_and_post_commands_run_around_the_snapshot(aws, ec2, tmp_path):
    iid, _devs = make_instance(ec2)
    marks = tmp_path / 'marks'
    pre = ['sh', '-c', 'echo freeze >> %s' % marks]
    post = ['sh', '-c', 'echo thaw >> %s' % marks]
    r = run_module('ec2_snapshot_set', present(aws, set_id=new_set_id(), instance_id=iid, pre_command=pre,
                                               post_command=post))
    assert not r.failed, r
    assert marks.read_text().split() == ['freeze', 'thaw']
    assert r['hooks']['pre']['rc'] == 0 and r['hooks']['post']['rc'] == 0


def test_failing_pre_command_still_thaws_and_takes_nothing(aws, ec2, tmp_path):
    iid, _devs = make_instance(ec2)
    marks = tmp_path / 'marks'
    set_id = new_set_id()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, instance_id=iid,
                                               pre_command=['sh', '-c', 'echo freeze >> %s; echo busy >&2; exit 4' % marks],
                                               post_command=['sh', '-c', 'echo thaw >> %s' % marks]))
    assert r.failed and 'pre_command' in r.msg and 'exit code 4' in r.msg and 'busy' in r.msg, r
    assert marks.read_text().split() == ['freeze', 'thaw']
    assert set_snapshots(ec2, set_id) == []


def test_failing_post_command_fails_the_module(aws, ec2):
    iid, _devs = make_instance(ec2)
    set_id = new_set_id()
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, instance_id=iid, pre_command=['true'],
                                               post_command=['sh', '-c', 'exit 3']))
    assert r.failed and 'post_command' in r.msg and 'not recorded' in r.msg and 'frozen' in r.msg, r
    assert len(set_snapshots(ec2, set_id)) == 3  # taken, tagged, but the run failed


# ---------------------------------------------------------------- restore

def restore(aws, **kw):
    return run_module('ec2_snapshot_set_restore', present(aws, **kw))


def test_restore_in_place_preflight_check_mode_and_swap(aws, ec2):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    assert not run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='db1', instance_id=iid)).failed
    snaps = {tags_of(s)['lifeboat:device']: s['SnapshotId'] for s in set_snapshots(ec2, set_id)}

    # running instance, no stop_instance: refused before anything changes
    r = restore(aws, set_id=set_id, host='db1')
    assert r.failed and r.msg.startswith('restore preflight failed, nothing was changed'), r
    assert 'needs it stopped' in r.msg
    assert devices_of(ec2, iid) == devs and instance_state(ec2, iid) == 'running'

    # check mode: the plan, nothing done
    dry = run_module('ec2_snapshot_set_restore', present(aws, set_id=set_id, host='db1', stop_instance=True),
                     check=True)
    assert not dry.failed and dry['changed'], dry
    assert [(v['device'], v['old_volume_id'], v['snapshot_id']) for v in dry['volumes']] == [
        ('/dev/sdf', devs['/dev/sdf'], snaps['/dev/sdf']), ('/dev/sdg', devs['/dev/sdg'], snaps['/dev/sdg'])]
    assert devices_of(ec2, iid) == devs

    done = restore(aws, set_id=set_id, host='db1', stop_instance=True)
    assert not done.failed and done['changed'] and done['stopped_and_started'], done
    now = devices_of(ec2, iid)
    assert now['/dev/sda1'] == devs['/dev/sda1']  # root untouched
    for dev in ('/dev/sdf', '/dev/sdg'):
        assert now[dev] != devs[dev]
        new = ec2.describe_volumes(VolumeIds=[now[dev]])['Volumes'][0]
        assert new['SnapshotId'] == snaps[dev] and new['AvailabilityZone'] == AZ
        assert tags_of(new)['lifeboat:restored-from-set'] == set_id
        old = ec2.describe_volumes(VolumeIds=[devs[dev]])['Volumes'][0]
        assert old['State'] == 'available' and tags_of(old)['lifeboat:replaced-by-set'] == set_id
    assert instance_state(ec2, iid) == 'running'
    assert len(done['restored']) == 2


def test_restore_on_a_stopped_instance_deleting_the_replaced_volumes(aws, ec2):
    iid, devs = make_instance(ec2, data=(('/dev/sdf', 2),))
    set_id = new_set_id()
    assert not run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='db2', instance_id=iid)).failed
    ec2.stop_instances(InstanceIds=[iid])
    r = restore(aws, set_id=set_id, host='db2', delete_replaced=True)
    assert not r.failed and not r['stopped_and_started'], r
    assert instance_state(ec2, iid) == 'stopped'
    assert devices_of(ec2, iid)['/dev/sdf'] != devs['/dev/sdf']
    assert ec2.describe_volumes(Filters=[{'Name': 'volume-id', 'Values': [devs['/dev/sdf']]}])['Volumes'] == []


def test_restore_inspect_attaches_extra_devices(aws, ec2):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    assert not run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='db3', instance_id=iid)).failed
    clash = restore(aws, set_id=set_id, host='db3', mode='inspect', devices=['f', 'q'])
    assert clash.failed and '/dev/sdf are already in use' in clash.msg, clash
    r = restore(aws, set_id=set_id, host='db3', mode='inspect', devices=['p', 'q'])
    assert not r.failed, r
    now = devices_of(ec2, iid)
    assert {k: now[k] for k in devs} == devs  # nothing replaced
    assert {'/dev/sdp', '/dev/sdq'} <= set(now)
    assert [v['source_device'] for v in r['volumes']] == ['/dev/sdf', '/dev/sdg']
    assert instance_state(ec2, iid) == 'running'


def test_restore_refuses_incomplete_sets_and_mismatched_devices(aws, ec2):
    iid, devs = make_instance(ec2)
    set_id = new_set_id()
    assert not run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='db4', instance_id=iid)).failed
    other, other_devs = make_instance(ec2, data=(('/dev/sdf', 2),))
    r = restore(aws, set_id=set_id, host='db4', instance_id=other, stop_instance=True)
    assert r.failed and 'the instance has no volume at /dev/sdg' in r.msg, r
    assert devices_of(ec2, other) == other_devs and instance_state(ec2, other) == 'running'

    victim = [s for s in set_snapshots(ec2, set_id) if tags_of(s)['lifeboat:device'] == '/dev/sdg'][0]
    ec2.delete_snapshot(SnapshotId=victim['SnapshotId'])
    r = restore(aws, set_id=set_id, host='db4', stop_instance=True)
    assert r.failed and 'is incomplete (2 of 3 snapshots found)' in r.msg, r
    assert devices_of(ec2, iid) == devs
    info = run_module('ec2_snapshot_set_info', present(aws, set_id=set_id))
    assert info['snapshot_sets'][0]['state'] == 'incomplete' and not info['snapshot_sets'][0]['complete']

    missing = restore(aws, set_id=new_set_id(), host='db4')
    assert missing.failed and 'there is no snapshot group' in missing.msg


@pytest.mark.parametrize('module', ['ec2_snapshot_set', 'ec2_snapshot_set_info', 'ec2_snapshot_set_restore'])
def test_modules_say_which_region_is_missing(module):
    args = {'set_id': '20261122T031500Z', 'instance_id': 'i-0123456789abcdef0', 'access_key': 'AKIDNOREGIONTEST',
            'secret_key': 'no-region-secret-value'}
    if module == 'ec2_snapshot_set_info':
        args.pop('instance_id')
    env = {'AWS_REGION': '', 'AWS_DEFAULT_REGION': ''}
    r = run_module(module, args, env=env)
    assert r.failed and 'no AWS region' in r.msg, r
    assert os.environ.get('AWS_EC2_METADATA_DISABLED') == 'true'


def test_recording_into_a_set_that_is_not_open_takes_nothing(aws, ec2, tmp_path):
    iid, _devs = make_instance(ec2)
    set_id = new_set_id()
    store = {'type': 'filesystem', 'path': str(tmp_path)}
    r = run_module('ec2_snapshot_set', present(aws, set_id=set_id, host='web1', instance_id=iid, record_in_set=True,
                                               store=store))
    assert r.failed and 'set %s does not exist in the filesystem store' % set_id in r.msg, r
    assert set_snapshots(ec2, set_id) == []
