# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL component: pure logic (no I/O), shared by postgresql_backup and postgresql_restore.

Connection option spec, libpq conninfo/environment building, version parsing and checks, argv of
pg_dump / pg_dumpall / pg_restore / psql, stderr judging, artifact name encoding, the globals rewrite
and the SQL that recreates a database's own properties. Everything takes and returns plain values.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

COMPONENT = 'postgresql'
GLOBALS_NAME = 'globals'
SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

# Connection options of both modules (documented in doc_fragments/postgresql.py).
CONNECTION_SPEC = dict(
    login_host=dict(type='str'),
    login_unix_socket=dict(type='str'),
    port=dict(type='int'),
    login_user=dict(type='str'),
    login_password=dict(type='str', no_log=True),
    maintenance_db=dict(type='str', default='postgres'),
    ssl_mode=dict(type='str', choices=SSL_MODES),
    ca_cert=dict(type='path'),
    passfile=dict(type='path', no_log=False),
    connect_timeout=dict(type='int', default=10),
    bin_dir=dict(type='path'),
    os_user=dict(type='str'),
)
CONNECTION_MUTUALLY_EXCLUSIVE = [('login_host', 'login_unix_socket')]

# Artifact formats (record 'format' field) and file extensions.
FORMAT_CUSTOM = 'pg_dump-custom'
FORMAT_DIRECTORY = 'pg_dump-directory-tar'
FORMAT_GLOBALS = 'pg_dumpall-globals-sql'
EXTENSIONS = {FORMAT_CUSTOM: '.pgdump', FORMAT_DIRECTORY: '.pgdir.tar', FORMAT_GLOBALS: '.sql'}
DUMP_DIR_NAME = 'dump'


# ---------------------------------------------------------------- libpq connection strings

def conninfo_quote(value):
    """A libpq conninfo value: single-quoted, with backslash and quote escaped."""
    return "'" + str(value).replace('\\', '\\\\').replace("'", "\\'") + "'"


def conn_host(params):
    return params.get('login_host') or params.get('login_unix_socket') or None


def conninfo(params, dbname):
    """conninfo string for the client tools' -d option. Never holds the password (that goes in env).

    Passing the database as ``dbname='...'`` inside a conninfo string (not as a bare name) keeps names
    with '=', spaces, quotes or a 'postgresql://' prefix from being parsed as connection strings.
    """
    parts = []
    host = conn_host(params)
    if host:
        parts.append('host=' + conninfo_quote(host))
    if params.get('port'):
        parts.append('port=' + conninfo_quote(int(params['port'])))
    if params.get('login_user'):
        parts.append('user=' + conninfo_quote(params['login_user']))
    parts.append('dbname=' + conninfo_quote(dbname))
    return ' '.join(parts)


def libpq_env(params, base_env):
    """Environment for the client tools: the caller's libpq variables plus ours (password only here)."""
    env = dict(base_env)
    env['PGAPPNAME'] = 'lifeboat.backup'
    if params.get('login_password'):
        env['PGPASSWORD'] = params['login_password']
    if params.get('passfile'):
        env['PGPASSFILE'] = params['passfile']
    if params.get('ssl_mode'):
        env['PGSSLMODE'] = params['ssl_mode']
    if params.get('ca_cert'):
        env['PGSSLROOTCERT'] = params['ca_cert']
    if params.get('connect_timeout'):
        env['PGCONNECT_TIMEOUT'] = str(int(params['connect_timeout']))
    # a PGDATABASE/PGSERVICE of the caller must not redirect the tools to another database
    for name in ('PGDATABASE', 'PGSERVICE', 'PGOPTIONS'):
        env.pop(name, None)
    return env


def run_as_argv(argv, setpriv, uid, gid, init_groups=True):
    """``argv`` run as another OS user through util-linux setpriv (real and effective ids, and that user's
    supplementary groups, or none where this setpriv cannot set them)."""
    groups = '--init-groups' if init_groups else '--clear-groups'
    return [setpriv, '--reuid=%d' % int(uid), '--regid=%d' % int(gid), groups, '--'] + list(argv)


def run_as_env(env, name, home):
    """The tools' environment for OS user ``name``: its own HOME (its ~/.pgpass), USER and LOGNAME."""
    out = dict(env)
    out.update({'HOME': home, 'USER': name, 'LOGNAME': name})
    return out


def connect_kwargs(params, dbname):
    """Keyword arguments of psycopg2.connect (libpq does the quoting)."""
    kw = {'dbname': dbname, 'application_name': 'lifeboat.backup'}
    host = conn_host(params)
    if host:
        kw['host'] = host
    if params.get('port'):
        kw['port'] = int(params['port'])
    if params.get('login_user'):
        kw['user'] = params['login_user']
    if params.get('login_password'):
        kw['password'] = params['login_password']
    if params.get('ssl_mode'):
        kw['sslmode'] = params['ssl_mode']
    if params.get('ca_cert'):
        kw['sslrootcert'] = params['ca_cert']
    if params.get('passfile'):
        kw['passfile'] = params['passfile']
    if params.get('connect_timeout'):
        kw['connect_timeout'] = int(params['connect_timeout'])
    return kw


def describe_server(params):
    host = conn_host(params) or 'the default socket'
    port = params.get('port') or 'default port'
    user = params.get('login_user') or 'the default user'
    return 'PostgreSQL at %s:%s as %s' % (host, port, user)


def source_uri(params, dbname):
    """The record's ``source``: where a dump came from (no secrets)."""
    host = conn_host(params) or 'localhost'
    port = params.get('port') or 5432
    return 'postgresql://%s:%s/%s' % (host, port, dbname)


# ---------------------------------------------------------------- versions

_TOOL_VER_RE = re.compile(r'\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?')
_ANY_VER_RE = re.compile(r'(\d+)(?:\.(\d+))?(?:\.(\d+))?')


def parse_version(text):
    """A PostgreSQL version text ('pg_dump (PostgreSQL) 15.18 (Debian...)', '9.6.24', '16beta1') as a
    server_version_num-like integer (150018, 90624, 160000). None when there is none.
    """
    if text is None:
        return None
    text = str(text)
    match = _TOOL_VER_RE.search(text) or _ANY_VER_RE.search(text)
    if not match:
        return None
    major = int(match.group(1))
    minor = int(match.group(2) or 0)
    patch = int(match.group(3) or 0)
    if major >= 10:
        return major * 10000 + minor
    return major * 10000 + minor * 100 + patch


def major_num(num):
    """The major part of a version number: 150018 -> 150000, 90624 -> 90600."""
    num = int(num)
    if num >= 100000:
        return num // 10000 * 10000
    return num // 100 * 100


def major_text(num):
    num = int(num)
    if num >= 100000:
        return str(num // 10000)
    return '%d.%d' % (num // 10000, num // 100 % 100)


def version_text(num):
    num = int(num)
    if num >= 100000:
        return '%d.%d' % (num // 10000, num % 10000)
    return '%d.%d.%d' % (num // 10000, num // 100 % 100, num % 100)


def check_dump_tool(tool, tool_num, server_num, where):
    """pg_dump/pg_dumpall must be at least the server's major version (they refuse otherwise)."""
    if tool_num is None:
        raise LifeboatError('cannot tell the version of %s (%s)' % (tool, where))
    if major_num(tool_num) < major_num(server_num):
        raise LifeboatError(
            '%s %s (%s) is older than the PostgreSQL %s server; it cannot dump it. Install the PostgreSQL %s '
            'client tools and point bin_dir at them (for example /usr/lib/postgresql/%s/bin)'
            % (tool, version_text(tool_num), where, version_text(server_num), major_text(server_num),
               major_text(server_num)))


def check_restore_versions(dbname, restore_tool_num, dumped_by_num, target_server_num, source_server_num,
                           restore_tool='pg_restore', what=None):
    """Problems (list of str) that keep a dump from being restored onto the target server."""
    what = what or 'database %s' % quote_ident(dbname)
    problems = []
    if restore_tool_num is None:
        problems.append('cannot tell the version of %s' % restore_tool)
    elif dumped_by_num and major_num(restore_tool_num) < major_num(dumped_by_num):
        problems.append('%s was dumped by pg_dump %s, and %s %s cannot read it: use client tools %s or newer (bin_dir)'
                        % (what, version_text(dumped_by_num), restore_tool, version_text(restore_tool_num),
                           major_text(dumped_by_num)))
    if source_server_num and major_num(target_server_num) < major_num(source_server_num):
        problems.append('%s: the source server was PostgreSQL %s and the target server is %s. Restoring onto an older '
                        'major version is not supported: use a PostgreSQL %s or newer server'
                        % (what, version_text(source_server_num), version_text(target_server_num),
                           major_text(source_server_num)))
    return problems


def tool_candidates(name, bin_dir, server_num, path_hit):
    """Where to look for a client tool, best first: bin_dir only when given; else the version-specific
    directories of Debian/Ubuntu and PGDG RPM packages for the server's major version (the exact tools,
    without the Debian pg_wrapper's own choice of version), then the PATH hit."""
    if bin_dir:
        return [bin_dir.rstrip('/') + '/' + name]
    out = []
    if server_num:
        major = major_text(server_num)
        out.append('/usr/lib/postgresql/%s/bin/%s' % (major, name))
        out.append('/usr/pgsql-%s/bin/%s' % (major, name))
    if path_hit:
        out.append(path_hit)
    return out


def tool_can_dump(tool_num, server_num):
    """Whether a client tool of this version handles a server of that version (same or newer major)."""
    return server_num is None or major_num(tool_num) >= major_num(server_num)


# ---------------------------------------------------------------- argv

def pg_dump_argv(pg_dump, conninfo_str, dump_format='custom', jobs=1, out_dir=None, lock_wait_timeout=None,
                 compress_level=0, snapshot=None):
    """pg_dump argv. custom: to stdout, uncompressed (-Z0; the pipeline compresses). directory: into
    out_dir with --jobs. ``snapshot``: an exported snapshot to dump (the one the row counts were taken in)."""
    argv = [pg_dump, '--no-password', '--no-sync']
    if dump_format == 'custom':
        argv += ['--format=custom', '--compress=%d' % compress_level]
    elif dump_format == 'directory':
        if not out_dir:
            raise LifeboatError('directory format needs an output directory')
        argv += ['--format=directory', '--compress=%d' % compress_level, '--jobs=%d' % max(1, int(jobs)),
                 '--file=' + out_dir]
    else:
        raise LifeboatError('unknown dump format %r (use custom or directory)' % (dump_format,))
    if lock_wait_timeout:
        argv.append('--lock-wait-timeout=%s' % lock_wait_timeout)
    if snapshot:
        argv.append('--snapshot=' + snapshot)
    argv += ['--dbname=' + conninfo_str]
    return argv


def pg_dumpall_globals_argv(pg_dumpall, conninfo_str):
    return [pg_dumpall, '--no-password', '--globals-only', '--dbname=' + conninfo_str]


def pg_restore_argv(pg_restore, conninfo_str, path=None, jobs=1, single_transaction=False, clean=False,
                    no_owner=False, no_privileges=False, dump_format='custom'):
    """pg_restore argv into an existing database; reads stdin when ``path`` is None."""
    jobs = max(1, int(jobs))
    if path is None and jobs > 1:
        raise LifeboatError('parallel pg_restore needs a file, not a stream')
    if single_transaction and jobs > 1:
        raise LifeboatError('single_transaction cannot be combined with jobs > 1 (pg_restore refuses it)')
    argv = [pg_restore, '--no-password', '--exit-on-error',
            '--format=%s' % ('directory' if dump_format == 'directory' else 'custom'),
            '--dbname=' + conninfo_str]
    if jobs > 1:
        argv.append('--jobs=%d' % jobs)
    if single_transaction:
        argv.append('--single-transaction')
    if clean:
        argv += ['--clean', '--if-exists']
    if no_owner:
        argv.append('--no-owner')
    if no_privileges:
        argv.append('--no-privileges')
    if path is not None:
        argv.append(path)
    return argv


def psql_file_argv(psql, conninfo_str, path):
    """psql running one SQL file, stopping at the first error."""
    return [psql, '--no-password', '--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--dbname=' + conninfo_str,
            '--file=' + path]


# ---------------------------------------------------------------- judging a tool's exit and stderr

_FATAL_LINE = re.compile(r'(?:^|[\s:])(?:FATAL|ERROR|PANIC):|^[\w./-]+:(?:[^:\n]*:){0,3}\s*(?:error|fatal):', re.M)


def judge_tool(tool, rc, stderr):
    """Verdict on a client tool run: dict(ok, error, warnings).

    A run fails when it exited non-zero, was killed (rc < 0), or said FATAL/ERROR/PANIC or 'error:' on
    stderr even though it exited 0 (some pg_dump versions exit 0 after a pg_hba rejection). Other stderr
    lines are kept as warnings.
    """
    stderr = stderr or ''
    lines = [ln.rstrip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if _FATAL_LINE.search(ln)]
    warnings = [ln for ln in lines if ln not in fatal]
    if rc is None:
        return {'ok': False, 'error': '%s did not finish' % tool, 'warnings': warnings}
    if rc < 0:
        why = '%s was killed by signal %d (its output is incomplete)' % (tool, -rc)
    elif rc != 0:
        why = '%s exited with %d' % (tool, rc)
    elif fatal:
        why = '%s exited 0 but reported an error' % tool
    else:
        return {'ok': True, 'error': None, 'warnings': warnings[:50]}
    quote = fatal[:3] or lines[-3:]
    if quote:
        why += ': ' + ' / '.join(quote)
    return {'ok': False, 'error': why, 'warnings': warnings[:50]}


# ---------------------------------------------------------------- artifact names

_SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$')


def artifact_name(dbname):
    """The set artifact name of a database.

    A name made only of letters, digits, '_', '.', '+', '-' (starting with a letter or digit, at most
    100 characters, and not 'globals') is used as it is. Anything else is encoded as a readable ASCII
    slug, '@', and 12 hex digits of the name's SHA-256: encoded names always contain '@' and plain
    ones never do, so two databases cannot get the same name. The real name is kept in the record.
    """
    if dbname != GLOBALS_NAME and _SAFE_NAME.match(dbname):
        return dbname
    slug = re.sub(r'[^A-Za-z0-9_.+-]+', '_', dbname).strip('_.+-')[:100]
    if not slug or not slug[0].isalnum():
        slug = 'db' + ('_' + slug if slug else '')
    digest = hashlib.sha256(dbname.encode('utf-8')).hexdigest()[:12]
    return set_format.validate_name('%s@%s' % (slug[:100], digest), 'artifact name')


# ---------------------------------------------------------------- selection

def select_databases(available, include, exclude):
    """The databases to dump, in server order. ``include`` names must exist; ``exclude`` names need not."""
    names = [d['name'] for d in available]
    missing = [n for n in include or [] if n not in names]
    if missing:
        raise LifeboatError('database%s %s do%s not exist on the server (it has: %s)'
                            % ('s' if len(missing) > 1 else '', ', '.join(quote_ident(n) for n in missing),
                               '' if len(missing) > 1 else 'es', ', '.join(quote_ident(n) for n in names) or 'none'))
    chosen = [d for d in available if (not include or d['name'] in include) and d['name'] not in (exclude or [])]
    return chosen


def restore_targets(records, databases, rename, target_database):
    """[(record, target_name)] for the databases to restore, from the set's database records."""
    by_name = {r.get('extra', {}).get('database'): r for r in records}
    wanted = list(databases) if databases else sorted(by_name, key=lambda n: n or '')
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise LifeboatError('the set has no dump of database%s %s (it has: %s)'
                            % ('s' if len(missing) > 1 else '', ', '.join(quote_ident(n) for n in missing),
                               ', '.join(quote_ident(n) for n in sorted(by_name)) or 'none'))
    rename = dict(rename or {})
    unknown = [k for k in rename if k not in wanted]
    if unknown:
        raise LifeboatError('rename names database%s %s, which %s not being restored (restoring: %s)'
                            % ('s' if len(unknown) > 1 else '', ', '.join(quote_ident(n) for n in unknown),
                               'are' if len(unknown) > 1 else 'is', ', '.join(quote_ident(n) for n in wanted)))
    if target_database:
        if len(wanted) != 1:
            raise LifeboatError('target_database needs exactly one database to restore (databases: [name]); '
                                'this restore has %d: use rename for several' % len(wanted))
        rename = {wanted[0]: target_database}
    out = []
    seen = {}
    for name in wanted:
        target = rename.get(name, name)
        if not target or len(target.encode('utf-8')) > 63:
            raise LifeboatError('target database name %r is not valid (1-63 bytes)' % (target,))
        if target in seen:
            raise LifeboatError('databases %s and %s would both be restored as %s'
                                % (quote_ident(seen[target]), quote_ident(name), quote_ident(target)))
        seen[target] = name
        out.append((by_name[name], target))
    return out


# ---------------------------------------------------------------- SQL text

def quote_ident(name):
    """Always-quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value):
    """SQL string literal (standard_conforming_strings on)."""
    return "'" + str(value).replace("'", "''") + "'"


def staging_name(token):
    return 'lifeboat_restore_' + token


def old_name(token):
    return 'lifeboat_old_' + token


# GUCs whose value is a list (pg_dump quotes each element).
LIST_GUCS = frozenset(['search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries',
                       'shared_preload_libraries', 'wal_consistency_checking', 'log_destination'])


def split_guc_list(value):
    """Split a list setting as stored in pg_db_role_setting ('"my schema", public') into elements."""
    out = []
    cur = []
    inq = False
    pos = 0
    while pos < len(value):
        char = value[pos]
        if inq:
            if char == '"':
                if pos + 1 < len(value) and value[pos + 1] == '"':
                    cur.append('"')
                    pos += 1
                else:
                    inq = False
            else:
                cur.append(char)
        elif char == '"':
            inq = True
        elif char == ',':
            out.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(char)
        pos += 1
    last = ''.join(cur).strip()
    if last or out:
        out.append(last)
    return out


def setting_sql(prefix, setting):
    """'ALTER DATABASE x' + ' SET name = value' from a pg_db_role_setting entry 'name=value'."""
    name, _sep, value = setting.partition('=')
    if not re.match(r'^[A-Za-z_][A-Za-z0-9_.$]*$', name):
        raise LifeboatError('cannot recreate setting %r' % (setting,))
    if name.lower() in LIST_GUCS:
        vals = ', '.join(quote_literal(v) for v in split_guc_list(value)) or "''"
    else:
        vals = quote_literal(value)
    return '%s SET %s TO %s' % (prefix, name, vals)


_PRIVS = {'CREATE': 'CREATE', 'TEMPORARY': 'TEMPORARY', 'CONNECT': 'CONNECT'}


def database_create_sql(name, props, owner=None, tablespace=None):
    """CREATE DATABASE for a restore target with the source's encoding and locale."""
    parts = ['CREATE DATABASE %s WITH TEMPLATE = template0' % quote_ident(name)]
    if props.get('encoding'):
        parts.append('ENCODING = %s' % quote_literal(props['encoding']))
    if props.get('locale_provider') == 'icu':
        parts.append('LOCALE_PROVIDER = icu')
        if props.get('icu_locale'):
            parts.append('ICU_LOCALE = %s' % quote_literal(props['icu_locale']))
    if props.get('collate'):
        parts.append('LC_COLLATE = %s' % quote_literal(props['collate']))
    if props.get('ctype'):
        parts.append('LC_CTYPE = %s' % quote_literal(props['ctype']))
    if tablespace:
        parts.append('TABLESPACE = %s' % quote_ident(tablespace))
    if owner:
        parts.append('OWNER = %s' % quote_ident(owner))
    return ' '.join(parts)


def database_properties_sql(name, props, existing_roles):
    """Statements that give database ``name`` the source database's own properties (what pg_dump only
    emits with --create): settings (database-wide and per role), connection limit, comment, privileges.
    Entries naming roles the target does not have are skipped and reported. Returns (statements, skipped).
    """
    db = quote_ident(name)
    stmts = []
    skipped = []
    roles = set(existing_roles)
    if props.get('connlimit') not in (None, -1):
        stmts.append('ALTER DATABASE %s CONNECTION LIMIT %d' % (db, int(props['connlimit'])))
    for entry in props.get('settings') or []:
        role = entry.get('role')
        if role:
            if role not in roles:
                skipped.append('setting %s for missing role %s' % (entry['setting'], quote_ident(role)))
                continue
            stmts.append(setting_sql('ALTER ROLE %s IN DATABASE %s' % (quote_ident(role), db), entry['setting']))
        else:
            stmts.append(setting_sql('ALTER DATABASE %s' % db, entry['setting']))
    if props.get('comment') is not None:
        stmts.append('COMMENT ON DATABASE %s IS %s' % (db, quote_literal(props['comment'])))
    acl = props.get('acl')
    if acl is not None:
        # an explicit ACL replaces the defaults: start from nothing, grant exactly what the source had
        stmts.append('REVOKE ALL ON DATABASE %s FROM PUBLIC' % db)
        owner = props.get('owner')
        if owner and owner in roles:
            stmts.append('REVOKE ALL ON DATABASE %s FROM %s' % (db, quote_ident(owner)))
        for grant in acl:
            grantee = grant.get('grantee')
            priv = _PRIVS.get(grant.get('privilege'))
            if priv is None:
                skipped.append('privilege %s' % grant.get('privilege'))
                continue
            if grantee is not None and grantee not in roles:
                skipped.append('%s on the database for missing role %s' % (priv, quote_ident(grantee)))
                continue
            stmts.append('GRANT %s ON DATABASE %s TO %s%s' % (
                priv, db, 'PUBLIC' if grantee is None else quote_ident(grantee),
                ' WITH GRANT OPTION' if grant.get('grantable') and grantee is not None else ''))
    return stmts, skipped


# ---------------------------------------------------------------- globals

_CREATE_ROLE = re.compile(r'^CREATE ROLE ("(?:[^"]|"")+"|[^\s;"]+);\s*$')
_ALTER_ROLE_WITH = re.compile(r'^ALTER ROLE ("(?:[^"]|"")+"|[^\s;"]+) WITH ')
_CREATE_TABLESPACE = re.compile(r'^CREATE TABLESPACE ("(?:[^"]|"")+"|[^\s;"]+) ')


def _unident(text):
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return text


def rewrite_globals(sql, existing_roles, existing_tablespaces, login_role):
    """Make pg_dumpall --globals-only output apply cleanly to a server that already has some of it.

    - ``CREATE ROLE x;`` is dropped for roles the target already has (the ``ALTER ROLE x WITH ...``
      that follows still sets their attributes and password to the source's);
    - ``ALTER ROLE <login role> WITH ...`` is dropped: the restore never changes the role it runs as
      (its password or superuser flag) halfway through;
    - ``CREATE TABLESPACE x ...`` is dropped for tablespaces the target already has.
    Everything else runs as it is, under ON_ERROR_STOP. Returns (sql, notes).
    """
    roles = set(existing_roles)
    spaces = set(existing_tablespaces)
    out = []
    notes = []
    for line in sql.splitlines(True):
        match = _CREATE_ROLE.match(line)
        if match and _unident(match.group(1)) in roles:
            notes.append('role %s already exists: kept, attributes updated' % quote_ident(_unident(match.group(1))))
            out.append('-- lifeboat: role exists: ' + line)
            continue
        match = _ALTER_ROLE_WITH.match(line)
        if match and _unident(match.group(1)) == login_role:
            notes.append('role %s is the restoring login: left unchanged' % quote_ident(login_role))
            out.append('-- lifeboat: own login role left unchanged\n')
            continue
        match = _CREATE_TABLESPACE.match(line)
        if match and _unident(match.group(1)) in spaces:
            notes.append('tablespace %s already exists: kept' % quote_ident(_unident(match.group(1))))
            out.append('-- lifeboat: tablespace exists: ' + line)
            continue
        out.append(line)
    return ''.join(out), notes


def nonempty_reason(counts):
    """Human reason a database counts as non-empty, or None. ``counts`` from the adapter."""
    parts = []
    for key, label in (('relations', 'tables/views/sequences'), ('functions', 'functions'),
                       ('extensions', 'extensions'), ('large_objects', 'large objects'), ('schemas', 'schemas')):
        count = counts.get(key) or 0
        if count:
            parts.append('%d %s' % (count, label))
    return ', '.join(parts) or None
