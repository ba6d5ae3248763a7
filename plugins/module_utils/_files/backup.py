# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the backup flow: GNU tar of the paths into the pipeline, as one artifact of a set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import stat
import tempfile

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import chain
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features


def follow_links(name, path):
    """The symlinks a listed path goes through, and what it finally names: ([{path, target, resolved}], resolved).

    A path that is no symlink gives ([], path). Each link is recorded where it lives, with its directory
    resolved (the first one as listed). Raises ConfigError for a dangling link, a loop, or a link to /.
    """
    hops = []
    cur = path
    while os.path.islink(cur):
        if len(hops) >= path_rules.MAX_LINK_HOPS or cur in [hop['path'] for hop in hops]:
            raise ConfigError('files entry %s: %s is a loop of symlinks (%s); fix the link or list what it should '
                              'point to' % (name, path, ' -> '.join([hop['path'] for hop in hops] + [cur])))
        text = os.readlink(cur)
        hops.append({'path': cur, 'target': text})
        nxt = path_rules.join_link(os.path.realpath(os.path.dirname(cur)), text)
        cur = nxt if nxt == '/' else path_rules.join_link(os.path.realpath(os.path.dirname(nxt)), os.path.basename(nxt))
    if not hops:
        return [], path
    resolved = os.path.realpath(cur)
    first = '%s is a symlink to %s' % (path, hops[0]['target'])
    if not os.path.exists(resolved):
        raise ConfigError('files entry %s: %s, which does not exist (a dangling link): nothing to back up there. Fix '
                          'the link, or list what it should point to' % (name, first))
    if resolved == '/':
        raise ConfigError('files entry %s: %s, i.e. to /; backing up / as one path is not supported: list the '
                          'directories you need' % (name, first))
    for hop in hops:
        hop['resolved'] = resolved
    return hops, resolved


def source_paths(name, paths):
    """What an entry archives: its paths, each symlink among them with what it points to. -> (paths, links)

    A listed path that is a symlink (``/opt/app -> /srv/app-1.2``) stands for the directory or file it names:
    the archive holds the link (and any link on the way) and the resolved directory, and the record lists
    both, so a restore brings back the link and the data.
    """
    listed = [files_logic.normalize_paths([p])[0] for p in paths]
    missing = [p for p in listed if not os.path.lexists(p)]
    if missing:
        raise ConfigError('files entry %s: %s does not exist on this host' % (name, ', '.join(missing)),
                          missing=missing)
    archived = []
    links = []
    for p in listed:
        hops, resolved = follow_links(name, p)
        links.extend(hop for hop in hops if hop['path'] not in [link['path'] for link in links])
        archived.extend([hop['path'] for hop in hops] + [resolved])
    archived = files_logic.normalize_paths(archived)
    # what goes into the record is checked as every restore will check it
    why = path_rules.paths_problem(archived) or path_rules.links_problem(links, archived)
    if why:
        raise ConfigError('files entry %s cannot be recorded: %s' % (name, why))
    return archived, links


def _link_groups(whole, paths, since):
    """{inode: [names]} of the files archived again in ``whole`` directories that did not change since the last
    level and have other names (hard links): those names are found by walking ``paths``. Usually there is none,
    and nothing is walked."""
    wanted = {}
    for directory, names in whole.items():
        for name in names:
            try:
                st = os.lstat(b'/' + directory + b'/' + name)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and max(st.st_mtime, st.st_ctime) < since:
                wanted[(st.st_dev, st.st_ino)] = []
    if wanted:
        for path in paths:
            _walk_for(os.fsencode(path), wanted)
    return {key[1]: names for key, names in wanted.items() if len(names) > 1}


def _walk_for(top, wanted):
    """Add to ``wanted`` {(dev, ino): [names]} every name below ``top`` (bytes, absolute) of those files."""
    for path, info in walk(top):
        if not stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) in wanted:
            wanted[(info.st_dev, info.st_ino)].append(path[1:])


def walk(top, one_file_system=True):
    """(path, lstat result) of ``top`` (str or bytes) and of every entry below it, depth first, without following
    symlinks. With ``one_file_system`` a directory on another device than ``top`` is listed but not entered.
    What cannot be read is passed over (tar reports it). The one walk of a tree in Python (tree_size, _walk_for)."""
    try:
        top_info = os.lstat(top)
    except OSError:
        return
    yield top, top_info
    if not stat.S_ISDIR(top_info.st_mode):
        return
    stack = [top]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield entry.path, info
            if stat.S_ISDIR(info.st_mode) and (not one_file_system or info.st_dev == top_info.st_dev):
                stack.append(entry.path)


def _dev_ino(name):
    """(device, inode) of a directory named as in a snapshot file (relative to /), or None."""
    try:
        st = os.lstat(b'/' + name)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Incremental(object):
    """What an incremental archive needs: the decision (level, base), and the snapshot file tar works on.

    The snapshot file of the base is fetched from the store into a private temporary directory, tar updates
    it while it archives, and it is stored in the set as ``<name>.snar``; the directory is removed in every path.
    """

    def __init__(self, store, set_id, host, name, paths, exclude, one_file_system, full_every, full, base_host):
        set_format.validate_host(base_host or host)
        self.policy = incremental.parse_full_every(full_every)
        self.store = store
        self.name = name
        self.found = chain.find_base(store, set_id, base_host or host, name, set_format.parse_set_id(set_id)[1])
        base = self.found['record']
        if self.found['snar'] is not None and not self.found['problem'] and encryption_logic.is_encrypted(self.found['snar']):
            self.found['problem'] = encrypted_snapshot_problem(self.found['snar'])
        self.decision = incremental.decide(
            base, self.policy, chain.set_epoch(set_id), force=full, base_problem=self.found['problem'],
            source_problem=None if base is None else incremental.same_source(base, paths, exclude, one_file_system),
            full_time=self.found['full_time'])
        self.warnings = []
        if self.decision['level'] == 0 and base is not None and incremental.facts_of(base) is not None and not full \
                and (self.found['problem'] or incremental.same_source(base, paths, exclude, one_file_system)):
            self.warn_full(self.decision['reason'])
        self.tmp = None
        self.snapshot = None
        self.stale = []
        self.base_records = []
        self.base_time = None
        self.facts = None

    def warn_full(self, why):
        self.warnings.append('files entry %s is archived as a full (level 0) instead of an increment: %s' % (self.name, why))

    def summary(self):
        out = {'level': self.decision['level'], 'base': (self.decision['base'] or {}).get('set_id'),
               'full_set': self.decision['full_set'], 'reason': self.decision['reason'],
               'full_every': incremental.policy_text(self.policy)}
        if self.found['passed_over']:
            out['passed_over'] = self.found['passed_over']
        if self.stale:
            out['archived_whole_next'] = self.stale[:files_logic.MAX_REPORTED]
        return out

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix='lifeboat-snar-')
        self.snapshot = os.path.join(self.tmp, 'snapshot')
        if self.decision['level'] > 0:
            why = self._fetch(self.found['snar'])
            if why:
                reason = 'the snapshot file of set %s could not be used: %s' % (self.found['record']['set_id'], why)
                self.warn_full(reason)
                self.decision = incremental.full_decision(reason)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def after_tar(self, paths):
        """Once tar archived the level: the hard links it breaks (into the record), and the new snapshot file
        without the directories tar recorded with a stale name or inode (incremental.stale_directories), which
        the next level then archives whole instead of losing files."""
        with open(self.snapshot, 'rb') as f:
            data = f.read()
        records = incremental.snar_directories(data)
        if self.decision['level'] > 0:
            whole = incremental.new_directories(self.base_records, records)
            repairs = incremental.hard_link_repairs(_link_groups(whole, paths, self.base_time), whole)
            self.facts['hard_links'] = [[incremental.encode_name(kept), [incremental.encode_name(name) for name in others]]
                                        for kept, others in repairs]
        stale = incremental.stale_directories(records, _dev_ino)
        if stale:
            with open(self.snapshot, 'wb') as f:
                f.write(incremental.drop_directories(data, records, stale))
        self.stale = [os.fsdecode(b'/' + name) for name in stale]

    def _fetch(self, snar):
        """Copy the base's snapshot file into the private directory, checked; why it cannot be used, or None."""
        dd = pipeline.need_tool('dd', 'incremental files backups')
        try:
            res = artifacts.read_artifact(self.store, snar, [dd, 'of=' + self.snapshot, 'bs=1M', 'status=none'],
                                          sink_name='dd', env=dict(os.environ, LC_ALL='C'))
        except LifeboatError as e:
            return e.msg
        if res['sink'].failed():
            return res['sink'].describe()
        with open(self.snapshot, 'rb') as f:
            data = f.read()
        try:
            self.base_records = incremental.snar_directories(data)
            self.base_time = incremental.snar_time(data)
            data = incremental.without_devices(data, self.base_records)
        except ValueError as e:
            os.unlink(self.snapshot)
            return str(e)
        with open(self.snapshot, 'wb') as f:
            f.write(data)
        return None


def encrypted_snapshot_problem(snar):
    """Why an encrypted snapshot file cannot be continued from: a host that backs up holds no identity.

    With encryption on, the snapshot file (every directory and file name of the entry) is encrypted like the
    archive, so a stolen store shows no names either. The next run cannot read it back (backup modules never take
    an identity), so every run of an incremental entry is a full while encryption is on (docs/encryption.md).
    """
    return ('its snapshot file %s is encrypted with age (for %s) and hosts that back up hold no identity, so it cannot '
            'be read back: while encryption is on, incremental entries are archived as fulls (docs/encryption.md)'
            % (snar['key'], encryption_logic.describe_recipients(encryption_logic.record_recipients(snar))))


def backup(store, set_id, host, name, paths, exclude=None, compression='zstd', level=None, threads=0,
           encryption='none', one_file_system=False, incremental_mode=False, full_every=None, full=False,
           base_host=None, check_mode=False):
    set_format.validate_name(name, 'files entry name')
    if not paths:
        raise ConfigError('files entry %s has no paths' % name)
    if incremental_mode:
        incremental.check_entry(name, full_every)
    paths, links = source_paths(name, paths)
    unreadable = [p for p in paths if not os.access(p, os.R_OK)]
    if unreadable:
        raise LifeboatError('files entry %s: %s is not readable by this user' % (name, ', '.join(unreadable)))
    tar = pipeline.need_tool('tar', 'files_backup')
    feats = tar_features(tar)
    pipeline.compressor_argv(compression, level, threads)  # validates compression and level before anything starts
    inc = None
    if incremental_mode:
        inc = Incremental(store, set_id, host, name, paths, exclude, one_file_system, full_every, full, base_host)
    if check_mode:
        msg = 'would archive %s into set %s as %s/%s' % (', '.join(paths), set_id, files_logic.COMPONENT, name)
        if pipeline.encryption_name(encryption) != 'none':
            msg += ', encrypted with age for %s' % encryption.describe()
        out = {'changed': True, 'records': [], 'paths': paths, 'links': links, 'msg': msg + _links_note(links)}
        if inc is not None:
            out['incremental'] = inc.summary()
            out['msg'] += ' (%s)' % _level_note(inc.decision)
            out['tar_warnings'] = inc.warnings
            # the play's summary says what each incremental entry would be
            out['summary'] = [{'host': host, 'component': files_logic.COMPONENT, 'name': name, 'would': _level_note(inc.decision)}]
        return out
    spec = {'store': store, 'set_id': set_id, 'host': host, 'name': name, 'paths': paths, 'links': links,
            'exclude': exclude, 'compression': compression, 'level': level, 'threads': threads, 'encryption': encryption,
            'one_file_system': one_file_system, 'tar': tar, 'feats': feats}
    if inc is None:
        return _result(spec, _archive(spec), None)
    with inc:
        record = _archive(spec, inc)
        snar = _store_snapshot(spec, inc, record)
    return _result(spec, record, snar, inc)


TOOL_READS = 64 * 1024


def tree_size(paths, one_file_system=False):
    """Bytes of the tar stream of ``paths``, about (du --apparent-size: a 512-byte header per entry, file sizes
    rounded up to 512, hard links once, the end blocks, 10 KiB records; excludes not applied): the estimated
    total of the progress line when no record gives one (plain_estimate)."""
    seen = set()
    total = 0
    for top in paths:
        for _path, info in walk(top, one_file_system):
            total += _entry_size(info, seen)
    total += 1024  # two zero blocks end the archive, written in records of 20 blocks
    # plus what the compressor reads besides the stream (its libraries: a few KiB; its read count is the measure)
    return -(-total // 10240) * 10240 + TOOL_READS


def recorded_size(record, paths, exclude, one_file_system):
    """The estimate of a new full of an entry from an earlier record of it (at hand: the base an incremental
    entry reads to decide its level): the stream size tar counted then (``uncompressed_size``), as tree_size
    counts it. None when the record is an increment (not the size of a full), of another source (paths, excludes,
    one_file_system), or has no size."""
    if record is None or (incremental.facts_of(record) or {}).get('level'):
        return None
    if incremental.same_source(record, paths, exclude, one_file_system):
        return None
    size = (record.get('extra') or {}).get('uncompressed_size')
    return int(size) + TOOL_READS if isinstance(size, int) and size > 0 else None


def plain_estimate(paths, exclude, one_file_system, inc=None):
    """(total, measure) of the progress line of an archive: what its ETA counts the plain bytes against.

    An increment: neither (what tar reads depends on what changed). A full whose earlier record is at hand
    (recorded_size): that number, no walk. Otherwise a walk of the paths (tree_size), which the reporter runs
    only once the first progress line is due, so a short backup never walks its tree (_progress.Reporter)."""
    if inc is not None and inc.decision.get('level'):
        return None, None
    total = recorded_size(inc.found['record'] if inc is not None else None, paths, exclude, one_file_system)
    if total:
        return total, None
    return None, lambda: tree_size(paths, one_file_system)


def _entry_size(info, seen):
    if not stat.S_ISREG(info.st_mode):
        return 512
    if info.st_nlink > 1:
        if (info.st_dev, info.st_ino) in seen:
            return 512
        seen.add((info.st_dev, info.st_ino))
    return 512 + -(-info.st_size // 512) * 512


def _archive(spec, inc=None):
    argv = files_logic.tar_create_argv(spec['tar'], spec['paths'], spec['exclude'], spec['feats'], spec['one_file_system'],
                                       snapshot=inc.snapshot if inc else None)

    def check(res):
        facts = files_logic.judge_tar_create(res.rc, res.stderr)
        if inc is not None:
            inc.after_tar(spec['paths'])
        return facts

    extra = {'paths': spec['paths'], 'links': spec['links'], 'exclude': list(spec['exclude'] or []),
             'xattrs': spec['feats']['xattrs'], 'acls': spec['feats']['acls']}
    if inc is not None:
        snar_key = set_format.artifact_key(spec['set_id'], spec['host'], files_logic.COMPONENT, artifacts.artifact_filename(
            incremental.snar_name(spec['name']), incremental.SNAR_EXT, spec['compression'], spec['encryption']))
        extra['one_file_system'] = bool(spec['one_file_system'])
        inc.facts = incremental.new_facts(inc.decision, spec['name'], snar_key, inc.policy)
        extra['incremental'] = inc.facts
    total, measure = plain_estimate(spec['paths'], spec['exclude'], spec['one_file_system'], inc)  # the level is final now
    return artifacts.write_artifact(
        spec['store'], spec['set_id'], spec['host'], files_logic.COMPONENT, spec['name'], 'files', 'tar', '.tar',
        source='files:' + ','.join(spec['paths']), check_source=check, source_argv=argv, source_name='tar',
        compression=spec['compression'], level=spec['level'], threads=spec['threads'], encryption=spec['encryption'],
        tools={'tar': spec['feats']['version']}, extra=extra, env=dict(os.environ, LC_ALL='C'),
        total=total, estimated=True, measure=measure)


def _store_snapshot(spec, inc, record):
    """tar's new snapshot file, as the artifact <name>.snar of the set (what the next level continues from)."""
    with open(inc.snapshot, 'rb') as source:
        return artifacts.write_artifact(
            spec['store'], spec['set_id'], spec['host'], files_logic.COMPONENT, incremental.snar_name(spec['name']),
            incremental.SNAR_KIND, incremental.SNAR_FORMAT, incremental.SNAR_EXT, source='files-snapshot:' + spec['name'],
            check_source=lambda res: {}, source_file=source, compression=spec['compression'], level=spec['level'],
            threads=spec['threads'], encryption=spec['encryption'], tools={'tar': spec['feats']['version']},
            extra={'archive': record['key'], 'level': inc.decision['level'], 'dropped_directories': len(inc.stale)})


def _result(spec, record, snar, inc=None):
    ex = record['extra']
    summary = {'host': spec['host'], 'component': files_logic.COMPONENT, 'name': spec['name'], 'size': record['size'],
               'uncompressed_size': ex.get('uncompressed_size'), 'seconds': ex['seconds']}
    out = {'changed': True, 'records': [record], 'record': record, 'summary': [summary], 'paths': spec['paths'],
           'links': spec['links'], 'size': record['size'], 'sha256': record['sha256'],
           'changed_files': ex.get('changed_files', []), 'tar_warnings': ex.get('warnings', [])}
    if inc is not None:
        out['records'].append(snar)
        out['snapshot'] = snar
        out['incremental'] = inc.summary()
        out['tar_warnings'] = inc.warnings + out['tar_warnings']
        summary['level'] = inc.decision['level']
        summary['size'] += snar['size']
    return out


def _level_note(decision):
    if decision['level'] == 0:
        return 'a full, level 0: %s' % decision['reason']
    return 'an increment, %s' % decision['reason']


def _links_note(links):
    if not links:
        return ''
    return ' (%s)' % '; '.join('%s is a symlink to %s: the link and %s are archived' % (link['path'], link['target'], link['resolved'])
                               for link in links)
