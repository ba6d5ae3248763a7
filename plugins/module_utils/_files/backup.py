# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directory archives, the backup flow: GNU tar of the paths into the pipeline, as one artifact of a set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files import paths as path_rules
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features


def follow_links(name, path):
    """The symlinks a listed path goes through, and what it finally names: ([{path, target, resolved}], resolved).

    A path that is no symlink gives ([], path). Each link is recorded where it lives, with its directory
    resolved (the first one as listed). Raises ConfigError for a dangling link, a loop, or a link to /.
    """
    hops = []
    cur = path
    while os.path.islink(cur):
        if len(hops) >= path_rules.MAX_LINK_HOPS or cur in [hop['path'] for hop in hops]:
            raise ConfigError('files entry %s: %s is a loop of symlinks (%s); fix the link or list what it should '
                              'point to' % (name, path, ' -> '.join([hop['path'] for hop in hops] + [cur])))
        text = os.readlink(cur)
        hops.append({'path': cur, 'target': text})
        nxt = path_rules.join_link(os.path.realpath(os.path.dirname(cur)), text)
        cur = nxt if nxt == '/' else path_rules.join_link(os.path.realpath(os.path.dirname(nxt)), os.path.basename(nxt))
    if not hops:
        return [], path
    resolved = os.path.realpath(cur)
    first = '%s is a symlink to %s' % (path, hops[0]['target'])
    if not os.path.exists(resolved):
        raise ConfigError('files entry %s: %s, which does not exist (a dangling link): nothing to back up there. Fix '
                          'the link, or list what it should point to' % (name, first))
    if resolved == '/':
        raise ConfigError('files entry %s: %s, i.e. to /; backing up / as one path is not supported: list the '
                          'directories you need' % (name, first))
    for hop in hops:
        hop['resolved'] = resolved
    return hops, resolved


def source_paths(name, paths):
    """What an entry archives: its paths, each symlink among them with what it points to. -> (paths, links)

    A listed path that is a symlink (``/opt/app -> /srv/app-1.2``) stands for the directory or file it names:
    the archive holds the link (and any link on the way) and the resolved directory, and the record lists
    both, so a restore brings back the link and the data.
    """
    listed = [files_logic.normalize_paths([p])[0] for p in paths]
    missing = [p for p in listed if not os.path.lexists(p)]
    if missing:
        raise ConfigError('files entry %s: %s does not exist on this host' % (name, ', '.join(missing)),
                          missing=missing)
    archived = []
    links = []
    for p in listed:
        hops, resolved = follow_links(name, p)
        links.extend(hop for hop in hops if hop['path'] not in [link['path'] for link in links])
        archived.extend([hop['path'] for hop in hops] + [resolved])
    archived = files_logic.normalize_paths(archived)
    # what goes into the record is checked as every restore will check it
    why = path_rules.paths_problem(archived) or path_rules.links_problem(links, archived)
    if why:
        raise ConfigError('files entry %s cannot be recorded: %s' % (name, why))
    return archived, links


def backup(store, set_id, host, name, paths, exclude=None, compression='zstd', level=None, threads=0,
           encryption='none', one_file_system=False, check_mode=False):
    set_format.validate_name(name, 'files entry name')
    if not paths:
        raise ConfigError('files entry %s has no paths' % name)
    paths, links = source_paths(name, paths)
    unreadable = [p for p in paths if not os.access(p, os.R_OK)]
    if unreadable:
        raise LifeboatError('files entry %s: %s is not readable by this user' % (name, ', '.join(unreadable)))
    tar = pipeline.need_tool('tar', 'files_backup')
    feats = tar_features(tar)
    pipeline.compressor_argv(compression, level, threads)  # validates compression and level before anything starts
    if check_mode:
        msg = 'would archive %s into set %s as %s/%s' % (', '.join(paths), set_id, files_logic.COMPONENT, name)
        return {'changed': True, 'records': [], 'paths': paths, 'links': links, 'msg': msg + _links_note(links)}
    argv = files_logic.tar_create_argv(tar, paths, exclude, feats, one_file_system)
    env = dict(os.environ, LC_ALL='C')

    def check(res):
        return files_logic.judge_tar_create(res.rc, res.stderr)

    record = artifacts.write_artifact(
        store, set_id, host, files_logic.COMPONENT, name, 'files', 'tar', '.tar', source='files:' + ','.join(paths),
        check_source=check, source_argv=argv, source_name='tar', compression=compression, level=level,
        threads=threads, encryption=encryption, tools={'tar': feats['version']},
        extra={'paths': paths, 'links': links, 'exclude': list(exclude or []), 'xattrs': feats['xattrs'],
               'acls': feats['acls']},
        env=env)
    ex = record['extra']
    summary = {'host': host, 'component': files_logic.COMPONENT, 'name': name, 'size': record['size'],
               'uncompressed_size': ex.get('uncompressed_size'), 'seconds': ex['seconds']}
    return {'changed': True, 'records': [record], 'record': record, 'summary': [summary], 'paths': paths, 'links': links,
            'size': record['size'], 'sha256': record['sha256'], 'changed_files': ex.get('changed_files', []),
            'tar_warnings': ex.get('warnings', [])}


def _links_note(links):
    if not links:
        return ''
    return ' (%s)' % '; '.join('%s is a symlink to %s: the link and %s are archived' % (link['path'], link['target'], link['resolved'])
                               for link in links)
