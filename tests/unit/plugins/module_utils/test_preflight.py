# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup preflight: the pure checks (names, duplicates, suggestions) and run() against real paths and a real
filesystem store in tmp_path (PostgreSQL preflights run against a real server in the integration tests)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import preflight


def test_nothing_to_back_up_names_the_host_and_the_likely_typo():
    msg = preflight.nothing_to_back_up('web2', ['lifeboat_file', 'lifeboat_store', 'lifeboat_label'])
    assert msg == ('web2 has nothing to back up: no lifeboat_files, lifeboat_postgresql, lifeboat_opensearch or lifeboat_snapshot (did you '
                   'mean lifeboat_files? it has lifeboat_file). Give it something to back up, leave it out of the play, '
                   'or set lifeboat_allow_empty_hosts: true')
    assert '(did you mean' not in preflight.nothing_to_back_up('web2', ['lifeboat_store', 'lifeboat_snapshot_label'])
    both = preflight.nothing_to_back_up('db', ['lifeboat_postgres', 'lifeboat_snapshots'])
    assert ('(did you mean lifeboat_postgresql? it has lifeboat_postgres; did you mean lifeboat_snapshot? it has '
            'lifeboat_snapshots)') in both


def test_suggestions_ignore_known_variables_and_far_names():
    assert preflight.suggestions(['lifeboat_files', 'lifeboat_snapshot_label', 'lifeboat_pg', 'something']) == []
    assert preflight.suggestions(['lifebaot_files']) == [('lifeboat_files', 'lifebaot_files')]


def test_misspelled_warnings_next_to_a_configured_component():
    assert preflight.misspelled_warnings('web1', ['lifeboat_files', 'lifeboat_postgress'], ['lifeboat_files']) == [
        'web1 has lifeboat_postgress, which lifeboat.backup does not know: did you mean lifeboat_postgresql?']


def test_entry_problems_duplicates_and_bad_names():
    entries = [{'name': 'app', 'paths': ['/a']}, {'name': 'etc', 'paths': ['/b']}, {'name': 'app', 'paths': ['/c']},
               {'name': 'bad name', 'paths': ['/d']}]
    problems, ok = preflight.entry_problems(entries)
    assert [e['name'] for e in ok] == ['app', 'etc']
    assert problems == [
        'lifeboat_files has two entries named app (entries 1 and 3): each would write files/app, and only one can be '
        'kept. Give each entry its own name',
        "lifeboat_files entry 4: files entry name 'bad name' is not valid: use letters, digits, '.', '_', '-', '@' or "
        "'+' (max 128), starting with a letter or digit",
    ]


def _store(tmp_path):
    return {'type': 'filesystem', 'path': str(tmp_path / 'store')}


def test_run_all_well_writes_nothing_but_the_store_dir(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    res = preflight.run(_store(tmp_path), 'web1', files=[{'name': 'app', 'paths': [str(src)]}])
    assert res['problems'] == [] and res['components'] == ['files/app'] and res['empty'] is False
    assert os.listdir(str(tmp_path / 'store')) == []   # the probe is gone; no lock, no set


def test_run_reports_every_problem_of_the_host(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (tmp_path / 'afile').write_text('x')
    files = [{'name': 'app', 'paths': [str(src)]}, {'name': 'app', 'paths': [str(src)]},
             {'name': 'gone', 'paths': [str(tmp_path / 'missing')]},
             {'name': 'z', 'paths': [str(src)], 'compression': 'zstd', 'level': 99}]
    store = {'type': 'filesystem', 'path': str(tmp_path / 'afile' / 'store')}
    res = preflight.run(store, 'web1', files=files)
    assert res['problems'] == [
        'web1: lifeboat_files has two entries named app (entries 1 and 2): each would write files/app, and only one '
        'can be kept. Give each entry its own name',
        'web1: files entry gone: %s does not exist on this host' % (tmp_path / 'missing'),
        'web1: zstd level must be 1..22, got 99',
        'web1: store: filesystem store %s/afile/store: %s/afile is not a directory' % (tmp_path, tmp_path),
    ]


def test_run_missing_tool(tmp_path, monkeypatch):
    src = tmp_path / 'src'
    src.mkdir()
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    os.symlink('/bin/tar' if os.path.exists('/bin/tar') else '/usr/bin/tar', str(bindir / 'tar'))
    monkeypatch.setenv('PATH', str(bindir))
    res = preflight.run(_store(tmp_path), 'web1', files=[{'name': 'app', 'paths': [str(src)]}])
    assert res['problems'] == ['web1: zstd is needed for zstd compression but is not installed on this host (see bindep.txt)']


def test_run_empty_host(tmp_path):
    res = preflight.run(_store(tmp_path), 'web2', variables=['lifeboat_file'])
    assert res['problems'] == [preflight.nothing_to_back_up('web2', ['lifeboat_file'])] and res['empty'] is False
    res = preflight.run(_store(tmp_path), 'web2', allow_empty=True)
    assert res['problems'] == [] and res['empty'] is True
    assert not os.path.exists(str(tmp_path / 'store'))  # an empty host does not even touch the store


def test_run_check_mode_only_lists_the_store(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    res = preflight.run(_store(tmp_path), 'web1', files=[{'name': 'app', 'paths': [str(src)]}], check_mode=True)
    assert res['problems'] == [] and not os.path.exists(str(tmp_path / 'store'))


def test_postgresql_params_take_the_roles_values_and_the_modules_defaults():
    p = preflight.postgresql_params({'port': 5433, 'login_password': 'x', 'cluster': 'main', 'level': None}, 'db1',
                                    'gzip', 4, 2)
    assert p['port'] == 5433 and p['login_password'] == 'x' and 'cluster' not in p
    assert (p['maintenance_db'], p['connect_timeout'], p['format'], p['jobs'], p['globals']) == ('postgres', 10, 'custom', 2, True)
    assert (p['compression'], p['level'], p['threads'], p['host']) == ('gzip', 4, 2, 'db1')


def test_encryption_check_problems_and_advice(tmp_path):
    assert preflight.encryption_check(None) == ([], [])
    assert preflight.encryption_check({'recipients': [], 'recipients_file': None}) == ([], [])
    problems, warnings = preflight.encryption_check(None, 'profile awx: its sets hold SECRET_KEY')
    assert problems == [] and warnings[0].startswith('encryption is off: profile awx: its sets hold SECRET_KEY.')
    problems, warnings = preflight.encryption_check({'recipients': ['AGE-SECRET-KEY-1QQQ']}, 'advised')
    assert warnings == [] and problems[0].startswith('encryption: recipients[0] is an age private key')
    assert 'QQQ' not in problems[0]
    problems, _warnings = preflight.encryption_check({'recipients_file': str(tmp_path / 'missing')})
    assert problems == ['encryption: recipients_file %s does not exist on this host' % (tmp_path / 'missing')]
