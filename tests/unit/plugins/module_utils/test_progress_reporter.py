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
    # an estimate found by a walk beside the work: kept for the running phase only (it started the walk)
    progress.phase(reporter, 'files/etc')
    reporter.estimate('files/etc', 2048)
    reporter.estimate('files/home', 4096)
    assert (reporter.state['total'], reporter.state['estimated']) == (2048, True)
    progress.phase(reporter, 'files/home')
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
        progress.phase(None, 'upload/tree', measure=lambda: 123)  # after=0: measured at once, in a thread
        reporter.measuring.join(10)
        assert reporter.state['total'] == 123 and reporter.state['estimated'] is True
    finally:
        progress.finish()


class Waits(object):
    """The measuring thread's wait(seconds) -> True once the work is done: records what it was asked, and
    moves the clock on by that much (or says the work ended first)."""

    def __init__(self, clock, done_first=False):
        self.clock = clock
        self.done_first = done_first
        self.asked = []

    def __call__(self, seconds):
        self.asked.append(seconds)
        if self.done_first:
            return True
        self.clock.now += seconds
        return False


def test_the_walk_starts_only_once_the_first_line_is_due(tmp_path):
    clock = Clock()
    measured = []

    def measure():
        measured.append(clock.now)
        return 5000

    waits = Waits(clock)
    reporter = progress.Reporter(str(tmp_path / 'p.json'), 'files backup', clock=clock, log=lambda line: None,
                                 after=30, wait=waits)
    clock.now += 4  # the module opened the store and its set first
    reporter.phase('files/app', measure=measure)
    reporter.measuring.join(10)
    assert waits.asked == [26.0] and measured == [1030.0]  # at the first line's time, from the module's start
    assert (reporter.state['total'], reporter.state['estimated']) == (5000, True)
    # a short task: done before the line is due, so nothing is measured
    waits = Waits(clock, done_first=True)
    measured[:] = []
    reporter = progress.Reporter(str(tmp_path / 'q.json'), 'files backup', clock=clock, log=lambda line: None,
                                 after=30, wait=waits)
    reporter.phase('files/app', measure=measure)
    reporter.done()
    reporter.measuring.join(10)
    assert waits.asked == [30.0] and measured == []
    # a total at hand (an earlier record): no walk at all; another phase by the time it is due: no walk either
    reporter = progress.Reporter(str(tmp_path / 'r.json'), 'files backup', clock=clock, log=lambda line: None,
                                 after=30, wait=lambda seconds: False)
    reporter.phase('files/app', total=7000, estimated=True, measure=measure)
    assert reporter.measuring is None and reporter.state['total'] == 7000
    waited = []
    reporter = progress.Reporter(str(tmp_path / 's.json'), 'files backup', clock=clock, log=lambda line: None,
                                 after=30, wait=lambda seconds: waited.append(reporter.phase('files/etc')))
    reporter.phase('files/app', measure=measure)
    reporter.measuring.join(10)
    assert measured == [] and reporter.state['phase'] == 'files/etc' and reporter.state['total'] is None


def test_the_estimate_of_a_full_from_its_base_record():
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
    paths = ['/srv/app']
    full = {'set_id': '20261130T010000Z', 'extra': {'paths': paths, 'exclude': ['*.log'], 'one_file_system': True,
                                                    'uncompressed_size': 10485760, 'incremental': {'level': 0}}}
    assert files_backup.recorded_size(full, paths, ['*.log'], True) == 10485760 + files_backup.TOOL_READS
    increment = {'set_id': '20261201T010000Z', 'extra': dict(full['extra'], incremental={'level': 3})}
    assert files_backup.recorded_size(increment, paths, ['*.log'], True) is None  # not the size of a full
    assert files_backup.recorded_size(full, paths + ['/etc'], ['*.log'], True) is None  # another source
    assert files_backup.recorded_size(full, paths, [], True) is None
    assert files_backup.recorded_size(full, paths, ['*.log'], False) is None
    assert files_backup.recorded_size(None, paths, None, False) is None
    plain = {'set_id': '20261130T010000Z', 'extra': {'paths': paths, 'uncompressed_size': None}}
    assert files_backup.recorded_size(plain, paths, None, False) is None  # tar said no total


class Decision(object):
    def __init__(self, level, record):
        self.decision = {'level': level}
        self.found = {'record': record}


def test_plain_estimate_prefers_a_record_then_a_walk_and_skips_increments(tmp_path):
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
    top = str(tmp_path)
    (tmp_path / 'a').write_bytes(b'x' * 100)
    base = {'set_id': '20261130T010000Z', 'extra': {'paths': [top], 'exclude': [], 'one_file_system': False,
                                                    'uncompressed_size': 20480, 'incremental': {'level': 0}}}
    assert files_backup.plain_estimate([top], None, False, Decision(0, base)) == (20480 + files_backup.TOOL_READS, None)
    assert files_backup.plain_estimate([top], None, False, Decision(1, base)) == (None, None)
    total, measure = files_backup.plain_estimate([top], None, False)  # no incremental mode: no record at hand
    assert total is None and measure() == files_backup.tree_size([top])
    total, measure = files_backup.plain_estimate([top], None, True, Decision(0, base))  # the source changed
    assert total is None and measure() == files_backup.tree_size([top], True)


def test_one_walk_serves_the_estimate_and_the_hard_link_search(tmp_path):
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
    (tmp_path / 'd' / 'e').mkdir(parents=True)
    (tmp_path / 'd' / 'e' / 'f').write_bytes(b'1')
    os.link(str(tmp_path / 'd' / 'e' / 'f'), str(tmp_path / 'g'))
    os.symlink('d', str(tmp_path / 'link'))  # not followed
    names = sorted(path for path, _info in files_backup.walk(str(tmp_path)))
    assert names == [str(tmp_path)] + [str(tmp_path / name) for name in ('d', 'd/e', 'd/e/f', 'g', 'link')]
    assert list(files_backup.walk(str(tmp_path / 'gone'))) == []
    info = os.lstat(str(tmp_path / 'g'))
    wanted = {(info.st_dev, info.st_ino): []}
    files_backup._walk_for(os.fsencode(str(tmp_path)), wanted)
    assert sorted(wanted[(info.st_dev, info.st_ino)]) == sorted(os.fsencode(str(tmp_path / name))[1:] for name in ('d/e/f', 'g'))


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
