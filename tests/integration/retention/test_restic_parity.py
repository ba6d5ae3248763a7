# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention keeps what restic's own ``forget`` keeps, on the same calendar (a real restic repository).

restic snapshots are backdated with ``backup --time``; ``forget --dry-run --json`` says what restic keeps.
Two things arrived in later restic versions than Debian 12's 0.14: ``unlimited`` counts (0.16) and keeping the
oldest snapshot while a rule has counts left (0.17). With an older restic those cases are compared without
what only that rule keeps.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import retention
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

UTC = datetime.timezone.utc
RESTIC = shutil.which('restic')
pytestmark = pytest.mark.skipif(RESTIC is None, reason='restic is not installed (tests/apt-packages.txt)')

# every 17 hours from 2025-12-20: crosses a year end, ISO week 2026-W01 starting in December... and a month end
START = datetime.datetime(2025, 12, 20, 0, 30, tzinfo=UTC)
MOMENTS = [START + datetime.timedelta(hours=17 * n) for n in range(48)]
FLAGS = {'keep_last': '--keep-last', 'keep_hourly': '--keep-hourly', 'keep_daily': '--keep-daily',
         'keep_weekly': '--keep-weekly', 'keep_monthly': '--keep-monthly', 'keep_yearly': '--keep-yearly',
         'keep_within': '--keep-within'}
POLICIES = [
    {'keep_daily': 5, 'keep_weekly': 3, 'keep_monthly': 2},
    {'keep_last': 4},
    {'keep_hourly': 10, 'keep_daily': 3},
    {'keep_weekly': 5, 'keep_yearly': 1},
    {'keep_within': '10d'},
    {'keep_within': '1m', 'keep_last': 2},
    {'keep_within': '2d12h', 'keep_weekly': 2},
    {'keep_monthly': 5},
    {'keep_yearly': 5},
    {'keep_weekly': -1},
]


def restic_version():
    out = subprocess.run([RESTIC, 'version'], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    found = re.search(r'restic (\d+)\.(\d+)', out)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


@pytest.fixture(scope='module')
def repo(tmp_path_factory):
    base = tmp_path_factory.mktemp('restic')
    env = dict(os.environ, RESTIC_PASSWORD='parity', RESTIC_REPOSITORY=str(base / 'repo'), TZ='UTC',
               RESTIC_CACHE_DIR=str(base / 'cache'))
    (base / 'data').mkdir()
    (base / 'data' / 'file').write_text('x')
    subprocess.run([RESTIC, 'init', '-q'], env=env, check=True)
    for moment in MOMENTS:
        subprocess.run([RESTIC, 'backup', '-q', '--time', moment.strftime('%Y-%m-%d %H:%M:%S'), str(base / 'data')],
                       env=env, check=True)
    return env


def restic_keeps(env, policy):
    argv = [RESTIC, 'forget', '--dry-run', '--json']
    for name, value in policy.items():
        argv += [FLAGS[name], 'unlimited' if value == -1 else str(value)]
    groups = json.loads(subprocess.run(argv, env=env, stdout=subprocess.PIPE, check=True).stdout)
    return {datetime.datetime.strptime(snap['time'][:19], '%Y-%m-%dT%H:%M:%S').strftime(set_format.TS_FORMAT)
            for group in groups for snap in group['keep']}


@pytest.mark.parametrize('policy', POLICIES, ids=lambda policy: ','.join('%s=%s' % item for item in policy.items()))
def test_retention_keeps_what_restic_keeps(repo, policy):
    version = restic_version()
    if -1 in policy.values() and version < (0, 16):
        pytest.skip('restic %d.%d has no unlimited counts' % version)
    sets = [{'id': set_format.make_set_id(moment), 'status': 'completed'} for moment in MOMENTS]
    decision = retention.decide(sets, policy, datetime.datetime(2026, 12, 1, tzinfo=UTC))
    ours = set(decision['keep'])
    if version < (0, 17):
        # only restic 0.17+ keeps the oldest snapshot while counts are left
        ours -= {item['id'] for item in decision['sets']
                 if item['reasons'] and all('(oldest set' in why or why.startswith('newest') for why in item['reasons'])
                 and item['id'] != decision['sets'][0]['id']}
    assert ours == restic_keeps(repo, policy)
