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
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

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
])
def test_loads_refuses(data, words):
    with pytest.raises(LifeboatError) as e:
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


@pytest.mark.parametrize('change, words', [
    (lambda r: r.pop('sha256'), "no 'sha256' field"),
    (lambda r: r.pop('host'), "no 'host' field"),
    (lambda r: r.pop('size'), "no 'size' field"),
    (lambda r: r.update(sha256='AB' * 32), 'no valid sha256'),
    (lambda r: r.update(sha256='ab' * 31), 'no valid sha256'),
    (lambda r: r.update(size=-1), 'no valid size'),
    (lambda r: r.update(size='10'), 'no valid size'),
    (lambda r: r.update(set_id='20261122T031501Z'), "belongs to set '20261122T031501Z'"),
])
def test_check_record_refuses(change, words):
    r = rec()
    change(r)
    with pytest.raises(LifeboatError) as e:
        set_format.check_record(r, '20261122T031500Z')
    assert words in e.value.msg


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
    m2 = set_format.make_manifest(sid, status, recs, 'f', missing_hosts=['web2'])
    assert m2['missing_hosts'] == ['web2']
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
