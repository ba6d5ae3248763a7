# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store options checked per type before any backend is built (factory.validate_store): one ConfigError each,
naming the option; and what the argument spec does first (``path: 123`` becomes the relative path '123')."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC, bucket_problem, open_store, validate_store


def store(**kw):
    params = {k: v.get('default') for k, v in STORE_SPEC.items()}
    params.update(kw)
    return params


def through_argspec(value):
    """The ``store`` value as a module receives it (types converted by Ansible's argument spec)."""
    res = ArgumentSpecValidator({'store': dict(type='dict', options=STORE_SPEC)}).validate({'store': value})
    assert not res.error_messages, res.error_messages
    return res.validated_parameters['store']


@pytest.mark.parametrize('value, message', [
    (dict(type='filesystem', path=123), "store.path '123' must be an absolute path"),
    (dict(type='filesystem', path='relative/dir'), "store.path 'relative/dir' must be an absolute path"),
    (dict(type='filesystem'), 'store type filesystem needs store.path'),
    (dict(type='filesystem', path='/srv/b', prefix='a/../b'), "must not contain '.' or '..'"),
    (dict(type='s3', bucket='ab'), "store.bucket 'ab' is not a valid S3 bucket name"),
    (dict(type='s3', bucket='my..bucket'), "must not contain '..'"),
    (dict(type='s3', bucket='192.168.1.10'), 'must not look like an IP address'),
    (dict(type='s3', bucket='-bucket'), 'starting and ending with a letter or a digit'),
    (dict(type='s3', bucket='Bad Bucket!'), 'not a valid S3 bucket name'),
    (dict(type='s3', bucket='b-ok', part_size_mb=4), 'store.part_size_mb must be between 5 and 5120'),
    (dict(type='s3', bucket='b-ok', part_size_mb=6000), 'store.part_size_mb must be between 5 and 5120'),
    (dict(type='s3', bucket='b-ok', concurrency=0), 'store.concurrency must be between 1 and 64'),
    (dict(type='s3', bucket='b-ok', concurrency=65), 'store.concurrency must be between 1 and 64'),
    (dict(type='s3', bucket='b-ok', max_attempts=0), 'store.max_attempts must be between 1 and 50'),
    (dict(type='s3', bucket='b-ok', timeout=0), 'store.timeout must be between 1 and 3600'),
    (dict(type='s3', bucket='b-ok', access_key='AKIA'), 'store.access_key and store.secret_key must be given together'),
    (dict(type='s3', bucket='b-ok', profile='p', access_key='a', secret_key='b'), 'either store.profile or'),
    (dict(type='s3', bucket='b-ok', kms_key_id='k'), 'store.kms_key_id is only used with store.sse=aws:kms'),
    (dict(type='s3', bucket='b-ok', object_lock_mode='COMPLIANCE'), 'object_lock_mode and store.object_lock_days'),
    (dict(type='s3', bucket='b-ok', endpoint_url='minio:9000'), 'store.endpoint_url must be an http:// or https:// URL'),
    (dict(type='s3'), 'store type s3 needs store.bucket'),
    (dict(type='sftp', path='/srv'), 'store type sftp needs store.host'),
    (dict(type='sftp', host='bad host', path='/srv'), "store.host 'bad host' is not a host name or address"),
    (dict(type='sftp', host='backup.example', path='/srv', port=0), 'store.port must be between 1 and 65535'),
    (dict(type='sftp', host='backup.example', path='/srv', port=70000), 'store.port must be between 1 and 65535'),
    (dict(type='sftp', host='backup.example', path='srv/sets'), "store.path 'srv/sets' must be an absolute path on the SFTP server"),
    (dict(type='sftp', host='backup.example', path='/srv/../etc'), "store.path '/srv/../etc' must be normalized"),
])
def test_bad_store_options_are_one_readable_config_error(value, message):
    params = through_argspec(value)
    with pytest.raises(ConfigError, match=message.replace('(', r'\(').replace(')', r'\)').replace('.', r'\.')):
        validate_store(params)
    with pytest.raises(ConfigError):
        open_store(params)


@pytest.mark.parametrize('value', [
    dict(type='filesystem', path='/var/backups/lifeboat'),
    dict(type='filesystem', path='/mnt/efs/', prefix='prod'),
    dict(type='s3', bucket='acme-backups.eu', region='eu-west-1', part_size_mb=5, concurrency=64),
    dict(type='s3', bucket='Legacy_Bucket_2017'),                       # us-east-1 names before March 2018
    dict(type='s3', bucket='b-ok', aws_access_key='AKIA', aws_secret_key='s', aws_region='eu-west-1'),
    dict(type='sftp', host='backup.example.com', path='/srv/lifeboat/', port=2222),
    dict(type='sftp', host='10.0.0.7', path='/'),
    dict(type='sftp', host='[fd00::7]', path='/srv'),
])
def test_good_store_options_pass(value):
    validate_store(through_argspec(value))


def test_aliases_reach_the_canonical_options():
    params = through_argspec(dict(type='s3', bucket='b-ok', aws_access_key='AKIA', aws_secret_key='s',
                                  aws_session_token='t', aws_profile=None, aws_region='eu-west-1',
                                  aws_endpoint_url='https://s3.example', aws_ca_bundle='/etc/ca.pem'))
    assert (params['access_key'], params['secret_key'], params['session_token']) == ('AKIA', 's', 't')
    assert (params['region'], params['endpoint_url']) == ('eu-west-1', 'https://s3.example')
    assert params['ca_bundle'] == '/etc/ca.pem'


def test_values_that_bypass_the_argument_spec_are_refused_too():
    with pytest.raises(ConfigError, match=r'store.path must be a string, got 123'):
        validate_store(store(type='filesystem', path=123))
    with pytest.raises(ConfigError, match='unknown store type'):
        validate_store(store(type='nfs'))


def test_bucket_rules():
    assert bucket_problem('abc') is None and bucket_problem('a.b-c') is None
    assert bucket_problem('a' * 63) is None and bucket_problem('a' * 256) is not None
    assert bucket_problem('ab.-cd') is not None and bucket_problem('1.2.3.4') is not None
