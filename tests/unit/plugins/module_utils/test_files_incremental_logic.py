# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental files archives, the pure parts: the policy, the level decision, chain checks, purges, hard links
to repair, names in records and GNU tar's snapshot files (format 2, as tar 1.34 writes them)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental

DAY = 86400


# ---------------------------------------------------------------- full_every

@pytest.mark.parametrize('given, expected', [
    (None, ('count', 24)),
    ('', ('count', 24)),
    (6, ('count', 6)),
    ('6', ('count', 6)),
    (' 12 ', ('count', 12)),
    ('36h', ('age', 36 * 3600)),
    ('7d', ('age', 7 * DAY)),
    ('2w', ('age', 14 * DAY)),
])
def test_parse_full_every(given, expected):
    assert incremental.parse_full_every(given) == expected


@pytest.mark.parametrize('bad', [0, '0', '-1', '7x', 'd', '1.5d', '0d', True, '7 d', 'weekly'])
def test_parse_full_every_refuses(bad):
    with pytest.raises(ConfigError) as e:
        incremental.parse_full_every(bad)
    assert 'full_every' in e.value.msg


@pytest.mark.parametrize('policy, text', [(('count', 24), '24'), (('age', 7 * DAY), '1w'), (('age', 36 * 3600), '36h'),
                                          (('age', 3 * DAY), '3d')])
def test_policy_text_round_trips(policy, text):
    assert incremental.policy_text(policy) == text
    assert incremental.parse_full_every(text) == policy


# ---------------------------------------------------------------- decide

def record(set_id, level=None, chain=None, paths=('/opt/app',), exclude=(), host='web1', sha='a' * 64, size=10):
    extra = {'paths': list(paths), 'exclude': list(exclude), 'one_file_system': False}
    if level is not None:
        extra['incremental'] = {'level': level, 'chain': chain or [], 'full_set': (chain or [{'set_id': set_id}])[0]['set_id']}
    return {'set_id': set_id, 'host': host, 'key': '%s/%s/files/app.tar.zst' % (set_id, host), 'sha256': sha,
            'size': size, 'extra': extra}


def test_decide_first_and_forced_and_plain_base():
    policy = ('count', 3)
    assert incremental.decide(None, policy, 0)['reason'] == 'no earlier set holds this entry'
    base = record('20261101T000000Z', level=0)
    forced = incremental.decide(base, policy, 0, force=True)
    assert forced['level'] == 0 and forced['reason'] == 'a full was asked for'
    plain = incremental.decide(record('20261101T000000Z'), policy, 0)
    assert plain['level'] == 0 and 'without incremental mode' in plain['reason']


def test_decide_continues_and_pins_the_chain():
    base = record('20261101T000000Z', level=0)
    one = incremental.decide(base, ('count', 3), 0)
    assert one['level'] == 1 and one['full_set'] == '20261101T000000Z'
    assert one['chain'] == [{'set_id': '20261101T000000Z', 'host': 'web1', 'key': base['key'], 'sha256': 'a' * 64,
                             'size': 10, 'level': 0}]
    second = record('20261102T000000Z', level=1, chain=one['chain'], sha='b' * 64)
    two = incremental.decide(second, ('count', 3), 0)
    assert two['level'] == 2 and [entry['level'] for entry in two['chain']] == [0, 1]
    assert two['base']['set_id'] == '20261102T000000Z'


def test_decide_full_every_count_and_age():
    chain = [{'set_id': '20261101T000000Z', 'level': 0}, {'set_id': '20261102T000000Z', 'level': 1}]
    base = record('20261103T000000Z', level=2, chain=chain)
    assert incremental.decide(base, ('count', 2), 0)['level'] == 0
    assert 'full_every 2' in incremental.decide(base, ('count', 2), 0)['reason']
    assert incremental.decide(base, ('count', 3), 0)['level'] == 3
    full_time = 1700000000
    assert incremental.decide(base, ('age', 7 * DAY), full_time + 7 * DAY, full_time=full_time)['level'] == 0
    assert incremental.decide(base, ('age', 7 * DAY), full_time + 7 * DAY - 1, full_time=full_time)['level'] == 3


def test_decide_broken_chain_and_changed_source_start_over():
    base = record('20261101T000000Z', level=0)
    broken = incremental.decide(base, ('count', 24), 0, base_problem='set X is failed')
    assert broken['level'] == 0 and 'cannot be continued: set X is failed' in broken['reason']
    moved = incremental.same_source(base, ['/opt/app2'], [], False)
    assert 'the paths changed' in moved
    assert incremental.same_source(base, ['/opt/app'], ['*.log'], False) == 'the exclude patterns changed'
    assert incremental.same_source(base, ['/opt/app'], [], True) == 'one_file_system changed'
    assert incremental.same_source(base, ['/opt/app'], [], False) is None
    assert incremental.decide(base, ('count', 24), 0, source_problem=moved)['level'] == 0


def test_new_facts():
    decision = incremental.decide(record('20261101T000000Z', level=0), ('age', 7 * DAY), 0)
    facts = incremental.new_facts(decision, 'app', 'S/web1/files/app.snar.zst', ('age', 7 * DAY))
    assert facts['level'] == 1 and facts['base'] == '20261101T000000Z' and facts['full_every'] == '1w'
    assert facts['snar'] == {'name': 'app.snar', 'key': 'S/web1/files/app.snar.zst'}
    assert 'full_reason' not in facts
    full = incremental.new_facts(incremental.full_decision('why'), 'app', 'k', ('count', 5))
    assert full['level'] == 0 and full['chain'] == [] and full['full_reason'] == 'why' and full['base'] is None


# ---------------------------------------------------------------- chains read back

def _chain_of(*records):
    return [incremental.chain_entry(r) for r in records]


def test_chain_shape_problem():
    zero = record('20261101T000000Z', level=0)
    one = record('20261102T000000Z', level=1, chain=_chain_of(zero))
    assert incremental.chain_shape_problem(zero) is None
    assert incremental.chain_shape_problem(one) is None
    assert incremental.chain_shape_problem(record('20261101T000000Z')) is None  # not incremental
    wrong_level = record('20261102T000000Z', level=2, chain=_chain_of(zero))
    assert 'not valid' in incremental.chain_shape_problem(wrong_level)
    newer = record('20261031T000000Z', level=1, chain=_chain_of(zero))
    assert 'not older' in incremental.chain_shape_problem(newer)
    missing = record('20261102T000000Z', level=1, chain=[{'set_id': '20261101T000000Z', 'level': 0}])
    assert 'has no' in incremental.chain_shape_problem(missing)


def test_level_problem():
    zero = record('20261101T000000Z', level=0)
    one = record('20261102T000000Z', level=1, chain=_chain_of(zero), sha='b' * 64)
    two = record('20261103T000000Z', level=2, chain=_chain_of(zero, one))
    entry0, entry1 = incremental.facts_of(two)['chain']
    assert incremental.level_problem(entry0, zero, two) is None
    assert incremental.level_problem(entry1, one, two) is None
    replaced = dict(zero, sha256='c' * 64)
    assert 'was replaced' in incremental.level_problem(entry0, replaced, two)
    assert 'not level 0' in incremental.level_problem(entry0, record('20261101T000000Z', sha='a' * 64), two)
    other_chain = record('20261102T000000Z', level=1, chain=[dict(entry0, key='elsewhere')], sha='b' * 64)
    assert 'not the start' in incremental.level_problem(entry1, other_chain, two)
    other_paths = dict(zero, extra=dict(zero['extra'], paths=['/srv']))
    assert 'other paths' in incremental.level_problem(entry0, other_paths, two)


# ---------------------------------------------------------------- what a level changes besides its files

def test_purge_actions():
    on_disk = {b'keep': False, b'gone': False, b'dir-now-file': True, b'file-now-dir': False, b'link-now-dir': False,
               b'same-dir': True, b'old': False}
    entries = {b'keep': b'N', b'dir-now-file': b'Y', b'file-now-dir': b'D', b'link-now-dir': b'D', b'same-dir': b'D',
               b'old': b'Y', b'new': b'Y'}
    assert incremental.purge_actions(on_disk, entries) == [b'dir-now-file', b'file-now-dir', b'gone', b'link-now-dir']


ON_A_DIRECTORY = ['user.app', 'trusted.overlay.opaque', 'security.selinux', 'security.capability',
                  'system.posix_acl_access', 'system.posix_acl_default', 'system.nfs4_acl']


@pytest.mark.parametrize('archived, restoring, keep_capabilities, expected', [
    ({'xattrs': True, 'acls': True}, {'xattrs': True, 'acls': True}, True,
     {'xattrs': True, 'acls': True, 'capabilities': True}),
    ({'xattrs': True, 'acls': True}, {'xattrs': True, 'acls': True}, False,
     {'xattrs': True, 'acls': True, 'capabilities': False}),
    # the ACLs travel as system.posix_acl_* xattrs too: restored by either option
    ({'xattrs': True, 'acls': False}, {'xattrs': True, 'acls': False}, True,
     {'xattrs': True, 'acls': True, 'capabilities': True}),
    ({'xattrs': False, 'acls': True}, {'xattrs': True, 'acls': True}, True,
     {'xattrs': False, 'acls': True, 'capabilities': False}),
    ({'xattrs': True, 'acls': True}, {'xattrs': False, 'acls': True}, True,
     {'xattrs': False, 'acls': True, 'capabilities': False}),
    # nothing archived, or nothing the extracting tar sets: nothing is touched
    ({'xattrs': False, 'acls': False}, {'xattrs': True, 'acls': True}, True, None),
    ({}, {'xattrs': True, 'acls': True}, True, None),
    ({'xattrs': True, 'acls': True}, {'xattrs': False, 'acls': False}, True, None),
    ({'xattrs': False, 'acls': True}, {'xattrs': True, 'acls': False}, True, None),
])
def test_xattr_scope(archived, restoring, keep_capabilities, expected):
    assert incremental.xattr_scope(archived, restoring, keep_capabilities) == expected


@pytest.mark.parametrize('scope, expected', [
    ({'xattrs': True, 'acls': True, 'capabilities': True},
     ['security.capability', 'security.selinux', 'system.posix_acl_access', 'system.posix_acl_default',
      'trusted.overlay.opaque', 'user.app']),
    # security.capability is left out of the extraction, so it stays
    ({'xattrs': True, 'acls': True, 'capabilities': False},
     ['security.selinux', 'system.posix_acl_access', 'system.posix_acl_default', 'trusted.overlay.opaque', 'user.app']),
    ({'xattrs': False, 'acls': True, 'capabilities': False}, ['system.posix_acl_access', 'system.posix_acl_default']),
    (None, []),
])
def test_stale_xattrs(scope, expected):
    assert incremental.stale_xattrs(ON_A_DIRECTORY, scope) == expected
    assert incremental.stale_xattrs([], scope) == []


# ---------------------------------------------------------------- snapshot files

def snar(*dirs):
    """A format 2 snapshot file: dirs are (nfs, dev, ino, name, [entries])."""
    out = b'GNU tar-1.34-2\n1796124601\x00601314459\x00'
    for nfs, dev, ino, name, entries in dirs:
        out += b'%d\x001796124601\x00461891675\x00%d\x00%d\x00%s\x00' % (nfs, dev, ino, name)
        out += b''.join(e + b'\x00' for e in entries) + b'\x00\x00'
    return out


def test_snar_directories_and_drop():
    data = snar((0, 65024, 11, b'srv/app', [b'Dd1', b'Dd2', b'Yf']), (0, 65024, 12, b'srv/app/d1', []),
                (1, 7, 13, b'srv/app/d2', [b'Nx']))
    records = incremental.snar_directories(data)
    assert [(nfs, dev, ino, name) for _s, _e, nfs, dev, ino, name, _entries in records] == [
        (False, 65024, 11, b'srv/app'), (False, 65024, 12, b'srv/app/d1'), (True, 7, 13, b'srv/app/d2')]
    assert [r[6] for r in records] == [[b'Dd1', b'Dd2', b'Yf'], [], [b'Nx']]
    assert incremental.snar_time(data) == 1796124601.601314459
    dropped = incremental.drop_directories(data, records, [b'srv/app/d1'])
    assert [r[5] for r in incremental.snar_directories(dropped)] == [b'srv/app', b'srv/app/d2']
    assert dropped == snar((0, 65024, 11, b'srv/app', [b'Dd1', b'Dd2', b'Yf']), (1, 7, 13, b'srv/app/d2', [b'Nx']))
    empty = b'GNU tar-1.34-2\n1\x002\x00'
    assert incremental.snar_directories(empty) == []


@pytest.mark.parametrize('bad', [b'', b'not a snapshot\n', b'GNU tar-1.34-1\n1 2\n', b'GNU tar-1.34-2\n1\x002\x000\x001\x00'])
def test_snar_directories_refuses(bad):
    with pytest.raises(ValueError):
        incremental.snar_directories(bad)


def test_stale_directories():
    records = incremental.snar_directories(snar((0, 5, 11, b'a', []), (0, 5, 12, b'b', []), (1, 5, 13, b'other-dev', []),
                                                (0, 5, 14, b'gone', [])))
    now = {b'a': (5, 11), b'b': (5, 99), b'other-dev': (6, 13)}
    assert incremental.stale_directories(records, now.get) == [b'b', b'gone']   # inodes only: --no-check-device


def test_without_devices():
    data = snar((0, 65024, 11, b'srv/app', [b'Dd1']), (1, 7, 13, b'srv/app/d1', [b'Nx', b'Yy']))
    changed = incremental.without_devices(data, incremental.snar_directories(data))
    assert changed == snar((0, incremental.NO_DEVICE, 11, b'srv/app', [b'Dd1']),
                           (1, incremental.NO_DEVICE, 13, b'srv/app/d1', [b'Nx', b'Yy']))
    empty = b'GNU tar-1.34-2\n1\x002\x00'
    assert incremental.without_devices(empty, []) == empty


def test_snar_problem():
    assert incremental.snar_problem(b'GNU tar-1.34-2\n123') is None
    assert incremental.snar_problem(b'GNU tar-1.35-2\n') is None
    assert 'format 2' in incremental.snar_problem(b'GNU tar-1.14-1\n')
    assert 'format 2' in incremental.snar_problem(b'\x28\xb5\x2f\xfd')   # still compressed


def test_new_directories():
    old = incremental.snar_directories(snar((0, 1, 11, b'r', [b'Da', b'Db']), (0, 1, 12, b'r/a', [b'Yf']),
                                            (0, 1, 13, b'r/b', [b'Yg'])))
    new = incremental.snar_directories(snar((0, 1, 11, b'r', [b'Da', b'Dc']), (0, 1, 12, b'r/a', [b'Nf', b'Yh']),
                                            (0, 1, 13, b'r/c', [b'Yg', b'Dsub']), (0, 1, 14, b'r/c/sub', [])))
    # r/b renamed to r/c: archived whole (every file Y); r/a kept its name and inode
    assert incremental.new_directories(old, new) == {b'r/c': [b'g'], b'r/c/sub': []}


def test_hard_link_repairs():
    groups = {7: [b'r/c/g', b'r/a/g2', b'r/a/g3'], 8: [b'r/c/x', b'r/c/y'], 9: [b'r/a/u', b'r/a/v']}
    assert incremental.hard_link_repairs(groups, {b'r/c': [b'g', b'x', b'y']}) == [[b'r/c/g', [b'r/a/g2', b'r/a/g3']]]


@pytest.mark.parametrize('raw', [b'plain', u'\u00fc n\u00e4me'.encode('utf-8'), b'latin1 \xfc', b'new\nline', b''])
def test_names_in_records(raw):
    value = incremental.encode_name(raw)
    assert isinstance(value, str) == (raw != b'latin1 \xfc')
    assert incremental.decode_name(value) == raw


def test_link_repairs_of():
    rec = record('20261102T000000Z', level=1, chain=[{'set_id': '20261101T000000Z', 'level': 0}])
    assert incremental.link_repairs_of(rec) == []
    rec['extra']['incremental']['hard_links'] = [['r/c/g', ['r/a/g2', {'base64': 'cvw='}]]]
    assert incremental.link_repairs_of(rec) == [(b'r/c/g', [b'r/a/g2', b'r\xfc'])]
    for bad in ('x', [['r/c/g']], [['r/c/g', 'r/a']], [[1, []]], [['a', [{'base64': '!!'}]]]):
        rec['extra']['incremental']['hard_links'] = bad
        with pytest.raises(ValueError):
            incremental.link_repairs_of(rec)


def test_needs_and_chains_of_a_set():
    zero = dict(record('20261101T000000Z', level=0), component='files', name='app')
    one = dict(record('20261102T000000Z', level=1, chain=_chain_of(zero)), component='files', name='app')
    other_chain = [{'set_id': '20261030T000000Z', 'level': 0}, {'set_id': '20261101T000000Z', 'level': 1}]
    other = dict(record('20261102T000000Z', level=2, chain=other_chain, host='db1'), component='files', name='etc')
    plain = dict(record('20261102T000000Z'), component='files', name='plain')
    assert incremental.needs([one, other, plain]) == ['20261030T000000Z', '20261101T000000Z']
    assert incremental.needs([zero, plain]) == []
    assert incremental.chains([one, plain]) == {'web1/files/app': {'level': 1, 'base': None, 'full_set': '20261101T000000Z'}}


def test_check_entry_names_the_entry():
    assert incremental.check_entry('app', '7d') == ('age', 7 * 86400)
    assert incremental.check_entry('app', None) == ('count', 24)
    with pytest.raises(ConfigError, match=r'^files entry app: full_every must be at least 1'):
        incremental.check_entry('app', 0)
    with pytest.raises(ConfigError, match=r'^files entry app\.snar: names ending in \.snar are taken'):
        incremental.check_entry('app.snar', 24)
