# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that make listings readable: human_size, human_duration, set_table, store_label.

Documented in the YAML files beside this one (ansible-doc -t filter lifeboat.backup.set_table).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.lifeboat.backup.plugins.module_utils import _human as human
from ansible_collections.lifeboat.backup.plugins.module_utils import _metrics as metrics

COLUMNS = ('ID', 'STATUS', 'AGE', 'SIZE', 'HOSTS', 'COMPONENTS', 'VERIFIED', 'DRILLED', 'NOTE')
MAX_CELL = 48


def _number(value, what):
    if isinstance(value, bool):
        raise AnsibleFilterError('%s expects a number, got %r' % (what, value))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError('%s expects a number, got %r' % (what, value))


def human_size(value):
    """1536 -> '1.5 KiB'; 0 -> '0 B'; None or '' -> '-'."""
    if value in (None, ''):
        return '-'
    return human.size(_number(value, 'human_size'))


def human_duration(value):
    """Seconds -> '45s', '12m 5s', '3h 20m', '4d 2h', '1y 35d'; None or '' -> '-'."""
    if value in (None, ''):
        return '-'
    return human.duration(_number(value, 'human_duration'))


def _hosts(item):
    hosts = list(item.get('hosts') or [])
    if not hosts:
        return '-'
    if len(hosts) > 3:
        return '%d hosts' % len(hosts)
    return ','.join(hosts)


def _components(item):
    counts = {}
    for labels in (item.get('components') or {}).values():
        for label in labels or []:
            kind = str(label).split('/', 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return '-'
    return ' '.join('%s:%d' % (kind, counts[kind]) for kind in sorted(counts))


def _check(result):
    """A last verification or drill: 'full ok 2d' / 'FAILED 3h' / '-'."""
    if not result:
        return '-'
    passed = result.get('passed')
    if passed is None:
        passed = result.get('status') in ('passed', 'ok')
    text = 'ok' if passed else 'FAILED'
    if result.get('level'):
        text = '%s %s' % (result['level'], text)
    if result.get('age_seconds') is not None:
        text += ' ' + human_duration(result['age_seconds'])
    return text


def _note(item):
    status = item.get('status')
    parts = []
    if item.get('missing_hosts'):
        parts.append('missing hosts: %s' % ','.join(item['missing_hosts']))
    if status != 'completed' and item.get('reason'):
        parts.append(str(item['reason']))
    chain = _chain_note(item)
    if chain:
        parts.append(chain)
    text = '; '.join(parts)
    return text if len(text) <= 2 * MAX_CELL else text[:2 * MAX_CELL - 3] + '...'


def _chain_note(item):
    """Incremental entries: 'full' / 'level 2 on <base>' / 'levels 1-3, needs 3 sets'."""
    chains = item.get('chains')
    if not isinstance(chains, dict) or not chains:
        return ''
    facts = [entry for entry in chains.values() if isinstance(entry, dict)]
    levels = sorted({entry.get('level') or 0 for entry in facts})
    bases = {entry.get('base') for entry in facts}
    if levels == [0]:
        return 'incremental: full'
    if len(levels) == 1 and len(bases) == 1:
        return 'incremental: level %s on %s' % (levels[0], next(iter(bases)))
    return 'incremental: levels %s-%s, needs %d sets' % (levels[0], levels[-1], len(item.get('needs') or []))


def _cell(text):
    text = str(text).replace('\n', ' ')
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 3] + '...'


def set_row(item):
    status = str(item.get('status') or '?')
    if status == 'damaged':
        status = 'DAMAGED'
    elif status == 'failed':
        status = 'failed'
    return [
        _cell(item.get('id', '?')), status, human_duration(item.get('age_seconds')),
        human_size(item.get('size')) if item.get('status') == 'completed' else '-',
        _cell(_hosts(item)), _cell(_components(item)), _cell(_check(item.get('last_verify'))),
        _cell(_check(item.get('last_drill'))), _note(item),
    ]


def set_table(sets):
    """The sets of backup_set_info as aligned text lines: a header, then one line per set."""
    if not isinstance(sets, (list, tuple)):
        raise AnsibleFilterError('set_table expects the list of sets of backup_set_info, got %r' % type(sets).__name__)
    rows = [list(COLUMNS)] + [set_row(item if isinstance(item, dict) else {}) for item in sets]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = []
    for row in rows:
        line = '  '.join(cell.ljust(widths[column]) for column, cell in enumerate(row))
        lines.append(line.rstrip())
    if not sets:
        lines.append('(no sets in this store)')
    return lines


def store_label(store):
    """lifeboat_store -> 'filesystem:/srv/backup', 's3://bucket/prefix', 'sftp://host/path'."""
    if not isinstance(store, dict):
        raise AnsibleFilterError('store_label expects a store mapping (lifeboat_store), got %r' % type(store).__name__)
    return metrics.store_label(store)


class FilterModule(object):

    def filters(self):
        return {
            'human_size': human_size,
            'human_duration': human_duration,
            'set_table': set_table,
            'store_label': store_label,
        }
