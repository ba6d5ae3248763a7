# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification and drill logic: decoders per format, tar's verbose listing, a tree against its archive, row counts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._checks import logic


@pytest.mark.parametrize('fmt, decoder', [
    ('tar', 'tar-listing'), ('pg_dump-custom', 'pg-restore'), ('pg_dump-directory-tar', 'pg-directory-tar'),
    ('pg_dumpall-globals-sql', 'sql-complete'), ('raw', 'stream'), ('json', 'stream'), (None, 'stream'),
])
def test_decoder_for_each_format(fmt, decoder):
    assert logic.decoder_for({'format': fmt}) == decoder


def test_sql_trailer():
    assert logic.sql_complete(b'...\n--\n-- PostgreSQL database cluster dump complete\n--\n\n')
    assert not logic.sql_complete(b'CREATE ROLE x;\nALTER ROLE x WITH')


@pytest.mark.parametrize('perm, mode', [
    ('-rw-r--r--', 0o644), ('drwxr-xr-x', 0o755), ('-rwsr-xr-x', 0o4755), ('-rwSr--r--', 0o4644),
    ('-rwxr-sr-x', 0o2755), ('drwxrwxrwt', 0o1777), ('drwxrwxrwT', 0o1776), ('----------', 0), ('hrwsr-xr-x', 0o4755),
])
def test_mode_from_string(perm, mode):
    assert logic.mode_from_string(perm) == mode


def test_parse_member_lines_of_gnu_tar():
    member = logic.parse_member('-rwsr-xr-x root/root         3 2026-12-01 09:52 "d/b"\n')
    assert member == {'type': '-', 'name': b'd/b', 'target': None, 'mode': 0o4755, 'size': 3}
    link = logic.parse_member('lrwxrwxrwx root/root         0 2026-12-01 09:52 "d/c" -> "a"')
    assert link['type'] == 'l' and link['target'] == b'a'
    hard = logic.parse_member(b'hrw-r--r-- root/root 0 2026-12-01 09:52 "d/a" link to "d/b"')
    assert hard['type'] == 'h' and hard['target'] == b'd/b'
    dev = logic.parse_member('crw-r--r-- root/root 1,3 2026-12-01 09:52 "dev/null"')
    assert dev['size'] is None
    quoted = logic.parse_member('-rw-r--r-- 1000/1000 0 2026-12-01 09:52 "d/we ird\\"name\\303\\274"')
    assert quoted['name'] == 'd/we ird"nameü'.encode('utf-8')
    assert logic.parse_member('tar: Creating directory: "x"') is None
    with pytest.raises(ValueError):
        logic.parse_member('garbage "x"')


class Stat(object):
    def __init__(self, mode, size=0):
        self.st_mode = mode
        self.st_size = size


def test_compare_member():
    member = {'type': '-', 'name': b'f', 'target': None, 'mode': 0o4755, 'size': 3}
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o4755, 3)) is None
    assert logic.compare_member(member, None) == 'missing (file in the archive)'
    assert logic.compare_member(member, Stat(stat.S_IFDIR | 0o755)) == 'is not a file'
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o4755, 2)) == 'has 2 bytes, the archive says 3'
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o755, 3)) == 'mode 0755, the archive says 4755'
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o755, 3), setid_dropped=True) is None
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o4755, 3), setid_dropped=True) is None
    assert logic.compare_member(member, Stat(stat.S_IFREG | 0o4711, 3), setid_dropped=True) == 'mode 0711, the archive says 0755'
    assert logic.compare_member(dict(member, mode=0o666), Stat(stat.S_IFREG | 0o644, 3), umask=0o022) is None
    link = {'type': 'l', 'name': b'l', 'target': b'a', 'mode': 0o777, 'size': 0}
    assert logic.compare_member(link, Stat(stat.S_IFLNK | 0o777), b'a') is None
    assert logic.compare_member(link, Stat(stat.S_IFLNK | 0o777), b'b') == 'symlink points to b, the archive says a'


def test_tree_comparer_against_a_real_archive(tmp_path):
    """A real tree archived by GNU tar, restored by tar, then damaged: the comparer names every difference."""
    src = tmp_path / 'src'
    (src / 'd' / 'sub').mkdir(parents=True)
    (src / 'd' / 'a').write_bytes(b'abc')
    os.chmod(str(src / 'd' / 'a'), 0o4755)
    os.link(str(src / 'd' / 'a'), str(src / 'd' / 'b'))
    os.symlink('a', str(src / 'd' / 'c'))
    (src / 'd' / 'sub' / 'big').write_bytes(b'x' * 5000)
    archive = tmp_path / 't.tar'
    subprocess.run(['tar', '--format=posix', '-cf', str(archive), '-C', str(src), 'd'], check=True)
    dest = tmp_path / 'dest'
    dest.mkdir()
    subprocess.run(['tar', '-xf', str(archive), '-C', str(dest), '--same-permissions'], check=True)
    listing = subprocess.run(['tar', '-tvv', '--quoting-style=c', '-f', str(archive)], stdout=subprocess.PIPE,
                             check=True, env=dict(os.environ, LC_ALL='C')).stdout.splitlines(True)

    def stat_member(name):
        path = os.path.join(str(dest), name.decode('utf-8', 'surrogateescape'))
        try:
            st = os.lstat(path)
        except OSError:
            return None, None
        return st, os.fsencode(os.readlink(path)) if stat.S_ISLNK(st.st_mode) else None

    good = logic.TreeComparer(stat_member)
    for line in listing:
        good.feed(line)
    assert good.problems == [] and good.members == 6 and good.matched == 6 and good.bytes == 5003
    assert good.setid_members == 2
    (dest / 'd' / 'sub' / 'big').write_bytes(b'x' * 10)
    os.unlink(str(dest / 'd' / 'c'))
    os.chmod(str(dest / 'd' / 'sub'), 0o700)
    bad = logic.TreeComparer(stat_member)
    for line in listing:
        bad.feed(line)
    assert sorted(bad.problems) == ['d/c: missing (symlink in the archive)', 'd/sub/: mode 0700, the archive says 0755',
                                    'd/sub/big: has 10 bytes, the archive says 5000']
    assert bad.summary()['mismatched'] == 3


def test_compare_tables():
    problems, compared = logic.compare_tables({'public.a': 10, 'public.b': 0, 'app.c': 5},
                                              {'public.a': 10, 'public.b': 1, 'public.extra': 3})
    assert compared == 3
    assert problems == ['table app.c is missing (the backup counted 5 rows)', 'table public.b has 1 rows, the backup counted 0',
                        'table public.extra was restored but the backup did not count it']
    assert logic.compare_tables({'public.a': 1}, {'public.a': 1}) == ([], 1)
