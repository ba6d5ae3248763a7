# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GNU tar adapter: what the host's tar is and supports (xattrs, ACLs), asked once per process."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner

_FEATURES = {}


def tar_features(tar, runner=None):
    """{'xattrs', 'acls', 'version'} of GNU tar at ``tar`` (``tar --help`` and ``--version``, read-only probes)."""
    if tar in _FEATURES:
        return _FEATURES[tar]
    runner = runner or command_runner.default_runner()
    try:
        usage = runner.run([tar, '--help'], timeout=command_runner.PROBE_TIMEOUT, probe=True)
        version = runner.run([tar, '--version'], timeout=command_runner.PROBE_TIMEOUT, probe=True)
    except command_runner.CommandError as err:
        raise LifeboatError('cannot run %s: %s' % (tar, err.msg))
    text = version.stdout + version.stderr
    if 'GNU tar' not in text:
        raise LifeboatError('%s is not GNU tar; lifeboat.backup needs GNU tar (package tar)' % tar)
    help_text = usage.stdout + usage.stderr
    feats = {'xattrs': '--xattrs' in help_text, 'acls': '--acls' in help_text, 'version': text.splitlines()[0].strip()}
    _FEATURES[tar] = feats
    return feats
