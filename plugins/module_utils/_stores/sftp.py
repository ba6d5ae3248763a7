# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SFTP store, the paramiko adapter.

Objects are files under <path>/<prefix>/<key> on the server. A write streams (pipelined SFTP writes)
into a hidden temp name in the final directory, is fsynced (fsync@openssh.com when offered), its size
checked, then renamed over the final name with posix-rename@openssh.com: readers never see a partial
object, and temp names are never listed. Exclusive writes (the lock, a set's status and manifest, every
part of an open set) hard-link the complete temp file to the final name (hardlink@openssh.com, which
fails when the name exists), or on servers without that extension use the plain SFTP rename, which
OpenSSH implements without overwriting.

Connecting is retried (CONNECT_BACKOFF) when the server drops a new connection before the SSH handshake
(sshd's MaxStartups when many hosts connect at once); a store whose connection dropped between two
operations reconnects for the next one. A connection that drops in the middle of a write fails that
write: nothing partial is ever used.

The server's host key is always verified against known_hosts: an unknown key is refused unless
host_key_policy=accept_new (which records it), and a changed key is always refused.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import io
import os
import posixpath
import random
import socket
import stat as stat_mod
import time
import uuid

try:
    import paramiko
    from paramiko.sftp import CMD_EXTENDED, CMD_STATUS, CMD_WRITE, int64
    HAS_PARAMIKO = True
    PARAMIKO_IMPORT_ERROR = None
    _PolicyBase = paramiko.MissingHostKeyPolicy
except ImportError as _e:  # pragma: no cover - depends on the host
    HAS_PARAMIKO = False
    PARAMIKO_IMPORT_ERROR = _e
    _PolicyBase = object

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DeniedError, LifeboatError, NotFoundError, UnreachableError)
from ansible_collections.lifeboat.backup.plugins.module_utils import _retry as retry
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    TEMP_PREFIX, AlreadyExistsError, ObjectInfo, Reader, Store, Writer, check_key, join_key, temp_name)

DIR_MODE = 0o700
FILE_MODE = 0o600
READ_WINDOW = 8 * 1024 * 1024      # bytes requested ahead (pipelined) when reading
READ_REQUEST = 32768               # one SFTP read request (what every server accepts)
WRITE_REQUEST = 32768              # one SFTP write request
MAX_INFLIGHT = 64                  # pipelined write requests awaiting their status (2 MiB)

_CONN_ERRNOS = (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN, errno.ETIMEDOUT,
                errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNREFUSED)

# a new connection the server dropped before the handshake finished: 1, 2, 4 s (jittered), then give up
CONNECT_BACKOFF = retry.Backoff(first=1.0, factor=2.0, cap=8.0, retries=3, jitter=0.5)


def connect_retryable(exc):
    """Whether a failed connect is worth another try: the server (or a proxy) reset or closed it before the
    SSH handshake, as sshd does beyond MaxStartups. Refused, unreachable, timed out, rejected keys or
    credentials are not: they will not change in a few seconds."""
    if isinstance(exc, (EOFError, ConnectionResetError)):
        return True
    if HAS_PARAMIKO and isinstance(exc, paramiko.SSHException) and not isinstance(
            exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException)):
        text = str(exc).lower()
        return 'banner' in text or 'reset' in text or 'eof' in text
    return False


def fingerprint(key):
    """OpenSSH-style SHA256 fingerprint of a paramiko key."""
    import base64
    import hashlib
    digest = hashlib.sha256(key.asbytes()).digest()
    return 'SHA256:' + base64.b64encode(digest).decode('ascii').rstrip('=')


class _UnknownHostKey(Exception):
    def __init__(self, hostname, key):
        super(_UnknownHostKey, self).__init__(hostname)
        self.hostname = hostname
        self.key = key


class _StrictPolicy(_PolicyBase):
    def missing_host_key(self, client, hostname, key):
        raise _UnknownHostKey(hostname, key)


class _AcceptNewPolicy(_PolicyBase):
    """Record an unknown host key in known_hosts (a changed key never reaches a policy: paramiko refuses it)."""

    def __init__(self, path):
        self.path = path
        self.added = None

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        directory = os.path.dirname(self.path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, DIR_MODE)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        with os.fdopen(fd, 'a') as known:
            known.write('%s %s %s\n' % (hostname, key.get_name(), key.get_base64()))
        self.added = '%s %s' % (key.get_name(), fingerprint(key))


class _PipelinedWrite(object):
    """Pipelined SFTP writes into one open handle, with every status reply checked.

    paramiko's own pipelining (SFTPFile.set_pipelined) registers write requests without an owner, so a
    reply read while waiting for another request is dropped, error or not. Here each write request is
    registered with this object: whoever reads its reply hands it to _async_response, which counts it
    and keeps the first error. At most MAX_INFLIGHT requests wait for their reply.
    """

    def __init__(self, sftp, handle_file):
        self.sftp = sftp
        self.file = handle_file
        self.offset = 0
        self.inflight = 0
        self.error = None

    def _async_response(self, reply_type, msg, _num):
        self.inflight -= 1
        if reply_type == CMD_STATUS:
            try:
                self.sftp._convert_status(msg)
            except Exception as exc:  # pylint: disable=broad-except
                if self.error is None:
                    self.error = exc   # raised by the writing thread (_check)
        elif self.error is None:
            self.error = IOError('unexpected SFTP reply %r to a write' % (reply_type,))

    def _check(self):
        if self.error is not None:
            raise self.error

    def write(self, data):
        view = memoryview(data)
        for start in range(0, len(view), WRITE_REQUEST):
            chunk = view[start:start + WRITE_REQUEST]
            self.inflight += 1
            self.sftp._async_request(self, CMD_WRITE, self.file.handle, int64(self.offset), bytes(chunk))
            self.offset += len(chunk)
            while self.inflight > MAX_INFLIGHT:
                self.sftp._read_response()
            self._check()

    def finish(self):
        while self.inflight > 0:
            self.sftp._read_response()
        self._check()


class _SftpWriter(Writer):
    def __init__(self, store, key, final, tmp, handle_file, exclusive=False):
        self.store = store
        self.key = key
        self.final = final
        self.tmp = tmp
        self.file = handle_file
        self.exclusive = exclusive
        self.pipe = _PipelinedWrite(store.sftp, handle_file)
        self.size = 0

    def write(self, data):
        try:
            self.pipe.write(data)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.store.error(exc, 'write', self.final)
        self.size += len(data)

    def commit(self):
        self.store.finish_file(self.file, self.pipe, self.tmp, self.size, self.final)
        self.file = None
        if self.exclusive:
            self.store.link_new(self.tmp, self.final, self.key)
            self.tmp = None
        else:
            self.store.rename_over(self.tmp, self.final)
        self.committed = True

    def abort(self):
        if self.file is not None:
            try:
                self.file.close()
            except Exception:  # pylint: disable=broad-except
                pass  # the handle of a failed write: the temp name it leaves is never read
            self.file = None
        sftp = self.store.live_sftp()   # never reconnect to clean up: the next run removes what is left
        if sftp is not None and self.tmp is not None:
            try:
                sftp.remove(self.tmp)
            except Exception:  # pylint: disable=broad-except
                pass  # e.g. the connection broke now: the temp name is never listed, and cleaned by the next run


class _SftpReader(Reader):
    """Reads pipelined in windows of READ_WINDOW bytes: memory stays about two windows."""

    def __init__(self, store, path):
        self.store = store
        self.path = path
        try:
            self.file = store.sftp.open(path, 'rb')
            self.size = self.file.stat().st_size
        except Exception as exc:  # pylint: disable=broad-except
            if isinstance(exc, IOError) and getattr(exc, 'errno', None) == errno.ENOENT:
                raise NotFoundError('%s is not in the store (%s)' % (path, store.describe()))
            raise store.error(exc, 'read', path)
        self.offset = 0
        self.cur = b''
        self.pos = 0

    def read(self, n):
        if self.pos >= len(self.cur):
            if self.offset >= self.size:
                return b''
            want = min(READ_WINDOW, self.size - self.offset)
            try:
                # 32 KiB requests, all pipelined; asking readv for small blocks avoids paramiko's
                # quadratic joining of one big block
                chunks = [(self.offset + start, min(READ_REQUEST, want - start)) for start in range(0, want, READ_REQUEST)]
                block = b''.join(self.file.readv(chunks))
            except Exception as exc:  # pylint: disable=broad-except
                raise self.store.error(exc, 'read', self.path)
            if len(block) != want:
                raise LifeboatError('%s: short read of %s at offset %d (%d of %d bytes)'
                                    % (self.store.describe(), self.path, self.offset, len(block), want))
            self.offset += want
            self.cur = block
            self.pos = 0
        data = self.cur[self.pos:self.pos + n]
        self.pos += len(data)
        return data

    def close(self):
        try:
            self.file.close()
        except Exception:  # pylint: disable=broad-except
            pass  # closing a read handle: nothing depends on it
        self.cur = b''


class SftpStore(Store):
    type = 'sftp'
    # one SSH connection and SFTP session serve every read: paramiko's reads of two files at once on one session
    # stall until their timeout (found by verify full with jobs 2), so reads go one at a time
    parallel_reads = False

    def __init__(self, params, sleep=time.sleep, rng=random.random):
        """``params``: a ``store`` option value checked by factory.validate_store."""
        if not HAS_PARAMIKO:
            raise ConfigError('%s (import error: %s)'
                              % (missing_required_lib('paramiko (for store.type=sftp)'), PARAMIKO_IMPORT_ERROR))
        super(SftpStore, self).__init__(params)
        self.host = params['host']
        self.port = int(params.get('port') or 22)
        self.user = params.get('user') or None
        self.path = params['path']
        self.timeout = int(params.get('timeout') or 30)
        self.root = posixpath.join(self.path, self.prefix) if self.prefix else self.path
        self.root = posixpath.normpath(self.root)
        self.known_hosts = params.get('known_hosts') or os.path.expanduser('~/.ssh/known_hosts')
        self.policy_name = params.get('host_key_policy') or 'strict'
        self.added_host_key = None
        self.sleep = sleep
        self.rng = rng
        self._client = None
        self._sftp = None
        self._dirs = set()

    # ------------------------------------------------------------------ connection
    def describe(self):
        who = '%s@' % self.user if self.user else ''
        port = ':%d' % self.port if self.port != 22 else ''
        return 'sftp store %s%s%s:%s' % (who, self.host, port, self.root)

    def _where(self):
        return '%s:%d' % (self.host, self.port)

    def _load_key_content(self, content, passphrase):
        """The key of store.private_key_content (its text, e.g. from an AWX credential); never on disk, never in a message."""
        encrypted = ConfigError('store.private_key_content is encrypted: set store.private_key_passphrase')
        last = None
        for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return key_class.from_private_key(io.StringIO(content.strip() + '\n'), password=passphrase)
            except paramiko.PasswordRequiredException:
                raise encrypted
            except Exception as err:  # pylint: disable=broad-except
                # paramiko and cryptography raise many kinds for a key they cannot load: all mean the same here
                last = err
        raise ConfigError('cannot load store.private_key_content: wrong passphrase or not a private key in a supported '
                          'format (%s)' % last.__class__.__name__)

    def _load_key(self):
        path = self.params.get('private_key')
        passphrase = self.params.get('private_key_passphrase') or None
        if self.params.get('private_key_content'):
            return self._load_key_content(self.params['private_key_content'], passphrase)
        if not path:
            return None
        if not os.path.exists(path):
            raise ConfigError('store.private_key %s does not exist on this host' % path)
        encrypted = ConfigError('store.private_key %s is encrypted: set store.private_key_passphrase' % path)
        try:
            if hasattr(paramiko.PKey, 'from_path'):                    # paramiko >= 3.2
                try:
                    return paramiko.PKey.from_path(path, passphrase.encode('utf-8') if passphrase else None)
                except TypeError as err:
                    if not passphrase and ('password' in str(err).lower() or 'encrypted' in str(err).lower()):
                        raise encrypted
                    raise
            last = None
            for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
                try:
                    return key_class.from_private_key_file(path, password=passphrase)
                except paramiko.PasswordRequiredException:
                    raise
                except paramiko.SSHException as err:
                    last = err
            raise last
        except LifeboatError:
            raise
        except paramiko.PasswordRequiredException:
            raise encrypted
        except (IOError, OSError) as err:
            raise ConfigError('cannot read store.private_key %s: %s' % (path, err.strerror or err))
        except Exception as err:  # pylint: disable=broad-except
            # paramiko and cryptography raise many kinds for a key they cannot load: all mean the same here
            raise ConfigError('cannot load store.private_key %s: wrong passphrase or unsupported key format (%s)'
                              % (path, err.__class__.__name__))

    def connect(self):
        """The SFTP session: the current one, or a new connection when there is none or it dropped.

        A connection the server closes before the handshake is tried again (CONNECT_BACKOFF)."""
        if self._sftp is not None:
            if self.connected():
                return self._sftp
            self.close()          # dropped between two operations: start over for the next one
        pkey = self._load_key()
        try:
            return retry.run(lambda: self._connect_once(pkey),
                             lambda exc: CONNECT_BACKOFF if connect_retryable(exc) else None,
                             sleep=self.sleep, rng=self.rng)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._connect_error(exc)

    def _host_keys(self, client):
        if self.params.get('known_hosts'):
            if os.path.exists(self.known_hosts):
                self._load_hosts(client.load_host_keys, self.known_hosts)
            return
        for system_file in ('/etc/ssh/ssh_known_hosts',):
            if os.path.exists(system_file):
                self._load_hosts(client.load_system_host_keys, system_file)
        if os.path.exists(self.known_hosts):
            self._load_hosts(client.load_host_keys, self.known_hosts)

    def _connect_once(self, pkey):
        password = self.params.get('password') or None
        client = paramiko.SSHClient()
        self._host_keys(client)
        policy = _AcceptNewPolicy(self.known_hosts) if self.policy_name == 'accept_new' else _StrictPolicy()
        client.set_missing_host_key_policy(policy)
        explicit = pkey is not None or password is not None
        try:
            client.connect(self.host, port=self.port, username=self.user, password=password, pkey=pkey,
                           timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
                           allow_agent=not explicit, look_for_keys=not explicit)
        except BaseException:
            client.close()
            raise
        self.added_host_key = getattr(policy, 'added', None)
        try:
            client.get_transport().set_keepalive(15)
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except BaseException as exc:
            client.close()
            if isinstance(exc, Exception):
                raise UnreachableError('%s: logged in but could not start the SFTP subsystem: %s'
                                       % (self.describe(), exc), reason='ssh')
            raise
        self._client = client
        self._sftp = sftp
        return sftp

    def _load_hosts(self, loader, path):
        try:
            loader(path)
        except (IOError, OSError) as err:
            raise ConfigError('cannot read known_hosts file %s: %s' % (path, err.strerror or err))
        except Exception as err:  # pylint: disable=broad-except
            # paramiko raises what its parser meets (SSHException, ValueError, binascii errors)
            raise ConfigError('cannot parse known_hosts file %s: %s' % (path, err))

    def _connect_error(self, exc):
        """The typed error for a failed connection; ``exc`` itself when it is not a connection failure."""
        where = self._where()
        if isinstance(exc, LifeboatError):
            return exc
        if isinstance(exc, _UnknownHostKey):
            return DeniedError(
                'the SSH host key of %s (%s %s) is not in %s, so the server cannot be verified: add it (for example '
                'with ssh-keyscan, after checking the fingerprint) or set store.host_key_policy=accept_new to record it '
                'on first use' % (where, exc.key.get_name(), fingerprint(exc.key), self.known_hosts),
                reason='unknown_host_key')
        if isinstance(exc, paramiko.BadHostKeyException):
            return DeniedError(
                'the SSH host key of %s has CHANGED: the server offered %s %s but %s has %s. Refusing to connect: '
                'either the server was reinstalled or someone is intercepting the connection. If the change is '
                'expected, remove the old entry from %s' % (
                    where, exc.key.get_name(), fingerprint(exc.key), self.known_hosts,
                    fingerprint(exc.expected_key), self.known_hosts),
                reason='host_key_mismatch')
        if isinstance(exc, paramiko.AuthenticationException):
            return DeniedError('SFTP login as %s on %s was refused: check store.user and store.private_key or '
                               'store.password (%s)' % (self.user or '(current user)', where, exc.__class__.__name__),
                               reason='bad_credentials')
        if isinstance(exc, socket.timeout):
            return UnreachableError('cannot connect to the SFTP server %s: timed out after %ds' % (where, self.timeout),
                                    reason='unreachable')
        if isinstance(exc, socket.gaierror):
            return UnreachableError('cannot resolve the SFTP server name %r: %s' % (self.host, exc.strerror or exc),
                                    reason='unreachable')
        if isinstance(exc, (paramiko.ssh_exception.NoValidConnectionsError, socket.error, EOFError)):
            reason = getattr(exc, 'strerror', None) or str(exc) or exc.__class__.__name__
            return UnreachableError('cannot connect to the SFTP server %s: %s' % (where, reason), reason='unreachable')
        if isinstance(exc, paramiko.SSHException):
            return UnreachableError('SSH connection to %s failed: %s' % (where, exc), reason='ssh')
        return exc

    @property
    def sftp(self):
        return self.connect()

    def live_sftp(self):
        """The current SFTP session if it is still connected, else None (never connects)."""
        return self._sftp if self._sftp is not None and self.connected() else None

    def connected(self):
        transport = self._client.get_transport() if self._client is not None else None
        return transport is not None and transport.is_active()

    def error(self, exc, action, path):
        """The typed error for a failed SFTP operation; ``exc`` itself when it is not an I/O or SSH failure."""
        if isinstance(exc, LifeboatError):
            return exc
        if not isinstance(exc, (IOError, OSError, EOFError, socket.timeout, paramiko.SSHException, paramiko.SFTPError)):
            return exc
        code = getattr(exc, 'errno', None)
        dropped = isinstance(exc, (EOFError, socket.timeout)) or code in _CONN_ERRNOS or not self.connected() or \
            (isinstance(exc, paramiko.SSHException) and 'dropped' in str(exc).lower()) or \
            'socket is closed' in str(exc).lower()
        if dropped:
            what = 'timed out' if isinstance(exc, socket.timeout) else 'dropped'
            return UnreachableError('the SFTP connection to %s %s while trying to %s %s (%s); nothing partial is used: '
                                    'unfinished writes stay under a temporary name that is never read'
                                    % (self._where(), what, action, path, str(exc) or exc.__class__.__name__),
                                    reason='connection_lost')
        error = LifeboatError
        if code == errno.ENOENT:
            reason, error = 'no such file or directory', NotFoundError
        elif code == errno.EACCES:
            reason, error = 'permission denied', DeniedError
        else:
            reason = getattr(exc, 'strerror', None) or str(exc) or exc.__class__.__name__
            if reason == 'Failure':
                reason = 'the server reported a failure (for example a full disk or quota)'
        return error('cannot %s %s on %s: %s' % (action, path, self.describe(), reason), errno=code)

    # ------------------------------------------------------------------ helpers
    def _path(self, key):
        return posixpath.join(self.root, *check_key(key).split('/'))

    def _tmp_for(self, final):
        directory, base = posixpath.split(final)
        return posixpath.join(directory, temp_name(base, uuid.uuid4().hex[:12]))

    def _stat(self, path):
        try:
            return self.sftp.stat(path)
        except Exception as exc:  # pylint: disable=broad-except
            if isinstance(exc, IOError) and getattr(exc, 'errno', None) == errno.ENOENT:
                return None
            raise self.error(exc, 'stat', path)

    def makedirs(self, directory):
        if directory in self._dirs or directory in ('', '/'):
            return
        info = self._stat(directory)
        if info is None:
            self.makedirs(posixpath.dirname(directory))
            try:
                self.sftp.mkdir(directory, DIR_MODE)
            except Exception as exc:  # pylint: disable=broad-except
                info = self._stat(directory)
                if info is None or not stat_mod.S_ISDIR(info.st_mode):
                    raise self.error(exc, 'create directory', directory)
        elif not stat_mod.S_ISDIR(info.st_mode):
            raise ConfigError('%s: %s exists and is not a directory' % (self.describe(), directory))
        self._dirs.add(directory)

    def _create(self, path, exclusive=True):
        try:
            handle_file = self.sftp.open(path, 'wbx' if exclusive else 'wb')
            try:
                self.sftp.chmod(path, FILE_MODE)
            except IOError:
                pass  # the server applies its umask; the directory (0700) keeps it private either way
            return handle_file
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'create', path)

    def finish_file(self, handle_file, pipe, tmp, size, final):
        """Collect every write status, fsync (fsync@openssh.com when offered), close, check the size."""
        try:
            pipe.finish()
            try:
                self.sftp._request(CMD_EXTENDED, 'fsync@openssh.com', handle_file.handle)
            except IOError:
                pass  # the server does not offer fsync@openssh.com
            handle_file.close()
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'write', final)
        info = self._stat(tmp)
        if info is None or info.st_size != size:
            raise LifeboatError('%s: %s has %s bytes on the server after writing %d' % (
                self.describe(), final, 'no' if info is None else info.st_size, size))

    def rename_over(self, tmp, final):
        """Atomically replace final with tmp (posix-rename@openssh.com); without it, remove then rename."""
        try:
            self.sftp.posix_rename(tmp, final)
            return
        except IOError as err:
            if 'unsupported' not in str(err).lower():
                raise self.error(err, 'commit', final)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'commit', final)
        try:
            try:
                self.sftp.remove(final)
            except IOError as err:
                if getattr(err, 'errno', None) != errno.ENOENT:
                    raise
            self.sftp.rename(tmp, final)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'commit', final)

    def _exists_error(self, key):
        return AlreadyExistsError('%s already exists in the %s: an exclusive write never replaces an object'
                                  % (key, self.describe()), key=key)

    def link_new(self, tmp, final, key):
        """Give the complete temp file ``tmp`` the name ``final`` only if that name is free, then drop ``tmp``:
        hardlink@openssh.com (link(2) on the server), else the SFTP v3 rename, which OpenSSH performs
        with link + unlink and so never overwrites. AlreadyExistsError when ``final`` exists."""
        try:
            self.sftp._request(CMD_EXTENDED, 'hardlink@openssh.com', tmp, final)
        except IOError as err:
            if 'unsupported' in str(err).lower():
                self._rename_new(tmp, final, key)
                return
            if self._stat(final) is not None:
                self._remove_temp(tmp)
                raise self._exists_error(key)
            raise self.error(err, 'create', final)
        except Exception as exc:  # pylint: disable=broad-except
            raise self.error(exc, 'create', final)
        self._remove_temp(tmp)

    def _rename_new(self, tmp, final, key):
        try:
            self.sftp.rename(tmp, final)
        except IOError as err:
            if self._stat(final) is not None:
                self._remove_temp(tmp)
                raise self._exists_error(key)
            raise self.error(err, 'create', final)

    def _remove_temp(self, tmp):
        try:
            self.sftp.remove(tmp)
        except Exception:  # pylint: disable=broad-except
            pass  # a temp name is never read; cleanup_incomplete removes it later

    # ------------------------------------------------------------------ interface
    def check_writable(self):
        self.connect()
        self.makedirs(self.root)
        probe = posixpath.join(self.root, temp_name('probe', uuid.uuid4().hex))
        handle_file = self._create(probe)
        try:
            pipe = _PipelinedWrite(self.sftp, handle_file)
            try:
                pipe.write(b'lifeboat probe\n')
            except Exception as exc:  # pylint: disable=broad-except
                raise self.error(exc, 'write to', probe)
            self.finish_file(handle_file, pipe, probe, 15, probe)
        finally:
            for cleanup in (handle_file.close, lambda: self.sftp.remove(probe)):   # closing twice is harmless
                try:
                    cleanup()
                except Exception:  # pylint: disable=broad-except
                    pass  # the probe's leftovers are a temp name, never read

    def open_write(self, key, exclusive=False):
        final = self._path(key)
        self.makedirs(posixpath.dirname(final))
        tmp = self._tmp_for(final)
        return _SftpWriter(self, key, final, tmp, self._create(tmp), exclusive)

    def open_read(self, key):
        return _SftpReader(self, self._path(key))

    def stat(self, key):
        info = self._stat(self._path(key))
        if info is None or not stat_mod.S_ISREG(info.st_mode or 0):
            return None
        return ObjectInfo(key, info.st_size, float(info.st_mtime or 0))

    def _listdir(self, directory):
        try:
            return self.sftp.listdir_attr(directory)
        except Exception as exc:  # pylint: disable=broad-except
            if isinstance(exc, IOError) and getattr(exc, 'errno', None) == errno.ENOENT:
                return []
            raise self.error(exc, 'list', directory)

    def _walk(self, rel):
        base = posixpath.join(self.root, rel) if rel else self.root
        for attrs in sorted(self._listdir(base), key=lambda entry: entry.filename):
            name = attrs.filename
            if name in ('.', '..'):
                continue
            sub = join_key(rel, name) if rel else name
            mode = attrs.st_mode or 0
            if stat_mod.S_ISDIR(mode):
                yield from self._walk(sub)
            elif stat_mod.S_ISREG(mode):
                yield sub, attrs

    def list(self, prefix):
        rel = check_key(prefix) if prefix else ''
        for key, attrs in self._walk(rel):
            if posixpath.basename(key).startswith(TEMP_PREFIX):
                continue
            yield ObjectInfo(key, attrs.st_size, float(attrs.st_mtime or 0))

    def list_children(self, prefix=''):
        base = self._path(prefix) if prefix else self.root
        return sorted(attrs.filename for attrs in self._listdir(base)
                      if attrs.filename not in ('.', '..') and not attrs.filename.startswith(TEMP_PREFIX))

    def delete(self, key):
        path = self._path(key)
        try:
            self.sftp.remove(path)
        except Exception as exc:  # pylint: disable=broad-except
            if isinstance(exc, IOError) and getattr(exc, 'errno', None) == errno.ENOENT:
                return
            raise self.error(exc, 'delete', path)
        self._remove_empty_dirs(posixpath.dirname(path), self.root)

    def cleanup_incomplete(self, prefixes):
        """Remove the temp files dropped connections left below ``prefixes`` (the open sets). Called with the
        store lock held. The store root is never swept: a concurrent start may be writing its lock's temp
        name there."""
        removed = 0
        for prefix in prefixes:
            floor = self._path(prefix)
            info = self._stat(floor)
            if info is None or not stat_mod.S_ISDIR(info.st_mode or 0):
                continue
            for key, _attrs in self._walk(check_key(prefix)):
                if posixpath.basename(key).startswith(TEMP_PREFIX):
                    removed += self._remove_quietly(posixpath.join(self.root, key), floor)
        return removed

    def _remove_quietly(self, path, floor):
        try:
            self.sftp.remove(path)
        except Exception:  # pylint: disable=broad-except
            return 0  # best effort: a temp name is never read either way
        self._remove_empty_dirs(posixpath.dirname(path), floor)   # and the directories it leaves empty
        return 1

    def _remove_empty_dirs(self, directory, floor):
        """rmdir ``directory`` and its parents while they are empty and below ``floor`` (never ``floor``)."""
        while directory.startswith(floor + '/'):
            try:
                self.sftp.rmdir(directory)
            except Exception:  # pylint: disable=broad-except
                break  # not empty (or not ours): stop climbing
            self._dirs.discard(directory)
            directory = posixpath.dirname(directory)

    def close(self):
        if self._sftp is not None:
            try:
                self._sftp.close()
            except Exception:  # pylint: disable=broad-except
                pass  # closing a session: nothing depends on it
            self._sftp = None
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._client = None
