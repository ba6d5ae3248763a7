# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S3 store's streaming writer: a multipart upload with bounded memory (s3.py builds it).

An artifact is cut into parts of the store's part size as it arrives; parts are uploaded by a small
thread pool, each with its SHA-256 checksum, so memory stays about part size x (concurrency + 1). Nothing
is visible until CompleteMultipartUpload; objects smaller than one part are one PutObject. An exclusive
writer sends ``If-None-Match: *`` with that final request, which S3 evaluates atomically.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError, Writer

MiB = 1024 * 1024
MIN_PART = 5 * MiB                   # S3: every part but the last must be at least 5 MiB
MAX_PART = 5 * 1024 * MiB            # S3: at most 5 GiB per part
MAX_PARTS = 10000                    # S3: at most 10,000 parts per upload
PARTS_PER_STEP = 1000                # part size doubles every 1000 parts (see part_size_for)

# what S3 answers a conditional write whose key exists (409: a concurrent conditional write won)
CONDITION_FAILED = ('PreconditionFailed', '412', 'ConditionalRequestConflict', '409')


def part_size_for(part_number, base):
    """Size of part ``part_number`` (1-based) for a stream of unknown length.

    Parts keep the configured size for the first 1000 parts, then double every 1000 parts (capped at
    5 GiB), so 10,000 parts hold more than 5 TiB (the S3 object limit) from a 5 MiB start, while
    artifacts below 1000 x part size never see a bigger part.
    """
    return min(MAX_PART, base * (2 ** ((part_number - 1) // PARTS_PER_STEP)))


def max_object_size(base):
    return sum(part_size_for(number, base) for number in range(1, MAX_PARTS + 1))


def exists_error(store, key):
    return AlreadyExistsError('%s already exists in the %s: an exclusive write never replaces an object'
                              % (key, store.describe()), key=key)


class S3Writer(Writer):
    """Streaming multipart upload with bounded memory.

    write() fills one part buffer; a full part goes to the thread pool. At most about
    ``part_size x concurrency`` bytes are in flight (a byte budget, so bigger parts late in a long
    stream are uploaded with less parallelism rather than more memory); write() blocks while the
    budget is used up. The first failed part fails the writer: the next write()/commit() raises and
    the multipart upload is aborted.
    """

    def __init__(self, store, key, extra_args, exclusive=False):
        self.store = store
        self.key = key
        self.full = store.full(key)
        self.extra_args = extra_args
        self.exclusive = exclusive
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
        try:
            res = self.store.client.upload_part(Bucket=self.store.bucket, Key=self.full, UploadId=self.upload_id,
                                                PartNumber=number, Body=body, ChecksumAlgorithm='SHA256')
            part = {'PartNumber': number, 'ETag': res['ETag']}
            if res.get('ChecksumSHA256'):
                part['ChecksumSHA256'] = res['ChecksumSHA256']
            with self.cond:
                self.parts[number] = part
        except Exception as exc:  # pylint: disable=broad-except
            # kept for the writing thread, which raises it (translated, or as it is when unexpected)
            with self.cond:
                if self.error is None:
                    self.error = self.store.error(exc, 'upload part %d of' % number, self.key)
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
        try:
            res = self.store.client.create_multipart_upload(Bucket=self.store.bucket, Key=self.full,
                                                            ChecksumAlgorithm='SHA256', **self.extra_args)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.store.error(exc, 'start an upload to', self.key)
        self.upload_id = res['UploadId']
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
            take = min(room, len(view))
            self.buf[self.pos:self.pos + take] = view[:take]
            self.pos += take
            self.size += take
            view = view[take:]
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

    def _condition(self):
        return {'IfNoneMatch': '*'} if self.exclusive else {}

    def _refused(self, exc):
        """Whether a conditional request failed because the key exists."""
        return self.exclusive and aws_errors.error_code(exc) in CONDITION_FAILED

    def commit(self):
        if self.closed:
            raise LifeboatError('commit after commit/abort of %s' % self.key)
        self._raise_failed()
        if self.upload_id is None:
            self._put_whole()
            self.committed = True
            return
        self._complete()
        self.closed = True
        self.committed = True
        self._shutdown()
        self.store.ensure_retention(self.key, self.extra_args)

    def _put_whole(self):
        """Below one part: a single PutObject (conditional when exclusive)."""
        body = self.buf
        del body[self.pos:]
        self.buf = None
        self.closed = True
        try:
            self.store.client.put_object(Bucket=self.store.bucket, Key=self.full, Body=body,
                                         ChecksumAlgorithm='SHA256', **dict(self.extra_args, **self._condition()))
        except Exception as exc:  # pylint: disable=broad-except
            if self._refused(exc):
                raise exists_error(self.store, self.key)
            raise self.store.error(exc, 'write', self.key)

    def _complete(self):
        """The last part, then CompleteMultipartUpload (conditional when exclusive)."""
        if self.pos:
            body = self.buf
            del body[self.pos:]
            self.buf = None
            self._submit(body)
        self.buf = None
        self._wait_all()
        self.spare = []
        self._raise_failed()
        parts = [self.parts[number] for number in sorted(self.parts)]
        if len(parts) != self.next_part - 1:
            raise LifeboatError('%s: %d of %d parts of %s were uploaded'
                                % (self.store.describe(), len(parts), self.next_part - 1, self.key))
        try:
            self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=self.full,
                                                        UploadId=self.upload_id, MultipartUpload={'Parts': parts},
                                                        **self._condition())
        except Exception as exc:  # pylint: disable=broad-except
            if self._refused(exc):
                raise exists_error(self.store, self.key)  # abort() removes the upload
            raise self.store.error(exc, 'complete the upload of', self.key)

    def _shutdown(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None

    def abort(self):
        """Stop, wait for parts in flight (they are bounded by botocore's retries), abort the upload."""
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
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        try:
            self.store.client.abort_multipart_upload(Bucket=self.store.bucket, Key=self.full, UploadId=upload_id)
        except Exception as exc:  # pylint: disable=broad-except
            err = self.store.error(exc, 'abort the incomplete upload of', self.key)
            if isinstance(err, NotFoundError) or aws_errors.error_code(exc) == 'NoSuchUpload':
                return
            if not isinstance(err, LifeboatError):
                raise err
            raise type(err)('%s; the incomplete upload stays invisible and is removed by the next backup run '
                            '(or by an AbortIncompleteMultipartUpload lifecycle rule)' % err.msg, **err.details)
