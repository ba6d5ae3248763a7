# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention as pure logic on generated calendars (UTC: month ends, leap days, ISO weeks across years)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import retention
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError

UTC = datetime.timezone.utc


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def sid(moment, label=None):
    return set_format.make_set_id(moment, label)


def daily(first, last, hour=3, minute=15, label=None):
    """One completed set a day from ``first`` to ``last`` (dates), at hour:minute UTC."""
    out = []
    day = first
    while day <= last:
        out.append({'id': sid(at(day.year, day.month, day.day, hour, minute), label), 'status': 'completed'})
        day += datetime.timedelta(days=1)
    return out


def kept(result):
    return set(result['keep'])


def day_id(year, month, day, label=None):
    return sid(at(year, month, day, 3, 15), label)


# ---------------------------------------------------------------- durations

@pytest.mark.parametrize('text, parsed', [
    ('36h', (0, 0, 0, 36)), ('14d', (0, 0, 14, 0)), ('2w', (0, 0, 14, 0)), ('6m', (0, 6, 0, 0)),
    ('1y6m', (1, 6, 0, 0)), ('1y2m3d4h', (1, 2, 3, 4)), ('', None), (None, None),
])
def test_parse_duration(text, parsed):
    assert retention.parse_duration(text) == parsed


@pytest.mark.parametrize('text', ['36', 'h', '1.5d', '-2d', '3 days', '1x', 36])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ConfigError, match='not a duration'):
        retention.parse_duration(text)


@pytest.mark.parametrize('moment, duration, expected', [
    (at(2026, 3, 31, 3), (0, 1, 0, 0), at(2026, 3, 3, 3)),       # Feb 31 normalizes to Mar 3, as Go's AddDate
    (at(2028, 3, 31, 3), (0, 1, 0, 0), at(2028, 3, 2, 3)),       # leap year: Feb 31 = Mar 2
    (at(2028, 2, 29, 12), (1, 0, 0, 0), at(2027, 3, 1, 12)),     # a leap day minus a year
    (at(2027, 1, 1, 1), (0, 0, 0, 2), at(2026, 12, 31, 23)),     # hours across a year boundary
    (at(2027, 1, 15), (0, 13, 0, 0), at(2025, 12, 15)),
    (at(2026, 11, 22, 3, 15), (0, 0, 14, 36), at(2026, 11, 6, 15, 15)),
])
def test_subtract_duration_counts_calendar_months(moment, duration, expected):
    assert retention.subtract_duration(moment, duration) == expected


# ---------------------------------------------------------------- policy validation

def test_policy_defaults_and_normalization():
    policy = retention.parse_policy({'keep_daily': 7, 'keep_within': '36h'})
    assert policy['rules']['keep_daily'] == 7 and policy['rules']['keep_failed'] == 7
    assert policy['rules']['keep_within'] == (0, 0, 0, 36) and policy['per_label']
    assert retention.describe_rules(policy['rules']) == 'keep_daily 7, keep_within 36h'
    assert retention.describe_rules(retention.parse_policy({'keep_monthly': -1})['rules']) == 'keep_monthly all'


@pytest.mark.parametrize('raw, message', [
    ({'keep_dayly': 7}, 'unknown retention setting.*keep_dayly'),
    ({'keep_daily': -2}, 'keep_daily must be 0 or more'),
    ({'keep_daily': 'seven'}, 'keep_daily must be a whole number'),
    ({'keep_failed': -1}, 'keep_failed is a number of days'),
    ({'keep_within': '3 days'}, 'not a duration'),
    ({'labels': {'Hourly': {'keep_hourly': 3}}}, 'not a set label'),
    ({'labels': {'hourly': {'keep_hour': 3}}}, 'labels.hourly.unknown'),
    ({'labels': {'hourly': {'keep_within': 'x'}}}, 'labels.hourly.keep_within'),
    ({'labels': {'hourly': {'keep_hourly': 3}}, 'per_label': False}, 'need per_label'),
    ({'keep_ids': ['yesterday']}, 'not a backup set id'),
])
def test_policy_errors_name_the_setting(raw, message):
    with pytest.raises(Exception, match=message):
        retention.parse_policy(raw)


def test_label_rules_replace_the_top_level_rules_and_inherit_keep_failed():
    policy = retention.parse_policy({'keep_daily': 7, 'keep_failed': 3, 'labels': {'hourly': {'keep_hourly': 24}}})
    assert policy['labels']['hourly']['keep_daily'] == 0 and policy['labels']['hourly']['keep_hourly'] == 24
    assert policy['labels']['hourly']['keep_failed'] == 3
    own = retention.parse_policy({'keep_failed': 3, 'labels': {'hourly': {'keep_hourly': 24, 'keep_failed': 1}}})
    assert own['labels']['hourly']['keep_failed'] == 1


# ---------------------------------------------------------------- restic's bucket rules

def test_keep_last_keeps_the_newest_n():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 10))
    result = retention.decide(sets, {'keep_last': 3}, at(2026, 1, 11))
    assert kept(result) == {day_id(2026, 1, 10), day_id(2026, 1, 9), day_id(2026, 1, 8)}
    assert len(result['remove']) == 7
    assert result['sets'][0]['reasons'] == ['newest completed set (never removed)', 'keep_last']
    assert result['sets'][-1]['reasons'] == ['no rule keeps it (keep_last 3)']


def test_gfs_over_two_years_of_daily_sets():
    """7 daily, 4 weekly, 12 monthly, 3 yearly on 2025-01-01 .. 2026-11-22 (a Sunday)."""
    sets = daily(datetime.date(2025, 1, 1), datetime.date(2026, 11, 22))
    policy = {'keep_daily': 7, 'keep_weekly': 4, 'keep_monthly': 12, 'keep_yearly': 3}
    result = retention.decide(sets, policy, at(2026, 11, 22, 12))
    expected = {day_id(2026, 11, d) for d in range(16, 23)}                       # daily: Nov 16..22
    expected |= {day_id(2026, 11, 22), day_id(2026, 11, 15), day_id(2026, 11, 8), day_id(2026, 11, 1)}  # Sundays
    expected |= {day_id(2026, 11, 22)} | {day_id(2026, m, d) for m, d in (
        (10, 31), (9, 30), (8, 31), (7, 31), (6, 30), (5, 31), (4, 30), (3, 31), (2, 28), (1, 31))}
    expected |= {day_id(2025, 12, 31)}                                              # 12th month
    expected |= {day_id(2025, 1, 1)}  # yearly: 2026-11-22, 2025-12-31, then 1 left: the oldest set
    assert kept(result) == expected
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[day_id(2025, 1, 1)] == ['keep_yearly 2025 (oldest set, 1 left)']
    assert 'keep_monthly 2026-02' in reasons[day_id(2026, 2, 28)]
    assert 'keep_weekly 2026-W45' in reasons[day_id(2026, 11, 8)]
    assert reasons[day_id(2025, 12, 31)] == ['keep_monthly 2025-12', 'keep_yearly 2025']


def test_monthly_keeps_the_leap_day():
    sets = daily(datetime.date(2028, 2, 20), datetime.date(2028, 3, 5))
    result = retention.decide(sets, {'keep_monthly': 2}, at(2028, 3, 6))
    assert kept(result) == {day_id(2028, 3, 5), day_id(2028, 2, 29)}


def test_weekly_buckets_are_iso_weeks_across_the_year_boundary():
    """2026-12-31 (Thu) and 2027-01-01..03 (Fri-Sun) are all ISO week 2026-W53; 2027-01-04 starts 2027-W01."""
    sets = daily(datetime.date(2026, 12, 27), datetime.date(2027, 1, 5))
    result = retention.decide(sets, {'keep_weekly': 3}, at(2027, 1, 6))
    assert kept(result) == {day_id(2027, 1, 5), day_id(2027, 1, 3), day_id(2026, 12, 27)}
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[day_id(2027, 1, 3)] == ['keep_weekly 2026-W53']
    assert reasons[day_id(2026, 12, 27)] == ['keep_weekly 2026-W52']
    # yearly splits what weekly joins
    yearly = retention.decide(sets, {'keep_yearly': 2}, at(2027, 1, 6))
    assert kept(yearly) == {day_id(2027, 1, 5), day_id(2026, 12, 31)}


def test_week_53_of_a_long_year_and_week_1_that_starts_in_december():
    # 2029-12-31 is a Monday: it belongs to ISO week 2030-W01, with 2030-01-01..06
    sets = daily(datetime.date(2029, 12, 29), datetime.date(2030, 1, 2))
    result = retention.decide(sets, {'keep_weekly': 2}, at(2030, 1, 3))
    assert kept(result) == {day_id(2030, 1, 2), day_id(2029, 12, 30)}
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[day_id(2029, 12, 30)] == ['keep_weekly 2029-W52']


def test_hourly_keeps_the_newest_set_of_each_hour():
    sets = [{'id': sid(at(2026, 5, 1, hour, minute)), 'status': 'completed'}
            for hour in range(6) for minute in (0, 20, 40)]
    result = retention.decide(sets, {'keep_hourly': 4}, at(2026, 5, 1, 6))
    assert kept(result) == {sid(at(2026, 5, 1, hour, 40)) for hour in (5, 4, 3, 2)}


def test_hourly_across_midnight_of_a_year_end():
    sets = [{'id': sid(at(2026, 12, 31, 22, 30)), 'status': 'completed'},
            {'id': sid(at(2026, 12, 31, 23, 10)), 'status': 'completed'},
            {'id': sid(at(2026, 12, 31, 23, 50)), 'status': 'completed'},
            {'id': sid(at(2027, 1, 1, 0, 5)), 'status': 'completed'}]
    result = retention.decide(sets, {'keep_hourly': 2}, at(2027, 1, 1, 1))
    assert kept(result) == {sid(at(2027, 1, 1, 0, 5)), sid(at(2026, 12, 31, 23, 50))}
    daily_result = retention.decide(sets, {'keep_daily': 2}, at(2027, 1, 1, 1))
    assert kept(daily_result) == {sid(at(2027, 1, 1, 0, 5)), sid(at(2026, 12, 31, 23, 50))}


def test_unlimited_count_keeps_one_per_bucket_forever():
    sets = daily(datetime.date(2024, 1, 1), datetime.date(2026, 3, 3))
    result = retention.decide(sets, {'keep_monthly': -1}, at(2026, 3, 4))
    assert len(result['keep']) == 28  # 24 months of 2024-2025 + Jan, Feb, Mar 2026, and the oldest set
    assert day_id(2024, 1, 1) in kept(result) and day_id(2024, 1, 31) in kept(result)
    assert day_id(2024, 2, 29) in kept(result)


def test_the_oldest_set_is_kept_while_counts_are_left():
    sets = daily(datetime.date(2026, 6, 1), datetime.date(2026, 6, 3))
    result = retention.decide(sets, {'keep_monthly': 6}, at(2026, 6, 4))
    assert kept(result) == {day_id(2026, 6, 3), day_id(2026, 6, 1)}
    assert [item['reasons'] for item in result['sets'] if item['id'] == day_id(2026, 6, 1)] == [
        ['keep_monthly 2026-06 (oldest set, 5 left)']]


def test_rules_combine_and_each_names_itself():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    result = retention.decide(sets, {'keep_last': 2, 'keep_daily': 3, 'keep_weekly': 2}, at(2026, 2, 1))
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[day_id(2026, 1, 31)] == ['newest completed set (never removed)', 'keep_last', 'keep_daily 2026-01-31',
                                            'keep_weekly 2026-W05']
    assert reasons[day_id(2026, 1, 29)] == ['keep_daily 2026-01-29']
    assert reasons[day_id(2026, 1, 25)] == ['keep_weekly 2026-W04']
    assert kept(result) == {day_id(2026, 1, 31), day_id(2026, 1, 30), day_id(2026, 1, 29), day_id(2026, 1, 25)}


# ---------------------------------------------------------------- keep_within

def test_keep_within_counts_from_the_newest_set_not_from_now():
    """Backups stopped a month ago: keep_within 14d still keeps the last 14 days of sets (restic's choice)."""
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 2, 28))
    result = retention.decide(sets, {'keep_within': '14d'}, at(2026, 4, 1))
    # newest 2026-02-28 03:15, cutoff 2026-02-14 03:15: strictly newer sets are kept
    assert kept(result) == {day_id(2026, 2, d) for d in range(15, 29)}


def test_keep_within_36h_and_the_strict_boundary():
    sets = [{'id': sid(at(2026, 11, 22, 3, 15)), 'status': 'completed'},
            {'id': sid(at(2026, 11, 20, 15, 15, 1)), 'status': 'completed'},
            {'id': sid(at(2026, 11, 20, 15, 15)), 'status': 'completed'}]
    result = retention.decide(sets, {'keep_within': '36h'}, at(2026, 11, 22, 4))
    assert kept(result) == {sid(at(2026, 11, 22, 3, 15)), sid(at(2026, 11, 20, 15, 15, 1))}
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[sid(at(2026, 11, 20, 15, 15, 1))] == ['keep_within 36h (newer than 2026-11-20T15:15:00Z)']


def test_keep_within_a_month_from_march_31():
    sets = daily(datetime.date(2026, 2, 25), datetime.date(2026, 3, 31))
    result = retention.decide(sets, {'keep_within': '1m'}, at(2026, 4, 1))
    # cutoff 2026-03-03 03:15 (Feb 31 normalized): Mar 4..31 are newer, Mar 3 03:15 itself is not
    assert kept(result) == {day_id(2026, 3, d) for d in range(4, 32)}


def test_keep_within_ignores_sets_from_the_future_for_its_reference():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 10))
    sets.append({'id': day_id(2027, 1, 1), 'status': 'completed'})  # a clock that was a year ahead
    result = retention.decide(sets, {'keep_within': '2d'}, at(2026, 1, 10, 12))
    assert kept(result) == {day_id(2027, 1, 1), day_id(2026, 1, 10), day_id(2026, 1, 9)}


# ---------------------------------------------------------------- statuses

def test_failed_sets_go_after_keep_failed_days_and_never_count_in_buckets():
    now = at(2026, 11, 22, 12)
    sets = daily(datetime.date(2026, 11, 1), datetime.date(2026, 11, 22))
    sets += [{'id': sid(at(2026, 11, 21, 4)), 'status': 'failed', 'reason': 'web2 unreachable'},
             {'id': sid(at(2026, 11, 15, 4)), 'status': 'failed', 'reason': 'interrupted'},
             {'id': sid(at(2026, 11, 15, 12, 0, 1)), 'status': 'failed'}]
    result = retention.decide(sets, {'keep_last': 2, 'keep_failed': 7}, now)
    decisions = {item['id']: item for item in result['sets']}
    assert decisions[sid(at(2026, 11, 21, 4))]['action'] == 'keep'
    assert decisions[sid(at(2026, 11, 15, 12, 0, 1))]['action'] == 'keep'  # 6 days 23:59:59 old
    assert decisions[sid(at(2026, 11, 15, 4))]['action'] == 'remove'
    assert decisions[sid(at(2026, 11, 15, 4))]['reasons'] == ['failed, older than keep_failed 7 days']
    assert set(result['keep']) - {sid(at(2026, 11, 21, 4)), sid(at(2026, 11, 15, 12, 0, 1))} == {
        day_id(2026, 11, 22), day_id(2026, 11, 21)}


def test_keep_failed_zero_removes_failed_sets_at_once():
    sets = [{'id': day_id(2026, 1, 2), 'status': 'completed'}, {'id': sid(at(2026, 1, 2, 5)), 'status': 'failed'}]
    result = retention.decide(sets, {'keep_last': 1, 'keep_failed': 0}, at(2026, 1, 2, 5))
    assert result['remove'] == [sid(at(2026, 1, 2, 5))]


def test_the_newest_completed_set_is_never_removed():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 5))
    # keep_within relative to a newest set in the future keeps nothing else; the newest completed still stays
    sets.append({'id': sid(at(2026, 1, 6, 4)), 'status': 'failed'})
    result = retention.decide(sets, {'keep_hourly': 0, 'keep_within': '1h'}, at(2026, 3, 1))
    assert kept(result) == {day_id(2026, 1, 5)}
    result = retention.decide(sets, {'keep_last': 1}, at(2026, 3, 1), remove_ids=[day_id(2026, 1, 5)])
    decisions = {item['id']: item for item in result['sets']}
    assert decisions[day_id(2026, 1, 5)]['action'] == 'keep'
    assert decisions[day_id(2026, 1, 5)]['reasons'][-1] == 'named in remove_ids, but the newest completed set is never removed'


def test_in_progress_damaged_and_unknown_statuses_are_kept_half_removed_sets_go():
    sets = [{'id': day_id(2026, 1, 1), 'status': 'completed'},
            {'id': day_id(2025, 1, 1), 'status': 'in_progress'},
            {'id': day_id(2025, 1, 2), 'status': 'damaged', 'reason': 'manifest is not valid JSON'},
            {'id': day_id(2025, 1, 3), 'status': 'frozen'},
            {'id': day_id(2025, 1, 4), 'status': 'removing'}]
    result = retention.decide(sets, {'keep_last': 1, 'keep_failed': 0}, at(2026, 6, 1))
    decisions = {item['id']: item for item in result['sets']}
    assert decisions[day_id(2025, 1, 1)]['reasons'] == ['in progress: its run is alive']
    assert decisions[day_id(2025, 1, 2)]['action'] == 'keep'
    assert 'manifest is not valid JSON' in decisions[day_id(2025, 1, 2)]['reasons'][0]
    assert decisions[day_id(2025, 1, 3)]['reasons'] == ["status 'frozen' is not understood by this version: kept"]
    assert result['remove'] == [day_id(2025, 1, 4)]
    # explicit removal works for a damaged set, never for a live one
    named = retention.decide(sets, {'keep_last': 1}, at(2026, 6, 1), remove_ids=[day_id(2025, 1, 2), day_id(2025, 1, 1)])
    assert set(named['remove']) == {day_id(2025, 1, 2), day_id(2025, 1, 4)}


def test_an_empty_policy_removes_no_completed_set():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 3)) + [{'id': sid(at(2025, 1, 1)), 'status': 'failed'}]
    result = retention.decide(sets, {}, at(2026, 1, 4))
    assert kept(result) == {day_id(2026, 1, d) for d in (1, 2, 3)}
    assert result['remove'] == [sid(at(2025, 1, 1))]
    assert result['groups'] == {'': 'no keep rule'}


def test_keep_ids_and_unknown_ids():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 5))
    result = retention.decide(sets, {'keep_last': 1, 'keep_ids': [day_id(2026, 1, 2), day_id(2020, 1, 1)]},
                              at(2026, 1, 6), remove_ids=[day_id(2026, 1, 3), day_id(2019, 1, 1)])
    assert kept(result) == {day_id(2026, 1, 5), day_id(2026, 1, 2)}
    assert result['unknown_ids'] == [day_id(2019, 1, 1), day_id(2020, 1, 1)]
    assert [item['reasons'] for item in result['sets'] if item['id'] == day_id(2026, 1, 2)] == [['keep_ids']]


# ---------------------------------------------------------------- labels

def test_each_label_is_its_own_group_with_its_own_newest_set_and_rules():
    nightly = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 20), label='nightly')
    hourly = [{'id': sid(at(2026, 1, 20, hour, 0), 'snapshots'), 'status': 'completed'} for hour in range(24)]
    old_weekly = [{'id': sid(at(2025, 6, 1, 1), 'weekly'), 'status': 'completed'}]
    policy = {'keep_daily': 3, 'labels': {'snapshots': {'keep_hourly': 6}}}
    result = retention.decide(nightly + hourly + old_weekly, policy, at(2026, 1, 21))
    assert kept(result) == ({day_id(2026, 1, d, 'nightly') for d in (18, 19, 20)}
                            | {sid(at(2026, 1, 20, hour, 0), 'snapshots') for hour in range(18, 24)}
                            | {sid(at(2025, 6, 1, 1), 'weekly')})
    assert result['groups'] == {'nightly': 'keep_daily 3', 'snapshots': 'keep_hourly 6', 'weekly': 'keep_daily 3'}
    weekly_reasons = [item['reasons'] for item in result['sets'] if item['label'] == 'weekly'][0]
    assert weekly_reasons == ['newest completed set of label weekly (never removed)', 'keep_daily 2025-06-01']


def test_per_label_false_pools_every_label():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 3), label='a') + \
        daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 3), hour=4, label='b')
    result = retention.decide(sets, {'keep_daily': 2, 'per_label': False}, at(2026, 1, 4))
    assert kept(result) == {sid(at(2026, 1, 3, 4, 15), 'b'), sid(at(2026, 1, 2, 4, 15), 'b')}
    assert result['groups'] == {'': 'keep_daily 2'}


# ---------------------------------------------------------------- what kept sets need

def test_a_kept_set_keeps_what_it_needs_transitively():
    sets = daily(datetime.date(2026, 1, 1), datetime.date(2026, 1, 10))
    for item in sets[1:]:
        if item['id'] not in (day_id(2026, 1, 5),):
            item['needs'] = [sets[sets.index(item) - 1]['id']]  # a chain of incrementals on Jan 1, restarted Jan 5
    result = retention.decide(sets, {'keep_last': 1}, at(2026, 1, 11))
    assert kept(result) == {day_id(2026, 1, d) for d in range(5, 11)}
    reasons = {item['id']: item['reasons'] for item in result['sets']}
    assert reasons[day_id(2026, 1, 5)] == ['needed by %s' % day_id(2026, 1, 6)]
    assert reasons[day_id(2026, 1, 4)] == ['no rule keeps it (keep_last 1)']


def test_needs_beat_explicit_removal_and_missing_bases_are_reported():
    sets = [{'id': day_id(2026, 1, 3), 'status': 'completed', 'needs': [day_id(2026, 1, 2), day_id(2025, 12, 1)]},
            {'id': day_id(2026, 1, 2), 'status': 'completed'}]
    result = retention.decide(sets, {'keep_last': 1}, at(2026, 1, 4), remove_ids=[day_id(2026, 1, 2)])
    assert kept(result) == {day_id(2026, 1, 3), day_id(2026, 1, 2)}
    assert result['missing_needs'] == {day_id(2026, 1, 3): [day_id(2025, 12, 1)]}


# ---------------------------------------------------------------- a generated 18-month calendar

def test_eighteen_months_of_irregular_sets_match_a_direct_count():
    """Sets every 11 hours for 18 months; the survivors of a GFS policy are computed independently."""
    start = at(2025, 6, 1, 0, 30)
    moments = [start + datetime.timedelta(hours=11 * n) for n in range(18 * 30 * 24 // 11)]
    sets = [{'id': sid(moment), 'status': 'completed'} for moment in moments]
    now = moments[-1] + datetime.timedelta(hours=1)
    result = retention.decide(sets, {'keep_daily': 10, 'keep_weekly': 6, 'keep_monthly': 12, 'keep_yearly': 5}, now)
    newest_first = sorted(moments, reverse=True)

    def newest_per(key, count):
        seen, out = [], set()
        for moment in newest_first:
            if key(moment) not in seen and len(seen) < count:
                seen.append(key(moment))
                out.add(moment)
        return out, len(seen)

    expected = set()
    for key, count in ((lambda m: m.date(), 10), (lambda m: m.isocalendar()[:2], 6),
                       (lambda m: (m.year, m.month), 12), (lambda m: m.year, 5)):
        chosen, used = newest_per(key, count)
        expected |= chosen
        if used < count:
            expected.add(newest_first[-1])
    assert kept(result) == {sid(moment) for moment in expected}
    assert len(result['keep']) + len(result['remove']) == len(sets)
