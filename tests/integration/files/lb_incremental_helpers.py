# -*- coding: utf-8 -*-
"""Helpers of the incremental files tests (test_files_incremental*.py): entries, backup runs that must succeed,
restores, small trees, and stores made once per module and copied for each test."""

import shutil
import subprocess

import lb_files_helpers as h

from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup

# the play's warning when an entry that could have been an increment is archived as a full
FULL_WARNING = 'files entry app is archived as a full (level 0) instead of an increment'


def entry(src, **kw):
    out = {'name': 'app', 'paths': [str(src)], 'incremental': True}
    out.update(kw)
    return out


def backed_up(store, files, **extra):
    """One backup.yml run that must succeed: (set id, the app entry's record, the play result)."""
    before = set(h.set_ids(store))
    r = h.backup(store, files, **extra)
    assert r.rc == 0, r
    (set_id,) = set(h.set_ids(store)) - before
    return set_id, h.the_artifact(store, set_id, name='app'), r


def level_of(record):
    return record['extra']['incremental']['level']


def restore_to(store, set_id, dest, **extra):
    r = h.restore(store, lifeboat_set_id=set_id, lifeboat_restore_dest=str(dest), lifeboat_restore_keep_setid=True, **extra)
    assert r.rc == 0, r
    return r


def sh(cwd, script):
    subprocess.run(['bash', '-euc', script], cwd=str(cwd), check=True)


def small_tree(root):
    root.mkdir(parents=True)
    (root / 'a').mkdir()
    (root / 'a' / 'f').write_text('one\n')
    (root / 'b.txt').write_text('two\n')
    return root


def inprocess_level(store, src):
    """One set with an increment of ``src`` (the next level of its chain), made without Ansible: (set id, record)."""
    fs = h.fs_store(store)
    set_id = h.lifecycle.start(fs)['set_id']
    files_backup.backup(fs, set_id, 'localhost', 'app', [str(src)], incremental_mode=True)
    h.lifecycle.commit(fs, set_id, expect={'localhost': ['files/app', 'files/app.snar']}, hosts=['localhost'])
    return set_id, h.the_artifact(store, set_id, name='app')


def store_copy(pristine, scratch):
    """A test's own copy of a store a module fixture made once (the sets, byte for byte, under scratch/store).

    The source tree stays where the module made it: the snapshot files record its directories' inodes and
    devices, so a next level of the copy's chain is an increment of that same tree.
    """
    store = scratch / 'store'
    shutil.copytree(str(pristine), str(store), symlinks=True)
    return store
