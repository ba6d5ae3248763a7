# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the restore flow: verified extraction into a staging directory, then moved into place."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import shutil
import subprocess
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tarsafe import MemberChecker


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
    targets = [(p, files_logic.restore_target(p, dest)) for p in paths]
    blocked = [t for _p, t in targets if files_logic.is_nonempty(t)]
    if blocked and not force:
        raise LifeboatError('refusing to overwrite non-empty %s: set force=true (lifeboat_restore_force) to replace '
                            'it, or restore under dest (lifeboat_restore_dest)' % ', '.join(blocked),
                            would_overwrite=blocked)
    return targets, blocked


def restore(store, host, name, set_id=None, pin=None, dest=None, force=False, staging_dir=None, check_mode=False):
    manifest, digest = lifecycle.resolve_completed(store, set_id, pin)
    record = artifacts.find_record(manifest, host, files_logic.COMPONENT, name)
    if dest and not os.path.isabs(dest):
        raise LifeboatError('dest must be an absolute path, got %r' % dest)
    targets, blocked = plan_restore(record, dest, force)
    base = {'set_id': manifest['set_id'], 'manifest_sha256': digest, 'artifact': record['key'],
            'paths': [t for _p, t in targets], 'overwritten': blocked, 'size': record['size']}
    if check_mode:
        base.update({'changed': True, 'msg': 'would restore %s from %s' % (', '.join(base['paths']), record['key'])})
        return base
    tar = pipeline.need_tool('tar', 'files_restore')
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
    staging = os.path.join(stage_parent, files_logic.STAGING_MARK + uuid.uuid4().hex[:12])
    try:
        os.mkdir(staging, 0o700)
    except OSError as e:
        raise LifeboatError('cannot create staging directory %s: %s' % (staging, e.strerror))
    try:
        checker = MemberChecker(record['extra']['paths'])
        argv = files_logic.tar_extract_argv(tar, staging, feats, as_root=os.geteuid() == 0)
        try:
            res = artifacts.read_artifact(store, record, argv, sink_name='tar', env=dict(os.environ, LC_ALL='C'),
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
            if not force and files_logic.is_nonempty(target):
                raise LifeboatError('%s became non-empty during the restore; not replacing it' % target)
            old = os.path.join(parent, files_logic.OLD_MARK + os.path.basename(target) + '-' + uuid.uuid4().hex[:8])
            os.rename(target, old)
        try:
            try:
                os.rename(staged, target)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                # staging is on another filesystem: copy next to the target first, then rename
                tmp = os.path.join(parent, files_logic.STAGING_MARK + os.path.basename(target) + '-' + uuid.uuid4().hex[:8])
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
