# -*- coding: utf-8 -*-
"""Round trips with encryption on, through every store (filesystem, S3 on a moto server, SFTP on a real sshd):
files, PostgreSQL (custom and directory format, globals) and uploads, encrypted to an X25519 and two SSH
recipients at once; each identity alone restores. Modules run for real, as Ansible runs them."""

import os
import subprocess

import pytest

from lifeboat_encryption_conftest import BACKENDS
from enclib import (HOST, MARKER, commit_set, files_backup, files_restore, make_tree, ok, start_set, stored_bytes,
                    tree)
from storelib import run_module

from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic


def _fingerprints(keys):
    return [logic.parse_recipient(line, 'test').fingerprint for line in keys.recipients()]


@pytest.mark.parametrize('kind', BACKENDS)
def test_files_round_trip_each_identity_alone(kind, store_params, keys, workdir):
    store = store_params(kind)
    src = os.path.join(workdir, 'app')
    make_tree(src)
    set_id = start_set(store)
    res = ok(files_backup(store, set_id, 'app', [src], keys.recipients()))
    record = res['record']
    assert record['key'] == '%s/%s/files/app.tar.zst.age' % (set_id, HOST)
    assert record['encryption'] == 'age' and record['compression'] == 'zstd'
    assert [entry['fingerprint'] for entry in record['recipients']] == _fingerprints(keys)
    assert [entry['type'] for entry in record['recipients']] == ['X25519', 'ssh-ed25519', 'ssh-rsa']
    assert record['recipients'][0]['comment'] == 'ops-2026'
    assert record['tools'].get('age')
    commit_set(store, set_id)
    stored = stored_bytes(store, record['key'])
    assert stored.startswith(b'age-encryption.org/v1\n')
    assert MARKER not in stored
    for what, decryption in keys.decryptions():
        dest = os.path.join(workdir, 'restored-' + what.split()[0] + '-' + what.split()[1])
        os.mkdir(dest)
        restored = files_restore(store, 'app', decryption, dest=dest)
        assert not restored.failed, (what, restored)
        assert tree(os.path.join(dest, src.lstrip('/'))) == tree(src), what


@pytest.mark.parametrize('kind', BACKENDS)
def test_postgresql_round_trip_custom_directory_and_globals(kind, store_params, keys, pg_pair, workdir):
    source, target = pg_pair
    store = store_params(kind)
    set_id = start_set(store)
    for dump_format, host in (('custom', HOST), ('directory', 'db2')):
        args = {'store': store, 'set_id': set_id, 'host': host, 'databases': ['shop'], 'format': dump_format,
                'globals': True, 'encryption': {'recipients': keys.recipients()}}
        args.update(source.conn_params())
        res = ok(run_module('postgresql_backup', args))
        keys_written = sorted(record['key'].rsplit('/', 1)[-1] for record in res['records'])
        suffix = '.pgdump.zst.age' if dump_format == 'custom' else '.pgdir.tar.zst.age'
        assert keys_written == sorted(['globals.sql.zst.age', 'shop' + suffix])
        assert all(record['encryption'] == 'age' for record in res['records'])
        for record in res['records']:
            data = stored_bytes(store, record['key'])
            assert b'PLAINTEXT-MARKER-pg' not in data and b'role-password-marker' not in data and b'shop_owner' not in data
    commit_set(store, set_id, hosts=[HOST, 'db2'])
    for (what, decryption), (host, db) in zip(keys.decryptions(), ((HOST, 'shop_custom_%s' % kind), ('db2', 'shop_dir_%s' % kind),
                                                                   (HOST, 'shop_rsa_%s' % kind))):
        args = {'store': store, 'host': host, 'rename': {'shop': db}, 'globals': True, 'decryption': decryption}
        args.update(target.conn_params())
        res = run_module('postgresql_restore', args)
        assert not res.failed, (what, res)
        assert target.q("SELECT note FROM orders WHERE id = 0", db=db) == 'PLAINTEXT-MARKER-pg-7c1d'
        assert target.q("SELECT count(*) FROM orders", db=db) == '5001'
        assert target.q("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '%s'" % db) == 'shop_owner'


@pytest.mark.parametrize('kind', BACKENDS)
def test_upload_and_fetch(kind, store_params, keys, workdir):
    store = store_params(kind)
    src = os.path.join(workdir, 'vendor.bak')
    with open(src, 'wb') as handle:
        handle.write(os.urandom(3 << 20) + MARKER)
    set_id = start_set(store)
    res = ok(run_module('backup_upload', {'store': store, 'set_id': set_id, 'host': HOST, 'src': src, 'name': 'vendor',
                                          'compression': 'none', 'encryption': {'recipients': keys.recipients()}}))
    key = res['record']['key']
    assert key.endswith('/upload/vendor.age') and res['record']['encryption'] == 'age'
    commit_set(store, set_id)
    assert MARKER not in stored_bytes(store, key)
    out = os.path.join(workdir, 'out')
    os.mkdir(out)
    fetched = ok(run_module('backup_fetch', {'store': store, 'host': HOST, 'name': 'vendor', 'dest': os.path.join(out, 'plain'),
                                             'decryption': {'identity_file': keys.ed_path}}))
    with open(fetched['dest'], 'rb') as handle, open(src, 'rb') as original:
        assert handle.read() == original.read()
    # the stored bytes as they are (ciphertext) need no identity
    raw = ok(run_module('backup_fetch', {'store': store, 'host': HOST, 'name': 'vendor', 'dest': os.path.join(out, 'raw.age'),
                                         'decompress': False}))
    with open(raw['dest'], 'rb') as handle:
        cipher = handle.read()
    assert cipher == stored_bytes(store, key)
    plain = subprocess.run(['age', '-d', '-i', keys.age_path], input=cipher, stdout=subprocess.PIPE, check=True).stdout
    with open(src, 'rb') as original:
        assert plain == original.read()
    missing = run_module('backup_fetch', {'store': store, 'host': HOST, 'name': 'vendor', 'dest': os.path.join(out, 'nokey')})
    assert missing.failed and 'no identity was given' in missing.msg
    assert not os.path.exists(os.path.join(out, 'nokey'))
