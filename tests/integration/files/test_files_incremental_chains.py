# -*- coding: utf-8 -*-
"""Incremental chains under random changes: every level of every chain restored and compared with the tree as it
was when that level was made (content, modes, owners, mtimes, symlinks, hard links, deleted entries absent).

Each chain starts from a small tree and goes through levels of random changes: files added, changed, renamed,
deleted, chmod'ed and hard linked; directories made, renamed, moved over their parent, swapped and removed;
symlinks added. GNU tar 1.34's own rename handling loses files in about one such chain in ten (docs/incremental.md).
The sets are made in-process with the same module_utils as the modules (real tar, zstd and filesystem store), so
that many chains fit in a test run; tests/integration/files/test_files_incremental.py covers the modules and
playbooks. LIFEBOAT_INCR_CHAINS=N runs N chains (default 6), LIFEBOAT_INCR_SEED the first seed.
"""

import os
import random
import subprocess

import pytest

import lb_files_helpers as h

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore

CHAINS = int(os.environ.get('LIFEBOAT_INCR_CHAINS', '6'))
FIRST = int(os.environ.get('LIFEBOAT_INCR_SEED', '1000'))
LEVELS = 6


class Changes(object):
    """Random changes to a tree, reproducible from a seed."""

    def __init__(self, root, seed):
        self.root = str(root)
        self.rnd = random.Random(seed)
        self.count = 0
        self.done = []

    def name(self):
        self.count += 1
        return 'n%d' % self.count

    def _dirs(self):
        return [dirpath for dirpath, _dirs, _files in os.walk(self.root)]

    def _files(self):
        return [os.path.join(dirpath, f) for dirpath, _dirs, files in os.walk(self.root) for f in files]

    def one(self):
        op = self.rnd.choice(['mkdir', 'file', 'rmfile', 'rmdir', 'mvdir', 'swap', 'over-parent', 'mvfile', 'chmod',
                              'edit', 'link', 'symlink'])
        dirs, files = self._dirs(), self._files()
        subdirs = [d for d in dirs if d != self.root]
        pick = self.rnd.choice
        try:
            if op == 'mkdir':
                os.mkdir(os.path.join(pick(dirs), self.name()))
            elif op == 'file':
                with open(os.path.join(pick(dirs), self.name()), 'w') as f:
                    f.write(self.name() * self.rnd.randint(1, 50))
            elif op == 'rmfile' and files:
                os.unlink(pick(files))
            elif op == 'rmdir' and subdirs:
                subprocess.run(['rm', '-rf', pick(subdirs)], check=True)
            elif op == 'mvdir' and subdirs:
                src, into = pick(subdirs), pick(dirs)
                if not (into + '/').startswith(src + '/'):
                    os.rename(src, os.path.join(into, self.name()))
            elif op == 'swap' and len(subdirs) >= 2:
                one, two = self.rnd.sample(subdirs, 2)
                if not (one + '/').startswith(two + '/') and not (two + '/').startswith(one + '/'):
                    temp = os.path.join(self.root, self.name())
                    os.rename(one, temp)
                    os.rename(two, one)
                    os.rename(temp, two)
            elif op == 'over-parent' and subdirs:
                parent = pick(subdirs)
                kids = [d for d in subdirs if d.startswith(parent + '/')]
                if kids:
                    temp = os.path.join(self.root, self.name())
                    os.rename(pick(kids), temp)
                    subprocess.run(['rm', '-rf', parent], check=True)
                    os.rename(temp, parent)
            elif op == 'mvfile' and files:
                os.rename(pick(files), os.path.join(pick(dirs), self.name()))
            elif op == 'chmod' and files:
                os.chmod(pick(files), pick([0o600, 0o640, 0o755]))
            elif op == 'edit' and files:
                with open(pick(files), 'a') as f:
                    f.write('more')
            elif op == 'link' and files:
                os.link(pick(files), os.path.join(pick(dirs), self.name()))
            elif op == 'symlink':
                os.symlink(pick(['../elsewhere', '/etc', 'sibling']), os.path.join(pick(dirs), self.name()))
            else:
                return
        except OSError:
            return
        self.done.append(op)

    def level(self):
        for _i in range(self.rnd.randint(1, 6)):
            self.one()


def _seed_tree(root):
    for i in range(4):
        os.makedirs(os.path.join(str(root), 'd%d' % i, 'e'))
        with open(os.path.join(str(root), 'd%d' % i, 'e', 'f'), 'w') as f:
            f.write(str(i))
    os.link(os.path.join(str(root), 'd0', 'e', 'f'), os.path.join(str(root), 'd1', 'shared'))


@pytest.mark.parametrize('seed', range(FIRST, FIRST + CHAINS))
def test_random_chain_restores_every_level(scratch, seed):
    src = scratch / 'src' / 'app'
    src.mkdir(parents=True)
    _seed_tree(src)
    store = h.fs_store(scratch / 'store')
    changes = Changes(src, seed)
    made = []
    for level in range(LEVELS):
        if level:
            changes.level()
        set_id = lifecycle.start(store)['set_id']
        result = files_backup.backup(store, set_id, 'web1', 'app', [str(src)], incremental_mode=True)
        assert result['incremental']['level'] == level, result['incremental']
        lifecycle.commit(store, set_id, expect={'web1': ['files/app', 'files/app.snar']}, hosts=['web1'])
        made.append((set_id, h.snapshot_tree(src)))
    for level, (set_id, tree) in enumerate(made):
        dest = scratch / ('restore-%d' % level)
        result = files_restore.restore(store, 'web1', 'app', set_id=set_id, dest=str(dest), keep_setid=True)
        assert [entry['level'] for entry in result.get('chain', [{'level': 0}])] == list(range(level + 1))
        differences = h.diff_snapshots(tree, h.snapshot_tree(str(dest) + str(src)))
        assert not differences, 'seed %d, level %d after %s: %s' % (seed, level, changes.done, differences[:10])
