# -*- coding: utf-8 -*-
"""The store contract, run with the same code against every backend: filesystem (a local directory),
s3 (moto server over real HTTP on loopback) and sftp (a real OpenSSH sshd on loopback)."""
import hashlib
import os

import pytest

from storelib import leftovers

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

BACKENDS = ['filesystem', 's3', 'sftp']
SET = '20261122T031500Z'
MiB = 1024 * 1024


def _data(n, seed=b'x'):
    out, block = bytearray(), hashlib.sha256(seed).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


def _write(store, key, data, chunk=MiB):
    with store.open_write(key) as w:
        for i in range(0, len(data), chunk):
            w.write(data[i:i + chunk])
        w.commit()


def _read(store, key, n=700 * 1024):
    out = []
    with store.open_read(key) as r:
        while True:
            b = r.read(n)
            if not b:
                break
            out.append(b)
    return b''.join(out)


@pytest.fixture(params=BACKENDS)
def store(request, make_params):
    params = make_params(request.param)
    st = open_store(params)
    st.check_writable()
    yield st
    st.close()


def test_write_commit_read_list_stat(store):
    big = _data(12 * MiB + 12345)          # three 5 MiB parts on s3 (the last one short)
    small = b'{"hello": "world"}\n'
    _write(store, SET + '/web1/files/app.tar.zst', big)
    _write(store, SET + '/web1/files/app.tar.zst.record.json', small)
    _write(store, SET + '/db1/postgresql/app.dump', b'')            # empty objects are objects too

    assert _read(store, SET + '/web1/files/app.tar.zst') == big
    assert store.get_bytes(SET + '/web1/files/app.tar.zst.record.json') == small
    assert store.get_bytes(SET + '/db1/postgresql/app.dump') == b''
    info = store.stat(SET + '/web1/files/app.tar.zst')
    assert info.key == SET + '/web1/files/app.tar.zst' and info.size == len(big) and info.mtime > 0
    assert store.stat(SET + '/web1/files/nope') is None
    assert store.stat(SET + '/web1') is None                          # a "directory" is not an object

    listed = sorted((i.key, i.size) for i in store.list(SET))
    assert listed == [(SET + '/db1/postgresql/app.dump', 0),
                      (SET + '/web1/files/app.tar.zst', len(big)),
                      (SET + '/web1/files/app.tar.zst.record.json', len(small))]
    assert [i.key for i in store.list(SET + '/web1')] == [
        SET + '/web1/files/app.tar.zst', SET + '/web1/files/app.tar.zst.record.json']
    assert list(store.list('20991231T000000Z')) == []
    assert store.list_children('') == [SET]
    assert store.list_children(SET) == ['db1', 'web1']
    assert store.list_children(SET + '/web1/files') == ['app.tar.zst', 'app.tar.zst.record.json']
    assert store.list_children('nothing-here') == []


def test_reader_streams_in_small_reads(store):
    data = _data(11 * MiB + 1, b'y')
    _write(store, SET + '/h/c/a', data, chunk=3 * MiB + 7)
    with store.open_read(SET + '/h/c/a') as r:
        h, n = hashlib.sha256(), 0
        while True:
            b = r.read(65536)
            if not b:
                break
            assert len(b) <= 65536
            h.update(b)
            n += len(b)
    assert (n, h.hexdigest()) == (len(data), hashlib.sha256(data).hexdigest())


def test_nothing_visible_before_commit_and_abort_leaves_nothing(store):
    key = SET + '/web1/files/partial.tar.zst'
    w = store.open_write(key)
    w.write(_data(7 * MiB))                  # on s3 a part is already uploaded
    assert store.stat(key) is None
    assert list(store.list(SET)) == []
    assert store.list_children(SET + '/web1/files') == []
    w.abort()
    assert store.stat(key) is None and list(store.list(SET)) == []
    assert leftovers(store) == []

    with pytest.raises(RuntimeError), store.open_write(key) as w:
        w.write(_data(6 * MiB))
        raise RuntimeError('the source failed')
    assert store.stat(key) is None
    assert leftovers(store) == []

    with store.open_write(key) as w:         # leaving without commit aborts too
        w.write(b'abc')
    assert store.stat(key) is None
    assert leftovers(store) == []


def test_put_bytes_exclusive_and_overwrite(store):
    assert store.put_bytes('lock.json', b'one', exclusive=True) is True
    assert store.put_bytes('lock.json', b'two', exclusive=True) is False
    assert store.get_bytes('lock.json') == b'one'
    assert store.put_bytes('lock.json', b'three') is True
    assert store.get_bytes('lock.json') == b'three'
    store.delete('lock.json')
    assert store.get_bytes('lock.json') is None
    assert store.put_bytes('lock.json', b'four', exclusive=True) is True   # free again after a delete
    assert store.put_bytes(SET + '/status.json', b'{}', exclusive=True) is True
    assert store.put_bytes(SET + '/status.json', b'{}', exclusive=True) is False
    assert store.list_children('') == [SET, 'lock.json']
    assert leftovers(store) == []


def test_delete_and_delete_prefix(store):
    store.delete(SET + '/nothing')                      # absent: no error
    for k in ('a/x', 'a/y', 'b/z'):
        store.put_bytes(SET + '/' + k, b'1')
    store.delete(SET + '/a/x')
    assert sorted(i.key for i in store.list(SET)) == [SET + '/a/y', SET + '/b/z']
    assert store.delete_prefix(SET) == 2
    assert list(store.list(SET)) == []
    assert SET not in store.list_children('')


def test_delete_many(store):
    keys = [SET + '/m/%03d' % n for n in range(25)]
    for key in keys:
        store.put_bytes(key, b'1')
    store.put_bytes(SET + '/keep', b'1')
    assert store.delete_many(keys[:20] + [SET + '/absent']) == {}
    assert sorted(i.key for i in store.list(SET)) == sorted(keys[20:] + [SET + '/keep'])
    assert store.delete_many([]) == {}
    assert store.delete_many(keys[20:]) == {}
    assert [i.key for i in store.list(SET)] == [SET + '/keep']
    # the set's directories go with its last object (filesystem, SFTP): nothing empty is left behind
    assert store.delete_many([SET + '/keep']) == {}
    assert list(store.list(SET)) == []
    assert SET not in store.list_children('')


def test_missing_objects_and_bad_keys(store):
    with pytest.raises(LifeboatError, match='not in the store'):
        store.open_read(SET + '/nope')
    assert store.get_bytes(SET + '/nope') is None
    for bad in ('../etc/passwd', '/abs', 'a//b', 'a/./b', ''):
        with pytest.raises(LifeboatError, match='invalid store key'):
            store.open_write(bad)


def test_backup_set_cycle(store, workdir):
    """start -> artifact through the real pipeline -> commit -> resolve -> verified read."""
    src = os.path.join(workdir, 'payload')
    with open(src, 'wb') as f:
        f.write(_data(3 * MiB + 5, b'payload'))
    started = lifecycle.start(store, label='contract')
    set_id = started['set_id']
    assert lifecycle.list_sets(store)[0]['status'] == set_format.IN_PROGRESS
    with open(src, 'rb') as f:
        rec = artifacts.write_artifact(store, set_id, 'web1', 'upload', 'payload', 'file', 'raw', '', 'test',
                                       check_source=lambda r: {}, source_file=f, compression='zstd')
    assert store.stat(rec['key']).size == rec['size']
    done = lifecycle.commit(store, set_id, hosts=['web1'])
    assert done['status'] == set_format.COMPLETED and done['artifact_count'] == 1
    assert store.get_bytes(set_format.LOCK_KEY) is None                       # lock released
    manifest, digest = lifecycle.resolve_completed(store, None, pin=done['manifest_sha256'])
    assert manifest['set_id'] == set_id and digest == done['manifest_sha256']
    out = os.path.join(workdir, 'out')
    res = artifacts.read_artifact(store, manifest['artifacts'][0], ['sh', '-c', 'cat > "$0"', out])
    assert res['sink'].rc == 0
    with open(src, 'rb') as a, open(out, 'rb') as b:
        assert a.read() == b.read()
    assert lifecycle.verify_present(store, manifest) == []
    # a second run while nobody holds the lock
    again = lifecycle.start(store, label='contract')
    assert again['set_id'] != set_id and again['broken_lock'] is None
    lifecycle.fail(store, again['set_id'], 'test')
    assert [s['status'] for s in lifecycle.list_sets(store)] == [set_format.FAILED, set_format.COMPLETED]


def test_cleanup_incomplete_removes_leftovers_only(store):
    key = SET + '/web1/files/dead.tar.zst'
    w = store.open_write(key)
    w.write(_data(6 * MiB))
    _abandon(store, w)                     # like a process killed mid-write: no abort
    assert store.stat(key) is None and list(store.list(SET)) == []
    store.put_bytes(SET + '/status.json', b'{}')
    assert len(leftovers(store)) == 1
    assert store.cleanup_incomplete(['20991231T000000Z']) == 0        # only below the prefixes it is given
    assert len(leftovers(store)) == 1
    assert store.cleanup_incomplete([SET]) == 1
    assert leftovers(store) == []
    assert store.get_bytes(SET + '/status.json') == b'{}'


def test_exclusive_writes_refuse_a_second_write_of_the_same_key(store):
    """Parts of an open set are written exclusively: a second write of the same key fails at its commit with
    AlreadyExistsError and leaves the first object as it was (small: one request; large: a multipart upload on
    s3), whatever the backend; nothing of the refused write is left behind."""
    for key, size in ((SET + '/web1/files/small.tar.zst', 1000), (SET + '/web1/files/big.tar.zst', 11 * MiB)):
        first, second = _data(size, b'first'), _data(size, b'second')
        with store.open_write(key, exclusive=True) as w:
            w.write(first)
            w.commit()
        with pytest.raises(AlreadyExistsError) as e, store.open_write(key, exclusive=True) as w:
            w.write(second)
            w.commit()
        assert key in e.value.msg and 'exclusive write never replaces' in e.value.msg
        assert _read(store, key) == first
        assert leftovers(store) == [], key
    store.put_new(SET + '/web1/files/small.tar.zst.record.json', b'{}')
    with pytest.raises(AlreadyExistsError):
        store.put_new(SET + '/web1/files/small.tar.zst.record.json', b'{"other": 1}')
    assert store.get_bytes(SET + '/web1/files/small.tar.zst.record.json') == b'{}'
    with store.open_write(SET + '/web1/files/small.tar.zst') as w:   # not exclusive: replaces, as before
        w.write(b'replaced')
        w.commit()
    assert store.get_bytes(SET + '/web1/files/small.tar.zst') == b'replaced'


def test_an_artifact_key_of_an_open_set_is_written_once(store, workdir):
    """write_artifact and the record it writes use exclusive writes: a second artifact of the same host,
    component and name in an open set is refused, and the first one and its record stay intact."""
    set_id = lifecycle.start(store, label='twice')['set_id']

    def upload(content):
        src = os.path.join(workdir, 'payload')
        with open(src, 'wb') as f:
            f.write(content)
        with open(src, 'rb') as f:
            return artifacts.write_artifact(store, set_id, 'web1', 'upload', 'payload', 'file', 'raw', '', 'test',
                                            check_source=lambda r: {}, source_file=f, compression='none')
    first = upload(b'first payload')
    with pytest.raises(AlreadyExistsError):
        upload(b'second payload')
    assert store.get_bytes(first['key']) == b'first payload'
    records, _present = lifecycle.load_records(store, set_id)
    assert [r['sha256'] for r in records] == [first['sha256']]
    done = lifecycle.commit(store, set_id, hosts=['web1'])
    assert done['artifact_count'] == 1
    assert leftovers(store) == []


def _abandon(store, w):
    if store.type == 'sftp':
        w.file.close()
    elif store.type == 's3':
        w._wait_all()
        w._shutdown()
    else:
        os.close(w.fd)
