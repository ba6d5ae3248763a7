# -*- coding: utf-8 -*-
"""playbooks/awx_configure.yml against an AWX API stand-in.

No AWX server can run on the test machines (it needs Kubernetes or a container runtime, PostgreSQL, Redis and
receptor). The playbook's awx.awx modules talk HTTP to a stand-in written for these tests (awx_api.py), which
answers AWX's /api/v2/ endpoints they use, validates what AWX validates and records every object and request.
The awx.awx collection is the real one (from the ``ansible`` package on PyPI, Galaxy being unreachable).
"""
import json

from configurelib import PHASES, TEMPLATES, configure, job_template, object_names, recap, workflow_edges


def test_configure_creates_every_object_and_a_second_run_changes_nothing(awx):
    state = awx.state
    first = configure(awx)
    assert first.rc == 0, first
    assert int(recap(first)['changed']) > 0
    # secrets given to the store credential never appear in the output
    for secret in ('store-secret-9f2c', 'pg-secret-77ab', awx.state.password):
        assert secret not in first.output

    # the credential type: inputs secret, injected as one extra variable for every host
    ctype = state.one('credential_types', name='lifeboat store')
    assert ctype['kind'] == 'cloud'
    fields = {field['id']: field for field in ctype['inputs']['fields']}
    assert set(fields) == {'s3_access_key', 's3_secret_key', 's3_session_token', 'sftp_password', 'sftp_private_key',
                           'sftp_private_key_passphrase', 'postgresql_password', 'encryption_identity'}
    assert all(fields[name].get('secret') for name in fields if name != 's3_access_key')
    assert fields['sftp_private_key']['multiline'] and fields['encryption_identity']['multiline']
    assert list(ctype['injectors']) == ['extra_vars']
    injected = ctype['injectors']['extra_vars']['lifeboat_secrets']
    assert injected['store']['secret_key'] == "{{ s3_secret_key | default('') }}"
    assert injected['postgresql'] == {'login_password': "{{ postgresql_password | default('') }}"}
    assert injected['encryption'] == {'identity': "{{ encryption_identity | default('') }}"}
    cred = state.one('credentials', name='backup store')
    assert cred['credential_type'] == ctype['id']
    assert cred['inputs']['s3_secret_key'] == 'store-secret-9f2c'

    # the job templates
    org = state.one('organizations', name='Acme')['id']
    project = state.one('projects', name='backups')['id']
    inventory = state.one('inventories', name='production')['id']
    notify = state.one('notification_templates', name='ops mail')['id']
    assert sorted(jt['name'] for jt in state.objects['job_templates'].values()) == sorted(
        'lifeboat ' + t for t in TEMPLATES + PHASES)
    for key in TEMPLATES + PHASES:
        jt = job_template(state, key)
        assert (jt['organization'], jt['project'], jt['inventory']) == (org, project, inventory), key
        assert jt['playbook'] == 'playbooks/%s.yml' % key.split()[0]
        assert sorted(object_names(state, 'credentials', state.associated('job_templates', jt['id'], 'credentials'))) == [
            'aws backups', 'backup store', 'hosts ssh']
        assert state.associated('job_templates', jt['id'], 'notification_templates_error') == [notify]
        assert json.loads(jt['extra_vars'])['lifeboat_rpo'] == '26h'
        assert jt['ask_variables_on_launch'] is True
        assert jt['job_slice_count'] == 1
    for key in ('backup', 'prune', 'restore', 'verify', 'drill', 'snapshot') + tuple(PHASES):
        assert job_template(state, key)['allow_simultaneous'] is False, key
    for key in ('backup', 'restore', 'drill', 'snapshot'):
        assert job_template(state, key)['ask_limit_on_launch'] is True, key
    assert job_template(state, 'prune')['ask_job_type_on_launch'] is True
    assert 'lifeboat_phase' not in json.loads(job_template(state, 'backup')['extra_vars'])

    # surveys
    surveys = {key: state.surveys.get(('job_templates', job_template(state, key)['id'])) for key in TEMPLATES}
    assert {key for key, spec in surveys.items() if spec} == {'restore', 'drill'}
    assert job_template(state, 'restore')['survey_enabled'] is True and job_template(state, 'backup')['survey_enabled'] is False
    restore = {q['variable']: q for q in surveys['restore']['spec']}
    assert list(restore) == ['lifeboat_set_id', 'lifeboat_manifest_sha256', 'lifeboat_restore_dest',
                             'lifeboat_restore_force', 'lifeboat_restore_partial', 'lifeboat_restore_host_map']
    assert restore['lifeboat_set_id']['default'] == '' and not restore['lifeboat_set_id']['required']
    assert restore['lifeboat_restore_force']['choices'] == ['false', 'true']
    assert restore['lifeboat_restore_force']['default'] == 'false'
    drill = {q['variable']: q for q in surveys['drill']['spec']}
    assert drill['lifeboat_drill_components']['type'] == 'multiselect'

    # the nightly workflow: backup -> verify -> prune, its failures notified
    nightly = state.one('workflow_job_templates', name='lifeboat nightly')
    assert nightly['organization'] == org and nightly['inventory'] == inventory
    assert state.associated('workflow_job_templates', nightly['id'], 'notification_templates_error') == [notify]
    templates, edges = workflow_edges(state, nightly)
    assert templates == {'backup': 'lifeboat backup', 'verify': 'lifeboat verify', 'prune': 'lifeboat prune'}
    assert edges == {('backup', 'success', 'verify'), ('verify', 'success', 'prune')}

    # schedules, in the time zone asked for
    schedules = {s['name']: s for s in state.objects['schedules'].values()}
    assert set(schedules) == {'lifeboat hourly instance snapshots', 'lifeboat nightly backup, verify, prune',
                              'lifeboat nightly sliced backup, verify, prune', 'lifeboat hourly freshness check',
                              'lifeboat weekly full verification', 'lifeboat weekly restore drill'}
    assert [name for name, s in schedules.items() if not s['enabled']] == ['lifeboat nightly sliced backup, verify, prune']
    night = schedules['lifeboat nightly backup, verify, prune']
    assert night['unified_job_template'] == nightly['id']
    assert night['rrule'] == 'DTSTART;TZID=Europe/Berlin:20260101T014500 RRULE:FREQ=DAILY;INTERVAL=1'
    assert night['timezone'] == 'Europe/Berlin' and night['enabled'] is True
    # 01:45 in Berlin is 00:45 UTC in winter, 23:45 UTC the day before in summer
    assert night['next_run'][11:16] in ('00:45', '23:45')
    snap = schedules['lifeboat hourly instance snapshots']
    assert snap['unified_job_template'] == job_template(state, 'snapshot')['id']
    assert snap['rrule'] == 'DTSTART;TZID=Europe/Berlin:20260101T000500 RRULE:FREQ=HOURLY;INTERVAL=1'
    full = schedules['lifeboat weekly full verification']
    assert full['extra_data'] == {'lifeboat_verify_level': 'full'}
    assert full['rrule'].endswith('RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU')
    assert schedules['lifeboat weekly restore drill']['unified_job_template'] == job_template(state, 'drill')['id']

    # idempotent: nothing reported changed, nothing written
    writes = len(awx.writes())
    second = configure(awx)
    assert second.rc == 0, second
    assert recap(second)['changed'] == '0', second
    assert awx.writes()[writes:] == []


def test_wrong_awx_password_fails_without_creating_anything(awx):
    result = configure(awx, password='wrong-password-3b1d')
    assert result.rc != 0
    assert 'Failed to get token' in result.output or 'HTTP 401' in result.output, result
    assert 'wrong-password-3b1d' not in result.output
    assert awx.writes() == []


def test_missing_project_playbook_is_refused_by_awx(awx):
    """A project that lacks a playbook (here: every playbook under another directory) fails, naming the template."""
    result = configure(awx, {'lifeboat_awx_playbook_dir': 'elsewhere'})
    assert result.rc != 0
    assert 'Playbook not found for project' in result.output, result
    assert 'lifeboat backup' in result.output
