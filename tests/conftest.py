# -*- coding: utf-8 -*-
"""Shared test plumbing: the collection on sys.path / ANSIBLE_COLLECTIONS_PATH, and a playbook runner.

LIFEBOAT_COLLECTIONS_PATH (set by scripts/test.sh) points at a path where the *built and installed*
collection lives; without it, a temp dir with a symlink to this checkout is used (development).

LIFEBOAT_PLAYBOOK_COLLECTIONS_PATH, when set, is what ansible-playbook runs use instead (the tests' own in-process
helpers keep this checkout): point it at another version of the collection, e.g. a worktree of 0.1.0 under
.../ansible_collections/lifeboat/backup, to see that a test fails on the bug it is about.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

# `import conftest` finds whichever conftest.py pytest loaded last: helpers import this one by a name of its own
sys.modules.setdefault('lifeboat_tests_conftest', sys.modules[__name__])

REPO = pathlib.Path(__file__).resolve().parents[1]


def _collections_path():
    env = os.environ.get('LIFEBOAT_COLLECTIONS_PATH')
    if env:
        return env
    parts = REPO.parts
    if len(parts) >= 3 and parts[-3:] == ('ansible_collections', 'lifeboat', 'backup'):
        return str(REPO.parents[2])
    root = tempfile.mkdtemp(prefix='lifeboat-coll-')
    os.makedirs(os.path.join(root, 'ansible_collections', 'lifeboat'))
    os.symlink(str(REPO), os.path.join(root, 'ansible_collections', 'lifeboat', 'backup'))
    return root


COLLECTIONS_PATH = _collections_path()
os.environ['LIFEBOAT_COLLECTIONS_PATH'] = COLLECTIONS_PATH
PLAYBOOK_COLLECTIONS_PATH = os.environ.get('LIFEBOAT_PLAYBOOK_COLLECTIONS_PATH') or COLLECTIONS_PATH
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)

# the helpers several integration directories share (awslib.py) import by name
INTEGRATION = str(REPO / 'tests' / 'integration')
if INTEGRATION not in sys.path:
    sys.path.append(INTEGRATION)

BIN = pathlib.Path(sys.executable).parent


UNIT = REPO / 'tests' / 'unit'


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'smoke: the subset run on every ansible-core version of the matrix (scripts/test.sh smoke, '
        '`pytest tests -m smoke`): a files and a PostgreSQL round trip through the playbooks, and every unit test')


def pytest_collection_modifyitems(config, items):
    # every unit test is part of the smoke subset; integration tests opt in with @pytest.mark.smoke
    for item in items:
        if UNIT in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.smoke)


def tool(name):
    """A console script of the running venv (ansible-playbook...), else from PATH."""
    p = BIN / name
    return str(p) if p.exists() else (shutil.which(name) or name)


@pytest.fixture
def scratch():
    """A fresh world-traversable directory (PostgreSQL's user must be able to enter it)."""
    base = pathlib.Path(os.environ.get('LIFEBOAT_TEST_TMP', '/tmp/lifeboat-tests'))
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    d = base / uuid.uuid4().hex[:10]
    d.mkdir()
    os.chmod(d, 0o755)
    yield d
    subprocess.run(['rm', '-rf', '--one-file-system', str(d)], check=False)


class PlaybookResult(object):
    def __init__(self, proc, stats):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.stats = stats

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return '<PlaybookResult rc=%s>\n%s' % (self.rc, self.output[-6000:])


def playbook_path(playbook):
    """A playbook path, or a name under playbooks/ of the collection the playbooks run from."""
    pb = str(playbook)
    if not os.path.isabs(pb) and not os.path.exists(pb):
        root = REPO
        if PLAYBOOK_COLLECTIONS_PATH != COLLECTIONS_PATH:
            root = pathlib.Path(PLAYBOOK_COLLECTIONS_PATH) / 'ansible_collections' / 'lifeboat' / 'backup'
        pb = str(root / 'playbooks' / pb)
    return pb


def run_playbook(playbook, inventory='localhost,', extra_vars=None, check=False, env=None, args=(), cwd=None,
                 timeout=900, argv_prefix=None):
    """Run ansible-playbook for real. ``playbook`` is a path, or a name under playbooks/ of the repo.

    ``argv_prefix`` runs it through a wrapper (the test cluster uses ``ip netns exec HUB``).
    """
    pb = playbook_path(playbook)
    tmp = tempfile.mkdtemp(prefix='lifeboat-pb-')
    argv = list(argv_prefix or []) + [tool('ansible-playbook'), pb, '-i', str(inventory)]
    if extra_vars:
        ev = os.path.join(tmp, 'extra_vars.json')
        with open(ev, 'w') as f:
            json.dump(extra_vars, f)
        argv += ['-e', '@' + ev]
    if check:
        argv.append('--check')
    argv += list(args)
    e = dict(os.environ)
    e.update({
        'ANSIBLE_COLLECTIONS_PATH': PLAYBOOK_COLLECTIONS_PATH,
        'ANSIBLE_HOST_KEY_CHECKING': 'True',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_LOCAL_TEMP': os.path.join(tmp, 'local'),
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_SHOW_CUSTOM_STATS': 'True',
        'PYTHONWARNINGS': 'ignore',
    })
    if inventory == 'localhost,':
        argv += ['-c', 'local']
    e.update(env or {})
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=e,
                          cwd=cwd, timeout=timeout, check=False)
    shutil.rmtree(tmp, ignore_errors=True)
    return PlaybookResult(proc, None)


@pytest.fixture
def playbook():
    return run_playbook
