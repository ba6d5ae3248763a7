# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one AWS error translator: boto3/botocore exceptions -> the typed errors of _errors.py.

Service error codes are looked up in tables (code -> error class, ``reason`` detail, message template),
one per service, after a few codes are normalised (HTTP statuses, KMS families). Client-side botocore
failures (no credentials, unreachable endpoint, bad parameters) have their own small table. Messages are
one readable sentence, never with a secret: they are built from the request's context (``Context``), never
from the request parameters.

Anything that is not a botocore/boto3 failure is returned unchanged, for the caller to re-raise: an
unexpected exception is a bug to report with its traceback, never a message to swallow.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import socket
import sys

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import (
    ConfigError, DamagedError, DeniedError, LifeboatError, NotFoundError, ThrottledError, UnreachableError)

# Throttling codes (botocore's standard retry mode already retried them when they reach us).
THROTTLE_CODES = frozenset(('RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'ThrottledException',
                            'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException',
                            'SnapshotCreationPerVolumeRateExceeded', 'SlowDown', 'BandwidthLimitExceeded',
                            'EC2ThrottledException', 'PriorRequestNotComplete'))

_DENIED_CODES = ('AccessDenied', 'UnauthorizedOperation', 'AccessDeniedException', 'AuthFailure',
                 'UnauthorizedAccess', 'OptInRequired', 'AllAccessDisabled', 'AccountProblem')

# S3: code -> (error class, reason, message template). Templates see Context.fields().
S3_CODES = {
    'NoSuchBucket': (NotFoundError, 'no_such_bucket', 'S3 bucket {bucket!r} does not exist{at} (store.bucket)'),
    'InvalidAccessKeyId': (DeniedError, 'bad_credentials',
                           'S3{at} rejected the AWS access key id: it does not exist (InvalidAccessKeyId); check '
                           'store.access_key or the credentials of the host'),
    'SignatureDoesNotMatch': (DeniedError, 'bad_credentials',
                              'S3{at} rejected the request signature (SignatureDoesNotMatch): the secret key does not '
                              'match the access key id; check store.secret_key'),
    'ExpiredToken': (DeniedError, 'bad_credentials',
                     'S3{at} rejected the session token ({code}): refresh the temporary credentials'),
    'AccessDenied': (DeniedError, 'access_denied',
                     'access denied to {action} {where} (S3 {code_or_status}): the credentials lack a permission '
                     'this needs; docs/stores.md lists the IAM permissions'),
    'KMS': (DeniedError, 'kms', 'S3 could not use the KMS key (store.kms_key_id) to {action} {where}: {code} {message}'),
    'PreconditionFailed': (DamagedError, 'changed',
                           '{where} changed while it was being read (it no longer has the ETag it had when the read '
                           'started); nothing read from it is used'),
    'InvalidObjectState': (LifeboatError, 'archived',
                           '{where} is archived in a storage class that cannot be read directly ({message_or_code}): '
                           'restore it from Glacier first'),
    'PermanentRedirect': (ConfigError, 'wrong_region',
                          'S3 bucket {bucket!r} is in another region than {region!r}: set store.region to the bucket '
                          'region ({code})'),
    'NoSuchKey': (NotFoundError, 'not_found', '{where} is not in the store'),
    'Throttled': (ThrottledError, 'throttled',
                  'S3{at} kept refusing to {action} {where} for rate reasons ({code}) after {attempts}: {message}'),
}
S3_ALIASES = {
    'InvalidToken': 'ExpiredToken', 'TokenRefreshRequired': 'ExpiredToken',
    'AllAccessDisabled': 'AccessDenied', '403': 'AccessDenied', 'AccountProblem': 'AccessDenied',
    '412': 'PreconditionFailed',
    'AuthorizationHeaderMalformed': 'PermanentRedirect', 'IllegalLocationConstraintException': 'PermanentRedirect',
    '301': 'PermanentRedirect',
    '404': 'NoSuchKey', 'NotFound': 'NoSuchKey',
}

# EC2: code -> (error class, reason, message template).
EC2_CODES = {
    'Denied': (DeniedError, 'access_denied',
               'AWS denied {permission} in {region} ({code}): {message}. Grant it to the role or user this module runs '
               'as (docs/snapshots.md lists the IAM permissions)'),
    'InvalidInstanceID.NotFound': (NotFoundError, 'not_found', 'instance {instance} does not exist in {region} ({code})'),
    'NotFound': (NotFoundError, 'not_found', '{permission} in {region} failed ({code}): {message}'),
    'Throttled': (ThrottledError, 'throttled',
                  '{permission} in {region} was throttled ({code}) and did not succeed after retries: {message}'),
}
EC2_ALIASES = {'InvalidInstanceID.Malformed': 'InvalidInstanceID.NotFound'}
EC2_DEFAULT = (LifeboatError, None, '{permission} in {region} failed ({code}): {message}')
S3_DEFAULT = (LifeboatError, None, 'S3 error while trying to {action} {where}: {code_or_status}{detail}')

# Client-side failures: exception class name -> (error class, reason, {service: template}).
CLIENT_FAILURES = (
    (('NoCredentialsError', 'PartialCredentialsError'), DeniedError, 'no_credentials', {
        's3': 'no usable AWS credentials for the S3 store ({exception}): set store.access_key and store.secret_key, '
              'or store.profile, or give the host an instance role',
        'ec2': 'no usable AWS credentials for {service_where}: {error} (set access_key/secret_key, a profile, or give '
               'the host an instance role)'}),
    (('ProfileNotFound',), ConfigError, 'no_profile', {
        's3': 'AWS profile {profile!r} (store.profile) is not configured on this host',
        'ec2': 'AWS profile {profile!r} is not configured on this host: {error}'}),
    (('EndpointConnectionError', 'ConnectTimeoutError', 'ConnectionClosedError', 'ReadTimeoutError',
      'ProxyConnectionError', 'SSLError', 'ResponseStreamingError', 'IncompleteReadError'), UnreachableError,
     'unreachable', {
         's3': 'cannot reach the S3 endpoint{at_or_bucket} while trying to {action} {where}: the connection {how} after '
               '{attempts} ({exception})',
         'ec2': 'cannot reach {service_where}: {error}'}),
    (('NoRegionError',), ConfigError, 'no_region', {
        's3': 'no AWS region for the S3 store: set store.region',
        'ec2': 'no AWS region: set the region option'}),
    (('ParamValidationError',), ConfigError, 'invalid_request', {
        's3': 'invalid S3 request to {action} {where}: {error}',
        'ec2': 'invalid EC2 request {permission} in {region}: {error}'}),
)
_TIMEOUTS = ('ConnectTimeoutError', 'ReadTimeoutError')

# what each EC2 action needs, for AccessDenied messages (other actions: ec2:CamelCase of the method name)
EC2_PERMISSIONS = {
    'describe_instances': 'ec2:DescribeInstances',
    'create_snapshots': 'ec2:CreateSnapshots',
    'create_replace_root_volume_task': 'ec2:CreateReplaceRootVolumeTask',
    'describe_replace_root_volume_tasks': 'ec2:DescribeReplaceRootVolumeTasks',
}


def ec2_permission(operation):
    """The IAM action of a boto3 EC2 method: describe_volumes -> ec2:DescribeVolumes."""
    return EC2_PERMISSIONS.get(operation, 'ec2:' + ''.join(word.capitalize() for word in operation.split('_')))


def safe_url(url):
    """An endpoint URL without user:password@."""
    return re.sub(r'//[^/@]*@', '//', url or '')


class Context(object):
    """What a request was about, for the message: never its parameters (they may hold secrets)."""

    def __init__(self, service, action='', where='', region=None, endpoint_url=None, attempts=None, bucket=None,
                 key=None, permission=None, instance=None, profile=None):
        self.service = service
        self.action = action
        self.where = where
        self.region = region
        self.endpoint_url = endpoint_url
        self.attempts = attempts
        self.bucket = bucket
        self.key = key
        self.permission = permission
        self.instance = instance
        self.profile = profile

    def fields(self):
        endpoint = safe_url(self.endpoint_url)
        attempts = self.attempts or 1
        return {
            'action': self.action, 'where': self.where, 'region': self.region, 'bucket': self.bucket,
            'permission': self.permission, 'instance': self.instance or '?', 'profile': self.profile,
            'at': ' at %s' % endpoint if endpoint else '',
            'at_or_bucket': ' at %s' % endpoint if endpoint else ' of bucket %s' % self.bucket,
            'attempts': '%d attempt%s' % (attempts, '' if attempts == 1 else 's'),
            'service_where': 'EC2 in %s%s' % (self.region, ' (%s)' % endpoint if endpoint else ''),
        }


def error_code(exc):
    """The service error code of a ClientError ('' for anything else)."""
    response = getattr(exc, 'response', None)
    if not isinstance(response, dict):
        return ''
    return str((response.get('Error') or {}).get('Code') or '')


def error_message(exc):
    response = getattr(exc, 'response', None) or {}
    return (response.get('Error') or {}).get('Message') or ''


def _botocore_errors():
    """botocore.exceptions when botocore is loaded, else None. Never imported from here: an exception can only be
    botocore's when something already imported botocore, and modules that never talk to AWS (filesystem and SFTP
    stores) then do not pay for importing it on every host."""
    return sys.modules.get('botocore.exceptions')


def is_aws_error(exc):
    botocore_errors = _botocore_errors()
    return botocore_errors is not None and isinstance(exc, (botocore_errors.BotoCoreError, botocore_errors.ClientError))


def _s3_entry(code, context):
    if code in ('404', 'NotFound') and context.key is None:
        code = 'NoSuchBucket'
    elif code.startswith('KMS') or 'KMS' in code:
        code = 'KMS'
    elif code in THROTTLE_CODES or code == '503':
        code = 'Throttled'
    code = S3_ALIASES.get(code, code)
    if code == 'PreconditionFailed' and context.action != 'read':
        return S3_DEFAULT
    return S3_CODES.get(code, S3_DEFAULT)


def _ec2_entry(code):
    code = EC2_ALIASES.get(code, code)
    if code in _DENIED_CODES:
        return EC2_CODES['Denied']
    if code in THROTTLE_CODES:
        return EC2_CODES['Throttled']
    if code in EC2_CODES:
        return EC2_CODES[code]
    if code.endswith('.NotFound'):
        return EC2_CODES['NotFound']
    return EC2_DEFAULT


def _client_error(exc, context):
    code = error_code(exc)
    message = error_message(exc)
    status = ((exc.response or {}).get('ResponseMetadata') or {}).get('HTTPStatusCode')
    if context.service == 's3':
        error_class, reason, template = _s3_entry(code, context)
    else:
        if 'Encoded authorization failure message' in message:
            message = message.split('Encoded authorization failure message')[0].strip().rstrip('.')
        error_class, reason, template = _ec2_entry(code)
    fields = context.fields()
    fields.update({'code': code, 'message': message or str(exc), 'code_or_status': code or status,
                   'message_or_code': message or code, 'detail': ' (%s)' % message if message else ''})
    details = {'error_code': code}
    if reason:
        details['reason'] = reason
    if context.service == 'ec2':
        details['action'] = context.permission
    return error_class(template.format(**fields), **details)


def _client_failure(exc, context):
    name = exc.__class__.__name__
    for names, error_class, reason, templates in CLIENT_FAILURES:
        if name in names:
            fields = context.fields()
            fields.update({'exception': name, 'error': str(exc),
                           'how': 'timed out' if name in _TIMEOUTS else 'failed'})
            details = {'reason': reason}
            if context.service == 'ec2' and error_class is UnreachableError:
                details['region'] = context.region
            return error_class(templates[context.service].format(**fields), **details)
    return None


def translate(exc, context):
    """The typed LifeboatError for a boto3/botocore exception, or ``exc`` itself when it is anything else
    (LifeboatErrors pass through; unexpected exceptions are the caller's to re-raise)."""
    if isinstance(exc, LifeboatError):
        return exc
    if isinstance(exc, (socket.timeout, ConnectionError)):
        fields = context.fields()
        target = fields['service_where'] if context.service == 'ec2' else 'the S3 endpoint' + fields['at_or_bucket']
        return UnreachableError('the connection to %s failed while trying to %s %s: %s'
                                % (target, context.action, context.where, exc.__class__.__name__), reason='unreachable')
    if not is_aws_error(exc):
        return exc
    if isinstance(exc, _botocore_errors().ClientError):
        return _client_error(exc, context)
    translated = _client_failure(exc, context)
    if translated is not None:
        return translated
    if context.service == 's3':
        return LifeboatError('S3 error while trying to %s %s: %s' % (context.action, context.where, exc))
    return LifeboatError('%s failed: %s' % (context.permission, exc), region=context.region)
