# -*- coding: utf-8 -*-
"""Paths in ``lifeboat_files`` that are symlinks, through real playbook runs (issue 10).

``/opt/app -> /srv/app-1.2`` (versioned installs) and ``/etc/app.conf -> app/app.conf.real`` (a relative link
to a file): the backup archives each link and what it resolves to and records both (``extra.links``); a
restore brings back the link and the data, under dest and in place. A dangling link fails the backup with a
clear message. On 0.1.0 (35acb05) the links alone were archived and the backup completed.
"""

import os
import shutil

import pytest

import lb_files_helpers as h


@pytest.fixture(scope='module')
def world(mod_scratch):
    s = mod_scratch
    app = s / 'srv/app-1.2'
    (app / 'bin').mkdir(parents=True)
    (app / 'bin/run').write_text('#!/bin/sh\necho 1.2\n')
    (app / 'conf').mkdir()
    (app / 'conf/app.yml').write_text('version: 1.2\n')
    (s / 'srv/app-1.3').mkdir()        # installed later: the link moves on, the backup must not care
    (s / 'opt').mkdir()
    os.symlink(str(app), str(s / 'opt/app'))
    (s / 'etc/app').mkdir(parents=True)
    (s / 'etc/app/app.conf.real').write_text('listen: 8080\n')
    os.symlink('app/app.conf.real', str(s / 'etc/app.conf'))
    os.symlink(str(s / 'srv/app-0.9'), str(s / 'opt/broken'))   # dangling
    h.set_old_mtimes(s / 'srv')
    h.set_old_mtimes(s / 'etc')
    store = s / 'store'
    before = {'app': h.snapshot_tree(app), 'conf': h.snapshot_tree(s / 'etc/app')}
    r = h.backup(store, [{'name': 'app', 'paths': [str(s / 'opt/app'), str(s / 'etc/app.conf')]}])
    assert r.rc == 0, r
    (sid,) = h.set_ids(store)
    return {'s': s, 'app': app, 'store': store, 'sid': sid, 'before': before}


def test_record_holds_the_links_and_what_they_point_to(world):
    s = world['s']
    rec = h.the_artifact(world['store'], world['sid'])
    assert rec['extra']['paths'] == sorted([str(s / 'etc/app.conf'), str(s / 'etc/app/app.conf.real'),
                                            str(s / 'opt/app'), str(world['app'])])
    assert rec['extra']['links'] == [
        {'path': str(s / 'opt/app'), 'target': str(world['app']), 'resolved': str(world['app'])},
        {'path': str(s / 'etc/app.conf'), 'target': 'app/app.conf.real', 'resolved': str(s / 'etc/app/app.conf.real')}]
    assert rec['source'] == 'files:' + ','.join(rec['extra']['paths'])


def test_restore_under_dest_brings_back_link_and_data(world):
    s = world['s']
    dest = s / 'dest'
    r = h.restore(world['store'], lifeboat_restore_dest=str(dest))
    assert r.rc == 0, r
    root = str(dest) + str(s)
    # the links keep their text (an absolute one points at the host's path, as every absolute link does)
    assert os.readlink(root + '/opt/app') == str(world['app'])
    assert os.readlink(root + '/etc/app.conf') == 'app/app.conf.real'
    assert open(root + '/etc/app.conf').read() == 'listen: 8080\n'   # relative: resolves inside dest
    assert h.diff_snapshots(world['before']['app'], h.snapshot_tree(root + '/srv/app-1.2')) == []
    assert not os.path.exists(root + '/srv/app-1.3')


def test_restore_in_place_after_losing_link_and_data(world):
    s = world['s']
    os.unlink(str(s / 'opt/app'))
    shutil.rmtree(str(world['app']))
    os.unlink(str(s / 'etc/app.conf'))
    with open(str(s / 'etc/app/app.conf.real'), 'w') as f:
        f.write('changed\n')
    r = h.restore(world['store'], lifeboat_restore_force=True)
    assert r.rc == 0, r
    assert os.readlink(str(s / 'opt/app')) == str(world['app'])
    assert os.readlink(str(s / 'etc/app.conf')) == 'app/app.conf.real'
    assert h.diff_snapshots(world['before']['app'], h.snapshot_tree(world['app'])) == []
    assert open(str(s / 'etc/app.conf')).read() == 'listen: 8080\n'
    assert sorted(os.listdir(str(s / 'srv'))) == ['app-1.2', 'app-1.3']


def test_dangling_symlink_fails_the_backup(world):
    s = world['s']
    store = s / 'store-dangling'
    r = h.backup(store, [{'name': 'broken', 'paths': [str(s / 'opt/broken')]}])
    assert r.rc != 0, r
    # found by the backup preflight, before the set starts
    assert h.final_msg(r) == (
        'Preflight failed, nothing was started (no set, no lock): localhost: files entry broken: %s is a symlink to '
        '%s, which does not exist (a dangling link): nothing to back up there. Fix the link, or list what it should '
        'point to' % (s / 'opt/broken', s / 'srv/app-0.9'))
    # (whether a set was started and failed, or a preflight stopped the run first, no set completed)
    assert [x for x in h.lifecycle.list_sets(h.fs_store(store)) if x['status'] == 'completed'] == []
