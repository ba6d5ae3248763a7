# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 behaviour moto cannot produce, through botocore's Stubber (real botocore clients, request validation and
response parsing; no network).

Every test here is a Stubber test because moto lacks the behaviour: moto's snapshots are born ``completed`` (no
pending or error states, so no waiting, timeouts or failed snapshots), it never throttles, it does not enforce
IAM (AccessDenied), and it has no CreateReplaceRootVolumeTask. Everything moto does implement is tested against
a moto server in tests/integration/ec2/.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

boto3 = pytest.importorskip('boto3')
from botocore.stub import ANY, Stubber  # noqa: E402

from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import backup as snapshot_backup  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import info as snapshot_info  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import restore as snapshot_restore  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DeniedError, LifeboatError, ThrottledError  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store  # noqa: E402

IID = 'i-0123456789abcdef0'
ROOT, DATA, SKIP = 'vol-00000000000000001', 'vol-00000000000000002', 'vol-00000000000000003'
T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=datetime.timezone.utc)


class Clock(object):
    """A fake clock: sleep() advances it and remembers each delay."""

    def __init__(self):
        self.t = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, d):
        self.sleeps.append(d)
        self.t += d


class Stubbed(object):
    """A real botocore EC2 client for one region with a Stubber, wrapped in our adapter."""

    def __init__(self, region='us-east-1', clock=None):
        self.client = boto3.client('ec2', region_name=region, aws_access_key_id='testing',
                                   aws_secret_access_key='testing')
        self.stub = Stubber(self.client)
        self.stub.activate()
        self.clock = clock or Clock()
        self.ec2 = ec2_client.Ec2({}, region=region, client=self.client, sleep=self.clock.sleep, rng=lambda: 1.0)

    def ok(self, method, response, params=None):
        self.stub.add_response(method, response, params)

    def err(self, method, code, message='', status=400):
        self.stub.add_client_error(method, service_error_code=code, service_message=message, http_status_code=status)


def instance(state='running', data=True):
    bdm = [{'DeviceName': '/dev/xvda', 'Ebs': {'VolumeId': ROOT, 'Status': 'attached'}}]
    if data:
        bdm += [{'DeviceName': '/dev/sdf', 'Ebs': {'VolumeId': DATA, 'Status': 'attached'}},
                {'DeviceName': '/dev/sdg', 'Ebs': {'VolumeId': SKIP, 'Status': 'attached'}}]
    return {'Reservations': [{'Instances': [{
        'InstanceId': IID, 'RootDeviceName': '/dev/xvda', 'State': {'Name': state, 'Code': 16},
        'Placement': {'AvailabilityZone': 'us-east-1a'}, 'BlockDeviceMappings': bdm}]}]}


def volumes():
    return {'Volumes': [{'VolumeId': v, 'Size': s, 'VolumeType': 'gp3', 'State': 'in-use', 'Encrypted': True}
                        for v, s in ((ROOT, 8), (DATA, 100), (SKIP, 5))]}


def snapshot(sid, vol, state, device=None, boot=False, set_id='20261122T031500Z', message=None):
    s = {'SnapshotId': sid, 'VolumeId': vol, 'State': state, 'VolumeSize': 8 if boot else 100, 'StartTime': T0,
         'Progress': '100%' if state == 'completed' else '37%', 'Encrypted': True}
    if device:
        s['Tags'] = snapshot_logic.tag_list({snapshot_logic.TAG_SET_ID: set_id, snapshot_logic.TAG_HOST: 'db1', snapshot_logic.TAG_DEVICE: device,
                                             snapshot_logic.TAG_VOLUME_ID: vol, snapshot_logic.TAG_BOOT: 'true' if boot else 'false',
                                             snapshot_logic.TAG_GROUP_SIZE: '2', snapshot_logic.TAG_INSTANCE_ID: IID})
    if message:
        s['StateMessage'] = message
    return s


def pair(state_root, state_data):
    return {'Snapshots': [snapshot('snap-1', ROOT, state_root, '/dev/xvda', boot=True),
                          snapshot('snap-2', DATA, state_data, '/dev/sdf')]}


OPTS = {'set_id': '20261122T031500Z', 'host': 'db1', 'instance_id': IID, 'exclude_volumes': ['/dev/sdg'],
        'wait': True, 'wait_timeout': 600}


def stub_take(s, create_errors=(), set_id='20261122T031500Z'):
    """The calls of taking a set up to the first wait poll (excluding /dev/sdg)."""
    s.ok('describe_instances', instance(), {'InstanceIds': [IID]})
    s.ok('describe_volumes', volumes())
    s.ok('describe_snapshots', {'Snapshots': []}, {'OwnerIds': ['self'], 'Filters': ANY})
    for code in create_errors:
        s.err('create_snapshots', code, 'slow down')
    s.ok('create_snapshots', {'Snapshots': [{'SnapshotId': 'snap-1', 'VolumeId': ROOT},
                                            {'SnapshotId': 'snap-2', 'VolumeId': DATA}]},
         {'InstanceSpecification': {'InstanceId': IID, 'ExcludeBootVolume': False, 'ExcludeDataVolumeIds': [SKIP]},
          'Description': 'lifeboat.backup snapshot set %s of db1' % set_id, 'TagSpecifications': ANY,
          'CopyTagsFromSource': 'volume'})
    s.ok('create_tags', {}, {'Resources': ['snap-1'], 'Tags': ANY})
    s.ok('create_tags', {}, {'Resources': ['snap-2'], 'Tags': ANY})
    s.ok('describe_snapshots', pair('pending', 'pending'))


def factory(*clients):
    by_region = {c.ec2.region: c.ec2 for c in clients}

    def make(region=None, endpoint_url=None):
        return by_region[region or 'us-east-1']
    return make


# ---------------------------------------------------------------- waiting, error state, timeout

def test_waits_with_backoff_until_completed():
    """Stubber test: moto has no pending snapshots."""
    s = Stubbed()
    stub_take(s)
    s.ok('describe_snapshots', pair('pending', 'pending'))
    s.ok('describe_snapshots', pair('completed', 'pending'))
    s.ok('describe_snapshots', pair('completed', 'completed'))
    res = snapshot_backup.create_group(factory(s), dict(OPTS), clock=s.clock, sleep=s.clock.sleep)
    s.stub.assert_no_pending_responses()
    assert res['changed'] and res['snapshot_set']['state'] == 'completed'
    assert s.clock.sleeps == [5.0, 7.5]
    assert [x['device'] for x in res['snapshot_set']['snapshots']] == ['/dev/xvda', '/dev/sdf']


def test_snapshot_in_error_state_fails_and_the_group_is_not_recorded(tmp_path):
    """Stubber test: moto snapshots never end in error state. The backup set is a real filesystem store."""
    store_params = {'type': 'filesystem', 'path': str(tmp_path), 'prefix': ''}
    with open_store(store_params) as store:
        set_id = lifecycle.start(store)['set_id']
    s = Stubbed()
    stub_take(s, set_id=set_id)
    s.ok('describe_snapshots', {'Snapshots': [snapshot('snap-1', ROOT, 'completed', '/dev/xvda', boot=True),
                                              snapshot('snap-2', DATA, 'error', '/dev/sdf', message='internal error')]})
    opts = dict(OPTS, set_id=set_id, record_in_set=True, store=store_params)
    with pytest.raises(LifeboatError) as e:
        snapshot_backup.create_group(factory(s), opts, clock=s.clock, sleep=s.clock.sleep)
    assert 'is incomplete: a snapshot ended in error state: snap-2 (/dev/sdf, error): internal error' in e.value.msg
    assert e.value.details['snapshot_set']['state'] == 'error'
    assert e.value.details['records'] == []
    with open_store(store_params) as store:
        records, _present = lifecycle.load_records(store, set_id)
        assert records == []
        with pytest.raises(LifeboatError, match=r'no artifacts from host\(s\) db1'):
            lifecycle.commit(store, set_id, hosts=['db1'])


def test_timeout_while_waiting():
    """Stubber test: moto snapshots complete at once, so nothing can time out."""
    s = Stubbed()
    stub_take(s)
    for _i in range(4):  # polls at 0, 5, 12.5 and 20 s
        s.ok('describe_snapshots', pair('completed', 'pending'))
    with pytest.raises(LifeboatError) as e:
        snapshot_backup.create_group(factory(s), dict(OPTS, wait_timeout=20), clock=s.clock, sleep=s.clock.sleep)
    assert e.value.msg.startswith('timed out after 20 seconds waiting for snapshot group 20261122T031500Z of db1 in '
                                  'us-east-1: 1 of 2 completed (still pending: snap-2 /dev/sdf 37%)')
    assert 'run again with the same set_id' in e.value.msg
    assert s.clock.sleeps == [5.0, 7.5, 7.5]
    assert e.value.details['snapshot_set']['state'] == 'pending'


def test_wait_false_returns_pending_at_once():
    """Stubber test: only a pending snapshot shows that wait=false does not wait."""
    s = Stubbed()
    stub_take(s)
    res = snapshot_backup.create_group(factory(s), dict(OPTS, wait=False), clock=s.clock, sleep=s.clock.sleep)
    assert res['snapshot_set']['state'] == 'pending' and s.clock.sleeps == []


def test_copy_waits_and_reports_a_failed_copy():
    """Stubber test: moto copies are born completed and never fail."""
    clock = Clock()
    src, dst = Stubbed(clock=clock), Stubbed('eu-west-1', clock=clock)
    stub_take(src)
    src.ok('describe_snapshots', pair('completed', 'completed'))
    dst.ok('describe_snapshots', {'Snapshots': []})  # no copies yet
    src.ok('describe_snapshots', pair('completed', 'completed'))  # source tags for the copies
    for sid, cid in (('snap-1', 'snap-c1'), ('snap-2', 'snap-c2')):
        dst.ok('copy_snapshot', {'SnapshotId': cid},
               {'SourceRegion': 'us-east-1', 'SourceSnapshotId': sid, 'Encrypted': True, 'KmsKeyId': 'alias/dr',
                'Description': ANY, 'TagSpecifications': ANY})
        src.ok('create_tags', {}, {'Resources': [sid], 'Tags': [{'Key': 'lifeboat:copied-to:eu-west-1',
                                                                 'Value': cid}]})
    copies = [snapshot('snap-c1', ROOT, 'pending', '/dev/xvda', boot=True),
              snapshot('snap-c2', DATA, 'pending', '/dev/sdf')]
    dst.ok('describe_snapshots', {'Snapshots': copies})
    dst.ok('describe_snapshots', {'Snapshots': copies})
    failed = [dict(copies[0], State='completed'), dict(copies[1], State='error')]
    dst.ok('describe_snapshots', {'Snapshots': failed})
    with pytest.raises(LifeboatError) as e:
        snapshot_backup.create_group(factory(src, dst), dict(OPTS, copy_to_region='eu-west-1', copy_kms_key_id='alias/dr'),
                                     clock=clock, sleep=clock.sleep)
    assert e.value.msg.startswith('the copy of snapshot group 20261122T031500Z of db1 to eu-west-1 failed: '
                                  'snap-c2 (/dev/sdf, error)')
    assert e.value.details['records'] == []
    src.stub.assert_no_pending_responses()
    dst.stub.assert_no_pending_responses()


# ---------------------------------------------------------------- throttling and permissions

def test_per_volume_snapshot_rate_is_retried_with_its_own_backoff():
    """Stubber test: moto never throttles. SnapshotCreationPerVolumeRateExceeded is the one throttling code
    botocore's standard retry mode does not retry: the adapter waits 15-20 s (one snapshot per volume every 15 s)."""
    s = Stubbed()
    stub_take(s, create_errors=('SnapshotCreationPerVolumeRateExceeded', 'SnapshotCreationPerVolumeRateExceeded'))
    s.ok('describe_snapshots', pair('completed', 'completed'))
    res = snapshot_backup.create_group(factory(s), dict(OPTS), clock=s.clock, sleep=s.clock.sleep)
    assert res['snapshot_set']['state'] == 'completed'
    assert s.clock.sleeps == [20.0, 20.0]  # rng 1.0: the top of 15-20 s
    s.stub.assert_no_pending_responses()


def test_throttling_botocore_already_retried_is_not_retried_again():
    """Stubber test: moto never throttles. RequestLimitExceeded reaches the adapter only after botocore's standard
    mode used its max_attempts (the Stubber answers below botocore's retry handler): one typed error, no sleep of
    ours, so attempts never multiply."""
    s = Stubbed()
    s.err('describe_instances', 'RequestLimitExceeded', 'Request limit exceeded.')
    with pytest.raises(ThrottledError) as e:
        s.ec2.instance(IID)
    assert e.value.msg == ('ec2:DescribeInstances in us-east-1 was throttled (RequestLimitExceeded) and did not '
                           'succeed after retries: Request limit exceeded.')
    assert s.clock.sleeps == []
    s.stub.assert_no_pending_responses()


def test_per_volume_rate_gives_up_with_a_clear_message():
    """Stubber test: moto never throttles."""
    s = Stubbed()
    for _i in range(7):
        s.err('create_snapshots', 'SnapshotCreationPerVolumeRateExceeded', 'slow down')
    with pytest.raises(ThrottledError, match=r'^ec2:CreateSnapshots in us-east-1 was throttled '
                                             r'\(SnapshotCreationPerVolumeRateExceeded\)'):
        s.ec2.create_snapshots(IID, False, [], 'd', {})
    assert len(s.clock.sleeps) == 6


def test_new_snapshots_not_visible_yet_are_retried():
    """Stubber test: moto is immediately consistent; EC2 may not know a snapshot created a moment ago."""
    s = Stubbed()
    s.ok('describe_instances', instance())
    s.ok('describe_volumes', volumes())
    s.ok('describe_snapshots', {'Snapshots': []})
    s.ok('create_snapshots', {'Snapshots': [{'SnapshotId': 'snap-1', 'VolumeId': ROOT},
                                            {'SnapshotId': 'snap-2', 'VolumeId': DATA}]})
    s.err('create_tags', 'InvalidSnapshot.NotFound', "The snapshot 'snap-1' does not exist.")
    s.ok('create_tags', {}, {'Resources': ['snap-1'], 'Tags': ANY})
    s.ok('create_tags', {}, {'Resources': ['snap-2'], 'Tags': ANY})
    s.err('describe_snapshots', 'InvalidSnapshot.NotFound', "The snapshot 'snap-2' does not exist.")
    s.ok('describe_snapshots', pair('completed', 'completed'))
    s.ok('describe_snapshots', pair('completed', 'completed'))
    res = snapshot_backup.create_group(factory(s), dict(OPTS), clock=s.clock, sleep=s.clock.sleep)
    assert res['snapshot_set']['state'] == 'completed'
    assert s.clock.sleeps == [2.0, 2.0]
    s.stub.assert_no_pending_responses()


def test_access_denied_names_the_permission():
    """Stubber test: moto does not enforce IAM."""
    s = Stubbed()
    s.ok('describe_instances', instance())
    s.ok('describe_volumes', volumes())
    s.ok('describe_snapshots', {'Snapshots': []})
    s.err('create_snapshots', 'UnauthorizedOperation', 'You are not authorized to perform this operation. '
                                                       'Encoded authorization failure message: AbCdEf0123')
    with pytest.raises(DeniedError) as e:
        snapshot_backup.create_group(factory(s), dict(OPTS), clock=s.clock, sleep=s.clock.sleep)
    assert e.value.msg == ('AWS denied ec2:CreateSnapshots in us-east-1 (UnauthorizedOperation): You are not '
                           'authorized to perform this operation. Grant it to the role or user this module runs as '
                           '(docs/snapshots.md lists the IAM permissions)')
    assert e.value.details['action'] == 'ec2:CreateSnapshots'


def test_access_denied_on_listing():
    """Stubber test: moto does not enforce IAM."""
    s = Stubbed()
    s.err('describe_snapshots', 'UnauthorizedOperation', 'You are not authorized to perform this operation.')
    with pytest.raises(LifeboatError, match=r'^AWS denied ec2:DescribeSnapshots in us-east-1'):
        snapshot_info.list_groups(factory(s), {})


def test_quiesce_hook_runs_after_a_failed_create():
    """Stubber test: a CreateSnapshots failure (AccessDenied) after the pre command: the post command still runs."""
    s = Stubbed()
    s.ok('describe_instances', instance())
    s.ok('describe_volumes', volumes())
    s.ok('describe_snapshots', {'Snapshots': []})
    s.err('create_snapshots', 'UnauthorizedOperation', 'no')
    ran = []

    def hook(argv, timeout, what):
        ran.append((what, argv))
        return {'rc': 0}
    with pytest.raises(LifeboatError, match='AWS denied ec2:CreateSnapshots'):
        snapshot_backup.create_group(factory(s), dict(OPTS, pre_command=['freeze'], post_command=['thaw']), clock=s.clock,
                                     sleep=s.clock.sleep, hook=hook)
    assert ran == [('pre_command', ['freeze']), ('post_command', ['thaw'])]


# ---------------------------------------------------------------- replace-root-volume task

def boot_only_set(state='completed'):
    s = snapshot('snap-1', ROOT, state, '/dev/xvda', boot=True)
    s['Tags'] = [t if t['Key'] != snapshot_logic.TAG_GROUP_SIZE else {'Key': snapshot_logic.TAG_GROUP_SIZE, 'Value': '1'} for t in s['Tags']]
    return {'Snapshots': [s]}


def task(state):
    return {'ReplaceRootVolumeTasks': [{'ReplaceRootVolumeTaskId': 'replacevol-0123456789abcdef0',
                                        'InstanceId': IID, 'TaskState': state}]}


RESTORE = {'set_id': '20261122T031500Z', 'host': 'db1', 'replace_root': True, 'wait_timeout': 600}


def test_replace_root_volume_task():
    """Stubber test: moto has no CreateReplaceRootVolumeTask."""
    s = Stubbed()
    s.ok('describe_snapshots', boot_only_set())
    s.ok('describe_instances', instance(data=False))
    s.ok('create_replace_root_volume_task',
         {'ReplaceRootVolumeTask': {'ReplaceRootVolumeTaskId': 'replacevol-0123456789abcdef0', 'TaskState': 'pending'}},
         {'InstanceId': IID, 'SnapshotId': 'snap-1', 'DeleteReplacedRootVolume': False, 'TagSpecifications': [
             {'ResourceType': 'replace-root-volume-task',
              'Tags': [{'Key': snapshot_logic.TAG_RESTORED_FROM, 'Value': '20261122T031500Z'}]}]})
    s.ok('describe_replace_root_volume_tasks', task('pending'),
         {'ReplaceRootVolumeTaskIds': ['replacevol-0123456789abcdef0']})
    s.ok('describe_replace_root_volume_tasks', task('in-progress'))
    s.ok('describe_replace_root_volume_tasks', task('succeeded'))
    res = snapshot_restore.restore_group(factory(s), dict(RESTORE), clock=s.clock, sleep=s.clock.sleep)
    s.stub.assert_no_pending_responses()
    assert res['root']['task_state'] == 'succeeded' and res['root']['old_volume_id'] == ROOT
    assert res['volumes'] == [] and res['restored'] == ['root /dev/xvda: replaced from snap-1']


def test_replace_root_volume_task_that_fails():
    """Stubber test: moto has no CreateReplaceRootVolumeTask."""
    s = Stubbed()
    s.ok('describe_snapshots', boot_only_set())
    s.ok('describe_instances', instance(data=False))
    s.ok('create_replace_root_volume_task', {'ReplaceRootVolumeTask': {
        'ReplaceRootVolumeTaskId': 'replacevol-0123456789abcdef0', 'TaskState': 'pending'}})
    s.ok('describe_replace_root_volume_tasks', task('failing'))
    with pytest.raises(LifeboatError, match='replace-root-volume task replacevol-0123456789abcdef0 is failing '
                                            r'\(the old root volume stays attached\)'):
        snapshot_restore.restore_group(factory(s), dict(RESTORE), clock=s.clock, sleep=s.clock.sleep)


@pytest.mark.parametrize('state,snap_state,expect', [
    ('stopped', 'completed', 'replacing the root volume needs the instance running'),
    ('running', 'pending', 'is pending (some snapshots are still pending)'),
])
def test_replace_root_preflight_changes_nothing(state, snap_state, expect):
    """Stubber test: no replace-root task in moto; the Stubber also proves no changing call is made."""
    s = Stubbed()
    s.ok('describe_snapshots', boot_only_set(snap_state))
    s.ok('describe_instances', instance(state, data=False))
    with pytest.raises(LifeboatError) as e:
        snapshot_restore.restore_group(factory(s), dict(RESTORE), clock=s.clock, sleep=s.clock.sleep)
    assert e.value.msg.startswith('restore preflight failed, nothing was changed') and expect in e.value.msg
    s.stub.assert_no_pending_responses()


def test_replace_root_check_mode():
    """Stubber test: check mode plans the root replacement without calling CreateReplaceRootVolumeTask."""
    s = Stubbed()
    s.ok('describe_snapshots', boot_only_set())
    s.ok('describe_instances', instance(data=False))
    res = snapshot_restore.restore_group(factory(s), dict(RESTORE), check_mode=True, clock=s.clock, sleep=s.clock.sleep)
    assert res['changed'] and res['root']['snapshot_id'] == 'snap-1' and 'task_id' not in res['root']
