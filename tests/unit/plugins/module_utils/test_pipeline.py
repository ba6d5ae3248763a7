# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline's plumbing, on real pipes and processes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import hashlib
import os
import sys

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline

F_GETPIPE_SZ = 1032


class _Sink(object):
    def __init__(self):
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, b):
        self.h.update(b)
        self.size += len(b)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='pipe sizes are a Linux feature')
def test_grow_pipe_makes_pipes_hold_a_chunk_and_ignores_what_is_not_a_pipe(tmp_path):
    r, w = os.pipe()
    try:
        pipeline.grow_pipe(w)
        assert fcntl.fcntl(w, F_GETPIPE_SZ) >= pipeline.PIPE_SIZE
    finally:
        os.close(r)
        os.close(w)
    with open(str(tmp_path / 'file'), 'wb') as f:
        pipeline.grow_pipe(f)  # not a pipe: silently left alone
    pipeline.grow_pipe(None)


def test_stream_to_store_through_a_compressor_hashes_exactly_what_it_stores():
    sink = _Sink()
    res = pipeline.stream_to_store(sink, source_argv=['head', '-c', str(5 << 20), '/dev/urandom'], compression='gzip', level=1)
    assert res['size'] == sink.size > 5 << 20  # random data grows a little under gzip
    assert res['sha256'] == sink.h.hexdigest()
    assert res['source'].rc == 0
