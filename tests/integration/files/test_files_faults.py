# -*- coding: utf-8 -*-
"""Bad input and faults through real playbook runs: each gives one clear line of ``msg`` and loses nothing.

Missing source, unwritable store (path under a file, read-only tmpfs), disk full mid-write (1 MiB tmpfs),
lock held by another run, a tampered artifact, and malicious archives in a set whose checksums all agree.
Fixture sets that are not under test are written in-process with the same module_utils (real tar, zstd).
"""

import os
import tarfile

import lb_files_helpers as h


def _src(root, files=None):
    os.makedirs(str(root))
    for rel, data in (files or {'f': 'content\n'}).items():
        with open(os.path.join(str(root), rel), 'w') as f:
            f.write(data)
    return str(root)


def _no_completed_set_but(store, keep):
    sets = h.lifecycle.list_sets(h.fs_store(store))
    assert [s['id'] for s in sets if s['status'] == 'completed'] == keep


# ---------------------------------------------------------------- bad input

def test_missing_source_path(scratch):
    good = _src(scratch / 'good')
    missing = str(scratch / u'n\u00f6 such \u2713 dir')
    store = scratch / 'store'
    r = h.backup(store, [{'name': 'data', 'paths': [good, missing]}])
    assert r.rc != 0, r
    # found by the preflight, before the set starts (0.1.0 started it and left a failed set behind)
    assert h.final_msg(r) == ('Preflight failed, nothing was started (no set, no lock): localhost: files entry data: %s '
                              'does not exist on this host' % missing)
    assert h.set_ids(store) == [] and h.store_objects(store) == []


def test_store_on_a_read_only_mount(scratch, tmpfs):
    # (a store path under a file is refused by the same check: tests/unit/.../test_store_fs.py)
    src = _src(scratch / 'src')
    store = tmpfs(scratch / 'ro', 'ro,size=64k')
    r = h.backup(store, [{'name': 'data', 'paths': [src]}])
    assert r.rc != 0, r
    assert h.final_msg(r) == ('Preflight failed, nothing was started (no set, no lock): localhost: store: cannot write '
                              'to %s: read-only filesystem' % store)
    assert os.listdir(str(store)) == []


# ---------------------------------------------------------------- disk full

def test_disk_full_mid_write(scratch, tmpfs):
    store = tmpfs(scratch / 'small', 'size=1m')
    small = _src(scratch / 'small-src')
    earlier = h.inprocess_set(store, {'localhost': {'small': [small]}})
    earlier_bytes = h.set_bytes(store, earlier)
    big = scratch / 'big'
    big.mkdir()
    for i in range(4):
        (big / ('random-%d' % i)).write_bytes(os.urandom(1 << 20))  # incompressible: 4 MiB into 1 MiB

    r = h.backup(store, [{'name': 'big', 'paths': [str(big)]}])
    assert r.rc != 0, r
    sid = [i for i in h.set_ids(store) if i != earlier]
    assert len(sid) == 1
    sid = sid[0]
    key_path = os.path.join(str(store), sid, 'localhost', 'files', 'big.tar.zst')
    assert h.failure_msgs(r)[0] == 'cannot write %s: no space left on device' % key_path
    assert h.final_msg(r).endswith('localhost: Archive files entries into the set: cannot write %s: no space left '
                                   'on device' % key_path)
    s = h.lifecycle.list_sets(h.fs_store(store))[0]
    assert s['id'] == sid and s['status'] == 'failed' and 'no space left on device' in s['reason']
    _no_completed_set_but(store, [earlier])
    # nothing of the failed write lists as an object (its part stays declared, unfinished), no temp file holds space
    objects = h.store_objects(store, sid)
    assert [k for k in objects if '/heartbeats/' not in k] == [sid + '/localhost/files/big.tar.zst.part.json',
                                                               sid + '/status.json']
    assert h.temp_files(store) == []
    # the earlier set in the same store is intact and still verifies
    assert h.set_bytes(store, earlier) == earlier_bytes
    assert h.lifecycle.info(h.fs_store(store), set_id=earlier, verify=True)['problems'] == []
    assert h.fs_store(store).stat('lock.json') is None


def _fill(mount, leave_pages):
    """Fill a tmpfs, then give back exactly ``leave_pages`` pages (4 KiB): a store that is all but full."""
    filler = os.path.join(str(mount), 'filler')
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b'\0' * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    size = os.path.getsize(filler)
    os.truncate(filler, size - size % 4096 - leave_pages * 4096)
    return filler


def test_disk_full_even_for_the_status_does_not_block_the_next_run(scratch, tmpfs):
    """A store so full that, after the set started, neither the part nor the set's failed status can be written.

    0.1.0 left the set in_progress with its lock held (the status write failed before the lock was released): the
    next run failed with "locked by ..." for 24 h. Now the lock is released even when the status cannot be written,
    so the set reads as failed (interrupted) and the next run starts as soon as there is space again.
    """
    mount = tmpfs(scratch / 'full', 'size=1m')
    store = mount / 'store'
    src = _src(scratch / 'src')
    store.mkdir()
    filler = _fill(mount, 2)   # room for the lock and the status of one start, nothing more
    r = h.backup(store, [{'name': 'data', 'paths': [src]}])
    assert r.rc != 0, r
    (sid,) = h.set_ids(store)
    assert h.fs_store(store).stat('lock.json') is None
    msgs = h.failure_msgs(r)
    assert msgs[-1] == ('set %s could not be marked failed (cannot write %s/%s/status.json: no space left on device); '
                        'its lock was released, so it reads as failed (interrupted) and does not block the next run'
                        % (sid, store, sid)), msgs
    s = h.lifecycle.list_sets(h.fs_store(store))[0]
    assert (s['id'], s['status']) == (sid, 'failed') and s['reason'].startswith('interrupted')
    assert h.temp_files(store) == []

    os.unlink(filler)   # space again: the next run needs no lifeboat_break_lock
    r = h.backup(store, [{'name': 'data', 'paths': [src]}])
    assert r.rc == 0, r
    sets = h.lifecycle.list_sets(h.fs_store(store))
    assert [s['status'] for s in sets] == ['completed', 'failed'] and sets[1]['id'] == sid


# ---------------------------------------------------------------- the lock

def test_second_run_while_the_lock_is_held(scratch):
    src = _src(scratch / 'src')
    store = scratch / 'store'
    holder = h.lifecycle.start(h.fs_store(store), owner={'host': 'other-host.example', 'pid': 4242})['set_id']
    before = h.snapshot_files(store)
    r = h.backup(store, [{'name': 'data', 'paths': [src]}])
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('the filesystem store %s is locked by host other-host.example (pid 4242, user ' % store), msg
    assert 'for set %s, expires ' % holder in msg
    assert 'break_lock=true (lifeboat_break_lock)' in msg
    assert h.snapshot_files(store) == before
    assert h.set_ids(store) == [holder]


# ---------------------------------------------------------------- tampered and malicious artifacts

CASES = ('dotdot', 'absolute', 'symlink', 'device', 'hardlink', 'relsymlink', 'tampered')


def _members(case, root, outside):
    """Archive members for a case; ``root`` is the recorded path without its leading '/'."""
    d = (root + '/', tarfile.DIRTYPE, {'mode': 0o755})
    f = (root + '/f', tarfile.REGTYPE, {'data': b'looks fine\n'})
    evil = b'written by a malicious archive\n'
    if case == 'dotdot':
        return [d, f, (root + '/' + '../' * 30 + outside.lstrip('/') + '/dotdot-evil', tarfile.REGTYPE,
                       {'data': evil})]
    if case == 'absolute':
        return [d, f, (outside + '/abs-evil', tarfile.REGTYPE, {'data': evil})]
    if case == 'symlink':
        return [d, (root + '/link', tarfile.SYMTYPE, {'linkname': outside}),
                (root + '/link/pwned', tarfile.REGTYPE, {'data': evil})]
    if case == 'device':
        return [d, f, (root + u'/dev \u00fc', tarfile.CHRTYPE, {'dev': (1, 3)})]
    if case == 'hardlink':
        return [d, f, (root + '/h', tarfile.LNKTYPE, {'linkname': outside + '/target'})]
    if case == 'relsymlink':
        return [d, f, (root + '/esc', tarfile.SYMTYPE, {'linkname': '../' * 30 + 'etc'})]
    raise AssertionError(case)


EXPECT = {
    'dotdot': "tar reported an unsafe member name",
    'absolute': 'absolute path',
    'symlink': 'lies beneath the symlink',
    'device': u'dev \u00fc: device node',
    'hardlink': "Removing leading `/' from hard link targets",
    'relsymlink': 'symlink escapes the archive root',
}


def test_tampered_and_malicious_artifacts_change_nothing(scratch):
    """One set with a host per case; one restore run with every host, each into its own non-empty dest
    (force=true), so only the verification and the member checks can stop the restore."""
    outside = scratch / 'outside'
    outside.mkdir()
    (outside / 'target').write_text('outside the restore\n')
    store = scratch / 'store'
    srcs = {c: _src(scratch / ('src-' + c)) for c in CASES}
    sid = h.inprocess_set(store, {'m-' + c: {'data': [srcs[c]]} for c in CASES})

    for case in CASES:
        rec = h.the_artifact(store, sid, host='m-' + case)
        path = os.path.join(str(store), rec['key'])
        if case == 'tampered':
            with open(path, 'r+b') as f:
                f.seek(rec['size'] // 2)
                b = f.read(1)
                f.seek(rec['size'] // 2)
                f.write(bytes([b[0] ^ 0xff]))
        else:
            data = h.zstd_bytes(h.crafted_tar(_members(case, srcs[case].lstrip('/'), str(outside))))
            h.replace_artifact(store, sid, rec, data)
    assert h.lifecycle.info(h.fs_store(store), set_id=sid, verify=True)['problems'] == []  # consistent, by size

    hosts = {}
    for case in CASES:
        dest = scratch / ('dest-' + case)
        target = str(dest) + srcs[case]
        os.makedirs(target)
        with open(os.path.join(target, 'sentinel'), 'w') as f:
            f.write('the old content, which must survive\n')
        hosts['m-' + case] = {'lifeboat_restore_dest': str(dest)}
    inv = h.inventory(scratch / 'hosts.yml', hosts)
    # the staging directory is made (and removed) beside each target: that parent's mtime may change
    staging_parents = [str(scratch / ('dest-' + c)) + os.path.dirname(srcs[c]) for c in CASES]
    before = h.snapshot_files(scratch, skip=(str(store),), no_mtime=staging_parents)

    r = h.restore(store, inventory=inv, lifeboat_restore_force=True)
    assert r.rc != 0, r
    assert 'TASK [lifeboat.backup.restore : Restore files]' in r.stdout  # preflight passed: the checksums agree
    final = h.final_msg(r)
    assert final.startswith('The restore of set %s FAILED on ' % sid), final
    for case in CASES:
        msgs = h.failure_msgs(r, 'm-' + case)
        assert msgs, (case, r)
        msg = msgs[0]  # the files restore item of this host
        assert '\n' not in msg
        if case == 'tampered':
            assert msg.startswith('artifact %s/m-tampered/files/data.tar.zst failed verification: ' % sid), msg
            assert msg.endswith('nothing was restored from it; the restore target was not changed'), msg
        else:
            assert msg.startswith('the archive %s/m-%s/files/data.tar.zst has unsafe members, refusing to restore it '
                                  '(nothing was changed): ' % (sid, case)), msg
            assert EXPECT[case] in msg, (case, msg)
        assert 'm-%s (Restore files: %s)' % (case, msg) in final
    # nothing changed anywhere: not the targets, not beside them, not outside
    after = h.snapshot_files(scratch, skip=(str(store),), no_mtime=staging_parents)
    assert after == before
    assert sorted(os.listdir(str(outside))) == ['target']
    assert os.stat(str(outside / 'target')).st_nlink == 1
