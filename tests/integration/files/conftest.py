# -*- coding: utf-8 -*-
"""Fixtures of the files integration tests: module-scoped scratch dirs and small tmpfs mounts."""

import os
import pathlib
import re
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


class _Mounts(object):
    """Small tmpfs mounts made by a test (as root), all undone at teardown; also undoes chattr +i."""

    def __init__(self):
        self.mounted = []
        self.immutable = []

    def mount(self, d, options):
        d = pathlib.Path(d)
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(d)], stderr=subprocess.PIPE,
                           check=False)
        if r.returncode != 0:
            pytest.skip('cannot mount a tmpfs (needs root): %s' % r.stderr.decode('utf-8', 'replace').strip())
        st = os.stat(str(d))
        self.mounted.append((d, '%d:%d' % (os.major(st.st_dev), os.minor(st.st_dev))))
        return d

    def chattr_immutable(self, path, sweep):
        """chattr +i path; at teardown chattr -R -i sweep (a directory that holds path wherever a restore moves it)."""
        r = subprocess.run(['chattr', '+i', str(path)], stderr=subprocess.PIPE, check=False)
        if r.returncode != 0:
            pytest.skip('chattr +i is not possible on %s: %s' % (path, r.stderr.decode('utf-8', 'replace').strip()))
        self.immutable.append(pathlib.Path(sweep))

    def undo(self):
        for d in reversed(self.immutable):
            subprocess.run(['chattr', '-R', '-i', str(d)], stderr=subprocess.DEVNULL, check=False)
        for d, device in reversed(self.mounted):
            # wherever it is now: a restore that went wrong may have moved it with the tree around it
            for where in _mounted_at(device) or [str(d)]:
                if subprocess.run(['umount', where], check=False).returncode != 0:
                    subprocess.run(['umount', '-l', where], check=False)


def _mounted_at(device):
    """Mount points of the filesystem with this major:minor (from /proc/self/mountinfo, escapes undone)."""
    out = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split(' ')
            if len(fields) > 4 and fields[2] == device:
                out.append(re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), fields[4]))
    return out


@pytest.fixture
def tmpfs():
    """mount(dir, options): mount a tmpfs on dir (created); every mount is undone at teardown."""
    mounts = _Mounts()
    yield mounts.mount
    mounts.undo()


@pytest.fixture(scope='module')
def mod_mounts():
    """A module's tmpfs mounts and immutable files (mod_mounts.mount(dir, options), .chattr_immutable(path))."""
    mounts = _Mounts()
    yield mounts
    mounts.undo()
