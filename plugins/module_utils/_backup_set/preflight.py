# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of a backup, on every host, before a set is started (module backup_preflight).

Finds what would make the set fail or lie while nothing is written yet, and reports every problem at once:
a host with nothing to back up (naming the variable it probably meant), two entries of the same name, paths
that do not exist, missing tools, a PostgreSQL server that refuses the login or a pg_dump too old for it, a
store that is unreachable or read-only. The component checks are the components' own (files_backup and the
PostgreSQL backup in check mode, Store.check_writable); nothing here takes the store lock.

The pure part (names, duplicates, suggestions) takes plain values; ``run`` calls the components.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption_age
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic

COMPONENT_VARIABLES = ('lifeboat_files', 'lifeboat_postgresql', 'lifeboat_opensearch', 'lifeboat_snapshot')

# Public variables of the roles; a host variable close to a component variable but listed here is not a typo.
KNOWN_VARIABLES = frozenset(COMPONENT_VARIABLES + (
    'lifeboat_store', 'lifeboat_label', 'lifeboat_profile', 'lifeboat_compression', 'lifeboat_compression_level',
    'lifeboat_compression_threads', 'lifeboat_lock_ttl', 'lifeboat_lock_expiry', 'lifeboat_break_lock',
    'lifeboat_allow_missing_hosts', 'lifeboat_allow_empty_hosts', 'lifeboat_efs', 'lifeboat_hosts',
    'lifeboat_snapshot_label', 'lifeboat_set_id', 'lifeboat_manifest_sha256', 'lifeboat_restore_dest',
    'lifeboat_restore_force', 'lifeboat_restore_host_map', 'lifeboat_restore_components', 'lifeboat_restore_files',
    'lifeboat_restore_partial', 'lifeboat_restore_volumes', 'lifeboat_restore_snapshot', 'lifeboat_postgresql_restore',
    'lifeboat_services', 'lifeboat_guard_path', 'lifeboat_opensearch_group', 'lifeboat_opensearch_restore',
    'lifeboat_encryption', 'lifeboat_phase', 'lifeboat_open_set_id', 'lifeboat_expected_hosts', 'lifeboat_secrets',
    'lifeboat_store_credentials_from_controller'))

SUGGEST_CUTOFF = 0.88


# ---------------------------------------------------------------- pure

def suggestions(variables):
    """[(meant, found), ...]: host variables that look like a misspelled component variable."""
    unknown = sorted({v for v in variables or () if isinstance(v, str) and v not in KNOWN_VARIABLES})
    out = []
    for meant in COMPONENT_VARIABLES:
        close = difflib.get_close_matches(meant, unknown, n=1, cutoff=SUGGEST_CUTOFF)
        if close:
            out.append((meant, close[0]))
    return out


def nothing_to_back_up(host, variables):
    """The message for a host of the play that backs up nothing."""
    msg = '%s has nothing to back up: no %s or %s' % (host, ', '.join(COMPONENT_VARIABLES[:-1]), COMPONENT_VARIABLES[-1])
    hints = suggestions(variables)
    if hints:
        msg += ' (%s)' % '; '.join('did you mean %s? it has %s' % pair for pair in hints)
    return msg + '. Give it something to back up, leave it out of the play, or set lifeboat_allow_empty_hosts: true'


def misspelled_warnings(host, variables, present):
    """Warnings for likely typos next to component variables that are set (``present``: the ones in use)."""
    return ['%s has %s, which lifeboat.backup does not know: did you mean %s?' % (host, found, meant)
            for meant, found in suggestions(variables) if meant not in present]


def entry_problems(files):
    """Names of files entries: every name valid and used once per host. Returns (problems, entries to check)."""
    problems = []
    seen = {}
    ok = []
    for i, entry in enumerate(files or (), 1):
        name = entry.get('name')
        try:
            set_format.validate_name(name, 'files entry name')
        except LifeboatError as e:
            problems.append('lifeboat_files entry %d: %s' % (i, e.msg))
            continue
        if name in seen:
            problems.append('lifeboat_files has two entries named %s (entries %d and %d): each would write files/%s, '
                            'and only one can be kept. Give each entry its own name' % (name, seen[name], i, name))
            continue
        seen[name] = i
        ok.append(entry)
    return problems, ok


# ---------------------------------------------------------------- the components' own checks

def _files_problems(host, entries, compression, level, threads, full_every=None):
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
    from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
    problems = []
    for entry in entries:
        try:
            if entry.get('incremental'):
                incremental.check_entry(entry['name'], entry.get('full_every') if entry.get('full_every') is not None else full_every)
            files_backup.backup(None, 'preflight', host, entry['name'], entry.get('paths') or [],
                                exclude=entry.get('exclude') or [],
                                compression=entry.get('compression') or compression,
                                level=entry.get('level') if entry.get('level') is not None else level,
                                threads=threads, one_file_system=bool(entry.get('one_file_system')), check_mode=True)
        except LifeboatError as e:
            problems.append(e.msg)
    return problems


def postgresql_params(pg, host, compression, level, threads):
    """The parameters postgresql_backup would get from the role, defaults included."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
    params = {key: spec.get('default') for key, spec in pg_logic.CONNECTION_SPEC.items()}
    params.update({'databases': [], 'exclude': [], 'format': 'custom', 'jobs': 2, 'globals': True,
                   'lock_wait_timeout': None, 'tmp_dir': None, 'compression': compression, 'level': level,
                   'threads': threads, 'set_id': 'preflight', 'host': host, 'store': None})
    params.update({k: v for k, v in (pg or {}).items() if v is not None and k in params})
    if (pg or {}).get('level') is None:
        params['level'] = level
    return params


def _postgresql_problems(pg, host, compression, level, threads):
    from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql.backup import Backup
    facts = {}
    try:
        params = postgresql_params(pg, host, compression, level, threads)
        if params['jobs'] < 1:
            raise LifeboatError('jobs must be at least 1')
        res = Backup(params, True).run()
        facts = {'server_version': res.get('server_version'), 'in_recovery': res.get('in_recovery'),
                 'pg_dump_version': res.get('pg_dump_version')}
    except LifeboatError as e:
        return ['PostgreSQL: %s' % e.msg], facts
    return [], facts


def _store_problems(store_params, check_mode):
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    try:
        with open_store(store_params) as store:
            if check_mode:
                store.list_children('')      # reachable and listable; check mode writes nothing
            else:
                store.check_writable()       # a probe object, removed again; never the lock
    except LifeboatError as e:
        return ['store: %s' % e.msg]
    return []


def encryption_check(options, advised=None):
    """(problems, warnings) of the encryption settings: recipients that age cannot use (or age missing) are a
    problem before the set starts; no encryption where ``advised`` says why it should be on is a warning."""
    if not encryption_logic.wanted(options):
        if advised:
            return [], ['encryption is off: %s. Set lifeboat_encryption.recipients (public keys only; docs/encryption.md)'
                        % advised]
        return [], []
    try:
        encryption_age.for_backup(options)
    except LifeboatError as e:
        return ['encryption: %s' % e.msg], []
    return [], []


def run(store_params, host, files=None, postgresql=None, snapshot=False, compression='zstd', level=None, threads=0,
        variables=None, allow_empty=False, check_mode=False, opensearch=False, encryption=None, encryption_advised=None,
        full_every=None):
    """Every problem of one host, each prefixed with the host; nothing is written but the store's probe."""
    files = files or []
    has = {'lifeboat_files': bool(files), 'lifeboat_postgresql': bool(postgresql), 'lifeboat_opensearch': bool(opensearch),
           'lifeboat_snapshot': bool(snapshot)}
    result = {'changed': False, 'host': host, 'problems': [], 'empty': False, 'components': [], 'warnings': []}
    if not any(has.values()):
        if allow_empty:
            result['empty'] = True
            result['warnings'].append('%s has nothing to back up (allowed by lifeboat_allow_empty_hosts); the set '
                                      'records it in empty_hosts' % host)
        else:
            result['problems'].append(nothing_to_back_up(host, variables))
        return result
    result['warnings'].extend(misspelled_warnings(host, variables, [k for k, v in has.items() if v]))
    problems, warnings = encryption_check(encryption, encryption_advised)
    result['warnings'].extend('%s: %s' % (host, warning) for warning in warnings)
    dupes, entries = entry_problems(files)
    problems.extend(dupes)
    problems.extend(_files_problems(host, entries, compression, level, threads, full_every))
    result['components'].extend('files/%s' % e['name'] for e in entries)
    if postgresql:
        pg_problems, facts = _postgresql_problems(postgresql, host, compression, level, threads)
        problems.extend(pg_problems)
        result['postgresql'] = facts
        result['components'].append('postgresql')
    if opensearch:
        result['components'].append('opensearch')
    if snapshot:
        result['components'].append('snapshot')
    problems.extend(_store_problems(store_params, check_mode))
    result['problems'] = ['%s: %s' % (host, p) for p in problems]
    return result
