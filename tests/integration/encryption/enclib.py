# -*- coding: utf-8 -*-
"""Encryption test plumbing: key pairs made by the real age-keygen and ssh-keygen, modules run for real, and a set
whose ciphertext was changed with its checksums fixed up (so that only age can notice)."""

import hashlib
import os
import subprocess

import storelib
from storelib import run_module

from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store as _open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle

MARKER = b'PLAINTEXT-MARKER-files-5e2b'
HOST = 'web1'


class Keys(object):
    """age X25519 (two: current and old), ssh-ed25519 and ssh-rsa key pairs in one directory."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root)
        os.chmod(root, 0o700)
        self.age_public, self.age_identity = self._age('age-current.txt')
        self.old_public, self.old_identity = self._age('age-old.txt')
        self.ed_public, self.ed_identity = self._ssh('ed25519', 'ed25519')
        self.rsa_public, self.rsa_identity = self._ssh('rsa', 'rsa', '-b', '3072', '-m', 'PEM')
        self.ed_path = self.path('ed25519')
        self.rsa_path = self.path('rsa')
        self.age_path = self.path('age-current.txt')

    def path(self, name):
        return os.path.join(self.root, name)

    def _age(self, name):
        subprocess.run(['age-keygen', '-o', self.path(name)], check=True, stderr=subprocess.DEVNULL)
        public = subprocess.run(['age-keygen', '-y', self.path(name)], check=True, stdout=subprocess.PIPE).stdout
        return public.decode().strip(), _read(self.path(name))

    def _ssh(self, name, kind, *extra):
        subprocess.run(['ssh-keygen', '-q', '-t', kind, '-N', '', '-C', '%s@lifeboat-test' % name, '-f', self.path(name)]
                       + list(extra), check=True)
        return _read(self.path(name) + '.pub').strip(), _read(self.path(name))

    def recipients(self):
        """Every current recipient: X25519 with a comment, ssh-ed25519, ssh-rsa."""
        return [self.age_public + ' ops-2026', self.ed_public, self.rsa_public]

    def decryptions(self):
        """Each identity alone, as restores get them: content (no_log) or a file on the host."""
        return [('age identity content', {'identity': self.age_identity}),
                ('ssh-ed25519 identity_file', {'identity_file': self.ed_path}),
                ('ssh-rsa PEM identity content', {'identity': self.rsa_identity})]

    def secrets(self):
        """Lines of every private key, to search outputs and stores for."""
        out = []
        for text in (self.age_identity, self.old_identity, self.ed_identity, self.rsa_identity):
            out += [line.strip() for line in text.splitlines()
                    if line.strip() and not line.startswith(('#', '-----')) and len(line.strip()) > 20]
        return out


def _read(path):
    with open(path) as handle:
        return handle.read()


def ok(run):
    assert not run.failed, run
    assert 'Traceback' not in run.stdout + run.stderr, run
    return run


def start_set(store, label='enc'):
    return ok(run_module('backup_set', {'state': 'started', 'store': store, 'label': label}))['set_id']


def commit_set(store, set_id, hosts=(HOST,)):
    return ok(run_module('backup_set', {'state': 'committed', 'store': store, 'set_id': set_id, 'hosts': list(hosts)}))


def encryption(recipients):
    return {'recipients': list(recipients)}


def files_backup(store, set_id, name, paths, recipients=None, **extra):
    args = {'store': store, 'set_id': set_id, 'host': HOST, 'name': name, 'paths': list(paths)}
    if recipients is not None:
        args['encryption'] = encryption(recipients)
    args.update(extra)
    return run_module('files_backup', args)


def files_restore(store, name, decryption=None, **extra):
    args = {'store': store, 'host': HOST, 'name': name}
    if decryption is not None:
        args['decryption'] = decryption
    args.update(extra)
    return run_module('files_restore', args)


def open_store(store):
    """The store of a ``store`` option (the defaults filled in as the argspec would)."""
    return _open_store(storelib.store_params(**store))


def stored_bytes(store, key):
    with open_store(store) as st, st.open_read(key) as reader:
        chunks = []
        while True:
            chunk = reader.read(1 << 20)
            if not chunk:
                return b''.join(chunks)
            chunks.append(chunk)


def store_objects(store):
    """Every object of a store with its bytes: {key: bytes}."""
    with open_store(store) as st:
        keys = [item.key for item in st.list('')]
    return {key: stored_bytes(store, key) for key in keys}


def replace_artifact(store, set_id, record, data):
    """Write ``data`` as ``record``'s artifact and make record, manifest and status agree with it (sizes and
    SHA-256 fixed up): a set consistent in every checksum, so that only age's authentication can tell."""
    new = dict(record, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    with open_store(store) as st:
        st.put_bytes(record['key'], data)
        st.put_bytes(set_format.record_key_for(new['key']), set_format.dumps(new))
        manifest, _digest = lifecycle.read_manifest(st, set_id)
        manifest['artifacts'] = [new if entry['key'] == new['key'] else entry for entry in manifest['artifacts']]
        manifest['size'] = sum(entry['size'] for entry in manifest['artifacts'])
        raw = set_format.dumps(manifest)
        st.put_bytes(set_format.set_key(set_id, set_format.MANIFEST_KEY), raw)
        status = lifecycle.read_status(st, set_id)
        status['manifest_sha256'] = set_format.sha256_hex(raw)
        st.put_bytes(set_format.set_key(set_id, set_format.STATUS_KEY), set_format.dumps(status))
    return new


def age_header_end(data):
    """Offset of the first payload byte of an age file (after the header's MAC line)."""
    mac = data.index(b'\n---') + 1
    return data.index(b'\n', mac) + 1


def flipped(data):
    damaged = bytearray(data)
    damaged[age_header_end(data) + (len(data) - age_header_end(data)) // 2] ^= 0x01
    return bytes(damaged)


def truncated_at_chunk(data, chunks=1):
    """The age file cut right after ``chunks`` whole 64 KiB payload chunks: a clean STREAM boundary."""
    cut = age_header_end(data) + 16 + chunks * (65536 + 16)
    assert cut < len(data), 'the artifact is too small to cut at a chunk boundary'
    return data[:cut]


def make_tree(root, size=400 * 1024):
    os.makedirs(os.path.join(root, 'conf'))
    with open(os.path.join(root, 'random.bin'), 'wb') as handle:
        handle.write(os.urandom(size))
    with open(os.path.join(root, 'conf', 'secret.env'), 'wb') as handle:
        handle.write(b'SECRET_KEY=' + MARKER + b'\n')
    for index in range(10):
        with open(os.path.join(root, 'conf', 'f%d.json' % index), 'w') as handle:
            handle.write('{"i": %d}\n' % index)
    os.symlink('conf/f1.json', os.path.join(root, 'link'))


def tree(root):
    """{relative path: (type, sha256 or link)} of a directory."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ('link', os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ('dir', None)
            else:
                with open(path, 'rb') as handle:
                    out[rel] = ('file', hashlib.sha256(handle.read()).hexdigest())
    return out


def search(root, needles):
    """Files under ``root`` whose bytes contain one of ``needles`` (str or bytes)."""
    found = []
    needles = [needle.encode() if isinstance(needle, str) else needle for needle in needles]
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, 'rb') as handle:
                data = handle.read()
            found += ['%s: %s...' % (path, needle[:12].decode()) for needle in needles if needle in data]
    return found


def role_backup(playbook, workdir, recipients, env=None):
    """playbooks/backup.yml of a fresh tree ``app`` into a new filesystem store, encrypted to ``recipients``; it
    must succeed. Returns (store option, source directory)."""
    store = {'type': 'filesystem', 'path': os.path.join(workdir, 'store')}
    src = os.path.join(workdir, 'app')
    make_tree(src)
    res = playbook('backup.yml', env=env, extra_vars={
        'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
        'lifeboat_encryption': {'recipients': list(recipients)}})
    assert res.rc == 0, res
    return store, src
