# -*- coding: utf-8 -*-
"""docs/encryption.md's recovery runbook, followed literally: every command block of the runbook is taken from the
doc and run with bash (only the settings block is replaced by this test's own values), against a real encrypted
set made by the collection: files from a filesystem store, S3 (aws CLI against the moto server) and SFTP (the
sftp client against a real sshd), and PostgreSQL custom-format, directory-format and globals into a fresh server.
Nothing of lifeboat.backup runs during the recovery."""

import os
import re
import shutil
import subprocess

import pytest

from enclib import HOST, commit_set, files_backup, make_tree, ok, start_set, tree
from storelib import run_module

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'docs', 'encryption.md')


def blocks():
    """{name: bash text} of the doc's <!-- runbook:NAME --> blocks."""
    with open(DOC) as handle:
        text = handle.read()
    found = dict(re.findall(r'<!-- runbook:([a-z0-9-]+) -->\n```bash\n(.*?)```', text, re.S))
    assert {'settings', 'list', 'select', 'check', 'files', 'postgresql-custom', 'postgresql-directory',
            'postgresql-globals'} <= set(found), sorted(found)
    return found


def run(names, settings, env=None, select=('files', 'app')):
    """Run the doc's blocks ``names`` in one bash, after ``settings`` (this test's values for step 1). In the
    ``select`` block, the first line (``COMPONENT=files NAME=app``, the operator's choice) is replaced by ``select``."""
    doc = blocks()
    chosen = []
    for name in names:
        text = doc[name]
        if name == 'select':
            assert text.startswith('COMPONENT=files NAME=app ')
            text = 'COMPONENT=%s NAME=%s\n' % select + text.split('\n', 1)[1]
        chosen.append(text)
    script = 'set -eu\n' + settings + '\n' + '\n'.join(chosen)
    proc = subprocess.run(['bash', '-c', script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=env, check=False)
    return proc, script


def run_ok(names, settings, env=None, select=('files', 'app')):
    proc, script = run(names, settings, env, select)
    assert proc.returncode == 0, '%s\n---\n%s' % (script, proc.stdout)
    return proc.stdout


def settings(keys, set_id, work, **store):
    lines = ['IDENTITY=%s' % keys.age_path, 'SET=%s' % set_id, 'HOST=%s' % HOST, 'WORK=%s' % work]
    lines += ['%s=%s' % (key, value) for key, value in sorted(store.items())]
    lines.append('mkdir -p "$WORK" && cd "$WORK"')
    return '\n'.join(lines)


def test_settings_block_is_only_assignments():
    """The one block the test replaces holds nothing but the values an operator edits."""
    for line in blocks()['settings'].splitlines():
        assert re.match(r'^[A-Z0-9_]+=\S+\s*(#.*)?$', line) or line == 'mkdir -p "$WORK" && cd "$WORK"', line


def _files_set(store, keys, workdir):
    src = os.path.join(workdir, 'app')
    make_tree(src)
    set_id = start_set(store)
    ok(files_backup(store, set_id, 'app', [src], [keys.age_public, keys.ed_public]))
    commit_set(store, set_id)
    return src, set_id


@pytest.mark.parametrize('kind', ['filesystem', 's3', 'sftp'])
def test_runbook_files_from_each_store(kind, store_params, keys, workdir, request):
    store = store_params(kind)
    src, set_id = _files_set(store, keys, workdir)
    work = os.path.join(workdir, 'recovery')
    env = dict(os.environ)
    if kind == 'filesystem':
        where = {'STORE': os.path.join(store['path'], store['prefix'])}
    elif kind == 's3':
        if not shutil.which('aws'):
            pytest.skip('the aws CLI is not installed (tests/requirements.txt: awscli)')
        where = {'S3': 's3://%s/%s' % (store['bucket'], store['prefix'])}
        env['AWS_OPTS'] = '--endpoint-url %s --region us-east-1' % request.getfixturevalue('moto').url
    else:
        sshd = request.getfixturevalue('sshd')
        where = {'SFTP_HOST': 'root@127.0.0.1', 'SFTP_PATH': os.path.join(store['path'], store['prefix'])}
        env['SFTP_OPTS'] = '-i %s -P %d -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes' % (
            sshd.client_key, sshd.port, sshd.known_hosts)
    out = run_ok(['manifest-' + kind, 'list', 'select', 'download-' + kind, 'check', 'files'],
                 settings(keys, set_id, work, **where), env)
    assert 'artifact: OK' in out
    assert '\tfiles\tapp\t%s/%s/files/app.tar.zst.age\t' % (set_id, HOST) in out
    assert tree(os.path.join(work, 'restored', src.lstrip('/'))) == tree(src)


def test_runbook_stops_at_a_changed_artifact(store_params, keys, workdir):
    store = store_params('filesystem')
    _src, set_id = _files_set(store, keys, workdir)
    root = os.path.join(store['path'], store['prefix'])
    key = [os.path.join(dp, name) for dp, _dn, names in os.walk(root) for name in names if name.endswith('.age')][0]
    with open(key, 'r+b') as handle:
        handle.seek(300)
        byte = handle.read(1)
        handle.seek(300)
        handle.write(bytes([byte[0] ^ 1]))
    work = os.path.join(workdir, 'recovery')
    proc, _script = run(['manifest-filesystem', 'select', 'download-filesystem', 'check', 'files'],
                        settings(keys, set_id, work, STORE=root))
    assert proc.returncode != 0 and 'FAILED' in proc.stdout
    assert not os.path.exists(os.path.join(work, 'restored'))


def test_runbook_postgresql(store_params, keys, workdir, pg_pair):
    source, target = pg_pair
    store = store_params('filesystem')
    set_id = start_set(store)
    for dump_format, host in (('custom', HOST), ('directory', 'db2')):
        args = {'store': store, 'set_id': set_id, 'host': host, 'databases': ['shop'], 'format': dump_format,
                'globals': host == HOST, 'encryption': {'recipients': [keys.age_public]}}
        args.update(source.conn_params())
        ok(run_module('postgresql_backup', args))
    commit_set(store, set_id, hosts=[HOST, 'db2'])
    root = os.path.join(store['path'], store['prefix'])
    env = target.env()
    env['PATH'] = '/usr/lib/postgresql/15/bin:' + env['PATH']
    target.psql('DROP DATABASE IF EXISTS restored_db')
    if target.q("SELECT count(*) FROM pg_roles WHERE rolname = 'shop_owner'") == '1':
        target.psql('DROP OWNED BY shop_owner; DROP ROLE shop_owner')
    # globals first (the owner role), then the custom dump; then the directory dump of the other host
    for host, select, block, work in ((HOST, ('postgresql', 'globals'), 'postgresql-globals', 'r1'),
                                      (HOST, ('postgresql', 'shop'), 'postgresql-custom', 'r2'),
                                      ('db2', ('postgresql', 'shop'), 'postgresql-directory', 'r3')):
        target.psql('DROP DATABASE IF EXISTS restored_db')
        base = settings(keys, set_id, os.path.join(workdir, work), STORE=root).replace('HOST=%s' % HOST, 'HOST=%s' % host)
        run_ok(['manifest-filesystem', 'select', 'download-filesystem', 'check', block], base, env, select)
        if block == 'postgresql-globals':
            assert target.q("SELECT count(*) FROM pg_roles WHERE rolname = 'shop_owner'") == '1'
            continue
        assert target.q("SELECT note FROM orders WHERE id = 0", db='restored_db') == 'PLAINTEXT-MARKER-pg-7c1d'
        assert target.q("SELECT count(*) FROM orders", db='restored_db') == '5001'
