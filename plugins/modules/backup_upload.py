#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_upload
short_description: Put an existing file or directory into a backup set
version_added: 0.1.0
description:
  - Streams an existing file or directory of the host into an open backup set as one artifact of component
    C(upload), for example the output of a vendor's own backup tool. Nothing is staged; a file streams
    as-is through compression into the store; a directory goes through the same GNU tar as
    M(lifeboat.backup.files_backup).
  - The artifact is checked like every other one (every exit code, the stored size) and recorded with its
    size and SHA-256; it is part of the set once M(lifeboat.backup.backup_set) commits it.
  - A regular file that changes while it is read (size or modification time) fails the upload rather than
    storing a copy that matches no state of the file. A named pipe (FIFO) is read to its end.
  - Get the artifact back with M(lifeboat.backup.backup_fetch).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
requirements:
  - boto3 (for O(store.type=s3))
  - paramiko (for O(store.type=sftp))
  - GNU tar (for directories)
attributes:
  check_mode:
    description: Checks that O(src) is readable and the set is open, and writes nothing.
seealso:
  - module: lifeboat.backup.backup_fetch
    description: Gets an uploaded artifact back, verified.
  - module: lifeboat.backup.backup_set
    description: Starts the set this module writes into, and commits it.
  - module: lifeboat.backup.files_backup
    description: Archives directories as the files component, restorable with M(lifeboat.backup.files_restore).
options:
  set_id:
    description: The open set to write into (C(__lifeboat_set_id) in the roles).
    type: str
    required: true
  host:
    description: The host name the artifact is recorded under (normally C(inventory_hostname)).
    type: str
    required: true
  src:
    description: The file, named pipe or directory to upload, on the host that runs the module.
    type: path
    required: true
  name:
    description:
      - Artifact name within component C(upload) on this host. Defaults to the last component of O(src).
      - A name with characters other than letters, digits, C(.), C(_), C(-), C(@) and C(+) is stored under an
        encoded safe name; the name given is kept in the record (C(extra.original_name)) and
        M(lifeboat.backup.backup_fetch) finds the artifact by either.
    type: str
  exclude:
    description: For a directory, GNU tar C(--exclude) patterns.
    type: list
    elements: str
    default: []
  one_file_system:
    description: For a directory, do not cross into other filesystems.
    type: bool
    default: false
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.compression
  - lifeboat.backup.encryption
'''

EXAMPLES = r'''
- name: Let the vendor tool write its own backup
  ansible.builtin.command: /opt/vendor/bin/vendor-backup --out /var/tmp/vendor.bak
  changed_when: true

- name: Put it into the set
  lifeboat.backup.backup_upload:
    store: "{{ lifeboat_store }}"
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    src: /var/tmp/vendor.bak
    name: vendor
  register: upload

- name: Record it with the other artifacts of this host
  ansible.builtin.set_fact:
    __lifeboat_records: "{{ __lifeboat_records + upload.records }}"

- name: Upload a whole export directory (tar, zstd)
  lifeboat.backup.backup_upload:
    store:
      type: s3
      bucket: acme-backups
      prefix: prod
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    src: /srv/export
    exclude: ['*.tmp']
'''

RETURN = r'''
records:
  description: The artifact records written (one), as stored in the set; append them to C(__lifeboat_records).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: web1, component: upload, name: vendor, key: 20261122T031500Z/web1/upload/vendor.zst, size: 16,
       sha256: 97ef487fa2379e0599c794e5f48de843f8e00fa9d25ac2f081cfeaaf31910308, compression: zstd}
summary:
  description: One line per artifact for the end-of-run summary (host, component, name, size, uncompressed_size, seconds).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: web1, component: upload, name: vendor, size: 16, uncompressed_size: 3, seconds: 0.02}
record:
  description: The artifact record.
  returned: changed and not check mode
  type: dict
  sample:
    {schema_version: 1, set_id: 20261122T031500Z, host: web1, component: upload, name: vendor, format: raw,
     key: 20261122T031500Z/web1/upload/vendor.zst, compression: zstd, encryption: none, size: 16,
     sha256: 97ef487fa2379e0599c794e5f48de843f8e00fa9d25ac2f081cfeaaf31910308,
     extra: {src: /var/tmp/vendor.bak, src_type: file, src_mode: '0644', uncompressed_size: 3, seconds: 0.02}}
key:
  description: Key of the artifact in the store (relative to the store prefix).
  returned: changed and not check mode
  type: str
  sample: 20261122T031500Z/web1/upload/vendor.bak.zst
size:
  description: Stored (compressed) size in bytes.
  returned: changed and not check mode
  type: int
  sample: 16
sha256:
  description: SHA-256 of the stored bytes.
  returned: changed and not check mode
  type: str
  sample: 97ef487fa2379e0599c794e5f48de843f8e00fa9d25ac2f081cfeaaf31910308
msg:
  description: What check mode would do.
  returned: in check mode
  type: str
  sample: would upload file /var/tmp/vendor.bak into set 20261122T031500Z as upload/vendor
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._files import upload


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str', required=True),
        host=dict(type='str', required=True),
        src=dict(type='path', required=True),
        name=dict(type='str'),
        exclude=dict(type='list', elements='str', default=[]),
        one_file_system=dict(type='bool', default=False),
        **pipeline.COMPRESSION_SPEC,
        **encryption_logic.ENCRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(store, params, check_mode):
    return upload.upload(store, params['set_id'], params['host'], params['src'], name=params['name'],
                         compression=params['compression'], level=params['level'], threads=params['threads'],
                         exclude=params['exclude'], one_file_system=params['one_file_system'], check_mode=check_mode,
                         encryption=encryption.for_backup(params['encryption']))


def main():
    module = build_module()
    _module.execute_in_store(module, run, progress_label='upload')


if __name__ == '__main__':
    main()
