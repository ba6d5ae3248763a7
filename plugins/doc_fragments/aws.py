# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The AWS connection options of the EC2 modules (spec: module_utils/_aws/client.py AWS_SPEC; the S3 store
    # takes the same options inside store, see store.py). tests/unit/plugins/module_utils/test_aws_docs.py
    # keeps both in step with the spec.
    DOCUMENTATION = r'''
options:
  region:
    description:
      - The AWS region.
      - Without it, the environment (C(AWS_REGION), then C(AWS_DEFAULT_REGION)), then the profile's region; for
        M(lifeboat.backup.ec2_snapshot_set) running on an instance without an instance id, the instance's region.
    type: str
    aliases: [aws_region]
  endpoint_url:
    description:
      - URL of the EC2 API endpoint (a VPC endpoint, or a test endpoint). Also used for the clients of other
        regions (copies) unless the module has a separate endpoint option for them.
    type: str
    aliases: [aws_endpoint_url]
  profile:
    description:
      - A named AWS profile (from the shared config files of the host that runs the module).
      - Cannot be combined with O(access_key). Without either, C(AWS_ACCESS_KEY_ID)/C(AWS_SECRET_ACCESS_KEY) from the
        environment are used, else C(AWS_PROFILE), else boto3's own chain (shared files, container or instance role).
    type: str
    aliases: [aws_profile]
  access_key:
    description:
      - An access key id, with O(secret_key). Without it, see O(profile) for where credentials come from.
    type: str
    aliases: [aws_access_key, aws_access_key_id]
  secret_key:
    description: The secret access key of O(access_key).
    type: str
    aliases: [aws_secret_key, aws_secret_access_key]
  session_token:
    description: A session token for temporary credentials (with O(access_key) and O(secret_key)).
    type: str
    aliases: [aws_session_token]
  ca_bundle:
    description:
      - A CA bundle (PEM file on the host that runs the module) to verify the endpoint's certificate with.
        Defaults to C(AWS_CA_BUNDLE), else the system's trust store.
    type: path
    aliases: [aws_ca_bundle]
  validate_certs:
    description: Verify TLS certificates of the endpoint.
    type: bool
    default: true
  max_attempts:
    description:
      - Attempts per request in botocore's standard retry mode (exponential backoff with jitter), which retries
        throttling (C(RequestLimitExceeded), C(Throttling)), server errors and dropped connections. On top of it
        only C(SnapshotCreationPerVolumeRateExceeded) (one snapshot of a volume every 15 seconds) and snapshots or
        volumes not visible yet right after their creation are retried, a few times each.
    type: int
    default: 8
requirements:
  - boto3 >= 1.28.0
  - botocore >= 1.31.0
'''
