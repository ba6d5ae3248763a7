# -*- coding: utf-8 -*-
"""Throwaway PostgreSQL clusters for the integration tests (real servers, own port, own data dir).

initdb runs as the ``postgres`` OS user (initdb refuses root) through runuser; the data dir and the unix
socket dir live under a world-traversable base dir so that user can enter them. Every server started
here is stopped at teardown (pg_ctl stop -m immediate, then SIGKILL of the postmaster by its own PID
if it is still there).
"""
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid

PG_MAJOR = os.environ.get('LIFEBOAT_TEST_PG_MAJOR', '15')
PG_BIN = pathlib.Path('/usr/lib/postgresql/%s/bin' % PG_MAJOR)
OS_USER = 'postgres'


def available():
    """Why PostgreSQL tests cannot run here, or None."""
    if not (PG_BIN / 'initdb').exists():
        return 'PostgreSQL %s server binaries not installed (%s)' % (PG_MAJOR, PG_BIN)
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        return 'no %s OS user' % OS_USER
    if os.geteuid() != 0:
        return 'the PostgreSQL tests need root (initdb runs as postgres via runuser)'
    return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def base_dir():
    base = pathlib.Path(os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests'))
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(str(base), 0o755)
    d = base / ('pg-' + uuid.uuid4().hex[:10])
    d.mkdir()
    os.chmod(str(d), 0o755)
    return d


class PgServer(object):
    """One cluster. ``password`` switches authentication to scram-sha-256 for TCP and the socket."""

    def __init__(self, root, name='pg', password=None, superuser='postgres', peer=False):
        self.root = pathlib.Path(root) / name
        self.data = self.root / 'data'
        self.sockdir = self.root / 'sock'
        self.log = self.root / 'server.log'
        self.port = None
        self.password = password
        self.superuser = superuser
        self.peer = peer  # the socket takes only the OS user of the same name (TCP stays trust)
        self.pid = None
        pw = pwd.getpwnam(OS_USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    # ------------------------------------------------------------ lifecycle
    def _as_pg(self, argv, **kw):
        return subprocess.run(['runuser', '-u', OS_USER, '--'] + [str(a) for a in argv], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, check=False, **kw)

    def init(self):
        self.root.mkdir(parents=True)
        for d in (self.root, self.sockdir):
            d.mkdir(exist_ok=True)
            os.chown(str(d), self.uid, self.gid)
            os.chmod(str(d), 0o755)
        argv = [PG_BIN / 'initdb', '-D', self.data, '-U', self.superuser, '--no-sync', '-E', 'UTF8',
                '--locale=C.UTF-8', '--no-instructions']
        if self.password:
            pwfile = self.root / 'pwfile'
            pwfile.write_text(self.password + '\n')
            os.chown(str(pwfile), self.uid, self.gid)
            os.chmod(str(pwfile), 0o600)
            argv += ['--auth=scram-sha-256', '--pwfile', pwfile]
        elif self.peer:
            argv += ['--auth-local=peer', '--auth-host=trust']
        else:
            argv += ['--auth=trust']
        r = self._as_pg(argv)
        if r.returncode != 0:
            raise RuntimeError('initdb failed: %s' % r.stdout)
        with open(str(self.data / 'postgresql.conf'), 'a') as f:
            f.write('\n# lifeboat tests\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
                    'max_wal_size = 1GB\ncheckpoint_timeout = 30min\nshared_buffers = 64MB\n'
                    'max_connections = 40\nlogging_collector = off\n')
        return self

    def start(self):
        last = None
        for _attempt in range(3):
            self.port = free_port()
            opts = "-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s" % (self.port, self.sockdir)
            r = self._as_pg([PG_BIN / 'pg_ctl', '-D', self.data, '-l', self.log, '-o', opts, '-w', '-t', '60',
                             'start'])
            if r.returncode == 0:
                self.pid = int((self.data / 'postmaster.pid').read_text().splitlines()[0])
                return self
            last = r.stdout + self.log_tail()
        raise RuntimeError('postgres did not start: %s' % last)

    def stop(self, mode='immediate'):
        if self.pid is None:
            return
        self._as_pg([PG_BIN / 'pg_ctl', '-D', self.data, '-m', mode, '-w', '-t', '30', 'stop'])
        deadline = time.time() + 10
        while time.time() < deadline and _alive(self.pid):
            time.sleep(0.05)
        if _alive(self.pid):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.pid = None

    def destroy(self):
        self.stop()
        shutil.rmtree(str(self.root), ignore_errors=True)

    def log_tail(self, n=30):
        try:
            return '\n'.join(self.log.read_text(errors='replace').splitlines()[-n:])
        except OSError:
            return ''

    # ------------------------------------------------------------ clients
    def conn_params(self, tcp=True):
        """Module options to reach this server (``lifeboat_postgresql`` connection keys)."""
        p = {'login_user': self.superuser, 'port': self.port}
        if tcp:
            p['login_host'] = '127.0.0.1'
        else:
            p['login_unix_socket'] = str(self.sockdir)
        if self.password:
            p['login_password'] = self.password
        return p

    def env(self):
        e = dict(os.environ)
        e.update({'PGHOST': '127.0.0.1', 'PGPORT': str(self.port), 'PGUSER': self.superuser})
        if self.password:
            e['PGPASSWORD'] = self.password
        return e

    def psql(self, sql, db='postgres', check=True):
        """Run SQL with psql (ON_ERROR_STOP); returns stdout (unaligned, tuples only, '|' separated)."""
        r = subprocess.run([str(PG_BIN / 'psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d',
                            conninfo(db)], input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=self.env(), check=False)
        if check and r.returncode != 0:
            raise RuntimeError('psql on %r failed: %s' % (db, r.stderr))
        return r.stdout if check else r

    def q(self, sql, db='postgres'):
        return self.psql(sql, db).strip()

    def databases(self):
        out = self.q("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")
        return [x for x in out.split('\n') if x]


def conninfo(db):
    return "dbname='%s'" % db.replace('\\', '\\\\').replace("'", "\\'")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def serve(name, database, sql):
    """A pytest fixture's body: a started server named ``name`` with ``database`` filled by ``sql``, destroyed
    afterwards; the test is skipped where PostgreSQL cannot run. Use: ``yield from pgserver.serve(...)``."""
    import pytest  # only the tests import this module
    reason = available()
    if reason:
        pytest.skip(reason)
    server = PgServer(base_dir(), name=name)
    try:
        server.init().start()
        server.psql('CREATE DATABASE %s' % database)
        server.psql(sql, database)
        yield server
    finally:
        server.destroy()
