# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress lines and the progress file a module writes for the action plugin."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress


class Clock(object):
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_describe_with_and_without_a_known_size():
    state = {'label': 'web1 files/app', 'started': 1000.0, 'updated': 1013.0, 'bytes_read': 13 * 100 * 1024 ** 2,
             'bytes_stored': 410 * 1024 ** 2, 'total': 26 * 100 * 1024 ** 2}
    assert progress.describe(state) == ('web1 files/app: 1.3 GiB read, 410 MiB stored, 100 MiB/s, 13s elapsed, '
                                        'ETA 13s (50%)')
    state.update({'total': None, 'bytes_stored': None, 'phase': 'db-awx'})
    assert progress.describe(state) == 'web1 files/app (db-awx): 1.3 GiB read, 100 MiB/s, 13s elapsed'
    state.update({'total': 100, 'estimated': True})
    assert progress.describe(state).endswith('past the 100 B estimate')
    state.update({'total': 4 * 1300 * 1024 ** 2, 'estimated': True})
    assert progress.describe(state).endswith('ETA 39s (25%, estimated)')


def test_reporter_writes_at_most_every_few_seconds_and_logs_every_thirty(tmp_path):
    clock = Clock()
    logged = []
    path = str(tmp_path / 'p.json')
    reporter = progress.Reporter(path, 'verify 20261122T031500Z', total=1000, write_every=5, log_every=30, clock=clock,
                                 log=logged.append)
    reporter(10)
    assert progress.read(path)['bytes_read'] == 10  # the first count is written at once
    clock.now += 1
    reporter(20)
    assert progress.read(path)['bytes_read'] == 10  # then at most every write_every seconds
    clock.now += 6
    reporter(100, 40)
    state = progress.read(path)
    assert state['bytes_read'] == 100 and state['bytes_stored'] == 40 and state['state'] == 'running'
    clock.now += 1
    reporter(200)
    assert progress.read(path)['bytes_read'] == 100  # within write_every: not rewritten
    assert logged == []
    clock.now += 30
    reporter(900)
    assert len(logged) == 1 and 'ETA' in logged[0]
    reporter.phase('second artifact', total=50)
    assert progress.read(path)['phase'] == 'second artifact' and progress.read(path)['bytes_read'] == 0
    reporter.done()
    assert progress.read(path)['state'] == 'done'
    assert sorted(os.listdir(str(tmp_path))) == ['p.json']


def test_an_unwritable_progress_file_never_fails_the_work(tmp_path):
    reporter = progress.Reporter(str(tmp_path / 'missing-dir' / 'p.json'), 'x', write_every=0, log=lambda line: None)
    reporter(1)
    reporter.done()
    assert progress.read(str(tmp_path / 'missing-dir' / 'p.json')) is None
