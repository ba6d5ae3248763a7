# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store interface every backend implements (the option spec and the factory are in factory.py).

Designed for object stores: keys are '/'-separated strings relative to the store's prefix, there
are no directories, objects become visible only when committed whole, and there is no seek.

Backends (one file each, guarded imports):
  filesystem.py   a local directory or a mounted EFS/NFS path
  s3.py           S3 and S3-compatible (boto3)
  sftp.py         SFTP (paramiko)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

ObjectInfo = collections.namedtuple('ObjectInfo', ['key', 'size', 'mtime'])


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

        Called by _backup_set/lifecycle.start with the store lock held, so no other run is writing. Leftovers are never
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
