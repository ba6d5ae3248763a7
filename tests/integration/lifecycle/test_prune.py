# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pruning through playbooks/prune.yml and the backup_prune module: a GFS policy over 18 months of sets checked
exactly, S3 (moto) with Object Lock on some sets, prunes interrupted midway and rerun, refusals."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import concurrent.futures
import datetime
import os
import subprocess

import pytest

from lifecyclelib import at, extra, fs_params, inventory, metric, parse_metrics, run_module, s3_params, set_ids_in, write_set
from storelib import TcpProxy, bucket_name

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import prune
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

# 40 sets, one every 14 days from Sunday 2025-01-05 to Sunday 2026-07-05 (18 months); three of them failed
FIRST = at(2025, 1, 5, 3, 15)
CALENDAR = [FIRST + datetime.timedelta(days=14 * k) for k in range(40)]
FAILED = {12: 'failed', 30: 'interrupted', 36: 'failed'}
GFS = {'keep_last': 2, 'keep_weekly': 4, 'keep_monthly': 6, 'keep_yearly': 3, 'keep_failed': 30}
# worked out by hand (docs/retention.md's rules), not by the code under test:
#   keep_last 2   -> #39 2026-07-05, #38 2026-06-21
#   keep_weekly 4 -> #39 (W27), #38 (W25), #37 2026-06-07 (W23), #35 2026-05-10 (W19; #36 failed)
#   keep_monthly 6 -> #39 (07), #38 (06), #35 (05), #34 2026-04-26 (04), #32 2026-03-29 (03), #29 2026-02-15 (02)
#   keep_yearly 3 -> #39 (2026), #25 2025-12-21 (2025), then one count left: the oldest set #0 2025-01-05
#   failed #12, #30 (interrupted), #36: older than keep_failed 30 days -> removed
SURVIVORS = [0, 25, 29, 32, 34, 35, 37, 38, 39]


def sid(index):
    return set_format.make_set_id(CALENDAR[index])


def write_calendar(store):
    for index, when in enumerate(CALENDAR):
        write_set(store, when, status=FAILED.get(index, 'completed'))


def test_gfs_prune_of_40_sets_over_18_months(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    write_calendar(store)
    assert len(set_ids_in(store)) == 40
    textfile = os.path.join(workdir, 'textfile')
    os.mkdir(textfile)
    variables = extra(os.path.join(workdir, 'vars.json'), {
        'lifeboat_store': store, 'lifeboat_retention': GFS,
        'lifeboat_metrics_file': os.path.join(textfile, 'lifeboat.prom')})
    dry = playbook('prune.yml', inventory=inventory(workdir), check=True, args=['-e', variables])
    assert dry.rc == 0, dry
    assert 'Dry run (check mode): nothing removed' in dry.stdout and '9 kept, 31 to remove' in dry.stdout
    assert '%s  completed  keep: keep_yearly 2025 (oldest set, 1 left)' % sid(0) in dry.stdout
    assert '%s  failed  WOULD REMOVE: failed, older than keep_failed 30 days' % sid(30) in dry.stdout
    assert len(set_ids_in(store)) == 40
    assert not os.path.exists(os.path.join(textfile, 'lifeboat.prom'))  # the dry run writes no metrics
    real = playbook('prune.yml', inventory=inventory(workdir), args=['-e', variables])
    assert real.rc == 0, real
    assert sorted(set_ids_in(store)) == [sid(index) for index in SURVIVORS]
    # nothing of a removed set is left in the filesystem store, not even an empty directory
    top = os.path.join(store['path'], store['prefix'])
    assert sorted(name for name in os.listdir(top) if set_format.is_set_id(name)) == [sid(index) for index in SURVIVORS]
    checked = os.path.join(top, 'checks')
    assert not os.path.isdir(checked) or set(os.listdir(checked)) <= {sid(index) for index in SURVIVORS}
    samples = parse_metrics(os.path.join(textfile, 'lifeboat.prom'))
    labels = {'store': 'filesystem:%s/backups' % store['path'], 'set_label': ''}
    assert metric(samples, 'lifeboat_prune_sets_removed', **labels) == 31
    assert metric(samples, 'lifeboat_prune_sets_kept', **labels) == 9
    assert metric(samples, 'lifeboat_prune_bytes_freed', **labels) > 31 * 4096
    assert metric(samples, 'lifeboat_prune_last_run_success', **labels) == 1
    again = playbook('prune.yml', inventory=inventory(workdir), args=['-e', variables])
    assert again.rc == 0 and '9 kept, 0 removed' in again.stdout


def test_prune_refuses_an_empty_policy(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    write_set(store, at(2026, 1, 1, 3))
    variables = extra(os.path.join(workdir, 'v.json'), {'lifeboat_store': store})
    res = playbook('prune.yml', inventory=inventory(workdir), args=['-e', variables])
    assert res.rc != 0 and 'lifeboat_retention is empty' in res.stdout
    module = run_module('backup_prune', {'store': store, 'policy': {'keep_failed': 3}})
    assert module.failed and 'has no keep rule' in module.msg
    assert len(set_ids_in(store)) == 1


def test_prune_waits_for_a_live_backup(workdir):
    store = fs_params(os.path.join(workdir, 'store'))
    old = write_set(store, at(2025, 1, 1, 3))
    write_set(store, at(2025, 2, 1, 3))
    with open_store(store) as handle:
        running = lifecycle.start(handle)['set_id']
    res = run_module('backup_prune', {'store': store, 'policy': {'keep_last': 1}})
    assert res.failed and 'is locked by' in res.msg and 'a backup is running' in res.msg
    assert old in set_ids_in(store) and running in set_ids_in(store)


def test_a_prune_interrupted_midway_is_finished_by_the_next(workdir):
    """An object that cannot be deleted (immutable) stops the removal of one set after its manifest went."""
    store = fs_params(os.path.join(workdir, 'store'))
    ids = [write_set(store, at(2025, 3, day, 3)) for day in (1, 2, 3, 4)]
    stuck = os.path.join(store['path'], 'backups', ids[1], 'web1', 'files', 'app.bin')
    if subprocess.run(['chattr', '+i', stuck], check=False).returncode != 0:
        pytest.skip('chattr +i is not supported on this file system')
    try:
        first = run_module('backup_prune', {'store': store, 'policy': {'keep_last': 1}})
        assert not first.failed, first
        assert first['errors'] and first['errors'][0]['id'] == ids[1]
        assert sorted(first['removed']) == [ids[0], ids[2]]
        listing = {item['id']: item for item in _listing(store)}
        assert listing[ids[1]]['status'] == 'failed'  # no longer completed: never offered for a restore
    finally:
        subprocess.run(['chattr', '-i', stuck], check=False)
    second = run_module('backup_prune', {'store': store, 'policy': {'keep_last': 1, 'keep_failed': 30}})
    assert second['removed'] == [ids[1]]
    assert [item['reasons'] for item in second['sets'] if item['id'] == ids[1]] == [['an earlier prune began removing it']]
    assert set_ids_in(store) == [ids[3]]


def _listing(store):
    with open_store(store) as handle:
        return lifecycle.list_sets(handle)


def test_prune_on_s3_with_object_lock_on_some_sets(workdir, moto):
    s3 = moto.client('s3')
    name = bucket_name('prune')
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    plain = s3_params(moto, name)
    locked = s3_params(moto, name, object_lock_mode='COMPLIANCE', object_lock_days=3)
    ids = [write_set(locked if day in (2, 4) else plain, at(2026, 3, day, 3)) for day in range(1, 7)]
    res = run_module('backup_prune', {'store': plain, 'policy': {'keep_last': 1}})
    assert not res.failed, res
    assert sorted(res['removed']) == [ids[0], ids[2], ids[4]]
    retained = {item['id']: item['retained_until'] for item in res['retained']}
    assert sorted(retained) == [ids[1], ids[3]]
    for until in retained.values():
        until_time = set_format.parse_iso(until)
        assert datetime.timedelta(days=2) < until_time - set_format.utcnow() <= datetime.timedelta(days=3)
    assert sorted(set_ids_in(plain)) == [ids[1], ids[3], ids[5]]
    with open_store(plain) as handle:
        for set_id in (ids[1], ids[3]):  # untouched and still completed
            assert lifecycle.read_manifest_bytes(handle, set_id) is not None
    versions = s3.list_object_versions(Bucket=name, Prefix='backups/%s/' % ids[0])
    assert not versions.get('Versions') and not versions.get('DeleteMarkers')  # every version gone, space freed


def test_s3_deletes_are_batched_a_thousand_keys_a_call(workdir, moto):
    s3 = moto.client('s3')
    name = bucket_name('batch')
    s3.create_bucket(Bucket=name)
    params = s3_params(moto, name)
    doomed = write_set(params, at(2026, 1, 1, 3))
    write_set(params, at(2026, 1, 2, 3))
    keys = ['backups/%s/web1/upload/f%05d.bin' % (doomed, index) for index in range(1100)]  # a set of many objects
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=name, Key=key, Body=b'x'), keys))
    calls = []
    with open_store(params) as store:
        store.client.meta.events.register('provide-client-params.s3.DeleteObjects',
                                          lambda params, **kw: calls.append(len(params['Delete']['Objects'])))
        result = prune.run(store, {'keep_last': 1})
    assert result['removed'] == [doomed]
    assert calls and max(calls) == 1000 and sum(calls) >= 1100
    assert not s3.list_objects_v2(Bucket=name, Prefix='backups/%s/' % doomed).get('Contents')


def test_s3_prune_cut_off_midway_then_rerun(workdir, moto):
    """The endpoint dies in the middle of a prune (a proxy that resets every connection); the rerun finishes."""
    s3 = moto.client('s3')
    name = bucket_name('cut')
    s3.create_bucket(Bucket=name)
    direct = s3_params(moto, name)
    ids = [write_set(direct, at(2026, 2, day, 3)) for day in range(1, 9)]
    measure = TcpProxy(moto.port)
    try:
        through = s3_params(moto, name, endpoint_url='http://127.0.0.1:%d' % measure.port)
        dry = run_module('backup_prune', {'store': through, 'policy': {'keep_last': 1}}, check=True)
        assert dry['remove'] and not dry['removed']
        listing_bytes = measure.forwarded
    finally:
        measure.stop()
    proxy = TcpProxy(moto.port, kill_after=listing_bytes + 4000)  # dies a few deletes into the removal
    try:
        through = s3_params(moto, name, endpoint_url='http://127.0.0.1:%d' % proxy.port)
        cut = run_module('backup_prune', {'store': through, 'policy': {'keep_last': 1}})
    finally:
        proxy.stop()
    assert proxy.killed.is_set() and (cut.failed or cut.get('errors')), cut
    left = set_ids_in(direct)
    with open_store(direct) as handle:
        completed = [item['id'] for item in lifecycle.list_sets(handle) if item['status'] == 'completed']
    assert ids[-1] in completed
    rerun = run_module('backup_prune', {'store': direct, 'policy': {'keep_last': 1, 'keep_failed': 30}})
    assert not rerun.failed, rerun
    assert set_ids_in(direct) == [ids[-1]]
    assert len(left) >= 1
