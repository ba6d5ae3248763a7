# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A backup split over several jobs (AWX job slicing): per-host delivery records, and the commit that takes its
hosts from them (lifecycle.deliver, commit(expected_hosts=...), format.delivery_plan)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError

from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

from test_sets import put_artifact, started


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def _doc(host, writes=True, empty=False, failure=None):
    return set_format.make_delivery('20261122T031500Z', host, '2026-11-22T03:20:00Z', writes, empty, failure)


def test_delivery_plan_names_missing_and_failed_hosts():
    deliveries = {'web1': _doc('web1'), 'web2': _doc('web2', failure='files entry app: /srv/app does not exist'),
                  'idle': _doc('idle', writes=False, empty=True), 'standby': _doc('standby', writes=False)}
    writers, empty, missing, problems = set_format.delivery_plan(deliveries, ['web1', 'web2', 'web3', 'idle', 'standby'])
    assert writers == ['web1'] and empty == ['idle'] and missing == ['web2', 'web3']
    assert problems == ['host web2 failed: files entry app: /srv/app does not exist',
                        'host web3 did not deliver (no record: its slice did not run, failed before it, or it was unreachable)']
    # allow_missing_hosts: the same hosts are missing, and no problem
    assert set_format.delivery_plan(deliveries, ['web1', 'web3'], True) == (['web1'], [], ['web3'], [])


def test_sliced_set_commits_from_the_deliveries(store, tmp_path):
    sid = started(store)
    for host in ('web1', 'web2'):
        put_artifact(store, sid, host=host, tmp_path=tmp_path)
        lifecycle.deliver(store, sid, host, writes=True)
    lifecycle.deliver(store, sid, 'idle', writes=False, empty=True)
    lifecycle.deliver(store, sid, 'replica', writes=False)  # e.g. a PostgreSQL standby that dumps nothing
    res = lifecycle.commit(store, sid, expected_hosts=['web1', 'web2', 'idle', 'replica'])
    assert res['status'] == 'completed' and res['hosts'] == ['web1', 'web2'] and res['empty_hosts'] == ['idle']
    # the delivery records are not parts
    manifest, _digest = lifecycle.read_manifest(store, sid)
    assert {a['host'] for a in manifest['artifacts']} == {'web1', 'web2'}


def test_a_host_without_delivery_fails_the_set_naming_it(store, tmp_path):
    sid = started(store)
    put_artifact(store, sid, host='web1', tmp_path=tmp_path)
    lifecycle.deliver(store, sid, 'web1', writes=True)
    lifecycle.deliver(store, sid, 'web2', writes=False, failure='Archive files: /srv/app does not exist')
    with pytest.raises(LifeboatError) as err:
        lifecycle.commit(store, sid, expected_hosts=['web1', 'web2', 'web3'])
    assert 'host web2 failed: Archive files: /srv/app does not exist' in err.value.msg
    assert 'host web3 did not deliver' in err.value.msg
    assert lifecycle.read_status(store, sid)['status'] == 'failed'
    assert lifecycle.read_manifest_bytes(store, sid) is None


def test_a_host_that_claims_parts_it_did_not_write_fails_the_commit(store):
    sid = started(store)
    lifecycle.deliver(store, sid, 'web1', writes=True)
    with pytest.raises(LifeboatError, match='no artifacts from host'):
        lifecycle.commit(store, sid, expected_hosts=['web1'])


def test_allow_missing_hosts_records_them(store, tmp_path):
    sid = started(store)
    put_artifact(store, sid, host='web1', tmp_path=tmp_path)
    lifecycle.deliver(store, sid, 'web1', writes=True)
    res = lifecycle.commit(store, sid, expected_hosts=['web1', 'web2'], allow_missing_hosts=True)
    assert res['missing_hosts'] == ['web2'] and res['hosts'] == ['web1']


def test_a_host_delivers_once_and_only_into_an_open_set(store, tmp_path):
    sid = started(store)
    lifecycle.deliver(store, sid, 'web1', writes=False, empty=True, check_mode=True)
    assert list(store.list(set_format.delivery_prefix(sid))) == []
    lifecycle.deliver(store, sid, 'web1', writes=False, empty=True)
    with pytest.raises(ConfigError, match='two slices'):
        lifecycle.deliver(store, sid, 'web1', writes=False, empty=True)
    put_artifact(store, sid, host='web2', tmp_path=tmp_path)
    lifecycle.commit(store, sid, hosts=['web2'])
    with pytest.raises(LifeboatError, match='already completed'):
        lifecycle.deliver(store, sid, 'web2', writes=True)


def test_a_damaged_delivery_record_is_a_problem(store, tmp_path):
    sid = started(store)
    put_artifact(store, sid, host='web1', tmp_path=tmp_path)
    store.put_bytes(set_format.delivery_key(sid, 'web1'), b'{"kind": "lifeboat.backup/delivery"}')
    with pytest.raises(LifeboatError, match="delivery record"):
        lifecycle.commit(store, sid, expected_hosts=['web1'])
