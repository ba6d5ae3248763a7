# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention: which sets a policy keeps and which it removes, and why (docs/retention.md).

Pure logic on plain values (set ids, statuses, a policy dict, the current time): no store, no clock, so
the rules unit-test on generated calendars. The bucket rules follow restic's ``forget`` (0.16+):

* sets are grouped by label (``per_label``, the default) and each group gets its own policy;
* completed sets of a group are walked newest first; each rule (``keep_last``, ``keep_hourly``,
  ``keep_daily``, ``keep_weekly``, ``keep_monthly``, ``keep_yearly``) keeps a set when it is the first
  (newest) one of a new hour/day/ISO week/month/year, until its count is used up (``-1``: no limit);
  when the group runs out of sets while a rule still has counts left, its oldest set is kept too;
* ``keep_within`` keeps every set strictly newer than the group's newest completed set minus the
  duration (``36h``, ``14d``, ``1y6m``: years, months, weeks, days, hours; months and years are
  calendar months, as Go's AddDate counts them);
* every time is UTC (set ids are UTC): there is no DST.

On top of restic: failed and interrupted sets go after ``keep_failed`` days; the newest completed set of
each group, a set whose run is alive (``in_progress``), a damaged set (never removed by policy) and
anything a kept set needs (``needs``: e.g. the base of an incremental set) are always kept.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

KEEP = 'keep'
REMOVE = 'remove'

# statuses the decision understands; anything else is kept (never remove what is not understood)
COMPLETED = 'completed'
FAILED = 'failed'
IN_PROGRESS = 'in_progress'
DAMAGED = 'damaged'
REMOVING = 'removing'  # an earlier prune deleted its manifest and was interrupted

BUCKET_RULES = ('keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly')
RULE_KEYS = BUCKET_RULES + ('keep_within',)
GROUP_KEYS = RULE_KEYS + ('keep_failed',)
POLICY_KEYS = GROUP_KEYS + ('keep_ids', 'per_label', 'labels')
DEFAULT_KEEP_FAILED = 7

_DURATION_RE = re.compile(r'^(?:\d+[ymwdh])+$')
_DURATION_PART_RE = re.compile(r'(\d+)([ymwdh])')


# ---------------------------------------------------------------- durations

def parse_duration(text):
    """'36h', '14d', '1y6m', '2w' -> (years, months, days, hours). '' or None -> None."""
    if text in (None, ''):
        return None
    if not isinstance(text, str) or not _DURATION_RE.match(text.strip()):
        raise ConfigError('keep_within %r is not a duration: use a number and a unit, e.g. 36h, 14d, 2w, 6m (months), '
                          '1y, or several such as 1y6m' % (text,))
    years = months = days = hours = 0
    for number, unit in _DURATION_PART_RE.findall(text.strip()):
        number = int(number)
        if unit == 'y':
            years += number
        elif unit == 'm':
            months += number
        elif unit == 'w':
            days += 7 * number
        elif unit == 'd':
            days += number
        else:
            hours += number
    return years, months, days, hours


def subtract_duration(moment, duration):
    """``moment`` minus (years, months, days, hours), with calendar months normalized like Go's AddDate.

    2026-03-31 minus 1 month is 2026-02-31, which normalizes to 2026-03-03 (restic does the same).
    """
    years, months, days, hours = duration
    month_index = moment.year * 12 + (moment.month - 1) - years * 12 - months
    year, month = divmod(month_index, 12)
    first = moment.replace(year=year, month=month + 1, day=1)
    shifted = first + datetime.timedelta(days=moment.day - 1)
    return shifted - datetime.timedelta(days=days, hours=hours)


def format_duration(duration):
    years, months, days, hours = duration
    parts = [('%d%s' % (n, unit)) for n, unit in ((years, 'y'), (months, 'm'), (days, 'd'), (hours, 'h')) if n]
    return ''.join(parts) or '0h'


# ---------------------------------------------------------------- policy

def _count(value, name, where):
    if value in (None, ''):
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise ConfigError('%s%s must be a whole number (0: off, -1: no limit), got %r' % (where, name, value))
    if value < -1:
        raise ConfigError('%s%s must be 0 or more, or -1 for no limit, got %d' % (where, name, value))
    return value


def _group_policy(raw, where, inherit_failed):
    unknown = sorted(set(raw) - set(GROUP_KEYS))
    if unknown:
        raise ConfigError('%sunknown retention setting(s) %s (known: %s)' % (where, ', '.join(unknown), ', '.join(GROUP_KEYS)))
    rules = {name: _count(raw.get(name), name, where) for name in BUCKET_RULES}
    try:
        rules['keep_within'] = parse_duration(raw.get('keep_within'))
    except ConfigError as e:
        raise ConfigError(where + e.msg)
    keep_failed = raw.get('keep_failed')
    if keep_failed in (None, ''):
        keep_failed = inherit_failed
    else:
        keep_failed = _count(keep_failed, 'keep_failed', where)
        if keep_failed < 0:
            raise ConfigError('%skeep_failed is a number of days (0 or more), got %d' % (where, keep_failed))
    rules['keep_failed'] = keep_failed
    return rules


def parse_policy(raw):
    """Validate and normalize a policy dict (the ``lifeboat_retention`` variable). Raises ConfigError.

    Top level: the bucket rules, ``keep_within``, ``keep_failed`` (days, default 7), ``keep_ids`` (set ids
    always kept), ``per_label`` (default true) and ``labels`` ({label: rules}): a label listed there gets
    its own rules instead of the top-level ones (``keep_failed`` is inherited unless it is given).
    """
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(POLICY_KEYS))
    if unknown:
        raise ConfigError('unknown retention setting(s) %s (known: %s)' % (', '.join(unknown), ', '.join(POLICY_KEYS)))
    keep_failed = raw.get('keep_failed')
    base = _group_policy({k: v for k, v in raw.items() if k in GROUP_KEYS}, '',
                         DEFAULT_KEEP_FAILED if keep_failed in (None, '') else None)
    per_label = raw.get('per_label')
    per_label = True if per_label is None else bool(per_label)
    labels = {}
    for label, rules in sorted((raw.get('labels') or {}).items()):
        try:
            set_format.validate_label(label)
        except Exception:  # the format's own error says what a label may contain
            raise ConfigError('retention labels: %r is not a set label' % (label,))
        if not label:
            raise ConfigError('retention labels: an empty label cannot have rules (the top-level rules apply to unlabelled sets)')
        if not isinstance(rules, dict):
            raise ConfigError('retention labels.%s must be a mapping of keep_* rules, got %r' % (label, rules))
        labels[label] = _group_policy(rules, 'labels.%s.' % label, base['keep_failed'])
    if labels and not per_label:
        raise ConfigError('retention labels need per_label (rules per label only apply when each label is its own group)')
    keep_ids = raw.get('keep_ids') or []
    if isinstance(keep_ids, str):
        keep_ids = [keep_ids]
    for set_id in keep_ids:
        set_format.parse_set_id(set_id)
    return {'rules': base, 'labels': labels, 'per_label': per_label, 'keep_ids': sorted(set(keep_ids))}


def describe_rules(rules):
    """'keep_last 3, keep_daily 7, keep_within 36h' (what a group keeps), or 'no keep rule'."""
    parts = []
    for name in BUCKET_RULES:
        if rules[name]:
            parts.append('%s %s' % (name, 'all' if rules[name] == -1 else rules[name]))
    if rules['keep_within']:
        parts.append('keep_within %s' % format_duration(rules['keep_within']))
    return ', '.join(parts) or 'no keep rule'


def has_rules(rules):
    return any(rules[name] for name in BUCKET_RULES) or bool(rules['keep_within'])


# ---------------------------------------------------------------- buckets

def _bucket(rule, moment, index):
    if rule == 'keep_last':
        return index
    if rule == 'keep_hourly':
        return (moment.year, moment.month, moment.day, moment.hour)
    if rule == 'keep_daily':
        return (moment.year, moment.month, moment.day)
    if rule == 'keep_weekly':
        iso_year, iso_week, _day = moment.isocalendar()
        return (iso_year, iso_week)
    if rule == 'keep_monthly':
        return (moment.year, moment.month)
    return moment.year


def _bucket_label(rule, moment):
    if rule == 'keep_hourly':
        return moment.strftime('%Y-%m-%d %H:00')
    if rule == 'keep_daily':
        return moment.strftime('%Y-%m-%d')
    if rule == 'keep_weekly':
        iso_year, iso_week, _day = moment.isocalendar()
        return '%04d-W%02d' % (iso_year, iso_week)
    if rule == 'keep_monthly':
        return moment.strftime('%Y-%m')
    if rule == 'keep_yearly':
        return moment.strftime('%Y')
    return None


def apply_rules(times, rules, now):
    """restic's ApplyPolicy on one group: ``times`` newest first (UTC datetimes of completed sets).

    Returns one list of reasons per set (empty: no rule keeps it). The reference of ``keep_within`` is the
    newest time that is not in the future.
    """
    reasons = [[] for _moment in times]
    if not times:
        return reasons
    latest = None
    for moment in times:
        if moment <= now and (latest is None or moment > latest):
            latest = moment
    cutoff = None
    if rules['keep_within'] and latest is not None:
        cutoff = subtract_duration(latest, rules['keep_within'])
    counts = {name: rules[name] for name in BUCKET_RULES}
    last_value = dict.fromkeys(BUCKET_RULES)
    oldest = len(times) - 1
    for index, moment in enumerate(times):
        if cutoff is not None and moment > cutoff:
            reasons[index].append('keep_within %s (newer than %s)' % (format_duration(rules['keep_within']), set_format.iso(cutoff)))
        elif rules['keep_within'] and latest is None:
            reasons[index].append('keep_within %s (every set is in the future)' % format_duration(rules['keep_within']))
        for name in BUCKET_RULES:
            if not (counts[name] > 0 or counts[name] == -1):
                continue
            value = _bucket(name, moment, index)
            if value == last_value[name] and index != oldest:
                continue
            label = _bucket_label(name, moment)
            text = name if label is None else '%s %s' % (name, label)
            if value == last_value[name]:
                # restic keeps the oldest set too while a rule has counts left: the longest history
                text += ' (oldest set, %s left)' % ('no limit' if counts[name] == -1 else counts[name])
            last_value[name] = value
            if counts[name] > 0:
                counts[name] -= 1
            reasons[index].append(text)
    return reasons


# ---------------------------------------------------------------- the decision

def _normalize(item):
    set_id = item['id']
    moment, label = set_format.parse_set_id(set_id)
    out = {
        'id': set_id,
        'label': item.get('label', label) or '',
        'timestamp': moment,
        'status': item.get('status') or FAILED,
        'needs': list(item.get('needs') or []),
        'reasons': [],
        'action': None,
    }
    if item.get('reason'):
        out['status_reason'] = item['reason']
    return out


def decide(sets, policy, now, remove_ids=()):
    """Keep/remove decisions for every set.

    sets       -- [{'id': set id, 'status': completed|failed|in_progress|damaged|removing, 'needs': [ids],
                   'reason': why it failed (optional)}, ...] in any order
    policy     -- a dict as parse_policy takes (or its result)
    now        -- aware UTC datetime
    remove_ids -- ids named explicitly for removal: removed unless something keeps them absolutely
                  (newest completed, in progress, needed by a kept set)
    Returns {'sets': [{id, label, timestamp, status, action, reasons}, ...] newest first,
             'keep': [ids], 'remove': [ids], 'unknown_ids': [ids in remove_ids/keep_ids not in the store],
             'missing_needs': {id: [needed ids not in the store]}, 'groups': {label: rules text}}.
    """
    if 'rules' not in (policy or {}):
        policy = parse_policy(policy)
    items = [_normalize(item) for item in sets]
    items.sort(key=lambda item: item['id'], reverse=True)
    by_id = {item['id']: item for item in items}
    remove_ids = set(remove_ids or ())
    keep_ids = set(policy['keep_ids'])
    groups = {}
    for item in items:
        groups.setdefault(item['label'] if policy['per_label'] else '', []).append(item)
    described = {}
    for group, members in sorted(groups.items()):
        rules = policy['labels'].get(group, policy['rules']) if group else policy['rules']
        described[group] = describe_rules(rules)
        _decide_group(members, rules, now, has_rules(rules))
    for item in items:
        if item['id'] in keep_ids:
            item['reasons'] = ['keep_ids'] + ([] if item['action'] == REMOVE else item['reasons'])
            item['action'] = KEEP
    for item in items:
        if item['id'] in remove_ids:
            _explicit_removal(item)
    missing = _keep_needed(items, by_id)
    unknown = sorted((remove_ids | keep_ids) - set(by_id))
    return {
        'sets': [_public(item) for item in items],
        'keep': [item['id'] for item in items if item['action'] == KEEP],
        'remove': [item['id'] for item in items if item['action'] == REMOVE],
        'unknown_ids': unknown,
        'missing_needs': missing,
        'groups': described,
    }


def _decide_group(members, rules, now, any_rule):
    completed = [item for item in members if item['status'] == COMPLETED]
    where = (' of label %s' % completed[0]['label']) if completed and completed[0]['label'] else ''
    reasons = apply_rules([item['timestamp'] for item in completed], rules, now)
    for position, (item, why) in enumerate(zip(completed, reasons)):
        if position == 0:
            why.insert(0, 'newest completed set%s (never removed)' % where)
        if not any_rule:
            why.append('no keep rule for this group: completed sets are all kept')
        item['reasons'] = why
        if why:
            item['action'] = KEEP
        else:
            item['action'] = REMOVE
            item['reasons'] = ['no rule keeps it (%s)' % describe_rules(rules)]
    for item in members:
        if item['status'] == COMPLETED:
            continue
        status = item['status']
        if status == IN_PROGRESS:
            item['action'] = KEEP
            item['reasons'] = ['in progress: its run is alive']
        elif status == DAMAGED:
            item['action'] = KEEP
            item['reasons'] = ['damaged%s: never removed by policy; name it in remove_ids once looked at'
                               % (' (%s)' % item['status_reason'] if item.get('status_reason') else '')]
        elif status == REMOVING:
            item['action'] = REMOVE
            item['reasons'] = ['an earlier prune began removing it']
        elif status == FAILED:
            age = now - item['timestamp']
            days = rules['keep_failed']
            if age >= datetime.timedelta(days=days):
                item['action'] = REMOVE
                item['reasons'] = ['failed, older than keep_failed %d day%s' % (days, '' if days == 1 else 's')]
            else:
                item['action'] = KEEP
                item['reasons'] = ['failed less than keep_failed %d day%s ago (kept to look at)' % (days, '' if days == 1 else 's')]
        else:
            item['action'] = KEEP
            item['reasons'] = ['status %r is not understood by this version: kept' % status]


def _explicit_removal(item):
    absolute = [why for why in item['reasons'] if why.startswith('newest completed set')]
    if item['status'] == IN_PROGRESS:
        item['reasons'].append('named in remove_ids, but its run is alive')
        return
    if absolute:
        item['reasons'].append('named in remove_ids, but the newest completed set is never removed')
        return
    item['action'] = REMOVE
    item['reasons'] = ['named in remove_ids']


def _keep_needed(items, by_id):
    """Keep everything a kept set needs (transitively). Returns {id: [needed ids missing from the store]}."""
    missing = {}
    queue = [item for item in items if item['action'] == KEEP]
    while queue:
        item = queue.pop()
        for needed in item['needs']:
            other = by_id.get(needed)
            if other is None:
                missing.setdefault(item['id'], []).append(needed)
                continue
            reason = 'needed by %s' % item['id']
            if reason not in other['reasons']:
                if other['action'] == REMOVE:
                    other['reasons'] = []
                other['reasons'].append(reason)
            if other['action'] != KEEP:
                other['action'] = KEEP
                queue.append(other)
    return missing


def _public(item):
    return {
        'id': item['id'],
        'label': item['label'],
        'timestamp': set_format.iso(item['timestamp']),
        'status': item['status'],
        'action': item['action'],
        'reasons': item['reasons'],
    }
