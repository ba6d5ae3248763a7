# -*- coding: utf-8 -*-
"""Files backup and restore through real playbook runs: round trip of a rich tree, in-place restores,
check mode, and a second set next to the first.

One backup of the rich tree is shared by the module (it is never modified by these tests, except by the
last one, which makes its own second set).
"""

import os
import shutil
import subprocess

import pytest

import lb_files_helpers as h


@pytest.fixture(scope='module')
def world(mod_scratch):
    """The rich tree, backed up once with playbooks/backup.yml."""
    src = mod_scratch / u'data \u00fc \u2713'
    feats = h.build_rich_tree(src)
    store = mod_scratch / 'store'
    files = [{'name': 'data', 'paths': [str(src)]}]
    before = h.snapshot_tree(src)
    r = h.backup(store, files)
    assert r.rc == 0, r
    ids = h.set_ids(store)
    assert len(ids) == 1
    return {'scratch': mod_scratch, 'src': src, 'store': store, 'files': files, 'feats': feats,
            'before': before, 'set_id': ids[0]}


@pytest.fixture(scope='module')
def restored(world):
    """The set restored under a dest directory with playbooks/restore.yml (set-id bits kept: an exact copy)."""
    dest = world['scratch'] / 'dest'
    r = h.restore(world['store'], lifeboat_restore_dest=str(dest), lifeboat_restore_keep_setid=True)
    assert r.rc == 0, r
    target = str(dest) + str(world['src'])
    return {'result': r, 'dest': dest, 'target': target, 'after': h.snapshot_tree(target)}


def _entries(snap, *fields):
    return {k: {f: v.get(f) for f in fields} for k, v in snap['entries'].items()}


# ---------------------------------------------------------------- the round trip, aspect by aspect

@pytest.mark.smoke
def test_backup_wrote_one_completed_set(world):
    store = h.fs_store(world['store'])
    summary = h.lifecycle.list_sets(store)[0]
    assert summary['status'] == 'completed' and summary['hosts'] == ['localhost']
    assert summary['components'] == {'localhost': ['files/data']}
    objects = h.store_objects(world['store'])
    assert [k for k in objects if '/heartbeats/' not in k] == sorted([
        world['set_id'] + '/manifest.json', world['set_id'] + '/status.json',
        world['set_id'] + '/localhost/files/data.tar.zst', world['set_id'] + '/localhost/files/data.tar.zst.part.json',
        world['set_id'] + '/localhost/files/data.tar.zst.record.json'])
    beats = [k for k in objects if '/heartbeats/' in k]
    assert len(beats) == 1 and beats[0].startswith(world['set_id'] + '/heartbeats/localhost-')   # files_backup's
    assert h.temp_files(world['store']) == []
    assert store.stat('lock.json') is None  # released


@pytest.mark.smoke
def test_restored_tree_is_identical(world, restored):
    """Everything at once: content, mode (setuid too), uid/gid, mtime in ns, links, xattrs, ACLs, hard links."""
    assert h.diff_snapshots(world['before'], restored['after']) == []


def test_content_modes_owners(world, restored):
    fields = ('mode', 'uid', 'gid', 'size', 'sha256')
    assert _entries(restored['after'], *fields) == _entries(world['before'], *fields)
    e = restored['after']['entries']
    assert e['setuid-bin']['mode'] == oct(0o104755)
    assert (e['secret']['mode'], e['secret']['uid'], e['secret']['gid']) == (oct(0o100600), 1234, 2345)
    assert (e['nobody-owned']['uid'], e['nobody-owned']['gid']) == (h.NOBODY, h.NOBODY)
    assert (e['dir 0750']['mode'], e['dir 0750']['uid']) == (oct(0o40750), 1234)
    assert e['links/rel']['uid'] == 1234  # symlink ownership (lchown) too
    assert e['sparse']['size'] == (8 << 20) + 1


def test_mtimes_to_the_nanosecond(world, restored):
    assert _entries(restored['after'], 'mtime_ns') == _entries(world['before'], 'mtime_ns')
    # directories too, including the root of the restored path and the symlinks
    assert restored['after']['entries']['.']['mtime_ns'] == world['before']['entries']['.']['mtime_ns']
    assert restored['after']['entries']['links/abs']['mtime_ns'] % 10 ** 9 != 0


def test_symlinks(restored):
    t = restored['target']
    assert os.readlink(os.path.join(t, 'links/rel')) == '../plain.txt'
    assert os.readlink(os.path.join(t, 'links/abs')) == '/etc/hostname'
    assert os.readlink(os.path.join(t, 'links/dangling')) == '../does/not/exist'
    assert not os.path.exists(os.path.join(t, 'links/dangling'))
    assert os.path.islink(os.path.join(t, 'links/dirlink'))
    assert open(os.path.join(t, 'links/rel')).read() == 'plain content\n'


def test_hard_links_share_one_inode(restored):
    t = restored['target']
    inodes = {os.lstat(os.path.join(t, p)).st_ino for p in ('hard1', 'hard2', 'dir 0750/nested/hard3')}
    assert len(inodes) == 1
    assert os.lstat(os.path.join(t, 'hard1')).st_nlink == 3
    assert os.lstat(os.path.join(t, 'plain.txt')).st_ino not in inodes
    assert restored['after']['hardlink_groups'] == [['dir 0750/nested/hard3', 'hard1', 'hard2']]


def test_empty_dirs(restored):
    t = restored['target']
    assert os.listdir(os.path.join(t, 'empty')) == []
    assert os.listdir(os.path.join(t, 'empty-0700')) == []
    assert oct(os.lstat(os.path.join(t, 'empty-0700')).st_mode) == oct(0o40700)


def test_odd_names(restored):
    names = set(os.listdir(restored['target']))
    for n in h.ODD_NAMES:
        assert n in names, n
        with open(os.path.join(restored['target'], n), 'rb') as f:
            assert f.read() == ('odd %d\n' % h.ODD_NAMES.index(n)).encode('utf-8')
    assert os.path.isfile(os.path.join(restored['target'], u'd\u00efr \u2713/inner \u00fc'))
    assert os.readlink(os.path.join(restored['target'], u'links/\u00fc-link')) == u'../d\u00efr \u2713'


def test_xattrs(world, restored):
    if not world['feats']['xattrs']:
        pytest.skip(world['feats']['xattrs_why'])
    t = restored['target']
    assert os.getxattr(os.path.join(t, 'plain.txt'), 'user.lifeboat.text') == u'v\u00e4lue'.encode('utf-8')
    assert os.getxattr(os.path.join(t, 'plain.txt'), 'user.lifeboat.binary') == b'\x00\x01\xff binary'
    assert os.getxattr(os.path.join(t, 'dir 0750'), 'user.lifeboat.dir') == b'on a directory'
    assert os.getxattr(os.path.join(t, 'new\nline'), 'user.odd') == b'on an odd name'


def test_acls(world, restored):
    if not world['feats']['acls']:
        pytest.skip(world['feats']['acls_why'])
    t = restored['target']

    def facl(*args):
        return subprocess.run(['getfacl', '-c', '-n', '-p'] + list(args), stdout=subprocess.PIPE, check=True,
                              universal_newlines=True).stdout

    out = facl(os.path.join(t, 'plain.txt'))
    assert 'user:%d:rw-' % h.NOBODY in out and 'group:2345:r--' in out
    out = facl(os.path.join(t, 'dir 0750/nested'))
    assert 'default:user:1234:rwx' in out and 'user:1234:r-x' in out
    for p in ('plain.txt', 'dir 0750/nested'):
        assert facl(os.path.join(t, p)) == facl(os.path.join(str(world['src']), p))


def test_restore_leaves_no_staging_behind(world, restored):
    leftovers = [n for n in os.listdir(str(world['scratch'])) if n.startswith('.lifeboat-')]
    assert leftovers == []
    for dirpath, dirnames, _files in os.walk(str(restored['dest'])):
        assert not [d for d in dirnames if d.startswith('.lifeboat-')], dirpath


# ---------------------------------------------------------------- check mode

def test_check_mode_writes_nothing(world):
    store_before = h.snapshot_files(world['store'])
    src_before = h.snapshot_tree(world['src'])
    r = h.backup(world['store'], world['files'], check=True)
    assert r.rc == 0, r
    assert 'would be committed (check mode)' in r.stdout
    assert h.snapshot_files(world['store']) == store_before

    # restore in check mode, in place with force over a changed tree
    changed = os.path.join(str(world['src']), 'plain.txt')
    with open(changed, 'a') as f:
        f.write('changed\n')
    try:
        changed_before = h.snapshot_tree(world['src'])
        r = h.restore(world['store'], check=True, lifeboat_restore_force=True)
        assert r.rc == 0, r
        assert 'TASK [lifeboat.backup.restore : Restore files]' in r.stdout
        assert h.snapshot_tree(world['src']) == changed_before
        assert h.snapshot_files(world['store']) == store_before
        assert [n for n in os.listdir(str(world['scratch'])) if n.startswith('.lifeboat-')] == []
    finally:
        # put the tree back exactly as it was (the backup of plain.txt is the reference)
        with open(changed, 'r+') as f:
            f.truncate(len('plain content\n'))
        e = world['before']['entries']['plain.txt']
        os.utime(changed, ns=(e['mtime_ns'], e['mtime_ns']))
        os.utime(str(world['src']), ns=(world['before']['entries']['.']['mtime_ns'],) * 2)
    assert h.diff_snapshots(h.snapshot_tree(world['src']), src_before) == []


# ---------------------------------------------------------------- in place

def test_in_place_restore_needs_force(world):
    src = str(world['src'])
    # change the tree: edit, add, remove, chmod
    with open(os.path.join(src, 'plain.txt'), 'w') as f:
        f.write('edited\n')
    with open(os.path.join(src, 'added after the backup'), 'w') as f:
        f.write('new\n')
    os.unlink(os.path.join(src, 'hard2'))
    shutil.rmtree(os.path.join(src, 'empty'))
    os.chmod(os.path.join(src, 'secret'), 0o644)
    changed = h.snapshot_tree(src)
    parent_before = sorted(os.listdir(os.path.dirname(src)))

    r = h.restore(world['store'])
    assert r.rc != 0, r
    msg = h.failure_msgs(r)[0]
    assert msg.startswith('refusing to overwrite non-empty %s: set force=true (lifeboat_restore_force)' % src), msg
    assert u'data \u00fc \u2713' in msg  # the unicode name, readable in the message
    assert '\n' not in msg
    assert h.snapshot_tree(src) == changed
    assert sorted(os.listdir(os.path.dirname(src))) == parent_before

    r = h.restore(world['store'], lifeboat_restore_force=True)
    assert r.rc == 0, r
    assert h.diff_snapshots(world['before'], h.snapshot_tree(src)) == []
    assert sorted(os.listdir(os.path.dirname(src))) == parent_before  # old tree removed, no staging left


# ---------------------------------------------------------------- a second set

def test_second_backup_leaves_the_first_untouched(world):
    first = world['set_id']
    first_bytes = h.set_bytes(world['store'], first)
    src = str(world['src'])
    with open(os.path.join(src, 'second.txt'), 'w') as f:
        f.write('only in the second set\n')

    r = h.backup(world['store'], world['files'], lifeboat_label='second')
    assert r.rc == 0, r
    second = [i for i in h.set_ids(world['store']) if i != first]
    assert len(second) == 1 and second[0].endswith('-second')
    second = second[0]
    assert h.set_bytes(world['store'], first) == first_bytes  # manifest, status, record, artifact: same bytes

    res = h.info(world['store'], world['scratch'])
    assert [s['id'] for s in res['sets']] == [second, first]  # newest first
    assert [s['status'] for s in res['sets']] == ['completed', 'completed']
    assert all(s['restorable'] for s in res['sets'])
    assert res['sets'][1]['manifest_sha256'] == h.set_format.sha256_hex(
        open(os.path.join(str(world['store']), first, 'manifest.json'), 'rb').read())

    dest = world['scratch'] / 'older'
    r = h.restore(world['store'], lifeboat_set_id=first, lifeboat_restore_dest=str(dest), lifeboat_restore_keep_setid=True)
    assert r.rc == 0, r
    older = str(dest) + src
    assert not os.path.exists(os.path.join(older, 'second.txt'))
    assert h.diff_snapshots(world['before'], h.snapshot_tree(older)) == []
    assert h.set_bytes(world['store'], first) == first_bytes
