# -*- coding: utf-8 -*-
"""Snapshots in whole runs: playbooks/backup.yml on two inventory hosts (local connection, each its own instance
in moto) recording both snapshot sets in the committed set, the restore role (volumes only) restoring from
that record, and playbooks/snapshot.yml (hourly) taking only configured hosts and failing the set when a host's
instance id is wrong.
"""
import json
import sys

import pytest

from ec2lib import REGION, devices_of, instance_state, make_instance, run_module, run_playbook, set_snapshots, tags_of

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store  # noqa: E402


def inventory(tmp_path, aws, hosts):
    """hosts: {name: instance_id or None}; every host runs locally."""
    lines = ['[all]']
    for name, iid in hosts.items():
        hv = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
        if iid:
            hv['lifeboat_snapshot'] = {'instance_id': iid, 'region': aws['region'], 'endpoint_url': aws['endpoint_url'],
                                       'access_key': aws['access_key'], 'secret_key': aws['secret_key'],
                                       'max_attempts': 2, 'exclude_volumes': ['/dev/sdg'], 'async_poll': 1,
                                       'tags': {'schedule': 'test'}}
        pairs = ["%s='%s'" % (k, json.dumps(v) if isinstance(v, dict) else v) for k, v in hv.items()]
        lines.append('%s %s' % (name, ' '.join(pairs)))
    path = tmp_path / 'inventory.ini'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def store_of(tmp_path):
    d = tmp_path / 'store'
    d.mkdir(exist_ok=True)
    return {'type': 'filesystem', 'path': str(d)}


def sets_in(store):
    with open_store(store) as s:
        return lifecycle.list_sets(s)


def record_doc(store, set_id, host):
    from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import record as snapshot_record
    doc, _sid = snapshot_record.read_record(store, set_id, host)
    return doc


@pytest.fixture
def two_hosts(ec2, aws, tmp_path):
    a, devs_a = make_instance(ec2)
    b, devs_b = make_instance(ec2, data=(('/dev/sdf', 4), ('/dev/sdg', 1)))
    return {'web1': (a, devs_a), 'web2': (b, devs_b)}


def test_backup_playbook_records_both_hosts_then_the_restore_role_puts_volumes_back(aws, ec2, tmp_path, two_hosts):
    store = store_of(tmp_path)
    inv = inventory(tmp_path, aws, {'web1': two_hosts['web1'][0], 'web2': two_hosts['web2'][0]})
    r = run_playbook('backup.yml', inventory=inv, extra_vars={'lifeboat_store': store})
    assert r.rc == 0, r
    done = [s for s in sets_in(store) if s['status'] == 'completed']
    assert len(done) == 1, sets_in(store)
    set_id = done[0]['id']
    assert done[0]['components'] == {'web1': ['snapshot/ec2'], 'web2': ['snapshot/ec2']}
    for host, (iid, _devs) in two_hosts.items():
        doc = record_doc(store, set_id, host)
        assert doc['instance_id'] == iid and doc['state'] == 'completed' and doc['region'] == REGION
        assert [s['device'] for s in doc['snapshots']] == ['/dev/sda1', '/dev/sdf']
        live = set_snapshots(ec2, set_id, host)
        assert sorted(s['SnapshotId'] for s in live) == sorted(s['snapshot_id'] for s in doc['snapshots'])
        assert all(tags_of(s)['schedule'] == 'test' for s in live)
    assert 'snapshot/ec2' in r.stdout  # the run summary lists the records

    # the restore role, volumes only, from the verified record, in place (stop, swap, start), on web1 alone
    iid, devs = two_hosts['web1']
    ev = {'lifeboat_store': store, 'lifeboat_set_id': set_id, 'lifeboat_restore_volumes': True,
          'lifeboat_restore_components': [], 'lifeboat_restore_partial': True,
          'lifeboat_restore_snapshot': {'stop_instance': True}}
    r = run_playbook('restore.yml', inventory=inv, extra_vars=ev, args=['--limit', 'web1'])
    assert r.rc == 0, r
    now = devices_of(ec2, iid)
    assert now['/dev/sda1'] == devs['/dev/sda1'] and now['/dev/sdg'] == devs['/dev/sdg']  # sdg was excluded
    assert now['/dev/sdf'] != devs['/dev/sdf']
    doc = record_doc(store, set_id, 'web1')
    new = ec2.describe_volumes(VolumeIds=[now['/dev/sdf']])['Volumes'][0]
    assert new['SnapshotId'] == [s for s in doc['snapshots'] if s['device'] == '/dev/sdf'][0]['snapshot_id']
    assert instance_state(ec2, iid) == 'running'
    assert 'snapshot/ec2' in r.stdout

    # a recorded snapshot deleted behind the set's back: the restore preflight refuses, nothing changes
    iid2, devs2 = two_hosts['web2']
    victim = record_doc(store, set_id, 'web2')['snapshots'][1]['snapshot_id']
    ec2.delete_snapshot(SnapshotId=victim)
    args = dict(aws, set_id=set_id, host='web2', store=store, stop_instance=True)
    m = run_module('ec2_snapshot_set_restore', args)
    assert m.failed and m.msg.startswith('restore preflight failed, nothing was changed'), m
    assert 'snapshot(s) %s recorded in the set no longer exist' % victim in m.msg
    assert devices_of(ec2, iid2) == devs2 and instance_state(ec2, iid2) == 'running'
    pinned = run_module('ec2_snapshot_set_restore', dict(args, manifest_sha256='0' * 64))
    assert pinned.failed and 'not the pinned' in pinned.msg, pinned


def test_snapshot_playbook_only_takes_configured_hosts_and_fails_the_set_on_a_wrong_instance(aws, ec2, tmp_path,
                                                                                             two_hosts):
    store = store_of(tmp_path)
    hosts = {'web1': two_hosts['web1'][0], 'web2': 'i-0123456789abcdef0', 'plain': None}
    inv = inventory(tmp_path, aws, hosts)
    r = run_playbook('snapshot.yml', inventory=inv, extra_vars={'lifeboat_store': store})
    assert r.rc != 0
    assert 'instance i-0123456789abcdef0 does not exist in us-east-1' in r.output, r
    play = r.output.split('PLAY [Take the snapshot sets')[1].split('PLAY RECAP')[0]
    assert '[plain]' not in play  # not part of the snapshot play
    sets = sets_in(store)
    assert len(sets) == 1 and sets[0]['status'] == 'failed' and sets[0]['label'] == 'snapshots', sets
    assert 'web2' in sets[0]['reason'] and 'web1' not in sets[0]['reason']
    # web1's snapshots were taken and are complete, but the set that would list them is not restorable
    assert len(set_snapshots(ec2, sets[0]['id'], 'web1')) == 2
