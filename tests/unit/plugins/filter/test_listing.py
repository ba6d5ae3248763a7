# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The listing filters: human units and the set table."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lifeboat.backup.plugins.filter import listing


@pytest.mark.parametrize('size, text', [
    (0, '0 B'), (1023, '1023 B'), (1024, '1.0 KiB'), (1536, '1.5 KiB'), (10 * 1024 ** 2, '10.0 MiB'),
    (812 * 1024 ** 2, '812 MiB'), (1610612736, '1.5 GiB'), (5 * 1024 ** 4, '5.0 TiB'), (None, '-'), ('', '-'),
    ('2048', '2.0 KiB'), (-2048, '-2.0 KiB'),
])
def test_human_size(size, text):
    assert listing.human_size(size) == text


@pytest.mark.parametrize('seconds, text', [
    (0, '0s'), (45, '45s'), (725, '12m 5s'), (3600, '1h'), (12000, '3h 20m'), (93600, '1d 2h'),
    (86400 * 400, '1y 35d'), (None, '-'), (59.6, '1m'), (-30, '-30s'),
])
def test_human_duration(seconds, text):
    assert listing.human_duration(seconds) == text


@pytest.mark.parametrize('bad', ['big', [], True])
def test_bad_numbers_are_filter_errors(bad):
    with pytest.raises(AnsibleFilterError, match='expects a number'):
        listing.human_size(bad)


SETS = [
    {'id': '20261122T031500Z-nightly', 'status': 'completed', 'age_seconds': 7200, 'size': 1610612736,
     'hosts': ['db1', 'web1'], 'components': {'web1': ['files/app', 'files/etc'], 'db1': ['postgresql/awx', 'postgresql/globals']},
     'last_verify': {'level': 'full', 'passed': True, 'age_seconds': 3600},
     'last_drill': {'passed': False, 'age_seconds': 86400}},
    {'id': '20261121T031500Z-nightly', 'status': 'failed', 'age_seconds': 93600, 'size': 0, 'hosts': [], 'components': {},
     'reason': 'verification failed: host web2 has no artifact files/app'},
    {'id': '20261120T031500Z', 'status': 'damaged', 'age_seconds': 180000, 'size': 0,
     'reason': 'manifest.json is not valid JSON'},
    {'id': '20261119T031500Z', 'status': 'completed', 'age_seconds': 266400, 'size': 512,
     'hosts': ['a', 'b', 'c', 'd'], 'components': {'a': ['files/x']}, 'missing_hosts': ['e']},
]


def test_set_table_aligns_every_column():
    lines = listing.set_table(SETS)
    assert lines[0].split() == ['ID', 'STATUS', 'AGE', 'SIZE', 'HOSTS', 'COMPONENTS', 'VERIFIED', 'DRILLED', 'NOTE']
    assert len(lines) == 5
    starts = [line.index('20261') for line in lines[1:]]
    assert starts == [0, 0, 0, 0]
    status_column = lines[0].index('STATUS')
    assert [line[status_column:].split()[0] for line in lines[1:]] == ['completed', 'failed', 'DAMAGED', 'completed']
    first = lines[1]
    assert '2h' in first and '1.5 GiB' in first and 'db1,web1' in first and 'files:2 postgresql:2' in first
    assert 'full ok 1h' in first and 'FAILED 1d' in first
    assert 'host web2 has no artifact' in lines[2] and 'not valid JSON' in lines[3]
    assert '4 hosts' in lines[4] and 'missing hosts: e' in lines[4] and '512 B' in lines[4]
    size_column = lines[0].index('SIZE')
    assert lines[2][size_column:].split()[0] == '-'


def test_set_table_of_an_empty_store_and_bad_input():
    assert listing.set_table([])[-1] == '(no sets in this store)'
    with pytest.raises(AnsibleFilterError, match='expects the list of sets'):
        listing.set_table({'sets': []})


def test_store_label_has_no_secret():
    label = listing.store_label({'type': 's3', 'bucket': 'b', 'prefix': 'p', 'secret_key': 'hunter2'})
    assert label == 's3://b/p'


def test_every_filter_is_registered_and_documented():
    import os
    names = listing.FilterModule().filters()
    here = os.path.dirname(listing.__file__)
    for name in names:
        assert os.path.exists(os.path.join(here, name + '.yml')), name


@pytest.mark.parametrize('chains, needs, note', [
    ({'web1/files/app': {'level': 0, 'base': None, 'full_set': None}}, [], 'incremental: full'),
    ({'web1/files/app': {'level': 2, 'base': '20261122T021500Z', 'full_set': '20261122T001500Z'}},
     ['20261122T001500Z', '20261122T021500Z'], 'incremental: level 2 on 20261122T021500Z'),
    ({'web1/files/app': {'level': 1, 'base': 'B'}, 'web2/files/app': {'level': 3, 'base': 'C'}}, ['A', 'B', 'C'],
     'incremental: levels 1-3, needs 3 sets'),
])
def test_set_table_notes_an_incremental_chain(chains, needs, note):
    item = {'id': '20261122T031500Z', 'status': 'completed', 'size': 10, 'chains': chains, 'needs': needs}
    assert listing.set_row(item)[-1] == note
