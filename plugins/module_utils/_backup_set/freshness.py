# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Freshness: is the newest completed set young enough (the RPO), and when was it last verified and drilled.

Pure logic on a set listing (backup_set_info's ``sets``, with ``last_verify`` / ``last_drill`` attached) and
the current time. ``playbooks/status.yml`` uses it through the ``backup_status`` module and fails
the play when a group misses its RPO, so a scheduled job alerts when backups silently stopped.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import retention


def max_age(text, now, what):
    """(cutoff datetime, seconds) for a duration like '26h', or (None, None) when empty."""
    try:
        duration = retention.parse_duration(text)
    except ConfigError:
        raise ConfigError('%s %r is not a duration: use e.g. 26h, 2d, 1w' % (what, text))
    if duration is None:
        return None, None
    cutoff = retention.subtract_duration(now, duration)
    return cutoff, int((now - cutoff).total_seconds())


def _newest_check(members, slot):
    found = [item[slot] for item in members if item.get(slot)]
    return max(found, key=lambda check: check['when']) if found else None


def _passed_check(members, slot):
    found = [item[slot] for item in members if item.get(slot) and item[slot].get('passed')]
    return max(found, key=lambda check: check['when']) if found else None


def group_status(label, members, now, rpo, verify_max_age=None, drill_max_age=None):
    """The freshness of one label's sets. ``members``: listing entries of that label, any order."""
    completed = sorted((item for item in members if item.get('status') == set_format.COMPLETED),
                       key=lambda item: item['id'], reverse=True)
    newest = completed[0] if completed else None
    counts = {}
    for item in members:
        counts[item.get('status') or '?'] = counts.get(item.get('status') or '?', 0) + 1
    out = {'label': label, 'counts': counts, 'problems': [],
           'in_progress': [{'id': item['id'], 'owner': item.get('owner'), 'age_seconds': item.get('age_seconds')}
                           for item in members if item.get('status') == set_format.IN_PROGRESS]}
    cutoff, rpo_seconds = max_age(rpo, now, 'lifeboat_rpo')
    out['rpo_seconds'] = rpo_seconds
    where = ' of label %s' % label if label else ''
    if newest is None:
        out.update({'newest': None, 'age_seconds': None, 'rpo_met': False if cutoff else None})
        out['problems'].append('there is no completed set%s' % where)
    else:
        moment = set_format.parse_set_id(newest['id'])[0]
        out.update({'newest': newest['id'], 'newest_timestamp': set_format.iso(moment), 'newest_epoch': int(moment.timestamp()),
                    'age_seconds': int((now - moment).total_seconds()),
                    'rpo_met': None if cutoff is None else moment > cutoff})
        if cutoff is not None and not out['rpo_met']:
            out['problems'].append('the newest completed set%s, %s, is older than the RPO of %s' % (where, newest['id'], rpo))
    out['last_verify'] = _newest_check(members, 'last_verify')
    out['last_drill'] = _newest_check(members, 'last_drill')
    for slot, limit, what in (('last_verify', verify_max_age, 'verification'), ('last_drill', drill_max_age, 'restore drill')):
        limit_cutoff, _seconds = max_age(limit, now, 'the %s age limit' % what)
        if limit_cutoff is None:
            continue
        passed = _passed_check(members, slot)
        if passed is None:
            out['problems'].append('no set%s ever passed a %s' % (where, what))
        elif set_format.parse_iso(passed['when']) <= limit_cutoff:
            out['problems'].append('the last passing %s%s was at %s, longer ago than %s' % (what, where, passed['when'], limit))
        newest_check = out[slot]
        if newest_check is not None and not newest_check.get('passed'):
            out['problems'].append('the last %s%s (%s) failed' % (what, where, newest_check['when']))
    out['ok'] = not out['problems']
    return out


def status(sets, now, rpo, labels=None, verify_max_age=None, drill_max_age=None):
    """Freshness per label (every label found, or those in ``labels``). Returns {'ok', 'groups': [...], 'problems': [...]}."""
    groups = {}
    for item in sets:
        groups.setdefault(item.get('label') or '', []).append(item)
    if labels:
        groups = {label: groups.get(label, []) for label in labels}
    if not groups:
        groups = {'': []}
    out = [group_status(name, members, now, rpo, verify_max_age, drill_max_age) for name, members in sorted(groups.items())]
    problems = [problem for group in out for problem in group['problems']]
    return {'ok': not problems, 'groups': out, 'problems': problems}
