# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EC2 doc fragments stay in step with their specs (AWS_SPEC, STORE_SPEC) and with the store fragment."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import yaml

from ansible_collections.lifeboat.backup.plugins.doc_fragments.aws import ModuleDocFragment as AwsDoc
from ansible_collections.lifeboat.backup.plugins.doc_fragments.store import ModuleDocFragment as StoreDoc
from ansible_collections.lifeboat.backup.plugins.module_utils._aws.ec2 import AWS_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC


def test_store_optional_is_the_store_fragment_but_optional():
    expected = StoreDoc.DOCUMENTATION.replace('\n    required: true\n', '\n    required: false\n', 1).replace(
        '      - Where backup sets live.',
        '      - Where backup sets live. Needed to record a snapshot set in a backup set, or to read a recorded one.',
        1)
    assert expected == AwsDoc.STORE_OPTIONAL, 'store.py changed: regenerate STORE_OPTIONAL in doc_fragments/aws.py'
    store = yaml.safe_load(AwsDoc.STORE_OPTIONAL)['options']['store']
    assert store['required'] is False
    assert set(store['suboptions']) == set(STORE_SPEC)


def test_aws_fragment_matches_the_spec():
    opts = yaml.safe_load(AwsDoc.DOCUMENTATION)['options']
    assert set(opts) == set(AWS_SPEC)
    for name, spec in AWS_SPEC.items():
        assert opts[name]['type'] == spec['type'], name
        assert opts[name].get('default') == spec.get('default'), name
    assert all(AWS_SPEC[k].get('no_log') for k in ('access_key', 'secret_key', 'session_token'))
