# -*- coding: utf-8 -*-
"""Restores that must not reach outside their target, through real playbook runs (issue 10).

* a record whose paths were changed in the store (checksums fixed up, no pin): refused as damaged;
* symlinks already in dest, and an archive whose parent of a recorded path is a symlink: refused;
* set-id bits and file capabilities: dropped under dest by default, kept with keep_setid and in place;
* a mount point restored in place (its contents replaced), a mount inside a target (refused);
* an immutable file in the replaced tree (reported as a leftover), an immutable target (nothing changed).

Each case failed on 0.1.0 (35acb05): run this file with LIFEBOAT_PLAYBOOKS_FROM pointing at a `git archive` of it
(see lb_files_helpers). Every run here is one playbook run for several hosts, one case per host, when the cases
fail at the same stage (a preflight failure on one host stops every host).
"""

import os
import stat
import struct
import tarfile

import pytest

import lb_files_helpers as h

SUID_ROOT = 0o4755
SGID = 0o2755
SHARED_DIR = 0o2775
# struct vfs_cap_data, revision 2, effective: cap_net_raw (13) permitted (what `setcap cap_net_raw+ep` writes)
CAPABILITY = struct.pack('<IIIII', 0x02000001, 1 << 13, 0, 0, 0)


def _tree(root, files=None):
    os.makedirs(str(root))
    for rel, data in (files or {'f': 'content\n', 'sub/g': 'more\n'}).items():
        p = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(data)
    return str(root)


def _msg(result, host):
    msgs = h.failure_msgs(result, host)
    assert msgs, (host, result)
    assert '\n' not in msgs[0]
    return msgs[0]


def _failed_hosts(result):
    """Hosts whose own tasks failed (the final run-once summary is reported under the first host)."""
    return sorted({host for host, msg in h.failures(result) if not (msg or '').startswith('The restore of set ')})


def _leftovers(root):
    out = []
    for dirpath, dirnames, files in os.walk(str(root)):
        out.extend(os.path.join(dirpath, n) for n in dirnames + files if n.startswith('.lifeboat-'))
    return out


# ---------------------------------------------------------------- tampered record paths, symlinks in dest

@pytest.fixture(scope='module')
def refused(mod_scratch):
    """One restore run, force=true, with a host per case; every case is refused in the preflight."""
    s = mod_scratch / 'refused'
    store = s / 'store'
    srcs = {case: _tree(s / ('src-' + case)) for case in ('dotdot', 'top', 'deep')}
    sid = h.inprocess_set(store, {'m-' + case: {'data': [src]} for case, src in srcs.items()})
    # dotdot: from dest, '/../../victim' is s/x/victim (moved aside, then deleted with force on 0.1.0), and from
    # the staging directory 0.1.0 made at s/x, it is s/victim (moved in its place)
    dest_dotdot = s / 'x/y/dest'
    dest_dotdot.mkdir(parents=True)
    _tree(s / 'x/victim', {'deleted-by-0.1.0': 'x\n'})
    _tree(s / 'victim', {'moved-by-0.1.0': 'y\n'})
    empty = h.zstd_bytes(h.crafted_tar([]))   # no member can be refused by the listing checks
    rec = h.replace_artifact(store, sid, h.the_artifact(store, sid, host='m-dotdot'), empty)
    h.replace_record(store, sid, rec, paths=['/../../victim'])
    # top: dest/tmp -> s/elsewhere-top; deep: dest/tmp/.../<scratch> -> s/elsewhere-deep
    hosts = {'m-dotdot': {'lifeboat_restore_dest': str(dest_dotdot)}}
    for case in ('top', 'deep'):
        dest = s / ('dest-' + case)
        elsewhere = s / ('elsewhere-' + case)
        elsewhere.mkdir()
        first = srcs[case].lstrip('/').split('/')[0] if case == 'top' else os.path.dirname(srcs[case]).lstrip('/')
        link = dest / first
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(str(elsewhere), str(link))
        hosts['m-' + case] = {'lifeboat_restore_dest': str(dest), 'link': str(link), 'elsewhere': str(elsewhere)}
    inv = h.inventory(s / 'hosts.yml', hosts)
    before = h.snapshot_files(s, skip=(str(store),))
    r = h.restore(store, inventory=inv, lifeboat_restore_force=True)
    return {'s': s, 'store': store, 'sid': sid, 'result': r, 'before': before, 'hosts': hosts, 'srcs': srcs}


def test_refused_cases_changed_nothing(refused):
    r = refused['result']
    assert r.rc != 0, r
    assert 'TASK [lifeboat.backup.restore : Restore files]' not in r.stdout  # all in the preflight
    assert sorted({host for host, _msg in h.failures(r)}) == sorted(refused['hosts'])  # each with its own message
    assert h.snapshot_files(refused['s'], skip=(str(refused['store']),)) == refused['before']
    assert _leftovers(refused['s']) == []


def test_tampered_record_path_with_dotdot(refused):
    s = refused['s']
    key = '%s/m-dotdot/files/data.tar.zst' % refused['sid']
    assert _msg(refused['result'], 'm-dotdot') == (
        "the record of %s is not valid: the path '/../../victim' cannot be restored: it has a '..' component. The set "
        "was changed or damaged in the store; nothing was changed" % key)
    assert os.listdir(str(s / 'x/victim')) == ['deleted-by-0.1.0']
    assert os.listdir(str(s / 'victim')) == ['moved-by-0.1.0']


def test_tampered_record_path_with_nul(scratch):
    """On 0.1.0 the module crashed (ValueError: embedded null byte) instead of refusing the record."""
    store = scratch / 'store'
    sid = h.inprocess_set(store, {'localhost': {'data': [_tree(scratch / 'src')]}})
    h.replace_record(store, sid, h.the_artifact(store, sid), paths=['/etc/a\x00b'])
    r = h.restore(store, lifeboat_restore_dest=str(scratch / 'dest'), lifeboat_restore_force=True)
    assert r.rc != 0, r
    assert _msg(r, 'localhost') == (
        "the record of %s/localhost/files/data.tar.zst is not valid: the path '/etc/a\\x00b' cannot be restored: it "
        "contains a NUL byte. The set was changed or damaged in the store; nothing was changed" % sid)
    assert not (scratch / 'dest').exists()


@pytest.mark.parametrize('case', ['top', 'deep'])
def test_symlink_already_in_dest(refused, case):
    """dest/tmp -> elsewhere (or a deeper component): 0.1.0 restored through it, outside dest, with rc 0."""
    hv = refused['hosts']['m-' + case]
    target = hv['lifeboat_restore_dest'] + refused['srcs'][case]
    assert _msg(refused['result'], 'm-' + case) == (
        'refusing to restore %s: %s is a symlink (to %s); a restore never writes through a symlink that is not part '
        'of the restored tree: remove it, or restore under another dest. Nothing was changed'
        % (target, hv['link'], hv['elsewhere']))
    assert os.listdir(hv['elsewhere']) == []
    assert os.readlink(hv['link']) == hv['elsewhere']


def test_archive_with_a_symlinked_parent_of_its_path(scratch):
    """The archive holds a parent of the recorded path as a symlink (no member beneath it): on 0.1.0 the staged
    path led through it and the restore moved outside/<name> into dest."""
    src = _tree(scratch / 'src')
    store = scratch / 'store'
    sid = h.inprocess_set(store, {'localhost': {'data': [src]}})
    outside = scratch / 'outside'
    _tree(outside / 'src', {'not yours': 'x\n'})
    parent = os.path.dirname(src).lstrip('/')
    data = h.zstd_bytes(h.crafted_tar([(parent, tarfile.SYMTYPE, {'linkname': str(outside)})]))
    h.replace_artifact(store, sid, h.the_artifact(store, sid), data)
    dest = scratch / 'dest'
    dest.mkdir()
    before = h.snapshot_files(scratch, skip=(str(store),), no_mtime=(str(dest),))

    r = h.restore(store, lifeboat_restore_dest=str(dest))
    assert r.rc != 0, r
    assert _msg(r, 'localhost') == (
        'the archive %s/localhost/files/data.tar.zst has unsafe members, refusing to restore it (nothing was changed): '
        '%s: a parent of a backed-up path, but not a directory' % (sid, parent))
    assert h.snapshot_files(scratch, skip=(str(store),), no_mtime=(str(dest),)) == before
    assert os.listdir(str(dest)) == []


# ---------------------------------------------------------------- set-id bits and capabilities

def _privileged_tree(root):
    _tree(root, {'bin/suid': '#!/bin/sh\n', 'bin/sgid': '#!/bin/sh\n', 'bin/cap': '#!/bin/sh\n', 'bin/plain': 'x\n',
                 'shared/f': 'x\n'})
    b = os.path.join(str(root), 'bin')
    os.chmod(os.path.join(b, 'suid'), SUID_ROOT)
    os.chown(os.path.join(b, 'sgid'), 0, 2345)
    os.chmod(os.path.join(b, 'sgid'), SGID)
    os.chmod(os.path.join(b, 'cap'), 0o755)
    os.chmod(os.path.join(str(root), 'shared'), SHARED_DIR)
    try:
        os.setxattr(os.path.join(b, 'cap'), 'security.capability', CAPABILITY)
    except OSError as e:
        pytest.skip('cannot set a file capability here: %s' % e.strerror)
    return str(root)


def _privileges(root):
    b = os.path.join(str(root), 'bin')

    def mode(p):
        return stat.S_IMODE(os.lstat(p).st_mode)

    try:
        cap = os.getxattr(os.path.join(b, 'cap'), 'security.capability')
    except OSError:
        cap = None
    return {'suid': mode(os.path.join(b, 'suid')), 'sgid': mode(os.path.join(b, 'sgid')), 'cap': cap,
            'plain': mode(os.path.join(b, 'plain')), 'shared': mode(os.path.join(str(root), 'shared'))}


KEPT = {'suid': SUID_ROOT, 'sgid': SGID, 'cap': CAPABILITY, 'plain': 0o644, 'shared': SHARED_DIR}


@pytest.fixture(scope='module')
def setid(mod_scratch):
    """One run: host drop (under dest, default), keep (under dest, keep_setid), inplace (in place, force)."""
    s = mod_scratch / 'setid'
    srcs = {case: _privileged_tree(s / ('src-' + case)) for case in ('drop', 'keep', 'inplace')}
    assert _privileges(srcs['drop']) == KEPT
    store = s / 'store'
    h.inprocess_set(store, {case: {'data': [src]} for case, src in srcs.items()})
    for name in ('suid', 'sgid'):
        os.chmod(os.path.join(srcs['inplace'], 'bin', name), 0o755)  # the in-place restore must bring them back
    os.removexattr(os.path.join(srcs['inplace'], 'bin', 'cap'), 'security.capability')
    hosts = {'drop': {'lifeboat_restore_dest': str(s / 'dest-drop')},
             'keep': {'lifeboat_restore_dest': str(s / 'dest-keep'), 'lifeboat_restore_keep_setid': True},
             'inplace': {'lifeboat_restore_force': True}}
    r = h.restore(store, inventory=h.inventory(s / 'hosts.yml', hosts))
    assert r.rc == 0, r
    return {'s': s, 'srcs': srcs}


def test_setid_bits_dropped_under_dest_by_default(setid):
    restored = str(setid['s'] / 'dest-drop') + setid['srcs']['drop']
    assert _privileges(restored) == {'suid': 0o755, 'sgid': 0o755, 'cap': None, 'plain': 0o644, 'shared': SHARED_DIR}
    assert os.lstat(os.path.join(restored, 'bin/sgid')).st_gid == 2345  # only the bits go


def test_setid_bits_kept_under_dest_with_keep_setid(setid):
    assert _privileges(str(setid['s'] / 'dest-keep') + setid['srcs']['keep']) == KEPT


def test_setid_bits_kept_in_place(setid):
    assert _privileges(setid['srcs']['inplace']) == KEPT


# ---------------------------------------------------------------- mount points and immutable files, in place

@pytest.fixture(scope='module')
def in_place(mod_scratch, mod_mounts):
    """One in-place run (force) with three hosts: mount (a tmpfs mount point), immutable (an immutable file in
    the tree), locked (the target directory itself is immutable)."""
    s = mod_scratch / 'in-place'
    mount = mod_mounts.mount(s / 'data', 'size=4m,mode=0755')
    _tree(mount / 'app', {'conf': 'mounted conf\n', 'deep/er/f': 'deep\n'})
    (mount / 'top').write_text('top\n')
    os.chown(str(mount), 1234, 2345)
    os.chmod(str(mount), 0o750)
    imm = _tree(s / 'imm', {'locked': 'cannot be removed\n', 'free': 'x\n', 'sub/g': 'g\n'})
    locked = _tree(s / 'locked')
    store = s / 'store'
    h.inprocess_set(store, {'mount': {'data': [str(mount)]}, 'immutable': {'data': [imm]}, 'locked': {'data': [locked]}})
    backed_up = {'mount': h.snapshot_tree(mount), 'imm': h.snapshot_tree(imm)}
    # what changed since: the volume's contents and its root directory; the trees
    (mount / 'top').write_text('edited\n')
    (mount / 'added').write_text('added after the backup\n')
    os.unlink(str(mount / 'app/conf'))
    os.chmod(str(mount), 0o700)
    os.chown(str(mount), 0, 0)
    with open(os.path.join(imm, 'free'), 'w') as f:
        f.write('edited\n')
    mod_mounts.chattr_immutable(os.path.join(imm, 'locked'), sweep=s)
    with open(os.path.join(locked, 'f'), 'w') as f:
        f.write('edited\n')
    mod_mounts.chattr_immutable(locked, sweep=s)
    before = {'dev': os.stat(str(mount)).st_dev, 'locked': h.snapshot_files(locked)}
    hosts = {'mount': {}, 'immutable': {}, 'locked': {}}
    r = h.restore(store, inventory=h.inventory(s / 'hosts.yml', hosts), lifeboat_restore_force=True)
    return {'s': s, 'mount': mount, 'imm': imm, 'locked': locked, 'result': r, 'backed_up': backed_up,
            'before': before}


def test_mount_point_restored_by_replacing_its_contents(in_place):
    """0.1.0 failed with a raw '[Errno 16] Device or resource busy'."""
    mount = in_place['mount']
    assert _failed_hosts(in_place['result']) == ['locked']
    assert os.stat(str(mount)).st_dev == in_place['before']['dev']  # still the volume, still mounted
    assert h.diff_snapshots(in_place['backed_up']['mount'], h.snapshot_tree(mount)) == []  # root's owner, mode, mtime too
    # no staging or old content left in the volume or anywhere else (but the immutable case's, below)
    assert [p for p in _leftovers(in_place['s']) if not os.path.basename(p).startswith('.lifeboat-old-imm-')] == []


def test_immutable_file_left_behind_is_reported(in_place):
    r = in_place['result']
    imm = in_place['imm']
    assert _failed_hosts(r) == ['locked']
    assert h.diff_snapshots(in_place['backed_up']['imm'], h.snapshot_tree(imm)) == []
    (old,) = [p for p in _leftovers(in_place['s']) if os.path.basename(p).startswith('.lifeboat-old-imm-')]
    assert os.listdir(old) == ['locked']
    warning = ('[WARNING]: the old content of %s could not be removed completely; left behind: %s/locked (Operation not '
               'permitted (it is immutable: chattr -i -a it first)). Remove it by hand' % (imm, old))
    assert warning in ' '.join(r.output.split()), r.output


def test_immutable_target_changes_nothing(in_place):
    locked = in_place['locked']
    assert _msg(in_place['result'], 'locked') == (
        'cannot move %s aside to replace it: Operation not permitted (it is immutable: chattr -i -a it first); nothing '
        'was changed' % locked)
    assert h.snapshot_files(locked) == in_place['before']['locked']
    assert [p for p in _leftovers(in_place['s']) if 'locked' in os.path.basename(p)] == []


def test_mount_inside_a_target_is_refused(scratch, tmpfs):
    """0.1.0 moved the tree with the mount inside it aside and emptied the mounted volume while removing it."""
    app = _tree(scratch / 'app', {'conf': 'x\n'})
    projects = tmpfs(scratch / 'app/projects', 'size=1m')
    (projects / 'project-1').write_text('on the volume\n')
    store = scratch / 'store'
    h.inprocess_set(store, {'localhost': {'data': [app]}})
    (projects / 'project-2').write_text('added since\n')
    before = h.snapshot_files(scratch, skip=(str(store),))

    r = h.restore(store, lifeboat_restore_force=True)
    assert r.rc != 0, r
    assert _msg(r, 'localhost') == (
        'refusing to restore %s: %s is mounted inside it, and replacing the tree would move it with the old content. '
        'Unmount it, or restore under dest; a mount point that is itself a backed-up path is restored by replacing its '
        'contents. Nothing was changed' % (app, projects))
    assert h.snapshot_files(scratch, skip=(str(store),)) == before


def test_staging_on_another_filesystem(scratch, tmpfs):
    """staging_dir on its own filesystem: every target (a directory, and a mount point) is copied beside itself
    first, so the final steps are still renames. In-process (the role has no staging_dir), with real tar."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore

    src = _tree(scratch / 'src')
    data = tmpfs(scratch / 'data', 'size=2m')
    _tree(data / 'app', {'conf': 'on the volume\n'})
    store = scratch / 'store'
    h.inprocess_set(store, {'localhost': {'data': [src, str(data)]}})
    backed_up = {'src': h.snapshot_tree(src), 'data': h.snapshot_tree(data)}
    with open(os.path.join(src, 'f'), 'w') as f:
        f.write('edited\n')
    (data / 'app/conf').write_text('edited\n')
    stage = tmpfs(scratch / 'stage', 'size=4m')

    plan = files_restore.restore(h.fs_store(store), 'localhost', 'data', force=True, staging_dir=str(stage), check_mode=True)
    assert plan['mount_points'] == [str(data)] and plan['overwritten'] == sorted([src, str(data)])
    res = files_restore.restore(h.fs_store(store), 'localhost', 'data', force=True, staging_dir=str(stage))
    assert res['restored'] == sorted([src, str(data)]) and res['leftovers'] == [] and 'warnings' not in res
    assert h.diff_snapshots(backed_up['src'], h.snapshot_tree(src)) == []
    assert h.diff_snapshots(backed_up['data'], h.snapshot_tree(data)) == []
    assert os.listdir(str(stage)) == [] and _leftovers(scratch) == []
