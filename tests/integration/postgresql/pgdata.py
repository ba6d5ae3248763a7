# -*- coding: utf-8 -*-
"""The PostgreSQL tests' dataset, what "restored equal" means, and store inspection helpers."""

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

BIG_ROWS = int(os.environ.get('LIFEBOAT_TEST_PG_ROWS', '1000000'))

EXOTIC = 'my "db" ü'
MIXED = 'Mixed Case DB'
PLAIN = 'plain'
ROLE_MIXED = 'Mixed "Case" Role'

DATASET = {
    'postgres': r'''
CREATE ROLE alice LOGIN PASSWORD 'alice-pw';
CREATE ROLE grp NOLOGIN;
CREATE ROLE "Mixed ""Case"" Role" NOLOGIN CREATEDB;
GRANT grp TO alice;
GRANT "Mixed ""Case"" Role" TO grp;
CREATE DATABASE "my ""db"" ü" OWNER alice;
CREATE DATABASE "Mixed Case DB" OWNER alice CONNECTION LIMIT 7;
CREATE DATABASE plain;
ALTER DATABASE "Mixed Case DB" SET work_mem TO '8MB';
ALTER DATABASE "Mixed Case DB" SET search_path TO "odd schema", public;
ALTER ROLE alice IN DATABASE "Mixed Case DB" SET statement_timeout TO '5s';
COMMENT ON DATABASE "Mixed Case DB" IS 'it''s mixed';
REVOKE ALL ON DATABASE "Mixed Case DB" FROM PUBLIC;
GRANT CONNECT ON DATABASE "Mixed Case DB" TO grp;
''',
    EXOTIC: r'''
CREATE EXTENSION hstore;
CREATE EXTENSION pgcrypto;
CREATE SCHEMA "Odd Schema ✓" AUTHORIZATION alice;
CREATE SEQUENCE "Odd Schema ✓".counter START 42;
SELECT nextval('"Odd Schema ✓".counter'), nextval('"Odd Schema ✓".counter');
CREATE TABLE "Odd Schema ✓"."Tbl ""q""" (id serial PRIMARY KEY, h hstore, secret bytea, note text);
INSERT INTO "Odd Schema ✓"."Tbl ""q""" (h, secret, note)
  SELECT ('k=>' || g)::hstore, digest(g::text, 'sha256'), 'ünïcødé ' || g FROM generate_series(1, 500) g;
CREATE TABLE public.big (id int, x text);
INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, %(rows)d) g;
CREATE VIEW "Odd Schema ✓".v AS SELECT count(*) AS n FROM "Odd Schema ✓"."Tbl ""q""";
CREATE FUNCTION public.add1(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i + 1';
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := NEW.note || '!'; RETURN NEW; END$$;
CREATE TRIGGER t_touch BEFORE INSERT ON "Odd Schema ✓"."Tbl ""q""" FOR EACH ROW EXECUTE FUNCTION public.touch();
SELECT lo_from_bytea(0, convert_to('large object one', 'UTF8'));
SELECT lo_from_bytea(0, decode(repeat('ab', 100000), 'hex'));
GRANT USAGE ON SCHEMA "Odd Schema ✓" TO grp;
GRANT SELECT ON "Odd Schema ✓"."Tbl ""q""" TO grp;
GRANT SELECT, UPDATE ON public.big TO "Mixed ""Case"" Role";
ANALYZE;
''',
    MIXED: r'''
CREATE SCHEMA "odd schema";
CREATE TABLE "odd schema"."CamelTable" (id bigint GENERATED ALWAYS AS IDENTITY, v jsonb);
INSERT INTO "odd schema"."CamelTable" (v) SELECT jsonb_build_object('n', g) FROM generate_series(1, 100) g;
ALTER TABLE "odd schema"."CamelTable" OWNER TO alice;
''',
    PLAIN: r'''
CREATE TABLE t (id int PRIMARY KEY, s text);
INSERT INTO t SELECT g, repeat('p', g % 50) FROM generate_series(1, 1000) g;
''',
}


def load_dataset(server):
    for db, sql in [('postgres', DATASET['postgres']), (EXOTIC, DATASET[EXOTIC]), (MIXED, DATASET[MIXED]),
                    (PLAIN, DATASET[PLAIN])]:
        server.psql(sql.replace('%(rows)d', str(BIG_ROWS)), db)


# ---------------------------------------------------------------- what "equal" means after a restore

TABLES_SQL = r'''
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY 1'''


def fingerprint(server, db):
    """Everything a restore must bring back, as comparable plain values."""
    fp = {}
    tables = [t for t in server.q(TABLES_SQL, db).split('\n') if t]
    for t in tables:
        # order-independent content hash: count and sum of per-row md5 prefixes
        fp['table ' + t] = server.q(
            "SELECT count(*) || ':' || coalesce(sum(('x' || substr(md5(r::text), 1, 15))::bit(60)::bigint), 0) "
            "FROM %s r" % t, db)
    queries = {
        'schemas': "SELECT string_agg(nspname || '=' || pg_get_userbyid(nspowner), ',' ORDER BY nspname) FROM pg_namespace"
                   " WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'",
        'relacl': "SELECT string_agg(c.relname || '=' || coalesce(c.relacl::text, '-') || '/' || pg_get_userbyid(c.relowner),"
                  " ',' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'",
        'nspacl': "SELECT string_agg(nspname || '=' || coalesce(nspacl::text, '-'), ',' ORDER BY nspname) FROM pg_namespace"
                  " WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'",
        'extensions': "SELECT string_agg(extname || ' ' || extversion, ',' ORDER BY extname) FROM pg_extension",
        'functions': "SELECT string_agg(md5(pg_get_functiondef(p.oid)), ',' ORDER BY p.proname) FROM pg_proc p"
                     " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prokind = 'f'"
                     " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
        'views': "SELECT string_agg(viewname || ':' || md5(definition), ',' ORDER BY viewname) FROM pg_views"
                 " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        'sequences': "SELECT string_agg(schemaname || '.' || sequencename || '=' || coalesce(last_value::text, '-'), ','"
                     " ORDER BY schemaname, sequencename) FROM pg_sequences",
        'triggers': "SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal",
        'large_objects': "SELECT count(*) || ':' || coalesce(string_agg(md5(lo_get(oid)), ',' ORDER BY oid), '')"
                         " FROM pg_largeobject_metadata",
        'encoding': "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database"
                    " WHERE datname = current_database()",
    }
    for k, sql in queries.items():
        fp[k] = server.q(sql, db)
    return fp


def database_props(server, db):
    """A database's own properties (what pg_dump keeps only with --create)."""
    lit = "'%s'" % db.replace("'", "''")
    return {
        'owner': server.q("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s" % lit),
        'connlimit': server.q("SELECT datconnlimit FROM pg_database WHERE datname = %s" % lit),
        'acl': server.q("SELECT coalesce(datacl::text, '-') FROM pg_database WHERE datname = %s" % lit),
        'comment': server.q("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s" % lit),
        'settings': server.q(
            "SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*') || ':'"
            " || array_to_string(setconfig, ';') AS x FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            " WHERE d.datname = %s) y"
            % lit),
    }


def roles_fingerprint(server):
    return {
        'roles': server.q("SELECT string_agg(rolname || ':' || rolcanlogin || rolcreatedb || rolsuper, ',' ORDER BY rolname)"
                          " FROM pg_roles WHERE rolname !~ '^pg_'"),
        'members': server.q("SELECT string_agg(m, ',' ORDER BY m) FROM (SELECT pg_get_userbyid(roleid) || '>'"
                            " || pg_get_userbyid(member) AS m FROM pg_auth_members) x"),
        'alice_pw': server.q("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'alice'"),
    }


def set_status(store, set_id):
    path = os.path.join(store['path'], set_id)
    if os.path.exists(os.path.join(path, 'manifest.json')):
        return 'completed'
    with open(os.path.join(path, 'status.json')) as f:
        return json.load(f)['status']


def completed_set_intact(store, set_id):
    """The set is completed and every artifact still matches its record (size and sha256)."""
    with open(os.path.join(store['path'], set_id, 'manifest.json'), 'rb') as f:
        manifest = json.loads(f.read().decode('utf-8'))
    for rec in manifest['artifacts']:
        h = hashlib.sha256()
        with open(os.path.join(store['path'], rec['key']), 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        if h.hexdigest() != rec['sha256']:
            return False
    return True


# ---------------------------------------------------------------- running the harness playbooks

def _top_conftest():
    """tests/conftest.py (run_playbook), loaded under its own name: this file is also called conftest."""
    mod = sys.modules.get('lifeboat_tests_conftest')
    if mod is None:
        import importlib.util
        spec = importlib.util.spec_from_file_location('lifeboat_tests_conftest',
                                                      os.path.join(os.path.dirname(os.path.dirname(HERE)), 'conftest.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules['lifeboat_tests_conftest'] = mod
    return mod


class Outcome(dict):
    """The harness playbook's outcome file, plus the PlaybookResult as .run."""


def run_harness(playbook, store, args, scratch, check=False, extra=None):
    result_file = os.path.join(str(scratch), 'outcome-%s.json' % os.urandom(4).hex())
    ev = {'lifeboat_store': store, 'pg_args': args, 'result_file': result_file}
    ev.update(extra or {})
    r = _top_conftest().run_playbook(os.path.join(HERE, playbook), extra_vars=ev, check=check)
    out = Outcome()
    if os.path.exists(result_file):
        with open(result_file) as f:
            out.update(json.load(f))
        os.unlink(result_file)
    out.run = r
    if 'ok' not in out:
        raise AssertionError('the playbook wrote no outcome:\n%r' % r)
    if out['ok'] != (r.rc == 0):
        raise AssertionError('outcome and exit code disagree:\n%r' % r)
    return out
