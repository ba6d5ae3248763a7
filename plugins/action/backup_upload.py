# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_upload with its progress in the play output (plugins/plugin_utils/progress.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.plugin_utils.progress import ProgressAction


class ActionModule(ProgressAction):
    pass
