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
  progress_after:
    description:
      - Seconds from the module's start until the first progress line is due (C(lifeboat_progress_after)); set
        by the action plugin with O(progress_file), leave it unset. Work that needs an estimate of its size
        (a files archive with no earlier record of the same source at hand) measures it only from then on, so a
        task that ends sooner never walks its tree. Unset, it is measured at once.
    type: float
notes:
  - Progress lines are shown for the C(local) and C(ssh) connections; with other connections the module runs
    as usual and only logs its progress to syslog. C(lifeboat_progress_interval=0), check mode and a task's own
    C(async) turn the lines off.
  - The ETA of a backup counts against an estimate (marked C(estimated)); a files archive takes it from the base
    record an incremental entry reads anyway (a full of the same source), otherwise from a du-like walk of its
    paths beside tar, started when the first line is due; its first line may come before the walk has finished.
    An increment shows no ETA. Reads (restore, fetch, verify, drill) count against the recorded sizes (exact).
'''
