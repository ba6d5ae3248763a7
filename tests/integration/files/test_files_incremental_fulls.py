# -*- coding: utf-8 -*-
"""Incremental files backups whose chain lost a level, through real playbook runs (playbooks/backup.yml): a base that is
gone, damaged or replaced makes the next run a full with a warning naming why; with the newest set removed the chain
goes on from the one before (docs/incremental.md). The other new-full cases: test_files_incremental_policy.py.

The tests that continue a chain of two levels each continue their own copy of one chain made once for the module
(``two_levels``): the same sets, byte for byte, without two backup runs per test."""

import os
import shutil
import tarfile

import pytest

import lb_files_helpers as h
from lb_incremental_helpers import FULL_WARNING, backed_up, entry, level_of, restore_to, small_tree, store_copy


@pytest.fixture(scope='module')
def two_levels(mod_scratch):
    """A full and an increment of a small tree, made once with backup.yml: {'src', 'store', 'ids': (full, increment)}.
    The tests take a copy of the store (``chain_of_two``) and never change the tree."""
    src = small_tree(mod_scratch / 'src')
    store = mod_scratch / 'store'
    first, _rec, _r = backed_up(store, [entry(src)])
    second, record, _r = backed_up(store, [entry(src)])
    assert level_of(record) == 1
    return {'src': src, 'store': store, 'ids': (first, second)}


@pytest.fixture
def chain_of_two(two_levels, scratch):
    """(the tree, this test's copy of the store, (full, increment))."""
    return two_levels['src'], store_copy(two_levels['store'], scratch), two_levels['ids']


def test_a_removed_base_makes_the_next_run_a_full_with_a_warning(chain_of_two):
    src, store, (first, second) = chain_of_two
    shutil.rmtree(str(store / first))            # the full the increment needs is gone
    third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 0
    reason = record['extra']['incremental']['full_reason']
    assert reason.startswith('the chain of set %s cannot be continued: set %s (level 0): it is not in the filesystem store'
                             % (second, first)), reason
    assert FULL_WARNING in r.output and first in r.output
    # and the new chain goes on from the new full
    _fourth, record, _r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == third


def test_the_newest_set_removed_the_chain_goes_on_from_the_one_before(chain_of_two):
    src, store, (first, second) = chain_of_two
    shutil.rmtree(str(store / second))
    _third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 1 and record['extra']['incremental']['base'] == first
    assert FULL_WARNING not in r.output


@pytest.mark.parametrize('damage', ['snapshot missing', 'snapshot damaged', 'base archive replaced', 'base failed'])
def test_a_damaged_base_makes_the_next_run_a_full_with_a_warning(scratch, chain_of_two, damage):
    src, store, (first, second) = chain_of_two
    zero = h.the_artifact(store, first, name='app')
    snar = h.the_artifact(store, second, name='app.snar')
    if damage == 'snapshot missing':
        os.unlink(str(store / snar['key']))
        expect = 'the snapshot file of set %s: its artifact %s is missing' % (second, snar['key'])
    elif damage == 'snapshot damaged':
        path = store / snar['key']
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xff
        path.write_bytes(bytes(data))
        expect = 'the snapshot file of set %s could not be used: artifact %s failed verification' % (second, snar['key'])
    elif damage == 'base archive replaced':
        h.replace_artifact(store, first, zero, h.zstd_bytes(h.crafted_tar([('x', tarfile.REGTYPE, {'data': b'x'})])))
        expect = 'set %s (level 0): its artifact %s has sha256' % (first, zero['key'])
    else:
        os.unlink(str(store / first / 'manifest.json'))   # the full's set is no longer completed
        expect = 'set %s (level 0): it is failed' % first
    third, record, r = backed_up(store, [entry(src)])
    assert level_of(record) == 0, record['extra']['incremental']
    assert expect in record['extra']['incremental']['full_reason'], record['extra']['incremental']['full_reason']
    assert FULL_WARNING in r.output
    dest = scratch / 'dest'
    restore_to(store, third, dest)
    assert (dest / str(src).lstrip('/') / 'a' / 'f').read_text() == 'one\n'
