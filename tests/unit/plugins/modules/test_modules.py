# -*- coding: utf-8 -*-
"""Every module: its argument spec (built by a function), what the spec refuses, and its one exit point."""

import inspect

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lifeboat.backup.plugins.module_utils import _module
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import STORE_SPEC

from lb_module_runner import MODULES, STORELESS, TRACEBACK_ARGS, fresh_module_process, load, parse_exit, patch_module_args, warnings_of

SECRETS = ('access_key', 'secret_key', 'session_token', 'password', 'private_key_passphrase', 'login_password')


def _options(spec, prefix=''):
    """(dotted name, option spec) of every option and suboption."""
    for name, opt in spec.items():
        yield prefix + name, opt
        yield from _options(opt.get('options') or {}, prefix + name + '.')


@pytest.mark.parametrize('name', MODULES)
def test_every_module_builds_its_spec_and_module_in_functions(name):
    mod = load(name)
    spec = mod.argument_spec()
    assert isinstance(spec, dict) and spec
    assert mod.argument_spec() is not spec          # a fresh dict each call: nothing shared is mutated
    for option, opt in _options(spec):
        assert 'type' in opt, option
        if option.split('.')[-1] in SECRETS:
            assert opt.get('no_log') is True, option
    with patch_module_args({'_ansible_check_mode': True}):
        # the spec refuses an empty call of every module that has required options, before any work
        required = [k for k, v in spec.items() if v.get('required')]
        if required:
            with pytest.raises(SystemExit):
                mod.build_module()


@pytest.mark.parametrize('name', ['files_backup', 'backup_upload', 'postgresql_backup'])
def test_the_compression_options_are_the_shared_spec(name):
    spec = load(name).argument_spec()
    for key, opt in pipeline.COMPRESSION_SPEC.items():
        assert spec[key] == opt, key


@pytest.mark.parametrize('name', [m for m in MODULES if m not in STORELESS])
def test_every_store_option_is_the_shared_spec(name):
    assert load(name).argument_spec()['store']['options'] == STORE_SPEC


FS = {'type': 'filesystem', 'path': '/nonexistent/store'}

REFUSALS = [
    ('backup_set', {'store': FS}, 'missing required arguments: state'),
    ('backup_set', {'store': FS, 'state': 'committed'}, 'state is committed but all of the following are missing: set_id'),
    ('backup_set', {'store': FS, 'state': 'done'}, 'value of state must be one of: started, committed, failed, delivered, got: done'),
    ('backup_set', {'store': FS, 'state': 'delivered', 'set_id': 'x'}, 'state is delivered but all of the following are missing: host'),
    ('backup_set_info', {'store': FS, 'set_id': 'x', 'latest': True}, 'parameters are mutually exclusive: set_id|latest'),
    ('backup_set_info', {'store': {'type': 'nfs', 'path': '/x'}}, 'value of type must be one of: filesystem, s3, sftp, got: nfs'),
    ('backup_set_info', {'store': {'type': 'filesystem', 'path': '/x', 'bucket_name': 'b'}}, 'bucket_name'),
    ('files_backup', {'store': FS, 'set_id': 's', 'host': 'h', 'name': 'n', 'paths': ['/x'], 'compression': 'lz4'},
     'value of compression must be one of: zstd, gzip, none, got: lz4'),
    ('files_backup', {'store': FS, 'set_id': 's', 'host': 'h', 'name': 'n', 'paths': ['/x'], 'threads': 'many'},
     "argument 'threads' is of type"),
    ('files_restore', {'store': FS, 'host': 'h'}, 'missing required arguments: name'),
    ('backup_upload', {'store': FS, 'set_id': 's', 'host': 'h'}, 'missing required arguments: src'),
    ('backup_fetch', {'store': FS, 'host': 'h', 'name': 'n'}, 'missing required arguments: dest'),
    ('postgresql_backup', {'store': FS, 'set_id': 's', 'host': 'h', 'login_host': 'db', 'login_unix_socket': '/run'},
     'parameters are mutually exclusive: login_host|login_unix_socket'),
    ('postgresql_backup', {'store': FS, 'set_id': 's', 'host': 'h', 'format': 'tar'},
     'value of format must be one of: custom, directory, got: tar'),
    ('postgresql_restore', {'store': FS, 'host': 'h', 'force_method': 'drop'},
     'value of force_method must be one of: replace, clean, got: drop'),
    ('ec2_snapshot_set', {'state': 'absent'}, 'state is absent but all of the following are missing: set_id'),
    ('ec2_snapshot_set', {'record_in_set': True, 'set_id': 's'}, 'record_in_set is True but all of the following are missing: store'),
    ('ec2_snapshot_set_info', {'access_key': 'AKIA'}, 'parameters are required together: access_key, secret_key'),
    ('ec2_snapshot_set_restore', {}, 'missing required arguments: set_id'),
    ('backup_prune', {'store': FS}, 'missing required arguments: policy'),
    ('backup_prune', {'store': FS, 'policy': {}}, 'the retention policy has no keep rule'),
    ('backup_prune', {'store': FS, 'policy': {'keep_daily': 7, 'keep_forever': 1}}, 'keep_forever'),
    ('backup_verify', {'store': FS, 'level': 'deep'}, 'value of level must be one of: quick, full, got: deep'),
    ('backup_drill', {'store': FS, 'components': ['opensearch']}, 'value of components must be one or more of: files, postgresql'),
    ('backup_status', {'store': FS, 'rpo': 'soon'}, 'soon'),
    ('backup_metrics', {'path': '/x.prom', 'operation': 'restore', 'store_name': 's'}, 'value of operation must be one of'),
    ('postgresql_scratch', {'state': 'absent'}, 'state is absent but all of the following are missing: path'),
]


@pytest.mark.parametrize('name, args, expect', REFUSALS, ids=['%s-%d' % (r[0], i) for i, r in enumerate(REFUSALS)])
def test_argument_spec_refusals(run_module, name, args, expect, tmp_path):
    r = run_module(name, args, check=True)
    assert r.failed and r['rc'] == 1, r
    assert expect in r['msg'], r['msg']
    assert 'exception' not in r


def _execute(capsys, work, tracebacks=False, **kwargs):
    """_module.execute(AnsibleModule, work, **kwargs) -> (exit code, output)."""
    fresh_module_process()
    args = dict(TRACEBACK_ARGS if tracebacks else {}, _ansible_check_mode=True)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)
        _module.execute(module, work, **kwargs)
    out = parse_exit(capsys, exc.value.code)
    return out['rc'], out


def test_lifeboat_error_is_one_message_with_its_details(capsys):
    def work():
        raise NotFoundError('set 20261122T031500Z does not exist in the filesystem store /srv/backup', set_id='x')

    rc, out = _execute(capsys, work, warnings=['a warning'])
    assert rc == 1 and out['failed'] is True
    assert out['msg'] == 'set 20261122T031500Z does not exist in the filesystem store /srv/backup'
    assert out['set_id'] == 'x' and 'exception' not in out
    assert warnings_of(out) == ['a warning']


def test_unexpected_exception_is_reported_with_its_traceback(capsys):
    def work():
        return {}['missing']

    rc, out = _execute(capsys, work, tracebacks=True)
    assert rc == 1 and out['failed'] is True
    assert out['msg'] == ("unexpected KeyError: 'missing' (a bug in lifeboat.backup; the traceback is shown with "
                          "-vvv)")
    assert 'Traceback (most recent call last)' in out['exception'] and "{}['missing']" in out['exception']


def test_success_exits_once_with_the_flows_result_and_its_commands(capsys):
    result = {'changed': False, 'commands': [['zstd', '-t', 'x.zst']], 'tar_warnings': ['t: file changed as we read it']}
    rc, out = _execute(capsys, lambda: dict(result), warn_key='tar_warnings')
    assert rc == 0 and not out.get('failed')
    assert out['commands'] == [['zstd', '-t', 'x.zst']]
    assert warnings_of(out) == ['t: file changed as we read it']


def test_fail_details_come_with_the_error(capsys):
    def work():
        raise LifeboatError('pg_dump failed (exit 1): FATAL: database "app" does not exist', rc=1)

    rc, out = _execute(capsys, work, fail_details=lambda: {'records': [{'name': 'globals'}]})
    assert rc == 1 and out['records'] == [{'name': 'globals'}] and out['rc'] == 1


def _docs(name):
    mod = load(name)
    return yaml.safe_load(mod.DOCUMENTATION), yaml.safe_load(mod.RETURN) or {}


@pytest.mark.parametrize('name', MODULES)
def test_every_module_shares_the_attributes_and_points_further(name):
    doc, _ret = _docs(name)
    assert 'lifeboat.backup.attributes' in doc['extends_documentation_fragment'], name
    assert doc['attributes']['check_mode']['description'], name
    assert doc.get('seealso'), name
    # one exit point: main() hands its one call to _module.execute / execute_in_store
    assert '_module.execute' in inspect.getsource(load(name).main), name


@pytest.mark.parametrize('name', MODULES)
def test_every_return_value_has_a_sample(name):
    _doc, ret = _docs(name)
    for key, spec in ret.items():
        contains = spec.get('contains') or {}
        assert 'sample' in spec or (contains and all('sample' in sub for sub in contains.values())), (name, key)


def _action_group(name):
    import pathlib
    import yaml
    runtime = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / 'meta' / 'runtime.yml').read_text())
    return sorted(runtime['action_groups'][name])


def test_the_encryption_groups_hold_exactly_the_modules_with_those_options():
    """module_defaults of the roles hand `encryption` (recipients) and `decryption` (identity) to these groups: a
    module in a group must take the option, and no module takes both (a backup never receives an identity)."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
    for group, option, shared in (('encryption', 'encryption', encryption_logic.ENCRYPTION_SPEC),
                                  ('decryption', 'decryption', encryption_logic.DECRYPTION_SPEC)):
        candidates = MODULES + ['backup_preflight', 'backup_verify', 'backup_drill']
        having = sorted({name for name in candidates if option in load(name).argument_spec()})
        assert _action_group(group) == having, group
        for name in having:
            assert load(name).argument_spec()[option] == shared[option], name
    assert not set(_action_group('encryption')) & set(_action_group('decryption'))
