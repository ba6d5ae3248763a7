# -*- coding: utf-8 -*-
"""playbooks/awx_configure.yml against an AWX API stand-in (see test_awx_configure.py): a sliced backup workflow
(lifeboat_awx_backup_slices 3), a second run that changes nothing, and back to one job."""
import json

from configurelib import configure, job_template, recap, workflow_edges


def test_sliced_backup_workflow_and_back(awx):
    state = awx.state
    sliced = configure(awx, {'lifeboat_awx_backup_slices': 3})
    assert sliced.rc == 0, sliced
    hosts = job_template(state, 'backup hosts')
    assert hosts['job_slice_count'] == 3 and hosts['allow_simultaneous'] is False
    for key, phase in (('backup start', 'start'), ('backup hosts', 'hosts'), ('backup commit', 'commit')):
        assert json.loads(job_template(state, key)['extra_vars'])['lifeboat_phase'] == phase
    workflow = state.one('workflow_job_templates', name='lifeboat nightly sliced')
    templates, edges = workflow_edges(state, workflow)
    assert templates == {'start': 'lifeboat backup start', 'hosts': 'lifeboat backup hosts',
                         'commit': 'lifeboat backup commit', 'verify': 'lifeboat verify', 'prune': 'lifeboat prune'}
    # the commit runs whatever the slices did (and fails the set naming what is missing)
    assert edges == {('start', 'success', 'hosts'), ('hosts', 'always', 'commit'), ('commit', 'success', 'verify'),
                     ('verify', 'success', 'prune')}
    alone = state.one('workflow_job_templates', name='lifeboat sliced backup')
    assert workflow_edges(state, alone)[1] == {('start', 'success', 'hosts'), ('hosts', 'always', 'commit')}
    enabled = {s['name'] for s in state.objects['schedules'].values() if s['enabled']}
    assert 'lifeboat nightly sliced backup, verify, prune' in enabled
    assert 'lifeboat nightly backup, verify, prune' not in enabled
    again = configure(awx, {'lifeboat_awx_backup_slices': 3})
    assert recap(again)['changed'] == '0', again

    # back to one job: only the schedules change
    before = {key: dict(value) for key, value in state.objects['workflow_job_template_nodes'].items()}
    plain = configure(awx, {'lifeboat_awx_backup_slices': 1})
    assert plain.rc == 0, plain
    assert state.objects['workflow_job_template_nodes'] == before
    enabled = {s['name'] for s in state.objects['schedules'].values() if s['enabled']}
    assert 'lifeboat nightly backup, verify, prune' in enabled
    assert 'lifeboat nightly sliced backup, verify, prune' not in enabled
    assert job_template(state, 'backup hosts')['job_slice_count'] == 1
