# -*- coding: utf-8 -*-
"""The roles' argument specs and shared values agree with the modules' specs and with the roles' defaults.

The role argument specs are YAML the roles validate with; the module specs are Python. What the roles accept
for lifeboat_store, and the options they hand to the modules through module_defaults, must be exactly what the
modules take, so these tests compare them instead of trusting two copies to stay alike.
"""

import pathlib
import re

import pytest
import yaml

from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = REPO / 'roles'


def _yaml(path):
    return yaml.safe_load(path.read_text())


def _specs(role):
    return _yaml(ROLES / role / 'meta' / 'argument_specs.yml')['argument_specs']


def test_lifeboat_store_spec_is_the_modules_store_option():
    spec = _specs('common')['main']['options']['lifeboat_store']
    options = spec['options']
    assert list(options) == list(STORE_SPEC)
    for name, module_opt in STORE_SPEC.items():
        role_opt = options[name]
        assert role_opt['type'] == module_opt['type'], name
        assert role_opt.get('choices') == module_opt.get('choices'), name
        assert role_opt.get('default') == module_opt.get('default'), name
        assert bool(role_opt.get('no_log')) == bool(module_opt.get('no_log')), name
        assert bool(role_opt.get('required')) == bool(module_opt.get('required')), name
        # (no aliases: the role argument spec schema has none; lifeboat_store uses the option names)
        assert 'aliases' not in role_opt, name
    for secret in ('access_key', 'secret_key', 'session_token', 'password', 'private_key_passphrase'):
        assert options[secret]['no_log'] is True


def test_the_store_default_is_declared_once():
    default = _yaml(ROLES / 'common' / 'defaults' / 'main.yml')['lifeboat_store']
    assert _specs('common')['main']['options']['lifeboat_store']['default'] == default
    for role in ('backup', 'restore', 'efs', 'profile'):
        defaults = ROLES / role / 'defaults' / 'main.yml'
        assert not defaults.exists() or 'lifeboat_store' not in (_yaml(defaults) or {}), role
    for playbook in (REPO / 'playbooks').glob('*.yml'):
        for play in _yaml(playbook):
            assert 'lifeboat_store' not in (play.get('vars') or {}), playbook.name
            assert 'lifeboat_services' not in (play.get('vars') or {}), playbook.name


def test_the_text_options_are_the_stores_str_and_path_options():
    values = _yaml(ROLES / 'common' / 'vars' / 'main.yml')
    text = [k for k, v in STORE_SPEC.items() if v['type'] in ('str', 'path')]
    assert sorted(values['__lifeboat_store_text_options']) == sorted(text)


def test_module_defaults_hand_over_exactly_the_connection_options():
    values = _yaml(ROLES / 'common' / 'vars' / 'main.yml')
    assert sorted(values['__lifeboat_pg_connection_options']) == sorted(pg_logic.CONNECTION_SPEC)
    assert sorted(values['__lifeboat_aws_connection_options']) == sorted(aws_client.AWS_SPEC)
    pg_options = _specs('common')['main']['options']['lifeboat_postgresql']['options']
    assert set(pg_logic.CONNECTION_SPEC) <= set(pg_options)
    snapshot_options = _specs('backup')['main']['options']['lifeboat_snapshot']['options']
    assert set(aws_client.AWS_SPEC) <= set(snapshot_options)
    for secret in ('access_key', 'secret_key', 'session_token'):
        assert snapshot_options[secret]['no_log'] is True


@pytest.mark.parametrize('role', sorted(p.name for p in ROLES.iterdir()))
def test_every_entry_point_has_an_argument_spec(role):
    specs = _specs(role)
    tasks = ROLES / role / 'tasks'
    # an entry point is main.yml, or a task file no other task file of the role includes
    files = sorted(p.stem for p in tasks.glob('*.yml')) if tasks.exists() else []
    included = set()
    for p in tasks.glob('*.yml') if tasks.exists() else []:
        text = p.read_text()
        included.update(re.findall(r'(?:include_tasks|import_tasks|file):\s*(\w+)\.yml', text))
        # a templated file name ("phase_{{ lifeboat_phase }}.yml") includes every file its pattern matches
        for name in re.findall(r'(?:include_tasks|file):\s*"([\w{}| ]*\{\{[\w{}| ]*)\.yml"', text):
            pattern = re.sub(r'\{\{.*?\}\}', '*', name)
            included.update(q.stem for q in tasks.glob('%s.yml' % pattern))
    entry_points = [stem for stem in files if stem == 'main' or stem not in included]
    # every entry point has a spec; a spec may also name a file that others include (lifecycle's metrics)
    assert set(entry_points) <= set(specs), role
    assert all((tasks / ('%s.yml' % name)).exists() for name in specs if tasks.exists()), role
    for name, spec in specs.items():
        assert spec.get('short_description'), (role, name)


@pytest.mark.parametrize('role', ['backup', 'restore'])
def test_role_spec_defaults_are_the_role_defaults(role):
    defaults = _yaml(ROLES / role / 'defaults' / 'main.yml')
    for name, opt in _specs(role)['main']['options'].items():
        if 'default' in opt and name in defaults:
            assert opt['default'] == defaults[name], (role, name)


def test_lifeboat_encryption_is_one_spec_with_the_modules_options():
    """lifeboat_encryption is one variable for every role: its spec is the same wherever it is declared, holds the
    options of the modules' encryption and decryption, and keeps their secrets no_log."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
    common = _specs('common')['main']['options']['lifeboat_encryption']
    for entry in ('verify', 'drill'):
        assert _specs('lifecycle')[entry]['options']['lifeboat_encryption'] == common, entry
    modules = dict(encryption_logic.RECIPIENTS_SPEC, **encryption_logic.IDENTITY_SPEC)
    assert sorted(common['options']) == sorted(modules)
    for name, module_opt in modules.items():
        assert common['options'][name]['type'] == module_opt['type'], name
        assert bool(common['options'][name].get('no_log')) == bool(module_opt.get('no_log')), name
    assert common['options']['identity']['no_log'] is True
