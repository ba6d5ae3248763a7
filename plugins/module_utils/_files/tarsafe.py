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
