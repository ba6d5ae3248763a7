# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S3 store's streaming reader (s3.py builds it).

Large objects: ranged GETs of part size, ``concurrency`` ranges ahead, consumed in order (memory ~ part
size x (concurrency + 1)); every range is pinned to the ETag seen at open, so an object replaced mid-read
fails instead of mixing versions. Small objects, or concurrency 1: one streaming GET that resumes with a
Range request after the body broke off.

Retries: every request is retried by botocore (standard mode, max_attempts). What botocore cannot retry is
a response body that breaks off while it is read (or comes short): that alone is retried here, with
BODY_BACKOFF, by asking again for the missing bytes. A request that still fails after botocore's retries
fails the read at once, so the attempts add up instead of multiplying.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import random
import time

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError, UnreachableError
from ansible_collections.lifeboat.backup.plugins.module_utils import _retry as retry
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import Reader


def body_backoff(max_attempts):
    """0.2 s, 0.4 s, ... up to 10 s between re-reads of a broken body; as many re-reads as request attempts."""
    return retry.Backoff(first=0.2, factor=2.0, cap=10.0, retries=max(0, int(max_attempts) - 1), jitter=0.5)


class BrokenBody(Exception):
    """A response body broke off or came short while it was read (retried with BODY_BACKOFF)."""


class S3Reader(Reader):
    """Streaming download; see the module docstring."""

    def __init__(self, store, key, sleep=time.sleep, rng=random.random):
        self.store = store
        self.key = key
        self.full = store.full(key)
        self.sleep = sleep
        self.rng = rng
        self.backoff = body_backoff(store.max_attempts)
        try:
            head = store.client.head_object(Bucket=store.bucket, Key=self.full)
        except Exception as exc:  # pylint: disable=broad-except
            raise store.error(exc, 'read', key)
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
            for _slot in range(store.concurrency):
                self._schedule()

    def _get(self, **args):
        """One GET (botocore retries it); any failure after those retries fails the read."""
        if self.etag:
            args['IfMatch'] = self.etag
        try:
            return self.store.client.get_object(Bucket=self.store.bucket, Key=self.full, **args)['Body']
        except Exception as exc:  # pylint: disable=broad-except
            raise self.store.error(exc, 'read', self.key)

    def _retry_broken(self, action):
        return retry.run(action, lambda exc: self.backoff if isinstance(exc, BrokenBody) else None,
                         sleep=self.sleep, rng=self.rng)

    # -- ranged, parallel
    def _schedule(self):
        if self.next_range >= self.size:
            return
        start = self.next_range
        end = min(self.size, start + self.range_size) - 1
        self.next_range = end + 1
        self.pending.append(self.pool.submit(self._fetch, start, end))

    def _fetch(self, start, end):
        want = end - start + 1

        def one_range():
            body = self._get(Range='bytes=%d-%d' % (start, end))
            data = _read_body(body)
            if len(data) != want:
                raise BrokenBody('short read of %s: %d of %d bytes at offset %d' % (self.key, len(data), want, start))
            return data
        try:
            return self._retry_broken(one_range)
        except BrokenBody as exc:
            raise self._gave_up(exc)

    def _refill(self):
        if not self.pending:
            return False
        fut = self.pending.popleft()
        self.cur = fut.result()
        self.cur_pos = 0
        self._schedule()
        return True

    # -- one stream
    def _read_stream(self, size):
        def next_chunk():
            if self.body is None:
                if self.offset >= self.size:
                    return b''
                self.body = self._get(**({'Range': 'bytes=%d-' % self.offset} if self.offset else {}))
            try:
                data = _read_body(self.body, size)
            except BrokenBody:
                self._close_body()
                raise
            if not data and self.offset < self.size:
                self._close_body()
                raise BrokenBody('the download of %s ended at %d of %d bytes' % (self.key, self.offset, self.size))
            return data
        try:
            return self._retry_broken(next_chunk)
        except BrokenBody as exc:
            raise self._gave_up(exc)

    def _gave_up(self, exc):
        """The error of a body that kept breaking off: what broke it, or the short read itself."""
        attempts = self.backoff.retries + 1
        if exc.__cause__ is None:
            return LifeboatError('%s (after %d attempts)' % (exc, attempts))
        err = self.store.error(exc.__cause__, 'read', self.key)
        if isinstance(err, LifeboatError):
            return err
        return UnreachableError('the download of %s from the %s broke off %d times (%s)'
                                % (self.key, self.store.describe(), attempts, exc.__cause__.__class__.__name__),
                                reason='unreachable')

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
                pass  # closing a broken stream: nothing more to learn from it
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


def _read_body(body, size=None):
    """Read from a botocore StreamingBody; a connection that breaks off while reading is a BrokenBody."""
    try:
        return body.read() if size is None else body.read(size)
    except Exception as exc:  # pylint: disable=broad-except
        if aws_errors.is_aws_error(exc) or isinstance(exc, (OSError, ValueError)) or _is_http_error(exc):
            raise BrokenBody('%s while reading' % exc.__class__.__name__) from exc
        raise


def _is_http_error(exc):
    """urllib3 / http.client failures that surface from a streaming body."""
    module = type(exc).__module__ or ''
    return module.startswith(('urllib3', 'http.client'))
