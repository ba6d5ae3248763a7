# -*- coding: utf-8 -*-
"""Helpers of the AWX tests: the awx.awx collection without Galaxy, collection installs, ansible-runner dirs.

Galaxy cannot be reached from the test machines. awx.awx ships inside the ``ansible`` package on PyPI
(ansible_collections/awx/awx of its wheel): ``awx_collection_root()`` finds an installed copy, or downloads that
wheel once with pip (``pip download --no-deps``, into $LIFEBOAT_WORK/cache) and unpacks only awx/awx from it.
"""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

from lifeboat_tests_conftest import COLLECTIONS_PATH, REPO, tool

CACHE = os.path.join(os.environ.get('LIFEBOAT_WORK', '/tmp/lifeboat-work'), 'cache')
ANSIBLE_WHEEL_SPEC = 'ansible>=12,<13'


def _installed_awx():
    """An ansible_collections root that already holds awx/awx (the test collections path, the venv's)."""
    candidates = [COLLECTIONS_PATH, os.path.join(CACHE, 'awx-collection')]
    candidates += [p for p in sys.path if p.endswith('site-packages')]
    for root in candidates:
        if os.path.isfile(os.path.join(root, 'ansible_collections', 'awx', 'awx', 'MANIFEST.json')):
            return root
    return None


def awx_collection_root():
    """A directory D with D/ansible_collections/awx/awx (the collection awx_configure.yml uses)."""
    found = _installed_awx()
    if found:
        return found
    os.makedirs(CACHE, exist_ok=True)
    wheels = sorted(glob.glob(os.path.join(CACHE, 'ansible-*-py3-none-any.whl')))
    if not wheels:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '-d', CACHE, ANSIBLE_WHEEL_SPEC],
                       check=True, timeout=900)
        wheels = sorted(glob.glob(os.path.join(CACHE, 'ansible-*-py3-none-any.whl')))
    dest = os.path.join(CACHE, 'awx-collection')
    tmp = dest + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(tmp, [name for name in wheel.namelist() if name.startswith('ansible_collections/awx/awx/')])
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    return dest


def build_collection(out_dir):
    """Build this checkout's collection tarball into out_dir; returns its path."""
    subprocess.run([tool('ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(out_dir)],
                   cwd=str(REPO), check=True, stdout=subprocess.DEVNULL, timeout=300)
    return glob.glob(os.path.join(str(out_dir), 'lifeboat-backup-*.tar.gz'))[0]


def collections_path():
    """ANSIBLE_COLLECTIONS_PATH with this collection and awx.awx."""
    return os.pathsep.join([COLLECTIONS_PATH, awx_collection_root()])
