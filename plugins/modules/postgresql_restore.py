#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgresql_restore
short_description: Restore PostgreSQL databases and globals from a backup set
version_added: 0.1.0
description:
  - Restores one, several or all databases that M(lifeboat.backup.postgresql_backup) dumped into a
    completed backup set, onto the same or another server, under the same or a new name, and the
    globals (roles, memberships, tablespaces) first. See C(docs/postgresql.md).
  - Nothing is restored from an artifact whose size and SHA-256 do not match its record. Each database
    is restored into a new staging database, given the source database's properties (owner, encoding,
    locale, settings, privileges, comment), and only renamed into place once its artifact checked out
    and pg_restore succeeded; an existing database it replaces is dropped only then. When globals are
    restored too (or with O(force_method=clean)), every artifact is first read and checked once before
    anything changes on the target (O(verify_first)).
  - An existing non-empty database is only replaced with O(force). Every refusal is found before
    anything is changed.
  - The target server must be the same or a newer major version than the source, and pg_restore at
    least as new as the pg_dump that made the dump.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Checks versions and reports which databases would be created or replaced (and what would be dropped); changes nothing.
seealso:
  - module: lifeboat.backup.postgresql_backup
    description: Writes the dumps this module restores.
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets, picks the newest completed one, verifies a set.
options:
  set_id:
    description: The set to restore from. Defaults to the newest completed set in the store.
    type: str
  manifest_sha256:
    description: Refuse the set unless its manifest has this SHA-256 (from M(lifeboat.backup.backup_set)).
    type: str
  host:
    description: The host name whose PostgreSQL artifacts are restored (the name it was backed up under).
    type: str
    required: true
  databases:
    description: Source database names to restore. Empty means every database in the set for O(host).
    type: list
    elements: str
    default: []
  rename:
    description: Restore databases under new names, as a mapping of source name to target name.
    type: dict
    default: {}
  target_database:
    description: With exactly one database to restore, the name to restore it as.
    type: str
  globals:
    description:
      - Restore the globals (roles, memberships, tablespaces) first. Roles that already exist are kept and
        get the source's attributes and password; the role the restore logs in as is never changed.
    type: bool
    default: true
  force:
    description: Replace databases that exist on the target and are not empty.
    type: bool
    default: false
  force_method:
    description:
      - How O(force) replaces an existing database.
      - C(replace) restores into a new database and swaps it in after it succeeded; the old one is then
        dropped (needs room for both while restoring).
      - C(clean) restores into the existing database with C(pg_restore --clean --if-exists) after the
        artifact was checked; objects the dump does not have are kept, and so are the database's own
        settings and privileges.
    type: str
    default: replace
    choices: [replace, clean]
  jobs:
    description:
      - Parallel pg_restore workers. Above 1, a custom-format dump is first written, decompressed, to a
        temporary file (after its checksum is verified while writing it), since parallel pg_restore needs
        a seekable file. With 1, it streams from the store into pg_restore with no temporary copy.
    type: int
    default: 1
  single_transaction:
    description: Restore each database in one transaction (pg_restore C(--single-transaction)); not with O(jobs) above 1.
    type: bool
    default: false
  no_owner:
    description: Do not restore object ownership (pg_restore C(--no-owner)); objects belong to the login role.
    type: bool
    default: false
  no_privileges:
    description: Do not restore privileges (pg_restore C(--no-privileges)).
    type: bool
    default: false
  verify_first:
    description:
      - When the restore changes the target before a database's own check (globals are restored, or
        O(force_method=clean) restores in place), first read and check every artifact it will use, so a
        damaged set fails before anything changes. Costs one extra read of each artifact.
      - Without it, each database is still checked before it is swapped into place.
    type: bool
    default: true
  standby:
    description:
      - What to do when the target server is a hot standby in recovery (read-only). C(fail) refuses with a clear
        error; C(skip) restores nothing and returns RV(skipped_standby) (and RV(in_recovery)), so a role can run the restore on every
        server of a replicated cluster and only the primary restores (the standbys follow by replication).
    type: str
    default: fail
    choices: [fail, skip]
  tmp_dir:
    description: Parent of temporary files (globals, dumps staged for O(jobs) above 1, directory-format dumps).
    type: path
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.postgresql
  - lifeboat.backup.encryption.decryption
'''

EXAMPLES = r'''
- name: Restore everything this host had in the newest set
  lifeboat.backup.postgresql_restore:
    host: "{{ inventory_hostname }}"
    store: "{{ lifeboat_store }}"
    login_unix_socket: /var/run/postgresql
    login_user: postgres

- name: Restore one database under a new name, in parallel
  lifeboat.backup.postgresql_restore:
    set_id: 20261122T031500Z-nightly
    manifest_sha256: "{{ pinned_sha }}"
    host: db1
    store: "{{ lifeboat_store }}"
    login_host: db-test.example.com
    login_user: postgres
    login_password: "{{ vault_pg_password }}"
    databases: [app]
    target_database: app_yesterday
    globals: false
    jobs: 4

- name: Replace existing databases
  lifeboat.backup.postgresql_restore:
    host: db1
    store: "{{ lifeboat_store }}"
    login_host: 127.0.0.1
    login_user: postgres
    force: true
'''

RETURN = r'''
in_recovery:
  description: Whether the target server is a standby in recovery.
  returned: when connected
  type: bool
  sample: false
skipped_standby:
  description: True when the target was a standby and O(standby=skip), so nothing was restored.
  returned: when skipped
  type: bool
  sample: true
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
server_version:
  description: The target server's version.
  returned: always
  type: str
  sample: '15.18'
databases:
  description:
    - One entry per database, with C(database) (source name), C(target), C(action) (C(create),
      C(replace) or C(clean)), C(exists), C(contents), C(artifact), C(artifact_size), C(database_size),
      and after a real run C(seconds) and C(warnings).
  returned: always
  type: list
  elements: dict
  sample:
    - {database: app, target: app, action: replace, exists: true, contents: true, artifact: 20261122T031500Z-nightly/db1/postgresql/app.dump.zst,
       artifact_size: 5242880, database_size: 73400320}
globals:
  description: Whether globals were (or would be) restored, and notes on roles and tablespaces that already existed.
  returned: always
  type: dict
  sample: {restore: true, notes: []}
would_drop:
  description: Existing databases that are (or would be) dropped and replaced.
  returned: always
  type: list
  elements: str
  sample: [app]
summary:
  description: One line per restored artifact (artifact, size, seconds, restored) for the end-of-run summary.
  returned: success, not in check mode
  type: list
  elements: dict
  sample:
    - {artifact: postgresql/app, size: 5242880, seconds: 11.3, restored: [app]}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql.restore import Restore

PSYCOPG2 = ('psycopg2 (or psycopg2-binary)', pg_client.HAS_PSYCOPG2, pg_client.PSYCOPG2_IMPORT_ERROR)


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str'),
        manifest_sha256=dict(type='str'),
        host=dict(type='str', required=True),
        databases=dict(type='list', elements='str', default=[]),
        rename=dict(type='dict', default={}),
        target_database=dict(type='str'),
        globals=dict(type='bool', default=True),
        force=dict(type='bool', default=False),
        force_method=dict(type='str', default='replace', choices=['replace', 'clean']),
        jobs=dict(type='int', default=1),
        single_transaction=dict(type='bool', default=False),
        no_owner=dict(type='bool', default=False),
        no_privileges=dict(type='bool', default=False),
        verify_first=dict(type='bool', default=True),
        tmp_dir=dict(type='path'),
        standby=dict(type='str', default='fail', choices=['fail', 'skip']),
        **pg_logic.CONNECTION_SPEC,
        **encryption_logic.DECRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=pg_logic.CONNECTION_MUTUALLY_EXCLUSIVE,
                         supports_check_mode=True)


def main():
    module = build_module()
    restore = Restore(module.params, module.check_mode)
    _module.execute(module, restore.run, warnings=restore.warnings, requires=[PSYCOPG2], progress_label='postgresql restore')


if __name__ == '__main__':
    main()
