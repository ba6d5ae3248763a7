#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_metrics
short_description: Write backup, prune, verify, drill and status metrics for Prometheus (node_exporter textfile)
version_added: 0.2.0
description:
  - Merges the metrics of one run into a file in node_exporter's textfile format
    (C(--collector.textfile.directory)), for example C(/var/lib/node_exporter/textfile/lifeboat.prom).
  - One file holds every operation of every store and label; a run replaces only its own series (its
    operation, store and label, and for verification its level) and keeps the others, so the last
    successful backup's timestamp stays when a later run fails.
  - The file is replaced atomically (temporary file in the same directory, fsync, rename) under a lock of
    the directory, so node_exporter never reads a partial file and concurrent writers lose nothing.
  - The roles and playbooks call it with C(lifeboat_metrics_file) on C(lifeboat_metrics_host). See
    C(docs/metrics.md) for every metric and example alert rules.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.attributes
attributes:
  check_mode:
    description: Returns the series that would be written and writes nothing.
seealso:
  - module: lifeboat.backup.backup_status
    description: The freshness a C(status) operation writes.
  - module: lifeboat.backup.backup_prune
    description: The results a C(prune) operation writes.
options:
  path:
    description: The metrics file, an absolute path ending in C(.prom) in an existing directory.
    type: path
    required: true
  operation:
    description: Which kind of run the facts describe.
    type: str
    required: true
    choices: [backup, prune, verify, drill, status]
  store_name:
    description:
      - The value of the C(store) label, for example C(filesystem:/srv/backup) or C(s3://bucket/prefix)
        (the C(lifeboat.backup.store_label) filter makes it from C(lifeboat_store)).
    type: str
    required: true
  set_label:
    description: The set label the run worked on (the C(set_label) label); empty for unlabelled sets.
    type: str
    default: ''
  facts:
    description:
      - What the run did. Every operation takes C(success) (bool), C(ended) (Unix time, default now) and
        C(duration) (seconds).
      - C(backup) adds C(size) and C(artifacts) (a list of C(host), C(component), C(name), C(size)).
      - C(prune) adds C(kept), C(removed), C(retained) and C(bytes_freed).
      - C(verify) adds C(level), C(checked), C(failed), C(bytes_read) and C(throughput).
      - C(drill) adds C(checks) and C(mismatches).
      - C(status) takes C(newest_completed), C(rpo), C(rpo_met), C(sets) (count per status),
        C(last_verify) and C(last_drill).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Record the backup run for Prometheus
  lifeboat.backup.backup_metrics:
    path: /var/lib/node_exporter/textfile/lifeboat.prom
    operation: backup
    store_name: "{{ lifeboat_store | lifeboat.backup.store_label }}"
    set_label: nightly
    facts:
      success: true
      duration: 312.5
      size: 10485760
      artifacts:
        - {host: web1, component: files, name: app, size: 10485760}
  delegate_to: monitor.example.com
  run_once: true
'''

RETURN = r'''
path:
  description: The metrics file.
  returned: always
  type: str
  sample: /var/lib/node_exporter/textfile/lifeboat.prom
metrics:
  description: The series this run contributed, in the text format.
  returned: always
  type: str
  sample: |
    # HELP lifeboat_backup_last_run_success Whether the last backup run succeeded (1) or failed (0).
    # TYPE lifeboat_backup_last_run_success gauge
    lifeboat_backup_last_run_success{set_label="nightly",store="filesystem:/srv/backup"} 1
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _metrics as metrics


def argument_spec():
    return dict(
        path=dict(type='path', required=True),
        operation=dict(type='str', required=True, choices=list(metrics.OPERATIONS)),
        store_name=dict(type='str', required=True),
        set_label=dict(type='str', default=''),
        facts=dict(type='dict', default={}),
    )


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


def run(params, check_mode, now=None):
    return metrics.update_file(params['path'], params['operation'], params['facts'], params['store_name'],
                               set_label=params['set_label'], now=now or time.time(), check_mode=check_mode)


def main():
    module = build_module()
    _module.execute(module, lambda: run(module.params, module.check_mode))


if __name__ == '__main__':
    main()
