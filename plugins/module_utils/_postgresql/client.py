# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL component: the adapter to the server (psycopg2) and to the client tools (subprocess).

Catalog queries for discovery and restore planning, CREATE/ALTER/DROP DATABASE, running a client
tool to completion (through the command runner, _runner.py), and finding client tools of the right
version. Streaming dumps and restores do not run here: they go through _backup_set/artifacts.py (the
one pipeline).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import pwd
import random
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _retry as retry
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic

try:
    import psycopg2
    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError as _e:  # pragma: no cover - depends on the host
    psycopg2 = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = _e

# SQLSTATE 55006 object_in_use: "database ... is being accessed by other users"
OBJECT_IN_USE = '55006'

# ALTER DATABASE RENAME while clients reconnect: about 7 s in all before giving up
RENAME_BACKOFF = retry.Backoff(first=0.2, factor=2.0, cap=2.0, retries=6, jitter=0.5)


class DatabaseInUseError(LifeboatError):
    """The server refused a statement because other sessions use the database (SQLSTATE 55006)."""


def _pg_message(err):
    """The server's/libpq's own words from a psycopg2 error, on one line."""
    text = (getattr(err, 'pgerror', None) or str(err) or err.__class__.__name__).strip()
    return ' '.join(line.strip() for line in text.splitlines() if line.strip())


class RunAs(object):
    """The OS user (``os_user``) the PostgreSQL side runs as, while the module (and the store) stays root.

    Peer authentication on the unix socket checks who connects. The client tools are started through
    setpriv as that user, psycopg2 connects with that effective uid and gid (the server reads them off the
    socket at connect time), and the temp directories the tools write into are given to that user.
    """

    def __init__(self, name, runner=None):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise LifeboatError('os_user %s does not exist on this host' % name)
        if os.geteuid() != 0:
            raise LifeboatError('os_user %s needs the module to run as root (become: true); it runs as %s'
                                % (name, pwd.getpwuid(os.geteuid()).pw_name))
        self.name, self.uid, self.gid, self.home = name, entry.pw_uid, entry.pw_gid, entry.pw_dir
        self.setpriv = pipeline.need_tool('setpriv', 'os_user (package util-linux)')
        runner = runner or command_runner.default_runner()
        self.init_groups = '--init-groups' in runner.probe([self.setpriv, '--help'])

    def argv(self, argv):
        return pg_logic.run_as_argv(argv, self.setpriv, self.uid, self.gid, self.init_groups)

    def env(self, env):
        return pg_logic.run_as_env(env, self.name, self.home)

    def give(self, path):
        os.chown(path, self.uid, self.gid)

    @contextlib.contextmanager
    def effective(self):
        home = os.environ.get('HOME')
        euid, egid = os.geteuid(), os.getegid()
        os.setegid(self.gid)
        os.seteuid(self.uid)
        os.environ['HOME'] = self.home  # libpq's ~/.pgpass
        try:
            yield
        finally:
            os.seteuid(euid)
            os.setegid(egid)
            if home is None:
                os.environ.pop('HOME', None)
            else:
                os.environ['HOME'] = home


_RUN_AS = {}


def run_as(params, runner=None):
    """A RunAs for params['os_user'], or None when the tools run as the module's own user."""
    name = params.get('os_user')
    if not name:
        return None
    try:
        if pwd.getpwnam(name).pw_uid == os.geteuid():
            return None
    except KeyError:
        pass  # RunAs says so
    if name not in _RUN_AS:
        _RUN_AS[name] = RunAs(name, runner)
    return _RUN_AS[name]


def tools_env(params, user):
    """Environment of the client tools: the libpq settings, and os_user's HOME/USER/LOGNAME when set."""
    env = pg_logic.libpq_env(params, os.environ)
    return user.env(env) if user is not None else env


def as_user(user, argv):
    """``argv`` as it runs for the PostgreSQL side: through setpriv when os_user (a RunAs) is set."""
    return user.argv(argv) if user is not None else argv


@contextlib.contextmanager
def _as(user):
    if user is None:
        yield
    else:
        with user.effective():
            yield


class PgClient(object):
    """One autocommit connection (made as params['os_user'] when that is set)."""

    def __init__(self, params, dbname):
        self.params = params
        self.dbname = dbname
        try:
            with _as(run_as(params)):
                self.conn = psycopg2.connect(**pg_logic.connect_kwargs(params, dbname))
        except psycopg2.Error as err:
            raise LifeboatError('cannot connect to %s, database %s: %s'
                                % (pg_logic.describe_server(params), pg_logic.quote_ident(dbname), _pg_message(err)))
        self.conn.autocommit = True

    def rows(self, sql, args=None):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        except psycopg2.Error as err:
            error = DatabaseInUseError if getattr(err, 'pgcode', None) == OBJECT_IN_USE else LifeboatError
            raise error('%s, database %s: %s failed: %s'
                        % (pg_logic.describe_server(self.params), pg_logic.quote_ident(self.dbname),
                           sql.split('\n')[0][:120], _pg_message(err)))

    def one(self, sql, args=None):
        found = self.rows(sql, args)
        return found[0] if found else None

    def execute(self, sql, args=None):
        self.rows(sql, args)

    def close(self):
        try:
            self.conn.close()
        except Exception:  # pylint: disable=broad-except
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


def connect(params, dbname):
    if not HAS_PSYCOPG2:
        raise LifeboatError('psycopg2 is not installed on this host: install python3-psycopg2 or psycopg2-binary')
    return PgClient(params, dbname)


# ---------------------------------------------------------------- discovery

def server_info(conn):
    num, text, recovery, user, superuser = conn.one(
        "SELECT current_setting('server_version_num')::int, current_setting('server_version'), pg_is_in_recovery(),"
        " current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")
    return {'version_num': num, 'version': text, 'in_recovery': bool(recovery), 'user': user,
            'superuser': bool(superuser)}


def list_databases(conn):
    rows = conn.rows(
        "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END,"
        " datallowconn, datistemplate FROM pg_database ORDER BY datname")
    return [{'name': n, 'size': s, 'allow_connections': bool(a), 'template': bool(t)} for n, s, a, t in rows]


def database_properties(conn, dbname, server_num):
    """The database's own properties (what pg_dump only dumps with --create)."""
    if server_num >= 170000:
        loc = "d.datlocprovider::text, d.datlocale"
    elif server_num >= 150000:
        loc = "d.datlocprovider::text, d.daticulocale"
    else:
        loc = "'c', NULL::text"
    row = conn.one(
        "SELECT d.oid, r.rolname, pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, %s, t.spcname,"
        " d.datconnlimit, shobj_description(d.oid, 'pg_database'), d.datacl IS NULL"
        " FROM pg_database d LEFT JOIN pg_roles r ON r.oid = d.datdba"
        " LEFT JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = %%s" % loc, (dbname,))
    if row is None:
        raise LifeboatError('database %s does not exist on %s' % (pg_logic.quote_ident(dbname), pg_logic.describe_server(conn.params)))
    oid, owner, enc, collate, ctype, provider, icu, space, connlimit, comment, default_acl = row
    props = {'owner': owner, 'encoding': enc, 'collate': collate, 'ctype': ctype,
             'locale_provider': {'i': 'icu', 'c': 'libc', 'b': 'builtin'}.get(provider, provider),
             'icu_locale': icu, 'tablespace': space, 'connlimit': connlimit, 'comment': comment}
    if default_acl:
        props['acl'] = None
    else:
        props['acl'] = [{'grantee': g, 'privilege': p, 'grantable': bool(gr)} for g, p, gr in conn.rows(
            "SELECT r.rolname, a.privilege_type, a.is_grantable FROM pg_database d,"
            " aclexplode(d.datacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE d.oid = %s"
            " ORDER BY 1 NULLS FIRST, 2", (oid,))]
    props['settings'] = [{'role': role, 'setting': s} for role, s in conn.rows(
        "SELECT r.rolname, unnest(s.setconfig) FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " WHERE s.setdatabase = %s ORDER BY 1 NULLS FIRST", (oid,))]
    return props


def table_estimates(conn, limit=2000):
    """Per-table row estimates (pg_class.reltuples; None when never analyzed) and sizes, biggest first."""
    rows = conn.rows(
        "SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'"
        " ORDER BY 4 DESC, 1, 2 LIMIT %s", (limit + 1,))
    tables = {}
    for schema, name, tuples, size in rows[:limit]:
        tables['%s.%s' % (pg_logic.quote_ident(schema), pg_logic.quote_ident(name))] = {
            'rows_estimate': None if tuples is None or tuples < 0 else int(tuples), 'bytes': int(size)}
    return tables, len(rows) > limit


# every table whose rows a dump carries: ordinary and partitioned tables, populated materialized views
ROW_COUNT_TABLES_SQL = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'm') AND (c.relkind <> 'm' OR c.relispopulated)"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
    " ORDER BY 1, 2")


def begin_snapshot(conn):
    """Open a REPEATABLE READ READ ONLY transaction on ``conn`` and export its snapshot; returns the snapshot id.

    pg_dump --snapshot=<id> then dumps exactly what this transaction sees, as long as it stays open.
    """
    conn.execute('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    return conn.one('SELECT pg_export_snapshot()')[0]


def end_snapshot(conn):
    conn.execute('COMMIT')


def exact_row_counts(conn):
    """{"schema"."table": rows} of every table, counted exactly, in the transaction ``conn`` is in (if any)."""
    counts = {}
    for schema, name in conn.rows(ROW_COUNT_TABLES_SQL):
        key = '%s.%s' % (pg_logic.quote_ident(schema), pg_logic.quote_ident(name))
        counts[key] = int(conn.one('SELECT count(*) FROM %s' % key)[0])
    return counts


def content_counts(conn):
    """What a database holds besides what CREATE DATABASE gives it (to tell empty from non-empty)."""
    row = conn.one(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'),"
        " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')),"
        " (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'),"
        " (SELECT count(*) FROM pg_largeobject_metadata),"
        " (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema')"
        "        AND nspname !~ '^pg_')")
    return dict(zip(('relations', 'functions', 'extensions', 'large_objects', 'schemas'), [int(x) for x in row]))


def role_names(conn):
    return [r[0] for r in conn.rows('SELECT rolname FROM pg_roles')]


def tablespace_names(conn):
    return [r[0] for r in conn.rows('SELECT spcname FROM pg_tablespace')]


# ---------------------------------------------------------------- database DDL (maintenance connection)

def terminate_sessions(conn, dbname):
    conn.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()',
                 (dbname,))


def rename_database(conn, old, new, sleep=time.sleep, rng=random.random):
    """ALTER DATABASE RENAME, terminating other sessions on it first; retried (RENAME_BACKOFF) while
    clients reconnect and the server still says the database is in use."""
    def attempt():
        terminate_sessions(conn, old)
        conn.execute('ALTER DATABASE %s RENAME TO %s' % (pg_logic.quote_ident(old), pg_logic.quote_ident(new)))
    retry.run(attempt, lambda exc: RENAME_BACKOFF if isinstance(exc, DatabaseInUseError) else None,
              sleep=sleep, rng=rng)


def drop_database(conn, dbname, server_num):
    if server_num >= 130000:
        conn.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % pg_logic.quote_ident(dbname))
    else:
        terminate_sessions(conn, dbname)
        conn.execute('DROP DATABASE IF EXISTS %s' % pg_logic.quote_ident(dbname))


def set_allow_connections(conn, dbname, allow):
    conn.execute('ALTER DATABASE %s ALLOW_CONNECTIONS %s' % (pg_logic.quote_ident(dbname), 'true' if allow else 'false'))


# ---------------------------------------------------------------- client tools

def find_tool(name, bin_dir, server_num, runner=None):
    """(path, version_num, version_text) of a client tool: the first candidate that can handle the server,
    else the first one found (so the version check can say why it cannot)."""
    runner = runner or command_runner.default_runner()
    first = None
    for path in pg_logic.tool_candidates(name, bin_dir, server_num, pipeline.which(name)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        text = runner.tool_version(path)
        num = pg_logic.parse_version(text)
        if num is None:
            continue
        if pg_logic.tool_can_dump(num, server_num):
            return path, num, text
        if first is None:
            first = (path, num, text)
    if first is not None:
        return first
    where = ('in %s' % bin_dir) if bin_dir else 'on PATH (nor in the version-specific directories)'
    raise LifeboatError('%s was not found %s, or does not tell its version: install the PostgreSQL client tools '
                        '(see bindep.txt)' % (name, where))


def run_tool(runner, argv, env, cwd=None):
    """Run a client tool to completion (no timeout: a dump or restore takes as long as the database needs).
    Returns (rc, stderr), stderr's last 256 KiB. In check mode nothing runs and rc is 0."""
    try:
        result = runner.run(argv, timeout=None, env=env, cwd=cwd)
    except command_runner.CommandError as err:
        raise LifeboatError(err.msg)
    return (result.rc if result.ran else 0), result.stderr
