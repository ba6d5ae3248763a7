# -*- coding: utf-8 -*-
"""SFTP stores with the private key given as text (store.private_key_content), as an AWX credential hands it to
every host in lifeboat_secrets: real sshd on loopback (storelib.Sshd)."""
import os

import pytest

from storelib import run_module, sftp_params

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store


def _content_params(sshd, path, key_file, **kw):
    with open(key_file) as f:
        content = f.read()
    return sftp_params(sshd, path, private_key=None, private_key_content=content, **kw), content


def test_key_content_logs_in_without_a_key_file(sshd, workdir):
    path = os.path.join(workdir, 'srv-content')
    params, _key = _content_params(sshd, path, sshd.client_key)
    store = open_store(params)
    store.check_writable()
    store.close()


def test_key_content_faults(sshd, workdir):
    path = os.path.join(workdir, 'srv-content-faults')
    enc = sshd.keygen('encrypted-content', passphrase='correct horse')
    with open(sshd.authorized, 'a') as f, open(enc + '.pub') as p:
        f.write(p.read())
    params, content = _content_params(sshd, path, enc)
    with pytest.raises(LifeboatError, match='store.private_key_content is encrypted: set store.private_key_passphrase'):
        open_store(params).check_writable()
    params, _key = _content_params(sshd, path, enc, private_key_passphrase='nope')
    with pytest.raises(LifeboatError, match='cannot load store.private_key_content: wrong passphrase') as e:
        open_store(params).check_writable()
    assert content.strip().splitlines()[1] not in e.value.msg
    params, _key = _content_params(sshd, path, enc, private_key_passphrase='correct horse')
    open_store(params).check_writable()

    # not a key at all, and both a file and a content
    garbage = sftp_params(sshd, path, private_key=None, private_key_content='-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n')
    with pytest.raises(LifeboatError, match='cannot load store.private_key_content'):
        open_store(garbage).check_writable()
    with pytest.raises(LifeboatError, match='not both'):
        open_store(sftp_params(sshd, path, private_key_content=content))

    # through a module: one message, the key never printed
    store = {key: value for key, value in dict(garbage, private_key_content=content).items() if value is not None}
    result = run_module('backup_set', {'state': 'started', 'store': store})
    assert result.failed and 'store.private_key_content is encrypted' in result.msg, result
    for line in content.strip().splitlines()[1:3]:
        assert line not in result.stdout + result.stderr
