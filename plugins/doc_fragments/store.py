# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  store:
    description:
      - Where backup sets live. See C(docs/stores.md) for what each type guarantees.
      - C(filesystem) is a local directory or a mounted EFS/NFS path; C(s3) is AWS S3 or an S3-compatible
        service; C(sftp) is any SSH server with the SFTP subsystem.
    type: dict
    required: true
    suboptions:
      type:
        description: Store backend.
        type: str
        required: true
        choices: [filesystem, s3, sftp]
      prefix:
        description: Key prefix inside the store (a sub directory, or an S3 key prefix).
        type: str
        default: ''
      path:
        description:
          - For C(filesystem), the absolute path of the directory holding the sets (created with mode 0700 when
            missing; its parent must exist).
          - For C(sftp), the absolute path of the directory on the server.
        type: path
      bucket:
        description: For C(s3), the bucket name (3-63 lowercase letters, digits, dots and hyphens; older us-east-1 names may also use capitals and underscores).
        type: str
      region:
        description:
          - For C(s3), the AWS region of the bucket. Defaults to C(AWS_REGION), C(AWS_DEFAULT_REGION), the
            profile's region, else C(us-east-1).
        type: str
        aliases: [aws_region]
      endpoint_url:
        description: For C(s3), the URL of an S3-compatible service (MinIO, Ceph) or a test endpoint (path-style addressing).
        type: str
        aliases: [aws_endpoint_url]
      profile:
        description:
          - For C(s3), a named AWS profile. Cannot be combined with O(store.access_key).
          - Without either, C(AWS_ACCESS_KEY_ID)/C(AWS_SECRET_ACCESS_KEY) from the environment are used, else
            C(AWS_PROFILE), else boto3's own chain (shared files, container or instance role).
        type: str
        aliases: [aws_profile]
      access_key:
        description: For C(s3), an access key id, with O(store.secret_key). Without it, see O(store.profile).
        type: str
        aliases: [aws_access_key, aws_access_key_id]
      secret_key:
        description: For C(s3), the secret access key.
        type: str
        aliases: [aws_secret_key, aws_secret_access_key]
      session_token:
        description: For C(s3), a session token for temporary credentials.
        type: str
        aliases: [aws_session_token]
      ca_bundle:
        description:
          - For C(s3), a CA bundle (PEM file) to verify the endpoint's certificate with. Defaults to
            C(AWS_CA_BUNDLE), else the system's trust store.
        type: path
        aliases: [aws_ca_bundle]
      validate_certs:
        description: For C(s3), verify TLS certificates.
        type: bool
        default: true
      sse:
        description: For C(s3), server-side encryption of every object; C(aws:kms) uses O(store.kms_key_id).
        type: str
        default: AES256
        choices: [AES256, 'aws:kms', none]
      kms_key_id:
        description: For C(s3) with O(store.sse=aws:kms), the KMS key id, ARN or alias.
        type: str
      storage_class:
        description: For C(s3), the storage class of artifacts (small metadata objects stay STANDARD).
        type: str
        default: STANDARD
      part_size_mb:
        description:
          - For C(s3), multipart part size in MiB (5-5120). Memory use is about part size times O(store.concurrency).
          - Raised automatically when an artifact would need more than 10,000 parts.
        type: int
        default: 16
      concurrency:
        description: For C(s3), parts uploaded or downloaded in parallel (1-64).
        type: int
        default: 4
      object_lock_mode:
        description: For C(s3), Object Lock retention mode put on every object a set writes (the bucket needs Object Lock enabled).
        type: str
        choices: [GOVERNANCE, COMPLIANCE]
      object_lock_days:
        description: For C(s3), days of Object Lock retention, with O(store.object_lock_mode).
        type: int
      max_attempts:
        description:
          - For C(s3), attempts per request (1-50) in botocore's standard retry mode (exponential backoff with jitter)
            before giving up. A download whose body breaks off is read again from where it stopped, as many times.
        type: int
        default: 8
      host:
        description: For C(sftp), the server name or address.
        type: str
      port:
        description: For C(sftp), the SSH port (1-65535).
        type: int
        default: 22
      user:
        description: For C(sftp), the login user.
        type: str
      password:
        description: For C(sftp), the password (prefer O(store.private_key)).
        type: str
      private_key:
        description: For C(sftp), path of a private key file on the host that runs the module.
        type: path
      private_key_content:
        description:
          - For C(sftp), the private key itself (its PEM or OpenSSH text) instead of a file in O(store.private_key),
            the way an AWX credential hands it to every host (C(lifeboat_secrets)). Never written to disk.
        type: str
        version_added: 0.2.0
      private_key_passphrase:
        description: For C(sftp), the passphrase of O(store.private_key) or O(store.private_key_content).
        type: str
      known_hosts:
        description: For C(sftp), a known_hosts file. Defaults to C(~/.ssh/known_hosts).
        type: path
      host_key_policy:
        description:
          - For C(sftp), C(strict) refuses an unknown or changed host key; C(accept_new) adds an unknown key
            to O(store.known_hosts) but still refuses a changed one.
        type: str
        default: strict
        choices: [strict, accept_new]
      timeout:
        description:
          - For C(sftp), connection and I/O timeout in seconds (1-3600).
          - For C(s3), connect timeout in seconds; the read timeout is this or 60 seconds, whichever is longer.
            Failed requests are retried (O(store.max_attempts)).
        type: int
        default: 30
'''
