# -*- coding: utf-8 -*-
"""Fixtures of the store tests: a moto server (S3 and KMS over real HTTP on loopback), an sshd of our own,
and ``store`` option dicts for the filesystem, s3 and sftp backends. Every service is started here, on
loopback, in its own temp directory, and stopped at teardown (also when a test fails)."""
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from storelib import Moto, Sshd, bucket_name, fs_params, s3_params, sftp_params  # noqa: E402

pytest.importorskip('boto3')
pytest.importorskip('paramiko')

BACKENDS = ['filesystem', 's3', 'sftp']


@pytest.fixture(scope='session')
def stores_base():
    base = os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests')
    os.makedirs(base, exist_ok=True)
    d = tempfile.mkdtemp(prefix='stores-', dir=base)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope='session')
def moto():
    m = Moto()
    yield m
    m.stop()


@pytest.fixture(scope='session')
def s3(moto):
    return moto.client('s3')


@pytest.fixture(scope='session')
def kms_key(moto):
    return moto.client('kms').create_key(Description='lifeboat test key')['KeyMetadata']['KeyId']


@pytest.fixture(scope='session')
def sshd(stores_base):
    if not shutil.which('sshd') and not os.path.exists('/usr/sbin/sshd'):
        pytest.skip('openssh-server is not installed (tests/apt-packages.txt)')
    s = Sshd(stores_base)
    yield s
    s.stop()


@pytest.fixture
def bucket(s3):
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def lock_bucket(s3):
    name = bucket_name('lock')
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture
def workdir(stores_base):
    d = tempfile.mkdtemp(prefix='w-', dir=stores_base)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_params(request, moto, workdir):
    """make_params(kind, **overrides) -> a full store dict for that backend (fresh bucket or directory)."""
    def make(kind, **kw):
        if kind == 'filesystem':
            return fs_params(os.path.join(workdir, 'fs'), **kw)
        if kind == 's3':
            name = bucket_name()
            moto.client('s3').create_bucket(Bucket=name)
            return s3_params(moto, name, **kw)
        if kind == 'sftp':
            sshd = request.getfixturevalue('sshd')
            return sftp_params(sshd, os.path.join(workdir, 'sftp'), **kw)
        raise ValueError(kind)
    return make
