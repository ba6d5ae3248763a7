# -*- coding: utf-8 -*-
"""Jobs run the way AWX runs them: ansible-runner on a private data dir laid out as AWX lays it out.

What AWX (24, awx/main/tasks/jobs.py and models/credential) writes for a job, and what this module writes:
  project/            the synced project: here this checkout's playbooks/ (the project is the collection's repository)
  inventory/hosts     an executable script printing the inventory as JSON with _meta.hostvars (build_inventory)
  env/extravars       the template's extra_vars, then survey answers and launch variables (those marked !unsafe),
                      then the artifacts of earlier workflow nodes
  env/tmp<cred>       the credential type's extra_vars injectors rendered with the credential's inputs (every value
                      !unsafe), passed as ``-e @file`` on the command line (env/cmdline)
  env/envvars         the credentials' env injectors (an AWS credential: AWS_ACCESS_KEY_ID...) and the settings AWX puts
                      there (ANSIBLE_*), here also the collections path the execution environment would have
  env/settings        runner settings (no idle or job timeout)
The job then runs as ``ansible-runner run DIR -p playbooks/X.yml --ident ID [--limit L] [--forks N]``, a process of its
own as on an execution node; the test reads its job events (artifacts/ID/job_events/*.json) and the artifact_data of
the playbook_on_stats event, which is what AWX shows as the job's artifacts and hands to the next workflow node.
"""
import glob
import json
import os
import shutil
import stat
import subprocess
import sys

import jinja2
import jinja2.sandbox
import yaml

from lifeboat_tests_conftest import COLLECTIONS_PATH, REPO, tool


class _Unsafe(str):
    pass


def _unsafe_representer(dumper, value):
    return dumper.represent_scalar('!unsafe', str(value))


class _AwxDumper(yaml.SafeDumper):
    pass


_AwxDumper.add_representer(_Unsafe, _unsafe_representer)


def _mark_unsafe(value):
    """What AWX's safe_dump does with values it does not trust: every string becomes !unsafe (never templated)."""
    if isinstance(value, dict):
        return {key: _mark_unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark_unsafe(item) for item in value]
    if isinstance(value, str):
        return _Unsafe(value)
    return value


def render_injectors(injectors, inputs):
    """A credential type's extra_vars injectors rendered with a credential's inputs, as AWX renders them (sandboxed
    Jinja; AWX fills the inputs a credential does not have with empty strings)."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()

    def build(node):
        if isinstance(node, dict):
            return {key: build(value) for key, value in node.items()}
        if isinstance(node, list):
            return [build(value) for value in node]
        return env.from_string(node).render(**inputs)

    return build(injectors)


def credential_type_from_role():
    """The lifeboat store credential type as roles/awx defines it (inputs, injectors), read from its vars file."""
    with open(str(REPO / 'roles' / 'awx' / 'vars' / 'main.yml')) as f:
        role_vars = yaml.safe_load(f)
    raw = role_vars['__lifeboat_awx_credential_type_injectors']
    # the vars file escapes the AWX-side templates ("{{ '{{' }} field {{ '}}' }}"): undo it as Ansible would
    text = json.dumps(raw).replace("{{ '{{' }}", '{{').replace("{{ '}}' }}", '}}')
    return role_vars['__lifeboat_awx_credential_type_inputs'], json.loads(text)


class Job(object):
    def __init__(self, ident, proc, artifacts):
        self.ident = ident
        self.rc = proc.returncode
        self.output = proc.stdout
        self.artifacts = artifacts
        self.events = []
        for path in glob.glob(os.path.join(artifacts, 'job_events', '*.json')):
            with open(path) as f:
                self.events.append(json.load(f))
        self.events.sort(key=lambda event: event.get('counter', 0))
        status = os.path.join(artifacts, 'status')
        self.status = open(status).read().strip() if os.path.exists(status) else 'unknown'
        stdout = os.path.join(artifacts, 'stdout')
        self.stdout = open(stdout).read() if os.path.exists(stdout) else ''

    @property
    def artifact_data(self):
        for event in self.events:
            if event.get('event') == 'playbook_on_stats':
                return event.get('event_data', {}).get('artifact_data', {})
        return {}

    def failed_events(self):
        return [event for event in self.events if event.get('event') in ('runner_on_failed', 'runner_on_unreachable')
                and not event.get('event_data', {}).get('ignore_errors')]

    def all_text(self):
        """Everything the job left behind that AWX would store or show: stdout, every event, the artifacts."""
        return self.stdout + json.dumps(self.events)

    def __repr__(self):
        return '<Job %s rc=%s status=%s>\n%s' % (self.ident, self.rc, self.status, self.stdout[-6000:])


class PrivateDataDir(object):
    """One AWX job's private data dir under ``base``: project, inventory, env/."""

    def __init__(self, base, name):
        self.path = os.path.join(str(base), name)
        os.makedirs(os.path.join(self.path, 'env'))
        os.makedirs(os.path.join(self.path, 'inventory'))
        shutil.copytree(str(REPO / 'playbooks'), os.path.join(self.path, 'project', 'playbooks'))

    def write_inventory(self, hosts, group_vars=None, groups=None):
        """inventory/hosts as AWX writes it: a script that prints the inventory (hostvars inline)."""
        data = {'all': {'hosts': sorted(hosts), 'vars': group_vars or {}, 'children': sorted(groups or {})},
                '_meta': {'hostvars': hosts}}
        for group, members in (groups or {}).items():
            data[group] = {'hosts': members}
        script = os.path.join(self.path, 'inventory', 'hosts')
        with open(script, 'w') as f:
            f.write('#! %s\n# -*- coding: utf-8 -*-\nimport json\nprint(json.dumps(%r))\n' % (sys.executable, data))
        os.chmod(script, stat.S_IRWXU)

    def write_env(self, template_vars=None, launch_vars=None, credential_vars=None, envvars=None):
        """env/extravars, the credential's injected variables, env/cmdline, env/envvars, env/settings."""
        extravars = dict(template_vars or {})
        extravars.update(_mark_unsafe(launch_vars or {}))
        with open(os.path.join(self.path, 'env', 'extravars'), 'w') as f:
            yaml.dump(extravars, f, Dumper=_AwxDumper)
        cmdline = ''
        if credential_vars:
            cred_file = os.path.join(self.path, 'env', 'tmp_credential_extravars')
            with open(cred_file, 'w') as f:
                yaml.dump(_mark_unsafe(credential_vars), f, Dumper=_AwxDumper)
            os.chmod(cred_file, stat.S_IRUSR | stat.S_IWUSR)
            cmdline = '-e @%s' % cred_file
        with open(os.path.join(self.path, 'env', 'cmdline'), 'w') as f:
            f.write(cmdline)
        env = {
            # what the execution environment has, and what AWX sets for every job
            'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_FORCE_COLOR': 'False',
            'ANSIBLE_NOCOLOR': 'True',
            'ANSIBLE_HOST_KEY_CHECKING': 'False',
            'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'True',
            'ANSIBLE_PARAMIKO_RECORD_HOST_KEYS': 'False',
            'ANSIBLE_RETRY_FILES_ENABLED': 'False',
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.path, 'tmp'),
            'PYTHONWARNINGS': 'ignore',
            'PATH': os.path.dirname(sys.executable) + ':' + os.environ.get('PATH', '/usr/bin:/bin'),
        }
        env.update(envvars or {})
        with open(os.path.join(self.path, 'env', 'envvars'), 'w') as f:
            yaml.safe_dump(env, f)
        with open(os.path.join(self.path, 'env', 'settings'), 'w') as f:
            yaml.safe_dump({'idle_timeout': 0, 'job_timeout': 0, 'pexpect_timeout': 5, 'suppress_ansible_output': True}, f)

    def command(self, playbook, ident, limit=None, forks=None, check=False):
        argv = [tool('ansible-runner'), 'run', self.path, '-p', 'playbooks/' + playbook, '--ident', ident, '-q']
        if limit:
            argv += ['--limit', limit]
        if forks:
            argv += ['--forks', str(forks)]
        if check:
            with open(os.path.join(self.path, 'env', 'cmdline'), 'a') as f:
                f.write(' --check')
        return argv

    def run(self, playbook, ident='job', limit=None, forks=None, check=False, timeout=900):
        proc = subprocess.run(self.command(playbook, ident, limit, forks, check), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
        return Job(ident, proc, os.path.join(self.path, 'artifacts', ident))

    def start(self, playbook, ident='job', limit=None, forks=None):
        """The job as a process of its own (several at once, like the slices of a sliced job on their nodes)."""
        return subprocess.Popen(self.command(playbook, ident, limit, forks), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True)

    def finish(self, proc, ident, timeout=900):
        out, _err = proc.communicate(timeout=timeout)
        return Job(ident, subprocess.CompletedProcess(proc.args, proc.returncode, out, None),
                   os.path.join(self.path, 'artifacts', ident))
