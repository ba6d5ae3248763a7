# -*- coding: utf-8 -*-
"""Incremental files backups through real playbook runs (playbooks/backup.yml, restore.yml) and the modules:
a chain of levels with every kind of change, each level restored and compared with the tree at that time; new
fulls (policy, forced, a base that is gone, damaged or replaced); restores refused for a hole in the chain
before anything changes; crafted increments refused like any archive; clusters with a chain per host and
host maps (docs/incremental.md)."""

import json
import os
import shutil
import subprocess
import tarfile
import time

import pytest

import lb_files_helpers as h

from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore


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


def inprocess_level(store, src):
    """One set with an increment of ``src`` (the next level of its chain), made without Ansible: (set id, record)."""
    fs = h.fs_store(store)
    set_id = h.lifecycle.start(fs)['set_id']
    h.files_backup.backup(fs, set_id, 'localhost', 'app', [str(src)], incremental_mode=True)
    h.lifecycle.commit(fs, set_id, expect={'localhost': ['files/app', 'files/app.snar']}, hosts=['localhost'])
    return set_id, h.the_artifact(store, set_id, name='app')


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


# ---------------------------------------------------------------- new fulls

def small_tree(root):
    root.mkdir(parents=True)
    (root / 'a').mkdir()
    (root / 'a' / 'f').write_text('one\n')
    (root / 'b.txt').write_text('two\n')
    return root


FULL_WARNING = 'files entry app is archived as a full (level 0) instead of an increment'


def test_full_every_and_a_forced_full(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    levels = []
    for _run in range(4):
        (src / 'b.txt').write_text('run %d\n' % _run)
        _sid, record, _r = backed_up(store, [entry(src, full_every=2)])
        levels.append(level_of(record))
    assert levels == [0, 1, 2, 0]
    assert 'full_every 2 (increments) reached' in record['extra']['incremental']['full_reason']
    _sid, record, r = backed_up(store, [entry(src, full_every=2)], lifeboat_full=True)
    assert level_of(record) == 0 and record['extra']['incremental']['full_reason'] == 'a full was asked for'
    assert FULL_WARNING not in r.output   # an expected full is no warning


def test_bad_incremental_settings_are_refused_before_the_set_starts(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    r = h.backup(store, [entry(src, full_every='weekly'), entry(src, name='app.snar')])
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('Preflight failed, nothing was started (no set, no lock): '), msg
    assert "localhost: files entry app: full_every must be a number of increments (e.g. 24)" in msg, msg
    assert 'localhost: files entry app.snar: names ending in .snar are taken by the snapshot files' in msg, msg
    r = h.backup(store, [entry(src)], lifeboat_full_every='0')
    assert r.rc != 0 and 'files entry app: full_every must be at least 1' in h.final_msg(r), r
    assert h.set_ids(store) == []


def test_a_removed_base_makes_the_next_run_a_full_with_a_warning(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    second, record, _r = backed_up(store, [entry(src)])
    assert level_of(record) == 1
    shutil.rmtree(str(store / first))            # the full the increment needs is gone
    third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 0
    reason = record['extra']['incremental']['full_reason']
    assert reason.startswith('the chain of set %s cannot be continued: set %s (level 0): it is not in the filesystem store'
                             % (second, first)), reason
    assert FULL_WARNING in r.output and first in r.output
    # and the new chain goes on from the new full
    _fourth, record, _r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == third


def test_the_newest_set_removed_the_chain_goes_on_from_the_one_before(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    second, _rec, _r = backed_up(store, [entry(src)])
    shutil.rmtree(str(store / second))
    _third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == first
    assert FULL_WARNING not in r.output


@pytest.mark.parametrize('damage', ['snapshot missing', 'snapshot damaged', 'base archive replaced', 'base failed'])
def test_a_damaged_base_makes_the_next_run_a_full_with_a_warning(scratch, damage):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, zero, _r = backed_up(store, [entry(src)])
    second, one, _r = backed_up(store, [entry(src)])
    snar = h.the_artifact(store, second, name='app.snar')
    if damage == 'snapshot missing':
        os.unlink(str(store / snar['key']))
        expect = 'the snapshot file of set %s: its artifact %s is missing' % (second, snar['key'])
    elif damage == 'snapshot damaged':
        path = store / snar['key']
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xff
        path.write_bytes(bytes(data))
        expect = 'the snapshot file of set %s could not be used: artifact %s failed verification' % (second, snar['key'])
    elif damage == 'base archive replaced':
        h.replace_artifact(store, first, zero, h.zstd_bytes(h.crafted_tar([('x', tarfile.REGTYPE, {'data': b'x'})])))
        expect = 'set %s (level 0): its artifact %s has sha256' % (first, zero['key'])
    else:
        os.unlink(str(store / first / 'manifest.json'))   # the full's set is no longer completed
        expect = 'set %s (level 0): it is failed' % first
    third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 0, record['extra']['incremental']
    assert expect in record['extra']['incremental']['full_reason'], record['extra']['incremental']['full_reason']
    assert FULL_WARNING in r.output
    dest = scratch / 'dest'
    restore_to(store, third, dest)
    assert (dest / str(src).lstrip('/') / 'a' / 'f').read_text() == 'one\n'


def test_a_failed_run_is_passed_over(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    # a run that archived the entry (an increment on the first set), then failed (another host failed, say)
    fs = h.fs_store(store)
    failed = h.lifecycle.start(fs)['set_id']
    (src / 'b.txt').write_text('in the failed run\n')
    assert h.files_backup.backup(fs, failed, 'localhost', 'app', [str(src)], incremental_mode=True)['incremental']['level'] == 1
    h.lifecycle.fail(fs, failed, 'another host failed')
    time.sleep(1)
    _third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == first, failed
    assert FULL_WARNING not in r.output


def test_check_mode_says_what_the_level_would_be(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    before = h.store_objects(store)
    r = h.backup(store, [entry(src)], check=True)
    assert r.rc == 0, r
    assert h.store_objects(store) == before
    assert 'an increment, level 1 on set %s' % first in r.stdout


# ---------------------------------------------------------------- retention and verification

def test_prune_keeps_every_set_a_kept_set_needs(scratch):
    """Two chains (a full and two increments, then a forced full and an increment): keep_last 1 and a kept
    increment of the first chain. Prune removes only what no kept set needs, says why each needed set stays, and
    both kept sets still restore."""
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    ids = []
    for run in range(5):
        (src / 'b.txt').write_text('run %d\n' % run)
        set_id, record, _r = backed_up(store, [entry(src)], lifeboat_full=(run == 3))
        ids.append(set_id)
        assert level_of(record) == [0, 1, 2, 0, 1][run]
    info = h.info(store, scratch)
    assert {s['id']: s['needs'] for s in info['sets']} == {
        ids[0]: [], ids[1]: ids[:1], ids[2]: ids[:2], ids[3]: [], ids[4]: ids[3:4]}
    policy = {'keep_last': 1, 'keep_ids': [ids[1]]}
    pb = h._playbook('prune.yml')
    dry = h.run_playbook(pb, extra_vars={'lifeboat_store': h.store_spec(store), 'lifeboat_retention': policy},
                         check=True, env=h.ENV)
    assert dry.rc == 0, dry
    assert 'needed by %s' % ids[4] in dry.stdout and 'needed by %s' % ids[1] in dry.stdout, dry.stdout
    r = h.run_playbook(pb, extra_vars={'lifeboat_store': h.store_spec(store), 'lifeboat_retention': policy}, env=h.ENV)
    assert r.rc == 0, r
    assert sorted(h.set_ids(store)) == [ids[0], ids[1], ids[3], ids[4]]
    for kept in (ids[1], ids[4]):
        dest = scratch / ('dest-' + kept)
        restore_to(store, kept, dest)
        assert (dest / str(src).lstrip('/') / 'b.txt').read_text() == 'run %d\n' % ids.index(kept)


def test_verify_checks_whole_chains(scratch):
    """Quick verification finds a hole in an increment's chain (the increment's own set is intact); full
    verification lists increments with their dumpdirs and passes a whole chain."""
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    ids = []
    for run in range(3):
        (src / ('f%d' % run)).write_text('level %d\n' % run)
        ids.append(backed_up(store, [entry(src)])[0])
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


# ---------------------------------------------------------------- restores refused

def _three_levels(scratch):
    src = small_tree(scratch / 'src')
    victim = scratch / 'victim'
    victim.mkdir()
    (victim / 'precious').write_text('precious\n')
    os.symlink(str(victim), str(src / 'lnk'))     # an absolute symlink an earlier level leaves in the staged tree
    store = scratch / 'store'
    ids = []
    for run in range(3):
        (src / ('f%d' % run)).write_text('level %d\n' % run)
        set_id, _record, _r = backed_up(store, [entry(src)])
        ids.append(set_id)
    return src, store, ids


@pytest.mark.parametrize('hole', ['set removed', 'set not completed', 'archive removed', 'archive replaced'])
def test_a_hole_in_the_chain_is_refused_before_the_target_is_touched(scratch, hole):
    src, store, ids = _three_levels(scratch)
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
def test_a_crafted_increment_with_unsafe_members_is_refused(scratch, member, words):
    src, store, ids = _three_levels(scratch)
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
    assert os.listdir(str(scratch / 'victim')) == ['precious']


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


def test_a_crafted_snapshot_file_is_refused(scratch):
    src, store, ids = _three_levels(scratch)
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


def test_a_crafted_increment_without_its_snapshot_file_is_listed_and_refused(scratch):
    """Where the snapshot file is gone, the increment's own listing (with its dumpdirs) decides, checked the same way."""
    src, store, ids = _three_levels(scratch)
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


# ---------------------------------------------------------------- clusters

def test_each_host_has_its_own_chain_and_a_new_host_continues_an_old_one(scratch):
    one = small_tree(scratch / 'one')
    two = small_tree(scratch / 'two')
    store = scratch / 'store'
    hosts = {'h1': {'lifeboat_files': [entry(one)]}, 'h2': {'lifeboat_files': [entry(two)]}}
    inv = h.inventory(scratch / 'hosts.yml', hosts)
    for _run in range(2):
        (one / 'b.txt').write_text('h1 run %d\n' % _run)
        r = h.backup(store, None, inventory=inv)
        assert r.rc == 0, r
    first, second = sorted(h.set_ids(store))
    for host in ('h1', 'h2'):
        record = h.the_artifact(store, second, host=host, name='app')
        assert level_of(record) == 1
        assert [(e['set_id'], e['host']) for e in record['extra']['incremental']['chain']] == [(first, host)]
    # h1 is replaced by h3 (a rebuilt machine under a new name): it continues h1's chain
    inv3 = h.inventory(scratch / 'hosts3.yml', {'h3': {'lifeboat_files': [entry(one)]}, 'h2': hosts['h2']})
    (one / 'b.txt').write_text('h3\n')
    r = h.backup(store, None, inventory=inv3, lifeboat_incremental_host_map={'h3': 'h1'})
    assert r.rc == 0, r
    third = sorted(h.set_ids(store))[-1]
    record = h.the_artifact(store, third, host='h3', name='app')
    assert level_of(record) == 2
    assert [(e['set_id'], e['host']) for e in record['extra']['incremental']['chain']] == [(first, 'h1'), (second, 'h1')]
    # and h4 restores h3's set (the chain goes through h1's sets)
    # (the play covers every host of the set: h2 restores its own entry beside)
    inv4 = h.inventory(scratch / 'hosts4.yml', {'h4': {'lifeboat_files': [entry(one)]}, 'h2': hosts['h2']})
    dest = scratch / 'dest'
    r = h.restore(store, inventory=inv4, lifeboat_set_id=third, lifeboat_restore_dest=str(dest),
                  lifeboat_restore_host_map={'h4': 'h3'})
    assert r.rc == 0, r
    assert (dest / str(one).lstrip('/') / 'b.txt').read_text() == 'h3\n'
