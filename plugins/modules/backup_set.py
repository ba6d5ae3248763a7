#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_set
short_description: Start, commit or fail a backup set
version_added: 0.1.0
description:
  - A backup set is one backup run across any number of hosts, identified by a UTC timestamp id
    (for example C(20261122T031500Z), optionally followed by C(-label)). See C(docs/format.md).
  - O(state=started) creates a new set in progress and takes the store lock (one writing run per store).
  - O(state=committed) checks, from the store alone, every part each host declared before writing it. Each must
    have its record and its object, of the recorded size (a declared part without a record is unfinished, because
    its module failed, was cancelled or was killed), and every host in O(hosts) must have written at least one. Then
    it writes the manifest, last; that write is the commit. A set that fails verification is marked failed.
    Nothing it checks comes from values returned to the controller, which Ansible may have masked (no_log).
  - O(state=failed) marks a set failed with a reason. Failed and interrupted sets are never restorable.
  - O(state=delivered), for a backup split over several jobs (AWX job slicing, C(lifeboat_phase=hosts)), records in
    the set that O(host) delivered its parts (O(writes)), had nothing to back up (O(empty)), or failed (O(reason)).
    O(state=committed) with O(expected_hosts) then takes the hosts from those records.
  - Run it once per set (C(run_once)), on a host that reaches the store.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
attributes:
  check_mode:
    description: Reports the set id that would be started, or what a commit would find, and writes nothing.
seealso:
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets, their status and contents.
  - module: lifeboat.backup.files_backup
    description: Writes a files archive into a started set.
  - module: lifeboat.backup.postgresql_backup
    description: Writes PostgreSQL dumps into a started set.
options:
  state:
    description: What to do with the set.
    type: str
    required: true
    choices: [started, committed, failed, delivered]
  set_id:
    description: The set to commit or fail. Required for O(state=committed) and O(state=failed).
    type: str
  label:
    description: With O(state=started), a label appended to the set id (lower-case letters, digits, C(.), C(_), C(-)).
    type: str
  reason:
    description:
      - With O(state=failed), why the set failed (stored in the set and shown by M(lifeboat.backup.backup_set_info)).
      - With O(state=delivered), why O(host) failed; the commit then fails the set naming the host and this reason.
    type: str
  host:
    description: With O(state=delivered), the host whose delivery is recorded (once per host and set).
    type: str
    version_added: 0.2.0
  writes:
    description: With O(state=delivered), the host wrote parts into the set (the commit checks them in the store).
    type: bool
    default: false
    version_added: 0.2.0
  empty:
    description: With O(state=delivered), the host had nothing to back up and was allowed to (recorded as an empty host).
    type: bool
    default: false
    version_added: 0.2.0
  expected_hosts:
    description:
      - With O(state=committed), the hosts of a backup split over several jobs. Each must have recorded its delivery
        (O(state=delivered)) without a failure; a host with no record (its slice did not run, it was unreachable) or
        with a failure fails the set, naming it, unless O(allow_missing_hosts). The hosts that wrote parts are
        checked as with O(hosts), which is then not needed.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  hosts:
    description: With O(state=committed), hosts that must each have written at least one complete artifact.
    type: list
    elements: str
    default: []
  expect:
    description:
      - With O(state=committed), artifacts each host must have written, as a mapping of host to a list of
        C(component/name) strings (for example C(files/app)). Optional, since the parts every host declared in the
        store are always checked.
    type: dict
    default: {}
  empty_hosts:
    description:
      - With O(state=committed), hosts of the play that had nothing to back up and were allowed to
        (C(lifeboat_allow_empty_hosts)); recorded in the manifest as C(empty_hosts).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  allow_missing_hosts:
    description:
      - With O(state=committed), commit even when hosts in O(hosts) wrote nothing, recording them in the
        manifest as missing. Off by default, because a set missing a host is not a complete backup.
    type: bool
    default: false
  lock_ttl:
    description:
      - With O(state=started), the longest the store lock lives, even while its run renews it (against a run
        that hangs). Set it longer than your longest backup. A run that died is detected much sooner, see
        O(lock_expiry).
    type: int
    default: 86400
  lock_expiry:
    description:
      - With O(state=started), seconds without a heartbeat after which the store lock is stale. Every lifeboat
        module writing into the open set renews it (every O(lock_expiry)/5 seconds, at most every 30 s), and the
        gap between two modules of one play is seconds, so a few minutes are safe. A lock is also stale at once
        when its owner is provably gone (its controller process or its last module is no longer alive on the
        machine that checks, or a module was cancelled by SIGTERM/SIGINT). Never longer than O(lock_ttl).
    type: int
    default: 300
    version_added: 0.2.0
  break_lock:
    description:
      - With O(state=started), break an existing lock even when it has not expired. The set that held it is
        marked failed (interrupted). Only use this when you know no other run is writing.
    type: bool
    default: false
  owner:
    description:
      - With O(state=started), extra facts stored with the lock owner (for example the job id).
      - C(controller), a mapping of C(pid), C(host), C(boot_id) and C(pid_ns) of the controller's
        ansible-playbook process (the role passes it), lets a later run on the same machine see that it is gone.
    type: dict
    default: {}
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.store
'''

EXAMPLES = r'''
- name: Start a set (once for all hosts)
  lifeboat.backup.backup_set:
    state: started
    label: nightly
    store:
      type: filesystem
      path: /srv/backup
  run_once: true
  register: backup_set

- name: Commit it after every host wrote its parts
  lifeboat.backup.backup_set:
    state: committed
    set_id: "{{ backup_set.set_id }}"
    hosts: "{{ ansible_play_hosts_all }}"
    store:
      type: filesystem
      path: /srv/backup
  run_once: true

- name: Mark it failed
  lifeboat.backup.backup_set:
    state: failed
    set_id: "{{ backup_set.set_id }}"
    reason: "web2 was unreachable"
    store:
      type: filesystem
      path: /srv/backup
  run_once: true
'''

RETURN = r'''
set_id:
  description: The set id.
  returned: always
  type: str
  sample: 20261122T031500Z-nightly
status:
  description: The set status after this call (C(in_progress), C(completed) or C(failed)).
  returned: always
  type: str
  sample: completed
manifest_sha256:
  description: SHA-256 of the manifest; pin it in restores (C(lifeboat_manifest_sha256)).
  returned: when O(state=committed)
  type: str
  sample: 187cdff27edae96573bf276e24b205878a47b552aa63753c5df4e38d64f107f4
size:
  description: Total bytes of the set's artifacts.
  returned: when O(state=committed)
  type: int
  sample: 104857600
hosts:
  description: Hosts with artifacts in the set.
  returned: when O(state=committed)
  type: list
  elements: str
  sample: [web1, web2]
artifact_count:
  description: Number of artifacts in the set.
  returned: when O(state=committed)
  type: int
  sample: 3
components:
  description: Per host, the C(component/name) artifacts in the set.
  returned: when O(state=committed) and changed
  type: dict
  sample: {web1: [files/awx, postgresql/awx], web2: [files/awx]}
missing_hosts:
  description: Hosts recorded as missing (only with O(allow_missing_hosts)).
  returned: when some are missing
  type: list
  elements: str
  sample: [web3]
delivered:
  description: With O(state=delivered), whether the host delivered (false when it recorded a failure).
  returned: when O(state=delivered)
  type: bool
  sample: true
host:
  description: The host whose delivery was recorded.
  returned: when O(state=delivered)
  type: str
  sample: web1
reason:
  description: Why the set failed.
  returned: when O(state=failed)
  type: str
  sample: 'web2: Archive files entries into the set: files entry awx: /opt/awx does not exist on this host'
started:
  description: When the set started (UTC, ISO 8601).
  returned: when O(state=started)
  type: str
  sample: '2026-11-22T03:15:00Z'
owner:
  description: The lock owner recorded in the store.
  returned: when O(state=started)
  type: dict
  sample: {host: controller, pid: 4242, user: root, play_hosts: 3}
lock_expires:
  description: The latest the lock taken by O(state=started) can live (O(lock_ttl)), renewed or not.
  returned: when O(state=started)
  type: str
  sample: '2026-11-23T03:15:00Z'
lock_expiry:
  description: Seconds without a heartbeat after which the lock is stale.
  returned: when O(state=started)
  type: int
  sample: 300
empty_hosts:
  description: Hosts recorded in the manifest as having had nothing to back up.
  returned: when some are
  type: list
  elements: str
  sample: [web3]
broken_lock:
  description: The stale lock that was broken to start this set, and why.
  returned: when O(state=started)
  type: dict
  sample: {lock: {set_id: 20261121T031500Z-nightly, owner: {host: controller, pid: 4100}}, reason: 'the lock expired at 2026-11-22T03:15:00Z'}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle


def argument_spec():
    return dict(
        store=STORE_ARG,
        state=dict(type='str', required=True, choices=['started', 'committed', 'failed', 'delivered']),
        set_id=dict(type='str'),
        label=dict(type='str'),
        reason=dict(type='str'),
        hosts=dict(type='list', elements='str', default=[]),
        host=dict(type='str'),
        writes=dict(type='bool', default=False),
        empty=dict(type='bool', default=False),
        expected_hosts=dict(type='list', elements='str', default=[]),
        expect=dict(type='dict', default={}),
        empty_hosts=dict(type='list', elements='str', default=[]),
        allow_missing_hosts=dict(type='bool', default=False),
        lock_ttl=dict(type='int', default=86400),
        lock_expiry=dict(type='int', default=300),
        break_lock=dict(type='bool', default=False),
        owner=dict(type='dict', default={}),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(),
                         required_if=[('state', 'committed', ['set_id']), ('state', 'failed', ['set_id']),
                                      ('state', 'delivered', ['set_id', 'host'])],
                         supports_check_mode=True)


def run(store, params, check_mode):
    state = params['state']
    if state == 'started':
        return lifecycle.start(store, label=params['label'], owner=params['owner'], lock_ttl=params['lock_ttl'],
                               lock_expiry=params['lock_expiry'], break_lock=params['break_lock'], check_mode=check_mode)
    if state == 'committed':
        return lifecycle.commit(store, params['set_id'], expect=params['expect'], hosts=params['hosts'],
                                allow_missing_hosts=params['allow_missing_hosts'], empty_hosts=params['empty_hosts'],
                                expected_hosts=params['expected_hosts'], check_mode=check_mode)
    if state == 'delivered':
        return lifecycle.deliver(store, params['set_id'], params['host'], params['writes'], empty=params['empty'],
                                 failure=params['reason'], check_mode=check_mode)
    return lifecycle.fail(store, params['set_id'], params['reason'] or 'failed (no reason given)', check_mode=check_mode)


def main():
    module = build_module()
    _module.execute_in_store(module, run)


if __name__ == '__main__':
    main()
