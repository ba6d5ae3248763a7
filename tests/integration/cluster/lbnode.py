# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PID 1 of one test-cluster node (see netcluster.py).

netcluster copies this file to ``<base>/lbnode`` with a shebang and starts it as
``ip netns exec NODE unshare --mount --uts --ipc --pid --fork --kill-child --mount-proc --propagation private
<base>/lbnode <node.json>``. It is named ``lbnode`` (not init/systemd) so that Ansible's service module falls
back to the init.d scripts. It sets the node's hostname and private mounts, writes ``ready`` and then only
reaps orphans (postmaster, sshd, the app daemon are reparented to it) until it gets SIGTERM.
Standard library only: it runs under the system python3.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import signal
import socket
import subprocess
import sys


def mount(*args):
    subprocess.run(('mount',) + args, check=True, stdin=subprocess.DEVNULL)


def bind(src, dst):
    mount('--bind', src, dst)


def rebind_var_lib(node_varlib, stash, keep_out):
    """Give the node its own /var/lib: a per-node dir holding binds of the host's entries.

    New entries (/var/lib/lifeboat...) land in the node's dir; the host's (dpkg, apt...) stay readable.
    """
    os.makedirs(stash, exist_ok=True)
    bind('/var/lib', stash)
    bind(node_varlib, '/var/lib')
    for name in sorted(os.listdir(stash)):
        if name in keep_out:
            continue
        src = os.path.join(stash, name)
        dst = os.path.join('/var/lib', name)
        if os.path.islink(src):
            if not os.path.lexists(dst):
                os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            os.makedirs(dst, exist_ok=True)
            bind(src, dst)
        elif os.path.isfile(src):
            if not os.path.exists(dst):
                open(dst, 'a').close()
            bind(src, dst)
    mount('--make-private', stash)
    subprocess.run(['umount', '-l', stash], check=False)


def setup(cfg):
    socket.sethostname(cfg['hostname'])
    mount('-t', 'tmpfs', '-o', 'mode=0755,size=64m', 'tmpfs', '/run')
    mount('-t', 'tmpfs', '-o', 'mode=1777,size=256m', 'tmpfs', '/dev/shm')
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
    os.makedirs('/run/postgresql', exist_ok=True)
    os.chown('/run/postgresql', cfg['postgres_uid'], cfg['postgres_gid'])
    os.chmod('/run/postgresql', 0o2775)
    os.makedirs('/run/lock', exist_ok=True)
    # the cluster's base dir stays visible at the same path once /tmp is private
    base = cfg['base']
    # read-only host dirs that the private /tmp, /var/tmp, /root binds below would hide (the interpreter under
    # /root/.pyenv, a venv under /tmp): stash them before anything is mounted over them
    stashed = []
    for i, (src, dst) in enumerate(cfg.get('ro_binds', [])):
        stash = '/run/lbro%d' % i
        os.makedirs(stash)
        bind(src, stash)
        stashed.append((stash, dst))
    os.makedirs('/run/lbbase', exist_ok=True)
    bind(base, '/run/lbbase')
    bind(cfg['vartmp'], '/var/tmp')
    bind(cfg['tmp'], '/tmp')
    os.makedirs(base, exist_ok=True)
    bind('/run/lbbase', base)
    subprocess.run(['umount', '/run/lbbase'], check=False)
    os.rmdir('/run/lbbase')
    rebind_var_lib(cfg['varlib'], '/run/lbvarlib', set(cfg.get('varlib_private', [])))
    os.rmdir('/run/lbvarlib')
    for src, dst in cfg['binds']:
        bind(src, dst)
    for stash, dst in stashed:
        os.makedirs(dst, exist_ok=True)
        bind(stash, dst)
        mount('-o', 'remount,bind,ro', dst)
        subprocess.run(['umount', stash], check=False)
        os.rmdir(stash)


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    stopping = []

    def on_term(signum, frame):
        stopping.append(signum)

    def reap(signum, frame):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGCHLD, reap)
    try:
        setup(cfg)
    except Exception as e:  # pylint: disable=broad-except
        with open(cfg['ready'] + '.failed', 'w') as f:
            f.write('%s: %s\n' % (type(e).__name__, e))
        return 1
    with open(cfg['ready'], 'w') as f:
        f.write('%d\n' % os.getpid())
    while not stopping:
        signal.pause()
    return 0


if __name__ == '__main__':
    sys.exit(main())
