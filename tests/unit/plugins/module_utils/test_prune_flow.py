# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pruning a real FilesystemStore: the safe order, interrupted prunes finished, external hooks, check mode."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import prune
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, 3, 15, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return FilesystemStore({'type': 'filesystem', 'path': str(tmp_path / 'store')})


def completed(store, tmp_path, day, kind='files', payload=b'x' * 1000):
    now = T0 + datetime.timedelta(days=day)
    set_id = lifecycle.start(store, now=now)['set_id']
    src = tmp_path / ('src-%d' % day)
    src.write_bytes(payload)
    with open(str(src), 'rb') as handle:
        artifacts.write_artifact(store, set_id, 'web1', kind, 'app', kind, 'raw', '.bin', 'test', check_source=lambda r: {},
                                 source_file=handle, compression='none')
    lifecycle.commit(store, set_id, hosts=['web1'], now=now + datetime.timedelta(minutes=5))
    return set_id


def days(store, tmp_path, count, **kw):
    return [completed(store, tmp_path, day, **kw) for day in range(count)]


def on_disk(store):
    return sorted(name for name in os.listdir(store.root) if set_format.is_set_id(name))


def test_prune_keeps_the_policy_and_frees_the_bytes(store, tmp_path):
    ids = days(store, tmp_path, 6)
    now = T0 + datetime.timedelta(days=6)
    dry = prune.run(store, {'keep_last': 2}, check_mode=True, now=now)
    assert dry['removed'] == [] and dry['remove'] == list(reversed(ids[:4])) and dry['bytes_to_free'] > 4000
    assert [item['outcome'] for item in dry['sets'] if item['action'] == 'remove'] == ['would remove'] * 4
    assert on_disk(store) == ids
    result = prune.run(store, {'keep_last': 2}, now=now)
    assert sorted(result['removed']) == ids[:4] and result['bytes_freed'] == dry['bytes_to_free']
    assert on_disk(store) == ids[4:]
    again = prune.run(store, {'keep_last': 2}, now=now)
    assert again['removed'] == [] and not again['changed']


def test_a_set_whose_prune_was_interrupted_is_finished_first(store, tmp_path):
    ids = days(store, tmp_path, 3)
    # an earlier prune deleted the manifest of the newest set, then died
    store.delete(set_format.set_key(ids[2], set_format.MANIFEST_KEY))
    # and one removed manifest and status of the oldest
    store.delete(set_format.set_key(ids[0], set_format.MANIFEST_KEY))
    store.delete(set_format.set_key(ids[0], set_format.STATUS_KEY))
    listing = {item['id']: item for item in lifecycle.list_sets(store)}
    assert listing[ids[2]]['status'] == 'failed'  # never listed completed again
    result = prune.run(store, {'keep_last': 5, 'keep_failed': 30}, now=T0 + datetime.timedelta(days=3))
    assert sorted(result['removed']) == [ids[0], ids[2]]
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[ids[2]] == ['an earlier prune began removing it']
    assert on_disk(store) == [ids[1]]


def test_external_hooks_run_before_the_records_go_and_a_failure_is_retried(store, tmp_path):
    ids = days(store, tmp_path, 3, kind='snapshot')
    seen = []
    attempts = {'n': 0}

    def delete_snapshots(record):
        attempts['n'] += 1
        if attempts['n'] == 1:
            raise LifeboatError('cannot reach EC2 in eu-west-1')
        assert store.stat(record['key']) is not None  # the record's artifact is still there
        seen.append(record['set_id'])
        return {'deleted': {'eu-west-1': ['snap-1']}}

    hooks = {'snapshot': {'snapshot': delete_snapshots}}
    first = prune.run(store, {'keep_last': 1}, external=hooks, now=T0 + datetime.timedelta(days=3))
    assert len(first['errors']) == 1 and 'cannot reach EC2' in first['errors'][0]['error']
    failed_id = first['errors'][0]['id']
    assert failed_id in on_disk(store) and lifecycle.read_manifest_bytes(store, failed_id) is None
    second = prune.run(store, {'keep_last': 1}, external=hooks, now=T0 + datetime.timedelta(days=3))
    assert second['removed'] == [failed_id]
    assert sorted(seen) == sorted(ids[:2]) and on_disk(store) == ids[2:]


def test_a_store_that_refuses_a_delete_is_reported_and_the_rest_goes_on(store, tmp_path):
    ids = days(store, tmp_path, 4)
    real_delete = store.delete

    def refusing(key):
        if key == set_format.set_key(ids[1], set_format.MANIFEST_KEY):
            raise LifeboatError('protected by S3 Object Lock', reason='object_locked', retain_until='2027-01-01T00:00:00Z')
        return real_delete(key)

    store.delete = refusing
    result = prune.run(store, {'keep_last': 1}, now=T0 + datetime.timedelta(days=4))
    assert result['retained'] == [{'id': ids[1], 'retained_until': '2027-01-01T00:00:00Z'}]
    assert sorted(result['removed']) == [ids[0], ids[2]]
    assert lifecycle.read_manifest_bytes(store, ids[1]) is not None  # whole and still completed
    item = [entry for entry in result['sets'] if entry['id'] == ids[1]][0]
    assert item['outcome'] == 'retained' and item['retained_until'] == '2027-01-01T00:00:00Z'


def test_check_results_go_with_their_set(store, tmp_path):
    from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify
    ids = days(store, tmp_path, 2)
    verify.run(store, which='all', level='quick')
    assert len(list(store.list('checks'))) == 2
    prune.run(store, {'keep_last': 1}, now=T0 + datetime.timedelta(days=2))
    assert [info.key.split('/')[1] for info in store.list('checks')] == [ids[1]]


def test_the_lock_is_taken_and_released(store, tmp_path):
    days(store, tmp_path, 2)
    calls = []
    hooks = (lambda: calls.append('acquire') or 'tok', lambda token: calls.append('release ' + token))
    prune.run(store, {'keep_last': 1}, lock_hooks=hooks, now=T0 + datetime.timedelta(days=2))
    assert calls == ['acquire', 'release tok']
    calls[:] = []
    prune.run(store, {'keep_last': 1}, lock_hooks=hooks, check_mode=True)
    assert calls == []
