#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_prune
short_description: Apply a retention policy to a store, safely (restic forget semantics)
version_added: 0.2.0
description:
  - Decides, for every set of the store, whether the O(policy) keeps it (and which rule) or removes it, with the rules
    of restic's C(forget) (C(keep_last), C(keep_hourly), C(keep_daily), C(keep_weekly), C(keep_monthly), C(keep_yearly),
    C(keep_within), per label) plus C(keep_failed) days for failed and interrupted sets. The newest completed set of
    each label, sets whose run is alive, damaged sets and anything a kept set needs are never removed. See
    C(docs/retention.md).
  - Then, holding the store lock, removes each set in an order that is safe to interrupt, the manifest first (the set is
    never listed as completed again), then what the set points to outside the store (the EBS snapshots its snapshot
    records name, in every region they were copied to, with the AWS options of this module, O(region) being only a
    fallback since the regions come from the records; the OpenSearch snapshots its records name, through O(opensearch)),
    then its status, objects and check results. A later prune
    finishes a set an interrupted one began.
  - A set the store refuses to delete (S3 Object Lock) is reported with the date it can go and left whole; the prune goes on.
  - Check mode is the dry run, every set with its reason and the bytes that would be freed.
author:
  - lifeboat.backup maintainers (@lifeboat-backup)
extends_documentation_fragment:
  - lifeboat.backup.progress
  - lifeboat.backup.attributes
  - lifeboat.backup.store
  - lifeboat.backup.aws
requirements:
  - boto3 (S3 stores, and sets with EBS snapshot records)
attributes:
  check_mode:
    description: Lists every set with the rule that keeps it or the reason it would go, and removes nothing (no lock taken).
seealso:
  - module: lifeboat.backup.backup_set_info
    description: Lists the sets a prune decides about.
  - module: lifeboat.backup.backup_status
    description: Checks the newest set is fresh after a prune.
  - module: lifeboat.backup.ec2_snapshot_set
    description: Removes one EBS snapshot set (what a prune does for each set it removes).
options:
  policy:
    description:
      - The retention policy (C(lifeboat_retention)) with C(keep_last), C(keep_hourly), C(keep_daily), C(keep_weekly),
        C(keep_monthly), C(keep_yearly) (counts; C(-1) for no limit), C(keep_within) (a duration such as C(36h), C(14d),
        C(1y6m)), C(keep_failed) (days, default 7), C(keep_ids) (set ids always kept), C(per_label) (default true) and
        C(labels) (per label rules that replace the top-level ones).
      - A policy with no keep rule at all is refused, so that a missing variable never prunes a store down to one set.
    type: dict
    required: true
  remove_ids:
    description: Also remove these sets, whatever the policy says (never the newest completed set, a set whose run is alive, or one a kept set needs).
    type: list
    elements: str
    default: []
  lock_ttl:
    description: Seconds after which the prune's store lock counts as stale if the prune dies.
    type: int
    default: 3600
  jobs:
    description:
      - Sets whose external references (EBS snapshot sets, OpenSearch snapshots) are removed at the same time.
      - The store's own deletes are batched (S3 DeleteObjects, 1,000 keys a call).
    type: int
    default: 4
  opensearch:
    description:
      - The OpenSearch clusters the store's sets hold snapshots of, one entry per cluster with the connection options of
        M(lifeboat.backup.opensearch_snapshot) (C(hosts), C(auth_type), C(username), C(password), C(ca_path),
        C(client_cert), C(client_key), C(validate_certs), C(request_timeout), C(aws_region), C(aws_service),
        C(aws_profile), C(aws_access_key), C(aws_secret_key), C(aws_session_token)).
      - A removed set's OpenSearch record names its snapshot and cluster (by uuid); the snapshot is deleted through that
        cluster's API, and only when its uuid is the one recorded. A set whose cluster is not reachable through these
        stays, without its manifest, for a later prune (reported in RV(errors)).
    type: list
    elements: dict
    default: []
    suboptions:
      hosts:
        description: URLs of one or more nodes of the cluster, for example C(https://search1:9200).
        type: list
        elements: str
        required: true
        aliases:
        - urls
      auth_type:
        description: C(basic) sends C(username)/C(password) (HTTP basic auth, as the security plugin expects); C(sigv4) signs
          every request for Amazon OpenSearch Service with AWS Signature Version 4 (needs botocore); C(none) sends no credentials.
        type: str
        default: auto
        choices:
        - auto
        - none
        - basic
        - sigv4
      username:
        description: User for HTTP basic auth.
        type: str
        aliases:
        - login_user
      password:
        description: Password for HTTP basic auth.
        type: str
        aliases:
        - login_password
      ca_path:
        description: PEM file of the CA(s) that signed the nodes' certificates (Chef Automate HA - its root CA).
        type: path
      client_cert:
        description: PEM client certificate for clusters that authenticate clients by certificate (with C(client_key)).
        type: path
      client_key:
        description: PEM private key of C(client_cert).
        type: path
      validate_certs:
        description: Verify the nodes' TLS certificates (against C(ca_path) or the system store) and host names.
        type: bool
        default: true
      request_timeout:
        description: Seconds one REST call may take (waiting for a snapshot or a restore polls with short calls).
        type: int
        default: 60
      aws_region:
        description: With C(auth_type=sigv4), the region of the Amazon OpenSearch Service domain.
        type: str
      aws_service:
        description: With C(auth_type=sigv4), C(es) for a managed domain, C(aoss) for OpenSearch Serverless.
        type: str
        default: es
        choices:
        - es
        - aoss
      aws_profile:
        description: With C(auth_type=sigv4), a named AWS profile; without keys or profile botocore's chain is used.
        type: str
      aws_access_key:
        description: With C(auth_type=sigv4), an access key id.
        type: str
      aws_secret_key:
        description: With C(auth_type=sigv4), the secret access key.
        type: str
      aws_session_token:
        description: With C(auth_type=sigv4), a session token for temporary credentials.
        type: str
'''

EXAMPLES = r'''
- name: Dry run first
  lifeboat.backup.backup_prune:
    policy: {keep_daily: 7, keep_weekly: 4, keep_monthly: 12}
    store: {type: s3, bucket: acme-backups, prefix: prod}
  check_mode: true
  register: plan

- name: Prune
  lifeboat.backup.backup_prune:
    policy: {keep_daily: 7, keep_weekly: 4, keep_monthly: 12, labels: {snapshots: {keep_hourly: 48}}}
    store: {type: s3, bucket: acme-backups, prefix: prod}
'''

RETURN = r'''
sets:
  description: Every set, newest first, with C(id), C(label), C(timestamp), C(status), C(action) (keep or remove),
    C(reasons) (the rules that keep it, or why it goes), C(size), and for removed sets C(outcome) (removed, retained,
    error, would remove), C(retained_until) and C(error).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 20261122T031500Z-nightly, label: nightly, timestamp: '2026-11-22T03:15:00Z', status: completed, action: keep,
       reasons: [daily 1, weekly 1], size: 104857600}
    - {id: 20261101T031500Z-nightly, label: nightly, timestamp: '2026-11-01T03:15:00Z', status: completed, action: remove,
       reasons: [no rule keeps it], size: 104857600, outcome: removed}
keep:
  description: Ids of the sets kept.
  returned: always
  type: list
  elements: str
  sample: [20261122T031500Z-nightly, 20261121T031500Z-nightly]
remove:
  description: Ids of the sets the policy removes.
  returned: always
  type: list
  elements: str
  sample: [20261101T031500Z-nightly]
removed:
  description: Ids of the sets actually removed.
  returned: always
  type: list
  elements: str
  sample: [20261101T031500Z-nightly]
retained:
  description: Sets the store refused to delete yet (S3 Object Lock), with C(retained_until).
  returned: always
  type: list
  elements: dict
  sample: [{id: 20261002T031500Z-nightly, retained_until: '2027-01-01T00:00:00Z'}]
errors:
  description: Sets whose removal failed (they stay, without their manifest, for the next prune), with the error.
  returned: always
  type: list
  elements: dict
  sample: [{id: 20261003T031500Z-nightly, error: 'unreachable: ec2.eu-west-1.amazonaws.com'}]
bytes_freed:
  description: Bytes of the sets removed.
  returned: always
  type: int
  sample: 10737418240
bytes_to_free:
  description: In check mode, bytes that would be freed.
  returned: in check mode
  type: int
  sample: 10737418240
groups:
  description: The rules each label group was decided with.
  returned: always
  type: dict
  sample: {nightly: "keep_daily 7, keep_weekly 4"}
'''

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_ARG
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import prune
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import retention
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic


def argument_spec():
    spec = dict(
        store=STORE_ARG,
        policy=dict(type='dict', required=True),
        remove_ids=dict(type='list', elements='str', default=[]),
        lock_ttl=dict(type='int', default=3600),
        jobs=dict(type='int', default=4),
        opensearch=dict(type='list', elements='dict', default=[], options=copy.deepcopy(os_logic.CONNECTION_SPEC),
                        required_together=os_logic.CONNECTION_TOGETHER),
        **aws_client.AWS_SPEC
    )
    spec.update(progress.OPTION_SPEC)
    return spec


def build_module():
    return AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)


# Objects outside the store that a set's records point to, by component and artifact_kind: a function record ->
# facts that deletes them (idempotently): the EBS snapshot sets and the OpenSearch snapshots.
def external_hooks(params, check_mode):
    hooks = prune.ebs_hooks(ec2_client.factory(params), check_mode=check_mode)
    hooks.update(prune.opensearch_hooks(params['opensearch'], check_mode=check_mode))
    return hooks


def run(store, params, check_mode):
    policy = retention.parse_policy(params['policy'])
    if not any(retention.has_rules(rules) for rules in [policy['rules']] + list(policy['labels'].values())):
        raise ConfigError('the retention policy has no keep rule (keep_last, keep_daily, ... or keep_within): refusing to '
                          'prune, a missing lifeboat_retention must not remove every set but the newest')
    return prune.run(store, params['policy'], remove_ids=params['remove_ids'],
                     external=external_hooks(params, check_mode),
                     lock_hooks=prune.lock_hooks(store, ttl=params['lock_ttl']), check_mode=check_mode,
                     reporter=progress.active(), jobs=max(1, params['jobs']))


def main():
    module = build_module()
    _module.execute_in_store(module, run, progress_label='prune')


if __name__ == '__main__':
    main()
