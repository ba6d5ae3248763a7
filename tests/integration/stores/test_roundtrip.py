# -*- coding: utf-8 -*-
"""Round trips through ansible-playbook: the roles' playbooks (backup.yml, restore.yml) on S3 with SSE-KMS and
Object Lock, and backup_upload/backup_fetch on SFTP (real moto server and real sshd on loopback)."""
import filecmp
import hashlib
import json
import os
import re
import subprocess
import tarfile
import time

import pytest

from storelib import leftovers, run_module, s3_params, sftp_params

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024


def _arg(params):
    return {k: v for k, v in params.items() if v is not None}


def _tree(root):
    """{relative path: (type, content sha256 or link target)} of a directory."""
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ('link', os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ('dir', None)
            else:
                with open(p, 'rb') as f:
                    out[rel] = ('file', hashlib.sha256(f.read()).hexdigest())
    return out


def _make_tree(root):
    os.makedirs(os.path.join(root, 'conf', 'deep'))
    with open(os.path.join(root, 'big.bin'), 'wb') as f:
        f.write(os.urandom(11 * MiB + 17))              # several multipart parts
    for i in range(20):
        with open(os.path.join(root, 'conf', 'f%02d.json' % i), 'w') as f:
            f.write(json.dumps({'i': i, 'text': 'x' * i}))
    with open(os.path.join(root, 'conf', 'deep', 'ünïcode name.txt'), 'w') as f:
        f.write('hello\n')
    os.symlink('conf/f01.json', os.path.join(root, 'link'))


def test_roles_backup_and_restore_on_s3_with_kms_and_object_lock(playbook, moto, s3, lock_bucket, kms_key, workdir):
    src = os.path.join(workdir, 'app')
    _make_tree(src)
    params = s3_params(moto, lock_bucket, sse='aws:kms', kms_key_id=kms_key, object_lock_mode='COMPLIANCE',
                       object_lock_days=1)
    store = _arg(params)
    r = playbook('backup.yml', extra_vars={'lifeboat_store': store, 'lifeboat_label': 'kms',
                                           'lifeboat_files': [{'name': 'app', 'paths': [src]}]})
    assert r.rc == 0, r
    assert 'Traceback' not in r.output

    st = open_store(params)
    sets = lifecycle.list_sets(st)
    assert [s['status'] for s in sets] == [set_format.COMPLETED], sets
    set_id = sets[0]['id']
    keys = [i.key for i in st.list(set_id)]
    assert set_id + '/manifest.json' in keys and any(k.endswith('.tar.zst') for k in keys)
    for k in keys:                                  # every object of the set: SSE-KMS and retention
        h = s3.head_object(Bucket=lock_bucket, Key='backups/' + k)
        assert h['ServerSideEncryption'] == 'aws:kms' and kms_key in h['SSEKMSKeyId'], k
        assert h.get('ObjectLockMode') == 'COMPLIANCE' and h.get('ObjectLockRetainUntilDate'), k
    assert st.get_bytes(set_format.LOCK_KEY) is None
    assert leftovers(st) == []

    dest = os.path.join(workdir, 'restored')
    os.mkdir(dest)
    r = playbook('restore.yml', extra_vars={'lifeboat_store': store, 'lifeboat_restore_dest': dest,
                                            'lifeboat_restore_components': ['files'],
                                            'lifeboat_manifest_sha256': sets[0]['manifest_sha256'],
                                            'lifeboat_guard_path': os.path.join(workdir, 'guard')})
    assert r.rc == 0, r
    assert _tree(os.path.join(dest, src.lstrip('/'))) == _tree(src)

    # pruning the set is refused while it is locked, with one clear message
    with pytest.raises(LifeboatError) as e:
        st.delete_prefix(set_id)
    assert 'protected by S3 Object Lock (COMPLIANCE until' in e.value.msg
    assert lifecycle.list_sets(st)[0]['status'] == set_format.COMPLETED


def _result(r):
    m = re.search(r'"msg": "RESULT (.*)"\n', r.output)
    assert m, r
    return json.loads(json.loads('"%s"' % m.group(1)))


def test_upload_and_fetch_on_sftp(playbook, sshd, workdir):
    path = os.path.join(workdir, 'srv')
    params = sftp_params(sshd, path)
    src_file = os.path.join(workdir, 'vendor.bak')
    with open(src_file, 'wb') as f:
        f.write(os.urandom(5 * MiB) + b'end\n')
    src_dir = os.path.join(workdir, 'export')
    _make_tree(src_dir)
    with open(os.path.join(src_dir, 'skip.tmp'), 'w') as f:
        f.write('excluded')
    out = os.path.join(workdir, 'out')
    os.mkdir(out)
    r = playbook(os.path.join(HERE, 'upload_fetch.yml'), extra_vars={
        'lifeboat_store': _arg(params), 'src_file': src_file, 'src_dir': src_dir, 'out_dir': out})
    assert r.rc == 0, r
    res = _result(r)
    rec = res['file']
    assert rec['component'] == 'upload' and rec['extra']['original_name'] == 'vendor dump (nightly)'
    assert re.match(r'^vendor_dump_nightly-[0-9a-f]{10}$', rec['name']), rec['name']
    assert rec['extra']['uncompressed_size'] == os.path.getsize(src_file) and rec['compression'] == 'zstd'
    assert filecmp.cmp(src_file, os.path.join(out, 'vendor.out'), shallow=False)
    assert oct(os.stat(os.path.join(out, 'vendor.out')).st_mode & 0o777) == '0o600'
    assert res['fetched_file']['sha256'] == rec['sha256']

    tar_path = os.path.join(out, 'export.tar')
    assert res['fetched_dir']['dest'] == tar_path and res['dir']['format'] == 'tar'
    assert oct(os.stat(tar_path).st_mode & 0o777) == '0o640'
    unpacked = os.path.join(workdir, 'unpacked')
    os.mkdir(unpacked)
    subprocess.run(['tar', '-xf', tar_path, '-C', unpacked], check=True)
    expected = _tree(src_dir)
    del expected['skip.tmp']
    assert _tree(os.path.join(unpacked, src_dir.lstrip('/'))) == expected
    assert sorted(os.listdir(out)) == ['export.tar', 'vendor.out']      # no temp names left

    store = _arg(params)
    base = {'store': store, 'host': 'localhost', 'name': 'vendor dump (nightly)'}
    again = run_module('backup_fetch', dict(base, dest=os.path.join(out, 'vendor.out')))
    assert again.failed and again.msg.endswith('vendor.out already exists: set force=true to replace it'), again
    check = run_module('backup_fetch', dict(base, dest=out + '/', force=True), check=True)
    assert not check.failed and check['changed'] and 'would fetch' in check['msg'], check

    # the stored artifact is damaged on the server: the fetch fails and dest is left as it was
    stored = os.path.join(path, 'backups', rec['key'])
    with open(stored, 'r+b') as f:
        f.seek(1000)
        f.write(b'\0garbage\0')
    bad = run_module('backup_fetch', dict(base, dest=os.path.join(out, 'vendor.out'), force=True))
    assert bad.failed and 'failed verification' in bad.msg, bad
    assert filecmp.cmp(src_file, os.path.join(out, 'vendor.out'), shallow=False)
    assert sorted(os.listdir(out)) == ['export.tar', 'vendor.out']
    assert tarfile.is_tarfile(tar_path)


def test_upload_module_edges_on_a_filesystem_store(workdir):
    """Check mode writes nothing; a named pipe streams to its end; a missing src and a closed set are one
    message each; a file that changes while it is read is refused."""
    import threading
    from storelib import fs_params
    store = _arg(fs_params(os.path.join(workdir, 'store')))
    set_id = run_module('backup_set', {'state': 'started', 'store': store})['set_id']
    base = {'store': store, 'set_id': set_id, 'host': 'web1'}

    r = run_module('backup_upload', dict(base, src='/etc/hostname'), check=True)
    assert not r.failed and r['changed'] and r['records'] == [] and 'would upload file' in r['msg'], r
    r = run_module('backup_upload', dict(base, src=os.path.join(workdir, 'nope')))
    assert r.failed and r.msg == 'src %s does not exist on this host' % os.path.join(workdir, 'nope'), r

    fifo = os.path.join(workdir, 'pipe')
    os.mkfifo(fifo)
    payload = os.urandom(3 * MiB)

    def feed():
        with open(fifo, 'wb') as f:
            f.write(payload)
    t = threading.Thread(target=feed)
    t.start()
    r = run_module('backup_upload', dict(base, src=fifo, name='from-a-pipe', compression='none'))
    t.join()
    assert not r.failed, r
    assert r['records'][0]['size'] == len(payload) and r['records'][0]['extra']['src_type'] == 'fifo'
    assert r['records'][0]['sha256'] == hashlib.sha256(payload).hexdigest()

    st = open_store(fs_params(os.path.join(workdir, 'store')))
    assert [i.key for i in st.list(set_id + '/web1/upload')] == [
        set_id + '/web1/upload/from-a-pipe', set_id + '/web1/upload/from-a-pipe.part.json',
        set_id + '/web1/upload/from-a-pipe.record.json']
    assert not run_module('backup_set', {'state': 'committed', 'store': store, 'set_id': set_id}).failed
    r = run_module('backup_upload', dict(base, src='/etc/hostname'))
    assert r.failed and r.msg == 'set %s is already completed; a completed set is never changed' % set_id, r

    # a file that changes while it is read is refused; its part stays declared but unfinished, so that set
    # cannot be committed either (a backup that lost one of its parts is not a complete backup)
    set_id = run_module('backup_set', {'state': 'started', 'store': store})['set_id']
    base = {'store': store, 'set_id': set_id, 'host': 'web1'}
    grow = os.path.join(workdir, 'growing.log')
    with open(grow, 'wb') as f:
        f.write(os.urandom(8 * MiB))
    stop = threading.Event()

    def append():                     # slowly (400 KB/s) and never more than 4 MiB in all
        with open(grow, 'ab') as f:
            for _i in range(1024):
                if stop.is_set():
                    return
                f.write(b'x' * 4096)
                f.flush()
                time.sleep(0.01)
    t = threading.Thread(target=append)
    t.start()
    try:
        r = run_module('backup_upload', dict(base, src=grow, compression='gzip'))
    finally:
        stop.set()
        t.join()
    assert r.failed and 'changed while it was being uploaded' in r.msg, r
    assert [i.key for i in st.list(set_id + '/web1/upload')] == [set_id + '/web1/upload/growing.log.gz.part.json']
    r = run_module('backup_set', {'state': 'committed', 'store': store, 'set_id': set_id})
    assert r.failed and 'host web1: part upload/growing.log was started at ' in r.msg, r
    assert 'but never finished (its module failed, was cancelled or was killed)' in r.msg
