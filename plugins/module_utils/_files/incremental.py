# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental directory archives, the pure part (docs/incremental.md).

A files entry with ``incremental: true`` is archived with GNU tar's listed-incremental mode: level 0 is a full
archive, each later set holds what changed since the set before it (its base), and tar's snapshot file (the
``.snar``) of every level is stored in the set as an artifact of its own, so the next run, on any host, can
continue the chain. This module decides the level of a new archive (``decide``), writes and reads the chain
facts of a record (``extra.incremental``), checks a chain read back from the store (``level_problem``), reads
and adjusts tar's snapshot files, and works out what a level changes besides the files it holds (purges, hard
links to repair). Plain values in and out: no store, no filesystem.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import re
from collections.abc import Mapping

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError

SNAR_SUFFIX = '.snar'
SNAR_KIND = 'files-snar'
SNAR_FORMAT = 'tar-snar'
SNAR_EXT = ''            # the artifact name already ends in .snar: <name>.snar.zst
DEFAULT_FULL_EVERY = '24'
# GNU tar's snapshot files of format 2 (tar 1.20 and later) start with this line: "GNU tar-1.34-2"
_SNAR_HEADER = re.compile(br'^GNU tar-[0-9][0-9.]*-2\n')
_DURATION = re.compile(r'^(\d+)([hdw])$')
_UNITS = {'h': 3600, 'd': 86400, 'w': 7 * 86400}


def snar_name(name):
    """The artifact name of an entry's snapshot file."""
    return name + SNAR_SUFFIX


def is_snar_name(name):
    return name.endswith(SNAR_SUFFIX)


def parse_full_every(value):
    """``full_every``: a count of increments between fulls (``24``) or an age of the full (``36h``, ``7d``, ``2w``).

    Returns ('count', n) or ('age', seconds). Raises ConfigError.
    """
    if value in (None, ''):
        value = DEFAULT_FULL_EVERY
    text = str(value).strip()
    if isinstance(value, bool):
        text = ''
    if text.isdigit():
        count = int(text)
        if count < 1:
            raise ConfigError('full_every must be at least 1 (increments between two fulls), got %s' % text)
        return 'count', count
    found = _DURATION.match(text)
    if not found or int(found.group(1)) < 1:
        raise ConfigError('full_every must be a number of increments (e.g. 24) or the age at which the chain starts '
                          'over with a full, as a number and a unit h, d or w (e.g. 36h, 7d, 2w), got %r' % (value,))
    return 'age', int(found.group(1)) * _UNITS[found.group(2)]


def check_entry(name, full_every):
    """What can be checked of an incremental entry before anything runs: its name and policy. Raises ConfigError."""
    if is_snar_name(name):
        raise ConfigError('files entry %s: names ending in %s are taken by the snapshot files of incremental entries'
                          % (name, SNAR_SUFFIX))
    try:
        return parse_full_every(full_every)
    except ConfigError as e:
        raise ConfigError('files entry %s: %s' % (name, e.msg))


def policy_text(policy):
    """'24' or '7d': the policy as full_every takes it."""
    kind, amount = policy
    if kind == 'count':
        return str(amount)
    for unit in ('w', 'd', 'h'):
        if amount % _UNITS[unit] == 0:
            return '%d%s' % (amount // _UNITS[unit], unit)
    return '%dh' % (amount // 3600)


def describe_policy(policy):
    kind, amount = policy
    if kind == 'count':
        return 'full_every %d (increment%s)' % (amount, '' if amount == 1 else 's')
    return 'full_every %s' % policy_text(policy)


def snar_problem(head):
    """Why the first bytes of a snapshot file are not one GNU tar can continue from, or None."""
    if not _SNAR_HEADER.match(head or b''):
        return 'it is not a GNU tar snapshot file of format 2 (it starts with %r)' % ((head or b'')[:40],)
    return None


def snar_directories(data):
    """The directory records of a GNU tar snapshot file (format 2): [(start, end, nfs, dev, ino, name, entries)],
    with the byte range of each record and its entries as flag + name (b'Yfile', b'Nold', b'Dsub'). Raises
    ValueError for a file that is not one.

    After the header line and the dump time (seconds, nanoseconds), each record is NUL-terminated fields: nfs
    flag, mtime seconds, mtime nanoseconds, device, inode, name, the directory's entries, an empty entry, and
    one more NUL.
    """
    return list(iter_snar_directories(data))


def iter_snar_directories(data):
    """snar_directories() one record at a time (a generator), so that a restore never holds every name of a
    snapshot file as objects: the records, read in order from ``data``, raising ValueError where it is not one."""
    why = snar_problem(data[:64])
    if why:
        raise ValueError(why)
    end = len(data)
    pos = data.index(b'\n') + 1
    if not data.endswith(b'\x00') or data.count(b'\x00', pos) < 2:
        raise ValueError('the snapshot file is cut short')
    for _time_field in range(2):
        pos = data.index(b'\x00', pos) + 1
    while pos < end:
        start = pos
        fields = []
        for _field in range(6):
            if pos >= end:
                raise ValueError('a directory record of the snapshot file is cut short (at byte %d)' % start)
            nul = data.index(b'\x00', pos)
            fields.append(data[pos:nul])
            pos = nul + 1
        entries = []
        while pos < end and data[pos] != 0:
            nul = data.index(b'\x00', pos)
            entries.append(data[pos:nul])
            pos = nul + 1
        if pos >= end or (pos + 1 < end and data[pos + 1] != 0):
            raise ValueError('a directory record of the snapshot file has no terminator (at byte %d)' % pos)
        pos += 2
        nfs, _msec, _mnsec, dev, ino, name = fields
        try:
            dev, ino = int(dev), int(ino)
        except ValueError:
            raise ValueError('a directory record of the snapshot file has no valid device or inode (at byte %d)' % start)
        yield (start, pos, nfs == b'1', dev, ino, name, entries)


def snar_time(data):
    """The time of the dump a snapshot file describes (epoch seconds, float): what tar compares times with."""
    fields = data[data.index(b'\n') + 1:].split(b'\x00', 2)
    return int(fields[0]) + int(fields[1]) / 1e9


def drop_directories(data, records, names):
    """The snapshot file without the records of ``names`` (tar then takes those directories as new: their whole
    contents go into the next level)."""
    drop = set(names)
    keep = [data[:records[0][0]]] if records else [data]
    for start, end, _nfs, _dev, _ino, name, _entries in records:
        if name not in drop:
            keep.append(data[start:end])
    return b''.join(keep)


NO_DEVICE = 2 ** 64 - 1   # (dev_t)-1, the kernel's NODEV: no filesystem has it


def without_devices(data, records):
    """The snapshot file with the device of every directory set to NO_DEVICE, for tar with ``--no-check-device``.

    tar then still finds each directory by its name and inode, but never matches a directory to an earlier one
    by device and inode under another name: a renamed directory is archived as a new one (whole) instead of as
    a rename. GNU tar 1.34 writes rename lists that it cannot restore itself, in an order that does not match
    the names in them (two directories swapped, or a directory moved over its parent, measured), and keeps stale
    names and inodes after such renames, which lose files at the next level; a renamed directory costs its size
    once instead (and hard links from it to files outside it are repaired: hard_link_repairs).
    """
    out = [data[:records[0][0]]] if records else [data]
    for start, end, _nfs, _dev, _ino, _name, _entries in records:
        nfs, rest = data[start:end].split(b'\x00', 1)
        msec, mnsec, _old, rest = rest.split(b'\x00', 3)
        out.append(b'\x00'.join((nfs, msec, mnsec, str(NO_DEVICE).encode('ascii'), rest)))
    return b''.join(out)


def stale_directories(records, stat_of):
    """Directories of the snapshot file that are not there now with the device and inode it gives them.

    GNU tar 1.34 keeps the old inode of a directory name that another directory was renamed to (two directories
    swapped, or one moved over another), and the old names of the directories inside: from such a snapshot file
    the next level "detects" renames once more, from names that are not there, and loses files (measured). A
    directory removed or replaced after tar read it is left out too. ``stat_of(name)`` gives (dev, ino) of a
    directory now, or None when it is not there.
    """
    out = []
    for _start, _end, _nfs, _dev, ino, name, _entries in records:
        now = stat_of(name)
        if now is None or now[1] != ino:   # tar runs with --no-check-device: the inode is what it compares
            out.append(name)
    return out


# ---------------------------------------------------------------- the facts of a record

def facts_of(record):
    """The ``extra.incremental`` of a record, or None (a full archive made without incremental mode)."""
    inc = (record.get('extra') or {}).get('incremental')
    return inc if isinstance(inc, dict) else None


def chain_entry(record):
    """How a later level names (and pins) one level of its chain."""
    inc = facts_of(record) or {}
    return {'set_id': record['set_id'], 'host': record['host'], 'key': record['key'], 'sha256': record['sha256'],
            'size': record['size'], 'level': inc.get('level', 0)}


def new_facts(decision, name, snar_key, policy):
    """``extra.incremental`` of a new archive from ``decide``'s answer."""
    facts = {
        'level': decision['level'],
        'base': decision['base']['set_id'] if decision['base'] else None,
        'chain': decision['chain'],
        'snar': {'name': snar_name(name), 'key': snar_key},
        'full_every': policy_text(policy),
        'full_set': decision['full_set'],
    }
    if decision['level'] == 0:
        facts['full_reason'] = decision['reason']
    return facts


def same_source(record, paths, exclude, one_file_system):
    """Why the base record was made from other paths or options (then a full starts a new chain), or None."""
    extra = record.get('extra') or {}
    if list(extra.get('paths') or []) != list(paths):
        return 'the paths changed (%s then, %s now)' % (', '.join(extra.get('paths') or []), ', '.join(paths))
    if list(extra.get('exclude') or []) != list(exclude or []):
        return 'the exclude patterns changed'
    if bool(extra.get('one_file_system')) != bool(one_file_system):
        return 'one_file_system changed'
    return None


def decide(base, policy, now, force=False, source_problem=None, base_problem=None, full_time=None):
    """The level of a new archive. Returns {level, base, chain, full_set, reason}.

    base           -- the base record (the entry in the newest earlier completed set of the chain), or None
    policy         -- parse_full_every()'s answer
    now            -- epoch seconds of this run
    force          -- a full was asked for (``full: true`` / ``lifeboat_full``)
    source_problem -- same_source()'s answer for the base
    base_problem   -- why the base cannot be continued (missing or damaged parts, a broken chain), or None
    full_time      -- epoch seconds of the chain's level 0 (for an age policy)
    ``reason`` says why this is a full (level 0), or what it continues.
    """
    full = full_decision
    if force:
        return full('a full was asked for')
    if base is None:
        return full('no earlier set holds this entry')
    facts = facts_of(base)
    if facts is None:
        return full('the entry in set %s is a full archive made without incremental mode (no snapshot file)'
                    % base['set_id'])
    if base_problem:
        return full('the chain of set %s cannot be continued: %s' % (base['set_id'], base_problem))
    if source_problem:
        return full('%s since set %s' % (source_problem, base['set_id']))
    level = int(facts.get('level', 0)) + 1
    kind, amount = policy
    if kind == 'count' and level > amount:
        return full('%s reached (set %s is level %d)' % (describe_policy(policy), base['set_id'], level - 1))
    if kind == 'age' and full_time is not None and now - full_time >= amount:
        return full('%s reached (the chain began with set %s)' % (describe_policy(policy), facts.get('full_set') or base['set_id']))
    chain = list(facts.get('chain') or []) + [chain_entry(base)]
    return {'level': level, 'base': chain[-1], 'chain': chain, 'full_set': chain[0]['set_id'],
            'reason': 'level %d on set %s' % (level, base['set_id'])}


def needs(records):
    """The set ids a set's records depend on: every earlier level of each incremental entry (sorted). Retention
    keeps them while it keeps the set; a restore of the set needs them all."""
    out = set()
    for record in records:
        for entry in (facts_of(record) or {}).get('chain') or []:
            if isinstance(entry, dict) and entry.get('set_id') and entry['set_id'] != record.get('set_id'):
                out.add(entry['set_id'])
    return sorted(out)


def chains(records):
    """What the listing shows of a set's incremental entries: {"host/files/name": {level, base, full_set}}."""
    out = {}
    for record in records:
        facts = facts_of(record)
        if facts is not None:
            out['%s/%s/%s' % (record['host'], record['component'], record['name'])] = {
                'level': facts.get('level'), 'base': facts.get('base'), 'full_set': facts.get('full_set')}
    return out


def full_decision(reason):
    """decide()'s answer for a full (level 0) made for ``reason``."""
    return {'level': 0, 'base': None, 'chain': [], 'full_set': None, 'reason': reason}


def full_set_of(record):
    """The set id of the level 0 of a record's chain."""
    facts = facts_of(record) or {}
    chain = facts.get('chain') or []
    return chain[0]['set_id'] if chain else record['set_id']


# ---------------------------------------------------------------- a chain read back

def chain_shape_problem(record):
    """Why a record's own chain facts are not well formed, or None (checked before anything is read for it)."""
    facts = facts_of(record)
    if facts is None:
        return None
    level = facts.get('level')
    chain = facts.get('chain')
    if not isinstance(level, int) or level < 0 or not isinstance(chain, list) or len(chain) != level:
        return 'its chain facts are not valid (level %r, %s chain entries)' % (level, len(chain) if isinstance(chain, list) else 'no')
    for index, entry in enumerate(chain):
        if not isinstance(entry, dict) or entry.get('level') != index:
            return 'its chain entry %d is not valid' % index
        for field in ('set_id', 'host', 'key', 'sha256', 'size'):
            if field not in entry:
                return 'its chain entry %d has no %s' % (index, field)
        if entry['set_id'] >= record['set_id']:
            return 'its chain names set %s, which is not older than the set itself' % entry['set_id']
    return None


def level_problem(entry, found, final):
    """Why the record ``found`` for chain ``entry`` is not the level it should be, or None.

    ``final`` is the record being restored (its chain pins every level).
    """
    if found['sha256'] != entry['sha256'] or found['size'] != entry['size']:
        return ('its artifact %s has sha256 %s and %d bytes, but the chain of set %s pinned %s and %d bytes: the set '
                'was replaced' % (found['key'], found['sha256'], found['size'], final['set_id'], entry['sha256'], entry['size']))
    facts = facts_of(found)
    if facts is None or facts.get('level') != entry['level']:
        return 'it is not level %d of an incremental chain' % entry['level']
    mine = (facts_of(final) or {}).get('chain') or []
    if list(facts.get('chain') or []) != mine[:entry['level']]:
        return 'its own chain is not the start of the chain of set %s' % final['set_id']
    if list((found.get('extra') or {}).get('paths') or []) != list((final.get('extra') or {}).get('paths') or []):
        return 'it holds other paths than set %s' % final['set_id']
    return None


# ---------------------------------------------------------------- what a level changes besides its files

def new_directories(old_records, new_records):
    """Directories of the new snapshot file that tar archived whole: no directory had their name and inode before
    (new, renamed, or replaced). Returns {name: [names of the files in them]} (the Y entries)."""
    before = {record[5]: record[4] for record in old_records}
    out = {}
    for _start, _end, _nfs, _dev, ino, name, entries in new_records:
        if before.get(name) != ino:
            out[name] = [entry[1:] for entry in entries if entry[:1] == b'Y']
    return out


def hard_link_repairs(groups, whole):
    """Hard links a level would break, and how to mend them: [[name kept, [names linked to it]]].

    A file whose inode did not change is archived again where tar takes its directory as new (``whole``: a
    renamed or replaced directory), but not under its other names elsewhere, which a restore keeps from the
    level before: the restored names would be two files. ``groups`` {inode: [names]} (relative to /) of the files
    of those directories that have more than one link; the names archived again keep theirs, the others are
    linked to the first of them.
    """
    out = []
    for _ino, names in sorted(groups.items()):
        again = sorted(name for name in names if name.rpartition(b'/')[0] in whole)
        others = sorted(name for name in names if name not in again)
        if again and others:
            out.append([again[0], others])
    return out


def encode_name(raw):
    """A name (bytes) as a record holds it: the text when it is UTF-8, else {"base64": ...}."""
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return {'base64': base64.b64encode(raw).decode('ascii')}


def decode_name(value):
    """encode_name() undone; raises ValueError for anything else."""
    if isinstance(value, str):
        return value.encode('utf-8')
    if isinstance(value, dict) and isinstance(value.get('base64'), str):
        return base64.b64decode(value['base64'].encode('ascii'), validate=True)
    raise ValueError('%r is not a name' % (value,))


def link_repairs_of(record):
    """The hard links to repair after a level (from its record), as [(kept, [linked])] of byte names relative to /.
    Raises ValueError for a record whose list is not valid."""
    raw = (facts_of(record) or {}).get('hard_links') or []
    if not isinstance(raw, list):
        raise ValueError('hard_links is not a list')
    out = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], list):
            raise ValueError('a hard_links item is not [name, [names]]')
        out.append((decode_name(item[0]), [decode_name(name) for name in item[1]]))
    return out


def snapshot_dumpdirs(records, roots):
    """The dumpdirs of a level as its snapshot file gives them: ({directory: {name: flag}}, [problems]).

    The snapshot file tar writes holds, for every directory it archived, the same entries (flags Y, N, D) as the
    directory's dumpdir in the archive, NUL-separated (no name is ambiguous). ``roots``: the recorded paths as
    byte names relative to / (a directory must be one of them or lie below one; entries are plain names).
    """
    out = {}
    problems = []
    for _start, _end, _nfs, _dev, _ino, name, entries in records:
        listed, why = _snapshot_record(name, entries, roots)
        if why:
            problems.append(why)
        else:
            out[name] = listed
    return out, problems


def _snapshot_record(name, entries, roots):
    """({name: flag} of one directory record of a snapshot file, None), or (None, why it is not safe to apply)."""
    segs = name.split(b'/')
    if name.startswith(b'/') or b'' in segs or b'.' in segs or b'..' in segs or \
            not any(name == root or name.startswith(root + b'/') for root in roots):
        return None, '%s: a directory of the snapshot file that is not below the backed-up paths' % name.decode('utf-8', 'replace')
    listed = {entry[1:]: entry[:1] for entry in entries}
    bad = [entry for entry in entries if entry[:1] not in (b'Y', b'N', b'D') or b'/' in entry or len(entry) < 2]
    if bad or b'.' in listed or b'..' in listed or len(listed) != len(entries):
        shown = (bad or [b'. or .. or a name twice'])[0][:100]
        return None, '%s: the snapshot file lists %r in it' % (name.decode('utf-8', 'replace'), shown)
    return listed, None


class SnapshotDumpdirs(Mapping):
    """snapshot_dumpdirs() of a whole snapshot file without holding every name: the mapping {directory: {name:
    flag}} reads one directory's record from ``data`` (the snapshot file's bytes, kept as one object) each time it
    is looked up. ``check(roots)`` first reads every record once, as snapshot_dumpdirs does, and keeps only where
    each directory's record is; a level's deletions then take one directory at a time (apply.apply_level)."""

    def __init__(self, data):
        self.data = data
        self.ranges = {}

    def check(self, roots):
        """Read and check every record (raises ValueError for a file that is not a snapshot file). Returns
        [problems], as snapshot_dumpdirs does; the mapping holds the records that are safe to apply."""
        problems = []
        for start, end, _nfs, _dev, _ino, name, entries in iter_snar_directories(self.data):
            _listed, why = _snapshot_record(name, entries, roots)
            if why:
                problems.append(why)
            else:
                self.ranges[name] = (start, end)
        return problems

    def __getitem__(self, name):
        start, end = self.ranges[name]
        return _record_entries(self.data, start, end)

    def __contains__(self, name):
        return name in self.ranges

    def __iter__(self):
        return iter(self.ranges)

    def __len__(self):
        return len(self.ranges)


def _record_entries(data, start, end):
    """{name: flag} of the record at data[start:end] (a record snar_directories read, and checked)."""
    fields = data[start:end].split(b'\x00')[6:]
    return {entry[1:]: entry[:1] for entry in fields if entry}


ACL_XATTRS = ('system.posix_acl_access', 'system.posix_acl_default')
CAPABILITY_XATTR = 'security.capability'
_XATTR_NAMESPACES = ('user', 'trusted', 'security')


def xattr_scope(archived, restoring, keep_capabilities):
    """What GNU tar sets on a directory it extracts from a level, as {'xattrs', 'acls', 'capabilities'} (bools), or
    None when it sets no extended attribute at all.

    ``archived``: the record's ``xattrs`` and ``acls`` (what the backup's tar archived); ``restoring``: the same
    features of the tar that extracts. With ``--xattrs --xattrs-include=*`` tar archives the POSIX ACLs as the
    xattrs system.posix_acl_access/default too (beside SCHILY.acl.* with ``--acls``), and sets them back from
    either: the ACLs are in scope whenever one of the two is restored. security.capability is left out of the
    extraction when capabilities are not kept (files_logic.tar_extract_argv).
    """
    xattrs = bool(archived.get('xattrs') and restoring.get('xattrs'))
    acls = xattrs or bool(archived.get('acls') and restoring.get('acls'))
    if not acls:
        return None
    return {'xattrs': xattrs, 'acls': acls, 'capabilities': xattrs and bool(keep_capabilities)}


def stale_xattrs(present, scope):
    """Which extended attributes of a staged directory to remove before a level that holds it is extracted over it.

    tar sets the attributes a directory member archived but never removes others, so a directory replaced under
    the same name, or one whose attributes were removed, would keep those of an earlier level. Removing first
    every attribute tar would set from the level (``scope``: xattr_scope) leaves exactly the archived ones; names
    tar does not restore (other system.* names, security.capability when capabilities are not kept) stay.
    ``present``: the names on the staged directory. Returns sorted names.
    """
    if not scope:
        return []
    out = []
    for name in present:
        if name in ACL_XATTRS:
            stale = scope['acls']
        elif name == CAPABILITY_XATTR:
            stale = scope['capabilities']
        else:
            stale = scope['xattrs'] and name.split('.', 1)[0] in _XATTR_NAMESPACES
        if stale:
            out.append(name)
    return sorted(out)


def purge_actions(on_disk, entries):
    """What to remove from one staged directory before a level is extracted into it, as tar's incremental
    extraction does: an entry its dumpdir does not list, a D entry that is not a directory, and a Y entry that
    is one (a file now). ``on_disk`` {name: is_directory}; ``entries`` {name: flag}. Returns sorted names.
    """
    out = []
    for name, is_dir in on_disk.items():
        flag = entries.get(name)
        if flag is None or (flag == b'D' and not is_dir) or (flag == b'Y' and is_dir):
            out.append(name)
    return sorted(out)
