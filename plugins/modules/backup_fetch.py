#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_fetch
short_description: Fetch one artifact of a completed backup set to a local file
version_added: 0.1.0
description:
  - Streams one artifact of a completed set (by default the newest) from the store to a file on the host
    that runs the module, decompressed unless O(decompress=false).
  - The stored bytes are checked against the SHA-256 and size in the set's manifest while they stream into a
    temporary name in the destination directory; the file is renamed into place only when both match.
    A damaged or changed artifact leaves O(dest) untouched.
  - Only completed sets are read; pin the manifest with O(manifest_sha256) to refuse a manifest that changed.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
requirements:
  - boto3 (for O(store.type=s3))
  - paramiko (for O(store.type=sftp))
  - zstd or gzip (to decompress), dd
attributes:
  check_mode:
    description: Finds the artifact and checks O(dest), and writes nothing.
seealso:
  - module: lifeboat.backup.backup_upload
    description: Puts the file or directory into a set.
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets and their artifacts.
options:
  set_id:
    description: The completed set to read. Defaults to the newest completed set in the store.
    type: str
  manifest_sha256:
    description: Refuse the set unless its manifest has this SHA-256 (as returned when the set was committed).
    type: str
  host:
    description: The host the artifact was recorded under.
    type: str
    required: true
  component:
    description: The artifact's component.
    type: str
    default: upload
  name:
    description: The artifact name (or, for uploads stored under an encoded name, the original name).
    type: str
    required: true
  dest:
    description:
      - The file to write. When it is an existing directory, the artifact's name is used inside it (with
        C(.tar) added for directory uploads, or the stored file name when O(decompress=false)).
    type: path
    required: true
  force:
    description: Replace O(dest) when it exists. Without it an existing O(dest) is an error.
    type: bool
    default: false
  decompress:
    description: Write the artifact decompressed. With C(false), the stored bytes are written as they are.
    type: bool
    default: true
  mode:
    description: Permissions of the written file, in octal.
    type: str
    default: '0600'
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.encryption.decryption
'''

EXAMPLES = r'''
- name: Fetch the vendor backup of web1 from the newest completed set
  lifeboat.backup.backup_fetch:
    store: "{{ lifeboat_store }}"
    host: web1
    name: vendor
    dest: /var/tmp/vendor.bak

- name: Fetch it from a pinned set, replacing an older copy
  lifeboat.backup.backup_fetch:
    store: "{{ lifeboat_store }}"
    set_id: 20261122T031500Z-nightly
    manifest_sha256: "{{ pinned_sha }}"
    host: web1
    name: vendor
    dest: /var/tmp/
    force: true
'''

RETURN = r'''
dest:
  description: The file written.
  returned: always
  type: str
  sample: /var/tmp/vendor.bak
set_id:
  description: The set the artifact came from.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly
manifest_sha256:
  description: SHA-256 of that set's manifest.
  returned: always
  type: str
  sample: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4
key:
  description: The artifact's key in the store.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly/web1/upload/vendor.zst
sha256:
  description: SHA-256 of the stored bytes, verified while fetching.
  returned: always
  type: str
  sample: 97ef487fa2379e0599c794e5f48de843f8e00fa9d25ac2f081cfeaaf31910308
stored_size:
  description: Stored size of the artifact in bytes.
  returned: always
  type: int
  sample: 16
size:
  description: Size of the file written.
  returned: changed and not check mode
  type: int
  sample: 3
msg:
  description: What check mode would do.
  returned: in check mode
  type: str
  sample: would fetch 20261122T031500Z-nightly/web1/upload/vendor.zst to /var/tmp/vendor.bak
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._files import upload


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str'),
        manifest_sha256=dict(type='str'),
        host=dict(type='str', required=True),
        component=dict(type='str', default='upload'),
        name=dict(type='str', required=True),
        dest=dict(type='path', required=True),
        force=dict(type='bool', default=False),
        decompress=dict(type='bool', default=True),
        mode=dict(type='str', default='0600'),
        **encryption_logic.DECRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def file_mode(text):
    """The octal ``mode`` option as a number."""
    try:
        mode = int(text, 8)
    except ValueError:
        raise ConfigError('mode %r is not an octal number like 0600' % text)
    if not 0 <= mode <= 0o7777:
        raise ConfigError('mode %r is out of range' % text)
    return mode


def run(store, params, check_mode):
    return upload.fetch(store, params['host'], params['name'], params['dest'], component=params['component'],
                        set_id=params['set_id'], pin=params['manifest_sha256'], force=params['force'],
                        decompress=params['decompress'], mode=file_mode(params['mode']), check_mode=check_mode,
                        decryption=encryption.for_restore(params['decryption']) if params['decompress'] else None)


def main():
    module = build_module()
    _module.execute_in_store(module, run, progress_label='fetch')


if __name__ == '__main__':
    main()
