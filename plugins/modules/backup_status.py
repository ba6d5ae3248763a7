#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_status
short_description: Is the newest backup young enough? Freshness against the RPO, last verification and drill
version_added: 0.2.0
description:
  - For each label of the store's sets (or each of O(labels)), compares the newest completed set's start time with
    O(rpo), and reports the last verification and restore drill (from the store's C(checks/) area), the sets in
    progress and a count of sets per status.
  - RV(ok) is false when a label misses its RPO, has no completed set, or (with O(verify_max_age) /
    O(drill_max_age)) has not passed a verification or drill that recently or failed the last one. The module itself
    does not fail then; C(playbooks/status.yml) fails the play after publishing the result.
  - Ages count from the set ids' UTC start times, on this host's clock. See C(docs/metrics.md).
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.attributes
  - lifeboat.backup.store
attributes:
  check_mode:
    description: Read-only; behaves the same in check mode.
seealso:
  - module: lifeboat.backup.backup_set_info
    description: Lists every set.
  - module: lifeboat.backup.backup_metrics
    description: Writes the status into a Prometheus textfile.
options:
  rpo:
    description: The recovery point objective, a duration such as C(26h), C(2d), C(1w) (units y, m for months, w, d, h).
    type: str
    default: 26h
  labels:
    description: Only these labels (an empty string for unlabelled sets). By default every label found in the store.
    type: list
    elements: str
    default: []
  verify_max_age:
    description: Also not ok when no verification passed within this duration, or the last one failed.
    type: str
  drill_max_age:
    description: Also not ok when no restore drill passed within this duration, or the last one failed.
    type: str
'''

EXAMPLES = r'''
- name: How fresh are the backups
  lifeboat.backup.backup_status:
    rpo: 26h
    store: {type: s3, bucket: acme-backups, prefix: prod}
  register: status

- name: Alert when backups stopped
  ansible.builtin.assert:
    that: status.ok
    fail_msg: "{{ status.problems | join('; ') }}"
'''

RETURN = r'''
ok:
  description: Whether every label is fresh (and verified and drilled recently enough, when asked).
  returned: always
  type: bool
  sample: true
problems:
  description: What is wrong, one line each.
  returned: always
  type: list
  elements: str
  sample: ['label nightly: the newest completed set 20261121T031500Z-nightly is 1d 2h old, older than the RPO 26h']
groups:
  description:
    - One entry per label with C(label), C(newest) (set id), C(newest_timestamp), C(age_seconds), C(rpo_seconds),
      C(rpo_met), C(last_verify) and C(last_drill) (C(when), C(passed), C(level)), C(in_progress) (sets whose run is
      alive), C(counts) (sets per status) and C(problems).
  returned: always
  type: list
  elements: dict
  sample:
    - {label: nightly, newest: 20261122T031500Z-nightly, newest_timestamp: '2026-11-22T03:15:00Z', age_seconds: 6300,
       rpo_seconds: 93600, rpo_met: true, last_verify: {when: '2026-11-22T04:00:00Z', passed: true, level: full},
       last_drill: {when: '2026-11-20T05:00:00Z', passed: true}, in_progress: [], counts: {completed: 30, failed: 1},
       problems: []}
now:
  description: The time the status was computed (UTC).
  returned: always
  type: str
  sample: '2026-11-23T05:00:00Z'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import freshness
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results


def argument_spec():
    return dict(
        store=STORE_ARG,
        rpo=dict(type='str', default='26h'),
        labels=dict(type='list', elements='str', default=[]),
        verify_max_age=dict(type='str'),
        drill_max_age=dict(type='str'),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(store, params, check_mode, now=None):
    # read-only: the same in check mode
    now = now or set_format.utcnow()
    sets = results.attach(lifecycle.list_sets(store, now), results.check_keys(store), now)
    out = freshness.status(sets, now, params['rpo'], labels=params['labels'], verify_max_age=params['verify_max_age'],
                           drill_max_age=params['drill_max_age'])
    out.update({'changed': False, 'now': set_format.iso(now)})
    return out


def main():
    module = build_module()
    _module.execute_in_store(module, run)


if __name__ == '__main__':
    main()
