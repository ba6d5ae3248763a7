# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store interface every backend implements (the option spec and the factory are in factory.py).

Designed for object stores: keys are '/'-separated strings relative to the store's prefix, there
are no directories, objects become visible only when committed whole, and there is no seek.

Backends (guarded imports):
  filesystem.py                       a local directory or a mounted EFS/NFS path
  s3.py (+ s3_writer.py, s3_reader.py) S3 and S3-compatible (boto3, through _aws/client.py)
  sftp.py                             SFTP (paramiko)

Stores know keys, not backup sets: what the set layer needs (which prefixes belong to open sets, for
cleanup_incomplete) it passes in. One layout rule is shared: objects at the top level of a store (no '/'
in the key: the store lock, probes) are store-level; everything below a first segment belongs to a set.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

ObjectInfo = collections.namedtuple('ObjectInfo', ['key', 'size', 'mtime'])

# Names the backends give what is not (yet) an object. Readers never list or read them.
HIDDEN_PREFIX = '.lifeboat-'                   # every name starting with it is hidden
TEMP_PREFIX = HIDDEN_PREFIX + 'tmp-'           # a write in progress (filesystem, sftp): temp name, then rename
PROBE_PREFIX = HIDDEN_PREFIX + 'probe-'        # check_writable's probe object (s3)


class AlreadyExistsError(LifeboatError):
    """An exclusive write found its key already there; nothing was replaced."""


def temp_name(base, token):
    """The hidden temp name of a write of ``base`` (a file name)."""
    return TEMP_PREFIX + base + '-' + token


def is_hidden(name):
    """Whether a file name (last key segment) is a temp or probe name, never an object."""
    return name.startswith(HIDDEN_PREFIX)


def is_store_level(key):
    """Keys at the top level (the store lock) are the store's own; keys below a first segment are a set's."""
    return '/' not in key


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
    # whether several threads may read objects at once through this one store object (verify full reads
    # ``jobs`` artifacts at a time where it may)
    parallel_reads = True

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

    def open_write(self, key, exclusive=False):
        """Return a Writer for key (no seek, no local temp copy).

        With ``exclusive`` the writer's commit() raises AlreadyExistsError when ``key`` exists by then, and
        leaves it untouched: atomically where the backend can (filesystem link(), SFTP hardlink or the
        non-overwriting rename, S3 conditional writes); see docs/stores.md.
        """
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
        with self.open_write(key, exclusive=exclusive) as writer:
            writer.write(data)
            try:
                writer.commit()
            except AlreadyExistsError:
                return False
        return True

    def put_new(self, key, data):
        """Write a small object that must not exist yet (a part of an open set): AlreadyExistsError if it does."""
        if not self.put_bytes(key, data, exclusive=True):
            raise AlreadyExistsError('%s already exists in the %s: an exclusive write never replaces an object'
                                     % (key, self.describe()), key=key)

    def cleanup_incomplete(self, prefixes):
        """Remove what interrupted writes left behind (S3 multipart uploads, temp files) below ``prefixes``.

        ``prefixes`` are the keys of the sets still open (_backup_set/lifecycle.start passes them, with the
        store lock held, so no other run is writing there). Leftovers are never read as valid objects either
        way; this only frees the space. Best effort: returns how many.
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
        with self.open_read(key) as reader:
            while True:
                chunk = reader.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        return b''.join(chunks)

    def delete_many(self, keys):
        """Delete many objects (no error for absent ones). Returns {key: LifeboatError} for those that could not go;
        the others are gone. Backends with a batch delete override it (S3: DeleteObjects, 1,000 keys a call)."""
        failed = {}
        for key in keys:
            try:
                self.delete(key)
            except LifeboatError as err:
                failed[key] = err
        return failed

    def delete_prefix(self, prefix):
        count = 0
        for info in list(self.list(prefix)):
            self.delete(info.key)
            count += 1
        return count

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
