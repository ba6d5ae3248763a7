# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics in node_exporter's textfile format (docs/metrics.md).

One file (``lifeboat_metrics_file``, e.g. /var/lib/node_exporter/textfile/lifeboat.prom) holds the
metrics of every operation (backup, prune, verify, drill, status) for every store and label. Each
operation replaces only its own series for its store and label and keeps the rest, so the last
successful backup's timestamp survives a failed run. The file is rewritten atomically (temp file in the
same directory, fsync, rename, fsync of the directory) under an flock of the directory, so node_exporter
never reads half a file and two writers never lose each other's series.

The text format is small and stable (gauges, no timestamps: node_exporter refuses client timestamps), so
it is written here rather than with the prometheus_client library, which managed nodes would otherwise
need; the tests parse what is written with prometheus_client's own parser.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import math
import os
import re
import tempfile

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError

PREFIX = 'lifeboat_'
_NAME_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
_LABEL_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
_SAMPLE_RE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)\s*$')
_PAIR_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')

OPERATIONS = ('backup', 'prune', 'verify', 'drill', 'status')

# name -> help text. Every metric is a gauge. Labels: store, set_label (+ level for verify, + host,
# component, name for artifact sizes, + status for set counts).
HELP = {
    'last_run_timestamp_seconds': 'When the last %s run ended (Unix time).',
    'last_success_timestamp_seconds': 'When the last successful %s run ended (Unix time).',
    'last_run_success': 'Whether the last %s run succeeded (1) or failed (0).',
    'last_run_duration_seconds': 'How long the last %s run took.',
    'backup_last_size_bytes': 'Bytes stored by the last successful backup set.',
    'backup_last_artifacts': 'Artifacts in the last successful backup set.',
    'backup_artifact_size_bytes': 'Stored bytes of each artifact of the last successful backup set.',
    'prune_sets_kept': 'Sets the last prune kept.',
    'prune_sets_removed': 'Sets the last prune removed.',
    'prune_sets_retained': 'Sets the last prune could not remove yet (S3 Object Lock retention).',
    'prune_bytes_freed': 'Bytes the last prune freed.',
    'verify_sets_checked': 'Sets the last verification checked.',
    'verify_sets_failed': 'Sets the last verification found damaged.',
    'verify_bytes_read': 'Bytes the last verification read from the store.',
    'verify_throughput_bytes_per_second': 'Read throughput of the last verification.',
    'drill_checks': 'Comparisons the last restore drill made (files, tables, row counts).',
    'drill_mismatches': 'Comparisons of the last restore drill that did not match.',
    'newest_completed_timestamp_seconds': 'Start time of the newest completed set (Unix time).',
    'rpo_seconds': 'The recovery point objective the status check uses (lifeboat_rpo).',
    'rpo_met': 'Whether the newest completed set is younger than the RPO (1) or not (0).',
    'sets': 'Sets in the store by status.',
    'last_verify_timestamp_seconds': 'When the newest completed set was last verified (Unix time; 0: never).',
    'last_drill_timestamp_seconds': 'When the newest completed set was last drilled (Unix time; 0: never).',
}


def metric_name(operation, short):
    if short in ('last_run_timestamp_seconds', 'last_success_timestamp_seconds', 'last_run_success',
                 'last_run_duration_seconds'):
        return '%s%s_%s' % (PREFIX, operation, short)
    return PREFIX + short


def help_for(name):
    short = name[len(PREFIX):]
    for operation in OPERATIONS:
        if short.startswith((operation + '_last_run', operation + '_last_success')):
            return HELP[short[len(operation) + 1:]] % operation
    return HELP.get(short, 'lifeboat.backup metric.')


# ---------------------------------------------------------------- the text format

def escape_label_value(value):
    return str(value).replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def unescape_label_value(text):
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == '\\' and index + 1 < len(text):
            nxt = text[index + 1]
            out.append({'n': '\n', '\\': '\\', '"': '"'}.get(nxt, '\\' + nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return ''.join(out)


def format_value(value):
    value = float(value)
    if math.isnan(value):
        return 'NaN'
    if math.isinf(value):
        return '+Inf' if value > 0 else '-Inf'
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def render(families):
    """{name: {labels tuple (sorted pairs): value}} -> the text of a .prom file (ends with a newline)."""
    lines = []
    for name in sorted(families):
        samples = families[name]
        if not samples:
            continue
        if not _NAME_RE.match(name):
            raise LifeboatError('metric name %r is not valid' % name)
        lines.append('# HELP %s %s' % (name, help_for(name).replace('\\', '\\\\').replace('\n', '\\n')))
        lines.append('# TYPE %s gauge' % name)
        for labels in sorted(samples):
            text = ','.join('%s="%s"' % (key, escape_label_value(value)) for key, value in labels)
            lines.append('%s%s %s' % (name, '{%s}' % text if text else '', format_value(samples[labels])))
    return '\n'.join(lines) + '\n' if lines else ''


def parse(text):
    """The samples of a file this module wrote: {name: {labels tuple: value}}. Foreign lines are skipped."""
    families = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        found = _SAMPLE_RE.match(line)
        if not found:
            continue
        labels = tuple(sorted((key, unescape_label_value(value)) for key, value in _PAIR_RE.findall(found.group('labels') or '')))
        try:
            value = float(found.group('value'))
        except ValueError:
            continue
        families.setdefault(found.group('name'), {})[labels] = value
    return families


def merge(existing, update, scope):
    """Replace, in every family ``update`` has, the samples matching ``scope`` (a dict of labels); keep the rest."""
    out = {name: dict(samples) for name, samples in existing.items()}
    for name, samples in update.items():
        kept = {labels: value for labels, value in out.get(name, {}).items() if not _matches(labels, scope)}
        kept.update(samples)
        out[name] = kept
    return out


def _matches(labels, scope):
    have = dict(labels)
    return all(have.get(key) == value for key, value in scope.items())


# ---------------------------------------------------------------- what each operation reports

def _labels(base, **extra):
    merged = dict(base)
    merged.update(extra)
    for key in merged:
        if not _LABEL_RE.match(key):
            raise LifeboatError('metric label %r is not valid' % key)
    return tuple(sorted((key, str(value)) for key, value in merged.items()))


def _run_samples(operation, base, facts, now):
    """The four series every operation has. A failed run leaves last_success_timestamp_seconds alone."""
    success = bool(_flag(facts.get('success')))
    ended = round(float(_number(facts, 'ended') or now), 3)
    out = {
        metric_name(operation, 'last_run_timestamp_seconds'): {_labels(base): ended},
        metric_name(operation, 'last_run_success'): {_labels(base): 1 if success else 0},
    }
    duration = _number(facts, 'duration')
    if duration is not None:
        out[metric_name(operation, 'last_run_duration_seconds')] = {_labels(base): duration}
    if success:
        out[metric_name(operation, 'last_success_timestamp_seconds')] = {_labels(base): ended}
    return out


_EMPTY = (None, '', 'None', 'none', 'null')


def _flag(value):
    """A fact that is a bool, as templating may hand it over (True, 'True', 'false', 1, None, 'None')."""
    if value in _EMPTY:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ('true', 'yes', '1', 'on')
    return bool(value)


def _number(facts, key):
    value = facts.get(key)
    if value in _EMPTY:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError('metrics fact %s must be a number, got %r' % (key, value))


def samples_for(operation, facts, store, set_label='', now=0.0):
    """The series one run of ``operation`` contributes, and the scope it replaces.

    ``facts`` (plain values, what the playbooks publish): success (bool), ended (Unix time), duration
    (seconds), and per operation --
      backup: size, artifacts ([{host, component, name, size}])
      prune:  kept, removed, retained, bytes_freed
      verify: level, checked, failed, bytes_read, throughput
      drill:  checks, mismatches
      status: newest_completed (Unix time or None), rpo (seconds), rpo_met (bool), sets ({status: count}),
              last_verify, last_drill (Unix time or None)
    """
    if operation not in OPERATIONS:
        raise ConfigError('metrics operation must be one of %s, got %r' % (', '.join(OPERATIONS), operation))
    facts = dict(facts or {})
    base = {'store': store, 'set_label': set_label or ''}
    if operation == 'verify':
        base['level'] = facts.get('level') or 'quick'
    scope = dict(base)
    out = {} if operation == 'status' else _run_samples(operation, base, facts, now)
    success = bool(_flag(facts.get('success')))

    def put(short, value, **extra):
        if value is not None:
            out.setdefault(PREFIX + short, {})[_labels(base, **extra)] = float(value)

    if operation == 'backup' and success:
        put('backup_last_size_bytes', _number(facts, 'size'))
        artifacts = facts.get('artifacts') or []
        put('backup_last_artifacts', len(artifacts))
        for item in artifacts:
            put('backup_artifact_size_bytes', item.get('size') or 0, host=item.get('host', ''),
                component=item.get('component', ''), name=item.get('name', ''))
    elif operation == 'prune':
        for key in ('kept', 'removed', 'retained'):
            put('prune_sets_' + key, _number(facts, key))
        put('prune_bytes_freed', _number(facts, 'bytes_freed'))
    elif operation == 'verify':
        put('verify_sets_checked', _number(facts, 'checked'))
        put('verify_sets_failed', _number(facts, 'failed'))
        put('verify_bytes_read', _number(facts, 'bytes_read'))
        put('verify_throughput_bytes_per_second', _number(facts, 'throughput'))
    elif operation == 'drill':
        put('drill_checks', _number(facts, 'checks'))
        put('drill_mismatches', _number(facts, 'mismatches'))
    elif operation == 'status':
        put('newest_completed_timestamp_seconds', _number(facts, 'newest_completed') or 0)
        put('rpo_seconds', _number(facts, 'rpo'))
        met = _flag(facts.get('rpo_met'))
        if met is not None:
            put('rpo_met', 1 if met else 0)
        put('last_verify_timestamp_seconds', _number(facts, 'last_verify') or 0)
        put('last_drill_timestamp_seconds', _number(facts, 'last_drill') or 0)
        for status, count in sorted((facts.get('sets') or {}).items()):
            put('sets', count, status=status)
    return out, scope


# ---------------------------------------------------------------- the file

def read_file(path):
    try:
        with open(path, 'r') as handle:
            return handle.read()
    except (IOError, OSError) as e:
        if e.errno == errno.ENOENT:
            return ''
        raise LifeboatError('cannot read the metrics file %s: %s' % (path, e.strerror or e))


def write_atomic(path, text, mode=0o644):
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def update_file(path, operation, facts, store, set_label='', now=0.0, check_mode=False):
    """Merge one run's series into the metrics file. Returns {'changed', 'path', 'metrics': text of ours}."""
    if not path or not os.path.isabs(path):
        raise ConfigError('the metrics file must be an absolute path (lifeboat_metrics_file), got %r' % (path,))
    if not path.endswith('.prom'):
        raise ConfigError('the metrics file %s must end in .prom: node_exporter only reads such files' % path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ConfigError('the directory of the metrics file %s does not exist (node_exporter --collector.textfile.directory)'
                          % path)
    update, scope = samples_for(operation, facts, store, set_label, now)
    ours = render(update)
    if check_mode:
        return {'changed': True, 'path': path, 'metrics': ours}
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        before = read_file(path)
        text = render(merge(parse(before), update, scope))
        changed = text != before
        if changed:
            try:
                write_atomic(path, text)
            except (IOError, OSError) as e:
                raise LifeboatError('cannot write the metrics file %s: %s' % (path, e.strerror or e))
    finally:
        os.close(dir_fd)
    return {'changed': changed, 'path': path, 'metrics': ours}


def store_label(params):
    """A short, stable name of a store for the ``store`` label: filesystem:/srv/backup, s3://bucket/prefix, sftp://host/path."""
    params = params or {}
    kind = params.get('type')
    prefix = (params.get('prefix') or '').strip('/')
    if kind == 's3':
        text = 's3://%s' % params.get('bucket', '')
    elif kind == 'sftp':
        text = 'sftp://%s%s' % (params.get('host', ''), params.get('path', ''))
    else:
        text = 'filesystem:%s' % (params.get('path') or '')
    return text + ('/' + prefix if prefix else '')
