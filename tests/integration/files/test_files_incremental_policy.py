# -*- coding: utf-8 -*-
"""Incremental files backups: when a run is a full (level 0) and when an increment, through real playbook runs
(playbooks/backup.yml): full_every and a forced full, bad settings refused before the set starts, a failed run passed
over, check mode saying what the level would be (docs/incremental.md). A base that is gone or damaged:
test_files_incremental_fulls.py."""

import time

import lb_files_helpers as h
from lb_incremental_helpers import FULL_WARNING, backed_up, entry, level_of, small_tree


def test_full_every_and_a_forced_full(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    levels = []
    for _run in range(4):
        (src / 'b.txt').write_text('run %d\n' % _run)
        _sid, record, _r = backed_up(store, [entry(src, full_every=2)])
        levels.append(level_of(record))
    assert levels == [0, 1, 2, 0]
    assert 'full_every 2 (increments) reached' in record['extra']['incremental']['full_reason']
    _sid, record, r = backed_up(store, [entry(src, full_every=2)], lifeboat_full=True)
    assert level_of(record) == 0 and record['extra']['incremental']['full_reason'] == 'a full was asked for'
    assert FULL_WARNING not in r.output   # an expected full is no warning


def test_bad_incremental_settings_are_refused_before_the_set_starts(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    r = h.backup(store, [entry(src, full_every='weekly'), entry(src, name='app.snar')])
    assert r.rc != 0, r
    msg = h.final_msg(r)
    assert msg.startswith('Preflight failed, nothing was started (no set, no lock): '), msg
    assert "localhost: files entry app: full_every must be a number of increments (e.g. 24)" in msg, msg
    assert 'localhost: files entry app.snar: names ending in .snar are taken by the snapshot files' in msg, msg
    r = h.backup(store, [entry(src)], lifeboat_full_every='0')
    assert r.rc != 0 and 'files entry app: full_every must be at least 1' in h.final_msg(r), r
    assert h.set_ids(store) == []


def test_a_failed_run_is_passed_over(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    # a run that archived the entry (an increment on the first set), then failed (another host failed, say)
    fs = h.fs_store(store)
    failed = h.lifecycle.start(fs)['set_id']
    (src / 'b.txt').write_text('in the failed run\n')
    assert h.files_backup.backup(fs, failed, 'localhost', 'app', [str(src)], incremental_mode=True)['incremental']['level'] == 1
    h.lifecycle.fail(fs, failed, 'another host failed')
    time.sleep(1)
    _third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == first, failed
    assert FULL_WARNING not in r.output


def test_check_mode_says_what_the_level_would_be(scratch):
    src = small_tree(scratch / 'src')
    store = scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    before = h.store_objects(store)
    r = h.backup(store, [entry(src)], check=True)
    assert r.rc == 0, r
    assert h.store_objects(store) == before
    assert 'an increment, level 1 on set %s' % first in r.stdout
