#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: files_backup
short_description: Archive directories and files of a host into a backup set
version_added: 0.1.0
description:
  - Streams GNU tar of O(paths) through zstd (default) or gzip straight into the store, computing the
    SHA-256 and size on the way. No temporary space is needed on the host.
  - Keeps owners, modes, mtimes, symlinks, hard links, empty directories, sparse files, and extended
    attributes and POSIX ACLs where the filesystem and tar support them. Names with spaces, unicode or
    newlines are fine.
  - A file that changes or vanishes while it is read is reported in RV(changed_files) and RV(tar_warnings), not
    fatal. A file that cannot be read fails the module, because a backup that silently misses files would lie.
  - Character and block device nodes are archived as tar records them, but M(lifeboat.backup.files_restore)
    refuses archives that contain them; exclude C(/dev)-like trees.
  - Writes one artifact C(<set>/<host>/files/<name>.tar.zst) and its record into a set started with
    M(lifeboat.backup.backup_set). Nothing is recorded unless tar, the compressor and the store all succeeded
    and the stored size matches what was written.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.store
attributes:
  check_mode:
    support: full
    description: Checks the paths and tools and reports what would be archived; writes nothing.
  diff_mode:
    support: none
    description: Nothing to diff; the result lists what was written.
requirements:
  - GNU tar
  - zstd (for O(compression=zstd)); gzip or pigz (for O(compression=gzip))
options:
  set_id:
    description: The set (in progress) to write into, from M(lifeboat.backup.backup_set).
    type: str
    required: true
  host:
    description: The host name under which the artifact is stored (normally C(inventory_hostname)).
    type: str
    required: true
  name:
    description: Name of this archive within the host's C(files) component (letters, digits, C(.), C(_), C(-), C(@), C(+)).
    type: str
    required: true
  paths:
    description:
      - Absolute paths of directories or files to archive. A path inside another listed path is merged into it.
      - A listed path that is a symlink stands for what it points to (C(/opt/app -> /srv/app-1.2), common with
        versioned installs); the archive holds the link (and any link on the way) and the directory or file it
        resolves to, and the record lists them in C(extra.links), so a restore brings back both. A dangling
        link or a loop of links fails the module. Symlinks inside a listed directory are archived as links.
    type: list
    elements: path
    required: true
  exclude:
    description:
      - GNU tar exclude patterns (shell wildcards, matched against any part of the path; C(*.log),
        C(/opt/app/cache)). A leading C(/) is matched against the full path.
    type: list
    elements: str
    default: []
  compression:
    description: Compression of the archive.
    type: str
    default: zstd
    choices: [zstd, gzip, none]
  level:
    description: Compression level (zstd 1-22, default 3; gzip 1-9, default 6).
    type: int
  threads:
    description: Compression threads; C(0) uses every core.
    type: int
    default: 0
  encryption:
    description: Client-side encryption stage of the pipeline. Only C(none) exists in this version.
    type: str
    default: none
    choices: [none]
  one_file_system:
    description: Stay on the filesystem of each path (do not descend into other mounts).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Archive the AWX install directory and its settings
  lifeboat.backup.files_backup:
    set_id: "{{ backup_set.set_id }}"
    host: "{{ inventory_hostname }}"
    name: awx
    paths:
      - /opt/awx
      - /etc/tower
    exclude:
      - "*.log"
      - /opt/awx/tmp
    store:
      type: filesystem
      path: /srv/backup
'''

RETURN = r'''
records:
  description: The artifact records written (one), as stored in the set.
  returned: success, not in check mode
  type: list
  elements: dict
record:
  description: The artifact record (host, component, name, key, size, sha256, compression, tools, extra...).
  returned: success, not in check mode
  type: dict
summary:
  description: Size, uncompressed size and seconds, for the end-of-run summary.
  returned: success, not in check mode
  type: list
  elements: dict
paths:
  description: The normalized paths archived (with what listed symlinks resolve to).
  returned: always
  type: list
  elements: str
links:
  description: The listed paths that are symlinks, as C({path, target, resolved}).
  returned: always
  type: list
  elements: dict
size:
  description: Bytes stored.
  returned: success, not in check mode
  type: int
sha256:
  description: SHA-256 of the stored artifact.
  returned: success, not in check mode
  type: str
changed_files:
  description: Files that changed or vanished while being read (first 50).
  returned: success, not in check mode
  type: list
  elements: str
tar_warnings:
  description: tar's warnings, if any.
  returned: success, not in check mode
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG, open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup


def run(p, check_mode):
    with open_store(p['store']) as store:
        return files_backup.backup(store, p['set_id'], p['host'], p['name'], p['paths'], exclude=p['exclude'],
                                   compression=p['compression'], level=p['level'], threads=p['threads'],
                                   encryption=p['encryption'], one_file_system=p['one_file_system'],
                                   check_mode=check_mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            store=STORE_ARG,
            set_id=dict(type='str', required=True),
            host=dict(type='str', required=True),
            name=dict(type='str', required=True),
            paths=dict(type='list', elements='path', required=True),
            exclude=dict(type='list', elements='str', default=[]),
            compression=dict(type='str', default='zstd', choices=['zstd', 'gzip', 'none']),
            level=dict(type='int'),
            threads=dict(type='int', default=0),
            encryption=dict(type='str', default='none', choices=['none']),
            one_file_system=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result = run(module.params, module.check_mode)
    except LifeboatError as e:
        module.fail_json(msg=e.msg, **e.details)
    for w in result.get('tar_warnings', []):
        module.warn(w)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
