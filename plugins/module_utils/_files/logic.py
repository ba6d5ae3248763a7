# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the pure part: source paths, GNU tar argv, tar's verdicts, restore targets.

Plain values in and out (is_nonempty only looks at a path), so it unit-tests without mocks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules

COMPONENT = 'files'
STAGING_MARK = '.lifeboat-restore-'
OLD_MARK = '.lifeboat-old-'
MAX_REPORTED = 50

_TOTALS_RE = re.compile(r'Total bytes (?:written|read): (\d+)')
# tar names itself by its argv[0] ('tar: ' or '/usr/bin/tar: ')
_CHANGED_RE = re.compile(r'^(?:\S*/)?tar: (.*): (file changed as we read it|File removed before we read it)$')


def normalize_paths(paths):
    """Absolute, normalized, de-duplicated source paths (a path inside another one is dropped)."""
    out = []
    for p in paths:
        if not isinstance(p, str) or not p.startswith('/'):
            raise ConfigError('paths must be absolute, got %r' % (p,))
        n = os.path.normpath(p)
        if n.startswith('//'):
            n = '/' + n.lstrip('/')
        if n == '/':
            raise ConfigError('backing up / as one path is not supported: list the directories you need')
        why = path_rules.path_problem(n)
        if why:
            raise ConfigError('the path %r cannot be backed up: %s' % (p, why))
        out.append(n)
    out = sorted(set(out))
    keep = []
    for p in out:
        if not any(p.startswith(k + '/') for k in keep):
            keep.append(p)
    return keep


def exclude_args(patterns):
    args = []
    for pat in patterns or []:
        if not pat:
            continue
        args.append('--exclude=' + (pat.lstrip('/') if pat.startswith('/') else pat))
    return args


def tar_create_argv(tar, paths, exclude=None, features=None, one_file_system=False, snapshot=None):
    """GNU tar reading ``paths`` (absolute) relative to /, writing a POSIX archive to stdout.

    ``snapshot``: the path of a listed-incremental snapshot file (an empty or missing one makes a level 0);
    tar reads it, archives what changed since, and writes the new state into it. Directories are compared by
    name and inode only (the snapshot files lifeboat gives tar carry no devices: incremental.without_devices).
    Its notes about new and renamed directories (one per directory at level 0) are left out.
    """
    features = features or {}
    argv = [tar, '--create', '--file=-', '--directory=/', '--format=posix', '--sparse', '--totals',
            '--pax-option=delete=atime,delete=ctime', '--warning=no-file-ignored']
    if snapshot:
        argv += ['--listed-incremental=' + snapshot, '--no-check-device', '--warning=no-new-directory',
                 '--warning=no-rename-directory']
    if features.get('xattrs'):
        argv += ['--xattrs', '--xattrs-include=*']
    if features.get('acls'):
        argv.append('--acls')
    if one_file_system:
        argv.append('--one-file-system')
    argv += exclude_args(exclude)
    argv.append('--')
    argv += [p.lstrip('/') for p in paths]
    return argv


def tar_list_incremental_argv(tar):
    """GNU tar listing an incremental archive from stdin with every directory's dumpdir (for tarsafe)."""
    return [tar, '--list', '--file=-', '-vv', '--incremental', '--quoting-style=c', '--warning=no-timestamp',
            '--warning=no-unknown-keyword']


def tar_extract_argv(tar, staging, features=None, as_root=True, keep_capabilities=True):
    """GNU tar extracting stdin into ``staging``, listing every member (for tarsafe) as it goes.

    ``keep_capabilities=False`` leaves out file capabilities (security.capability), which grant privileges
    as set-id bits do (the bits themselves are cleared after extraction: GNU tar has no option that drops
    them and keeps the rest of the mode).
    """
    features = features or {}
    argv = [tar, '--extract', '--file=-', '--directory=' + staging, '-vv', '--quoting-style=c',
            '--delay-directory-restore', '--warning=no-timestamp', '--warning=no-unknown-keyword']
    if as_root:
        argv += ['--same-owner', '--same-permissions']
    if features.get('xattrs'):
        argv += ['--xattrs', '--xattrs-include=*']
        if not keep_capabilities:
            argv.append('--xattrs-exclude=security.capability')
    if features.get('acls'):
        argv.append('--acls')
    return argv


def judge_tar_create(rc, stderr):
    """tar's exit code and stderr when creating: returns facts, raises on a failed read.

    rc 0: fine. rc 1: some files changed or vanished while being read (reported, not fatal). rc 2 (or a
    signal): fatal, e.g. an unreadable file, which would make the archive silently incomplete.
    """
    changed = []
    totals = None
    other = []
    for line in stderr.splitlines():
        m = _TOTALS_RE.search(line)
        if m:
            totals = int(m.group(1))
            continue
        c = _CHANGED_RE.match(line)
        if c:
            changed.append('/' + c.group(1))
            continue
        if line.strip():
            other.append(line.strip())
    if rc not in (0, 1):
        if rc is not None and rc < 0:
            why = 'tar was killed by signal %d' % -rc
        else:
            why = 'tar failed (exit %s)' % rc
        detail = '; '.join(other[-5:]) or 'no message'
        raise LifeboatError('%s: %s' % (why, detail), tar_stderr=other[-50:])
    facts = {'uncompressed_size': totals}
    warnings = []
    if changed:
        warnings.append('%d file(s) changed or vanished while being read; they may be inconsistent in this backup: %s'
                        % (len(changed), ', '.join(changed[:10])))
    if other:
        warnings.extend(other[:MAX_REPORTED])
    facts['changed_files'] = changed[:MAX_REPORTED]
    facts['changed_file_count'] = len(changed)
    facts['warnings'] = warnings
    return facts


def restore_target(path, dest):
    """Where a recorded absolute path is restored: in place, or re-rooted under dest."""
    if dest:
        return os.path.join(os.path.abspath(dest), path.lstrip('/'))
    return path


def is_nonempty(path):
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
        return True
    try:
        return bool(os.listdir(path))
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise
