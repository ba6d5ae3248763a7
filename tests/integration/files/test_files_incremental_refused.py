# -*- coding: utf-8 -*-
"""Incremental restores refused before anything changes, through real playbook runs (playbooks/restore.yml) and the
restore flow: a hole in the chain (a set removed, not completed, an archive removed or replaced); crafted increments
and snapshot files refused like any archive; verification of whole chains, a hole found (docs/incremental.md,
docs/faults.md).

Every test that damages or crafts a chain of three levels does it on its own copy of one chain made once for the
module with backup.yml (``three_levels``): the same sets, byte for byte, without three backup runs per test."""

import os
import shutil
import tarfile
import time

import pytest

import lb_files_helpers as h
from lb_incremental_helpers import backed_up, entry, inprocess_level, small_tree, store_copy

from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore


@pytest.fixture(scope='module')
def three_levels(mod_scratch):
    """Three levels of a small tree that holds an absolute symlink to a ``victim`` directory, made once with
    backup.yml: {'src', 'victim', 'store', 'ids'}. The tests take a copy of the store (``levels``)."""
    src = small_tree(mod_scratch / 'src')
    victim = mod_scratch / 'victim'
    victim.mkdir()
    (victim / 'precious').write_text('precious\n')
    os.symlink(str(victim), str(src / 'lnk'))     # an absolute symlink an earlier level leaves in the staged tree
    store = mod_scratch / 'store'
    ids = []
    for run in range(3):
        (src / ('f%d' % run)).write_text('level %d\n' % run)
        set_id, _record, _r = backed_up(store, [entry(src)])
        ids.append(set_id)
    return {'src': src, 'victim': victim, 'store': store, 'ids': ids}


@pytest.fixture
def levels(three_levels, scratch):
    """(the tree, this test's copy of the store, the three set ids)."""
    return three_levels['src'], store_copy(three_levels['store'], scratch), three_levels['ids']


@pytest.mark.parametrize('hole', ['set removed', 'set not completed', 'archive removed', 'archive replaced'])
def test_a_hole_in_the_chain_is_refused_before_the_target_is_touched(levels, hole):
    src, store, ids = levels
    middle = h.the_artifact(store, ids[1], name='app')
    if hole == 'set removed':
        shutil.rmtree(str(store / ids[1]))
        words = 'set %s (level 1 of the chain): it is not in the filesystem store' % ids[1]
    elif hole == 'set not completed':
        os.unlink(str(store / ids[1] / 'manifest.json'))
        words = 'set %s (level 1 of the chain): it is failed' % ids[1]
    elif hole == 'archive removed':
        os.unlink(str(store / middle['key']))
        words = 'set %s (level 1 of the chain): its artifact %s is missing' % (ids[1], middle['key'])
    else:
        h.replace_artifact(store, ids[1], middle, h.zstd_bytes(h.crafted_tar([('x', tarfile.REGTYPE, {'data': b'x'})])))
        words = 'set %s (level 1 of the chain): its artifact %s has sha256' % (ids[1], middle['key'])
    # in place, with force: the target must stay exactly as it is
    (src / 'f0').write_text('changed since\n')
    before = h.snapshot_files(src)
    r = h.restore(store, lifeboat_set_id=ids[2], lifeboat_restore_force=True)
    assert r.rc != 0
    msg = h.final_msg(r)
    assert words in msg and 'Nothing was changed' in msg, msg
    assert h.snapshot_files(src) == before
    assert not [n for n in os.listdir(str(src.parent)) if n.startswith('.lifeboat-')]


def _craft(store, set_id, record, members):
    """Replace an increment with a crafted archive whose directories are those of its snapshot file."""
    return h.replace_artifact(store, set_id, record, h.zstd_bytes(h.crafted_tar(members)))


def test_a_crafted_full_with_a_hard_link_to_nothing_of_its_own_fails_in_staging(scratch, three_levels, levels):
    """The full of a chain keeps no file names (tarsafe.IncrementalChecker ``fresh``): a hard link to a file the
    level does not hold has nothing to reach in the empty staging directory, so tar fails the level and the
    restore stops there, with the target untouched."""
    src, store, ids = levels
    rel = str(src).lstrip('/')
    full = _craft(store, ids[0], h.the_artifact(store, ids[0], name='app'), [
        (rel, tarfile.DIRTYPE, {'mode': 0o755}), (rel + '/a', tarfile.DIRTYPE, {'mode': 0o755}),
        (rel + '/a/f', tarfile.REGTYPE, {'data': b'f'}), (rel + '/hl', tarfile.LNKTYPE, {'linkname': rel + '/missing'})])
    for later in ids[1:]:   # and the later levels pin the crafted full, as a writer with store access could make them
        record = h.the_artifact(store, later, name='app')
        record['extra']['incremental']['chain'][0].update(sha256=full['sha256'], size=full['size'])
        h.rewrite_record(store, later, record)
    dest = scratch / 'dest'
    r = h.restore(store, lifeboat_set_id=ids[2], lifeboat_restore_dest=str(dest))
    assert r.rc != 0
    msg = h.final_msg(r)
    assert 'Cannot hard link' in msg and ids[0] in msg and 'nothing was changed' in msg, msg
    assert not os.path.exists(str(dest)) or not os.listdir(str(dest))
    assert os.listdir(str(three_levels['victim'])) == ['precious']


@pytest.mark.parametrize('member, words', [
    (('/etc/lifeboat-escape', tarfile.REGTYPE, {'data': b'x'}), 'absolute path'),
    (('../../lifeboat-escape', tarfile.REGTYPE, {'data': b'x'}), 'unsafe member name'),
    (('{src}/elsewhere/file', tarfile.REGTYPE, {'data': b'x'}), 'its directory {src}/elsewhere is not in this level'),
    (('{src}/hl', tarfile.LNKTYPE, {'linkname': '{src}/a/f'}), 'hard link to {src}/a/f, which is not a file of this level'),
    (('{src}/dev', tarfile.CHRTYPE, {'dev': (1, 3)}), 'device node'),
    # a directory where an earlier level left the symlink: tar replaces the link (nothing is written through it),
    # and the level is refused as its snapshot file does not know that directory
    (('{src}/lnk/evil', tarfile.REGTYPE, {'data': b'x'}), 'holds the directory {src}/lnk, which its snapshot file does not list'),
])
def test_a_crafted_increment_with_unsafe_members_is_refused(scratch, three_levels, levels, member, words):
    src, store, ids = levels
    rel = str(src).lstrip('/')
    name, mtype, kw = member
    kw = {k: (v.format(src=rel) if isinstance(v, str) else v) for k, v in kw.items()}
    last = h.the_artifact(store, ids[2], name='app')
    members = [(rel, tarfile.DIRTYPE, {'mode': 0o755}), (rel + '/a', tarfile.DIRTYPE, {'mode': 0o755})]
    if '/lnk/' in name:
        members.append((rel + '/lnk', tarfile.DIRTYPE, {'mode': 0o755}))
    _craft(store, ids[2], last, members + [(name.format(src=rel), mtype, kw)])
    dest = scratch / 'dest'
    r = h.restore(store, lifeboat_set_id=ids[2], lifeboat_restore_dest=str(dest))
    assert r.rc != 0
    msg = h.final_msg(r)
    assert words.format(src=rel) in msg and 'nothing was changed' in msg, msg
    assert not os.path.exists(str(dest)) or not os.listdir(str(dest))
    assert not os.path.lexists('/etc/lifeboat-escape') and not os.path.lexists(str(scratch.parent / 'lifeboat-escape'))
    assert os.listdir(str(three_levels['victim'])) == ['precious']


def test_a_crafted_increment_without_a_directory_its_snapshot_file_lists_is_refused(scratch):
    """A level whose archive lacks a directory its snapshot file lists: the extended attributes removed from the
    staged directory before the extraction would not come back, so the level is refused."""
    supported, why = h.xattrs_supported(scratch)
    if not supported:
        pytest.skip(why)
    src = small_tree(scratch / 'src')
    (src / 'x').mkdir()
    os.setxattr(str(src / 'x'), 'user.lifeboat.x', b'x')
    store = scratch / 'store'
    inprocess_level(store, src)
    time.sleep(1)
    (src / 'b.txt').write_text('level 1\n')
    second, record = inprocess_level(store, src)
    rel = str(src).lstrip('/')
    _craft(store, second, record, [(rel, tarfile.DIRTYPE, {'mode': 0o755}), (rel + '/a', tarfile.DIRTYPE, {'mode': 0o755})])
    dest = scratch / 'dest'
    with pytest.raises(LifeboatError) as refused:
        files_restore.restore(h.fs_store(store), 'localhost', 'app', set_id=second, dest=str(dest))
    msg = refused.value.msg
    assert 'does not hold the directory %s/x, which its snapshot file lists' % rel in msg and 'nothing was changed' in msg, msg
    assert not os.path.exists(str(dest)) or not os.listdir(str(dest))


def test_a_crafted_snapshot_file_is_refused(scratch, levels):
    src, store, ids = levels
    rel = str(src).lstrip('/').encode()
    snar = h.the_artifact(store, ids[2], name='app.snar')
    crafted = (b'GNU tar-1.34-2\n1\x002\x00' + b'0\x001\x002\x00' + str(2 ** 64 - 1).encode() + b'\x0099\x00' + rel +
               b'\x00Ya/../../x\x00\x00\x00')
    h.replace_artifact(store, ids[2], snar, h.zstd_bytes(crafted))
    dest = scratch / 'dest'
    r = h.restore(store, lifeboat_set_id=ids[2], lifeboat_restore_dest=str(dest))
    assert r.rc != 0
    msg = h.final_msg(r)
    assert 'is not safe to apply' in msg and 'Ya/../../x' in msg, msg


def test_a_crafted_increment_without_its_snapshot_file_is_listed_and_refused(scratch, levels):
    """Where the snapshot file is gone, the increment's own listing (with its dumpdirs) decides, checked the same way."""
    src, store, ids = levels
    rel = str(src).lstrip('/')
    snar = h.the_artifact(store, ids[2], name='app.snar')
    os.unlink(str(store / snar['key']))
    last = h.the_artifact(store, ids[2], name='app')
    _craft(store, ids[2], last, [(rel, tarfile.DIRTYPE, {'mode': 0o755}), ('../../lifeboat-escape', tarfile.REGTYPE, {'data': b'x'})])
    # the restore role refuses the set already (its preflight finds an artifact of the manifest missing): the
    # module's own path is what lists the level
    with pytest.raises(LifeboatError) as refused:
        files_restore.restore(h.fs_store(store), 'localhost', 'app', set_id=ids[2], dest=str(scratch / 'dest'))
    msg = refused.value.msg
    assert 'has unsafe members or dumpdirs' in msg and "'..' in the path" in msg and 'no dumpdirs' in msg, msg


def test_verify_checks_whole_chains(levels):
    """Quick verification finds a hole in an increment's chain (the increment's own set is intact); full
    verification lists increments with their dumpdirs and passes a whole chain."""
    _src, store, ids = levels
    full = verify.run(h.fs_store(store), which='all', level='full', record=False)
    assert full['passed'] and full['checked'] == 3, full
    increment = [item for item in full['sets'][0]['artifacts'] if item['name'] == 'app'][0]
    assert increment['members'] > 0 and increment['passed'], increment
    shutil.rmtree(str(store / ids[1]))
    quick = verify.run(h.fs_store(store), which=[ids[2]], level='quick', record=False)
    problems = quick['sets'][0]['problems']
    assert not quick['passed'] and len(problems) == 1, quick
    assert ('localhost/files/app is level 2 of a broken incremental chain: set %s (level 1 of the chain): it is not in the'
            % ids[1]) in problems[0], problems
