# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental chains on a real filesystem store (tmp_path): finding the base of a new archive, resolving the
levels of a restore, and the staged-tree side of applying a level (purges, root types, hard links), on real
directories."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._files import apply as chain_apply
from ansible_collections.lifeboat.backup.plugins.module_utils._files import chain
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

SHA = 'a' * 64


def put_set(store, set_id, records, complete=True):
    """A set written by hand: its records (with artifacts of the recorded size) and, when complete, the manifest."""
    status = set_format.status_doc(set_id, set_format.IN_PROGRESS, set_format.iso(set_format.parse_set_id(set_id)[0]))
    store.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(status))
    for record in records:
        store.put_bytes(record['key'], b'x' * record['size'])
        store.put_bytes(set_format.record_key_for(record['key']), set_format.dumps(record))
    if complete:
        manifest = set_format.make_manifest(set_id, status, records, set_format.iso(set_format.utcnow()))
        store.put_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY), set_format.dumps(manifest))


def archive(set_id, level, chain_of=(), host='web1', name='app', size=10, paths=('/srv/app',)):
    key = '%s/%s/files/%s.tar.zst' % (set_id, host, name)
    rec = set_format.make_record(set_id, host, 'files', name, 'files', key, 'files:/srv/app', 'tar', 'zstd', 'none', size,
                                 SHA, '2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z', {}, extra={'paths': list(paths), 'exclude': [], 'one_file_system': False})
    if level is not None:
        decision = {'level': level, 'base': incremental.chain_entry(chain_of[-1]) if chain_of else None,
                    'chain': [incremental.chain_entry(r) for r in chain_of], 'full_set': chain_of[0]['set_id'] if chain_of else None,
                    'reason': 'test'}
        rec['extra']['incremental'] = incremental.new_facts(decision, name, '%s/%s/files/%s.snar.zst' % (set_id, host, name),
                                                            ('count', 24))
    return rec


def snapshot(set_id, host='web1', name='app'):
    key = '%s/%s/files/%s.snar.zst' % (set_id, host, name)
    return set_format.make_record(set_id, host, 'files', name + '.snar', 'files-snar', key, 'files-snapshot:app', 'tar-snar',
                                  'zstd', 'none', 5, SHA, '2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z', {},
                                  extra={'archive': key, 'level': 0, 'dropped_directories': 0})


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def three_levels(store):
    zero = archive('20261101T000000Z', 0)
    one = archive('20261102T000000Z', 1, [zero])
    two = archive('20261103T000000Z', 2, [zero, one])
    for rec in (zero, one, two):
        put_set(store, rec['set_id'], [rec, snapshot(rec['set_id'])])
    return zero, one, two


def test_find_base_and_resolve(store):
    zero, one, two = three_levels(store)
    found = chain.find_base(store, '20261104T000000Z', 'web1', 'app')
    assert found['record']['key'] == two['key'] and found['problem'] is None
    assert found['snar']['name'] == 'app.snar'
    assert found['full_time'] == chain.set_epoch('20261101T000000Z')
    levels = chain.resolve(store, two)
    assert [(rec['set_id'], snar['name']) for rec, snar in levels] == [
        ('20261101T000000Z', 'app.snar'), ('20261102T000000Z', 'app.snar'), ('20261103T000000Z', 'app.snar')]
    assert chain.find_base(store, '20261104T000000Z', 'web2', 'app')['record'] is None      # each host its own
    assert chain.find_base(store, '20261104T000000Z-hourly', 'web1', 'app', 'hourly')['record'] is None  # each label


def test_find_base_passes_over_sets_that_are_not_completed(store):
    zero, one, _two = three_levels(store)
    put_set(store, '20261104T000000Z', [archive('20261104T000000Z', 3, [zero, one])], complete=False)
    found = chain.find_base(store, '20261105T000000Z', 'web1', 'app')
    assert found['record']['set_id'] == '20261103T000000Z'
    assert [p['set_id'] for p in found['passed_over']] == ['20261104T000000Z']


def test_a_broken_chain_is_named(store):
    _zero, one, two = three_levels(store)
    store.delete('20261102T000000Z/manifest.json')
    found = chain.find_base(store, '20261104T000000Z', 'web1', 'app')
    assert found['problem'].startswith('set 20261102T000000Z (level 1): it is failed'), found['problem']
    with pytest.raises(LifeboatError) as e:
        chain.resolve(store, two)
    assert 'set 20261102T000000Z (level 1 of the chain): it is failed' in e.value.msg
    assert e.value.details['broken_set'] == '20261102T000000Z'
    for key in [k.key for k in store.list('20261102T000000Z')]:
        store.delete(key)
    with pytest.raises(NotFoundError) as e:
        chain.resolve(store, two)
    assert 'it is not in the filesystem store' in e.value.msg


def test_a_replaced_or_missing_level_is_damage(store):
    zero, _one, two = three_levels(store)
    replaced = dict(zero, sha256='b' * 64)
    put_set(store, zero['set_id'], [replaced, snapshot(zero['set_id'])])
    with pytest.raises(DamagedError) as e:
        chain.resolve(store, two)
    assert 'the set was replaced' in e.value.msg
    three_levels(store)
    store.delete(two['key'])
    with pytest.raises(DamagedError) as e:
        chain.resolve(store, two)
    assert 'its artifact %s is missing' % two['key'] in e.value.msg


def test_a_missing_snapshot_file_is_a_problem_of_the_base_not_of_restores(store):
    _zero, _one, two = three_levels(store)
    store.delete('20261103T000000Z/web1/files/app.snar.zst')
    found = chain.find_base(store, '20261104T000000Z', 'web1', 'app')
    assert found['problem'] == ('the snapshot file of set 20261103T000000Z: its artifact 20261103T000000Z/web1/files/'
                                'app.snar.zst is missing')
    assert chain.resolve(store, two)[-1][1] is None    # the restore lists the level instead


def test_a_plain_base(store):
    plain = archive('20261101T000000Z', None)
    put_set(store, plain['set_id'], [plain])
    found = chain.find_base(store, '20261102T000000Z', 'web1', 'app')
    assert found['record']['key'] == plain['key'] and found['problem'] is None and found['snar'] is None


def test_sets_started_later_are_no_base(store):
    three_levels(store)
    assert chain.find_base(store, '20261102T120000Z', 'web1', 'app')['record']['set_id'] == '20261102T000000Z'
    assert lifecycle.list_sets(store)


# ---------------------------------------------------------------- the staged tree

def staging(tmp_path):
    root = tmp_path / 'staging'
    (root / 'srv' / 'app' / 'd').mkdir(parents=True)
    (root / 'srv' / 'app' / 'keep').write_text('keep')
    (root / 'srv' / 'app' / 'gone').write_text('gone')
    (root / 'srv' / 'app' / 'd' / 'x').write_text('x')
    (root / 'srv' / 'app' / 'now-dir').write_text('file before')
    os.symlink('/etc', str(root / 'srv' / 'app' / 'link-now-dir'))
    return root


def test_apply_level_removes_what_the_level_no_longer_lists(tmp_path):
    root = staging(tmp_path)
    dumpdirs = {b'srv/app': {b'keep': b'N', b'now-dir': b'D', b'link-now-dir': b'D', b'new': b'Y'},
                b'srv/app/now-dir': {}, b'srv/app/link-now-dir': {}}
    fd = fsops.open_dir(str(root))
    try:
        step = chain_apply.apply_level(fd, str(root), dumpdirs, {b'srv/app': True})
    finally:
        os.close(fd)
    assert step == {'removed': 4}
    assert sorted(os.listdir(str(root / 'srv' / 'app'))) == ['keep']
    assert os.path.isdir('/etc')   # the symlink went, not what it points to


@pytest.mark.parametrize('directory', [b'srv/app/sneaky', b'srv/app/sneaky/inner'])   # the symlink, or a parent of it
def test_apply_level_never_goes_through_a_symlink(tmp_path, directory):
    root = staging(tmp_path)
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'precious').write_text('precious')
    os.symlink(str(victim), str(root / 'srv' / 'app' / 'sneaky'))
    fd = fsops.open_dir(str(root))
    try:
        with pytest.raises(DamagedError) as e:
            chain_apply.apply_level(fd, str(root), {directory: {}}, {})
    finally:
        os.close(fd)
    assert 'never writes through a symlink' in e.value.msg
    assert os.listdir(str(victim)) == ['precious']


def test_fit_root_kinds(tmp_path):
    root = tmp_path / 'staging'
    (root / 'etc').mkdir(parents=True)
    (root / 'etc' / 'app.conf').mkdir()               # a directory where the level has a file
    (root / 'etc' / 'app.conf' / 'inner').write_text('x')
    fd = fsops.open_dir(str(root))
    try:
        step = chain_apply.apply_level(fd, str(root), {}, {b'etc/app.conf': False})
    finally:
        os.close(fd)
    assert step['removed'] == 1 and not os.path.exists(str(root / 'etc' / 'app.conf'))


def test_repair_links(tmp_path):
    root = tmp_path / 'staging'
    (root / 'srv' / 'app' / 'new').mkdir(parents=True)
    (root / 'srv' / 'app' / 'new' / 'f').write_text('same')
    (root / 'srv' / 'app' / 'old').write_text('same')
    mtime = os.stat(str(root / 'srv' / 'app')).st_mtime_ns
    fd = fsops.open_dir(str(root))
    try:
        linked = chain_apply.repair_links(fd, str(root), [(b'srv/app/new/f', [b'srv/app/old', b'srv/app/missing'])],
                                          [b'srv/app'])
        assert linked == 1
        assert chain_apply.repair_links(fd, str(root), [(b'srv/app/new/f', [b'srv/app/old'])], [b'srv/app']) == 0
        with pytest.raises(DamagedError):
            chain_apply.repair_links(fd, str(root), [(b'srv/app/new/f', [b'etc/passwd'])], [b'srv/app'])
    finally:
        os.close(fd)
    assert os.stat(str(root / 'srv' / 'app' / 'old')).st_ino == os.stat(str(root / 'srv' / 'app' / 'new' / 'f')).st_ino
    assert os.stat(str(root / 'srv' / 'app')).st_mtime_ns == mtime
    assert not [n for n in os.listdir(str(root / 'srv' / 'app')) if n.startswith('.lifeboat')]
