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
import time
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
INTEGRATION_DIR = REPO / 'tests' / 'integration'
INTEGRATION = str(INTEGRATION_DIR)
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
    if os.environ.get('PYTEST_XDIST_WORKER'):
        # a worker's order is the order xdist hands the groups out in (see below); every worker sorts alike
        items.sort(key=lambda item: _rank(xdist_group(item.nodeid)))


# ---------------------------------------------------------------- parallel runs (pytest-xdist, tests/README.md)
# scripts/test.sh runs pytest with `-n N --dist loadscope`; the hook below replaces xdist's scope with ours: a
# *group* runs whole on one worker, in collection order, so the module- and session-scoped fixtures of a group
# (PostgreSQL servers, moto, sshd, OpenSearch nodes, the namespace cluster) start once for it. The group of a
# test is its file, or its directory for the directories in WHOLE_DIR_GROUPS. (xdist's own `loadgroup` and
# xdist_group markers rewrite item._nodeid, which pytest 9.2 no longer reads: they group nothing here.)
# Directories whose tests are one group (none now): for session fixtures too costly to start once per worker.
# OpenSearch is split by file on purpose: it is ~6 min of the suite (12-13 min loaded) as one group, the longest
# one; a worker that runs one of its files starts its own node (-Xmx512m, 10-20 s loaded), which costs less.
WHOLE_DIR_GROUPS = ()
# Groups handed out first, longest first (LPT): the long groups start at once on the free workers and the short ones
# fill the workers around them, instead of a long one starting last and running alone at the end. Unit tests go
# last, they fill the gaps. From the "slowest groups" report (below) of the last full run: keep it in step with it.
# The order matters most at the top: no group may be much longer than a quarter of the run.
LONG_FIRST = (
    # seconds alone at load ~11 (2026-12-01), after the split; [the 37-min CI run's figures, ~ = summed from its tests]
    'files/test_files_incremental.py',              # 489 (chain fixture 210 [191])
    'cluster/test_ha.py',                           # 407 [~300]
    'opensearch/test_opensearch_faults.py',         # [node start 97 + 8 tests]
    'awx/test_awx_configure.py',                    # 556 [~290]
    'files/test_files_incremental_fulls.py',        # 355 [~290]
    'cluster/test_ha_restore_faults.py',            # 378 [~285]
    'awx/test_awx_configure_sliced.py',             # 405 [264]
    'awx/test_runner_templates.py',                 # [255]
    'awx/test_runner_sliced.py',                    # [250]
    'files/test_files_incremental_retention.py',    # 491 at load 13 [~255]
    'files/test_files_incremental_policy.py',       # 288-431 [~220]
    'files/test_files_incremental_refused.py',      # 260 [~200]
    'files/test_files_stale_lock.py',
    'opensearch/test_opensearch_roundtrip.py',
    'stores/test_s3.py',
    'postgresql/test_postgresql_roundtrip.py',
    'opensearch/test_opensearch_s3_and_pair.py',
    'files/test_files_roundtrip.py',
    'ec2/test_ec2_snapshot_sets.py',
    'lifecycle/test_progress.py',
    'files/test_files_multihost.py',
    'cluster/test_cluster_smoke.py',
)


def xdist_group(nodeid):
    """The group of a test, from its node id (tests/integration/files/test_x.py::test_y[z] -> files/test_x.py)."""
    path = nodeid.split('::', 1)[0]
    for prefix in ('tests/integration/', 'tests/unit/'):
        if path.startswith(prefix):
            rel = path[len(prefix):]
            top = rel.split('/', 1)[0]
            if prefix == 'tests/unit/':
                return 'unit/' + rel
            return top if top in WHOLE_DIR_GROUPS else rel
    return path


def _rank(group):
    if group in LONG_FIRST:
        return LONG_FIRST.index(group)
    return len(LONG_FIRST) + (1 if group.startswith('unit/') else 0)


def _make_group_scheduler():
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class GroupScheduling(LoadScopeScheduling):
        """LoadScopeScheduling over our groups, handed out in the workers' collection order (LONG_FIRST first)."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False   # xdist would order by test count, not by time

        def _split_scope(self, nodeid):
            return xdist_group(nodeid)

    return GroupScheduling


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue('dist') == 'loadscope':
        return _make_group_scheduler()(config, log)
    return None


# ---------------------------------------------------------------- group durations (the numbers for LONG_FIRST)
# With --durations (scripts/test.sh all passes 25), the run ends with the slowest groups: the time of each group
# (setup, call and teardown of its tests, as its worker measured them), the worker it ran on and when it finished,
# in seconds from the start. A group that finishes long after the others is the critical path: split its file.
_GROUPS = {}
_START = []


def pytest_sessionstart(session):
    _START.append(time.time())


def pytest_runtest_logreport(report):
    if os.environ.get('PYTEST_XDIST_WORKER') or not _START:
        return
    seen = _GROUPS.setdefault(xdist_group(report.nodeid), {'seconds': 0.0, 'workers': set(), 'end': 0.0})
    seen['seconds'] += report.duration
    node = getattr(report, 'node', None)
    seen['workers'].add(node.gateway.id if node is not None else '-')
    seen['end'] = time.time() - _START[0]


def pytest_terminal_summary(terminalreporter, config):
    count = config.getoption('durations', None)
    if count is None or len(_GROUPS) < 2:
        return
    ranked = sorted(_GROUPS.items(), key=lambda item: -item[1]['seconds'])
    terminalreporter.write_sep('=', 'slowest %s groups (tests/conftest.py LONG_FIRST)' % (count or 'all'))
    for group, seen in ranked[:count or None]:
        terminalreporter.write_line('%8.1fs  %-55s %s  done at %ds' % (
            seen['seconds'], group, ','.join(sorted(seen['workers'])), seen['end']))


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
    module_tmp = os.path.join(tmp, 'tmp')
    os.mkdir(module_tmp)
    os.chmod(module_tmp, 0o1777)
    os.chmod(tmp, 0o711)   # traversable to module_tmp, not listable; extra_vars.json (secrets) is made 0600
    argv = list(argv_prefix or []) + [tool('ansible-playbook'), pb, '-i', str(inventory)]
    if extra_vars:
        ev = os.path.join(tmp, 'extra_vars.json')
        with os.fdopen(os.open(ev, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as f:
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
        # AnsiballZ unpacks each module into a payload dir under TMPDIR and removes it only when the module ends
        # normally: the tests that SIGKILL a module on purpose would leave theirs in /tmp (with -c local the
        # module inherits this environment; removed with tmp below). Mode 1777 as /tmp: a module's temp dir for
        # an os_user (PostgreSQL's) must be reachable by that user; extra_vars.json stays in the private tmp.
        'TMPDIR': module_tmp,
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
