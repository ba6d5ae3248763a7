#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_drill
short_description: Prove what a restore drill brought back, and record the result beside the set
version_added: 0.2.0
description:
  - The comparison step of C(playbooks/drill.yml), after the set was restored into scratch with the modules real
    restores use (M(lifeboat.backup.files_restore) under O(files_dest)C(/<host>), M(lifeboat.backup.postgresql_restore)
    into a M(lifeboat.backup.postgresql_scratch) server).
  - Files archives are listed again from the store (checksum checked on the way) and every member must be in the
    restored tree with its type, size and mode (set-id bits aside, which restores under a directory drop) and symlinks
    with their targets.
  - Every table of each restored database is counted exactly, in one transaction, and must have the row count the backup
    recorded in the dump's own snapshot (M(lifeboat.backup.postgresql_backup) O(lifeboat.backup.postgresql_backup#module:row_counts));
    a table missing, a count that differs, or a table the backup did not count fails the drill. Sets without recorded
    counts are compared by the tables present.
  - The result (passed or failed, what was compared, durations) is written as one JSON document into the store's
    C(checks/) area beside the set, shown by M(lifeboat.backup.backup_set_info) as the set's last drill. Fails on any
    mismatch. See C(docs/verify.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.encryption.decryption
requirements:
  - GNU tar, zstd or gzip; psycopg2 for PostgreSQL.
attributes:
  check_mode:
    description: Lists what would be compared and compares nothing.
seealso:
  - module: lifeboat.backup.postgresql_scratch
    description: Creates and removes the scratch PostgreSQL server a drill restores into.
  - module: lifeboat.backup.files_restore
    description: Restores the files archives a drill compares.
  - module: lifeboat.backup.postgresql_restore
    description: Restores the dumps a drill compares.
  - module: lifeboat.backup.backup_verify
    description: Checks the stored bytes without restoring them.
options:
  set_id:
    description: The set the drill restored. Defaults to the newest completed set.
    type: str
  manifest_sha256:
    description: Refuse the set unless its manifest has this SHA-256 (the drill pins what it restored).
    type: str
  hosts:
    description: Compare only these hosts' artifacts (as named in the set); all by default.
    type: list
    elements: str
    default: []
  components:
    description: Which components to compare.
    type: list
    elements: str
    choices: [files, postgresql]
    default: [files, postgresql]
  files_dest:
    description: The scratch directory the files were restored under, one sub directory per host of the set.
    type: path
  postgresql:
    description: The connection to the scratch server the databases were restored into (as M(lifeboat.backup.postgresql_scratch) returns it).
    type: dict
    suboptions:
      login_host:
        description: Host or socket directory.
        type: str
      port:
        description: Port.
        type: int
      login_user:
        description: User.
        type: str
        default: postgres
      passfile:
        description: libpq passfile with the password.
        type: path
      login_password:
        description: Password (prefer O(postgresql.passfile)).
        type: str
  facts:
    description: Extra facts recorded with the result, for example how long each restore took.
    type: dict
    default: {}
  record:
    description: Record the result in the store's C(checks/) area.
    type: bool
    default: true
  failure:
    description:
      - A step of the drill failed before anything could be compared (the restore refused the set, the scratch server did
        not start). The drill is recorded as failed with this reason and the module fails, comparing nothing.
    type: str
'''

EXAMPLES = r'''
- name: Compare what was restored
  lifeboat.backup.backup_drill:
    store: {type: filesystem, path: /srv/backup}
    set_id: 20261122T031500Z
    files_dest: /var/tmp/drill/files
    postgresql:
      login_host: "{{ scratch.login_host }}"
      port: "{{ scratch.port }}"
      login_user: "{{ scratch.login_user }}"
      passfile: "{{ scratch.passfile }}"
    facts:
      restore_seconds: 84
'''

RETURN = r'''
set_id:
  description: The set compared.
  returned: always
  type: str
  sample: 20261122T031500Z
passed:
  description: Whether everything matched (null in check mode).
  returned: always
  type: bool
  sample: true
items:
  description: One entry per files archive (members, matched, mismatched, bytes) and per database (tables, rows, compared).
  returned: always
  type: list
  elements: dict
  sample:
    - {component: files, host: web1, name: etc, passed: true, members: 812, matched: 812, mismatched: 0, bytes: 5242880, problems: []}
    - {component: postgresql, host: db1, name: app, database: app, compared: row_counts, tables: 14, rows: 120345, passed: true,
       problems: []}
problems:
  description: Every mismatch, as one line each.
  returned: always
  type: list
  elements: str
  sample: ['db1 postgresql/app: table public.orders has 99 rows, the backup counted 100']
totals:
  description: Members, bytes, databases, tables and rows compared, mismatches, seconds, and O(facts).
  returned: always
  type: dict
  sample: {seconds: 41.2, files_members: 812, files_bytes: 5242880, databases: 1, tables: 14, rows: 120345, mismatches: 0}
recorded:
  description: The key of the result document in the store.
  returned: when recorded
  type: str
  sample: checks/20261122T031500Z/20261123T050000Z-drill-passed.json
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import drill


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str'),
        manifest_sha256=dict(type='str'),
        hosts=dict(type='list', elements='str', default=[]),
        components=dict(type='list', elements='str', choices=[drill.FILES, drill.POSTGRESQL], default=[drill.FILES, drill.POSTGRESQL]),
        files_dest=dict(type='path'),
        postgresql=dict(type='dict', options=dict(
            login_host=dict(type='str'),
            port=dict(type='int'),
            login_user=dict(type='str', default='postgres'),
            passfile=dict(type='path', no_log=False),
            login_password=dict(type='str', no_log=True),
        )),
        facts=dict(type='dict', default={}),
        record=dict(type='bool', default=True),
        failure=dict(type='str'),
        **encryption_logic.DECRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(store, params, check_mode):
    result = drill.run(store, set_id=params['set_id'], pin=params['manifest_sha256'], hosts=params['hosts'],
                       components=params['components'], files_dest=params['files_dest'],
                       postgresql=params['postgresql'], facts=params['facts'], record=params['record'],
                       check_mode=check_mode, failure=params['failure'], reporter=progress.active(),
                       decryption=encryption.for_restore(params['decryption']))
    if result['passed'] is False:
        raise LifeboatError('the restore drill of set %s FAILED: %s' % (result['set_id'], '; '.join(result['problems'][:10])),
                            **result)
    return result


def main():
    module = build_module()
    _module.execute_in_store(module, run, progress_label='drill comparison', progress_direction='read')


if __name__ == '__main__':
    main()
