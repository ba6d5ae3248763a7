# -*- coding: utf-8 -*-
"""Fixtures of the files integration tests: module-scoped scratch dirs and small tmpfs mounts."""

import os
import pathlib
import subprocess
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def _new_scratch():
    base = pathlib.Path(os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests'))
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(str(base), 0o755)
    d = base / ('files-' + uuid.uuid4().hex[:10])
    d.mkdir()
    os.chmod(str(d), 0o755)
    return d


def _remove(d):
    # tmpfs mounts are unmounted by their fixture; --one-file-system never descends into a leftover one
    subprocess.run(['rm', '-rf', '--one-file-system', str(d)], check=False)


@pytest.fixture(scope='module')
def mod_scratch():
    d = _new_scratch()
    yield d
    _remove(d)


@pytest.fixture
def tmpfs():
    """mount(dir, options): mount a tmpfs on dir (created); every mount is undone at teardown."""
    mounted = []

    def mount(d, options):
        d = pathlib.Path(d)
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(d)], stderr=subprocess.PIPE,
                           check=False)
        if r.returncode != 0:
            pytest.skip('cannot mount a tmpfs (needs root): %s' % r.stderr.decode('utf-8', 'replace').strip())
        mounted.append(d)
        return d

    yield mount
    for d in reversed(mounted):
        if subprocess.run(['umount', str(d)], check=False).returncode != 0:
            subprocess.run(['umount', '-l', str(d)], check=False)
