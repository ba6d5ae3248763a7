# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scratch server's choice of binaries, and its refusals (the server itself: tests/integration/drill)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils._checks import scratch_pg
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, NotFoundError

INSTALLED = {'13': '/usr/lib/postgresql/13/bin', '15': '/usr/lib/postgresql/15/bin', '16': '/usr/pgsql-16/bin'}


@pytest.mark.parametrize('num, major', [(150018, '15'), (160000, '16'), (90624, '9.6'), (100021, '10')])
def test_major_of(num, major):
    assert scratch_pg.major_of(num) == major


@pytest.mark.parametrize('needed, chosen', [
    (150004, '/usr/lib/postgresql/15/bin'), (140010, '/usr/lib/postgresql/15/bin'), (130001, '/usr/lib/postgresql/13/bin'),
    (90624, '/usr/lib/postgresql/13/bin'), (None, '/usr/pgsql-16/bin'), (160002, '/usr/pgsql-16/bin'),
])
def test_the_dump_major_or_the_oldest_newer_one(needed, chosen):
    assert scratch_pg.choose_bin_dir(needed, installed=INSTALLED) == chosen


def test_missing_servers_say_what_to_install():
    with pytest.raises(NotFoundError, match='needs a PostgreSQL 17 server.*only 13, 15, 16: install postgresql-17'):
        scratch_pg.choose_bin_dir(170000, installed=INSTALLED)
    with pytest.raises(NotFoundError, match='no PostgreSQL server is installed'):
        scratch_pg.choose_bin_dir(150000, installed={})
    with pytest.raises(NotFoundError, match='has no initdb'):
        scratch_pg.choose_bin_dir(150000, bin_dir='/nonexistent')


def test_remove_refuses_paths_that_are_not_scratch_servers(tmp_path):
    for path in ('/', '/var/lib/postgresql', str(tmp_path)):
        with pytest.raises(ConfigError, match='not a scratch server directory'):
            scratch_pg.remove(path)
    gone = str(tmp_path / (scratch_pg.MARK + 'gone'))
    assert scratch_pg.remove(gone) == {'changed': False, 'path': gone, 'removed': False}


def test_create_refuses_a_missing_parent():
    with pytest.raises(ConfigError, match='must be an existing absolute path'):
        scratch_pg.create('relative/dir')
