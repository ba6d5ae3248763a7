# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets filters: what an AWX credential injects, merged over the options the modules get."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lifeboat.backup.plugins.filter import secrets

# what the credential type injects for a credential that only has S3 keys (AWX renders missing inputs as '')
INJECTED = {'store': {'access_key': 'AKIAINJECTED', 'secret_key': 'injected-secret', 'session_token': '',
                      'password': '', 'private_key_content': '', 'private_key_passphrase': ''},
            'postgresql': {'login_password': ''}, 'encryption': {'identity': ''}}
S3 = {'type': 's3', 'bucket': 'acme', 'region': 'eu-west-1'}
SFTP = {'type': 'sftp', 'host': 'backup.example', 'path': '/srv', 'password': 'from-inventory'}
ENV = {'AWS_ACCESS_KEY_ID': 'AKIACONTROLLER', 'AWS_SECRET_ACCESS_KEY': 'controller-secret', 'AWS_SECURITY_TOKEN': 'tok'}


def test_s3_keys_are_merged_for_an_s3_store_only():
    assert secrets.with_store_secrets(S3, INJECTED) == dict(S3, access_key='AKIAINJECTED', secret_key='injected-secret')
    sftp = secrets.with_store_secrets(SFTP, INJECTED)
    assert sftp == SFTP  # no S3 keys on an SFTP store, and the empty password does not replace the inventory's
    assert secrets.with_store_secrets({'type': 'filesystem', 'path': '/b'}, INJECTED) == {'type': 'filesystem', 'path': '/b'}


def test_sftp_key_content_replaces_the_inventory_value():
    injected = {'store': {'private_key_content': 'KEY TEXT\n', 'password': ''}}
    assert secrets.with_store_secrets(SFTP, injected)['private_key_content'] == 'KEY TEXT\n'
    assert secrets.with_store_secrets(SFTP, injected)['password'] == 'from-inventory'


def test_no_secrets_leaves_the_store_alone_and_unchanged():
    store = dict(S3)
    assert secrets.with_store_secrets(store) == S3
    assert secrets.with_store_secrets(store, {}) == S3
    assert secrets.with_store_secrets(store, None) == S3
    secrets.with_store_secrets(store, INJECTED)
    assert store == S3  # the input mapping is never modified


def test_controller_keys_go_under_the_injected_ones_and_replace_a_profile():
    store = dict(S3, profile='ops')
    merged = secrets.with_store_secrets(store, {}, True, environ=ENV)
    assert merged == dict(S3, access_key='AKIACONTROLLER', secret_key='controller-secret', session_token='tok')
    merged = secrets.with_store_secrets(S3, INJECTED, True, environ=ENV)
    assert merged['access_key'] == 'AKIAINJECTED' and merged['session_token'] == 'tok'
    # a filesystem store does not need them and does not fail without them
    assert secrets.with_store_secrets({'type': 'filesystem', 'path': '/b'}, {}, True, environ={}) == {'type': 'filesystem', 'path': '/b'}


def test_missing_controller_keys_fail_naming_the_variables_without_values():
    with pytest.raises(AnsibleFilterError) as err:
        secrets.with_store_secrets(S3, {}, True, environ={'AWS_ACCESS_KEY_ID': 'AKIAONLY'})
    assert 'AWS_SECRET_ACCESS_KEY' in str(err.value) and 'AKIAONLY' not in str(err.value)


def test_aws_connection_of_the_snapshots():
    assert secrets.with_aws_secrets({'region': 'eu-west-1'}) == {'region': 'eu-west-1'}
    got = secrets.with_aws_secrets({'region': 'eu-west-1', 'profile': 'ops'}, True, environ=ENV)
    assert got == {'region': 'eu-west-1', 'access_key': 'AKIACONTROLLER', 'secret_key': 'controller-secret', 'session_token': 'tok'}


def test_postgresql_password_and_encryption_identity():
    conn = {'login_user': 'backup', 'login_password': 'inventory'}
    assert secrets.with_postgresql_secrets(conn, INJECTED) == conn
    assert secrets.with_postgresql_secrets(conn, {'postgresql': {'login_password': 'p{{w}}'}})['login_password'] == 'p{{w}}'
    assert secrets.with_encryption_secrets({}, {'encryption': {'identity': 'AGE-SECRET-KEY-1X'}}) == {'identity': 'AGE-SECRET-KEY-1X'}
    assert secrets.with_encryption_secrets({'recipients': ['age1x']}, INJECTED) == {'recipients': ['age1x']}


@pytest.mark.parametrize('bad', [['a'], 'text', 3])
def test_wrong_shapes_are_readable_errors(bad):
    with pytest.raises(AnsibleFilterError, match='lifeboat_secrets'):
        secrets.with_store_secrets(S3, bad)
    with pytest.raises(AnsibleFilterError, match='lifeboat_secrets.store'):
        secrets.with_store_secrets(S3, {'store': bad})
