# -*- coding: utf-8 -*-
"""roles/profile/vars/*.yml: every profile defines the three variables the roles read, in the right shape."""

import pathlib

import pytest
import yaml

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

REPO = pathlib.Path(__file__).resolve().parents[2]
VARS = REPO / 'roles' / 'profile' / 'vars'
PROFILES = sorted(p.stem for p in VARS.glob('*.yml'))


def test_the_documented_profiles_exist():
    assert PROFILES == ['awx', 'chef_automate_ha', 'generic']
    doc = (REPO / 'docs' / 'profiles.md').read_text()
    for name in PROFILES:
        assert '## `%s`' % name in doc


@pytest.mark.parametrize('name', PROFILES)
def test_profile_shape(name):
    data = yaml.safe_load((VARS / ('%s.yml' % name)).read_text())
    required = {'__lifeboat_profile_files', '__lifeboat_profile_services', '__lifeboat_profile_postgresql'}
    optional = {'__lifeboat_profile_opensearch', '__lifeboat_profile_postgresql_needs', '__lifeboat_profile_encryption_advised'}
    assert required <= set(data) <= required | optional
    search = data.get('__lifeboat_profile_opensearch', {})
    assert isinstance(search, dict)
    if search:
        assert search['cluster'] and search['discover'] and search['repository']
    files = data['__lifeboat_profile_files']
    assert isinstance(files, list)
    names = [f['name'] for f in files]
    assert len(names) == len(set(names))
    for f in files:
        assert set(f) == {'name', 'paths', 'exclude'}
        set_format.validate_name(f['name'], 'files entry name')
        assert f['paths'] and all(p.startswith('/') and not p.endswith('/') for p in f['paths'])
        assert isinstance(f['exclude'], list)
    services = data['__lifeboat_profile_services']
    assert isinstance(services, list) and all(isinstance(s, str) and s for s in services)
    pg = data['__lifeboat_profile_postgresql']
    assert isinstance(pg, dict)
    if pg:
        assert isinstance(pg['databases'], list)
    # every key is an option of lifeboat_postgresql (the common role merges them under the user's)
    spec = yaml.safe_load((REPO / 'roles' / 'common' / 'meta' / 'argument_specs.yml').read_text())
    options = spec['argument_specs']['main']['options']['lifeboat_postgresql']['options']
    assert set(pg) <= set(options)
    assert set(data.get('__lifeboat_profile_postgresql_needs', [])) <= set(options)


def test_generic_assumes_nothing():
    data = yaml.safe_load((VARS / 'generic.yml').read_text())
    assert data == {'__lifeboat_profile_files': [], '__lifeboat_profile_services': [],
                    '__lifeboat_profile_postgresql': {}}


def test_awx_keeps_the_secret_key_with_the_database():
    data = yaml.safe_load((VARS / 'awx.yml').read_text())
    paths = [p for f in data['__lifeboat_profile_files'] for p in f['paths']]
    assert '/etc/awx' in paths          # holds SECRET_KEY
    assert data['__lifeboat_profile_postgresql']['databases'] == ['awx']
