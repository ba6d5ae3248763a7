# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one AWS layer: connection rules (options, environment, region, TLS, retries), the client builder, and
the error table. Real botocore clients are built (no request is sent: building one talks to nobody)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

botocore = pytest.importorskip('botocore')
from botocore import exceptions as botocore_errors  # noqa: E402

from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors  # noqa: E402
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (  # noqa: E402
    ConfigError, DamagedError, DeniedError, LifeboatError, NotFoundError, ThrottledError, UnreachableError)

KEYS = {'access_key': 'AKIAOPTION', 'secret_key': 'option-secret'}
ENV_KEYS = {'AWS_ACCESS_KEY_ID': 'AKIAENV', 'AWS_SECRET_ACCESS_KEY': 'env-secret', 'AWS_SESSION_TOKEN': 'env-token'}


def settings(params=None, env=None, prefix=''):
    return aws_client.connection_settings(dict(params or {}), environ=dict(env or {}), option_prefix=prefix)


# ---------------------------------------------------------------- credentials

def test_explicit_keys_win_and_the_environment_is_not_mixed_in():
    got = settings(KEYS, dict(ENV_KEYS, AWS_PROFILE='envprofile'))
    assert got['credentials'] == {'aws_access_key_id': 'AKIAOPTION', 'aws_secret_access_key': 'option-secret'}
    assert got['credentials_from'] == 'options'
    got = settings({'profile': 'mine'}, ENV_KEYS)
    assert got['credentials'] == {'profile_name': 'mine'}


def test_environment_keys_then_environment_profile_then_boto3():
    got = settings({}, dict(ENV_KEYS, AWS_PROFILE='envprofile'))
    assert got['credentials'] == {'aws_access_key_id': 'AKIAENV', 'aws_secret_access_key': 'env-secret',
                                  'aws_session_token': 'env-token'}
    assert got['credentials_from'] == 'environment'
    legacy = settings({}, {'AWS_ACCESS_KEY': 'AKIAOLD', 'AWS_SECRET_KEY': 'old-secret'})
    assert legacy['credentials'] == {'aws_access_key_id': 'AKIAOLD', 'aws_secret_access_key': 'old-secret'}
    assert settings({}, {'AWS_PROFILE': 'p1'})['credentials'] == {'profile_name': 'p1'}
    assert settings({}, {'AWS_DEFAULT_PROFILE': 'p2'})['credentials'] == {'profile_name': 'p2'}
    assert settings({}, {'AWS_ACCESS_KEY_ID': 'AKIAHALF'})['credentials'] == {}   # half a pair: boto3's chain
    assert settings({}, {})['credentials_from'] == 'boto3'


@pytest.mark.parametrize('params, message', [
    (dict(access_key='a'), 'store.access_key and store.secret_key must be given together'),
    (dict(secret_key='s'), 'store.access_key and store.secret_key must be given together'),
    (dict(session_token='t'), 'store.session_token needs store.access_key'),
    (dict(KEYS, profile='p'), 'use either store.profile or store.access_key/secret_key, not both'),
    (dict(max_attempts=0), 'store.max_attempts must be between 1 and 50, got 0'),
    (dict(max_attempts=51), 'store.max_attempts must be between 1 and 50'),
])
def test_options_that_cannot_work_together(params, message):
    with pytest.raises(ConfigError, match=message):
        settings(params, prefix='store.')


# ---------------------------------------------------------------- region, endpoint, TLS

def test_region_from_the_option_then_aws_region_then_aws_default_region():
    assert settings({'region': 'eu-west-1'}, {'AWS_REGION': 'us-west-2'})['region'] == 'eu-west-1'
    got = settings({}, {'AWS_REGION': 'us-west-2', 'AWS_DEFAULT_REGION': 'ap-south-1'})
    assert (got['region'], got['region_from']) == ('us-west-2', 'AWS_REGION')
    got = settings({}, {'AWS_DEFAULT_REGION': 'ap-south-1'})
    assert (got['region'], got['region_from']) == ('ap-south-1', 'AWS_DEFAULT_REGION')
    assert settings({}, {})['region'] is None                    # the profile's, or the service's default, later


def test_tls_verification_and_ca_bundle():
    assert settings({})['verify'] is True
    assert settings({'validate_certs': False, 'ca_bundle': '/x.pem'})['verify'] is False
    assert settings({'ca_bundle': '/etc/ca.pem'}, {'AWS_CA_BUNDLE': '/env.pem'})['verify'] == '/etc/ca.pem'
    assert settings({}, {'AWS_CA_BUNDLE': '/env.pem'})['verify'] == '/env.pem'


def _verify_of(client):
    return client._endpoint.http_session._verify


def test_one_builder_for_s3_and_ec2(monkeypatch):
    for name in ('AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_ENDPOINT_URL'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AWS_CONFIG_FILE', '/nonexistent/aws-config')
    ec2, got = aws_client.build_client('ec2', dict(KEYS, region='eu-central-1', max_attempts=3))
    assert ec2.meta.region_name == 'eu-central-1' and got['region_from'] == 'region'
    assert ec2.meta.config.retries == {'mode': 'standard', 'total_max_attempts': 3}     # 3 attempts in all
    assert 'lifeboat.backup' in ec2.meta.config.user_agent_extra
    # S3 without any region: us-east-1 (where the global endpoint signs); EC2 without: a clear message
    s3, got = aws_client.build_client('s3', dict(KEYS, endpoint_url='http://127.0.0.1:9', ca_bundle='/some.pem'),
                                      option_prefix='store.', s3={'addressing_style': 'path'})
    assert s3.meta.region_name == 'us-east-1' and got['region_from'] == 'default'
    assert s3.meta.endpoint_url == 'http://127.0.0.1:9' and _verify_of(s3) == '/some.pem'
    with pytest.raises(ConfigError, match='no AWS region: set the region option'):
        aws_client.build_client('ec2', dict(KEYS))
    monkeypatch.setenv('AWS_REGION', 'sa-east-1')
    assert aws_client.build_client('ec2', dict(KEYS))[0].meta.region_name == 'sa-east-1'
    with pytest.raises(ConfigError, match="store.endpoint_url 'http://a b:1' is not a valid URL"):
        aws_client.build_client('s3', dict(KEYS, endpoint_url='http://a b:1'), option_prefix='store.')


def test_a_missing_profile_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv('AWS_CONFIG_FILE', str(tmp_path / 'config'))
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(tmp_path / 'credentials'))
    with pytest.raises(ConfigError, match="AWS profile 'nope' .store.profile. is not configured on this host"):
        aws_client.build_client('s3', {'profile': 'nope', 'region': 'eu-west-1'}, option_prefix='store.')


# ---------------------------------------------------------------- the error table

def client_error(code, message='', status=400, operation='Op'):
    return botocore_errors.ClientError({'Error': {'Code': code, 'Message': message},
                                        'ResponseMetadata': {'HTTPStatusCode': status}}, operation)


S3 = dict(service='s3', action='read', where='s3://bkt/p/k', region='eu-west-1', bucket='bkt', key='k',
          endpoint_url='https://user:pw@minio.example:9000', attempts=8)


@pytest.mark.parametrize('code, status, error_class, reason, text', [
    ('NoSuchKey', 404, NotFoundError, 'not_found', 's3://bkt/p/k is not in the store'),
    ('404', 404, NotFoundError, 'not_found', 'is not in the store'),
    ('AccessDenied', 403, DeniedError, 'access_denied', 'access denied to read s3://bkt/p/k (S3 AccessDenied)'),
    ('403', 403, DeniedError, 'access_denied', 'access denied to read'),
    ('InvalidAccessKeyId', 403, DeniedError, 'bad_credentials', 'S3 at https://minio.example:9000 rejected the AWS access key'),
    ('SignatureDoesNotMatch', 403, DeniedError, 'bad_credentials', 'the secret key does not match the access key id'),
    ('ExpiredToken', 400, DeniedError, 'bad_credentials', 'rejected the session token (ExpiredToken)'),
    ('KMS.DisabledException', 400, DeniedError, 'kms', 'could not use the KMS key'),
    ('PreconditionFailed', 412, DamagedError, 'changed', 'changed while it was being read'),
    ('PermanentRedirect', 301, ConfigError, 'wrong_region', "is in another region than 'eu-west-1'"),
    ('SlowDown', 503, ThrottledError, 'throttled', 'kept refusing to read s3://bkt/p/k for rate reasons (SlowDown) after 8 attempts'),
    ('InternalError', 500, LifeboatError, None, 'S3 error while trying to read s3://bkt/p/k: InternalError (boom)'),
])
def test_s3_codes(code, status, error_class, reason, text):
    err = aws_errors.translate(client_error(code, 'boom', status), aws_errors.Context(**S3))
    assert err.__class__ is error_class and text in err.msg, err.msg
    assert err.details.get('reason') == reason and err.details['error_code'] == code
    assert 'pw@' not in err.msg


def test_s3_bucket_and_precondition_depend_on_the_request():
    about_bucket = dict(S3)
    about_bucket['key'] = None
    bucket = aws_errors.translate(client_error('NotFound', status=404), aws_errors.Context(**about_bucket))
    assert isinstance(bucket, NotFoundError) and bucket.details['reason'] == 'no_such_bucket'
    assert bucket.msg == "S3 bucket 'bkt' does not exist at https://minio.example:9000 (store.bucket)"
    writing = dict(S3)
    writing['action'] = 'write'
    write = aws_errors.translate(client_error('PreconditionFailed', status=412), aws_errors.Context(**writing))
    assert write.__class__ is LifeboatError


EC2 = dict(service='ec2', action='create_snapshots', region='us-east-1', permission='ec2:CreateSnapshots',
           instance='i-0123456789abcdef0')


@pytest.mark.parametrize('code, error_class, text', [
    ('UnauthorizedOperation', DeniedError, 'AWS denied ec2:CreateSnapshots in us-east-1 (UnauthorizedOperation): nope. '
                                           'Grant it to the role'),
    ('AuthFailure', DeniedError, 'AWS denied ec2:CreateSnapshots'),
    ('InvalidInstanceID.NotFound', NotFoundError, 'instance i-0123456789abcdef0 does not exist in us-east-1'),
    ('InvalidInstanceID.Malformed', NotFoundError, 'instance i-0123456789abcdef0 does not exist'),
    ('InvalidSnapshot.NotFound', NotFoundError, 'ec2:CreateSnapshots in us-east-1 failed (InvalidSnapshot.NotFound)'),
    ('RequestLimitExceeded', ThrottledError, 'was throttled (RequestLimitExceeded) and did not succeed after retries'),
    ('InsufficientInstanceCapacity', LifeboatError, 'failed (InsufficientInstanceCapacity): nope'),
])
def test_ec2_codes(code, error_class, text):
    err = aws_errors.translate(client_error(code, 'nope'), aws_errors.Context(**EC2))
    assert err.__class__ is error_class and text in err.msg, err.msg
    assert err.details['error_code'] == code and err.details['action'] == 'ec2:CreateSnapshots'


def test_encoded_authorization_messages_are_cut():
    err = aws_errors.translate(client_error('UnauthorizedOperation', 'You are not authorized. Encoded authorization '
                                            'failure message: AbCd'), aws_errors.Context(**EC2))
    assert 'AbCd' not in err.msg and 'You are not authorized.' in err.msg


@pytest.mark.parametrize('exc, error_class, s3_text, ec2_text', [
    (botocore_errors.NoCredentialsError(), DeniedError, 'no usable AWS credentials for the S3 store (NoCredentialsError)',
     'no usable AWS credentials for EC2 in us-east-1'),
    (botocore_errors.EndpointConnectionError(endpoint_url='https://x'), UnreachableError,
     'cannot reach the S3 endpoint at https://minio.example:9000 while trying to read s3://bkt/p/k: the connection '
     'failed after 8 attempts (EndpointConnectionError)', 'cannot reach EC2 in us-east-1'),
    (botocore_errors.ReadTimeoutError(endpoint_url='https://x'), UnreachableError, 'the connection timed out after 8',
     'cannot reach EC2'),
    (botocore_errors.NoRegionError(), ConfigError, 'no AWS region for the S3 store', 'no AWS region: set the region'),
    (botocore_errors.ParamValidationError(report='bad Key'), ConfigError, 'invalid S3 request to read', 'invalid EC2 request'),
])
def test_client_side_failures(exc, error_class, s3_text, ec2_text):
    for context, text in ((S3, s3_text), (EC2, ec2_text)):
        err = aws_errors.translate(exc, aws_errors.Context(**context))
        assert err.__class__ is error_class and text in err.msg, err.msg


def test_unexpected_exceptions_are_not_swallowed():
    bug = KeyError('a bug')
    assert aws_errors.translate(bug, aws_errors.Context(**S3)) is bug
    typed = NotFoundError('already typed')
    assert aws_errors.translate(typed, aws_errors.Context(**S3)) is typed
    dropped = aws_errors.translate(ConnectionResetError(), aws_errors.Context(**S3))
    assert isinstance(dropped, UnreachableError) and dropped.details['reason'] == 'unreachable'


def test_the_tables_are_tables():
    for table in (aws_errors.S3_CODES, aws_errors.EC2_CODES):
        for code, (error_class, _reason, template) in table.items():
            assert issubclass(error_class, LifeboatError) and isinstance(template, str), code
    assert aws_errors.ec2_permission('describe_volumes') == 'ec2:DescribeVolumes'
    assert aws_errors.ec2_permission('create_replace_root_volume_task') == 'ec2:CreateReplaceRootVolumeTask'
