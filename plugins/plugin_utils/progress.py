# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every long-running module: progress in the play output while the module works.

The module runs asynchronously (Ansible's own async_wrapper) with ``progress_file`` pointing into the remote
async directory. The controller polls ``async_status`` (after 0.25 s, 0.5 s, 1 s, then every 2 s, every 5 s once progress is shown), and once the work has
run for ``lifeboat_progress_after`` seconds (default 30) it reads the progress file every
``lifeboat_progress_interval`` seconds (default 30) and prints one line per host, e.g.

    web1: files/app: 1.2 GiB read, 410 MiB stored, 95.0 MiB/s, 13s elapsed, ETA 1m 2s (45%)

``Display.display`` from a worker goes through the main process, so ansible-playbook prints it at once and AWX
shows it as a job event. The module's result is returned exactly as if it had run synchronously.

Not used (the module runs as usual) in check mode, when the task sets ``async`` itself, on connections with
native async, or with ``lifeboat_progress_interval: 0``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import time
import uuid

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress

display = Display()

ASYNC_KEYS = ('ansible_job_id', 'started', 'finished', 'results_file')
POLLS = (0.25, 0.5, 1.0)
POLL_EARLY = 2.0  # until the first progress line is due
POLL_CAP = 5.0
DEFAULT_LIMIT = 7 * 86400  # async_wrapper kills a module running longer than this


def _number(value, default, name):
    if value in (None, ''):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AnsibleError('%s must be a number of seconds, got %r' % (name, value))


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
        if (self._task.async_val or self._task.check_mode or self._play_context.check_mode or interval <= 0
                or self._connection.has_native_async or self._connection.always_pipeline_modules):
            wrap = bool(self._task.async_val) and not self._connection.has_native_async
            return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap))
        return merge_hash(result, self._run_watched(task_vars, interval, after))

    def _run_watched(self, task_vars, interval, after):
        async_dir = self._remote_expand_user(self.get_shell_option('async_dir', default='~/.ansible_async'))
        progress_path = self._connection._shell.join_path(async_dir, 'lifeboat-progress-%s.json' % uuid.uuid4().hex)
        module_args = dict(self._task.args)
        module_args['progress_file'] = progress_path
        limit = int(self._setting(task_vars, 'lifeboat_progress_timeout', DEFAULT_LIMIT))
        self._task.async_val = limit
        try:
            started = self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = 0
        if started.get('failed') or 'ansible_job_id' not in started:
            return started
        jid = started['ansible_job_id']
        host = task_vars.get('inventory_hostname', '?')
        t0 = time.time()
        last_shown = t0 + after - interval
        polls = 0
        while True:
            if polls < len(POLLS):
                time.sleep(POLLS[polls])
            else:
                time.sleep(POLL_EARLY if time.time() - t0 < after else POLL_CAP)
            polls += 1
            status = self._execute_module(module_name='ansible.legacy.async_status', task_vars=task_vars,
                                          module_args={'jid': jid, '_async_dir': async_dir})
            if status.get('finished') or (status.get('failed') and not status.get('started')):
                break
            now = time.time()
            if now - t0 >= after and now - last_shown >= interval:
                last_shown = now
                line = self._read_progress(progress_path, task_vars)
                display.display('%s: %s' % (host, line or 'still working (%s elapsed)' % progress.human.duration(now - t0)))
        self._execute_module(module_name='ansible.legacy.async_status', task_vars=task_vars,
                             module_args={'jid': jid, 'mode': 'cleanup', '_async_dir': async_dir})
        for key in ASYNC_KEYS:
            status.pop(key, None)
        return status

    def _read_progress(self, path, task_vars):
        found = self._execute_module(module_name='ansible.legacy.slurp', task_vars=task_vars, module_args={'src': path})
        if found.get('failed') or not found.get('content'):
            return None
        try:
            state = json.loads(base64.b64decode(found['content']).decode('utf-8'))
        except (ValueError, TypeError):
            return None
        return progress.describe(state)  # the module host's own clock: no skew
