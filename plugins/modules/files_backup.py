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
attributes:
  check_mode:
    description: Checks the paths and tools and reports what would be archived; writes nothing.
requirements:
  - GNU tar
seealso:
  - module: lifeboat.backup.backup_set
    description: Starts the set this module writes into, and commits it.
  - module: lifeboat.backup.files_restore
    description: Restores what this module archived.
  - module: lifeboat.backup.backup_upload
    description: Puts any single file or directory into a set, without the files component's record of paths.
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
  one_file_system:
    description: Stay on the filesystem of each path (do not descend into other mounts).
    type: bool
    default: false
  incremental:
    description:
      - Archive in GNU tar's listed-incremental mode (docs/incremental.md). The first set of a chain holds a full
        (level 0); each later set an increment against the newest earlier completed set of the same label that
        holds this host's entry. tar's snapshot file is stored in the set as the artifact C(<name>.snar) and
        fetched from the base at the next run, so the host keeps no state.
      - A base that is missing, damaged, failed or changed (paths, O(exclude), O(one_file_system)) makes this run a
        full, with a warning in RV(tar_warnings) and the reason in the record; never an increment on a broken base.
    type: bool
    default: false
  full_every:
    description:
      - With O(incremental), when the next set is a full again - a count of increments between two fulls
        (C(24)), or the age of the chain's full after which it is (a number and C(h), C(d) or C(w), e.g. C(7d)).
    type: raw
    default: 24
  full:
    description: With O(incremental), make this run a full (level 0) whatever O(full_every) says.
    type: bool
    default: false
  base_host:
    description:
      - With O(incremental), continue the chain of this host's entry instead of O(host)'s (a machine rebuilt under
        a new name). The new archive is stored under O(host).
    type: str
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.compression
  - lifeboat.backup.encryption
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

- name: Archive a large tree hourly, an increment on the previous set, a new full every 7 days
  lifeboat.backup.files_backup:
    set_id: "{{ backup_set.set_id }}"
    host: "{{ inventory_hostname }}"
    name: app
    paths: [/opt/app]
    incremental: true
    full_every: 7d
    store:
      type: filesystem
      path: /srv/backup
'''

RETURN = r'''
records:
  description: The artifact records written (one; two with O(incremental), the archive and its snapshot file), as stored in the set.
  returned: success, not in check mode
  type: list
  elements: dict
  sample:
    - {host: web1, component: files, name: awx, key: 20261122T031500Z/web1/files/awx.tar.zst, size: 10485760,
       sha256: 9dc301dadebde2cdc54e7774ad50ad4bcff161ba84eabf24c4ee8b68bd8400df, compression: zstd}
record:
  description:
    - The artifact record (schema_version, set_id, host, component, name, key, format, compression, encryption,
      size, sha256, started, finished, tools, extra).
    - C(extra) holds the paths, excludes, whether xattrs and ACLs were kept, the uncompressed size and seconds.
  returned: success, not in check mode
  type: dict
  sample:
    schema_version: 1
    kind: lifeboat.backup/record
    set_id: 20261122T031500Z
    host: web1
    component: files
    name: awx
    artifact_kind: files
    key: 20261122T031500Z/web1/files/awx.tar.zst
    source: files:/etc/tower,/opt/awx
    format: tar
    compression: zstd
    encryption: none
    size: 10485760
    sha256: 9dc301dadebde2cdc54e7774ad50ad4bcff161ba84eabf24c4ee8b68bd8400df
    started: '2026-11-22T03:15:01Z'
    finished: '2026-11-22T03:15:04Z'
    tools: {tar: tar (GNU tar) 1.34, zstd: '*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***'}
    extra: {paths: [/etc/tower, /opt/awx], exclude: ['*.log'], xattrs: true, acls: true, uncompressed_size: 52428800,
            changed_files: [], changed_file_count: 0, warnings: [], seconds: 2.4}
summary:
  description: Size, uncompressed size and seconds, for the end-of-run summary.
  returned: success, not in check mode
  type: list
  elements: dict
  sample:
    - {host: web1, component: files, name: awx, size: 10485760, uncompressed_size: 52428800, seconds: 2.4}
msg:
  description: In check mode, what would be archived.
  returned: check mode
  type: str
  sample: would archive /etc/tower, /opt/awx into set 20261122T031500Z as files/awx
paths:
  description: The normalized paths archived (with what listed symlinks resolve to).
  returned: always
  type: list
  elements: str
  sample: [/etc/tower, /opt/awx]
links:
  description: The listed paths that are symlinks, as C({path, target, resolved}).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /opt/app, target: app-1.2, resolved: /opt/app-1.2}
size:
  description: Bytes stored.
  returned: success, not in check mode
  type: int
  sample: 10485760
sha256:
  description: SHA-256 of the stored artifact.
  returned: success, not in check mode
  type: str
  sample: 9f2c4e0b5d1a7c3e8f6b2d4a1c0e9f8b7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b
changed_files:
  description: Files that changed or vanished while being read (first 50).
  returned: success, not in check mode
  type: list
  elements: str
  sample: [/opt/awx/logs/web.log]
incremental:
  description:
    - With O(incremental), the level of this archive (0 for a full), the base set it continues (or none), the
      set holding the chain's full, why this level, the policy, and the sets passed over (failed, interrupted).
  returned: when O(incremental) is true
  type: dict
  sample: {level: 2, base: 20261122T021500Z, full_set: 20261122T001500Z, full_every: '24',
           reason: level 2 on set 20261122T021500Z}
snapshot:
  description: With O(incremental), the record of the snapshot file stored beside the archive.
  returned: when O(incremental) is true, not in check mode
  type: dict
  sample: {host: web1, component: files, name: app.snar, artifact_kind: files-snar, format: tar-snar,
           key: 20261122T031500Z/web1/files/app.snar.zst, size: 27351}
tar_warnings:
  description: tar's warnings, if any; with O(incremental), why a full was made where an increment was expected.
  returned: success, not in check mode
  type: list
  elements: str
  sample: ['/opt/awx/logs/web.log: file changed as we read it']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str', required=True),
        host=dict(type='str', required=True),
        name=dict(type='str', required=True),
        paths=dict(type='list', elements='path', required=True),
        exclude=dict(type='list', elements='str', default=[]),
        one_file_system=dict(type='bool', default=False),
        incremental=dict(type='bool', default=False),
        full_every=dict(type='raw', default=24),
        full=dict(type='bool', default=False),
        base_host=dict(type='str'),
        **pipeline.COMPRESSION_SPEC,
        **encryption_logic.ENCRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(store, params, check_mode):
    return files_backup.backup(store, params['set_id'], params['host'], params['name'], params['paths'],
                               exclude=params['exclude'], compression=params['compression'], level=params['level'],
                               threads=params['threads'], encryption=encryption.for_backup(params['encryption']),
                               one_file_system=params['one_file_system'], check_mode=check_mode,
                               incremental_mode=params['incremental'], full_every=params['full_every'],
                               full=params['full'], base_host=params['base_host'])


def main():
    module = build_module()
    _module.execute_in_store(module, run, warn_key='tar_warnings', progress_label='files backup')


if __name__ == '__main__':
    main()
