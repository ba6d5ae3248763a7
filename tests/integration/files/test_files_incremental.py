# -*- coding: utf-8 -*-
"""Incremental files backups through real playbook runs (playbooks/backup.yml, restore.yml, drill.yml): one chain of
five levels of the rich tree with every kind of change, made once for the module, each level restored and compared
with the tree at that time, deleted entries absent, a drill of the whole chain; directories swapped between levels
restored with exactly their own attributes (docs/incremental.md).

The other incremental tests: test_files_incremental_policy.py (full or increment: full_every, a forced full, bad
settings, a failed run, check mode), test_files_incremental_fulls.py (a base gone or damaged),
test_files_incremental_refused.py (restores refused, crafted levels, verification of a hole),
test_files_incremental_retention.py (prune, a chain per host); their helpers are in lb_incremental_helpers.py."""

import json
import os
import shutil
import subprocess
import time

import pytest

import lb_files_helpers as h
from lb_incremental_helpers import backed_up, entry, inprocess_level, level_of, restore_to, sh

from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore


CHANGES = [
    # level 1: files added, changed, renamed; a directory renamed; files and a directory deleted; permission-only
    # changes of a file and a directory; a new hard link to a level-0 file; a file replaced by a directory
    '''echo added > added.txt; echo more >> plain.txt; mv with\\ space.txt renamed.txt
       mv "dir 0750" "dir renamed"; rm random.bin; rm -r empty; chmod 600 hard1; chmod 700 empty-0700
       ln plain.txt plain-hardlink; rm secret; mkdir secret; echo inside > secret/file''',
    # level 2: symlinks changed and added, a symlink replaced by a directory, a directory by a symlink,
    # hard links across directories of different levels, a deep tree removed, a file truncated
    '''ln -sfn ../added.txt links/rel; ln -s plain.txt newlink; rm links/dirlink; mkdir links/dirlink
       echo x > links/dirlink/x; rm -r "dir renamed/nested/deeper"; mv empty-0700 moved-0700; ln -s moved-0700 empty-0700
       ln added.txt "dir renamed/added-link"; : > sparse''',
    # level 3: nothing changed
    '',
    # level 4: a directory and a file swap names; the hard link group of level 0 loses a member
    '''mv links t; mv "dir renamed" links; mv t "dir renamed"; mv plain.txt p; mv renamed.txt plain.txt; mv p renamed.txt
       rm hard2''',
]


@pytest.fixture(scope='module')
def chain(mod_scratch):
    """A chain of five levels of the rich tree, made with playbooks/backup.yml: [(set id, record, tree)]."""
    src = mod_scratch / 'src' / 'app'
    src.parent.mkdir()
    h.build_rich_tree(src)
    store = mod_scratch / 'store'
    made = []
    for index, script in enumerate([None] + CHANGES):
        if script:
            sh(src, script)
        set_id, record, _r = backed_up(store, [entry(src)])
        assert level_of(record) == index, record['extra']['incremental']
        made.append((set_id, record, h.snapshot_tree(src)))
        time.sleep(1)
    return {'store': store, 'src': src, 'levels': made, 'scratch': mod_scratch}


def test_chain_records_and_listing(chain):
    store = chain['store']
    ids = [set_id for set_id, _rec, _tree in chain['levels']]
    for index, (set_id, record, _tree) in enumerate(chain['levels']):
        facts = record['extra']['incremental']
        assert facts['level'] == index
        assert facts['base'] == (ids[index - 1] if index else None)
        assert [entry['set_id'] for entry in facts['chain']] == ids[:index]
        assert facts['snar']['key'] == '%s/localhost/files/app.snar.zst' % set_id
        snar = h.the_artifact(store, set_id, name='app.snar')
        assert snar['artifact_kind'] == 'files-snar' and snar['extra']['archive'] == record['key']
    assert 'full_reason' in chain['levels'][0][1]['extra']['incremental']
    # an increment costs what changed: the unchanged level 3 is a small fraction of the full
    assert chain['levels'][3][1]['size'] < chain['levels'][0][1]['size'] / 20
    info = h.info(store, chain['scratch'])
    listed = {s['id']: s for s in info['sets']}
    last = listed[ids[-1]]
    assert last['needs'] == ids[:-1]
    assert last['chains'] == {'localhost/files/app': {'level': 4, 'base': ids[3], 'full_set': ids[0]}}
    assert listed[ids[0]]['needs'] == []


# Level 4 swaps two directories' names: the directory now at 'dir renamed' has no xattrs, and the restore must not
# keep those of the staged directory that had that name before (tar sets a directory's archived xattrs and never
# removes others: apply.clear_xattrs removes them first).
@pytest.mark.parametrize('level', [0, 1, 2, 3, 4])
def test_every_level_restores_the_tree_of_its_time(chain, level):
    set_id, _record, tree = chain['levels'][level]
    dest = chain['scratch'] / ('dest-%d' % level)
    r = restore_to(chain['store'], set_id, dest)
    assert h.diff_snapshots(tree, h.snapshot_tree(str(dest) + str(chain['src']))) == []
    shutil.rmtree(str(dest))
    if level:
        assert 'chain of %d levels' % (level + 1) in r.stdout or 'levels' in r.stdout


def _set_acl(path, spec, default=False):
    subprocess.run(['setfacl'] + (['-d'] if default else []) + ['-m', spec, str(path)], check=True)


@pytest.mark.parametrize('kind', ['xattrs', 'acls'])
def test_directories_replaced_or_changed_in_place_get_exactly_the_archived_attributes(scratch, kind):
    """Between two levels, two directories swap names (new inodes under old names, with other owners, modes and
    attributes), one loses its extended attributes (or ACLs) in place and has its mode and owner changed, another
    gains some. Each level restores with exactly the attributes, ACLs, modes, owners and mtimes of its time: none
    is kept from the directory an earlier level staged under that name."""
    supported, why = (h.xattrs_supported if kind == 'xattrs' else h.acls_supported)(scratch)
    if not supported:
        pytest.skip(why)
    src = scratch / 'src' / 'app'
    for name in ('one/inner', 'two', 'kept', 'plain'):
        (src / name).mkdir(parents=True)
    (src / 'one' / 'inner' / 'f').write_text('in one\n')
    (src / 'two' / 'g').write_text('in two\n')
    os.chmod(str(src / 'two'), 0o700)
    os.chown(str(src / 'two'), 1234, 2345)
    if kind == 'xattrs':
        os.setxattr(str(src / 'one'), 'user.lifeboat.one', b'1')
        os.setxattr(str(src / 'two'), 'user.lifeboat.two', b'2')
        os.setxattr(str(src / 'kept'), 'user.lifeboat.kept', b'k')
        if os.geteuid() == 0:
            os.setxattr(str(src / 'one'), 'trusted.lifeboat.one', b't')
    else:
        _set_acl(src / 'one', 'u:%d:rx' % h.NOBODY)
        _set_acl(src / 'one', 'u:1234:rwx', default=True)
        _set_acl(src / 'kept', 'g:2345:rx')
        _set_acl(src / 'kept', 'g:2345:rx', default=True)
    h.set_old_mtimes(src)
    store = scratch / 'store'
    levels = [inprocess_level(store, src) + (h.snapshot_tree(src),)]
    time.sleep(1)
    sh(src, 'mv one t; mv two one; mv t two; chmod 711 kept; chown %d:%d kept' % (h.NOBODY, h.NOBODY))
    if kind == 'xattrs':
        os.removexattr(str(src / 'kept'), 'user.lifeboat.kept')
        os.setxattr(str(src / 'plain'), 'user.lifeboat.plain', b'new')
    else:
        subprocess.run(['setfacl', '-b', str(src / 'kept')], check=True)
        _set_acl(src / 'plain', 'u:%d:r' % h.NOBODY)
    levels.append(inprocess_level(store, src) + (h.snapshot_tree(src),))
    assert level_of(levels[1][1]) == 1
    for index, (set_id, _record, tree) in enumerate(levels):
        dest = scratch / ('dest-%d' % index)
        result = files_restore.restore(h.fs_store(store), 'localhost', 'app', set_id=set_id, dest=str(dest), keep_setid=True)
        assert 'warnings' not in result, result['warnings']
        assert h.diff_snapshots(tree, h.snapshot_tree(str(dest) + str(src))) == [], index
    restored = str(dest) + str(src)
    assert h._xattrs(os.path.join(restored, 'kept'), False) == {}
    if kind == 'xattrs':
        assert h._xattrs(os.path.join(restored, 'one'), False) == {'user.lifeboat.two': b'2'}
    else:
        assert 'system.posix_acl_access' not in h._xattrs(os.path.join(restored, 'one'), False)


def test_deleted_entries_are_really_absent(chain):
    set_id = chain['levels'][2][0]
    dest = chain['scratch'] / 'dest-absent'
    restore_to(chain['store'], set_id, dest)
    root = str(dest) + str(chain['src'])
    for gone in ('random.bin', 'empty', 'with space.txt', 'dir 0750', 'dir renamed/nested/deeper'):
        assert not os.path.lexists(os.path.join(root, gone)), gone
    assert os.path.isdir(os.path.join(root, 'secret')) and os.path.islink(os.path.join(root, 'empty-0700'))
    shutil.rmtree(str(dest))


def test_a_drill_of_an_increment_compares_its_whole_chain(chain):
    """playbooks/drill.yml on the last level: the chain is restored into scratch and every level is listed, each
    name compared where it was last archived (unchanged files of level 0 too), deleted names left out."""
    set_id = chain['levels'][-1][0]
    drill_dir = chain['scratch'] / 'drill'
    drill_dir.mkdir()
    r = h.run_playbook(h._playbook('drill.yml'), env=h.ENV, extra_vars={
        'lifeboat_store': h.store_spec(chain['store']), 'lifeboat_set_id': set_id, 'lifeboat_drill_components': ['files'],
        'lifeboat_drill_dir': str(drill_dir)})
    assert r.rc == 0, r.stdout[-4000:]
    assert 'Drill of set %s on localhost: PASSED' % set_id in r.stdout, r.stdout[-4000:]
    assert os.listdir(str(drill_dir)) == []
    checks = [name for name in os.listdir(str(chain['store'] / 'checks' / set_id)) if name.endswith('-drill-passed.json')]
    assert len(checks) == 1
    doc = json.loads((chain['store'] / 'checks' / set_id / checks[0]).read_text())
    (item,) = doc['items']
    assert item['chain'] == [level[0] for level in chain['levels']] and item['deleted_later'] > 0, item
    # every name of the final tree was compared (its root included), not only what the last level archived
    assert item['members'] == item['matched'] == len(chain['levels'][-1][2]['entries']), item
