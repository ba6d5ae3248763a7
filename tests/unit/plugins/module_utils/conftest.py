# -*- coding: utf-8 -*-
"""Unit tests run many "modules" in one process: each test gets fresh heartbeat state and the process's own
signal handlers back afterwards (write_artifact installs cancellation handlers, as a module would)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import signal

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import heartbeat


@pytest.fixture(autouse=True)
def isolated_heartbeats(monkeypatch):
    saved = {name: signal.getsignal(getattr(signal, name)) for name in heartbeat.CANCEL_SIGNALS}
    heartbeat.reset_for_tests()
    monkeypatch.setitem(heartbeat._STATE, 'installed', False)
    # no renewals during a unit test: what a test sees in the store is what it wrote (tests of the thread set it)
    monkeypatch.setattr(heartbeat, 'interval_for', lambda expiry: 3600.0)
    yield
    heartbeat.reset_for_tests()
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)
