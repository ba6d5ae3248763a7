# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 store (AWS S3 and S3-compatible services): the store itself.

The client comes from the one AWS layer (_aws/client.py), errors are translated by _aws/errors.py;
streaming writes are s3_writer.py (multipart, bounded memory, nothing visible before
CompleteMultipartUpload), streaming reads s3_reader.py (parallel ranged GETs pinned to one ETag).
Exclusive writes (the store lock, a set's status, manifest and every part of an open set) are
conditional requests (If-None-Match: *), which AWS S3 makes atomic. See docs/stores.md for what is and
is not guaranteed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import uuid

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DeniedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    PROBE_PREFIX, ObjectInfo, Store, check_key, is_hidden, is_store_level)
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.s3_reader import S3Reader
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.s3_writer import (
    CONDITION_FAILED, MiB, S3Writer)

DELETE_BATCH = 1000
_NOT_FOUND = ('404', 'NoSuchKey', 'NotFound')
_DENIED = ('AccessDenied', 'AllAccessDisabled', '403', 'AccountProblem')


class S3Store(Store):
    type = 's3'

    def __init__(self, params):
        """``params``: a ``store`` option value checked by factory.validate_store."""
        if not aws_client.HAS_BOTO3:
            raise ConfigError('%s (import error: %s)'
                              % (missing_required_lib('boto3 (for store.type=s3)'), aws_client.BOTO3_IMPORT_ERROR))
        super(S3Store, self).__init__(params)
        self.bucket = params['bucket']
        self.endpoint_url = params.get('endpoint_url') or None
        self.region = params.get('region') or None
        self.part_size = int(params.get('part_size_mb') or 16) * MiB
        self.concurrency = int(params.get('concurrency') or 4)
        self.max_attempts = int(params.get('max_attempts') or 8)
        self.sse = params.get('sse') or 'AES256'
        self.kms_key_id = params.get('kms_key_id') or None
        self.storage_class = params.get('storage_class') or 'STANDARD'
        self.lock_mode = params.get('object_lock_mode') or None
        self.lock_days = params.get('object_lock_days')
        self._versioned = None
        self._client = None

    # ------------------------------------------------------------------ setup
    @property
    def client(self):
        if self._client is None:
            timeout = int(self.params.get('timeout') or 30)
            self._client, settings = aws_client.build_client(
                's3', self.params, option_prefix='store.', connect_timeout=timeout, read_timeout=max(60, timeout),
                max_pool_connections=max(10, self.concurrency + 4),
                # every body we send carries its SHA-256 in a signed x-amz-checksum-sha256 header, which binds
                # it to the signature: hashing it once more for SigV4 (what botocore does over plain http)
                # would only cost CPU
                s3=dict({'payload_signing_enabled': False}, **({'addressing_style': 'path'} if self.endpoint_url else {})))
            self.region = settings['region']
        return self._client

    def error(self, exc, action, key=None):
        """The typed error for a failed request about ``key`` (None: the bucket), or ``exc`` itself when it is
        not an AWS failure (then the caller re-raises it as it is)."""
        if key is None:
            where = 's3://%s' % self.bucket
        else:
            where = 's3://%s/%s' % (self.bucket, self.full(key) if key else self.prefix)
        context = aws_errors.Context('s3', action=action, where=where, region=self.region, endpoint_url=self.endpoint_url,
                                     attempts=self.max_attempts, bucket=self.bucket, key=key,
                                     profile=self.params.get('profile'))
        return aws_errors.translate(exc, context)

    def describe(self):
        where = 's3://%s/%s' % (self.bucket, self.prefix) if self.prefix else 's3://%s' % self.bucket
        if self.endpoint_url:
            where += ' at %s' % aws_errors.safe_url(self.endpoint_url)
        return 's3 store %s' % where

    def full(self, key):
        key = check_key(key)
        return self.prefix + '/' + key if self.prefix else key

    def _list_prefix(self, prefix):
        """The S3 prefix for everything below a relative prefix ('' = the whole store)."""
        if prefix:
            return self.full(prefix) + '/'
        return self.prefix + '/' if self.prefix else ''

    def _rel(self, full_key):
        return full_key[len(self.prefix) + 1:] if self.prefix else full_key

    def _sse_args(self):
        if self.sse == 'AES256':
            return {'ServerSideEncryption': 'AES256'}
        if self.sse == 'aws:kms':
            args = {'ServerSideEncryption': 'aws:kms'}
            if self.kms_key_id:
                args['SSEKMSKeyId'] = self.kms_key_id
            return args
        return {}

    def _put_args(self, key, artifact):
        args = self._sse_args()
        if artifact and self.storage_class and self.storage_class != 'STANDARD':
            args['StorageClass'] = self.storage_class
        if self.lock_mode and not is_store_level(key):
            # every object of a set; never the store lock (it must stay deletable)
            until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=int(self.lock_days))
            args['ObjectLockMode'] = self.lock_mode
            args['ObjectLockRetainUntilDate'] = until
        return args

    def _missing(self, exc):
        return aws_errors.error_code(exc) in _NOT_FOUND

    def ensure_retention(self, key, args):
        """Check a completed multipart object carries the Object Lock retention asked for at
        CreateMultipartUpload, and set it (PutObjectRetention) when the service dropped it."""
        if not args.get('ObjectLockMode'):
            return
        full = self.full(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=full)
            if head.get('ObjectLockMode') and head.get('ObjectLockRetainUntilDate'):
                return
            self.client.put_object_retention(
                Bucket=self.bucket, Key=full, VersionId=head.get('VersionId'),
                Retention={'Mode': args['ObjectLockMode'], 'RetainUntilDate': args['ObjectLockRetainUntilDate']})
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'set the Object Lock retention of', key)

    # ------------------------------------------------------------------ interface
    def check_writable(self):
        client = self.client
        try:
            # a GET (not HeadBucket): its error body tells a bad key id, a bad secret, a missing bucket,
            # a wrong region and a missing permission apart
            client.list_objects_v2(Bucket=self.bucket, Prefix=self._list_prefix(''), MaxKeys=1)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'list')
        if self.lock_mode:
            self._check_object_lock()
        probe = self.full(PROBE_PREFIX + uuid.uuid4().hex)
        try:
            res = client.put_object(Bucket=self.bucket, Key=probe, Body=b'lifeboat probe\n', ChecksumAlgorithm='SHA256',
                                    **self._sse_args())
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'write to')
        try:
            if res.get('VersionId'):
                client.delete_object(Bucket=self.bucket, Key=probe, VersionId=res['VersionId'])
            else:
                client.delete_object(Bucket=self.bucket, Key=probe)
        except Exception:  # pylint: disable=broad-except
            try:
                client.delete_object(Bucket=self.bucket, Key=probe)
            except Exception as exc:  # pylint: disable=broad-except
                raise self.error(exc, 'delete a probe object in')

    def _check_object_lock(self):
        try:
            conf = self.client.get_object_lock_configuration(Bucket=self.bucket).get('ObjectLockConfiguration', {})
        except Exception as exc:  # pylint: disable=broad-except
            if 'ObjectLockConfigurationNotFound' not in aws_errors.error_code(exc):
                raise self.error(exc, 'read the Object Lock configuration of')
            conf = {}
        if conf.get('ObjectLockEnabled') != 'Enabled':
            raise ConfigError('S3 bucket %r does not have Object Lock enabled, which store.object_lock_mode needs '
                              '(Object Lock is enabled when the bucket is created)' % self.bucket)

    def open_write(self, key, exclusive=False):
        self.full(key)
        return S3Writer(self, key, self._put_args(key, artifact=True), exclusive=exclusive)

    def open_read(self, key):
        self.full(key)
        return S3Reader(self, key)

    def get_bytes(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.full(key))['Body'].read()
        except Exception as exc:  # pylint: disable=broad-except
            if self._missing(exc):
                return None
            raise self.error(exc, 'read', key)

    def stat(self, key):
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.full(key))
        except Exception as exc:  # pylint: disable=broad-except
            if self._missing(exc):
                return None
            raise self.error(exc, 'look up', key)
        return ObjectInfo(key, int(head['ContentLength']), _timestamp(head.get('LastModified')))

    def _paginate(self, operation, action, **args):
        try:
            yield from self.client.get_paginator(operation).paginate(Bucket=self.bucket, **args)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, action, None)

    def list(self, prefix):
        for page in self._paginate('list_objects_v2', 'list', Prefix=self._list_prefix(prefix)):
            for obj in page.get('Contents', []):
                rel = self._rel(obj['Key'])
                if not rel or rel.endswith('/') or is_hidden(rel.rsplit('/', 1)[-1]):
                    continue
                yield ObjectInfo(rel, int(obj['Size']), _timestamp(obj.get('LastModified')))

    def list_children(self, prefix=''):
        below = self._list_prefix(prefix)
        names = set()
        for page in self._paginate('list_objects_v2', 'list', Prefix=below, Delimiter='/'):
            for common in page.get('CommonPrefixes', []):
                name = common['Prefix'][len(below):].rstrip('/')
                if name:
                    names.add(name)
            for obj in page.get('Contents', []):
                name = obj['Key'][len(below):]
                if name and not is_hidden(name):
                    names.add(name)
        return sorted(names)

    # -- deletes
    def versioned(self):
        """Whether the bucket keeps versions (then deleting a set object deletes all its versions)."""
        if self._versioned is None:
            try:
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get('Status')
                self._versioned = status in ('Enabled', 'Suspended')
            except Exception as exc:  # pylint: disable=broad-except
                if aws_errors.error_code(exc) not in _DENIED:
                    raise self.error(exc, 'read the versioning state of')
                self._versioned = False
        return self._versioned

    def delete(self, key):
        full = self.full(key)
        if is_store_level(key) or not self.versioned():
            # outside sets (the store lock): a plain DELETE (a delete marker in a versioned bucket)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=full)
            except Exception as exc:  # pylint: disable=broad-except
                raise self.error(exc, 'delete', key)
            return
        self._delete_batch(self._versions(full, exact=True))

    def delete_prefix(self, prefix):
        below = self._list_prefix(prefix)
        if not self.versioned():
            objs = [{'Key': obj['Key']} for page in self._paginate('list_objects_v2', 'list', Prefix=below)
                    for obj in page.get('Contents', [])]
            self._delete_batch(objs)
            return len(objs)
        versions = self._versions(below, exact=False)
        self._delete_batch(versions)
        return len({version['Key'] for version in versions})

    def delete_many(self, keys):
        """DeleteObjects, 1,000 keys a call; in a versioned bucket every version of each key (found with one listing
        of the versions below the keys' common prefix). Returns {key: error} for the keys S3 refused (Object Lock)."""
        keys = list(keys)
        if not keys:
            return {}
        if self.versioned():
            wanted = {self.full(key): key for key in keys}
            common = os.path.commonprefix(sorted(wanted))
            common = common[:common.rfind('/') + 1] if '/' in common else ''
            objs = [version for version in self._versions(common, exact=False) if version['Key'] in wanted]
        else:
            wanted = {self.full(key): key for key in keys}
            objs = [{'Key': full} for full in wanted]
        failed = {}
        for start in range(0, len(objs), DELETE_BATCH):
            batch = objs[start:start + DELETE_BATCH]
            try:
                res = self.client.delete_objects(Bucket=self.bucket, Delete={'Objects': batch, 'Quiet': True})
            except Exception as exc:  # pylint: disable=broad-except
                error = self.error(exc, 'delete objects in')
                failed.update({wanted[item['Key']]: error for item in batch})
                continue
            for err in res.get('Errors') or []:
                key = wanted.get(err.get('Key'))
                if key is not None and key not in failed:
                    failed[key] = self._delete_error([err], batch)
        return failed

    def _versions(self, prefix, exact):
        found = []
        for page in self._paginate('list_object_versions', 'list the versions in', Prefix=prefix):
            for version in page.get('Versions', []) + page.get('DeleteMarkers', []):
                if exact and version['Key'] != prefix:
                    continue
                found.append({'Key': version['Key'], 'VersionId': version['VersionId']})
        return found

    def _delete_batch(self, objs):
        for start in range(0, len(objs), DELETE_BATCH):
            batch = objs[start:start + DELETE_BATCH]
            try:
                res = self.client.delete_objects(Bucket=self.bucket, Delete={'Objects': batch, 'Quiet': True})
            except Exception as exc:  # pylint: disable=broad-except
                raise self.error(exc, 'delete objects in')
            errors = res.get('Errors') or []
            if errors:
                raise self._delete_error(errors, batch)

    def _delete_error(self, errors, batch):
        first = errors[0]
        key = first.get('Key')
        rel = self._rel(key) if key else '?'
        locked = [err for err in errors if 'lock' in (err.get('Message') or '').lower()]
        if locked or first.get('Code') in _DENIED:
            version = first.get('VersionId') or next((item.get('VersionId') for item in batch
                                                      if item['Key'] == key and item.get('VersionId')), None)
            lock = self._retention(key, version)
            if locked or lock:
                until = lock.get('until') if lock else None
                return DeniedError(
                    'cannot delete %s (and %d more) from the %s: it is protected by S3 Object Lock%s. It can only be '
                    'deleted after its retention ends' % (
                        rel, len(errors) - 1, self.describe(),
                        ' (%s until %s)' % (lock.get('mode'), until) if until else
                        (' (legal hold)' if lock and lock.get('legal_hold') else '')),
                    reason='object_locked', retain_until=until)
        return LifeboatError('cannot delete %s (and %d more) from the %s: S3 %s %s' % (
            rel, len(errors) - 1, self.describe(), first.get('Code'), first.get('Message') or ''))

    def _retention(self, full_key, version_id):
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=full_key,
                                           **({'VersionId': version_id} if version_id else {}))
        except Exception as exc:  # pylint: disable=broad-except
            if aws_errors.is_aws_error(exc):
                return None  # only to explain a failed delete: without it the plain message stands
            raise
        until = head.get('ObjectLockRetainUntilDate')
        hold = head.get('ObjectLockLegalHoldStatus') == 'ON'
        if not until and not hold:
            return None
        if until is not None and hasattr(until, 'astimezone'):
            until = until.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        return {'mode': head.get('ObjectLockMode'), 'until': until, 'legal_hold': hold}

    def put_bytes(self, key, data, exclusive=False):
        """One PutObject (metadata objects stay STANDARD); conditional (If-None-Match: *) when exclusive."""
        args = self._put_args(key, artifact=False)
        if exclusive:
            args['IfNoneMatch'] = '*'
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.full(key), Body=bytes(data),
                                   ChecksumAlgorithm='SHA256', **args)
        except Exception as exc:  # pylint: disable=broad-except
            if exclusive and aws_errors.error_code(exc) in CONDITION_FAILED:
                return False
            raise self.error(exc, 'write', key)
        return True

    def cleanup_incomplete(self, prefixes):
        """Abort the multipart uploads left below ``prefixes`` (the open sets) by interrupted runs.

        Called with the store lock held (no other run writes), so every upload still open there belongs
        to a run that died. Best effort: returns the number aborted.
        """
        aborted = 0
        for prefix in prefixes:
            try:
                pages = list(self._paginate('list_multipart_uploads', 'list incomplete uploads in',
                                            Prefix=self._list_prefix(prefix)))
            except LifeboatError:
                continue
            for page in pages:
                for upload in page.get('Uploads', []):
                    try:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload['Key'],
                                                           UploadId=upload['UploadId'])
                        aborted += 1
                    except Exception as exc:  # pylint: disable=broad-except
                        if not aws_errors.is_aws_error(exc):
                            raise
        return aborted

    def close(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pylint: disable=broad-except
                pass  # closing the connection pool: nothing depends on it
            self._client = None


def _timestamp(when):
    if when is None:
        return 0.0
    try:
        return when.timestamp()
    except (AttributeError, ValueError):
        return 0.0
