# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot groups, finding them: the flow behind ec2_snapshot_set_info, and the per-region clients the
other flows share."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic


def clients_for(make_ec2, home, regions, copy_endpoint_url):
    """{region: Ec2} for ``home``'s region and ``regions`` (other regions use ``copy_endpoint_url``)."""
    clients = {home.region: home}
    for region in regions:
        if region not in clients:
            clients[region] = make_ec2(region, copy_endpoint_url)
    return clients


def list_groups(make_ec2, opts, now=None):
    """ec2_snapshot_set_info: groups by set id / host / max age in one or more regions."""
    now = now or set_format.utcnow()
    max_age = snapshot_logic.parse_max_age(opts.get('max_age'))
    home = make_ec2(opts.get('region'))
    regions = list(opts.get('regions') or [])
    if 'all' in regions:
        regions = home.regions()
    if not regions:
        regions = [home.region]
    clients = clients_for(make_ec2, home, regions, opts.get('copy_endpoint_url'))
    found = []
    for region in regions:
        raw = clients[region].snapshots(filters=snapshot_logic.group_filters(opts.get('set_id'), opts.get('host')))
        for group in snapshot_logic.group_snapshots(raw, region):
            if snapshot_logic.within_age(group.get('start_time'), max_age, now):
                found.append(group)
    found.sort(key=lambda x: (x.get('start_time') or '', x['set_id'], x.get('host') or '', x['region']), reverse=True)
    return {'changed': False, 'snapshot_sets': found, 'regions': regions}
