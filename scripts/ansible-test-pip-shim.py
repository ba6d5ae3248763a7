#!/usr/bin/env python
"""Stand-in for the pip bootstrap script ansible-test downloads (unreachable here).

ansible-test runs `python get_pip.py <pip args>` to put a pinned pip into the venvs it makes. This does
the same from the Python standard library: ensurepip in a subprocess (in-process it would hide
/etc/pip.conf, whose settings pip needs here), then `pip install <the same args>` from the package index.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
if args:
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check'] + args)
