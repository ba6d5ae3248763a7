# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the S3 and EC2 tests share: a safe AWS environment, loopback ports, and a moto server process.

Importing this module makes the process safe for AWS calls: test credentials, no config files, no IMDS,
no inherited profile or session token, so nothing here can reach a real account. tests/conftest.py puts
this directory on sys.path; tests/integration/stores/storelib.py and tests/integration/ec2/ec2lib.py import it.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REGION = 'us-east-1'
KEY = 'testing'
SAFE_ENV = {
    'AWS_ACCESS_KEY_ID': KEY,
    'AWS_SECRET_ACCESS_KEY': KEY,
    'AWS_CONFIG_FILE': '/dev/null',
    'AWS_SHARED_CREDENTIALS_FILE': '/dev/null',
    'AWS_EC2_METADATA_DISABLED': 'true',
}
for _k in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'):
    os.environ.pop(_k, None)
os.environ.update(SAFE_ENV)


def tool(name):
    """A console script of the running venv (moto_server, ansible-playbook...), else from PATH."""
    p = os.path.join(os.path.dirname(sys.executable), name)
    return p if os.path.exists(p) else (shutil.which(name) or name)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=30, what='server'):
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.5).close()
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.time() > deadline:
                raise RuntimeError('%s did not start on port %d' % (what, port))
            time.sleep(0.05)


def stop_proc(proc, grace=10):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Moto(object):
    """moto_server in its own process (S3, KMS, EC2... on one loopback port); its log is kept until stop()."""

    def __init__(self, env=None):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.dir = tempfile.mkdtemp(prefix='lifeboat-moto-')
        self.log = open(os.path.join(self.dir, 'moto.log'), 'wb')
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([tool('moto_server'), '-H', '127.0.0.1', '-p', str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        try:
            wait_port(self.port, self.proc, what='moto_server (log: %s)' % self.log.name)
        except Exception:
            self.stop()
            raise

    def client(self, service='s3', **kw):
        import boto3
        args = dict(region_name=REGION, endpoint_url=self.url, aws_access_key_id=KEY, aws_secret_access_key=KEY)
        args.update(kw)
        return boto3.client(service, **args)

    def stop(self):
        stop_proc(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
