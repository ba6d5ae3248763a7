#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_preflight
short_description: Check a host's backup configuration before a set is started
version_added: 0.2.0
description:
  - Runs on every host of a backup, before M(lifeboat.backup.backup_set) starts the set, so that a bad
    configuration leaves no failed set and no lock behind. The C(lifeboat.backup.backup) role runs it and fails
    with one message listing every host's problems.
  - "Checks: the host backs up something (O(files), O(postgresql), O(opensearch) or O(snapshot)), naming the variable it probably
    meant when it has none; files entry names are valid and unique; every path exists and is readable; tar and the
    compressor are installed; the PostgreSQL server accepts the login and pg_dump/pg_dumpall are recent enough for
    it (the same checks as M(lifeboat.backup.postgresql_backup) in check mode); the store is reachable and
    writable (a probe object that is removed again; the store lock is not taken)."
  - Problems are returned in RV(problems), not as a failure, so that the caller can report all hosts at once.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.store
  - lifeboat.backup.encryption
attributes:
  check_mode:
    support: full
    description: The same checks, except that the store is only listed, not written to.
  diff_mode:
    support: none
    description: Nothing to diff.
options:
  host:
    description: The host's name in the set (the inventory hostname).
    type: str
    required: true
  files:
    description: The host's files entries (C(lifeboat_files)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the archive in the set.
        type: str
        required: true
      paths:
        description: Absolute paths to archive.
        type: list
        elements: path
        required: true
      exclude:
        description: GNU tar exclude patterns.
        type: list
        elements: str
        default: []
      compression:
        description: Overrides O(compression).
        type: str
        choices: [zstd, gzip, none]
      level:
        description: Overrides O(level).
        type: int
      one_file_system:
        description: Do not descend into other mounts.
        type: bool
        default: false
      incremental:
        description: An incremental entry (docs/incremental.md); its name and O(files[].full_every) are checked.
        type: bool
        default: false
      full_every:
        description: Overrides O(full_every) for this entry.
        type: raw
  postgresql:
    description:
      - The host's PostgreSQL server (C(lifeboat_postgresql)), checked as M(lifeboat.backup.postgresql_backup)
        would use it. Omit it when the host has none.
    type: dict
    suboptions:
      cluster:
        description: Name of the database cluster (only used by the role).
        type: str
      prefer_standby:
        description: Dump this cluster from a standby (only used by the role).
        type: bool
      login_host:
        description: Server host name or address.
        type: str
      login_unix_socket:
        description: Directory of the server's unix socket.
        type: str
      port:
        description: Server port.
        type: int
      login_user:
        description: Role to connect as.
        type: str
      login_password:
        description: Password of O(postgresql.login_user).
        type: str
      maintenance_db:
        description: Database of the maintenance connection.
        type: str
        default: postgres
      ssl_mode:
        description: libpq sslmode.
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      ca_cert:
        description: CA certificate to verify the server.
        type: path
      passfile:
        description: A libpq password file.
        type: path
      connect_timeout:
        description: Seconds to wait for each connection.
        type: int
        default: 10
      bin_dir:
        description: Directory of the client tools.
        type: path
      os_user:
        description: Connect and run the client tools as this OS user.
        type: str
      databases:
        description: Databases to dump; empty for all.
        type: list
        elements: str
        default: []
      exclude:
        description: Databases not to dump.
        type: list
        elements: str
        default: []
      format:
        description: Dump format.
        type: str
        choices: [custom, directory]
        default: custom
      jobs:
        description: Parallel pg_dump workers for the directory format.
        type: int
        default: 2
      globals:
        description: Also dump roles and tablespaces.
        type: bool
        default: true
      lock_wait_timeout:
        description: pg_dump --lock-wait-timeout.
        type: str
      tmp_dir:
        description: Parent of the temporary dump directory.
        type: path
      compression:
        description: Overrides O(compression).
        type: str
        choices: [zstd, gzip, none]
      level:
        description: Overrides O(level).
        type: int
  snapshot:
    description: Whether the host takes an EBS snapshot set (C(lifeboat_snapshot) enabled); it then backs up something.
    type: bool
    default: false
  opensearch:
    description:
      - Whether the host belongs to a search cluster that is snapshotted (C(lifeboat_opensearch), or a profile's
        search node); it then backs up something. The search cluster itself is checked by its own tasks.
    type: bool
    default: false
  compression:
    description: Compression of archives and dumps.
    type: str
    choices: [zstd, gzip, none]
    default: zstd
  level:
    description: Compression level; unset for the compressor's default.
    type: int
  threads:
    description: Compression threads; 0 for every core.
    type: int
    default: 0
  full_every:
    description: The C(full_every) of incremental entries that do not set their own (C(lifeboat_full_every)).
    type: raw
    default: 24
  variables:
    description:
      - Names of the host's variables that look like C(lifeboat_*) ones, to name a misspelled variable in the
        message (C(did you mean lifeboat_files? it has lifeboat_file)).
    type: list
    elements: str
    default: []
  encryption_advised:
    description:
      - Why this host's sets should be encrypted (a profile whose sets hold secrets says so); when O(encryption) has
        no recipients, a warning gives this reason. Recipients that cannot be used are a problem whether or not this
        is set.
    type: str
  allow_empty:
    description:
      - A host with nothing to back up is not a problem (it is reported in RV(empty) and recorded in the set's
        manifest as C(empty_hosts) by the role). Off by default, because such a host is usually a misspelled or
        missing variable and would silently be left out of the set.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Check every host before the set starts
  lifeboat.backup.backup_preflight:
    store: "{{ lifeboat_store }}"
    host: "{{ inventory_hostname }}"
    files: "{{ lifeboat_files }}"
    variables: "{{ query('ansible.builtin.varnames', '^lifeb') }}"
  register: preflight

- name: Stop when any host has a problem
  ansible.builtin.fail:
    msg: "{{ ansible_play_hosts | map('extract', hostvars, ['preflight', 'problems']) | flatten | join('; ') }}"
  when: ansible_play_hosts | map('extract', hostvars, ['preflight', 'problems']) | flatten | length > 0
  run_once: true
'''

RETURN = r'''
problems:
  description: Every problem found on this host, each starting with the host's name (empty when all is well).
  returned: always
  type: list
  elements: str
  sample: ["web2: files entry app: /srv/app does not exist on this host"]
empty:
  description: The host has nothing to back up and O(allow_empty) is true.
  returned: always
  type: bool
components:
  description: What the host would write (C(files/NAME), C(postgresql), C(snapshot)).
  returned: always
  type: list
  elements: str
postgresql:
  description: Facts of the PostgreSQL server when it answered (C(server_version), C(in_recovery), C(pg_dump_version)).
  returned: when O(postgresql) is given
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import preflight
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic

COMPRESSIONS = ['zstd', 'gzip', 'none']


def argument_spec():
    postgresql = dict(pg_logic.CONNECTION_SPEC)
    postgresql.update(
        cluster=dict(type='str'),
        prefer_standby=dict(type='bool'),
        databases=dict(type='list', elements='str', default=[]),
        exclude=dict(type='list', elements='str', default=[]),
        format=dict(type='str', default='custom', choices=['custom', 'directory']),
        jobs=dict(type='int', default=2),
        globals=dict(type='bool', default=True),
        lock_wait_timeout=dict(type='str'),
        tmp_dir=dict(type='path'),
        compression=dict(type='str', choices=COMPRESSIONS),
        level=dict(type='int'),
    )
    files = dict(
        name=dict(type='str', required=True),
        paths=dict(type='list', elements='path', required=True),
        exclude=dict(type='list', elements='str', default=[]),
        compression=dict(type='str', choices=COMPRESSIONS),
        level=dict(type='int'),
        one_file_system=dict(type='bool', default=False),
        incremental=dict(type='bool', default=False),
        full_every=dict(type='raw'),
    )
    return dict(
        store=STORE_ARG,
        host=dict(type='str', required=True),
        files=dict(type='list', elements='dict', default=[], options=files),
        postgresql=dict(type='dict', options=postgresql, mutually_exclusive=pg_logic.CONNECTION_MUTUALLY_EXCLUSIVE),
        snapshot=dict(type='bool', default=False),
        opensearch=dict(type='bool', default=False),
        compression=dict(type='str', default='zstd', choices=COMPRESSIONS),
        level=dict(type='int'),
        threads=dict(type='int', default=0),
        full_every=dict(type='raw', default=24),
        variables=dict(type='list', elements='str', default=[]),
        allow_empty=dict(type='bool', default=False),
        encryption_advised=dict(type='str'),
        **encryption_logic.ENCRYPTION_SPEC
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        result = preflight.run(p['store'], p['host'], files=p['files'], postgresql=p['postgresql'],
                               snapshot=p['snapshot'], opensearch=p['opensearch'], compression=p['compression'],
                               level=p['level'],
                               threads=p['threads'], variables=p['variables'], allow_empty=p['allow_empty'],
                               full_every=p['full_every'],
                               check_mode=module.check_mode, encryption=p['encryption'],
                               encryption_advised=p['encryption_advised'])
    except LifeboatError as e:
        module.fail_json(msg=e.msg, **e.details)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
