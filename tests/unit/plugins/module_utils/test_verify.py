# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification on a real FilesystemStore with real tar and zstd: quick and full, and the damage each catches."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def make_set(store, tmp_path, label=None):
    """A completed set with a zstd tar of a small tree and a gzip raw artifact, written through write_artifact."""
    src = tmp_path / ('src-%s' % (label or 'x'))
    (src / 'app').mkdir(parents=True)
    for n in range(20):
        (src / 'app' / ('f%02d' % n)).write_bytes(os.urandom(2000) * (n + 1))
    set_id = lifecycle.start(store, label=label)['set_id']
    artifacts.write_artifact(store, set_id, 'web1', 'files', 'app', 'files', 'tar', '.tar', 'files:' + str(src / 'app'),
                             check_source=lambda res: {}, compression='zstd',
                             source_argv=['tar', '--format=posix', '-cf', '-', '-C', '/', str(src / 'app').lstrip('/')],
                             extra={'paths': [str(src / 'app')]})
    blob = tmp_path / ('blob-%s' % (label or 'x'))
    blob.write_bytes(os.urandom(300000))
    with open(str(blob), 'rb') as handle:
        artifacts.write_artifact(store, set_id, 'web1', 'upload', 'blob', 'upload', 'raw', '.bin', 'upload:blob',
                                 check_source=lambda res: {}, source_file=handle, compression='gzip')
    lifecycle.commit(store, set_id, hosts=['web1'])
    return set_id


def artifact_path(store, set_id, component):
    manifest, _digest = lifecycle.read_manifest(store, set_id)
    record = next(r for r in manifest['artifacts'] if r['component'] == component)
    return os.path.join(store.root, record['key']), record


def test_quick_and_full_pass_and_are_recorded_beside_the_set(store, tmp_path):
    set_id = make_set(store, tmp_path)
    before = sorted(info.key for info in store.list(set_id))
    quick = verify.run(store, level='quick')
    assert quick['passed'] and quick['checked'] == 1 and quick['sets'][0]['problems'] == []
    full = verify.run(store, level='full', jobs=2)
    assert full['passed'], full
    items = {item['component']: item for item in full['sets'][0]['artifacts']}
    assert items['files']['decoder'] == 'tar-listing' and items['files']['members'] == 21
    assert items['upload']['decoder'] == 'stream' and items['upload']['passed']
    assert full['bytes_read'] == sum(item['size'] for item in items.values()) and full['throughput'] > 0
    assert sorted(info.key for info in store.list(set_id)) == before  # the set itself is untouched
    keys = [info.key for info in store.list(results.AREA)]
    assert len(keys) == 2 and all(key.endswith('-passed.json') for key in keys)
    latest = results.latest_by_set(keys)[set_id]
    assert latest['last_verify']['passed']
    doc = results.load_check_doc(store.get_bytes(full['sets'][0]['recorded']), 'x')
    assert doc['check'] == 'verify-full' and doc['totals']['bytes_read'] == full['bytes_read']


def test_full_with_the_module_reporter_counts_its_reads_in_the_sets_phase(store, tmp_path, monkeypatch):
    """backup_verify installs its reporter (_module.execute); the reads of a set, ``jobs`` at a time, all count in
    the set's phase, and no read starts a phase of its own."""
    from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
    from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
    monkeypatch.setattr(pipeline, 'PROGRESS_EVERY', 0.0)
    set_id = make_set(store, tmp_path)
    phases = []
    reporter = progress.install(str(tmp_path / 'p.json'), 'verify full', direction='read', write_every=0,
                                log=lambda line: phases.append(line.split(':')[0]))
    try:
        full = verify.run(store, level='full', jobs=2, reporter=progress.active())
        assert full['passed'], full
        assert reporter.state['phase'] == 'set %s' % set_id
        assert reporter.state['stored'] == reporter.state['total'] == full['bytes_read']
    finally:
        progress.finish()
    assert set(phases) == {'verify full (set %s)' % set_id}


def test_full_catches_a_flipped_byte_that_quick_cannot_see(store, tmp_path):
    set_id = make_set(store, tmp_path)
    path, record = artifact_path(store, set_id, 'files')
    with open(path, 'r+b') as handle:
        handle.seek(record['size'] // 2)
        byte = handle.read(1)
        handle.seek(record['size'] // 2)
        handle.write(bytes([byte[0] ^ 0x01]))
    assert verify.run(store, level='quick', record=False)['passed']
    full = verify.run(store, level='full')
    assert not full['passed'] and full['failed_sets'] == [set_id]
    problems = full['sets'][0]['problems']
    assert len(problems) == 1 and 'failed verification' in problems[0] and record['key'] in problems[0]
    assert full['sets'][0]['recorded'].endswith('-verify-full-failed.json')


def test_a_truncated_artifact_and_a_missing_record_fail_quick(store, tmp_path):
    set_id = make_set(store, tmp_path)
    path, record = artifact_path(store, set_id, 'upload')
    with open(path, 'r+b') as handle:
        handle.truncate(record['size'] - 100)
    other, files_record = artifact_path(store, set_id, 'files')
    os.unlink(other + set_format.RECORD_SUFFIX)
    for level in ('quick', 'full'):
        result = verify.run(store, level=level, record=False)
        problems = result['sets'][0]['problems']
        assert not result['passed']
        assert any('%s has %d bytes, its record says %d' % (record['key'], record['size'] - 100, record['size']) == p
                   for p in problems), problems
        assert any(files_record['key'] + set_format.RECORD_SUFFIX in p and 'missing' in p for p in problems), problems
    # full still streams the artifacts that are whole: the tar is read and passes
    full = verify.run(store, level='full', record=False)
    assert [item['component'] for item in full['sets'][0]['artifacts']] == ['files']


def test_a_truncated_zstd_stream_with_a_matching_record_fails_full(store, tmp_path):
    """An artifact cut short whose record matches the short object (checksums fixed up): zstd says the stream ends early."""
    set_id = make_set(store, tmp_path)
    path, record = artifact_path(store, set_id, 'files')
    with open(path, 'rb') as handle:
        data = handle.read()[:record['size'] // 2]
    with open(path, 'wb') as handle:
        handle.write(data)
    item = verify.verify_artifact(store, dict(record, size=len(data), sha256=set_format.sha256_hex(data)))
    assert not item['passed'] and any('zstd' in problem or 'tar' in problem for problem in item['problems']), item


def test_select_sets(store, tmp_path):
    first = make_set(store, tmp_path, 'a')
    second = make_set(store, tmp_path, 'b')
    assert verify.select_sets(store, 'latest', set_format.utcnow())[0] == [second]
    assert verify.select_sets(store, 'all', set_format.utcnow())[0] == [second, first]
    result = verify.run(store, which=['20200101T000000Z'], level='quick', record=False)
    assert not result['passed'] and 'does not exist' in result['sets'][0]['problems'][0]


def test_check_mode_records_nothing(store, tmp_path):
    make_set(store, tmp_path)
    result = verify.run(store, level='quick', check_mode=True)
    assert result['passed'] and not result['changed'] and 'recorded' not in result['sets'][0]
    assert list(store.list(results.AREA)) == []


def test_sql_trailer_decoder_with_real_gzip(store, tmp_path):
    set_id = lifecycle.start(store)['set_id']
    dump = tmp_path / 'globals.sql'
    dump.write_bytes(b'--\n-- PostgreSQL database cluster dump\n--\nCREATE ROLE x;\n' * 2000
                     + b'\n--\n-- PostgreSQL database cluster dump complete\n--\n\n')
    with open(str(dump), 'rb') as handle:
        record = artifacts.write_artifact(store, set_id, 'db1', 'postgresql', 'globals', 'postgresql-globals',
                                          'pg_dumpall-globals-sql', '.sql', 'postgresql:globals', check_source=lambda r: {},
                                          source_file=handle, compression='gzip')
    assert verify.verify_artifact(store, record)['passed']
    cut = tmp_path / 'cut.sql'
    cut.write_bytes(dump.read_bytes()[:-60])
    with open(str(cut), 'rb') as handle:
        short = artifacts.write_artifact(store, set_id, 'db1', 'postgresql', 'globals2', 'postgresql-globals',
                                         'pg_dumpall-globals-sql', '.sql', 'postgresql:globals', check_source=lambda r: {},
                                         source_file=handle, compression='gzip')
    item = verify.verify_artifact(store, short)
    assert not item['passed'] and 'trailer' in item['problems'][0]


def test_unsafe_archive_members_fail_full(store, tmp_path):
    set_id = lifecycle.start(store)['set_id']
    evil = tmp_path / 'evil'
    evil.mkdir()
    (evil / 'x').write_text('x')
    archive = tmp_path / 'evil.tar'
    subprocess.run(['tar', '--format=posix', '-cf', str(archive), '-C', str(evil), '--transform', 's,^,../,', 'x'], check=True)
    with open(str(archive), 'rb') as handle:
        record = artifacts.write_artifact(store, set_id, 'web1', 'files', 'evil', 'files', 'tar', '.tar', 'files:/srv',
                                          check_source=lambda r: {}, source_file=handle, compression='zstd',
                                          extra={'paths': ['/srv']})
    item = verify.verify_artifact(store, record)
    assert not item['passed'] and any("'..'" in p for p in item['problems']), item
