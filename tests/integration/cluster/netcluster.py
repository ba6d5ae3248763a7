# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real multi-node cluster for tests, made of Linux namespaces on this machine (root only).

Shape (see docs in tests/integration/cluster/README.md and /work/shared/notes/test-cluster.md):

* a hub network namespace with a bridge (no uplink, forwarding off) holding the controller address
  ``.1`` of a private /24; ``ansible-playbook`` runs inside the hub (``ip netns exec HUB``) and reaches the
  nodes over real SSH;
* per node: a network namespace with a veth pair made from the hub side (``eth0`` inside, address ``.11``,
  ``.12``...), and a PID + mount + UTS + IPC namespace whose PID 1 is ``lbnode`` (a tiny reaper, see
  lbnode.py). Each node has its own hostname, a private /run, /tmp, /var/tmp, /dev/shm, /root, /srv,
  /var/lib (host entries bound read-through, new ones private), /var/lib/postgresql, /var/log/postgresql,
  /etc/hostname, /etc/hosts, and /etc/init.d holding only ``lifeboat-app``; ``/srv/backup`` is the SAME
  host directory on every node (it plays EFS);
* sshd per node (own host key, key-only root login), a generated client key, a pre-filled known_hosts
  (strict host key checking stays on) and an ssh_config given to Ansible with ``-F``;
* PostgreSQL 15: primary on node1, streaming hot standby on node2 (``pg_basebackup -R``);
* the application ``lifeboat-app`` on every node: a heartbeat daemon driven by an LSB init script.

Every name carries a per-run random id (``lbc<id>-hub``, ``lbc<id>-node1``...), so runs can coexist. No
address leaves the namespaces created here. ``down()`` stops PostgreSQL inside each node, then TERM / CONT /
KILL every process of the cluster's namespaces, deletes them and removes the base directory.

By hand::

    python tests/integration/cluster/netcluster.py up [--nodes 3] [--no-postgresql]
    python tests/integration/cluster/netcluster.py list
    python tests/integration/cluster/netcluster.py exec <id> node1 -- hostname
    python tests/integration/cluster/netcluster.py down <id> | --stale | --all
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.util
import ipaddress
import json
import os
import pathlib
import pwd
import random
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]

PG_VERSION = '15'
PG_BIN = '/usr/lib/postgresql/%s/bin' % PG_VERSION
PG_DATA = '/var/lib/postgresql/%s/main' % PG_VERSION  # path inside a node
PG_LOG = '/var/log/postgresql/postgresql-%s.log' % PG_VERSION
PG_PORT = 5432
PG_SOCKET_DIR = '/run/postgresql'
STORE_PATH = '/srv/backup'      # the shared "EFS" directory, same on every node
APP_DIR = '/srv/app'
APP_DATA = '/srv/app/data'
APP_SERVICE = 'lifeboat-app'
NAME_PREFIX = 'lbc'
SSHD_NAMES = ('sshd', 'sshd-session', 'sshd-auth')   # OpenSSH >= 9.8 splits the per-connection process
NODE_ENV = {
    'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'LANG': 'C.UTF-8',
    'LC_ALL': 'C.UTF-8',
}


class ClusterError(Exception):
    pass


def _base_root():
    return pathlib.Path(os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests'))


def _run(argv, check=True, timeout=60, **kw):
    kw.setdefault('stdout', subprocess.PIPE)
    kw.setdefault('stderr', subprocess.PIPE)
    kw.setdefault('universal_newlines', True)
    kw.setdefault('stdin', subprocess.DEVNULL)
    proc = subprocess.run(argv, timeout=timeout, check=False, **kw)
    if check and proc.returncode != 0:
        raise ClusterError('%s exited %d: %s%s' % (' '.join(shlex.quote(str(a)) for a in argv), proc.returncode,
                                                   proc.stderr or '', proc.stdout or ''))
    return proc


def _mkdir(path, mode=0o755, owner=None):
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner[0], owner[1])
    return path


def _write(path, text, mode=0o644):
    path = pathlib.Path(path)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _netns_pids(ns):
    proc = _run(['ip', 'netns', 'pids', ns], check=False, timeout=10)
    if proc.returncode != 0:
        return []
    return [int(p) for p in proc.stdout.split() if p.strip().isdigit()]


def _signal(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != 'Z'


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


def unavailable_reason():
    """Why a cluster cannot be built here (for pytest.skip), or None."""
    if os.geteuid() != 0:
        return 'the network-namespace test cluster needs root'
    for tool in ('ip', 'nsenter', 'unshare', 'runuser', 'ssh', 'ssh-keygen', 'mount'):
        if not shutil.which(tool):
            return '%s is not installed' % tool
    if not os.path.exists('/usr/sbin/sshd'):
        return 'openssh-server (/usr/sbin/sshd) is not installed'
    proc = _run(['ip', 'netns', 'list'], check=False, timeout=10)
    if proc.returncode != 0:
        return '`ip netns` is unavailable: %s' % proc.stderr.strip()
    try:
        pwd.getpwnam('postgres')
    except KeyError:
        return 'no postgres user (postgresql-%s is not installed)' % PG_VERSION
    if not os.path.exists(PG_BIN + '/initdb'):
        return 'PostgreSQL %s is not installed (%s)' % (PG_VERSION, PG_BIN)
    return None


def netns_list():
    proc = _run(['ip', 'netns', 'list'], check=False, timeout=10)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def _tests_conftest():
    """tests/conftest.py (run_playbook, PlaybookResult, COLLECTIONS_PATH): the one pytest loaded, if any."""
    path = str(REPO / 'tests' / 'conftest.py')
    for mod in list(sys.modules.values()):
        if getattr(mod, '__file__', None) == path and hasattr(mod, 'run_playbook'):
            return mod
    spec = importlib.util.spec_from_file_location('lifeboat_tests_conftest', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules['lifeboat_tests_conftest'] = mod
    return mod


class Node(object):
    def __init__(self, index, name, ns, ip, path):
        self.index = index
        self.name = name
        self.ns = ns
        self.ip = ip
        self.path = path        # host dir holding this node's private dirs
        self.pid = None         # host pid of the node's PID 1 (lbnode)
        self.popen = None
        self.frozen = False

    def host_path(self, node_path):
        """The host path behind a path inside this node (for /srv, /root, /var/lib/... only)."""
        p = pathlib.PurePosixPath(node_path)
        for inner, outer in self.mounts():
            try:
                rel = p.relative_to(inner)
            except ValueError:
                continue
            return pathlib.Path(outer) / rel
        raise ClusterError('%s is not on a private mount of %s' % (node_path, self.name))

    def mounts(self):
        """(node path, host path), most specific first."""
        base = self.path.parent
        return [
            (STORE_PATH, base / 'shared-backup'),
            ('/var/lib/postgresql', self.path / 'pglib'),
            ('/var/log/postgresql', self.path / 'pglog'),
            ('/var/lib/lifeboat', self.path / 'varlib' / 'lifeboat'),
            ('/srv', self.path / 'srv'),
            ('/root', self.path / 'root'),
            ('/tmp', self.path / 'tmp'),
            ('/var/tmp', self.path / 'vartmp'),
        ]

    def as_dict(self):
        return {'index': self.index, 'name': self.name, 'ns': self.ns, 'ip': self.ip, 'path': str(self.path),
                'pid': self.pid}

    def __repr__(self):
        return '<Node %s %s ns=%s pid=%s>' % (self.name, self.ip, self.ns, self.pid)


class Cluster(object):
    """N nodes in network namespaces, reachable over SSH from a hub namespace. Use as a context manager."""

    def __init__(self, nodes=3, subnet=None, run_id=None, base=None, postgresql=True, standby=True, app=True,
                 python=None):
        if os.geteuid() != 0:
            raise ClusterError('the test cluster needs root (network namespaces, mounts)')
        self.run_id = run_id or secrets.token_hex(3)
        self.prefix = '%s%s' % (NAME_PREFIX, self.run_id)
        if subnet is None:
            subnet = os.environ.get('LIFEBOAT_CLUSTER_SUBNET') or '10.237.%d.0/24' % random.randint(0, 255)
        self.subnet = ipaddress.ip_network(subnet)
        if not self.subnet.is_private or self.subnet.prefixlen > 28:
            raise ClusterError('the cluster subnet must be a private network of at least 16 addresses: %s' % subnet)
        hosts = list(self.subnet.hosts())
        self.controller_ip = str(hosts[0])
        self.hub = '%s-hub' % self.prefix
        self.base = pathlib.Path(base) if base else _base_root() / ('cluster-%s' % self.run_id)
        self.nodes = [Node(i, 'node%d' % i, '%s-node%d' % (self.prefix, i), str(hosts[9 + i]),
                           self.base / ('node%d' % i)) for i in range(1, nodes + 1)]
        self.with_postgresql = postgresql
        self.with_standby = standby and postgresql and nodes >= 2
        self.with_app = app
        self.python = python or os.environ.get('LIFEBOAT_CLUSTER_PYTHON') or sys.executable
        self.pg_primary = self.nodes[0].name if postgresql else None
        self.pg_nodes = [n.name for n in self.nodes[:2 if self.with_standby else 1]] if postgresql else []
        self.inventory = self.base / 'inventory.yml'
        self.ssh_config = self.base / 'ssh_config'
        self.shared_store = self.base / 'shared-backup'
        self._fault_mounts = {}
        self._up = False
        self.timings = {}

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def node(self, name):
        if isinstance(name, Node):
            return name
        for n in self.nodes:
            if n.name == name:
                return n
        raise ClusterError('no node %r (have %s)' % (name, ', '.join(n.name for n in self.nodes)))

    def up(self):
        t0 = time.monotonic()
        try:
            self._prepare_dirs()
            self._save_state()
            keygen = self._start_keygen()
            self._network()
            for p in keygen:
                if p.wait(timeout=30) != 0:
                    raise ClusterError('ssh-keygen failed: %s' % p.stderr.read())
            self._start_nodes()
            self.timings['nodes'] = round(time.monotonic() - t0, 2)
            self._save_state()
            self._ssh_files()
            for n in self.nodes:
                self.start_sshd(n)
            self.write_inventory()
            if self.with_postgresql:
                t1 = time.monotonic()
                self._postgresql()
                self.timings['postgresql'] = round(time.monotonic() - t1, 2)
            if self.with_app:
                for n in self.nodes:
                    self.app('start', n)
        except BaseException:
            self.down()
            raise
        self._up = True
        self.timings['up'] = round(time.monotonic() - t0, 2)
        return self

    def _prepare_dirs(self):
        root = _base_root()
        _mkdir(root)
        _mkdir(self.base)
        pg = pwd.getpwnam('postgres')
        self.pg_owner = (pg.pw_uid, pg.pw_gid)
        _mkdir(self.shared_store, 0o755)
        _mkdir(self.base / 'cp', 0o700)
        initd = _mkdir(self.base / 'init.d')
        shutil.copyfile(str(HERE / 'lifeboat-app.init'), str(initd / APP_SERVICE))
        os.chmod(initd / APP_SERVICE, 0o755)
        lbnode = self.base / 'lbnode'
        py = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
        _write(lbnode, '#!%s\n' % py + (HERE / 'lbnode.py').read_text(), 0o755)
        hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback',
                 '%s\tcontroller' % self.controller_ip]
        hosts += ['%s\t%s' % (n.ip, n.name) for n in self.nodes]
        _write(self.base / 'hosts', '\n'.join(hosts) + '\n')
        for n in self.nodes:
            d = _mkdir(n.path)
            _mkdir(d / 'root', 0o711)  # traversable: become_user reaches an interpreter under /root/.pyenv
            _mkdir(d / 'srv')
            _mkdir(d / 'srv' / 'backup')
            _mkdir(d / 'srv' / 'app' / 'data')
            _mkdir(d / 'tmp', 0o1777)
            _mkdir(d / 'vartmp', 0o1777)
            _mkdir(d / 'varlib')
            _mkdir(d / 'varlib' / 'lifeboat', 0o755)
            _mkdir(d / 'varlib' / 'postgresql', 0o755)
            _mkdir(d / 'pglib', 0o755, self.pg_owner)
            _mkdir(d / 'pglib' / PG_VERSION, 0o755, self.pg_owner)
            _mkdir(d / 'pglog', 0o775, self.pg_owner)
            _write(d / 'hostname', n.name + '\n')
            cfg = {
                'hostname': n.name,
                'base': str(self.base),
                'ready': str(d / 'ready'),
                'tmp': str(d / 'tmp'),
                'vartmp': str(d / 'vartmp'),
                'varlib': str(d / 'varlib'),
                'varlib_private': ['postgresql', 'lifeboat'],
                'postgres_uid': self.pg_owner[0],
                'postgres_gid': self.pg_owner[1],
                # applied in order, after /run, /tmp, /var/tmp and /var/lib
                'binds': [
                    [str(d / 'root'), '/root'],
                    [str(d / 'srv'), '/srv'],
                    [str(self.shared_store), STORE_PATH],
                    [str(d / 'hostname'), '/etc/hostname'],
                    [str(self.base / 'hosts'), '/etc/hosts'],
                    [str(d / 'pglib'), '/var/lib/postgresql'],
                    [str(d / 'pglog'), '/var/log/postgresql'],
                    [str(initd), '/etc/init.d'],
                ],
                # the interpreter Ansible uses on nodes, when it lives under the host's /root (pyenv)
                'ro_binds': [[p, p] for p in self._interpreter_dirs()],
            }
            _write(d / 'node.json', json.dumps(cfg, indent=1))

    def _interpreter_dirs(self):
        """Host dirs that the nodes' Python needs and their private /root, /tmp or /var/tmp would hide."""
        out = []
        for p in (self.python, os.path.realpath(self.python)):
            parts = pathlib.PurePosixPath(p).parts
            if len(parts) > 2 and parts[1] in ('root', 'tmp'):
                d = '/%s/%s' % (parts[1], parts[2])
            elif len(parts) > 3 and parts[1:3] == ('var', 'tmp'):
                d = '/var/tmp/' + parts[3]
            else:
                continue
            if d not in out:
                out.append(d)
        return out

    def _start_keygen(self):
        procs = []

        def gen(path, comment):
            return subprocess.Popen(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', str(path)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    universal_newlines=True)
        procs.append(gen(self.base / 'id_ed25519', 'lifeboat-cluster-%s' % self.run_id))
        for n in self.nodes:
            procs.append(gen(n.path / 'ssh_host_ed25519_key', n.name))
        return procs

    def _network(self):
        existing = set(netns_list())
        for ns in [self.hub] + [n.ns for n in self.nodes]:
            if ns in existing:
                raise ClusterError('network namespace %s already exists' % ns)
        prefix = self.subnet.prefixlen
        _run(['ip', 'netns', 'add', self.hub])
        hub = ['ip', '-n', self.hub]
        _run(hub + ['link', 'set', 'lo', 'up'])
        _run(['ip', 'netns', 'exec', self.hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=0'])
        _run(hub + ['link', 'add', 'br0', 'type', 'bridge'])
        _run(hub + ['addr', 'add', '%s/%d' % (self.controller_ip, prefix), 'dev', 'br0'])
        _run(hub + ['link', 'set', 'br0', 'up'])
        for n in self.nodes:
            _run(['ip', 'netns', 'add', n.ns])
            veth = 'vn%d' % n.index
            _run(hub + ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns])
            _run(hub + ['link', 'set', veth, 'master', 'br0', 'up'])
            node = ['ip', '-n', n.ns]
            _run(node + ['link', 'set', 'lo', 'up'])
            _run(node + ['addr', 'add', '%s/%d' % (n.ip, prefix), 'dev', 'eth0'])
            _run(node + ['link', 'set', 'eth0', 'up'])
            _run(node + ['route', 'add', 'default', 'via', self.controller_ip])

    def _start_nodes(self):
        for n in self.nodes:
            for f in ('ready', 'ready.failed'):
                try:
                    (n.path / f).unlink()
                except FileNotFoundError:
                    pass
            log = open(n.path / 'lbnode.log', 'ab')
            n.popen = subprocess.Popen(
                ['ip', 'netns', 'exec', n.ns, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork',
                 '--kill-child', '--mount-proc', '--propagation', 'private', str(self.base / 'lbnode'),
                 str(n.path / 'node.json')],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd='/', env=NODE_ENV)
            log.close()
        deadline = time.monotonic() + 20
        for n in self.nodes:
            while True:
                if (n.path / 'ready.failed').exists():
                    raise ClusterError('%s did not start: %s' % (n.name, (n.path / 'ready.failed').read_text()))
                if n.popen.poll() is not None:
                    log = (n.path / 'lbnode.log').read_text()
                    raise ClusterError('%s exited %s at start: %s' % (n.name, n.popen.returncode, log))
                if (n.path / 'ready').exists() and n.pid is None:
                    n.pid = self._child_of(n.popen.pid)
                if n.pid is not None:
                    break
                if time.monotonic() > deadline:
                    raise ClusterError('%s did not become ready in 20 s' % n.name)
                time.sleep(0.02)

    @staticmethod
    def _child_of(pid):
        try:
            with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return None
        return kids[0] if kids else None

    def _save_state(self):
        state = {'run_id': self.run_id, 'owner_pid': os.getpid(), 'hub': self.hub, 'subnet': str(self.subnet),
                 'controller_ip': self.controller_ip, 'base': str(self.base),
                 'nodes': [n.as_dict() for n in self.nodes], 'pg_primary': self.pg_primary,
                 'pg_nodes': self.pg_nodes, 'postgresql': self.with_postgresql, 'standby': self.with_standby,
                 'app': self.with_app, 'inventory': str(self.inventory), 'python': self.python}
        _write(self.base / 'state.json', json.dumps(state, indent=1))

    @classmethod
    def attach(cls, run_id, base=None):
        """A Cluster object for a running cluster (brought up by another process), from its state.json."""
        base = pathlib.Path(base) if base else _base_root() / ('cluster-%s' % run_id)
        state = json.loads((base / 'state.json').read_text())
        c = cls.__new__(cls)
        c.run_id = state['run_id']
        c.prefix = NAME_PREFIX + c.run_id
        c.subnet = ipaddress.ip_network(state['subnet'])
        c.controller_ip = state['controller_ip']
        c.hub = state['hub']
        c.base = base
        c.nodes = []
        for d in state['nodes']:
            n = Node(d['index'], d['name'], d['ns'], d['ip'], pathlib.Path(d['path']))
            n.pid = d['pid']
            c.nodes.append(n)
        c.with_postgresql = state['postgresql']
        c.with_standby = state['standby']
        c.with_app = state['app']
        c.python = state.get('python') or sys.executable
        c.pg_primary = state['pg_primary']
        c.pg_nodes = state['pg_nodes']
        c.inventory = pathlib.Path(state['inventory'])
        c.ssh_config = base / 'ssh_config'
        c.shared_store = base / 'shared-backup'
        c._fault_mounts = {}
        c._up = True
        c.timings = {}
        pg = pwd.getpwnam('postgres')
        c.pg_owner = (pg.pw_uid, pg.pw_gid)
        return c

    def down(self):
        """Tear everything down; never raises, never leaves a namespace, process or mount behind."""
        errors = []
        for n in self.nodes:
            if n.pid and _alive(n.pid):
                _signal(_netns_pids(n.ns), signal.SIGCONT)
        if getattr(self, 'with_postgresql', False):
            for n in self.nodes:
                if n.pid and _alive(n.pid) and (n.path / 'pglib' / PG_VERSION / 'main' / 'postmaster.pid').exists():
                    try:
                        self.exec(n, [PG_BIN + '/pg_ctl', '-D', PG_DATA, 'stop', '-m', 'fast', '-w', '-t', '10'],
                                  user='postgres', check=False, timeout=15)
                    except Exception as e:  # pylint: disable=broad-except
                        errors.append('%s: %s' % (n.name, e))
        namespaces = [n.ns for n in self.nodes] + [self.hub]
        pids = {}
        for ns in namespaces:
            pids[ns] = _netns_pids(ns)
            _signal(pids[ns], signal.SIGTERM)
            _signal(pids[ns], signal.SIGCONT)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_alive(p) for ps in pids.values() for p in ps):
            time.sleep(0.05)
        for ns in namespaces:
            _signal(_netns_pids(ns), signal.SIGKILL)
        for n in self.nodes:
            if n.popen is not None:
                try:
                    n.popen.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    n.popen.kill()
        deadline = time.monotonic() + 5
        for ns in namespaces:
            while _netns_pids(ns) and time.monotonic() < deadline:
                time.sleep(0.05)
            if ns in netns_list():
                proc = _run(['ip', 'netns', 'del', ns], check=False)
                if proc.returncode != 0:
                    errors.append('ip netns del %s: %s' % (ns, proc.stderr.strip()))
        if not os.environ.get('LIFEBOAT_CLUSTER_KEEP') and self.base.exists():
            _run(['rm', '-rf', '--one-file-system', str(self.base)], check=False)
        self._up = False
        return errors

    # ------------------------------------------------------------------ running things in nodes
    def exec(self, node, argv, user=None, check=True, timeout=60, input=None, env=None):
        """Run argv inside a node (all its namespaces), as root or ``user``. Returns CompletedProcess."""
        n = self.node(node)
        cmd = ['nsenter', '-t', str(n.pid), '-m', '-u', '-i', '-n', '-p', '--']
        if user:
            cmd += ['runuser', '-u', user, '--']
        e = dict(NODE_ENV)
        e['HOME'] = '/root' if not user else pwd.getpwnam(user).pw_dir
        e.update(env or {})
        kw = {}
        if input is not None:
            kw['input'] = input
            kw['stdin'] = None
        return _run(cmd + [str(a) for a in argv], check=check, timeout=timeout, cwd='/', env=e, **kw)

    def sh(self, node, script, user=None, check=True, timeout=60):
        return self.exec(node, ['/bin/sh', '-ec', script], user=user, check=check, timeout=timeout)

    def hub_exec(self, argv, check=True, timeout=60, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return _run(['ip', 'netns', 'exec', self.hub] + [str(a) for a in argv], check=check, timeout=timeout, env=e)

    # ------------------------------------------------------------------ ssh and ansible
    def _ssh_files(self):
        pub = (self.base / 'id_ed25519.pub').read_text()
        _write(self.base / 'authorized_keys', pub, 0o600)
        lines = []
        for n in self.nodes:
            key = (n.path / 'ssh_host_ed25519_key.pub').read_text().split()
            lines.append('%s,%s %s %s' % (n.ip, n.name, key[0], key[1]))
            _write(n.path / 'sshd_config', '\n'.join([
                'Port 22',
                'ListenAddress 0.0.0.0',
                'HostKey %s' % (n.path / 'ssh_host_ed25519_key'),
                'PidFile /run/sshd.pid',
                'AuthorizedKeysFile %s' % (self.base / 'authorized_keys'),
                'PermitRootLogin prohibit-password',
                'PubkeyAuthentication yes',
                'PasswordAuthentication no',
                'KbdInteractiveAuthentication no',
                'UsePAM no',
                'StrictModes no',
                'UseDNS no',
                'PrintMotd no',
                'MaxSessions 64',
                'MaxStartups 64:30:128',
                'ClientAliveInterval 5',
                'ClientAliveCountMax 3',
                'Subsystem sftp internal-sftp',
                'AcceptEnv LANG LC_*',
                '',
            ]))
        _write(self.base / 'known_hosts', '\n'.join(lines) + '\n')
        _write(self.ssh_config, '\n'.join([
            '# ssh client config of test cluster %s (used by Ansible with -F)' % self.run_id,
            'Host *',
            '    User root',
            '    IdentityFile %s' % (self.base / 'id_ed25519'),
            '    IdentitiesOnly yes',
            '    UserKnownHostsFile %s' % (self.base / 'known_hosts'),
            '    GlobalKnownHostsFile /dev/null',
            '    StrictHostKeyChecking yes',
            '    PasswordAuthentication no',
            '    KbdInteractiveAuthentication no',
            '    BatchMode yes',
            '    ConnectTimeout 5',
            '    ServerAliveInterval 2',
            '    ServerAliveCountMax 3',
            '    LogLevel ERROR',
            '',
        ]))

    def start_sshd(self, node):
        n = self.node(node)
        self.exec(n, ['/usr/sbin/sshd', '-f', n.path / 'sshd_config', '-E', n.path / 'sshd.log'], timeout=15)

    def stop_sshd(self, node, sessions=True):
        """Stop a node's sshd listener; with ``sessions`` (default) also every open SSH session into it."""
        n = self.node(node)
        self.sh(n, 'if [ -s /run/sshd.pid ]; then kill "$(cat /run/sshd.pid)" || true; rm -f /run/sshd.pid; fi',
                timeout=15)
        if sessions:
            _signal([p for p in _netns_pids(n.ns) if _comm(p) in SSHD_NAMES], signal.SIGTERM)

    def sshd_running(self, node):
        return self.sh(node, '[ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)"', check=False).returncode == 0

    def ssh(self, node, command, timeout=30, check=True):
        """Run a shell command on a node through real SSH from the hub (as Ansible does)."""
        n = self.node(node)
        return self.hub_exec(['ssh', '-F', self.ssh_config, n.ip, command], check=check, timeout=timeout)

    def ansible_env(self, env=None):
        e = {
            'ANSIBLE_SSH_CONTROL_PATH_DIR': str(self.base / 'cp'),
            'ANSIBLE_SSH_RETRIES': '0',
            'ANSIBLE_TIMEOUT': '5',
            'ANSIBLE_FORKS': str(max(5, len(self.nodes) + 2)),
            'ANSIBLE_HOST_KEY_CHECKING': 'True',
            'ANSIBLE_GATHERING': 'implicit',
            'ANSIBLE_DEPRECATION_WARNINGS': 'False',
            'ANSIBLE_PIPELINING': 'True',
        }
        e.update(env or {})
        return e

    def host_vars(self, node):
        """The inventory variables of one node (see write_inventory)."""
        n = self.node(node)
        hv = {
            'ansible_host': n.ip,
            'lifeboat_files': [{'name': 'app', 'paths': [APP_DATA]}],
            'lifeboat_services': [APP_SERVICE],
        }
        if n.name in self.pg_nodes:
            hv['lifeboat_postgresql'] = {
                'cluster': 'pg1',
                'login_host': '127.0.0.1',
                'port': PG_PORT,
                'login_user': 'postgres',
                'databases': ['appdb'],
            }
        return hv

    def inventory_data(self, host_vars=None, group_vars=None):
        """Inventory dict: group ``cluster`` with every node; ``host_vars``/``group_vars`` are merged in."""
        hosts = {}
        for n in self.nodes:
            hv = self.host_vars(n)
            hv.update((host_vars or {}).get(n.name, {}))
            hosts[n.name] = hv
        gv = {
            'ansible_connection': 'ssh',
            'ansible_user': 'root',
            'ansible_ssh_common_args': '-F %s' % self.ssh_config,
            'ansible_python_interpreter': self.python,
            'lifeboat_store': {'type': 'filesystem', 'path': STORE_PATH},
        }
        gv.update(group_vars or {})
        return {'all': {'children': {'cluster': {'hosts': hosts, 'vars': gv}}}}

    def write_inventory(self, path=None, host_vars=None, group_vars=None):
        path = pathlib.Path(path) if path else self.inventory
        _write(path, json.dumps(self.inventory_data(host_vars, group_vars), indent=2) + '\n')
        return path

    def run_playbook(self, playbook, extra_vars=None, inventory=None, env=None, args=(), timeout=600, check=False):
        """ansible-playbook inside the hub namespace (tests/conftest.py run_playbook). Returns PlaybookResult."""
        ct = _tests_conftest()
        return ct.run_playbook(playbook, inventory=str(inventory or self.inventory), extra_vars=extra_vars,
                               check=check, env=self.ansible_env(env), args=args, timeout=timeout,
                               argv_prefix=['ip', 'netns', 'exec', self.hub])

    def ansible(self, pattern, module, module_args='', inventory=None, env=None, timeout=120, args=()):
        """An ad-hoc ``ansible`` command from the hub; returns CompletedProcess."""
        ct = _tests_conftest()
        e = dict(os.environ)
        e.update({'ANSIBLE_COLLECTIONS_PATH': ct.COLLECTIONS_PATH, 'ANSIBLE_NOCOLOR': '1',
                  'ANSIBLE_PYTHON_INTERPRETER': self.python})
        e.update(self.ansible_env(env))
        argv = [ct.tool('ansible'), pattern, '-i', str(inventory or self.inventory), '-m', module]
        if module_args:
            argv += ['-a', module_args]
        return self.hub_exec(argv + list(args), check=False, timeout=timeout, env=e)

    # ------------------------------------------------------------------ PostgreSQL
    def _pg_conf(self):
        return '\n'.join([
            '',
            '# lifeboat test cluster',
            "listen_addresses = '*'",
            'port = %d' % PG_PORT,
            "unix_socket_directories = '%s'" % PG_SOCKET_DIR,
            'fsync = off',
            'full_page_writes = off',
            'synchronous_commit = off',
            'wal_level = replica',
            'max_wal_senders = 10',
            'hot_standby = on',
            "wal_keep_size = '256MB'",
            "shared_buffers = '32MB'",
            "log_line_prefix = '%m [%p] %q%u@%d '",
            '',
        ])

    def _pg_hba(self):
        return '\n'.join([
            '# lifeboat test cluster: trust inside the private subnet only',
            'local   all          all                 trust',
            'host    all          all   127.0.0.1/32  trust',
            'host    all          all   %s  trust' % self.subnet,
            'local   replication  all                 trust',
            'host    replication  all   127.0.0.1/32  trust',
            'host    replication  all   %s  trust' % self.subnet,
            '',
        ])

    def _pg_host_data(self, node):
        return self.node(node).path / 'pglib' / PG_VERSION / 'main'

    def _initdb(self, node):
        data = self._pg_host_data(node)
        template = self.base / 'pg-template'
        if not (template / 'PG_VERSION').exists():
            _mkdir(template, 0o700, self.pg_owner)
            _run(['runuser', '-u', 'postgres', '--', PG_BIN + '/initdb', '-D', str(template), '-U', 'postgres',
                  '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], cwd='/', timeout=120)
            with open(template / 'postgresql.conf', 'a') as f:
                f.write(self._pg_conf())
            (template / 'pg_hba.conf').write_text(self._pg_hba())
        # a copy of one initdb (a new system identifier is not needed: every reset rebuilds the standby too)
        _run(['cp', '-a', str(template), str(data)], timeout=120)

    def _basebackup(self, standby, primary):
        s = self.node(standby)
        p = self.node(primary)
        self.exec(s, [PG_BIN + '/pg_basebackup', '-h', p.ip, '-p', PG_PORT, '-U', 'postgres', '-D', PG_DATA, '-R',
                      '-X', 'stream', '-c', 'fast', '--no-sync'], user='postgres', timeout=120)
        with open(self._pg_host_data(s) / 'postgresql.auto.conf', 'a') as f:
            f.write("primary_conninfo = 'host=%s port=%d user=postgres application_name=%s'\n"
                    % (p.ip, PG_PORT, s.name))

    def _postgresql(self):
        primary = self.nodes[0]
        self._initdb(primary)
        self.start_pg(primary)
        if self.with_standby:
            self._basebackup(self.nodes[1], primary)
            self.start_pg(self.nodes[1])
            self.wait_streaming(self.nodes[1])
        self.pg_primary = primary.name
        self._save_state()

    def start_pg(self, node):
        self.exec(node, [PG_BIN + '/pg_ctl', '-D', PG_DATA, '-l', PG_LOG, '-w', '-t', '60', 'start'],
                  user='postgres', timeout=90)

    def stop_pg(self, node, mode='fast'):
        if self.pg_running(node):
            self.exec(node, [PG_BIN + '/pg_ctl', '-D', PG_DATA, '-m', mode, '-w', '-t', '60', 'stop'],
                      user='postgres', timeout=90)

    def pg_running(self, node):
        return self.exec(node, [PG_BIN + '/pg_ctl', '-D', PG_DATA, 'status'], user='postgres',
                         check=False).returncode == 0

    def psql(self, node, sql, db='postgres', check=True):
        """Run SQL on a node's server (as postgres, over its socket); returns stripped unaligned output."""
        proc = self.exec(node, [PG_BIN + '/psql', '-h', PG_SOCKET_DIR, '-p', PG_PORT, '-U', 'postgres', '-X',
                                '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql],
                         user='postgres', check=check)
        return proc.stdout.strip() if check else proc

    def is_in_recovery(self, node):
        return self.psql(node, 'SELECT pg_is_in_recovery()') == 't'

    def promote(self, node):
        self.exec(node, [PG_BIN + '/pg_ctl', '-D', PG_DATA, '-w', '-t', '60', 'promote'], user='postgres',
                  timeout=90)
        self.pg_primary = self.node(node).name
        self._save_state()

    def demote(self, node, primary):
        """Stop ``node`` and restart it as a streaming standby of ``primary`` (no divergence handling)."""
        n = self.node(node)
        p = self.node(primary)
        self.stop_pg(n)
        data = self._pg_host_data(n)
        (data / 'standby.signal').write_text('')
        os.chown(data / 'standby.signal', *self.pg_owner)
        with open(data / 'postgresql.auto.conf', 'a') as f:
            f.write("primary_conninfo = 'host=%s port=%d user=postgres application_name=%s'\n"
                    "recovery_target_timeline = 'latest'\n" % (p.ip, PG_PORT, n.name))
        self.start_pg(n)

    def switchover(self, new_primary):
        """Clean switchover: stop the primary, promote ``new_primary``, restart the old one as its standby."""
        old = self.node(self.pg_primary)
        new = self.node(new_primary)
        self.stop_pg(old)
        self.promote(new)
        self.demote(old, new)
        self.wait_streaming(old)

    def wait_streaming(self, standby, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            out = self.psql(standby, 'SELECT status FROM pg_stat_wal_receiver', check=False)
            if out.returncode == 0 and out.stdout.strip() == 'streaming':
                return
            if time.monotonic() > deadline:
                raise ClusterError('%s is not streaming from its primary after %d s' % (self.node(standby).name,
                                                                                        timeout))
            time.sleep(0.1)

    def wait_replayed(self, standby, primary=None, timeout=30):
        """Wait until ``standby`` has replayed everything the primary has written so far."""
        lsn = self.psql(primary or self.pg_primary, 'SELECT pg_current_wal_lsn()')
        deadline = time.monotonic() + timeout
        while True:
            done = self.psql(standby, "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % lsn)
            if done == 't':
                return
            if time.monotonic() > deadline:
                name = self.node(standby).name
                raise ClusterError('%s has not replayed up to %s after %d s' % (name, lsn, timeout))
            time.sleep(0.1)

    def reset_postgresql(self):
        """Back to the initial topology (empty primary on node1, standby on node2): wipes both data dirs."""
        for name in self.pg_nodes:
            self.stop_pg(name, mode='immediate')
            _run(['rm', '-rf', '--one-file-system', str(self._pg_host_data(name))])
        self._postgresql()

    # ------------------------------------------------------------------ the application
    def app(self, action, node):
        """start|stop|status of lifeboat-app inside a node, through its init.d script."""
        return self.exec(node, ['/etc/init.d/' + APP_SERVICE, action], check=action != 'status', timeout=30)

    def app_running(self, node):
        return self.app('status', node).returncode == 0

    def tree(self, node, path):
        """{relative path: sha256 (files), '->target' (symlinks), 'dir' (dirs)} of a tree, read inside the node."""
        script = (
            'import hashlib,json,os,sys\n'
            'root=sys.argv[1]; out={}\n'
            'for d,ds,fs in os.walk(root):\n'
            '    for n in ds+fs:\n'
            '        p=os.path.join(d,n); r=os.path.relpath(p,root)\n'
            '        if os.path.islink(p): out[r]="->"+os.readlink(p)\n'
            '        elif os.path.isdir(p): out[r]="dir"\n'
            '        else:\n'
            '            h=hashlib.sha256()\n'
            '            with open(p,"rb") as f:\n'
            '                for b in iter(lambda: f.read(1<<20), b""): h.update(b)\n'
            '            out[r]=h.hexdigest()\n'
            'print(json.dumps(out))\n')
        proc = self.exec(node, [self.python, '-c', script, path])
        return json.loads(proc.stdout)

    def seed_files(self, node, files, path=APP_DATA):
        """Replace the content of ``path`` (default /srv/app/data) on a node with ``files`` {relpath: bytes|str}."""
        root = self.node(node).host_path(path)
        if root.exists():
            shutil.rmtree(str(root))
        root.mkdir(parents=True)
        for rel, data in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data.encode() if isinstance(data, str) else data)
        return root

    def guard_exists(self, node, guard='/var/lib/lifeboat/restore.guard'):
        return self.exec(node, ['test', '-e', guard], check=False).returncode == 0

    def clear_guards(self, guard='/var/lib/lifeboat/restore.guard'):
        for n in self.nodes:
            self.exec(n, ['rm', '-f', guard])

    def heartbeat_age(self, node):
        """Seconds since lifeboat-app last wrote /srv/app/heartbeat (read inside the node), or None."""
        proc = self.exec(node, ['cat', APP_DIR + '/heartbeat'], check=False)
        try:
            return time.time() - float(proc.stdout.strip())
        except ValueError:
            return None

    def heartbeat_written_after(self, node, since, timeout=60):
        """Wait until lifeboat-app writes a heartbeat later than ``since`` (time.time()); True if it did.

        A condition, not an age: on a loaded machine (parallel test workers) the app may run late, but a
        running app writes a new heartbeat (every 0.5 s when idle) long before the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.exec(node, ['cat', APP_DIR + '/heartbeat'], check=False)
            try:
                if float(proc.stdout.strip()) > since:
                    return True
            except ValueError:
                pass
            time.sleep(0.1)
        return False

    # ------------------------------------------------------------------ faults
    def link_down(self, node):
        _run(['ip', '-n', self.node(node).ns, 'link', 'set', 'eth0', 'down'])

    def link_up(self, node):
        n = self.node(node)
        _run(['ip', '-n', n.ns, 'link', 'set', 'eth0', 'up'])
        _run(['ip', '-n', n.ns, 'route', 'replace', 'default', 'via', self.controller_ip])

    def link_is_up(self, node):
        out = _run(['ip', '-n', self.node(node).ns, '-o', 'link', 'show', 'eth0']).stdout
        return 'state UP' in out or ',UP' in out

    def freeze(self, node):
        """SIGSTOP every process of a node (it still answers TCP handshakes, then says nothing)."""
        n = self.node(node)
        _signal(_netns_pids(n.ns), signal.SIGSTOP)
        n.frozen = True

    def thaw(self, node):
        n = self.node(node)
        _signal(_netns_pids(n.ns), signal.SIGCONT)
        n.frozen = False

    def small_fs(self, node, path, size='4m'):
        """Mount a tmpfs of ``size`` at ``path`` inside the node only (it goes with the node's mount ns)."""
        n = self.node(node)
        self.sh(n, 'mkdir -p %s && mount -t tmpfs -o size=%s,mode=0755 lbtestfs %s'
                % (shlex.quote(path), shlex.quote(str(size)), shlex.quote(path)))
        self._fault_mounts.setdefault(n.name, []).append(path)

    def fill_disk(self, node, path, size='4m', free_kb=0):
        """A small tmpfs at ``path`` in the node, filled up to ``free_kb`` KiB free (disk-full tests)."""
        self.small_fs(node, path, size)
        filler = path.rstrip('/') + '/.lifeboat-test-filler'
        # dd stops at ENOSPC (exit 1): expected
        self.sh(node, 'dd if=/dev/zero of=%s bs=64k 2>/dev/null || true' % shlex.quote(filler))
        if free_kb:
            self.sh(node, 'truncate -s -%dK %s' % (int(free_kb), shlex.quote(filler)))

    def unmount(self, node, path):
        n = self.node(node)
        self.sh(n, 'umount %s' % shlex.quote(path), check=False)
        if path in self._fault_mounts.get(n.name, []):
            self._fault_mounts[n.name].remove(path)

    def heal(self):
        """Undo every fault: thaw, links up, sshd running, fault mounts removed."""
        for n in self.nodes:
            self.thaw(n)
            if not self.link_is_up(n):
                self.link_up(n)
            if not self.sshd_running(n):
                self.start_sshd(n)
            for path in list(reversed(self._fault_mounts.get(n.name, []))):
                self.unmount(n, path)

    def processes(self, node):
        """[(host pid, comm)] of every process in a node (its network namespace)."""
        return [(p, _comm(p)) for p in _netns_pids(self.node(node).ns)]

    def wait_process(self, node, names, timeout=60):
        """Wait until a process whose comm is in ``names`` runs in the node; returns its comm or None."""
        names = set([names] if isinstance(names, str) else names)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _pid, comm in self.processes(node):
                if comm in names:
                    return comm
            time.sleep(0.01)
        return None

    def kill_processes(self, node, names, sig=signal.SIGKILL):
        """Signal the node's processes whose comm is in ``names`` (left over by a test's fault)."""
        names = set([names] if isinstance(names, str) else names)
        _signal([p for p, comm in self.processes(node) if comm in names], sig)

    def kill_ssh_masters(self):
        """End Ansible's ControlPersist ssh masters (they run in the hub), so the next run reconnects."""
        _signal([p for p in _netns_pids(self.hub) if _comm(p) == 'ssh'], signal.SIGTERM)

    # ------------------------------------------------------------------ the shared store
    def store(self, prefix=''):
        """The shared filesystem store (host view of /srv/backup), as lifeboat's own FilesystemStore."""
        _tests_conftest()
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
        return open_store({'type': 'filesystem', 'path': str(self.shared_store), 'prefix': prefix})

    def describe(self):
        lines = ['cluster %s  base %s  subnet %s  hub %s (controller %s)' % (
            self.run_id, self.base, self.subnet, self.hub, self.controller_ip)]
        for n in self.nodes:
            lines.append('  %-6s %-15s ns %-18s pid1 %s' % (n.name, n.ip, n.ns, n.pid))
        lines.append('inventory: %s' % self.inventory)
        lines.append('ssh: ip netns exec %s ssh -F %s <node ip>' % (self.hub, self.ssh_config))
        lines.append('playbook: ip netns exec %s ansible-playbook -i %s ... (ANSIBLE_SSH_CONTROL_PATH_DIR=%s)'
                     % (self.hub, self.inventory, self.base / 'cp'))
        return '\n'.join(lines)


# ---------------------------------------------------------------------- command line
def _clusters():
    root = _base_root()
    out = []
    for d in sorted(root.glob('cluster-*')) if root.exists() else []:
        try:
            state = json.loads((d / 'state.json').read_text())
        except (OSError, ValueError):
            continue
        out.append((d, state))
    return out


def _owner_alive(state):
    pid = state.get('owner_pid')
    return bool(pid) and _alive(pid)


def reap_stale():
    """Tear down clusters whose owning process is gone (a test run killed before its teardown).

    Clusters brought up by hand (``up``) have no owner and are never reaped. Returns the ids torn down.
    """
    done = []
    for _d, state in _clusters():
        if state.get('owner_pid') is not None and not _owner_alive(state):
            try:
                Cluster.attach(state['run_id']).down()
                done.append(state['run_id'])
            except (OSError, ValueError, KeyError, ClusterError):
                pass
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description='Bring a lifeboat test cluster (network namespaces) up or down.')
    sub = ap.add_subparsers(dest='cmd', required=True)
    up = sub.add_parser('up', help='bring a cluster up and leave it running')
    up.add_argument('--nodes', type=int, default=3)
    up.add_argument('--subnet')
    up.add_argument('--no-postgresql', action='store_true')
    up.add_argument('--no-standby', action='store_true')
    up.add_argument('--no-app', action='store_true')
    sub.add_parser('list', help='clusters on this machine')
    ex = sub.add_parser('exec', help='run a command inside a node')
    ex.add_argument('id')
    ex.add_argument('node')
    ex.add_argument('command', nargs=argparse.REMAINDER)
    dn = sub.add_parser('down', help='tear a cluster down')
    dn.add_argument('id', nargs='?')
    dn.add_argument('--stale', action='store_true', help='every cluster whose owner process is gone')
    dn.add_argument('--all', action='store_true')
    a = ap.parse_args(argv)
    if a.cmd == 'up':
        c = Cluster(nodes=a.nodes, subnet=a.subnet, postgresql=not a.no_postgresql, standby=not a.no_standby,
                    app=not a.no_app)
        c.up()
        state = json.loads((c.base / 'state.json').read_text())
        state['owner_pid'] = None   # manual clusters are never "stale"
        _write(c.base / 'state.json', json.dumps(state, indent=1))
        print(c.describe())
        print('up in %.1f s %s' % (c.timings['up'], json.dumps(c.timings)))
        print('down: %s %s down %s' % (sys.executable, __file__, c.run_id))
        return 0
    if a.cmd == 'list':
        for d, state in _clusters():
            print('%s  %s  owner %s%s' % (state['run_id'], d, state.get('owner_pid') or 'manual',
                                          '' if state.get('owner_pid') is None or _owner_alive(state) else ' (gone)'))
        orphans = [ns for ns in netns_list() if ns.startswith(NAME_PREFIX)]
        if orphans:
            print('namespaces: %s' % ' '.join(orphans))
        return 0
    if a.cmd == 'exec':
        c = Cluster.attach(a.id)
        cmd = a.command[1:] if a.command[:1] == ['--'] else a.command
        proc = subprocess.run(['nsenter', '-t', str(c.node(a.node).pid), '-m', '-u', '-i', '-n', '-p', '--']
                              + (cmd or ['/bin/bash']), check=False)
        return proc.returncode
    if a.cmd == 'down':
        todo = []
        for _d, state in _clusters():
            if a.all or (a.id and state['run_id'] == a.id) or (
                    a.stale and state.get('owner_pid') is not None and not _owner_alive(state)):
                todo.append(state['run_id'])
        if a.id and a.id not in todo:
            print('no cluster %s' % a.id, file=sys.stderr)
            return 1
        for rid in todo:
            errors = Cluster.attach(rid).down()
            print('down %s%s' % (rid, (': ' + '; '.join(errors)) if errors else ''))
        return 0
    return 2


if __name__ == '__main__':
    sys.exit(main())
