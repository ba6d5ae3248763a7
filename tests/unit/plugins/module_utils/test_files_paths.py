# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files component: the record path rules (pure), symlinked source paths, and the filesystem adapter of the
restore (openat-style walks, removal that reports, set-id stripping, moving into place) on a real tmp_path.

Tests that need chattr (immutable files) run as root on a filesystem that supports it, and skip otherwise.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DamagedError, LifeboatError


# ---------------------------------------------------------------- path_problem and friends

@pytest.mark.parametrize('path', ['/opt/app', '/a', u'/srv/\u00fc b/-x', '/opt/app.conf', '/new\nline', '/...', '/a/..b'])
def test_valid_record_paths(path):
    assert path_rules.path_problem(path) is None


@pytest.mark.parametrize('path, why', [
    (None, 'it is not a string'),
    (b'/opt/app', 'it is not a string'),
    ('', 'it is empty'),
    ('/opt/a\x00b', 'it contains a NUL byte'),
    ('opt/app', 'it is not absolute'),
    ('/', 'it is / itself'),
    ('//opt', 'it has an empty component (// or a trailing /)'),
    ('/opt/', 'it has an empty component (// or a trailing /)'),
    ('/opt//app', 'it has an empty component (// or a trailing /)'),
    ('/../../../victim', "it has a '..' component"),
    ('/opt/..', "it has a '..' component"),
    ('/opt/./app', "it has a '.' component"),
    ('/.', "it has a '.' component"),
])
def test_invalid_record_paths(path, why):
    assert path_rules.path_problem(path) == why


def test_paths_problem():
    assert path_rules.paths_problem(['/opt/app', '/opt/application', '/etc/app.conf']) is None
    assert path_rules.paths_problem([]) == 'there are no paths (it is not a files archive)'
    assert path_rules.paths_problem(None) == 'there are no paths (it is not a files archive)'
    assert path_rules.paths_problem(['/opt/app', '/opt/app/x']) == 'the path /opt/app/x is listed twice or inside /opt/app'
    assert path_rules.paths_problem(['/x', '/x']) == 'the path /x is listed twice or inside /x'
    assert path_rules.paths_problem(['/ok', '/a/../b']) == "the path '/a/../b' cannot be restored: it has a '..' component"


def test_links_problem():
    good = [{'path': '/opt/app', 'target': '../srv/app-1.2', 'resolved': '/srv/app-1.2'}]
    assert path_rules.links_problem(good, ['/opt/app', '/srv/app-1.2']) is None
    assert path_rules.links_problem([], ['/x']) is None
    # the link inside a listed directory (merged into it) is still in the archive
    assert path_rules.links_problem(good, ['/opt', '/srv']) is None
    assert 'not among the archived paths' in path_rules.links_problem(good, ['/opt/app'])


def test_record_paths_and_links_raise_damaged():
    rec = {'key': 'k', 'extra': {'paths': ['/a'], 'links': [{'path': '/a', 'target': 'x\x00', 'resolved': '/a'}]}}
    assert path_rules.record_paths(rec) == ['/a']
    with pytest.raises(DamagedError) as e:
        path_rules.record_links(rec, ['/a'])
    assert e.value.details == {'artifact': 'k'}
    assert path_rules.record_links({'key': 'k', 'extra': {'paths': ['/a']}}, ['/a']) == []  # sets of 0.1.0


def test_is_under():
    assert path_rules.is_under('/opt/app', '/opt/app')
    assert path_rules.is_under('/opt/app/x', '/opt/app')
    assert not path_rules.is_under('/opt/application', '/opt/app')
    assert not path_rules.is_under('/opt', '/opt/app')
    assert path_rules.is_under('/anything', '/')


@pytest.mark.parametrize('parent, text, expected', [
    ('/opt', '/srv/app-1.2', '/srv/app-1.2'),
    ('/opt', 'app-1.2', '/opt/app-1.2'),
    ('/opt', '../srv/./app/', '/srv/app'),
    ('/opt', '../../..', '/'),
    ('/', '//srv', '/srv'),
])
def test_join_link(parent, text, expected):
    assert path_rules.join_link(parent, text) == expected


def test_mount_points_from_mountinfo():
    text = ('22 27 0:21 / /proc rw,relatime - proc proc rw\n'
            '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n'
            '46 27 0:40 / /srv/with\\040space\\011tab rw - tmpfs tmpfs rw\n'
            '47 27 0:41 / /srv/back\\134slash rw shared:1 - tmpfs tmpfs rw\n'
            '48 27 0:42 / /srv/\u00fc rw - tmpfs tmpfs rw\n'
            'garbage\n')
    assert path_rules.mount_points(text) == ['/proc', '/', '/srv/with space\ttab', '/srv/back\\slash', u'/srv/\u00fc']


def test_mounts_below():
    mounts = ['/', '/srv', '/srv/app/projects', '/srv/app/projects/x', '/srv/application']
    assert path_rules.mounts_below('/srv/app', mounts) == ['/srv/app/projects', '/srv/app/projects/x']
    assert path_rules.mounts_below('/srv/app/projects', mounts) == ['/srv/app/projects/x']
    assert path_rules.mounts_below('/opt', mounts) == []


# ---------------------------------------------------------------- symlinked source paths (backup)

def test_source_paths_plain(tmp_path):
    (tmp_path / 'app').mkdir()
    assert files_backup.source_paths('e', [str(tmp_path / 'app') + '/']) == ([str(tmp_path / 'app')], [])


def test_source_paths_symlink_to_a_directory(tmp_path):
    """/opt/app -> /srv/app-1.2: the link and the directory are both archived and recorded."""
    (tmp_path / 'srv/app-1.2').mkdir(parents=True)
    (tmp_path / 'opt').mkdir()
    os.symlink(str(tmp_path / 'srv/app-1.2'), str(tmp_path / 'opt/app'))
    paths, links = files_backup.source_paths('e', [str(tmp_path / 'opt/app')])
    assert paths == sorted([str(tmp_path / 'opt/app'), str(tmp_path / 'srv/app-1.2')])
    assert links == [{'path': str(tmp_path / 'opt/app'), 'target': str(tmp_path / 'srv/app-1.2'),
                      'resolved': str(tmp_path / 'srv/app-1.2')}]


def test_source_paths_relative_link_to_a_file_and_a_chain(tmp_path):
    (tmp_path / 'etc/app').mkdir(parents=True)
    (tmp_path / 'etc/app/app.conf.real').write_text('x')
    os.symlink('app/app.conf.real', str(tmp_path / 'etc/app.conf'))
    os.symlink('app.conf', str(tmp_path / 'etc/current.conf'))  # a chain: current.conf -> app.conf -> real
    paths, links = files_backup.source_paths('e', [str(tmp_path / 'etc/current.conf')])
    real = str(tmp_path / 'etc/app/app.conf.real')
    assert paths == sorted([str(tmp_path / 'etc/current.conf'), str(tmp_path / 'etc/app.conf'), real])
    assert links == [{'path': str(tmp_path / 'etc/current.conf'), 'target': 'app.conf', 'resolved': real},
                     {'path': str(tmp_path / 'etc/app.conf'), 'target': 'app/app.conf.real', 'resolved': real}]


def test_source_paths_link_inside_another_listed_path(tmp_path):
    (tmp_path / 'srv/v2').mkdir(parents=True)
    os.symlink('v2', str(tmp_path / 'srv/current'))
    # listed on its own, the link is followed even though /srv is listed too; everything merges into /srv
    paths, links = files_backup.source_paths('e', [str(tmp_path / 'srv'), str(tmp_path / 'srv/current')])
    assert paths == [str(tmp_path / 'srv')]
    assert links == [{'path': str(tmp_path / 'srv/current'), 'target': 'v2', 'resolved': str(tmp_path / 'srv/v2')}]


def test_source_paths_dangling_link_fails_clearly(tmp_path):
    os.symlink(str(tmp_path / 'srv/app-1.2'), str(tmp_path / 'app'))
    with pytest.raises(ConfigError) as e:
        files_backup.source_paths('app', [str(tmp_path / 'app')])
    assert e.value.msg == ('files entry app: %s is a symlink to %s, which does not exist (a dangling link): nothing to '
                           'back up there. Fix the link, or list what it should point to'
                           % (tmp_path / 'app', tmp_path / 'srv/app-1.2'))


def test_source_paths_loop_fails_clearly(tmp_path):
    os.symlink('b', str(tmp_path / 'a'))
    os.symlink('a', str(tmp_path / 'b'))
    with pytest.raises(ConfigError) as e:
        files_backup.source_paths('e', [str(tmp_path / 'a')])
    assert e.value.msg.startswith('files entry e: %s is a loop of symlinks (' % (tmp_path / 'a'))


def test_source_paths_link_to_root_is_refused(tmp_path):
    os.symlink('/', str(tmp_path / 'root'))
    with pytest.raises(ConfigError) as e:
        files_backup.source_paths('e', [str(tmp_path / 'root')])
    assert 'backing up / as one path is not supported' in e.value.msg


def test_source_paths_missing_and_nul(tmp_path):
    with pytest.raises(ConfigError) as e:
        files_backup.source_paths('e', [str(tmp_path / 'nope')])
    assert e.value.msg == 'files entry e: %s does not exist on this host' % (tmp_path / 'nope')
    with pytest.raises(ConfigError) as e:
        files_backup.source_paths('e', [str(tmp_path) + '/a\x00b'])
    assert 'it contains a NUL byte' in e.value.msg


# ---------------------------------------------------------------- fsops.walk

def test_walk_creates_without_following(tmp_path):
    base = fsops.open_dir(str(tmp_path))
    try:
        fd, missing = fsops.walk(base, str(tmp_path), ['a', 'b'])
        os.close(fd)
        assert missing == 2 and not (tmp_path / 'a').exists()
        fd, missing = fsops.walk(base, str(tmp_path), ['a', 'b'], create=True)
        assert missing == 0 and os.path.samestat(os.fstat(fd), os.stat(str(tmp_path / 'a/b')))
        os.close(fd)
        os.symlink(str(tmp_path), str(tmp_path / 'a/link'))
        with pytest.raises(fsops.Blocked) as e:
            fsops.walk(base, str(tmp_path), ['a', 'link', 'c'], create=True)
        assert e.value.path == str(tmp_path / 'a/link') and e.value.why == 'is a symlink (to %s)' % tmp_path
        assert not (tmp_path / 'c').exists()
    finally:
        os.close(base)


def test_existing_base(tmp_path):
    (tmp_path / 'real').mkdir()
    os.symlink('real', str(tmp_path / 'link'))
    assert fsops.existing_base(str(tmp_path / 'link/x/y')) == (str(tmp_path / 'real'), ['x', 'y'])
    assert fsops.existing_base(str(tmp_path / 'real')) == (str(tmp_path / 'real'), [])
    os.symlink('nowhere', str(tmp_path / 'dangling'))
    assert fsops.existing_base(str(tmp_path / 'dangling/x')) == (str(tmp_path), ['dangling', 'x'])


# ---------------------------------------------------------------- fsops.remove_tree and immutable files

def _chattr(path, flag):
    return subprocess.run(['chattr', flag, str(path)], stderr=subprocess.PIPE, check=False)


@pytest.fixture
def immutable(tmp_path):
    """immutable(path): chattr +i path (skips where the filesystem or user cannot); undone at teardown."""
    done = []

    def make(path):
        r = _chattr(path, '+i')
        if r.returncode != 0:
            pytest.skip('chattr +i is not possible here: %s' % r.stderr.decode('utf-8', 'replace').strip())
        done.append(path)

    yield make
    for path in done:
        _chattr(path, '-i')


def _remove(parent, name):
    fd = fsops.open_dir(str(parent))
    try:
        return fsops.remove_tree(fd, name, str(parent / name))
    finally:
        os.close(fd)


def test_remove_tree_removes_everything_and_never_follows(tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'keep').write_text('keep')
    old = tmp_path / 'old'
    (old / 'd/e').mkdir(parents=True)
    (old / 'd/e/f').write_text('x')
    os.symlink(str(outside), str(old / 'link'))
    assert _remove(tmp_path, 'old') == []
    assert _remove(tmp_path, 'absent') == []
    assert not old.exists() and (outside / 'keep').read_text() == 'keep'


def test_remove_tree_reports_an_immutable_file(tmp_path, immutable):
    old = tmp_path / 'old'
    (old / 'sub').mkdir(parents=True)
    (old / 'sub/locked').write_text('x')
    (old / 'free').write_text('x')
    immutable(old / 'sub/locked')
    assert _remove(tmp_path, 'old') == [(str(old / 'sub/locked'), 'Operation not permitted (it is immutable: chattr -i -a it first)')]
    assert sorted(os.listdir(str(old))) == ['sub'] and os.listdir(str(old / 'sub')) == ['locked']


def test_remove_tree_reports_an_immutable_directory(tmp_path, immutable):
    old = tmp_path / 'old'
    (old / 'locked-dir').mkdir(parents=True)
    (old / 'locked-dir/f').write_text('x')
    immutable(old / 'locked-dir')
    why = 'Operation not permitted (its directory is immutable: chattr -i -a the directory first)'
    assert _remove(tmp_path, 'old') == [(str(old / 'locked-dir/f'), why)]


# ---------------------------------------------------------------- fsops.drop_setid

def test_drop_setid(tmp_path):
    (tmp_path / 'bin').mkdir()
    for name, mode in (('suid', 0o4755), ('sgid', 0o2711), ('both', 0o6750), ('plain', 0o755)):
        p = tmp_path / 'bin' / name
        p.write_text('#!/bin/sh\n')
        os.chmod(str(p), mode)
    os.link(str(tmp_path / 'bin/suid'), str(tmp_path / 'hardlink'))
    (tmp_path / 'shared').mkdir()
    os.chmod(str(tmp_path / 'shared'), 0o2775)
    os.symlink('bin/suid', str(tmp_path / 'link'))
    fd = fsops.open_dir(str(tmp_path))
    try:
        changed = fsops.drop_setid(fd, '/s')
    finally:
        os.close(fd)
    # the hard link is one inode with bin/suid: whichever name comes first is the one reported
    assert len(changed) == 3 and {'/s/bin/sgid', '/s/bin/both'} < set(changed)
    assert set(changed) - {'/s/bin/sgid', '/s/bin/both'} in ({'/s/bin/suid'}, {'/s/hardlink'})
    modes = {n: stat.S_IMODE(os.lstat(str(tmp_path / 'bin' / n)).st_mode) for n in ('suid', 'sgid', 'both', 'plain')}
    assert modes == {'suid': 0o755, 'sgid': 0o711, 'both': 0o750, 'plain': 0o755}
    assert stat.S_IMODE(os.lstat(str(tmp_path / 'shared')).st_mode) == 0o2775  # a directory keeps its setgid


# ---------------------------------------------------------------- moving into place, all or nothing

def _move(staging, targets):
    """_move_into_place from a staging directory made by hand: (restored targets, leftovers)."""
    fd = fsops.open_dir(str(staging))
    moves = []
    try:
        leftovers = files_restore._move_into_place(fd, str(staging), targets, True, (fd, 'x'), moves)
        return [move.target.target for move in moves], leftovers
    finally:
        for move in moves:
            move.close()
        os.close(fd)


def _staged(staging, rel, content):
    p = staging / rel.lstrip('/')
    p.mkdir(parents=True)
    (p / 'f').write_text(content)


def _two_targets(tmp_path):
    """live/a and live/b holding 'old', staged with 'new': (staging, a, b, targets)."""
    staging = tmp_path / 'staging'
    staging.mkdir()
    a, b = str(tmp_path / 'live/a'), str(tmp_path / 'live/b')
    for path in (a, b):
        os.makedirs(path)
        with open(os.path.join(path, 'f'), 'w') as f:
            f.write('old')
        _staged(staging, path, 'new')
    return staging, a, b, files_restore.plan_restore({'key': 'k', 'extra': {'paths': [a, b]}}, force=True, mounts=[])


def test_move_into_place_replaces_every_target(tmp_path):
    staging, a, b, targets = _two_targets(tmp_path)
    assert _move(staging, targets) == ([a, b], [])
    assert sorted(os.listdir(str(tmp_path / 'live'))) == ['a', 'b']
    assert open(os.path.join(b, 'f')).read() == 'new'


def test_move_into_place_puts_everything_back_when_a_target_cannot_move(tmp_path, immutable):
    """The second target is immutable: the first, already moved aside, comes back; nothing changed."""
    staging, a, b, targets = _two_targets(tmp_path)
    immutable(b)
    with pytest.raises(LifeboatError) as e:
        _move(staging, targets)
    assert e.value.msg == ('cannot move %s aside to replace it: Operation not permitted (it is immutable: chattr -i -a '
                           'it first); nothing was changed' % b)
    assert sorted(os.listdir(str(tmp_path / 'live'))) == ['a', 'b']
    assert open(os.path.join(a, 'f')).read() == 'old' and open(os.path.join(b, 'f')).read() == 'old'
    assert open(str(staging / a.lstrip('/') / 'f')).read() == 'new'  # still staged, removed with the staging dir


def test_move_into_place_refuses_a_staged_path_through_a_symlink(tmp_path):
    """An archive whose parent of a recorded path is a symlink would move something else: refused as damage."""
    staging = tmp_path / 'staging'
    victim = tmp_path / 'victim/app'
    victim.mkdir(parents=True)
    rel = str(tmp_path / 'x/app').lstrip('/')
    (staging / rel).parent.parent.mkdir(parents=True)
    os.symlink(str(tmp_path / 'victim'), str(staging / rel).rsplit('/', 1)[0])
    dest = tmp_path / 'dest'
    targets = files_restore.plan_restore({'key': 'k', 'extra': {'paths': ['/' + rel]}}, dest=str(dest), mounts=[])
    with pytest.raises(DamagedError) as e:
        _move(staging, targets)
    assert 'in the extracted archive /%s is a symlink' % rel.rsplit('/', 1)[0] in e.value.msg
    assert victim.is_dir() and not dest.exists()
