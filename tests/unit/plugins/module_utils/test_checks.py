# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check results beside the sets: keys, documents, the newest verification and drill of each set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results as checks
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

UTC = datetime.timezone.utc
SID = '20261122T031500Z-nightly'


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def test_keys_carry_the_outcome_and_parse_back():
    key = checks.check_key(SID, at(2026, 11, 23, 4, 0, 1), 'verify-full', False)
    assert key == 'checks/20261122T031500Z-nightly/20261123T040001Z-verify-full-failed.json'
    parsed = checks.parse_check_key(key)
    assert parsed['set_id'] == SID and parsed['kind'] == 'verify-full' and parsed['passed'] is False
    assert parsed['when'] == '2026-11-23T04:00:01Z'
    assert checks.set_prefix(SID) == 'checks/' + SID


@pytest.mark.parametrize('key', [
    'checks/notaset/20261123T040001Z-drill-passed.json', 'checks/%s/20261123T040001Z-drill-ok.json' % SID,
    'checks/%s/20261399T040001Z-drill-passed.json' % SID, 'checks/%s/x/20261123T040001Z-drill-passed.json' % SID,
    'other/%s/20261123T040001Z-drill-passed.json' % SID, 'checks/%s/.20261123T040001Z-drill-passed.json.tmp' % SID,
])
def test_foreign_keys_are_ignored(key):
    assert checks.parse_check_key(key) is None


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError):
        checks.check_key(SID, at(2026, 1, 1), 'verify-deep', True)
    with pytest.raises(LifeboatError):
        checks.check_key('yesterday', at(2026, 1, 1), 'drill', True)


def test_the_newest_check_of_each_kind_wins():
    keys = [
        checks.check_key(SID, at(2026, 11, 23, 4), 'verify-quick', True),
        checks.check_key(SID, at(2026, 11, 24, 4), 'verify-full', False),
        checks.check_key(SID, at(2026, 11, 22, 4), 'verify-full', True),
        checks.check_key(SID, at(2026, 11, 25, 5), 'drill', True),
        checks.check_key(SID, at(2026, 11, 20, 5), 'drill', False),
        checks.check_key('20261121T031500Z', at(2026, 11, 21, 5), 'drill', False),
        'checks/junk',
    ]
    latest = checks.latest_by_set(keys, now=at(2026, 11, 25, 6))
    assert latest[SID]['last_verify'] == {'when': '2026-11-24T04:00:00Z', 'passed': False, 'level': 'full',
                                          'key': keys[1], 'age_seconds': 26 * 3600,
                                          'epoch': int(at(2026, 11, 24, 4).timestamp())}
    assert latest[SID]['last_drill']['passed'] and latest[SID]['last_drill']['age_seconds'] == 3600
    assert 'last_verify' not in latest['20261121T031500Z']
    sets = checks.attach([{'id': SID}, {'id': '20261101T031500Z'}], keys)
    assert sets[0]['last_verify']['level'] == 'full' and sets[1] == {'id': '20261101T031500Z', 'last_verify': None,
                                                                     'last_drill': None}


def test_documents_round_trip_and_damaged_ones_are_refused():
    doc = checks.make_check_doc(SID, 'drill', True, '2026-11-25T05:00:00Z', '2026-11-25T05:03:00Z', 'ab' * 32,
                                items=[{'host': 'db1', 'component': 'postgresql', 'name': 'awx', 'passed': True}],
                                problems=[], runner={'host': 'drill1'}, totals={'tables': 12})
    back = checks.load_check_doc(set_format.dumps(doc), 'k')
    assert back == doc
    bad = dict(doc, kind='lifeboat.backup/record')
    with pytest.raises(LifeboatError, match='not a check document'):
        checks.load_check_doc(set_format.dumps(bad), 'k')
    with pytest.raises(LifeboatError, match="no valid 'passed'"):
        checks.load_check_doc(set_format.dumps(dict(doc, passed='yes')), 'k')
