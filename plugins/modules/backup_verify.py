#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_verify
short_description: Verify completed backup sets, quickly or by reading every byte
version_added: 0.2.0
description:
  - O(level=quick) checks that each set's manifest is readable and valid, that every artifact it lists is in
    the store with its recorded size, and that every record object is there and equal to the manifest's copy.
  - O(level=full) does that, then streams every artifact from the store through the collection's one pipeline
    (SHA-256 and size against the record, decompression to the end) into a decoder that proves the data reads
    back, without writing it anywhere, O(jobs) artifacts at a time. Files archives are listed by GNU tar and
    every member passes the archive safety checks; PostgreSQL custom-format dumps are read whole by
    C(pg_restore --file=/dev/null) (of the dump's major version or newer); directory-format dumps are listed
    and must hold C(toc.dat); C(pg_dumpall) globals must end with their "dump complete" trailer; other
    artifacts are decompressed to the end. Memory stays bounded whatever the sizes.
  - A set's own objects are never changed. The result of each set goes into one small JSON document in the
    C(checks/) area of the store (C(checks/<set>/<time>-verify-<level>-<passed|failed>.json)), which
    M(lifeboat.backup.backup_set_info) and C(playbooks/list.yml) show as the set's last verification.
  - Fails when any set fails, listing every problem. See C(docs/verify.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.encryption.decryption
requirements:
  - boto3 (for O(store.type=s3)), paramiko (for O(store.type=sftp))
  - zstd or gzip, GNU tar, dd, tail; pg_restore for PostgreSQL dumps (O(level=full))
attributes:
  check_mode:
    description: Verifies as usual (it only reads) and records no result in the store.
seealso:
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets with their last verification; O(lifeboat.backup.backup_set_info#module:verify=true) is the quick check alone.
  - module: lifeboat.backup.backup_drill
    description: Goes further, restoring a set into scratch and comparing it.
options:
  sets:
    description:
      - Which sets to verify. C(latest) (the newest completed set), C(all) (every completed set), or a list of
        set ids (a named set that is not completed fails the verification).
    type: list
    elements: str
    default: [latest]
  level:
    description: C(quick) (objects and sizes) or C(full) (read and decode every byte).
    type: str
    choices: [quick, full]
    default: quick
  jobs:
    description: With O(level=full), artifacts read at the same time, where the store allows it (an SFTP store reads one at a time).
    type: int
    default: 2
  record:
    description: Record each set's result in the store's C(checks/) area. Turn off for a principal that may only read.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Read every byte of the newest set back
  lifeboat.backup.backup_verify:
    level: full
    store:
      type: s3
      bucket: acme-backups
      prefix: prod
  register: verification

- name: Check every set is whole (sizes and records)
  lifeboat.backup.backup_verify:
    sets: [all]
    store:
      type: filesystem
      path: /srv/backup
'''

RETURN = r'''
passed:
  description: Whether every set passed.
  returned: always
  type: bool
  sample: true
level:
  description: The level checked.
  returned: always
  type: str
  sample: full
sets:
  description: One entry per set with C(set_id), C(passed), C(problems), C(manifest_sha256), C(totals), the key it was
    C(recorded) under, and with O(level=full) the C(artifacts) read (decoder, bytes, seconds, members, skipped).
  returned: always
  type: list
  elements: dict
  sample:
    - {set_id: 20261122T031500Z-nightly, passed: false, manifest_sha256: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4,
       problems: ['web1/files/etc.tar.zst: sha256 differs from the manifest'], totals: {artifacts: 3, bytes: 104857600},
       recorded: checks/20261122T031500Z-nightly/20261123T040000Z-verify-failed.json}
checked:
  description: Sets checked.
  returned: always
  type: int
  sample: 1
failed_sets:
  description: Ids of the sets that failed.
  returned: always
  type: list
  elements: str
  sample: [20261122T031500Z-nightly]
bytes_read:
  description: Bytes read from the store (stored, compressed bytes).
  returned: always
  type: int
  sample: 1073741824
seconds:
  description: Wall time of the verification.
  returned: always
  type: float
  sample: 12.4
throughput:
  description: With O(level=full), bytes read per second.
  returned: always
  type: int
  sample: 86592000
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        sets=dict(type='list', elements='str', default=['latest']),
        level=dict(type='str', default='quick', choices=list(verify.LEVELS)),
        jobs=dict(type='int', default=2),
        record=dict(type='bool', default=True),
        **encryption_logic.DECRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def which_sets(values):
    if values in ([], ['latest']):
        return 'latest'
    if values == ['all']:
        return 'all'
    return values


def run(store, params, check_mode):
    result = verify.run(store, which=which_sets(params['sets']), level=params['level'], jobs=max(1, params['jobs']),
                        record=params['record'], check_mode=check_mode, reporter=progress.active(),
                        decryption=encryption.for_restore(params['decryption']) if params['level'] == 'full' else None)
    if not result['passed']:
        lines = ['%s: %s' % (entry['set_id'], '; '.join(entry['problems'][:5])) for entry in result['sets'] if not entry['passed']]
        msg = '%d of %d set(s) failed %s verification: %s' % (
            len(result['failed_sets']), result['checked'], result['level'], ' | '.join(lines))
        raise LifeboatError(msg, **result)
    return result


def main():
    module = build_module()
    _module.execute_in_store(module, run, progress_label='verify %s' % module.params['level'], progress_direction='read')


if __name__ == '__main__':
    main()
