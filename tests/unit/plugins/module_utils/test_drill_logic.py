# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drill comparison of files on a real FilesystemStore, restored with the real files restore flow."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import drill
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def backed_up(store, tmp_path):
    src = tmp_path / 'srv' / 'app'
    (src / 'conf').mkdir(parents=True)
    (src / 'conf' / 'app.ini').write_text('[x]\n')
    (src / 'data.bin').write_bytes(os.urandom(50000))
    os.chmod(str(src / 'data.bin'), 0o640)
    os.symlink('conf/app.ini', str(src / 'current'))
    (src / 'bin').mkdir()
    (src / 'bin' / 'tool').write_bytes(b'#!/bin/sh\n')
    os.chmod(str(src / 'bin' / 'tool'), 0o4755)  # set-id bits are dropped by restores under dest
    os.chmod(str(src / 'bin'), 0o2775)
    set_id = lifecycle.start(store)['set_id']
    tar = 'tar'
    argv = files_logic.tar_create_argv(tar, [str(src)], features=tar_features('/usr/bin/tar'))
    artifacts.write_artifact(store, set_id, 'web1', 'files', 'app', 'files', 'tar', '.tar', 'files:%s' % src,
                             check_source=lambda res: files_logic.judge_tar_create(res.rc, res.stderr), source_argv=argv,
                             compression='zstd', extra={'paths': [str(src)]})
    lifecycle.commit(store, set_id, hosts=['web1'])
    return set_id, src


def test_a_drill_of_files_passes_then_fails_on_damage_and_is_recorded(store, tmp_path):
    set_id, src = backed_up(store, tmp_path)
    scratch = tmp_path / 'scratch'
    files_restore.restore(store, 'web1', 'app', set_id=set_id, dest=str(scratch / 'web1'))
    result = drill.run(store, set_id=set_id, components=['files'], files_dest=str(scratch), facts={'restore_seconds': 1.5})
    assert result['passed'], result
    item = result['items'][0]
    assert item['members'] == 7 and item['matched'] == 7 and item['bytes'] == 50004 + 10
    assert item['setid_members'] == 1
    assert result['totals']['restore_seconds'] == 1.5 and result['recorded'].endswith('-drill-passed.json')
    restored = scratch / 'web1' / str(src).lstrip('/')
    os.chmod(str(restored / 'data.bin'), 0o644)
    (restored / 'conf' / 'app.ini').write_text('[changed size]\n')
    os.unlink(str(restored / 'current'))
    failed = drill.run(store, set_id=set_id, components=['files'], files_dest=str(scratch))
    assert failed['passed'] is False and len(failed['problems']) == 3, failed['problems']
    assert any('data.bin: mode 0644, the archive says 0640' in p for p in failed['problems'])
    keys = [info.key for info in store.list(results.AREA)]
    latest = results.latest_by_set(keys)[set_id]['last_drill']
    assert latest['passed'] is False


def test_a_drill_with_nothing_restored_fails(store, tmp_path):
    set_id, _src = backed_up(store, tmp_path)
    result = drill.run(store, set_id=set_id, components=['files'], files_dest=str(tmp_path / 'empty'), record=False)
    assert not result['passed'] and 'nothing was restored under' in result['problems'][0]


def test_drill_refusals_and_check_mode(store, tmp_path):
    set_id, _src = backed_up(store, tmp_path)
    with pytest.raises(ConfigError, match='files_dest must be'):
        drill.run(store, set_id=set_id, components=['files'])
    with pytest.raises(ConfigError, match='nothing to drill'):
        drill.run(store, set_id=set_id, components=['postgresql'])
    planned = drill.run(store, set_id=set_id, components=['files'], files_dest='/x', check_mode=True)
    assert planned['passed'] is None and planned['planned'] == [{'host': 'web1', 'component': 'files', 'name': 'app'}]
    assert list(store.list(results.AREA)) == []


def test_a_drill_whose_restore_failed_is_recorded_as_failed(store, tmp_path):
    set_id, _src = backed_up(store, tmp_path)
    result = drill.run(store, set_id=set_id, failure='files_restore: artifact failed verification', facts={'step': 'files'})
    assert result['passed'] is False and result['problems'] == [
        'the drill could not restore the set: files_restore: artifact failed verification']
    assert result['recorded'].endswith('-drill-failed.json')
