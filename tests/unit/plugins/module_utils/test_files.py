# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files component, pure parts: paths, tar argv, tar's verdict, restore planning (on a real tmp_path)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError


# ---------------------------------------------------------------- normalize_paths

@pytest.mark.parametrize('given, expected', [
    (['/opt/app'], ['/opt/app']),
    (['/opt/app/', '/opt/app', '/opt/./app'], ['/opt/app']),
    (['/opt/app/sub', '/opt/app'], ['/opt/app']),                 # a path inside another is merged
    (['/opt/app', '/opt/application'], ['/opt/app', '/opt/application']),  # a name prefix is not a parent
    (['//opt/app'], ['/opt/app']),
    (['///opt//app/'], ['/opt/app']),
    (['/opt/x/../app'], ['/opt/app']),
    (['/etc/tower', '/opt/awx', '/etc'], ['/etc', '/opt/awx']),
    ([u'/srv/\u00fc b', '/srv/-dash'], ['/srv/-dash', u'/srv/\u00fc b']),
    ([], []),
])
def test_normalize_paths(given, expected):
    assert files_logic.normalize_paths(given) == expected


@pytest.mark.parametrize('bad, words', [
    (['opt/app'], 'paths must be absolute'),
    (['./x'], 'paths must be absolute'),
    ([''], 'paths must be absolute'),
    ([None], 'paths must be absolute'),
    (['/'], 'backing up / as one path is not supported'),
    (['//'], 'backing up / as one path is not supported'),
    (['/opt/..'], 'backing up / as one path is not supported'),
])
def test_normalize_paths_refuses(bad, words):
    with pytest.raises(LifeboatError) as e:
        files_logic.normalize_paths(bad)
    assert words in e.value.msg


# ---------------------------------------------------------------- exclude_args and argv

def test_exclude_args():
    assert files_logic.exclude_args(['*.log', '/opt/app/cache', '', None, 'tmp/']) == [
        '--exclude=*.log', '--exclude=opt/app/cache', '--exclude=tmp/']
    assert files_logic.exclude_args(None) == []
    assert files_logic.exclude_args([]) == []


def test_tar_create_argv_minimal():
    argv = files_logic.tar_create_argv('/usr/bin/tar', ['/opt/app', '/-dash'])
    assert argv[0] == '/usr/bin/tar'
    for opt in ('--create', '--file=-', '--directory=/', '--format=posix', '--sparse', '--totals'):
        assert opt in argv
    assert not any(a.startswith(('--xattrs', '--acls', '--one-file-system')) for a in argv)
    # names are relative to / and come after '--', so a leading dash is never an option
    assert argv[-3:] == ['--', 'opt/app', '-dash']


def test_tar_create_argv_features():
    argv = files_logic.tar_create_argv('tar', ['/opt/app'], exclude=['*.log', '/opt/app/tmp'],
                                       features={'xattrs': True, 'acls': True}, one_file_system=True)
    dd = argv.index('--')
    before = argv[:dd]
    for opt in ('--xattrs', '--xattrs-include=*', '--acls', '--one-file-system', '--exclude=*.log',
                '--exclude=opt/app/tmp'):
        assert opt in before
    assert argv[dd + 1:] == ['opt/app']
    argv = files_logic.tar_create_argv('tar', ['/opt/app'], features={'xattrs': True, 'acls': False})
    assert '--xattrs' in argv and '--acls' not in argv


def test_tar_extract_argv():
    argv = files_logic.tar_extract_argv('tar', '/srv/.lifeboat-restore-x', {'xattrs': True, 'acls': True})
    for opt in ('--extract', '--file=-', '--directory=/srv/.lifeboat-restore-x', '-vv', '--quoting-style=c',
                '--delay-directory-restore', '--same-owner', '--same-permissions', '--xattrs',
                '--xattrs-include=*', '--acls'):
        assert opt in argv
    argv = files_logic.tar_extract_argv('tar', '/s', None, as_root=False)
    assert '--same-owner' not in argv and '--same-permissions' not in argv and '--xattrs' not in argv
    # never options that would let members escape the staging directory
    assert not any(a in ('-P', '--absolute-names') for a in argv)


# ---------------------------------------------------------------- judge_tar_create

TOTALS = 'Total bytes written: 10240 (10KiB, 19MiB/s)\n'


def test_judge_rc0():
    facts = files_logic.judge_tar_create(0, TOTALS)
    assert facts == {'uncompressed_size': 10240, 'changed_files': [], 'changed_file_count': 0, 'warnings': []}


def test_judge_rc0_without_totals():
    assert files_logic.judge_tar_create(0, '')['uncompressed_size'] is None


def test_judge_rc1_changed_files_are_warnings():
    stderr = ('tar: opt/app/log/current: file changed as we read it\n'
              'tar: opt/app/tmp/x y: File removed before we read it\n' + TOTALS)
    facts = files_logic.judge_tar_create(1, stderr)
    assert facts['changed_files'] == ['/opt/app/log/current', '/opt/app/tmp/x y']
    assert facts['changed_file_count'] == 2
    assert facts['uncompressed_size'] == 10240
    assert len(facts['warnings']) == 1
    assert facts['warnings'][0].startswith('2 file(s) changed or vanished while being read')
    assert '/opt/app/log/current' in facts['warnings'][0]


def test_judge_changed_files_are_bounded():
    stderr = ''.join('tar: opt/app/f%d: file changed as we read it\n' % i for i in range(300))
    facts = files_logic.judge_tar_create(1, stderr)
    assert facts['changed_file_count'] == 300
    assert len(facts['changed_files']) == files_logic.MAX_REPORTED


def test_judge_other_stderr_is_kept_as_warning():
    facts = files_logic.judge_tar_create(0, 'tar: opt/app/x: some notice\n' + TOTALS)
    assert facts['warnings'] == ['tar: opt/app/x: some notice']


def test_judge_rc2_is_fatal_and_says_why():
    stderr = ('tar: opt/app/secret: Cannot open: Permission denied\n' + TOTALS
              + 'tar: Exiting with failure status due to previous errors\n')
    with pytest.raises(LifeboatError) as e:
        files_logic.judge_tar_create(2, stderr)
    assert e.value.msg.startswith('tar failed (exit 2): ')
    assert 'opt/app/secret: Cannot open: Permission denied' in e.value.msg
    assert '\n' not in e.value.msg
    assert 'tar: Exiting with failure status due to previous errors' in e.value.details['tar_stderr']


def test_judge_rc2_without_message():
    with pytest.raises(LifeboatError) as e:
        files_logic.judge_tar_create(2, '')
    assert e.value.msg == 'tar failed (exit 2): no message'


def test_judge_signal():
    with pytest.raises(LifeboatError) as e:
        files_logic.judge_tar_create(-9, '')
    assert e.value.msg.startswith('tar was killed by signal 9')


def test_judge_rc1_with_changed_files_is_not_fatal_but_rc2_is():
    stderr = 'tar: opt/app/log: file changed as we read it\n'
    assert files_logic.judge_tar_create(1, stderr)['changed_file_count'] == 1
    with pytest.raises(LifeboatError):
        files_logic.judge_tar_create(2, stderr)


# ---------------------------------------------------------------- restore_target and plan_restore

def test_restore_target():
    assert files_logic.restore_target('/opt/app', None) == '/opt/app'
    assert files_logic.restore_target('/opt/app', '') == '/opt/app'
    assert files_logic.restore_target('/opt/app', '/srv/r') == '/srv/r/opt/app'
    assert files_logic.restore_target('/opt/app', '/srv/r/') == '/srv/r/opt/app'


def record(*paths):
    return {'key': '20261122T031500Z/web1/files/app.tar.zst', 'extra': {'paths': list(paths)}}


def test_plan_restore_needs_paths():
    for rec in ({'key': 'k'}, {'key': 'k', 'extra': {}}, {'key': 'k', 'extra': {'paths': []}}):
        with pytest.raises(LifeboatError) as e:
            files_restore.plan_restore(rec)
        assert 'records no paths' in e.value.msg


def test_plan_restore_absent_and_empty_targets_need_no_force(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    targets, blocked = files_restore.plan_restore(record(str(tmp_path / 'absent'), str(empty)))
    assert targets == [(str(tmp_path / 'absent'), str(tmp_path / 'absent')), (str(empty), str(empty))]
    assert blocked == []


def test_plan_restore_under_dest(tmp_path):
    targets, blocked = files_restore.plan_restore(record('/opt/app', '/etc/app.conf'), dest=str(tmp_path))
    assert targets == [('/opt/app', str(tmp_path / 'opt/app')), ('/etc/app.conf', str(tmp_path / 'etc/app.conf'))]
    assert blocked == []


@pytest.mark.parametrize('kind', ['dir', 'file', 'emptyfile', 'symlink', 'dangling'])
def test_plan_restore_nonempty_needs_force(tmp_path, kind):
    t = tmp_path / (u'd\u00fc x')
    if kind == 'dir':
        t.mkdir()
        (t / 'f').write_text('x')
    elif kind == 'file':
        t.write_text('x')
    elif kind == 'emptyfile':
        t.write_text('')
    elif kind == 'symlink':
        os.symlink(str(tmp_path), str(t))
    else:
        os.symlink(str(tmp_path / 'nowhere'), str(t))
    with pytest.raises(LifeboatError) as e:
        files_restore.plan_restore(record(str(t)))
    assert e.value.msg.startswith('refusing to overwrite non-empty %s' % t)
    assert 'force=true' in e.value.msg and 'lifeboat_restore_force' in e.value.msg
    assert e.value.details['would_overwrite'] == [str(t)]
    targets, blocked = files_restore.plan_restore(record(str(t)), force=True)
    assert blocked == [str(t)] and targets == [(str(t), str(t))]


def test_plan_restore_names_only_blocked_targets(tmp_path):
    full = tmp_path / 'full'
    full.mkdir()
    (full / 'x').write_text('x')
    with pytest.raises(LifeboatError) as e:
        files_restore.plan_restore(record(str(full), str(tmp_path / 'absent')))
    assert e.value.details['would_overwrite'] == [str(full)]


def test_plan_restore_under_dest_checks_the_rerooted_target(tmp_path):
    dest = tmp_path / 'dest'
    (dest / 'opt/app').mkdir(parents=True)
    (dest / 'opt/app/old').write_text('old')
    with pytest.raises(LifeboatError) as e:
        files_restore.plan_restore(record('/opt/app'), dest=str(dest))
    assert str(dest / 'opt/app') in e.value.msg
    assert files_restore.plan_restore(record('/opt/app'), dest=str(dest), force=True)[1] == [str(dest / 'opt/app')]


def test_is_nonempty(tmp_path):
    assert not files_logic.is_nonempty(str(tmp_path / 'absent'))
    assert not files_logic.is_nonempty(str(tmp_path))
    f = tmp_path / 'f'
    f.write_text('')
    assert files_logic.is_nonempty(str(tmp_path))
    assert files_logic.is_nonempty(str(f))
    assert not files_logic.is_nonempty(str(f / 'below-a-file'))


def test_judge_tar_create_with_tar_named_by_full_path():
    """tar prefixes its messages with its argv[0]; files_backup runs it by full path."""
    stderr = '/usr/bin/tar: opt/app/log/current: file changed as we read it\n' + TOTALS
    facts = files_logic.judge_tar_create(1, stderr)
    assert facts['changed_files'] == ['/opt/app/log/current']
    assert facts['changed_file_count'] == 1
