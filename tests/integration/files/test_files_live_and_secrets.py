# -*- coding: utf-8 -*-
"""A file that changes while it is read is reported, not fatal; no_log secrets never reach the output."""
import os
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore

from lb_files_helpers import run_playbook  # tests/integration/files/conftest.py puts this dir on sys.path


def test_file_changing_during_the_read_is_reported_not_fatal(scratch):
    src = scratch / 'src'
    src.mkdir()
    (src / 'steady.txt').write_text('steady\n')
    growing = src / 'growing.log'
    with open(growing, 'wb') as f:
        f.write(os.urandom(48 << 20))  # long enough to read that the mtime (coarse clock) moves meanwhile
    stop = threading.Event()

    def append():
        # bounded: at most 16 MiB more (about 2 s of appending), and only while the backup runs
        n = 0
        with open(growing, 'ab') as f:
            while not stop.is_set() and n < (16 << 20):
                f.write(b'x' * 4096)
                f.flush()
                n += 4096
                time.sleep(0.0005)

    store = FilesystemStore({'type': 'filesystem', 'path': str(scratch / 'store')})
    started = lifecycle.start(store)
    t = threading.Thread(target=append)
    t.start()
    try:
        res = files_backup.backup(store, started['set_id'], 'h1', 'live', [str(src)], compression='zstd')
    finally:
        stop.set()
        t.join()
    assert res['changed_files'] == [str(growing)], res
    assert any('changed or vanished while being read' in w for w in res['tar_warnings'])
    assert res['record']['extra']['changed_file_count'] == 1
    done = lifecycle.commit(store, started['set_id'], hosts=['h1'])
    assert done['status'] == 'completed'


def test_no_log_store_secrets_stay_out_of_verbose_output(scratch):
    secret = 'Sup3r-Secret-%s' % os.getpid()
    src = scratch / 'app'
    src.mkdir()
    (src / 'a.txt').write_text('a\n')
    store = {'type': 'filesystem', 'path': str(scratch / 'store'), 'secret_key': secret, 'password': secret,
             'session_token': secret}
    r = run_playbook('backup.yml', extra_vars={'lifeboat_store': store,
                                               'lifeboat_files': [{'name': 'app', 'paths': [str(src)]}]},
                     args=['-vvv'])
    assert r.rc == 0, r
    assert secret not in r.output
    r = run_playbook('restore.yml', extra_vars={'lifeboat_store': store, 'lifeboat_restore_dest': str(scratch / 'r')},
                     args=['-vvv'])
    assert r.rc == 0, r
    assert secret not in r.output
