# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chain restores in bounded memory (issue 16): snapshot files read one record at a time
(incremental.iter_snar_directories, SnapshotDumpdirs), and a level's deletions compared with the staged tree itself
(apply.apply_level), on real directories in tmp_path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._files import apply as chain_apply
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tarsafe import IncrementalChecker


def snar(*dirs):
    """A format 2 snapshot file: dirs are (name, [entries])."""
    out = b'GNU tar-1.34-2\n1796124601\x00601314459\x00'
    for ino, (name, entries) in enumerate(dirs):
        out += b'0\x001796124601\x00461891675\x0065024\x00%d\x00%s\x00' % (ino + 11, name)
        out += b''.join(e + b'\x00' for e in entries) + b'\x00\x00'
    return out


ROOTS = [b'srv/app']
GOOD = snar((b'srv/app', [b'Dd', b'Yf', b'Nkept']), (b'srv/app/d', [b'Yx']), (b'srv/app/e', []))


def test_iter_snar_directories_is_snar_directories_one_at_a_time():
    records = incremental.iter_snar_directories(GOOD)
    first = next(records)
    assert first[5] == b'srv/app' and first[6] == [b'Dd', b'Yf', b'Nkept']
    assert [first] + list(records) == incremental.snar_directories(GOOD)


@pytest.mark.parametrize('bad', [GOOD[:-2], GOOD[:-3], GOOD[:-4], GOOD + b'0\x00', GOOD.replace(b'\x0065024\x00', b'\x00x\x00', 1)])
def test_iter_snar_directories_refuses_what_is_not_one(bad):
    with pytest.raises(ValueError):
        list(incremental.iter_snar_directories(bad))


def test_snapshot_dumpdirs_mapping_reads_one_record_at_a_time():
    dumpdirs = incremental.SnapshotDumpdirs(GOOD)
    assert dumpdirs.check(ROOTS) == []
    expected, problems = incremental.snapshot_dumpdirs(incremental.snar_directories(GOOD), ROOTS)
    assert problems == []
    assert sorted(dumpdirs) == sorted(expected) and len(dumpdirs) == 3
    assert dict(dumpdirs.items()) == expected
    assert b'srv/app/d' in dumpdirs and b'srv/other' not in dumpdirs
    assert dumpdirs[b'srv/app'] == {b'd': b'D', b'f': b'Y', b'kept': b'N'}


@pytest.mark.parametrize('record', [(b'srv/other', []), (b'srv/app/../x', []), (b'srv/app/d', [b'Ya/b']),
                                    (b'srv/app/d', [b'Y..']), (b'srv/app/d', [b'Yx', b'Nx']), (b'srv/app/d', [b'Qx'])])
def test_snapshot_dumpdirs_mapping_finds_the_same_problems(record):
    data = snar((b'srv/app', [b'Dd']), record)
    dumpdirs = incremental.SnapshotDumpdirs(data)
    problems = dumpdirs.check(ROOTS)
    assert problems and problems == incremental.snapshot_dumpdirs(incremental.snar_directories(data), ROOTS)[1]


def staged(tmp_path):
    root = tmp_path / 'staging'
    (root / 'srv' / 'app' / 'd').mkdir(parents=True)
    (root / 'srv' / 'app' / 'd' / 'x').write_text('x')
    (root / 'srv' / 'app' / 'd' / 'gone').write_text('gone')
    (root / 'srv' / 'app' / 'kept').write_text('kept')
    (root / 'srv' / 'app' / 'gone-dir' / 'deep').mkdir(parents=True)
    (root / 'srv' / 'app' / 'f').mkdir()           # a directory where the level has a file
    (root / 'srv' / 'app' / 'e').write_text('a file where the level has a directory')
    os.symlink('/etc', str(root / 'srv' / 'app' / 'link'))
    return root


def test_apply_level_compares_with_the_staged_tree(tmp_path):
    root = staged(tmp_path)
    dumpdirs = incremental.SnapshotDumpdirs(snar((b'srv/app', [b'Dd', b'Yf', b'Nkept', b'De', b'Dlink']),
                                                 (b'srv/app/d', [b'Nx']), (b'srv/app/e', [b'Ynew']),
                                                 (b'srv/app/link', [])))
    assert dumpdirs.check(ROOTS) == []
    fd = fsops.open_dir(str(root))
    try:
        assert fsops.entry_kinds(fd) == {b'srv': True}
        step = chain_apply.apply_level(fd, str(root), dumpdirs, {b'srv/app': True})
    finally:
        os.close(fd)
    # gone-dir (unlisted), f (a directory, now a file), e (a file, now a directory), link (a symlink, now a
    # directory: removed by its parent before srv/app/link is looked at, never followed), d/gone
    assert step == {'removed': 5}
    assert sorted(os.listdir(str(root / 'srv' / 'app'))) == ['d', 'kept']
    assert os.listdir(str(root / 'srv' / 'app' / 'd')) == ['x']
    assert os.path.isdir('/etc')


def test_apply_level_fits_the_recorded_paths_first(tmp_path):
    root = tmp_path / 'staging'
    (root / 'srv').mkdir(parents=True)
    (root / 'srv' / 'app').write_text('a file where the level has a directory')
    fd = fsops.open_dir(str(root))
    try:
        step = chain_apply.apply_level(fd, str(root), {b'srv/app': {b'new': b'Y'}}, {b'srv/app': True})
    finally:
        os.close(fd)
    assert step == {'removed': 1} and os.listdir(str(root / 'srv')) == []


def test_the_checker_lets_its_names_go_when_finished():
    checker = IncrementalChecker(['/srv/app'], dumpdirs=False)
    for line in ('drwxr-xr-x root/root 0 2026-01-01 00:00 "srv/app/"',
                 '-rw-r--r-- root/root 1 2026-01-01 00:00 "srv/app/f"',
                 'hrw-r--r-- root/root 0 2026-01-01 00:00 "srv/app/h" link to "srv/app/f"'):
        checker.feed(line + '\n')
    assert checker.finish() is checker and checker.reader is None and checker.finish() is checker
    assert checker.problems == [] and checker.files == {b'srv/app/f', b'srv/app/h'}
