# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of long work (archive, dump, upload, download, verification), for people watching a play.

A module given ``progress_file`` (set by the collection's action plugins, see plugins/plugin_utils/progress.py)
hands a ``Reporter`` to the pipeline's progress hook. The reporter keeps the counts (bytes read from the
source or the store, bytes stored), and at most every ``write_every`` seconds replaces a small JSON document
in that file (temp + rename: a reader never sees half of it); every ``log_every`` seconds it also logs the
same line to the host's syslog/journal. The action plugin reads the file while the module runs
asynchronously and prints the line in the play output (AWX shows it as a job event).

``describe`` is pure: it turns a state into the line people read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible_collections.lifeboat.backup.plugins.module_utils import _human as human

try:
    import syslog
except ImportError:  # not on every platform
    syslog = None

def describe(state, now=None):
    """One line: 'web1 files/app: 1.2 GiB read, 410 MiB stored, 95.0 MiB/s, 13s elapsed, ETA 1m 2s (45%)'."""
    now = state.get('updated') if now is None else now
    elapsed = max(0.0, float(now or 0) - float(state.get('started') or now or 0))
    done = int(state.get('bytes_read') or 0)
    parts = ['%s read' % human.size(done)]
    if state.get('bytes_stored') is not None:
        parts.append('%s stored' % human.size(state['bytes_stored']))
    rate = done / elapsed if elapsed > 0 else 0.0
    parts.append('%s/s' % human.size(rate))
    parts.append('%s elapsed' % human.duration(elapsed))
    total = state.get('total')
    if total and rate > 0 and done <= total:
        parts.append('ETA %s (%d%%%s)' % (human.duration((total - done) / rate), int(100 * done / total),
                                          ', estimated' if state.get('estimated') else ''))
    elif total and done > total:
        parts.append('past the %s estimate' % human.size(total))
    label = state.get('label') or 'working'
    phase = state.get('phase')
    return '%s%s: %s' % (label, ' (%s)' % phase if phase else '', ', '.join(parts))


class Reporter(object):
    """Counts bytes and writes the progress file now and then. Safe to call from the pipeline's hot loop."""

    def __init__(self, path, label, total=None, estimated=False, write_every=5.0, log_every=30.0, clock=time.time,
                 log=None):
        self.path = path
        self.clock = clock
        self.write_every = write_every
        self.log_every = log_every
        self.log = log if log is not None else _syslog
        now = clock()
        self.state = {'label': label, 'started': now, 'updated': now, 'bytes_read': 0, 'bytes_stored': None,
                      'total': int(total) if total else None, 'estimated': bool(estimated), 'phase': None,
                      'state': 'running'}
        self._written = 0.0
        self._logged = now

    def phase(self, name, total=None, estimated=None):
        """A new stretch of work (another artifact, another database): counts restart."""
        now = self.clock()
        self.state.update({'phase': name, 'started': now, 'bytes_read': 0, 'bytes_stored': None})
        if total is not None:
            self.state['total'] = int(total) or None
        if estimated is not None:
            self.state['estimated'] = bool(estimated)
        self._flush(now, force=True)

    def __call__(self, bytes_read, bytes_stored=None):
        """The pipeline's progress hook: total bytes so far (source side, and stored side when known)."""
        self.state['bytes_read'] = int(bytes_read)
        if bytes_stored is not None:
            self.state['bytes_stored'] = int(bytes_stored)
        now = self.clock()
        if now - self._written >= self.write_every:
            self._flush(now)

    def done(self, state='done'):
        self.state['state'] = state
        self._flush(self.clock(), force=True)

    def _flush(self, now, force=False):
        self.state['updated'] = now
        self._written = now
        if self.path:
            _write(self.path, self.state)
        if self.log and (force or now - self._logged >= self.log_every):
            self._logged = now
            self.log(describe(self.state, now))


def _write(path, state):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    try:
        with open(tmp, 'w') as handle:
            json.dump(state, handle)
        os.rename(tmp, path)
    except (IOError, OSError):
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
