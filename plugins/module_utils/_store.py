# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store interface every backend implements, the ``store`` option spec, and the factory.

Designed for object stores: keys are '/'-separated strings relative to the store's prefix, there
are no directories, objects become visible only when committed whole, and there is no seek.

Backends (one file each, guarded imports):
  _store_fs.py    filesystem: a local directory or a mounted EFS/NFS path
  _store_s3.py    S3 and S3-compatible (boto3)
  _store_sftp.py  SFTP (paramiko)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

ObjectInfo = collections.namedtuple('ObjectInfo', ['key', 'size', 'mtime'])

# The ``store`` option of every module (documented in doc_fragments/store.py).
STORE_SPEC = dict(
    type=dict(type='str', required=True, choices=['filesystem', 's3', 'sftp']),
    prefix=dict(type='str', default=''),
    # filesystem
    path=dict(type='path'),
    # s3
    bucket=dict(type='str'),
    region=dict(type='str'),
    endpoint_url=dict(type='str'),
    profile=dict(type='str'),
    access_key=dict(type='str', no_log=True),
    secret_key=dict(type='str', no_log=True),
    session_token=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    sse=dict(type='str', default='AES256', choices=['AES256', 'aws:kms', 'none']),
    kms_key_id=dict(type='str', no_log=False),
    storage_class=dict(type='str', default='STANDARD'),
    part_size_mb=dict(type='int', default=16),
    concurrency=dict(type='int', default=4),
    object_lock_mode=dict(type='str', choices=['GOVERNANCE', 'COMPLIANCE']),
    object_lock_days=dict(type='int'),
    max_attempts=dict(type='int', default=8),
    # sftp
    host=dict(type='str'),
    port=dict(type='int', default=22),
    user=dict(type='str'),
    password=dict(type='str', no_log=True),
    private_key=dict(type='path', no_log=False),
    private_key_passphrase=dict(type='str', no_log=True),
    known_hosts=dict(type='path'),
    host_key_policy=dict(type='str', default='strict', choices=['strict', 'accept_new']),
    timeout=dict(type='int', default=30),
)

STORE_ARG = dict(type='dict', required=True, options=STORE_SPEC)

_REQUIRED = {
    'filesystem': ('path',),
    's3': ('bucket',),
    'sftp': ('host', 'path'),
}


def join_key(*parts):
    return '/'.join(p.strip('/') for p in parts if p not in (None, '') and p.strip('/'))


def check_key(key):
    """Keys are relative, '/'-separated, with no empty, '.' or '..' segment."""
    if not key or key.startswith('/') or any(seg in ('', '.', '..') for seg in key.split('/')):
        raise LifeboatError('invalid store key %r' % (key,))
    return key


class Writer(object):
    """A streaming write of one object: write() any number of times, then commit() or abort().

    Nothing is visible under the key until commit() returns. Used as a context manager, an exception
    (or leaving without commit) aborts, and nothing is left that later reads as valid.
    """

    def write(self, data):
        raise NotImplementedError

    def commit(self):
        raise NotImplementedError

    def abort(self):
        raise NotImplementedError

    committed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.committed:
            try:
                self.abort()
            except Exception:  # pylint: disable=broad-except
                if exc_type is None:
                    raise
        return False


class Reader(object):
    """A streaming read of one object: read(n) until it returns b''."""

    def read(self, n):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


class Store(object):
    """Base of every backend. Keys are relative to the store's prefix."""

    type = None

    def __init__(self, params):
        self.params = params
        self.prefix = (params.get('prefix') or '').strip('/')

    # -- what every backend implements
    def describe(self):
        """Short human description for messages, e.g. 'filesystem store /srv/backup'."""
        raise NotImplementedError

    def check_writable(self):
        """Raise LifeboatError with a clear message when objects cannot be written."""
        raise NotImplementedError

    def open_write(self, key):
        """Return a Writer for key (no seek, no local temp copy)."""
        raise NotImplementedError

    def open_read(self, key):
        """Return a Reader for key; LifeboatError when it does not exist."""
        raise NotImplementedError

    def stat(self, key):
        """ObjectInfo of key, or None when absent."""
        raise NotImplementedError

    def list(self, prefix):
        """Every committed object whose key starts with prefix + '/', recursively, as ObjectInfo."""
        raise NotImplementedError

    def list_children(self, prefix=''):
        """Sorted names directly below prefix (like one level of a directory)."""
        raise NotImplementedError

    def delete(self, key):
        """Delete one object; no error when absent."""
        raise NotImplementedError

    def put_bytes(self, key, data, exclusive=False):
        """Atomically write a small object. With exclusive, only when absent: returns False if it existed."""
        raise NotImplementedError

    def cleanup_incomplete(self):
        """Remove what interrupted writes left behind (S3 multipart uploads, SFTP temp files) in sets.

        Called by _sets.start with the store lock held, so no other run is writing. Leftovers are never
        read as valid objects either way; this only frees the space. Best effort: returns how many.
        """
        return 0

    def close(self):
        pass

    # -- derived helpers
    def get_bytes(self, key):
        """Whole small object, or None when absent."""
        if self.stat(key) is None:
            return None
        chunks = []
        with self.open_read(key) as r:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                chunks.append(b)
        return b''.join(chunks)

    def delete_prefix(self, prefix):
        n = 0
        for info in list(self.list(prefix)):
            self.delete(info.key)
            n += 1
        return n

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


def _validate(params):
    stype = params.get('type')
    missing = [k for k in _REQUIRED.get(stype, ()) if not params.get(k)]
    if missing:
        raise LifeboatError('store type %s needs %s' % (stype, ', '.join('store.%s' % m for m in missing)))
    prefix = params.get('prefix') or ''
    if prefix and any(seg in ('.', '..') for seg in prefix.strip('/').split('/')):
        raise LifeboatError("store.prefix %r must not contain '.' or '..' segments" % prefix)


def open_store(params):
    """Build the backend for a ``store`` option value (a dict validated by STORE_SPEC)."""
    params = dict(params.items())
    _validate(params)
    stype = params['type']
    if stype == 'filesystem':
        from ansible_collections.lifeboat.backup.plugins.module_utils._store_fs import FilesystemStore
        return FilesystemStore(params)
    if stype == 's3':
        from ansible_collections.lifeboat.backup.plugins.module_utils._store_s3 import S3Store
        return S3Store(params)
    if stype == 'sftp':
        from ansible_collections.lifeboat.backup.plugins.module_utils._store_sftp import SftpStore
        return SftpStore(params)
    raise LifeboatError('unknown store type %r' % stype)
