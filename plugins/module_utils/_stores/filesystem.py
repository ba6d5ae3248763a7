# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filesystem store: a local directory or a mounted EFS/NFS path.

Objects are files under <path>/<prefix>/<key>. A write goes to a hidden temp name in the final
directory, is fsynced, then renamed (and the directory fsynced): readers never see a partial object.
Exclusive writes (the lock, a set's status and manifest, every part of an open set) link() the complete
temp file to the final name instead, which fails atomically when the name exists (also on NFSv4).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat as stat_mod
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DeniedError, LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    TEMP_PREFIX, AlreadyExistsError, ObjectInfo, Reader, Store, Writer, check_key, join_key, temp_name)

DIR_MODE = 0o700
FILE_MODE = 0o600


def _oserror(err, action, path):
    reason = err.strerror or str(err)
    error = LifeboatError
    if err.errno == errno.ENOSPC:
        reason = 'no space left on device'
    elif err.errno == errno.EDQUOT:
        reason = 'disk quota exceeded'
    elif err.errno in (errno.EACCES, errno.EPERM):
        reason, error = 'permission denied', DeniedError
    elif err.errno == errno.EROFS:
        reason, error = 'read-only filesystem', DeniedError
    elif err.errno == errno.ENOENT:
        error = NotFoundError
    return error('cannot %s %s: %s' % (action, path, reason), errno=err.errno)


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


WRITEBACK_EVERY = 32 << 20


class _FsWriter(Writer):
    def __init__(self, store, key, final, tmp, fd, exclusive=False):
        self.store = store
        self.key = key
        self.final = final
        self.tmp = tmp
        self.fd = fd
        self.exclusive = exclusive
        self.size = 0
        self._wb_mark = 0

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
                self.size += written
        except OSError as err:
            raise _oserror(err, 'write', self.final)
        if self.size - self._wb_mark >= WRITEBACK_EVERY:
            self._writeback()

    def _writeback(self):
        """Start writing back what came since the last call, and drop the window before it (clean by then).

        POSIX_FADV_DONTNEED starts asynchronous writeback of dirty pages and evicts clean ones (the fallback
        PostgreSQL uses where sync_file_range is missing). The disk then works while the data is still being
        produced, so the fsync of commit() is short, and a backup does not push the host's page cache out.
        """
        start = max(0, self._wb_mark - WRITEBACK_EVERY)
        try:
            os.posix_fadvise(self.fd, start, self.size - start, os.POSIX_FADV_DONTNEED)
        except (AttributeError, OSError):
            pass  # no posix_fadvise here (or not supported by this filesystem): commit()'s fsync does it all
        self._wb_mark = self.size

    def commit(self):
        """fsync, then rename over the final name; exclusive: link() to it, which fails when it exists."""
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            if self.exclusive:
                os.link(self.tmp, self.final)
            else:
                os.rename(self.tmp, self.final)
        except OSError as err:
            if self.exclusive and err.errno == errno.EEXIST:
                raise AlreadyExistsError('%s already exists in the %s: an exclusive write never replaces an object'
                                         % (self.key, self.store.describe()), key=self.key)
            raise _oserror(err, 'commit', self.final)
        fsync_dir(os.path.dirname(self.final))
        self.committed = True
        if self.exclusive:
            self._remove_temp()

    def _remove_temp(self):
        try:
            os.unlink(self.tmp)
        except OSError:
            pass  # a temp name is never read; cleanup_incomplete removes what is left

    def abort(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None
        self._remove_temp()


class _FsReader(Reader):
    def __init__(self, path):
        self.path = path
        try:
            self.file = open(path, 'rb', buffering=0)
        except OSError as err:
            if err.errno == errno.ENOENT:
                raise NotFoundError('%s is not in the store' % path)
            raise _oserror(err, 'read', path)

    def read(self, n):
        try:
            return self.file.read(n)
        except OSError as err:
            raise _oserror(err, 'read', self.path)

    def fileno(self):
        return self.file.fileno()

    def close(self):
        self.file.close()


class FilesystemStore(Store):
    type = 'filesystem'

    def __init__(self, params):
        super(FilesystemStore, self).__init__(params)
        self.path = os.path.abspath(params['path'])
        self.root = os.path.join(self.path, self.prefix) if self.prefix else self.path

    def describe(self):
        return 'filesystem store %s' % self.root

    def _path(self, key):
        return os.path.join(self.root, *check_key(key).split('/'))

    def _makedirs(self, directory):
        # every directory created gets DIR_MODE (os.makedirs gives it to the last one only)
        missing = []
        path = directory
        while not os.path.isdir(path):
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        for path in reversed(missing):
            try:
                os.mkdir(path, DIR_MODE)
            except OSError as err:
                if err.errno != errno.EEXIST or not os.path.isdir(path):
                    raise _oserror(err, 'create directory', path)

    def check_writable(self):
        if not os.path.isdir(self.path):
            parent = os.path.dirname(self.path)
            if os.path.lexists(parent) and not os.path.isdir(parent):
                raise LifeboatError('%s: %s is not a directory' % (self.describe(), parent))
            if not os.path.isdir(parent):
                raise NotFoundError('%s: %s does not exist (nor its parent %s)' % (self.describe(), self.path, parent))
        self._makedirs(self.root)
        probe = os.path.join(self.root, temp_name('probe', uuid.uuid4().hex))
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise _oserror(err, 'write to', self.root)

    def open_write(self, key, exclusive=False):
        final = self._path(key)
        directory = os.path.dirname(final)
        self._makedirs(directory)
        tmp = os.path.join(directory, temp_name(os.path.basename(final), uuid.uuid4().hex[:12]))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except OSError as err:
            raise _oserror(err, 'create', final)
        return _FsWriter(self, key, final, tmp, fd, exclusive)

    def open_read(self, key):
        return _FsReader(self._path(key))

    def stat(self, key):
        try:
            info = os.stat(self._path(key))
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise _oserror(err, 'stat', self._path(key))
        if not stat_mod.S_ISREG(info.st_mode):
            return None
        return ObjectInfo(key, info.st_size, info.st_mtime)

    def list(self, prefix):
        base = self._path(prefix) if prefix else self.root
        if not os.path.isdir(base):
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root)
            for name in sorted(filenames):
                if name.startswith(TEMP_PREFIX):
                    continue
                try:
                    info = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                if not stat_mod.S_ISREG(info.st_mode):
                    continue
                key = name if rel == '.' else join_key(rel.replace(os.sep, '/'), name)
                yield ObjectInfo(key, info.st_size, info.st_mtime)

    def list_children(self, prefix=''):
        base = self._path(prefix) if prefix else self.root
        try:
            names = os.listdir(base)
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise _oserror(err, 'list', base)
        return sorted(name for name in names if not name.startswith(TEMP_PREFIX))

    def delete(self, key):
        path = self._path(key)
        try:
            os.unlink(path)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise _oserror(err, 'delete', path)
            return
        # drop directories left empty, up to the store root
        directory = os.path.dirname(path)
        while directory != self.root and directory.startswith(self.root + os.sep):
            try:
                os.rmdir(directory)
            except OSError:
                break
            directory = os.path.dirname(directory)

    def cleanup_incomplete(self, prefixes):
        """Remove the temp files killed writers left below ``prefixes`` (the open sets; called with the lock held).

        The store root is never swept: a concurrent start may be writing its lock's temp name there.
        """
        removed = 0
        for prefix in prefixes:
            base = self._path(prefix)
            if not os.path.isdir(base) or os.path.islink(base):
                continue
            for dirpath, _dirnames, filenames in os.walk(base):
                for name in filenames:
                    if name.startswith(TEMP_PREFIX):
                        try:
                            os.unlink(os.path.join(dirpath, name))
                            removed += 1
                        except OSError:
                            pass  # gone meanwhile, or not ours to remove: never read either way
        return removed
