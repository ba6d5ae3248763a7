# -*- coding: utf-8 -*-
"""Helpers of the awx_configure.yml tests (test_awx_configure*.py): the configuration run against the AWX API stand-in
(conftest.py's ``awx`` fixture) and readers of what it made."""

from awxlib import collections_path
from lifeboat_tests_conftest import REPO, run_playbook

PLAYBOOKS = sorted('playbooks/' + p.name for p in (REPO / 'playbooks').glob('*.yml'))
PLAYBOOKS += ['playbooks/%s.yml' % n for n in ('status', 'prune', 'verify', 'drill') if 'playbooks/%s.yml' % n not in PLAYBOOKS]  # DEV until lifecycle lands
TEMPLATES = ['backup', 'restore', 'list', 'status', 'prune', 'verify', 'drill', 'snapshot']
PHASES = ['backup start', 'backup hosts', 'backup commit']


def configure(awx, extra=None, password=None, args=()):
    extra_vars = {
        'lifeboat_awx_organization': 'Acme',
        'lifeboat_awx_project': 'backups',
        'lifeboat_awx_inventory': 'production',
        'lifeboat_awx_credentials': ['hosts ssh', 'aws backups'],
        'lifeboat_awx_store_credential': 'backup store',
        'lifeboat_awx_store_credential_inputs': {'s3_access_key': 'AKIASTORE', 's3_secret_key': 'store-secret-9f2c',
                                                 'postgresql_password': 'pg-secret-77ab'},
        'lifeboat_awx_notification_template': 'ops mail',
        'lifeboat_awx_timezone': 'Europe/Berlin',
        'lifeboat_awx_backup_time': '01:45',
        'lifeboat_awx_extra_vars': {'lifeboat_rpo': '26h'},
    }
    extra_vars.update(extra or {})
    env = {
        'ANSIBLE_COLLECTIONS_PATH': collections_path(),
        'CONTROLLER_HOST': awx.url,
        'CONTROLLER_USERNAME': awx.state.username,
        'CONTROLLER_PASSWORD': password or awx.state.password,
        'CONTROLLER_VERIFY_SSL': 'false',
    }
    return run_playbook('awx_configure.yml', extra_vars=extra_vars, env=env, args=args)


def recap(result):
    line = [ln for ln in result.stdout.splitlines() if ln.startswith('localhost ')][-1]
    return dict(item.split('=') for item in line.split(':', 1)[1].split())


def job_template(state, key):
    return state.one('job_templates', name='lifeboat ' + key)


def object_names(state, endpoint, ids):
    return [state.objects[endpoint][i]['name'] for i in ids]


def workflow_edges(state, workflow):
    nodes = state.find('workflow_job_template_nodes', workflow_job_template=workflow['id'])
    by_id = {node['id']: node for node in nodes}
    edges = set()
    for node in nodes:
        for kind in ('success_nodes', 'failure_nodes', 'always_nodes'):
            for target in state.associated('workflow_job_template_nodes', node['id'], kind):
                edges.add((node['identifier'], kind.split('_', maxsplit=1)[0], by_id[target]['identifier']))
    templates = {node['identifier']: state.objects['job_templates'][node['unified_job_template']]['name']
                 for node in nodes}
    return templates, edges
