# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive safety: GNU tar listing parsing and member judgement (pure logic).

The listing lines below are copied from real `LC_ALL=C tar -xvv --quoting-style=c` output (GNU tar 1.34).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._files import tarsafe

ROOTS = ['/opt/app', '/etc/app.conf']


# ---------------------------------------------------------------- parse_c_string

@pytest.mark.parametrize('text, expected', [
    ('"plain"', b'plain'),
    ('"a b"', b'a b'),
    ('"n\\nl"', b'n\nl'),
    ('"tab\\tcr\\r"', b'tab\tcr\r'),
    ('"q\\"uote"', b'q"uote'),
    ('"back\\\\slash"', b'back\\slash'),
    ('"\\303\\274ber"', u'\u00fcber'.encode('utf-8')),          # octal escapes of UTF-8 bytes
    ('"\\342\\234\\223"', u'\u2713'.encode('utf-8')),
    ('"\\0"', b'\x00'),
    ('"\\1234"', b'S4'),                                         # at most three octal digits
    ('"\\377"', b'\xff'),                                         # a non-UTF-8 byte stays a byte
    (u'"\u00fc"', u'\u00fc'.encode('utf-8')),                   # raw unicode (a non-C locale)
    ('"it\'s"', b"it's"),
    ('"\\a\\b\\f\\v\\?"', b'\a\b\f\v?'),
    ('""', b''),
])
def test_parse_c_string(text, expected):
    value, end = tarsafe.parse_c_string(text, 0)
    assert value == expected
    assert end == len(text)


def test_parse_c_string_from_offset_and_rest():
    line = 'xx "a\\"b" -> "c"'
    value, end = tarsafe.parse_c_string(line, 3)
    assert value == b'a"b' and line[end:] == ' -> "c"'


def test_parse_c_string_surrogateescaped_bytes():
    # parse_listing_line decodes raw bytes as ascii+surrogateescape; bytes must come back unchanged
    raw = u'"\u00fc"'.encode('utf-8').decode('ascii', 'surrogateescape')
    assert tarsafe.parse_c_string(raw, 0)[0] == u'\u00fc'.encode('utf-8')


@pytest.mark.parametrize('text', ['noquote', '"unterminated', '"ends in escape\\'])
def test_parse_c_string_errors(text):
    with pytest.raises((ValueError, IndexError)):
        tarsafe.parse_c_string(text, 0)


# ---------------------------------------------------------------- parse_listing_line

def test_regular_file():
    m = tarsafe.parse_listing_line('-rw-r--r-- root/root         2 2026-11-22 01:21 "opt/app/a b"\n')
    assert m == {'type': '-', 'name': b'opt/app/a b', 'target': None}


def test_bytes_line_with_escapes():
    m = tarsafe.parse_listing_line(b'-rw-r--r-- 1234/2345         2 2026-11-22 01:21 "opt/app/\\303\\274\\nx"\n')
    assert m == {'type': '-', 'name': u'opt/app/\u00fc\nx'.encode('utf-8'), 'target': None}


def test_directory():
    m = tarsafe.parse_listing_line('drwxr-xr-x root/root         0 2026-11-22 01:21 "opt/app/"')
    assert m['type'] == 'd' and m['name'] == b'opt/app/'


def test_symlink():
    m = tarsafe.parse_listing_line('lrwxrwxrwx root/root         0 2026-11-22 01:21 "opt/app/sl" -> "../x y"')
    assert m == {'type': 'l', 'name': b'opt/app/sl', 'target': b'../x y'}


def test_symlink_with_arrow_in_names():
    m = tarsafe.parse_listing_line('lrwxrwxrwx root/root 0 2026-11-22 01:21 "opt/app/a -> b" -> "c -> d"')
    assert m == {'type': 'l', 'name': b'opt/app/a -> b', 'target': b'c -> d'}


def test_hard_link():
    m = tarsafe.parse_listing_line('hrw-r--r-- root/root         0 2026-11-22 01:21 "opt/app/hl" link to "opt/app/a b"')
    assert m == {'type': 'h', 'name': b'opt/app/hl', 'target': b'opt/app/a b'}


def test_device():
    m = tarsafe.parse_listing_line('crw-r--r-- root/root       1,3 2026-11-22 01:21 "opt/app/cdev"')
    assert m['type'] == 'c' and m['name'] == b'opt/app/cdev'


@pytest.mark.parametrize('line', [
    'drwxr-xr-x                  Creating directory: "opt"',
    b'drwxr-xr-x                  Creating directory: "opt/\\303\\274"\n',
    '',
    '\n',
    'no quotes at all',
])
def test_not_members(line):
    assert tarsafe.parse_listing_line(line) is None


def test_creating_directory_text_inside_a_name_is_a_member():
    m = tarsafe.parse_listing_line('-rw-r--r-- root/root 2 2026-11-22 01:21 "opt/app/Creating directory: x"')
    assert m['name'] == b'opt/app/Creating directory: x'


# ---------------------------------------------------------------- member_problem

def roots():
    return [tarsafe._segments(r.encode('utf-8')) for r in ROOTS]


def problem(mtype, name, target=None, symlinks=None, rts=None):
    return tarsafe.member_problem({'type': mtype, 'name': name, 'target': target}, roots() if rts is None else rts,
                                  symlinks if symlinks is not None else set())


@pytest.mark.parametrize('mtype, name, target', [
    ('d', b'opt/app/', None),
    ('-', b'opt/app/x/y z', None),
    ('-', b'etc/app.conf', None),
    ('d', b'opt/', None),                                        # a parent of a root
    ('l', b'opt/app/abs', b'/usr/share/zoneinfo/UTC'),          # absolute symlink targets are kept
    ('l', b'opt/app/x/rel', b'../y'),                            # relative, stays under the archive root
    ('l', b'opt/app/up', b'../..'),                             # exactly the archive root
    ('l', b'opt/app/dangling', b'nowhere'),
    ('h', b'opt/app/h', b'opt/app/x/y z'),
    ('-', b'./opt/app/dot', None),
    ('-', u'opt/app/\u00fc\n'.encode('utf-8'), None),
])
def test_safe_members(mtype, name, target):
    assert problem(mtype, name, target) is None


@pytest.mark.parametrize('mtype, name, target, words', [
    ('-', b'/etc/passwd', None, 'absolute path'),
    ('-', b'/opt/app/x', None, 'absolute path'),
    ('-', b'opt/app/../../etc/passwd', None, "'..' in the path"),
    ('-', b'opt/app/..', None, "'..' in the path"),
    ('d', b'..', None, "'..' in the path"),
    ('c', b'opt/app/null', None, 'device node'),
    ('b', b'opt/app/sda', None, 'device node'),
    ('-', b'etc/shadow', None, 'outside the backed-up paths'),
    ('-', b'opt/application', None, 'outside the backed-up paths'),   # a prefix of a name is not a parent
    ('l', b'opt/app/esc', b'../../../etc', 'symlink escapes the archive root'),
    ('l', b'opt/app/esc2', b'x/../../../../etc', 'symlink escapes the archive root'),
    ('l', b'etc/app.conf', b'../..', 'symlink escapes the archive root'),
    ('h', b'opt/app/h', b'/etc/shadow', 'hard link to /etc/shadow'),
    ('h', b'opt/app/h', b'opt/app/../../etc/shadow', 'hard link to'),
    ('-', b'', None, 'empty name'),
    ('-', b'./', None, 'empty name'),
])
def test_unsafe_members(mtype, name, target, words):
    why = problem(mtype, name, target)
    assert why is not None and words in why


@pytest.mark.parametrize('mtype, name, target', [
    ('l', b'opt', b'/'),            # staging/opt/app would then be /app: the recorded path would lead elsewhere
    ('l', b'opt/', b'/etc'),
    ('-', b'opt', None),
    ('h', b'opt', b'etc/app.conf'),
    ('l', b'etc', b'/tmp'),
])
def test_parent_of_a_root_must_be_a_directory(mtype, name, target):
    assert problem(mtype, name, target) == 'a parent of a backed-up path, but not a directory'


def test_a_root_itself_may_be_a_symlink_or_a_file():
    # a listed path that was a symlink is archived as that symlink (its target is a path of its own)
    assert problem('l', b'opt/app', b'/srv/app-1.2') is None
    assert problem('-', b'etc/app.conf', None) is None


def test_beneath_symlink():
    links = {(b'opt', b'app', b'link')}
    why = problem('-', b'opt/app/link/pwned', symlinks=links)
    assert why == 'lies beneath the symlink opt/app/link of the same archive'
    assert problem('d', b'opt/app/link/deeper/x', symlinks=links).startswith('lies beneath the symlink')
    assert problem('-', b'opt/app/linked', symlinks=links) is None
    assert problem('-', b'opt/app/link', symlinks=links) is None  # the symlink's own name again is not "beneath"


def test_no_roots_means_no_root_check():
    assert problem('-', b'anything/goes', rts=[]) is None
    assert problem('-', b'/abs', rts=[]) == 'absolute path'


# ---------------------------------------------------------------- MemberChecker

def test_checker_symlink_then_write_through_in_archive_order():
    c = tarsafe.MemberChecker(ROOTS)
    c.feed(b'drwxr-xr-x root/root 0 2026-11-22 01:21 "opt/app/"\n')
    c.feed(b'lrwxrwxrwx root/root 0 2026-11-22 01:21 "opt/app/link" -> "/etc"\n')
    c.feed(b'drwxr-xr-x                  Creating directory: "opt"\n')
    c.feed(b'-rw-r--r-- root/root 5 2026-11-22 01:21 "opt/app/link/cron.d/evil"\n')
    assert c.members == 3
    assert c.problems == ['opt/app/link/cron.d/evil: lies beneath the symlink opt/app/link of the same archive']


def test_checker_clean_archive():
    c = tarsafe.MemberChecker(['/opt/app'])
    for line in (b'drwxr-xr-x root/root 0 2026-11-22 01:21 "opt/app/"\n',
                 b'-rw-r--r-- root/root 2 2026-11-22 01:21 "opt/app/a b"\n',
                 b'hrw-r--r-- root/root 0 2026-11-22 01:21 "opt/app/hl" link to "opt/app/a b"\n',
                 b'lrwxrwxrwx root/root 0 2026-11-22 01:21 "opt/app/sl" -> "a b"\n'):
        c.feed(line)
    c.check_stderr('')
    assert c.members == 4 and c.problems == [] and c.parse_errors == 0


def test_checker_unparseable_line_is_a_problem():
    c = tarsafe.MemberChecker(ROOTS)
    c.feed(b'-rw-r--r-- root/root 2 2026-11-22 01:21 "opt/app/unterminated\n')
    assert c.parse_errors == 1 and len(c.problems) == 1 and 'unparseable' in c.problems[0]


@pytest.mark.parametrize('stderr', [
    "tar: Removing leading `/' from member names",
    "tar: Removing leading `a/../../' from member names",
    'tar: "a/../../b": Member name contains \'..\'',
    "tar: Removing leading `/' from hard link targets",
    "tar: Removing leading '/' from member names",
])
def test_checker_stderr_unsafe(stderr):
    c = tarsafe.MemberChecker(ROOTS)
    c.check_stderr('tar: something harmless\n' + stderr + '\n')
    assert len(c.problems) == 1 and 'unsafe member name' in c.problems[0]


def test_checker_bounds_problems():
    c = tarsafe.MemberChecker(ROOTS)
    for i in range(200):
        c.feed(('-rw-r--r-- root/root 2 2026-11-22 01:21 "etc/x%d"\n' % i).encode('ascii'))
    assert c.members == 200 and len(c.problems) == tarsafe.MemberChecker.MAX_PROBLEMS


def test_checker_problem_names_survive_unicode():
    c = tarsafe.MemberChecker(ROOTS)
    c.feed(b'crw-r--r-- root/root 1,3 2026-11-22 01:21 "opt/app/\\303\\274 dev"\n')
    assert c.problems == [u'opt/app/\u00fc dev: device node']


# ---------------------------------------------------------------- incremental listings (tar -tvv --incremental)

# `LC_ALL=C tar -tvv --incremental --quoting-style=c` of a level 0 with odd names (GNU tar 1.34): dumpdir names
# are printed raw, so a newline in a name continues on the next line
ODD_LEVEL = b'''drwxr-xr-x root/root         0 2026-12-01 11:33 "r/"
D a

drwxr-xr-x root/root         0 2026-12-01 11:33 "r/a/"
Y new
line
Y q"uote
D sub dir
Y trail


drwxr-xr-x root/root         0 2026-12-01 11:33 "r/a/sub dir/"

-rw-r--r-- root/root         1 2026-12-01 11:33 "r/a/new\\nline"
-rw-r--r-- root/root         1 2026-12-01 11:33 "r/a/q\\"uote"
-rw-r--r-- root/root         1 2026-12-01 11:33 "r/a/trail\\n"
'''

# a level 1 after: mv src/c src/c2; rm src/a/b/f2; rmdir src/a/b; chmod 600 src/a/f1 (hard linked to src/a/hard),
# as plain GNU tar writes it: with the rename (lifeboat's increments have none, it removes it in most tests)
LEVEL_ONE = b'''drwxr-xr-x root/root         0 2026-12-01 11:13 "src/"
D a
D c2
R src/c
T src/c2

drwxr-xr-x root/root         0 2026-12-01 11:13 "src/a/"
Y f1
Y hard
N lnk
Y new

drwxr-xr-x root/root         0 2026-12-01 11:13 "src/c2/"
N f3

-rw------- root/root         4 2026-12-01 11:13 "src/a/f1"
hrw------- root/root         0 2026-12-01 11:13 "src/a/hard" link to "src/a/f1"
-rw-r--r-- root/root         4 2026-12-01 11:13 "src/a/new"
'''


def incremental_check(text, roots, dumpdirs=True, fresh=False):
    checker = tarsafe.IncrementalChecker(roots, dumpdirs=dumpdirs, fresh=fresh)
    for line in text.splitlines(True):
        checker.feed(line)
    return checker.finish()


def test_incremental_listing_with_odd_names():
    checker = incremental_check(ODD_LEVEL, ['/r'])
    assert checker.problems == []
    assert checker.members == 6
    assert [(b.name, b.entries) for b in checker.dumpdirs] == [
        (b'r', [[b'D', b'a']]),
        (b'r/a', [[b'Y', b'new\nline'], [b'Y', b'q"uote'], [b'D', b'sub dir'], [b'Y', b'trail\n']]),
        (b'r/a/sub dir', [])]
    assert all(block.terminated for block in checker.dumpdirs)


def test_incremental_listing_links():
    checker = incremental_check(LEVEL_ONE.replace(b'R src/c\nT src/c2\n', b''), ['/src'])
    assert checker.problems == []
    assert checker.dumpdirs[1].names() == {b'f1': b'Y', b'hard': b'Y', b'lnk': b'N', b'new': b'Y'}
    assert checker.directories == {(b'src',), (b'src', b'a'), (b'src', b'c2')}


def test_incremental_renames_are_refused():
    checker = incremental_check(LEVEL_ONE, ['/src'])
    assert checker.problems == ["src: its dumpdir renames directories (R src/c): lifeboat's increments never do, and a "
                                "restore does not apply tar's renames"]
    temp = incremental_check(LEVEL_ONE.replace(b'R src/c\nT src/c2\n', b'X src\nR src/a\nT \n'), ['/src'])
    assert len(temp.problems) == 1 and '(X src)' in temp.problems[0]


def test_incremental_listing_of_extraction_has_no_dumpdirs():
    members = b''.join(line for line in LEVEL_ONE.splitlines(True) if line[:1] in b'-dh')
    checker = incremental_check(members, ['/src'], dumpdirs=False)
    assert checker.problems == [] and checker.members == 6


def test_the_full_of_a_chain_keeps_no_file_names():
    # extracted into an empty staging directory, a hard link can reach only the level's own files (tar fails
    # the extraction otherwise), so the full of a chain keeps no names for that check, as a plain full
    members = b''.join(line for line in LEVEL_ONE.splitlines(True) if line[:1] in b'-dh')
    fresh = incremental_check(members.replace(b'link to "src/a/f1"', b'link to "src/old"'), ['/src'], dumpdirs=False,
                              fresh=True)
    assert fresh.problems == [] and fresh.files == set() and fresh.directories and fresh.members == 6
    # still refused into a staged tree (an increment), and the member rules hold for the full too
    assert incremental_check(members.replace(b'link to "src/a/f1"', b'link to "src/old"'), ['/src'],
                             dumpdirs=False).problems
    assert any('absolute path' in p for p in incremental_check(members.replace(b'"src/a/f1"', b'"/etc/f1"', 1), ['/src'],
                                                               dumpdirs=False, fresh=True).problems)


def test_plain_archive_is_not_incremental():
    members = b''.join(line for line in LEVEL_ONE.splitlines(True) if line[:1] in b'-dh')
    assert '(archive): no dumpdirs: this is not an incremental archive' in incremental_check(members, ['/src']).problems


PLAIN_ONE = LEVEL_ONE.replace(b'R src/c\nT src/c2\n', b'')


@pytest.mark.parametrize('change, words', [
    # a member in a directory this level does not hold: written through whatever an earlier level left there
    ((b'"src/a/new"', b'"src/lnk/new"'), 'its directory src/lnk is not in this level'),
    ((b'link to "src/a/f1"', b'link to "src/old"'), 'hard link to src/old, which is not a file of this level'),
    ((b'D c2\n', b'D c2/x\n'), "its dumpdir has a name with '/' or NUL"),
    ((b'Y new\n', b'Y ..\n'), "its dumpdir has '.' or '..'"),
    ((b'D c2\n', b'N c2\n'), "not a D entry of its parent's dumpdir"),
    ((b'"src/a/new"', b'"../new"'), "'..' in the path"),
    ((b'"src/a/new"', b'"/etc/new"'), 'absolute path'),
    ((b'"src/a/new"', b'"srcx/new"'), 'outside the backed-up paths'),
])
def test_incremental_listing_refusals(change, words):
    old, new = change
    assert old in PLAIN_ONE
    checker = incremental_check(PLAIN_ONE.replace(old, new, 1), ['/src'])
    assert any(words in p for p in checker.problems), checker.problems
