# -*- coding: utf-8 -*-
"""Every job template's playbook (backup, restore, list, status, prune, verify, drill, snapshot) run as AWX runs it:
ansible-runner on a private data dir laid out as AWX lays it out (runnerlib.py), with the extra variables the
`lifeboat store` credential type injects (its injectors from roles/awx rendered with a credential's inputs, as
`-e @file`), or AWX's Amazon Web Services credential in the job's environment (env/envvars).

The store secrets exist only in the credential: the inventory names the store without them, so every module that
reaches the store on every host got them through lifeboat_secrets (or, for the AWS credential, through
lifeboat_store_credentials_from_controller). Each job's set_stats arrive as artifact_data, and no secret is in the
job's stdout, its job events or its artifacts. The SFTP store is a real sshd on loopback (storelib.Sshd), S3 and
EC2 a real moto server; hosts use the local connection. For the AWS credential the hosts' module processes run
without the controller's environment (`env -u AWS_...` as their interpreter), as hosts reached over SSH would.
"""
import itertools
import os
import sys

import pytest

from lifeboat_tests_conftest import REPO
from runnerlib import PrivateDataDir, credential_type_from_role, render_injectors

sys.path.insert(0, str(REPO / 'tests' / 'integration' / 'stores'))
sys.path.insert(0, str(REPO / 'tests' / 'integration' / 'ec2'))
from awslib import KEY, REGION, Moto  # noqa: E402
from ec2lib import make_instance  # noqa: E402
from storelib import Sshd  # noqa: E402

JOB_NUMBERS = itertools.count(1)
AWS_VARIABLES = ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_PROFILE')


@pytest.fixture(scope='module')
def sshd():
    base = os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests')
    os.makedirs(base, exist_ok=True)
    server = Sshd(base)
    yield server
    server.stop()


@pytest.fixture(scope='module')
def cloud():
    """A moto server (S3 and EC2 on loopback) and an EC2 client of it."""
    import boto3
    moto = Moto(env={'MOTO_EC2_LOAD_DEFAULT_AMIS': 'false'})
    args = dict(region_name=REGION, endpoint_url=moto.url, aws_access_key_id=KEY, aws_secret_access_key=KEY)
    yield {'url': moto.url, 'ec2': boto3.client('ec2', **args), 's3': boto3.client('s3', **args)}
    moto.stop()


def _injected(inputs):
    """What the credential type injects for a credential with these inputs (AWX renders the others as '')."""
    fields, injectors = credential_type_from_role()
    values = {field['id']: '' for field in fields['fields']}
    values.update(inputs)
    return render_injectors(injectors['extra_vars'], values)


def _messages(job):
    """The messages of the job's failed tasks (what AWX shows for a red job)."""
    return ' | '.join(event['event_data']['res'].get('msg', '') for event in job.failed_events())


def _secret_lines(text):
    return [line for line in text.strip().splitlines() if '-----' not in line]


class Templates(object):
    """The jobs of one inventory, as the templates of roles/awx launch them (template extra variables, credential)."""

    def __init__(self, scratch, hosts, group_vars, credential_vars=None, envvars=None):
        self.scratch = scratch
        self.hosts = hosts
        self.group_vars = group_vars
        self.credential_vars = credential_vars
        self.envvars = envvars

    def run(self, playbook, template_vars=None, launch_vars=None, limit=None, check=False):
        pdd = PrivateDataDir(self.scratch / 'jobs', '%02d-%s' % (next(JOB_NUMBERS), playbook.split('.')[0]))
        pdd.write_inventory(self.hosts, group_vars=self.group_vars)
        pdd.write_env(template_vars=template_vars, launch_vars=launch_vars, credential_vars=self.credential_vars,
                      envvars=self.envvars)
        return pdd.run(playbook, 'job', limit=limit, check=check)


def _hosts(scratch, names, **extra):
    hosts = {}
    for name in names:
        data = scratch / 'data' / name
        data.mkdir(parents=True)
        (data / 'app.conf').write_text('%s settings\n' % name)
        hosts[name] = dict({'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                            'lifeboat_files': [{'name': 'app', 'paths': [str(data)]}]}, **extra)
    return hosts


def test_every_template_with_the_store_credential_on_an_sftp_store(scratch, sshd):
    with open(sshd.client_key) as f:
        key_text = f.read()
    store = {'type': 'sftp', 'host': '127.0.0.1', 'port': sshd.port, 'user': 'root', 'path': str(scratch / 'sftp'),
             'known_hosts': sshd.known_hosts, 'timeout': 10}  # no key here: it comes from the credential only
    hosts = _hosts(scratch, ['web1', 'web2'])
    credential = _injected({'sftp_private_key': key_text})
    injected = credential['lifeboat_secrets']['store']
    assert injected['private_key_content'] == key_text and injected['password'] == ''
    jobs = Templates(scratch, hosts, {'lifeboat_store': store}, credential_vars=credential)
    ran = {}

    # without the credential the same store refuses the run, before anything starts: it is what makes it work
    bare = Templates(scratch, hosts, {'lifeboat_store': store}).run('backup.yml')
    assert bare.rc != 0 and 'Preflight failed, nothing was started' in bare.stdout, bare

    ran['backup'] = job = jobs.run('backup.yml')
    assert job.rc == 0 and job.status == 'successful', job
    backup = job.artifact_data['lifeboat_backup']
    assert backup['status'] == 'completed' and len(backup['manifest_sha256']) == 64
    set_id = backup['set_id']

    ran['list'] = job = jobs.run('list.yml', launch_vars={'lifeboat_hosts': 'web1'})
    assert job.rc == 0, job
    assert job.artifact_data['lifeboat_list']['latest_completed'] == set_id
    assert [s['id'] for s in job.artifact_data['lifeboat_list']['sets']] == [set_id]

    ran['status'] = job = jobs.run('status.yml', launch_vars={'lifeboat_hosts': 'web1'})
    assert job.rc == 0 and job.artifact_data['lifeboat_status']['ok'] is True, job

    ran['verify'] = job = jobs.run('verify.yml', launch_vars={'lifeboat_hosts': 'web1'})
    assert job.rc == 0 and job.artifact_data['lifeboat_verify']['passed'] is True, job

    drill = {'lifeboat_drill_host': 'web1', 'lifeboat_drill_components': ['files'], 'lifeboat_drill_dir': str(scratch)}
    ran['drill'] = job = jobs.run('drill.yml', launch_vars=drill)
    assert job.rc == 0 and job.artifact_data['lifeboat_drill']['passed'] is True, job
    assert job.artifact_data['lifeboat_drill']['set_id'] == set_id

    # the restore survey's answers (AWX marks them !unsafe), limited to one host
    dest = scratch / 'restored'
    answers = {'lifeboat_set_id': set_id, 'lifeboat_manifest_sha256': backup['manifest_sha256'],
               'lifeboat_restore_dest': str(dest), 'lifeboat_restore_partial': 'true'}
    ran['restore'] = job = jobs.run('restore.yml', launch_vars=answers, limit='web2')
    assert job.rc == 0 and job.artifact_data['lifeboat_restore']['set_id'] == set_id, job
    restored = [os.path.join(d, f) for d, _s, files in os.walk(str(dest)) for f in files]
    assert [open(p).read() for p in restored] == ['web2 settings\n'], restored

    # prune: launched as Check first (the dry run), then for real; keep_last 5 keeps the one set
    ran['prune'] = job = jobs.run('prune.yml', launch_vars={'lifeboat_hosts': 'web1', 'lifeboat_retention': {'keep_last': 5}}, check=True)
    assert job.rc == 0 and set_id in job.artifact_data['lifeboat_prune']['keep'], job
    job = jobs.run('prune.yml', launch_vars={'lifeboat_hosts': 'web1', 'lifeboat_retention': {'keep_last': 5}})
    assert job.rc == 0 and set_id in job.artifact_data['lifeboat_prune']['keep'], job

    for name, job in ran.items():
        text = job.all_text() + open(os.path.join(job.artifacts, 'stdout')).read()
        for line in _secret_lines(key_text):
            assert line not in text, '%s: the private key is in the job output' % name
        assert 'private_key_content' not in job.stdout, name


def test_backup_and_snapshot_with_aws_credential_from_the_controller(scratch, cloud, monkeypatch):
    bucket = 'lifeboat-awx-%s' % os.path.basename(str(scratch)).lower()
    cloud['s3'].create_bucket(Bucket=bucket)
    store = {'type': 's3', 'bucket': bucket, 'region': REGION, 'endpoint_url': cloud['url'], 'sse': 'none'}
    # the hosts' module processes run without the controller's environment, as over SSH
    bare_python = scratch / 'python-without-aws-environment'
    bare_python.write_text('#!/bin/sh\nexec env %s AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/dev/null '
                           'AWS_CONFIG_FILE=/dev/null %s "$@"\n' % (' '.join('-u ' + name for name in AWS_VARIABLES), sys.executable))
    bare_python.chmod(0o755)
    instance, _devices = make_instance(cloud['ec2'])
    hosts = _hosts(scratch, ['app1'], ansible_python_interpreter=str(bare_python),
                   lifeboat_snapshot={'instance_id': instance, 'region': REGION, 'endpoint_url': cloud['url'],
                                      'max_attempts': 2, 'async_poll': 1})
    secret = 'controller-secret-%s' % os.path.basename(str(scratch))
    envvars = {'AWS_ACCESS_KEY_ID': KEY, 'AWS_SECRET_ACCESS_KEY': secret}  # what AWX's AWS credential injects
    jobs = Templates(scratch, hosts, {'lifeboat_store': store}, envvars=envvars)

    job = jobs.run('backup.yml')  # the starting point: the keys stay on the controller
    assert job.rc != 0 and 'no usable AWS credentials' in _messages(job), _messages(job)

    runs = [jobs.run('backup.yml', template_vars={'lifeboat_store_credentials_from_controller': True}),
            jobs.run('snapshot.yml', template_vars={'lifeboat_store_credentials_from_controller': True})]
    for job in runs:
        assert job.rc == 0 and job.status == 'successful', _messages(job)
        assert job.artifact_data['lifeboat_backup']['status'] == 'completed'
        assert secret not in job.all_text() and secret not in open(os.path.join(job.artifacts, 'stdout')).read()
    assert runs[1].artifact_data['lifeboat_backup']['artifacts'], runs[1].artifact_data
    snapshot_set = runs[1].artifact_data['lifeboat_backup']['set_id']
    assert cloud['ec2'].describe_snapshots(Filters=[{'Name': 'tag:lifeboat:set-id', 'Values': [snapshot_set]}])['Snapshots']

    # asked for, but the job has no AWS credential: one readable message naming the variables (the test process's
    # own AWS variables, which the jobs inherit, are removed first)
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    job = Templates(scratch, hosts, {'lifeboat_store': store}).run('backup.yml', template_vars={'lifeboat_store_credentials_from_controller': True})
    assert job.rc != 0 and 'AWS_SECRET_ACCESS_KEY' in _messages(job) and 'Traceback' not in job.stdout, _messages(job)
