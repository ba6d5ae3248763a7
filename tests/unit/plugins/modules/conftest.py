# -*- coding: utf-8 -*-
"""Fixtures of the module tests (the runner itself is lb_module_runner.py)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import lb_module_runner as runner  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def run_module(capsys, tmp_path):
    """run_module(name, args, check=False) -> the module's exit_json or fail_json output (``rc``: exit code)."""
    return lambda name, args, check=False: runner.run(capsys, tmp_path, name, args, check=check)


@pytest.fixture
def store(tmp_path):
    """A filesystem store option in tmp_path (not created: the modules create it when they write)."""
    return {'type': 'filesystem', 'path': str(tmp_path / 'store')}


@pytest.fixture(autouse=True)
def module_process(monkeypatch):
    """Run each module as a module process would: once anything in this pytest process imported controller code
    (the filter tests import ansible.errors), ansible-core 2.19 sends module warnings to the controller's display
    instead of the module's result. A module process never has that flag set."""
    try:
        from ansible.module_utils import _internal
    except ImportError:  # ansible-core < 2.19 has no such flag
        return
    if hasattr(_internal, 'is_controller'):
        monkeypatch.setattr(_internal, 'is_controller', False)
