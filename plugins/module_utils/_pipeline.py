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
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner

CHUNK = 1 << 20
STDERR_LIMIT = 256 * 1024
PROGRESS_EVERY = 1.0  # seconds between two calls of a pipeline's progress hook
PIPE_SIZE = 1 << 20  # Linux pipes hold 64 KiB by default: 16x fewer wake-ups between the stages
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux); the fcntl module names it only from Python 3.10

COMPRESSIONS = ('zstd', 'gzip', 'none')
ENCRYPTIONS = ('none', 'age')
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


def encryption_name(encryption):
    """'none', or the name of an encryption stage (``_encryption.age.Encryption``: 'age')."""
    return 'none' if encryption in (None, 'none') else getattr(encryption, 'name', encryption)


def encryptor_argv(encryption):
    """argv of the encryption stage, or None. ``encryption`` is None/'none' or an object with ``argv()``
    (``_encryption.age.Encryption``, which holds the recipients)."""
    if encryption in (None, 'none'):
        return None
    if hasattr(encryption, 'argv'):
        return encryption.argv()
    raise LifeboatError('encryption %r needs recipients (module option encryption.recipients)' % (encryption,))


def decryption_stage(decryption):
    """The decryption stage ``(name, argv, pass_fds)``, or None. ``decryption`` is None/'none', or a stage object
    with ``name``, ``argv`` and ``pass_fds`` (``_encryption.age.Decryption.stage()``, or ``planned_stage()`` for a
    command list). The name of an encryption alone cannot decrypt anything: it needs an identity."""
    if decryption in (None, 'none'):
        return None
    if hasattr(decryption, 'argv'):
        return (decryption.name, decryption.argv, tuple(decryption.pass_fds))
    raise LifeboatError('artifact is encrypted with %r: decrypting it needs an identity (module option decryption)'
                        % (decryption,))


def stage_tools(compression, encryption='none', runner=None):
    """Versions of the compression and encryption stages' tools, for the record."""
    runner = runner or command_runner.default_runner()
    tools = {}
    for argv in (compressor_argv(compression) if compression != 'none' else None, encryptor_argv(encryption)):
        if argv:
            name = os.path.basename(argv[0])
            tools[name] = runner.tool_version(name)
    return tools


def backup_stages(source_argv=None, source_name='source', compression='zstd', level=None, threads=0, encryption='none'):
    """The processes of a backup pipeline, [(name, argv), ...]: source | compress | encrypt."""
    stages = []
    if source_argv:
        stages.append((source_name, source_argv))
    comp = compressor_argv(compression, level, threads)
    if comp:
        stages.append((os.path.basename(comp[0]), comp))
    enc = encryptor_argv(encryption)
    if enc:
        stages.append((os.path.basename(enc[0]), enc))
    return stages


def restore_stages(sink_argv, sink_name='sink', compression='zstd', decryption=None):
    """The processes of a restore pipeline, [(name, argv), ...]: decrypt | decompress | sink.

    The decryption stage is ``(name, argv, pass_fds)``: age inherits the pipe its identity comes on.
    """
    stages = []
    dec = decryption_stage(decryption)
    if dec:
        stages.append(dec)
    dcomp = decompressor_argv(compression)
    if dcomp:
        stages.append((os.path.basename(dcomp[0]), dcomp))
    stages.append((sink_name, sink_argv))
    return stages


def grow_pipe(pipe):
    """Best effort: make a pipe (fd or file object) hold PIPE_SIZE bytes. Not an error where it cannot."""
    if not sys.platform.startswith('linux') or pipe is None:
        return
    try:
        fcntl.fcntl(pipe if isinstance(pipe, int) else pipe.fileno(), _F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, ValueError, AttributeError):
        pass  # an unprivileged user over /proc/sys/fs/pipe-max-size, or not a pipe: the default size works


def _drain(pipe, on_line=None):
    """stderr of a stage (its first STDERR_LIMIT bytes) or the sink's stdout (line by line)."""
    return command_runner.Drain(pipe, STDERR_LIMIT, keep='head', on_line=on_line, label='stderr')


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

    def spawn(self, name, argv, stdin, stdout, cwd=None, env=None, pass_fds=()):
        try:
            proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                    close_fds=True, pass_fds=tuple(pass_fds))
        except OSError as err:
            self.kill()
            raise LifeboatError('cannot start %s (%s): %s' % (name, argv[0], err.strerror or err))
        if stdout == subprocess.PIPE:
            grow_pipe(proc.stdout)
        drain = _drain(proc.stderr)
        drain.start()
        self.procs.append((name, argv, proc))
        self.drains.append(drain)
        return proc

    def kill(self):
        for _name, _argv, proc in self.procs:
            if proc.poll() is None:
                try:
                    proc.kill()
                except OSError:
                    pass

    def wait(self):
        results = []
        for (name, argv, proc), drain in zip(self.procs, self.drains):
            rc = proc.wait()
            drain.join()
            results.append(StageResult(name, argv, rc, drain.text()))
        return results


def _chain(procs, stages, first_stdin, last_stdout, cwd=None, env=None, env_stage=0):
    """Spawn [(name, argv), ...] connected pipe to pipe. Returns the last process.

    ``cwd`` and ``env`` apply to the stage at index ``env_stage`` (0: the source of a backup; -1: the sink
    of a restore); the other stages inherit this process's. A stage ``(name, argv, pass_fds)`` also inherits
    those file descriptors (the decryption stage: the pipe its identity comes on); no other stage does.
    """
    target = env_stage % len(stages)
    stdin = first_stdin
    last = None
    for index, stage in enumerate(stages):
        name, argv = stage[0], stage[1]
        is_last = index == len(stages) - 1
        out = last_stdout if is_last else subprocess.PIPE
        mine = index == target
        proc = procs.spawn(name, argv, stdin, out, cwd=cwd if mine else None, env=env if mine else None,
                           pass_fds=stage[2] if len(stage) > 2 else ())
        if last is not None and last.stdout is not None:
            last.stdout.close()  # the next process holds it now
        last = proc
        stdin = proc.stdout
    return last


def proc_io(pid, field):
    """One counter of /proc/<pid>/io (``rchar``: bytes a process read; ``wchar``: bytes it wrote), or None."""
    try:
        with open('/proc/%d/io' % pid) as counters:
            for line in counters:
                name, _sep, value = line.partition(':')
                if name == field:
                    return int(value)
    except (IOError, OSError, ValueError):
        pass
    return None


class _Meter(object):
    """The ``progress`` hook of a pipeline, called as progress(stored, plain) at most every PROGRESS_EVERY seconds.

    stored -- bytes of the stored (compressed, encrypted) stream so far, counted by the pipeline itself;
    plain  -- bytes of the plain data so far where the pipeline can tell without touching it: what the
              compressor read (backup) or the decompressor wrote (restore), from its /proc/<pid>/io counter
              (Linux); the stored count when there is no compression stage; None when it cannot tell.
    The counter is read only when the hook is due, so the hot loop stays one comparison per chunk.
    """

    def __init__(self, progress, proc=None, field=None, same=False):
        self.progress = progress
        self.proc = proc
        self.field = field
        self.same = same
        self.next = 0.0

    def __call__(self, stored, final=False):
        if self.progress is None:
            return
        now = time.time()
        if now < self.next and not final:
            return
        self.next = now + PROGRESS_EVERY
        plain = stored if self.same else (proc_io(self.proc.pid, self.field) if self.proc is not None else None)
        self.progress(stored, plain)


def _stage_proc(procs, name):
    for stage_name, _argv, proc in procs.procs:
        if stage_name == name:
            return proc
    return None


def _hash_into(fd, writer, meter=None):
    """Copy fd to the writer in CHUNKs, hashing. Returns (size, hash object)."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        writer.write(chunk)
        size += len(chunk)
        if meter is not None:
            meter(size)
    if meter is not None:
        meter(size, final=True)
    return size, digest


def stream_to_store(writer, source_argv=None, source_file=None, source_name='source', compression='zstd',
                    level=None, threads=0, encryption='none', cwd=None, env=None, progress=None):
    """Run source | compress | encrypt into ``writer``, hashing on the way.

    Exactly one of ``source_argv`` (a command whose stdout is the data) or ``source_file`` (an open
    binary file) is given. Does not commit the writer: the caller checks the stage results first.
    ``progress(stored, plain)`` is called now and then (see _Meter): plain is what the compressor read.
    Returns dict(size, sha256, seconds, source=StageResult|None, stages=[StageResult...]).
    Raises LifeboatError when writing to the store fails or a compression/encryption stage fails.
    """
    stages = backup_stages(source_argv, source_name, compression, level, threads, encryption)
    procs = _Procs()
    started = time.time()
    out = None
    try:
        if stages:
            last = _chain(procs, stages, source_file if source_file is not None else subprocess.DEVNULL,
                          subprocess.PIPE, cwd=cwd, env=env)
            out = last.stdout
        else:
            out = source_file
        comp = compressor_argv(compression, level, threads) if compression != 'none' else None
        meter = _Meter(progress, _stage_proc(procs, os.path.basename(comp[0])) if comp else None, 'rchar',
                       same=comp is None) if progress else None
        size, digest = _hash_into(out.fileno(), writer, meter)
    except BaseException:
        procs.kill()
        procs.wait()
        raise
    finally:
        if out is not None and stages:
            out.close()
    results = procs.wait()
    src = results[0] if source_argv else None
    for res in results[1 if source_argv else 0:]:
        if res.failed():
            raise LifeboatError('the %s stage failed: %s' % (res.name, res.describe()), stage=res.as_dict())
    return {'size': size, 'sha256': digest.hexdigest(), 'seconds': time.time() - started, 'source': src,
            'stages': results}


def _start_restore_chain(procs, stages, cwd, env, on_sink_line):
    """Spawn decrypt | decompress | sink reading from a new pipe; drain the sink's stdout.

    Returns (the pipe's write end as a file, the drain of the sink's stdout).
    """
    stdin_r, stdin_w = os.pipe()
    grow_pipe(stdin_w)
    try:
        last = _chain(procs, stages, stdin_r, subprocess.PIPE, cwd=cwd, env=env, env_stage=-1)
    except BaseException:
        os.close(stdin_w)
        raise
    finally:
        os.close(stdin_r)
    listing = _drain(last.stdout, on_sink_line)
    listing.start()
    return os.fdopen(stdin_w, 'wb', buffering=0), listing


def _feed(reader, stdin, expected_size, meter=None):
    """Read the artifact to its end, hashing all of it, and write it into the chain while the chain reads.

    Returns (size, hash object, broken) where ``broken`` tells the chain stopped reading (or more than
    ``expected_size`` bytes came, which is where reading stops).
    """
    digest = hashlib.sha256()
    size = 0
    broken = False
    while True:
        chunk = reader.read(CHUNK)
        if not chunk:
            if meter is not None:
                meter(size, final=True)
            break
        digest.update(chunk)
        size += len(chunk)
        if meter is not None:
            meter(size)
        if expected_size is not None and size > expected_size:
            return size, digest, True
        if broken:
            continue
        try:
            view = memoryview(chunk)
            while view:
                written = stdin.write(view)
                view = view[written:]
        except OSError as err:
            if isinstance(err, BrokenPipeError) or err.errno == errno.EPIPE:
                broken = True
            else:
                raise
    return size, digest, broken


def stream_from_store(reader, sink_argv, compression, decryption=None, sink_name='sink', cwd=None, env=None,
                      on_sink_line=None, expected_size=None, progress=None):
    """Feed a stored artifact through decrypt | decompress | sink, hashing what is read.

    ``decryption`` is None for a plain artifact, or the stage of ``_encryption.age.Decryption.stage()``.

    ``on_sink_line`` receives each line of the sink's stdout (e.g. tar's verbose listing).
    ``progress(stored, plain)`` is called now and then (see _Meter): plain is what the decompressor wrote.
    Keeps reading (and hashing) to the end even when the sink stops early, so the caller can always
    tell a corrupt artifact (checksum) from a failing tool.
    Returns dict(size, sha256, seconds, sink=StageResult, stages=[...], broken_pipe=bool).
    """
    stages = restore_stages(sink_argv, sink_name, compression, decryption)
    procs = _Procs()
    started = time.time()
    stdin = None
    try:
        stdin, listing = _start_restore_chain(procs, stages, cwd, env, on_sink_line)
        dcomp = decompressor_argv(compression)
        meter = _Meter(progress, _stage_proc(procs, os.path.basename(dcomp[0])) if dcomp else None, 'wchar',
                       same=dcomp is None) if progress else None
        size, digest, broken = _feed(reader, stdin, expected_size, meter)
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
    if listing.error is not None:
        raise listing.error   # on_sink_line failed: never swallowed
    return {'size': size, 'sha256': digest.hexdigest(), 'seconds': time.time() - started, 'sink': results[-1],
            'stages': results, 'broken_pipe': broken}


# ---------------------------------------------------------------- module option spec
# The compression options of every module that writes an archive or a dump (files_backup, backup_upload,
# postgresql_backup), documented once in doc_fragments/compression.py.
COMPRESSION_SPEC = dict(
    compression=dict(type='str', default='zstd', choices=list(COMPRESSIONS)),
    level=dict(type='int'),
    threads=dict(type='int', default=0),
)
