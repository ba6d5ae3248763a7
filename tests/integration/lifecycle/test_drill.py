# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/drill.yml on a files + PostgreSQL set made by playbooks/backup.yml from a real PostgreSQL 15 server:
the drill restores into scratch (its own scratch server), proves it, cleans up and records the result."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import hashlib
import json
import os
import subprocess
import sys

import pytest

from lifecyclelib import extra, fs_params, inventory, metric, parse_metrics

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'postgresql'))
import pgserver  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format  # noqa: E402


@pytest.fixture
def pg(workdir):
    yield from pgserver.serve('drill-src', 'shop', "CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS ref FROM generate_series(1, 20000) g;"
                              "CREATE SCHEMA stock; CREATE TABLE stock.\"Items\" (id int primary key, name text);"
                              "INSERT INTO stock.\"Items\" SELECT g, 'item ' || g FROM generate_series(1, 321) g;"
                              "CREATE TABLE empty_one (x int)")


@pytest.fixture
def backed_up(workdir, playbook, pg):
    src = os.path.join(workdir, 'app')
    os.makedirs(os.path.join(src, 'conf'))
    with open(os.path.join(src, 'conf', 'app.ini'), 'w') as handle:
        handle.write('[main]\n')
    with open(os.path.join(src, 'blob.bin'), 'wb') as handle:
        handle.write(os.urandom(200000))
    os.symlink('conf/app.ini', os.path.join(src, 'current.ini'))
    textfile = os.path.join(workdir, 'textfile')
    os.mkdir(textfile)
    store = fs_params(os.path.join(workdir, 'store'))
    variables = {'lifeboat_store': store, 'lifeboat_files': [{'name': 'app', 'paths': [src]}],
                 'lifeboat_postgresql': dict(pg.conn_params(), databases=['shop']),
                 'lifeboat_metrics_file': os.path.join(textfile, 'lifeboat.prom'),
                 'lifeboat_drill_dir': workdir}
    res = playbook('backup.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 'b.json'), variables)])
    assert res.rc == 0, res
    root = os.path.join(store['path'], 'backups')
    set_id = [name for name in os.listdir(root) if set_format.is_set_id(name)][0]
    return {'store': store, 'vars': variables, 'set_id': set_id, 'root': root, 'metrics': variables['lifeboat_metrics_file']}


def drill(playbook, workdir, backed, **more):
    variables = dict(backed['vars'], **more)
    return playbook('drill.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 'd.json'), variables)])


def test_a_drill_of_files_and_postgresql_passes_and_cleans_up(workdir, playbook, backed_up):
    res = drill(playbook, workdir, backed_up)
    assert res.rc == 0, res.stdout[-6000:]
    assert 'Drill of set %s on localhost: PASSED' % backed_up['set_id'] in res.stdout
    assert 'localhost files/app: 5 of 5 members match' in res.stdout
    assert 'localhost postgresql/shop: 3 tables, 20321 rows counted and equal' in res.stdout
    assert glob.glob(os.path.join(workdir, 'lifeboat-drill-*')) == []      # scratch removed
    assert glob.glob(os.path.join(workdir, 'lifeboat-scratch-pg-*')) == []  # scratch server stopped and removed
    checks = glob.glob(os.path.join(backed_up['root'], 'checks', backed_up['set_id'], '*-drill-passed.json'))
    assert len(checks) == 1
    with open(checks[0]) as handle:
        doc = json.load(handle)
    assert doc['passed'] and doc['totals']['databases'] == 1 and doc['totals']['files_members'] == 5
    assert doc['totals']['postgresql_server'].startswith('postgres (PostgreSQL) ')
    samples = parse_metrics(backed_up['metrics'])
    labels = {'store': 'filesystem:%s' % backed_up['root'], 'set_label': ''}
    assert metric(samples, 'lifeboat_drill_last_run_success', **labels) == 1
    assert metric(samples, 'lifeboat_drill_mismatches', **labels) == 0


def test_a_drill_whose_restore_is_refused_is_recorded_failed_and_cleans_up(workdir, playbook, backed_up):
    manifest = os.path.join(backed_up['root'], backed_up['set_id'], set_format.MANIFEST_KEY)
    with open(manifest) as handle:
        doc = json.load(handle)
    dump = [record for record in doc['artifacts'] if record['name'] == 'shop'][0]
    with open(os.path.join(backed_up['root'], dump['key']), 'r+b') as handle:
        handle.seek(100)
        handle.write(b'\0\0\0\0')  # damaged in the store: the restore refuses it (checksum), before the comparison
    res = drill(playbook, workdir, backed_up)
    assert res.rc != 0 and 'FAILED' in res.stdout
    assert glob.glob(os.path.join(workdir, 'lifeboat-drill-*')) == []
    assert glob.glob(os.path.join(backed_up['root'], 'checks', backed_up['set_id'], '*-drill-failed.json'))


def test_the_backup_counted_every_table_in_the_dumps_own_snapshot(backed_up):
    with open(os.path.join(backed_up['root'], backed_up['set_id'], set_format.MANIFEST_KEY)) as handle:
        manifest = json.load(handle)
    dump = [record for record in manifest['artifacts'] if record['name'] == 'shop'][0]
    assert dump['extra']['row_counts'] == {'"public"."empty_one"': 0, '"public"."orders"': 20000, '"stock"."Items"': 321}
    assert dump['extra']['row_counts_snapshot'] is True


def _replace_dump(backed, pg, workdir, sql):
    """Restore the set's dump of ``shop`` elsewhere, change it with ``sql``, dump it again, and put it in the store
    in place of the original with the record and the manifest fixed up to match (checksums, sizes): a consistent
    store that lies about its data. Only the row counts recorded at backup time can tell."""
    set_dir = os.path.join(backed['root'], backed['set_id'])
    with open(os.path.join(set_dir, set_format.MANIFEST_KEY)) as handle:
        manifest = json.load(handle)
    record = [item for item in manifest['artifacts'] if item['name'] == 'shop'][0]
    path = os.path.join(backed['root'], record['key'])
    pg.psql('CREATE DATABASE tampered')
    bin_dir = str(pgserver.PG_BIN)
    restore = 'zstd -dc %s | %s/pg_restore --no-owner -d tampered' % (path, bin_dir)
    subprocess.run(restore, shell=True, env=pg.env(), check=True)
    pg.psql(sql, 'tampered')
    dumped = os.path.join(workdir, 'tampered.dump.zst')
    subprocess.run('%s/pg_dump -Fc -Z0 -d tampered | zstd -q -c > %s' % (bin_dir, dumped), shell=True, env=pg.env(), check=True)
    with open(dumped, 'rb') as handle:
        data = handle.read()
    os.chmod(path, 0o600)
    with open(path, 'wb') as handle:
        handle.write(data)
    record.update({'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()})
    manifest['size'] = sum(item['size'] for item in manifest['artifacts'])
    with open(os.path.join(backed['root'], record['key'] + set_format.RECORD_SUFFIX), 'wb') as handle:
        handle.write(set_format.dumps(record))
    with open(os.path.join(set_dir, set_format.MANIFEST_KEY), 'wb') as handle:
        handle.write(set_format.dumps(manifest))


def test_a_drill_fails_when_a_table_lost_rows_after_the_count(workdir, playbook, backed_up, pg):
    _replace_dump(backed_up, pg, workdir, 'DELETE FROM orders WHERE id % 100 = 0')
    verified = playbook('verify.yml', inventory=inventory(workdir),
                        args=['-e', extra(os.path.join(workdir, 'v.json'), dict(backed_up['vars'], lifeboat_verify_level='full'))])
    assert verified.rc == 0, verified  # checksums and decoding are fine: only the drill can see it
    res = drill(playbook, workdir, backed_up)
    assert res.rc != 0, res
    assert 'table "public"."orders" has 19800 rows, the backup counted 20000' in res.stdout
    assert glob.glob(os.path.join(workdir, 'lifeboat-drill-*')) == []
    assert glob.glob(os.path.join(workdir, 'lifeboat-scratch-pg-*')) == []
    failed = glob.glob(os.path.join(backed_up['root'], 'checks', backed_up['set_id'], '*-drill-failed.json'))
    assert len(failed) == 1
    samples = parse_metrics(backed_up['metrics'])
    labels = {'store': 'filesystem:%s' % backed_up['root'], 'set_label': ''}
    assert metric(samples, 'lifeboat_drill_last_run_success', **labels) == 0
    assert metric(samples, 'lifeboat_drill_mismatches', **labels) == 1


def test_a_drill_fails_when_a_table_is_missing(workdir, playbook, backed_up, pg):
    _replace_dump(backed_up, pg, workdir, 'DROP TABLE stock."Items"')
    res = drill(playbook, workdir, backed_up, lifeboat_drill_components=['postgresql'])
    assert res.rc != 0 and 'table "stock"."Items" is missing (the backup counted 321 rows)' in res.stdout, res
