# -*- coding: utf-8 -*-
"""One damaged set must not block the others: list.yml lists it as damaged with the reason, `latest` skips it and
says so, an intact set named explicitly restores, and the damaged one is refused with a readable reason.

0.1.0 read every manifest while listing and failed on the first bad one: list.yml failed, and so did the restore of
an explicitly named, intact, older set; a record whose size was the string "12" failed with Python's own
"%d format: a real number is required, not str".
"""

import os
import re

import lb_files_helpers as h

from ansible_collections.lifeboat.backup.plugins.filter.listing import human_size


def _src(root, text):
    os.makedirs(str(root))
    with open(os.path.join(str(root), 'f'), 'w') as f:
        f.write(text)
    return str(root)


def _write_manifest(store, sid, data):
    with open(os.path.join(str(store), sid, 'manifest.json'), 'wb') as f:
        f.write(data)


def _damaged_store(scratch):
    store = scratch / 'store'
    src = _src(scratch / 'src', 'the intact one\n')
    intact = h.inprocess_set(store, {'localhost': {'app': [src]}}, label='intact')
    bad_json = h.inprocess_set(store, {'localhost': {'app': [src]}}, label='badjson')
    _write_manifest(store, bad_json, b'{"schema_version": 1, "kind": "lifeboat.backup/manifest", "set_id": ')
    future = h.inprocess_set(store, {'localhost': {'app': [src]}}, label='future')
    manifest, _d = h.lifecycle.read_manifest(h.fs_store(store), future)
    _write_manifest(store, future, h.set_format.dumps(dict(manifest, schema_version=7)))
    string_size = h.inprocess_set(store, {'localhost': {'app': [src]}}, label='stringsize')
    manifest, _d = h.lifecycle.read_manifest(h.fs_store(store), string_size)
    manifest['artifacts'][0]['size'] = str(manifest['artifacts'][0]['size'])
    _write_manifest(store, string_size, h.set_format.dumps(manifest))
    return store, src, intact, bad_json, future, string_size


def test_damaged_sets_are_listed_skipped_and_block_nothing(scratch):
    store, src, intact, bad_json, future, string_size = _damaged_store(scratch)
    size = h.the_artifact(store, intact)['size']

    # list.yml: every set, the damaged ones with their reason
    r = h.run_playbook('list.yml', extra_vars={'lifeboat_store': h.store_spec(store)}, env=h.ENV)
    assert r.rc == 0, r
    # the table (human sizes), then each set that is not completed with its reason in full
    assert re.search(r'"%s +completed +\S+ +%s ' % (intact, re.escape(human_size(size))), r.stdout), r.stdout
    for damaged in (bad_json, future, string_size):
        assert re.search(r'"%s +DAMAGED +' % damaged, r.stdout), r.stdout
    assert '"%s: the manifest of set %s is not valid JSON: ' % (bad_json, bad_json) in r.stdout
    assert ('"%s: the manifest of set %s has schema_version 7; this collection reads up to 1: upgrade '
            'lifeboat.backup to read it' % (future, future)) in r.stdout
    assert ('"%s: the manifest of set %s, artifact 1: \'size\' must be a whole number of bytes (0 or more), '
            'not the string \\"%d\\"' % (string_size, string_size, size)) in r.stdout
    assert '[WARNING]: set %s is damaged: ' % bad_json in r.output

    # the newest completed set: the damaged ones are skipped, with a warning
    dest = scratch / 'latest'
    r = h.restore(store, lifeboat_restore_dest=str(dest))
    assert r.rc == 0, r
    assert open(str(dest) + src + '/f').read() == 'the intact one\n'
    assert '[WARNING]: latest: skipped the newer damaged set %s (the manifest of set %s, artifact 1: ' % (
        string_size, string_size) in r.output

    # an intact set named explicitly
    dest = scratch / 'named'
    r = h.restore(store, lifeboat_set_id=intact, lifeboat_restore_dest=str(dest))
    assert r.rc == 0, r
    assert open(str(dest) + src + '/f').read() == 'the intact one\n'

    # a damaged one is refused, with the reason, and nothing is touched
    for sid, reason in ((bad_json, 'is not valid JSON: '),
                        (string_size, '\'size\' must be a whole number of bytes (0 or more), not the string "%d"' % size)):
        dest = scratch / ('refused-' + sid)
        r = h.restore(store, lifeboat_set_id=sid, lifeboat_restore_dest=str(dest))
        assert r.rc != 0, r
        msg = h.final_msg(r)
        assert msg.startswith('set %s is damaged and cannot be restored: the manifest of set %s' % (sid, sid)), msg
        assert reason in msg and 'format' not in msg
        assert not os.path.lexists(str(dest))

    # a new backup is not disturbed by them either
    r = h.backup(store, [{'name': 'app', 'paths': [src]}])
    assert r.rc == 0, r
    listed = h.info(store, scratch)
    assert sorted(listed['damaged']) == sorted([string_size, future, bad_json])
    status = {s['id']: s['status'] for s in listed['sets']}
    assert status.pop(intact) == 'completed' and list(status.values()).count('completed') == 1
    assert sorted(k for k, v in status.items() if v == 'damaged') == sorted([string_size, future, bad_json])
