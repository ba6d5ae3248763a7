# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental restores, the filesystem side (apply.clear_xattrs) on a real tmp_path: what tar would set on a
level's directories is removed from the staged ones, through fds, never through a symlink.

Skipped where tmp_path's filesystem has no user xattrs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import apply as chain_apply
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops

EVERYTHING = {'xattrs': True, 'acls': True, 'capabilities': True}


@pytest.fixture
def staging(tmp_path):
    probe = tmp_path / 'probe'
    probe.mkdir()
    try:
        os.setxattr(str(probe), 'user.probe', b'1')
    except OSError as e:
        pytest.skip('user xattrs are not supported on %s (%s)' % (tmp_path, e.strerror))
    root = tmp_path / 'staging'
    (root / 'srv' / 'app' / 'a').mkdir(parents=True)
    fd = fsops.open_dir(str(root))
    yield root, fd
    os.close(fd)


def _names(path):
    return sorted(os.listxattr(str(path), follow_symlinks=False))


def test_clear_xattrs_removes_what_tar_would_set(staging):
    root, fd = staging
    for path in (root / 'srv' / 'app', root / 'srv' / 'app' / 'a'):
        os.setxattr(str(path), 'user.old', b'from an earlier level')
    os.setxattr(str(root / 'srv'), 'user.above', b'not a directory of the level')
    cleared, problems = chain_apply.clear_xattrs(fd, str(root), [b'srv/app', b'srv/app/a', b'srv/app/new'], EVERYTHING)
    assert (cleared, problems) == ([b'srv/app', b'srv/app/a'], [])
    assert _names(root / 'srv' / 'app') == [] and _names(root / 'srv' / 'app' / 'a') == []
    assert _names(root / 'srv') == ['user.above']


def test_clear_xattrs_touches_nothing_without_scope(staging):
    root, fd = staging
    os.setxattr(str(root / 'srv' / 'app'), 'user.old', b'1')
    assert chain_apply.clear_xattrs(fd, str(root), [b'srv/app'], None) == ([], [])
    assert _names(root / 'srv' / 'app') == ['user.old']


@pytest.mark.parametrize('where', ['last', 'on the way'])
def test_clear_xattrs_never_goes_through_a_symlink(staging, tmp_path, where):
    root, fd = staging
    victim = tmp_path / 'victim'
    (victim / 'a').mkdir(parents=True)
    for path in (victim, victim / 'a'):
        os.setxattr(str(path), 'user.precious', b'1')
    os.symlink(str(victim), str(root / 'srv' / 'app' / 'link'))
    name = b'srv/app/link' if where == 'last' else b'srv/app/link/a'
    with pytest.raises(DamagedError) as refused:
        chain_apply.clear_xattrs(fd, str(root), [name], EVERYTHING)
    assert 'is a symlink' in refused.value.msg and 'never writes through a symlink' in refused.value.msg
    assert _names(victim) == ['user.precious'] and _names(victim / 'a') == ['user.precious']
