# -*- coding: utf-8 -*-
"""A sliced backup as AWX runs it: playbooks/backup.yml in phases (lifeboat_phase start, hosts, commit), each job an
ansible-runner process on a private data dir laid out as AWX lays it out (runnerlib.py).

The workflow `lifeboat sliced backup` of roles/awx: a start node opens one set and publishes lifeboat_open_set_id
and lifeboat_expected_hosts (set_stats -> artifact_data, which AWX hands to the next nodes as extra variables);
the sliced node is N jobs, each with the inventory of its slice only (AWX's job slicing), run here as three
processes at once; the commit node checks in the store that every expected host delivered, then commits once.
Hosts use the local connection (a 30-host inventory, small data each); the store is a filesystem store.
"""
import glob
import os
import sys

from runnerlib import PrivateDataDir

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store


def _hosts(scratch, count):
    hosts = {}
    for number in range(count):
        name = 'host%02d' % number
        data = scratch / 'data' / name
        data.mkdir(parents=True)
        (data / 'payload.txt').write_text('%s payload\n' % name)
        hosts[name] = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                       'lifeboat_files': [{'name': 'data', 'paths': [str(data)]}]}
    return hosts


def _job(scratch, name, hosts, store, template_vars, artifacts=None):
    """One AWX job: the template's extra variables, the artifacts of earlier workflow nodes (AWX adds them to the
    job's extra variables), the inventory (of the slice, for a slice job)."""
    pdd = PrivateDataDir(scratch / 'jobs', name)
    pdd.write_inventory(hosts, group_vars={'lifeboat_store': store})
    pdd.write_env(template_vars=template_vars, launch_vars=artifacts)
    return pdd


def _slices(hosts, count):
    """AWX's job slicing: host i goes to slice i % count."""
    names = sorted(hosts)
    return [{name: hosts[name] for name in names[index::count]} for index in range(count)]


def _start(scratch, hosts, store, label):
    job = _job(scratch, 'start-' + label, hosts, store, {'lifeboat_phase': 'start', 'lifeboat_label': label}).run('backup.yml', 'start')
    assert job.rc == 0 and job.status == 'successful', job
    data = job.artifact_data
    assert data['lifeboat_backup']['status'] == 'in_progress'
    assert sorted(data['lifeboat_expected_hosts']) == sorted(hosts)
    return {'lifeboat_open_set_id': data['lifeboat_open_set_id'], 'lifeboat_expected_hosts': data['lifeboat_expected_hosts']}


def _run_slices(scratch, slices, store, artifacts, label):
    running = []
    for index, members in enumerate(slices):
        pdd = _job(scratch, 'hosts-%s-%d' % (label, index), members, store, {'lifeboat_phase': 'hosts'}, artifacts)
        running.append((pdd, pdd.start('backup.yml', 'slice%d' % index, forks=10)))
    return [pdd.finish(proc, 'slice%d' % index) for index, (pdd, proc) in enumerate(running)]


def _commit(scratch, hosts, store, artifacts, label):
    return _job(scratch, 'commit-' + label, hosts, store, {'lifeboat_phase': 'commit'}, artifacts).run('backup.yml', 'commit')


def test_three_slices_write_one_set_committed_once_then_one_host_restores(scratch):
    hosts = _hosts(scratch, 30)
    store = {'type': 'filesystem', 'path': str(scratch / 'store')}
    artifacts = _start(scratch, hosts, store, 'sliced')
    set_id = artifacts['lifeboat_open_set_id']

    jobs = _run_slices(scratch, _slices(hosts, 3), store, artifacts, 'ok')
    for job in jobs:
        assert job.rc == 0 and job.status == 'successful', job
        assert job.artifact_data['lifeboat_backup_slice']['set_id'] == set_id
        assert len(job.artifact_data['lifeboat_backup_slice']['delivered']) == 10
    with open_store(store) as opened:
        assert lifecycle.read_status(opened, set_id)['status'] == 'in_progress'  # no slice committed anything

    commit = _commit(scratch, hosts, store, artifacts, 'ok')
    assert commit.rc == 0 and commit.status == 'successful', commit
    result = commit.artifact_data['lifeboat_backup']
    assert result['status'] == 'completed' and result['set_id'] == set_id and len(result['manifest_sha256']) == 64
    assert sorted(result['hosts']) == sorted(hosts) and result['missing_hosts'] == []
    with open_store(store) as opened:
        sets = lifecycle.list_sets(opened)
        manifest, _digest = lifecycle.read_manifest(opened, set_id)
    assert [s['id'] for s in sets] == [set_id] and sets[0]['status'] == 'completed'
    assert sorted({a['host'] for a in manifest['artifacts']}) == sorted(hosts)
    assert not os.path.exists(os.path.join(store['path'], 'lock.json'))

    # restore one host (the restore template, limited to it) from the sliced set, under a directory
    dest = scratch / 'restored'
    answers = {'lifeboat_set_id': set_id, 'lifeboat_manifest_sha256': result['manifest_sha256'],
               'lifeboat_restore_dest': str(dest), 'lifeboat_restore_partial': 'true'}  # the survey's, as text
    restore = _job(scratch, 'restore', hosts, store, {}, answers)
    job = restore.run('restore.yml', 'restore', limit='host07')
    assert job.rc == 0 and job.status == 'successful', job
    restored = glob.glob(str(dest) + '/**/payload.txt', recursive=True)
    assert len(restored) == 1 and open(restored[0]).read() == 'host07 payload\n', restored


def test_a_missing_slice_fails_the_set_naming_its_hosts(scratch):
    hosts = _hosts(scratch, 9)
    store = {'type': 'filesystem', 'path': str(scratch / 'store')}
    artifacts = _start(scratch, hosts, store, 'missing')
    set_id = artifacts['lifeboat_open_set_id']
    slices = _slices(hosts, 3)
    for job in _run_slices(scratch, slices[:2], store, artifacts, 'two'):  # the third slice never ran
        assert job.rc == 0, job

    commit = _commit(scratch, hosts, store, artifacts, 'missing')
    assert commit.rc != 0 and commit.status == 'failed', commit
    assert commit.artifact_data['lifeboat_backup']['status'] == 'failed'
    message = ' '.join(event['event_data']['res'].get('msg', '') for event in commit.failed_events())
    assert 'Backup set %s FAILED' % set_id in message
    for name in sorted(slices[2]):
        assert 'host %s did not deliver' % name in message, message
    for name in sorted(slices[0]):
        assert 'host %s ' % name not in message
    with open_store(store) as opened:
        assert lifecycle.read_status(opened, set_id)['status'] == 'failed'
        assert lifecycle.read_manifest_bytes(opened, set_id) is None
    assert not os.path.exists(os.path.join(store['path'], 'lock.json'))  # the lock is released

    # a host of the last slice finds a problem in its preflight (its directory is gone): that slice marks the set
    # failed at once, naming the host, and the commit fails naming it with the reason
    artifacts = _start(scratch, hosts, store, 'failing')
    set_id = artifacts['lifeboat_open_set_id']
    os.remove(str(scratch / 'data' / 'host05' / 'payload.txt'))
    os.rmdir(str(scratch / 'data' / 'host05'))
    slices = _slices(hosts, 3)
    assert 'host05' in slices[2]
    for job in _run_slices(scratch, slices[:2], store, artifacts, 'first'):
        assert job.rc == 0, job
    failing = _run_slices(scratch, slices[2:], store, artifacts, 'last')[0]
    assert failing.rc != 0
    message = ' '.join(event['event_data']['res'].get('msg', '') for event in failing.failed_events())
    assert 'set %s is marked failed' % set_id in message and 'host05' in message, message
    with open_store(store) as opened:
        status = lifecycle.read_status(opened, set_id)
    assert status['status'] == 'failed' and 'host05' in status['reason']
    assert not os.path.exists(os.path.join(store['path'], 'lock.json'))
    commit = _commit(scratch, hosts, store, artifacts, 'failing')
    assert commit.rc != 0 and commit.artifact_data['lifeboat_backup']['status'] == 'failed'
    message = ' '.join(event['event_data']['res'].get('msg', '') for event in commit.failed_events())
    assert 'Backup set %s FAILED' % set_id in message and 'host05' in message, message
