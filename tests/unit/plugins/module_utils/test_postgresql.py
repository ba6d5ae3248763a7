# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL component pure logic: argv, versions, name encoding, stderr judging, globals rewrite, SQL text."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

P = {'login_host': 'db.example.com', 'port': 5433, 'login_user': 'backup', 'login_password': 's3cret',
     'ssl_mode': 'verify-full', 'ca_cert': '/etc/ca.pem', 'passfile': None, 'connect_timeout': 7,
     'login_unix_socket': None}


# ---------------------------------------------------------------- conninfo / env / argv

def test_conninfo_quotes_everything_and_never_holds_the_password():
    ci = pg_logic.conninfo(P, "my 'db' \\ x=y")
    assert ci == "host='db.example.com' port='5433' user='backup' dbname='my \\'db\\' \\\\ x=y'"
    assert 's3cret' not in ci


def test_conninfo_unix_socket_and_defaults():
    assert pg_logic.conninfo({'login_unix_socket': '/run/pg'}, 'a') == "host='/run/pg' dbname='a'"
    assert pg_logic.conninfo({}, 'postgresql://evil') == "dbname='postgresql://evil'"


def test_libpq_env_password_only_in_env_and_foreign_vars_dropped():
    env = pg_logic.libpq_env(P, {'PATH': '/bin', 'PGDATABASE': 'other', 'PGSERVICE': 's', 'PGSSLCERT': '/c'})
    assert env['PGPASSWORD'] == 's3cret'
    assert env['PGSSLMODE'] == 'verify-full' and env['PGSSLROOTCERT'] == '/etc/ca.pem'
    assert env['PGCONNECT_TIMEOUT'] == '7'
    assert 'PGDATABASE' not in env and 'PGSERVICE' not in env
    assert env['PGSSLCERT'] == '/c' and env['PATH'] == '/bin'
    assert 'PGPASSWORD' not in pg_logic.libpq_env({}, {})


def test_connect_kwargs():
    kw = pg_logic.connect_kwargs(P, 'x')
    assert kw['host'] == 'db.example.com' and kw['port'] == 5433 and kw['password'] == 's3cret'
    assert kw['sslmode'] == 'verify-full' and kw['sslrootcert'] == '/etc/ca.pem' and kw['dbname'] == 'x'
    assert 'host' not in pg_logic.connect_kwargs({}, 'x')


def test_pg_dump_argv_custom_is_uncompressed_to_stdout():
    argv = pg_logic.pg_dump_argv('/usr/bin/pg_dump', "dbname='a'")
    assert argv[0] == '/usr/bin/pg_dump'
    assert '--format=custom' in argv and '--compress=0' in argv and '--no-password' in argv
    assert not any(a.startswith('--file') for a in argv)
    assert argv[-1] == "--dbname=dbname='a'"
    assert not any('s3cret' in a for a in argv)


def test_pg_dump_argv_directory_needs_dir_and_takes_jobs():
    argv = pg_logic.pg_dump_argv('pg_dump', "dbname='a'", 'directory', jobs=4, out_dir='/tmp/x/dump',
                                 lock_wait_timeout='30s')
    assert '--format=directory' in argv and '--jobs=4' in argv and '--file=/tmp/x/dump' in argv
    assert '--lock-wait-timeout=30s' in argv
    with pytest.raises(LifeboatError):
        pg_logic.pg_dump_argv('pg_dump', "dbname='a'", 'directory')
    with pytest.raises(LifeboatError):
        pg_logic.pg_dump_argv('pg_dump', "dbname='a'", 'tar')


def test_pg_restore_argv():
    a = pg_logic.pg_restore_argv('pg_restore', "dbname='t'")
    assert '--exit-on-error' in a and a[-1] == "--dbname=dbname='t'"      # stdin
    a = pg_logic.pg_restore_argv('pg_restore', "dbname='t'", '/tmp/d', jobs=3, clean=True, no_owner=True)
    assert '--jobs=3' in a and '--clean' in a and '--if-exists' in a and '--no-owner' in a and a[-1] == '/tmp/d'
    a = pg_logic.pg_restore_argv('pg_restore', "dbname='t'", '/tmp/d', dump_format='directory')
    assert '--format=directory' in a
    assert '--single-transaction' in pg_logic.pg_restore_argv('pg_restore', 'x', single_transaction=True)
    with pytest.raises(LifeboatError, match='needs a file'):
        pg_logic.pg_restore_argv('pg_restore', 'x', None, jobs=2)
    with pytest.raises(LifeboatError, match='single_transaction'):
        pg_logic.pg_restore_argv('pg_restore', 'x', '/f', jobs=2, single_transaction=True)


def test_psql_and_pg_dumpall_argv():
    a = pg_logic.psql_file_argv('psql', "dbname='postgres'", '/tmp/g.sql')
    assert '--set=ON_ERROR_STOP=1' in a and '--no-psqlrc' in a and a[-1] == '--file=/tmp/g.sql'
    a = pg_logic.pg_dumpall_globals_argv('pg_dumpall', "dbname='postgres'")
    assert '--globals-only' in a and a[-1].startswith('--dbname=')


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize('text,num', [
    ('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', 150018),
    ('pg_restore (PostgreSQL) 16.4', 160004),
    ('psql (PostgreSQL) 17beta2', 170000),
    ('pg_dump (PostgreSQL) 9.6.24', 90624),
    ('15.20 (Debian 15.20-0+deb12u1)', 150020),
    ('12.1', 120001),
    ('nonsense', None),
    (None, None),
])
def test_parse_version(text, num):
    assert pg_logic.parse_version(text) == num


def test_major_and_text():
    assert pg_logic.major_num(150018) == 150000
    assert pg_logic.major_num(90624) == 90600
    assert pg_logic.major_text(150018) == '15' and pg_logic.major_text(90624) == '9.6'
    assert pg_logic.version_text(150018) == '15.18' and pg_logic.version_text(90624) == '9.6.24'
    assert pg_logic.major_num(90624) < pg_logic.major_num(100000) < pg_logic.major_num(150000)


def test_pg_dump_older_than_server_is_refused():
    with pytest.raises(LifeboatError, match=r'pg_dump 14\.10 .* older than the PostgreSQL 15\.2 server.*postgresql/15/bin'):
        pg_logic.check_dump_tool('pg_dump', 140010, 150002, '/usr/bin/pg_dump')
    with pytest.raises(LifeboatError, match='older'):
        pg_logic.check_dump_tool('pg_dump', 90624, 100001, 'x')
    with pytest.raises(LifeboatError, match='cannot tell'):
        pg_logic.check_dump_tool('pg_dump', None, 150002, 'x')


def test_pg_dump_same_major_older_minor_or_newer_is_fine():
    pg_logic.check_dump_tool('pg_dump', 150001, 150020, 'x')
    pg_logic.check_dump_tool('pg_dump', 170002, 150020, 'x')


def test_restore_version_checks():
    assert pg_logic.check_restore_versions('a', 150020, 150018, 150020, 150018) == []
    assert pg_logic.check_restore_versions('a', 170000, 150018, 170000, 150018) == []
    p = pg_logic.check_restore_versions('a', 140000, 150018, 160000, 150018)
    assert len(p) == 1 and 'pg_restore 14.0 cannot read it' in p[0]
    p = pg_logic.check_restore_versions('a', 160000, 150018, 140005, 150018)
    assert len(p) == 1 and 'older major version' in p[0] and '"a"' in p[0]
    assert 'cannot tell' in pg_logic.check_restore_versions('a', None, 150000, 150000, 150000)[0]
    p = pg_logic.check_restore_versions(None, 150000, None, 140000, 150000, restore_tool='psql', what='the globals')
    assert p[0].startswith('the globals: the source server was PostgreSQL 15.0 and the target server is 14.0')


def test_tool_candidates_and_pick():
    assert pg_logic.tool_candidates('pg_dump', '/opt/pg16/bin/', 160000, '/usr/bin/pg_dump') == ['/opt/pg16/bin/pg_dump']
    c = pg_logic.tool_candidates('pg_dump', None, 160002, '/usr/bin/pg_dump')
    assert c == ['/usr/lib/postgresql/16/bin/pg_dump', '/usr/pgsql-16/bin/pg_dump', '/usr/bin/pg_dump']
    assert pg_logic.tool_can_dump(160001, 160002) and pg_logic.tool_can_dump(170000, 150002)
    assert not pg_logic.tool_can_dump(150020, 160000)
    assert pg_logic.tool_can_dump(150000, None)


# ---------------------------------------------------------------- stderr judging

def test_judge_clean_run():
    v = pg_logic.judge_tool('pg_dump', 0, '')
    assert v['ok'] and v['warnings'] == []


def test_judge_exit_zero_with_fatal_is_failure():
    v = pg_logic.judge_tool('pg_dump', 0, 'pg_dump: error: connection to server failed: FATAL:  no pg_hba.conf entry\n')
    assert not v['ok'] and 'exited 0 but reported an error' in v['error'] and 'no pg_hba.conf entry' in v['error']
    v = pg_logic.judge_tool('pg_dump', 0, 'pg_dump: [archiver (db)] query failed: ERROR:  permission denied for table t\n')
    assert not v['ok'] and 'permission denied' in v['error']
    v = pg_logic.judge_tool('psql', 0, 'psql:/tmp/g.sql:12: ERROR:  role "x" does not exist\n')
    assert not v['ok']
    v = pg_logic.judge_tool('psql', 0, 'psql:/tmp/g.sql:5: error: invalid command \\restrict\n')
    assert not v['ok'] and 'invalid command' in v['error']


def test_judge_killed_and_nonzero():
    v = pg_logic.judge_tool('pg_dump', -9, '')
    assert not v['ok'] and 'killed by signal 9' in v['error'] and 'incomplete' in v['error']
    v = pg_logic.judge_tool('pg_restore', 1, 'pg_restore: error: could not execute query: ERROR:  boom\n')
    assert not v['ok'] and 'exited with 1' in v['error'] and 'boom' in v['error']
    assert not pg_logic.judge_tool('x', None, '')['ok']


def test_judge_warnings_are_kept_not_fatal():
    err = ('pg_dump: warning: there are circular foreign-key constraints on this table:\n'
           'pg_dump: detail: t\npg_dump: hint: You might not be able to restore the dump\n'
           'psql:/tmp/g.sql:3: NOTICE:  role "x" already exists, skipping\n')
    v = pg_logic.judge_tool('pg_dump', 0, err)
    assert v['ok'] and len(v['warnings']) == 4


def test_judge_does_not_take_table_names_for_errors():
    v = pg_logic.judge_tool('pg_dump', 0, 'pg_dump: warning: table "ERRORS" has no primary key\n')
    assert v['ok']


# ---------------------------------------------------------------- names

@pytest.mark.parametrize('name', ['app', 'App_2', 'a.b-c+d', 'x' * 63])
def test_plain_names_are_kept(name):
    assert pg_logic.artifact_name(name) == name


@pytest.mark.parametrize('name', ['my "db" ü', 'with space', "it's", 'globals', 'ünïcødé', '-leading', '日本語',
                                  'a@b', '_x', '.', 'x' * 101])
def test_other_names_are_encoded_safely_and_distinctly(name):
    enc = pg_logic.artifact_name(name)
    assert enc != name
    assert '@' in enc
    set_format.validate_name(enc, 'artifact name')
    assert pg_logic.artifact_name(name) == enc          # deterministic


def test_encoded_names_do_not_collide():
    names = ['my db', 'my_db', 'my  db', 'My db', 'my "db"', 'globals', 'Globals']
    encoded = [pg_logic.artifact_name(n) for n in names]
    assert len(set(encoded)) == len(names)
    assert pg_logic.artifact_name('my db').startswith('my_db@')


def test_select_databases():
    avail = [{'name': 'a'}, {'name': 'b'}, {'name': 'c d'}]
    assert [d['name'] for d in pg_logic.select_databases(avail, [], [])] == ['a', 'b', 'c d']
    assert [d['name'] for d in pg_logic.select_databases(avail, ['b', 'a'], [])] == ['a', 'b']
    assert [d['name'] for d in pg_logic.select_databases(avail, [], ['a', 'zz'])] == ['b', 'c d']
    with pytest.raises(LifeboatError, match=r'database "nope" does not exist on the server \(it has: "a", "b", "c d"\)'):
        pg_logic.select_databases(avail, ['nope'], [])


def _rec(db):
    return {'name': pg_logic.artifact_name(db), 'extra': {'database': db}}


def test_restore_targets():
    recs = [_rec('a'), _rec('b b')]
    assert [(r['extra']['database'], t) for r, t in pg_logic.restore_targets(recs, [], {}, None)] == [('a', 'a'), ('b b', 'b b')]
    assert [t for _r, t in pg_logic.restore_targets(recs, ['a'], {}, 'new')] == ['new']
    assert [t for _r, t in pg_logic.restore_targets(recs, [], {'b b': 'c'}, None)] == ['a', 'c']
    with pytest.raises(LifeboatError, match='no dump of database "x"'):
        pg_logic.restore_targets(recs, ['x'], {}, None)
    with pytest.raises(LifeboatError, match='exactly one'):
        pg_logic.restore_targets(recs, [], {}, 'new')
    with pytest.raises(LifeboatError, match='would both be restored as "a"'):
        pg_logic.restore_targets(recs, [], {'b b': 'a'}, None)
    with pytest.raises(LifeboatError, match='not being restored'):
        pg_logic.restore_targets(recs, ['a'], {'b b': 'z'}, None)
    with pytest.raises(LifeboatError, match='not valid'):
        pg_logic.restore_targets(recs, ['a'], {}, 'x' * 64)


# ---------------------------------------------------------------- SQL text

def test_quoting():
    assert pg_logic.quote_ident('a"b') == '"a""b"'
    assert pg_logic.quote_literal("it's") == "'it''s'"


def test_split_guc_list():
    assert pg_logic.split_guc_list('"$user", public') == ['$user', 'public']
    assert pg_logic.split_guc_list('"my schema", "a""b",x') == ['my schema', 'a"b', 'x']
    assert pg_logic.split_guc_list('') == []


def test_setting_sql():
    assert pg_logic.setting_sql('ALTER DATABASE "d"', 'work_mem=64MB') == "ALTER DATABASE \"d\" SET work_mem TO '64MB'"
    assert pg_logic.setting_sql('ALTER DATABASE "d"', 'search_path="my schema", public') == \
        "ALTER DATABASE \"d\" SET search_path TO 'my schema', 'public'"
    with pytest.raises(LifeboatError):
        pg_logic.setting_sql('x', 'bad name;drop=1')


def test_database_create_sql():
    props = {'encoding': 'UTF8', 'collate': 'C.UTF-8', 'ctype': 'C.UTF-8', 'locale_provider': 'libc'}
    s = pg_logic.database_create_sql('new "db"', props, owner='alice')
    assert s == ('CREATE DATABASE "new ""db""" WITH TEMPLATE = template0 ENCODING = \'UTF8\' '
                 'LC_COLLATE = \'C.UTF-8\' LC_CTYPE = \'C.UTF-8\' OWNER = "alice"')
    s = pg_logic.database_create_sql('x', dict(props, locale_provider='icu', icu_locale='en-US'), tablespace='fast')
    assert "LOCALE_PROVIDER = icu ICU_LOCALE = 'en-US'" in s and 'TABLESPACE = "fast"' in s


def test_database_properties_sql():
    props = {'owner': 'alice', 'connlimit': 5, 'comment': "Bob's db",
             'settings': [{'role': None, 'setting': 'work_mem=8MB'}, {'role': 'bob', 'setting': 'statement_timeout=5s'},
                          {'role': 'ghost', 'setting': 'work_mem=1MB'}],
             'acl': [{'grantee': None, 'privilege': 'CONNECT', 'grantable': False},
                     {'grantee': 'alice', 'privilege': 'CREATE', 'grantable': False},
                     {'grantee': 'bob', 'privilege': 'TEMPORARY', 'grantable': True},
                     {'grantee': 'ghost', 'privilege': 'CONNECT', 'grantable': False}]}
    stmts, skipped = pg_logic.database_properties_sql('stage', props, ['alice', 'bob'])
    assert stmts == [
        'ALTER DATABASE "stage" CONNECTION LIMIT 5',
        'ALTER DATABASE "stage" SET work_mem TO \'8MB\'',
        'ALTER ROLE "bob" IN DATABASE "stage" SET statement_timeout TO \'5s\'',
        'COMMENT ON DATABASE "stage" IS \'Bob\'\'s db\'',
        'REVOKE ALL ON DATABASE "stage" FROM PUBLIC',
        'REVOKE ALL ON DATABASE "stage" FROM "alice"',
        'GRANT CONNECT ON DATABASE "stage" TO PUBLIC',
        'GRANT CREATE ON DATABASE "stage" TO "alice"',
        'GRANT TEMPORARY ON DATABASE "stage" TO "bob" WITH GRANT OPTION',
    ]
    assert len(skipped) == 2 and all('"ghost"' in s for s in skipped)


def test_database_properties_default_acl_touches_nothing():
    stmts, skipped = pg_logic.database_properties_sql('d', {'acl': None, 'connlimit': -1, 'settings': []}, [])
    assert stmts == [] and skipped == []


GLOBALS = '''--
-- PostgreSQL database cluster dump
--

\\restrict abc

SET default_transaction_read_only = off;

CREATE ROLE alice;
ALTER ROLE alice WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN PASSWORD 'SCRAM-SHA-256$x';
CREATE ROLE "Mixed ""Case""";
ALTER ROLE "Mixed ""Case""" WITH NOSUPERUSER NOLOGIN;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE TABLESPACE fast OWNER postgres LOCATION '/srv/fast';
CREATE TABLESPACE "new space" OWNER postgres LOCATION '/srv/new';
GRANT "Mixed ""Case""" TO alice GRANTED BY postgres;

\\unrestrict abc
'''


def test_rewrite_globals_skips_existing_and_own_role():
    out, notes = pg_logic.rewrite_globals(GLOBALS, ['postgres', 'Mixed "Case"'], ['pg_default', 'fast'], 'postgres')
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith('--')]
    assert 'CREATE ROLE alice;' in lines                      # missing: created
    assert 'CREATE ROLE "Mixed ""Case""";' not in lines        # exists: kept
    assert 'ALTER ROLE "Mixed ""Case""" WITH NOSUPERUSER NOLOGIN;' in lines   # but its attributes follow the source
    assert 'CREATE ROLE postgres;' not in lines
    assert not any(ln.startswith('ALTER ROLE postgres WITH') for ln in lines)  # never change the restoring login
    assert not any('TABLESPACE fast' in ln for ln in lines)
    assert any('TABLESPACE "new space"' in ln for ln in lines)
    assert any(ln.startswith('GRANT "Mixed') for ln in lines)
    assert '\\restrict abc' in lines and '\\unrestrict abc' in lines
    assert len(notes) == 4


def test_rewrite_globals_fresh_server_keeps_everything_but_own_role():
    out, _notes = pg_logic.rewrite_globals(GLOBALS, [], [], 'admin')
    assert out == GLOBALS


def test_nonempty_reason():
    assert pg_logic.nonempty_reason({'relations': 0, 'functions': 0}) is None
    assert pg_logic.nonempty_reason({'relations': 3, 'extensions': 1}) == '3 tables/views/sequences, 1 extensions'


def test_run_as_argv_and_env():
    argv = ['/usr/bin/pg_dump', '--format=custom', '-d', "dbname='a b'"]
    assert pg_logic.run_as_argv(argv, '/usr/bin/setpriv', 104, 110) == [
        '/usr/bin/setpriv', '--reuid=104', '--regid=110', '--init-groups', '--'] + argv
    assert pg_logic.run_as_argv(argv, 'setpriv', 104, 110, init_groups=False)[3] == '--clear-groups'
    env = pg_logic.run_as_env({'HOME': '/root', 'USER': 'root', 'PGPASSWORD': 'x'}, 'postgres', '/var/lib/postgresql')
    assert env == {'HOME': '/var/lib/postgresql', 'USER': 'postgres', 'LOGNAME': 'postgres', 'PGPASSWORD': 'x'}
