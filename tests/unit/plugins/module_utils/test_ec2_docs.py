# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doc fragments stay in step with their specs: the AWS options (AWS_SPEC) in the aws fragment and inside
the store fragment (STORE_SPEC), and the EC2 modules' optional store is the store fragment with required: false
(what ansible-doc shows, fragments merged)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.lifeboat.backup.plugins.doc_fragments.aws import ModuleDocFragment as AwsDoc
from ansible_collections.lifeboat.backup.plugins.doc_fragments.store import ModuleDocFragment as StoreDoc
from ansible_collections.lifeboat.backup.plugins.module_utils._aws.client import AWS_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC


def _same(doc, spec, name):
    assert doc['type'] == spec['type'], name
    assert doc.get('default') == spec.get('default'), name
    assert sorted(doc.get('aliases') or []) == sorted(spec.get('aliases') or []), name
    assert doc.get('choices') == spec.get('choices'), name
    assert bool(doc.get('required')) == bool(spec.get('required')), name


def test_aws_fragment_matches_the_spec():
    opts = yaml.safe_load(AwsDoc.DOCUMENTATION)['options']
    assert set(opts) == set(AWS_SPEC)
    for name, spec in AWS_SPEC.items():
        _same(opts[name], spec, name)
    assert all(AWS_SPEC[k].get('no_log') for k in ('access_key', 'secret_key', 'session_token'))
    assert not hasattr(AwsDoc, 'STORE_OPTIONAL')


def test_store_fragment_matches_the_spec_including_the_aws_options():
    store = yaml.safe_load(StoreDoc.DOCUMENTATION)['options']['store']
    assert store['required'] is True
    assert set(store['suboptions']) == set(STORE_SPEC)
    for name, spec in STORE_SPEC.items():
        _same(store['suboptions'][name], spec, name)
    for name in AWS_SPEC:
        assert STORE_SPEC[name] is AWS_SPEC[name]          # one AWS option spec


@pytest.mark.parametrize('module', ['ec2_snapshot_set', 'ec2_snapshot_set_restore'])
def test_ec2_modules_take_the_store_fragment_as_optional(module):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ['LIFEBOAT_COLLECTIONS_PATH'])
    doc_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    if not os.path.exists(doc_bin):
        pytest.skip('ansible-doc is not installed next to this python')
    out = subprocess.run([doc_bin, '-j', 'lifeboat.backup.' + module], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, check=True).stdout
    options = json.loads(out)['lifeboat.backup.' + module]['doc']['options']
    store = options['store']
    assert store['required'] is False and store['type'] == 'dict'
    assert set(store['suboptions']) == set(STORE_SPEC)
    assert store['description'][0].startswith('Where backup sets live')
    assert set(AWS_SPEC) <= set(options)
