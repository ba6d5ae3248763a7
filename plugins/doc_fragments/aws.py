# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The AWS connection options of the EC2 modules (spec: module_utils/_aws/ec2.py AWS_SPEC).
    DOCUMENTATION = r'''
options:
  region:
    description:
      - The AWS region. Defaults to the boto3 configuration (C(AWS_DEFAULT_REGION) or C(AWS_REGION), the
        profile), or for M(lifeboat.backup.ec2_snapshot_set) running on an instance without an instance id, the
        instance's region.
    type: str
  endpoint_url:
    description:
      - URL of the EC2 API endpoint (a VPC endpoint, or a test endpoint). Also used for the clients of other
        regions (copies) unless the module has a separate endpoint option for them.
    type: str
  profile:
    description: A named AWS profile. Without it the normal boto3 chain is used (environment, profile, instance role).
    type: str
  access_key:
    description: An access key id. Without it the normal boto3 chain is used.
    type: str
  secret_key:
    description: The secret access key.
    type: str
  session_token:
    description: A session token for temporary credentials.
    type: str
  validate_certs:
    description: Verify TLS certificates of the endpoint.
    type: bool
    default: true
  max_attempts:
    description:
      - Attempts per request in botocore's standard retry mode (exponential backoff). Throttled calls
        (C(RequestLimitExceeded), C(Throttling), C(SnapshotCreationPerVolumeRateExceeded)) are additionally
        retried with lifeboat's own backoff.
    type: int
    default: 8
requirements:
  - boto3 >= 1.28.0
  - botocore >= 1.31.0
'''

    # The store option of the snapshot modules: lifeboat.backup.store, but optional (snapshots live in EC2;
    # the store only receives, or gives back, a set's record). Kept identical to store.py apart from
    # ``required`` and the first line (tests/unit/plugins/module_utils/test_ec2_docs.py checks it).
    # Use as lifeboat.backup.aws.store_optional.
    STORE_OPTIONAL = r'''
options:
  store:
    description:
      - Where backup sets live. Needed to record a snapshot set in a backup set, or to read a recorded one. See C(docs/stores.md) for what each type guarantees.
      - C(filesystem) is a local directory or a mounted EFS/NFS path; C(s3) is AWS S3 or an S3-compatible
        service; C(sftp) is any SSH server with the SFTP subsystem.
    type: dict
    required: false
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
          - For C(filesystem), the directory holding the sets (created with mode 0700 when missing; its
            parent must exist).
          - For C(sftp), the directory on the server.
        type: path
      bucket:
        description: For C(s3), the bucket name.
        type: str
      region:
        description: For C(s3), the AWS region. Defaults to the boto3 configuration.
        type: str
      endpoint_url:
        description: For C(s3), the URL of an S3-compatible service (MinIO, Ceph) or a test endpoint.
        type: str
      profile:
        description: For C(s3), a named AWS profile. Without it the normal boto3 chain is used (environment, profile, instance role).
        type: str
      access_key:
        description: For C(s3), an access key id. Without it the normal boto3 chain is used.
        type: str
      secret_key:
        description: For C(s3), the secret access key.
        type: str
      session_token:
        description: For C(s3), a session token for temporary credentials.
        type: str
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
          - For C(s3), multipart part size in MiB. Memory use is about part size times O(store.concurrency).
          - Raised automatically when an artifact would need more than 10,000 parts.
        type: int
        default: 16
      concurrency:
        description: For C(s3), parts uploaded or downloaded in parallel.
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
        description: For C(s3), attempts per request (with exponential backoff) before giving up.
        type: int
        default: 8
      host:
        description: For C(sftp), the server name or address.
        type: str
      port:
        description: For C(sftp), the SSH port.
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
      private_key_passphrase:
        description: For C(sftp), the passphrase of O(store.private_key).
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
          - For C(sftp), connection and I/O timeout in seconds.
          - For C(s3), connect timeout in seconds; the read timeout is this or 60 seconds, whichever is longer.
            Failed requests are retried (O(store.max_attempts)).
        type: int
        default: 30
'''
