# -*- coding: utf-8 -*-
"""A long files backup prints its progress while it runs (the action plugin's watcher thread beside the
synchronous module), and cancelling that run (SIGINT to ansible-playbook, as Ctrl-C or an AWX cancel) still stops
the module at once: the set ends failed and the next run is not locked out. The module is not left running
detached, as it would be under async_wrapper."""

import os
import re
import signal

import lb_files_helpers as h

LINE = re.compile(r'^localhost: files backup \(files/big\): [0-9.]+ [KMG]?i?B read, .* elapsed', re.M)


def test_a_long_backup_shows_progress_while_it_runs_and_a_cancel_still_stops_it(scratch):
    store = scratch / 'store'
    big = scratch / 'big'
    big.mkdir()
    for index in range(6):  # 48 MiB of random data at zstd level 19 on one thread: many seconds of work
        (big / ('random-%d' % index)).write_bytes(os.urandom(8 << 20))
    progress_dir = scratch / 'progress'
    progress_dir.mkdir()
    log = scratch / 'run.log'
    files = [{'name': 'big', 'paths': [str(big)]}]
    proc = h.start_playbook('backup.yml', log, {
        'lifeboat_store': h.store_spec(store), 'lifeboat_files': files,
        'lifeboat_compression_level': 19, 'lifeboat_compression_threads': 1,
        'lifeboat_progress_after': 0, 'lifeboat_progress_interval': 1, 'lifeboat_progress_dir': str(progress_dir)})

    def progress_shown():
        text = open(str(log)).read()
        if proc.poll() is not None:
            raise AssertionError('the run ended before it showed progress:\n' + text)
        return LINE.search(text)
    try:
        h.wait_for('a progress line while the backup runs', progress_shown, 300)
        tree = h.descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
        h.wait_for('the cancelled run to be gone', lambda: not h.alive(tree), 120)
    except BaseException:
        h.kill_run(proc)
        raise
    assert proc.returncode != 0
    assert os.listdir(str(progress_dir)) == []  # the cancelled module removed its progress file
    assert h.processes_mentioning(str(big).lstrip('/')) == []  # nothing of the run goes on detached

    (cancelled,) = h.set_ids(store)
    r = h.backup(store, [{'name': 'small', 'paths': [str(progress_dir)]}])
    assert r.rc == 0, r  # not locked out
    assert 'Broke a stale lock: stale: its run was cancelled (files_backup (pid ' in r.stdout, r
    sets = {entry['id']: entry for entry in h.lifecycle.list_sets(h.fs_store(store))}
    assert sets[cancelled]['status'] == 'failed' and sets[cancelled]['restorable'] is False
