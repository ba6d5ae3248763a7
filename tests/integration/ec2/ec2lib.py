# -*- coding: utf-8 -*-
"""EC2 test plumbing (fixtures are registered by conftest.py next to it): a moto server on loopback (real HTTP, real
botocore), instances with several volumes, a fake instance metadata service on loopback, and a fast way to
run one module for real.

Nothing here talks to anything but 127.0.0.1: credentials are fixed test values, the metadata service of the
machine is disabled for every module run (AWS_EC2_METADATA_DISABLED), and AWS config files are ignored.
"""
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest


def _tests_conftest():
    """tests/conftest.py (collection on the path, run_playbook), loaded under its own name."""
    name = 'lifeboat_tests_conftest'
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            'conftest.py')
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


_top = _tests_conftest()
COLLECTIONS_PATH = _top.COLLECTIONS_PATH
tool = _top.tool
run_playbook = _top.run_playbook

boto3 = pytest.importorskip('boto3')

from awslib import KEY, REGION, SAFE_ENV, Moto, free_port  # noqa: E402,F401  (shared with the S3 tests)

COPY_REGION = 'eu-west-1'
AZ = 'us-east-1a'


def closed_port():
    """A loopback port nobody listens on (bound then released)."""
    return free_port()


@pytest.fixture(scope='session')
def moto_url():
    moto = Moto(env={'MOTO_EC2_LOAD_DEFAULT_AMIS': 'false'})
    try:
        yield moto.url
    finally:
        moto.stop()


@pytest.fixture(scope='session')
def aws(moto_url):
    """Connection options of the modules (and _aws.ec2.Ec2)."""
    return {'region': REGION, 'endpoint_url': moto_url, 'access_key': KEY, 'secret_key': KEY,
            'validate_certs': True, 'max_attempts': 2, 'profile': None, 'session_token': None}


def client(moto_url, region=REGION):
    return boto3.client('ec2', region_name=region, endpoint_url=moto_url, aws_access_key_id=KEY,
                        aws_secret_access_key=KEY)


@pytest.fixture(scope='session')
def ec2(moto_url):
    return client(moto_url)


@pytest.fixture(scope='session')
def ec2_copy(moto_url):
    return client(moto_url, COPY_REGION)


def make_instance(ec2c, data=(('/dev/sdf', 2), ('/dev/sdg', 3)), az=AZ):
    """An instance with a root volume and data volumes; returns (instance_id, {device: volume_id})."""
    r = ec2c.run_instances(ImageId='ami-12345678', MinCount=1, MaxCount=1, InstanceType='t3.micro',
                           Placement={'AvailabilityZone': az})
    iid = r['Instances'][0]['InstanceId']
    for dev, size in data:
        v = ec2c.create_volume(AvailabilityZone=az, Size=size, VolumeType='gp3')
        ec2c.attach_volume(VolumeId=v['VolumeId'], InstanceId=iid, Device=dev)
    return iid, devices_of(ec2c, iid)


def devices_of(ec2c, iid):
    inst = ec2c.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]
    return {b['DeviceName']: b['Ebs']['VolumeId'] for b in inst['BlockDeviceMappings']}


def instance_state(ec2c, iid):
    return ec2c.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]['State']['Name']


def set_snapshots(ec2c, set_id, host=None):
    filters = [{'Name': 'tag:lifeboat:set-id', 'Values': [set_id]}]
    if host:
        filters.append({'Name': 'tag:lifeboat:host', 'Values': [host]})
    return ec2c.describe_snapshots(OwnerIds=['self'], Filters=filters)['Snapshots']


def new_set_id():
    """A backup-set-shaped id unique per test (moto is shared by the session)."""
    return time.strftime('%Y%m%dT%H%M%SZ', time.gmtime()) + '-t' + uuid.uuid4().hex[:8]


def tags_of(item):
    return {t['Key']: t['Value'] for t in item.get('Tags') or []}


class ModuleRun(object):
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.result = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            self.result = {}

    @property
    def failed(self):
        return bool(self.result.get('failed')) or self.rc != 0

    @property
    def msg(self):
        return self.result.get('msg', '')

    def __getitem__(self, k):
        return self.result[k]

    def __repr__(self):
        return '<ModuleRun rc=%s>\n%s\n%s' % (self.rc, self.stdout[-4000:], self.stderr[-4000:])


def run_module(name, args, check=False, env=None, timeout=120):
    """Run plugins/modules/<name>.py for real (argspec, docs-matching params, exit_json/fail_json)."""
    path = os.path.join(COLLECTIONS_PATH, 'ansible_collections', 'lifeboat', 'backup', 'plugins', 'modules',
                        name + '.py')
    payload = dict(args)
    payload['_ansible_check_mode'] = bool(check)
    payload['_ansible_no_log'] = False
    payload['_ansible_tmpdir'] = tempfile.gettempdir()
    fd, argfile = tempfile.mkstemp(prefix='lifeboat-args-', suffix='.json')
    with os.fdopen(fd, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': payload}, f)
    e = dict(os.environ)
    e.update(SAFE_ENV)
    e['PYTHONPATH'] = COLLECTIONS_PATH
    e.update(env or {})
    try:
        proc = subprocess.run([sys.executable, path, argfile], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=e, timeout=timeout, check=False)
    finally:
        os.unlink(argfile)
    return ModuleRun(proc)


class FakeImds(object):
    """IMDSv2 on loopback: PUT /latest/api/token, then GET with the token (401 without it)."""

    def __init__(self, instance_id, region=REGION, az=AZ):
        self.doc = {'instanceId': instance_id, 'region': region, 'availabilityZone': az}
        self.token = uuid.uuid4().hex
        self.requests = []
        imds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_PUT(self):
                imds.requests.append(('PUT', self.path))
                if self.path == '/latest/api/token' and self.headers.get('X-aws-ec2-metadata-token-ttl-seconds'):
                    self._send(200, imds.token.encode())
                else:
                    self._send(400, b'')

            def do_GET(self):
                imds.requests.append(('GET', self.path))
                if self.headers.get('X-aws-ec2-metadata-token') != imds.token:
                    self._send(401, b'')
                elif self.path == '/latest/dynamic/instance-identity/document':
                    self._send(200, json.dumps(imds.doc).encode())
                elif self.path == '/latest/meta-data/instance-id':
                    self._send(200, imds.doc['instanceId'].encode())
                else:
                    self._send(404, b'')

            def _send(self, code, body):
                self.send_response(code)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
