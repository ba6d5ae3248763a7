#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: files_restore
short_description: Restore a host's directory archive from a completed backup set
version_added: 0.1.0
description:
  - Streams the artifact from the store into a staging directory on the target filesystem, checking its
    SHA-256 and size on the way, and moves the restored paths into place only when the checksum matched,
    tar succeeded and every member was judged safe. On any failure the target is left as it was.
  - Archives are never trusted. Members with absolute paths, C(..), device nodes, members beneath a symlink
    of the same archive, symlinks whose relative target climbs out of the archive root, hard links to
    outside paths, and members outside the recorded paths make the restore fail before anything changes.
  - Restores to the original paths, or re-rooted under O(dest) (C(/opt/app) becomes C(<dest>/opt/app)).
  - Replacing a non-empty target needs O(force). The old content is moved aside and removed only after the
    new content is in place.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Resolves the set and reports which paths would be restored or overwritten; writes nothing.
requirements:
  - GNU tar
  - zstd or gzip, as the artifact needs
seealso:
  - module: lifeboat.backup.files_backup
    description: Writes the archives this module restores.
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets, picks the newest completed one, verifies a set.
options:
  set_id:
    description: The completed set to restore from. Default is the newest completed set.
    type: str
  manifest_sha256:
    description: Refuse the set unless its manifest has this SHA-256 (as returned when the set was committed).
    type: str
  host:
    description: The host name under which the artifact was stored (normally C(inventory_hostname), or the old host when restoring onto a new one).
    type: str
    required: true
  name:
    description: The files entry name that was backed up.
    type: str
    required: true
  dest:
    description: Restore under this directory instead of in place (absolute path, created when missing).
    type: path
  force:
    description: Replace targets that exist and are not empty.
    type: bool
    default: false
  staging_dir:
    description:
      - Directory in which the staging directory is created. Default is the nearest existing parent of the
        first target, so the final move is a rename on the same filesystem.
    type: path
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.store
'''

EXAMPLES = r'''
- name: Restore the newest completed set's AWX files into a scratch directory
  lifeboat.backup.files_restore:
    host: "{{ inventory_hostname }}"
    name: awx
    dest: /srv/restore-test
    store:
      type: filesystem
      path: /srv/backup

- name: Restore in place from a pinned set, replacing what is there
  lifeboat.backup.files_restore:
    set_id: 20261122T031500Z-nightly
    manifest_sha256: "{{ pinned_sha256 }}"
    host: "{{ inventory_hostname }}"
    name: awx
    force: true
    store:
      type: filesystem
      path: /srv/backup
'''

RETURN = r'''
set_id:
  description: The set restored from.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly
manifest_sha256:
  description: SHA-256 of the set's manifest.
  returned: always
  type: str
  sample: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4
artifact:
  description: Store key of the artifact.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly/web1/files/awx.tar.zst
paths:
  description: Target paths (after re-rooting under O(dest)).
  returned: always
  type: list
  elements: str
  sample: [/srv/restore-test/opt/awx, /srv/restore-test/etc/tower]
overwritten:
  description: Targets that existed and were (or would be) replaced.
  returned: always
  type: list
  elements: str
  sample: []
restored:
  description: Paths actually moved into place.
  returned: success, not in check mode
  type: list
  elements: str
  sample: [/srv/restore-test/opt/awx, /srv/restore-test/etc/tower]
members:
  description: Number of archive members extracted.
  returned: success, not in check mode
  type: int
  sample: 1523
size:
  description: Artifact size in bytes.
  returned: always
  type: int
  sample: 10485760
seconds:
  description: Time spent streaming and extracting.
  returned: success, not in check mode
  type: float
  sample: 3.1
sha256:
  description: SHA-256 computed while reading (equal to the record's).
  returned: success, not in check mode
  type: str
  sample: 9dc301dadebde2cdc54e7774ad50ad4bcff161ba84eabf24c4ee8b68bd8400df
msg:
  description: In check mode, what would be restored.
  returned: check mode
  type: str
  sample: would restore /srv/restore-test/opt/awx from 20261122T031500Z-nightly/web1/files/awx.tar.zst
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._files import restore as files_restore


def argument_spec():
    return dict(
        store=STORE_ARG,
        set_id=dict(type='str'),
        manifest_sha256=dict(type='str'),
        host=dict(type='str', required=True),
        name=dict(type='str', required=True),
        dest=dict(type='path'),
        force=dict(type='bool', default=False),
        staging_dir=dict(type='path'),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(store, params, check_mode):
    return files_restore.restore(store, params['host'], params['name'], set_id=params['set_id'], pin=params['manifest_sha256'],
                                 dest=params['dest'], force=params['force'], staging_dir=params['staging_dir'],
                                 check_mode=check_mode)


def main():
    module = build_module()
    _module.execute_in_store(module, run)


if __name__ == '__main__':
    main()
