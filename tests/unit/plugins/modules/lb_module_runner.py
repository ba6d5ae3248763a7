# -*- coding: utf-8 -*-
"""Run a module's real main() in this process, as Ansible would on the host, and return its JSON result.

Nothing of the collection is mocked: the module reads its arguments the way AnsibleModule does (through
``ansible.module_utils.testing.patch_module_args`` on ansible-core 2.19+, the ``_ANSIBLE_ARGS`` buffer it
replaces before that), runs its one call into module_utils and exits through exit_json/fail_json, whose
output is parsed here.
"""

import contextlib
import importlib
import json
import os
import pathlib
import shutil

import pytest

from ansible.module_utils.common import warnings as _warnings

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic as _basic

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = _basic._ANSIBLE_ARGS
        _basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
        try:
            yield
        finally:
            _basic._ANSIBLE_ARGS = saved


MODULES = ['backup_fetch', 'backup_set', 'backup_set_info', 'backup_upload', 'ec2_snapshot_set', 'ec2_snapshot_set_info',
           'ec2_snapshot_set_restore', 'files_backup', 'files_restore', 'postgresql_backup', 'postgresql_restore',
           'backup_prune', 'backup_verify', 'backup_drill', 'backup_status', 'backup_metrics', 'postgresql_scratch']
# the modules that take no store option
STORELESS = ['ec2_snapshot_set_info', 'backup_metrics', 'postgresql_scratch']


# ansible-core 2.19+ puts a traceback into a module's result only for the events the controller asks for
# (ANSIBLE_DISPLAY_TRACEBACK=error, then shown at -vvv); earlier versions include the one a module passes
# as ``exception`` (shown at -vvv). TRACEBACK_ARGS is what the controller sends when asked.
try:
    from ansible.module_utils._internal import _traceback
    TRACEBACK_ARGS = {'_ansible_tracebacks_for': ['error']}
except ImportError:
    _traceback = None
    TRACEBACK_ARGS = {}


def fresh_module_process():
    """Reset what ansible.module_utils keeps per process, as a new module process would start with it."""
    _warnings._global_warnings.clear()
    _warnings._global_deprecations.clear()
    if _traceback is not None:
        _traceback._module_tracebacks_enabled_events = None
        _traceback._is_traceback_enabled = _traceback._is_module_traceback_enabled


def warnings_of(result):
    """The warning texts of a result (2.19+ returns them as structured events)."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


def load(name):
    return importlib.import_module('ansible_collections.lifeboat.backup.plugins.modules.' + name)


class Result(dict):
    """The module's JSON result; ``rc`` is its exit code."""

    @property
    def failed(self):
        return bool(self.get('failed'))


def run(capsys, tmp_path, name, args, check=False):
    """Run module ``name`` with ``args``; returns its result (``rc`` is the exit code)."""
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check
    module_args.setdefault('_ansible_tmpdir', str(tmp_path / 'module-tmp'))
    module_args.setdefault('_ansible_remote_tmp', str(tmp_path / 'module-tmp'))
    os.makedirs(module_args['_ansible_tmpdir'], exist_ok=True)
    fresh_module_process()
    capsys.readouterr()
    with patch_module_args(module_args), pytest.raises(SystemExit) as exc:
        load(name).main()
    return parse_exit(capsys, exc.value.code)


def parse_exit(capsys, code):
    out = capsys.readouterr().out
    result = Result(json.loads(out[out.index('{'):]))
    result['rc'] = code
    return result


def tree(path):
    """Every path below ``path`` (relative), to check that check mode wrote nothing."""
    path = pathlib.Path(path)
    if not path.exists():
        return []
    return sorted(str(p.relative_to(path)) for p in path.rglob('*'))


def have_tools(*names):
    return all(shutil.which(n) for n in names)
