# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one streaming pipeline every component uses (subprocess adapter).

Backup:  source process | compressor | (encryptor) -> Python: sha256 + size -> store Writer
Restore: store Reader -> Python: sha256 + size -> (decryptor) | decompressor | sink process

The processes are connected pipe to pipe; Python only touches the final (compressed) stream, in
fixed-size chunks, so memory is bounded by a constant whatever the data size. Every process's exit
code and stderr are collected and returned; nothing here decides what a source's exit code means
(tar's 1 is a warning, pg_dump's 1 is fatal): the caller does.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import hashlib
import os
import shutil
import sys
import subprocess
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

CHUNK = 1 << 20
STDERR_LIMIT = 256 * 1024
PIPE_SIZE = 1 << 20  # Linux pipes hold 64 KiB by default: 16x fewer wake-ups between the stages
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux); the fcntl module names it only from Python 3.10

COMPRESSIONS = ('zstd', 'gzip', 'none')
ENCRYPTIONS = ('none',)
EXTENSIONS = {'zstd': '.zst', 'gzip': '.gz', 'none': ''}


def which(name):
    return shutil.which(name)


def need_tool(name, why):
    path = which(name)
    if not path:
        raise LifeboatError('%s is needed for %s but is not installed on this host (see bindep.txt)' % (name, why))
    return path


def compressor_argv(compression, level=None, threads=0):
    """argv of the compression stage, or None for 'none'."""
    if compression == 'zstd':
        lvl = 3 if level is None else int(level)
        if not 1 <= lvl <= 22:
            raise LifeboatError('zstd level must be 1..22, got %s' % lvl)
        argv = [need_tool('zstd', 'zstd compression'), '-q', '-c', '-T%d' % int(threads or 0), '-%d' % lvl]
        if lvl > 19:
            argv.insert(2, '--ultra')
        return argv
    if compression == 'gzip':
        lvl = 6 if level is None else int(level)
        if not 1 <= lvl <= 9:
            raise LifeboatError('gzip level must be 1..9, got %s' % lvl)
        if which('pigz'):
            argv = [which('pigz'), '-c', '-%d' % lvl]
            if threads:
                argv[2:2] = ['-p', str(int(threads))]
            return argv
        return [need_tool('gzip', 'gzip compression'), '-c', '-%d' % lvl]
    if compression == 'none':
        return None
    raise LifeboatError('unknown compression %r (use one of %s)' % (compression, ', '.join(COMPRESSIONS)))


def decompressor_argv(compression):
    if compression == 'zstd':
        return [need_tool('zstd', 'zstd decompression'), '-q', '-d', '-c']
    if compression == 'gzip':
        return [which('pigz') or need_tool('gzip', 'gzip decompression'), '-d', '-c']
    if compression == 'none':
        return None
    raise LifeboatError('artifact uses compression %r, which this version cannot read' % (compression,))


def encryptor_argv(encryption):
    """The encryption stage. Only 'none' exists in this version; the stage is where it will go."""
    if encryption in (None, 'none'):
        return
    raise LifeboatError('encryption %r is not supported by this version of lifeboat.backup' % (encryption,))


def decryptor_argv(encryption):
    if encryption in (None, 'none'):
        return
    raise LifeboatError('artifact is encrypted with %r, which this version cannot decrypt' % (encryption,))


def tool_version(argv0):
    """First line of `tool --version`, or None."""
    path = which(argv0)
    if not path:
        return None
    try:
        out = subprocess.run([path, '--version'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    line = out.decode('utf-8', 'replace').strip().splitlines()
    return line[0].strip() if line else None


def stage_tools(compression, encryption='none'):
    tools = {}
    for argv in (compressor_argv(compression) if compression != 'none' else None, encryptor_argv(encryption)):
        if argv:
            name = os.path.basename(argv[0])
            tools[name] = tool_version(name)
    return tools


def grow_pipe(f):
    """Best effort: make a pipe (fd or file object) hold PIPE_SIZE bytes. Not an error where it cannot."""
    if not sys.platform.startswith('linux') or f is None:
        return
    try:
        fcntl.fcntl(f if isinstance(f, int) else f.fileno(), _F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, ValueError, AttributeError):
        pass  # an unprivileged user over /proc/sys/fs/pipe-max-size, or not a pipe: the default size works


class _Drain(threading.Thread):
    """Reads a pipe to the end, keeping at most ``limit`` bytes (or calling ``on_line`` per line)."""

    def __init__(self, f, limit=STDERR_LIMIT, on_line=None):
        super(_Drain, self).__init__()
        self.daemon = True
        self.f = f
        self.limit = limit
        self.on_line = on_line
        self.buf = bytearray()
        self.truncated = False
        self.error = None

    def run(self):
        try:
            if self.on_line:
                for line in self.f:
                    self.on_line(line)
            else:
                while True:
                    b = self.f.read(65536)
                    if not b:
                        break
                    room = self.limit - len(self.buf)
                    if room > 0:
                        self.buf += b[:room]
                    if len(b) > room:
                        self.truncated = True
        except Exception as e:  # pylint: disable=broad-except
            self.error = e
        finally:
            try:
                self.f.close()
            except Exception:  # pylint: disable=broad-except
                pass

    def text(self):
        t = self.buf.decode('utf-8', 'replace')
        return t + ('\n[stderr truncated]' if self.truncated else '')


class StageResult(object):
    def __init__(self, name, argv, rc, stderr):
        self.name = name
        self.argv = argv
        self.rc = rc
        self.stderr = stderr

    def as_dict(self):
        return {'name': self.name, 'rc': self.rc, 'stderr': self.stderr}

    def failed(self):
        return self.rc != 0

    def describe(self):
        if self.rc is not None and self.rc < 0:
            how = 'was killed by signal %d' % -self.rc
        else:
            how = 'exited with %s' % self.rc
        msg = '%s %s' % (self.name, how)
        tail = self.stderr.strip().splitlines()[-3:]
        if tail:
            msg += ': ' + ' / '.join(tail)
        return msg


class _Procs(object):
    """A chain of processes connected stdout -> stdin."""

    def __init__(self):
        self.procs = []
        self.drains = []

    def spawn(self, name, argv, stdin, stdout, cwd=None, env=None, stderr_line=None):
        try:
            p = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                 close_fds=True)
        except OSError as e:
            self.kill()
            raise LifeboatError('cannot start %s (%s): %s' % (name, argv[0], e.strerror or e))
        if stdout == subprocess.PIPE:
            grow_pipe(p.stdout)
        d = _Drain(p.stderr, on_line=stderr_line) if stderr_line else _Drain(p.stderr)
        d.start()
        self.procs.append((name, argv, p))
        self.drains.append(d)
        return p

    def kill(self):
        for _name, _argv, p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass

    def wait(self):
        results = []
        for (name, argv, p), d in zip(self.procs, self.drains):
            rc = p.wait()
            d.join()
            results.append(StageResult(name, argv, rc, d.text()))
        return results


def _chain(procs, stages, first_stdin, last_stdout, cwd=None, env=None):
    """Spawn [(name, argv), ...] connected pipe to pipe. Returns the last process."""
    stdin = first_stdin
    last = None
    for i, (name, argv) in enumerate(stages):
        is_last = i == len(stages) - 1
        out = last_stdout if is_last else subprocess.PIPE
        p = procs.spawn(name, argv, stdin, out, cwd=cwd if i == 0 else None, env=env if i == 0 else None)
        if last is not None and last.stdout is not None:
            last.stdout.close()  # the next process holds it now
        last = p
        stdin = p.stdout
    return last


def stream_to_store(writer, source_argv=None, source_file=None, source_name='source', compression='zstd',
                    level=None, threads=0, encryption='none', cwd=None, env=None, progress=None):
    """Run source | compress | encrypt into ``writer``, hashing on the way.

    Exactly one of ``source_argv`` (a command whose stdout is the data) or ``source_file`` (an open
    binary file) is given. Does not commit the writer: the caller checks the stage results first.
    Returns dict(size, sha256, seconds, source=StageResult|None, stages=[StageResult...]).
    Raises LifeboatError when writing to the store fails or a compression/encryption stage fails.
    """
    stages = []
    if source_argv:
        stages.append((source_name, source_argv))
    comp = compressor_argv(compression, level, threads)
    if comp:
        stages.append((os.path.basename(comp[0]), comp))
    enc = encryptor_argv(encryption)
    if enc:
        stages.append(('encrypt', enc))

    procs = _Procs()
    h = hashlib.sha256()
    size = 0
    t0 = time.time()
    out = None
    try:
        if stages:
            last = _chain(procs, stages, source_file if source_file is not None else subprocess.DEVNULL,
                          subprocess.PIPE, cwd=cwd, env=env)
            out = last.stdout
        else:
            out = source_file
        fd = out.fileno()
        while True:
            b = os.read(fd, CHUNK)
            if not b:
                break
            h.update(b)
            writer.write(b)
            size += len(b)
            if progress:
                progress(size)
    except BaseException:
        procs.kill()
        procs.wait()
        raise
    finally:
        if out is not None and stages:
            out.close()
    results = procs.wait()
    src = results[0] if source_argv else None
    for r in results[1 if source_argv else 0:]:
        if r.failed():
            raise LifeboatError('the %s stage failed: %s' % (r.name, r.describe()), stage=r.as_dict())
    return {'size': size, 'sha256': h.hexdigest(), 'seconds': time.time() - t0, 'source': src, 'stages': results}


def stream_from_store(reader, sink_argv, compression, encryption='none', sink_name='sink', cwd=None, env=None,
                      on_sink_line=None, expected_size=None):
    """Feed a stored artifact through decrypt | decompress | sink, hashing what is read.

    ``on_sink_line`` receives each line of the sink's stdout (e.g. tar's verbose listing).
    Keeps reading (and hashing) to the end even when the sink stops early, so the caller can always
    tell a corrupt artifact (checksum) from a failing tool.
    Returns dict(size, sha256, seconds, sink=StageResult, stages=[...], broken_pipe=bool).
    """
    stages = []
    dec = decryptor_argv(encryption)
    if dec:
        stages.append(('decrypt', dec))
    dcomp = decompressor_argv(compression)
    if dcomp:
        stages.append((os.path.basename(dcomp[0]), dcomp))
    stages.append((sink_name, sink_argv))

    procs = _Procs()
    h = hashlib.sha256()
    size = 0
    broken = False
    t0 = time.time()
    stdin = None
    listing = None
    try:
        stdin_r, stdin_w = os.pipe()
        grow_pipe(stdin_w)
        try:
            last = None
            stdin_src = stdin_r
            for i, (name, argv) in enumerate(stages):
                is_last = i == len(stages) - 1
                p = procs.spawn(name, argv, stdin_src, subprocess.PIPE, cwd=cwd if is_last else None,
                                env=env if is_last else None)
                if last is not None:
                    last.stdout.close()
                last = p
                stdin_src = p.stdout
        finally:
            os.close(stdin_r)
        if on_sink_line:
            listing = _Drain(last.stdout, on_line=on_sink_line)
        else:
            listing = _Drain(last.stdout)
        listing.start()
        stdin = os.fdopen(stdin_w, 'wb', buffering=0)
        while True:
            b = reader.read(CHUNK)
            if not b:
                break
            h.update(b)
            size += len(b)
            if expected_size is not None and size > expected_size:
                broken = True
                break
            if not broken:
                try:
                    view = memoryview(b)
                    while view:
                        n = stdin.write(view)
                        view = view[n:]
                except (BrokenPipeError, OSError) as e:
                    if isinstance(e, BrokenPipeError) or getattr(e, 'errno', None) == errno.EPIPE:
                        broken = True
                    else:
                        raise
    except BaseException:
        procs.kill()
        if stdin is not None:
            try:
                stdin.close()
            except OSError:
                pass
        procs.wait()
        raise
    try:
        stdin.close()
    except OSError:
        broken = True
    results = procs.wait()
    listing.join()
    return {'size': size, 'sha256': h.hexdigest(), 'seconds': time.time() - t0, 'sink': results[-1],
            'stages': results, 'broken_pipe': broken}


# ---------------------------------------------------------------- module option spec
# The compression options of every module that writes an archive or a dump (files_backup, backup_upload,
# postgresql_backup), documented once in doc_fragments/compression.py.
COMPRESSION_SPEC = dict(
    compression=dict(type='str', default='zstd', choices=list(COMPRESSIONS)),
    level=dict(type='int'),
    threads=dict(type='int', default=0),
)
