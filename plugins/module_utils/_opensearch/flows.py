# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSearch snapshots: the flows behind opensearch_snapshot, opensearch_snapshot_info and
opensearch_snapshot_restore.

Each flow takes a ``client`` (client.Client, or anything with the same ``call``), the module's option
values, and injectable ``clock``/``sleep``/``log``. Decisions are logic.py's; the set record is a JSON
document stored with artifacts.put_small_artifact, like the EBS snapshot record.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DamagedError, LifeboatError, LockedError, NotFoundError)
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch.client import path as rest_path

OPEN_AND_HIDDEN = 'open,hidden'


def _nolog(_msg):
    pass


# ---------------------------------------------------------------- cluster facts

def cluster_info(client):
    info = client.call('GET', '/')
    if not isinstance(info, dict) or 'version' not in info:
        raise LifeboatError('%s does not look like OpenSearch or Elasticsearch (GET / said %r)'
                            % (client.describe(), str(info)[:200]))
    return info


def node_path_repos(client):
    answer = client.call('GET', '/_nodes/settings', query={'filter_path': 'nodes.*.name,nodes.*.settings.path.repo'})
    return {node.get('name', node_id): os_logic.path_repo_of(node) for node_id, node in ((answer or {}).get('nodes') or {}).items()}


def get_repository(client, name):
    answer = client.call('GET', rest_path('_snapshot', name), ok_missing=True)
    if not answer or name not in answer:
        return None
    return answer[name]


def verify_repository(client, name):
    """POST _verify: the nodes that could write to and read from the repository."""
    answer = client.call('POST', rest_path('_snapshot', name, '_verify'))
    return sorted(node.get('name', node_id) for node_id, node in ((answer or {}).get('nodes') or {}).items())


def repository_nodes(client):
    """Names of the nodes that must reach a repository: cluster-manager (master) and data nodes."""
    answer = client.call('GET', '/_nodes', query={'filter_path': 'nodes.*.name,nodes.*.roles'})
    names = []
    for node_id, node in ((answer or {}).get('nodes') or {}).items():
        roles = set(node.get('roles') or [])
        if not roles or roles & {'data', 'cluster_manager', 'master', 'data_hot', 'data_content'}:
            names.append(node.get('name', node_id))
    return sorted(names)


def ensure_repository(client, name, repo_type=None, settings=None, verify=True, check_mode=False):
    """Make sure the repository exists (with these settings when ``repo_type`` is given) and verifies."""
    existing = get_repository(client, name)
    out = {'name': name, 'changed': False, 'action': 'none', 'verified_nodes': [], 'verified': False}
    if repo_type:
        wanted = os_logic.repository_wanted(repo_type, settings)
        diffs = os_logic.repository_differences(existing, wanted) if existing else None
        if existing is None or diffs:
            if repo_type == 'fs':
                problems = os_logic.location_problems(wanted['settings']['location'], node_path_repos(client))
                if problems:
                    raise ConfigError('repository %s: location %s is not under path.repo of every node (%s). Add it '
                                      '(or a parent) to path.repo in opensearch.yml on every node and restart them'
                                      % (name, wanted['settings']['location'], '; '.join(problems)))
            out.update(changed=True, action='create' if existing is None else 'update', differences=diffs or [])
            if not check_mode:
                client.call('PUT', rest_path('_snapshot', name), body=wanted, query={'verify': 'false'})
            existing = wanted
    elif existing is None:
        raise NotFoundError('repository %s is not registered on the cluster (%s); give repository_type and '
                            'repository_settings to register it' % (name, client.describe()))
    out['type'] = existing.get('type')
    out['settings'] = existing.get('settings') or {}
    if verify and not (check_mode and out['action'] != 'none'):
        try:
            out['verified_nodes'] = verify_repository(client, name)
        except LifeboatError as e:
            raise type(e)('repository %s does not verify: %s' % (name, e.msg), **e.details)
        out['verified'] = True
    return out


def get_snapshot(client, repository, name):
    answer = client.call('GET', rest_path('_snapshot', repository, name), ok_missing=True)
    snaps = (answer or {}).get('snapshots') or []
    return snaps[0] if snaps else None


def snapshot_status(client, repository, name):
    answer = client.call('GET', rest_path('_snapshot', repository, name, '_status'))
    snaps = (answer or {}).get('snapshots') or []
    if not snaps:
        raise NotFoundError('snapshot %s of repository %s disappeared' % (name, repository))
    return snaps[0]


def running_snapshots(client):
    answer = client.call('GET', '/_snapshot/_status')
    return [(s.get('repository'), s.get('snapshot'), s.get('state')) for s in (answer or {}).get('snapshots') or []]


def cat_indices(client, expression):
    """_cat/indices rows of an expression (every state; none when it names nothing)."""
    rows = client.call('GET', rest_path('_cat', 'indices', expression),
                       query={'format': 'json', 'bytes': 'b', 'expand_wildcards': 'all'}, ok_missing=True) or []
    return rows if isinstance(rows, list) else []


def _name_chunks(names, limit=3000):
    """Comma lists of names short enough for a URL (OpenSearch's first line is limited to 4 KB)."""
    chunk = []
    for name in names:
        if chunk and len(','.join(chunk + [name])) > limit:
            yield ','.join(chunk)
            chunk = []
        chunk.append(name)
    if chunk:
        yield ','.join(chunk)


def index_stats(client, expression, ignore_unavailable=True, cat=None):
    """Facts of the indices an expression names. Healthy open indices are refreshed first so their counts are
    exact (a refresh waits for unassigned primaries, so red and closed indices are left alone)."""
    query = {'ignore_unavailable': ignore_unavailable, 'allow_no_indices': True, 'expand_wildcards': OPEN_AND_HIDDEN}
    cat = cat_indices(client, expression) if cat is None else cat
    healthy = sorted(row['index'] for row in cat if row.get('status') == 'open' and row.get('health') != 'red')
    for names in _name_chunks(healthy):
        client.call('POST', rest_path(names, '_refresh'), query={'expand_wildcards': OPEN_AND_HIDDEN})
    stats = client.call('GET', rest_path(expression, '_stats', 'docs,store'), query=query) or {}
    aliases = client.call('GET', rest_path(expression, '_alias'), query=query, ok_missing=True) or {}
    return os_logic.index_facts(stats.get('indices') or {}, cat, aliases)


# ---------------------------------------------------------------- opensearch_snapshot state=present

def check_record_target(store_params, set_id, host=None):
    """The set to record into is open; with ``host``, this module's heartbeat in it starts now, so the store lock
    stays alive while the snapshot is taken and waited for."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
    with open_store(store_params) as store:
        lifecycle.require_open(store, set_id, host=host)


def _record_name(opts, cluster):
    name = opts.get('record_name') or cluster.get('cluster_name') or 'search'
    try:
        return set_format.validate_name(name, 'record_name')
    except LifeboatError:
        raise ConfigError('the cluster name %r cannot name the record in the set: give record_name' % name)


def take_snapshot(client, opts, check_mode=False, clock=time.time, sleep=time.sleep, log=_nolog):
    """state=present: repository ensured and verified, snapshot of the set taken, waited for, recorded."""
    t0 = clock()
    target = _snapshot_target(client, opts, check_mode)
    name, repo = target['name'], target['repository']
    result = _snapshot_result(target)
    # before anything is touched: a snapshot of another name running on the cluster (the snapshot thread pool
    # is busy then, and even the repository verification waits for it)
    ours = _ours_running(client, opts, repo, name, result)
    repository = ensure_repository(client, repo, opts.get('repository_type'), opts.get('repository_settings'),
                                   opts.get('verify_repository', True) and not ours, check_mode)
    result['changed'] = repository['changed']
    result['repository'] = repository
    expression, cat, exclude = _snapshot_expression(client, opts)
    existing = get_snapshot(client, repo, name) if repository['action'] != 'create' else None
    before = index_stats(client, expression, opts.get('ignore_unavailable', False),
                         [row for row in cat if not os_logic.matches(row.get('index', ''), exclude)])
    if check_mode:
        result.update(changed=result['changed'] or existing is None, indices=sorted(before),
                      snapshot={'name': name, 'state': existing.get('state') if existing else 'planned',
                                'indices': sorted(before)})
        return result
    _start_snapshot(client, opts, target, expression, existing, result, log)
    status, info = wait_snapshot(client, repo, name, int(opts.get('wait_timeout') or 3600), clock, sleep, log, result)
    result['snapshot'] = _snapshot_summary(info, repo)
    result['progress'] = status
    problem = os_logic.snapshot_outcome(info)
    if problem:
        raise LifeboatError('snapshot %s of set %s in repository %s is not usable: %s. Only a SUCCESS snapshot is '
                            'recorded; delete it (state=absent) and take a new one'
                            % (name, target['set_id'], repo, problem), **result)
    facts, stable = _snapshot_counts(client, expression, before, info)
    result['indices'] = facts
    result['counts_stable'] = stable
    if opts.get('record_in_set'):
        _record_snapshot(opts, target, repository, info, status, facts, stable, result, clock, t0)
    return result


def _snapshot_target(client, opts, check_mode):
    """What the snapshot is: {'set_id', 'name', 'repository', 'cluster', 'record_name', 'host'}; with
    record_in_set, the set to record into is checked to be open first (check_record_target)."""
    set_id = opts.get('set_id') or set_format.make_set_id(set_format.utcnow())
    set_format.parse_set_id(set_id)
    name = os_logic.snapshot_name(set_id, opts.get('snapshot_prefix'))
    repo = opts['repository']
    cluster = cluster_info(client)
    record_name = _record_name(opts, cluster)
    host = opts.get('host') or client.hosts[0].split('://', 1)[1].split(':')[0].split('/')[0]
    if opts.get('record_in_set'):
        if not opts.get('store'):
            raise ConfigError('record_in_set needs store')
        set_format.validate_host(host)
        if not check_mode:
            check_record_target(opts['store'], set_id, host=host)
    return {'set_id': set_id, 'name': name, 'repository': repo, 'cluster': cluster, 'record_name': record_name,
            'host': host}


def _snapshot_result(target):
    cluster = target['cluster']
    return {'changed': False, 'records': [], 'summary': [], 'snapshot_name': target['name'], 'set_id': target['set_id'],
            'cluster': {'name': cluster.get('cluster_name'), 'uuid': cluster.get('cluster_uuid'),
                        'version': cluster['version'].get('number'),
                        'distribution': cluster['version'].get('distribution', 'elasticsearch')}}


def _ours_running(client, opts, repo, name, result):
    """The running snapshots that are this one (it is being waited for again); another one running refuses the
    snapshot unless allow_concurrent."""
    running = running_snapshots(client)
    ours = [r for r in running if (r[0], r[1]) == (repo, name)]
    others = [r for r in running if (r[0], r[1]) != (repo, name)]
    if others and not ours and not opts.get('allow_concurrent'):
        raise LockedError('another snapshot is running on the cluster (%s); wait until it finished, or set '
                          'allow_concurrent. Nothing was taken'
                          % ', '.join('%s in repository %s: %s' % (r[1], r[0], r[2]) for r in others), **result)
    return ours


def _snapshot_expression(client, opts):
    """(the index expression of the snapshot, the _cat/indices rows of what it includes, the exclusions used)."""
    # an exclusion of a name that does not exist makes OpenSearch answer 404: exclude only what is there
    included = os_logic.index_expression(opts.get('indices'), [])
    cat = cat_indices(client, included)
    present = {row.get('index') for row in cat}
    exclude = [e for e in opts.get('exclude') or [] if '*' in e or e in present]
    return os_logic.index_expression(opts.get('indices'), exclude), cat, exclude


def _start_snapshot(client, opts, target, expression, existing, result, log):
    """Create the snapshot (without waiting for it), unless it exists already (running, or finished)."""
    name, repo, set_id = target['name'], target['repository'], target['set_id']
    body = {'indices': expression, 'ignore_unavailable': bool(opts.get('ignore_unavailable')),
            'include_global_state': bool(opts.get('include_global_state', True)), 'partial': False,
            'metadata': {os_logic.METADATA_KEY: {'set_id': set_id, 'host': target['host'],
                                                 'record_name': target['record_name']}}}
    if existing is None:
        log('creating snapshot %s in repository %s (%s)' % (name, repo, expression))
        try:
            client.call('PUT', rest_path('_snapshot', repo, name), body=body, query={'wait_for_completion': 'false'})
        except LifeboatError as e:
            if get_snapshot(client, repo, name) is None:
                raise type(e)('snapshot %s of set %s could not be started: %s. Nothing was recorded'
                              % (name, set_id, e.msg), **dict(result, **e.details))
            log('snapshot %s appeared while it was being created (a retried request): waiting for it' % name)
        result['changed'] = True
    elif existing.get('state') in os_logic.IN_PROGRESS_STATES:
        log('snapshot %s is already running: waiting for it' % name)
    else:
        log('snapshot %s exists already (%s): not taking it again' % (name, existing.get('state')))


def _snapshot_counts(client, expression, before, info):
    """The document counts of the indices the snapshot holds (from before it), and whether they stayed the same
    while it was taken: (facts, stable)."""
    held = set(info.get('indices') or [])
    after = index_stats(client, expression, True)
    facts = {k: v for k, v in before.items() if k in held}
    for missing in sorted(held - set(facts)):
        facts[missing] = {'docs': None, 'status': 'close'}
    return facts, os_logic.counts_equal(facts, {k: v for k, v in after.items() if k in facts})


def _record_snapshot(opts, target, repository, info, status, facts, stable, result, clock, t0):
    """Write the set record of the snapshot and its summary line into ``result``."""
    doc = os_logic.record_document(target['set_id'], target['cluster'],
                                   {'name': target['repository'], 'type': repository.get('type'),
                                    'settings': repository.get('settings')},
                                   info, status, facts, stable, target['host'])
    record = write_record(opts['store'], target['set_id'], target['host'], target['record_name'], doc, clock() - t0)
    docs, size = os_logic.doc_totals(facts)
    result['records'] = [record]
    result['summary'] = [{'host': target['host'], 'component': os_logic.COMPONENT, 'name': target['record_name'],
                          'size': status.get('size_total'), 'uncompressed_size': None,
                          'seconds': round(clock() - t0, 3), 'indices': len(facts), 'docs': docs,
                          'primary_bytes': size, 'snapshot': target['name']}]


def _snapshot_summary(info, repository):
    return {'repository': repository, 'name': info.get('snapshot'), 'uuid': info.get('uuid'), 'state': info.get('state'),
            'version': info.get('version'), 'indices': sorted(info.get('indices') or []),
            'data_streams': sorted(info.get('data_streams') or []), 'shards': info.get('shards') or {},
            'failures': info.get('failures') or [], 'start_time': info.get('start_time'), 'end_time': info.get('end_time'),
            'include_global_state': info.get('include_global_state'), 'metadata': info.get('metadata') or {},
            'set_id': ((info.get('metadata') or {}).get(os_logic.METADATA_KEY) or {}).get('set_id')}


def wait_snapshot(client, repo, name, timeout, clock=time.time, sleep=time.sleep, log=_nolog, result=None):
    """Poll until the snapshot is finished: its shards (``_status``) and then the snapshot itself (its
    SnapshotInfo says IN_PROGRESS until the repository was finalized, a moment after the last shard).
    Returns (last progress, SnapshotInfo). Raises on timeout."""
    started = clock()
    delays = os_logic.poll_delays()
    last = None
    info = None
    while True:
        prog = os_logic.progress(snapshot_status(client, repo, name))
        if prog['state'] not in os_logic.IN_PROGRESS_STATES:
            info = get_snapshot(client, repo, name)
            if info is None:
                raise NotFoundError('snapshot %s disappeared from repository %s' % (name, repo), **dict(result or {}))
            if info.get('state') not in os_logic.IN_PROGRESS_STATES:
                return prog, info
        text = os_logic.progress_text(prog)
        if text != last:
            log('snapshot %s: %s' % (name, text))
            last = text
        left = started + timeout - clock()
        if left <= 0:
            details = dict(result or {}, progress=prog)
            raise LifeboatError('timed out after %d seconds waiting for snapshot %s in repository %s (%s). The '
                                'snapshot goes on in the cluster; nothing was recorded. Run again with the same '
                                'set_id to keep waiting (raise wait_timeout), or delete it with state=absent'
                                % (timeout, name, repo, text), **details)
        sleep(min(next(delays) if info is None else 0.5, max(left, 0.1)))


def write_record(store_params, set_id, host, record_name, doc, seconds):
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import put_small_artifact
    docs, size = os_logic.doc_totals(doc['indices'])
    extra = {'repository': doc['repository']['name'], 'snapshot': doc['snapshot']['name'],
             'snapshot_uuid': doc['snapshot']['uuid'], 'state': doc['snapshot']['state'],
             'cluster_uuid': doc['cluster']['uuid'], 'version': doc['cluster']['version'],
             'indices': len(doc['indices']), 'docs': docs, 'primary_bytes': size,
             'snapshot_bytes': doc['snapshot'].get('size_in_bytes'), 'snapshot_seconds': round(seconds, 3)}
    with open_store(store_params) as store:
        return put_small_artifact(store, set_id, host, os_logic.COMPONENT, record_name, os_logic.ARTIFACT_KIND, 'json',
                                  '.json', 'opensearch:%s/%s' % (doc['repository']['name'], doc['snapshot']['name']),
                                  set_format.dumps(doc), extra=extra)


def read_record(store_params, set_id, host=None, record_name=None, pin=None):
    """The OpenSearch document of a completed set (the one of ``host``/``record_name`` when given)."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import get_small_artifact
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
    with open_store(store_params) as store:
        manifest, _digest = lifecycle.resolve_completed(store, set_id, pin)
        found = [r for r in manifest.get('artifacts', []) if r['component'] == os_logic.COMPONENT
                 and (not host or r['host'] == host) and (not record_name or r['name'] == record_name)]
        have = sorted('%s/%s' % (r['host'], r['name']) for r in manifest.get('artifacts', [])
                      if r['component'] == os_logic.COMPONENT)
        if not found:
            raise NotFoundError('set %s has no OpenSearch record%s%s (it has: %s)'
                                % (manifest['set_id'], ' of host %s' % host if host else '',
                                   ' named %s' % record_name if record_name else '', ', '.join(have) or 'none'))
        if len(found) > 1:
            raise ConfigError('set %s has several OpenSearch records (%s): name one with record_host and record_name'
                              % (manifest['set_id'], ', '.join(have)))
        what = 'OpenSearch record %s/%s in set %s' % (found[0]['host'], found[0]['name'], manifest['set_id'])
        doc = set_format.loads(get_small_artifact(store, found[0]), what)
    return os_logic.check_document(doc, manifest['set_id']), found[0]


# ---------------------------------------------------------------- state=absent, retention

def delete_snapshot(client, repository, name, check_mode=False, log=_nolog):
    """Delete one snapshot (a running one is aborted). Returns whether it existed."""
    existing = get_snapshot(client, repository, name)
    if existing is None:
        return False
    if not check_mode:
        log('deleting snapshot %s of repository %s' % (name, repository))
        client.call('DELETE', rest_path('_snapshot', repository, name), ok_missing=True)
    return True


def delete_set_snapshot(client, opts, check_mode=False, log=_nolog):
    """opensearch_snapshot state=absent: the set's snapshot in the repository."""
    set_id = opts.get('set_id')
    if not set_id:
        raise ConfigError('state=absent needs set_id')
    set_format.parse_set_id(set_id)
    name = os_logic.snapshot_name(set_id, opts.get('snapshot_prefix'))
    if get_repository(client, opts['repository']) is None:
        raise NotFoundError('repository %s is not registered on the cluster (%s)' % (opts['repository'], client.describe()))
    deleted = delete_snapshot(client, opts['repository'], name, check_mode, log)
    return {'changed': deleted, 'deleted': [name] if deleted else [], 'snapshot_name': name, 'set_id': set_id,
            'records': [], 'summary': []}


def delete_recorded(client, doc, check_mode=False, log=_nolog):
    """For retention (issue 12): delete the snapshot a pruned set's OpenSearch record names, through the API
    (never by removing repository files). The uuid must match: a snapshot of the same name taken later is kept."""
    repo, name = doc['repository']['name'], doc['snapshot']['name']
    existing = get_snapshot(client, repo, name)
    if existing is None:
        return {'changed': False, 'deleted': [], 'repository': repo, 'snapshot_name': name}
    if doc['snapshot'].get('uuid') and existing.get('uuid') != doc['snapshot']['uuid']:
        raise ConfigError('snapshot %s in repository %s is not the one set %s recorded (uuid %s, recorded %s); it '
                          'was left alone' % (name, repo, doc.get('set_id'), existing.get('uuid'), doc['snapshot']['uuid']))
    delete_snapshot(client, repo, name, check_mode, log)
    return {'changed': True, 'deleted': [name], 'repository': repo, 'snapshot_name': name}


# ---------------------------------------------------------------- opensearch_snapshot_info

def list_snapshots(client, opts):
    """Repositories (by name or pattern) and their snapshots, optionally only those of one set id."""
    pattern = opts.get('repository') or '*'
    answer = client.call('GET', rest_path('_snapshot', pattern), ok_missing=True) or {}
    repositories = [{'name': name, 'type': repo.get('type'), 'settings': repo.get('settings') or {}}
                    for name, repo in sorted(answer.items())]
    snapshots = []
    want_name = os_logic.snapshot_name(opts['set_id'], opts.get('snapshot_prefix')) if opts.get('set_id') else None
    if opts.get('snapshots', True):
        for repo in repositories:
            listing = client.call('GET', rest_path('_snapshot', repo['name'], want_name or '_all'),
                                  query={'ignore_unavailable': 'true'}, ok_missing=True) or {}
            for info in listing.get('snapshots') or []:
                item = _snapshot_summary(info, repo['name'])
                item['set_id'] = item['set_id'] or os_logic.set_id_of(info.get('snapshot', ''), opts.get('snapshot_prefix'))
                item['index_count'] = len(item['indices'])
                if not opts.get('with_indices'):
                    item.pop('indices')
                snapshots.append(item)
    snapshots.sort(key=lambda s: (s.get('start_time') or '', s['repository'], s['name']), reverse=True)
    return {'changed': False, 'repositories': repositories, 'snapshots': snapshots}


# ---------------------------------------------------------------- opensearch_snapshot_restore

def _existing_indices(client):
    rows = client.call('GET', '/_cat/indices', query={'format': 'json', 'h': 'index,status', 'expand_wildcards': 'all'}) or []
    return {row['index']: row.get('status') for row in rows}


def _disk_check(client, plan, doc, index_settings):
    settings = client.call('GET', '/_cluster/settings', query={'include_defaults': 'true', 'flat_settings': 'true'}) or {}
    merged = {}
    for part in ('defaults', 'persistent', 'transient'):
        merged.update(settings.get(part) or {})
    enabled = str(merged.get('cluster.routing.allocation.disk.threshold_enabled', 'true')).lower() == 'true'
    high = merged.get('cluster.routing.allocation.disk.watermark.high', '90%')
    facts = {'threshold_enabled': enabled, 'high_watermark': high, 'needed_bytes': None}
    if not enabled:
        return facts, []
    if doc is None:
        facts['note'] = 'the needed space is unknown without the set record; only nodes above the watermark are checked'
    needed = 0
    replicas_override = (index_settings or {}).get('index.number_of_replicas', (index_settings or {}).get('number_of_replicas'))
    for item in plan:
        index = ((doc or {}).get('indices') or {}).get(item['index']) or {}
        primary = index.get('primary_size_in_bytes') or 0
        replicas = index.get('replicas') or 0
        if replicas_override is not None:
            replicas = int(replicas_override)
        needed += primary * (1 + replicas)
    facts['needed_bytes'] = needed if doc is not None else None
    stats = client.call('GET', '/_nodes/stats/fs', query={'filter_path': 'nodes.*.name,nodes.*.roles,nodes.*.fs.total'}) or {}
    nodes = {}
    for node_id, node in (stats.get('nodes') or {}).items():
        roles = set(node.get('roles') or [])
        if roles and not roles & {'data', 'data_hot', 'data_content'}:
            continue
        total = ((node.get('fs') or {}).get('total') or {})
        nodes[node.get('name', node_id)] = (int(total.get('total_in_bytes', 0)), int(total.get('available_in_bytes', 0)))
    facts['nodes'] = {k: {'total_bytes': t, 'available_bytes': a} for k, (t, a) in nodes.items()}
    return facts, os_logic.disk_problems(nodes, high, needed, True)


def restore_preflight(client, opts, doc, repo, snap, check_mode):
    """Everything a restore checks before it changes anything; returns (facts, plan, problems)."""
    problems = []
    cluster = cluster_info(client)
    facts = {'repository': repo, 'snapshot': snap,
             'cluster': {'name': cluster.get('cluster_name'), 'uuid': cluster.get('cluster_uuid'),
                         'version': cluster['version'].get('number')}}
    try:
        repository = ensure_repository(client, repo, opts.get('repository_type'), opts.get('repository_settings'),
                                       True, check_mode)
    except LifeboatError as e:
        problems.append(e.msg)
        return facts, [], problems
    facts['repository_action'] = repository['action']
    if repository['action'] == 'create' and check_mode:
        problems.append('repository %s would be registered first; run without check mode to look into it' % repo)
        return facts, [], problems
    missing = sorted(set(repository_nodes(client)) - set(repository['verified_nodes']))
    facts['verified_nodes'] = repository['verified_nodes']
    if missing:
        problems.append('repository %s was not verified from node(s) %s' % (repo, ', '.join(missing)))
    info = get_snapshot(client, repo, snap)
    if info is None:
        problems.append('snapshot %s is not in repository %s%s; nothing can be restored from it'
                        % (snap, repo, ' although set %s recorded it: it was deleted after the backup (or the '
                           'repository points elsewhere)' % doc['set_id'] if doc else ''))
        return facts, [], problems
    facts['snapshot_info'] = _snapshot_summary(info, repo)
    if doc is not None and doc['snapshot'].get('uuid') and info.get('uuid') != doc['snapshot']['uuid']:
        problems.append('snapshot %s in repository %s is not the one set %s recorded (uuid %s, recorded %s)'
                        % (snap, repo, doc['set_id'], info.get('uuid'), doc['snapshot']['uuid']))
    outcome = os_logic.snapshot_outcome(info)
    if outcome:
        problems.append('snapshot %s cannot be restored: %s' % (snap, outcome))
    version = os_logic.version_problem(info.get('version'), cluster['version']) if info.get('version') else None
    if version:
        problems.append(version)
    plan, plan_problems = os_logic.restore_plan(info.get('indices') or [], opts.get('indices'), opts.get('exclude'),
                                                opts.get('rename_pattern'), opts.get('rename_replacement'),
                                                _existing_indices(client), opts.get('force'), opts.get('existing') or 'close')
    problems.extend(plan_problems)
    disk, disk_problems = _disk_check(client, plan, doc, opts.get('index_settings'))
    facts['disk'] = disk
    problems.extend(disk_problems)
    return facts, plan, problems


def restore_snapshot(client, opts, check_mode=False, clock=time.time, sleep=time.sleep, log=_nolog):
    """opensearch_snapshot_restore: preflight, then (with force) close/delete, restore, wait, count."""
    t0 = clock()
    doc, record, set_id, repo, snap = _restore_source(opts)
    facts, plan, problems = restore_preflight(client, opts, doc, repo, snap, check_mode)
    result = {'changed': False, 'preflight': facts, 'plan': plan, 'set_id': set_id, 'snapshot_name': snap,
              'repository': repo, 'record': record}
    if problems:
        raise LifeboatError('the restore of snapshot %s from repository %s was refused before anything changed: %s'
                            % (snap, repo, '; '.join(problems)), problems=problems, **result)
    result['changed'] = bool(plan)
    if check_mode:
        return result
    _make_room(client, plan, result, log)
    _start_restore(client, repo, snap, _restore_body(opts, plan), plan, result)
    targets = [item['target'] for item in plan]
    if not opts.get('wait', True):
        result['seconds'] = round(clock() - t0, 3)
        return result
    result['recovery'] = wait_restored(client, targets, opts.get('wait_for_status') or 'yellow',
                                       int(opts.get('wait_timeout') or 3600), clock, sleep, log, result)
    counts = restored_counts(client, targets)
    result['counts'] = counts
    if doc is not None and opts.get('verify_counts', True):
        _check_counts(doc, counts, plan, snap, set_id, result)
    result['seconds'] = round(clock() - t0, 3)
    return result


def _restore_source(opts):
    """What is restored: (the set record's document or None, the record or None, set_id, repository, snapshot)."""
    doc = None
    record = None
    set_id = opts.get('set_id')
    if opts.get('store'):
        if not set_id:
            raise ConfigError('with store, set_id names the set whose OpenSearch record is restored')
        doc, record = read_record(opts['store'], set_id, opts.get('record_host'), opts.get('record_name'),
                                  opts.get('manifest_sha256'))
        set_id = doc['set_id']
    repo = opts.get('repository') or (doc or {}).get('repository', {}).get('name')
    if not repo:
        raise ConfigError('repository is needed (or store and set_id, to take it from the set record)')
    snap = opts.get('snapshot') or ((doc or {}).get('snapshot') or {}).get('name')
    if not snap:
        if not set_id:
            raise ConfigError('give snapshot, or set_id (the snapshot named after the set)')
        snap = os_logic.snapshot_name(set_id, opts.get('snapshot_prefix'))
    return doc, record, set_id, repo, snap


def _make_room(client, plan, result, log):
    """Close or delete the existing indices the plan restores over (force)."""
    changed_so_far = []
    for item in plan:
        try:
            if item['action'] == 'close-and-restore':
                log('closing index %s' % item['target'])
                client.call('POST', rest_path(item['target'], '_close'))
                changed_so_far.append('closed ' + item['target'])
            elif item['action'] == 'delete-and-restore':
                log('deleting index %s' % item['target'])
                client.call('DELETE', rest_path(item['target']))
                changed_so_far.append('deleted ' + item['target'])
        except LifeboatError as e:
            raise type(e)('%s. Nothing was restored; done before the failure: %s'
                          % (e.msg, ', '.join(changed_so_far) or 'nothing'), **result)


def _restore_body(opts, plan):
    body = {'indices': ','.join(item['index'] for item in plan), 'ignore_unavailable': False, 'partial': False,
            'include_global_state': bool(opts.get('include_global_state')),
            'include_aliases': bool(opts.get('include_aliases', True))}
    if opts.get('rename_pattern'):
        body['rename_pattern'] = opts['rename_pattern']
        body['rename_replacement'] = opts.get('rename_replacement') or ''
    if opts.get('index_settings'):
        body['index_settings'] = opts['index_settings']
    if opts.get('ignore_index_settings'):
        body['ignore_index_settings'] = ','.join(opts['ignore_index_settings'])
    return body


def _start_restore(client, repo, snap, body, plan, result):
    """Start the restore (without waiting for it); a refusal names the indices already closed or deleted."""
    closed = [item['target'] for item in plan if item['action'] in ('close-and-restore', 'restore-closed')]
    deleted = [item['target'] for item in plan if item['action'] == 'delete-and-restore']
    try:
        client.call('POST', rest_path('_snapshot', repo, snap, '_restore'), body=body, query={'wait_for_completion': 'false'})
    except LifeboatError as e:
        left = ''
        if closed:
            left += ' Closed and not restored: %s (open them again with POST <index>/_open).' % ', '.join(closed)
        if deleted:
            left += ' Deleted and not restored: %s.' % ', '.join(deleted)
        raise type(e)('the restore of snapshot %s could not be started: %s.%s' % (snap, e.msg, left), **result)


def _check_counts(doc, counts, plan, snap, set_id, result):
    """The restored document counts against the set record's (a mismatch fails when the counts were stable)."""
    mismatches = os_logic.count_mismatches(doc['indices'], counts, plan, doc.get('counts_stable', True))
    result['count_mismatches'] = mismatches
    if mismatches and doc.get('counts_stable', True):
        raise DamagedError('restored snapshot %s, but the document counts differ from set %s: %s'
                           % (snap, set_id, '; '.join(mismatches)), **result)


def restored_counts(client, targets):
    query = {'expand_wildcards': OPEN_AND_HIDDEN}
    expression = ','.join(targets)
    client.call('POST', rest_path(expression, '_refresh'), query=query)
    stats = client.call('GET', rest_path(expression, '_stats', 'docs'), query=query) or {}
    return {name: int(((s.get('primaries') or {}).get('docs') or {}).get('count', 0))
            for name, s in (stats.get('indices') or {}).items()}


def _recovery_progress(answer):
    shards = done = 0
    bytes_total = bytes_done = 0
    for index in (answer or {}).values():
        for shard in index.get('shards') or []:
            shards += 1
            if shard.get('stage') == 'DONE':
                done += 1
            size = ((shard.get('index') or {}).get('size') or {})
            bytes_total += int(size.get('total_in_bytes', 0) or 0)
            bytes_done += int(size.get('recovered_in_bytes', 0) or 0)
    return {'shards_done': done, 'shards_total': shards, 'bytes_done': bytes_done, 'bytes_total': bytes_total}


def wait_restored(client, targets, status, timeout, clock=time.time, sleep=time.sleep, log=_nolog, result=None):
    """Wait until the restored indices reach ``status`` and no recovery of theirs is active."""
    started = clock()
    delays = os_logic.poll_delays()
    expression = ','.join(targets)
    last = None
    while True:
        left = started + timeout - clock()
        step = int(max(1, min(10, left)))
        health = client.call('GET', rest_path('_cluster', 'health', expression),
                             query={'wait_for_status': status, 'timeout': '%ds' % step, 'level': 'cluster'},
                             timeout=step + 30) or {}
        recovery = client.call('GET', rest_path(expression, '_recovery'), query={'active_only': 'false'}) or {}
        prog = _recovery_progress(recovery)
        prog['health'] = health.get('status')
        if not health.get('timed_out') and prog['shards_done'] >= prog['shards_total'] > 0:
            return prog
        text = '%s, %d/%d shards recovered, %s of %s' % (
            prog['health'], prog['shards_done'], prog['shards_total'], os_logic.human_bytes(prog['bytes_done']),
            os_logic.human_bytes(prog['bytes_total']))
        if text != last:
            log('restore: ' + text)
            last = text
        if clock() - started >= timeout:
            raise LifeboatError('timed out after %d seconds waiting for the restored indices to be %s (%s). The '
                                'recovery goes on in the cluster: watch GET _cat/recovery'
                                % (timeout, status, text), **dict(result or {}, recovery=prog))
        sleep(min(next(delays), 2.0))
