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
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DamagedError, LifeboatError


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


def record(*paths, **extra):
    extra['paths'] = list(paths)
    return {'key': '20261122T031500Z/web1/files/app.tar.zst', 'extra': extra}


def plan(rec, dest=None, force=False, mounts=()):
    """plan_restore with a given mount table (so mount handling is tested without mounting anything)."""
    return files_restore.plan_restore(rec, dest=dest, force=force, mounts=list(mounts))


def found(targets):
    return [(t.path, t.target) for t in targets], [t.target for t in targets if t.nonempty]


def test_plan_restore_needs_paths():
    for rec in ({'key': 'k'}, {'key': 'k', 'extra': {}}, {'key': 'k', 'extra': {'paths': []}},
                {'key': 'k', 'extra': {'paths': '/opt/app'}}, {'key': 'k', 'extra': ['/opt/app']}):
        with pytest.raises(DamagedError) as e:
            plan(rec)
        assert e.value.msg == ('the record of k is not valid: there are no paths (it is not a files archive). The set '
                               'was changed or damaged in the store; nothing was changed')


@pytest.mark.parametrize('bad', ['/../../../victim', '/opt/../etc', 'opt/app', '/opt//app', '/opt/app/', '/opt/./app',
                                 '/opt/a\x00b', '/', '', None, 7])
def test_plan_restore_refuses_tampered_paths(tmp_path, bad):
    """A record changed in the store (checksums fixed up) names a path that would leave dest: refused, as damage."""
    dest = tmp_path / 'dest'
    with pytest.raises(DamagedError) as e:
        plan(record('/srv/ok', bad), dest=str(dest), force=True)
    assert e.value.msg.startswith('the record of 20261122T031500Z/web1/files/app.tar.zst is not valid: the path %r '
                                  'cannot be restored: it ' % (bad,)), e.value.msg
    assert e.value.msg.endswith('nothing was changed') and '\n' not in e.value.msg
    assert not dest.exists()


def test_plan_restore_refuses_nested_and_duplicate_paths():
    for paths in (['/opt/app', '/opt/app'], ['/opt/app', '/opt/app/sub'], ['/opt', '/opt/app']):
        with pytest.raises(DamagedError) as e:
            plan(record(*paths), dest='/srv/r')
        assert 'is listed twice or inside' in e.value.msg


@pytest.mark.parametrize('links, words', [
    ('nope', 'the links are not a list'),
    ([{'path': '/opt/app', 'resolved': '/srv/app'}], 'is malformed'),
    ([{'path': '/opt/../x', 'target': '/srv/app', 'resolved': '/srv/app'}], "the link path '/opt/../x' is not a valid path"),
    ([{'path': '/opt/app', 'target': '/srv/app', 'resolved': '/etc'}], 'the link resolved /etc is not among the archived'),
    ([{'path': '/opt/app', 'target': '', 'resolved': '/srv/app'}], 'has an invalid target'),
])
def test_plan_restore_refuses_tampered_links(links, words):
    with pytest.raises(DamagedError) as e:
        plan(record('/opt/app', '/srv/app', links=links), dest='/srv/r')
    assert words in e.value.msg


def test_plan_restore_absent_and_empty_targets_need_no_force(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    targets, blocked = found(plan(record(str(tmp_path / 'absent'), str(empty))))
    assert targets == [(str(tmp_path / 'absent'), str(tmp_path / 'absent')), (str(empty), str(empty))]
    assert blocked == []


def test_plan_restore_under_dest(tmp_path):
    targets = plan(record('/opt/app', '/etc/app.conf'), dest=str(tmp_path))
    assert found(targets) == ([('/opt/app', str(tmp_path / 'opt/app')), ('/etc/app.conf', str(tmp_path / 'etc/app.conf'))], [])
    assert targets[0].base == str(tmp_path) and targets[0].names == ['opt', 'app']
    assert not any(t.exists or t.mount for t in targets)


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
    with pytest.raises(ConfigError) as e:
        plan(record(str(t)))
    assert e.value.msg.startswith('refusing to overwrite non-empty %s' % t)
    assert 'force=true' in e.value.msg and 'lifeboat_restore_force' in e.value.msg
    assert e.value.details['would_overwrite'] == [str(t)]
    assert found(plan(record(str(t)), force=True)) == ([(str(t), str(t))], [str(t)])


def test_plan_restore_names_only_blocked_targets(tmp_path):
    full = tmp_path / 'full'
    full.mkdir()
    (full / 'x').write_text('x')
    with pytest.raises(LifeboatError) as e:
        plan(record(str(full), str(tmp_path / 'absent')))
    assert e.value.details['would_overwrite'] == [str(full)]


def test_plan_restore_under_dest_checks_the_rerooted_target(tmp_path):
    dest = tmp_path / 'dest'
    (dest / 'opt/app').mkdir(parents=True)
    (dest / 'opt/app/old').write_text('old')
    with pytest.raises(LifeboatError) as e:
        plan(record('/opt/app'), dest=str(dest))
    assert str(dest / 'opt/app') in e.value.msg
    assert found(plan(record('/opt/app'), dest=str(dest), force=True))[1] == [str(dest / 'opt/app')]


@pytest.mark.parametrize('where', ['opt', 'opt/app'])
def test_plan_restore_refuses_a_symlink_on_the_way_under_dest(tmp_path, where):
    """dest/opt -> /elsewhere would put the restored tree outside dest: refused before anything changes."""
    dest = tmp_path / 'dest'
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (dest / where).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(str(elsewhere), str(dest / where))
    with pytest.raises(ConfigError) as e:
        plan(record('/opt/app/conf'), dest=str(dest), force=True)
    assert e.value.msg == ('refusing to restore %s: %s is a symlink (to %s); a restore never writes through a symlink '
                           'that is not part of the restored tree: remove it, or restore under another dest. Nothing '
                           'was changed' % (dest / 'opt/app/conf', dest / where, elsewhere))
    assert os.listdir(str(elsewhere)) == []


def test_plan_restore_refuses_a_file_on_the_way(tmp_path):
    (tmp_path / 'opt').write_text('a file where a directory should be')
    with pytest.raises(ConfigError) as e:
        plan(record('/opt/app'), dest=str(tmp_path))
    assert '%s is not a directory' % (tmp_path / 'opt') in e.value.msg


def test_plan_restore_a_symlinked_dest_is_the_operators_choice(tmp_path):
    real = tmp_path / 'big-disk'
    real.mkdir()
    os.symlink(str(real), str(tmp_path / 'restore'))
    (target,) = plan(record('/opt/app'), dest=str(tmp_path / 'restore'))
    assert target.target == str(tmp_path / 'restore/opt/app')
    assert target.location == str(real / 'opt/app')


def test_plan_restore_in_place_follows_the_hosts_own_symlinked_parents(tmp_path):
    (tmp_path / 'data/opt').mkdir(parents=True)
    os.symlink(str(tmp_path / 'data/opt'), str(tmp_path / 'opt'))
    (target,) = plan(record(str(tmp_path / 'opt/app')))
    assert target.target == str(tmp_path / 'opt/app')
    assert target.location == str(tmp_path / 'data/opt/app')


def test_plan_restore_refuses_targets_that_meet_on_this_host(tmp_path):
    (tmp_path / 'b').mkdir()
    os.symlink(str(tmp_path / 'b'), str(tmp_path / 'a'))
    with pytest.raises(ConfigError) as e:
        plan(record(str(tmp_path / 'a/x'), str(tmp_path / 'b/x')))
    assert 'on this host they are the same place, or one is inside the other' in e.value.msg


def test_plan_restore_mount_points(tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'lost+found').mkdir()
    with pytest.raises(ConfigError):
        plan(record(str(data)), mounts=[str(data)])  # not empty: needs force like any target
    (target,) = plan(record(str(data)), force=True, mounts=['/', str(data)])
    assert target.mount and target.nonempty
    assert not plan(record(str(data)), force=True, mounts=['/'])[0].mount


def test_plan_restore_refuses_a_mount_inside_a_target(tmp_path):
    app = tmp_path / 'app'
    (app / 'projects').mkdir(parents=True)
    with pytest.raises(ConfigError) as e:
        plan(record(str(app)), force=True, mounts=['/', str(tmp_path / 'app2'), str(app / 'projects')])
    assert e.value.msg.startswith('refusing to restore %s: %s is mounted inside it, and replacing the tree would move '
                                  'it with the old content.' % (app, app / 'projects'))
    assert e.value.details['mounts_inside'] == [str(app / 'projects')]


def test_check_dest():
    assert files_restore.check_dest(None) is None
    assert files_restore.check_dest('') is None
    assert files_restore.check_dest('/srv//r/') == '/srv/r'
    for bad in ('srv/r', './r'):
        with pytest.raises(ConfigError) as e:
            files_restore.check_dest(bad)
        assert 'dest must be an absolute path' in e.value.msg
    with pytest.raises(ConfigError) as e:
        files_restore.check_dest('/srv/a\x00b')
    assert 'NUL' in e.value.msg


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
