# -*- coding: utf-8 -*-
"""SFTP store specifics against a real OpenSSH sshd on loopback: host key verification, credentials,
permissions of what is written, and a connection dropped in the middle of an upload."""
import os
import shutil
import stat
import time

import pytest

from storelib import finish_module, leftovers, run_module, sftp_params, sparse_file, start_module

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

MiB = 1024 * 1024
SET = '20261122T031500Z'


def _arg(params):
    return {k: v for k, v in params.items() if v is not None}


def test_unknown_host_key_refused_then_accepted_once_then_a_changed_key_refused(sshd, workdir):
    kh = os.path.join(workdir, 'known_hosts')
    path = os.path.join(workdir, 'srv')
    st = open_store(sftp_params(sshd, path, known_hosts=kh))
    with pytest.raises(LifeboatError) as e:
        st.check_writable()
    assert 'the SSH host key of 127.0.0.1:%d (ssh-ed25519 SHA256:' % sshd.port in e.value.msg
    assert 'host_key_policy=accept_new' in e.value.msg and e.value.details['reason'] == 'unknown_host_key'
    assert not os.path.exists(kh)

    st = open_store(sftp_params(sshd, path, known_hosts=kh, host_key_policy='accept_new'))
    st.check_writable()
    st.close()
    with open(kh) as f:
        assert f.read() == sshd.known_hosts_line()
    assert stat.S_IMODE(os.stat(kh).st_mode) == 0o600
    open_store(sftp_params(sshd, path, known_hosts=kh)).check_writable()     # strict now knows it

    # the server's key changes: refused, also with accept_new, and known_hosts is left alone
    with open(kh, 'w') as f:
        f.write(sshd.known_hosts_line(sshd.other_key))
    for policy in ('strict', 'accept_new'):
        st = open_store(sftp_params(sshd, path, known_hosts=kh, host_key_policy=policy))
        with pytest.raises(LifeboatError) as e:
            st.check_writable()
        assert 'the SSH host key of 127.0.0.1:%d has CHANGED' % sshd.port in e.value.msg, e.value.msg
        assert e.value.details['reason'] == 'host_key_mismatch'
    with open(kh) as f:
        assert f.read() == sshd.known_hosts_line(sshd.other_key)


def test_credentials_and_keys(sshd, workdir):
    path = os.path.join(workdir, 'srv')
    st = open_store(sftp_params(sshd, path, private_key=sshd.other_key))
    with pytest.raises(LifeboatError) as e:
        st.check_writable()
    assert e.value.msg.startswith('SFTP login as root on 127.0.0.1:%d was refused' % sshd.port)
    assert e.value.details['reason'] == 'bad_credentials'

    enc = sshd.keygen('encrypted', passphrase='correct horse')
    with open(sshd.authorized, 'a') as f, open(enc + '.pub') as p:
        f.write(p.read())
    with pytest.raises(LifeboatError, match='is encrypted: set store.private_key_passphrase'):
        open_store(sftp_params(sshd, path, private_key=enc)).check_writable()
    with pytest.raises(LifeboatError, match='wrong passphrase'):
        open_store(sftp_params(sshd, path, private_key=enc, private_key_passphrase='nope')).check_writable()
    open_store(sftp_params(sshd, path, private_key=enc, private_key_passphrase='correct horse')).check_writable()

    with pytest.raises(LifeboatError, match='does not exist on this host'):
        open_store(sftp_params(sshd, path, private_key=os.path.join(workdir, 'nokey'))).check_writable()

    # wrong key through the module: one message, no traceback, no secret
    r = run_module('backup_set', {'state': 'started', 'store': _arg(sftp_params(
        sshd, path, private_key=enc, private_key_passphrase='sekrit-passphrase-42'))})
    assert r.failed and 'wrong passphrase' in r.msg, r
    assert 'sekrit-passphrase-42' not in r.stdout + r.stderr and 'Traceback' not in r.stdout + r.stderr


def test_unreachable_server(sshd, workdir):
    from storelib import free_port
    port = free_port()
    st = open_store(sftp_params(sshd, os.path.join(workdir, 'srv'), port=port))
    with pytest.raises(LifeboatError) as e:
        st.check_writable()
    assert e.value.msg.startswith('cannot connect to the SFTP server 127.0.0.1:%d' % port), e.value.msg
    assert e.value.details['reason'] == 'unreachable'


def test_files_are_private_and_nothing_partial_is_listed(sshd, workdir):
    path = os.path.join(workdir, 'srv')
    st = open_store(sftp_params(sshd, path))
    st.check_writable()
    w = st.open_write(SET + '/web1/files/a.tar')
    w.write(b'x' * (3 * MiB))
    tmp = leftovers(st)
    assert len(tmp) == 1 and os.path.basename(tmp[0]).startswith('.lifeboat-tmp-a.tar-')
    assert stat.S_IMODE(os.stat(tmp[0]).st_mode) == 0o600
    assert list(st.list(SET)) == [] and st.list_children(SET + '/web1/files') == []
    w.commit()
    final = os.path.join(path, 'backups', SET, 'web1', 'files', 'a.tar')
    assert stat.S_IMODE(os.stat(final).st_mode) == 0o600
    for d in (os.path.join(path, 'backups'), os.path.join(path, 'backups', SET),
              os.path.join(path, 'backups', SET, 'web1', 'files')):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    assert leftovers(st) == []


def test_hardlink_less_server_still_gets_exclusive_writes(sshd, workdir, monkeypatch):
    """Without hardlink@openssh.com the exclusive write falls back to the SFTP v3 rename, which OpenSSH
    refuses over an existing name."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores import sftp as sftp_store
    st = open_store(sftp_params(sshd, os.path.join(workdir, 'srv')))
    st.check_writable()
    real = st.sftp._request

    def no_hardlink(t, *args):
        if args and args[0] == 'hardlink@openssh.com':
            raise IOError('Operation unsupported')
        return real(t, *args)
    monkeypatch.setattr(st.sftp, '_request', no_hardlink)
    assert st.put_bytes('lock.json', b'1', exclusive=True) is True
    assert st.put_bytes('lock.json', b'2', exclusive=True) is False
    assert st.get_bytes('lock.json') == b'1' and leftovers(st) == []
    assert sftp_store.CMD_EXTENDED


def test_connection_dropped_mid_upload(sshd, workdir):
    """The SSH connection dies while backup_upload streams: one clear message, the partial upload stays under
    a temp name that is never listed nor read, and the next run removes it."""
    path = os.path.join(workdir, 'srv')
    store = _arg(sftp_params(sshd, path))
    started = run_module('backup_set', {'state': 'started', 'store': store})
    assert not started.failed, started
    set_id = started['set_id']
    src = sparse_file(os.path.join(workdir, 'big.img'), 1024 * MiB)
    proc, cleanup = start_module('backup_upload', {'store': store, 'set_id': set_id, 'host': 'web1', 'src': src,
                                                   'name': 'big', 'compression': 'none'})
    st = open_store(sftp_params(sshd, path))
    deadline = time.time() + 60
    while time.time() < deadline:
        tmp = [p for p in leftovers(st) if os.path.basename(p).startswith('.lifeboat-tmp-big-')]
        if tmp and os.path.getsize(tmp[0]) > 8 * MiB:
            break
        time.sleep(0.02)
    else:
        pytest.fail('the upload did not start')
    killed = sshd.kill_sessions()
    r = finish_module(proc, cleanup)
    assert killed and r.failed, r
    assert 'the SFTP connection to 127.0.0.1:%d dropped while trying to write' % sshd.port in r.msg, r.msg
    assert r.get('reason') == 'connection_lost'
    assert 'Traceback' not in r.stdout + r.stderr
    left = leftovers(st)
    assert len(left) == 1 and os.path.getsize(left[0]) < 1024 * MiB
    st = open_store(sftp_params(sshd, path))
    # nothing of the artifact is visible (its part stays declared, unfinished)
    assert [i.key for i in st.list(set_id) if '/heartbeats/' not in i.key] == [
        set_id + '/status.json', set_id + '/web1/upload/big.part.json']
    assert st.list_children(set_id + '/web1/upload') == ['big.part.json']
    # the next run breaks the dead run's lock, marks its set failed and removes the temp file
    again = run_module('backup_set', {'state': 'started', 'store': store, 'break_lock': True})
    assert not again.failed, again
    assert leftovers(st) == []
    assert st.list_children(set_id + '/web1/upload') == ['big.part.json']   # the temp file is gone
    assert lifecycle.derived_status(st, set_id, set_format.utcnow())['status'] == set_format.FAILED
    shutil.rmtree(os.path.join(path, 'backups'))


def test_password_login(stores_base, workdir):
    # a second sshd of our own that also takes root's password (in its own mount namespace only)
    from storelib import Sshd
    srv = Sshd(stores_base, password='Tr0ub4dor&3 with spaces')
    try:
        path = os.path.join(workdir, 'pw')
        no_key = dict(private_key=None, password='Tr0ub4dor&3 with spaces')
        st = open_store(sftp_params(srv, path, **no_key))
        st.check_writable()
        st.put_bytes('hello/object', b'by password')
        with st.open_read('hello/object') as r:
            assert r.read(100) == b'by password'
        st.close()

        st = open_store(sftp_params(srv, path, private_key=None, password='wrong'))
        with pytest.raises(LifeboatError) as e:
            st.check_writable()
        assert e.value.msg.startswith('SFTP login as root on 127.0.0.1:%d was refused' % srv.port), e.value.msg
        assert e.value.details['reason'] == 'bad_credentials'

        # through a module: a wrong password is one message, and never appears in the output
        r = run_module('backup_set', {'state': 'started', 'store': _arg(sftp_params(
            srv, path, private_key=None, password='sekrit-password-42'))})
        assert r.failed and 'was refused' in r.msg, r
        assert 'sekrit-password-42' not in r.stdout + r.stderr and 'Traceback' not in r.stdout + r.stderr
        r = run_module('backup_set', {'state': 'started', 'store': _arg(sftp_params(srv, path, **no_key))})
        assert not r.failed and r.result['status'] == 'in_progress', r
    finally:
        srv.stop()
