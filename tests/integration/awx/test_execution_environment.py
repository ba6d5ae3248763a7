# -*- coding: utf-8 -*-
"""The execution environment (execution-environment.yml, meta/execution-environment.yml, ee/).

``ansible-builder create`` runs for real and writes the build context. No container runtime exists on the test
machines, so the image is not built; instead the test does what the build's galaxy and builder stages do with
that context: it installs the collections of the context's requirements.yml (this collection's tarball from the
context, awx.awx from the ``ansible`` wheel instead of Galaxy), runs the context's own introspect.py with the
arguments of the Containerfile's RUN line, and reads the Python requirements and the system packages (bindep,
evaluated for the CentOS Stream 9 base image) the image would install.
"""
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from awxlib import awx_collection_root, build_collection
from lifeboat_tests_conftest import REPO, tool

pytest.importorskip('ansible_builder')
bindep_depends = pytest.importorskip('bindep.depends')

# what bindep calls the EE's base image (quay.io/centos/centos:stream9)
CENTOS9 = ['platform:rpm', 'platform:redhat', 'platform:centos', 'platform:centos-9', 'platform:dnf']
DEBIAN = ['platform:dpkg', 'platform:debian', 'platform:debian-12', 'platform:apt']


def _requirement_names(lines):
    names = set()
    for line in lines:
        line = line.split('#', 1)[0].strip()
        if line:
            names.add(re.split(r'[<>=!~;\[ ]', line, maxsplit=1)[0].lower())
    return names


def _packages(bindep_text, platform):
    depends = bindep_depends.Depends(bindep_text)
    return set(depends.list_all_packages(depends.active_rules(platform + ['default'])))


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    """The build context ansible-builder create writes for a copy of the definition (as scripts/ee.sh does)."""
    work = tmp_path_factory.mktemp('ee')
    shutil.copy(str(REPO / 'execution-environment.yml'), str(work))
    shutil.copytree(str(REPO / 'ee'), str(work / 'ee'), ignore=shutil.ignore_patterns('collections'))
    (work / 'ee' / 'collections').mkdir()
    tarball = build_collection(work / 'dist')
    shutil.copy(tarball, str(work / 'ee' / 'collections' / 'lifeboat-backup.tar.gz'))
    proc = subprocess.run([tool('ansible-builder'), 'create', '-f', str(work / 'execution-environment.yml'),
                           '-c', str(work / 'context'), '--output-filename', 'Containerfile'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout
    return work / 'context'


@pytest.fixture(scope='module')
def galaxy_stage(context, tmp_path_factory):
    """The collections the galaxy stage installs, in a collections dir (awx.awx from the ansible wheel)."""
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    names = [entry['name'] for entry in requirements['collections']]
    assert names == ['collections/lifeboat-backup.tar.gz', 'awx.awx']
    dest = tmp_path_factory.mktemp('ee-collections')
    awx_source = os.path.join(awx_collection_root(), 'ansible_collections', 'awx', 'awx')
    offline = {'collections': [
        {'name': str(context / '_build' / 'collections' / 'lifeboat-backup.tar.gz'), 'type': 'file'},
        {'name': awx_source, 'type': 'dir'},
    ]}
    (dest / 'requirements.yml').write_text(yaml.safe_dump(offline))
    subprocess.run([tool('ansible-galaxy'), 'collection', 'install', '--no-deps', '-r', str(dest / 'requirements.yml'),
                    '-p', str(dest)], check=True, stdout=subprocess.DEVNULL, timeout=300)
    return dest


@pytest.fixture(scope='module')
def builder_stage(context, galaxy_stage, tmp_path_factory):
    """Run the context's introspect.py as the Containerfile's builder stage does; returns (pip lines, bindep text)."""
    containerfile = (context / 'Containerfile').read_text()
    line = [ln for ln in containerfile.splitlines() if 'introspect.py introspect' in ln]
    assert len(line) == 1, containerfile
    argv = shlex.split(line[0])[1:]  # after RUN: $PYCMD /output/scripts/introspect.py introspect --opt=file ...
    out = tmp_path_factory.mktemp('ee-builder')
    args = ['introspect', str(galaxy_stage)]
    for arg in argv[3:]:
        name, value = arg.split('=', 1)
        if name in ('--write-bindep', '--write-pip'):
            value = str(out / os.path.basename(value))
        else:
            value = str(context / '_build' / value)
        args.append('%s=%s' % (name, value))
    proc = subprocess.run([tool('python'), str(context / '_build' / 'scripts' / 'introspect.py')] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout
    return (out / 'requirements.txt').read_text().splitlines(), (out / 'bindep.txt').read_text()


def test_containerfile_installs_ansible_core_runner_and_the_collections(context):
    containerfile = (context / 'Containerfile').read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1)
    assert refs.startswith('ansible-core>=2.16,<2.20 ') and 'ansible-runner' in refs
    assert 'ansible-galaxy collection install' in containerfile
    assert 'dnf install -y epel-release' in containerfile
    assert 'pg_dump --version' in containerfile and 'age --version' in containerfile
    assert (context / '_build' / 'collections' / 'lifeboat-backup.tar.gz').stat().st_size > 10000
    assert (context / '_build' / 'exclude-requirements.txt').read_text().split() == ['psycopg2']


def test_image_python_requirements(builder_stage):
    pip_lines, _bindep = builder_stage
    names = _requirement_names(pip_lines)
    # the modules' own (this collection's requirements.txt) and awx.awx's (awx_configure.yml)
    assert {'boto3', 'botocore', 'paramiko', 'psycopg2-binary', 'awxkit', 'python-dateutil', 'pytz'} <= names
    # psycopg2 (a source build) is replaced by psycopg2-binary; ansible-core comes from the base stage
    assert 'psycopg2' not in names and 'ansible-core' not in names
    # introspect names where each requirement came from
    assert any('lifeboat.backup' in line and line.startswith('boto3') for line in pip_lines), pip_lines


def test_image_system_packages(builder_stage):
    _pip, bindep_text = builder_stage
    on_centos = _packages(bindep_text, CENTOS9)
    assert {'tar', 'zstd', 'gzip', 'pigz', 'postgresql', 'openssh-clients', 'sshpass'} <= on_centos, on_centos
    on_debian = _packages(bindep_text, DEBIAN)
    assert {'tar', 'zstd', 'postgresql-client', 'openssh-client'} <= on_debian, on_debian


def test_collection_introspection_gives_the_collection_requirements(galaxy_stage, tmp_path):
    """An EE that only names lifeboat.backup gets the same Python and system needs (meta/execution-environment.yml)."""
    only = tmp_path / 'only'
    shutil.copytree(str(galaxy_stage / 'ansible_collections' / 'lifeboat'), str(only / 'ansible_collections' / 'lifeboat'))
    meta = yaml.safe_load((only / 'ansible_collections/lifeboat/backup/meta/execution-environment.yml').read_text())
    assert meta == {'version': 1, 'dependencies': {'python': 'requirements.txt', 'system': 'bindep.txt'}}
    proc = subprocess.run([tool('ansible-builder'), 'introspect', '--sanitize', str(only)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    data = yaml.safe_load(proc.stdout[proc.stdout.index('---'):])
    expected_pip = _requirement_names((REPO / 'requirements.txt').read_text().splitlines())
    assert _requirement_names(data['python']) == expected_pip
    assert {'boto3', 'paramiko', 'psycopg2'} <= expected_pip
    system = _packages('\n'.join(line.split('#')[0].strip() for line in data['system']) + '\n', CENTOS9)
    assert system == _packages((REPO / 'bindep.txt').read_text(), CENTOS9)
    assert {'tar', 'zstd', 'postgresql'} <= system
