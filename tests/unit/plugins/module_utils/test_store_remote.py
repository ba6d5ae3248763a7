# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the S3 and SFTP stores and of upload/fetch (no server needed: the servers are in
tests/integration/stores)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC, open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors
from ansible_collections.lifeboat.backup.plugins.module_utils._stores import s3_writer
from ansible_collections.lifeboat.backup.plugins.module_utils._files import upload

MiB = 1024 * 1024
TiB = 1024 * 1024 * MiB


def params(**kw):
    p = {k: v.get('default') for k, v in STORE_SPEC.items()}
    p.update(kw)
    return p


def test_part_sizes_stay_within_s3_limits_for_unknown_lengths():
    for base_mb in (5, 16, 64, 5120):
        base = base_mb * MiB
        sizes = [s3_writer.part_size_for(n, base) for n in range(1, s3_writer.MAX_PARTS + 1)]
        assert all(s3_writer.MIN_PART <= x <= s3_writer.MAX_PART for x in sizes)
        assert sizes == sorted(sizes)                       # parts only ever grow
        assert sizes[:1000] == [base] * 1000                # the first 1000 parts keep the configured size
    assert s3_writer.part_size_for(1001, 16 * MiB) == 32 * MiB
    assert s3_writer.max_object_size(16 * MiB) >= 5 * TiB          # the default reaches the S3 object limit
    assert s3_writer.max_object_size(5 * MiB) > 4.8 * TiB


@pytest.mark.parametrize('kw, msg', [
    (dict(part_size_mb=4), 'part_size_mb must be between 5 and 5120'),
    (dict(concurrency=0), 'concurrency must be between 1 and 64'),
    (dict(access_key='AKIA'), 'access_key and store.secret_key must be given together'),
    (dict(profile='p', access_key='a', secret_key='b'), 'either store.profile or'),
    (dict(kms_key_id='k'), 'kms_key_id is only used with store.sse=aws:kms'),
    (dict(object_lock_mode='COMPLIANCE'), 'object_lock_mode and store.object_lock_days'),
    (dict(object_lock_mode='COMPLIANCE', object_lock_days=0), 'object_lock_mode and store.object_lock_days'),
    (dict(bucket='Bad Bucket!'), 'not a valid S3 bucket name'),
])
def test_s3_options_are_checked_before_any_request(kw, msg):
    p = params(type='s3', bucket='b-ok')
    p.update(kw)
    with pytest.raises(LifeboatError, match=msg):
        open_store(p)


def test_s3_keys_retention_and_encryption_args():
    st = open_store(params(type='s3', bucket='bkt', prefix='/a/b/', sse='aws:kms', kms_key_id='alias/k',
                           object_lock_mode='GOVERNANCE', object_lock_days=3, storage_class='GLACIER_IR'))
    assert st.full('20261122T031500Z/x') == 'a/b/20261122T031500Z/x'
    assert st._list_prefix('') == 'a/b/' and st._list_prefix('s') == 'a/b/s/'
    inside = st._put_args('20261122T031500Z/web1/files/a.tar.zst', artifact=True)
    assert inside['ObjectLockMode'] == 'GOVERNANCE' and inside['StorageClass'] == 'GLACIER_IR'
    assert inside['ServerSideEncryption'] == 'aws:kms' and inside['SSEKMSKeyId'] == 'alias/k'
    meta = st._put_args('20261122T031500Z/status.json', artifact=False)
    assert 'StorageClass' not in meta and meta['ObjectLockMode'] == 'GOVERNANCE'
    lock = st._put_args('lock.json', artifact=False)       # the store lock: never retained
    assert 'ObjectLockMode' not in lock and lock['ServerSideEncryption'] == 'aws:kms'
    assert open_store(params(type='s3', bucket='bkt', sse='none'))._sse_args() == {}
    assert aws_errors.safe_url('https://user:pw@minio.example:9000/x') == 'https://minio.example:9000/x'


def test_sftp_paths_and_description():
    st = open_store(params(type='sftp', host='backup.example', user='lb', path='/srv/sets', prefix='prod'))
    assert st.root == '/srv/sets/prod'
    assert st._path('20261122T031500Z/web1/x') == '/srv/sets/prod/20261122T031500Z/web1/x'
    assert st.describe() == 'sftp store lb@backup.example:/srv/sets/prod'
    with pytest.raises(LifeboatError, match='invalid store key'):
        st._path('../x')


def test_upload_names():
    assert upload.safe_name('vendor.bak') == ('vendor.bak', None)
    safe, original = upload.safe_name('my "db" ü')
    assert original == 'my "db" ü' and safe.startswith('my_db-') and len(safe) == len('my_db-') + 10
    assert upload.safe_name('my "db" ü') == (safe, original)          # stable
    assert upload.safe_name('.hidden')[0][0].isalnum()
    assert upload.default_name('/var/tmp/export/') == 'export'
    rec = {'key': 's/h/upload/export.tar.gz', 'name': 'export', 'format': 'tar'}
    assert upload.fetch_filename(rec, True) == 'export.tar'
    assert upload.fetch_filename(rec, False) == 'export.tar.gz'
    rec = {'key': 's/h/upload/x-1.zst', 'name': 'x-1', 'format': 'raw', 'extra': {'original_name': 'a/../b c'}}
    assert upload.fetch_filename(rec, True) == 'b c'
