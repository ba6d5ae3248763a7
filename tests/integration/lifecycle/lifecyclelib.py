# -*- coding: utf-8 -*-
"""Backdated sets written through the collection's own set code (start, write_artifact, commit/fail), so a
store holds 18 months of history in a second; playbook and module runners; metrics parsed back."""
import datetime
import json
import os
import subprocess
import sys

from storelib import fs_params, run_module as _run_module, s3_params  # noqa: F401  pylint: disable=unused-import

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import heartbeat
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

UTC = datetime.timezone.utc


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def write_set(store_params, when, status='completed', label=None, payload=b'lifeboat ' * 512, hosts=('web1',)):
    """One set started at ``when``: completed, failed, or interrupted (left in progress, its lock gone)."""
    store = open_store(store_params)
    try:
        set_id = lifecycle.start(store, label=label, now=when, lock_ttl=600)['set_id']
        for host in hosts:
            rfd, wfd = os.pipe()
            os.write(wfd, payload)
            os.close(wfd)
            with os.fdopen(rfd, 'rb') as source:
                artifacts.write_artifact(store, set_id, host, 'files', 'app', 'files', 'raw', '.bin', 'test:%s' % host,
                                         check_source=lambda res: {}, source_file=source, compression='none')
        if status == 'completed':
            lifecycle.commit(store, set_id, hosts=list(hosts), now=when + datetime.timedelta(minutes=3))
        elif status == 'failed':
            lifecycle.fail(store, set_id, 'web2 was unreachable', now=when + datetime.timedelta(minutes=3))
        else:
            store.delete('lock.json')  # the run died: its set stays in progress with no lock
            # ... and its heartbeat died with it: writing the artifact started this process's heartbeat thread,
            # which would otherwise keep renewing it, recreating the set's directory after a prune removed it
            beating = heartbeat._ACTIVE.pop((store.describe(), set_id), None)
            if beating is not None:
                beating.finished = True
                beating._stop.set()
                beating._thread.join()
        return set_id
    finally:
        store.close()


def set_ids_in(store_params):
    store = open_store(store_params)
    try:
        return [item['id'] for item in lifecycle.list_sets(store)]
    finally:
        store.close()


def parse_metrics(path):
    from prometheus_client.parser import text_string_to_metric_families
    with open(path) as handle:
        text = handle.read()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def metric(samples, series, **labels):
    return samples[(series, tuple(sorted(labels.items())))]


def inventory(workdir):
    path = os.path.join(workdir, 'inventory.ini')
    with open(path, 'w') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    return path


def _no_nulls(value):
    """What a user would write: options left out rather than set to null."""
    if isinstance(value, dict):
        return {key: _no_nulls(item) for key, item in value.items() if item is not None}
    return value


def run_module(name, args, **kw):
    """Run a module of the collection as its own process, with the arguments a user would write (no nulls)."""
    return _run_module(name, _no_nulls(args), **kw)


def extra(path, data):
    with open(path, 'w') as handle:
        json.dump(_no_nulls(data), handle)
    return '@' + path


def ids_of(result, key):
    return sorted(result.get(key) or [])


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, **kw)
