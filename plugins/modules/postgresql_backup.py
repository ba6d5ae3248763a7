#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgresql_backup
short_description: Dump PostgreSQL databases and globals into a backup set
version_added: 0.1.0
description:
  - Connects to a PostgreSQL server, discovers its databases (every database that is not a template and
    accepts connections, or the ones named in O(databases), minus O(exclude)), and dumps each one with
    C(pg_dump) into the open backup set O(set_id), one artifact per database. See C(docs/postgresql.md).
  - O(format=custom) streams C(pg_dump --format=custom --compress=0) through the set's compression
    (zstd by default) into the store, with no local temporary copy. O(format=directory) runs
    C(pg_dump --format=directory --jobs) into a local temporary directory (it needs free space for the
    uncompressed dump of the largest database) and streams a tar of it into the store.
  - Roles, role memberships and tablespaces are dumped with C(pg_dumpall --globals-only) as their own
    artifact named C(globals) (O(globals)). Without superuser rights, roles are dumped without passwords.
  - Every tool's exit code and stderr are checked; a dump that exits 0 but reports an error, or is
    killed midway, fails the module and nothing of it is recorded.
  - C(pg_dump) must be at least as new as the server (major version); an older one is refused.
  - Records the pg_dump and server versions, the database size, its own properties (owner, encoding,
    locale, settings, privileges) and per-table row estimates in each artifact record.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Connects and reports the databases that would be dumped, with their sizes; writes nothing.
seealso:
  - module: lifeboat.backup.postgresql_restore
    description: Restores what this module dumped, verified first.
  - module: lifeboat.backup.backup_set
    description: Starts the set this module writes into, and commits it.
options:
  set_id:
    description: The open (in progress) backup set to write into, from M(lifeboat.backup.backup_set).
    type: str
    required: true
  host:
    description: The host name the artifacts are recorded under in the set (usually C(inventory_hostname)).
    type: str
    required: true
  databases:
    description: Databases to dump. Empty means every database that is not a template and accepts connections.
    type: list
    elements: str
    default: []
  exclude:
    description: Databases not to dump.
    type: list
    elements: str
    default: []
  format:
    description:
      - C(custom) streams each dump straight into the store (no local temp space).
      - C(directory) dumps with O(jobs) parallel workers into a local temp directory first (needs free
        space for the uncompressed dump), then streams it as a tar. Faster for big databases with many tables.
    type: str
    default: custom
    choices: [custom, directory]
  jobs:
    description: Parallel pg_dump workers for O(format=directory) (each holds a database connection).
    type: int
    default: 2
  globals:
    description: Also dump roles, memberships and tablespaces (C(pg_dumpall --globals-only)) as artifact C(globals).
    type: bool
    default: true
  lock_wait_timeout:
    description:
      - Give up a dump instead of waiting longer than this for a table lock (pg_dump C(--lock-wait-timeout),
        for example C(30s)). By default pg_dump waits as long as it takes.
    type: str
  tmp_dir:
    description: Parent directory of the temporary dump directory of O(format=directory). Defaults to the system temp dir.
    type: path
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.postgresql
  - lifeboat.backup.compression
  - lifeboat.backup.encryption
'''

EXAMPLES = r'''
- name: Dump every database and the globals into the set
  lifeboat.backup.postgresql_backup:
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    store: "{{ lifeboat_store }}"
    login_unix_socket: /var/run/postgresql
    login_user: postgres
    os_user: postgres   # peer authentication; the module (and the store) stay root's
  become: true
  register: pg

- name: Dump two databases from a remote server, big one in parallel
  lifeboat.backup.postgresql_backup:
    set_id: "{{ __lifeboat_set_id }}"
    host: "{{ inventory_hostname }}"
    store:
      type: filesystem
      path: /srv/backup
    login_host: db1.example.com
    login_user: backup
    login_password: "{{ vault_pg_backup_password }}"
    ssl_mode: verify-full
    ca_cert: /etc/ssl/certs/db-ca.pem
    databases: [app, reporting]
    format: directory
    jobs: 4
'''

RETURN = r'''
records:
  description: The artifact records written into the set (one per database, and C(globals)).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: db1, component: postgresql, name: app, key: 20261122T031500Z-nightly/db1/postgresql/app.dump.zst, size: 5242880,
       sha256: 2c1f0e9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e, format: custom}
summary:
  description: One line per artifact for the end-of-run summary (component, name, database, size, seconds...).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: db1, component: postgresql, name: app, database: app, size: 5242880, uncompressed_size: 73400320,
       seconds: 4.1}
databases:
  description: Every database the server has, with its size and whether it was (or would be) dumped.
  returned: always
  type: list
  elements: dict
  sample: [{name: app, size: 73400320, dump: true, artifact: app}]
server_version:
  description: The server's version.
  returned: always
  type: str
  sample: '15.18'
server_version_num:
  description: The server's version number (C(server_version_num)).
  returned: always
  type: int
  sample: 150018
in_recovery:
  description: Whether the server is a standby in recovery (C(pg_is_in_recovery())).
  returned: always
  type: bool
  sample: false
pg_dump_version:
  description: The pg_dump used (first line of C(pg_dump --version)).
  returned: always
  type: str
  sample: pg_dump (PostgreSQL) 15.18
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql.backup import Backup

PSYCOPG2 = ('psycopg2 (or psycopg2-binary)', pg_client.HAS_PSYCOPG2, pg_client.PSYCOPG2_IMPORT_ERROR)


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        set_id=dict(type='str', required=True),
        host=dict(type='str', required=True),
        databases=dict(type='list', elements='str', default=[]),
        exclude=dict(type='list', elements='str', default=[]),
        format=dict(type='str', default='custom', choices=['custom', 'directory']),
        jobs=dict(type='int', default=2),
        globals=dict(type='bool', default=True),
        lock_wait_timeout=dict(type='str'),
        tmp_dir=dict(type='path'),
        **pipeline.COMPRESSION_SPEC,
        **pg_logic.CONNECTION_SPEC,
        **encryption_logic.ENCRYPTION_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=pg_logic.CONNECTION_MUTUALLY_EXCLUSIVE,
                         supports_check_mode=True)


def run(backup, params):
    if params['jobs'] < 1:
        raise ConfigError('jobs must be at least 1')
    return backup.run()


def main():
    module = build_module()
    backup = Backup(module.params, module.check_mode)
    _module.execute(module, lambda: run(backup, module.params), warnings=backup.warnings,
                    fail_details=lambda: {'records': backup.records}, requires=[PSYCOPG2], progress_label='postgresql backup')


if __name__ == '__main__':
    main()
