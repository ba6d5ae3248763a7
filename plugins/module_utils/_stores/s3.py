# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 store (AWS S3 and S3-compatible services), the boto3 adapter.

Writes stream: an artifact is cut into parts of ``part_size_mb`` as it arrives and the parts are
uploaded by a small thread pool (multipart upload, SHA-256 checksum per part), so memory stays about
part size x (concurrency + 1) whatever the artifact size. Nothing is visible until
CompleteMultipartUpload (commit); abort or any failure aborts the upload. Objects smaller than one
part are one PutObject. Reads stream too (parallel ranged GETs with bounded read-ahead).

Exclusive small writes use a conditional PutObject (If-None-Match: *), which AWS S3 makes atomic.
See docs/stores.md for what is and is not guaranteed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import datetime
import re
import threading
import time
import uuid

try:
    import boto3
    from botocore.config import Config
    from botocore import exceptions as bcx
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as _e:  # pragma: no cover - depends on the host
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = _e

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    ObjectInfo, Reader, Store, Writer, check_key)
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

MiB = 1024 * 1024
MIN_PART = 5 * MiB                   # S3: every part but the last must be at least 5 MiB
MAX_PART = 5 * 1024 * MiB            # S3: at most 5 GiB per part
MAX_PARTS = 10000                    # S3: at most 10,000 parts per upload
PARTS_PER_STEP = 1000                # part size doubles every 1000 parts (see part_size_for)
PROBE_MARK = '.lifeboat-probe-'
HIDDEN_MARK = '.lifeboat-'
DELETE_BATCH = 1000

_NOT_FOUND = ('404', 'NoSuchKey', 'NotFound')
_DENIED = ('AccessDenied', 'AllAccessDisabled', '403', 'AccountProblem')


def part_size_for(part_number, base):
    """Size of part ``part_number`` (1-based) for a stream of unknown length.

    Parts keep the configured size for the first 1000 parts, then double every 1000 parts (capped at
    5 GiB), so 10,000 parts hold more than 5 TiB (the S3 object limit) from a 5 MiB start, while
    artifacts below 1000 x part size never see a bigger part.
    """
    return min(MAX_PART, base * (2 ** ((part_number - 1) // PARTS_PER_STEP)))


def max_object_size(base):
    return sum(part_size_for(n, base) for n in range(1, MAX_PARTS + 1))


def _safe_url(url):
    """An endpoint URL without user:password@."""
    return re.sub(r'//[^/@]*@', '//', url or '')


def _code(e):
    return str(e.response.get('Error', {}).get('Code', '')) if hasattr(e, 'response') else ''


class _Ctx(object):
    """What a request was about, for error messages."""

    def __init__(self, store, action, key=None):
        self.store = store
        self.action = action
        self.key = key

    def where(self):
        if self.key is None:
            return 's3://%s' % self.store.bucket
        return 's3://%s/%s' % (self.store.bucket, self.store.full(self.key) if self.key else self.store.prefix)


def s3_error(e, store, action, key=None):
    """One readable LifeboatError for any boto3/botocore exception (no secrets, no traceback)."""
    ctx = _Ctx(store, action, key)
    where = ctx.where()
    ep = ' at %s' % _safe_url(store.endpoint_url) if store.endpoint_url else ''
    if isinstance(e, LifeboatError):
        return e
    if isinstance(e, (bcx.NoCredentialsError, bcx.PartialCredentialsError)):
        return LifeboatError('no usable AWS credentials for the S3 store (%s): set store.access_key and '
                             'store.secret_key, or store.profile, or give the host an instance role' % e.__class__.__name__)
    if isinstance(e, bcx.ProfileNotFound):
        return LifeboatError('AWS profile %r (store.profile) is not configured on this host' % store.params.get('profile'))
    if isinstance(e, (bcx.EndpointConnectionError, bcx.ConnectTimeoutError, bcx.ConnectionClosedError,
                      bcx.ReadTimeoutError, bcx.ProxyConnectionError, bcx.SSLError)):
        kind = 'timed out' if isinstance(e, (bcx.ConnectTimeoutError, bcx.ReadTimeoutError)) else 'failed'
        n = store.max_attempts
        return LifeboatError('cannot reach the S3 endpoint%s while trying to %s %s: the connection %s after %d '
                             'attempt%s (%s)' % (ep or ' of bucket %s' % store.bucket, action, where, kind, n,
                                                 '' if n == 1 else 's', e.__class__.__name__),
                             reason='unreachable')
    if isinstance(e, bcx.ParamValidationError):
        return LifeboatError('invalid S3 request to %s %s: %s' % (action, where, e))
    if isinstance(e, bcx.ClientError):
        code = _code(e)
        msg = e.response.get('Error', {}).get('Message', '') or ''
        status = e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        if code in ('NoSuchBucket',) or (code in ('404', 'NotFound') and key is None):
            return LifeboatError('S3 bucket %r does not exist%s (store.bucket)' % (store.bucket, ep),
                                 reason='no_such_bucket')
        if code in ('InvalidAccessKeyId',):
            return LifeboatError('S3%s rejected the AWS access key id: it does not exist (InvalidAccessKeyId); check '
                                 'store.access_key or the credentials of the host' % ep, reason='bad_credentials')
        if code in ('SignatureDoesNotMatch',):
            return LifeboatError('S3%s rejected the request signature (SignatureDoesNotMatch): the secret key does '
                                 'not match the access key id; check store.secret_key' % ep, reason='bad_credentials')
        if code in ('ExpiredToken', 'InvalidToken', 'TokenRefreshRequired'):
            return LifeboatError('S3%s rejected the session token (%s): refresh the temporary credentials' % (ep, code),
                                 reason='bad_credentials')
        if code in _DENIED:
            return LifeboatError('access denied to %s %s (S3 %s): the credentials lack a permission this needs; '
                                 'docs/stores.md lists the IAM permissions' % (action, where, code or status),
                                 reason='access_denied')
        if code.startswith('KMS') or 'KMS' in code:
            return LifeboatError('S3 could not use the KMS key (store.kms_key_id) to %s %s: %s %s'
                                 % (action, where, code, msg), reason='kms')
        if code in ('PreconditionFailed', '412') and action == 'read':
            return LifeboatError('%s changed while it was being read (it no longer has the ETag it had when the '
                                 'read started); nothing read from it is used' % where, reason='changed')
        if code == 'InvalidObjectState':
            return LifeboatError('%s is archived in a storage class that cannot be read directly (%s): restore it '
                                 'from Glacier first' % (where, msg or code))
        if code in ('PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException', '301'):
            return LifeboatError('S3 bucket %r is in another region than %r: set store.region to the bucket region (%s)'
                                 % (store.bucket, store.region, code))
        if code in _NOT_FOUND:
            return LifeboatError('%s is not in the store' % where, reason='not_found')
        detail = ' (%s)' % msg if msg else ''
        return LifeboatError('S3 error while trying to %s %s: %s%s' % (action, where, code or status, detail))
    if isinstance(e, bcx.BotoCoreError):
        return LifeboatError('S3 error while trying to %s %s: %s' % (action, where, e))
    return LifeboatError('unexpected error while trying to %s %s: %s: %s' % (action, where, e.__class__.__name__, e))


class _S3Writer(Writer):
    """Streaming multipart upload with bounded memory.

    write() fills one part buffer; a full part goes to the thread pool. At most about
    ``part_size x concurrency`` bytes are in flight (a byte budget, so bigger parts late in a long
    stream are uploaded with less parallelism rather than more memory); write() blocks while the
    budget is used up. The first failed part fails the writer: the next write()/commit() raises and
    the multipart upload is aborted.
    """

    def __init__(self, store, key, extra_args):
        self.store = store
        self.key = key
        self.full = store.full(key)
        self.extra_args = extra_args
        self.base = store.part_size
        self.budget = store.part_size * store.concurrency
        self.upload_id = None
        self.next_part = 1
        self.cur_size = part_size_for(1, self.base)
        self.spare = []            # part buffers back from finished uploads, reused (no alloc/free churn)
        self.buf = bytearray(self.cur_size)
        self.pos = 0
        self.size = 0
        self.parts = {}
        self.pool = None
        self.cond = threading.Condition()
        self.inflight = 0
        self.inflight_bytes = 0
        self.error = None
        self.closed = False

    # -- background part uploads
    def _upload(self, number, body):
        c = self.store.client
        try:
            r = c.upload_part(Bucket=self.store.bucket, Key=self.full, UploadId=self.upload_id, PartNumber=number,
                              Body=body, ChecksumAlgorithm='SHA256')
            part = {'PartNumber': number, 'ETag': r['ETag']}
            if r.get('ChecksumSHA256'):
                part['ChecksumSHA256'] = r['ChecksumSHA256']
            with self.cond:
                self.parts[number] = part
        except Exception as e:  # pylint: disable=broad-except
            with self.cond:
                if self.error is None:
                    self.error = s3_error(e, self.store, 'upload part %d of' % number, self.key)
        finally:
            with self.cond:
                self.inflight -= 1
                self.inflight_bytes -= len(body)
                if len(body) == self.cur_size and len(self.spare) < 2:
                    self.spare.append(body)
                self.cond.notify_all()

    def _raise_failed(self):
        if self.error is not None:
            raise self.error

    def _start(self):
        args = dict(self.extra_args)
        try:
            r = self.store.client.create_multipart_upload(Bucket=self.store.bucket, Key=self.full,
                                                          ChecksumAlgorithm='SHA256', **args)
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self.store, 'start an upload to', self.key)
        self.upload_id = r['UploadId']
        self.pool = ThreadPoolExecutor(max_workers=self.store.concurrency)

    def _submit(self, body):
        if self.upload_id is None:
            self._start()
        number = self.next_part
        if number > MAX_PARTS:
            raise LifeboatError('%s: the artifact %s is larger than the S3 object limit (%d bytes so far)'
                                % (self.store.describe(), self.key, self.size))
        with self.cond:
            while self.inflight and self.inflight_bytes + len(body) > self.budget and self.error is None:
                self.cond.wait()
            self._raise_failed()
            self.inflight += 1
            self.inflight_bytes += len(body)
        self.next_part += 1
        self.pool.submit(self._upload, number, body)

    def write(self, data):
        if self.closed:
            raise LifeboatError('write after commit/abort of %s' % self.key)
        self._raise_failed()
        view = memoryview(data)
        while len(view):
            room = self.cur_size - self.pos
            n = min(room, len(view))
            self.buf[self.pos:self.pos + n] = view[:n]
            self.pos += n
            self.size += n
            view = view[n:]
            if self.pos == self.cur_size:
                body, self.buf = self.buf, None
                self._submit(body)
                self.cur_size = part_size_for(self.next_part, self.base)
                with self.cond:
                    spare = self.spare.pop() if self.spare else None
                    if spare is None or len(spare) != self.cur_size:
                        self.spare = []
                        spare = None
                self.buf = spare if spare is not None else bytearray(self.cur_size)
                self.pos = 0

    def _wait_all(self):
        with self.cond:
            while self.inflight:
                self.cond.wait()

    def commit(self):
        if self.closed:
            raise LifeboatError('commit after commit/abort of %s' % self.key)
        self._raise_failed()
        if self.upload_id is None:
            body = self.buf
            del body[self.pos:]
            self.buf = None
            try:
                self.store.client.put_object(Bucket=self.store.bucket, Key=self.full, Body=body,
                                             ChecksumAlgorithm='SHA256', **self.extra_args)
            except Exception as e:  # pylint: disable=broad-except
                self.closed = True
                raise s3_error(e, self.store, 'write', self.key)
            self.closed = True
            self.committed = True
            return
        if self.pos:
            body = self.buf
            del body[self.pos:]
            self.buf = None
            self._submit(body)
        self.buf = None
        self._wait_all()
        self.spare = []
        self._raise_failed()
        parts = [self.parts[n] for n in sorted(self.parts)]
        if len(parts) != self.next_part - 1:
            raise LifeboatError('%s: %d of %d parts of %s were uploaded'
                                % (self.store.describe(), len(parts), self.next_part - 1, self.key))
        try:
            self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=self.full,
                                                        UploadId=self.upload_id, MultipartUpload={'Parts': parts})
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self.store, 'complete the upload of', self.key)
        self.closed = True
        self.committed = True
        self._shutdown()
        self.store.ensure_retention(self.key, self.extra_args)

    def _shutdown(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None

    def abort(self):
        """Stop, wait for parts in flight (they are bounded by the retry policy), abort the upload."""
        if self.committed:
            return
        self.closed = True
        self.buf = None
        with self.cond:
            self.spare = []
            if self.error is None:
                self.error = LifeboatError('upload of %s was aborted' % self.key)
        self._wait_all()
        self._shutdown()
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            try:
                self.store.client.abort_multipart_upload(Bucket=self.store.bucket, Key=self.full, UploadId=upload_id)
            except Exception as e:  # pylint: disable=broad-except
                err = s3_error(e, self.store, 'abort the incomplete upload of', self.key)
                if getattr(err, 'details', {}).get('reason') == 'not_found' or _code(e) == 'NoSuchUpload':
                    return
                raise LifeboatError('%s; the incomplete upload stays invisible and is removed by the next backup run '
                                    '(or by an AbortIncompleteMultipartUpload lifecycle rule)' % err.msg)


class _S3Reader(Reader):
    """Streaming download. Large objects: ranged GETs of part size, ``concurrency`` ranges ahead,
    consumed in order (memory ~ part size x (concurrency + 1)); every range is pinned to the ETag seen
    at open, so an object replaced mid-read fails instead of mixing versions. Small objects, or
    concurrency 1: one streaming GET that resumes with a Range request after a dropped connection.
    """

    def __init__(self, store, key):
        self.store = store
        self.key = key
        self.full = store.full(key)
        try:
            head = store.client.head_object(Bucket=store.bucket, Key=self.full)
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, store, 'read', key)
        self.size = int(head['ContentLength'])
        self.etag = head.get('ETag')
        self.offset = 0          # bytes handed to the caller
        self.cur = b''
        self.cur_pos = 0
        self.body = None
        self.pool = None
        self.pending = collections.deque()
        self.next_range = 0
        self.range_size = store.part_size
        self.ranged = store.concurrency > 1 and self.size > self.range_size
        if self.ranged:
            self.pool = ThreadPoolExecutor(max_workers=store.concurrency)
            for _i in range(store.concurrency):
                self._schedule()

    def _get(self, **kw):
        if self.etag:
            kw['IfMatch'] = self.etag
        return self.store.client.get_object(Bucket=self.store.bucket, Key=self.full, **kw)

    def _schedule(self):
        if self.next_range >= self.size:
            return
        start = self.next_range
        end = min(self.size, start + self.range_size) - 1
        self.next_range = end + 1
        self.pending.append(self.pool.submit(self._fetch, start, end))

    def _fetch(self, start, end):
        want = end - start + 1
        last = None
        for attempt in range(self.store.max_attempts):
            try:
                data = self._get(Range='bytes=%d-%d' % (start, end))['Body'].read()
                if len(data) == want:
                    return data
                last = LifeboatError('short read of %s: %d of %d bytes at offset %d'
                                     % (self.key, len(data), want, start))
            except bcx.ClientError as e:
                raise s3_error(e, self.store, 'read', self.key)
            except Exception as e:  # pylint: disable=broad-except
                last = e
            time.sleep(min(10.0, 0.2 * (2 ** attempt)))
        raise s3_error(last, self.store, 'read', self.key)

    def _refill(self):
        if self.ranged:
            if not self.pending:
                return False
            fut = self.pending.popleft()
            self.cur = fut.result()
            self.cur_pos = 0
            self._schedule()
            return True
        return False

    def _read_stream(self, n):
        attempts = 0
        while True:
            try:
                if self.body is None:
                    if self.offset >= self.size:
                        return b''
                    kw = {}
                    if self.offset:
                        kw['Range'] = 'bytes=%d-' % self.offset
                    self.body = self._get(**kw)['Body']
                data = self.body.read(n)
                if not data and self.offset < self.size:
                    raise LifeboatError('the download of %s ended at %d of %d bytes' % (self.key, self.offset,
                                                                                        self.size))
                return data
            except bcx.ClientError as e:
                raise s3_error(e, self.store, 'read', self.key)
            except Exception as e:  # pylint: disable=broad-except
                self._close_body()
                attempts += 1
                if attempts >= self.store.max_attempts:
                    raise s3_error(e, self.store, 'read', self.key)
                time.sleep(min(10.0, 0.2 * (2 ** attempts)))

    def read(self, n):
        if not self.ranged:
            data = self._read_stream(n)
            self.offset += len(data)
            return data
        if self.cur_pos >= len(self.cur):
            self.cur = b''
            try:
                if not self._refill():
                    return b''
            except BaseException:
                self.close()
                raise
        data = self.cur[self.cur_pos:self.cur_pos + n]
        self.cur_pos += len(data)
        self.offset += len(data)
        return data

    def _close_body(self):
        if self.body is not None:
            try:
                self.body.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self.body = None

    def close(self):
        self._close_body()
        for fut in self.pending:
            fut.cancel()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        self.cur = b''


class S3Store(Store):
    type = 's3'

    def __init__(self, params):
        if not HAS_BOTO3:
            raise LifeboatError('%s (import error: %s)'
                                % (missing_required_lib('boto3 (for store.type=s3)'), BOTO3_IMPORT_ERROR))
        super(S3Store, self).__init__(params)
        self.bucket = params['bucket']
        self.endpoint_url = params.get('endpoint_url') or None
        self.region = params.get('region') or None
        self._validate(params)
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
    @staticmethod
    def _validate(p):
        def bad(msg):
            raise LifeboatError(msg)
        if not re.match(r'^[A-Za-z0-9][A-Za-z0-9.\-_]{1,254}$', p['bucket'] or ''):
            bad('store.bucket %r is not a valid S3 bucket name' % (p['bucket'],))
        ps = p.get('part_size_mb')
        if ps is not None and not 5 <= int(ps) <= 5120:
            bad('store.part_size_mb must be between 5 and 5120 (S3 part limits), got %s' % ps)
        c = p.get('concurrency')
        if c is not None and not 1 <= int(c) <= 64:
            bad('store.concurrency must be between 1 and 64, got %s' % c)
        m = p.get('max_attempts')
        if m is not None and not 1 <= int(m) <= 50:
            bad('store.max_attempts must be between 1 and 50, got %s' % m)
        if bool(p.get('access_key')) != bool(p.get('secret_key')):
            bad('store.access_key and store.secret_key must be given together')
        if p.get('session_token') and not p.get('access_key'):
            bad('store.session_token needs store.access_key and store.secret_key')
        if p.get('profile') and p.get('access_key'):
            bad('use either store.profile or store.access_key/secret_key, not both')
        if p.get('kms_key_id') and (p.get('sse') or 'AES256') != 'aws:kms':
            bad('store.kms_key_id is only used with store.sse=aws:kms (it is %s)' % (p.get('sse') or 'AES256'))
        if bool(p.get('object_lock_mode')) != bool(p.get('object_lock_days')):
            bad('store.object_lock_mode and store.object_lock_days must be given together')
        if p.get('object_lock_days') is not None and int(p['object_lock_days']) < 1:
            bad('store.object_lock_days must be at least 1')

    @property
    def client(self):
        if self._client is None:
            kw = {}
            if self.params.get('profile'):
                kw['profile_name'] = self.params['profile']
            if self.params.get('access_key'):
                kw['aws_access_key_id'] = self.params['access_key']
                kw['aws_secret_access_key'] = self.params['secret_key']
                if self.params.get('session_token'):
                    kw['aws_session_token'] = self.params['session_token']
            timeout = int(self.params.get('timeout') or 30)
            cfg = Config(
                retries={'mode': 'standard', 'max_attempts': self.max_attempts},
                max_pool_connections=max(10, self.concurrency + 4),
                connect_timeout=timeout,
                read_timeout=max(60, timeout),
                # every body we send carries its SHA-256 in a signed x-amz-checksum-sha256 header, which binds
                # it to the signature: hashing it once more for SigV4 (what botocore does over plain http)
                # would only cost CPU
                s3=dict({'payload_signing_enabled': False},
                        **({'addressing_style': 'path'} if self.endpoint_url else {})),
                user_agent_extra='lifeboat.backup',
            )
            try:
                session = boto3.session.Session(**kw)
                region = self.region or session.region_name or ('us-east-1' if self.endpoint_url else None)
                self.region = region
                self._client = session.client('s3', region_name=region, endpoint_url=self.endpoint_url,
                                              verify=self.params.get('validate_certs', True), config=cfg)
            except Exception as e:  # pylint: disable=broad-except
                if isinstance(e, ValueError) and 'endpoint' in str(e).lower():
                    raise LifeboatError('store.endpoint_url %r is not a valid URL' % _safe_url(self.endpoint_url))
                raise s3_error(e, self, 'connect to')
        return self._client

    def describe(self):
        where = 's3://%s/%s' % (self.bucket, self.prefix) if self.prefix else 's3://%s' % self.bucket
        if self.endpoint_url:
            where += ' at %s' % _safe_url(self.endpoint_url)
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

    def _in_set(self, key):
        return set_format.is_set_id(key.split('/', 1)[0]) and '/' in key

    def _put_args(self, key, artifact):
        args = self._sse_args()
        if artifact and self.storage_class and self.storage_class != 'STANDARD':
            args['StorageClass'] = self.storage_class
        if self.lock_mode and self._in_set(key):
            # every object a set writes; never the store lock (it must stay deletable)
            until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=int(self.lock_days))
            args['ObjectLockMode'] = self.lock_mode
            args['ObjectLockRetainUntilDate'] = until
        return args

    def ensure_retention(self, key, args):
        """Check a completed multipart object carries the Object Lock retention asked for at
        CreateMultipartUpload, and set it (PutObjectRetention) when the service dropped it."""
        if not args.get('ObjectLockMode'):
            return
        full = self.full(key)
        try:
            h = self.client.head_object(Bucket=self.bucket, Key=full)
            if h.get('ObjectLockMode') and h.get('ObjectLockRetainUntilDate'):
                return
            self.client.put_object_retention(
                Bucket=self.bucket, Key=full, VersionId=h.get('VersionId'),
                Retention={'Mode': args['ObjectLockMode'], 'RetainUntilDate': args['ObjectLockRetainUntilDate']})
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self, 'set the Object Lock retention of', key)

    # ------------------------------------------------------------------ interface
    def check_writable(self):
        c = self.client
        try:
            # a GET (not HeadBucket): its error body tells a bad key id, a bad secret, a missing bucket,
            # a wrong region and a missing permission apart
            c.list_objects_v2(Bucket=self.bucket, Prefix=self._list_prefix(''), MaxKeys=1)
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self, 'list')
        if self.lock_mode:
            try:
                conf = c.get_object_lock_configuration(Bucket=self.bucket).get('ObjectLockConfiguration', {})
            except Exception as e:  # pylint: disable=broad-except
                if isinstance(e, bcx.ClientError) and 'ObjectLockConfigurationNotFound' in _code(e):
                    conf = {}
                else:
                    raise s3_error(e, self, 'read the Object Lock configuration of')
            if conf.get('ObjectLockEnabled') != 'Enabled':
                raise LifeboatError('S3 bucket %r does not have Object Lock enabled, which store.object_lock_mode '
                                    'needs (Object Lock is enabled when the bucket is created)' % self.bucket)
        probe = self.full(PROBE_MARK + uuid.uuid4().hex)
        try:
            r = c.put_object(Bucket=self.bucket, Key=probe, Body=b'lifeboat probe\n', ChecksumAlgorithm='SHA256',
                             **self._sse_args())
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self, 'write to')
        try:
            if r.get('VersionId'):
                c.delete_object(Bucket=self.bucket, Key=probe, VersionId=r['VersionId'])
            else:
                c.delete_object(Bucket=self.bucket, Key=probe)
        except Exception:  # pylint: disable=broad-except
            try:
                c.delete_object(Bucket=self.bucket, Key=probe)
            except Exception as e:  # pylint: disable=broad-except
                raise s3_error(e, self, 'delete a probe object in')

    def open_write(self, key):
        self.full(key)
        return _S3Writer(self, key, self._put_args(key, artifact=True))

    def open_read(self, key):
        self.full(key)
        return _S3Reader(self, key)

    def get_bytes(self, key):
        try:
            r = self.client.get_object(Bucket=self.bucket, Key=self.full(key))
            return r['Body'].read()
        except Exception as e:  # pylint: disable=broad-except
            if isinstance(e, bcx.ClientError) and _code(e) in _NOT_FOUND:
                return None
            raise s3_error(e, self, 'read', key)

    def stat(self, key):
        try:
            h = self.client.head_object(Bucket=self.bucket, Key=self.full(key))
        except Exception as e:  # pylint: disable=broad-except
            if isinstance(e, bcx.ClientError) and _code(e) in _NOT_FOUND:
                return None
            raise s3_error(e, self, 'look up', key)
        return ObjectInfo(key, int(h['ContentLength']), _ts(h.get('LastModified')))

    def _paginate(self, op, action, **kw):
        try:
            yield from self.client.get_paginator(op).paginate(Bucket=self.bucket, **kw)
        except Exception as e:  # pylint: disable=broad-except
            raise s3_error(e, self, action, None)

    def list(self, prefix):
        pfx = self._list_prefix(prefix)
        for page in self._paginate('list_objects_v2', 'list', Prefix=pfx):
            for o in page.get('Contents', []):
                rel = self._rel(o['Key'])
                if not rel or rel.endswith('/') or rel.rsplit('/', 1)[-1].startswith(HIDDEN_MARK):
                    continue
                yield ObjectInfo(rel, int(o['Size']), _ts(o.get('LastModified')))

    def list_children(self, prefix=''):
        pfx = self._list_prefix(prefix)
        names = set()
        for page in self._paginate('list_objects_v2', 'list', Prefix=pfx, Delimiter='/'):
            for cp in page.get('CommonPrefixes', []):
                n = cp['Prefix'][len(pfx):].rstrip('/')
                if n:
                    names.add(n)
            for o in page.get('Contents', []):
                n = o['Key'][len(pfx):]
                if n and not n.startswith(HIDDEN_MARK):
                    names.add(n)
        return sorted(names)

    # -- deletes
    def versioned(self):
        """Whether the bucket keeps versions (then deleting a set object deletes all its versions)."""
        if self._versioned is None:
            try:
                st = self.client.get_bucket_versioning(Bucket=self.bucket).get('Status')
                self._versioned = st in ('Enabled', 'Suspended')
            except Exception as e:  # pylint: disable=broad-except
                if isinstance(e, bcx.ClientError) and _code(e) in _DENIED:
                    self._versioned = False
                else:
                    raise s3_error(e, self, 'read the versioning state of')
        return self._versioned

    def delete(self, key):
        full = self.full(key)
        if not self._in_set(key) or not self.versioned():
            # outside sets (the store lock): a plain DELETE (a delete marker in a versioned bucket)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=full)
            except Exception as e:  # pylint: disable=broad-except
                raise s3_error(e, self, 'delete', key)
            return
        self._delete_versions(self._versions(full, exact=True))

    def delete_prefix(self, prefix):
        pfx = self._list_prefix(prefix)
        if not self.versioned():
            objs = [{'Key': o['Key']} for page in self._paginate('list_objects_v2', 'list', Prefix=pfx)
                    for o in page.get('Contents', [])]
            self._delete_batch(objs)
            return len(objs)
        versions = self._versions(pfx, exact=False)
        self._delete_versions(versions)
        return len({v['Key'] for v in versions})

    def _versions(self, prefix, exact):
        out = []
        for page in self._paginate('list_object_versions', 'list the versions in', Prefix=prefix):
            for v in page.get('Versions', []) + page.get('DeleteMarkers', []):
                if exact and v['Key'] != prefix:
                    continue
                out.append({'Key': v['Key'], 'VersionId': v['VersionId']})
        return out

    def _delete_versions(self, versions):
        self._delete_batch(versions)

    def _delete_batch(self, objs):
        for i in range(0, len(objs), DELETE_BATCH):
            batch = objs[i:i + DELETE_BATCH]
            try:
                r = self.client.delete_objects(Bucket=self.bucket, Delete={'Objects': batch, 'Quiet': True})
            except Exception as e:  # pylint: disable=broad-except
                raise s3_error(e, self, 'delete objects in')
            errors = r.get('Errors') or []
            if errors:
                raise self._delete_error(errors, batch)

    def _delete_error(self, errors, batch):
        first = errors[0]
        key = first.get('Key')
        rel = self._rel(key) if key else '?'
        locked = [e for e in errors if 'lock' in (e.get('Message') or '').lower()]
        if locked or first.get('Code') in _DENIED:
            ver = first.get('VersionId') or next((b.get('VersionId') for b in batch if b['Key'] == key
                                                  and b.get('VersionId')), None)
            lock = self._retention(key, ver)
            if locked or lock:
                until = lock.get('until') if lock else None
                return LifeboatError(
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
            kw = {'VersionId': version_id} if version_id else {}
            h = self.client.head_object(Bucket=self.bucket, Key=full_key, **kw)
        except Exception:  # pylint: disable=broad-except
            return None
        until = h.get('ObjectLockRetainUntilDate')
        hold = h.get('ObjectLockLegalHoldStatus') == 'ON'
        if not until and not hold:
            return None
        if until is not None and hasattr(until, 'astimezone'):
            until = until.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        return {'mode': h.get('ObjectLockMode'), 'until': until, 'legal_hold': hold}

    def put_bytes(self, key, data, exclusive=False):
        args = self._put_args(key, artifact=False)
        if exclusive:
            args['IfNoneMatch'] = '*'
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.full(key), Body=bytes(data),
                                   ChecksumAlgorithm='SHA256', **args)
        except Exception as e:  # pylint: disable=broad-except
            if exclusive and isinstance(e, bcx.ClientError) and _code(e) in ('PreconditionFailed', '412',
                                                                             'ConditionalRequestConflict'):
                return False
            raise s3_error(e, self, 'write', key)
        return True

    def cleanup_incomplete(self):
        """Abort multipart uploads left under this store's sets by interrupted runs.

        Called with the store lock held (no other run writes), so every upload still open under a set
        belongs to a run that died. Best effort: returns the number aborted.
        """
        n = 0
        pfx = self._list_prefix('')
        try:
            pages = list(self._paginate('list_multipart_uploads', 'list incomplete uploads in', Prefix=pfx))
        except LifeboatError:
            return 0
        for page in pages:
            for u in page.get('Uploads', []):
                rel = self._rel(u['Key'])
                if not self._in_set(rel):
                    continue
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=u['Key'], UploadId=u['UploadId'])
                    n += 1
                except Exception:  # pylint: disable=broad-except
                    pass
        return n

    def close(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._client = None


def _ts(dt):
    if dt is None:
        return 0.0
    try:
        return dt.timestamp()
    except (AttributeError, ValueError):
        return 0.0
