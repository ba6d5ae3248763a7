# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives: GNU tar into the pipeline, and verified restore through a staging directory."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import shutil
import subprocess
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pl
from ansible_collections.lifeboat.backup.plugins.module_utils import _setformat as fmt
from ansible_collections.lifeboat.backup.plugins.module_utils import _sets
from ansible_collections.lifeboat.backup.plugins.module_utils._tarsafe import MemberChecker

COMPONENT = 'files'
STAGING_MARK = '.lifeboat-restore-'
OLD_MARK = '.lifeboat-old-'
MAX_REPORTED = 50

_TOTALS_RE = re.compile(r'Total bytes (?:written|read): (\d+)')
# tar names itself by its argv[0] ('tar: ' or '/usr/bin/tar: ')
_CHANGED_RE = re.compile(r'^(?:\S*/)?tar: (.*): (file changed as we read it|File removed before we read it)$')
_FEATURES = {}


# ---------------------------------------------------------------- pure: argv and verdicts

def normalize_paths(paths):
    """Absolute, normalized, de-duplicated source paths (a path inside another one is dropped)."""
    out = []
    for p in paths:
        if not isinstance(p, str) or not p.startswith('/'):
            raise LifeboatError('paths must be absolute, got %r' % (p,))
        n = os.path.normpath(p)
        if n.startswith('//'):
            n = '/' + n.lstrip('/')
        if n == '/':
            raise LifeboatError('backing up / as one path is not supported: list the directories you need')
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


def tar_create_argv(tar, paths, exclude=None, features=None, one_file_system=False):
    """GNU tar reading ``paths`` (absolute) relative to /, writing a POSIX archive to stdout."""
    features = features or {}
    argv = [tar, '--create', '--file=-', '--directory=/', '--format=posix', '--sparse', '--totals',
            '--pax-option=delete=atime,delete=ctime', '--warning=no-file-ignored']
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


def tar_extract_argv(tar, staging, features=None, as_root=True):
    features = features or {}
    argv = [tar, '--extract', '--file=-', '--directory=' + staging, '-vv', '--quoting-style=c',
            '--delay-directory-restore', '--warning=no-timestamp', '--warning=no-unknown-keyword']
    if as_root:
        argv += ['--same-owner', '--same-permissions']
    if features.get('xattrs'):
        argv += ['--xattrs', '--xattrs-include=*']
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


# ---------------------------------------------------------------- tar features of this host

def tar_features(tar):
    if tar in _FEATURES:
        return _FEATURES[tar]
    try:
        out = subprocess.run([tar, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                             timeout=10).stdout.decode('utf-8', 'replace')
        ver = subprocess.run([tar, '--version'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                             timeout=10).stdout.decode('utf-8', 'replace')
    except (OSError, subprocess.SubprocessError) as e:
        raise LifeboatError('cannot run %s: %s' % (tar, e))
    if 'GNU tar' not in ver:
        raise LifeboatError('%s is not GNU tar; lifeboat.backup needs GNU tar (package tar)' % tar)
    feats = {'xattrs': '--xattrs' in out, 'acls': '--acls' in out, 'version': ver.splitlines()[0].strip()}
    _FEATURES[tar] = feats
    return feats


# ---------------------------------------------------------------- backup

def backup(store, set_id, host, name, paths, exclude=None, compression='zstd', level=None, threads=0,
           encryption='none', one_file_system=False, check_mode=False):
    fmt.validate_name(name, 'files entry name')
    paths = normalize_paths(paths)
    if not paths:
        raise LifeboatError('files entry %s has no paths' % name)
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        raise LifeboatError('files entry %s: %s does not exist on this host' % (name, ', '.join(missing)),
                            missing=missing)
    unreadable = [p for p in paths if not os.access(p, os.R_OK)]
    if unreadable:
        raise LifeboatError('files entry %s: %s is not readable by this user' % (name, ', '.join(unreadable)))
    tar = pl.need_tool('tar', 'files_backup')
    feats = tar_features(tar)
    pl.compressor_argv(compression, level, threads)  # validates compression and level before anything starts
    if check_mode:
        return {'changed': True, 'records': [], 'paths': paths,
                'msg': 'would archive %s into set %s as %s/%s' % (', '.join(paths), set_id, COMPONENT, name)}
    argv = tar_create_argv(tar, paths, exclude, feats, one_file_system)
    env = dict(os.environ, LC_ALL='C')

    def check(res):
        return judge_tar_create(res.rc, res.stderr)

    record = _artifacts.write_artifact(
        store, set_id, host, COMPONENT, name, 'files', 'tar', '.tar', source='files:' + ','.join(paths),
        check_source=check, source_argv=argv, source_name='tar', compression=compression, level=level,
        threads=threads, encryption=encryption, tools={'tar': feats['version']},
        extra={'paths': paths, 'exclude': list(exclude or []), 'xattrs': feats['xattrs'], 'acls': feats['acls']},
        env=env)
    ex = record['extra']
    summary = {'host': host, 'component': COMPONENT, 'name': name, 'size': record['size'],
               'uncompressed_size': ex.get('uncompressed_size'), 'seconds': ex['seconds']}
    return {'changed': True, 'records': [record], 'record': record, 'summary': [summary], 'paths': paths,
            'size': record['size'], 'sha256': record['sha256'], 'changed_files': ex.get('changed_files', []),
            'tar_warnings': ex.get('warnings', [])}


# ---------------------------------------------------------------- restore

def _free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _existing_ancestor(path):
    p = path
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


def plan_restore(record, dest=None, force=False):
    paths = record.get('extra', {}).get('paths') or []
    if not paths:
        raise LifeboatError('artifact %s records no paths; it is not a files archive' % record['key'])
    targets = [(p, restore_target(p, dest)) for p in paths]
    blocked = [t for _p, t in targets if is_nonempty(t)]
    if blocked and not force:
        raise LifeboatError('refusing to overwrite non-empty %s: set force=true (lifeboat_restore_force) to replace '
                            'it, or restore under dest (lifeboat_restore_dest)' % ', '.join(blocked),
                            would_overwrite=blocked)
    return targets, blocked


def restore(store, host, name, set_id=None, pin=None, dest=None, force=False, staging_dir=None, check_mode=False):
    manifest, digest = _sets.resolve_completed(store, set_id, pin)
    record = _artifacts.find_record(manifest, host, COMPONENT, name)
    if dest and not os.path.isabs(dest):
        raise LifeboatError('dest must be an absolute path, got %r' % dest)
    targets, blocked = plan_restore(record, dest, force)
    base = {'set_id': manifest['set_id'], 'manifest_sha256': digest, 'artifact': record['key'],
            'paths': [t for _p, t in targets], 'overwritten': blocked, 'size': record['size']}
    if check_mode:
        base.update({'changed': True, 'msg': 'would restore %s from %s' % (', '.join(base['paths']), record['key'])})
        return base
    tar = pl.need_tool('tar', 'files_restore')
    feats = tar_features(tar)
    # staging on the target filesystem so the final move is a rename
    first_target = targets[0][1]
    stage_parent = staging_dir or _existing_ancestor(os.path.dirname(first_target) or '/')
    if not os.path.isdir(stage_parent):
        raise LifeboatError('staging directory %s does not exist' % stage_parent)
    need = (record.get('extra') or {}).get('uncompressed_size')
    if need:
        free = _free_bytes(stage_parent)
        if free < need:
            raise LifeboatError('not enough space to stage the restore in %s: %d bytes free, %d needed; nothing was '
                                'changed' % (stage_parent, free, need), free=free, needed=need)
    staging = os.path.join(stage_parent, STAGING_MARK + uuid.uuid4().hex[:12])
    try:
        os.mkdir(staging, 0o700)
    except OSError as e:
        raise LifeboatError('cannot create staging directory %s: %s' % (staging, e.strerror))
    try:
        checker = MemberChecker(record['extra']['paths'])
        argv = tar_extract_argv(tar, staging, feats, as_root=os.geteuid() == 0)
        try:
            res = _artifacts.read_artifact(store, record, argv, sink_name='tar', env=dict(os.environ, LC_ALL='C'),
                                           on_sink_line=checker.feed)
        except LifeboatError as e:
            raise LifeboatError('%s; the restore target was not changed' % e.msg, **e.details)
        sink = res['sink']
        checker.check_stderr(sink.stderr)
        if checker.problems:
            raise LifeboatError('the archive %s has unsafe members, refusing to restore it (nothing was changed): %s'
                                % (record['key'], '; '.join(checker.problems[:10])), unsafe_members=checker.problems)
        if sink.failed():
            raise LifeboatError('extracting %s failed, nothing was changed: %s' % (record['key'], sink.describe()))
        moved = _move_into_place(staging, targets, force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    base.update({'changed': True, 'restored': moved, 'members': checker.members, 'seconds': round(res['seconds'], 3),
                 'sha256': res['sha256']})
    return base


def _move_into_place(staging, targets, force):
    """Rename each staged path over its target (old one moved aside, then removed)."""
    moved = []
    for src_path, target in targets:
        staged = os.path.join(staging, src_path.lstrip('/'))
        if not os.path.lexists(staged):
            continue  # excluded entirely, or vanished before the backup read it
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        old = None
        if os.path.lexists(target):
            if not force and is_nonempty(target):
                raise LifeboatError('%s became non-empty during the restore; not replacing it' % target)
            old = os.path.join(parent, OLD_MARK + os.path.basename(target) + '-' + uuid.uuid4().hex[:8])
            os.rename(target, old)
        try:
            try:
                os.rename(staged, target)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                # staging is on another filesystem: copy next to the target first, then rename
                tmp = os.path.join(parent, STAGING_MARK + os.path.basename(target) + '-' + uuid.uuid4().hex[:8])
                rc = subprocess.run(['cp', '-a', '--', staged, tmp], stderr=subprocess.PIPE, check=False)
                if rc.returncode != 0:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise LifeboatError('copying %s into place failed: %s'
                                        % (target, rc.stderr.decode('utf-8', 'replace').strip()))
                os.rename(tmp, target)
        except BaseException:
            if old is not None and not os.path.lexists(target):
                os.rename(old, target)
            raise
        if old is not None:
            if os.path.isdir(old) and not os.path.islink(old):
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.unlink(old)
        moved.append(target)
    return moved
