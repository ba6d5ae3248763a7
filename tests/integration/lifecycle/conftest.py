# -*- coding: utf-8 -*-
"""Fixtures of the lifecycle tests (prune, verify, drill, status, metrics, progress): store dirs, a moto server."""
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
for path in (HERE, os.path.join(os.path.dirname(HERE), 'stores')):
    if path not in sys.path:
        sys.path.insert(0, path)

from storelib import Moto  # noqa: E402


@pytest.fixture
def workdir():
    base = os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests')
    os.makedirs(base, exist_ok=True)
    d = tempfile.mkdtemp(prefix='lifecycle-', dir=base)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope='module')
def moto():
    pytest.importorskip('boto3')
    server = Moto(env={'MOTO_EC2_LOAD_DEFAULT_AMIS': 'false'})
    yield server
    server.stop()
