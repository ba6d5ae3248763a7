# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus textfile metrics: what is written parses with prometheus_client's own text parser."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.lifeboat.backup.plugins.module_utils import _metrics as metrics
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError

STORE = 'filesystem:/srv/backup'
T0 = 1795000000.0


def parsed(text):
    """{(name, labels frozenset): value} through prometheus_client."""
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.type == 'gauge', family.name
        assert family.documentation
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples, metric, **labels):
    return samples[(metric, frozenset(labels.items()))]


def backup_facts(success=True, size=300, ended=T0):
    return {'success': success, 'ended': ended, 'duration': 12.5, 'size': size,
            'artifacts': [{'host': 'web1', 'component': 'files', 'name': 'app', 'size': 100},
                          {'host': 'db1', 'component': 'postgresql', 'name': 'awx', 'size': 200}]}


def test_a_backup_run_writes_a_file_prometheus_parses(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    result = metrics.update_file(path, 'backup', backup_facts(), STORE, 'nightly', now=T0)
    assert result['changed']
    with open(path) as handle:
        text = handle.read()
    assert text.endswith('\n') and text == metrics.render(metrics.parse(text))
    samples = parsed(text)
    labels = {'store': STORE, 'set_label': 'nightly'}
    assert value(samples, 'lifeboat_backup_last_run_success', **labels) == 1
    assert value(samples, 'lifeboat_backup_last_success_timestamp_seconds', **labels) == T0
    assert value(samples, 'lifeboat_backup_last_run_duration_seconds', **labels) == 12.5
    assert value(samples, 'lifeboat_backup_last_size_bytes', **labels) == 300
    assert value(samples, 'lifeboat_backup_last_artifacts', **labels) == 2
    assert value(samples, 'lifeboat_backup_artifact_size_bytes', host='db1', component='postgresql', name='awx', **labels) == 200
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'
    assert os.listdir(str(tmp_path)) == ['lifeboat.prom']  # no temp file left


def test_a_failed_run_keeps_the_last_success_and_the_other_operations(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    metrics.update_file(path, 'backup', backup_facts(), STORE, 'nightly', now=T0)
    metrics.update_file(path, 'prune', {'success': True, 'kept': 12, 'removed': 3, 'retained': 1, 'bytes_freed': 4096},
                        STORE, 'nightly', now=T0 + 10)
    metrics.update_file(path, 'backup', {'success': True, 'size': 7, 'artifacts': []}, STORE, 'hourly', now=T0 + 20)
    metrics.update_file(path, 'backup', backup_facts(success=False, ended=T0 + 86400), STORE, 'nightly', now=T0 + 86400)
    with open(path) as handle:
        samples = parsed(handle.read())
    nightly = {'store': STORE, 'set_label': 'nightly'}
    assert value(samples, 'lifeboat_backup_last_run_success', **nightly) == 0
    assert value(samples, 'lifeboat_backup_last_run_timestamp_seconds', **nightly) == T0 + 86400
    assert value(samples, 'lifeboat_backup_last_success_timestamp_seconds', **nightly) == T0
    assert value(samples, 'lifeboat_backup_last_size_bytes', **nightly) == 300  # the last successful set's
    assert value(samples, 'lifeboat_prune_sets_removed', **nightly) == 3
    assert value(samples, 'lifeboat_prune_bytes_freed', **nightly) == 4096
    assert value(samples, 'lifeboat_backup_last_size_bytes', store=STORE, set_label='hourly') == 7


def test_artifacts_of_an_older_set_disappear_with_the_next_success(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    metrics.update_file(path, 'backup', backup_facts(), STORE, '', now=T0)
    facts = backup_facts()
    facts['artifacts'] = facts['artifacts'][:1]
    metrics.update_file(path, 'backup', facts, STORE, '', now=T0 + 1)
    with open(path) as handle:
        samples = parsed(handle.read())
    sizes = [key for key in samples if key[0] == 'lifeboat_backup_artifact_size_bytes']
    assert len(sizes) == 1 and ('host', 'web1') in sizes[0][1]


def test_verify_levels_drill_and_status_are_separate_series(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    metrics.update_file(path, 'verify', {'success': True, 'level': 'quick', 'checked': 40, 'failed': 0}, STORE, now=T0)
    metrics.update_file(path, 'verify', {'success': False, 'level': 'full', 'checked': 1, 'failed': 1,
                                         'bytes_read': 10 ** 9, 'throughput': 2.5e8}, STORE, now=T0 + 5)
    metrics.update_file(path, 'drill', {'success': True, 'checks': 120, 'mismatches': 0, 'duration': 60}, STORE, now=T0 + 9)
    metrics.update_file(path, 'status', {'newest_completed': T0 - 3600, 'rpo': 93600, 'rpo_met': True,
                                         'sets': {'completed': 40, 'failed': 2}, 'last_verify': T0 + 5}, STORE, now=T0 + 10)
    with open(path) as handle:
        samples = parsed(handle.read())
    assert value(samples, 'lifeboat_verify_last_run_success', store=STORE, set_label='', level='quick') == 1
    assert value(samples, 'lifeboat_verify_last_run_success', store=STORE, set_label='', level='full') == 0
    assert value(samples, 'lifeboat_verify_throughput_bytes_per_second', store=STORE, set_label='', level='full') == 2.5e8
    assert value(samples, 'lifeboat_drill_checks', store=STORE, set_label='') == 120
    assert value(samples, 'lifeboat_rpo_met', store=STORE, set_label='') == 1
    assert value(samples, 'lifeboat_sets', store=STORE, set_label='', status='failed') == 2
    assert value(samples, 'lifeboat_last_drill_timestamp_seconds', store=STORE, set_label='') == 0


def test_label_values_are_escaped_and_read_back():
    hostile = 'a "quoted"\\path\nnext line'
    update, _scope = metrics.samples_for('backup', {'success': True, 'artifacts': [
        {'host': hostile, 'component': 'files', 'name': 'x', 'size': 1}]}, 's3://b/p', 'n')
    text = metrics.render(update)
    samples = parsed(text)
    assert value(samples, 'lifeboat_backup_artifact_size_bytes', store='s3://b/p', set_label='n', host=hostile,
                 component='files', name='x') == 1
    assert metrics.parse(text) == update


def test_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    result = metrics.update_file(path, 'prune', {'success': True, 'removed': 1}, STORE, check_mode=True, now=T0)
    assert 'lifeboat_prune_sets_removed{set_label="",store="filesystem:/srv/backup"} 1' in result['metrics']
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize('path, message', [
    ('relative.prom', 'absolute path'), ('/tmp/lifeboat.txt', 'must end in .prom'),
    ('/nonexistent-dir-lifeboat/x.prom', 'does not exist'),
])
def test_bad_paths_are_refused(path, message):
    with pytest.raises(ConfigError, match=message):
        metrics.update_file(path, 'backup', {}, STORE)


def test_bad_facts_and_operations_are_refused(tmp_path):
    with pytest.raises(ConfigError, match='size must be a number'):
        metrics.update_file(str(tmp_path / 'm.prom'), 'backup', {'success': True, 'size': 'big'}, STORE)
    with pytest.raises(ConfigError, match='operation must be one of'):
        metrics.samples_for('restore', {}, STORE)


def test_foreign_lines_are_dropped_and_a_replaced_file_is_never_partial(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    with open(path, 'w') as handle:
        handle.write('# a comment\nnot a sample line at all {\nother_metric{job="x"} 3\n')
    metrics.update_file(path, 'backup', backup_facts(), STORE, now=T0)
    with open(path) as handle:
        samples = parsed(handle.read())
    assert value(samples, 'other_metric', job='x') == 3


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / 'lifeboat.prom')
    errors = []

    def write(label):
        try:
            for attempt in range(10):
                metrics.update_file(path, 'backup', {'success': True, 'size': attempt, 'artifacts': []}, STORE, label, now=T0)
        except Exception as e:  # pylint: disable=broad-except
            errors.append(e)

    threads = [threading.Thread(target=write, args=('l%d' % n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with open(path) as handle:
        samples = parsed(handle.read())
    assert {value(samples, 'lifeboat_backup_last_size_bytes', store=STORE, set_label='l%d' % n) for n in range(4)} == {9}


@pytest.mark.parametrize('params, label', [
    ({'type': 'filesystem', 'path': '/srv/backup'}, 'filesystem:/srv/backup'),
    ({'type': 's3', 'bucket': 'acme', 'prefix': '/prod/'}, 's3://acme/prod'),
    ({'type': 'sftp', 'host': 'bk.example', 'path': '/srv/lb'}, 'sftp://bk.example/srv/lb'),
])
def test_store_label(params, label):
    assert metrics.store_label(params) == label


def test_facts_as_templating_hands_them_over():
    update, _scope = metrics.samples_for('status', {'rpo_met': 'False', 'rpo': '93600', 'newest_completed': 'None',
                                                    'last_verify': None, 'sets': {'completed': '3'}}, STORE)
    samples = parsed(metrics.render(update))
    assert value(samples, 'lifeboat_rpo_met', store=STORE, set_label='') == 0
    assert value(samples, 'lifeboat_newest_completed_timestamp_seconds', store=STORE, set_label='') == 0
    assert value(samples, 'lifeboat_sets', store=STORE, set_label='', status='completed') == 3
    run, _scope = metrics.samples_for('drill', {'success': 'True', 'duration': 'None', 'ended': '1795000000'}, STORE)
    samples = parsed(metrics.render(run))
    assert value(samples, 'lifeboat_drill_last_run_success', store=STORE, set_label='') == 1
    assert value(samples, 'lifeboat_drill_last_success_timestamp_seconds', store=STORE, set_label='') == 1795000000
    assert not any(key[0].endswith('duration_seconds') for key in samples)
