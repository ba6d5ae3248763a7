# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that merge injected secrets into the options the roles hand to the modules: with_store_secrets,
with_aws_secrets, with_postgresql_secrets, with_encryption_secrets.

``lifeboat_secrets`` is what the AWX credential type "lifeboat store" injects as an extra variable (docs/awx.md):
``{store: {access_key, secret_key, session_token, password, private_key_content, private_key_passphrase},
postgresql: {login_password}, encryption: {identity}}``. Empty values are what AWX injects for inputs a
credential does not have: they are left out, so they never replace a value the inventory sets. The filters run
on the controller; ``from_controller`` reads the AWS variables of the controller's environment (what AWX's
Amazon Web Services credential sets) so that hosts reached over SSH get them as module options.
Nothing here ever puts a secret into a message. Documented in the YAML files beside this one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

# which injected store secrets apply to which store type
STORE_SECRETS = {
    's3': ('access_key', 'secret_key', 'session_token'),
    'sftp': ('password', 'private_key_content', 'private_key_passphrase'),
    'filesystem': (),
}
AWS_SECRETS = ('access_key', 'secret_key', 'session_token')
# AWX's Amazon Web Services credential: AWS_SECURITY_TOKEN is the older name of the session token
CONTROLLER_ENV = (('access_key', ('AWS_ACCESS_KEY_ID',)), ('secret_key', ('AWS_SECRET_ACCESS_KEY',)),
                  ('session_token', ('AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN')))


def _mapping(value, what):
    if value in (None, ''):
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError('%s must be a mapping, got %s' % (what, type(value).__name__))
    return value


def _given(values, names):
    """The non-empty values of ``names`` in ``values`` (AWX injects '' for the inputs a credential lacks)."""
    return {name: values[name] for name in names if values.get(name) not in (None, '')}


def controller_aws_credentials(environ=None):
    """The AWS keys of the controller's environment, as store/AWS options. AnsibleFilterError without a key pair."""
    environ = os.environ if environ is None else environ
    found = {}
    for option, names in CONTROLLER_ENV:
        for name in names:
            if environ.get(name):
                found[option] = environ[name]
                break
    if 'access_key' not in found or 'secret_key' not in found:
        raise AnsibleFilterError(
            'lifeboat_store_credentials_from_controller is set, but the controller has no AWS_ACCESS_KEY_ID and '
            'AWS_SECRET_ACCESS_KEY in its environment (in AWX: attach an Amazon Web Services credential to the '
            'job template)')
    return found


def with_store_secrets(store, secrets=None, from_controller=False, environ=None):
    """The store options with the injected secrets of its type over them (and, for S3 when asked, the controller's
    AWS keys under those)."""
    store = dict(_mapping(store, 'lifeboat_store'))
    injected = _mapping(_mapping(secrets, 'lifeboat_secrets').get('store'), 'lifeboat_secrets.store')
    store_type = store.get('type')
    if from_controller and store_type == 's3':
        store.pop('profile', None)  # keys and a profile cannot be combined; the user asked for the controller's keys
        store.update(controller_aws_credentials(environ))
    store.update(_given(injected, STORE_SECRETS.get(store_type, ())))
    return store


def with_aws_secrets(connection, from_controller=False, environ=None):
    """The AWS connection options of the EC2 modules, with the controller's AWS keys when asked."""
    connection = dict(_mapping(connection, 'the AWS connection options'))
    if from_controller:
        connection.pop('profile', None)
        connection.update(controller_aws_credentials(environ))
    return connection


def with_postgresql_secrets(connection, secrets=None):
    """The PostgreSQL connection options with the injected login_password over them."""
    connection = dict(_mapping(connection, 'the PostgreSQL connection options'))
    injected = _mapping(_mapping(secrets, 'lifeboat_secrets').get('postgresql'), 'lifeboat_secrets.postgresql')
    connection.update(_given(injected, ('login_password',)))
    return connection


def with_encryption_secrets(encryption, secrets=None):
    """lifeboat_encryption with the injected decryption identity over it."""
    encryption = dict(_mapping(encryption, 'lifeboat_encryption'))
    injected = _mapping(_mapping(secrets, 'lifeboat_secrets').get('encryption'), 'lifeboat_secrets.encryption')
    encryption.update(_given(injected, ('identity',)))
    return encryption


class FilterModule(object):
    def filters(self):
        return {
            'with_store_secrets': with_store_secrets,
            'with_aws_secrets': with_aws_secrets,
            'with_postgresql_secrets': with_postgresql_secrets,
            'with_encryption_secrets': with_encryption_secrets,
        }
