# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``store`` option spec every module shares, its validation, and the factory that builds a backend.

Backends (one file each, guarded imports): filesystem.py, s3.py, sftp.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError


# The ``store`` option of every module (documented in doc_fragments/store.py).
STORE_SPEC = dict(
    type=dict(type='str', required=True, choices=['filesystem', 's3', 'sftp']),
    prefix=dict(type='str', default=''),
    # filesystem
    path=dict(type='path'),
    # s3
    bucket=dict(type='str'),
    region=dict(type='str'),
    endpoint_url=dict(type='str'),
    profile=dict(type='str'),
    access_key=dict(type='str', no_log=True),
    secret_key=dict(type='str', no_log=True),
    session_token=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    sse=dict(type='str', default='AES256', choices=['AES256', 'aws:kms', 'none']),
    kms_key_id=dict(type='str', no_log=False),
    storage_class=dict(type='str', default='STANDARD'),
    part_size_mb=dict(type='int', default=16),
    concurrency=dict(type='int', default=4),
    object_lock_mode=dict(type='str', choices=['GOVERNANCE', 'COMPLIANCE']),
    object_lock_days=dict(type='int'),
    max_attempts=dict(type='int', default=8),
    # sftp
    host=dict(type='str'),
    port=dict(type='int', default=22),
    user=dict(type='str'),
    password=dict(type='str', no_log=True),
    private_key=dict(type='path', no_log=False),
    private_key_passphrase=dict(type='str', no_log=True),
    known_hosts=dict(type='path'),
    host_key_policy=dict(type='str', default='strict', choices=['strict', 'accept_new']),
    timeout=dict(type='int', default=30),
)

STORE_ARG = dict(type='dict', required=True, options=STORE_SPEC)

_REQUIRED = {
    'filesystem': ('path',),
    's3': ('bucket',),
    'sftp': ('host', 'path'),
}


def _validate(params):
    stype = params.get('type')
    missing = [k for k in _REQUIRED.get(stype, ()) if not params.get(k)]
    if missing:
        raise LifeboatError('store type %s needs %s' % (stype, ', '.join('store.%s' % m for m in missing)))
    prefix = params.get('prefix') or ''
    if prefix and any(seg in ('.', '..') for seg in prefix.strip('/').split('/')):
        raise LifeboatError("store.prefix %r must not contain '.' or '..' segments" % prefix)


def open_store(params):
    """Build the backend for a ``store`` option value (a dict validated by STORE_SPEC)."""
    params = dict(params.items())
    _validate(params)
    stype = params['type']
    if stype == 'filesystem':
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import FilesystemStore
        return FilesystemStore(params)
    if stype == 's3':
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.s3 import S3Store
        return S3Store(params)
    if stype == 'sftp':
        from ansible_collections.lifeboat.backup.plugins.module_utils._stores.sftp import SftpStore
        return SftpStore(params)
    raise LifeboatError('unknown store type %r' % stype)
