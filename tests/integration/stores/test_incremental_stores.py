# -*- coding: utf-8 -*-
"""Incremental files chains through every store (filesystem, S3 on a moto server, SFTP on a real sshd): three levels
with files added, changed and deleted (a file and a directory), each level restored and compared with the tree at
its time, the snapshot files stored in the set and fetched back from the store by the next run, verification
(quick and full) of whole chains, and a hole in the chain refused. Modules run for real, as Ansible runs them."""

import os
import shutil
import time

import pytest

from storelib import run_module

from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
import storelib

HOST = 'web1'


def _arg(params):
    return {k: v for k, v in params.items() if v is not None}


def ok(run):
    assert not run.failed, run
    return run.result


def tree(root):
    """{relative path: (kind, content or link target, mode)} of everything under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if os.path.islink(path):
                out[rel] = ('link', os.readlink(path), None)
            elif os.path.isdir(path):
                out[rel] = ('dir', None, st.st_mode & 0o7777)
            else:
                with open(path, 'rb') as handle:
                    out[rel] = ('file', handle.read(), st.st_mode & 0o7777)
    return out


def one_set(store, src):
    set_id = ok(run_module('backup_set', {'state': 'started', 'store': store, 'label': 'incr'}))['set_id']
    res = ok(run_module('files_backup', {'store': store, 'set_id': set_id, 'host': HOST, 'name': 'app', 'paths': [src],
                                         'incremental': True}))
    ok(run_module('backup_set', {'state': 'committed', 'store': store, 'set_id': set_id, 'hosts': [HOST]}))
    time.sleep(1.1)   # the next set gets the next second's id, and tar sees later changes as later
    return set_id, res


CHANGES = [
    lambda src: None,
    lambda src: (open(os.path.join(src, 'b.txt'), 'a').write('more\n'), os.unlink(os.path.join(src, 'd', 'x')),
                 open(os.path.join(src, 'new.txt'), 'w').write('new\n'), os.symlink('b.txt', os.path.join(src, 'lnk'))),
    lambda src: (shutil.rmtree(os.path.join(src, 'd')), os.chmod(os.path.join(src, 'a', 'f'), 0o600),
                 os.rename(os.path.join(src, 'new.txt'), os.path.join(src, 'a', 'moved.txt'))),
]


@pytest.mark.parametrize('kind', ['filesystem', 's3', 'sftp'])
def test_a_chain_through_the_store(kind, make_params, workdir):
    store = _arg(make_params(kind))
    src = os.path.join(workdir, 'src', 'app')
    os.makedirs(os.path.join(src, 'a'))
    os.makedirs(os.path.join(src, 'd'))
    for rel, text in (('a/f', 'one\n'), ('b.txt', 'two\n'), ('d/x', 'three\n')):
        with open(os.path.join(src, rel), 'w') as handle:
            handle.write(text)
    levels = []
    for index, change in enumerate(CHANGES):
        change(src)
        set_id, res = one_set(store, src)
        assert res['incremental']['level'] == index, res['incremental']
        assert res['snapshot']['key'] == '%s/%s/files/app.snar.zst' % (set_id, HOST)
        levels.append((set_id, tree(src)))
    # each level restores the tree of its time (the deleted file and directory really absent)
    for index, (set_id, expected) in enumerate(levels):
        dest = os.path.join(workdir, 'dest-%d' % index)
        os.mkdir(dest)
        res = ok(run_module('files_restore', {'store': store, 'host': HOST, 'name': 'app', 'set_id': set_id, 'dest': dest}))
        assert [entry['set_id'] for entry in res['chain']] == [sid for sid, _tree in levels[:index + 1]]
        assert tree(os.path.join(dest, src.lstrip('/'))) == expected, index
    # verification of every set, quick and full, passes the whole chains (with the default jobs 2: an SFTP store
    # reads one artifact at a time, as its one session cannot serve two reads at once)
    for level in ('quick', 'full'):
        res = run_module('backup_verify', {'store': store, 'sets': ['all'], 'level': level, 'record': False})
        assert not res.failed, res.result.get('msg')
        res = res.result
        assert res['passed'] and res['checked'] == 3, res
    # a hole: the level-1 archive is gone; quick verification of the last set and its restore both name it
    hole = '%s/%s/files/app.tar.zst' % (levels[1][0], HOST)
    open_store(storelib.store_params(**store)).delete(hole)
    res = run_module('backup_verify', {'store': store, 'sets': [levels[2][0]], 'level': 'quick', 'record': False})
    assert not res.result['passed'] and 'its artifact %s is missing' % hole in res.result['sets'][0]['problems'][0], res
    dest = os.path.join(workdir, 'dest-hole')
    os.mkdir(dest)
    res = run_module('files_restore', {'store': store, 'host': HOST, 'name': 'app', 'set_id': levels[2][0], 'dest': dest})
    assert res.failed and 'set %s (level 1 of the chain): its artifact %s is missing' % (levels[1][0], hole) in res.result['msg'], res
    assert os.listdir(dest) == []
