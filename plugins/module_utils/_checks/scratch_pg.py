# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PostgreSQL server for restore drills (postgresql_scratch): created, used once, torn down.

initdb runs in a new private directory as an unprivileged OS user (initdb refuses root), for the PostgreSQL
major version a set needs (or the newest installed one above it). The server listens on 127.0.0.1 at a free
port with scram-sha-256 and a random password that only lives in a 0600 passfile (libpq's format) next to
the data; its unix socket sits in a 0700 directory. Nothing is durable (fsync off): it only ever holds a
copy that is thrown away. ``remove`` stops it (immediate) and deletes everything, whatever state it is in.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import tempfile

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner

MARK = 'lifeboat-scratch-pg-'
STATE_FILE = 'scratch.json'
BIN_PATTERNS = ('/usr/lib/postgresql/*/bin', '/usr/pgsql-*/bin')


def major_of(version_num):
    """150018 -> 15; 90624 -> 9.6 (as text)."""
    version_num = int(version_num)
    if version_num >= 100000:
        return str(version_num // 10000)
    return '%d.%d' % (version_num // 10000, version_num // 100 % 100)


def _major_key(text):
    return tuple(int(part) for part in text.split('.'))


def installed_majors(patterns=BIN_PATTERNS):
    """{major text: bin dir} of the PostgreSQL servers installed (those with initdb and postgres)."""
    found = {}
    for pattern in patterns:
        for bin_dir in glob.glob(pattern):
            if not (os.path.exists(os.path.join(bin_dir, 'initdb')) and os.path.exists(os.path.join(bin_dir, 'postgres'))):
                continue
            found_major = re.search(r'(\d+(?:\.\d+)?)', bin_dir.replace('/usr/lib/postgresql/', '').replace('/usr/pgsql-', ''))
            if found_major:
                found.setdefault(found_major.group(1), bin_dir)
    return found


def choose_bin_dir(needed_num, bin_dir=None, installed=None):
    """The server binaries to use: ``bin_dir``, else the needed major, else the newest installed major above it."""
    if bin_dir:
        if not os.path.exists(os.path.join(bin_dir, 'initdb')):
            raise NotFoundError('%s has no initdb: point bin_dir at a PostgreSQL server installation' % bin_dir)
        return bin_dir
    installed = installed_majors() if installed is None else installed
    if not installed:
        raise NotFoundError('no PostgreSQL server is installed on this host (initdb and postgres under /usr/lib/postgresql/<major>/bin '
                            'or /usr/pgsql-<major>/bin): install the server package of the dump\'s major version for the drill')
    if not needed_num:
        return installed[max(installed, key=_major_key)]
    needed = major_of(needed_num)
    usable = [major for major in installed if _major_key(major) >= _major_key(needed)]
    if not usable:
        raise NotFoundError('the drill needs a PostgreSQL %s server (the set was dumped from one) but this host has only %s: '
                            'install postgresql-%s' % (needed, ', '.join(sorted(installed, key=_major_key)), needed))
    best = needed if needed in usable else min(usable, key=_major_key)
    return installed[best]


def free_port(address='127.0.0.1'):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((address, 0))
        return probe.getsockname()[1]
    finally:
        probe.close()


class _As(object):
    """Runs the server's commands as the OS user (setpriv), files given to it."""

    def __init__(self, name):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ConfigError('os_user %s does not exist on this host (the scratch server cannot run as root)' % name)
        self.name, self.uid, self.gid, self.home = name, entry.pw_uid, entry.pw_gid, entry.pw_dir
        self.root = os.geteuid() == 0
        if not self.root and os.geteuid() != self.uid:
            raise ConfigError('the scratch server runs as %s: run the module as root (become) or as %s' % (name, name))
        self.setpriv = pipeline.need_tool('setpriv', 'running the scratch server as %s (package util-linux)' % name) if self.root else None

    def argv(self, argv):
        if not self.root:
            return list(argv)
        return [self.setpriv, '--reuid=%d' % self.uid, '--regid=%d' % self.gid, '--clear-groups', '--'] + list(argv)

    def give(self, path):
        if self.root:
            os.chown(path, self.uid, self.gid)

    def env(self):
        env = dict(os.environ, HOME=self.home, USER=self.name, LOGNAME=self.name)
        for key in ('PGDATA', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGSERVICE', 'PGOPTIONS'):
            env.pop(key, None)
        return env


def _run(runner, as_user, argv, what, timeout=300):
    """Run a server command as the server's user (through the command runner); LifeboatError when it fails."""
    done = runner.run(as_user.argv(argv), timeout=timeout, env=as_user.env(), cwd='/', what=what)
    if not done.ok:
        raise LifeboatError('%s failed: %s' % (what, done.describe()))
    return done


def _initdb_argv(bin_dir, data, superuser, pwfile):
    return [os.path.join(bin_dir, 'initdb'), '-D', data, '-U', superuser, '--pwfile=' + pwfile, '--encoding=UTF8',
            '--locale=C', '--auth-local=peer', '--auth-host=scram-sha-256', '--no-sync']


def _start_argv(bin_dir, data, sock, port):
    options = ("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='%s' -c fsync=off -c full_page_writes=off "
               "-c synchronous_commit=off -c max_connections=40 -c password_encryption=scram-sha-256" % (port, sock))
    return [os.path.join(bin_dir, 'pg_ctl'), '-D', data, '-l', os.path.join(sock, 'server.log'), '-w', '-t', '120',
            '-o', options, 'start']


def create(parent, needed_num=None, bin_dir=None, os_user='postgres', superuser='postgres', runner=None):
    """initdb + start. Returns the connection facts (no password: it is in ``passfile``).

    ``runner`` (_runner.Runner) runs the server's commands; in its check mode they are only recorded.
    """
    runner = runner or command_runner.default_runner()
    if not os.path.isabs(parent or '') or not os.path.isdir(parent):
        raise ConfigError('the scratch parent directory %r must be an existing absolute path' % (parent,))
    chosen = choose_bin_dir(needed_num, bin_dir)
    as_user = _As(os_user)
    version = runner.tool_version(os.path.join(chosen, 'postgres')) or '?'
    plan = {'bin_dir': chosen, 'version': version, 'os_user': os_user, 'login_user': superuser}
    if runner.check_mode:
        root = os.path.join(parent, MARK + 'XXXXXXXX')
        _run(runner, as_user, _initdb_argv(chosen, os.path.join(root, 'data'), superuser, os.path.join(root, 'socket', '.initpw')),
             'initdb')
        _run(runner, as_user, _start_argv(chosen, os.path.join(root, 'data'), os.path.join(root, 'socket'), 0),
             'starting the scratch PostgreSQL server')
        plan.update({'changed': True, 'path': root})
        return plan
    root = tempfile.mkdtemp(prefix=MARK, dir=parent)
    try:
        os.chmod(root, 0o711)
        try:
            _run(runner, as_user, [pipeline.need_tool('test', 'checking the scratch directory'), '-x', root],
                 'checking the directory')
        except LifeboatError:
            raise ConfigError('the scratch server runs as %s, which cannot enter %s: every parent directory must be '
                              'traversable by it (mode o+x), as /var/tmp is; pick another parent' % (os_user, root))
        data, sock, secret = os.path.join(root, 'data'), os.path.join(root, 'socket'), os.path.join(root, 'secret')
        for path, mode, owned in ((data, 0o700, True), (sock, 0o700, True), (secret, 0o700, False)):
            os.mkdir(path, mode)
            if owned:
                as_user.give(path)
        password = secrets.token_urlsafe(24)
        pwfile = os.path.join(sock, '.initpw')  # readable by the server's user only, removed right after initdb
        with os.fdopen(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
            handle.write(password + '\n')
        as_user.give(pwfile)
        try:
            _run(runner, as_user, _initdb_argv(chosen, data, superuser, pwfile), 'initdb')
        finally:
            os.unlink(pwfile)
        port = free_port()
        _run(runner, as_user, _start_argv(chosen, data, sock, port), 'starting the scratch PostgreSQL server')
        passfile = os.path.join(secret, 'pgpass')
        with os.fdopen(os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
            handle.write('127.0.0.1:%d:*:%s:%s\n' % (port, superuser, password.replace('\\', '\\\\').replace(':', '\\:')))
        facts = dict(plan, path=root, data_dir=data, socket_dir=sock, login_host='127.0.0.1', port=port, passfile=passfile)
        with open(os.path.join(root, STATE_FILE), 'w') as handle:
            json.dump(facts, handle)
    except BaseException:
        remove(root, os_user=os_user, runner=runner)
        raise
    facts['changed'] = True
    return facts


def remove(path, os_user='postgres', runner=None):
    """Stop the scratch server at ``path`` (if it runs) and delete the directory. Idempotent."""
    if not path or os.path.basename(path.rstrip('/')).find(MARK) != 0:
        raise ConfigError('%r is not a scratch server directory (its name starts with %s)' % (path, MARK))
    runner = runner or command_runner.default_runner()
    if not os.path.lexists(path):
        return {'changed': False, 'path': path, 'removed': False}
    data = os.path.join(path, 'data')
    facts = {}
    try:
        with open(os.path.join(path, STATE_FILE)) as handle:
            facts = json.load(handle)
    except (IOError, OSError, ValueError):
        pass
    stopped = None
    if os.path.exists(os.path.join(data, 'postmaster.pid')):
        pg_ctl = os.path.join(facts.get('bin_dir') or '', 'pg_ctl')
        if not os.path.exists(pg_ctl):
            pg_ctl = pipeline.which('pg_ctl')
        try:
            _run(runner, _As(facts.get('os_user') or os_user), [pg_ctl, '-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop'],
                 'stopping the scratch server')
            stopped = True
        except LifeboatError:
            stopped = None if runner.check_mode else _kill_postmaster(data)
    if runner.check_mode:
        return {'changed': True, 'path': path, 'removed': True}
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        raise LifeboatError('could not remove the scratch server directory %s' % path)
    return {'changed': True, 'path': path, 'removed': True, 'stopped': stopped}


def _kill_postmaster(data):
    try:
        with open(os.path.join(data, 'postmaster.pid')) as handle:
            pid = int(handle.readline().strip())
        os.kill(pid, 9)
        return True
    except (IOError, OSError, ValueError):
        return False
