# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot groups, pure logic: tags, volume selection, groups and states, waits, restore plans (no I/O)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import itertools

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)

INSTANCE = {
    'InstanceId': 'i-0123456789abcdef0',
    'RootDeviceName': '/dev/xvda',
    'BlockDeviceMappings': [
        {'DeviceName': '/dev/sdg', 'Ebs': {'VolumeId': 'vol-00000000000000003', 'Status': 'attached'}},
        {'DeviceName': '/dev/xvda', 'Ebs': {'VolumeId': 'vol-00000000000000001', 'Status': 'attached',
                                            'DeleteOnTermination': True}},
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeId': 'vol-00000000000000002', 'Status': 'attached'}},
        {'DeviceName': '/dev/sdb', 'VirtualName': 'ephemeral0'},
    ],
}
VOLS = {'vol-00000000000000001': {'Size': 8, 'VolumeType': 'gp3', 'Encrypted': True},
        'vol-00000000000000002': {'Size': 100, 'VolumeType': 'io2'}}


def volumes():
    return snapshot_logic.instance_volumes(INSTANCE, VOLS)


def raw(sid, vol, device, state='completed', boot=False, set_id='20261122T031500Z', host='db1', size=2,
        set_size=3, start=T0, extra=None):
    tags = {snapshot_logic.TAG_SET_ID: set_id, snapshot_logic.TAG_HOST: host, snapshot_logic.TAG_DEVICE: device, snapshot_logic.TAG_VOLUME_ID: vol,
            snapshot_logic.TAG_BOOT: 'true' if boot else 'false', snapshot_logic.TAG_GROUP_SIZE: str(set_size),
            snapshot_logic.TAG_INSTANCE_ID: 'i-0123456789abcdef0'}
    tags.update(extra or {})
    return {'SnapshotId': sid, 'VolumeId': vol, 'State': state, 'VolumeSize': size, 'StartTime': start,
            'Progress': '100%' if state == 'completed' else '40%', 'Tags': snapshot_logic.tag_list(tags)}


def a_group(states=('completed', 'completed', 'completed'), expected=3):
    specs = [('snap-1', 'vol-00000000000000001', '/dev/xvda', True, 8),
             ('snap-2', 'vol-00000000000000002', '/dev/sdf', False, 100),
             ('snap-3', 'vol-00000000000000003', '/dev/sdg', False, 2)]
    snaps = [raw(sid, vol, dev, state, boot=boot, size=size) for (sid, vol, dev, boot, size), state in zip(specs, states)]
    return snapshot_logic.make_group('20261122T031500Z', 'db1', 'i-0123456789abcdef0', 'us-east-1', snaps, expected=expected)


# ---------------------------------------------------------------- validation and tags

def test_ids_are_validated():
    assert snapshot_logic.validate_set_id('20261122T031500Z-hourly') == '20261122T031500Z-hourly'
    for bad in ('', 'a b', '-x', 'x' * 129, None):
        with pytest.raises(LifeboatError):
            snapshot_logic.validate_set_id(bad)
    assert snapshot_logic.validate_instance_id('i-0123456789abcdef0')
    assert snapshot_logic.validate_instance_id('i-01234567')
    for bad in ('web1', 'i-xyz', 'vol-0123456789abcdef0', ''):
        with pytest.raises(LifeboatError, match='not an EC2 instance id'):
            snapshot_logic.validate_instance_id(bad)


def test_user_tags_cannot_use_reserved_keys():
    assert snapshot_logic.validate_user_tags({'team': 'db', 'n': 3, 'e': None}) == {'team': 'db', 'n': '3', 'e': ''}
    for bad in ({'lifeboat:set-id': 'x'}, {'aws:foo': 'x'}, {'AWS:foo': 'x'}, {'k' * 129: 'v'}, {'k': 'v' * 257}):
        with pytest.raises(LifeboatError):
            snapshot_logic.validate_user_tags(bad)


def test_group_tags_ours_win_and_round_trip():
    t = snapshot_logic.group_tags('S1', 'db1', 'i-0123456789abcdef0', 3, 'us-east-1a', {'team': 'db'})
    assert t == {snapshot_logic.TAG_SET_ID: 'S1', snapshot_logic.TAG_HOST: 'db1', snapshot_logic.TAG_INSTANCE_ID: 'i-0123456789abcdef0',
                 snapshot_logic.TAG_GROUP_SIZE: '3', snapshot_logic.TAG_AZ: 'us-east-1a', 'team': 'db'}
    assert snapshot_logic.tag_dict(snapshot_logic.tag_list(t)) == t
    assert [x['Key'] for x in snapshot_logic.tag_list(t)] == sorted(t)


def test_volume_and_copy_tags():
    v = {'device': '/dev/sdf', 'volume_id': 'vol-1', 'boot': False, 'volume_type': 'gp3'}
    assert snapshot_logic.volume_tags(v) == {snapshot_logic.TAG_DEVICE: '/dev/sdf', snapshot_logic.TAG_VOLUME_ID: 'vol-1', snapshot_logic.TAG_BOOT: 'false',
                                             snapshot_logic.TAG_VOLUME_TYPE: 'gp3'}
    src = {snapshot_logic.TAG_SET_ID: 'S1', snapshot_logic.TAG_COPIED_TO + 'eu-west-1': 'snap-9', 'aws:backup': 'x', 'team': 'db'}
    assert snapshot_logic.copy_tags(src, 'snap-1', 'us-east-1') == {snapshot_logic.TAG_SET_ID: 'S1', 'team': 'db',
                                                                    snapshot_logic.TAG_SOURCE_SNAPSHOT: 'snap-1',
                                                                    snapshot_logic.TAG_SOURCE_REGION: 'us-east-1'}


def test_filters_always_require_the_set_tag():
    assert snapshot_logic.group_filters() == [{'Name': 'tag-key', 'Values': [snapshot_logic.TAG_SET_ID]}]
    f = snapshot_logic.group_filters('S1', 'db1')
    assert {'Name': 'tag:' + snapshot_logic.TAG_SET_ID, 'Values': ['S1']} in f
    assert {'Name': 'tag:' + snapshot_logic.TAG_HOST, 'Values': ['db1']} in f


# ---------------------------------------------------------------- devices and volumes

def test_device_names():
    assert snapshot_logic.device_key('/dev/sdf') == snapshot_logic.device_key('/dev/xvdf') == snapshot_logic.device_key('xvdf') == 'sdf'
    assert snapshot_logic.device_key('/dev/nvme1n1') == 'nvme1n1'
    assert snapshot_logic.device_name('p') == '/dev/sdp'
    assert snapshot_logic.device_name('xvdq') == '/dev/xvdq'
    assert snapshot_logic.device_name('/dev/sdr') == '/dev/sdr'
    with pytest.raises(LifeboatError):
        snapshot_logic.device_name('/dev/sd f')


def test_instance_volumes_boot_first_with_details():
    vols = volumes()
    assert [(v['device'], v['boot']) for v in vols] == [('/dev/xvda', True), ('/dev/sdf', False), ('/dev/sdg', False)]
    assert vols[0]['size_gib'] == 8 and vols[0]['encrypted'] is True
    assert vols[1]['volume_type'] == 'io2'
    assert 'size_gib' not in vols[2]


def test_select_volumes():
    inc, exc = snapshot_logic.select_volumes(volumes())
    assert len(inc) == 3 and exc == []
    inc, exc = snapshot_logic.select_volumes(volumes(), exclude_boot=True, exclude=['xvdg'])
    assert [v['device'] for v in inc] == ['/dev/sdf']
    assert [v['device'] for v in exc] == ['/dev/xvda', '/dev/sdg']
    inc, exc = snapshot_logic.select_volumes(volumes(), exclude=['vol-00000000000000002'])
    assert [v['device'] for v in exc] == ['/dev/sdf']


def test_select_volumes_refuses_typos_the_boot_volume_and_nothing():
    with pytest.raises(LifeboatError, match='names /dev/sdz, vol-0000000000000000f, which are not attached'):
        snapshot_logic.select_volumes(volumes(), exclude=['/dev/sdz', 'vol-0000000000000000f'])
    with pytest.raises(LifeboatError, match='use exclude_boot=true'):
        snapshot_logic.select_volumes(volumes(), exclude=['/dev/xvda'])
    assert len(snapshot_logic.select_volumes(volumes(), exclude_boot=True, exclude=['/dev/xvda'])[0]) == 2
    with pytest.raises(LifeboatError, match='nothing to snapshot'):
        snapshot_logic.select_volumes(volumes(), exclude_boot=True, exclude=['/dev/sdf', '/dev/sdg'])


def test_match_created_finds_ignored_exclusions_and_gaps():
    inc, exc = snapshot_logic.select_volumes(volumes(), exclude=['/dev/sdg'])
    created = [{'SnapshotId': 'snap-1', 'VolumeId': 'vol-00000000000000001'},
               {'SnapshotId': 'snap-2', 'VolumeId': 'vol-00000000000000002'},
               {'SnapshotId': 'snap-3', 'VolumeId': 'vol-00000000000000003'}]
    kept, unwanted, problems = snapshot_logic.match_created(created, inc, exc)
    assert [s['SnapshotId'] for s, _v in kept] == ['snap-1', 'snap-2']
    assert [s['SnapshotId'] for s in unwanted] == ['snap-3'] and problems == []
    kept, unwanted, problems = snapshot_logic.match_created(created[:1] + [{'SnapshotId': 'snap-9', 'VolumeId': 'vol-9'}],
                                                            inc, exc)
    assert [s['SnapshotId'] for s in unwanted] == ['snap-9']
    assert problems == ['snapshot snap-9 is of volume vol-9, which was not asked for',
                        'no snapshot was created for volume vol-00000000000000002 (/dev/sdf)']


# ---------------------------------------------------------------- sets and states

def test_group_state():
    assert a_group()['state'] == snapshot_logic.COMPLETED and a_group()['complete']
    assert a_group(('completed', 'pending', 'completed'))['state'] == snapshot_logic.PENDING
    assert a_group(('completed', 'pending', 'error'))['state'] == snapshot_logic.ERROR
    assert a_group(('completed', 'completed'), expected=3)['state'] == snapshot_logic.INCOMPLETE
    assert snapshot_logic.group_state([]) == snapshot_logic.INCOMPLETE
    assert snapshot_logic.group_state([{'state': 'recoverable'}]) == snapshot_logic.ERROR


def test_make_group_summaries():
    s = a_group(('completed', 'pending', 'completed'))
    assert [x['device'] for x in s['snapshots']] == ['/dev/xvda', '/dev/sdf', '/dev/sdg']
    assert s['snapshots'][0]['boot'] and not s['snapshots'][1]['boot']
    assert s['size_gib'] == 110 and s['snapshot_count'] == 3 and s['expected_count'] == 3
    assert s['start_time'] == '2026-11-22T03:15:00Z'
    assert s['snapshots'][1]['progress'] == '40%'


def test_describe_failures():
    s = a_group(('completed', 'error', 'completed'))
    s['snapshots'][1]['state_message'] = 'internal error'
    assert snapshot_logic.describe_failures(s['snapshots']) == 'snap-2 (/dev/sdf, error): internal error'


def test_group_snapshots_by_set_id_and_host_newest_first():
    later = T0 + datetime.timedelta(hours=1)
    items = [raw('snap-1', 'vol-1', '/dev/sdf', set_size=1),
             raw('snap-2', 'vol-2', '/dev/sdf', host='db2', set_size=1),
             raw('snap-3', 'vol-1', '/dev/sdf', set_id='20261122T041500Z', start=later, set_size=2),
             {'SnapshotId': 'snap-x', 'Tags': []}]
    sets = snapshot_logic.group_snapshots(items, 'us-east-1')
    assert [(s['set_id'], s['host']) for s in sets] == [('20261122T041500Z', 'db1'), ('20261122T031500Z', 'db2'),
                                                        ('20261122T031500Z', 'db1')]
    assert sets[0]['state'] == snapshot_logic.INCOMPLETE  # one of two
    copy = raw('snap-c', 'vol-1', '/dev/sdf', set_size=1,
               extra={snapshot_logic.TAG_SOURCE_REGION: 'us-east-1', snapshot_logic.TAG_SOURCE_SNAPSHOT: 'snap-1'})
    c = snapshot_logic.group_snapshots([copy], 'eu-west-1')[0]
    assert c['copy_of_region'] == 'us-east-1' and c['snapshots'][0]['source_snapshot_id'] == 'snap-1'


def test_max_age():
    assert snapshot_logic.parse_max_age(None) is None
    assert snapshot_logic.parse_max_age('90') == 90
    assert snapshot_logic.parse_max_age('15m') == 900
    assert snapshot_logic.parse_max_age(' 36h ') == 36 * 3600
    assert snapshot_logic.parse_max_age('7d') == 7 * 86400
    assert snapshot_logic.parse_max_age('2w') == 14 * 86400
    for bad in ('1y', 'abc', '-1d'):
        with pytest.raises(LifeboatError, match='max_age'):
            snapshot_logic.parse_max_age(bad)
    now = T0 + datetime.timedelta(hours=2)
    assert snapshot_logic.within_age('2026-11-22T03:15:00Z', 3 * 3600, now)
    assert not snapshot_logic.within_age('2026-11-22T03:15:00Z', 3600, now)
    assert snapshot_logic.within_age(None, 60, now) and snapshot_logic.within_age('2026-11-22T03:15:00Z', None, now)


# ---------------------------------------------------------------- waiting

def test_poll_delays_grow_to_a_cap():
    assert list(itertools.islice(snapshot_logic.poll_delays(5, 2, 30), 5)) == [5, 10, 20, 30, 30]


def test_next_sleep_respects_the_deadline():
    assert snapshot_logic.next_sleep(10, started=100, now=105, timeout=60) == 10
    assert snapshot_logic.next_sleep(10, started=100, now=155, timeout=60) == 5
    assert snapshot_logic.next_sleep(10, started=100, now=160, timeout=60) is None
    assert snapshot_logic.next_sleep(10, started=100, now=100, timeout=0) is None


# ---------------------------------------------------------------- record document

def test_group_document_and_record_ids():
    s = a_group()
    s['copies'] = {'eu-west-1': [{'snapshot_id': 'snap-c1'}, {'snapshot_id': 'snap-c2'}, {'snapshot_id': 'snap-c3'}]}
    doc = snapshot_logic.group_document(s)
    assert doc['kind'] == snapshot_logic.RECORD_KIND and doc['schema_version'] == 1
    assert snapshot_logic.check_document(doc, '20261122T031500Z', 'db1') is doc
    assert snapshot_logic.record_snapshot_ids(doc, 'us-east-1') == ['snap-1', 'snap-2', 'snap-3']
    assert snapshot_logic.record_snapshot_ids(doc, 'eu-west-1') == ['snap-c1', 'snap-c2', 'snap-c3']
    with pytest.raises(LifeboatError, match='no snapshots in region ap-south-1 .it has: us-east-1, eu-west-1'):
        snapshot_logic.record_snapshot_ids(doc, 'ap-south-1')
    with pytest.raises(LifeboatError, match='names set'):
        snapshot_logic.check_document(doc, '20261122T041500Z', 'db1')
    with pytest.raises(LifeboatError, match='not a snapshot-group document'):
        snapshot_logic.check_document({'kind': 'x'}, '20261122T031500Z', 'db1')


# ---------------------------------------------------------------- restore plans

def test_plan_replace_maps_devices():
    plan, root, problems = snapshot_logic.plan_replace(a_group(), volumes())
    assert problems == [] and root is None
    assert [(p['device'], p['snapshot_id'], p['old_volume_id']) for p in plan] == [
        ('/dev/sdf', 'snap-2', 'vol-00000000000000002'), ('/dev/sdg', 'snap-3', 'vol-00000000000000003')]


def test_plan_replace_with_root_and_xvd_names():
    inst = dict(INSTANCE, BlockDeviceMappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'VolumeId': 'vol-r'}},
        {'DeviceName': '/dev/xvdf', 'Ebs': {'VolumeId': 'vol-f'}},
        {'DeviceName': '/dev/xvdg', 'Ebs': {'VolumeId': 'vol-g'}}])
    plan, root, problems = snapshot_logic.plan_replace(a_group(), snapshot_logic.instance_volumes(inst), replace_root=True)
    assert problems == []
    assert [(p['device'], p['old_volume_id']) for p in plan] == [('/dev/xvdf', 'vol-f'), ('/dev/xvdg', 'vol-g')]
    assert root['snapshot_id'] == 'snap-1' and root['old_volume_id'] == 'vol-r'


def test_plan_replace_problems():
    inst = dict(INSTANCE, BlockDeviceMappings=INSTANCE['BlockDeviceMappings'][1:3])  # no /dev/sdg
    _plan, _root, problems = snapshot_logic.plan_replace(a_group(), snapshot_logic.instance_volumes(inst))
    assert problems == ['the instance has no volume at /dev/sdg (snapshot snap-3); use mode=inspect to attach it '
                        'as a new volume']
    no_boot = snapshot_logic.make_group('S', 'db1', 'i-0123456789abcdef0', 'r', [raw('snap-2', 'vol-2', '/dev/sdf', set_size=1)])
    _plan, _root, problems = snapshot_logic.plan_replace(no_boot, volumes(), replace_root=True)
    assert any('no boot-volume snapshot' in p for p in problems)
    only_boot = snapshot_logic.make_group('S', 'db1', 'i-0123456789abcdef0', 'r',
                                          [raw('snap-1', 'vol-1', '/dev/xvda', boot=True, set_size=1)])
    _plan, _root, problems = snapshot_logic.plan_replace(only_boot, volumes())
    assert problems and 'no data-volume snapshots' in problems[0]


def test_plan_inspect():
    plan, problems = snapshot_logic.plan_inspect(a_group(), volumes(), ['p', '/dev/xvdq'])
    assert problems == []
    assert [(p['device'], p['source_device']) for p in plan] == [('/dev/sdp', '/dev/sdf'), ('/dev/xvdq', '/dev/sdg')]
    plan, problems = snapshot_logic.plan_inspect(a_group(), volumes(), [], include_boot=True)
    assert [p['device'] for p in plan] == ['/dev/sdh', '/dev/sdi', '/dev/sdj']  # f and g are taken
    _plan, problems = snapshot_logic.plan_inspect(a_group(), volumes(), ['f', 'p'])
    assert problems == ['device(s) /dev/sdf are already in use on the instance']
    _plan, problems = snapshot_logic.plan_inspect(a_group(), volumes(), ['p'])
    assert problems == ['devices lists 1 device(s) but 2 snapshot(s) are to be attached']
    _plan, problems = snapshot_logic.plan_inspect(a_group(), volumes(), ['p', 'xvdp'])
    assert 'devices lists a device more than once' in problems


def test_restore_preflight():
    ok = a_group()
    assert snapshot_logic.restore_preflight(ok, 'stopped', 'replace', False, False, True) == []
    assert snapshot_logic.restore_preflight(ok, 'running', 'replace', True, False, True) == []
    assert snapshot_logic.restore_preflight(ok, 'running', 'inspect', False, False, True) == []
    p = snapshot_logic.restore_preflight(ok, 'running', 'replace', False, False, True)
    assert len(p) == 1 and 'needs it stopped' in p[0]
    p = snapshot_logic.restore_preflight(ok, 'stopping', 'replace', True, False, True)
    assert 'wait until it is running or stopped' in p[0]
    assert 'terminated' in snapshot_logic.restore_preflight(ok, 'terminated', 'replace', True, False, True)[0]
    p = snapshot_logic.restore_preflight(ok, 'stopped', 'replace', False, True, False)
    assert 'needs the instance running' in p[0]
    assert snapshot_logic.restore_preflight(ok, 'running', 'replace', True, True, True) == []
    p = snapshot_logic.restore_preflight(a_group(('completed', 'completed'), expected=3), 'stopped', 'replace', False, False, True)
    assert 'is incomplete (2 of 3 snapshots found)' in p[0]
    p = snapshot_logic.restore_preflight(a_group(('completed', 'error', 'completed')), 'stopped', 'replace', False, False, True)
    assert 'is error: snap-2 (/dev/sdf, error)' in p[0]
    p = snapshot_logic.restore_preflight(a_group(('completed', 'pending', 'completed')), 'stopped', 'inspect', False, False, True)
    assert 'still pending' in p[0]
