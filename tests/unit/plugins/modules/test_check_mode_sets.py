# -*- coding: utf-8 -*-
"""Check-mode plans of the set and files modules, run through their main() against a filesystem store.

Each module is run in check mode at the point of a real run where it would act (the set before it, made with
the same modules for real), says what it would do, and writes nothing: the store's tree is the same after.
"""

import os

import pytest

from lb_module_runner import have_tools, tree

pytestmark = [pytest.mark.skipif(not have_tools('tar', 'zstd'), reason='needs GNU tar and zstd')]


@pytest.fixture
def source(tmp_path):
    src = tmp_path / 'src'
    (src / 'conf').mkdir(parents=True)
    (src / 'conf' / 'settings.py').write_text('SECRET_KEY = "x"\n')
    (src / 'data.txt').write_text('data\n' * 100)
    return str(src)


def _started(run_module, store, label='unit'):
    r = run_module('backup_set', {'store': store, 'state': 'started', 'label': label})
    assert r['rc'] == 0, r
    return r['set_id']


def _completed(run_module, store, source):
    set_id = _started(run_module, store)
    for name, args in (('files_backup', {'name': 'app', 'paths': [source]}),
                       ('backup_upload', {'src': os.path.join(source, 'data.txt'), 'name': 'vendor'})):
        r = run_module(name, dict(args, store=store, set_id=set_id, host='web1'))
        assert r['rc'] == 0 and r['changed'], r
    r = run_module('backup_set', {'store': store, 'state': 'committed', 'set_id': set_id, 'hosts': ['web1'],
                                  'expect': {'web1': ['files/app', 'upload/vendor']}})
    assert r['rc'] == 0 and r['status'] == 'completed', r
    return set_id, r['manifest_sha256']


def test_backup_set_start_in_check_mode_plans_a_set_and_writes_nothing(run_module, store):
    r = run_module('backup_set', {'store': store, 'state': 'started', 'label': 'nightly'}, check=True)
    assert r['rc'] == 0 and r['changed'] and r['status'] == 'in_progress', r
    assert r['set_id'].endswith('Z-nightly')
    assert tree(store['path']) == []


def test_backup_set_commit_and_fail_in_check_mode(run_module, store, source):
    set_id = _started(run_module, store)
    r = run_module('files_backup', {'store': store, 'set_id': set_id, 'host': 'web1', 'name': 'app', 'paths': [source]})
    assert r['rc'] == 0, r
    before = tree(store['path'])
    r = run_module('backup_set', {'store': store, 'state': 'committed', 'set_id': set_id, 'hosts': ['web1'],
                                  'expect': {'web1': ['files/app']}}, check=True)
    assert r['rc'] == 0 and r['status'] == 'completed' and r['components'] == {'web1': ['files/app']}, r
    r = run_module('backup_set', {'store': store, 'state': 'failed', 'set_id': set_id, 'reason': 'test'}, check=True)
    assert r['rc'] == 0 and r['changed'] and r['status'] == 'failed', r
    assert tree(store['path']) == before
    # a commit that would miss an expected part says so, in check mode too
    r = run_module('backup_set', {'store': store, 'state': 'committed', 'set_id': set_id, 'hosts': ['web1', 'web2'],
                                  'expect': {'web1': ['files/app'], 'web2': ['files/app']}}, check=True)
    assert r.failed and 'web2' in r['msg'], r
    assert tree(store['path']) == before


def test_files_backup_and_backup_upload_in_check_mode_say_what_they_would_write(run_module, store, source):
    set_id = _started(run_module, store)
    before = tree(store['path'])
    r = run_module('files_backup', {'store': store, 'set_id': set_id, 'host': 'web1', 'name': 'app', 'paths': [source]},
                   check=True)
    assert r['rc'] == 0 and r['changed'] and r['records'] == [], r
    assert r['msg'] == 'would archive %s into set %s as files/app' % (source, set_id)
    r = run_module('backup_upload', {'store': store, 'set_id': set_id, 'host': 'web1', 'name': 'vendor',
                                     'src': os.path.join(source, 'data.txt')}, check=True)
    assert r['rc'] == 0 and r['changed'] and r['records'] == [], r
    assert r['msg'].startswith('would upload file %s into set %s as upload/vendor' % (os.path.join(source, 'data.txt'), set_id))
    assert tree(store['path']) == before
    r = run_module('files_backup', {'store': store, 'set_id': set_id, 'host': 'web1', 'name': 'app',
                                    'paths': [source + '-missing']}, check=True)
    assert r.failed and r['msg'] == 'files entry app: %s-missing does not exist on this host' % source, r


def test_backup_set_info_is_read_only_in_check_mode(run_module, store, source):
    set_id, digest = _completed(run_module, store, source)
    before = tree(store['path'])
    r = run_module('backup_set_info', {'store': store, 'latest': True, 'verify': True}, check=True)
    assert r['rc'] == 0 and not r['changed'], r
    assert r['set']['id'] == set_id and r['set']['manifest_sha256'] == digest and r['problems'] == []
    r = run_module('backup_set_info', {'store': store}, check=True)
    assert [s['id'] for s in r['sets']] == [set_id] and r['sets'][0]['status'] == 'completed'
    assert tree(store['path']) == before


def test_files_restore_and_backup_fetch_in_check_mode_plan_and_touch_nothing(run_module, store, source, tmp_path):
    set_id, digest = _completed(run_module, store, source)
    dest = tmp_path / 'restored'
    r = run_module('files_restore', {'store': store, 'host': 'web1', 'name': 'app', 'dest': str(dest),
                                     'manifest_sha256': digest}, check=True)
    assert r['rc'] == 0 and r['changed'] and r['set_id'] == set_id, r
    assert r['paths'] == [str(dest) + source] and r['overwritten'] == []
    assert not dest.exists()
    fetched = tmp_path / 'vendor.txt'
    r = run_module('backup_fetch', {'store': store, 'host': 'web1', 'name': 'vendor', 'dest': str(fetched)}, check=True)
    assert r['rc'] == 0 and r['changed'] and r['msg'].startswith('would fetch %s/web1/upload/vendor' % set_id), r
    assert not fetched.exists()
    # refusals are the same in check mode: a pinned manifest that differs, a mode that is not octal
    r = run_module('files_restore', {'store': store, 'host': 'web1', 'name': 'app', 'dest': str(dest),
                                     'manifest_sha256': '0' * 64}, check=True)
    assert r.failed and 'not the pinned' in r['msg'], r
    r = run_module('backup_fetch', {'store': store, 'host': 'web1', 'name': 'vendor', 'dest': str(fetched),
                                    'mode': 'rw-r--r--'}, check=True)
    assert r.failed and r['msg'] == "mode 'rw-r--r--' is not an octal number like 0600", r
