# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's error types. Helpers raise them; only modules turn them into fail_json.

Callers tell failures apart by type (``except NotFoundError``), never by matching message text.
Every subclass is still a LifeboatError, so code that only reports errors catches LifeboatError.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class LifeboatError(Exception):
    """A failure with a message meant for the operator.

    ``msg`` is one readable sentence (or two); ``details`` are extra keys returned
    next to it by the module (never secrets).
    """

    def __init__(self, msg, **details):
        super(LifeboatError, self).__init__(msg)
        self.msg = msg
        self.details = details

    def __str__(self):
        return self.msg


class ConfigError(LifeboatError):
    """The options given cannot work (bad value, missing setting, conflicting choices)."""


class NotFoundError(LifeboatError):
    """Something named does not exist: a set, an object in the store, a bucket, a snapshot, a database."""


class DeniedError(LifeboatError):
    """Credentials were refused, or they lack a permission the operation needs."""


class UnreachableError(LifeboatError):
    """A server or endpoint could not be reached (after the retries the retry policy allows)."""


class ThrottledError(LifeboatError):
    """A service kept refusing for rate reasons after every retry."""


class LockedError(LifeboatError):
    """The store is locked by a run that is still alive."""


class DamagedError(LifeboatError):
    """What the store holds fails validation: bad JSON, unknown schema, wrong checksum or size, unsafe paths."""


class CancelledError(LifeboatError):
    """The run was cancelled (SIGTERM/SIGINT) while working; what it was writing is left unfinished."""
