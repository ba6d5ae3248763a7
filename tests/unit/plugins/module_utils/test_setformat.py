# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup-set format: ids, keys, records, manifest, status derivation (pure logic, no I/O)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import json

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)
SHA = 'ab' * 32


def rec(host='web1', component='files', name='app', size=10, sha256=SHA, set_id='20261122T031500Z', **kw):
    key = set_format.artifact_key(set_id, host, component, name + '.tar.zst')
    r = set_format.make_record(set_id, host, component, name, 'files', key, 'files:/opt/app', 'tar', 'zstd', 'none',
                               size, sha256, '2026-11-22T03:15:01Z', '2026-11-22T03:15:09Z', {'tar': 'tar (GNU tar) 1.34'},
                               extra=kw.get('extra'))
    return r


# ---------------------------------------------------------------- ids

def test_make_set_id_plain_and_labelled():
    assert set_format.make_set_id(T0) == '20261122T031500Z'
    assert set_format.make_set_id(T0, 'nightly') == '20261122T031500Z-nightly'
    assert set_format.make_set_id(T0, '') == '20261122T031500Z'
    assert set_format.make_set_id(T0, None) == '20261122T031500Z'


def test_make_set_id_converts_to_utc():
    cet = datetime.timezone(datetime.timedelta(hours=1))
    assert set_format.make_set_id(datetime.datetime(2026, 11, 22, 4, 15, 0, tzinfo=cet)) == '20261122T031500Z'


@pytest.mark.parametrize('label', ['nightly', 'a', '0', 'pre-upgrade_1.2', 'x' * 63])
def test_valid_labels(label):
    assert set_format.validate_label(label) == label
    sid = set_format.make_set_id(T0, label)
    assert set_format.is_set_id(sid)
    assert set_format.parse_set_id(sid) == (T0, label)


@pytest.mark.parametrize('label', ['Nightly', '-x', '.x', '_x', 'x' * 64, 'a b', 'a/b', 'ü', 'a\nb'])
def test_bad_labels(label):
    with pytest.raises(LifeboatError) as e:
        set_format.make_set_id(T0, label)
    assert 'label' in e.value.msg and repr(label) in e.value.msg


def test_parse_set_id():
    assert set_format.parse_set_id('20261122T031500Z') == (T0, None)
    assert set_format.parse_set_id('20261122T031500Z-nightly') == (T0, 'nightly')


@pytest.mark.parametrize('bad', [None, '', 'lock.json', '20261122T031500', '20261122T031500Z-', '20261122T031500Z-UP',
                                 '2026-11-22T03:15:00Z', '20261122T031500Zx', ' 20261122T031500Z',
                                 '20261122T031500Z-a/b', '../20261122T031500Z'])
def test_bad_set_ids(bad):
    assert not set_format.is_set_id(bad)
    with pytest.raises(LifeboatError) as e:
        set_format.parse_set_id(bad)
    assert 'is not a backup set id' in e.value.msg


@pytest.mark.parametrize('bad', ['20261399T031500Z', '20261122T250000Z', '20260230T000000Z'])
def test_impossible_dates_are_not_set_ids(bad):
    # the shape matches the pattern but there is no such time: a LifeboatError, never a ValueError traceback
    assert not set_format.is_set_id(bad)
    with pytest.raises(LifeboatError):
        set_format.parse_set_id(bad)


def test_ids_sort_by_time():
    ids = [set_format.make_set_id(T0 + datetime.timedelta(seconds=s), 'x') for s in (0, 1, 59, 3600, 86400 * 40)]
    assert sorted(ids) == ids


@pytest.mark.parametrize('name', ['app', 'db-awx', 'a.b_c@d+e', 'A1', 'x' * 128])
def test_valid_names(name):
    assert set_format.validate_name(name) == name


@pytest.mark.parametrize('name', ['', '-x', '.hidden', 'a/b', 'a b', 'ü', 'x' * 129, None, 5, '..'])
def test_bad_names(name):
    with pytest.raises(LifeboatError) as e:
        set_format.validate_name(name, 'files entry name')
    assert e.value.msg.startswith('files entry name')


@pytest.mark.parametrize('host', ['web1', 'web1.example.com', '10.0.0.1', 'fe80::1', '_x', 'a@b'])
def test_valid_hosts(host):
    assert set_format.validate_host(host) == host


@pytest.mark.parametrize('host', ['', '.', '..', 'a/b', '-x', 'a b', None, 'x' * 254])
def test_bad_hosts(host):
    with pytest.raises(LifeboatError) as e:
        set_format.validate_host(host)
    assert 'cannot be used in a backup set' in e.value.msg


# ---------------------------------------------------------------- keys

def test_keys():
    sid = '20261122T031500Z-nightly'
    assert set_format.set_key(sid, set_format.STATUS_KEY) == sid + '/status.json'
    assert set_format.set_key(sid, set_format.MANIFEST_KEY) == sid + '/manifest.json'
    k = set_format.artifact_key(sid, 'web1', 'files', 'app.tar.zst')
    assert k == sid + '/web1/files/app.tar.zst'
    assert set_format.record_key_for(k) == k + '.record.json'
    with pytest.raises(LifeboatError):
        set_format.artifact_key(sid, '..', 'files', 'x')
    with pytest.raises(LifeboatError):
        set_format.artifact_key(sid, 'web1', 'fi/les', 'x')


# ---------------------------------------------------------------- documents

def test_dumps_is_canonical_and_loads_round_trips():
    doc = {'schema_version': 1, 'b': 'ü', 'a': [1, 2]}
    data = set_format.dumps(doc)
    assert data.endswith(b'\n')
    assert data == set_format.dumps(dict(reversed(list(doc.items()))))
    assert 'ü'.encode('utf-8') in data  # not \u escaped
    assert set_format.loads(data, 'x') == doc
    assert set_format.sha256_hex(data) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('data, words', [
    (b'{not json', 'is not valid JSON'),
    (b'\xff\xfe', 'is not valid JSON'),
    (b'[1, 2]', 'is not a JSON object'),
    (b'{"schema_version": 2}', 'upgrade lifeboat.backup'),
    (b'{}', 'schema_version None'),
    (b'{"schema_version": "1"}', "schema_version '1'"),
    (b'{"schema_version": true}', "schema_version True"),
    (b'{"schema_version": 0}', "schema_version 0, which is not a schema version of lifeboat.backup"),
])
def test_loads_refuses(data, words):
    with pytest.raises(DamagedError) as e:
        set_format.loads(data, 'manifest of set X')
    assert e.value.msg.startswith('manifest of set X')
    assert words in e.value.msg


def test_status_doc():
    d = set_format.status_doc('20261122T031500Z', set_format.IN_PROGRESS, '2026-11-22T03:15:00Z', owner={'host': 'ctl'})
    assert d == {'schema_version': 1, 'kind': 'lifeboat.backup/status', 'set_id': '20261122T031500Z',
                 'status': 'in_progress', 'started': '2026-11-22T03:15:00Z', 'owner': {'host': 'ctl'}}
    d = set_format.status_doc('20261122T031500Z', set_format.FAILED, 's', reason='boom', finished='f')
    assert d['reason'] == 'boom' and d['finished'] == 'f' and 'owner' not in d


def test_make_record_and_check_record():
    r = rec(extra={'paths': ['/opt/app']})
    assert r['kind'] == 'lifeboat.backup/record' and r['artifact_kind'] == 'files'
    assert r['key'] == '20261122T031500Z/web1/files/app.tar.zst'
    assert r['extra'] == {'paths': ['/opt/app']}
    assert r['size'] == 10 and isinstance(r['size'], int)
    assert set_format.check_record(r, '20261122T031500Z') is r
    # a record survives the JSON round trip unchanged
    assert set_format.check_record(set_format.loads(set_format.dumps(r), 'r'), '20261122T031500Z') == r
    assert 'extra' not in rec()
    # an encrypted record lists its recipients by fingerprint
    r['recipients'] = [{'type': 'X25519', 'fingerprint': 'SHA256:' + 'A' * 43, 'comment': 'ops'}]
    assert set_format.check_record(r, '20261122T031500Z') is r


@pytest.mark.parametrize('change, words', [
    (lambda r: r.pop('sha256'), "no 'sha256' field"),
    (lambda r: r.pop('host'), "no 'host' field"),
    (lambda r: r.pop('size'), "no 'size' field"),
    (lambda r: r.update(sha256='AB' * 32), "'sha256' must be a SHA-256 in lower-case hex (64 characters), not the string"),
    (lambda r: r.update(sha256='ab' * 31), "'sha256' must be a SHA-256 in lower-case hex"),
    (lambda r: r.update(size=-1), "'size' must be a whole number of bytes (0 or more), not the number -1"),
    (lambda r: r.update(size='12'), '\'size\' must be a whole number of bytes (0 or more), not the string "12"'),
    (lambda r: r.update(size=True), "'size' must be a whole number of bytes (0 or more), not the boolean true"),
    (lambda r: r.update(size=1.5), "not the number 1.5"),
    (lambda r: r.update(size=None), "'size' must be a whole number of bytes (0 or more), not null"),
    (lambda r: r.update(set_id='20261122T031501Z'), "belongs to set '20261122T031501Z'"),
    (lambda r: r.update(host='../etc'), "'host' must be a host name, not the string"),
    (lambda r: r.update(name='a/b'), "'name' must be a name of letters"),
    (lambda r: r.update(compression=3), "'compression' must be a non-empty string, not the number 3"),
    (lambda r: r.update(tools=[]), "'tools' must be an object, not a list"),
    (lambda r: r.update(extra='x'), "'extra' must be an object"),
    (lambda r: r.update(recipients='age1...'), "'recipients' must be a list of recipients, each with its fingerprint"),
    (lambda r: r.update(recipients=[{'type': 'X25519'}]), "'recipients' must be a list of recipients"),
    (lambda r: r.update(started='yesterday'), "'started' must be a UTC time like 2026-11-22T03:15:00Z"),
    (lambda r: r.update(kind='lifeboat.backup/manifest'), "'kind' must be one of"),
    (lambda r: r.update(key='20261122T031500Z/web2/files/app.tar.zst'), "'key' must name an object under "
                                                                        "20261122T031500Z/web1/files/"),
    (lambda r: r.update(key='20261122T031500Z/web1/files/a/b'), "'key' must name an object under"),
])
def test_check_record_refuses(change, words):
    r = rec()
    change(r)
    with pytest.raises(DamagedError) as e:
        set_format.check_record(r, '20261122T031500Z')
    assert e.value.msg.startswith('artifact record ')
    assert words in e.value.msg
    assert '%' not in e.value.msg and 'format' not in e.value.msg


def test_describe_value():
    assert set_format.describe_value('12') == 'the string "12"'
    assert set_format.describe_value(None) == 'null'
    assert set_format.describe_value(False) == 'the boolean false'
    assert set_format.describe_value(7) == 'the number 7'
    assert set_format.describe_value({}) == 'an object'
    assert set_format.describe_value([1]) == 'a list'
    assert set_format.describe_value('x' * 200).endswith('..."')


def _manifest(sid='20261122T031500Z', **changes):
    recs = [rec('web1', 'files', 'a', 3, set_id=sid), rec('db1', 'postgresql', 'awx', 7, set_id=sid)]
    status = set_format.status_doc(sid, set_format.IN_PROGRESS, '2026-11-22T03:15:00Z', owner={'host': 'ctl'})
    m = set_format.make_manifest(sid, status, recs, '2026-11-22T03:17:41Z')
    m.update(changes)
    return m


def test_validate_manifest_accepts_what_make_manifest_writes():
    m = _manifest(missing_hosts=['web2'], empty_hosts=['web3'])
    assert set_format.validate_manifest(set_format.loads(set_format.dumps(m), 'm'), '20261122T031500Z') == m


@pytest.mark.parametrize('change, words', [
    (lambda m: m.pop('artifacts'), "has no 'artifacts' field"),
    (lambda m: m.update(artifacts={}), "'artifacts' must be a list of artifact records, not an object"),
    (lambda m: m.update(status='failed'), '\'status\' must be one of "completed", not the string "failed"'),
    (lambda m: m.update(size='10'), "'size' must be a whole number of bytes (0 or more), not the string"),
    (lambda m: m.update(size=11), 'says its artifacts hold 11 bytes but they add up to 10'),
    (lambda m: m.update(artifact_count=3), 'says it has 3 artifacts but lists 2'),
    (lambda m: m.update(hosts=['web1']), 'lists hosts web1 but its artifacts belong to db1, web1'),
    (lambda m: m.update(set_id='20261122T031501Z'), "belongs to set '20261122T031501Z', not '20261122T031500Z'"),
    (lambda m: m['artifacts'][1].update(size='7'),
     'the manifest of set 20261122T031500Z, artifact 2: \'size\' must be a whole number of bytes (0 or more), not the string "7"'),
    (lambda m: m['artifacts'].append(dict(m['artifacts'][0])), 'lists artifact 20261122T031500Z/db1/postgresql/awx.tar.zst twice'),
    (lambda m: m.update(missing_hosts='web2'), "'missing_hosts' must be a list of host names"),
    (lambda m: m.update(label=5), "'label' must be a set label or null"),
    (lambda m: m.update(finished=None), "'finished' must be a UTC time"),
])
def test_validate_manifest_refuses(change, words):
    m = _manifest()
    change(m)
    with pytest.raises(DamagedError) as e:
        set_format.validate_manifest(m, '20261122T031500Z')
    assert e.value.msg.startswith('the manifest of set 20261122T031500Z')
    assert words in e.value.msg


def test_validate_status():
    sid = '20261122T031500Z'
    doc = set_format.status_doc(sid, set_format.FAILED, '2026-11-22T03:15:00Z', reason='boom', finished='2026-11-22T03:16:00Z')
    assert set_format.validate_status(doc, sid) is doc
    for change, words in ((dict(status='done'), "'status' must be one of"), (dict(reason=5), "'reason' must be a string"),
                          (dict(set_id='20261122T031501Z'), 'belongs to set'), (dict(owner='me'), "'owner' must be an object"),
                          (dict(manifest_sha256='x'), "'manifest_sha256' must be a SHA-256")):
        bad = dict(doc, **change)
        with pytest.raises(DamagedError) as e:
            set_format.validate_status(bad, sid)
        assert e.value.msg.startswith('the status of set %s' % sid) and words in e.value.msg


def test_part_and_heartbeat_documents():
    sid = '20261122T031500Z'
    key = set_format.artifact_key(sid, 'web1', 'files', 'app.tar.zst')
    part = set_format.make_part(sid, 'web1', 'files', 'app', key, '2026-11-22T03:15:01Z', {'pid': 7})
    pk = set_format.part_key_for(key)
    assert pk == key + '.part.json'
    assert set_format.validate_part(set_format.loads(set_format.dumps(part), 'p'), sid, pk) == part
    with pytest.raises(DamagedError) as e:
        set_format.validate_part(part, sid, set_format.part_key_for(key + 'x'))
    assert 'which is not its own' in e.value.msg
    hb = set_format.make_heartbeat(sid, 'web1', 'node1', 42, '2026-11-22T03:15:01Z', '2026-11-22T03:15:31Z',
                                   set_format.RUNNING, module='files_backup', boot_id='b', pid_ns='pid:[1]', pid_start=9)
    assert set_format.validate_heartbeat(hb, sid) is hb
    assert set_format.heartbeat_key(sid, 'web1', 42, 'abcd') == sid + '/heartbeats/web1-42-abcd.json'
    for change in (dict(state='zombie'), dict(pid=0), dict(renewed='now'), dict(pid_start=-1)):
        with pytest.raises(DamagedError):
            set_format.validate_heartbeat(dict(hb, **change), sid)


def _audit(parts, records, present):
    return set_format.audit_parts({p['key']: p for p in parts}, {r['key']: r for r in records}, present)


def _part(r):
    return set_format.make_part(r['set_id'], r['host'], r['component'], r['name'], r['key'], '2026-11-22T03:15:01Z', {})


def test_audit_and_commit_plan_complete():
    a, b = rec('web1', name='a', size=3), rec('web2', name='b', size=4)
    audit = _audit([_part(a), _part(b)], [a, b], {a['key']: 3, b['key']: 4})
    assert audit['web1']['records'] == [a] and audit['web1']['problems'] == [] and audit['web1']['unfinished'] == []
    records, missing, problems = set_format.commit_plan(audit, hosts=['web1', 'web2'])
    assert (records, missing, problems) == ([a, b], [], [])


def test_commit_plan_unfinished_undeclared_and_sizes():
    a, b, c = rec('web1', name='a', size=3), rec('web1', name='b', size=4), rec('web2', name='c', size=5)
    audit = _audit([_part(a), _part(b)], [a, c], {a['key']: 2, c['key']: 5})
    _records, _missing, problems = set_format.commit_plan(audit, hosts=['web1', 'web2'])
    assert problems == [
        'host web1: %s has 2 bytes, its record says 3' % a['key'],
        'host web1: part files/b was started at 2026-11-22T03:15:01Z but never finished (its module failed, was '
        'cancelled or was killed)',
        "host web2: %s has a record but was never declared as a part (not written by this collection's write path)" % c['key'],
        'no artifacts from host(s) web2',
    ]


def test_commit_plan_hosts_expect_and_missing():
    a = rec('web1', name='a', size=3)
    audit = _audit([_part(a)], [a], {a['key']: 3})
    assert set_format.commit_plan(audit, hosts=['web1', 'web2'])[2] == ['no artifacts from host(s) web2']
    assert set_format.commit_plan(audit, expect={'web1': ['files/a', {'component': 'files', 'name': 'z'}]})[2] == \
        ['host web1 has no artifact files/z']
    assert set_format.commit_plan({}, hosts=[])[2] == ['the set has no artifacts']
    # allow_missing_hosts: a host that wrote nothing, or left a part unfinished, is missing and left out entirely
    b, c = rec('web2', name='b', size=1), rec('web2', name='c', size=1)
    audit = _audit([_part(a), _part(b), _part(c)], [a, b], {a['key']: 3, b['key']: 1})
    records, missing, problems = set_format.commit_plan(audit, hosts=['web1', 'web2', 'web3'], allow_missing_hosts=True)
    assert (records, missing, problems) == ([a], ['web2', 'web3'], [])
    # ... but never to hide damage
    audit = _audit([_part(a)], [a], {a['key']: 9})
    assert set_format.commit_plan(audit, hosts=['web1'], allow_missing_hosts=True)[2] == [
        'host web1: %s has 9 bytes, its record says 3' % a['key']]


def test_summary_damaged():
    s = set_format.set_summary(SID, None, None, NOW, damaged='the manifest of set X is not valid JSON')
    assert (s['status'], s['restorable'], s['reason']) == ('damaged', False, 'the manifest of set X is not valid JSON')


def test_make_manifest():
    sid = '20261122T031500Z-nightly'
    recs = [rec('web1', 'files', 'b', 5, set_id=sid), rec('db1', 'postgresql', 'awx', 7, set_id=sid),
            rec('web1', 'files', 'a', 3, set_id=sid)]
    status = set_format.status_doc(sid, set_format.IN_PROGRESS, '2026-11-22T03:15:00Z', owner={'host': 'ctl', 'pid': 1})
    m = set_format.make_manifest(sid, status, recs, '2026-11-22T03:17:41Z')
    assert m['status'] == 'completed' and m['label'] == 'nightly'
    assert m['hosts'] == ['db1', 'web1']
    assert [(r['host'], r['name']) for r in m['artifacts']] == [('db1', 'awx'), ('web1', 'a'), ('web1', 'b')]
    assert m['components'] == {'db1': ['postgresql/awx'], 'web1': ['files/a', 'files/b']}
    assert m['artifact_count'] == 3 and m['size'] == 15
    assert m['started'] == '2026-11-22T03:15:00Z' and m['finished'] == '2026-11-22T03:17:41Z'
    assert m['owner'] == {'host': 'ctl', 'pid': 1}
    assert 'missing_hosts' not in m
    m2 = set_format.make_manifest(sid, status, recs, 'f', missing_hosts=['web2'], empty_hosts=['web4', 'web3'])
    assert m2['missing_hosts'] == ['web2'] and m2['empty_hosts'] == ['web3', 'web4']
    # canonical bytes: the same inputs give the same manifest bytes (its sha256 is what users pin)
    assert set_format.dumps(set_format.make_manifest(sid, status, list(reversed(recs)), '2026-11-22T03:17:41Z')) == set_format.dumps(m)
    json.loads(set_format.dumps(m).decode('utf-8'))


def test_verify_parts():
    a, b = rec(name='a', size=10), rec(name='b', size=20)
    assert set_format.verify_parts([a, b], {a['key']: 10, b['key']: 20, 'other': 1}) == []
    problems = set_format.verify_parts([a, b], {a['key']: 9})
    assert problems == ['%s has 9 bytes, its record says 10' % a['key'], '%s is missing' % b['key']]
    assert set_format.verify_parts([], {}) == []
    # zero-byte artifacts are present, not missing
    z = rec(name='z', size=0)
    assert set_format.verify_parts([z], {z['key']: 0}) == []


# ---------------------------------------------------------------- set_summary

SID = '20261122T031500Z-nightly'
NOW = T0 + datetime.timedelta(hours=1)


def test_summary_completed_wins_over_anything():
    status = set_format.status_doc(SID, set_format.FAILED, 's', reason='x')  # a manifest is the commit point
    m = set_format.make_manifest(SID, status, [rec(set_id=SID, size=42)], 'f', missing_hosts=['web2'])
    s = set_format.set_summary(SID, status, m, NOW, lock_doc={'set_id': SID})
    assert s['status'] == 'completed' and s['restorable'] is True
    assert s['id'] == SID and s['label'] == 'nightly' and s['timestamp'] == '2026-11-22T03:15:00Z'
    assert s['age_seconds'] == 3600
    assert s['size'] == 42 and s['hosts'] == ['web1'] and s['artifact_count'] == 1
    assert s['missing_hosts'] == ['web2']
    assert 'reason' not in s


def test_summary_failed_with_reason():
    status = set_format.status_doc(SID, set_format.FAILED, 's', reason='web2: path missing', finished='f')
    s = set_format.set_summary(SID, status, None, NOW)
    assert (s['status'], s['restorable'], s['reason']) == ('failed', False, 'web2: path missing')
    assert s['started'] == 's' and s['finished'] == 'f' and s['size'] == 0 and s['hosts'] == []


def test_summary_failed_without_reason():
    s = set_format.set_summary(SID, set_format.status_doc(SID, set_format.FAILED, 's'), None, NOW)
    assert s['status'] == 'failed' and s['reason'] == 'failed'


def test_summary_in_progress_needs_a_live_lock_naming_this_set():
    status = set_format.status_doc(SID, set_format.IN_PROGRESS, 's', owner={'host': 'ctl', 'pid': 7})
    s = set_format.set_summary(SID, status, None, NOW, lock_doc={'set_id': SID})
    assert s['status'] == 'in_progress' and s['restorable'] is False
    assert s['owner'] == {'host': 'ctl', 'pid': 7}
    for lock in (None, {'set_id': '20261122T031501Z'}):
        s = set_format.set_summary(SID, status, None, NOW, lock_doc=lock)
        assert s['status'] == 'failed' and s['restorable'] is False
        assert s['reason'].startswith('interrupted')


def test_summary_no_status_no_manifest():
    s = set_format.set_summary(SID, None, None, NOW, lock_doc={'set_id': SID})
    assert s['status'] == 'failed' and 'interrupted before it started' in s['reason']


def test_summary_completed_status_without_manifest_is_not_completed():
    # status.json says completed but the manifest is gone: not restorable, never reported completed
    s = set_format.set_summary(SID, set_format.status_doc(SID, set_format.COMPLETED, 's'), None, NOW)
    assert s['status'] == 'failed' and s['restorable'] is False


def test_iso_round_trip():
    assert set_format.iso(T0) == '2026-11-22T03:15:00Z'
    assert set_format.parse_iso('2026-11-22T03:15:00Z') == T0
    assert set_format.utcnow().microsecond == 0 and set_format.utcnow().tzinfo is not None
