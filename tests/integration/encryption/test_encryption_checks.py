# -*- coding: utf-8 -*-
"""Encryption beyond the round trip: incremental entries (the snapshot file is encrypted too, so a host without an
identity archives a full instead of an increment), full verification and drills of encrypted sets through the
lifecycle playbooks (with the identity, without one, with a wrong one), and the backup preflight refusing unusable
recipients before any set is started. Real modules and playbooks, real tar and age, a filesystem store.

The files_backup module has no incremental option on this branch (issue 16 adds it): the incremental cases call the
files backup flow in-process, as tests/integration/files/test_files_incremental_chains.py does."""

import json
import os
import time

import pytest

from enclib import (HOST, MARKER, commit_set, files_restore, make_tree, ok, open_store, role_backup, start_set,
                    store_objects, stored_bytes, tree)

from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as flow

ENV = {'ANSIBLE_PIPELINING': 'True'}


def _incremental(store, src, recipients=None):
    """One set holding the incremental entry ``app`` of ``src`` (committed): the flow's result."""
    set_id = start_set(store)
    encryption = age.for_backup({'recipients': list(recipients)}) if recipients else None
    with open_store(store) as opened:
        result = flow.backup(opened, set_id, HOST, 'app', [src], incremental_mode=True, encryption=encryption)
    commit_set(store, set_id)
    time.sleep(1)   # the next set id is a later second
    return result


def test_encrypted_snapshot_files_make_every_run_a_full(workdir, keys, store_params):
    store = store_params('filesystem')
    src = os.path.join(workdir, 'app')
    make_tree(src)
    first = _incremental(store, src, [keys.age_public])
    snar = first['snapshot']
    assert snar['encryption'] == 'age' and snar['key'].endswith('/files/app.snar.zst.age')
    assert [entry['fingerprint'] for entry in snar['recipients']] == [entry['fingerprint'] for entry in first['record']['recipients']]
    # the snapshot file lists every name of the tree: it must not show them in the store
    assert b'secret.env' not in stored_bytes(store, snar['key'])
    with open(os.path.join(src, 'conf', 'new.txt'), 'w') as handle:
        handle.write('added after the first set\n')
    second = _incremental(store, src, [keys.age_public])
    assert second['incremental']['level'] == 0
    assert 'is encrypted with age' in second['incremental']['reason'] and 'hold no identity' in second['incremental']['reason']
    assert any('archived as a full (level 0) instead of an increment' in text and 'encrypted with age' in text
               for text in second['tar_warnings'])
    dest = os.path.join(workdir, 'dest')
    os.mkdir(dest)
    ok(files_restore(store, 'app', {'identity': keys.age_identity}, dest=dest))
    assert tree(os.path.join(dest, src.lstrip('/'))) == tree(src)


def test_a_plain_chain_continued_with_encryption_restores_with_the_identity(workdir, keys, store_params):
    """Encryption turned on mid-chain: the base's snapshot file is plain, so the next set is an increment (encrypted,
    with an encrypted snapshot file); its restore reads both levels and needs the identity up front; the set after
    it is a full again."""
    store = store_params('filesystem')
    src = os.path.join(workdir, 'app')
    make_tree(src)
    _incremental(store, src)
    with open(os.path.join(src, 'conf', 'new.txt'), 'w') as handle:
        handle.write('added in level 1\n')
    os.unlink(os.path.join(src, 'conf', 'f3.json'))
    level1 = _incremental(store, src, [keys.ed_public])
    assert level1['incremental']['level'] == 1
    assert level1['record']['encryption'] == 'age' and level1['snapshot']['encryption'] == 'age'
    dest = os.path.join(workdir, 'dest')
    os.mkdir(dest)
    missing = files_restore(store, 'app', dest=dest)
    assert missing.failed and 'no identity was given' in missing.msg and os.listdir(dest) == []
    restored = ok(files_restore(store, 'app', {'identity_file': keys.ed_path}, dest=dest))
    assert [step['deletions_from'] for step in restored['chain'][1:]] == ['snapshot file']
    assert tree(os.path.join(dest, src.lstrip('/'))) == tree(src)
    assert not os.path.exists(os.path.join(dest, src.lstrip('/'), 'conf', 'f3.json'))
    assert _incremental(store, src, [keys.ed_public])['incremental']['level'] == 0


# ---------------------------------------------------------------- verify full and drills (playbooks)

def _inventory(workdir):
    path = os.path.join(workdir, 'hosts.ini')
    with open(path, 'w') as handle:
        handle.write('[all]\nlocalhost ansible_connection=local\n')
    return path


def _extra(workdir, name, data):
    path = os.path.join(workdir, name)
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return ['-e', '@' + path]


@pytest.fixture
def encrypted_backup(workdir, keys, playbook):
    store, src = role_backup(playbook, workdir, [keys.age_public + ' ops-2026'], env=ENV)
    return {'store': store, 'src': src}


def test_verify_full_decrypts_with_the_identity_and_checks_ciphertext_without(workdir, keys, playbook, encrypted_backup):
    base = {'lifeboat_store': encrypted_backup['store'], 'lifeboat_verify_level': 'full'}
    res = playbook('verify.yml', inventory=_inventory(workdir), env=ENV, args=['-v'] + _extra(workdir, 'v1.json', dict(
        base, lifeboat_encryption={'identity': keys.age_identity})))
    assert res.rc == 0, res
    assert [line for line in keys.secrets() if line in res.output] == []
    assert 'only the ciphertext was checked' not in res.output
    res = playbook('verify.yml', inventory=_inventory(workdir), env=ENV, args=['-v'] + _extra(workdir, 'v2.json', base))
    assert res.rc == 0, res
    assert 'no identity was given' in res.output and 'only the ciphertext was checked' in res.output
    res = playbook('verify.yml', inventory=_inventory(workdir), env=ENV, args=_extra(workdir, 'v3.json', dict(
        base, lifeboat_encryption={'identity': keys.old_identity})))
    assert res.rc != 0
    assert 'is not a recipient of what this restore reads' in res.output and '(ops-2026)' in res.output


def test_drill_of_an_encrypted_set(workdir, keys, playbook, encrypted_backup):
    base = {'lifeboat_store': encrypted_backup['store'], 'lifeboat_drill_dir': os.path.join(workdir, 'drills'),
            'lifeboat_drill_components': ['files']}
    os.mkdir(base['lifeboat_drill_dir'])
    res = playbook('drill.yml', inventory=_inventory(workdir), env=ENV, args=['-vvv'] + _extra(workdir, 'd1.json', dict(
        base, lifeboat_encryption={'identity': keys.age_identity, 'recipients': [keys.age_public]})))
    assert res.rc == 0, res
    assert [line for line in keys.secrets() if line in res.output] == []
    res = playbook('drill.yml', inventory=_inventory(workdir), env=ENV, args=_extra(workdir, 'd2.json', base))
    assert res.rc != 0
    assert 'no identity was given' in res.output
    assert os.listdir(base['lifeboat_drill_dir']) == []   # the scratch directory is removed in every path
    assert MARKER not in b''.join(data for key, data in store_objects(encrypted_backup['store']).items() if '/files/' in key)


def test_preflight_refuses_unusable_recipients_before_a_set_starts(workdir, keys, playbook):
    store = {'type': 'filesystem', 'path': os.path.join(workdir, 'store')}
    src = os.path.join(workdir, 'app')
    make_tree(src)
    secret_line = [line for line in keys.age_identity.splitlines() if line.startswith('AGE-SECRET-KEY-')][0]
    res = playbook('backup.yml', env=ENV, args=['-vvv'], extra_vars={
        'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
        'lifeboat_encryption': {'recipients': [keys.ed_public, secret_line]}})
    assert res.rc != 0
    assert 'Preflight failed, nothing was started' in res.output
    assert 'encryption: recipients[1] is an age private key (an identity), not a recipient' in res.output
    assert secret_line not in res.output
    assert not os.path.exists(store['path']) or store_objects(store) == {} or \
        not any('/files/' in key for key in store_objects(store))
    res = playbook('backup.yml', env=ENV, extra_vars={
        'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
        'lifeboat_encryption': {'recipients_file': os.path.join(workdir, 'no-such-file')}})
    assert res.rc != 0 and 'recipients_file %s does not exist on this host' % os.path.join(workdir, 'no-such-file') in res.output
