# -*- coding: utf-8 -*-
"""Store test plumbing: a moto server (S3 + KMS over real HTTP), an sshd of our own, a TCP proxy that can be
"killed" mid-transfer, and a way to run one module for real.

Everything listens on 127.0.0.1 only, uses its own temp directory, and is stopped at teardown by the pids
it started. Credentials are fixed test values; AWS config files and the instance metadata service are
disabled for every boto3 client and module run.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# tests/conftest.py (always loaded first by pytest) puts the collection on this path
COLLECTIONS_PATH = os.environ['LIFEBOAT_COLLECTIONS_PATH']
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
HERE = os.path.dirname(os.path.abspath(__file__))

# shared with the EC2 tests; Moto, REGION and tool are re-exported for conftest.py and the tests
from awslib import (KEY, REGION, SAFE_ENV, Moto, free_port, stop_proc,  # noqa: E402,F401  pylint: disable=unused-import
                    tool, wait_port)


def descendants(pid):
    """Pids of every process below pid (read from /proc)."""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(')') + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


# ---------------------------------------------------------------- moto

def bucket_name(tag='t'):
    return 'lb-%s-%s' % (tag, uuid.uuid4().hex[:12])


# ---------------------------------------------------------------- sshd

class Sshd(object):
    """An OpenSSH server of our own on loopback: own host key, authorized_keys, pid file, log.

    Runs as root in a private mount namespace with a tmpfs on /run (sshd needs /run/sshd, which this
    machine lacks), so nothing outside the test directory is touched. With ``password``, root may also log
    in with that password: a copy of /etc/shadow with root's hash replaced is bind-mounted over
    /etc/shadow inside that namespace only (sshd without PAM reads it itself).
    """

    def __init__(self, base, password=None):
        self.dir = os.path.join(str(base), 'sshd-' + uuid.uuid4().hex[:8])
        os.makedirs(self.dir)
        self.port = free_port()
        self.host_key = self._keygen('hostkey')
        self.client_key = self._keygen('client')
        self.other_key = self._keygen('other')          # never authorized
        self.authorized = os.path.join(self.dir, 'authorized_keys')
        shutil.copy(self.client_key + '.pub', self.authorized)
        self.known_hosts = os.path.join(self.dir, 'known_hosts')
        with open(self.known_hosts, 'w') as f:
            f.write(self.known_hosts_line())
        self.config = os.path.join(self.dir, 'sshd_config')
        with open(self.config, 'w') as f:
            f.write('\n'.join([
                'Port %d' % self.port,
                'ListenAddress 127.0.0.1',
                'HostKey %s' % self.host_key,
                'AuthorizedKeysFile %s' % self.authorized,
                'PidFile %s' % os.path.join(self.dir, 'sshd.pid'),
                'StrictModes no',
                'UsePAM no',
                'PasswordAuthentication %s' % ('yes' if password else 'no'),
                'KbdInteractiveAuthentication no',
                'PermitRootLogin %s' % ('yes' if password else 'prohibit-password'),
                'Subsystem sftp internal-sftp',
                'LogLevel VERBOSE',
                'MaxStartups 50',
                '',
            ]))
        self.logf = open(os.path.join(self.dir, 'sshd.log'), 'wb')
        script = 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && '
        if password:
            script += 'mount --bind %s /etc/shadow && ' % self._shadow_with_root_password(password)
        script += 'exec %s -D -e -f %s' % (shutil.which('sshd') or '/usr/sbin/sshd', self.config)
        self.proc = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, what='sshd')
        except Exception:
            self.stop()
            raise

    def _shadow_with_root_password(self, password):
        hashed = subprocess.run(['openssl', 'passwd', '-6', '-stdin'], input=password.encode(), stdout=subprocess.PIPE,
                                check=True).stdout.decode().strip()
        with open('/etc/shadow') as f:
            lines = f.read().splitlines()
        out = [('root:' + hashed + ':' + line.split(':', 2)[2]) if line.startswith('root:') else line for line in lines]
        path = os.path.join(self.dir, 'shadow')
        with open(path, 'w') as f:
            f.write('\n'.join(out) + '\n')
        os.chmod(path, 0o600)
        return path

    def _keygen(self, name, passphrase=''):
        path = os.path.join(self.dir, name)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path], check=True)
        return path

    def keygen(self, name, passphrase=''):
        return self._keygen(name, passphrase)

    def known_hosts_line(self, key_path=None):
        with open((key_path or self.host_key) + '.pub') as f:
            kt, b64 = f.read().split()[:2]
        return '[127.0.0.1]:%d %s %s\n' % (self.port, kt, b64)

    def kill_sessions(self):
        """Drop every open SSH connection (kill the per-connection sshd processes we started)."""
        pids = descendants(self.proc.pid)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        return pids

    def log(self):
        with open(self.logf.name, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        self.kill_sessions()
        stop_proc(self.proc)
        self.logf.close()


# ---------------------------------------------------------------- proxy

class TcpProxy(object):
    """A TCP forwarder on loopback that can die like a server: stop() closes the listener and resets every
    connection. With ``kill_after``, it dies by itself once that many request bytes went through."""

    def __init__(self, target_port, kill_after=None):
        self.target = target_port
        self.port = free_port()
        self.kill_after = kill_after
        self.forwarded = 0
        self.killed = threading.Event()
        self.lock = threading.Lock()
        self.socks = []
        self.listener = None
        self.start()

    def start(self):
        self.killed.clear()
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(('127.0.0.1', self.port))
        ls.listen(64)
        self.listener = ls
        t = threading.Thread(target=self._accept, args=(ls,))
        t.daemon = True
        t.start()

    def _accept(self, ls):
        while not self.killed.is_set():
            try:
                c, _a = ls.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(('127.0.0.1', self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, s]
            t = threading.Thread(target=self._pump, args=(c, s))
            t.daemon = True
            t.start()

    def _pump(self, c, s):
        try:
            while not self.killed.is_set():
                r, _w, _x = select.select([c, s], [], [], 0.2)
                for src in r:
                    data = src.recv(262144)
                    if not data:
                        return
                    (s if src is c else c).sendall(data)
                    if src is c:
                        with self.lock:
                            self.forwarded += len(data)
                            over = self.kill_after is not None and self.forwarded >= self.kill_after
                        if over:
                            self.stop()
                            return
        except OSError:
            return
        finally:
            for x in (c, s):
                try:
                    x.close()
                except OSError:
                    pass

    def stop(self):
        self.killed.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            socks, self.socks = self.socks, []
        for x in socks:
            try:
                x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')  # RST
                x.close()
            except OSError:
                pass


# ---------------------------------------------------------------- modules

class ModuleRun(object):
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.result = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            self.result = {}

    @property
    def failed(self):
        return bool(self.result.get('failed')) or self.rc != 0

    @property
    def msg(self):
        return self.result.get('msg', '')

    def __getitem__(self, k):
        return self.result[k]

    def get(self, k, default=None):
        return self.result.get(k, default)

    def max_rss_kib(self):
        m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', self.stderr)
        return int(m.group(1)) if m else None

    def __repr__(self):
        return '<ModuleRun rc=%s>\n%s\n%s' % (self.rc, self.stdout[-4000:], self.stderr[-4000:])


# Runs a command and reports its peak RSS the way `/usr/bin/time -v` does (getrusage of the waited child), so the
# memory test needs no extra package.
RSS_WRAPPER = [sys.executable, '-c', (
    'import resource, subprocess, sys\n'
    'rc = subprocess.call(sys.argv[1:])\n'
    'sys.stderr.write("Maximum resident set size (kbytes): %d\\n" '
    '% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
    'sys.exit(rc)\n')]


def start_module(name, args, check=False, env=None, wrapper=None):
    """Start plugins/modules/<name>.py as its own process (argspec, exit_json/fail_json) and return
    (Popen, cleanup)."""
    path = os.path.join(COLLECTIONS_PATH, 'ansible_collections', 'lifeboat', 'backup', 'plugins', 'modules',
                        name + '.py')
    payload = dict(args)
    payload['_ansible_check_mode'] = bool(check)
    payload['_ansible_no_log'] = False
    payload['_ansible_tmpdir'] = tempfile.gettempdir()
    fd, argfile = tempfile.mkstemp(prefix='lifeboat-args-', suffix='.json')
    with os.fdopen(fd, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': payload}, f)
    e = dict(os.environ)
    e.update(SAFE_ENV)
    e['PYTHONPATH'] = COLLECTIONS_PATH
    e.update(env or {})
    proc = subprocess.Popen(list(wrapper or []) + [sys.executable, path, argfile], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, env=e)
    return proc, lambda: os.unlink(argfile)


def run_module(name, args, check=False, env=None, timeout=300, wrapper=None):
    proc, cleanup = start_module(name, args, check=check, env=env, wrapper=wrapper)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        cleanup()
    return ModuleRun(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def finish_module(proc, cleanup, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        cleanup()
    return ModuleRun(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def store_params(**kw):
    """A full ``store`` dict as the argspec would produce it (defaults filled in)."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
    p = {k: v.get('default') for k, v in STORE_SPEC.items()}
    p.update(kw)
    return p


def s3_params(moto, bucket, **kw):
    p = dict(type='s3', bucket=bucket, endpoint_url=moto.url, region='us-east-1', access_key=KEY, secret_key=KEY,
             prefix='backups', part_size_mb=5, concurrency=3, max_attempts=2, timeout=10)
    p.update(kw)
    return store_params(**p)


def sftp_params(sshd, path, **kw):
    p = dict(type='sftp', host='127.0.0.1', port=sshd.port, user='root', path=path, prefix='backups',
             private_key=sshd.client_key, known_hosts=sshd.known_hosts, timeout=10)
    p.update(kw)
    return store_params(**p)


def fs_params(path, **kw):
    p = dict(type='filesystem', path=path, prefix='backups')
    p.update(kw)
    return store_params(**p)


def leftovers(store):
    """What interrupted writes left in a store: open S3 multipart uploads, or temp files on disk (the sftp
    server of the tests runs on this machine, so its directory is readable here)."""
    if store.type == 's3':
        r = store.client.list_multipart_uploads(Bucket=store.bucket)
        return [u['Key'] for u in r.get('Uploads', [])]
    out = []
    for dp, _dn, fn in os.walk(store.root):
        out += [os.path.join(dp, f) for f in fn if f.startswith('.lifeboat-')]
    return out


def sparse_file(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)
    return path
