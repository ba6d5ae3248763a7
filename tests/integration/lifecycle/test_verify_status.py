# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/verify.yml on a set made by playbooks/backup.yml (full catches a flipped byte, a truncated artifact and a
missing record), playbooks/status.yml against the RPO, and the metrics both write, parsed back with prometheus_client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os

import pytest

from lifecyclelib import at, extra, fs_params, inventory, metric, parse_metrics, write_set

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format


@pytest.fixture
def backed_up(workdir, playbook):
    """A real set of a small tree made by the backup playbook, and the variables that reach it."""
    src = os.path.join(workdir, 'app')
    os.makedirs(os.path.join(src, 'conf'))
    with open(os.path.join(src, 'conf', 'app.ini'), 'w') as handle:
        handle.write('[main]\nport = 8080\n')
    with open(os.path.join(src, 'data.bin'), 'wb') as handle:
        handle.write(os.urandom(3 * 1024 * 1024))
    textfile = os.path.join(workdir, 'textfile')
    os.mkdir(textfile)
    store = fs_params(os.path.join(workdir, 'store'))
    variables = {'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
                 'lifeboat_metrics_file': os.path.join(textfile, 'lifeboat.prom')}
    res = playbook('backup.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 'b.json'), variables)])
    assert res.rc == 0, res
    root = os.path.join(store['path'], 'backups')
    set_id = [name for name in os.listdir(root) if set_format.is_set_id(name)][0]
    return {'store': store, 'vars': variables, 'set_id': set_id, 'root': os.path.join(root, set_id),
            'metrics': variables['lifeboat_metrics_file']}


def _artifact(backed):
    with open(os.path.join(backed['root'], set_format.MANIFEST_KEY)) as handle:
        record = json.load(handle)['artifacts'][0]
    return os.path.join(os.path.dirname(backed['root']), record['key']), record


def verify(playbook, workdir, backed, level, **more):
    variables = dict(backed['vars'], lifeboat_verify_level=level, **more)
    return playbook('verify.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 'v.json'), variables)])


def test_verify_quick_and_full_pass_and_are_recorded(workdir, playbook, backed_up):
    for level in ('quick', 'full'):
        res = verify(playbook, workdir, backed_up, level)
        assert res.rc == 0, res
        assert '%s: passed (%s, 1 artifact' % (backed_up['set_id'], level) in res.stdout
    checks = os.listdir(os.path.join(os.path.dirname(backed_up['root']), 'checks', backed_up['set_id']))
    assert sorted(name.split('-', 1)[1] for name in checks) == ['verify-full-passed.json', 'verify-quick-passed.json']
    samples = parse_metrics(backed_up['metrics'])
    labels = {'store': 'filesystem:%s/backups' % backed_up['store']['path'], 'set_label': ''}
    assert metric(samples, 'lifeboat_verify_last_run_success', level='full', **labels) == 1
    assert metric(samples, 'lifeboat_verify_bytes_read', level='full', **labels) > 3 * 1024 * 1024 * 0.9
    assert metric(samples, 'lifeboat_verify_throughput_bytes_per_second', level='full', **labels) > 0
    # the backup run that made the set wrote its own series into the same file
    assert metric(samples, 'lifeboat_backup_last_run_success', **labels) == 1
    assert metric(samples, 'lifeboat_backup_last_success_timestamp_seconds', **labels) > 0
    assert metric(samples, 'lifeboat_backup_last_run_duration_seconds', **labels) >= 0
    assert metric(samples, 'lifeboat_backup_last_size_bytes', **labels) > 3 * 1024 * 1024 * 0.9
    assert metric(samples, 'lifeboat_backup_artifact_size_bytes', host='localhost', component='files', name='app', **labels) > 0


def test_verify_full_catches_a_flipped_byte(workdir, playbook, backed_up):
    path, record = _artifact(backed_up)
    with open(path, 'r+b') as handle:
        handle.seek(record['size'] - 4096)
        byte = handle.read(1)
        handle.seek(record['size'] - 4096)
        handle.write(bytes([byte[0] ^ 0x80]))
    assert verify(playbook, workdir, backed_up, 'quick').rc == 0  # the size is right: quick cannot see it
    res = verify(playbook, workdir, backed_up, 'full')
    assert res.rc != 0 and 'FAILED' in res.stdout and 'failed verification' in res.stdout
    assert record['key'] in res.stdout
    samples = parse_metrics(backed_up['metrics'])
    labels = {'store': 'filesystem:%s/backups' % backed_up['store']['path'], 'set_label': ''}
    assert metric(samples, 'lifeboat_verify_last_run_success', level='full', **labels) == 0
    assert metric(samples, 'lifeboat_verify_sets_failed', level='full', **labels) == 1


def test_verify_catches_a_truncated_artifact(workdir, playbook, backed_up):
    path, record = _artifact(backed_up)
    with open(path, 'r+b') as handle:
        handle.truncate(record['size'] // 3)
    for level in ('quick', 'full'):
        res = verify(playbook, workdir, backed_up, level)
        assert res.rc != 0, res
        assert '%s has %d bytes, its record says %d' % (record['key'], record['size'] // 3, record['size']) in res.stdout


def test_verify_catches_a_missing_record(workdir, playbook, backed_up):
    path, record = _artifact(backed_up)
    os.unlink(path + set_format.RECORD_SUFFIX)
    for level in ('quick', 'full'):
        res = verify(playbook, workdir, backed_up, level)
        assert res.rc != 0, res
        assert '%s%s is missing (the record of %s)' % (record['key'], set_format.RECORD_SUFFIX, record['key']) in res.stdout


def status(playbook, workdir, store, **more):
    variables = dict({'lifeboat_store': store}, **more)
    return playbook('status.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 's.json'), variables)])


def test_status_fails_when_the_newest_set_is_older_than_the_rpo(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    now = set_format.utcnow()
    write_set(store, now - datetime.timedelta(days=3), label='nightly')
    write_set(store, now - datetime.timedelta(hours=30), label='nightly')
    write_set(store, now - datetime.timedelta(hours=2), status='failed', label='nightly')
    write_set(store, now - datetime.timedelta(hours=1), label='snapshots')
    textfile = os.path.join(workdir, 'textfile')
    os.mkdir(textfile)
    metrics_file = os.path.join(textfile, 'lifeboat.prom')
    res = status(playbook, workdir, store, lifeboat_rpo='26h', lifeboat_metrics_file=metrics_file)
    assert res.rc != 0, res
    assert 'is older than the RPO of 26h' in res.stdout and 'label nightly' in res.stdout
    assert 'nightly: newest' in res.stdout and 'MISSED' in res.stdout
    samples = parse_metrics(metrics_file)
    base = {'store': 'filesystem:%s/backups' % store['path']}
    assert metric(samples, 'lifeboat_rpo_met', set_label='nightly', **base) == 0
    assert metric(samples, 'lifeboat_rpo_met', set_label='snapshots', **base) == 1
    assert metric(samples, 'lifeboat_rpo_seconds', set_label='nightly', **base) == 26 * 3600
    assert metric(samples, 'lifeboat_sets', set_label='nightly', status='failed', **base) == 1
    assert metric(samples, 'lifeboat_sets', set_label='nightly', status='completed', **base) == 2
    ok = status(playbook, workdir, store, lifeboat_rpo='36h')
    assert ok.rc == 0, ok
    only = status(playbook, workdir, store, lifeboat_rpo='26h', lifeboat_status_labels=['snapshots'])
    assert only.rc == 0, only


def test_status_of_an_empty_store_fails(workdir, playbook):
    res = status(playbook, workdir, fs_params(os.path.join(workdir, 'store')))
    assert res.rc != 0 and 'there is no completed set' in res.stdout


def test_status_can_require_a_recent_verification(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    write_set(store, set_format.utcnow() - datetime.timedelta(hours=1))
    res = status(playbook, workdir, store, lifeboat_status_verify_max_age='7d')
    assert res.rc != 0 and 'ever passed a verification' in res.stdout
    variables = extra(os.path.join(workdir, 'v.json'), {'lifeboat_store': store})
    verified = playbook('verify.yml', inventory=inventory(workdir), args=['-e', variables])
    assert verified.rc == 0, verified
    again = status(playbook, workdir, store, lifeboat_status_verify_max_age='7d')
    assert again.rc == 0, again
    assert 'last verify: quick passed' in again.stdout


def test_old_backdated_sets_are_never_fresh(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    write_set(store, at(2025, 1, 1, 3))
    assert status(playbook, workdir, store, lifeboat_rpo='1y').rc != 0
