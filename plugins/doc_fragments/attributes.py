# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The attributes every lifeboat module shares: full check mode (each module says what it checks and
    # reports in its own attributes.check_mode.description), no diff mode. Internal to this collection.
    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    description: Nothing to diff; the result lists what was written (or, in check mode, what would be).
'''
