# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive safety: parse GNU tar's verbose listing and judge every member.

Pure logic on plain values (strings and bytes): no I/O, unit-tested without mocks.

A member is refused when it has an absolute name, a '..' segment, is a character or block device,
lies outside the paths the artifact recorded, is a parent of a recorded path but not a directory (a
symlink there would send the recorded path elsewhere), lies beneath a symlink of the same archive (the
classic "write through a symlink" escape), is a symlink whose relative target climbs above the archive
root, or is a hard link whose target is absolute or has '..'. Symlinks with absolute targets are kept as they
were (system trees have them) because nothing is ever written through a symlink.

Incremental archives (GNU tar's listed-incremental mode) are read with ``tar -tvv --incremental``, which also
prints each directory's "dumpdir": its entries, one per line, flagged Y (in this archive), N (kept from the
earlier level) or D (a directory), and tar's directory renames (R old, T new, X a temporary place).
``IncrementalChecker`` splits that listing into members and dumpdirs and adds the rules an increment needs,
because it is applied over the tree its earlier levels left: every member below a backed-up path lies in a
directory of the same archive (an increment holds every directory, so nothing can be written through a symlink
an earlier level left), a hard link points to a file of the same archive, every directory is a D entry of its
parent's dumpdir, dumpdir entries are plain names, and there are no renames (lifeboat's increments never have
any: a renamed directory is archived whole, see docs/incremental.md). The dumpdirs are collected for the
restore, which removes what they no longer list itself (``apply.py``) instead of letting tar do it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

_SIMPLE = {'n': b'\n', 't': b'\t', 'r': b'\r', 'f': b'\f', 'v': b'\v', 'b': b'\b', 'a': b'\a', '\\': b'\\',
           '"': b'"', '?': b'?', "'": b"'"}

# stderr lines of GNU tar that mean the archive had unsafe names (tar sanitizes them; we refuse instead)
UNSAFE_STDERR = ("Removing leading `", "Member name contains '..'", "Removing leading '")


# the body of a C-quoted string: runs of plain characters between escapes ("unrolled loop", no backtracking)
_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE = re.compile(r'\\([0-7]{1,3}|.)', re.DOTALL)


def parse_c_string(line, i):
    """Parse a C-quoted string starting at line[i] == '"'. Returns (bytes, index after closing quote)."""
    if i >= len(line) or line[i] != '"':
        raise ValueError('expected a quoted name at column %d' % i)
    m = _QUOTED.match(line, i)
    if not m:
        raise ValueError('unterminated quoted name')
    body = m.group(1)
    if '\\' not in body:  # the common case: no escapes at all
        return body.encode('utf-8', 'surrogateescape'), m.end()
    out = bytearray()
    pos = 0
    for e in _ESCAPE.finditer(body):
        out += body[pos:e.start()].encode('utf-8', 'surrogateescape')
        c = e.group(1)
        if c[0] in '01234567':
            out.append(int(c, 8) & 0xff)
        else:
            out += _SIMPLE.get(c, c.encode('utf-8', 'surrogateescape'))
        pos = e.end()
    out += body[pos:].encode('utf-8', 'surrogateescape')
    return bytes(out), m.end()


def parse_listing_line(line):
    """One line of `tar -xvv --quoting-style=c` (or -tvv) output.

    Returns dict(type, name, target) with names as bytes, or None for lines that are not members
    (such as 'Creating directory:').
    """
    if isinstance(line, bytes):
        line = line.decode('ascii', 'surrogateescape')
    line = line.rstrip('\n')
    q = line.find('"')
    if q < 0 or 'Creating directory:' in line[:q]:
        return None
    mtype = line[0]
    name, j = parse_c_string(line, q)
    rest = line[j:]
    target = None
    if rest.startswith(' -> '):
        target, _j = parse_c_string(rest, 4)
    elif rest.startswith(' link to '):
        target, _j = parse_c_string(rest, 9)
    return {'type': mtype, 'name': name, 'target': target}


def _segments(path):
    return [s for s in path.split(b'/') if s not in (b'', b'.')]


def _inside(path_segments, roots):
    return any(path_segments[:len(r)] == r or r[:len(path_segments)] == path_segments for r in roots)


class MemberChecker(object):
    """Feed it listing lines in archive order; it collects problems (bounded) and counts members."""

    MAX_PROBLEMS = 50

    def __init__(self, roots):
        """roots: the recorded source paths (absolute, str), i.e. what the archive may contain."""
        self.roots = [_segments(r.encode('utf-8', 'surrogateescape') if isinstance(r, str) else r) for r in roots]
        self.symlinks = set()
        self.problems = []
        self.members = 0
        self.parse_errors = 0

    def _problem(self, name, why):
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append('%s: %s' % (name.decode('utf-8', 'backslashreplace'), why))

    def feed(self, line):
        try:
            m = parse_listing_line(line)
        except (ValueError, IndexError):
            self.parse_errors += 1
            self._problem(b'?', 'unparseable listing line %r' % (line[:200],))
            return
        if m is None:
            return
        self.members += 1
        self.check(m)

    def check(self, m):
        name = m['name']
        why = member_problem(m, self.roots, self.symlinks)
        if why:
            self._problem(name, why)
        if m['type'] == 'l':
            self.symlinks.add(tuple(_segments(name)))

    def check_stderr(self, stderr_text):
        for line in stderr_text.splitlines():
            if any(s in line for s in UNSAFE_STDERR):
                self._problem(b'(archive)', 'tar reported an unsafe member name: %s' % line.strip())


def member_problem(m, roots, symlinks):
    """Why member ``m`` is unsafe, or None. ``symlinks``: set of segment tuples of earlier symlink members."""
    name = m['name']
    if name.startswith(b'/'):
        return 'absolute path'
    segs = _segments(name)
    if b'..' in segs:
        return "'..' in the path"
    if not segs:
        return 'empty name'
    if m['type'] in ('c', 'b'):
        return 'device node'
    for k in range(1, len(segs) if symlinks else 0):
        if tuple(segs[:k]) in symlinks:
            return 'lies beneath the symlink %s of the same archive' % b'/'.join(segs[:k]).decode('utf-8', 'replace')
    if roots and not _inside(segs, roots):
        return 'outside the backed-up paths'
    if m['type'] != 'd' and any(len(r) > len(segs) and r[:len(segs)] == segs for r in roots):
        return 'a parent of a backed-up path, but not a directory'
    target = m.get('target')
    if m['type'] == 'l' and target is not None and not target.startswith(b'/'):
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(b'/'.join(segs)), target))
        if joined == b'..' or joined.startswith(b'../'):
            return 'symlink escapes the archive root (-> %s)' % target.decode('utf-8', 'replace')
    if m['type'] == 'h' and target is not None and (target.startswith(b'/') or b'..' in _segments(target)):
        return 'hard link to %s' % target.decode('utf-8', 'replace')
    return None


# ---------------------------------------------------------------- incremental archives

# a member line of a verbose listing: type and mode, owner, size (or major,minor), date, time, "name"
HEADER_RE = re.compile(br'^[-a-zA-Z][-rwxsStT]{9}\S*\s+\S+\s+(?:\d+|\d+,\s*\d+)\s+\S+\s+\S+\s+"')


class Dumpdir(object):
    """The dumpdir of one directory member: ``entries`` [(flag, name)], names as bytes (flag a one-byte bytes)."""

    def __init__(self, name):
        self.name = name
        self.entries = []
        self.terminated = False   # closed by its empty line (tar -xvv prints no dumpdirs: never)

    def add(self, flag, text):
        self.entries.append([flag, text])

    def extend_last(self, text):
        self.entries[-1][1] += text

    def names(self):
        """{name: flag} of the directory's entries (renames left out)."""
        return {name: flag for flag, name in self.entries if flag in (b'Y', b'N', b'D')}


class ListingReader(object):
    """Splits the lines of ``tar -tvv --incremental --quoting-style=c`` into members and dumpdirs.

    Member lines are C-quoted and unambiguous. Dumpdir entries are printed raw (``F name``, then one empty line
    closes the dumpdir), so a name with a newline continues on the next line: a line that is neither a member
    nor an entry continues the entry before it, and empty lines followed by another entry were newlines at the
    end of a name. Only a name made to look like an entry or a member line can be misread, and what is read
    is only ever applied inside the staging directory, below the backed-up paths.
    """

    def __init__(self, on_member, on_dumpdir, on_problem):
        self.on_member = on_member
        self.on_dumpdir = on_dumpdir
        self.on_problem = on_problem
        self.block = None
        self.blank = 0

    def feed(self, line):
        if isinstance(line, str):
            line = line.encode('ascii', 'surrogateescape')
        if line[-1:] == b'\n':
            line = line[:-1]
        block = self.block
        if block is not None:
            # most lines of an incremental listing are dumpdir entries: they are told apart first (a member line's
            # second character is a mode letter, never a space)
            if line[1:2] == b' ' and line[:1] in b'YNDRTX':
                if self.blank:
                    if block.entries:
                        block.extend_last(b'\n' * self.blank)
                    else:
                        self.on_problem(block.name, 'a dumpdir that goes on after its end')
                    self.blank = 0
                block.entries.append([line[:1], line[2:]])
                return
            if not line:
                self.blank += 1
                return
        if HEADER_RE.match(line):
            self.close()
            self._member(line)
        elif b'Creating directory:' in line:
            return   # tar -xvv notes the parents it makes (they are no members)
        elif block is None:
            if line.strip():
                self.on_problem(b'?', 'unparseable listing line %r' % (line[:200],))
        elif block.entries:
            block.extend_last(b'\n' * (self.blank + 1) + line)
            self.blank = 0
        else:
            self.on_problem(block.name, 'unparseable dumpdir line %r' % (line[:200],))

    def close(self):
        """End the dumpdir being read (at the next member, and at the end of the listing)."""
        if self.block is not None:
            self.block.terminated = self.blank > 0
            if self.blank > 1 and self.block.entries:
                self.block.extend_last(b'\n' * (self.blank - 1))
            self.on_dumpdir(self.block)
        self.block = None
        self.blank = 0

    def _member(self, line):
        try:
            member = parse_listing_line(line)
        except (ValueError, IndexError):
            self.on_problem(b'?', 'unparseable listing line %r' % (line[:200],))
            return
        if member is None:
            return
        self.on_member(member)
        if member['type'] == 'd':
            self.block = Dumpdir(member['name'].rstrip(b'/'))


def _entry_problem(name):
    if not name:
        return 'an empty name'
    if b'/' in name or b'\x00' in name:
        return "a name with '/' or NUL"
    if name in (b'.', b'..'):
        return "'.' or '..'"
    return None


class IncrementalChecker(MemberChecker):
    """MemberChecker for a level of an incremental chain, listed with ``tar -tvv --incremental`` (``dumpdirs``)
    or extracted with ``tar -xvv`` (no dumpdirs: only the member rules).

    After ``finish()``: ``problems``, and for the restore ``dumpdirs`` [Dumpdir] in archive order, ``directories``
    (member names as tuples of names) and ``files`` (the other members' names, joined with '/').

    ``fresh``: the level is extracted into an empty staging directory (the full of a chain). A hard link there
    can reach only what the level itself made (tar fails the extraction when its target is missing, and a
    symlink member it could go through is delayed by tar when it points out, or stays inside staging), so the
    check that its target is a file of the level is left to that, as for any full archive (MemberChecker), and
    ``files`` stays empty: a full of millions of files keeps none of their names.
    """

    def __init__(self, roots, dumpdirs=True, fresh=False):
        super(IncrementalChecker, self).__init__(roots)
        self.root_segments = [tuple(root) for root in self.roots]
        self.expect_dumpdirs = dumpdirs
        self.fresh = fresh
        self.directories = set()
        self.files = set()
        self.dumpdirs = []
        self.renames = False
        self.reader = ListingReader(self._on_member, self._on_dumpdir, self._problem)

    def feed(self, line):
        self.reader.feed(line)

    def _on_member(self, member):
        self.members += 1
        self.check(member)
        segs = tuple(_segments(member['name']))
        why = self._chain_problem(member, segs)
        if why:
            self._problem(member['name'], why)
        if member['type'] == 'd':
            self.directories.add(segs)
        elif not self.fresh:
            self.files.add(b'/'.join(segs))   # one object a name: a level can hold every file of the tree

    def _root_of(self, segs):
        for root in self.root_segments:
            if len(segs) > len(root) and segs[:len(root)] == root:
                return root
        return None

    def _chain_problem(self, member, segs):
        root = self._root_of(segs)
        if root is not None:
            for end in range(len(root), len(segs)):
                if segs[:end] not in self.directories:
                    return ('its directory %s is not in this level (an incremental archive holds every directory before '
                            'what is in them)' % b'/'.join(segs[:end]).decode('utf-8', 'replace'))
        target = member.get('target')
        if member['type'] == 'h' and target is not None and not self.fresh and b'/'.join(_segments(target)) not in self.files:
            return 'hard link to %s, which is not a file of this level' % target.decode('utf-8', 'replace')
        return None

    def _on_dumpdir(self, block):
        if not self.expect_dumpdirs:
            return
        for flag, name in block.entries:
            if flag in (b'Y', b'N', b'D'):
                why = _entry_problem(name)
                if why:
                    self._problem(block.name, 'its dumpdir has %s (%r)' % (why, name[:100]))
            elif not self.renames:
                self.renames = True
                self._problem(block.name, "its dumpdir renames directories (%s %s): lifeboat's increments never do, and "
                              "a restore does not apply tar's renames" % (flag.decode('ascii'), name[:200].decode('utf-8', 'replace')))
        self.dumpdirs.append(block)

    def finish(self):
        """The end of the listing: checks that need all of it. Returns self."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None   # it refers back to this checker: without it, the names go as soon as the checker does
        if not self.expect_dumpdirs:
            return self
        listed = {}
        for block in self.dumpdirs:
            if block.terminated:
                listed[tuple(_segments(block.name))] = block.names()
        for segs in sorted(self.directories):
            parent = segs[:-1]
            if self._root_of(segs) is not None and parent in listed and listed[parent].get(segs[-1]) != b'D':
                self._problem(b'/'.join(segs), "it is a directory of this level, but not a D entry of its parent's dumpdir")
        if self.directories and not any(block.terminated for block in self.dumpdirs):
            self._problem(b'(archive)', 'no dumpdirs: this is not an incremental archive')
        return self
