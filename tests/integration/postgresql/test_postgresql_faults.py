# -*- coding: utf-8 -*-
"""Faults of the PostgreSQL component, each against real servers through ansible-playbook.

Every failing backup must: fail with a clear message naming what broke, leave its set failed (never
completed), release the store lock, and leave the earlier completed set intact. A failing restore must
not change the target. pg_dump being killed or lying (exit 0 + error on stderr) is simulated with a
wrapper script given as bin_dir (the only stand-in here: a real pg_dump cannot be made to do it on cue).
"""
import json
import os
import stat
import subprocess

import pytest

import pgserver
from pgdata import completed_set_intact, run_harness, set_status

pytestmark = pytest.mark.usefixtures('pg_available')


@pytest.fixture(scope='module')
def pg_f(pg_root):
    s = pgserver.PgServer(pg_root, name='faults')
    try:
        s.init().start()
        s.psql('CREATE ROLE r1 NOLOGIN; CREATE DATABASE small; CREATE DATABASE medium')
        s.psql('CREATE TABLE t AS SELECT 1 AS i', 'small')
        s.psql('CREATE TABLE m AS SELECT g AS id, md5(g::text) AS x FROM generate_series(1, 200000) g', 'medium')
        yield s
    finally:
        s.destroy()


def _copy_set(src_store, set_id, dst_store):
    """Copy a completed set into another filesystem store (cheaper than a new backup run)."""
    os.makedirs(dst_store['path'], exist_ok=True)
    subprocess.run(['cp', '-a', os.path.join(src_store['path'], set_id), dst_store['path']], check=True)
    return set_id


@pytest.fixture(scope='module')
def earlier(pg_f, pg_root):
    """A store holding one completed set (small + globals) that every failure below must leave intact."""
    d = pg_root / 'faults-store'
    d.mkdir()
    store = {'type': 'filesystem', 'path': str(d)}
    args = pg_f.conn_params()
    args['databases'] = ['small']
    out = run_harness('pg_backup.yml', store, args, pg_root)
    assert out['ok'], out.run
    return store, out['set_id']


def assert_failed_cleanly(store, earlier_id, out):
    assert not out['ok']
    assert out['set_id'] != earlier_id
    assert set_status(store, out['set_id']) == 'failed'
    assert set_status(store, earlier_id) == 'completed' and completed_set_intact(store, earlier_id)
    assert not os.path.exists(os.path.join(store['path'], 'lock.json'))
    leftovers = [f for _r, _d, fs in os.walk(store['path']) for f in fs if '.lifeboat-tmp-' in f]
    assert leftovers == []


def _wrapper(directory, body):
    """A bin_dir whose pg_dump is a wrapper script around the real one (pg_dumpall: the real one)."""
    os.makedirs(directory)
    real = str(pgserver.PG_BIN / 'pg_dump')
    path = os.path.join(directory, 'pg_dump')
    with open(path, 'w') as f:
        f.write('#!/bin/sh\nREAL=%s\ncase "$1" in --version) exec "$REAL" --version ;; esac\n%s\n' % (real, body))
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    os.symlink(str(pgserver.PG_BIN / 'pg_dumpall'), os.path.join(directory, 'pg_dumpall'))
    return directory


def test_wrong_password(pg_password, earlier, pg_backup):
    store, eid = earlier
    out = pg_backup(store, pg_password, login_password='wrong-pass-xyz')
    assert_failed_cleanly(store, eid, out)
    assert 'cannot connect to PostgreSQL at 127.0.0.1' in out['msg']
    assert 'password authentication failed for user "postgres"' in out['msg']
    assert 'wrong-pass-xyz' not in out.run.output
    # and the right one works (password auth through PGPASSWORD, never argv)
    ok = pg_backup(store, pg_password, databases=['postgres'], globals=False)
    assert ok['ok'], ok.run
    assert 'right-password' not in ok.run.output


def test_server_down(pg_fresh, earlier, pg_backup):
    store, eid = earlier
    args = pg_fresh.conn_params()
    pg_fresh.stop()
    out = pg_backup(store, pg_fresh, **args)
    assert_failed_cleanly(store, eid, out)
    assert 'cannot connect to PostgreSQL at 127.0.0.1:%d' % args['port'] in out['msg']
    assert 'Connection refused' in out['msg'] or 'connection refused' in out['msg'].lower()


def test_database_missing(pg_f, earlier, pg_backup):
    store, eid = earlier
    out = pg_backup(store, pg_f, databases=['small', 'no such db'])
    assert_failed_cleanly(store, eid, out)
    assert 'database "no such db" does not exist on the server' in out['msg']


def test_pg_dump_killed_mid_stream(pg_f, earlier, pg_backup, scratch):
    store, eid = earlier
    bindir = _wrapper(str(scratch / 'bin-killed'), '"$REAL" "$@" | head -c 65536\nkill -KILL $$')
    out = pg_backup(store, pg_f, databases=['medium'], bin_dir=bindir)
    assert_failed_cleanly(store, eid, out)
    assert 'dumping database "medium" failed: pg_dump was killed by signal 9' in out['msg']
    setdir = os.path.join(store['path'], out['set_id'])
    # nothing of the dump is there but its part declaration, left unfinished
    assert [f for _r, _d, fs in os.walk(setdir) for f in fs if f.startswith('medium')] == ['medium.pgdump.zst.part.json']


def test_pg_dump_exit_zero_with_error_on_stderr(pg_f, earlier, pg_backup, scratch):
    store, eid = earlier
    bindir = _wrapper(str(scratch / 'bin-liar'),
                      '"$REAL" "$@" | head -c 4096\n'
                      'echo "pg_dump: error: query failed: ERROR:  canceling statement due to conflict with recovery" >&2\n'
                      'exit 0')
    out = pg_backup(store, pg_f, databases=['small'], bin_dir=bindir)
    assert_failed_cleanly(store, eid, out)
    assert 'pg_dump exited 0 but reported an error' in out['msg']
    assert 'canceling statement due to conflict with recovery' in out['msg']


@pytest.fixture
def tiny_store(scratch):
    """A filesystem store on a 2 MiB tmpfs (unmounted at teardown)."""
    d = scratch / 'tiny'
    d.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', str(d)], check=True)
    try:
        yield {'type': 'filesystem', 'path': str(d / 'store')}
    finally:
        subprocess.run(['umount', '-l', str(d)], check=False)


def test_disk_full_in_the_store(pg_f, earlier, tiny_store, pg_backup):
    eid = _copy_set(earlier[0], earlier[1], tiny_store)
    out = pg_backup(tiny_store, pg_f, databases=['medium'])
    assert_failed_cleanly(tiny_store, eid, out)
    assert 'dumping database "medium"' in out['msg'] and 'no space left on device' in out['msg']


def test_tampered_artifact_fails_before_the_target_changes(earlier, pg_fresh, fs_store, pg_restore):
    sid = _copy_set(earlier[0], earlier[1], fs_store)
    with open(os.path.join(fs_store['path'], sid, 'manifest.json')) as f:
        rec = [r for r in json.load(f)['artifacts'] if r['name'] == 'small'][0]
    path = os.path.join(fs_store['path'], rec['key'])
    with open(path, 'r+b') as f:                     # same size, one byte flipped in the middle
        f.seek(rec['size'] // 2)
        byte = f.read(1)
        f.seek(rec['size'] // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    before_roles = pg_fresh.q("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles")

    # with globals: every artifact is checked before the first change, so not even roles appear
    r = pg_restore(fs_store, pg_fresh)
    assert not r['ok']
    assert 'database "small"' in r['msg'] and 'failed verification' in r['msg']
    assert 'nothing was restored from it' in r['msg']
    assert pg_fresh.databases() == ['postgres']
    assert pg_fresh.q("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles") == before_roles

    # without globals (nothing pre-read): small is restored into a staging database, which is dropped
    r = pg_restore(fs_store, pg_fresh, globals=False)
    assert not r['ok']
    assert 'restoring database "small"' in r['msg'] and 'failed verification' in r['msg']
    assert pg_fresh.databases() == ['postgres']
