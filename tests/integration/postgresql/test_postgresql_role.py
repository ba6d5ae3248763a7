# -*- coding: utf-8 -*-
"""The PostgreSQL task files of the backup and restore roles, run through playbooks/backup.yml and restore.yml.

Backs up one server with lifeboat_postgresql (via the role: set started, records appended, set committed)
and restores onto a second, fresh server with lifeboat_postgresql / lifeboat_postgresql_restore.
"""
import json
import os

import pytest

from pgdata import _top_conftest, database_props, fingerprint

pytestmark = pytest.mark.usefixtures('pg_available')


def test_role_backup_then_restore_onto_another_server(pg_factory, fs_store):
    src = pg_factory()
    dst = pg_factory()
    src.psql("CREATE ROLE app_owner LOGIN PASSWORD 'x'; CREATE DATABASE \"app db\" OWNER app_owner;"
             "ALTER DATABASE \"app db\" SET work_mem TO '16MB'")
    src.psql("CREATE TABLE items AS SELECT g AS id, 'item ' || g AS name FROM generate_series(1, 5000) g;"
             "ALTER TABLE items OWNER TO app_owner", 'app db')
    run = _top_conftest().run_playbook
    r = run('backup.yml', extra_vars={'lifeboat_store': fs_store, 'lifeboat_label': 'pgrole',
                                      'lifeboat_postgresql': dict(src.conn_params(), exclude=['postgres'])})
    assert r.rc == 0, r
    sets = [s for s in os.listdir(fs_store['path']) if s.endswith('-pgrole')]
    assert len(sets) == 1
    with open(os.path.join(fs_store['path'], sets[0], 'manifest.json')) as f:
        manifest = json.load(f)
    dumped = sorted((a.get('extra') or {}).get('database', a['name']) for a in manifest['artifacts'])
    assert dumped == ['app db', 'globals']
    assert 'postgresql/globals' in manifest['components']['localhost']

    r = run('restore.yml', extra_vars={
        'lifeboat_store': fs_store, 'lifeboat_set_id': sets[0],
        'lifeboat_postgresql': dst.conn_params(),
        'lifeboat_postgresql_restore': {'rename': {'app db': 'app restored'}, 'jobs': 2}})
    assert r.rc == 0, r
    assert 'postgresql/globals' in r.output          # the restore summary lists what came back
    assert fingerprint(dst, 'app restored') == fingerprint(src, 'app db')
    assert database_props(dst, 'app restored') == database_props(src, 'app db')
    assert dst.q("SELECT count(*) FROM pg_roles WHERE rolname = 'app_owner'") == '1'
