# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot group's record in a backup set: a small JSON artifact (component ``snapshot``, name ``ec2``).

Small documents are written and read as bytes through the store (put_small_artifact / get_small_artifact),
not through the streaming pipeline; they still get a proper artifact record (size, sha256), so the set's
commit verifies them like any artifact and a read checks them against it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic

ARTIFACT_KIND = 'ebs-snapshot-set'   # the record's artifact_kind (stored format: kept as it was)


def put_small_artifact(store, set_id, host, component, name, kind, fmt_name, fmt_ext, source, data, extra=None):
    """Store ``data`` (bytes) as an artifact of an open set, with its record, in two exclusive writes.

    Returns the record. Raises AlreadyExistsError when the artifact exists already (parts of an open set
    are never replaced).
    """
    lifecycle.require_open(store, set_id)
    key = set_format.artifact_key(set_id, host, component, name + fmt_ext)
    started = set_format.iso(set_format.utcnow())
    store.put_new(key, data)
    info = store.stat(key)
    if info is None or info.size != len(data):
        store.delete(key)
        raise LifeboatError('%s: the stored object %s has %s bytes after writing %d; the artifact was removed'
                            % (store.describe(), key, 'no' if info is None else info.size, len(data)))
    record = set_format.make_record(set_id, host, component, name, kind, key, source, fmt_name, 'none', 'none',
                                    len(data), set_format.sha256_hex(data), started, set_format.iso(set_format.utcnow()),
                                    {}, extra=dict(extra or {}, seconds=0.0))
    lifecycle.put_record(store, record)
    return record


def get_small_artifact(store, record):
    """The bytes of a small artifact, checked against its record (size and sha256)."""
    data = store.get_bytes(record['key'])
    if data is None:
        raise DamagedError('artifact %s of set %s is missing from the %s'
                           % (record['key'], record['set_id'], store.describe()), artifact=record['key'])
    digest = set_format.sha256_hex(data)
    if len(data) != record['size'] or digest != record['sha256']:
        raise DamagedError('artifact %s failed verification: the store holds %d bytes with sha256 %s, the record says '
                           '%d bytes with sha256 %s. It was changed or damaged after the backup; nothing was restored '
                           'from it' % (record['key'], len(data), digest, record['size'], record['sha256']),
                           artifact=record['key'])
    return data


def check_record_target(store_params, set_id):
    """Before any snapshot is taken: the backup set to record into exists and is open."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    with open_store(store_params) as store:
        lifecycle.require_open(store, set_id)


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
