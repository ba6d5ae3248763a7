# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore drills, the comparison (backup_drill, docs/verify.md).

The drill playbook restores a set into scratch with the modules real restores use (files_restore under a scratch
directory, postgresql_restore into a scratch server), then this proves what came back:

files      -- the archive is listed again from the store (through the pipeline, checksum checked) and every member
              must be in the scratch tree with its type, size and mode (set-id bits aside: restores under a
              directory drop them), symlinks with their targets; an increment's whole chain is compared: every
              level is listed, newest first, and each name is compared once, where it was last archived, when the
              last level's dumpdirs say it is still in the tree;
postgresql -- every table of each restored database is counted exactly, in one REPEATABLE READ transaction, and
              the counts must equal the counts the backup recorded in the dump's own snapshot (``row_counts``);
              without recorded counts (option off, older sets) the tables present are compared with the record.

The result, one document per drill, goes into the checks area beside the set (results.py, written by verify.record_result).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import stat
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import logic as checks_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import verify
from ansible_collections.lifeboat.backup.plugins.module_utils._files import apply as chain_apply
from ansible_collections.lifeboat.backup.plugins.module_utils._files import chain
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tarsafe import IncrementalChecker
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption

FILES = 'files'
POSTGRESQL = 'postgresql'
DATABASE_FORMATS = ('pg_dump-custom', 'pg_dump-directory-tar')


# ---------------------------------------------------------------- files

def _stat_under(root):
    def stat_member(name):
        path = os.path.join(root, os.fsdecode(name).lstrip('/'))
        try:
            st = os.lstat(path)
        except OSError:
            return None, None
        target = os.fsencode(os.readlink(path)) if stat.S_ISLNK(st.st_mode) else None
        return st, target
    return stat_member


class _ChainFilter(object):
    """Feeds the comparer each member of a chain's levels (read newest first) once, where it was last archived,
    and only when the last level's dumpdirs (every directory of the final tree with its entries) still list it."""

    def __init__(self, comparer, roots, dumpdirs):
        self.comparer = comparer
        self.roots = set(roots)
        self.dumpdirs = dumpdirs
        self.seen = set()
        self.deleted_later = 0

    def feed(self, line):
        try:
            member = checks_logic.parse_member(line)
        except (ValueError, IndexError):
            member = {'name': None}
        if member is None:
            return
        name = (member['name'] or b'').strip(b'/')
        if member['name'] is not None:
            if name in self.seen:
                return
            self.seen.add(name)
            parent, _sep, base = name.rpartition(b'/')
            if name not in self.roots and base not in self.dumpdirs.get(parent, {}):
                self.deleted_later += 1
                return
        self.comparer.feed(line)


def _final_dumpdirs(store, record, tar, decryption=None):
    """The dumpdirs of the last level of a chain, from its listing with --incremental (checked as a restore
    checks it): ({directory: {name: flag}}, [problems])."""
    checker = IncrementalChecker(record['extra']['paths'])
    res = artifacts.read_artifact(store, record, files_logic.tar_list_incremental_argv(tar), sink_name='tar',
                                  env=verify.ENV, on_sink_line=checker.feed, decryption=decryption)
    checker.finish()
    checker.check_stderr(res['sink'].stderr)
    problems = list(checker.problems)
    if res['sink'].failed():
        problems.append('tar cannot list the archive: %s' % res['sink'].describe())
    return chain_apply.dumpdirs_of(checker)[0], problems


def _read_levels(store, record, tar, comparer, decryption=None):
    """List a full archive, or every level of an increment's chain, into the comparer. Returns (problems, facts)."""
    argv = [tar, '-tvv', '--quoting-style=c', '-f', '-']
    if not (incremental.facts_of(record) or {}).get('level'):
        res = artifacts.read_artifact(store, record, argv, sink_name='tar', env=verify.ENV, on_sink_line=comparer.feed,
                                      decryption=decryption)
        return (['tar cannot list the archive: %s' % res['sink'].describe()] if res['sink'].failed() else []), {}
    levels = [level for level, _snapshot in chain.resolve(store, record)]
    dumpdirs, problems = _final_dumpdirs(store, record, tar, decryption)
    if problems:
        return problems, {}
    roots = [path.strip('/').encode('utf-8', 'surrogateescape') for path in record['extra']['paths']]
    feeder = _ChainFilter(comparer, roots, dumpdirs)
    for level in reversed(levels):
        res = artifacts.read_artifact(store, level, argv, sink_name='tar', env=verify.ENV, on_sink_line=feeder.feed,
                                      decryption=decryption)
        if res['sink'].failed():
            problems.append('tar cannot list %s: %s' % (level['key'], res['sink'].describe()))
    return problems, {'chain': [level['set_id'] for level in levels], 'deleted_later': feeder.deleted_later}


def compare_files(store, record, restored_root, decryption=None):
    """One files artifact (or an increment's whole chain) against the tree restored from it under ``restored_root``."""
    item = {'component': FILES, 'host': record['host'], 'name': record['name'], 'key': record['key'],
            'restored_under': restored_root}
    if not os.path.isdir(restored_root):
        item.update({'passed': False, 'problems': ['nothing was restored under %s' % restored_root]})
        return item
    umask = os.umask(0)
    os.umask(umask)
    comparer = checks_logic.TreeComparer(_stat_under(restored_root), setid_dropped=True,
                                         umask=0 if os.geteuid() == 0 else umask)
    tar = pipeline.need_tool('tar', 'listing the archive for the drill')
    t0 = time.time()
    try:
        read_problems, facts = _read_levels(store, record, tar, comparer, decryption)
    except LifeboatError as e:
        item.update({'passed': False, 'problems': [e.msg], 'seconds': round(time.time() - t0, 3)})
        return item
    item.update(facts)
    problems = list(comparer.problems) + read_problems
    if comparer.mismatched > len(comparer.problems):
        problems.append('and %d more mismatches' % (comparer.mismatched - len(comparer.problems)))
    item.update(comparer.summary())
    item.update({'passed': not problems and comparer.members > 0, 'problems': problems or
                 ([] if comparer.members else ['the archive lists no member']), 'seconds': round(time.time() - t0, 3)})
    return item


# ---------------------------------------------------------------- postgresql

def compare_database(params, record, target_name=None):
    """One database dump against the database restored from it on the scratch server."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
    extra = record.get('extra') or {}
    dbname = target_name or extra.get('database')
    item = {'component': POSTGRESQL, 'host': record['host'], 'name': record['name'], 'key': record['key'], 'database': dbname}
    t0 = time.time()
    try:
        with pg_client.connect(params, dbname) as client:
            pg_client.begin_snapshot(client)  # one consistent view (the scratch server is idle anyway)
            try:
                actual = pg_client.exact_row_counts(client)
            finally:
                pg_client.end_snapshot(client)
    except LifeboatError as e:
        item.update({'passed': False, 'problems': [e.msg], 'seconds': round(time.time() - t0, 3)})
        return item
    expected = extra.get('row_counts')
    if isinstance(expected, dict):
        problems, compared = checks_logic.compare_tables(expected, actual)
        item.update({'compared': 'row_counts', 'tables': compared, 'rows': sum(expected.values())})
    else:
        recorded = extra.get('tables') or {}
        problems = ['table %s is missing' % table for table in sorted(recorded) if table not in actual]
        item.update({'compared': 'tables', 'tables': len(recorded), 'rows': sum(actual.values()),
                     'note': 'the backup recorded no row counts (postgresql_backup row_counts off, or an older set): only '
                             'the tables present were compared'})
    item.update({'passed': not problems, 'problems': problems, 'seconds': round(time.time() - t0, 3),
                 'restored_tables': len(actual)})
    return item


# ---------------------------------------------------------------- a drill

def select(manifest, hosts=None, components=(FILES, POSTGRESQL)):
    """The records a drill compares: files archives and database dumps of ``hosts`` (default: every host)."""
    chosen = []
    for record in manifest.get('artifacts', []):
        if hosts and record['host'] not in hosts:
            continue
        wanted = {FILES: ('tar',), POSTGRESQL: DATABASE_FORMATS}.get(record['component'], ())
        if record['component'] in components and record.get('format') in wanted:
            chosen.append(record)
    return chosen


def run(store, set_id=None, pin=None, hosts=None, components=(FILES, POSTGRESQL), files_dest=None, postgresql=None,
        facts=None, record=True, check_mode=False, now=None, failure=None, reporter=None, decryption=None):
    """Compare what a drill restored with the set. Returns the result (``passed``, ``items``, ``problems``).

    ``failure``: a step of the drill failed before anything could be compared (the restore refused the set,
    the scratch server would not start): the drill is recorded as failed with that reason, nothing compared.
    ``decryption``: the identity that lists encrypted files archives again (checked up front against their recipients).
    """
    started = now or set_format.utcnow()
    manifest, digest = lifecycle.resolve_completed(store, set_id, pin)
    set_id = manifest['set_id']
    if failure:
        return _record(store, set_id, digest, [], ['the drill could not restore the set: %s' % failure],
                       dict(facts or {}), [], started, record and not check_mode)
    chosen = select(manifest, hosts, components)
    if not chosen:
        raise ConfigError('set %s has nothing to drill for hosts %s and components %s (files archives and database dumps)'
                          % (set_id, ', '.join(hosts or ['(all)']), ', '.join(components)))
    if any(r['component'] == FILES for r in chosen) and not (files_dest and os.path.isabs(files_dest)):
        raise ConfigError('files_dest must be the absolute directory the files were restored under')
    if any(r['component'] == POSTGRESQL for r in chosen) and not postgresql:
        raise ConfigError('postgresql must give the connection to the scratch server the databases were restored into')
    encryption.check_identity([r for r in chosen if r['component'] == FILES], decryption)
    t0 = time.time()
    items = []
    if not check_mode:
        for rec in chosen:
            if rec['component'] == FILES:
                # each archive read (a chain's every level) is a phase of the module's reporter (artifacts.read_artifact)
                items.append(compare_files(store, rec, os.path.join(files_dest, rec['host']), decryption))
            else:
                if reporter is not None:  # the scratch server is queried: elapsed time only
                    reporter.phase('%s %s/%s' % (rec['host'], rec['component'], rec['name']), total=0)
                items.append(compare_database(postgresql, rec))
    problems = ['%s %s/%s: %s' % (item['host'], item['component'], item['name'], problem)
                for item in items for problem in item['problems']]
    totals = {
        'seconds': round(time.time() - t0, 3),
        'files_members': sum(item.get('members', 0) for item in items if item['component'] == FILES),
        'files_bytes': sum(item.get('bytes', 0) for item in items if item['component'] == FILES),
        'databases': sum(1 for item in items if item['component'] == POSTGRESQL),
        'tables': sum(item.get('tables', 0) for item in items if item['component'] == POSTGRESQL),
        'rows': sum(item.get('rows', 0) for item in items if item['component'] == POSTGRESQL),
        'mismatches': len(problems),
    }
    totals.update(facts or {})
    planned = [{'host': r['host'], 'component': r['component'], 'name': r['name']} for r in chosen]
    if check_mode:
        return {'changed': False, 'set_id': set_id, 'manifest_sha256': digest, 'passed': None, 'items': [], 'problems': [],
                'totals': totals, 'planned': planned}
    return _record(store, set_id, digest, items, problems, totals, planned, started, record)


def _record(store, set_id, digest, items, problems, totals, planned, started, record):
    result = {'changed': False, 'set_id': set_id, 'manifest_sha256': digest, 'passed': not problems, 'items': items,
              'problems': problems, 'totals': totals, 'planned': planned}
    if record:
        outcome = {'passed': result['passed'], 'items': items, 'problems': problems, 'manifest_sha256': digest,
                   'totals': totals}
        runner = {'host': socket.gethostname(), 'pid': os.getpid()}
        try:
            result['recorded'] = verify.record_result(store, set_id, 'drill', outcome, started, set_format.utcnow(), runner)
            result['changed'] = True
        except LifeboatError as e:
            result['record_error'] = e.msg
    return result
