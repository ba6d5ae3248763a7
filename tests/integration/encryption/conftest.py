# -*- coding: utf-8 -*-
"""Fixtures of the encryption tests: real age/SSH keys, the three stores (filesystem, S3 on a moto server, SFTP on
an sshd of our own, all on loopback) and real PostgreSQL servers. Everything is started here and stopped at
teardown."""

import os
import shutil
import sys
import tempfile

import pytest

# the tests of this directory import this module by a name of its own (`import conftest` finds whichever
# conftest.py pytest loaded last)
sys.modules.setdefault('lifeboat_encryption_conftest', sys.modules[__name__])

HERE = os.path.dirname(os.path.abspath(__file__))
for _dir in (HERE, os.path.join(HERE, '..', 'stores'), os.path.join(HERE, '..', 'postgresql'), os.path.join(HERE, '..', 'files')):
    if _dir not in sys.path:
        sys.path.insert(0, _dir)

from enclib import Keys  # noqa: E402  pylint: disable=wrong-import-position
from storelib import Moto, Sshd, bucket_name, fs_params, s3_params, sftp_params  # noqa: E402  pylint: disable=wrong-import-position
import pgserver  # noqa: E402  pylint: disable=wrong-import-position

BACKENDS = ['filesystem', 's3', 'sftp']


@pytest.fixture(scope='session')
def enc_base():
    base = os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests')
    os.makedirs(base, exist_ok=True)
    path = tempfile.mkdtemp(prefix='enc-', dir=base)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='session')
def keys(enc_base):
    if not shutil.which('age') or not shutil.which('age-keygen'):
        pytest.skip('age is not installed (tests/apt-packages.txt)')
    return Keys(os.path.join(enc_base, 'keys'))


@pytest.fixture(scope='session')
def moto():
    server = Moto()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def sshd(enc_base):
    if not shutil.which('sshd') and not os.path.exists('/usr/sbin/sshd'):
        pytest.skip('openssh-server is not installed (tests/apt-packages.txt)')
    server = Sshd(enc_base)
    yield server
    server.stop()


@pytest.fixture
def workdir(enc_base):
    path = tempfile.mkdtemp(prefix='w-', dir=enc_base)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def store_params(request, workdir):
    """store_params(kind) -> the ``store`` option of a new, empty store of that kind (as a task gives it: only
    the keys that are set)."""
    def make(kind):
        if kind == 'filesystem':
            params = fs_params(os.path.join(workdir, 'store'))
        elif kind == 's3':
            moto = request.getfixturevalue('moto')
            bucket = bucket_name('enc')
            moto.client('s3').create_bucket(Bucket=bucket)
            params = s3_params(moto, bucket)
        else:
            params = sftp_params(request.getfixturevalue('sshd'), os.path.join(workdir, 'sftp'))
        return {key: value for key, value in params.items() if value is not None}
    return make


@pytest.fixture(scope='session')
def pg_root():
    reason = pgserver.available()
    if reason:
        pytest.skip(reason)
    root = pgserver.base_dir()
    yield root
    shutil.rmtree(str(root), ignore_errors=True)


@pytest.fixture(scope='module')
def pg_pair(pg_root, request):
    """(source, target): two PostgreSQL servers for one test module; the source holds the database ``shop``."""
    tag = request.module.__name__.split('.')[-1][-12:]
    source = pgserver.PgServer(pg_root, name='enc-src-' + tag)
    target = pgserver.PgServer(pg_root, name='enc-dst-' + tag)
    try:
        source.init().start()
        target.init().start()
        source.psql("CREATE ROLE shop_owner LOGIN PASSWORD 'role-password-marker'; CREATE DATABASE shop OWNER shop_owner;")
        source.psql("CREATE TABLE orders (id int PRIMARY KEY, note text); "
                    "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 5000) g; "
                    "INSERT INTO orders VALUES (0, 'PLAINTEXT-MARKER-pg-7c1d');", db='shop')
        yield source, target
    finally:
        source.destroy()
        target.destroy()
