# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the path rules: what a path in a files record may be, where it may land, mounts.

Pure logic on plain strings (no I/O), unit-tested without mocks. The backup checks every path it records
with these rules and the restore checks every path it reads, so a record changed in the store (with its
checksums fixed up) cannot send a restore outside its target.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import DamagedError

# how many symlinks a path in ``paths`` may go through before it reaches a directory or file (as the kernel)
MAX_LINK_HOPS = 40

_MOUNTINFO_ESCAPE = re.compile(r'\\([0-7]{3})')


def path_problem(path):
    """Why ``path`` cannot be a path of a files record, or None when it can.

    A record path is absolute and normalized: exactly one leading '/', no empty, '.' or '..' components,
    no trailing '/', no NUL byte, and not '/' itself.
    """
    if not isinstance(path, str):
        return 'it is not a string'
    if not path:
        return 'it is empty'
    if '\x00' in path:
        return 'it contains a NUL byte'
    if not path.startswith('/'):
        return 'it is not absolute'
    if path == '/':
        return 'it is / itself'
    components = path[1:].split('/')
    if '' in components:
        return 'it has an empty component (// or a trailing /)'
    if '..' in components:
        return "it has a '..' component"
    if '.' in components:
        return "it has a '.' component"
    return None


def components(path):
    """The components of a valid record path: '/opt/app' -> ['opt', 'app']."""
    return path[1:].split('/')


def is_under(path, root):
    """True when ``path`` is ``root`` or lies beneath it, component-wise (both absolute, normalized)."""
    if root == '/':
        return path.startswith('/')
    return path == root or path.startswith(root + '/')


def join_link(parent, text):
    """Where a symlink in directory ``parent`` (absolute) with contents ``text`` points, normalized."""
    joined = posixpath.normpath(posixpath.join(parent, text))
    if joined.startswith('//'):
        joined = '/' + joined.lstrip('/')
    return joined


def paths_problem(paths):
    """Why ``paths`` cannot be the paths of a files record (a non-empty list of valid paths, none inside
    another), or None. The backup checks what it is about to record, the restore what it read."""
    if not isinstance(paths, list) or not paths:
        return 'there are no paths (it is not a files archive)'
    for path in paths:
        why = path_problem(path)
        if why:
            return 'the path %r cannot be restored: %s' % (path, why)
    ordered = sorted(paths)
    for before, after in zip(ordered, ordered[1:]):
        if is_under(after, before):
            return 'the path %s is listed twice or inside %s' % (after, before)
    return None


def links_problem(links, paths):
    """Why ``links`` cannot be the links of a files record with ``paths``, or None.

    Each link is {path, target, resolved}: the symlink, its contents, and the directory or file it finally
    names; the link and what it names both lie at or under one of ``paths`` (both are in the archive).
    """
    if not isinstance(links, list):
        return 'the links are not a list'
    for link in links:
        if not isinstance(link, dict) or not isinstance(link.get('target'), str):
            return 'the link entry %r is malformed' % (link,)
        if not link['target'] or '\x00' in link['target']:
            return 'the link %r has an invalid target %r' % (link.get('path'), link['target'])
        for field in ('path', 'resolved'):
            value = link.get(field)
            why = path_problem(value)
            if why:
                return 'the link %s %r is not a valid path: %s' % (field, value, why)
            if not any(is_under(value, root) for root in paths or []):
                return 'the link %s %s is not among the archived paths' % (field, value)
    return None


def _damaged(key, why):
    return DamagedError('the record of %s is not valid: %s. The set was changed or damaged in the store; nothing '
                        'was changed' % (key, why), artifact=key)


def record_paths(record):
    """The checked ``extra.paths`` of a files record read from a store; DamagedError when they are not valid."""
    extra = record.get('extra')
    paths = extra.get('paths') if isinstance(extra, dict) else None
    why = paths_problem(paths)
    if why:
        raise _damaged(record.get('key', '?'), why)
    return list(paths)


def record_links(record, paths):
    """The checked ``extra.links`` of a files record read from a store (absent in sets of 0.1.0)."""
    links = (record.get('extra') or {}).get('links', [])
    why = links_problem(links, paths)
    if why:
        raise _damaged(record.get('key', '?'), why)
    return links


def mount_points(mountinfo_text):
    """The mount points listed in /proc/self/mountinfo (5th field, with the kernel's octal escapes undone)."""
    out = []
    for line in mountinfo_text.splitlines():
        fields = line.split(' ')
        if len(fields) >= 5:
            out.append(_MOUNTINFO_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return out


def mounts_below(path, mounts):
    """The mount points strictly beneath ``path`` (sorted)."""
    return sorted(m for m in set(mounts) if m != path and is_under(m, path))
