# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one AWS client layer: the connection option spec, the rules that turn options and the environment
into a session, and the one boto3 client builder the S3 store and the EC2 adapter both use.

Rules (``connection_settings``, pure; documented in doc_fragments/aws.py and docs/stores.md):

- credentials: ``access_key`` + ``secret_key`` (+ ``session_token``), or ``profile``, never both. Without
  any of them: the environment's AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else its
  AWS_PROFILE, else boto3's own chain (shared config files, container and instance roles). Options and the
  environment are never mixed: a profile option ignores keys in the environment and the other way round.
- region: ``region``, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region; else S3 uses
  us-east-1 (where the global endpoint signs) and EC2 fails with a message.
- TLS: ``validate_certs: false`` turns verification off; otherwise ``ca_bundle``, else AWS_CA_BUNDLE, else
  the system's trust store.
- retries: botocore's ``standard`` retry mode with ``max_attempts`` per request (exponential backoff with
  jitter for throttling, 5xx and connection errors) is the only retry of a request; callers add their own
  (_retry.py) only for what it does not retry.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import traceback

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors

_BOTO = {}


def _boto():
    """boto3 and botocore, imported on first use. Every module imports this file (the store option spec), but only
    those that talk to AWS need boto3: a filesystem or SFTP store does not pay its import (about 0.3 s of CPU per
    module run, on every host)."""
    if not _BOTO:
        try:
            import boto3
            import botocore
            from botocore.config import Config
            from botocore import exceptions as botocore_errors
            _BOTO.update(ok=True, error=None, boto3=boto3, botocore=botocore, Config=Config, errors=botocore_errors)
        except ImportError:  # pragma: no cover - depends on the host
            _BOTO.update(ok=False, error=traceback.format_exc())
    return _BOTO


def __getattr__(name):
    """HAS_BOTO3 and BOTO3_IMPORT_ERROR, computed when first asked for (PEP 562)."""
    if name == 'HAS_BOTO3':
        return _boto()['ok']
    if name == 'BOTO3_IMPORT_ERROR':
        return _boto()['error']
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


USER_AGENT = 'lifeboat.backup'
MAX_ATTEMPTS = (1, 50)

# The AWS connection options (documented in doc_fragments/aws.py), with amazon.aws's aliases. The EC2
# modules take them at the top level; the S3 store takes the same ones inside ``store``.
AWS_SPEC = dict(
    region=dict(type='str', aliases=['aws_region']),
    endpoint_url=dict(type='str', aliases=['aws_endpoint_url']),
    profile=dict(type='str', aliases=['aws_profile']),
    access_key=dict(type='str', no_log=True, aliases=['aws_access_key', 'aws_access_key_id']),
    secret_key=dict(type='str', no_log=True, aliases=['aws_secret_key', 'aws_secret_access_key']),
    session_token=dict(type='str', no_log=True, aliases=['aws_session_token']),
    ca_bundle=dict(type='path', aliases=['aws_ca_bundle']),
    validate_certs=dict(type='bool', default=True),
    max_attempts=dict(type='int', default=8),
)

AWS_KEYS = tuple(AWS_SPEC)

# environment variables, first found wins (the same as amazon.aws's fallbacks)
ENV_ACCESS_KEY = ('AWS_ACCESS_KEY_ID', 'AWS_ACCESS_KEY')
ENV_SECRET_KEY = ('AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_KEY')
ENV_SESSION_TOKEN = ('AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN')
ENV_PROFILE = ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE')
ENV_REGION = ('AWS_REGION', 'AWS_DEFAULT_REGION')
ENV_CA_BUNDLE = ('AWS_CA_BUNDLE',)

# services that have a home region to fall back to when none is configured
DEFAULT_REGION = {'s3': 'us-east-1'}


def require_boto3():
    """Raise the standard 'missing library' situation as a LifeboatError (modules use missing_required_lib)."""
    if not _boto()['ok']:
        raise LifeboatError('boto3 and botocore are needed on the host that runs this module (pip install boto3)')


def connection_params(params):
    """The connection options out of a module's params (or a role's dict)."""
    return {key: params.get(key) for key in AWS_KEYS}


def _first(environ, names):
    for name in names:
        if environ.get(name):
            return environ[name], name
    return None, None


def connection_settings(params, environ=None, option_prefix=''):
    """How to connect, from the options and the environment (pure; see the module docstring).

    Returns {'credentials': kwargs for boto3.session.Session, 'credentials_from': 'options'|'environment'|
    'boto3', 'region': str or None, 'region_from': where it came from, 'endpoint_url', 'verify',
    'max_attempts'}. Raises ConfigError for options that cannot work together.
    """
    environ = os.environ if environ is None else environ
    opt = option_prefix
    access_key, secret_key = params.get('access_key') or None, params.get('secret_key') or None
    token, profile = params.get('session_token') or None, params.get('profile') or None
    if bool(access_key) != bool(secret_key):
        raise ConfigError('%saccess_key and %ssecret_key must be given together' % (opt, opt))
    if token and not access_key:
        raise ConfigError('%ssession_token needs %saccess_key and %ssecret_key' % (opt, opt, opt))
    if profile and access_key:
        raise ConfigError('use either %sprofile or %saccess_key/secret_key, not both' % (opt, opt))
    attempts = params.get('max_attempts')
    attempts = 8 if attempts is None else int(attempts)
    if not MAX_ATTEMPTS[0] <= attempts <= MAX_ATTEMPTS[1]:
        raise ConfigError('%smax_attempts must be between %d and %d, got %s'
                          % (opt, MAX_ATTEMPTS[0], MAX_ATTEMPTS[1], attempts))
    source = 'options'
    if not (access_key or profile):
        source = 'environment'
        access_key, secret_key = _first(environ, ENV_ACCESS_KEY)[0], _first(environ, ENV_SECRET_KEY)[0]
        token, profile = _first(environ, ENV_SESSION_TOKEN)[0], _first(environ, ENV_PROFILE)[0]
        if not (access_key and secret_key):
            access_key = token = None            # half a pair in the environment: not used
            source = 'environment' if profile else 'boto3'
    credentials = {}
    if access_key:
        credentials = {'aws_access_key_id': access_key, 'aws_secret_access_key': secret_key}
        if token:
            credentials['aws_session_token'] = token
    elif profile:
        credentials = {'profile_name': profile}
    region, region_from = params.get('region') or None, '%sregion' % opt
    if not region:
        region, region_from = _first(environ, ENV_REGION)
    verify = bool(params.get('validate_certs', True))
    if verify:
        bundle = params.get('ca_bundle') or _first(environ, ENV_CA_BUNDLE)[0]
        if bundle:
            verify = bundle
    return {'credentials': credentials, 'credentials_from': source, 'region': region, 'region_from': region_from,
            'endpoint_url': params.get('endpoint_url') or None, 'verify': verify, 'max_attempts': attempts}


def retry_config(max_attempts):
    """botocore's standard retry mode: the one retry of every request, ``max_attempts`` in all (botocore's own
    ``max_attempts`` counts the retries only; ``total_max_attempts`` counts the first request too)."""
    return {'mode': 'standard', 'total_max_attempts': int(max_attempts)}


def build_client(service, params, environ=None, option_prefix='', connect_timeout=10, read_timeout=60, **config):
    """A boto3 client for ``service`` ('s3', 'ec2') from the connection options.

    Returns (client, settings); ``config`` adds botocore Config options (s3 addressing, pool size).
    Raises ConfigError / DeniedError / UnreachableError with one readable message.
    """
    require_boto3()
    boto3, botocore_errors, Config = _boto()['boto3'], _boto()['errors'], _boto()['Config']
    settings = connection_settings(params, environ, option_prefix)
    context = aws_errors.Context(service, action='connect to', where=service.upper(),
                                 endpoint_url=settings['endpoint_url'], attempts=settings['max_attempts'],
                                 profile=settings['credentials'].get('profile_name'))
    try:
        session = boto3.session.Session(**settings['credentials'])
    except botocore_errors.BotoCoreError as err:
        raise aws_errors.translate(err, context)
    region = settings['region']
    if not region and session.region_name:
        region, settings['region_from'] = session.region_name, 'profile'
    if not region:
        region = DEFAULT_REGION.get(service)
        settings['region_from'] = 'default'
    if not region:
        raise ConfigError('no AWS region: set the %sregion option (or AWS_REGION, AWS_DEFAULT_REGION, or a profile '
                          'with a region)' % option_prefix, reason='no_region')
    settings['region'] = region
    cfg = Config(retries=retry_config(settings['max_attempts']), connect_timeout=connect_timeout,
                 read_timeout=read_timeout, user_agent_extra=USER_AGENT, **config)
    try:
        client = session.client(service, region_name=region, endpoint_url=settings['endpoint_url'],
                                verify=settings['verify'], config=cfg)
    except ValueError as err:
        if 'endpoint' in str(err).lower():
            raise ConfigError('%sendpoint_url %r is not a valid URL' % (option_prefix,
                                                                        aws_errors.safe_url(settings['endpoint_url'])))
        raise ConfigError('cannot create an %s client for region %s: %s' % (service.upper(), region, err))
    except botocore_errors.BotoCoreError as err:
        context.region = region
        raise aws_errors.translate(err, context)
    return client, settings


def botocore_version():
    return getattr(_boto()['botocore'], '__version__', None) if _boto()['ok'] else None
