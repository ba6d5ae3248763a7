# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of long work (archive, dump, upload, download, verification), for people watching a play.

A module given ``progress_file`` (set by the collection's action plugins, see plugins/plugin_utils/progress.py)
hands a ``Reporter`` to the pipeline's progress hook. The reporter keeps the counts (plain bytes read from the
source or decoded, stored bytes written or read), and at most every ``write_every`` seconds replaces a small JSON document
in that file (temp + rename: a reader never sees half of it; mode 0644, so the login user can read what a become
user wrote); every ``log_every`` seconds it also logs the same line to the host's syslog/journal. The action
plugin's watcher thread reads the file while the module runs (synchronously) and prints the line in the play
output (AWX shows it as a job event). ``done`` logs the last line and removes the file.

Totals: a phase gets its ``total`` when one is at hand (a record's size: exact; pg_database_size or an earlier
record: estimated), or a ``measure`` (a du-like walk), which the reporter runs in a thread only once the first
line is due (``after``: the action plugin's lifeboat_progress_after, module option ``progress_after``): a short
task never pays for it.

``describe`` is pure: it turns a state into the line people read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils import _human as human

try:
    import syslog
except ImportError:  # not on every platform
    syslog = None


def describe(state, now=None):
    """One line, e.g. 'web1 files/app: 1.2 GiB read, 410 MiB stored, 95.0 MiB/s, 13s elapsed, ETA 1m 2s (45%)'.

    ``direction`` 'backup': ``plain`` bytes were read from the source and ``stored`` bytes written to the store;
    'read' (restore, verify, drill): ``stored`` bytes were read from the store and ``plain`` came out decoded.
    The rate and the ETA follow the quantity ``total`` counts (``total_of``: plain or stored).
    """
    now = state.get('updated') if now is None else now
    started = state.get('started')
    elapsed = max(0.0, float(now or 0) - float(now or 0 if started is None else started))
    plain, stored = state.get('plain'), state.get('stored')
    if state.get('direction') == 'read':
        parts = ['%s read' % human.size(stored or 0)]
        if plain is not None:
            parts.append('%s decoded' % human.size(plain))
    else:
        parts = ['%s read' % human.size(plain if plain is not None else stored or 0)]
        if stored is not None and plain is not None:
            parts.append('%s stored' % human.size(stored))
    counted = (plain if state.get('total_of') == 'plain' else stored) or 0
    if counted == 0 and state.get('total_of') == 'plain' and plain is None:
        counted = stored or 0
    rate = counted / elapsed if elapsed > 0 else 0.0
    parts.append('%s/s' % human.size(rate))
    parts.append('%s elapsed' % human.duration(elapsed))
    total = state.get('total')
    if total and rate > 0 and counted <= total:
        parts.append('ETA %s (%d%%%s)' % (human.duration((total - counted) / rate), int(100 * counted / total),
                                          ', estimated' if state.get('estimated') else ''))
    elif total and counted > total:
        parts.append('past the %s estimate' % human.size(total))
    label = state.get('label') or 'working'
    phase = state.get('phase')
    return '%s%s: %s' % (label, ' (%s)' % phase if phase else '', ', '.join(parts))


class Reporter(object):
    """Counts bytes and writes the progress file now and then. It is the pipeline's progress hook."""

    def __init__(self, path, label, total=None, estimated=False, direction='backup', total_of=None, write_every=5.0,
                 log_every=30.0, clock=time.time, log=None, after=None, wait=None):
        self.path = path
        self.clock = clock
        self.write_every = write_every
        self.log_every = log_every
        self.log = log if log is not None else _syslog
        now = clock()
        self.state = {'label': label, 'started': now, 'updated': now, 'plain': None, 'stored': 0,
                      'total': int(total) if total else None, 'estimated': bool(estimated), 'phase': None,
                      'direction': direction, 'total_of': total_of or ('plain' if direction == 'backup' else 'stored'),
                      'state': 'running'}
        self._written = 0.0
        self._logged = now
        # when the first progress line is due (the action plugin's lifeboat_progress_after): measuring starts then
        self.due = now + max(0.0, float(after or 0))
        self._finished = threading.Event()
        self._wait = wait or self._finished.wait
        self.measuring = None  # the thread of the last measure_later()

    def phase(self, name, total=None, estimated=None, direction=None, total_of=None, measure=None):
        """A new stretch of work (another artifact, another database): counts restart.

        ``measure``: for a phase without a ``total``, a callable that finds an estimate (a du-like walk of plain
        bytes); it runs in a thread beside the work, and only once the first progress line is due (measure_later).
        """
        now = self.clock()
        self.state.update({'phase': name, 'started': now, 'plain': None, 'stored': 0})
        if direction is not None:
            self.state['direction'] = direction
            self.state['total_of'] = total_of or ('plain' if direction == 'backup' else 'stored')
        elif total_of is not None:
            self.state['total_of'] = total_of
        if total is not None:
            self.state['total'] = int(total) or None
        if estimated is not None:
            self.state['estimated'] = bool(estimated)
        self._flush(now, force=True)
        if measure is not None and not total:
            self.measure_later(name, measure)

    def __call__(self, stored, plain=None):
        """The pipeline's progress hook (see _pipeline._Meter): bytes stored so far, and plain bytes when known."""
        self.state['stored'] = int(stored)
        if plain is not None:
            self.state['plain'] = int(plain)
        now = self.clock()
        if now - self._written >= self.write_every:
            self._flush(now)

    def estimate(self, phase, total):
        """A total found later (by measure_later): kept if that phase still runs and has no total yet."""
        if total and self.state.get('phase') == phase and not self.state.get('total'):
            self.state['total'] = int(total)
            self.state['estimated'] = True

    def measure_later(self, phase, measure):
        """Run ``measure()`` in a daemon thread once the first progress line is due (``after`` seconds from the
        start), and make its result the estimated total of ``phase``. Nothing is measured when the work is done
        (or in another phase) by then: a short task never walks its tree. The work never waits for it."""
        def work():
            if self._wait(max(0.0, self.due - self.clock())) or self.state.get('phase') != phase:
                return
            try:
                self.estimate(phase, measure())
            except Exception:  # pylint: disable=broad-except
                pass  # an estimate is best effort: the work reports its own errors

        self.measuring = threading.Thread(target=work, name='lifeboat-estimate')
        self.measuring.daemon = True
        self.measuring.start()
        return self.measuring

    def done(self, state='done'):
        """The last line (logged), and the progress file removed: the play shows the module's result instead."""
        self.state['state'] = state
        self._finished.set()
        path, self.path = self.path, None
        self._flush(self.clock(), force=True)
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass  # never written, or removed already

    def _flush(self, now, force=False):
        self.state['updated'] = now
        self._written = now
        if self.path:
            _write(self.path, self.state)
        if self.log and (force or now - self._logged >= self.log_every):
            self._logged = now
            self.log(describe(self.state, now))


def _write(path, state):
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + '.', suffix='.tmp', dir=os.path.dirname(path) or '.')
        with os.fdopen(fd, 'w') as handle:
            json.dump(state, handle)
        os.chmod(tmp, 0o644)  # the login user reads it (the module may run as root through become)
        os.rename(tmp, path)
    except (IOError, OSError):
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # progress is best effort: never fail the work for it


def _syslog(line):
    if syslog is None:
        return
    try:
        syslog.openlog('lifeboat.backup', 0, syslog.LOG_USER)
        syslog.syslog(syslog.LOG_INFO, line)
    except Exception:  # pylint: disable=broad-except
        pass  # no syslog socket: the play output still has it


def read(path):
    """The state a reporter wrote, or None."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


# ---------------------------------------------------------------- the module's reporter

_ACTIVE = []


def install(path, label, **kwargs):
    """The module's reporter (one per module process), when the action plugin gave it a ``progress_file``.

    artifacts.write_artifact / read_artifact pick it up (``active()``) and start a phase per artifact, so the flows
    between the module and the pipeline need not pass it along. Returns the reporter, or None without a path.
    """
    del _ACTIVE[:]
    if not path:
        return None
    reporter = Reporter(path, label, **kwargs)
    _ACTIVE.append(reporter)
    return reporter


def active():
    """The reporter ``install`` made in this process, or None."""
    return _ACTIVE[0] if _ACTIVE else None


def phase(progress, name, total=None, estimated=False, direction='backup', measure=None):
    """Start the phase of one artifact on ``progress`` (a Reporter or another hook) or on the installed reporter.

    artifacts.write_artifact / read_artifact call this; returns the pipeline's progress hook (or None).
    ``measure``: see Reporter.phase (only for a phase without a total)."""
    reporter = progress if progress is not None else active()
    if reporter is not None and hasattr(reporter, 'phase'):
        reporter.phase(name, total=total or 0, estimated=bool(total) and estimated, direction=direction,
                       measure=measure)
    return reporter


OPTION_SPEC = {'progress_file': dict(type='path'), 'progress_after': dict(type='float')}  # doc fragment: plugins/doc_fragments/progress.py


def finish(state='done'):
    reporter = active()
    if reporter is not None:
        reporter.done(state)
    del _ACTIVE[:]
