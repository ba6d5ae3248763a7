# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the backup flow: GNU tar of the paths into the pipeline, as one artifact of a set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features


def backup(store, set_id, host, name, paths, exclude=None, compression='zstd', level=None, threads=0,
           encryption='none', one_file_system=False, check_mode=False):
    set_format.validate_name(name, 'files entry name')
    paths = files_logic.normalize_paths(paths)
    if not paths:
        raise LifeboatError('files entry %s has no paths' % name)
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        raise LifeboatError('files entry %s: %s does not exist on this host' % (name, ', '.join(missing)),
                            missing=missing)
    unreadable = [p for p in paths if not os.access(p, os.R_OK)]
    if unreadable:
        raise LifeboatError('files entry %s: %s is not readable by this user' % (name, ', '.join(unreadable)))
    tar = pipeline.need_tool('tar', 'files_backup')
    feats = tar_features(tar)
    pipeline.compressor_argv(compression, level, threads)  # validates compression and level before anything starts
    if check_mode:
        return {'changed': True, 'records': [], 'paths': paths,
                'msg': 'would archive %s into set %s as %s/%s' % (', '.join(paths), set_id, files_logic.COMPONENT, name)}
    argv = files_logic.tar_create_argv(tar, paths, exclude, feats, one_file_system)
    env = dict(os.environ, LC_ALL='C')

    def check(res):
        return files_logic.judge_tar_create(res.rc, res.stderr)

    record = artifacts.write_artifact(
        store, set_id, host, files_logic.COMPONENT, name, 'files', 'tar', '.tar', source='files:' + ','.join(paths),
        check_source=check, source_argv=argv, source_name='tar', compression=compression, level=level,
        threads=threads, encryption=encryption, tools={'tar': feats['version']},
        extra={'paths': paths, 'exclude': list(exclude or []), 'xattrs': feats['xattrs'], 'acls': feats['acls']},
        env=env)
    ex = record['extra']
    summary = {'host': host, 'component': files_logic.COMPONENT, 'name': name, 'size': record['size'],
               'uncompressed_size': ex.get('uncompressed_size'), 'seconds': ex['seconds']}
    return {'changed': True, 'records': [record], 'record': record, 'summary': [summary], 'paths': paths,
            'size': record['size'], 'sha256': record['sha256'], 'changed_files': ex.get('changed_files', []),
            'tar_warnings': ex.get('warnings', [])}
