# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSearch snapshots, the pure part: names, option checks, what the REST answers mean, the record document,
restore plans and preflight checks. Plain values in, plain values out; no HTTP here (client.py does that).

The same REST calls serve OpenSearch 1.x-3.x and Elasticsearch 7.x-8.x (docs/opensearch.md says what is tested).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DamagedError, DeniedError, LifeboatError, LockedError, NotFoundError, UnreachableError)

COMPONENT = 'opensearch'
RECORD_KIND = 'lifeboat.backup/opensearch-snapshot'
ARTIFACT_KIND = 'opensearch-snapshot'
SUCCESS = 'SUCCESS'
IN_PROGRESS_STATES = ('IN_PROGRESS', 'STARTED', 'INIT')
METADATA_KEY = 'lifeboat'

# the connection options every OpenSearch module takes (documented in doc_fragments/opensearch.py)
CONNECTION_SPEC = dict(
    hosts=dict(type='list', elements='str', required=True, aliases=['urls']),
    auth_type=dict(type='str', default='auto', choices=['auto', 'none', 'basic', 'sigv4']),
    username=dict(type='str', aliases=['login_user']),
    password=dict(type='str', no_log=True, aliases=['login_password']),
    ca_path=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path', no_log=False),
    validate_certs=dict(type='bool', default=True),
    request_timeout=dict(type='int', default=60),
    aws_region=dict(type='str'),
    aws_service=dict(type='str', default='es', choices=['es', 'aoss']),
    aws_profile=dict(type='str'),
    aws_access_key=dict(type='str', no_log=False),
    aws_secret_key=dict(type='str', no_log=True),
    aws_session_token=dict(type='str', no_log=True),
)
CONNECTION_TOGETHER = [('aws_access_key', 'aws_secret_key'), ('client_cert', 'client_key')]

# what OpenSearch accepts in a snapshot name (lowercase, none of these characters)
_BAD_NAME_CHARS = set('\\/*?"<>| ,#:')
_SET_ID_RE = re.compile(r'^(\d{8})t(\d{6})z(-[a-z0-9][a-z0-9_.-]{0,62})?$')


# ---------------------------------------------------------------- names

def snapshot_name(set_id, prefix=''):
    """The snapshot of a set: its id in lowercase (OpenSearch refuses uppercase), after an optional prefix."""
    name = (prefix or '') + set_id.lower()
    validate_snapshot_name(name)
    return name


def validate_snapshot_name(name):
    if not name or name != name.lower() or name.startswith(('_', '-')) or set(name) & _BAD_NAME_CHARS:
        raise ConfigError('%r is not a valid snapshot name: lowercase, not starting with _ or -, none of %s'
                          % (name, ' '.join(sorted(_BAD_NAME_CHARS - {' '}))))
    return name


def set_id_of(name, prefix=''):
    """The set id a snapshot name was made from, or None when it is not one of ours."""
    if prefix:
        if not name.startswith(prefix):
            return None
        name = name[len(prefix):]
    match = _SET_ID_RE.match(name)
    if not match:
        return None
    return '%sT%sZ%s' % (match.group(1), match.group(2), match.group(3) or '')


def index_expression(indices, exclude):
    """The comma list of the snapshot API: patterns to take, then ``-pattern`` for each exclusion."""
    include = [i.strip() for i in (indices or ['*']) if i and i.strip()]
    if not include:
        include = ['*']
    for pattern in include + list(exclude or []):
        if ',' in pattern or pattern.startswith('-') and pattern in include:
            raise ConfigError('index pattern %r: give one pattern per list item, exclusions in exclude' % pattern)
    return ','.join(include + ['-' + e.strip() for e in (exclude or []) if e and e.strip()])


def matches(name, patterns):
    """Whether an index name matches one of the simple wildcard patterns (``*`` only, as OpenSearch's)."""
    return any(re.match('^' + '.*'.join(re.escape(part) for part in pattern.split('*')) + '$', name) for pattern in patterns)


def select_indices(names, indices, exclude):
    """The names selected by include patterns (default all) minus the exclude patterns, sorted."""
    include = [i for i in (indices or []) if i] or ['*']
    return sorted(n for n in names if matches(n, include) and not matches(n, exclude or []))


# ---------------------------------------------------------------- repositories

def repository_wanted(repo_type, settings):
    """The body of PUT _snapshot/<name>: type and settings with values as strings (as GET returns them)."""
    if repo_type not in ('fs', 's3'):
        raise ConfigError('repository_type must be fs or s3, not %r' % (repo_type,))
    settings = dict(settings or {})
    if repo_type == 'fs' and not settings.get('location'):
        raise ConfigError('an fs repository needs repository_settings.location (a directory under path.repo)')
    if repo_type == 's3' and not settings.get('bucket'):
        raise ConfigError('an s3 repository needs repository_settings.bucket')
    for key in ('access_key', 'secret_key', 'session_token'):
        if key in settings:
            raise ConfigError('repository_settings.%s: S3 keys belong in the keystore of every node '
                              '(s3.client.<client>.%s, then POST _nodes/reload_secure_settings), not in the '
                              'repository settings' % (key, key))
    return {'type': repo_type, 'settings': {k: _setting_text(v) for k, v in settings.items()}}


def _setting_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def repository_differences(existing, wanted):
    """Settings of ``wanted`` that the existing repository does not have (names), and a type mismatch."""
    diffs = []
    if existing.get('type') != wanted['type']:
        diffs.append('type %s (is %s)' % (wanted['type'], existing.get('type')))
    have = existing.get('settings') or {}
    for key, value in sorted(wanted['settings'].items()):
        if _setting_text(have.get(key)) != value:
            diffs.append('%s=%s (is %s)' % (key, value, have.get(key, 'unset')))
    return diffs


def _norm_dir(path):
    path = re.sub('/+', '/', str(path))
    return path.rstrip('/') or '/'


def location_problems(location, node_path_repos):
    """Nodes whose path.repo does not hold an fs location. ``node_path_repos``: {node name: [paths]}.

    Relative locations are resolved by OpenSearch against the first path.repo entry; they are accepted here
    when a node has path.repo at all.
    """
    problems = []
    for node, roots in sorted(node_path_repos.items()):
        roots = [_norm_dir(r) for r in roots or []]
        if not roots:
            problems.append('node %s has no path.repo setting' % node)
            continue
        if not str(location).startswith('/'):
            continue
        loc = _norm_dir(location)
        if not any(loc == r or loc.startswith(r.rstrip('/') + '/') for r in roots):
            problems.append('node %s has path.repo %s' % (node, ', '.join(roots)))
    return problems


def path_repo_of(node_settings):
    """path.repo from one node of GET _nodes/settings (a list, a comma string, or missing)."""
    path = (node_settings.get('settings') or {}).get('path') or {}
    repo = path.get('repo')
    if repo is None:
        repo = (node_settings.get('settings') or {}).get('path.repo')
    if repo is None:
        return []
    if isinstance(repo, str):
        return [r.strip() for r in repo.split(',') if r.strip()]
    return [str(r) for r in repo]


def redact_settings(settings):
    """Repository settings fit for a record: nothing that looks like a secret."""
    return {k: ('<redacted>' if re.search(r'(secret|password|token|key$)', k) and k not in ('base_path',) else v)
            for k, v in (settings or {}).items()}


# ---------------------------------------------------------------- errors from the REST API

def error_reason(body):
    """One line out of an OpenSearch error body: type and reason of the root cause (and the caused_by)."""
    if not isinstance(body, dict):
        return str(body or '').strip()[:500] or 'no reason given'
    err = body.get('error')
    if isinstance(err, str):
        return err
    if not isinstance(err, dict):
        return str(body)[:500]
    parts = []
    root = (err.get('root_cause') or [None])[0]
    for item in (root, err, err.get('caused_by')):
        if isinstance(item, dict) and item.get('reason'):
            text = '%s: %s' % (item.get('type', 'error'), item['reason'])
            if text not in parts:
                parts.append(text)
    return '; '.join(parts) or str(err)[:500]


def error_types(body):
    err = body.get('error') if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return set()
    found = {err.get('type')}
    for item in (err.get('root_cause') or []) + [err.get('caused_by')]:
        if isinstance(item, dict):
            found.add(item.get('type'))
    return {t for t in found if t}


def http_error(status, body, what):
    """The typed error for an HTTP error answer to ``what`` (e.g. 'GET _snapshot/backups')."""
    reason = error_reason(body)
    types = error_types(body)
    msg = '%s failed (HTTP %s): %s' % (what, status, reason)
    if status == 401:
        return DeniedError('%s was refused (HTTP 401): the credentials were not accepted (check username and '
                           'password, or the SigV4 credentials)' % what, status=status)
    if status == 403:
        return DeniedError('%s was refused (HTTP 403): the user lacks a permission it needs: %s' % (what, reason),
                           status=status)
    if 'path.repo' in reason or "doesn't match any of the locations" in reason:
        return ConfigError('%s failed: the location is not under path.repo of the nodes (%s). Add the directory '
                           'to path.repo in opensearch.yml on every node and restart them, or choose a location '
                           'under it' % (what, reason), status=status)
    if status == 404 or types & {'snapshot_missing_exception', 'repository_missing_exception',
                                 'index_not_found_exception', 'resource_not_found_exception'}:
        return NotFoundError(msg, status=status)
    if types & {'concurrent_snapshot_execution_exception'}:
        return LockedError('%s refused: another snapshot or restore is running (%s)' % (what, reason), status=status)
    if status in (502, 503, 504):
        return UnreachableError(msg, status=status)
    return LifeboatError(msg, status=status)


# ---------------------------------------------------------------- snapshot states and progress

def progress(status_doc):
    """Shards done/total and bytes from one entry of GET _snapshot/<repo>/<snap>/_status.

    ``bytes_total`` is what this snapshot copies (its incremental size: files the repository does not hold yet);
    ``bytes_done`` how much of it is copied; ``size_total`` the size of every file the snapshot references.
    """
    shards = status_doc.get('shards_stats') or {}
    stats = status_doc.get('stats') or {}
    incremental = int((stats.get('incremental') or {}).get('size_in_bytes', 0) or 0)
    processed = stats.get('processed')
    if processed:
        done = int(processed.get('size_in_bytes', 0) or 0)
    else:
        done = incremental if status_doc.get('state') == SUCCESS else 0
    return {
        'state': status_doc.get('state'),
        'shards_done': int(shards.get('done', 0)),
        'shards_failed': int(shards.get('failed', 0)),
        'shards_total': int(shards.get('total', 0)),
        'bytes_done': done,
        'bytes_total': incremental,
        'size_total': int((stats.get('total') or {}).get('size_in_bytes', 0) or 0),
        'files_total': int((stats.get('total') or {}).get('file_count', 0) or 0),
    }


def progress_text(prog):
    return '%d/%d shards done, %s of %s' % (prog['shards_done'], prog['shards_total'], human_bytes(prog['bytes_done']),
                                            human_bytes(prog['bytes_total']))


def human_bytes(value):
    value = float(value or 0)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if value < 1024 or unit == 'TiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return '%d B' % value


def shard_failures_text(info, limit=5):
    failures = info.get('failures') or []
    if not failures:
        return 'no shard failures were reported'
    parts = []
    for item in failures[:limit]:
        parts.append('[%s][%s] %s%s' % (item.get('index'), item.get('shard_id'), item.get('reason') or item.get('status'),
                                        ' on node %s' % item['node_id'] if item.get('node_id') else ''))
    more = len(failures) - limit
    return '; '.join(parts) + (' (and %d more)' % more if more > 0 else '')


def snapshot_outcome(info):
    """None when a finished snapshot is usable (SUCCESS), else the reason it is not (quoting shard failures)."""
    state = info.get('state')
    if state == SUCCESS:
        shards = info.get('shards') or {}
        if shards.get('failed'):
            return 'it is SUCCESS but %s shard(s) failed: %s' % (shards['failed'], shard_failures_text(info))
        return None
    if state in IN_PROGRESS_STATES:
        return 'it is still %s' % state
    shards = info.get('shards') or {}
    return 'it ended %s (%s of %s shards failed): %s%s' % (
        state, shards.get('failed', '?'), shards.get('total', '?'), shard_failures_text(info),
        '; reason: %s' % info['reason'] if info.get('reason') else '')


def poll_delays(first=0.5, factor=1.3, cap=5.0):
    """Seconds between polls of a snapshot or restore: short at first, at most ``cap`` (a finished snapshot is
    seen within that; measured at 1 GB, a 10 s cap cost up to 8 s of a 29 s snapshot)."""
    delay = float(first)
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)


# ---------------------------------------------------------------- versions

def parse_version(text):
    match = re.match(r'^(\d+)\.(\d+)\.(\d+)', str(text or ''))
    if not match:
        raise ConfigError('cannot read the version %r' % (text,))
    return tuple(int(x) for x in match.groups())


def version_key(text):
    """An order over Elasticsearch and OpenSearch versions: OpenSearch (majors 1-4) forked from Elasticsearch 7.10.2
    and sorts after it, Elasticsearch 8+ after both (OpenSearch cannot read it)."""
    major, minor, patch = parse_version(text)
    if major <= 4:
        return (7, 10, 3, major, minor, patch)
    return (major, minor, patch, 0, 0, 0)


def version_problem(snapshot_version, cluster):
    """Why the cluster cannot read a snapshot of that version (None when it can).

    ``cluster``: GET / ``version`` (number, distribution, minimum_index_compatibility_version). A cluster reads
    snapshots from its own version down to its minimum index compatibility version, never newer ones, and
    Elasticsearch does not read OpenSearch snapshots.
    """
    distribution = cluster.get('distribution') or 'elasticsearch'
    snap = version_key(snapshot_version)
    have = version_key(cluster.get('number'))
    label = '%s %s' % (distribution, cluster.get('number'))
    if distribution != 'opensearch' and snap[:3] == (7, 10, 3):
        return 'the snapshot was taken by OpenSearch %s; this cluster (%s) cannot read it' % (snapshot_version, label)
    if snap > have:
        return ('the snapshot was taken by version %s, newer than this cluster (%s): a cluster cannot read '
                'snapshots of newer versions' % (snapshot_version, label))
    minimum = cluster.get('minimum_index_compatibility_version')
    if minimum and snap < version_key(minimum):
        return ('the snapshot was taken by version %s; this cluster (%s) reads indices from version %s on only'
                % (snapshot_version, label, minimum))
    return None


# ---------------------------------------------------------------- the record document

def record_document(set_id, cluster, repository, info, status, indices, counts_stable, taken_by):
    """The JSON document the set keeps for one snapshot.

    ``cluster``: GET / answer; ``repository``: {name, type, settings}; ``info``: the SnapshotInfo of GET
    _snapshot/<repo>/<snap>; ``status``: progress() of its _status; ``indices``: {name: facts} measured right
    before the snapshot (docs, sizes, shards, uuid, aliases) for the indices the snapshot holds.
    """
    version = cluster.get('version') or {}
    return {
        'schema_version': 1,
        'kind': RECORD_KIND,
        'set_id': set_id,
        'cluster': {'name': cluster.get('cluster_name'), 'uuid': cluster.get('cluster_uuid'),
                    'version': version.get('number'), 'distribution': version.get('distribution', 'elasticsearch'),
                    'node': taken_by},
        'repository': {'name': repository['name'], 'type': repository.get('type'),
                       'settings': redact_settings(repository.get('settings'))},
        'snapshot': {
            'name': info.get('snapshot'), 'uuid': info.get('uuid'), 'state': info.get('state'),
            'version': info.get('version'), 'version_id': info.get('version_id'),
            'include_global_state': info.get('include_global_state'),
            'indices': sorted(info.get('indices') or []), 'data_streams': sorted(info.get('data_streams') or []),
            'shards': info.get('shards') or {}, 'start_time': info.get('start_time'), 'end_time': info.get('end_time'),
            'duration_in_millis': info.get('duration_in_millis'),
            'size_in_bytes': status.get('size_total'), 'incremental_size_in_bytes': status.get('bytes_total'),
            'file_count': status.get('files_total'),
        },
        'indices': indices,
        'counts_stable': bool(counts_stable),
    }


def check_document(doc, set_id):
    if not isinstance(doc, dict) or doc.get('kind') != RECORD_KIND:
        raise DamagedError('the OpenSearch record in set %s is not an OpenSearch snapshot document' % set_id)
    if doc.get('set_id') != set_id:
        raise DamagedError('the OpenSearch record names set %r, not %r' % (doc.get('set_id'), set_id))
    for key in ('repository', 'snapshot', 'indices', 'cluster'):
        if not isinstance(doc.get(key), dict):
            raise DamagedError('the OpenSearch record in set %s has no %s' % (set_id, key))
    return doc


def index_facts(stats_indices, cat_rows, aliases):
    """Per index: docs (primaries), sizes, shard counts, uuid, health, status and aliases.

    ``stats_indices``: GET <expr>/_stats/docs,store ``indices``; ``cat_rows``: GET _cat/indices?format=json&bytes=b;
    ``aliases``: GET <expr>/_alias answer.
    """
    cat = {row.get('index'): row for row in cat_rows or []}
    out = {}
    for name, stats in sorted((stats_indices or {}).items()):
        prim = stats.get('primaries') or {}
        total = stats.get('total') or {}
        row = cat.get(name) or {}
        out[name] = {
            'uuid': stats.get('uuid') or row.get('uuid'),
            'docs': int((prim.get('docs') or {}).get('count', 0)),
            'deleted_docs': int((prim.get('docs') or {}).get('deleted', 0)),
            'primary_size_in_bytes': int((prim.get('store') or {}).get('size_in_bytes', 0)),
            'size_in_bytes': int((total.get('store') or {}).get('size_in_bytes', 0)),
            'primary_shards': _int_or_none(row.get('pri')),
            'replicas': _int_or_none(row.get('rep')),
            'health': row.get('health'),
            'status': row.get('status'),
            'aliases': sorted(((aliases or {}).get(name) or {}).get('aliases', {}).keys()),
        }
    return out


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def doc_totals(indices):
    return sum(i.get('docs') or 0 for i in indices.values()), sum(i.get('primary_size_in_bytes') or 0 for i in indices.values())


def counts_equal(before, after):
    return {k: v.get('docs') for k, v in before.items()} == {k: v.get('docs') for k, v in after.items()}


# ---------------------------------------------------------------- restore plans and preflight

def rename(name, pattern, replacement):
    """What a restore with rename_pattern/rename_replacement calls an index (Java regex, $1 groups)."""
    if not pattern:
        return name
    py_replacement = re.sub(r'\$(\d+)', r'\\\1', replacement or '')
    try:
        return re.sub(pattern, py_replacement, name)
    except re.error as e:
        raise ConfigError('rename_pattern %r is not a regular expression: %s' % (pattern, e))


def restore_plan(snapshot_indices, indices, exclude, rename_pattern, rename_replacement, existing, force, existing_action):
    """Which snapshot indices are restored as what, and what happens to indices already there.

    ``existing``: {name: status ('open'/'close')} of the cluster's indices. Returns (plan, problems); plan items:
    index, target, exists (None/open/close), action (create / close-and-restore / delete-and-restore / restore-closed).
    """
    selected = select_indices(snapshot_indices, indices, exclude)
    problems = []
    named = [i for i in (indices or []) if i and '*' not in i]
    missing = sorted(set(named) - set(snapshot_indices))
    if missing:
        problems.append('the snapshot has no index %s (it has: %s)' % (', '.join(missing), ', '.join(sorted(snapshot_indices)) or 'none'))
    if not selected and not missing:
        problems.append('no index of the snapshot matches %s' % ', '.join(indices or ['*']))
    plan = []
    targets = {}
    for name in selected:
        target = rename(name, rename_pattern, rename_replacement)
        if target != target.lower() or not target or target.startswith(('_', '-', '+')):
            problems.append('index %s would be restored as %r, which is not a valid index name' % (name, target))
        if target in targets:
            problems.append('indices %s and %s would both be restored as %s' % (targets[target], name, target))
        targets[target] = name
        state = existing.get(target)
        if state is None:
            action = 'create'
        elif not force:
            action = 'refused'
            problems.append('index %s exists (%s)%s: restoring would replace it. Set force (existing: %s) to '
                            'replace it, or restore renamed (rename_pattern/rename_replacement)'
                            % (target, 'open' if state == 'open' else 'closed',
                               ' as the target of %s' % name if target != name else '', existing_action))
        elif existing_action == 'delete':
            action = 'delete-and-restore'
        elif state == 'open':
            action = 'close-and-restore'
        else:
            action = 'restore-closed'
        plan.append({'index': name, 'target': target, 'exists': state, 'action': action})
    return plan, problems


def parse_watermark(value):
    """A disk watermark: ('percent', used%) or ('bytes', free bytes needed). 'ratio' values become percent."""
    text = str(value).strip().lower()
    if text.endswith('%'):
        return 'percent', float(text[:-1])
    try:
        number = float(text)
        return 'percent', number * 100.0 if number <= 1.0 else number
    except ValueError:
        pass
    return 'bytes', parse_bytes(text)


_UNITS = {'b': 1, 'kb': 1024, 'mb': 1024 ** 2, 'gb': 1024 ** 3, 'tb': 1024 ** 4, 'pb': 1024 ** 5}


def parse_bytes(text):
    match = re.match(r'^\s*([\d.]+)\s*([kmgtp]?b)\s*$', str(text).lower())
    if not match:
        raise ConfigError('cannot read the byte size %r' % (text,))
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def disk_problems(nodes_fs, high_watermark, needed_bytes, threshold_enabled=True):
    """Whether the restored data fits under the high disk watermark.

    ``nodes_fs``: {node name: (total_bytes, available_bytes)} of the data nodes. The check is on the whole
    cluster (OpenSearch spreads shards): after adding ``needed_bytes``, the data nodes together must stay
    below the high watermark; a node already above it is reported too (it takes no new shards).
    """
    if not threshold_enabled:
        return []
    kind, value = parse_watermark(high_watermark)
    problems = []
    total = sum(t for t, _a in nodes_fs.values())
    avail = sum(a for _t, a in nodes_fs.values())
    for node, (node_total, node_avail) in sorted(nodes_fs.items()):
        if _over(kind, value, node_total, node_avail):
            problems.append('node %s is above the high disk watermark (%s) already: %s free of %s'
                            % (node, high_watermark, human_bytes(node_avail), human_bytes(node_total)))
    if nodes_fs and _over(kind, value, total, avail - needed_bytes):
        problems.append('restoring %s would take the data nodes (%s free of %s) past the high disk watermark (%s)'
                        % (human_bytes(needed_bytes), human_bytes(avail), human_bytes(total), high_watermark))
    return problems


def _over(kind, value, total, avail):
    if kind == 'percent':
        return total > 0 and (total - avail) * 100.0 / total >= value
    return avail <= value


def count_mismatches(recorded, restored, plan, stable=True):
    """Indices whose restored document count differs from the record (``plan`` maps index -> target)."""
    problems = []
    for item in plan:
        want = (recorded.get(item['index']) or {}).get('docs')
        got = restored.get(item['target'])
        if want is None:
            continue
        if got is None:
            problems.append('%s: not found after the restore' % item['target'])
        elif got != want:
            note = '' if stable else ' (the index was written during the snapshot)'
            problems.append('%s: %d documents, the record says %d%s' % (item['target'], got, want, note))
    return problems
