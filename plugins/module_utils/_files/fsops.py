# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the filesystem adapter of the restore: openat-style walks that never follow a
symlink, removal that reports what it could not remove (and why), set-id stripping, mounts, copies.

Everything here works on directory file descriptors, so a path checked once cannot be swapped for a
symlink between the check and the write.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import os
import posixpath
import stat
import struct
import subprocess

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0)
_O_DIR_NOFOLLOW = _O_DIR | os.O_NOFOLLOW
# FS_IOC_GETFLAGS = _IOR('f', 1, long); the kernel reads and writes an int
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize('l') << 16) | (ord('f') << 8) | 1
_FS_IMMUTABLE_FL = 0x10
_FS_APPEND_FL = 0x20
SETID_BITS = stat.S_ISUID | stat.S_ISGID
MAX_PROBLEMS = 50


class Blocked(Exception):
    """A component of a walked path is a symlink or not a directory: ``path`` is it, ``why`` says what it is."""

    def __init__(self, path, why):
        super(Blocked, self).__init__('%s %s' % (path, why))
        self.path = path
        self.why = why


def open_dir(path):
    """A directory fd for an absolute, already resolved path (the start of a walk)."""
    return os.open(path, _O_DIR)


def lstat_at(dir_fd, name):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _what_is(dir_fd, name):
    st = lstat_at(dir_fd, name)
    if st is None:
        return 'vanished'
    if stat.S_ISLNK(st.st_mode):
        try:
            return 'is a symlink (to %s)' % os.readlink(name, dir_fd=dir_fd)
        except OSError:
            return 'is a symlink'
    return 'is not a directory'


def _open_child(dir_fd, name, shown):
    try:
        return os.open(name, _O_DIR_NOFOLLOW, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Blocked(shown, _what_is(dir_fd, name))
        raise


def walk(base_fd, base_path, names, create=False, mode=0o755):
    """Open base/names[0]/.../names[-1] one directory at a time, never following a symlink.

    Returns (fd, missing): the fd of the deepest directory reached (the caller closes it) and how many of
    ``names`` do not exist (always 0 with ``create``, which makes them with ``mode``). Raises Blocked when a
    component is a symlink or not a directory.
    """
    fd = os.dup(base_fd)
    shown = base_path
    try:
        for i, name in enumerate(names):
            shown = posixpath.join(shown, name)
            if lstat_at(fd, name) is None:
                if not create:
                    return fd, len(names) - i
                try:
                    os.mkdir(name, mode, dir_fd=fd)
                except FileExistsError:
                    pass
            child = _open_child(fd, name, shown)
            os.close(fd)
            fd = child
        return fd, 0
    except BaseException:
        os.close(fd)
        raise


def existing_base(path):
    """(the nearest existing directory at or above ``path``, resolved; [the components below it that are missing]).

    Symlinks in the existing part are resolved (they are the host's own layout, or the operator's dest); a
    component that exists but is not a directory (a file, a dangling symlink) counts as missing here, so the
    walk that follows reports it.
    """
    missing = []
    cur = path
    while cur != '/' and not os.path.isdir(cur):
        missing.insert(0, posixpath.basename(cur))
        cur = posixpath.dirname(cur)
    return os.path.realpath(cur), missing


def mount_points():
    """The mount points of this process' mount namespace (from /proc/self/mountinfo; [] where there is none)."""
    try:
        with open('/proc/self/mountinfo', 'rb') as f:
            text = f.read().decode('utf-8', 'surrogateescape')
    except OSError:
        return []
    return path_rules.mount_points(text)


def is_mount_point(path, mounts):
    return path in mounts or os.path.ismount(path)


def rename_at(src_fd, src, dst_fd, dst):
    os.rename(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)


def copy_into(src_fd, src, dst_fd, dst):
    """cp -a of src (in directory src_fd) to dst (in dst_fd), across filesystems; the fds name the directories."""
    src_dir = '/proc/self/fd/%d' % src_fd
    dst_dir = '/proc/self/fd/%d' % dst_fd
    res = subprocess.run(['cp', '-a', '--', posixpath.join(src_dir, src), posixpath.join(dst_dir, dst)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(src_fd, dst_fd), check=False)
    if res.returncode != 0:
        remove_tree(dst_fd, dst, dst)
        raise LifeboatError('copying into place failed: %s' % res.stderr.decode('utf-8', 'replace').strip())


def _flags(dir_fd, name=None):
    """The inode flags (chattr) of name in dir_fd, or of dir_fd itself; None when they cannot be read."""
    fd = None
    try:
        if name is None:
            fd = os.dup(dir_fd)
        else:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0), dir_fd=dir_fd)
        buf = bytearray(8)
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        return struct.unpack('i', bytes(buf[:4]))[0]
    except (OSError, ValueError):
        return None
    finally:
        if fd is not None:
            os.close(fd)


def _attribute_words(flags):
    if flags is None:
        return None
    if flags & _FS_IMMUTABLE_FL:
        return 'immutable'
    if flags & _FS_APPEND_FL:
        return 'append-only'
    return None


def why_not_removed(dir_fd, name, err):
    """A readable reason for a failed unlink/rmdir, naming an immutable or append-only attribute if that is it."""
    why = err.strerror or str(err)
    if err.errno in (errno.EPERM, errno.EACCES):
        own = _attribute_words(_flags(dir_fd, name))
        parent = _attribute_words(_flags(dir_fd))
        if own:
            return '%s (it is %s: chattr -i -a it first)' % (why, own)
        if parent:
            return '%s (its directory is %s: chattr -i -a the directory first)' % (why, parent)
    return why


def remove_tree(dir_fd, name, shown):
    """Remove name (in dir_fd) and everything beneath it, never following symlinks or crossing into another
    filesystem. Returns [(path, reason)] of what could not be removed (at most MAX_PROBLEMS)."""
    problems = []

    def problem(path, reason):
        if len(problems) < MAX_PROBLEMS:
            problems.append((path, reason))

    def gone(how, parent_fd, entry, path):
        try:
            how(entry, dir_fd=parent_fd)
            return True
        except OSError as e:
            problem(path, why_not_removed(parent_fd, entry, e))
            return False

    def remove(parent_fd, entry, path, dev):
        st = lstat_at(parent_fd, entry)
        if st is None:
            return True
        if not stat.S_ISDIR(st.st_mode):
            return gone(os.unlink, parent_fd, entry, path)
        if dev is not None and st.st_dev != dev:
            problem(path, 'another filesystem is mounted there; it was left alone')
            return False
        try:
            fd = os.open(entry, _O_DIR_NOFOLLOW, dir_fd=parent_fd)
        except OSError as e:
            problem(path, e.strerror)
            return False
        clean = True
        try:
            for child in os.listdir(fd):
                clean = remove(fd, child, path + '/' + child, st.st_dev) and clean
        finally:
            os.close(fd)
        # with anything left inside, its own rmdir would only fail with "not empty"
        return clean and gone(os.rmdir, parent_fd, entry, path)

    try:
        remove(dir_fd, name, shown, None)
    except RecursionError:
        problem(shown, 'it is nested too deeply to be removed here')
    return problems


def drop_setid(dir_fd, shown):
    """Clear the setuid and setgid bits of every regular file beneath dir_fd; returns the paths changed.

    Directories keep theirs: on a directory setgid only makes new entries inherit its group.
    """
    changed = []
    stack = [(os.dup(dir_fd), shown)]
    while stack:
        fd, path = stack.pop()
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((os.open(entry.name, _O_DIR_NOFOLLOW, dir_fd=fd), path + '/' + entry.name))
                    elif (entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mode & SETID_BITS
                          and _clear_setid(fd, entry.name)):
                        changed.append(path + '/' + entry.name)
        finally:
            os.close(fd)
    return sorted(changed)


def _clear_setid(dir_fd, name):
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0), dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & SETID_BITS:
            return False
        os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~SETID_BITS)
        return True
    finally:
        os.close(fd)


def entry_kinds(dir_fd):
    """{name (bytes): is a directory} of the entries of an open directory, as they are now (a symlink to a
    directory is not one)."""
    with os.scandir(dir_fd) as entries:
        return {os.fsencode(entry.name): entry.is_dir(follow_symlinks=False) for entry in entries}


def xattr_names(fd):
    """The names of the extended attributes (ACLs too) of an open file or directory; [] where the filesystem has
    none. Through the fd, so no symlink is followed."""
    try:
        return os.listxattr(fd)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return []
        raise


def remove_xattrs(fd, names):
    """Remove the extended attributes ``names`` of an open file or directory; returns [(name, reason)] of those
    that could not be removed (one already gone counts as removed)."""
    problems = []
    for name in names:
        try:
            os.removexattr(fd, name)
        except OSError as e:
            if e.errno != errno.ENODATA:
                problems.append((name, e.strerror or str(e)))
    return problems


def dir_metadata(fd):
    """What a directory carries besides its entries: owner, mode, extended attributes (ACLs too) and times."""
    st = os.fstat(fd)
    xattrs = {}
    try:
        for attr in os.listxattr(fd):
            xattrs[attr] = os.getxattr(fd, attr)
    except OSError as e:
        if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    return {'uid': st.st_uid, 'gid': st.st_gid, 'mode': stat.S_IMODE(st.st_mode), 'xattrs': xattrs,
            'times_ns': (st.st_atime_ns, st.st_mtime_ns)}


def set_dir_metadata(fd, meta):
    """Give a directory the metadata of dir_metadata(); returns warnings for what could not be set."""
    warnings = []
    try:
        os.chown(fd, meta['uid'], meta['gid'])
    except OSError as e:
        warnings.append('owner %d:%d (%s)' % (meta['uid'], meta['gid'], e.strerror))
    os.chmod(fd, meta['mode'])
    try:
        present = os.listxattr(fd)
    except OSError:
        present = []
    for attr in present:
        if attr not in meta['xattrs']:
            try:
                os.removexattr(fd, attr)
            except OSError as e:
                warnings.append('extended attribute %s (%s)' % (attr, e.strerror))
    for attr, value in sorted(meta['xattrs'].items()):
        try:
            os.setxattr(fd, attr, value)
        except OSError as e:
            warnings.append('extended attribute %s (%s)' % (attr, e.strerror))
    os.utime(fd, ns=meta['times_ns'])
    return warnings
