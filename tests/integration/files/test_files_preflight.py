# -*- coding: utf-8 -*-
"""The backup preflight (module backup_preflight, run by the backup role on every host before the set starts):
a bad configuration fails the run with one message naming every host and problem, and leaves no set and no lock.

0.1.0 had no preflight: it took the lock, started the set, and failed host by host at the first component that
tripped over the problem, leaving a failed set behind; a store that could not be reached was only tried by the
first host of the play, at the start, and only that host's problem was named. (A read-only store and a missing
path: test_files_faults.py and test_files_multihost.py; a PostgreSQL server that refuses the login:
tests/integration/postgresql.)
"""

import os

from awslib import free_port

import lb_files_helpers as h


def _src(root):
    os.makedirs(str(root))
    with open(os.path.join(str(root), 'f'), 'w') as f:
        f.write('content\n')
    return str(root)


def _nothing_started(r, store=None):
    assert 'TASK [lifeboat.backup.backup : Start a new backup set' not in r.stdout, r
    if store is not None:
        assert not os.path.exists(str(store)) or h.store_objects(store) == [], h.store_objects(store)


def test_every_host_and_problem_in_one_message(scratch):
    a = _src(scratch / 'a')
    missing = str(scratch / 'missing')
    store = scratch / 'store'
    inv = h.inventory(scratch / 'hosts.yml', {
        'h1': {'lifeboat_files': [{'name': 'app', 'paths': [a, missing]}]},
        'h2': {'lifeboat_postgresq': {'port': 5432}},
        'h3': {'lifeboat_files': [{'name': 'app', 'paths': [a]}, {'name': 'app', 'paths': [a]},
                                  {'name': 'logs', 'paths': [a], 'level': 42}]},
        'h4': {'lifeboat_files': [{'name': 'fine', 'paths': [a]}]},
    })
    r = h.backup(store, None, inventory=inv)
    assert r.rc != 0, r
    assert h.final_msg(r) == (
        'Preflight failed, nothing was started (no set, no lock): '
        'h1: files entry app: %s does not exist on this host; '
        'h2 has nothing to back up: no lifeboat_files, lifeboat_postgresql, lifeboat_opensearch or lifeboat_snapshot (did you mean '
        'lifeboat_postgresql? it has lifeboat_postgresq). Give it something to back up, leave it out of the play, or '
        'set lifeboat_allow_empty_hosts: true; '
        'h3: lifeboat_files has two entries named app (entries 1 and 2): each would write files/app, and only one can '
        'be kept. Give each entry its own name; h3: zstd level must be 1..22, got 42' % missing)
    _nothing_started(r, store)


def _path_without(tools, where):
    """A directory of links to every program on this PATH except ``tools``: a host without them."""
    where.mkdir()
    for d in os.environ.get('PATH', '/usr/bin:/bin').split(':') + ['/usr/sbin', '/sbin']:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = os.path.join(d, name)
            link = where / name
            if name in tools or os.path.lexists(str(link)) or not os.access(target, os.X_OK):
                continue
            os.symlink(target, str(link))
    return str(where)


def test_missing_zstd(scratch):
    src = _src(scratch / 'src')
    store = scratch / 'store'
    path = _path_without({'zstd', 'zstdmt', 'unzstd', 'zstdcat', 'pzstd'}, scratch / 'bin')
    r = h.run_playbook('backup.yml', extra_vars={'lifeboat_store': h.store_spec(store),
                                                 'lifeboat_files': [{'name': 'data', 'paths': [src]}]},
                       env=dict(h.ENV, PATH=path))
    assert r.rc != 0, r
    assert h.final_msg(r) == ('Preflight failed, nothing was started (no set, no lock): localhost: zstd is needed for '
                              'zstd compression but is not installed on this host (see bindep.txt)')
    _nothing_started(r, store)


def _two_hosts(scratch, stores, src):
    """Two hosts, each with its own view of the store (a firewall, a wrong endpoint on one of them)."""
    return h.inventory(scratch / 'hosts.yml', {
        name: {'lifeboat_store': store, 'lifeboat_files': [{'name': 'data', 'paths': [src]}]}
        for name, store in stores.items()})


def test_unreachable_s3_endpoint(scratch):
    src = _src(scratch / 'src')
    ports = {'h1': free_port(), 'h2': free_port()}
    stores = {host: {'type': 's3', 'bucket': 'lifeboat-preflight', 'endpoint_url': 'http://127.0.0.1:%d' % port,
                     'region': 'us-east-1', 'access_key': 'AKIAPREFLIGHT', 'secret_key': 'preflight-secret',
                     'max_attempts': 1, 'timeout': 3} for host, port in ports.items()}
    r = h.run_playbook('backup.yml', inventory=_two_hosts(scratch, stores, src), env=h.ENV)
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('Preflight failed, nothing was started (no set, no lock): h1: store: cannot reach the S3 '
                          'endpoint at http://127.0.0.1:%d while trying to list ' % ports['h1']), msg
    assert ('; h2: store: cannot reach the S3 endpoint at http://127.0.0.1:%d while trying to list ' % ports['h2']) in msg
    assert 'the connection failed after 1 attempt (EndpointConnectionError)' in msg
    assert 'preflight-secret' not in r.output
    _nothing_started(r)


def test_unreachable_sftp_port(scratch):
    src = _src(scratch / 'src')
    ports = {'h1': free_port(), 'h2': free_port()}
    stores = {host: {'type': 'sftp', 'host': '127.0.0.1', 'port': port, 'user': 'lifeboat', 'password': 'preflight-secret',
                     'path': '/srv/lifeboat', 'timeout': 5} for host, port in ports.items()}
    r = h.run_playbook('backup.yml', inventory=_two_hosts(scratch, stores, src), env=h.ENV)
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('Preflight failed, nothing was started (no set, no lock): h1: store: cannot connect to '
                          'the SFTP server 127.0.0.1:%d' % ports['h1']), msg
    assert '; h2: store: cannot connect to the SFTP server 127.0.0.1:%d' % ports['h2'] in msg
    assert 'preflight-secret' not in r.output
    _nothing_started(r)


def test_check_mode_preflight_writes_nothing(scratch):
    src = _src(scratch / 'src')
    store = scratch / 'store'
    r = h.backup(store, [{'name': 'data', 'paths': [src]}], check=True)
    assert r.rc == 0, r
    assert not os.path.exists(str(store))
