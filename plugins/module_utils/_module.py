# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exit point every module shares: run its call into module_utils and report the outcome.

A module builds its AnsibleModule (argument spec in a function the unit tests call), then hands the one
call into module_utils to ``execute``, which turns the result into ``exit_json`` and every failure into
``fail_json``: a ``LifeboatError`` (or subclass) as its readable message plus its details, anything else
(a bug) as a readable message plus the traceback in ``exception``, which ``-vvv`` shows. Whatever the flow
returns (``commands`` included) is passed through unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store


def execute(module, work, warnings=None, fail_details=None, warn_key=None, requires=(), progress_label=None,
            progress_direction='backup'):
    """Call ``work()`` (returns the result dict) and end the module with it.

    ``requires``: (library, importable, import error) of each Python library the work needs on the host; a
    missing one fails the module before any work. ``warnings``: a list the flow fills while it works; each
    is passed to ``module.warn`` whether the call succeeded or failed. ``fail_details``: a callable returning
    extra keys for a failure (e.g. records the flow wrote before it failed). ``warn_key``: a key of the
    result whose list is also shown as warnings. ``progress_label``: the module's progress reporter is installed
    (_progress.install) when the action plugin gave a ``progress_file``, never in check mode; its lines say
    ``progress_direction`` ('backup': source -> store; 'read': from the store: restore, fetch, verify, drill).
    The work finds it with ``_progress.active()``.
    """
    for library, importable, import_error in requires:
        if not importable:
            module.fail_json(msg=missing_required_lib(library), exception=str(import_error))
    if progress_label and not module.check_mode:
        progress.install(module.params.get('progress_file'), progress_label, direction=progress_direction,
                         after=module.params.get('progress_after'), write_every=2.0)
    try:
        try:
            result = work()
        finally:
            progress.finish()
    except LifeboatError as e:
        _warn(module, warnings)
        details = dict(fail_details() if fail_details else {})
        details.update(e.details)
        module.fail_json(msg=e.msg, **details)
    except Exception as e:  # a bug: name it in one line, keep the traceback for -vvv
        _warn(module, warnings)
        module.fail_json(msg='unexpected %s: %s (a bug in lifeboat.backup; the traceback is shown with -vvv)'
                         % (type(e).__name__, e), exception=traceback.format_exc())
    _warn(module, warnings)
    # a flow's own 'warnings' become module warnings (passing them to exit_json is deprecated in 2.19)
    _warn(module, result.pop('warnings', None))
    _warn(module, result.get(warn_key) if warn_key else None)
    module.exit_json(**result)


def execute_in_store(module, flow, **kwargs):
    """``execute`` for a module whose one call works on its store: ``flow(store, params, check_mode)``."""
    def work():
        with open_store(module.params['store']) as store:
            return flow(store, module.params, module.check_mode)
    execute(module, work, **kwargs)


def _warn(module, warnings):
    for text in warnings or []:
        module.warn(text)
