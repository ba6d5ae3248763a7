#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgresql_scratch
short_description: A throwaway PostgreSQL server for restore drills
version_added: 0.2.0
description:
  - O(state=present) creates a new private directory under O(parent), runs C(initdb) there as O(os_user) (initdb refuses
    root) with the server binaries of the PostgreSQL major version O(version_num) needs (the exact major when installed,
    else the oldest newer one), and starts the server on 127.0.0.1 at a free port. Logins need scram-sha-256 with a random
    password that is only written to a 0600 libpq passfile (RV(passfile)); the unix socket is in a 0700 directory. Nothing
    is durable (C(fsync=off)), since the server only ever holds a copy that is thrown away.
  - O(state=absent) stops the server at O(path) (immediate shutdown) and deletes the directory, whatever state it is in.
    Run it in an C(always:) section, as C(playbooks/drill.yml) does.
  - Restore into it with M(lifeboat.backup.postgresql_restore) (RV(login_host), RV(port), RV(login_user) and RV(passfile)
    from the result), exactly as a real restore would.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
requirements:
  - The PostgreSQL server package (initdb, postgres, pg_ctl) of the needed major version; util-linux setpriv when run as root.
extends_documentation_fragment:
  - lifeboat.backup.attributes
attributes:
  check_mode:
    description: Says which binaries would be used and which commands would run (RV(commands)), and creates or removes nothing.
seealso:
  - module: lifeboat.backup.backup_drill
    description: Compares what was restored into the scratch server with what the backup recorded.
  - module: lifeboat.backup.postgresql_restore
    description: Restores a dump into the scratch server.
options:
  state:
    description: Create and start (C(present)), or stop and delete (C(absent)).
    type: str
    choices: [present, absent]
    default: present
  parent:
    description: With O(state=present), the directory to create the server in. It needs room for every database restored.
    type: path
    default: /var/tmp
  path:
    description: With O(state=absent), the server's directory (RV(path) of O(state=present)).
    type: path
  version_num:
    description:
      - With O(state=present), the newest C(server_version_num) among the dumps to restore (for example C(150004)); the
        server is at least that major version. Omitted, the newest installed server is used.
    type: int
  bin_dir:
    description: With O(state=present), use the server binaries in this directory.
    type: path
  os_user:
    description: The OS user that owns and runs the server.
    type: str
    default: postgres
  login_user:
    description: With O(state=present), the superuser created by initdb.
    type: str
    default: postgres
'''

EXAMPLES = r'''
- name: Drill the PostgreSQL part of the newest set
  block:
    - name: Create a scratch server
      lifeboat.backup.postgresql_scratch:
        version_num: 150004
      register: scratch

    - name: Restore into it with the same module as real restores
      lifeboat.backup.postgresql_restore:
        store: {type: filesystem, path: /srv/backup}
        host: db1
        globals: true
        login_host: "{{ scratch.login_host }}"
        port: "{{ scratch.port }}"
        login_user: "{{ scratch.login_user }}"
        passfile: "{{ scratch.passfile }}"
  always:
    - name: Tear the scratch server down
      lifeboat.backup.postgresql_scratch:
        state: absent
        path: "{{ scratch.path }}"
      when: scratch.path is defined
'''

RETURN = r'''
path:
  description: The server's directory (give it to O(state=absent)).
  returned: always
  type: str
  sample: /var/tmp/lifeboat-scratch-pg-k2j4h1
login_host:
  description: The address the server listens on.
  returned: when O(state=present) and not in check mode
  type: str
  sample: 127.0.0.1
port:
  description: The port it listens on.
  returned: when O(state=present) and not in check mode
  type: int
  sample: 41733
login_user:
  description: The superuser.
  returned: when O(state=present)
  type: str
  sample: postgres
passfile:
  description: The libpq passfile holding the superuser's password (mode 0600).
  returned: when O(state=present) and not in check mode
  type: str
  sample: /var/tmp/lifeboat-scratch-pg-k2j4h1/secret/pgpass
socket_dir:
  description: The directory of the unix socket (0700, the server's OS user only).
  returned: when O(state=present) and not in check mode
  type: str
  sample: /var/tmp/lifeboat-scratch-pg-k2j4h1/socket
bin_dir:
  description: The server binaries used.
  returned: when O(state=present)
  type: str
  sample: /usr/lib/postgresql/15/bin
version:
  description: The server's version text.
  returned: when O(state=present)
  type: str
  sample: postgres (PostgreSQL) 15.14
commands:
  description: The commands run (in check mode, the commands that would run), as C(argv), C(ran), C(rc), C(seconds).
  returned: always
  type: list
  elements: dict
  sample:
    - {argv: [/usr/lib/postgresql/15/bin/initdb, -D, /var/tmp/lifeboat-scratch-pg-k2j4h1/data, -U, postgres], ran: true, rc: 0,
       seconds: 1.9}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import scratch_pg


def argument_spec():
    return dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        parent=dict(type='path', default='/var/tmp'),
        path=dict(type='path'),
        version_num=dict(type='int'),
        bin_dir=dict(type='path'),
        os_user=dict(type='str', default='postgres'),
        login_user=dict(type='str', default='postgres'),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), required_if=[('state', 'absent', ['path'])], supports_check_mode=True)


def run(params, check_mode):
    runner = command_runner.Runner(check_mode=check_mode)
    if params['state'] == 'absent':
        result = scratch_pg.remove(params['path'], os_user=params['os_user'], runner=runner)
    else:
        result = scratch_pg.create(params['parent'], needed_num=params['version_num'], bin_dir=params['bin_dir'],
                                   os_user=params['os_user'], superuser=params['login_user'], runner=runner)
    result['commands'] = runner.commands
    return result


def main():
    module = build_module()
    _module.execute(module, lambda: run(module.params, module.check_mode))


if __name__ == '__main__':
    main()
