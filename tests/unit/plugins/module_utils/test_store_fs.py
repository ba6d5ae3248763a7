# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The FilesystemStore contract, on real directories (and small tmpfs mounts for read-only / disk full)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import check_key
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import TEMP_PREFIX
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore


def fs(path, prefix=''):
    return FilesystemStore({'type': 'filesystem', 'path': str(path), 'prefix': prefix})


def all_files(root):
    out = []
    for dirpath, _dirs, files in os.walk(str(root)):
        for f in files:
            out.append(os.path.relpath(os.path.join(dirpath, f), str(root)))
    return sorted(out)


@pytest.fixture
def store(tmp_path):
    return fs(tmp_path / 'store')


@pytest.fixture
def tmpfs(tmp_path):
    """mount(options) -> a fresh tmpfs directory; unmounted at teardown."""
    mounted = []

    def mount(options):
        d = tmp_path / ('mnt%d' % len(mounted))
        d.mkdir()
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(d)], stderr=subprocess.PIPE,
                           check=False)
        if r.returncode != 0:
            pytest.skip('cannot mount a tmpfs here (needs root): %s' % r.stderr.decode('utf-8', 'replace').strip())
        mounted.append(d)
        return d

    yield mount
    for d in reversed(mounted):
        subprocess.run(['umount', str(d)], check=False)


# ---------------------------------------------------------------- writes

def test_write_is_invisible_until_commit(store):
    w = store.open_write('s/h/files/a.tar.zst')
    w.write(b'abc')
    w.write(bytearray(b'def'))
    w.write(memoryview(b'g' * (3 << 20)))
    assert store.stat('s/h/files/a.tar.zst') is None
    assert list(store.list('s')) == []
    assert store.list_children('s/h/files') == []
    w.commit()
    assert w.committed
    info = store.stat('s/h/files/a.tar.zst')
    assert info.key == 's/h/files/a.tar.zst' and info.size == 6 + (3 << 20)
    assert store.get_bytes('s/h/files/a.tar.zst') == b'abcdef' + b'g' * (3 << 20)
    assert all_files(store.root) == ['s/h/files/a.tar.zst']
    mode = os.stat(os.path.join(store.root, 's/h/files/a.tar.zst')).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(store.root, 's')).st_mode) == 0o700


def test_abort_leaves_nothing(store):
    w = store.open_write('s/a')
    w.write(b'partial')
    w.abort()
    assert store.stat('s/a') is None
    assert list(store.list('s')) == []
    assert store.list_children('s') == []
    assert all_files(store.root) == []


def test_context_manager_aborts_on_error_and_without_commit(store):
    with pytest.raises(RuntimeError), store.open_write('s/a') as w:
        w.write(b'x')
        raise RuntimeError('boom')
    with store.open_write('s/b') as w:
        w.write(b'x')
    assert all_files(store.root) == []
    with store.open_write('s/c') as w:
        w.write(b'x')
        w.commit()
    assert all_files(store.root) == ['s/c']


def test_commit_replaces_atomically(store):
    store.put_bytes('k', b'old')
    w = store.open_write('k')
    w.write(b'new')
    assert store.get_bytes('k') == b'old'
    w.commit()
    assert store.get_bytes('k') == b'new'


# ---------------------------------------------------------------- listing

def test_list_and_children_ignore_temp_names(store):
    store.put_bytes('s1/status.json', b'{}')
    store.put_bytes('s1/h/files/a.tar.zst', b'12345')
    store.put_bytes('s1/h/files/a.tar.zst.record.json', b'{}')
    store.put_bytes('s10/x', b'1')
    store.put_bytes('lock.json', b'{}')
    # a writer that died: its temp name stays on disk but is never an object
    w = store.open_write('s1/h/files/b.tar.zst')
    w.write(b'half')
    with open(os.path.join(store.root, TEMP_PREFIX + 'orphan'), 'w') as f:
        f.write('x')
    os.mkdir(os.path.join(store.root, 's1', 'emptydir'))
    assert [(i.key, i.size) for i in store.list('s1')] == [
        ('s1/status.json', 2), ('s1/h/files/a.tar.zst', 5), ('s1/h/files/a.tar.zst.record.json', 2)]
    assert [i.key for i in store.list('')] == ['lock.json', 's1/status.json', 's1/h/files/a.tar.zst',
                                               's1/h/files/a.tar.zst.record.json', 's10/x']
    assert store.list_children('') == ['lock.json', 's1', 's10']
    assert store.list_children('s1') == ['emptydir', 'h', 'status.json']
    assert store.list_children('s1/h/files') == ['a.tar.zst', 'a.tar.zst.record.json']
    assert store.list_children('nope') == []
    assert store.list_children('lock.json') == []
    assert list(store.list('nope')) == []
    w.abort()


def test_symlinks_in_the_store_are_not_objects(store, tmp_path):
    store.put_bytes('s/a', b'x')
    (tmp_path / 'outside').write_text('secret')
    os.symlink(str(tmp_path / 'outside'), os.path.join(store.root, 's', 'link'))
    assert [i.key for i in store.list('s')] == ['s/a']


def test_list_with_prefix(tmp_path):
    st = fs(tmp_path / 'store', prefix='/team/awx/')
    assert st.root == str(tmp_path / 'store' / 'team' / 'awx')
    st.put_bytes('s/a', b'x')
    assert os.path.isfile(str(tmp_path / 'store/team/awx/s/a'))
    assert [i.key for i in st.list('s')] == ['s/a']
    assert fs(tmp_path / 'store').list_children('') == ['team']


def test_stat_and_read_missing(store):
    assert store.stat('nope') is None
    assert store.get_bytes('nope') is None
    store.put_bytes('d/x', b'1')
    assert store.stat('d') is None  # a directory is not an object
    assert store.stat('d/x/y') is None  # below a file
    with pytest.raises(LifeboatError) as e:
        store.open_read('nope')
    assert 'is not in the store' in e.value.msg


def test_reader_streams(store):
    data = os.urandom(3 << 20)
    store.put_bytes('big', data)
    got = []
    with store.open_read('big') as r:
        while True:
            b = r.read(65536)
            if not b:
                break
            got.append(b)
    assert b''.join(got) == data


# ---------------------------------------------------------------- put_bytes

def test_put_bytes_exclusive(store):
    assert store.put_bytes('lock.json', b'first', exclusive=True) is True
    assert store.put_bytes('lock.json', b'second', exclusive=True) is False
    assert store.get_bytes('lock.json') == b'first'
    assert store.put_bytes('lock.json', b'third') is True
    assert store.get_bytes('lock.json') == b'third'
    assert all_files(store.root) == ['lock.json']  # no temp or link names left behind


def test_put_bytes_exclusive_race(store):
    # many exclusive creates of one key: exactly one wins
    wins = [store.put_bytes('race', str(i).encode(), exclusive=True) for i in range(20)]
    assert wins.count(True) == 1 and wins[0] is True
    assert store.get_bytes('race') == b'0'


# ---------------------------------------------------------------- delete

def test_delete_cleans_empty_dirs_but_not_the_root(store):
    store.put_bytes('s/h/files/a', b'1')
    store.put_bytes('s/h/files/b', b'2')
    store.put_bytes('s/status.json', b'3')
    store.delete('s/h/files/a')
    assert os.path.isdir(os.path.join(store.root, 's/h/files'))
    store.delete('s/h/files/b')
    assert not os.path.exists(os.path.join(store.root, 's/h'))
    assert os.path.isdir(os.path.join(store.root, 's'))
    store.delete('s/status.json')
    assert not os.path.exists(os.path.join(store.root, 's'))
    assert os.path.isdir(store.root)
    store.delete('s/status.json')  # absent: no error
    store.delete('never/was')


def test_delete_prefix(store):
    for k in ('s/a', 's/h/b', 's2/c'):
        store.put_bytes(k, b'x')
    assert store.delete_prefix('s') == 2
    assert [i.key for i in store.list('')] == ['s2/c']


# ---------------------------------------------------------------- keys

@pytest.mark.parametrize('key', ['', '/abs', '../x', 'a/../b', 'a//b', 'a/./b', 'a/', '.', '..'])
def test_bad_keys(store, key):
    with pytest.raises(LifeboatError) as e:
        store.open_write(key)
    assert 'invalid store key' in e.value.msg
    with pytest.raises(LifeboatError):
        check_key(key)


def test_unicode_keys(store):
    store.put_bytes(u's/h\u00fc/a b', b'x')
    assert [i.key for i in store.list('s')] == [u's/h\u00fc/a b']


# ---------------------------------------------------------------- check_writable and the factory

def test_check_writable_creates_the_directory(tmp_path):
    st = fs(tmp_path / 'new', prefix='p/q')
    st.check_writable()
    assert os.path.isdir(str(tmp_path / 'new/p/q'))
    assert all_files(tmp_path / 'new') == []  # the probe is gone


def test_check_writable_missing_parent(tmp_path):
    st = fs(tmp_path / 'no' / 'such' / 'store')
    with pytest.raises(LifeboatError) as e:
        st.check_writable()
    assert e.value.msg.startswith('filesystem store %s' % (tmp_path / 'no/such/store'))
    assert 'does not exist' in e.value.msg
    assert not os.path.exists(str(tmp_path / 'no'))


def test_check_writable_path_under_a_file(tmp_path):
    (tmp_path / 'afile').write_text('x')
    st = fs(tmp_path / 'afile' / 'store')
    with pytest.raises(LifeboatError) as e:
        st.check_writable()
    assert str(tmp_path / 'afile') in e.value.msg
    assert 'not a directory' in e.value.msg
    assert (tmp_path / 'afile').read_text() == 'x'


def test_check_writable_path_is_a_file(tmp_path):
    (tmp_path / 'afile').write_text('x')
    with pytest.raises(LifeboatError) as e:
        fs(tmp_path / 'afile').check_writable()
    assert str(tmp_path / 'afile') in e.value.msg


def test_check_writable_read_only_mount(tmpfs):
    d = tmpfs('ro,size=64k')
    with pytest.raises(LifeboatError) as e:
        fs(d).check_writable()
    assert e.value.msg == 'cannot write to %s: read-only filesystem' % d
    assert e.value.details['errno'] == errno.EROFS
    with pytest.raises(LifeboatError) as e:
        fs(d).put_bytes('x', b'1')
    assert 'read-only filesystem' in e.value.msg


def _write_64_chunks(w):
    with w:
        for _i in range(64):
            w.write(os.urandom(65536))


def test_disk_full_write_fails_clearly_and_leaves_nothing(tmpfs):
    d = tmpfs('size=256k')
    st = fs(d)
    st.put_bytes('earlier', b'kept')
    w = st.open_write('s/big')
    with pytest.raises(LifeboatError) as e:
        _write_64_chunks(w)
    assert e.value.msg == 'cannot write %s: no space left on device' % os.path.join(str(d), 's', 'big')
    assert e.value.details['errno'] == errno.ENOSPC
    assert [i.key for i in st.list('')] == ['earlier']
    assert all_files(d) == ['earlier']
    assert st.get_bytes('earlier') == b'kept'
    st.put_bytes('after', b'space is back')  # the aborted temp file gave its space back


def test_open_store_filesystem(tmp_path):
    st = open_store({'type': 'filesystem', 'path': str(tmp_path), 'prefix': ''})
    assert isinstance(st, FilesystemStore) and st.describe() == 'filesystem store %s' % tmp_path
    with pytest.raises(LifeboatError) as e:
        open_store({'type': 'filesystem', 'path': None})
    assert e.value.msg == 'store type filesystem needs store.path'
    with pytest.raises(LifeboatError) as e:
        open_store({'type': 'filesystem', 'path': str(tmp_path), 'prefix': 'a/../b'})
    assert "must not contain '.' or '..'" in e.value.msg


def test_cleanup_incomplete_removes_temp_files_of_dead_writers_only(store):
    done, open_, = '20261122T031500Z', '20261122T041500Z'
    store.put_bytes(done + '/manifest.json', b'{}')
    store.put_bytes(open_ + '/status.json', b'{}')
    store.put_bytes('not-a-set/x', b'{}')
    dead = []
    for key in (done + '/h/files/a.tar.zst', open_ + '/h/files/a.tar.zst', open_ + '/h/b', 'not-a-set/y', 'lock.json'):
        w = store.open_write(key)
        w.write(b'partial')
        dead.append(w)  # never committed nor aborted: what a SIGKILL leaves
    # the set layer names the open sets; the store sweeps only below them
    assert store.cleanup_incomplete([open_]) == 2
    left = [f for f in all_files(store.root) if os.path.basename(f).startswith(TEMP_PREFIX)]
    # completed sets are never written; the root may hold a concurrent run's lock attempt; other dirs are not ours
    assert sorted(os.path.dirname(f) for f in left) == ['', '20261122T031500Z/h/files', 'not-a-set']
    assert [i.key for i in store.list(open_)] == [open_ + '/status.json']
    assert store.cleanup_incomplete([open_]) == 0
    assert store.cleanup_incomplete([]) == 0
    for w in dead:
        w.abort()


def test_large_object_is_written_back_while_streaming_and_reads_back_whole(store, monkeypatch):
    # the writer starts writeback (posix_fadvise DONTNEED) every WRITEBACK_EVERY bytes; the object must
    # come out byte for byte, with windows that do not line up with the chunks
    import hashlib
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores import filesystem as filesystem_store
    calls = []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        calls.append((offset, length))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(filesystem_store, 'WRITEBACK_EVERY', 1 << 20)
    monkeypatch.setattr(os, 'posix_fadvise', spy)
    h = hashlib.sha256()
    with store.open_write('big/object') as w:
        for i in range(40):
            chunk = bytes([i]) * (300 * 1024 + i)
            h.update(chunk)
            w.write(chunk)
        w.commit()
    assert len(calls) >= 10
    assert all(off >= 0 and ln > 0 for off, ln in calls)
    with store.open_read('big/object') as r:
        got = hashlib.sha256()
        while True:
            b = r.read(1 << 16)
            if not b:
                break
            got.update(b)
    assert got.hexdigest() == h.hexdigest()
