# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The progress option of every module with long work (archive, dump, upload, download, verification).
    # Spec: module_utils/_progress.py OPTION_SPEC; the action plugin: plugin_utils/progress.py.
    DOCUMENTATION = r'''
options:
  progress_file:
    description:
      - Where the module writes its progress (a small JSON document, replaced every few seconds, removed at the
        end) while it runs. Set by the collection's action plugin, which prints it in the play output every
        C(lifeboat_progress_interval) seconds (default 30) once the task has run C(lifeboat_progress_after)
        seconds (default 30); leave it unset. The same line is logged to the host's syslog/journal.
    type: path
notes:
  - Progress lines are shown for the C(local) and C(ssh) connections; with other connections the module runs
    as usual and only logs its progress to syslog. C(lifeboat_progress_interval=0), check mode and a task's own
    C(async) turn the lines off.
'''
