# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin's watcher: when it shows a line, and which line (an injected clock and sleep; no threads)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.lifeboat.backup.plugins.plugin_utils import progress as action_progress


class FakeTime(object):
    """clock() and wait(seconds): each wait moves the clock on; the work ends after ``runs_for`` seconds."""

    def __init__(self, runs_for, now=5000.0, read_takes=0.0):
        self.now = now
        self.end = now + runs_for
        self.read_takes = read_takes
        self.waits = []

    def clock(self):
        return self.now

    def wait(self, seconds):
        self.waits.append(seconds)
        if self.now + seconds >= self.end:
            self.now = self.end
            return True  # stopped: the module returned before the next line was due
        self.now += seconds
        return False


def watch(fake, after, interval, read=None):
    shown = []

    def reader():
        fake.now += fake.read_takes
        return read(fake.now) if read else None
    watcher = action_progress.Watcher(reader, lambda line: shown.append((fake.now, line)), after, interval,
                                      clock=fake.clock, wait=fake.wait)
    watcher.run()
    return shown


def test_a_short_task_shows_nothing():
    fake = FakeTime(runs_for=12)
    assert watch(fake, 30, 30) == []
    assert fake.waits == [30]  # one sleep, no read at all


def test_lines_after_the_delay_then_every_interval():
    fake = FakeTime(runs_for=100)
    shown = watch(fake, 30, 30)
    assert [when - 5000 for when, _line in shown] == [30, 60, 90]
    assert shown[0][1] == 'still working (30s elapsed)'  # no progress file yet


def test_a_slow_read_skips_a_line_instead_of_bunching_them():
    fake = FakeTime(runs_for=50, read_takes=2.5)
    shown = watch(fake, 0, 1)
    times = [when - 5000 for when, _line in shown]
    assert times[:3] == [2.5, 5.5, 8.5] and all(later - earlier >= 1 for earlier, later in zip(times, times[1:]))
    assert action_progress.next_due(10, 9, 5) == 10
    assert action_progress.next_due(10, 10, 5) == 15
    assert action_progress.next_due(10, 23, 5) == 25


def test_the_line_comes_from_the_module_hosts_state_aged_while_it_stays_the_same():
    state = {'label': 'files backup', 'phase': 'files/app', 'started': 100.0, 'updated': 110.0, 'plain': 2048,
             'stored': 1024, 'total': 4096, 'estimated': True, 'direction': 'backup', 'total_of': 'plain'}
    fake = FakeTime(runs_for=13)
    shown = watch(fake, 0, 10, read=lambda now: json.dumps(state).encode())
    assert [line for _when, line in shown] == [
        'files backup (files/app): 2.0 KiB read, 1.0 KiB stored, 204 B/s, 10s elapsed, ETA 10s (50%, estimated)',
        # ten seconds later the module has not written again (zstd -19 holds its output): 20 s, half the rate
        'files backup (files/app): 2.0 KiB read, 1.0 KiB stored, 102 B/s, 20s elapsed, ETA 20s (50%, estimated)']
    for text in (None, b'', b'{"label": "half', b'[1]', b'\xff'):
        assert action_progress.parse_state(text) is None
