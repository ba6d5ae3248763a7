# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side encryption with age, the adapter and the API every component uses.

Backup side (hosts that back up hold public keys only)::

    encryption = age.for_backup(params['encryption'])      # None when no recipients are configured
    artifacts.write_artifact(..., encryption=encryption)     # the pipeline runs `age --encrypt -r ...`

Restore side (restore, fetch, verify full, drills)::

    decryption = age.for_restore(params['decryption'])     # None when no identity is given
    age.check_identity(records, decryption)                  # up front: missing or wrong identity -> ConfigError
    artifacts.read_artifact(store, record, sink, decryption=decryption)

The identity's text stays in this process's memory and reaches age on a pipe (``-i /dev/fd/N``, the pipe's read
end inherited by age alone): it is never written to disk, never in argv or the environment, never in a message.
Deriving its public keys (for the up-front check) feeds it to ``age-keygen -y`` or ``ssh-keygen -y`` on stdin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import os
import stat
import threading

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DeniedError, LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic

DERIVE_TIMEOUT = 30


def _read_host_file(path, what, limit):
    """The bytes of a small file on this host (a recipients or identity file), with one readable error."""
    try:
        with open(path, 'rb') as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise ConfigError('%s %s is a directory, not a file' % (what, path))
            data = handle.read(limit + 1)
    except IsADirectoryError:
        raise ConfigError('%s %s is a directory, not a file' % (what, path))
    except (IOError, OSError) as err:
        if err.errno == errno.ENOENT:
            raise NotFoundError('%s %s does not exist on this host' % (what, path))
        if err.errno in (errno.EACCES, errno.EPERM):
            raise DeniedError('%s %s cannot be read by this user (%s): fix its owner or mode, or run as a user that can '
                              'read it' % (what, path, err.strerror))
        raise LifeboatError('cannot read %s %s: %s' % (what, path, err.strerror or err))
    if len(data) > limit:
        raise ConfigError('%s %s is larger than %d bytes; that is not a %s' % (what, path, limit, what.replace('_', ' ')))
    return data


# ---------------------------------------------------------------- backup side

class Encryption(object):
    """The encryption stage of a backup: age to a fixed list of recipients."""

    name = logic.NAME
    extension = logic.EXTENSION

    def __init__(self, recipients):
        if not recipients:
            raise ConfigError('encryption needs at least one recipient')
        self.recipients = list(recipients)
        self.age = pipeline.need_tool('age', 'encrypting backups (package age)')

    def argv(self):
        return logic.encrypt_argv(self.age, self.recipients)

    def record_recipients(self):
        """What a record says about the recipients (fingerprints and comments; never a key)."""
        return [recipient.as_record() for recipient in self.recipients]

    def describe(self):
        return logic.describe_recipients(self.record_recipients())


def for_backup(options):
    """The Encryption asked for by module options ``encryption`` ({recipients, recipients_file}), or None."""
    if not logic.wanted(options):
        return None
    file_text = None
    path = options.get('recipients_file')
    if path:
        data = _read_host_file(path, 'recipients_file', 1024 * 1024)
        try:
            file_text = data.decode('utf-8')
        except UnicodeDecodeError:
            raise ConfigError('recipients_file %s is not text' % path)
    return Encryption(logic.parse_recipients(options.get('recipients') or [], file_text, path))


# ---------------------------------------------------------------- restore side

def _derive(argv, data, what, runner):
    """stdout of a tool that reads the identity on stdin and prints its public keys. Its stderr is not quoted.

    Read-only, so it runs in check mode too (a restore's dry run checks the identity as the real one would).
    """
    result = runner.run(argv, timeout=DERIVE_TIMEOUT, probe=True, input=data, what='reading the public key of %s' % what)
    if result.rc != 0:
        raise ConfigError('%s cannot read %s (it exited with %s); it must be an age identity file or an unencrypted '
                          'ssh-ed25519 or ssh-rsa private key' % (os.path.basename(argv[0]), what, result.rc))
    return result.stdout


def identity_keys(data, where, runner=None):
    """[(type, fingerprint)] of the public keys of an identity (normalized bytes)."""
    kind, info = logic.classify_identity(data, where)
    if kind == logic.SSH_IDENTITY and info is not None:
        blob_kind, _why = logic.ssh_key_problem(info)
        return [(blob_kind, logic.fingerprint_ssh(info))]
    if kind == logic.AGE_IDENTITY:
        argv = [pipeline.need_tool('age-keygen', 'reading age identities (package age)'), '-y']
    else:
        argv = [pipeline.need_tool('ssh-keygen', 'reading SSH identities (package openssh-client)'), '-y', '-P', '',
                '-f', '/dev/stdin']
    runner = runner or command_runner.default_runner()
    lines = [line.strip() for line in _derive(argv, data, where, runner).splitlines() if line.strip()]
    if not lines:
        raise ConfigError('%s yields no public key' % where)
    keys = []
    for line in lines:
        try:
            keys.append(logic.public_line_fingerprint(line))
        except ConfigError as err:
            raise ConfigError('%s cannot decrypt age files: %s' % (where, err.msg))
    return keys


class IdentityStage(object):
    """The decryption stage of one stream: its argv and the fd age inherits (see Decryption.stage)."""

    def __init__(self, argv, pass_fds):
        self.name = 'age'
        self.argv = argv
        self.pass_fds = pass_fds


class Decryption(object):
    """An identity in memory, and the age stage that decrypts with it."""

    name = logic.NAME

    def __init__(self, data, where, runner=None):
        self._data = logic.normalize_identity(data)
        self.where = where
        self.keys = identity_keys(self._data, where, runner)
        self.fingerprints = [fingerprint for _kind, fingerprint in self.keys]
        self.age = pipeline.need_tool('age', 'decrypting backups (package age)')

    def __repr__(self):
        return 'Decryption(%s: %s)' % (self.where, ', '.join('%s %s' % key for key in self.keys))

    def describe(self):
        return '%s (%s)' % (self.where, ', '.join('%s %s' % key for key in self.keys))

    def check(self, records):
        """Raise ConfigError, naming the recipients, when this identity cannot decrypt one of ``records``."""
        bad = logic.unmatched(records, self.fingerprints)
        if bad:
            raise ConfigError(logic.mismatch_message(bad, self.keys, self.where), recipients_expected=[
                logic.record_recipients(record) for record in bad][0])

    def planned_stage(self):
        """The stage as a command list shows it (check mode, ``commands``): no pipe is opened."""
        return IdentityStage(logic.decrypt_argv(self.age, '/dev/fd/N'), ())

    @contextlib.contextmanager
    def stage(self):
        """An IdentityStage for one pipeline: age reads the identity from a pipe it alone inherits.

        A thread writes the identity into the pipe and closes its end; the read end is closed here when the
        stream is over (age has long read it by then). Nothing is left anywhere, whatever ends the process.
        """
        read_fd, write_fd = os.pipe()
        writer = threading.Thread(target=_write_all, args=(write_fd, self._data))
        writer.daemon = True
        try:
            path = '/dev/fd/%d' % read_fd
            if not os.path.exists(path):
                os.close(write_fd)
                raise LifeboatError('this host has no /dev/fd (mount /proc): age reads the identity from a pipe and '
                                    'lifeboat.backup never writes an identity to disk')
            writer.start()
            yield IdentityStage(logic.decrypt_argv(self.age, path), (read_fd,))
        finally:
            os.close(read_fd)   # a writer still blocked (age never read) gets EPIPE and ends
            if writer.is_alive():
                writer.join(5)


def _write_all(fd, data):
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass  # age exited without reading: its own error explains it
    finally:
        os.close(fd)


def for_restore(options, runner=None):
    """The Decryption of module options ``decryption`` ({identity, identity_file}), or None when neither is given.
    ``runner``: the module's command runner (the key derivation is then listed in its ``commands``)."""
    if not options:
        return None
    if options.get('identity') and options.get('identity_file'):
        raise ConfigError('give identity or identity_file, not both')
    if options.get('identity'):
        return Decryption(options['identity'], 'identity', runner)
    path = options.get('identity_file')
    if path:
        return Decryption(_read_host_file(path, 'identity_file', logic.IDENTITY_MAX_BYTES), 'identity_file %s' % path,
                          runner)
    return None


def check_identity(records, decryption):
    """Before a restore (or verify, drill) touches anything: every encrypted record among ``records`` can be
    decrypted with ``decryption``. Raises ConfigError naming the recipients otherwise (and when no identity
    was given for an encrypted set)."""
    for record in records:
        logic.check_supported(record)
    encrypted = [record for record in records if logic.is_encrypted(record)]
    if not encrypted:
        return
    if decryption is None:
        raise ConfigError(logic.missing_identity_message(encrypted),
                          recipients_expected=logic.record_recipients(encrypted[0]))
    decryption.check(encrypted)
