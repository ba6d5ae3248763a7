# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/faults.md names tests that exist: a row whose test was renamed or removed would claim a coverage the
suite no longer has."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, 'docs', 'faults.md')


def _rows():
    with open(DOC) as f:
        for number, line in enumerate(f, 1):
            if line.startswith('| ') and not line.startswith(('| fault', '| area', '| [')):
                cells = [cell.strip() for cell in line.strip().split(' | ')]
                yield number, cells[-1].rstrip('|').strip()


def _references(text):
    """(file, function) pairs of a test cell: `a.py::f, ::g, b.py::h` (b.py in a.py's directory)."""
    out, current = [], None
    for part in re.split(r',\s*|;\s*| and ', text.replace('`', '')):
        part = part.strip().strip('.')
        if part.startswith('::'):
            name = part[2:]
        elif '::' in part:
            path, name = part.split('::', 1)
            current = path if '/' in path or current is None else os.path.join(os.path.dirname(current), path)
        else:
            continue
        out.append((current, re.sub(r'\[.*', '', name).split('::')[-1].strip()))
    return out


def test_every_test_named_in_faults_md_exists():
    missing, count = [], 0
    for number, cell in _rows():
        refs = _references(cell)
        assert refs, 'docs/faults.md line %d names no test: %s' % (number, cell)
        for path, name in refs:
            count += 1
            full = os.path.join(ROOT, 'tests', path or '')
            found = os.path.isfile(full) and re.search(r'def %s\b' % re.escape(name), open(full).read())
            if not found:
                missing.append('line %d: %s::%s' % (number, path, name))
    assert not missing, 'docs/faults.md names tests that do not exist:\n' + '\n'.join(missing)
    assert count > 300
