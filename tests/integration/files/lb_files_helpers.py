# -*- coding: utf-8 -*-
"""Helpers of the files integration tests: a rich source tree, tree snapshots, store access, crafted archives."""

import errno
import hashlib
import io
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time

HERE = pathlib.Path(__file__).resolve().parent
INFO_PLAYBOOK = HERE / 'info.yml'


def _top_conftest():
    """tests/conftest.py (run_playbook), loaded under its own name: other test dirs have a conftest too."""
    mod = sys.modules.get('lifeboat_tests_conftest')
    if mod is None:
        import importlib.util
        spec = importlib.util.spec_from_file_location('lifeboat_tests_conftest', str(HERE.parents[1] / 'conftest.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules['lifeboat_tests_conftest'] = mod
    return mod


run_playbook = _top_conftest().run_playbook

from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore  # noqa: E402

# re-exported for the tests, which use them as h.store_lock and h.LifeboatError
REEXPORTED = (store_lock, LifeboatError)

NOBODY = 65534
BASE_NS = 1500000000 * 10 ** 9  # 2017-07-14: clearly not "now"

# names that must survive: spaces, unicode, a newline, a leading dash, quotes and a backslash
ODD_NAMES = ['with space.txt', u'\u00fc-\u00f1-\u65e5\u672c.txt', 'new\nline', '-leading-dash',
             '"quote\'s" \\ back', ' leading and trailing space ']


# ---------------------------------------------------------------- the source tree

def xattrs_supported(d):
    probe = os.path.join(str(d), '.xattr-probe')
    with open(probe, 'w'):
        pass
    try:
        os.setxattr(probe, 'user.lifeboat.probe', b'1')
        return True, None
    except OSError as e:
        return False, 'user xattrs are not supported on %s (%s)' % (d, e.strerror)
    finally:
        os.unlink(probe)


def acls_supported(d):
    if not shutil.which('setfacl'):
        return False, 'setfacl is not installed (Debian package acl)'
    probe = os.path.join(str(d), '.acl-probe')
    with open(probe, 'w'):
        pass
    try:
        r = subprocess.run(['setfacl', '-m', 'u:%d:r' % NOBODY, probe], stderr=subprocess.PIPE, check=False)
        if r.returncode != 0:
            return False, 'ACLs are not supported on %s: %s' % (d, r.stderr.decode('utf-8', 'replace').strip())
        return True, None
    finally:
        os.unlink(probe)


def build_rich_tree(root):
    """Create the tree at ``root`` (must not exist). Returns a dict of what was possible (xattrs, acls)."""
    root = pathlib.Path(root)
    root.mkdir()
    feats = {}
    feats['xattrs'], feats['xattrs_why'] = xattrs_supported(root.parent)
    feats['acls'], feats['acls_why'] = acls_supported(root.parent)

    def write(rel, data, mode=0o644):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(str(p), mode)
        return p

    write('plain.txt', b'plain content\n')
    write('secret', b'only for 1234\n', 0o600)
    os.chown(str(root / 'secret'), 1234, 2345)
    write('nobody-owned', b'nobody\n')
    os.chown(str(root / 'nobody-owned'), NOBODY, NOBODY)
    write('setuid-bin', b'#!/bin/sh\necho hi\n', 0o755)
    os.chown(str(root / 'setuid-bin'), 1234, 2345)   # chown clears setuid: chmod after it
    os.chmod(str(root / 'setuid-bin'), 0o4755)
    write('random.bin', os.urandom(300 * 1024))
    write('dir 0750/nested/deeper/file', b'deep\n')
    os.chmod(str(root / 'dir 0750'), 0o750)
    os.chown(str(root / 'dir 0750'), 1234, 2345)
    (root / 'empty').mkdir()
    (root / 'empty-0700').mkdir()
    os.chmod(str(root / 'empty-0700'), 0o700)
    os.chown(str(root / 'empty-0700'), NOBODY, NOBODY)
    for i, name in enumerate(ODD_NAMES):
        write(name, ('odd %d\n' % i).encode('utf-8'))
    write(u'd\u00efr \u2713/inner \u00fc', b'unicode dir\n')
    # a sparse file: 8 MiB with two bytes of data
    with open(str(root / 'sparse'), 'wb') as f:
        f.write(b'a')
        f.seek(8 << 20)
        f.write(b'z')
    # links
    (root / 'links').mkdir()
    os.symlink('../plain.txt', str(root / 'links/rel'))
    os.symlink('/etc/hostname', str(root / 'links/abs'))
    os.symlink('../does/not/exist', str(root / 'links/dangling'))
    os.symlink('../dir 0750', str(root / 'links/dirlink'))
    os.symlink(u'../d\u00efr \u2713', str(root / u'links/\u00fc-link'))
    os.lchown(str(root / 'links/rel'), 1234, 2345)
    write('hard1', b'hard linked\n', 0o640)
    os.link(str(root / 'hard1'), str(root / 'hard2'))
    os.link(str(root / 'hard1'), str(root / 'dir 0750/nested/hard3'))
    if feats['xattrs']:
        os.setxattr(str(root / 'plain.txt'), 'user.lifeboat.text', u'v\u00e4lue'.encode('utf-8'))
        os.setxattr(str(root / 'plain.txt'), 'user.lifeboat.binary', b'\x00\x01\xff binary')
        os.setxattr(str(root / 'dir 0750'), 'user.lifeboat.dir', b'on a directory')
        os.setxattr(str(root / 'new\nline'), 'user.odd', b'on an odd name')
    if feats['acls']:
        subprocess.run(['setfacl', '-m', 'u:%d:rw,g:2345:r' % NOBODY, str(root / 'plain.txt')], check=True)
        subprocess.run(['setfacl', '-d', '-m', 'u:1234:rwx', str(root / 'dir 0750/nested')], check=True)
        subprocess.run(['setfacl', '-m', 'u:1234:rx', str(root / 'dir 0750/nested')], check=True)
    set_old_mtimes(root)
    return feats


def set_old_mtimes(root):
    """Distinct old mtimes with nanoseconds on everything (links too), directories last, deepest first."""
    root = str(root)
    i = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
            i += 1
            t = BASE_NS + i * 1000003007
            os.utime(os.path.join(dirpath, name), ns=(t, t), follow_symlinks=False)
        i += 1
        t = BASE_NS + i * 1000003007 + 123
        os.utime(dirpath, ns=(t, t))


# ---------------------------------------------------------------- tree snapshots

def _xattrs(path, is_link):
    if is_link:
        return {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in sorted(names)}


def snapshot_tree(root, mtimes=True):
    """relpath -> attributes of every entry under root (root itself as '.'), plus hard-link groups."""
    root = str(root)
    out = {}
    inodes = {}
    paths = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        paths.extend(os.path.join(dirpath, n) for n in dirnames + filenames)
    for p in paths:
        st = os.lstat(p)
        rel = os.path.relpath(p, root)
        is_link = stat.S_ISLNK(st.st_mode)
        e = {'mode': oct(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid, 'xattrs': _xattrs(p, is_link)}
        if mtimes:
            e['mtime_ns'] = st.st_mtime_ns
        if is_link:
            e['link'] = os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            h = hashlib.sha256()
            with open(p, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
            e['size'] = st.st_size
            e['sha256'] = h.hexdigest()
            e['nlink'] = st.st_nlink
            inodes.setdefault(st.st_ino, []).append(rel)
        out[rel] = e
    groups = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
    return {'entries': out, 'hardlink_groups': groups}


def diff_snapshots(a, b):
    """Human-readable differences between two snapshots (empty list when equal)."""
    out = []
    ea, eb = a['entries'], b['entries']
    for k in sorted(set(ea) | set(eb)):
        if k not in eb:
            out.append('only before: %r' % k)
        elif k not in ea:
            out.append('only after: %r' % k)
        elif ea[k] != eb[k]:
            for f in sorted(set(ea[k]) | set(eb[k])):
                if ea[k].get(f) != eb[k].get(f):
                    out.append('%r %s: %r != %r' % (k, f, ea[k].get(f), eb[k].get(f)))
    if a['hardlink_groups'] != b['hardlink_groups']:
        out.append('hard link groups: %r != %r' % (a['hardlink_groups'], b['hardlink_groups']))
    return out


def snapshot_files(root, skip=(), no_mtime=()):
    """Every path under root with type, size, mtime and a content hash (for "nothing changed" checks).

    ``skip``: directories left out; ``no_mtime``: directories whose mtime may change (a restore creates and
    removes its staging directory there).
    """
    root = str(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            e = (oct(st.st_mode), st.st_size, None if p in no_mtime else st.st_mtime_ns, st.st_uid, st.st_nlink)
            if stat.S_ISREG(st.st_mode):
                with open(p, 'rb') as f:
                    e += (hashlib.sha256(f.read()).hexdigest(),)
            elif stat.S_ISLNK(st.st_mode):
                e += (os.readlink(p),)
            out[os.path.relpath(p, root)] = e
    return out


# ---------------------------------------------------------------- playbook runs

def store_spec(path):
    return {'type': 'filesystem', 'path': str(path)}


def fs_store(path):
    return FilesystemStore(store_spec(path))


# pipelining only saves the module temp files of the local connection: a third less time on a busy machine
ENV = {'ANSIBLE_PIPELINING': 'True', 'ANSIBLE_FORKS': '10'}

# LIFEBOAT_PLAYBOOKS_FROM=DIR (DIR/ansible_collections/lifeboat/backup holds another build, e.g. 0.1.0 from
# `git archive 35acb05`): backup() and restore() run that build's playbooks, roles and modules, while fixtures
# are still made by this checkout. This shows that a test fails on an older version.
PLAYBOOKS_FROM = os.environ.get('LIFEBOAT_PLAYBOOKS_FROM')
if PLAYBOOKS_FROM:
    ENV['ANSIBLE_COLLECTIONS_PATH'] = PLAYBOOKS_FROM


def _playbook(name):
    if PLAYBOOKS_FROM:
        return os.path.join(PLAYBOOKS_FROM, 'ansible_collections', 'lifeboat', 'backup', 'playbooks', name)
    return name


def backup(store_path, files, check=False, inventory='localhost,', **extra):
    ev = {'lifeboat_store': store_spec(store_path)}
    if files is not None:
        ev['lifeboat_files'] = files
    ev.update(extra)
    return run_playbook(_playbook('backup.yml'), inventory=inventory, extra_vars=ev, check=check, env=ENV)


def restore(store_path, check=False, inventory='localhost,', **extra):
    ev = {'lifeboat_store': store_spec(store_path)}
    ev.update(extra)
    return run_playbook(_playbook('restore.yml'), inventory=inventory, extra_vars=ev, check=check, env=ENV)


def info(store_path, tmpdir, set_id=None):
    """backup_set_info's result, through a real playbook run."""
    out = os.path.join(str(tmpdir), 'info-%s.json' % os.urandom(4).hex())
    ev = {'lifeboat_store': store_spec(store_path), 'info_out': out}
    if set_id:
        ev['info_set_id'] = set_id
    r = run_playbook(str(INFO_PLAYBOOK), extra_vars=ev, env=ENV)
    assert r.rc == 0, r
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


def failures(result):
    """(host, msg) of every failed task result printed by the default callback, in order."""
    out = []
    for line in result.stdout.splitlines():
        if (line.startswith(('fatal: [', 'failed: ['))) and ' => {' in line:
            host = line.split('[', 1)[1].split(']', 1)[0]
            try:
                out.append((host, json.loads(line.split(' => ', 1)[1]).get('msg')))
            except ValueError:
                out.append((host, line))
    return out


def failure_msgs(result, host=None):
    """The ``msg`` of every failed task result (of one host, if given)."""
    return [m for h, m in failures(result) if host is None or h == host]


def final_msg(result):
    msgs = failure_msgs(result)
    assert msgs, result
    return msgs[-1]


# ---------------------------------------------------------------- the store

def set_ids(store_path):
    return [s['id'] for s in lifecycle.list_sets(fs_store(store_path))]


def store_objects(store_path, prefix=''):
    return sorted(i.key for i in fs_store(store_path).list(prefix))


def temp_files(store_path):
    out = []
    for dirpath, _dirs, files in os.walk(str(store_path)):
        out.extend(os.path.join(dirpath, f) for f in files if f.startswith('.lifeboat-tmp-'))
    return out


def set_bytes(store_path, set_id):
    """key -> sha256 of every file of a set (temp names too)."""
    return snapshot_files(os.path.join(str(store_path), set_id))


def the_artifact(store_path, set_id, host='localhost', name=None):
    st = fs_store(store_path)
    manifest, _digest = lifecycle.read_manifest(st, set_id)
    recs = [r for r in manifest['artifacts'] if r['host'] == host and (name is None or r['name'] == name)]
    assert len(recs) == 1, recs
    return recs[0]


def replace_artifact(store_path, set_id, record, data):
    """Write ``data`` as the artifact of ``record`` and make record, manifest and status agree with it.

    This is what a malicious (or clever) writer with store access could do: a set that is consistent
    in every checksum, so only the archive member checks stand between it and the restore target.
    """
    st = fs_store(store_path)
    new = dict(record, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    st.put_bytes(record['key'], data)
    return _rewrite_record(st, set_id, new)


def replace_record(store_path, set_id, record, **extra):
    """Change fields of ``record``'s ``extra`` (say its paths) in the record and the manifest, and fix up the
    manifest's checksum in status.json: a set consistent in every checksum, whose record now lies."""
    return _rewrite_record(fs_store(store_path), set_id, dict(record, extra=dict(record['extra'], **extra)))


def rewrite_record(store_path, set_id, record):
    """Write ``record`` (changed) and make manifest and status agree with it, as a writer with store access could."""
    return _rewrite_record(fs_store(store_path), set_id, record)


def _rewrite_record(st, set_id, new):
    st.put_bytes(set_format.record_key_for(new['key']), set_format.dumps(new))
    manifest, _d = lifecycle.read_manifest(st, set_id)
    manifest['artifacts'] = [new if a['key'] == new['key'] else a for a in manifest['artifacts']]
    manifest['size'] = sum(a['size'] for a in manifest['artifacts'])
    mbytes = set_format.dumps(manifest)
    st.put_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY), mbytes)
    status = lifecycle.read_status(st, set_id)
    status['manifest_sha256'] = set_format.sha256_hex(mbytes)
    st.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(status))
    return new


def zstd_bytes(data):
    return subprocess.run(['zstd', '-q', '-c'], input=data, stdout=subprocess.PIPE, check=True).stdout


def crafted_tar(members):
    """A pax tar from [(name, type, {linkname, data, devmajor, devminor})...] made with Python's tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for name, mtype, kw in members:
            ti = tarfile.TarInfo(name)
            ti.type = mtype
            ti.mode = kw.get('mode', 0o644)
            ti.mtime = 1500000000
            data = kw.get('data')
            if 'linkname' in kw:
                ti.linkname = kw['linkname']
            if mtype in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                ti.devmajor, ti.devminor = kw.get('dev', (1, 3))
            if data is not None:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return buf.getvalue()


def inprocess_set(store_path, parts, label=None):
    """A completed set made without Ansible (same module_utils, real tar and zstd): fast test fixtures.

    ``parts``: {host: {name: [paths]}}.
    """
    st = fs_store(store_path)
    sid = lifecycle.start(st, label=label)['set_id']
    expect = {}
    for host, entries in sorted(parts.items()):
        for name, paths in sorted(entries.items()):
            files_backup.backup(st, sid, host, name, paths)
            expect.setdefault(host, []).append('files/' + name)
    lifecycle.commit(st, sid, expect=expect, hosts=sorted(parts))
    return sid


def inventory(path, hosts):
    """A YAML inventory of local hosts: {name: {hostvars}}."""
    doc = {'all': {'hosts': {}}}
    for name, hv in hosts.items():
        v = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
        v.update(hv)
        doc['all']['hosts'][name] = v
    with open(str(path), 'w') as f:
        json.dump(doc, f)  # JSON is YAML
    return str(path)


def start_playbook(playbook, log_path, extra_vars, inventory='localhost,'):
    """ansible-playbook in the background, in its own session (so its whole process group can be killed)."""
    top = _top_conftest()
    pb = top.playbook_path(playbook)
    ev_path = str(log_path) + '.vars.json'
    with open(ev_path, 'w') as f:
        json.dump(extra_vars, f)
    argv = [top.tool('ansible-playbook'), pb, '-i', inventory, '-e', '@' + ev_path]
    if inventory == 'localhost,':
        argv += ['-c', 'local']
    env = dict(os.environ)
    env.update({'ANSIBLE_COLLECTIONS_PATH': top.PLAYBOOK_COLLECTIONS_PATH, 'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
                'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_RETRY_FILES_ENABLED': 'False', 'PYTHONWARNINGS': 'ignore'})
    env.update(ENV)
    log = open(str(log_path), 'wb')
    try:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    finally:
        log.close()


def _procs():
    """pid -> (state, ppid, pgid) of every process (read from /proc)."""
    out = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(name)] = (fields[0], int(fields[1]), int(fields[2]))
    return out


def alive(pids):
    procs = _procs()
    return [p for p in pids if p in procs and procs[p][0] != 'Z']


def wait_for(what, check, timeout):
    """Poll ``check()`` until it returns something true (returned), or fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError('timed out after %d s waiting for %s' % (timeout, what))


def descendants(pid):
    """``pid`` and every process below it (read from /proc)."""
    procs = _procs()
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for child, (_state, ppid, _pgid) in procs.items():
            if ppid in tree and child not in tree:
                tree.add(child)
                grew = True
    return sorted(tree)


def kill_pids(pids):
    """SIGKILL what is left of ``pids`` (the end of a test that left a run's modules going on purpose)."""
    for pid in alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_run(proc):
    """SIGKILL a backgrounded ansible-playbook run and everything it started; returns the PIDs killed.

    Killing its process group is not enough: Ansible's worker processes call setsid(), so each worker (with
    the module, tar and zstd it runs) is a process group of its own. Freeze the main group first so no new
    worker appears, then kill the group of every descendant.
    """
    try:
        os.killpg(proc.pid, signal.SIGSTOP)
    except ProcessLookupError:
        pass  # it already ended
    procs = _procs()
    tree = set(descendants(proc.pid))
    for pgid in sorted({procs[p][2] for p in tree if p in procs}):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    return sorted(tree)


def processes_mentioning(text):
    """PIDs whose command line contains ``text`` (to find a tar that outlived its run)."""
    out = []
    needle = text.encode('utf-8')
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                if needle in f.read():
                    out.append(int(name))
        except OSError:
            continue
    return out
