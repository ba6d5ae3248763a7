# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pruning a store (backup_prune, docs/retention.md): decide with retention.py, then remove safely.

Under the store lock, for the sets the policy removes (each step for all of them at once, in batches):

1. ``manifest.json`` goes first: from then on the set is never listed as completed nor offered for a restore.
   A store that refuses (S3 Object Lock) leaves the set whole; it is reported as retained until its date and
   the prune goes on with the other sets.
2. What the set points to outside the store goes next, found in its records (still in the store): the EBS
   snapshot sets it recorded, in every region they were copied to (``external`` hooks, one per record kind).
   A hook that fails stops this set here, still listable as ``removing`` with its records, so the next prune
   retries it: a reference is never lost before what it refers to.
3. ``status.json`` and every other object of the set (S3: DeleteObjects, 1,000 keys a call), then its check
   results (``checks/<set>/``).

A set without a manifest whose status still says ``completed`` (or that has no status at all) is one an
interrupted prune began to remove: it is decided ``removing`` and finished first, whatever the policy.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import concurrent.futures
import os
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import retention
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results as check_results

REMOVED = 'removed'
RETAINED = 'retained'
ERROR = 'error'
PLANNED = 'would remove'


def retention_error(error):
    """The retain-until date when a store refused a delete because of S3 Object Lock (or a legal hold), else None."""
    details = getattr(error, 'details', None) or {}
    if details.get('reason') == 'object_locked':
        return details.get('retain_until') or 'a legal hold is lifted'
    return None


# ---------------------------------------------------------------- what is in the store

def survey(store, now):
    """The listing as retention.decide takes it: id, status (with ``removing``), reason, needs; plus sizes."""
    listing = lifecycle.list_sets(store, now)
    out = []
    for item in listing:
        entry = {'id': item['id'], 'status': item['status'], 'reason': item.get('reason'), 'size': item.get('size') or 0,
                 'needs': list(item.get('needs') or [])}
        if item['status'] == set_format.FAILED:
            status = lifecycle.read_status(store, item['id'])
            if status is None or status.get('status') == set_format.COMPLETED:
                entry['status'] = retention.REMOVING
                entry['reason'] = ('its manifest is gone and its status still says completed'
                                   if status else 'it has neither a manifest nor a status')
        out.append(entry)
    return out


def plan(store, policy, now=None, remove_ids=()):
    """The decision for every set (no change): retention.decide on the survey."""
    now = now or set_format.utcnow()
    normalized = retention.parse_policy(policy)
    entries = survey(store, now)
    decision = retention.decide(entries, normalized, now, remove_ids=remove_ids)
    sizes = {entry['id']: entry['size'] for entry in entries}
    for item in decision['sets']:
        item['size'] = sizes.get(item['id'], 0)
    return decision


# ---------------------------------------------------------------- removing one set

def _component(key):
    """The component of a key inside a set (``<set>/<host>/<component>/<file>``), or None."""
    parts = key.split('/')
    return parts[2] if len(parts) >= 4 else None


def _records_in_store(objects, store, components):
    """The records of ``components`` still in the store for a set (the manifest may be gone already)."""
    out = []
    for info in objects:
        if not info.key.endswith(set_format.RECORD_SUFFIX) or _component(info.key) not in components:
            continue
        data = store.get_bytes(info.key)
        if data is None:
            continue
        try:
            out.append(set_format.loads(data, 'record %s' % info.key))
        except LifeboatError:
            continue  # a damaged record: nothing outside the store can be found from it
    return out


def _failure(error):
    """(outcome, facts) of a delete the store refused."""
    until = retention_error(error)
    if until is not None:
        return RETAINED, {'retained_until': until, 'error': error.msg}
    return ERROR, {'error': error.msg}


def remove_sets(store, set_ids, external=None, check_mode=False, jobs=4, reporter=None):
    """Remove sets in the safe order, in three phases over all of them, so that each phase is a few batched calls:

    1. every manifest (a set whose manifest the store refuses is left whole: retained or error);
    2. what the remaining sets' records point to outside the store (``jobs`` sets at a time);
    3. every other object of the sets whose external references are gone, and their check results.

    ``external``: {component: {artifact_kind: hook(record)}}. Returns {set id: {'id', 'outcome', 'bytes',
    'objects', 'external', 'error'?, 'retained_until'?}}.
    """
    wanted = set(set_ids)
    objects = {set_id: [] for set_id in set_ids}
    checks = {set_id: [] for set_id in set_ids}
    for info in store.list(''):
        head, _sep, rest = info.key.partition('/')
        if head in wanted:
            objects[head].append(info)
        elif head == check_results.AREA and rest.split('/', 1)[0] in wanted:
            checks[rest.split('/', 1)[0]].append(info)
    out = {set_id: {'id': set_id, 'bytes': sum(info.size for info in objects[set_id]), 'objects': len(objects[set_id]),
                    'external': []} for set_id in set_ids}
    if check_mode:
        for entry in out.values():
            entry['outcome'] = PLANNED
        return out
    _phase(reporter, 'removing the manifests of %d sets' % len(set_ids))
    manifests = {set_format.set_key(set_id, set_format.MANIFEST_KEY): set_id for set_id in set_ids}
    for key, error in store.delete_many(sorted(manifests)).items():
        outcome, facts = _failure(error)
        out[manifests[key]].update(facts, outcome=outcome)
    going = [set_id for set_id in set_ids if 'outcome' not in out[set_id]]
    external = external or {}

    def unhook(set_id):
        for record in _records_in_store(objects[set_id], store, external):
            hook = external.get(record.get('component'), {}).get(record.get('artifact_kind'))
            if hook is None:
                continue
            try:
                out[set_id]['external'].append(hook(record))
            except LifeboatError as e:
                out[set_id].update({'outcome': ERROR, 'error': 'removing what %s points to failed (the set stays, '
                                    'without its manifest, for the next prune to finish): %s' % (record['key'], e.msg)})
                return

    hooked = [set_id for set_id in going if any(_component(info.key) in external for info in objects[set_id])]
    if hooked:
        _phase(reporter, 'removing what %d sets point to outside the store' % len(hooked))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(unhook, hooked))
    going = [set_id for set_id in going if 'outcome' not in out[set_id]]
    _phase(reporter, 'removing the objects of %d sets' % len(going))
    owner = {}
    for set_id in going:
        for info in objects[set_id] + checks[set_id]:
            if info.key not in manifests:
                owner[info.key] = set_id
    for key, error in store.delete_many(sorted(owner)).items():
        entry = out[owner[key]]
        if 'outcome' not in entry:
            outcome, facts = _failure(error)
            entry.update(facts, outcome=outcome)
    for set_id in going:
        out[set_id].setdefault('outcome', REMOVED)
    return out


def _phase(reporter, text):
    if reporter is not None:
        reporter.phase(text)


# ---------------------------------------------------------------- a prune

def run(store, policy, remove_ids=(), external=None, lock_hooks=None, check_mode=False, now=None, reporter=None, jobs=4):
    """What backup_prune returns. ``lock_hooks``: (acquire() -> token, release(token)) around the removal.
    ``jobs``: sets whose external references are removed at the same time.
    """
    t0 = time.time()
    now = now or set_format.utcnow()
    token = None
    if not check_mode and lock_hooks:
        token = lock_hooks[0]()
    try:
        decision = plan(store, policy, now, remove_ids)
        doomed = [item for item in decision['sets'] if item['action'] == retention.REMOVE]
        results = remove_sets(store, [item['id'] for item in doomed], external, check_mode, jobs, reporter)
        outcomes = [results[item['id']] for item in doomed]
        for item, outcome in zip(doomed, outcomes):
            item['outcome'] = outcome['outcome']
            if outcome.get('retained_until'):
                item['retained_until'] = outcome['retained_until']
            if outcome.get('error'):
                item['error'] = outcome['error']
    finally:
        if token is not None:
            lock_hooks[1](token)
    removed = [outcome for outcome in outcomes if outcome['outcome'] == REMOVED]
    retained = [outcome for outcome in outcomes if outcome['outcome'] == RETAINED]
    errors = [outcome for outcome in outcomes if outcome['outcome'] == ERROR]
    return {
        'changed': bool(removed) or (check_mode and bool(outcomes)),
        'sets': decision['sets'],
        'keep': decision['keep'],
        'remove': decision['remove'],
        'removed': [outcome['id'] for outcome in removed],
        'retained': [{'id': outcome['id'], 'retained_until': outcome['retained_until']} for outcome in retained],
        'errors': [{'id': outcome['id'], 'error': outcome['error']} for outcome in errors],
        'bytes_freed': sum(outcome['bytes'] for outcome in removed),
        'bytes_to_free': sum(outcome['bytes'] for outcome in outcomes) if check_mode else None,
        'jobs': jobs,
        'unknown_ids': decision['unknown_ids'],
        'missing_needs': decision['missing_needs'],
        'groups': decision['groups'],
        'seconds': round(time.time() - t0, 3),
    }


# ---------------------------------------------------------------- the store lock and external references

def lock_hooks(store, owner=None, ttl=3600):
    """(acquire, release) of the store lock for a prune: no backup starts or commits while sets are removed."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LockedError
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
    import uuid

    def acquire():
        now = set_format.utcnow()
        doc, exists = store_lock.read_lock(store)
        if exists:
            held = lifecycle._terminal_status(store, (doc or {}).get('set_id'))
            action, why = store_lock.decide(doc, now, held, False)
            gone = _dead_prune(doc)
            if action == 'wait' and gone:
                action, why = 'break', gone
            if action == 'wait':
                raise LockedError('the %s is locked by %s: a backup is running; prune again when it has ended'
                                  % (store.describe(), store_lock.describe_owner(doc)), lock=doc)
            lifecycle._break(store, doc, why, now)
        token = 'prune-' + uuid.uuid4().hex
        me = dict(store_lock.node_identity(), pid=os.getpid(), pid_start=store_lock.process_start(os.getpid())[0])
        doc = store_lock.make_lock_doc(PRUNE_LOCK, lifecycle.default_owner(dict(owner or {}, purpose='prune', process=me)),
                                       now, ttl, token)
        if not store_lock.acquire(store, doc):
            other, _exists = store_lock.read_lock(store)
            raise LockedError('the %s was locked by another run just now: %s'
                              % (store.describe(), store_lock.describe_owner(other or {})))
        return token

    def release(token):
        store_lock.release(store, token)

    return acquire, release


PRUNE_LOCK = 'prune'


def _dead_prune(doc):
    """Why a prune's lock is stale when the prune that took it is provably gone (its module process, recorded with
    the machine's boot id and PID namespace, no longer runs here: killed, or cut off before it could release the
    lock), else None. A prune on another machine is waited for until its lock expires."""
    owner = (doc or {}).get('owner')
    if not isinstance(owner, dict) or owner.get('purpose') != 'prune' or not isinstance(owner.get('process'), dict):
        return None
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock
    process = owner['process']
    if store_lock.local_process_state(process, process.get('pid'), process.get('pid_start')) != 'gone':
        return None
    return 'stale: the prune that holds it (pid %s on %s) is gone' % (process.get('pid'), owner.get('host', '?'))


def ebs_hooks(make_ec2, check_mode=False):
    """External hooks for EBS snapshot-group records: delete the group's snapshots in its region and every region
    they were copied to (the ec2_snapshot_set state=absent flow; idempotent)."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import backup as snapshot_backup
    from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic
    from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import record as snapshot_record

    def delete(record):
        extra = record.get('extra') or {}
        opts = {'set_id': record['set_id'], 'host': record['host'], 'region': extra.get('region'),
                'regions': sorted((extra.get('copies') or {}).keys())}
        done = snapshot_backup.delete_group(make_ec2, opts, check_mode=check_mode)
        return {'kind': snapshot_record.ARTIFACT_KIND, 'host': record['host'], 'deleted': done.get('deleted', {})}

    return {snapshot_logic.RECORD_COMPONENT: {snapshot_record.ARTIFACT_KIND: delete}}


def opensearch_hooks(connections, check_mode=False, make_client=None):
    """External hooks for OpenSearch snapshot records: delete the snapshot the record names through the cluster's
    API (the opensearch_snapshot state=absent flow; a snapshot of the same name with another uuid is left alone).

    ``connections``: the connection options of every cluster the store's sets were taken from; the record's
    cluster_uuid picks the cluster. A record of a cluster none of them reaches is an error for its set, which
    stays (without its manifest) for a prune that can reach it.
    """
    from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import flows as os_flows
    from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic

    if make_client is None:
        from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import client as os_client
        make_client = os_client.Client
    clusters = {}
    guard = threading.Lock()

    def reachable():
        with guard:
            if not clusters:
                for params in connections or []:
                    client = make_client(params)
                    info = os_flows.cluster_info(client)
                    clusters.setdefault(info.get('cluster_uuid'), client)
            return clusters

    def delete(record):
        extra = record.get('extra') or {}
        found = reachable()
        client = found.get(extra.get('cluster_uuid'))
        if client is None:
            raise LifeboatError('its OpenSearch snapshot %s/%s was taken on cluster %s, which none of the clusters given '
                                'to the prune is (%s; backup_prune opensearch, lifeboat_prune_opensearch in the role)'
                                % (extra.get('repository'), extra.get('snapshot'), extra.get('cluster_uuid'),
                                   ', '.join(sorted(str(uuid) for uuid in found)) or 'none given'))
        doc = {'set_id': record.get('set_id'), 'repository': {'name': extra.get('repository')},
               'snapshot': {'name': extra.get('snapshot'), 'uuid': extra.get('snapshot_uuid')}}
        done = os_flows.delete_recorded(client, doc, check_mode=check_mode)
        return {'kind': os_logic.ARTIFACT_KIND, 'host': record['host'], 'deleted': done.get('deleted', [])}

    return {os_logic.COMPONENT: {os_logic.ARTIFACT_KIND: delete}}
