# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``store`` option spec every module shares, its validation per store type, and the factory that builds
a backend.

Backends (guarded imports): filesystem.py, s3.py, sftp.py. ``validate_store`` is pure: it checks the
values a module received (types were checked by the argument spec) before any backend is built or any
request is made, and raises one ConfigError per problem, naming the option.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import posixpath
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client

TYPES = ('filesystem', 's3', 'sftp')

# The ``store`` option of every module (documented in doc_fragments/store.py). The S3 connection options
# are the one AWS option spec (_aws/client.py, with its aliases).
STORE_SPEC = dict(
    type=dict(type='str', required=True, choices=list(TYPES)),
    prefix=dict(type='str', default=''),
    # filesystem
    path=dict(type='path'),
    # s3
    bucket=dict(type='str'),
    sse=dict(type='str', default='AES256', choices=['AES256', 'aws:kms', 'none']),
    kms_key_id=dict(type='str', no_log=False),
    storage_class=dict(type='str', default='STANDARD'),
    part_size_mb=dict(type='int', default=16),
    concurrency=dict(type='int', default=4),
    object_lock_mode=dict(type='str', choices=['GOVERNANCE', 'COMPLIANCE']),
    object_lock_days=dict(type='int'),
    # sftp
    host=dict(type='str'),
    port=dict(type='int', default=22),
    user=dict(type='str'),
    password=dict(type='str', no_log=True),
    private_key=dict(type='path', no_log=False),
    private_key_content=dict(type='str', no_log=True),
    private_key_passphrase=dict(type='str', no_log=True),
    known_hosts=dict(type='path'),
    host_key_policy=dict(type='str', default='strict', choices=['strict', 'accept_new']),
    timeout=dict(type='int', default=30),
)
STORE_SPEC.update(aws_client.AWS_SPEC)

STORE_ARG = dict(type='dict', required=True, options=STORE_SPEC)

_REQUIRED = {
    'filesystem': ('path',),
    's3': ('bucket',),
    'sftp': ('host', 'path'),
}

# S3 limits (s3_writer.py): parts of 5 MiB to 5 GiB
PART_SIZE_MB = (5, 5120)
CONCURRENCY = (1, 64)
PORTS = (1, 65535)
TIMEOUT = (1, 3600)

_BUCKET = re.compile(r'^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')
# buckets created in us-east-1 before March 2018 may use capitals and underscores, up to 255 characters
_LEGACY_BUCKET = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$')
_HOST = re.compile(r'^[A-Za-z0-9_.:%\[\]-]+$')


def _in_range(params, name, bounds, why=''):
    value = params.get(name)
    if value is not None and not bounds[0] <= int(value) <= bounds[1]:
        raise ConfigError('store.%s must be between %d and %d%s, got %s' % (name, bounds[0], bounds[1], why, value))


def _prefix(params):
    prefix = params.get('prefix') or ''
    if not isinstance(prefix, str):
        raise ConfigError('store.prefix must be a string, got %r' % (prefix,))
    if prefix and any(seg in ('.', '..') for seg in prefix.strip('/').split('/')):
        raise ConfigError("store.prefix %r must not contain '.' or '..' segments" % prefix)


def _text(params, name):
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigError('store.%s must be a string, got %r' % (name, value))
    return value


def bucket_problem(name):
    """Why ``name`` cannot be an S3 bucket name, or None (AWS's rules, plus legacy us-east-1 names)."""
    if '..' in name or '.-' in name or '-.' in name:
        return "it must not contain '..', '.-' or '-.'"
    try:
        ipaddress.ip_address(name)
        return 'it must not look like an IP address'
    except ValueError:
        pass
    if _BUCKET.match(name) or _LEGACY_BUCKET.match(name):
        return None
    return ('use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or a digit '
            '(older us-east-1 buckets may also use capitals and underscores)')


def _filesystem(params):
    path = _text(params, 'path')
    if not path.startswith('/'):
        raise ConfigError('store.path %r must be an absolute path (a local directory or a mount point)' % (path,))


def _s3(params):
    bucket = _text(params, 'bucket')
    why = bucket_problem(bucket)
    if why:
        raise ConfigError('store.bucket %r is not a valid S3 bucket name: %s' % (bucket, why))
    _in_range(params, 'part_size_mb', PART_SIZE_MB, ' (S3 part limits)')
    _in_range(params, 'concurrency', CONCURRENCY)
    _in_range(params, 'timeout', TIMEOUT)
    aws_client.connection_settings(params, environ={}, option_prefix='store.')   # credentials, max_attempts
    sse = params.get('sse') or 'AES256'
    if params.get('kms_key_id') and sse != 'aws:kms':
        raise ConfigError('store.kms_key_id is only used with store.sse=aws:kms (it is %s)' % sse)
    if bool(params.get('object_lock_mode')) != bool(params.get('object_lock_days')):
        raise ConfigError('store.object_lock_mode and store.object_lock_days must be given together')
    if params.get('object_lock_days') is not None and int(params['object_lock_days']) < 1:
        raise ConfigError('store.object_lock_days must be at least 1')
    endpoint = _text(params, 'endpoint_url')
    if endpoint and not re.match(r'^https?://[^/\s]+', endpoint):
        raise ConfigError('store.endpoint_url must be an http:// or https:// URL')


def _sftp(params):
    host = _text(params, 'host')
    if not _HOST.match(host):
        raise ConfigError('store.host %r is not a host name or address' % (host,))
    _in_range(params, 'port', PORTS)
    _in_range(params, 'timeout', TIMEOUT)
    path = _text(params, 'path')
    if not path.startswith('/'):
        raise ConfigError('store.path %r must be an absolute path on the SFTP server' % (path,))
    if posixpath.normpath(path) != path.rstrip('/') and path != '/':
        raise ConfigError("store.path %r must be normalized (no '.', '..' or empty segments)" % (path,))
    if params.get('private_key') and params.get('private_key_content'):
        raise ConfigError('give store.private_key (a file) or store.private_key_content (the key itself), not both')


_CHECKS = {'filesystem': _filesystem, 's3': _s3, 'sftp': _sftp}


def validate_store(params):
    """Check a ``store`` value for its type; raise ConfigError naming the first option that cannot work."""
    stype = params.get('type')
    if stype not in TYPES:
        raise ConfigError('unknown store type %r (use one of %s)' % (stype, ', '.join(TYPES)))
    missing = [key for key in _REQUIRED[stype] if not params.get(key)]
    if missing:
        raise ConfigError('store type %s needs %s' % (stype, ', '.join('store.%s' % name for name in missing)))
    _prefix(params)
    _CHECKS[stype](params)


def open_store(params):
    """Build the backend for a ``store`` option value (a dict validated by STORE_SPEC, then validate_store)."""
    params = dict(params.items())
    validate_store(params)
    stype = params['type']
    if stype == 'filesystem':
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore
        return FilesystemStore(params)
    if stype == 's3':
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.s3 import S3Store
        return S3Store(params)
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.sftp import SftpStore
    return SftpStore(params)
