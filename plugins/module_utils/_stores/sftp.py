# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SFTP store, the paramiko adapter.

Objects are files under <path>/<prefix>/<key> on the server. A write streams (pipelined SFTP writes)
into a hidden temp name in the final directory, is fsynced (fsync@openssh.com when offered), its size
checked, then renamed over the final name with posix-rename@openssh.com: readers never see a partial
object, and temp names are never listed. Exclusive small writes (locks, status) are a complete temp
file hard-linked to the final name (hardlink@openssh.com, which fails when the name exists), or on
servers without that extension the plain SFTP rename, which OpenSSH implements without overwriting.

The server's host key is always verified against known_hosts: an unknown key is refused unless
host_key_policy=accept_new (which records it), and a changed key is always refused.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import posixpath
import socket
import stat as stat_mod
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

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import (
    ObjectInfo, Reader, Store, Writer, check_key, join_key)
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import TMP_MARK
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

DIR_MODE = 0o700
FILE_MODE = 0o600
READ_WINDOW = 8 * 1024 * 1024      # bytes requested ahead (pipelined) when reading
READ_REQUEST = 32768               # one SFTP read request (what every server accepts)
WRITE_REQUEST = 32768              # one SFTP write request
MAX_INFLIGHT = 64                  # pipelined write requests awaiting their status (2 MiB)

_CONN_ERRNOS = (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN, errno.ETIMEDOUT,
                errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNREFUSED)


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
        d = os.path.dirname(self.path)
        if d and not os.path.isdir(d):
            os.makedirs(d, DIR_MODE)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        with os.fdopen(fd, 'a') as f:
            f.write('%s %s %s\n' % (hostname, key.get_name(), key.get_base64()))
        self.added = '%s %s' % (key.get_name(), fingerprint(key))


class _PipelinedWrite(object):
    """Pipelined SFTP writes into one open handle, with every status reply checked.

    paramiko's own pipelining (SFTPFile.set_pipelined) registers write requests without an owner, so a
    reply read while waiting for another request is dropped, error or not. Here each write request is
    registered with this object: whoever reads its reply hands it to _async_response, which counts it
    and keeps the first error. At most MAX_INFLIGHT requests wait for their reply.
    """

    def __init__(self, sftp, f):
        self.sftp = sftp
        self.f = f
        self.offset = 0
        self.inflight = 0
        self.error = None

    def _async_response(self, t, msg, num):
        self.inflight -= 1
        if t == CMD_STATUS:
            try:
                self.sftp._convert_status(msg)
            except Exception as e:  # pylint: disable=broad-except
                if self.error is None:
                    self.error = e
        elif self.error is None:
            self.error = IOError('unexpected SFTP reply %r to a write' % (t,))

    def _check(self):
        if self.error is not None:
            raise self.error

    def write(self, data):
        view = memoryview(data)
        for i in range(0, len(view), WRITE_REQUEST):
            chunk = view[i:i + WRITE_REQUEST]
            self.inflight += 1
            self.sftp._async_request(self, CMD_WRITE, self.f.handle, int64(self.offset), bytes(chunk))
            self.offset += len(chunk)
            while self.inflight > MAX_INFLIGHT:
                self.sftp._read_response()
            self._check()

    def finish(self):
        while self.inflight > 0:
            self.sftp._read_response()
        self._check()


class _SftpWriter(Writer):
    def __init__(self, store, key, final, tmp, f):
        self.store = store
        self.key = key
        self.final = final
        self.tmp = tmp
        self.f = f
        self.pipe = _PipelinedWrite(store.sftp, f)
        self.size = 0

    def write(self, data):
        try:
            self.pipe.write(data)
        except Exception as e:  # pylint: disable=broad-except
            raise self.store.error(e, 'write', self.final)
        self.size += len(data)

    def commit(self):
        self.store.finish_file(self.f, self.pipe, self.tmp, self.size, self.final)
        self.f = None
        self.store.rename_over(self.tmp, self.final)
        self.committed = True

    def abort(self):
        if self.f is not None:
            try:
                self.f.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self.f = None
        try:
            self.store.sftp.remove(self.tmp)
        except Exception:  # pylint: disable=broad-except
            pass  # e.g. the connection is gone: the temp name is never listed, and cleaned by the next run


class _SftpReader(Reader):
    """Reads pipelined in windows of READ_WINDOW bytes: memory stays about two windows."""

    def __init__(self, store, path):
        self.store = store
        self.path = path
        try:
            self.f = store.sftp.open(path, 'rb')
            self.size = self.f.stat().st_size
        except Exception as e:  # pylint: disable=broad-except
            if isinstance(e, IOError) and getattr(e, 'errno', None) == errno.ENOENT:
                raise LifeboatError('%s is not in the store (%s)' % (path, store.describe()))
            raise store.error(e, 'read', path)
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
                chunks = [(self.offset + i, min(READ_REQUEST, want - i)) for i in range(0, want, READ_REQUEST)]
                block = b''.join(self.f.readv(chunks))
            except Exception as e:  # pylint: disable=broad-except
                raise self.store.error(e, 'read', self.path)
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
            self.f.close()
        except Exception:  # pylint: disable=broad-except
            pass
        self.cur = b''


class SftpStore(Store):
    type = 'sftp'

    def __init__(self, params):
        if not HAS_PARAMIKO:
            raise LifeboatError('%s (import error: %s)'
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

    def _load_key(self):
        path = self.params.get('private_key')
        if not path:
            return None
        passphrase = self.params.get('private_key_passphrase') or None
        if not os.path.exists(path):
            raise LifeboatError('store.private_key %s does not exist on this host' % path)
        encrypted = LifeboatError('store.private_key %s is encrypted: set store.private_key_passphrase' % path)
        try:
            if hasattr(paramiko.PKey, 'from_path'):                    # paramiko >= 3.2
                try:
                    return paramiko.PKey.from_path(path, passphrase.encode('utf-8') if passphrase else None)
                except TypeError as e:
                    if not passphrase and ('password' in str(e).lower() or 'encrypted' in str(e).lower()):
                        raise encrypted
                    raise
            last = None
            for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
                try:
                    return cls.from_private_key_file(path, password=passphrase)
                except paramiko.PasswordRequiredException:
                    raise
                except paramiko.SSHException as e:
                    last = e
            raise last
        except LifeboatError:
            raise
        except paramiko.PasswordRequiredException:
            raise encrypted
        except (IOError, OSError) as e:
            raise LifeboatError('cannot read store.private_key %s: %s' % (path, e.strerror or e))
        except Exception as e:  # pylint: disable=broad-except
            raise LifeboatError('cannot load store.private_key %s: wrong passphrase or unsupported key format (%s)'
                                % (path, e.__class__.__name__))

    def connect(self):
        if self._sftp is not None:
            return self._sftp
        pkey = self._load_key()
        password = self.params.get('password') or None
        client = paramiko.SSHClient()
        if self.params.get('known_hosts'):
            if os.path.exists(self.known_hosts):
                self._load_hosts(client.load_host_keys, self.known_hosts)
        else:
            for f in ('/etc/ssh/ssh_known_hosts',):
                if os.path.exists(f):
                    self._load_hosts(client.load_system_host_keys, f)
            if os.path.exists(self.known_hosts):
                self._load_hosts(client.load_host_keys, self.known_hosts)
        if self.policy_name == 'accept_new':
            policy = _AcceptNewPolicy(self.known_hosts)
        else:
            policy = _StrictPolicy()
        client.set_missing_host_key_policy(policy)
        explicit = pkey is not None or password is not None
        try:
            client.connect(self.host, port=self.port, username=self.user, password=password, pkey=pkey,
                           timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
                           allow_agent=not explicit, look_for_keys=not explicit)
        except BaseException as e:
            client.close()
            raise self._connect_error(e)
        self.added_host_key = getattr(policy, 'added', None)
        try:
            t = client.get_transport()
            t.set_keepalive(15)
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except BaseException as e:
            client.close()
            if isinstance(e, Exception):
                raise LifeboatError('%s: logged in but could not start the SFTP subsystem: %s'
                                    % (self.describe(), e))
            raise
        self._client = client
        self._sftp = sftp
        return sftp

    def _load_hosts(self, loader, path):
        try:
            loader(path)
        except (IOError, OSError) as e:
            raise LifeboatError('cannot read known_hosts file %s: %s' % (path, e.strerror or e))
        except Exception as e:  # pylint: disable=broad-except
            raise LifeboatError('cannot parse known_hosts file %s: %s' % (path, e))

    def _connect_error(self, e):
        where = self._where()
        if isinstance(e, LifeboatError):
            return e
        if isinstance(e, _UnknownHostKey):
            return LifeboatError(
                'the SSH host key of %s (%s %s) is not in %s, so the server cannot be verified: add it (for example '
                'with ssh-keyscan, after checking the fingerprint) or set store.host_key_policy=accept_new to record it '
                'on first use' % (where, e.key.get_name(), fingerprint(e.key), self.known_hosts),
                reason='unknown_host_key')
        if isinstance(e, paramiko.BadHostKeyException):
            return LifeboatError(
                'the SSH host key of %s has CHANGED: the server offered %s %s but %s has %s. Refusing to connect: '
                'either the server was reinstalled or someone is intercepting the connection. If the change is '
                'expected, remove the old entry from %s' % (
                    where, e.key.get_name(), fingerprint(e.key), self.known_hosts,
                    fingerprint(e.expected_key), self.known_hosts),
                reason='host_key_mismatch')
        if isinstance(e, paramiko.AuthenticationException):
            return LifeboatError('SFTP login as %s on %s was refused: check store.user and store.private_key or '
                                 'store.password (%s)' % (self.user or '(current user)', where, e.__class__.__name__),
                                 reason='bad_credentials')
        if isinstance(e, socket.timeout):
            return LifeboatError('cannot connect to the SFTP server %s: timed out after %ds' % (where, self.timeout),
                                 reason='unreachable')
        if isinstance(e, socket.gaierror):
            return LifeboatError('cannot resolve the SFTP server name %r: %s' % (self.host, e.strerror or e),
                                 reason='unreachable')
        if isinstance(e, (paramiko.ssh_exception.NoValidConnectionsError, socket.error, EOFError)):
            reason = getattr(e, 'strerror', None) or str(e) or e.__class__.__name__
            return LifeboatError('cannot connect to the SFTP server %s: %s' % (where, reason), reason='unreachable')
        if isinstance(e, paramiko.SSHException):
            return LifeboatError('SSH connection to %s failed: %s' % (where, e), reason='ssh')
        if isinstance(e, Exception):
            return LifeboatError('SSH connection to %s failed: %s: %s' % (where, e.__class__.__name__, e))
        return e

    @property
    def sftp(self):
        return self.connect()

    def connected(self):
        return self._client is not None and self._client.get_transport() is not None \
            and self._client.get_transport().is_active()

    def error(self, e, action, path):
        """One readable LifeboatError for a failed SFTP operation."""
        if isinstance(e, LifeboatError):
            return e
        code = getattr(e, 'errno', None)
        dropped = isinstance(e, (EOFError, socket.timeout)) or code in _CONN_ERRNOS or not self.connected() or \
            (isinstance(e, paramiko.SSHException) and 'dropped' in str(e).lower()) or \
            'socket is closed' in str(e).lower()
        if dropped:
            what = 'timed out' if isinstance(e, socket.timeout) else 'dropped'
            return LifeboatError('the SFTP connection to %s %s while trying to %s %s (%s); nothing partial is used: '
                                 'unfinished writes stay under a temporary name that is never read'
                                 % (self._where(), what, action, path, str(e) or e.__class__.__name__),
                                 reason='connection_lost')
        if code == errno.ENOENT:
            reason = 'no such file or directory'
        elif code == errno.EACCES:
            reason = 'permission denied'
        else:
            reason = getattr(e, 'strerror', None) or str(e) or e.__class__.__name__
            if reason == 'Failure':
                reason = 'the server reported a failure (for example a full disk or quota)'
        return LifeboatError('cannot %s %s on %s: %s' % (action, path, self.describe(), reason), errno=code)

    # ------------------------------------------------------------------ helpers
    def _p(self, key):
        return posixpath.join(self.root, *check_key(key).split('/'))

    def _tmp_for(self, final):
        d, base = posixpath.split(final)
        return posixpath.join(d, TMP_MARK + base + '-' + uuid.uuid4().hex[:12])

    def _stat(self, path):
        try:
            return self.sftp.stat(path)
        except IOError as e:
            if getattr(e, 'errno', None) == errno.ENOENT:
                return None
            raise self.error(e, 'stat', path)
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'stat', path)

    def makedirs(self, d):
        if d in self._dirs or d in ('', '/'):
            return
        st = self._stat(d)
        if st is None:
            self.makedirs(posixpath.dirname(d))
            try:
                self.sftp.mkdir(d, DIR_MODE)
            except Exception as e:  # pylint: disable=broad-except
                st = self._stat(d)
                if st is None or not stat_mod.S_ISDIR(st.st_mode):
                    raise self.error(e, 'create directory', d)
        elif not stat_mod.S_ISDIR(st.st_mode):
            raise LifeboatError('%s: %s exists and is not a directory' % (self.describe(), d))
        self._dirs.add(d)

    def _create(self, path, exclusive=True):
        try:
            f = self.sftp.open(path, 'wbx' if exclusive else 'wb')
            try:
                self.sftp.chmod(path, FILE_MODE)
            except IOError:
                pass
            return f
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'create', path)

    def finish_file(self, f, pipe, tmp, size, final):
        """Collect every write status, fsync (fsync@openssh.com when offered), close, check the size."""
        try:
            pipe.finish()
            try:
                self.sftp._request(CMD_EXTENDED, 'fsync@openssh.com', f.handle)
            except IOError:
                pass  # the server does not offer fsync@openssh.com
            f.close()
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'write', final)
        st = self._stat(tmp)
        if st is None or st.st_size != size:
            raise LifeboatError('%s: %s has %s bytes on the server after writing %d' % (
                self.describe(), final, 'no' if st is None else st.st_size, size))

    def rename_over(self, tmp, final):
        """Atomically replace final with tmp (posix-rename@openssh.com); without it, remove then rename."""
        try:
            self.sftp.posix_rename(tmp, final)
            return
        except IOError as e:
            if 'unsupported' not in str(e).lower():
                raise self.error(e, 'commit', final)
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'commit', final)
        try:
            try:
                self.sftp.remove(final)
            except IOError as e:
                if getattr(e, 'errno', None) != errno.ENOENT:
                    raise
            self.sftp.rename(tmp, final)
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'commit', final)

    # ------------------------------------------------------------------ interface
    def check_writable(self):
        self.connect()
        self.makedirs(self.root)
        probe = posixpath.join(self.root, TMP_MARK + 'probe-' + uuid.uuid4().hex)
        f = self._create(probe)
        try:
            pipe = _PipelinedWrite(self.sftp, f)
            try:
                pipe.write(b'lifeboat probe\n')
            except Exception as e:  # pylint: disable=broad-except
                raise self.error(e, 'write to', probe)
            self.finish_file(f, pipe, probe, 15, probe)
        finally:
            for cleanup in (f.close, lambda: self.sftp.remove(probe)):   # closing twice is harmless
                try:
                    cleanup()
                except Exception:  # pylint: disable=broad-except
                    pass

    def open_write(self, key):
        final = self._p(key)
        self.makedirs(posixpath.dirname(final))
        tmp = self._tmp_for(final)
        return _SftpWriter(self, key, final, tmp, self._create(tmp))

    def open_read(self, key):
        return _SftpReader(self, self._p(key))

    def stat(self, key):
        st = self._stat(self._p(key))
        if st is None or not stat_mod.S_ISREG(st.st_mode or 0):
            return None
        return ObjectInfo(key, st.st_size, float(st.st_mtime or 0))

    def _listdir(self, d):
        try:
            return self.sftp.listdir_attr(d)
        except IOError as e:
            if getattr(e, 'errno', None) == errno.ENOENT:
                return []
            raise self.error(e, 'list', d)
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'list', d)

    def _walk(self, rel):
        base = posixpath.join(self.root, rel) if rel else self.root
        entries = sorted(self._listdir(base), key=lambda a: a.filename)
        for a in entries:
            name = a.filename
            if name in ('.', '..'):
                continue
            sub = join_key(rel, name) if rel else name
            mode = a.st_mode or 0
            if stat_mod.S_ISDIR(mode):
                yield from self._walk(sub)
            elif stat_mod.S_ISREG(mode):
                yield sub, a

    def list(self, prefix):
        rel = check_key(prefix) if prefix else ''
        for key, a in self._walk(rel):
            if posixpath.basename(key).startswith(TMP_MARK):
                continue
            yield ObjectInfo(key, a.st_size, float(a.st_mtime or 0))

    def list_children(self, prefix=''):
        base = self._p(prefix) if prefix else self.root
        return sorted(a.filename for a in self._listdir(base)
                      if a.filename not in ('.', '..') and not a.filename.startswith(TMP_MARK))

    def delete(self, key):
        p = self._p(key)
        try:
            self.sftp.remove(p)
        except IOError as e:
            if getattr(e, 'errno', None) == errno.ENOENT:
                return
            raise self.error(e, 'delete', p)
        except Exception as e:  # pylint: disable=broad-except
            raise self.error(e, 'delete', p)
        self._remove_empty_dirs(posixpath.dirname(p), self.root)

    def put_bytes(self, key, data, exclusive=False):
        final = self._p(key)
        self.makedirs(posixpath.dirname(final))
        tmp = self._tmp_for(final)
        f = self._create(tmp)
        linked = False
        try:
            pipe = _PipelinedWrite(self.sftp, f)
            try:
                pipe.write(data)
            except Exception as e:  # pylint: disable=broad-except
                raise self.error(e, 'write', final)
            self.finish_file(f, pipe, tmp, len(data), final)
            f = None
            if not exclusive:
                self.rename_over(tmp, final)
                tmp = None
                return True
            try:
                self.sftp._request(CMD_EXTENDED, 'hardlink@openssh.com', tmp, final)
                linked = True
            except IOError as e:
                if 'unsupported' not in str(e).lower():
                    if self._stat(final) is not None:
                        return False
                    raise self.error(e, 'create', final)
            except Exception as e:  # pylint: disable=broad-except
                raise self.error(e, 'create', final)
            if linked:
                return True
            # no hardlink@openssh.com: SFTP v3 rename refuses to overwrite (OpenSSH: link + unlink)
            try:
                self.sftp.rename(tmp, final)
                tmp = None
                return True
            except IOError as e:
                if self._stat(final) is not None:
                    return False
                raise self.error(e, 'create', final)
        finally:
            if f is not None:
                try:
                    f.close()
                except Exception:  # pylint: disable=broad-except
                    pass
            if tmp is not None and self._sftp is not None:
                try:
                    self._sftp.remove(tmp)
                except Exception:  # pylint: disable=broad-except
                    pass

    def cleanup_incomplete(self):
        """Remove temp files left by dropped connections in every set that has no manifest (completed
        sets are never written again). Called with the store lock held. The store root is left alone:
        a concurrent start may be writing its lock's temp name there."""
        n = 0
        for a in self._listdir(self.root):
            name = a.filename
            if not set_format.is_set_id(name) or not stat_mod.S_ISDIR(a.st_mode or 0):
                continue
            if self._stat(posixpath.join(self.root, name, set_format.MANIFEST_KEY)) is not None:
                continue
            for key, _a in self._walk(name):
                if posixpath.basename(key).startswith(TMP_MARK):
                    n += self._remove_quietly(posixpath.join(self.root, key))
        return n

    def _remove_quietly(self, path):
        try:
            self.sftp.remove(path)
        except Exception:  # pylint: disable=broad-except
            return 0
        # and the directories it leaves empty, below its set's directory
        rel = posixpath.relpath(path, self.root)
        self._remove_empty_dirs(posixpath.dirname(path), posixpath.join(self.root, rel.split('/', 1)[0]))
        return 1

    def _remove_empty_dirs(self, d, floor):
        """rmdir ``d`` and its parents while they are empty and below ``floor`` (never ``floor`` itself)."""
        while d.startswith(floor + '/'):
            try:
                self.sftp.rmdir(d)
            except Exception:  # pylint: disable=broad-except
                break
            self._dirs.discard(d)
            d = posixpath.dirname(d)

    def close(self):
        if self._sftp is not None:
            try:
                self._sftp.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._sftp = None
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._client = None
