# -*- coding: utf-8 -*-
"""Fixtures of the AWX tests: ``awx``, an AWX API stand-in (awx_api.py) seeded with what awx_configure.yml expects
to find (an organization, a project with the collection's playbooks, an inventory, credentials, a notification
template), stopped after the test."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from awx_api import AwxStandIn  # noqa: E402  pylint: disable=wrong-import-position
from configurelib import PLAYBOOKS  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def awx():
    server = AwxStandIn(project_playbooks={'backups': PLAYBOOKS})
    state = server.state
    org = state.seed('organizations', name='Acme')
    state.seed('projects', name='backups', organization=org['id'], scm_type='git')
    state.seed('inventories', name='production', organization=org['id'])
    machine = state.seed('credential_types', name='Machine', kind='ssh', managed=True,
                         inputs={'fields': [{'id': 'username', 'label': 'Username', 'type': 'string'}]})
    aws = state.seed('credential_types', name='Amazon Web Services', kind='cloud', managed=True,
                     inputs={'fields': [{'id': 'username', 'label': 'Access Key', 'type': 'string'},
                                        {'id': 'password', 'label': 'Secret Key', 'type': 'string', 'secret': True}]})
    state.seed('credentials', name='hosts ssh', organization=org['id'], credential_type=machine['id'],
               inputs={'username': 'backup'})
    state.seed('credentials', name='aws backups', organization=org['id'], credential_type=aws['id'],
               inputs={'username': 'AKIA', 'password': 'x'})
    state.seed('notification_templates', name='ops mail', organization=org['id'], notification_type='email')
    yield server
    server.stop()
