# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command runner (_runner.py) on real processes: argv only, LC_ALL=C, timeouts, bounded output,
records, and check mode that runs nothing but probes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import backup as snapshot_backup
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import tar as files_tar

PY = sys.executable


def test_runs_argv_without_a_shell_in_the_c_locale_and_records_it(tmp_path):
    runner = command_runner.Runner()
    res = runner.run([PY, '-c', 'import os, sys; print(os.environ["LC_ALL"]); sys.exit(3)'], env={'PATH': '/bin'})
    assert res.ran and res.rc == 3 and res.stdout.strip() == 'C' and not res.ok
    res = runner.run(['echo', '$HOME; touch %s' % (tmp_path / 'pwned')])
    assert res.stdout == '$HOME; touch %s\n' % (tmp_path / 'pwned')           # no shell: taken literally
    assert not os.path.exists(str(tmp_path / 'pwned'))
    assert [c['argv'][0] for c in runner.commands] == [PY, 'echo']
    assert runner.commands[0]['rc'] == 3 and runner.commands[0]['ran'] is True
    assert runner.commands[0]['seconds'] >= 0


def test_output_is_bounded_and_keeps_the_end():
    runner = command_runner.Runner(limit=1000)
    res = runner.run([PY, '-c', 'import sys; sys.stderr.write("x" * 100000 + "THE END")'])
    assert res.stderr.endswith('THE END') and len(res.stderr) < 1100
    assert res.stderr.startswith('[output truncated]')
    assert 'exited with 0' in res.describe()


def test_a_command_over_its_timeout_is_killed_and_reported():
    runner = command_runner.Runner()
    with pytest.raises(command_runner.CommandError, match=r'did not finish within 0.5 seconds and was killed'):
        runner.run(['sleep', '30'], timeout=0.5)
    assert runner.commands[-1]['ran'] is True and runner.commands[-1]['rc'] == -9


def test_a_missing_command_is_one_message():
    runner = command_runner.Runner()
    with pytest.raises(command_runner.CommandError, match=r'could not be started \(/no/such/tool\)'):
        runner.run(['/no/such/tool', '--flag'], what='the tool')
    assert isinstance(command_runner.CommandError('x'), LifeboatError)


def test_check_mode_runs_nothing_but_records_what_would_run(tmp_path):
    runner = command_runner.Runner(check_mode=True)
    marker = tmp_path / 'made'
    res = runner.run(['touch', str(marker)])
    assert not res.ran and res.rc is None and res.ok and not marker.exists()
    assert runner.commands == [{'argv': ['touch', str(marker)], 'ran': False, 'rc': None, 'seconds': None}]
    # read-only probes still run: an honest plan needs them
    assert runner.tool_version('tar').startswith('tar (GNU tar)')
    assert runner.commands[-1]['argv'][1:] == ['--version'] and runner.commands[-1]['ran'] is True
    runner.tool_version('tar')
    assert len(runner.commands) == 2                 # asked once per tool
    runner.record_pipeline([('tar', ['tar', '-cf', '-', '/x']), ('zstd', ['zstd', '-c'])])
    assert runner.commands[-2:] == [{'argv': ['tar', '-cf', '-', '/x'], 'ran': False, 'pipeline': 1},
                                    {'argv': ['zstd', '-c'], 'ran': False, 'pipeline': 1}]


def test_the_default_runner_keeps_no_records():
    runner = command_runner.default_runner()
    runner.run(['true'])
    assert runner.commands == []


def test_tar_features_go_through_the_runner():
    runner = command_runner.Runner(check_mode=True)
    files_tar._FEATURES.clear()
    feats = files_tar.tar_features('tar', runner)
    assert feats['version'].startswith('tar (GNU tar)') and isinstance(feats['xattrs'], bool)
    assert [c['argv'][1] for c in runner.commands] == ['--help', '--version']
    with pytest.raises(LifeboatError, match='cannot run /no/tar'):
        files_tar.tar_features('/no/tar', runner)


def test_snapshot_hooks_run_through_the_runner_and_fail_with_their_output():
    runner = command_runner.Runner()
    done = snapshot_backup.run_hook(runner, [PY, '-c', 'print("frozen")'], 10, 'pre_command')
    assert done['rc'] == 0 and done['stdout'] == 'frozen\n' and done['ran']
    with pytest.raises(LifeboatError, match=r'post_command .* failed with exit code 2: thaw failed'):
        snapshot_backup.run_hook(runner, [PY, '-c', 'import sys; sys.stderr.write("thaw failed"); sys.exit(2)'], 10,
                                 'post_command')
    with pytest.raises(LifeboatError, match='did not finish within 1 seconds'):
        snapshot_backup.run_hook(runner, ['sleep', '20'], 1, 'pre_command')
    assert len(runner.commands) == 3
    planned = command_runner.Runner(check_mode=True)
    assert snapshot_backup.run_hook(planned, ['fsfreeze', '-f', '/srv'], 10, 'pre_command')['ran'] is False
    assert planned.commands == [{'argv': ['fsfreeze', '-f', '/srv'], 'ran': False, 'rc': None, 'seconds': None}]
