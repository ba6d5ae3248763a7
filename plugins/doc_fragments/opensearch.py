# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options of the OpenSearch modules (spec: module_utils/_opensearch/logic.py CONNECTION_SPEC).
    DOCUMENTATION = r'''
options:
  hosts:
    description:
      - URLs of one or more nodes of the cluster, for example C(https://search1:9200). A call that cannot
        connect to one node goes to the next; HTTP errors are answers and are not retried elsewhere.
    type: list
    elements: str
    required: true
    aliases: [urls]
  auth_type:
    description:
      - C(basic) sends O(username)/O(password) (HTTP basic auth, as the security plugin expects); C(sigv4) signs
        every request for Amazon OpenSearch Service with AWS Signature Version 4 (needs botocore); C(none) sends no
        credentials. C(auto) is C(basic) when O(username) is set, else C(none).
    type: str
    default: auto
    choices: [auto, none, basic, sigv4]
  username:
    description: User for HTTP basic auth.
    type: str
    aliases: [login_user]
  password:
    description: Password for HTTP basic auth. Never logged.
    type: str
    aliases: [login_password]
  ca_path:
    description: PEM file of the CA(s) that signed the nodes' certificates (Chef Automate HA - its root CA).
    type: path
  client_cert:
    description: PEM client certificate for clusters that authenticate clients by certificate (with O(client_key)).
    type: path
  client_key:
    description: PEM private key of O(client_cert).
    type: path
  validate_certs:
    description: Verify the nodes' TLS certificates (against O(ca_path) or the system store) and host names.
    type: bool
    default: true
  request_timeout:
    description: Seconds one REST call may take (waiting for a snapshot or a restore polls with short calls).
    type: int
    default: 60
  aws_region:
    description: With O(auth_type=sigv4), the region of the Amazon OpenSearch Service domain.
    type: str
  aws_service:
    description: With O(auth_type=sigv4), C(es) for a managed domain, C(aoss) for OpenSearch Serverless.
    type: str
    default: es
    choices: [es, aoss]
  aws_profile:
    description: With O(auth_type=sigv4), a named AWS profile; without keys or profile botocore's chain is used.
    type: str
  aws_access_key:
    description: With O(auth_type=sigv4), an access key id.
    type: str
  aws_secret_key:
    description: With O(auth_type=sigv4), the secret access key. Never logged.
    type: str
  aws_session_token:
    description: With O(auth_type=sigv4), a session token for temporary credentials. Never logged.
    type: str
notes:
  - HTTP goes through Ansible's own C(ansible.module_utils.urls) (urllib), chosen over opensearch-py or
    elasticsearch-py - it needs nothing installed on the host that runs the module, handles TLS (CA file, client
    certificates, O(validate_certs)) and basic auth like every Ansible module, and speaks to OpenSearch and
    Elasticsearch alike. The snapshot API is a handful of JSON calls that need no client library.
  - Tested against real OpenSearch 2.19 and 3.3 nodes; the same REST calls serve OpenSearch 1.x and
    Elasticsearch 7.x/8.x (expected to work, not tested). See C(docs/opensearch.md).
requirements:
  - botocore, only for O(auth_type=sigv4)
'''
