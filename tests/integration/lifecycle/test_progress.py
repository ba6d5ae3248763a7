# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long work shows progress in the play output: the module runs as usual while the action plugin's watcher thread
prints the progress file it writes (intervals shortened for the test), and the result is the module's own.

The work is made slow by a loopback link of a few MiB/s between the S3 store (moto) and the modules."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import sys
import select
import subprocess
import time

import pytest

from lifecyclelib import extra, fs_params, inventory, s3_params
from storelib import TcpProxy, bucket_name

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'postgresql'))
import pgserver  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

LINE = re.compile(r'^localhost: verify full \(set \d{8}T\d{6}Z\): [0-9.]+ [KMG]?i?B read, .* elapsed', re.M)


def big_set(store, workdir, megabytes=2):
    source = os.path.join(workdir, 'big')
    subprocess.run(['dd', 'if=/dev/urandom', 'of=' + source, 'bs=1M', 'count=%d' % megabytes, 'status=none'], check=True)
    with open_store(store) as handle:
        set_id = lifecycle.start(handle)['set_id']
        with open(source, 'rb') as data:
            artifacts.write_artifact(handle, set_id, 'web1', 'upload', 'big', 'upload', 'raw', '.bin', 'upload:big',
                                     check_source=lambda res: {}, source_file=data, compression='zstd', level=1)
        lifecycle.commit(handle, set_id, hosts=['web1'])
    os.unlink(source)
    return set_id


class SlowProxy(TcpProxy):
    """A loopback forwarder that hands the server's bytes on at about ``rate`` bytes/s per connection: a slow link."""

    rate = 8 * 1024 * 1024
    both_ways = False  # True: uploads are slow too

    def _pump(self, c, s):
        try:
            while not self.killed.is_set():
                ready, _w, _x = select.select([c, s], [], [], 0.2)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (s if src is c else c).sendall(data)
                    if src is s or self.both_ways:
                        time.sleep(len(data) / float(self.rate))
        except OSError:
            return
        finally:
            for sock in (c, s):
                try:
                    sock.close()
                except OSError:
                    pass


def test_verify_full_prints_progress_while_it_runs(workdir, playbook, moto):
    """A 48 MiB artifact read from S3 over a link of ~8 MiB/s per connection takes a few seconds."""
    name = bucket_name('progress')
    moto.client('s3').create_bucket(Bucket=name)
    big_set(s3_params(moto, name), workdir, megabytes=48)
    proxy = SlowProxy(moto.port)
    store = s3_params(moto, name, endpoint_url='http://127.0.0.1:%d' % proxy.port, concurrency=1)
    variables = {'lifeboat_store': store, 'lifeboat_verify_level': 'full', 'lifeboat_progress_after': 0,
                 'lifeboat_progress_interval': 1}
    try:
        res = playbook('verify.yml', inventory=inventory(workdir),
                       args=['-e', extra(os.path.join(workdir, 'v.json'), variables)])
    finally:
        proxy.stop()
    assert res.rc == 0, res
    assert len(LINE.findall(res.stdout)) >= 2, res.stdout[-3000:]
    assert 'passed (full, 1 artifact' in res.stdout          # the module's own result came back through async


def test_short_work_and_progress_off_print_nothing(workdir, playbook):
    store = fs_params(os.path.join(workdir, 'store'))
    big_set(store, workdir, megabytes=2)
    for variables in ({'lifeboat_progress_interval': 0}, {}):
        variables.update({'lifeboat_store': store, 'lifeboat_verify_level': 'full'})
        res = playbook('verify.yml', inventory=inventory(workdir), args=['-e', extra(os.path.join(workdir, 'v.json'), variables)])
        assert res.rc == 0, res
        assert not LINE.search(res.stdout)


def progress_lines(text, what):
    """The progress lines of ``what`` (e.g. 'files backup (files/data)') in a play's output."""
    return re.findall(r'^localhost: %s: [0-9.]+ [KMG]?i?B read, .* elapsed.*$' % re.escape(what), text, re.M)


@pytest.fixture
def pg(workdir):
    # ~25 MB of dump that zstd halves at best: a few seconds through the slow link
    yield from pgserver.serve('progress-src', 'shop', "CREATE TABLE orders AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS ref "
                              "FROM generate_series(1, 300000) g")


def test_backup_and_restore_print_progress_while_they_run(workdir, playbook, moto, pg):
    """files backup, postgresql backup and files restore through a ~4 MiB/s link: progress lines with the
    artifact's label while each runs; check mode prints none."""
    name = bucket_name('progress-rw')
    moto.client('s3').create_bucket(Bucket=name)
    data = os.path.join(workdir, 'data')
    os.mkdir(data)
    for index in range(3):
        with open(os.path.join(data, 'random-%d' % index), 'wb') as handle:
            handle.write(os.urandom(8 << 20))  # incompressible: 24 MiB stored
    progress_dir = os.path.join(workdir, 'progress')
    os.mkdir(progress_dir)
    proxy = SlowProxy(moto.port)
    proxy.rate = 4 * 1024 * 1024
    proxy.both_ways = True
    store = s3_params(moto, name, endpoint_url='http://127.0.0.1:%d' % proxy.port, concurrency=1)
    variables = {'lifeboat_store': store, 'lifeboat_files': [{'name': 'data', 'paths': [data]}],
                 'lifeboat_postgresql': dict(pg.conn_params(), databases=['shop']),
                 'lifeboat_progress_after': 0, 'lifeboat_progress_interval': 1, 'lifeboat_progress_dir': progress_dir}
    try:
        checked = playbook('backup.yml', inventory=inventory(workdir), check=True,
                           args=['-e', extra(os.path.join(workdir, 'c.json'), variables)])
        backed = playbook('backup.yml', inventory=inventory(workdir),
                          args=['-e', extra(os.path.join(workdir, 'b.json'), variables)])
        dest = os.path.join(workdir, 'dest')
        restore_vars = dict(variables, lifeboat_restore_dest=dest, lifeboat_restore_components=['files'])
        restored = playbook('restore.yml', inventory=inventory(workdir),
                            args=['-e', extra(os.path.join(workdir, 'r.json'), restore_vars)])
    finally:
        proxy.stop()
    assert checked.rc == 0, checked
    assert ' elapsed' not in checked.stdout and 'still working' not in checked.stdout
    assert backed.rc == 0, backed
    files_lines = progress_lines(backed.stdout, 'files backup (files/data)')
    assert files_lines, backed.stdout[-3000:]
    assert any('stored' in line for line in files_lines)
    assert progress_lines(backed.stdout, 'postgresql backup (postgresql/shop)'), backed.stdout[-3000:]
    assert restored.rc == 0, restored
    read_lines = progress_lines(restored.stdout, 'files restore (files/data)')
    assert read_lines, restored.stdout[-3000:]
    assert any('%)' in line and 'estimated' not in line for line in read_lines)  # the record's size: an exact ETA
    assert sorted(os.listdir(os.path.join(dest, data.lstrip('/')))) == ['random-0', 'random-1', 'random-2']
    assert os.listdir(progress_dir) == []  # every module removed its progress file
