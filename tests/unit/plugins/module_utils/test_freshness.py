# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Freshness against the RPO, per label, with the last verification and drill."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import freshness
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def entry(set_id, status='completed', label=None, **extra):
    item = {'id': set_id, 'status': status, 'label': label}
    item.update(extra)
    return item


SETS = [
    entry('20261123T031500Z-nightly', label='nightly',
          last_verify={'when': '2026-11-23T04:00:00Z', 'passed': True, 'level': 'quick'}),
    entry('20261122T031500Z-nightly', label='nightly', last_drill={'when': '2026-11-22T06:00:00Z', 'passed': False}),
    entry('20261121T031500Z-nightly', label='nightly', last_drill={'when': '2026-11-21T06:00:00Z', 'passed': True}),
    entry('20261123T045000Z-nightly', status='in_progress', label='nightly', owner={'host': 'ctl'}, age_seconds=600),
    entry('20261120T010000Z-snapshots', label='snapshots'),
    entry('20261123T040000Z-snapshots', status='failed', label='snapshots'),
]


def test_each_label_against_the_rpo():
    result = freshness.status(SETS, NOW, '26h')
    groups = {group['label']: group for group in result['groups']}
    nightly = groups['nightly']
    assert nightly['newest'] == '20261123T031500Z-nightly' and nightly['age_seconds'] == 6300 and nightly['rpo_met']
    assert nightly['rpo_seconds'] == 26 * 3600
    assert nightly['in_progress'] == [{'id': '20261123T045000Z-nightly', 'owner': {'host': 'ctl'}, 'age_seconds': 600}]
    assert nightly['counts'] == {'completed': 3, 'in_progress': 1}
    assert nightly['last_verify']['when'] == '2026-11-23T04:00:00Z'
    assert nightly['last_drill'] == {'when': '2026-11-22T06:00:00Z', 'passed': False}
    snapshots = groups['snapshots']
    assert not snapshots['rpo_met'] and not result['ok']
    assert result['problems'] == ['the newest completed set of label snapshots, 20261120T010000Z-snapshots, is older '
                                  'than the RPO of 26h']


def test_one_label_and_the_rpo_boundary():
    assert freshness.status(SETS, NOW, '26h', labels=['nightly'])['ok']
    just = datetime.datetime(2026, 11, 24, 5, 15, tzinfo=UTC)  # exactly 26 h after 03:15
    assert not freshness.status(SETS, just, '26h', labels=['nightly'])['ok']
    assert freshness.status(SETS, just - datetime.timedelta(seconds=1), '26h', labels=['nightly'])['ok']


def test_an_empty_store_or_label_misses_the_rpo():
    assert freshness.status([], NOW, '26h')['problems'] == ['there is no completed set']
    result = freshness.status(SETS, NOW, '26h', labels=['weekly'])
    assert result['problems'] == ['there is no completed set of label weekly'] and result['groups'][0]['rpo_met'] is False


def test_verify_and_drill_limits():
    result = freshness.status(SETS, NOW, '26h', labels=['nightly'], verify_max_age='2h', drill_max_age='3d')
    assert result['problems'] == ['the last restore drill of label nightly (2026-11-22T06:00:00Z) failed']
    with pytest.raises(ConfigError, match='not a duration'):
        freshness.status(SETS, NOW, '26h', verify_max_age='30x')
    result = freshness.status(SETS, NOW, '26h', labels=['nightly'], drill_max_age='1d')
    assert 'the last passing restore drill of label nightly was at 2026-11-21T06:00:00Z, longer ago than 1d' in result['problems']
    result = freshness.status(SETS, NOW, '26h', labels=['snapshots'], verify_max_age='7d')
    assert 'no set of label snapshots ever passed a verification' in result['problems']
