# -*- coding: utf-8 -*-
"""The roles with lifeboat_encryption: backup.yml encrypts every component to the recipients and never sends an
identity to the modules; restore.yml decrypts with identity or identity_file (a wrong one fails in the preflight,
before any service is stopped); the awx and chef_automate_ha profiles warn when encryption is off."""

import json
import os

from enclib import MARKER, make_tree, role_backup, search, stored_bytes, tree

from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic

ENV = {'ANSIBLE_PIPELINING': 'True'}


def _store(workdir):
    return {'type': 'filesystem', 'path': os.path.join(workdir, 'store')}


def _records(store):
    manifests = []
    for dirpath, _dirs, files in os.walk(store['path']):
        manifests += [os.path.join(dirpath, name) for name in files if name == 'manifest.json']
    assert len(manifests) == 1, manifests
    with open(manifests[0]) as handle:
        return json.load(handle)['artifacts']


def test_backup_and_restore_roles_with_encryption(playbook, keys, workdir):
    store = _store(workdir)
    src = os.path.join(workdir, 'app')
    make_tree(src)
    recipients_file = os.path.join(workdir, 'recipients')
    with open(recipients_file, 'w') as handle:
        handle.write('# rsa of the ops team\n%s\n' % keys.rsa_public)
    res = playbook('backup.yml', env=ENV, args=['-v'], extra_vars={
        'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
        'lifeboat_encryption': {'recipients': [keys.age_public + ' ops-2026'], 'recipients_file': recipients_file,
                                'identity': keys.age_identity}})
    assert res.rc == 0, res
    # the backup never hands the identity to a module, even when the variable holds one
    assert [line for line in keys.secrets() if line in res.output] == []
    records = _records(store)
    assert [r['encryption'] for r in records] == ['age']
    assert [r['fingerprint'] for r in records[0]['recipients']] == [
        logic.fingerprint_x25519(keys.age_public), logic.parse_recipient(keys.rsa_public, 'x').fingerprint]
    assert MARKER not in stored_bytes(store, records[0]['key'])
    assert 'encryption is off' not in res.output
    for decryption in ({'identity': keys.rsa_identity}, {'identity_file': keys.age_path}):
        dest = os.path.join(workdir, 'dest-%s' % sorted(decryption)[0])
        os.mkdir(dest)
        res = playbook('restore.yml', env=ENV, args=['-vvv'], extra_vars={
            'lifeboat_store': store, 'lifeboat_restore_dest': dest, 'lifeboat_guard_path': os.path.join(workdir, 'guard'),
            'lifeboat_encryption': dict(decryption, recipients=[keys.age_public])})
        assert res.rc == 0, res
        assert tree(os.path.join(dest, src.lstrip('/'))) == tree(src)
        assert [line for line in keys.secrets() if line in res.output] == []
    assert search(store['path'], keys.secrets()) == []


def test_restore_role_with_a_wrong_identity_fails_in_the_preflight(playbook, keys, workdir):
    store, _src = role_backup(playbook, workdir, [keys.age_public + ' ops-2026'], env=ENV)
    dest = os.path.join(workdir, 'dest')
    os.mkdir(dest)
    res = playbook('restore.yml', env=ENV, extra_vars={
        'lifeboat_store': store, 'lifeboat_restore_dest': dest, 'lifeboat_guard_path': os.path.join(workdir, 'guard'),
        'lifeboat_encryption': {'identity': keys.old_identity}})
    assert res.rc != 0
    assert 'is not a recipient of what this restore reads' in res.output and '(ops-2026)' in res.output
    assert os.listdir(dest) == []
    assert not os.path.exists(os.path.join(workdir, 'guard'))   # failed before the guard went up
    res = playbook('restore.yml', env=ENV, extra_vars={
        'lifeboat_store': store, 'lifeboat_restore_dest': dest, 'lifeboat_guard_path': os.path.join(workdir, 'guard')})
    assert res.rc != 0 and 'no identity was given' in res.output
    assert os.listdir(dest) == []


def test_awx_profile_warns_when_encryption_is_off(playbook, keys, workdir):
    src = os.path.join(workdir, 'app')
    make_tree(src)
    common = {'lifeboat_store': _store(workdir), 'lifeboat_profile': 'awx', 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
              'lifeboat_postgresql': {'enabled': False}}
    res = playbook('backup.yml', env=ENV, extra_vars=common)
    assert res.rc == 0, res
    assert 'encryption is off' in res.output and 'awx' in res.output
    res = playbook('backup.yml', env=ENV, extra_vars=dict(common, lifeboat_encryption={'recipients': [keys.ed_public]}))
    assert res.rc == 0, res
    assert 'encryption is off' not in res.output
