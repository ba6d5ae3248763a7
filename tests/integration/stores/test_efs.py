# -*- coding: utf-8 -*-
"""The lifeboat.backup.efs role (entry points mount and unmount) through ansible-playbook.

There is no NFS server here (and no way to reach EFS), so the mount itself is not exercised: the checks
that follow it run against plain local directories standing in for the mount point, with two inventory
hosts on local connections (the second one optionally becoming another user). What is exercised of the
mount step: refusing a mount point that holds another file system, and a missing NFS client.
"""
import json
import os
import sys

import pytest

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'efs_check.yml')


def _inventory(workdir, hosts):
    path = os.path.join(workdir, 'inventory.yml')
    inv = {}
    for name, hv in hosts.items():
        inv[name] = dict({'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}, **hv)
    with open(path, 'w') as f:
        json.dump({'all': {'hosts': inv}}, f)       # JSON is YAML
    return path


def _run(playbook, workdir, hosts, extra):
    ev = dict(extra)
    return playbook(PLAYBOOK, inventory=_inventory(workdir, hosts), extra_vars=ev,
                    env={'ANSIBLE_SHELL_ALLOW_WORLD_READABLE_TEMP': 'True'})


def test_shared_writable_same_uid_passes(playbook, workdir):
    mp = os.path.join(workdir, 'efs')
    os.mkdir(mp)
    store = {'type': 'filesystem', 'path': mp + '/lifeboat'}
    efs = {'mount_point': mp, 'mount': False}
    r = _run(playbook, workdir, {'web1': {}, 'web2': {}}, {'lifeboat_store': store, 'lifeboat_efs': efs})
    assert r.rc == 0, r
    st = os.stat(store['path'])
    assert oct(st.st_mode & 0o777) == '0o700' and st.st_uid == os.getuid()
    assert os.listdir(store['path']) == []                 # probes removed
    assert 'Unmount the EFS file system mounted for this run' in r.output   # skipped: not mounted by us


def test_not_the_same_filesystem_on_every_host(playbook, workdir):
    a, b = os.path.join(workdir, 'a'), os.path.join(workdir, 'b')
    os.mkdir(a)
    os.mkdir(b)
    hosts = {h: {'lifeboat_efs': {'mount_point': d, 'mount': False},
                 'lifeboat_store': {'type': 'filesystem', 'path': d + '/lb'}} for h, d in (('web1', a), ('web2', b))}
    r = _run(playbook, workdir, hosts, {})
    assert r.rc != 0, r
    assert '%s/lb does not exist on web2 although web1 just created it: that path is not the same shared file ' \
        'system on every host' % b in r.output, r
    assert 'web1 does not see the probe files of web2 in %s/lb' % a in r.output, r
    assert 'Traceback' not in r.output


def test_different_uids_are_reported(playbook, workdir):
    mp = os.path.join(workdir, 'efs')
    os.mkdir(mp)
    os.chmod(mp, 0o1777)
    if not os.access('/usr/bin/python3', os.X_OK):
        pytest.skip('needs /usr/bin/python3 for the unprivileged host (the venv may not be readable by nobody)')
    # web2 becomes nobody (su works as root without sudo); it runs the system python, which nobody can read
    hosts = {'web1': {}, 'web2': {'ansible_become': True, 'ansible_become_method': 'su',
                                  'ansible_become_user': 'nobody', 'ansible_su_flags': '-s /bin/sh',
                                  'ansible_python_interpreter': '/usr/bin/python3'}}
    r = _run(playbook, workdir, hosts, {'lifeboat_store': {'type': 's3', 'bucket': 'x'},
                                        'lifeboat_efs': {'mount_point': mp, 'mount': False}})
    assert r.rc != 0, r
    assert 'the hosts write to %s as different users: web1=uid 0 (root), web2=uid 65534 (nobody)' % mp in r.output, r
    assert 'run backups and restores as the same uid' in r.output
    assert [n for n in os.listdir(mp) if n.startswith('.lifeboat-efs-probe-')] == []


def test_refusals_before_anything_is_written(playbook, workdir):
    """One run, three hosts, three refusals: a store path off the mount, a mount point holding another
    file system, and (when mount.nfs4 is absent) the missing NFS client."""
    fresh = os.path.join(workdir, 'mnt')
    mp = os.path.join(workdir, 'efs')
    os.mkdir(mp)
    s3 = {'type': 's3', 'bucket': 'x'}
    hosts = {'web1': {'lifeboat_efs': {'mount_point': '/proc', 'dns_name': '127.0.0.1'}, 'lifeboat_store': s3},
             'web2': {'lifeboat_efs': {'mount_point': fresh, 'file_system_id': 'fs-1', 'region': 'eu-west-1'},
                      'lifeboat_store': s3},
             'web3': {'lifeboat_efs': {'mount_point': mp, 'mount': False},
                      'lifeboat_store': {'type': 'filesystem', 'path': '/var/backups/elsewhere'}}}
    r = _run(playbook, workdir, hosts, {})
    assert r.rc != 0
    assert 'Traceback' not in r.output
    assert 'is not on the EFS mount point %s: backups would go to each host' % mp in r.output, r
    assert not os.path.exists('/var/backups/elsewhere')
    assert '/proc on web1 already holds proc, not the EFS file system 127.0.0.1:/' in r.output, r
    if os.path.exists('/sbin/mount.nfs4'):
        pytest.skip('mount.nfs4 is installed here: not trying a real NFS mount (no server)')
    assert 'mounting EFS on web2 needs the NFS client (mount.nfs4)' in r.output, r
    assert not os.path.exists(fresh)
