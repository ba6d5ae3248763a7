# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification and drill logic on plain values: how each artifact format is proven to decode, GNU tar's
verbose listing with modes and sizes, a restored tree compared with its archive, row counts compared.

No I/O here: the flows (verify.py, drill.py) run the processes and hand lines and stat results in.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import stat

from ansible_collections.lifeboat.backup.plugins.module_utils._files import tarsafe

# ---------------------------------------------------------------- how each format decodes

# record format -> what a full verification runs on the decompressed stream
DECODERS = {
    'tar': 'tar-listing',                        # files archives: tar -tvv, every member through the safety checks
    'pg_dump-custom': 'pg-restore',              # pg_restore reads the whole archive (TOC and every data block)
    'pg_dump-directory-tar': 'pg-directory-tar',  # a tar of pg_dump's directory: listing checked, toc.dat present
    'pg_dumpall-globals-sql': 'sql-complete',    # pg_dumpall's own "dump complete" trailer at the end
    'sql': 'sql-complete',
}
SQL_TRAILERS = (b'PostgreSQL database cluster dump complete', b'PostgreSQL database dump complete')
TAIL_BYTES = 4096


def decoder_for(record):
    """What proves this artifact decodes: one of DECODERS' values, or 'stream' (decompression alone)."""
    return DECODERS.get(record.get('format'), 'stream')


def sql_complete(tail):
    """Whether the last bytes of a SQL dump hold pg_dump/pg_dumpall's completion trailer."""
    return any(marker in tail for marker in SQL_TRAILERS)


# ---------------------------------------------------------------- tar's verbose listing

_LONG_RE = re.compile(r'^(?P<perm>[-a-zA-Z][-rwxsStT]{9})\S*\s+(?P<owner>\S+)\s+(?P<size>\d+|\d+,\s*\d+)\s+\S+\s+\S+\s+"')
_MODE_BITS = (
    (1, 'r', stat.S_IRUSR), (2, 'w', stat.S_IWUSR), (4, 'r', stat.S_IRGRP), (5, 'w', stat.S_IWGRP),
    (7, 'r', stat.S_IROTH), (8, 'w', stat.S_IWOTH),
)
_EXEC_BITS = ((3, stat.S_IXUSR, stat.S_ISUID), (6, stat.S_IXGRP, stat.S_ISGID), (9, stat.S_IXOTH, stat.S_ISVTX))


def mode_from_string(perm):
    """'-rwsr-xr-x' -> 0o4755 (permission and set-id/sticky bits; the type letter is ignored)."""
    mode = 0
    for index, letter, bit in _MODE_BITS:
        if perm[index] == letter:
            mode |= bit
    for index, exec_bit, special in _EXEC_BITS:
        char = perm[index]
        if char in 'xst':
            mode |= exec_bit
        if char in 'sStT':
            mode |= special
    return mode


def parse_member(line):
    """A member of `tar -tvv --quoting-style=c`: dict(type, name, target, mode, size), or None for other lines.

    ``size`` is None for device nodes (major,minor). Names are bytes (as tarsafe gives them).
    """
    member = tarsafe.parse_listing_line(line)
    if member is None:
        return None
    text = line.decode('ascii', 'surrogateescape') if isinstance(line, bytes) else line
    found = _LONG_RE.match(text)
    if not found:
        raise ValueError('not a verbose tar listing line: %r' % text[:200])
    size = found.group('size')
    member['mode'] = mode_from_string(found.group('perm'))
    member['size'] = None if ',' in size else int(size)
    return member


# ---------------------------------------------------------------- a restored tree against its archive

_TYPES = {'-': stat.S_ISREG, 'd': stat.S_ISDIR, 'l': stat.S_ISLNK, 'p': stat.S_ISFIFO, 'h': stat.S_ISREG,
          'c': stat.S_ISCHR, 'b': stat.S_ISBLK, 'S': stat.S_ISREG}
_TYPE_NAMES = {'-': 'file', 'd': 'directory', 'l': 'symlink', 'p': 'fifo', 'h': 'hard link', 'c': 'character device',
               'b': 'block device', 'S': 'sparse file'}
SETID = stat.S_ISUID | stat.S_ISGID


def compare_member(member, st, link_target=None, setid_dropped=False, umask=0):
    """Why a restored path does not match its archive member, or None.

    member -- from parse_member; st -- os.lstat() of the restored path, or None when it is missing;
    link_target -- os.readlink() for symlinks; setid_dropped -- the restore removes set-id bits under dest
    (then they are not compared, everything else is); umask -- bits a
    restore that is not root's cannot keep (tar applies the umask without --same-permissions).
    """
    kind = member['type']
    what = _TYPE_NAMES.get(kind, kind)
    if st is None:
        return 'missing (%s in the archive)' % what
    test = _TYPES.get(kind)
    if test is not None and not test(st.st_mode):
        return 'is not a %s' % what
    if kind == 'l':
        if link_target is not None and member.get('target') is not None and link_target != member['target']:
            return 'symlink points to %s, the archive says %s' % (_text(link_target), _text(member['target']))
        return None
    want = member['mode'] & ~umask
    have = stat.S_IMODE(st.st_mode)
    if setid_dropped:  # restores under a directory drop set-id bits (directories may keep setgid): not compared
        want &= ~SETID
        have &= ~SETID
    if have != want:
        return 'mode %04o, the archive says %04o' % (have, want)
    if kind in ('-', 'S') and member.get('size') is not None and st.st_size != member['size']:
        return 'has %d bytes, the archive says %d' % (st.st_size, member['size'])
    return None


def _text(name):
    return name.decode('utf-8', 'backslashreplace') if isinstance(name, bytes) else str(name)


class TreeComparer(object):
    """Feed it `tar -tvv` lines of an archive; it compares each member with the tree restored from it.

    ``stat_member(name bytes) -> (lstat result or None, readlink result or None)`` looks at the restored
    path of a member (the flow knows where dest is). Problems are bounded; counts are not.
    """

    MAX_PROBLEMS = 50

    def __init__(self, stat_member, setid_dropped=False, umask=0):
        self.stat_member = stat_member
        self.setid_dropped = setid_dropped
        self.umask = umask
        self.members = 0
        self.matched = 0
        self.mismatched = 0
        self.bytes = 0
        self.setid_members = 0
        self.problems = []

    def _problem(self, name, why):
        self.mismatched += 1
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append('%s: %s' % (_text(name), why))

    def feed(self, line):
        try:
            member = parse_member(line)
        except (ValueError, IndexError):
            self._problem(b'?', 'unparseable listing line %r' % (line[:200],))
            return
        if member is None:
            return
        self.members += 1
        if member['mode'] & SETID and member['type'] not in ('l', 'd'):
            self.setid_members += 1
        st, target = self.stat_member(member['name'])
        why = compare_member(member, st, target, self.setid_dropped, self.umask)
        if why:
            self._problem(member['name'], why)
        else:
            self.matched += 1
            if member['type'] in ('-', 'S') and member.get('size'):
                self.bytes += member['size']

    def summary(self):
        return {'members': self.members, 'matched': self.matched, 'mismatched': self.mismatched, 'bytes': self.bytes,
                'setid_members': self.setid_members}


# ---------------------------------------------------------------- row counts

def compare_tables(expected, actual):
    """Row counts recorded at backup time against a restored database.

    expected -- {"schema.table": rows} recorded in the dump's own snapshot
    actual   -- {"schema.table": rows} counted in the restored database
    Returns (problems, compared): every expected table must exist with exactly its count; a table the
    restore has that the backup did not count is reported too (the dump holds more than was counted).
    """
    problems = []
    for table in sorted(expected):
        if table not in actual:
            problems.append('table %s is missing (the backup counted %d rows)' % (table, expected[table]))
        elif actual[table] != expected[table]:
            problems.append('table %s has %d rows, the backup counted %d' % (table, actual[table], expected[table]))
    for table in sorted(set(actual) - set(expected)):
        problems.append('table %s was restored but the backup did not count it' % table)
    return problems, len(expected)
