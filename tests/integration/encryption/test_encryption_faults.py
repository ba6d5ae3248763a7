# -*- coding: utf-8 -*-
"""Encryption faults: ciphertext changed or truncated with its checksums fixed up (only age can tell), wrong,
missing, unreadable and passphrase-protected identities, private keys given as recipients, and secrets that must
never show: identity content at -vvv, in the store, in temp directories; plaintext in the stored artifact.
Filesystem store (the store kind does not matter to age); real modules, real age, real PostgreSQL."""

import json
import os
import subprocess

import pytest

from enclib import (HOST, MARKER, commit_set, files_backup, files_restore, flipped, make_tree, ok, replace_artifact,
                    search, start_set, store_objects, stored_bytes, tree, truncated_at_chunk)
from storelib import run_module

from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def encrypted_set(workdir, keys, store_params):
    """A completed set with one encrypted files artifact, and a target in place holding other content."""
    store = store_params('filesystem')
    src = os.path.join(workdir, 'app')
    make_tree(src, size=600 * 1024)
    set_id = start_set(store)
    record = ok(files_backup(store, set_id, 'app', [src], [keys.age_public + ' ops-2026', keys.ed_public],
                             compression='none'))['record']
    commit_set(store, set_id)
    # the live tree changed since: a restore in place (force) would replace it
    with open(os.path.join(src, 'conf', 'secret.env'), 'w') as handle:
        handle.write('changed since the backup\n')
    return {'store': store, 'set_id': set_id, 'record': record, 'src': src, 'before': tree(src)}


def _nothing_changed(case):
    assert tree(case['src']) == case['before']
    parent = os.path.dirname(case['src'])
    assert [name for name in os.listdir(parent) if name.startswith('.lifeboat')] == []


@pytest.mark.parametrize('damage', ['flipped byte', 'truncated at a chunk boundary'])
def test_damaged_ciphertext_with_fixed_up_checksum_is_refused_by_age(encrypted_set, keys, damage):
    case = encrypted_set
    data = stored_bytes(case['store'], case['record']['key'])
    damaged = flipped(data) if damage == 'flipped byte' else truncated_at_chunk(data, 2)
    replace_artifact(case['store'], case['set_id'], case['record'], damaged)
    res = files_restore(case['store'], 'app', {'identity': keys.age_identity}, force=True)
    assert res.failed, res
    assert 'does not decrypt and authenticate (age: ' in res.msg, res.msg
    assert 'nothing was changed' in res.msg or 'target was not changed' in res.msg, res.msg
    _nothing_changed(case)


def test_damaged_ciphertext_without_fixed_up_checksum_fails_verification(encrypted_set, keys):
    case = encrypted_set
    data = stored_bytes(case['store'], case['record']['key'])
    with open(os.path.join(case['store']['path'], case['store']['prefix'], case['record']['key']), 'wb') as handle:
        handle.write(flipped(data))
    res = files_restore(case['store'], 'app', {'identity': keys.age_identity}, force=True)
    assert res.failed and 'failed verification' in res.msg, res
    _nothing_changed(case)


def test_wrong_identity_fails_up_front_naming_the_recipients(encrypted_set, keys):
    case = encrypted_set
    res = files_restore(case['store'], 'app', {'identity': keys.old_identity}, force=True)
    assert res.failed
    assert 'is not a recipient of what this restore reads' in res.msg
    assert 'X25519 %s (ops-2026)' % logic.fingerprint_x25519(keys.age_public) in res.msg
    assert 'ssh-ed25519 SHA256:' in res.msg and 'ed25519@lifeboat-test' in res.msg
    assert 'nothing was changed' in res.msg
    assert keys.old_identity.splitlines()[-1] not in res.stdout + res.stderr
    _nothing_changed(case)


def test_missing_identity(encrypted_set):
    case = encrypted_set
    res = files_restore(case['store'], 'app', force=True)
    assert res.failed and 'is encrypted with age for X25519' in res.msg and 'no identity was given' in res.msg, res
    _nothing_changed(case)


@pytest.mark.parametrize('problem', ['missing file', 'a directory', 'passphrase-protected', 'not a key'])
def test_unusable_identity_files(encrypted_set, workdir, problem):
    case = encrypted_set
    path = os.path.join(workdir, 'identity')
    if problem == 'a directory':
        os.mkdir(path)
    elif problem == 'passphrase-protected':
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', 'pass phrase', '-f', path], check=True)
    elif problem == 'not a key':
        with open(path, 'w') as handle:
            handle.write('my-database-password-123\n')
    res = files_restore(case['store'], 'app', {'identity_file': path}, force=True)
    assert res.failed
    expected = {'missing file': 'does not exist on this host', 'a directory': 'is a directory',
                'passphrase-protected': 'protected by a passphrase', 'not a key': 'line 1 is not an age secret key'}[problem]
    assert expected in res.msg, res.msg
    assert 'my-database-password' not in res.stdout + res.stderr
    _nothing_changed(case)


def test_private_key_as_recipient_is_refused_and_not_shown(workdir, keys, store_params):
    store = store_params('filesystem')
    src = os.path.join(workdir, 'app')
    make_tree(src)
    set_id = start_set(store)
    secret_line = [line for line in keys.age_identity.splitlines() if line.startswith('AGE-SECRET-KEY-')][0]
    res = files_backup(store, set_id, 'app', [src], [keys.ed_public, secret_line])
    assert res.failed and 'recipients[1] is an age private key (an identity), not a recipient' in res.msg, res
    assert secret_line not in res.stdout + res.stderr
    assert not any(key.endswith(('.age', '.zst')) for key in store_objects(store))


def test_plaintext_marker_is_in_a_plain_set_and_not_in_an_encrypted_one(workdir, keys, store_params):
    """The control shows the marker would be visible without encryption (compression none)."""
    store = store_params('filesystem')
    src = os.path.join(workdir, 'app')
    make_tree(src)
    set_id = start_set(store)
    plain = ok(files_backup(store, set_id, 'plain', [src], compression='none'))['record']
    sealed = ok(files_backup(store, set_id, 'sealed', [src], keys.recipients(), compression='none'))['record']
    commit_set(store, set_id)
    assert MARKER in stored_bytes(store, plain['key'])
    objects = store_objects(store)
    assert MARKER not in objects[sealed['key']]
    assert plain['encryption'] == 'none' and 'recipients' not in plain


def test_identity_never_shows_at_vvv_nor_in_store_or_temp_dirs(encrypted_set, keys, workdir, playbook):
    """A restore through ansible-playbook -vvv with the identity as a no_log variable; then the output, the store,
    the module's temp dir and Ansible's remote temp dir are searched for any line of any private key."""
    case = encrypted_set
    remote_tmp = os.path.join(workdir, 'remote-tmp')
    module_tmp = os.path.join(workdir, 'module-tmp')
    os.mkdir(module_tmp)
    dest = os.path.join(workdir, 'dest')
    os.mkdir(dest)
    res = playbook(os.path.join(HERE, 'restore_files.yml'), args=['-vvv'],
                   extra_vars={'store': case['store'], 'dest': dest, 'identity': keys.age_identity},
                   env={'ANSIBLE_REMOTE_TMP': remote_tmp, 'TMPDIR': module_tmp, 'ANSIBLE_PIPELINING': 'False'})
    assert res.rc == 0, res
    assert tree(os.path.join(dest, case['src'].lstrip('/'), 'conf'))   # restored
    leaks = [line for line in keys.secrets() if line in res.output]
    assert leaks == [], 'identity lines in the -vvv output'
    assert search(case['store']['path'], keys.secrets()) == []
    assert search(module_tmp, keys.secrets()) == []
    assert search(remote_tmp, keys.secrets()) == []
    # what a wrong identity prints at -vvv holds no key either
    res = playbook(os.path.join(HERE, 'restore_files.yml'), args=['-vvv'],
                   extra_vars={'store': case['store'], 'dest': dest, 'identity': keys.old_identity, 'force': True},
                   env={'ANSIBLE_REMOTE_TMP': remote_tmp, 'TMPDIR': module_tmp})
    assert res.rc != 0 and 'is not a recipient' in res.output
    assert [line for line in keys.secrets() if line in res.output] == []
    assert search(remote_tmp, keys.secrets()) == [] and search(module_tmp, keys.secrets()) == []


def test_postgresql_restore_with_tampered_dump_leaves_the_database(workdir, keys, pg_pair, store_params):
    source, target = pg_pair
    store = store_params('filesystem')
    set_id = start_set(store)
    args = {'store': store, 'set_id': set_id, 'host': HOST, 'databases': ['shop'], 'globals': False,
            'encryption': {'recipients': [keys.age_public]}, 'compression': 'none'}
    args.update(source.conn_params())
    record = ok(run_module('postgresql_backup', args))['records'][0]
    commit_set(store, set_id)
    target.psql("DROP DATABASE IF EXISTS shop_live; CREATE DATABASE shop_live;")
    target.psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');", db='shop_live')
    replace_artifact(store, set_id, record, flipped(stored_bytes(store, record['key'])))
    restore = {'store': store, 'host': HOST, 'rename': {'shop': 'shop_live'}, 'force': True, 'globals': False,
               'decryption': {'identity': keys.age_identity}}
    restore.update(target.conn_params())
    res = run_module('postgresql_restore', restore)
    assert res.failed, res
    assert 'age' in res.msg, res.msg
    assert target.q("SELECT v FROM kept", db='shop_live') == 'still here'
    assert [db for db in target.databases() if db.startswith('lifeboat_')] == []
    res = run_module('postgresql_restore', dict(restore, decryption={'identity': keys.old_identity}))
    assert res.failed and 'is not a recipient' in res.msg
    assert json.dumps(res.result).find(keys.old_identity.splitlines()[-1]) == -1
