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
    assert sorted(os.listdir(str(tmp_path))) == ['p.json']  # no temp file left beside it
    assert os.stat(path).st_mode & 0o777 == 0o644  # the login user reads what a become user wrote
    reporter.done()
    assert os.listdir(str(tmp_path)) == []  # the last line is logged and the file removed
    assert logged[-1].startswith('verify 20261122T031500Z (second artifact): 0 B read')


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
    assert progress.active() is None and not os.path.exists(path)


def test_phases_with_totals_and_a_late_estimate(tmp_path):
    clock = Clock()
    path = str(tmp_path / 'p.json')
    reporter = progress.Reporter(path, 'files backup', write_every=0, clock=clock, log=lambda line: None)
    assert progress.phase(reporter, 'files/app', total=1000, estimated=True) is reporter
    clock.now += 10
    reporter(100, 500)
    line = progress.describe(progress.read(path))
    assert line.startswith('files backup (files/app): 500 B read, 100 B stored, 50 B/s, 10s elapsed, ETA 10s (50%, estimated)')
    # a read: the record's size is exact, stored bytes count
    progress.phase(reporter, 'files/app', total=400, direction='read')
    clock.now += 2
    reporter(100, 300)
    assert progress.describe(progress.read(path)).endswith('ETA 6s (25%)')
    # an estimate found by a walk beside the work: for the running phase, or kept for the phase it names
    progress.phase(reporter, 'files/etc')
    reporter.estimate('files/etc', 2048)
    reporter.estimate('files/home', 4096)
    assert (reporter.state['total'], reporter.state['estimated']) == (2048, True)
    progress.phase(reporter, 'files/home')
    assert (reporter.state['total'], reporter.state['estimated']) == (4096, True)
    progress.phase(reporter, 'files/var')
    assert reporter.state['total'] is None
    # a plain hook (or none at all) passes through unchanged
    hook = []
    assert progress.phase(hook.append, 'x') == hook.append
    progress.finish()
    assert progress.phase(None, 'x') is None


def test_the_installed_reporter_gets_a_phase_per_artifact(tmp_path):
    path = str(tmp_path / 'p.json')
    reporter = progress.install(path, 'upload', log=lambda line: None, write_every=0)
    try:
        assert progress.phase(None, 'upload/big', total=10) is reporter and reporter.state['phase'] == 'upload/big'
        thread = progress.estimate_in_background('upload/tree', lambda: 123)
        thread.join(10)
        progress.phase(None, 'upload/tree')
        assert reporter.state['total'] == 123 and reporter.state['estimated'] is True
    finally:
        progress.finish()
    assert progress.estimate_in_background('x', lambda: 1) is None  # nothing installed: no walk at all


def test_the_files_estimate_counts_like_du_apparent_size(tmp_path):
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
    top = tmp_path / 'app'
    (top / 'sub').mkdir(parents=True)
    (top / 'a').write_bytes(b'x' * 1000)
    (top / 'sub' / 'b').write_bytes(b'y' * 3000)
    os.link(str(top / 'a'), str(top / 'sub' / 'a-again'))  # a hard link is read once
    os.symlink('a', str(top / 'link'))
    (top / 'big').write_bytes(b'z' * 20000)
    entries = 7  # app, sub, a, big, link, sub/b, sub/a-again: a header each, then the data in 512-byte blocks
    stream = 512 * entries + 1024 + 3072 + 20480 + 1024  # and the two end blocks
    assert stream == 29184
    assert files_backup.tree_size([str(top)]) == 30720 + files_backup.TOOL_READS  # in 10 KiB records
    assert files_backup.tree_size([str(top / 'sub' / 'b'), str(tmp_path / 'gone')], one_file_system=True) == 10240 + files_backup.TOOL_READS
