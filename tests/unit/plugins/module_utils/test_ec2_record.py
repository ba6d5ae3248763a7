# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot group's record in a backup set: written as bytes (no pipeline), with a proper artifact record that
the commit verifies, read back checked against it; written once per host and set (a repeated run finds it)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import record as snapshot_record
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store


def group(set_id, snapshots=('snap-1', 'snap-2'), state='completed'):
    return {'set_id': set_id, 'host': 'db1', 'instance_id': 'i-0123456789abcdef0', 'region': 'us-east-1',
            'state': state, 'expected_count': len(snapshots), 'size_gib': 10, 'start_time': '2026-11-22T03:15:02Z',
            'snapshots': [{'snapshot_id': sid, 'device': '/dev/sd' + 'fg'[n], 'state': 'completed'}
                          for n, sid in enumerate(snapshots)], 'copies': {}}


@pytest.fixture
def store_params(tmp_path):
    return {'type': 'filesystem', 'path': str(tmp_path / 'store'), 'prefix': ''}


def test_the_record_is_stored_as_bytes_with_a_record_the_commit_verifies(store_params):
    with open_store(store_params) as store:
        set_id = lifecycle.start(store)['set_id']
    rec = snapshot_record.write_record(store_params, group(set_id), set_id, 'db1')
    assert rec['key'] == '%s/db1/snapshot/ec2.json' % set_id
    assert (rec['component'], rec['name'], rec['format'], rec['compression']) == ('snapshot', 'ec2', 'json', 'none')
    with open(os.path.join(store_params['path'], rec['key']), 'rb') as f:
        stored = f.read()
    assert len(stored) == rec['size'] and json.loads(stored.decode('utf-8'))['snapshots'][1]['snapshot_id'] == 'snap-2'
    assert rec['extra']['snapshot_ids'] == ['snap-1', 'snap-2']
    # a repeated run of the same group finds the same record; another document for the same host is refused
    assert snapshot_record.write_record(store_params, group(set_id), set_id, 'db1') == rec
    with pytest.raises(AlreadyExistsError):
        snapshot_record.write_record(store_params, group(set_id, ('snap-9',)), set_id, 'db1')
    with open_store(store_params) as store:
        done = lifecycle.commit(store, set_id, hosts=['db1'])
    assert done['artifact_count'] == 1
    doc, read_id = snapshot_record.read_record(store_params, set_id, 'db1', pin=done['manifest_sha256'])
    assert read_id == set_id and [s['snapshot_id'] for s in doc['snapshots']] == ['snap-1', 'snap-2']


def test_a_changed_record_is_refused_when_read(store_params):
    with open_store(store_params) as store:
        set_id = lifecycle.start(store)['set_id']
    rec = snapshot_record.write_record(store_params, group(set_id), set_id, 'db1')
    with open_store(store_params) as store:
        lifecycle.commit(store, set_id, hosts=['db1'])
    path = os.path.join(store_params['path'], rec['key'])
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data.replace(b'snap-2', b'snap-X'))     # same size, other bytes
    with pytest.raises(DamagedError, match='failed verification'):
        snapshot_record.read_record(store_params, set_id, 'db1')


def test_only_completed_groups_into_open_sets(store_params):
    with open_store(store_params) as store:
        set_id = lifecycle.start(store)['set_id']
    with pytest.raises(LifeboatError, match='only a completed group is recorded'):
        snapshot_record.write_record(store_params, group(set_id, state='pending'), set_id, 'db1')
    with open_store(store_params) as store:
        lifecycle.fail(store, set_id, 'test')
    with pytest.raises(LifeboatError, match='nothing more is written into it'):
        snapshot_record.write_record(store_params, group(set_id), set_id, 'db1')
