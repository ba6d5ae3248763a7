# -*- coding: utf-8 -*-
"""Role settings through real playbook runs: inventory and -e beat what the roles and playbooks declare, the
store is checked before anything is written, profiles are complete, and failure messages say what is true.

Each test here fails on 0.1.0: list.yml and release_guard.yml set lifeboat_store / lifeboat_services as play
vars (which beat inventory group_vars), the awx profile's PostgreSQL settings were never read, the restore
failure message always claimed a guard, ``lifeboat_store.path: 123`` made a store relative to the module's
working directory, and snapshot.yml with nothing configured exited 0.
"""

import json
import os
import sys

import lb_files_helpers as h

LOCAL = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}


def _inventory_dir(root, group_vars, hosts=('localhost',)):
    """An inventory directory: hosts.yml plus group_vars/all.yml (JSON is YAML)."""
    d = root / 'inventory'
    (d / 'group_vars').mkdir(parents=True)
    (d / 'hosts.yml').write_text(json.dumps({'all': {'hosts': {name: dict(LOCAL) for name in hosts}}}))
    (d / 'group_vars' / 'all.yml').write_text(json.dumps(group_vars))
    return str(d)


def _src(root):
    os.makedirs(str(root))
    with open(os.path.join(str(root), 'f'), 'w') as f:
        f.write('content\n')
    return str(root)


def _run(playbook, inventory, **extra_vars):
    return h.run_playbook(playbook, inventory=inventory, extra_vars=extra_vars or None, env=h.ENV)


# ---------------------------------------------------------------- inventory and -e win (issue 10)

def test_list_playbook_lists_the_store_of_the_inventory_and_e_beats_it(scratch):
    configured, other = scratch / 'configured', scratch / 'other'
    sid = h.inprocess_set(configured, {'localhost': {'data': [_src(scratch / 'src')]}}, label='inventory')
    other_sid = h.inprocess_set(other, {'localhost': {'data': [str(scratch / 'src')]}}, label='extra')
    inv = _inventory_dir(scratch, {'lifeboat_store': h.store_spec(configured)})

    r = _run('list.yml', inv)
    assert r.rc == 0, r
    assert sid in r.stdout and other_sid not in r.stdout, r

    r = _run('list.yml', inv, lifeboat_store=h.store_spec(other))
    assert r.rc == 0, r
    assert other_sid in r.stdout and sid not in r.stdout, r


def test_release_guard_starts_the_services_of_the_inventory(scratch):
    guard = scratch / 'restore.guard'
    guard.write_text('left by a failed restore\n')
    service = 'lifeboat-test-no-such-service-%s' % os.urandom(3).hex()
    inv = _inventory_dir(scratch, {'lifeboat_services': [service], 'lifeboat_guard_path': str(guard)})
    r = _run('release_guard.yml', inv)
    # the guard is lowered, then the inventory's service is started: it does not exist here, which proves it was
    # the one tried (0.1.0 started the play's empty list and reported success)
    assert not guard.exists()
    assert r.rc != 0, r
    assert 'TASK [lifeboat.backup.restore : Start application services]' in r.stdout
    assert service in r.output, r


# ---------------------------------------------------------------- restore failure messages say what is true

def _tampered_set(scratch):
    src = _src(scratch / 'src')
    store = scratch / 'store'
    sid = h.inprocess_set(store, {'localhost': {'data': [src]}})
    rec = h.the_artifact(store, sid)
    with open(os.path.join(str(store), rec['key']), 'r+b') as f:   # same size: the preflight's size check passes
        f.seek(rec['size'] // 2)
        b = f.read(1)
        f.seek(rec['size'] // 2)
        f.write(bytes([b[0] ^ 0xff]))
    return store, sid


def test_failed_restore_without_services_says_no_guard_was_raised(scratch):
    store, sid = _tampered_set(scratch)
    guard = scratch / 'restore.guard'
    r = h.restore(store, lifeboat_restore_dest=str(scratch / 'dest'), lifeboat_guard_path=str(guard))
    assert r.rc != 0, r
    final = h.final_msg(r)
    assert final.startswith('The restore of set %s FAILED on localhost (Restore files: artifact ' % sid), final
    assert 'No services were stopped and no guard was raised (no host of this play has lifeboat_services)' in final
    assert 'behind the guard' not in final and 'release_guard' not in final
    assert not guard.exists()


def test_failed_restore_with_services_names_the_guard_and_its_hosts(scratch):
    store, sid = _tampered_set(scratch)
    guard = scratch / 'restore.guard'
    service = 'lifeboat-test-no-such-service-%s' % os.urandom(3).hex()
    r = h.restore(store, lifeboat_restore_dest=str(scratch / 'dest'), lifeboat_guard_path=str(guard),
                  lifeboat_services=[service])
    assert r.rc != 0, r
    final = h.final_msg(r)
    assert final.startswith('The restore of set %s FAILED on localhost (Stop application services: ' % sid), final
    assert 'Services stay stopped behind the guard %s on localhost so nothing starts half-restored' % guard in final
    assert 'playbooks/release_guard.yml' in final and 'No services were stopped' not in final
    assert guard.exists()


# ---------------------------------------------------------------- the store is checked before anything runs

def test_a_store_path_that_is_a_number_is_refused_before_anything_is_written(scratch):
    src = _src(scratch / 'src')
    cwd = scratch / 'cwd'
    cwd.mkdir()
    r = h.run_playbook('backup.yml', extra_vars={'lifeboat_store': {'type': 'filesystem', 'path': 123},
                                                 'lifeboat_files': [{'name': 'data', 'paths': [src]}]},
                       env=h.ENV, cwd=str(cwd))
    assert r.rc != 0, r
    assert h.final_msg(r) == ('lifeboat_store.path must be text (quote the value in YAML): a number here would '
                              'become a relative path or a wrong name')
    assert 'Start a new backup set' not in r.stdout
    assert os.listdir(str(cwd)) == []


def test_a_relative_store_path_is_refused(scratch):
    r = h.run_playbook('list.yml', extra_vars={'lifeboat_store': {'type': 'filesystem', 'path': 'backups'}},
                       env=h.ENV, cwd=str(scratch))
    assert r.rc != 0, r
    assert h.final_msg(r).startswith('lifeboat_store.path backups is not an absolute path'), r
    assert not (scratch / 'backups').exists()


def test_store_options_are_typed_per_type_and_secrets_stay_hidden(scratch):
    secret = 'S3cr3t-%s' % os.urandom(4).hex()
    cases = [
        ({'type': 'nfs', 'path': '/x'}, 'value of type must be one of: filesystem, s3, sftp, got: nfs'),
        ({'type': 's3'}, 'type is s3 but all of the following are missing: bucket'),
        ({'type': 'sftp', 'path': '/srv'}, 'type is sftp but all of the following are missing: host'),
        ({'type': 's3', 'bucket': 'b', 'secret_key': secret, 'concurrency': 'many'}, "'concurrency' is of type"),
        ({'type': 'filesystem', 'path': '/x', 'bucket_name': 'b'}, 'bucket_name'),
    ]
    for store, expect in cases:
        r = h.run_playbook('list.yml', extra_vars={'lifeboat_store': store}, env=h.ENV, args=['-vvv'])
        assert r.rc != 0, (store, r)
        assert 'Validating arguments against arg spec' in r.stdout
        assert expect in r.output, (store, r)
        assert secret not in r.output, (store, r)
        assert 'TASK [lifeboat.backup.restore : Read the store]' not in r.stdout


# ---------------------------------------------------------------- profiles are complete

def test_awx_profile_reaches_for_its_database_without_lifeboat_postgresql(scratch):
    # 0.1.0 read __lifeboat_profile_postgresql nowhere: this run completed a set without AWX's database. Now the
    # preflight checks the profile's server (no PostgreSQL here answers as it: socket /var/run/postgresql, port
    # 5432, database awx) and refuses before anything starts, so no set can lack the database.
    store = scratch / 'store'
    r = h.backup(store, [{'name': 'data', 'paths': [_src(scratch / 'src')]}], lifeboat_profile='awx')
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('Preflight failed, nothing was started (no set, no lock): localhost: PostgreSQL: '), msg
    sets = h.lifecycle.list_sets(h.fs_store(store)) if store.exists() else []
    completed = [s for s in sets if s['status'] == 'completed']
    assert all('postgresql/awx' in s['components'].get('localhost', []) for s in completed), sets


def test_postgresql_enabled_false_leaves_the_profiles_database_out(scratch):
    store = scratch / 'store'
    r = h.backup(store, [{'name': 'data', 'paths': [_src(scratch / 'src')]}], lifeboat_profile='awx',
                 lifeboat_postgresql={'enabled': False})
    assert r.rc == 0, r
    (s,) = h.lifecycle.list_sets(h.fs_store(store))
    assert s['status'] == 'completed' and s['components'] == {'localhost': ['files/data']}, s


def test_chef_profile_says_what_postgresql_needs(scratch):
    store = scratch / 'store'
    r = h.backup(store, [{'name': 'data', 'paths': [_src(scratch / 'src')]}], lifeboat_profile='chef_automate_ha')
    assert r.rc != 0, r
    assert h.final_msg(r).startswith('profile chef_automate_ha backs up a PostgreSQL server that needs '
                                     'lifeboat_postgresql.login_host on localhost'), r
    assert not store.exists()


# ---------------------------------------------------------------- snapshot.yml with nothing to do

def test_snapshot_playbook_with_nothing_configured_fails(scratch):
    store = scratch / 'store'
    r = h.run_playbook('snapshot.yml', extra_vars={'lifeboat_store': h.store_spec(store)}, env=h.ENV)
    assert r.rc != 0, r
    assert h.final_msg(r).startswith('No host of this play has lifeboat_snapshot set (and enabled): nothing would '
                                     'be snapshotted'), r
    assert not store.exists()
