# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type helpers raise; only modules turn it into fail_json."""

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
