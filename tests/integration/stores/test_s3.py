# -*- coding: utf-8 -*-
"""S3 store specifics against a moto server over real HTTP on loopback: multipart layout, encryption,
storage class, Object Lock, ranged downloads, and faults (missing bucket, bad credentials, unreachable or
dying server). Modules run as their own processes, as Ansible runs them."""
import datetime
import hashlib
import os
import time

import pytest

from storelib import RSS_WRAPPER, Moto, TcpProxy, bucket_name, free_port, leftovers, run_module, s3_params, sparse_file

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

MiB = 1024 * 1024
SET = '20261122T031500Z'


def _data(n, seed=b's3'):
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


def _head(s3, bucket, key, **kw):
    return s3.head_object(Bucket=bucket, Key='backups/' + key, **kw)


def test_multipart_layout_encryption_and_storage_class(moto, s3, bucket):
    st = open_store(s3_params(moto, bucket, storage_class='STANDARD_IA'))
    data = _data(12 * MiB + 1)
    _write(st, SET + '/web1/files/app.tar.zst', data)
    h = _head(s3, bucket, SET + '/web1/files/app.tar.zst', ChecksumMode='ENABLED')
    assert h['ETag'].strip('"').endswith('-3')                # 5 + 5 + 2 MiB parts
    assert h['ContentLength'] == len(data)
    assert h['ServerSideEncryption'] == 'AES256'
    assert h['StorageClass'] == 'STANDARD_IA'
    assert h.get('ChecksumSHA256')                              # per-part SHA-256 checksums were sent
    _write(st, SET + '/web1/files/small', b'tiny')              # below one part: a single PutObject
    h = _head(s3, bucket, SET + '/web1/files/small', ChecksumMode='ENABLED')
    assert '-' not in h['ETag'] and h['StorageClass'] == 'STANDARD_IA'
    import base64
    assert h['ChecksumSHA256'] == base64.b64encode(hashlib.sha256(b'tiny').digest()).decode()
    st.put_bytes(SET + '/status.json', b'{}')                   # metadata stays STANDARD
    assert _head(s3, bucket, SET + '/status.json').get('StorageClass', 'STANDARD') == 'STANDARD'
    assert leftovers(st) == []


def test_sse_kms_and_object_lock_on_every_object_of_a_set(moto, s3, lock_bucket, kms_key):
    st = open_store(s3_params(moto, lock_bucket, sse='aws:kms', kms_key_id=kms_key, object_lock_mode='COMPLIANCE',
                              object_lock_days=2))
    started = lifecycle.start(st)
    set_id = started['set_id']
    _write(st, set_id + '/web1/upload/a.bin', _data(6 * MiB))
    st.put_bytes(set_id + '/web1/upload/a.bin.record.json', b'{}')
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    for key in (set_id + '/status.json', set_id + '/web1/upload/a.bin', set_id + '/web1/upload/a.bin.record.json'):
        h = _head(s3, lock_bucket, key)
        assert h['ServerSideEncryption'] == 'aws:kms' and kms_key in h['SSEKMSKeyId'], key
        assert h.get('ObjectLockMode') == 'COMPLIANCE', (key, h)
        assert h['ObjectLockRetainUntilDate'] > soon, key
    lock = _head(s3, lock_bucket, set_format.LOCK_KEY)                 # the store lock must stay deletable
    assert 'ObjectLockMode' not in lock and lock['ServerSideEncryption'] == 'aws:kms'
    lifecycle.fail(st, set_id, 'test')
    assert st.get_bytes(set_format.LOCK_KEY) is None

    with pytest.raises(LifeboatError) as e:
        st.delete_prefix(set_id)
    assert 'protected by S3 Object Lock (COMPLIANCE until' in e.value.msg, e.value.msg
    assert e.value.details['reason'] == 'object_locked'
    with pytest.raises(LifeboatError, match='protected by S3 Object Lock'):
        st.delete(set_id + '/web1/upload/a.bin')
    assert st.stat(set_id + '/web1/upload/a.bin') is not None   # still there, every version


def test_object_lock_needs_a_bucket_with_object_lock(moto, bucket):
    st = open_store(s3_params(moto, bucket, object_lock_mode='GOVERNANCE', object_lock_days=1))
    with pytest.raises(LifeboatError, match='does not have Object Lock enabled'):
        st.check_writable()


def test_versioned_bucket_delete_removes_every_version(moto, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
    st = open_store(s3_params(moto, bucket))
    st.put_bytes(SET + '/status.json', b'1')
    st.put_bytes(SET + '/status.json', b'2')
    st.put_bytes(set_format.LOCK_KEY, b'l')
    st.delete_prefix(SET)
    assert s3.list_object_versions(Bucket=bucket, Prefix='backups/' + SET).get('Versions', []) == []
    st.delete(set_format.LOCK_KEY)                                     # outside sets: a delete marker is enough
    assert st.put_bytes(set_format.LOCK_KEY, b'again', exclusive=True) is True


def test_ranged_parallel_download_is_pinned_to_one_version(moto, s3, bucket):
    st = open_store(s3_params(moto, bucket, concurrency=3))
    data = _data(23 * MiB + 3)
    _write(st, SET + '/h/c/big', data)
    r = st.open_read(SET + '/h/c/big')
    assert r.ranged and len(r.pending) == 3                     # three 5 MiB ranges in flight, no more
    got = [r.read(MiB)]
    while True:
        b = r.read(MiB)
        if not b:
            break
        got.append(b)
    r.close()
    assert b''.join(got) == data
    # the object replaced while a download runs: the rest of it is refused, never mixed
    r = st.open_read(SET + '/h/c/big')
    first = r.read(MiB)
    _write(st, SET + '/h/c/big', _data(23 * MiB + 3, b'other'))
    with pytest.raises(LifeboatError, match='changed while it was being read'):
        while r.read(MiB):
            pass
    r.close()
    assert first == data[:MiB]


def test_single_stream_download_when_concurrency_is_one(moto, bucket):
    st = open_store(s3_params(moto, bucket, concurrency=1))
    data = _data(11 * MiB)
    _write(st, SET + '/h/c/one', data)
    r = st.open_read(SET + '/h/c/one')
    assert not r.ranged
    out = b''.join(iter(lambda: r.read(777777), b''))
    r.close()
    assert out == data


# ---------------------------------------------------------------- faults, through the modules

def _store_arg(params):
    return {k: v for k, v in params.items() if v is not None}


def test_missing_bucket_is_one_clear_message(moto):
    r = run_module('backup_set', {'state': 'started', 'store': _store_arg(s3_params(moto, 'no-such-bucket-here'))})
    assert r.failed
    assert r.msg == "S3 bucket 'no-such-bucket-here' does not exist at %s (store.bucket)" % moto.url, r
    assert r.get('reason') == 'no_such_bucket'
    assert 'Traceback' not in r.stdout + r.stderr


def test_unreachable_endpoint_is_one_clear_message():
    port = free_port()
    params = s3_params(type('M', (), {'url': 'http://127.0.0.1:%d' % port})(), 'some-bucket')
    r = run_module('backup_set', {'state': 'started', 'store': _store_arg(params)})
    assert r.failed and r.get('reason') == 'unreachable', r
    assert r.msg.startswith('cannot reach the S3 endpoint at http://127.0.0.1:%d' % port), r.msg
    assert 'Traceback' not in r.stdout + r.stderr


@pytest.fixture(scope='module')
def auth_moto():
    """A second moto server that checks signatures and IAM policies (the first few calls create the users)."""
    m = Moto(env={'INITIAL_NO_AUTH_ACTION_COUNT': '6'})
    iam = m.client('iam')
    iam.create_user(UserName='writer')
    k = iam.create_access_key(UserName='writer')['AccessKey']
    iam.put_user_policy(UserName='writer', PolicyName='all', PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'))
    iam.create_user(UserName='nobody')
    k2 = iam.create_access_key(UserName='nobody')['AccessKey']
    name = bucket_name('auth')
    m.client('s3').create_bucket(Bucket=name)                    # the 6th unauthenticated call
    m.bucket = name
    m.good = (k['AccessKeyId'], k['SecretAccessKey'])
    m.denied = (k2['AccessKeyId'], k2['SecretAccessKey'])
    yield m
    m.stop()


def test_credentials_checked_with_clear_messages(auth_moto):
    good_id, good_secret = auth_moto.good
    ok = open_store(s3_params(auth_moto, auth_moto.bucket, access_key=good_id, secret_key=good_secret))
    ok.check_writable()
    cases = [
        ((good_id, 'wrong-secret-value-1234'), 'SignatureDoesNotMatch', 'bad_credentials'),
        (('AKIAUNKNOWNKEY000000', 'whatever-secret-5678'), 'InvalidAccessKeyId', 'bad_credentials'),
        (auth_moto.denied, 'access denied to', 'access_denied'),
    ]
    for (kid, secret), text, reason in cases:
        st = open_store(s3_params(auth_moto, auth_moto.bucket, access_key=kid, secret_key=secret))
        with pytest.raises(LifeboatError) as e:
            st.check_writable()
        assert text in e.value.msg and e.value.details.get('reason') == reason, e.value.msg
        assert secret not in e.value.msg
    # and through a module: one message, no traceback, the secret nowhere in the output
    secret = 'wrong-secret-value-1234'
    r = run_module('backup_set', {'state': 'started', 'store': _store_arg(s3_params(
        auth_moto, auth_moto.bucket, access_key=good_id, secret_key=secret))})
    assert r.failed and 'secret key does not match the access key id' in r.msg, r
    assert secret not in r.stdout + r.stderr and 'Traceback' not in r.stdout + r.stderr


def test_server_dying_mid_upload_leaves_no_completed_set(moto, s3, bucket, workdir):
    """The S3 endpoint dies in the middle of a multipart upload (a TCP proxy in front of moto is killed, so
    moto keeps its state and we can look at what was left). The module fails with one message, nothing is
    completed, the incomplete upload is invisible, and the next run aborts it."""
    proxy = TcpProxy(int(moto.url.rsplit(':', 1)[1]))
    try:
        via = type('M', (), {'url': 'http://127.0.0.1:%d' % proxy.port})()
        store = _store_arg(s3_params(via, bucket, max_attempts=2, timeout=30))   # the proxy resets: no wait
        started = run_module('backup_set', {'state': 'started', 'store': store})
        assert not started.failed, started
        set_id = started['set_id']
        src = sparse_file(os.path.join(workdir, 'big.img'), 64 * MiB)
        proxy.kill_after = proxy.forwarded + 18 * MiB          # dies while parts 3-4 are on the wire
        r = run_module('backup_upload', {'store': store, 'set_id': set_id, 'host': 'web1', 'src': src,
                                         'compression': 'none'})
        assert proxy.killed.is_set()
        assert r.failed, r
        assert r.msg.startswith('cannot reach the S3 endpoint at http://127.0.0.1:%d' % proxy.port), r.msg
        assert 'Traceback' not in r.stdout + r.stderr
        # nothing of the artifact is visible (its part stays declared, unfinished), and the set is not completed
        st = open_store(s3_params(moto, bucket))
        assert [i.key for i in st.list(set_id) if '/heartbeats/' not in i.key] == [
            set_id + '/status.json', set_id + '/web1/upload/big.img.part.json']
        assert lifecycle.read_manifest_bytes(st, set_id) is None
        left = leftovers(st)
        assert left in ([], ['backups/%s/web1/upload/big.img' % set_id])   # abort could not reach the server
        # the server comes back; the next run (breaking the dead run's lock) cleans up and marks it failed
        proxy.kill_after = None
        proxy.start()
        again = run_module('backup_set', {'state': 'started', 'store': store, 'break_lock': True})
        assert not again.failed, again
        assert leftovers(st) == []
        assert lifecycle.derived_status(st, set_id, set_format.utcnow())['status'] == set_format.FAILED
    finally:
        proxy.stop()


def test_abort_during_a_failed_part_aborts_the_upload(moto, s3, bucket):
    """A part fails (the server refuses it): the next write raises and abort removes the multipart upload."""
    st = open_store(s3_params(moto, bucket))
    w = st.open_write(SET + '/h/c/x')
    w.write(_data(6 * MiB))
    w._wait_all()
    assert len(leftovers(st)) == 1
    s3.abort_multipart_upload(Bucket=bucket, Key='backups/%s/h/c/x' % SET, UploadId=w.upload_id)  # breaks it
    with pytest.raises(LifeboatError, match='upload part 2'):
        w.write(_data(6 * MiB))
        w._wait_all()
        w.write(b'x')
    w.abort()
    assert leftovers(st) == [] and st.stat(SET + '/h/c/x') is None


# ---------------------------------------------------------------- memory

def test_upload_memory_is_bounded_and_independent_of_size(workdir):
    """Peak RSS of the backup_upload module process streaming 1 GiB and 2 GiB to S3 (moto in its own process):
    the same for both, and well under 256 MiB (default 16 MiB parts, 4 in flight)."""
    m = Moto()
    try:
        m.client('s3').create_bucket(Bucket='memtest')
        store = _store_arg(s3_params(m, 'memtest', part_size_mb=16, concurrency=4, max_attempts=3, timeout=60))
        set_id = run_module('backup_set', {'state': 'started', 'store': store})['set_id']
        peaks = {}
        for gib in (1, 2):
            src = sparse_file(os.path.join(workdir, '%dg.img' % gib), gib * 1024 * MiB)
            t0 = time.time()
            r = run_module('backup_upload', {'store': store, 'set_id': set_id, 'host': 'web1', 'src': src,
                                             'name': 'img%d' % gib, 'compression': 'none'},
                           wrapper=RSS_WRAPPER)
            assert not r.failed, r
            assert r['records'][0]['size'] == gib * 1024 * MiB
            peaks[gib] = r.max_rss_kib() / 1024.0
            print('%d GiB: peak RSS %.0f MiB, %.1f s' % (gib, peaks[gib], time.time() - t0))
            os.unlink(src)
            m.client('s3').delete_object(Bucket='memtest', Key='backups/' + r['records'][0]['key'])
        assert peaks[1] < 256 and peaks[2] < 256, peaks
        assert abs(peaks[2] - peaks[1]) < 24, peaks
    finally:
        m.stop()
