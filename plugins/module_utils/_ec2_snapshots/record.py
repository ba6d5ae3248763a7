# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot group's record in a backup set: a small JSON artifact (component ``snapshot``, name ``ec2``).

Small documents are written and read as bytes through the store (artifacts.put_small_artifact /
get_small_artifact, shared with the OpenSearch record), not through the streaming pipeline; they still get a
proper artifact record (size, sha256), so the set's commit verifies them like any artifact and a read checks
them against it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import get_small_artifact, put_small_artifact
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic

ARTIFACT_KIND = 'ebs-snapshot-set'   # the record's artifact_kind (stored format: kept as it was)


def check_record_target(store_params, set_id, host=None):
    """Before any snapshot is taken: the backup set to record into exists and is open. With ``host``, this
    module's heartbeat in the set starts now, so the store lock stays alive while the snapshots complete."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    with open_store(store_params) as store:
        lifecycle.require_open(store, set_id, host=host)


def _existing(store, set_id, host, data):
    """The record already written for this group with exactly these bytes (a run repeated), else None."""
    key = set_format.artifact_key(set_id, host, snapshot_logic.RECORD_COMPONENT, snapshot_logic.RECORD_NAME + '.json')
    stored = store.get_bytes(set_format.record_key_for(key))
    if stored is None or store.get_bytes(key) != data:
        return None
    return set_format.check_record(set_format.loads(stored, 'record %s' % key), set_id)


def write_record(store_params, group, set_id, host):
    """Write the snapshot group's JSON document into the backup set as artifact snapshot/ec2; returns its record.

    Repeating the same run (the same completed group) finds the same document and returns its record;
    a different document for the same host is refused (an open set's parts are never replaced).
    """
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    if group.get('state') != snapshot_logic.COMPLETED:
        raise LifeboatError('snapshot group %s of %s is %s: only a completed group is recorded'
                            % (set_id, host, group.get('state')))
    data = set_format.dumps(snapshot_logic.group_document(group))
    extra = {'instance_id': group['instance_id'], 'region': group['region'],
             'snapshot_ids': [s['snapshot_id'] for s in group['snapshots']],
             'copies': {region: [c['snapshot_id'] for c in copies] for region, copies in (group.get('copies') or {}).items()},
             'size_gib': group.get('size_gib')}
    with open_store(store_params) as store:
        try:
            return put_small_artifact(store, set_id, host, snapshot_logic.RECORD_COMPONENT, snapshot_logic.RECORD_NAME,
                                      ARTIFACT_KIND, 'json', '.json', 'ec2:%s/%s' % (group['region'], group['instance_id']),
                                      data, extra=extra)
        except AlreadyExistsError:
            same = _existing(store, set_id, host, data)
            if same is None:
                raise
            return same


def read_record(store_params, set_id, host, pin=None):
    """The snapshot-group document of ``host`` in a completed backup set, checked against its record.

    Returns (document, the set id read).
    """
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import find_record
    with open_store(store_params) as store:
        manifest, _digest = lifecycle.resolve_completed(store, set_id, pin)
        record = find_record(manifest, host, snapshot_logic.RECORD_COMPONENT, snapshot_logic.RECORD_NAME)
        data = get_small_artifact(store, record)
    doc = set_format.loads(data, 'snapshot record of %s in set %s' % (host, manifest['set_id']))
    return snapshot_logic.check_document(doc, manifest['set_id'], host), manifest['set_id']
