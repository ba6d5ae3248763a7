# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filesystem store: a local directory or a mounted EFS/NFS path.

Objects are files under <path>/<prefix>/<key>. A write goes to a hidden temp name in the final
directory, is fsynced, then renamed (and the directory fsynced): readers never see a partial object.
Exclusive small writes (locks, status) are a temp file hard-linked to the final name, which fails
atomically when the name exists (also on NFSv4).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat as stat_mod
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    ObjectInfo, Reader, Store, Writer, check_key, join_key)

TMP_MARK = '.lifeboat-tmp-'
DIR_MODE = 0o700
FILE_MODE = 0o600


def _oserror(e, action, path):
    reason = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        reason = 'no space left on device'
    elif e.errno == errno.EDQUOT:
        reason = 'disk quota exceeded'
    elif e.errno in (errno.EACCES, errno.EPERM):
        reason = 'permission denied'
    elif e.errno == errno.EROFS:
        reason = 'read-only filesystem'
    return LifeboatError('cannot %s %s: %s' % (action, path, reason), errno=e.errno)


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
    def __init__(self, final, tmp, fd):
        self.final = final
        self.tmp = tmp
        self.fd = fd
        self.size = 0
        self._wb_mark = 0

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
                self.size += n
        except OSError as e:
            raise _oserror(e, 'write', self.final)
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
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            os.rename(self.tmp, self.final)
        except OSError as e:
            raise _oserror(e, 'commit', self.final)
        fsync_dir(os.path.dirname(self.final))
        self.committed = True

    def abort(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


class _FsReader(Reader):
    def __init__(self, path):
        self.path = path
        try:
            self.f = open(path, 'rb', buffering=0)
        except OSError as e:
            if e.errno == errno.ENOENT:
                raise LifeboatError('%s is not in the store' % path)
            raise _oserror(e, 'read', path)

    def read(self, n):
        try:
            return self.f.read(n)
        except OSError as e:
            raise _oserror(e, 'read', self.path)

    def fileno(self):
        return self.f.fileno()

    def close(self):
        self.f.close()


class FilesystemStore(Store):
    type = 'filesystem'

    def __init__(self, params):
        super(FilesystemStore, self).__init__(params)
        self.path = os.path.abspath(params['path'])
        self.root = os.path.join(self.path, self.prefix) if self.prefix else self.path

    def describe(self):
        return 'filesystem store %s' % self.root

    def _p(self, key):
        return os.path.join(self.root, *check_key(key).split('/'))

    def _makedirs(self, d):
        # every directory created gets DIR_MODE (os.makedirs gives it to the last one only)
        missing = []
        p = d
        while not os.path.isdir(p):
            missing.append(p)
            parent = os.path.dirname(p)
            if parent == p:
                break
            p = parent
        for p in reversed(missing):
            try:
                os.mkdir(p, DIR_MODE)
            except OSError as e:
                if e.errno != errno.EEXIST or not os.path.isdir(p):
                    raise _oserror(e, 'create directory', p)

    def check_writable(self):
        if not os.path.isdir(self.path):
            parent = os.path.dirname(self.path)
            if os.path.lexists(parent) and not os.path.isdir(parent):
                raise LifeboatError('%s: %s is not a directory' % (self.describe(), parent))
            if not os.path.isdir(parent):
                raise LifeboatError('%s: %s does not exist (nor its parent %s)' % (self.describe(), self.path, parent))
        self._makedirs(self.root)
        probe = os.path.join(self.root, TMP_MARK + 'probe-' + uuid.uuid4().hex)
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise _oserror(e, 'write to', self.root)

    def open_write(self, key):
        final = self._p(key)
        d = os.path.dirname(final)
        self._makedirs(d)
        tmp = os.path.join(d, TMP_MARK + os.path.basename(final) + '-' + uuid.uuid4().hex[:12])
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except OSError as e:
            raise _oserror(e, 'create', final)
        return _FsWriter(final, tmp, fd)

    def open_read(self, key):
        return _FsReader(self._p(key))

    def stat(self, key):
        try:
            st = os.stat(self._p(key))
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise _oserror(e, 'stat', self._p(key))
        if not stat_mod.S_ISREG(st.st_mode):
            return None
        return ObjectInfo(key, st.st_size, st.st_mtime)

    def list(self, prefix):
        base = self._p(prefix) if prefix else self.root
        if not os.path.isdir(base):
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root)
            for fn in sorted(filenames):
                if fn.startswith(TMP_MARK):
                    continue
                full = os.path.join(dirpath, fn)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if not stat_mod.S_ISREG(st.st_mode):
                    continue
                key = fn if rel == '.' else join_key(rel.replace(os.sep, '/'), fn)
                yield ObjectInfo(key, st.st_size, st.st_mtime)

    def list_children(self, prefix=''):
        base = self._p(prefix) if prefix else self.root
        try:
            names = os.listdir(base)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise _oserror(e, 'list', base)
        return sorted(n for n in names if not n.startswith(TMP_MARK))

    def delete(self, key):
        p = self._p(key)
        try:
            os.unlink(p)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise _oserror(e, 'delete', p)
            return
        # drop directories left empty, up to the store root
        d = os.path.dirname(p)
        while d != self.root and d.startswith(self.root + os.sep):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)

    def cleanup_incomplete(self):
        """Remove temp files that killed writers left in sets without a manifest (called with the lock held).

        The store root is left alone: a concurrent start may be writing its lock's temp name there.
        """
        n = 0
        for name in self.list_children(''):
            base = os.path.join(self.root, name)
            if not set_format.is_set_id(name) or not os.path.isdir(base) or os.path.islink(base):
                continue
            if os.path.lexists(os.path.join(base, set_format.MANIFEST_KEY)):
                continue  # completed sets are never written again
            for dirpath, _dirnames, filenames in os.walk(base):
                for fn in filenames:
                    if fn.startswith(TMP_MARK):
                        try:
                            os.unlink(os.path.join(dirpath, fn))
                            n += 1
                        except OSError:
                            pass
        return n

    def put_bytes(self, key, data, exclusive=False):
        final = self._p(key)
        w = self.open_write(key)
        with w:
            w.write(data)
            if not exclusive:
                w.commit()
                return True
            try:
                os.fsync(w.fd)
                os.close(w.fd)
                w.fd = None
                os.link(w.tmp, final)
            except OSError as e:
                if e.errno == errno.EEXIST:
                    return False
                raise _oserror(e, 'create', final)
            fsync_dir(os.path.dirname(final))
            return True  # the context manager removes the temp name
