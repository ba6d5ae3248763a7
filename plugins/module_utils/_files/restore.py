# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the restore flow: verified extraction into a staging directory, then moved into place.

Order: check the record's paths and every target (no symlink on the way that is not part of the restored
tree, no mount inside a target), extract into a private staging directory while checking the checksum and
every member, clear set-id bits (under dest), then move every target aside and every staged path into
place, undoing all of it if any rename fails. Only then is the old content removed; what cannot be removed
is reported.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import posixpath
import stat
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._files import apply as chain_apply
from ansible_collections.lifeboat.backup.plugins.module_utils._files import chain
from ansible_collections.lifeboat.backup.plugins.module_utils._files import fsops
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tarsafe import IncrementalChecker, MemberChecker

_NEVER_THROUGH = ('a restore never writes through a symlink that is not part of the restored tree: remove it, or '
                  'restore under another dest. Nothing was changed')


def _free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class Target(object):
    """One recorded path and where it is restored.

    ``base`` is an existing, resolved directory and ``names`` the components from it down to the target
    (the last one is the target's own name); ``location`` joins them: the target with every symlink that
    already exists above it resolved, which is what the walk proves and what /proc/self/mountinfo shows.
    """

    def __init__(self, path, target, base, names):
        self.path = path
        self.target = target
        self.base = base
        self.names = names
        self.location = posixpath.join(base, *names)
        self.exists = False
        self.nonempty = False
        self.mount = False


def check_dest(dest):
    """dest as an absolute, normalized path (or None)."""
    if not dest:
        return None
    if not isinstance(dest, str) or not os.path.isabs(dest):
        raise ConfigError('dest must be an absolute path, got %r' % (dest,))
    dest = posixpath.normpath(dest)
    if dest.startswith('//'):
        dest = '/' + dest.lstrip('/')
    if dest == '/':
        return dest
    why = path_rules.path_problem(dest)
    if why:
        raise ConfigError('dest %r cannot be used: %s' % (dest, why))
    return dest


def _locate(path, dest):
    """The Target of one valid recorded path: under dest, the walk starts at dest (resolved); in place, at the
    target's parent as the host resolves it."""
    target = files_logic.restore_target(path, dest)
    if dest:
        base, missing = fsops.existing_base(dest)
        return Target(path, target, base, missing + path_rules.components(path))
    base, missing = fsops.existing_base(posixpath.dirname(path))
    return Target(path, target, base, missing + [posixpath.basename(path)])


def _inspect(target, dest, mounts):
    """Prove the target's parents are real directories (no symlink, under dest when there is one) and look at
    what is there now."""
    base_fd = fsops.open_dir(target.base)
    try:
        fd, missing = fsops.walk(base_fd, target.base, target.names[:-1])
    except fsops.Blocked as e:
        raise ConfigError('refusing to restore %s: %s %s; %s' % (target.target, e.path, e.why, _NEVER_THROUGH),
                          blocked=e.path)
    finally:
        os.close(base_fd)
    try:
        st = None if missing else fsops.lstat_at(fd, target.names[-1])
    finally:
        os.close(fd)
    if dest and not path_rules.is_under(target.location, os.path.realpath(dest)):
        raise DamagedError('refusing to restore %s: it resolves to %s, outside dest %s. Nothing was changed'
                           % (target.target, target.location, dest))
    if st is None:
        return
    target.exists = True
    target.nonempty = files_logic.is_nonempty(target.location)
    target.mount = fsops.is_mount_point(target.location, mounts)
    if target.mount and not stat.S_ISDIR(st.st_mode):
        raise ConfigError('refusing to restore %s: a file is mounted there (a bind mount), and it can be neither renamed '
                          'nor replaced. Restore under dest, or unmount it first. Nothing was changed' % target.target)
    inside = path_rules.mounts_below(target.location, mounts)
    if inside:
        raise ConfigError('refusing to restore %s: %s mounted inside it, and replacing the tree would move %s with the '
                          'old content. Unmount %s, or restore under dest; a mount point that is itself a backed-up '
                          'path is restored by replacing its contents. Nothing was changed'
                          % (target.target, ', '.join(inside) + (' is' if len(inside) == 1 else ' are'),
                             'it' if len(inside) == 1 else 'them', 'it' if len(inside) == 1 else 'them'),
                          mounts_inside=inside)


def plan_restore(record, dest=None, force=False, mounts=None):
    """Check the record and every target before anything is touched. Returns [Target].

    Raises DamagedError for a record whose paths are not valid, ConfigError for a target that is blocked
    (a symlink on the way, a mount inside it) or not empty without ``force``.
    """
    paths = path_rules.record_paths(record)
    path_rules.record_links(record, paths)
    dest = check_dest(dest)
    mounts = fsops.mount_points() if mounts is None else mounts
    targets = [_locate(p, dest) for p in paths]
    for target in targets:
        _inspect(target, dest, mounts)
    by_location = sorted(targets, key=lambda t: t.location)
    for before, after in zip(by_location, by_location[1:]):
        if path_rules.is_under(after.location, before.location):
            raise ConfigError('refusing to restore %s and %s: on this host they are the same place, or one is inside '
                              'the other (%s, %s). Nothing was changed'
                              % (before.target, after.target, before.location, after.location))
    blocked = [t.target for t in targets if t.nonempty]
    if blocked and not force:
        raise ConfigError('refusing to overwrite non-empty %s: set force=true (lifeboat_restore_force) to replace '
                          'it, or restore under dest (lifeboat_restore_dest)' % ', '.join(blocked),
                          would_overwrite=blocked)
    return targets


def _stage_parent(targets, staging_dir):
    """Where the staging directory goes: on the first target's filesystem, so the final moves are renames (in a
    mount point that is restored, inside it: its contents are what gets replaced)."""
    if staging_dir:
        staging_dir = check_dest(staging_dir)
        if not os.path.isdir(staging_dir):
            raise ConfigError('staging directory %s does not exist' % staging_dir)
        real = os.path.realpath(staging_dir)
        inside = [t.target for t in targets if path_rules.is_under(real, t.location)]
        if inside:
            raise ConfigError('staging directory %s lies inside %s, which the restore replaces' % (staging_dir, inside[0]))
        return real
    first = targets[0]
    if first.mount:
        return first.location
    base, missing = fsops.existing_base(posixpath.dirname(first.location))
    return base


def restore(store, host, name, set_id=None, pin=None, dest=None, force=False, staging_dir=None, keep_setid=False,
            check_mode=False, decryption=None):
    plan = _plan(store, host, name, set_id, pin, dest, force, keep_setid, decryption)
    if check_mode:
        return _would_restore(plan)
    tar = pipeline.need_tool('tar', 'files_restore')
    feats = tar_features(tar)
    stage_parent = _stage_parent(plan.targets, staging_dir)
    _check_space(stage_parent, plan.levels)
    done = _restore_through_staging(store, plan, tar, feats, stage_parent, force, decryption)
    return _restored(plan, done)


class _Plan(object):
    """What a restore does, decided before anything is read: the record, its targets, the levels to extract (the
    record alone, or its whole chain, as [(record, snapshot file record or None)]) and the result so far."""

    def __init__(self, record, dest, targets, levels, drop_setid, result):
        self.record = record
        self.dest = dest
        self.targets = targets
        self.levels = levels
        self.drop_setid = drop_setid
        self.result = result


def _plan(store, host, name, set_id, pin, dest, force, keep_setid, decryption):
    """Resolve the set, the record and its chain, and check every target (plan_restore) and every record's
    identity: everything that can refuse the restore before anything is read."""
    manifest, digest = lifecycle.resolve_completed(store, set_id, pin)
    record = artifacts.find_record(manifest, host, files_logic.COMPONENT, name)
    dest = check_dest(dest)
    targets = plan_restore(record, dest, force)
    levels = chain.resolve(store, record) if incremental.facts_of(record) else [(record, None)]
    for level, _snapshot in levels[1:]:
        _link_repairs(level)   # a record that lies is refused before anything is read
    # every level and snapshot file it reads must open with the identity: checked before anything is read
    encryption.check_identity([rec for level in levels for rec in level if rec is not None], decryption)
    links = path_rules.record_links(record, path_rules.record_paths(record))
    drop_setid = bool(dest) and not keep_setid
    result = {'set_id': manifest['set_id'], 'manifest_sha256': digest, 'artifact': record['key'],
              'paths': [t.target for t in targets], 'overwritten': [t.target for t in targets if t.nonempty],
              'mount_points': [t.target for t in targets if t.mount], 'size': record['size'],
              'links': [dict(link, path=files_logic.restore_target(link['path'], dest),
                             resolved=files_logic.restore_target(link['resolved'], dest)) for link in links],
              'setid': 'dropped' if drop_setid else 'kept'}
    if incremental.facts_of(record):
        result['chain'] = [{'set_id': level['set_id'], 'level': incremental.facts_of(level)['level'], 'artifact': level['key'],
                            'size': level['size']} for level, _snapshot in levels]
    return _Plan(record, dest, targets, levels, drop_setid, result)


def _would_restore(plan):
    """The check-mode answer."""
    levels = plan.levels
    what = plan.record['key'] if len(levels) == 1 else 'the %d levels of its chain (%s)' % (
        len(levels), ', '.join(level['set_id'] for level, _snapshot in levels))
    plan.result.update({'changed': True, 'msg': 'would restore %s from %s' % (', '.join(plan.result['paths']), what)})
    return plan.result


def _check_space(stage_parent, levels):
    need = sum((level.get('extra') or {}).get('uncompressed_size') or 0 for level, _snapshot in levels)
    if need:
        free = _free_bytes(stage_parent)
        if free < need:
            raise LifeboatError('not enough space to stage the restore in %s: %d bytes free, %d needed; nothing was '
                                'changed' % (stage_parent, free, need), free=free, needed=need)


def _open_staging(parent_fd, stage_parent, staging_name):
    """Create the private (0700) staging directory in stage_parent and open it (its fd)."""
    staging = posixpath.join(stage_parent, staging_name)
    try:
        os.mkdir(staging_name, 0o700, dir_fd=parent_fd)
    except OSError as e:
        raise LifeboatError('cannot create staging directory %s: %s' % (staging, e.strerror))
    try:
        return fsops.walk(parent_fd, stage_parent, [staging_name])[0]
    except (OSError, fsops.Blocked) as e:
        fsops.remove_tree(parent_fd, staging_name, staging)
        raise LifeboatError('cannot open staging directory %s: %s' % (staging, e))


def _restore_through_staging(store, plan, tar, feats, stage_parent, force, decryption):
    """Extract every level into a new staging directory, clear set-id bits, move the staged paths into place, then
    remove the staging directory and give mount points their archived metadata. Returns what was done:
    {'extracted' (_extract_levels), 'staging', 'dropped', 'moved', 'leftovers', 'warnings'}."""
    staging_name = files_logic.STAGING_MARK + uuid.uuid4().hex[:12]
    staging = posixpath.join(stage_parent, staging_name)
    parent_fd = fsops.open_dir(stage_parent)
    done = {'staging': staging, 'leftovers': []}
    moves = []
    try:
        staging_fd = _open_staging(parent_fd, stage_parent, staging_name)
        try:
            done['extracted'] = _extract_levels(store, plan.levels, tar, feats, staging, staging_fd, plan.result,
                                                not plan.drop_setid, decryption)
            done['dropped'] = fsops.drop_setid(staging_fd, staging) if plan.drop_setid else []
            done['leftovers'] = _move_into_place(staging_fd, staging, plan.targets, force, (parent_fd, staging_name), moves)
        finally:
            os.close(staging_fd)
            done['leftovers'].extend(('the staging directory %s' % staging, path, why)
                                     for path, why in fsops.remove_tree(parent_fd, staging_name, staging))
        done['warnings'] = _set_mount_point_metadata(moves)
        done['moved'] = [move.target.target for move in moves]
    finally:
        for move in moves:
            move.close()
        os.close(parent_fd)
    return done


def _set_mount_point_metadata(moves):
    """Last, as every removal before changed its mtime: a mount point takes its archived metadata. Returns warnings."""
    return ['the mount point %s: could not set its %s' % (move.target.target, why)
            for move in moves if move.mount_fd is not None
            for why in fsops.set_dir_metadata(move.mount_fd, move.mount_meta)]


def _restored(plan, done):
    """The result of a restore that was done."""
    result = plan.result
    extracted = done['extracted']
    result.update({'changed': True, 'restored': done['moved'], 'members': extracted['members'],
                   'seconds': round(extracted['seconds'], 3), 'sha256': extracted['sha256'],
                   'setid_dropped': [_restored_name(p, done['staging'], plan.dest) for p in done['dropped']],
                   'leftovers': [{'of': of, 'path': path, 'reason': why} for of, path, why in done['leftovers']]})
    warnings = extracted['warnings'] + _leftover_warnings(done['leftovers']) + done['warnings']
    if warnings:
        result['warnings'] = warnings
    return result


def _extract_levels(store, levels, tar, feats, staging, staging_fd, result, keep_capabilities, decryption=None):
    """Extract a full archive, or every level of a chain in order, into the staging directory.

    One level at a time: each is checked as it is extracted (and its deletions before), and nothing of a level is
    kept for the next but its facts; the deletions of a level compare its dumpdirs with the staged tree itself, so
    memory does not grow with the number of levels or of the tree's names (docs/incremental.md, *Restore*).
    Returns {'seconds', 'members', 'sha256' (of the last level), 'warnings'}; each level's facts go into
    ``result['chain']``.
    """
    first = levels[0][0]
    checker = IncrementalChecker(first['extra']['paths'], dumpdirs=False, fresh=True) if len(levels) > 1 else None
    res, checker = _extract(store, first, tar, feats, staging, keep_capabilities, checker, decryption)
    steps = [{'members': checker.members, 'seconds': round(res['seconds'], 3)}]
    del checker   # its names: the next level is compared with the staged tree, not with them
    warnings = []
    for record, snapshot in levels[1:]:
        step, res, kept = _extract_increment(store, record, snapshot, tar, feats, staging, staging_fd, keep_capabilities,
                                             decryption)
        steps.append(step)
        warnings.extend(kept)
    for entry, step in zip(result.get('chain') or [], steps):
        entry.update(step)
    return {'seconds': sum(step['seconds'] for step in steps), 'members': sum(step['members'] for step in steps),
            'sha256': res['sha256'], 'warnings': warnings}


def _extract_increment(store, record, snapshot, tar, feats, staging, staging_fd, keep_capabilities, decryption):
    """Apply one level of a chain (level 1 or more) over the staged tree: its deletions, the extended attributes tar
    would set on its directories removed, the level extracted, its hard links mended.

    Returns (the level's facts, the extraction's result, warnings).
    """
    roots = [path.lstrip('/').encode('utf-8', 'surrogateescape') for path in record['extra']['paths']]
    if snapshot is not None and not (snapshot.get('extra') or {}).get('dropped_directories'):
        dumpdirs, kinds = _read_snapshot(store, record, snapshot, roots, decryption)
        how = 'snapshot file'
    else:
        dumpdirs, kinds = chain_apply.dumpdirs_of(_list_increment(store, record, tar, decryption))
        how = 'listing'
    step = chain_apply.apply_level(staging_fd, staging, dumpdirs, kinds)
    scope = incremental.xattr_scope(record['extra'], feats, keep_capabilities)
    cleared, kept = chain_apply.clear_xattrs(staging_fd, staging, dumpdirs, scope)
    res, checker = _extract(store, record, tar, feats, staging, keep_capabilities,
                            IncrementalChecker(record['extra']['paths'], dumpdirs=False), decryption)
    unlisted = [segs for segs in checker.directories if b'/'.join(segs) not in dumpdirs]
    if unlisted:
        raise DamagedError('the increment %s holds the directory %s, which its %s does not list: it cannot be applied; '
                           'nothing was changed' % (record['key'], b'/'.join(unlisted[0]).decode('utf-8', 'replace'), how))
    extracted = {b'/'.join(segs) for segs in checker.directories}
    missed = [name for name in cleared if name not in extracted]
    if missed:
        raise DamagedError('the increment %s does not hold the directory %s, which its %s lists: it cannot be applied; '
                           'nothing was changed' % (record['key'], missed[0].decode('utf-8', 'replace'), how))
    step['linked'] = chain_apply.repair_links(staging_fd, staging, _link_repairs(record), roots)
    step.update({'members': checker.members, 'seconds': round(res['seconds'], 3), 'deletions_from': how})
    warnings = ['the staged directory %s kept the extended attribute %s of an earlier level of the chain (%s)' % problem
                for problem in kept[:files_logic.MAX_REPORTED]]
    return step, res, warnings


def _read_snapshot(store, record, snapshot, roots, decryption=None):
    """The dumpdirs of an increment from the snapshot file stored with it (a few kB instead of a second read of the
    archive), every record checked before any is applied: ({directory: {name: flag}}, {root: is a directory}). The
    mapping (incremental.SnapshotDumpdirs) keeps the file's bytes and reads a directory's entries when they are
    looked up: no object per name is held."""
    cat = pipeline.need_tool('cat', 'incremental restores')
    data = bytearray()
    try:
        res = artifacts.read_artifact(store, snapshot, [cat], sink_name='cat', on_sink_line=data.extend,
                                      decryption=decryption)
    except LifeboatError as e:
        raise type(e)('%s; the restore target was not changed' % e.msg, **e.details)
    if res['sink'].failed():
        raise LifeboatError('reading %s failed, nothing was changed: %s' % (snapshot['key'], res['sink'].describe()))
    dumpdirs = incremental.SnapshotDumpdirs(bytes(data))
    del data
    try:
        problems = dumpdirs.check(roots)
    except ValueError as e:
        raise DamagedError('the snapshot file %s of %s cannot be read (%s); nothing was changed' % (snapshot['key'], record['key'], e))
    if problems:
        raise DamagedError('the snapshot file %s of %s is not safe to apply (nothing was changed): %s'
                           % (snapshot['key'], record['key'], '; '.join(problems[:10])), unsafe_members=problems)
    return dumpdirs, {root: root in dumpdirs for root in roots}


def _link_repairs(record):
    try:
        return incremental.link_repairs_of(record)
    except ValueError as e:
        raise DamagedError('the record of %s has hard links to repair that are not valid (%s); nothing was changed'
                           % (record['key'], e))


def _list_increment(store, record, tar, decryption=None):
    """Read a level of a chain once with tar's incremental listing: every member and dumpdir checked, and the
    renames and deletions it makes collected, before anything of it is extracted."""
    checker = IncrementalChecker(record['extra']['paths'])
    try:
        res = artifacts.read_artifact(store, record, files_logic.tar_list_incremental_argv(tar), sink_name='tar',
                                      env=dict(os.environ, LC_ALL='C'), on_sink_line=checker.feed, decryption=decryption)
    except LifeboatError as e:
        raise type(e)('%s; the restore target was not changed' % e.msg, **e.details)
    checker.finish()
    checker.check_stderr(res['sink'].stderr)
    if checker.problems:
        raise DamagedError('the increment %s (level %d of the chain) has unsafe members or dumpdirs, refusing to restore '
                           'it (nothing was changed): %s' % (record['key'], incremental.facts_of(record)['level'],
                                                             '; '.join(checker.problems[:10])), unsafe_members=checker.problems)
    if res['sink'].failed():
        raise LifeboatError('listing %s failed, nothing was changed: %s' % (record['key'], res['sink'].describe()))
    return checker


def _extract(store, record, tar, feats, staging, keep_capabilities, checker=None, decryption=None):
    checker = checker or MemberChecker(record['extra']['paths'])
    argv = files_logic.tar_extract_argv(tar, staging, feats, as_root=os.geteuid() == 0, keep_capabilities=keep_capabilities)
    try:
        res = artifacts.read_artifact(store, record, argv, sink_name='tar', env=dict(os.environ, LC_ALL='C'),
                                      on_sink_line=checker.feed, decryption=decryption)
    except LifeboatError as e:
        raise type(e)('%s; the restore target was not changed' % e.msg, **e.details)
    sink = res['sink']
    if hasattr(checker, 'finish'):
        checker.finish()
    checker.check_stderr(sink.stderr)
    if checker.problems:
        raise DamagedError('the archive %s has unsafe members, refusing to restore it (nothing was changed): %s'
                           % (record['key'], '; '.join(checker.problems[:10])), unsafe_members=checker.problems)
    if sink.failed():
        raise LifeboatError('extracting %s failed, nothing was changed: %s' % (record['key'], sink.describe()))
    return res, checker


def _restored_name(staged_path, staging, dest):
    return files_logic.restore_target(staged_path[len(staging):], dest)


def _leftover_warnings(leftovers):
    by_owner = {}
    for owner, path, why in leftovers:
        by_owner.setdefault(owner, []).append('%s (%s)' % (path, why))
    return ['%s could not be removed completely; left behind: %s. Remove it by hand'
            % (owner, '; '.join(items[:5]) + ('; and %d more' % (len(items) - 5) if len(items) > 5 else ''))
            for owner, items in sorted(by_owner.items())]


class _Move(object):
    """One target being replaced: the staged entry (src) and the target's parent directory (dst), as fds."""

    def __init__(self, target, src_fd, src_name, dst_fd):
        self.target = target
        self.src_fd = src_fd
        self.src_name = src_name
        self.dst_fd = dst_fd
        self.dst_name = target.names[-1]
        self.mount_fd = None        # a mount point: the directory itself (its entries are replaced) ...
        self.mount_meta = None      # ... and the archived metadata of that directory
        self.copy = None            # name of a cross-filesystem copy beside the target (or inside the mount point)
        self.old = None             # name the old target was moved aside to (in dst_fd, or in the mount point)
        self.old_fd = None          # mount point: the directory its old entries were moved into ...
        self.old_entries = []       # ... and those entries
        self.new_entries = []       # mount point: entries moved in
        self.placed = False

    def close(self):
        for fd in (self.src_fd, self.dst_fd, self.old_fd, self.mount_fd):
            if fd is not None:
                os.close(fd)


def _move_into_place(staging_fd, staging, targets, force, stage_at, moves):
    """Rename every staged path over its target, all or nothing: first every target moves aside, then every
    staged path moves in; a failure puts everything back. Fills ``moves`` (the caller closes them) and returns
    the leftovers of removing what was replaced, as (owner, path, reason)."""
    try:
        for target in targets:
            move = _open_move(staging_fd, staging, target)
            if move is not None:
                moves.append(move)
                _ready(move)
        for move in moves:
            _aside(move, force, stage_at)
        for move in moves:
            _place(move)
    except BaseException as e:
        undone = _undo(moves) or 'nothing was changed'
        if isinstance(e, LifeboatError):
            raise type(e)('%s; %s' % (e.msg, undone), **e.details)
        if isinstance(e, OSError):
            raise LifeboatError('moving the restored paths into place failed (%s%s); %s'
                                % (e.filename + ': ' if e.filename else '', e.strerror, undone))
        raise
    leftovers = []
    for move in moves:
        leftovers.extend(_remove_old(move))
    return leftovers


def _open_move(staging_fd, staging, target):
    """The staged entry and the target's parent, both reached without following a symlink (None: nothing staged)."""
    names = path_rules.components(target.path)
    try:
        src_fd, missing = fsops.walk(staging_fd, staging, names[:-1])
    except fsops.Blocked as e:
        raise DamagedError('refusing to restore %s: in the extracted archive %s %s, so the staged path would lead '
                           'elsewhere' % (target.target, e.path[len(staging):], e.why))
    if missing or fsops.lstat_at(src_fd, names[-1]) is None:
        os.close(src_fd)
        return None  # excluded entirely, or vanished before the backup read it
    base_fd = fsops.open_dir(target.base)
    try:
        dst_fd = fsops.walk(base_fd, target.base, target.names[:-1], create=True)[0]
    except fsops.Blocked as e:
        os.close(src_fd)
        raise ConfigError('refusing to restore %s: %s %s (it changed during the restore); a restore never writes '
                          'through a symlink that is not part of the restored tree' % (target.target, e.path, e.why))
    finally:
        os.close(base_fd)
    return _Move(target, src_fd, names[-1], dst_fd)


def _ready(move):
    """Open the mount point (if the target is one), and copy across filesystems so the final steps are renames."""
    target = move.target
    if target.mount:
        try:
            move.mount_fd = fsops.walk(move.dst_fd, posixpath.dirname(target.location), [move.dst_name])[0]
        except fsops.Blocked as e:
            raise ConfigError('refusing to restore %s: the mount point %s %s' % (target.target, e.path, e.why))
        staged = fsops.lstat_at(move.src_fd, move.src_name)
        if not stat.S_ISDIR(staged.st_mode):
            raise ConfigError('refusing to restore %s: it is a mount point here, and the archive holds it as something '
                              'other than a directory. Restore under dest, or unmount it first' % target.target)
        staged_fd = fsops.walk(move.src_fd, '', [move.src_name])[0]
        try:
            move.mount_meta = fsops.dir_metadata(staged_fd)
        finally:
            os.close(staged_fd)
    into_fd = move.dst_fd if move.mount_fd is None else move.mount_fd
    if os.fstat(move.src_fd).st_dev != os.fstat(into_fd).st_dev:
        copy = files_logic.STAGING_MARK + uuid.uuid4().hex[:12]
        fsops.copy_into(move.src_fd, move.src_name, into_fd, copy)
        move.copy = copy
        os.close(move.src_fd)
        move.src_fd = os.dup(into_fd)
        move.src_name = copy


def _aside_name(name):
    short = os.fsencode(name)[:64].decode('utf-8', 'ignore')
    return files_logic.OLD_MARK + short + '-' + uuid.uuid4().hex[:8]


def _aside(move, force, stage_at):
    target = move.target
    if move.mount_fd is not None:
        _aside_mount(move, force, stage_at)
        return
    if not force and files_logic.is_nonempty(target.location):
        raise ConfigError('%s became non-empty during the restore; not replacing it' % target.target)
    if fsops.lstat_at(move.dst_fd, move.dst_name) is None:
        return
    old = _aside_name(move.dst_name)
    try:
        fsops.rename_at(move.dst_fd, move.dst_name, move.dst_fd, old)
    except OSError as e:
        raise LifeboatError('cannot move %s aside to replace it: %s'
                            % (target.target, fsops.why_not_removed(move.dst_fd, move.dst_name, e)))
    move.old = old


def _ours(fd, stage_at, copy):
    """Names in directory fd that this restore made (its staging directory, a copy): never moved aside."""
    own = {copy} if copy else set()
    st = os.fstat(fd)
    parent = os.fstat(stage_at[0])
    if (st.st_dev, st.st_ino) == (parent.st_dev, parent.st_ino):
        own.add(stage_at[1])
    return own


def _aside_mount(move, force, stage_at):
    """A mount point cannot be renamed: its entries move into a directory inside it instead."""
    keep = _ours(move.mount_fd, stage_at, move.copy)
    entries = sorted(entry for entry in os.listdir(move.mount_fd) if entry not in keep)
    if not entries:
        return
    if not force:
        raise ConfigError('%s became non-empty during the restore; not replacing it' % move.target.target)
    old = _aside_name(move.dst_name)
    os.mkdir(old, 0o700, dir_fd=move.mount_fd)
    move.old = old
    move.old_fd = fsops.walk(move.mount_fd, move.target.location, [old])[0]
    for entry in entries:
        try:
            fsops.rename_at(move.mount_fd, entry, move.old_fd, entry)
        except OSError as e:
            raise LifeboatError('cannot move %s/%s aside to replace the contents of the mount point: %s'
                                % (move.target.target, entry, fsops.why_not_removed(move.mount_fd, entry, e)))
        move.old_entries.append(entry)


def _place(move):
    if move.mount_fd is None:
        fsops.rename_at(move.src_fd, move.src_name, move.dst_fd, move.dst_name)
        move.placed = True
        return
    staged = fsops.walk(move.src_fd, '', [move.src_name])[0]
    try:
        for entry in sorted(os.listdir(staged)):
            fsops.rename_at(staged, entry, move.mount_fd, entry)
            move.new_entries.append(entry)
    finally:
        os.close(staged)


def _undo(moves):
    """Put every target back as it was (reverse order). Returns a sentence about what could not be, or ''."""
    problems = []
    for move in reversed(moves):
        try:
            if move.mount_fd is None:
                if move.placed:
                    fsops.rename_at(move.dst_fd, move.dst_name, move.src_fd, move.src_name)
                    move.placed = False
                if move.old:
                    fsops.rename_at(move.dst_fd, move.old, move.dst_fd, move.dst_name)
                    move.old = None
            else:
                _undo_mount(move)
        except OSError as e:
            problems.append('%s could not be put back as it was (%s); its old content is in %s'
                            % (move.target.target, e.strerror, _old_location(move)))
        if move.copy:
            fsops.remove_tree(move.dst_fd if move.mount_fd is None else move.mount_fd, move.copy, move.copy)
    return '; '.join(problems)


def _undo_mount(move):
    if move.new_entries:
        staged = fsops.walk(move.src_fd, '', [move.src_name])[0]
        try:
            while move.new_entries:
                fsops.rename_at(move.mount_fd, move.new_entries[-1], staged, move.new_entries[-1])
                move.new_entries.pop()
        finally:
            os.close(staged)
    while move.old_entries:
        fsops.rename_at(move.old_fd, move.old_entries[-1], move.mount_fd, move.old_entries[-1])
        move.old_entries.pop()
    if move.old:
        os.rmdir(move.old, dir_fd=move.mount_fd)
        move.old = None


def _old_location(move):
    if move.mount_fd is not None:
        return posixpath.join(move.target.location, move.old or '')
    return posixpath.join(posixpath.dirname(move.target.location), move.old or move.dst_name)


def _remove_old(move):
    """Remove what a target held before (moved aside) and any copy; returns leftovers as (owner, path, reason)."""
    out = []
    where = move.dst_fd if move.mount_fd is None else move.mount_fd
    if move.old:
        out.extend(('the old content of %s' % move.target.target, path, why)
                   for path, why in fsops.remove_tree(where, move.old, _old_location(move)))
    if move.copy and move.mount_fd is not None:
        out.extend(('a copy made for %s' % move.target.target, path, why)
                   for path, why in fsops.remove_tree(where, move.copy, posixpath.join(move.target.location, move.copy)))
    return out
