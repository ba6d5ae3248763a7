# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every long-running module: progress in the play output while the module works.

The module runs synchronously, as without this plugin, with ``progress_file`` naming a uuid-named file in the
module host's temp dir (``lifeboat_progress_dir``, default /tmp), which the module replaces every few seconds
(mode 0644) and removes at its end (module_utils/_progress.py). Beside it, a daemon watcher thread of the worker
sleeps ``lifeboat_progress_after`` seconds (default 30), then every ``lifeboat_progress_interval`` seconds
(default 30) reads that file and prints one line per host, e.g.

    web1: files backup (files/app): 1.2 GiB read, 410 MiB stored, 95.0 MiB/s, 13s elapsed, ETA 1m 2s (45%)

``Display.display`` from a worker goes through the results queue to the main process, so ansible-playbook
prints it at once and AWX shows it as a job event. A task shorter than ``lifeboat_progress_after`` costs
nothing more than the module itself (no extra module runs on the controller), and cancelling the play
(AWX cancel, Ctrl-C, SIGTERM) reaches the module as it would without this plugin, so its cancel handling
(module_utils/_backup_set/heartbeat.py: part left unfinished, set failed, lock released) applies.

Reading the file: the ``local`` connection reads it directly; ``ssh`` runs ``cat`` through a shallow copy of
the task's connection, never with become (sudoable=False): the ssh plugin spawns one more ssh process (over the
ControlPersist socket) per command, and the attributes it sets per command (``_flags``, ``sshpass_pipe``) land
on the copy, not on the object the module's command is running on. Other connections print no lines (the
module still logs its progress to syslog).

Off (the module runs as usual) in check mode, when the task sets ``async`` itself, on connections with
native async, or with ``lifeboat_progress_interval: 0``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import shlex
import threading
import time
import uuid

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.lifeboat.backup.plugins.module_utils import _human as human
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress

display = Display()

READ_DIRECTLY = ('local',)
READ_WITH_CAT = ('ssh',)


def _number(value, default, name):
    if value in (None, ''):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AnsibleError('%s must be a number of seconds, got %r' % (name, value))


def next_due(due, now, interval):
    """The first time after ``now`` on the schedule due, due + interval, ...: a slow read skips lines, never
    bunches them up."""
    if now < due:
        return due
    return due + interval * (int((now - due) // interval) + 1)


def parse_state(text):
    """The state in a progress file's content (str or bytes), or None when there is none yet (or half a one)."""
    if not text:
        return None
    try:
        state = json.loads(text.decode('utf-8') if isinstance(text, bytes) else text)
    except (ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


class Watcher(object):
    """Shows the progress file's content (``read()``) through ``show(line)`` at after, after + interval, ...
    seconds from the start, until ``stop()``. ``clock`` and ``wait(seconds) -> True once stopped`` are injectable
    (the tests' schedule).

    Elapsed time and rate are the module host's own (``updated - started``: no clock skew), aged by the time this
    side has seen the same state: a compressor that holds its output for a while (zstd -19) leaves the file
    unchanged, and the line still says how long the artifact has been running, at a falling rate."""

    def __init__(self, read, show, after, interval, clock=time.time, wait=None):
        self.read = read
        self.show = show
        self.after = max(0.0, after)
        self.interval = interval
        self.clock = clock
        self.stopped = threading.Event()
        self.wait = wait or self.stopped.wait
        self.thread = None
        self._updated = None
        self._seen = None

    def line(self, text, now):
        state = parse_state(text)
        if state is None:
            return None
        if state.get('updated') != self._updated:
            self._updated, self._seen = state.get('updated'), now
        try:
            at = float(self._updated) + max(0.0, now - self._seen)
        except (TypeError, ValueError):
            at = None
        return progress.describe(state, now=at)

    def run(self):
        started = self.clock()
        due = started + self.after
        while not self.wait(max(0.0, due - self.clock())):
            try:
                text = self.read()
            except Exception:  # pylint: disable=broad-except
                text = None  # progress is best effort: never fail the task for it
            if self.stopped.is_set():
                return
            now = self.clock()
            self.show(self.line(text, now) or 'still working (%s elapsed)' % human.duration(now - started))
            due = next_due(due, now, self.interval)

    def start(self):
        self.thread = threading.Thread(target=self.run, name='lifeboat-progress')
        self.thread.daemon = True  # a worker that ends (or is cancelled) never waits for it
        self.thread.start()

    def stop(self):
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(1.0)


class ProgressAction(ActionBase):
    """Subclass per module (plugins/action/<module>.py); nothing to override."""

    _supports_check_mode = True
    _supports_async = True

    def _setting(self, task_vars, name, default):
        value = task_vars.get(name, default)
        if isinstance(value, str) and '{{' in value:
            value = self._templar.template(value)
        return _number(value, default, name)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ProgressAction, self).run(tmp, task_vars)
        interval = self._setting(task_vars, 'lifeboat_progress_interval', 30.0)
        after = self._setting(task_vars, 'lifeboat_progress_after', 30.0)
        kind = (getattr(self._connection, '_load_name', None) or self._connection.transport or '').split('.')[-1]
        if (self._task.async_val or self._task.check_mode or self._play_context.check_mode or interval <= 0
                or self._connection.has_native_async or self._connection.always_pipeline_modules
                or kind not in READ_DIRECTLY + READ_WITH_CAT):
            wrap = bool(self._task.async_val) and not self._connection.has_native_async
            return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap))
        folder = task_vars.get('lifeboat_progress_dir') or '/tmp'
        path = '%s/lifeboat-progress-%s.json' % (folder.rstrip('/') or '', uuid.uuid4().hex)
        module_args = dict(self._task.args, progress_file=path, progress_after=after)  # estimates start then
        reader = _read_file if kind in READ_DIRECTLY else _cat_reader(copy.copy(self._connection))
        host = task_vars.get('inventory_hostname', '?')
        watcher = Watcher(lambda: reader(path), lambda line: display.display('%s: %s' % (host, line)),
                          after, interval)
        watcher.start()
        try:
            return merge_hash(result, self._execute_module(module_args=module_args, task_vars=task_vars))
        finally:
            watcher.stop()


def _read_file(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _cat_reader(connection):
    def read(path):
        rc, out, _err = connection.exec_command('cat -- %s 2>/dev/null' % shlex.quote(path), sudoable=False)
        return out if rc == 0 else None
    return read
