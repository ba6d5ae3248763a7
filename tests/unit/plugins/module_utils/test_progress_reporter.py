# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress lines, the progress file a module writes for the action plugin, and the pipeline's progress hook."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import os

from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress

MIB = 1024 * 1024


class Clock(object):
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_describe_a_backup_with_an_estimated_size():
    state = {'label': 'web1 files/app', 'started': 1000.0, 'updated': 1013.0, 'plain': 1300 * MIB, 'stored': 410 * MIB,
             'total': 2600 * MIB, 'estimated': True, 'direction': 'backup', 'total_of': 'plain'}
    assert progress.describe(state) == ('web1 files/app: 1.3 GiB read, 410 MiB stored, 100 MiB/s, 13s elapsed, '
                                        'ETA 13s (50%, estimated)')
    state.update({'total': None, 'phase': 'db awx', 'plain': None})
    assert progress.describe(state) == 'web1 files/app (db awx): 410 MiB read, 31.5 MiB/s, 13s elapsed'
    state.update({'total': 100, 'plain': 1300 * MIB})
    assert progress.describe(state).endswith('past the 100 B estimate')


def test_describe_a_read_from_the_store():
    state = {'label': 'verify full', 'started': 0.0, 'updated': 10.0, 'stored': 500 * MIB, 'plain': 1500 * MIB,
             'total': 1000 * MIB, 'direction': 'read', 'total_of': 'stored'}
    assert progress.describe(state) == 'verify full: 500 MiB read, 1.5 GiB decoded, 50.0 MiB/s, 10s elapsed, ETA 10s (50%)'


def test_reporter_writes_at_most_every_few_seconds_and_logs_every_thirty(tmp_path):
    clock = Clock()
    logged = []
    path = str(tmp_path / 'p.json')
    reporter = progress.Reporter(path, 'verify 20261122T031500Z', total=1000, direction='read', write_every=5, log_every=30,
                                 clock=clock, log=logged.append)
    reporter(10)
    assert progress.read(path)['stored'] == 10  # the first count is written at once
    clock.now += 1
    reporter(20)
    assert progress.read(path)['stored'] == 10  # then at most every write_every seconds
    clock.now += 6
    reporter(100, 40)
    state = progress.read(path)
    assert state['stored'] == 100 and state['plain'] == 40 and state['state'] == 'running'
    assert logged == []
    clock.now += 30
    reporter(900)
    assert len(logged) == 1 and 'ETA' in logged[0]
    reporter.phase('second artifact', total=50)
    assert progress.read(path)['phase'] == 'second artifact' and progress.read(path)['stored'] == 0
    reporter.done()
    assert progress.read(path)['state'] == 'done'
    assert sorted(os.listdir(str(tmp_path))) == ['p.json']


def test_an_unwritable_progress_file_never_fails_the_work(tmp_path):
    reporter = progress.Reporter(str(tmp_path / 'missing-dir' / 'p.json'), 'x', write_every=0, log=lambda line: None)
    reporter(1)
    reporter.done()
    assert progress.read(str(tmp_path / 'missing-dir' / 'p.json')) is None


class Sink(object):
    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)


def test_the_pipeline_reports_stored_and_plain_bytes(monkeypatch):
    """plain: what zstd read (backup) or wrote (restore), from its /proc/<pid>/io counters."""
    monkeypatch.setattr(pipeline, 'PROGRESS_EVERY', 0.0)
    calls = []
    res = pipeline.stream_to_store(Sink(), source_argv=['head', '-c', str(24 * MIB), '/dev/zero'], compression='zstd',
                                   level=1, progress=lambda stored, plain: calls.append((stored, plain)))
    assert calls and calls[-1][0] == res['size']
    plains = [plain for _stored, plain in calls if plain is not None]
    assert plains == sorted(plains) and 20 * MIB < max(plains) < 25 * MIB  # zstd's reads, plus a few of its own files
    calls[:] = []
    pipeline.stream_to_store(Sink(), source_file=open(os.devnull, 'rb'), compression='none',
                             progress=lambda stored, plain: calls.append((stored, plain)))
    assert all(stored == plain for stored, plain in calls)


def test_the_pipeline_reports_a_read_from_the_store(monkeypatch):
    monkeypatch.setattr(pipeline, 'PROGRESS_EVERY', 0.0)
    blob = os.urandom(8 * MIB)
    calls = []
    res = pipeline.stream_from_store(io.BytesIO(blob), ['dd', 'of=/dev/null', 'bs=1M', 'status=none'], 'none',
                                     progress=lambda stored, plain: calls.append((stored, plain)))
    assert res['size'] == len(blob) and calls[-1] == (len(blob), len(blob))


def test_install_active_finish(tmp_path):
    assert progress.install(None, 'x') is None and progress.active() is None
    path = str(tmp_path / 'p.json')
    reporter = progress.install(path, 'files_backup app', log=lambda line: None)
    assert progress.active() is reporter
    progress.finish()
    assert progress.active() is None and progress.read(path)['state'] == 'done'
