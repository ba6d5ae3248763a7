# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental restores, the filesystem side: what a level changes besides the files it holds.

Before a level of a chain is extracted (plainly, as any archive) over the tree its earlier levels left in the
staging directory, every directory is purged of what the level's dumpdir no longer lists, as ``tar --extract
--incremental`` would do, but here, through directory fds that never follow a symlink and never leave the staging
directory, and the extended attributes and ACLs tar would set on each directory of the level are removed (tar
never removes any); after it, the hard links the level recorded are mended. tar itself would also apply the
rename list of an archive, following symlinks an earlier level left (a crafted increment moved a file out of the
extraction directory, measured with tar 1.34); lifeboat's increments have none (docs/incremental.md).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic


def _show(path):
    return '/'.join(os.fsdecode(name) for name in path)


def _removed(dir_fd, name, shown):
    problems = fsops.remove_tree(dir_fd, name, shown)
    if problems:
        raise LifeboatError('applying a level of the chain in the staging directory failed: %s could not be removed (%s); '
                            'nothing was changed' % problems[0])


def _open(staging_fd, staging, path):
    """An fd of a directory below staging (None when it is not there), refusing any symlink on the way."""
    try:
        fd, missing = fsops.walk(staging_fd, staging, [os.fsdecode(name) for name in path])
    except fsops.Blocked as e:
        raise DamagedError('refusing to apply the chain at %s: %s %s (a restore never writes through a symlink)'
                           % (_show(path), e.path[len(staging):], e.why))
    if missing:
        os.close(fd)
        return None
    return fd


def _fit_root(staging_fd, staging, root, is_dir):
    """A backed-up path that is a directory in this level and not one in the staging directory (or the other way
    round) is removed first, as tar removes it."""
    parent = _open(staging_fd, staging, root[:-1])
    if parent is None:
        return 0
    try:
        st = fsops.lstat_at(parent, os.fsdecode(root[-1]))
        if st is None or stat.S_ISDIR(st.st_mode) == is_dir:
            return 0
        _removed(parent, os.fsdecode(root[-1]), staging + '/' + _show(root))
        return 1
    finally:
        os.close(parent)


def dumpdirs_of(checker):
    """What apply_level takes, from an IncrementalChecker that read a level's listing: ({directory: {name: flag}},
    {root: is a directory in this level} for the recorded paths the level holds)."""
    dumpdirs = {block.name: block.names() for block in checker.dumpdirs if block.terminated}
    kinds = {b'/'.join(root): root in checker.directories for root in checker.root_segments
             if root in checker.directories or b'/'.join(root) in checker.files}
    return dumpdirs, kinds


def apply_level(staging_fd, staging, dumpdirs, root_kinds):
    """Apply the deletions of one level to the tree in the staging directory, before the level is extracted.

    ``dumpdirs`` {directory: {name: flag}} (from the level's snapshot file or its listing), ``root_kinds``
    {recorded path: is a directory in this level}. Every directory of the level is compared with the staged
    directory itself, as tar's incremental extraction does: the recorded paths first, then each directory,
    parents before what is in them, opened from staging one component at a time (never through a symlink), its
    entries read as they are now. Nothing of the tree is held between levels, so memory does not grow with the
    tree's names or the chain's levels. Returns {'removed': how many entries went}.
    """
    removed = 0
    for root, is_dir in sorted(root_kinds.items()):
        removed += _fit_root(staging_fd, staging, tuple(root.split(b'/')), is_dir)
    for directory in sorted(dumpdirs, key=lambda name: name.split(b'/')):
        removed += _purge_staged(staging_fd, staging, directory, dumpdirs[directory])
    return {'removed': removed}


def _purge_staged(staging_fd, staging, directory, entries):
    """Remove from one staged directory what the level's dumpdir ``entries`` {name: flag} no longer lists, comparing
    with the directory's entries as they are (incremental.purge_actions). Returns how many went."""
    path = tuple(name for name in directory.split(b'/') if name)
    fd = _open(staging_fd, staging, path)
    if fd is None:
        return 0   # new in this level (or removed with its parent): tar makes it
    try:
        gone = incremental.purge_actions(fsops.entry_kinds(fd), entries)
        for name in gone:
            _removed(fd, os.fsdecode(name), staging + '/' + _show(path + (name,)))
        return len(gone)
    finally:
        os.close(fd)


def clear_xattrs(staging_fd, staging, directories, scope):
    """Before a level is extracted: remove from each staged directory of ``directories`` (the level's, as byte names
    below staging) the extended attributes and ACLs tar would set from the level (``scope``: incremental.xattr_scope),
    so that tar leaves exactly the archived ones. tar sets what a directory member archived but never removes
    anything, and a directory is kept while its name stays listed: one replaced under the same name, or whose
    attributes were removed, would keep those of an earlier level.

    Run after apply_level (what must go is gone). Each directory is opened from staging one component at a time,
    never through a symlink. Returns (the directories something was removed from, [(path, attribute, reason)] of
    what could not be removed).
    """
    cleared = []
    problems = []
    if not scope:
        return cleared, problems
    for directory in sorted(directories):
        path = tuple(name for name in directory.split(b'/') if name)
        fd = _open(staging_fd, staging, path)
        if fd is None:
            continue   # new in this level: tar makes it
        try:
            stale = incremental.stale_xattrs(fsops.xattr_names(fd), scope)
            failed = fsops.remove_xattrs(fd, stale)
        finally:
            os.close(fd)
        if stale:
            cleared.append(directory)
        problems.extend((staging + '/' + _show(path), name, why) for name, why in failed)
    return cleared, problems


def _file_at(staging_fd, staging, path):
    """(fd of path's directory, the stat of path) when it is a regular file below staging, else None."""
    names = tuple(name for name in path.split(b'/') if name)
    fd = _open(staging_fd, staging, names[:-1])
    if fd is None:
        return None
    st = fsops.lstat_at(fd, os.fsdecode(names[-1]))
    if st is None or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st, os.fsdecode(names[-1])


def repair_links(staging_fd, staging, repairs, roots):
    """Make each name of ``repairs`` [(kept, [linked])] a hard link of ``kept`` again (after a level is extracted),
    where both are regular files below the backed-up paths in the staging directory. Returns how many were linked."""
    linked = 0
    for kept, others in repairs:
        for name in [kept] + others:
            if not any(name == root or name.startswith(root + b'/') for root in roots):
                raise DamagedError('the hard links of the chain name %s, which is not below the backed-up paths'
                                   % os.fsdecode(name))
        source = _file_at(staging_fd, staging, kept)
        if source is None:
            continue
        src_fd, src_st, src_name = source
        try:
            for other in others:
                target = _file_at(staging_fd, staging, other)
                if target is None:
                    continue
                dst_fd, dst_st, dst_name = target
                try:
                    if (dst_st.st_dev, dst_st.st_ino) == (src_st.st_dev, src_st.st_ino):
                        continue
                    times = os.fstat(dst_fd)   # the directory keeps the times tar gave it
                    temp = files_logic.STAGING_MARK + 'link-' + uuid.uuid4().hex[:12]
                    os.link(src_name, temp, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False)
                    try:
                        fsops.rename_at(dst_fd, temp, dst_fd, dst_name)
                    except OSError:
                        os.unlink(temp, dir_fd=dst_fd)
                        raise
                    os.utime(dst_fd, ns=(times.st_atime_ns, times.st_mtime_ns))
                    linked += 1
                finally:
                    os.close(dst_fd)
        finally:
            os.close(src_fd)
    return linked
