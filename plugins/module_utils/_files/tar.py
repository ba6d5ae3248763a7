# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GNU tar adapter: what the host's tar is and supports (xattrs, ACLs), asked once per process."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError

_FEATURES = {}


def tar_features(tar):
    if tar in _FEATURES:
        return _FEATURES[tar]
    try:
        out = subprocess.run([tar, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                             timeout=10).stdout.decode('utf-8', 'replace')
        ver = subprocess.run([tar, '--version'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                             timeout=10).stdout.decode('utf-8', 'replace')
    except (OSError, subprocess.SubprocessError) as e:
        raise LifeboatError('cannot run %s: %s' % (tar, e))
    if 'GNU tar' not in ver:
        raise LifeboatError('%s is not GNU tar; lifeboat.backup needs GNU tar (package tar)' % tar)
    feats = {'xattrs': '--xattrs' in out, 'acls': '--acls' in out, 'version': ver.splitlines()[0].strip()}
    _FEATURES[tar] = feats
    return feats
