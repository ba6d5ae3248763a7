# -*- coding: utf-8 -*-
"""postgresql_backup / postgresql_restore round trips against real PostgreSQL 15 servers, through ansible-playbook.

One backup of the dataset (pgdata.py: exotic names, schemas, large objects, sequences, views, functions,
triggers, hstore + pgcrypto, roles with grants and memberships, database-level settings/ACL/comment,
1M-row table) is shared by the tests of this module; each restore is compared by content fingerprints.
"""
import json
import os

import pytest

from pgdata import EXOTIC, MIXED, PLAIN, database_props, fingerprint, roles_fingerprint, set_status

pytestmark = pytest.mark.usefixtures('pg_available')


def _db_entry(out, name):
    return [d for d in out['restore']['databases'] if d['database'] == name][0]


def test_backup_records_and_discovery(backed_up):
    store, out, src_fp = backed_up
    b = out['backup']
    names = sorted(r['extra'].get('database', r['name']) for r in b['records'])
    assert names == sorted([EXOTIC, MIXED, PLAIN, 'postgres', 'globals'])
    assert b['in_recovery'] is False and b['server_version_num'] >= 150000
    assert set_status(store, out['set_id']) == 'completed'
    rec = [r for r in b['records'] if r['extra'].get('database') == EXOTIC][0]
    assert rec['name'] != EXOTIC and '@' in rec['name']                  # encoded, real name in extra
    x = rec['extra']
    assert x['pg_dump_version'].startswith('pg_dump (PostgreSQL) 15')
    assert x['server_version_num'] == b['server_version_num'] and x['database_size'] > 40 * 1024 * 1024
    assert x['tables']['"public"."big"']['rows_estimate'] > 900000
    assert x['properties']['owner'] == 'alice'
    assert rec['format'] == 'pg_dump-custom' and rec['compression'] == 'zstd' and rec['key'].endswith('.pgdump.zst')
    mixed = [r for r in b['records'] if r['extra'].get('database') == MIXED][0]['extra']['properties']
    assert mixed['connlimit'] == 7 and mixed['comment'] == "it's mixed" and mixed['acl'] is not None
    g = [r for r in b['records'] if r['name'] == 'globals'][0]
    assert g['format'] == 'pg_dumpall-globals-sql' and g['extra']['role_passwords'] is True
    # the password never reaches the records or the output
    assert 'alice-pw' not in json.dumps(b) and 'alice-pw' not in out.run.output


def test_restore_onto_fresh_server_with_globals(backed_up, pg_fresh, pg_restore, pg_src):
    store, out, src_fp = backed_up
    # check mode first: reports, changes nothing
    chk = pg_restore(store, pg_fresh, check=True, set_id=out['set_id'])
    assert chk['ok'], chk.run
    assert sorted(d['target'] for d in chk['restore']['databases']) == sorted([EXOTIC, MIXED, PLAIN, 'postgres'])
    assert _db_entry(chk, EXOTIC)['action'] == 'create' and chk['restore']['would_drop'] == ['postgres']
    assert sorted(pg_fresh.databases()) == ['postgres']
    assert 'alice' not in pg_fresh.q("SELECT string_agg(rolname, ',') FROM pg_roles")

    r = pg_restore(store, pg_fresh, set_id=out['set_id'])
    assert r['ok'], r.run
    assert r['restore']['globals']['restored'] is True
    assert roles_fingerprint(pg_fresh) == roles_fingerprint(pg_src)
    for db in (EXOTIC, MIXED, PLAIN):
        assert fingerprint(pg_fresh, db) == src_fp[db], db
        assert database_props(pg_fresh, db) == database_props(pg_src, db), db
    assert not [d for d in pg_fresh.databases() if d.startswith('lifeboat_')]
    # alice can log in with her restored password over TCP to the restored database? (trust server: check the hash)
    assert pg_fresh.q("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'") == \
        pg_src.q("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")


def test_restore_under_new_name_and_refusal_without_force(backed_up, pg_src, pg_restore):
    store, out, src_fp = backed_up
    # same server, new name: existing roles are kept, nothing else is touched
    r = pg_restore(store, pg_src, set_id=out['set_id'], databases=[EXOTIC], target_database='copy of ü "x"')
    assert r['ok'], r.run
    assert _db_entry(r, EXOTIC)['target'] == 'copy of ü "x"'
    assert fingerprint(pg_src, 'copy of ü "x"') == src_fp[EXOTIC]
    props = database_props(pg_src, 'copy of ü "x"')
    assert props['owner'] == 'alice'

    # over the original, which is not empty: refused, naming it, changing nothing
    pg_src.psql("INSERT INTO t VALUES (100001, 'changed')", PLAIN)
    r = pg_restore(store, pg_src, set_id=out['set_id'], databases=[PLAIN, MIXED], globals=False)
    assert not r['ok']
    assert 'nothing was restored' in r['msg'] and '"plain" on the target is not empty' in r['msg']
    assert 'set force' in r['msg']
    assert pg_src.q("SELECT s FROM t WHERE id = 100001", PLAIN) == 'changed'

    # with force: replaced by the dump (swap), the extra row is gone, the copy is untouched
    r = pg_restore(store, pg_src, set_id=out['set_id'], databases=[PLAIN], globals=False, force=True, jobs=2)
    assert r['ok'], r.run
    e = _db_entry(r, PLAIN)
    assert e['action'] == 'replace' and e['replaced'] is True and r['restore']['would_drop'] == [PLAIN]
    assert pg_src.q("SELECT count(*) FROM t WHERE id = 100001", PLAIN) == '0'
    assert fingerprint(pg_src, PLAIN) == src_fp[PLAIN]
    assert not [d for d in pg_src.databases() if d.startswith('lifeboat_')]

    # force_method clean: in place with pg_restore --clean --if-exists; extra objects survive
    pg_src.psql("CREATE TABLE extra_local (i int); INSERT INTO t VALUES (100002, 'x')", PLAIN)
    r = pg_restore(store, pg_src, set_id=out['set_id'], databases=[PLAIN], globals=False, force=True,
                   force_method='clean', single_transaction=True)
    assert r['ok'], r.run
    assert _db_entry(r, PLAIN)['action'] == 'clean' and _db_entry(r, PLAIN)['verified_first'] is True
    assert fingerprint(pg_src, PLAIN)['table public.t'] == src_fp[PLAIN]['table public.t']
    assert pg_src.q("SELECT count(*) FROM extra_local", PLAIN) == '0'
    pg_src.psql('DROP DATABASE "copy of ü ""x"""')


def test_directory_format_parallel_round_trip(pg_src, pg_fresh, fs_store, pg_backup, pg_restore, scratch):
    b = pg_backup(fs_store, pg_src, databases=[MIXED, PLAIN], format='directory', jobs=2, globals=True,
                  compression='gzip', tmp_dir=str(scratch))
    assert b['ok'], b.run
    recs = b['backup']['records']
    assert {r['format'] for r in recs if r['name'] != 'globals'} == {'pg_dump-directory-tar'}
    assert all(r['key'].endswith('.pgdir.tar.gz') for r in recs if r['name'] != 'globals')
    assert not [p for p in os.listdir(str(scratch)) if p.startswith('lifeboat-pgdump-')]   # temp dir removed
    r = pg_restore(fs_store, pg_fresh, jobs=2, tmp_dir=str(scratch))
    assert r['ok'], r.run
    for db in (MIXED, PLAIN):
        assert fingerprint(pg_fresh, db) == fingerprint(pg_src, db)
    assert database_props(pg_fresh, MIXED) == database_props(pg_src, MIXED)
    assert not [p for p in os.listdir(str(scratch)) if p.startswith('lifeboat-pgrestore-')]


def test_backup_check_mode_writes_nothing(pg_src, fs_store, pg_backup):
    b = pg_backup(fs_store, pg_src, check=True, exclude=['postgres'])
    assert b['ok'], b.run
    dbs = {d['name']: d for d in b['backup']['databases']}
    assert dbs[EXOTIC]['dump'] is True and dbs['postgres']['dump'] is False and dbs[EXOTIC]['size'] > 0
    assert b['backup']['records'] == []
    assert os.listdir(fs_store['path']) == []
