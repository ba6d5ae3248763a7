# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL component: the adapter to the server (psycopg2) and to the client tools (subprocess).

Catalog queries for discovery and restore planning, CREATE/ALTER/DROP DATABASE, running a client
tool to completion with bounded stderr capture, and finding client tools of the right version.
Streaming dumps and restores do not run here: they go through _artifacts (the one pipeline).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import pwd
import subprocess
import tempfile
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic

try:
    import psycopg2
    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError as _e:  # pragma: no cover - depends on the host
    psycopg2 = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = _e

STDERR_KEEP = 256 * 1024


def _pg_message(e):
    """The server's/libpq's own words from a psycopg2 error, on one line."""
    text = (getattr(e, 'pgerror', None) or str(e) or e.__class__.__name__).strip()
    return ' '.join(line.strip() for line in text.splitlines() if line.strip())


class RunAs(object):
    """The OS user (``os_user``) the PostgreSQL side runs as, while the module (and the store) stays root.

    Peer authentication on the unix socket checks who connects. The client tools are started through
    setpriv as that user, psycopg2 connects with that effective uid and gid (the server reads them off the
    socket at connect time), and the temp directories the tools write into are given to that user.
    """

    def __init__(self, name):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            raise LifeboatError('os_user %s does not exist on this host' % name)
        if os.geteuid() != 0:
            raise LifeboatError('os_user %s needs the module to run as root (become: true); it runs as %s'
                                % (name, pwd.getpwuid(os.geteuid()).pw_name))
        self.name, self.uid, self.gid, self.home = name, pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.setpriv = pipeline.need_tool('setpriv', 'os_user (package util-linux)')
        self.init_groups = '--init-groups' in _help_text(self.setpriv)

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


def _help_text(tool):
    try:
        return subprocess.run([tool, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10,
                              check=False).stdout.decode('utf-8', 'replace')
    except (OSError, subprocess.SubprocessError):
        return ''


_RUN_AS = {}


def run_as(params):
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
        _RUN_AS[name] = RunAs(name)
    return _RUN_AS[name]


def tools_env(params, ra):
    """Environment of the client tools: the libpq settings, and os_user's HOME/USER/LOGNAME when set."""
    env = pg_logic.libpq_env(params, os.environ)
    return ra.env(env) if ra is not None else env


def as_user(ra, argv):
    """``argv`` as it runs for the PostgreSQL side: through setpriv when os_user is set."""
    return ra.argv(argv) if ra is not None else argv


@contextlib.contextmanager
def _as(ra):
    if ra is None:
        yield
    else:
        with ra.effective():
            yield


class PgClient(object):
    """One autocommit connection (made as params['os_user'] when that is set)."""

    def __init__(self, params, dbname):
        self.params = params
        self.dbname = dbname
        try:
            with _as(run_as(params)):
                self.conn = psycopg2.connect(**pg_logic.connect_kwargs(params, dbname))
        except psycopg2.Error as e:
            raise LifeboatError('cannot connect to %s, database %s: %s'
                                % (pg_logic.describe_server(params), pg_logic.quote_ident(dbname), _pg_message(e)))
        self.conn.autocommit = True

    def rows(self, sql, args=None):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        except psycopg2.Error as e:
            raise LifeboatError('%s, database %s: %s failed: %s'
                                % (pg_logic.describe_server(self.params), pg_logic.quote_ident(self.dbname),
                                   sql.split('\n')[0][:120], _pg_message(e)))

    def one(self, sql, args=None):
        r = self.rows(sql, args)
        return r[0] if r else None

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

def server_info(c):
    num, text, recovery, user, superuser = c.one(
        "SELECT current_setting('server_version_num')::int, current_setting('server_version'), pg_is_in_recovery(),"
        " current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")
    return {'version_num': num, 'version': text, 'in_recovery': bool(recovery), 'user': user,
            'superuser': bool(superuser)}


def list_databases(c):
    rows = c.rows(
        "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END,"
        " datallowconn, datistemplate FROM pg_database ORDER BY datname")
    return [{'name': n, 'size': s, 'allow_connections': bool(a), 'template': bool(t)} for n, s, a, t in rows]


def database_properties(c, dbname, server_num):
    """The database's own properties (what pg_dump only dumps with --create)."""
    if server_num >= 170000:
        loc = "d.datlocprovider::text, d.datlocale"
    elif server_num >= 150000:
        loc = "d.datlocprovider::text, d.daticulocale"
    else:
        loc = "'c', NULL::text"
    row = c.one(
        "SELECT d.oid, r.rolname, pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, %s, t.spcname,"
        " d.datconnlimit, shobj_description(d.oid, 'pg_database'), d.datacl IS NULL"
        " FROM pg_database d LEFT JOIN pg_roles r ON r.oid = d.datdba"
        " LEFT JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = %%s" % loc, (dbname,))
    if row is None:
        raise LifeboatError('database %s does not exist on %s' % (pg_logic.quote_ident(dbname), pg_logic.describe_server(c.params)))
    oid, owner, enc, collate, ctype, provider, icu, space, connlimit, comment, default_acl = row
    props = {'owner': owner, 'encoding': enc, 'collate': collate, 'ctype': ctype,
             'locale_provider': {'i': 'icu', 'c': 'libc', 'b': 'builtin'}.get(provider, provider),
             'icu_locale': icu, 'tablespace': space, 'connlimit': connlimit, 'comment': comment}
    if default_acl:
        props['acl'] = None
    else:
        props['acl'] = [{'grantee': g, 'privilege': p, 'grantable': bool(gr)} for g, p, gr in c.rows(
            "SELECT r.rolname, a.privilege_type, a.is_grantable FROM pg_database d,"
            " aclexplode(d.datacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE d.oid = %s"
            " ORDER BY 1 NULLS FIRST, 2", (oid,))]
    props['settings'] = [{'role': role, 'setting': s} for role, s in c.rows(
        "SELECT r.rolname, unnest(s.setconfig) FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " WHERE s.setdatabase = %s ORDER BY 1 NULLS FIRST", (oid,))]
    return props


def table_estimates(c, limit=2000):
    """Per-table row estimates (pg_class.reltuples; None when never analyzed) and sizes, biggest first."""
    rows = c.rows(
        "SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'"
        " ORDER BY 4 DESC, 1, 2 LIMIT %s", (limit + 1,))
    tables = {}
    for schema, name, tuples, size in rows[:limit]:
        tables['%s.%s' % (pg_logic.quote_ident(schema), pg_logic.quote_ident(name))] = {
            'rows_estimate': None if tuples is None or tuples < 0 else int(tuples), 'bytes': int(size)}
    return tables, len(rows) > limit


def content_counts(c):
    """What a database holds besides what CREATE DATABASE gives it (to tell empty from non-empty)."""
    row = c.one(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'),"
        " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')),"
        " (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'),"
        " (SELECT count(*) FROM pg_largeobject_metadata),"
        " (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema')"
        "        AND nspname !~ '^pg_')")
    return dict(zip(('relations', 'functions', 'extensions', 'large_objects', 'schemas'), [int(x) for x in row]))


def role_names(c):
    return [r[0] for r in c.rows('SELECT rolname FROM pg_roles')]


def tablespace_names(c):
    return [r[0] for r in c.rows('SELECT spcname FROM pg_tablespace')]


# ---------------------------------------------------------------- database DDL (maintenance connection)

def terminate_sessions(c, dbname):
    c.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()',
              (dbname,))


def rename_database(c, old, new, attempts=10):
    """ALTER DATABASE RENAME, terminating other sessions on it first (retried: clients may reconnect)."""
    last = None
    for _i in range(attempts):
        terminate_sessions(c, old)
        try:
            c.execute('ALTER DATABASE %s RENAME TO %s' % (pg_logic.quote_ident(old), pg_logic.quote_ident(new)))
            return
        except LifeboatError as e:
            last = e
            if 'is being accessed by other users' not in e.msg:
                raise
            time.sleep(0.3)
    raise last


def drop_database(c, dbname, server_num):
    if server_num >= 130000:
        c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % pg_logic.quote_ident(dbname))
    else:
        terminate_sessions(c, dbname)
        c.execute('DROP DATABASE IF EXISTS %s' % pg_logic.quote_ident(dbname))


def set_allow_connections(c, dbname, allow):
    c.execute('ALTER DATABASE %s ALLOW_CONNECTIONS %s' % (pg_logic.quote_ident(dbname), 'true' if allow else 'false'))


# ---------------------------------------------------------------- client tools

def find_tool(name, bin_dir, server_num):
    """(path, version_num, version_text) of a client tool: the first candidate that can handle the server,
    else the first one found (so the version check can say why it cannot)."""
    first = None
    for p in pg_logic.tool_candidates(name, bin_dir, server_num, pipeline.which(name)):
        if not (os.path.isfile(p) and os.access(p, os.X_OK)):
            continue
        text = pipeline.tool_version(p)
        num = pg_logic.parse_version(text)
        if num is None:
            continue
        if pg_logic.tool_can_dump(num, server_num):
            return p, num, text
        if first is None:
            first = (p, num, text)
    if first is not None:
        return first
    where = ('in %s' % bin_dir) if bin_dir else 'on PATH (nor in the version-specific directories)'
    raise LifeboatError('%s was not found %s, or does not tell its version: install the PostgreSQL client tools '
                        '(see bindep.txt)' % (name, where))


def run_tool(argv, env, cwd=None, stdin_path=None):
    """Run a client tool to completion. stdout is discarded; stderr is kept (its last 256 KiB).
    Returns (rc, stderr)."""
    errf = tempfile.TemporaryFile()
    stdin = None
    try:
        if stdin_path:
            stdin = open(stdin_path, 'rb')
        try:
            p = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                                 cwd=cwd, env=env, close_fds=True)
        except OSError as e:
            raise LifeboatError('cannot start %s: %s' % (argv[0], e.strerror or e))
        rc = p.wait()
        size = errf.seek(0, os.SEEK_END)
        errf.seek(max(0, size - STDERR_KEEP))
        err = errf.read().decode('utf-8', 'replace')
        return rc, err
    finally:
        errf.close()
        if stdin is not None:
            stdin.close()
