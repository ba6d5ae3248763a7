# -*- coding: utf-8 -*-
"""Check-mode plans of postgresql_backup and postgresql_restore against a real PostgreSQL server.

Check mode of these modules connects (it asks the server which databases there are, whether it is a standby,
which versions the tools have), so there is no plan without a server: the throwaway servers of the
integration tests (tests/integration/postgresql/pgserver.py) are used, one for this file.
"""

import importlib.util
import pathlib

import pytest

from lb_module_runner import have_tools, tree

PGSERVER = pathlib.Path(__file__).resolve().parents[3] / 'integration' / 'postgresql' / 'pgserver.py'


def _pgserver():
    spec = importlib.util.spec_from_file_location('lifeboat_unit_pgserver', str(PGSERVER))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pgserver = _pgserver()
pytestmark = [pytest.mark.skipif(bool(pgserver.available()), reason=str(pgserver.available())),
              pytest.mark.skipif(not have_tools('zstd'), reason='needs zstd')]
pytest.importorskip('psycopg2')


@pytest.fixture(scope='module')
def server():
    root = pgserver.base_dir()
    s = pgserver.PgServer(root, name='unit-modules')
    try:
        s.init().start()
        s.psql('CREATE DATABASE app; CREATE DATABASE other')
        s.psql('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g', 'app')
        yield s
    finally:
        s.destroy()
        pgserver.shutil.rmtree(str(root), ignore_errors=True)


def test_postgresql_backup_in_check_mode_lists_what_it_would_dump(run_module, store, server):
    r = run_module('backup_set', {'store': store, 'state': 'started'})
    set_id = r['set_id']
    before = tree(store['path'])
    args = dict(server.conn_params(), store=store, set_id=set_id, host='db1', databases=['app'])
    r = run_module('postgresql_backup', args, check=True)
    assert r['rc'] == 0 and r['changed'] and r['records'] == [], r
    dumped = {d['name']: d['dump'] for d in r['databases']}
    assert dumped == {'app': True, 'other': False, 'postgres': False}, r['databases']
    assert r['in_recovery'] is False and r['server_version'].startswith(pgserver.PG_MAJOR)
    assert tree(store['path']) == before
    r = run_module('postgresql_backup', dict(args, databases=['nope']), check=True)
    assert r.failed and 'nope' in r['msg'], r


def test_postgresql_restore_in_check_mode_plans_each_database(run_module, store, server):
    set_id = run_module('backup_set', {'store': store, 'state': 'started'})['set_id']
    r = run_module('postgresql_backup', dict(server.conn_params(), store=store, set_id=set_id, host='db1',
                                             databases=['app']))
    assert r['rc'] == 0, r
    r = run_module('backup_set', {'store': store, 'state': 'committed', 'set_id': set_id, 'hosts': ['db1'],
                                  'expect': {'db1': ['postgresql/app', 'postgresql/globals']}})
    assert r['status'] == 'completed', r
    before = tree(store['path'])
    databases = server.databases()
    args = dict(server.conn_params(), store=store, set_id=set_id, host='db1')
    r = run_module('postgresql_restore', dict(args, rename={'app': 'app_restored'}), check=True)
    assert r['rc'] == 0 and r['changed'], r
    (plan,) = r['databases']
    assert (plan['database'], plan['target'], plan['action'], plan['exists']) == ('app', 'app_restored', 'create', False)
    assert r['would_drop'] == [] and r['globals']['restore'] is True
    # the existing, non-empty database is refused without force, named in the message, also in check mode
    r = run_module('postgresql_restore', args, check=True)
    assert r.failed and 'app' in r['msg'] and 'force' in r['msg'], r
    assert server.databases() == databases and tree(store['path']) == before
