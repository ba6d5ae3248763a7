# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Heartbeats and cancellation of a module process working on an open set (adapter: a thread, signals).

``ensure(store, set_id, host)`` is called by every write into a set (artifacts.write_artifact). The first call
in a process writes this process's heartbeat object (``<set>/heartbeats/<host>-<pid>-<token>.json``) and starts
a daemon thread that renews it every ``lock.heartbeat_interval(lock_expiry)`` seconds through a store
connection of its own, until the process ends: then its last renewal says ``ended`` (normal exit) or
``cancelled`` (SIGTERM, SIGINT or SIGHUP). A process killed outright leaves ``running`` behind with its PID,
which lock.decide() recognises as dead on the same machine. One object per process: writers never race.

The same first call installs handlers for SIGTERM, SIGINT and SIGHUP (main thread only): the first signal raises
CancelledError where the module is (the pipeline then kills its processes and the store write is aborted, so
the part stays declared without a record: unfinished); a second one ends the process at once.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import os
import signal
import socket
import sys
import threading
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import CancelledError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lock as store_lock

CANCEL_SIGNALS = ('SIGTERM', 'SIGINT', 'SIGHUP')
FINAL_WRITE_TIMEOUT = 10.0

_ACTIVE = {}                # (store, set_id) -> Heartbeat of this process
_STATE = {'signal': None, 'installed': False, 'atexit': False}


def _default_opener(params):
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    return open_store(params)


class Heartbeat(object):
    """This process's heartbeat in one set."""

    def __init__(self, store_params, set_id, host, module=None, interval=None, opener=None):
        self.params = store_params
        self.set_id = set_id
        self.host = host
        self.module = module
        self.interval = interval or store_lock.heartbeat_interval(store_lock.DEFAULT_EXPIRY)
        self.opener = opener or _default_opener
        self.pid = os.getpid()
        self.node = socket.gethostname()
        self.key = set_format.heartbeat_key(set_id, host, self.pid, uuid.uuid4().hex[:8])
        self.started = set_format.iso(set_format.utcnow())
        self.identity = store_lock.node_identity()
        self.pid_start = store_lock.process_start(self.pid)[0]
        self.state = set_format.RUNNING
        self.reason = None
        self.errors = []
        self._store = None
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.finished = False

    def document(self):
        return set_format.make_heartbeat(
            self.set_id, self.host, self.node, self.pid, self.started, set_format.iso(set_format.utcnow()),
            self.state, module=self.module, boot_id=self.identity.get('boot_id'), pid_ns=self.identity.get('pid_ns'),
            pid_start=self.pid_start, reason=self.reason)

    def beat(self):
        """Write the heartbeat now. Failures are remembered, never raised: a heartbeat must not fail a backup."""
        with self._write_lock:
            try:
                if self._store is None:
                    self._store = self.opener(self.params)
                self._store.put_bytes(self.key, set_format.dumps(self.document()))
                return True
            except Exception as e:  # pylint: disable=broad-except
                self.errors.append(str(e))
                del self.errors[:-5]
                return False

    def start(self):
        self.beat()
        self._thread = threading.Thread(target=self._run, name='lifeboat-heartbeat')
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self.beat()

    def finish(self, state=set_format.ENDED, reason=None, timeout=FINAL_WRITE_TIMEOUT):
        """Stop renewing and write the last heartbeat (ended or cancelled). Idempotent.

        The last write waits at most ``timeout`` seconds (a store that stopped answering must not hold a module
        that is exiting); it never runs at the same time as a renewal (one write at a time per heartbeat).
        """
        if self.finished:
            return
        self.finished = True
        self._stop.set()
        self.state = state
        self.reason = reason
        last = threading.Thread(target=self._last_beat, name='lifeboat-heartbeat-end')
        last.daemon = True
        last.start()
        last.join(timeout)

    def _last_beat(self):
        self.beat()
        with self._write_lock:
            if self._store is not None:
                try:
                    self._store.close()
                except Exception:  # pylint: disable=broad-except
                    pass
                self._store = None


def interval_for(expiry):
    """Seconds between renewals for a lock expiry (lock.heartbeat_interval; replaced by unit tests)."""
    return store_lock.heartbeat_interval(expiry)


def ensure(store, set_id, host, module=None, opener=None):
    """Start this process's heartbeat in ``set_id`` (once) and the cancellation handlers. Returns the Heartbeat."""
    where = (store.describe(), set_id)
    hb = _ACTIVE.get(where)
    if hb is not None and not hb.finished:
        return hb
    doc, _exists = store_lock.read_lock(store)
    expiry = store_lock.expiry_of(doc) if doc and doc.get('set_id') == set_id else None
    hb = Heartbeat(store.params, set_id, host, module=module or _module_name(),
                   interval=interval_for(expiry or store_lock.DEFAULT_EXPIRY), opener=opener)
    _ACTIVE[where] = hb
    install_cancel_handlers()
    if not _STATE['atexit']:
        atexit.register(finish_all)
        _STATE['atexit'] = True
    return hb.start()


def finish_set(store, set_id):
    """End this process's heartbeat in a set (the commit or fail of a set written in this same process)."""
    hb = _ACTIVE.pop((store.describe(), set_id), None)
    if hb is not None:
        hb.finish(set_format.CANCELLED if _STATE['signal'] else set_format.ENDED, _STATE['signal'])


def finish_all():
    """At exit: every heartbeat of this process says ended, or cancelled after a signal."""
    sig = _STATE['signal']
    for hb in list(_ACTIVE.values()):
        if sig:
            hb.finish(set_format.CANCELLED, sig)
        else:
            hb.finish(set_format.ENDED)


def mark_cancelled():
    """Write 'cancelled' into this process's heartbeats right away (called while unwinding a cancellation)."""
    sig = _STATE['signal'] or 'a signal'
    for hb in list(_ACTIVE.values()):
        hb.finish(set_format.CANCELLED, sig)


def cancelled_by():
    """The name of the signal that cancelled this process, or None."""
    return _STATE['signal']


def raise_if_cancelled(what):
    if _STATE['signal']:
        raise CancelledError('%s: this module was cancelled (%s)' % (what, _STATE['signal']), signal=_STATE['signal'])


def _on_signal(signum, _frame):
    name = _signal_name(signum)
    if _STATE['signal']:
        # a second signal: stop at once with the default action
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _STATE['signal'] = name
    raise CancelledError('cancelled by %s' % name, signal=name)


def _signal_name(signum):
    for name in CANCEL_SIGNALS:
        if getattr(signal, name, None) == signum:
            return name
    return 'signal %d' % signum


def install_cancel_handlers():
    """SIGTERM/SIGINT/SIGHUP raise CancelledError in the main thread (once per process)."""
    if _STATE['installed'] or threading.current_thread() is not threading.main_thread():
        return False
    for name in CANCEL_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            signal.signal(signum, _on_signal)
        except (ValueError, OSError, RuntimeError):
            continue
    _STATE['installed'] = True
    return True


def _module_name():
    """The running module's short name (files_backup...), from the __main__ module AnsiballZ runs; or None."""
    main = sys.modules.get('__main__')
    spec = getattr(main, '__spec__', None)
    name = getattr(spec, 'name', None) or ''
    if '.plugins.modules.' in name:
        return name.rsplit('.', 1)[-1]
    return None


def reset_for_tests():
    """Forget this process's heartbeats and signal state (unit tests run many 'modules' in one process)."""
    for hb in list(_ACTIVE.values()):
        hb.finish()
    _ACTIVE.clear()
    _STATE['signal'] = None
