# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long work shows progress in the play output: the action plugin runs the module asynchronously and prints the
progress file it writes (intervals shortened for the test), and the result is the module's own."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import select
import subprocess
import time

from lifecyclelib import extra, fs_params, inventory, s3_params
from storelib import TcpProxy, bucket_name

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

    def _pump(self, c, s):
        try:
            while not self.killed.is_set():
                ready, _w, _x = select.select([c, s], [], [], 0.2)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (s if src is c else c).sendall(data)
                    if src is s:
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
