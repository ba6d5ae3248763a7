# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command runner: every subprocess outside the streaming pipeline (_pipeline.py) goes through it.

- argv only, never a shell; stdin is /dev/null, or a few bytes given as ``input`` (a key a tool reads on stdin:
  never on the command line, never in the record);
- ``LC_ALL=C`` on top of the environment given, so tools answer in words the callers can parse;
- a timeout (``timeout=None`` only for work bounded by something else, e.g. a database dump);
- stdout and stderr captured in bounded memory (their last ``limit`` bytes each);
- every command recorded in ``Runner.commands``, so modules can return what ran;
- in check mode nothing is run: the command is recorded as one that would run (``ran: false``). Read-only
  probes (``tool --version``, ``tool --help``) are marked ``probe=True`` and run in check mode too, since
  an honest plan needs them and they change nothing.

Records are plain dicts: ``{argv, ran, rc, seconds}``; pipelines are recorded by their callers with
``record_pipeline`` (``{argv, ran, pipeline: n}`` per stage, stages of one pipeline share ``n``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

DEFAULT_TIMEOUT = 600
PROBE_TIMEOUT = 10
OUTPUT_LIMIT = 256 * 1024


class CommandError(LifeboatError):
    """A command could not be started, or did not finish within its timeout."""


class Drain(threading.Thread):
    """Reads a pipe to its end in a thread, keeping at most ``limit`` bytes of it: the first ones
    (``keep='head'``) or the last ones (``keep='tail'``), or handing each line to ``on_line``.

    What goes wrong while draining (``on_line`` raising, too) is kept in ``error`` for the thread that joins
    it to raise; a pipe closed under it (its process killed) just ends the read.
    """

    def __init__(self, pipe, limit=OUTPUT_LIMIT, keep='head', on_line=None, label='output'):
        super(Drain, self).__init__()
        self.daemon = True
        self.pipe = pipe
        self.limit = limit
        self.keep = keep
        self.on_line = on_line
        self.label = label
        self.buf = bytearray()
        self.truncated = False
        self.error = None

    def _add(self, chunk):
        if self.keep == 'tail':
            self.buf += chunk
            if len(self.buf) > self.limit:
                del self.buf[:len(self.buf) - self.limit]
                self.truncated = True
            return
        room = self.limit - len(self.buf)
        if room > 0:
            self.buf += chunk[:room]
        if len(chunk) > room:
            self.truncated = True

    def run(self):
        try:
            if self.on_line:
                for line in self.pipe:
                    self.on_line(line)
            else:
                while True:
                    chunk = self.pipe.read(65536)
                    if not chunk:
                        break
                    self._add(chunk)
        except (OSError, ValueError):
            pass  # the pipe was closed under us (the process was killed): keep what was read
        except Exception as exc:  # pylint: disable=broad-except
            self.error = exc      # raised by the joining thread
        finally:
            try:
                self.pipe.close()
            except OSError:
                pass

    def text(self):
        text = self.buf.decode('utf-8', 'replace')
        if not self.truncated:
            return text
        mark = '[%s truncated]' % self.label
        return mark + '\n' + text if self.keep == 'tail' else text + '\n' + mark


class CommandResult(object):
    """What one command did. ``ran`` is False for a command check mode only recorded."""

    def __init__(self, argv, ran, rc=None, stdout='', stderr='', seconds=None):
        self.argv = argv
        self.ran = ran
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def ok(self):
        return not self.ran or self.rc == 0

    def describe(self):
        """'NAME exited with N: last lines of stderr' for messages."""
        name = os.path.basename(self.argv[0]) if self.argv else '?'
        if self.rc is not None and self.rc < 0:
            msg = '%s was killed by signal %d' % (name, -self.rc)
        else:
            msg = '%s exited with %s' % (name, self.rc)
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return msg + (': ' + ' / '.join(tail) if tail else '')

    def as_record(self):
        return {'argv': list(self.argv), 'ran': self.ran, 'rc': self.rc,
                'seconds': None if self.seconds is None else round(self.seconds, 3)}


def command_env(env=None):
    """The environment commands run with: ``env`` (default: this process's) with LC_ALL=C."""
    out = dict(os.environ if env is None else env)
    out['LC_ALL'] = 'C'
    return out


class Runner(object):
    """Runs commands and remembers them; one per module run (``check_mode`` as the module's)."""

    def __init__(self, check_mode=False, timeout=DEFAULT_TIMEOUT, limit=OUTPUT_LIMIT, record=True):
        self.check_mode = bool(check_mode)
        self.timeout = timeout
        self.limit = limit
        self.record = record
        self.commands = []
        self._pipelines = 0
        self._versions = {}

    def _note(self, entry):
        if self.record:
            self.commands.append(entry)

    def run(self, argv, timeout=-1, env=None, cwd=None, probe=False, what=None, input=None):  # pylint: disable=redefined-builtin
        """Run ``argv`` to completion and return its CommandResult (a non-zero exit is not an exception:
        the caller judges it). ``timeout=-1`` means the runner's default; None means no timeout.
        ``input``: bytes written to the command's stdin (at most a pipe's 64 KiB, so the write cannot block).

        Raises CommandError when the command cannot be started or overruns its timeout (it is killed).
        """
        argv = [str(arg) for arg in argv]
        if not argv:
            raise LifeboatError('empty command')
        what = what or os.path.basename(argv[0])
        if self.check_mode and not probe:
            result = CommandResult(argv, ran=False)
            self._note(result.as_record())
            return result
        timeout = self.timeout if timeout == -1 else timeout
        started = time.time()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=command_env(env),
                                    close_fds=True)
        except OSError as err:
            self._note({'argv': argv, 'ran': False, 'rc': None, 'seconds': None})
            raise CommandError('%s could not be started (%s): %s' % (what, argv[0], err.strerror or err))
        out = Drain(proc.stdout, self.limit, keep='tail')
        errs = Drain(proc.stderr, self.limit, keep='tail')
        out.start()
        errs.start()
        if input is not None:
            try:
                proc.stdin.write(input)
            except OSError:
                pass  # it exited without reading: its exit code says why
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            out.join()
            errs.join()
            self._note({'argv': argv, 'ran': True, 'rc': proc.returncode, 'seconds': round(time.time() - started, 3)})
            raise CommandError('%s (%s) did not finish within %s seconds and was killed' % (what, argv[0], timeout))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.join()
        errs.join()
        result = CommandResult(argv, True, rc, out.text(), errs.text(), time.time() - started)
        self._note(result.as_record())
        return result

    def record_pipeline(self, stages, ran=True):
        """Record the stages ``[(name, argv), ...]`` (or ``(name, argv, pass_fds)``) of one streaming pipeline (run
        by _pipeline.py)."""
        self._pipelines += 1
        for stage in stages:
            self._note({'argv': [str(arg) for arg in stage[1]], 'ran': bool(ran) and not self.check_mode,
                        'pipeline': self._pipelines})

    def probe(self, argv):
        """stdout and stderr of a read-only query (``--help``), or '' when it cannot run."""
        try:
            result = self.run(argv, timeout=PROBE_TIMEOUT, probe=True)
        except CommandError:
            return ''
        return result.stdout + result.stderr

    def tool_version(self, tool):
        """First line of ``tool --version`` (a name on PATH or a path), or None. Asked once per tool."""
        path = shutil.which(tool)
        if not path:
            return None
        if path not in self._versions:
            lines = self.probe([path, '--version']).strip().splitlines()
            self._versions[path] = lines[0].strip() if lines else None
        return self._versions[path]


_DEFAULT = Runner(record=False)


def default_runner():
    """The runner of code that was not handed one: runs like any other, keeps no records."""
    return _DEFAULT
