# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The compression options of every module that writes an archive or a dump (files_backup, backup_upload,
    # postgresql_backup). Spec: module_utils/_pipeline.py COMPRESSION_SPEC. Internal to this collection, like
    # every doc fragment (ansible-core has no private doc fragments; see docs/architecture.md).
    DOCUMENTATION = r'''
options:
  compression:
    description:
      - Compression of what is stored, done by the compressor's own process (multi-threaded for zstd) as the data
        streams into the store.
    type: str
    default: zstd
    choices: [zstd, gzip, none]
  level:
    description: Compression level (zstd 1-22, default 3; gzip 1-9, default 6). Without it the compressor's default applies.
    type: int
  threads:
    description: Compression threads; C(0) uses every core.
    type: int
    default: 0
requirements:
  - zstd (for O(compression=zstd)); gzip or pigz (for O(compression=gzip))
'''
