# -*- coding: utf-8 -*-
"""HA restores refused or failing on a real 3-node cluster (netcluster.py, see test_ha.py): a node unreachable at the
preflight, an artifact found damaged mid-restore (services stay down behind the guard until a good retry), a node's
disk full during the restore. Faults are real: a link taken down, a node's disk full, an artifact changed in the
store."""

import os

import netcluster
from halib import CLUSTER_MARKS, PRIMARY, assert_apps_running, play_failed, play_ok

pytestmark = CLUSTER_MARKS


# ---------------------------------------------------------------------------------------------- restore

def test_restore_is_refused_in_preflight_when_a_node_is_unreachable(ha):
    c = ha.c
    play_ok(ha.backup())
    ha.change_everything()
    changed_files, changed_db = ha.files(), ha.db(PRIMARY)
    c.kill_ssh_masters()
    c.link_down('node3')
    try:
        result = ha.restore()
    finally:
        c.link_up('node3')
    play_failed(result, 'node3', 'UNREACHABLE', 'Preflight failed', 'nothing was stopped')
    # nothing was stopped or changed anywhere
    assert_apps_running(c)
    assert ha.files() == changed_files
    assert ha.db(PRIMARY) == changed_db
    assert not any(c.guard_exists(n) for n in c.nodes)


def test_restore_failing_midway_keeps_services_down_behind_the_guard_until_a_good_retry(ha):
    c = ha.c
    files_before, db_before = ha.files(), ha.db(PRIMARY)
    play_ok(ha.backup())
    set_id = ha.completed()[0]['id']
    manifest, sha = ha.manifest(set_id)
    # change node3's archive in the store after the backup: same size, one byte different
    rec = [r for r in manifest['artifacts'] if r['host'] == 'node3' and r['component'] == 'files'][0]
    path = ha.artifact_path(rec)

    def flip():
        with open(str(path), 'r+b') as f:
            f.seek(rec['size'] // 2)
            byte = f.read(1)
            f.seek(rec['size'] // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
    flip()
    ha.change_everything()
    changed = ha.files()
    result = ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha)
    # node3 is named, and the play says how to get out: retry, or release the guard
    play_failed(result, 'node3', 'sha256', 'release_guard', 'restore again')
    for n in c.nodes:
        assert c.guard_exists(n), '%s has no restore guard' % n.name
        assert not c.app_running(n), '%s: lifeboat-app was started behind the guard' % n.name
    assert ha.files()['node3'] == changed['node3'], "node3's data was touched by a failed verification"
    # fix the store (the artifact's bytes back) and retry: everything back, the guard lowered, services up
    flip()
    play_ok(ha.restore(lifeboat_set_id=set_id, lifeboat_manifest_sha256=sha))
    assert ha.files() == files_before
    assert ha.db(PRIMARY) == db_before
    assert not any(c.guard_exists(n) for n in c.nodes)
    assert_apps_running(c)


def test_disk_full_on_one_node_during_restore_leaves_its_data_untouched(ha):
    c = ha.c
    root = c.node('node3').host_path(netcluster.APP_DATA)
    with open(str(root / 'payload.bin'), 'wb') as f:
        f.write(os.urandom(3 << 20))
    play_ok(ha.backup())
    ha.change_everything()
    # node3's /srv/app becomes a 4 MiB filesystem holding its current data and little room to spare
    c.sh('node3', 'rm -rf /tmp/appsave && cp -a /srv/app /tmp/appsave')
    c.small_fs('node3', netcluster.APP_DIR, '4m')
    c.sh('node3', 'cp -a /tmp/appsave/. /srv/app/ && rm -rf /tmp/appsave && '
                  '(dd if=/dev/zero of=/srv/app/.filler bs=64k 2>/dev/null || true) && truncate -s -256K /srv/app/.filler')
    before = c.tree('node3', netcluster.APP_DATA)
    result = ha.restore()
    play_failed(result, 'node3', 'space')
    assert c.tree('node3', netcluster.APP_DATA) == before, "node3's data changed"
    guarded = [n.name for n in c.nodes if c.guard_exists(n)]
    if guarded:
        # it failed after services were stopped: all of them stay down behind the guard
        assert guarded == [n.name for n in c.nodes]
        assert not any(c.app_running(n) for n in c.nodes)
    else:
        assert_apps_running(c)
