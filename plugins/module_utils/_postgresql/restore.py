# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL restore: verify, then restore globals and databases (each into a staging database swapped into place)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile
import time
import uuid


from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle

DISCARD = ['sh', '-c', 'cat >/dev/null']


def _to_file(path):
    return ['sh', '-c', 'cat >"$1"', 'sh', path]


class Restore(object):
    def __init__(self, params, check_mode):
        self.p = params
        self.check_mode = check_mode
        self.ra = pg_client.run_as(params)
        self.env = pg_client.tools_env(params, self.ra)
        self.warnings = []
        self.token = uuid.uuid4().hex[:10]
        self.tmp = None

    def _workdir(self, parent, prefix='lifeboat-pgrestore-'):
        """A private temp directory; owned by os_user when set, since its tools write and read there."""
        d = tempfile.mkdtemp(prefix=prefix, dir=parent)
        if self.ra is not None:
            self.ra.give(d)
        return d

    # ------------------------------------------------------------ plan
    def run(self):
        p = self.p
        with open_store(p['store']) as store:
            manifest, digest = lifecycle.resolve_completed(store, p['set_id'], p['manifest_sha256'])
            recs = [r for r in manifest.get('artifacts', [])
                    if r['host'] == p['host'] and r['component'] == pg_logic.COMPONENT]
            if not recs:
                hosts = sorted({r['host'] for r in manifest.get('artifacts', []) if r['component'] == pg_logic.COMPONENT})
                raise LifeboatError('set %s has no PostgreSQL artifacts for host %s (hosts with some: %s)'
                                    % (manifest['set_id'], p['host'], ', '.join(hosts) or 'none'))
            db_recs = [r for r in recs if r.get('artifact_kind') == 'database']
            glob = [r for r in recs if r.get('artifact_kind') == 'globals']
            targets = pg_logic.restore_targets(db_recs, p['databases'], p['rename'], p['target_database'])
            globals_rec = glob[0] if (p['globals'] and glob) else None
            if p['globals'] and not glob:
                self.warnings.append('set %s has no PostgreSQL globals for host %s; roles are not restored'
                                     % (manifest['set_id'], p['host']))
            result = {'changed': False, 'set_id': manifest['set_id'], 'manifest_sha256': digest}
            with pg_client.connect(p, p['maintenance_db']) as c:
                self.info = info = pg_client.server_info(c)
                result['server_version'] = info['version']
                result['in_recovery'] = info['in_recovery']
                if info['in_recovery'] and p['standby'] == 'skip':
                    result.update({'databases': [], 'would_drop': [], 'globals': {'restore': False}, 'summary': [],
                                   'skipped_standby': True})
                    return result
                if info['in_recovery']:
                    raise LifeboatError('the target server %s is in recovery (a standby, read-only): restore into '
                                        'the primary' % pg_logic.describe_server(p))
                plan = self.plan(c, targets, globals_rec)
                result['databases'] = [{k: v for k, v in e.items() if k != 'record'} for e in plan]
                result['would_drop'] = [e['target'] for e in plan if e['action'] == 'replace' and e['exists']]
                result['globals'] = {'restore': globals_rec is not None}
                if self.check_mode:
                    result['changed'] = bool(plan) or globals_rec is not None
                    return result
                self.tmp = self._workdir(p['tmp_dir'])
                try:
                    self.execute(store, c, plan, globals_rec, result)
                finally:
                    shutil.rmtree(self.tmp, ignore_errors=True)
                result['databases'] = [{k: v for k, v in e.items() if k != 'record'} for e in plan]
                result['summary'] = [{'artifact': '%s/%s' % (pg_logic.COMPONENT, e['artifact']), 'size': e['artifact_size'],
                                      'seconds': e.get('seconds', 0), 'restored': [e['target']]} for e in plan]
                if globals_rec is not None:
                    result['summary'].insert(0, {'artifact': '%s/%s' % (pg_logic.COMPONENT, pg_logic.GLOBALS_NAME),
                                                 'size': globals_rec['size'], 'seconds': result['globals'].get('seconds', 0),
                                                 'restored': ['roles, tablespaces']})
                result['changed'] = True
                return result

    def plan(self, c, targets, globals_rec):
        p = self.p
        info = self.info
        problems = []
        if targets:
            self.pg_restore, pr_num, pr_text = pg_client.find_tool('pg_restore', p['bin_dir'], info['version_num'])
        if globals_rec is not None:
            self.psql, ps_num, _ps_text = pg_client.find_tool('psql', p['bin_dir'], info['version_num'])
            gx = globals_rec.get('extra') or {}
            problems += pg_logic.check_restore_versions(None, ps_num, None, info['version_num'], gx.get('server_version_num'),
                                                        restore_tool='psql', what='the globals (roles, tablespaces)')
        if p['jobs'] < 1:
            problems.append('jobs must be at least 1')
        if p['single_transaction'] and p['jobs'] > 1:
            problems.append('single_transaction cannot be combined with jobs > 1 (pg_restore refuses it)')
        existing = {d['name']: d for d in pg_client.list_databases(c)}
        plan = []
        for rec, target in targets:
            x = rec.get('extra') or {}
            src = x.get('database')
            problems += pg_logic.check_restore_versions(src, pr_num, x.get('pg_dump_version_num'), info['version_num'],
                                                        x.get('server_version_num'))
            e = {'database': src, 'target': target, 'artifact': rec['name'], 'artifact_size': rec['size'],
                 'database_size': x.get('database_size'), 'format': rec['format'], 'record': rec,
                 'exists': target in existing, 'contents': None}
            if rec['format'] not in (pg_logic.FORMAT_CUSTOM, pg_logic.FORMAT_DIRECTORY):
                problems.append('artifact %s has format %r, which this version cannot restore'
                                % (rec['key'], rec['format']))
            if e['exists']:
                d = existing[target]
                e['target_size'] = d['size']
                if d['template']:
                    problems.append('target database %s is a template; refusing to replace it' % pg_logic.quote_ident(target))
                elif not d['allow_connections']:
                    problems.append('target database %s does not accept connections; refusing to replace it'
                                    % pg_logic.quote_ident(target))
                else:
                    with pg_client.connect(p, target) as tc:
                        e['contents'] = pg_logic.nonempty_reason(pg_client.content_counts(tc))
            if not e['exists']:
                e['action'] = 'create'
            elif e['contents'] and not p['force']:
                e['action'] = 'refuse'
                problems.append('database %s on the target is not empty (%s): set force to replace it'
                                % (pg_logic.quote_ident(target), e['contents']))
            elif e['contents'] and p['force_method'] == 'clean':
                e['action'] = 'clean'
            else:
                e['action'] = 'replace'
            plan.append(e)
        if problems:
            raise LifeboatError('nothing was restored: ' + '; '.join(problems), problems=problems)
        return plan

    # ------------------------------------------------------------ execute
    def execute(self, store, c, plan, globals_rec, result):
        p = self.p
        names = {e['target'] for e in plan}
        ddl_db = p['maintenance_db'] if p['maintenance_db'] not in names else 'template1'
        ddl = c if ddl_db == p['maintenance_db'] else pg_client.connect(p, ddl_db)
        try:
            # 1. globals: fetched (and checked) into a temp file before anything changes
            gpath = None
            if globals_rec is not None:
                gpath = os.path.join(self.tmp, 'globals.sql')
                self.read(store, globals_rec, pg_client.as_user(self.ra, _to_file(gpath)), 'globals')
            # 2. the other artifacts are checked before the first change, when the first change comes earlier
            in_place = [e for e in plan if e['action'] == 'clean']
            preverify = [e for e in plan if e['action'] == 'clean'] if not p['verify_first'] else (
                plan if (gpath or in_place) else [])
            for e in preverify:
                self.read(store, e['record'], DISCARD, 'database %s' % pg_logic.quote_ident(e['database']))
                e['verified_first'] = True
            # 3. globals
            if gpath:
                t0 = time.time()
                result['globals'].update(self.apply_globals(ddl, gpath))
                result['globals']['seconds'] = round(time.time() - t0, 3)
            roles = set(pg_client.role_names(ddl))
            spaces = set(pg_client.tablespace_names(ddl))
            # 4. staged restores, then in-place ones, then the swaps
            staged = []
            try:
                for i, e in enumerate(x for x in plan if x['action'] in ('create', 'replace')):
                    t0 = time.time()
                    stage = pg_logic.staging_name('%s_%d' % (self.token, i))
                    e['warnings'] = []
                    props = (e['record'].get('extra') or {}).get('properties') or {}
                    owner = props.get('owner') if props.get('owner') in roles else None
                    if props.get('owner') and owner is None:
                        e['warnings'].append('owner role %s does not exist on the target: the database belongs to %s'
                                             % (pg_logic.quote_ident(props['owner']), pg_logic.quote_ident(self.info['user'])))
                    space = props.get('tablespace')
                    if space in (None, 'pg_default') or space not in spaces:
                        if space not in (None, 'pg_default'):
                            e['warnings'].append('tablespace %s does not exist on the target: using the default'
                                                 % pg_logic.quote_ident(space))
                        space = None
                    try:
                        ddl.execute(pg_logic.database_create_sql(stage, props, owner, space))
                    except LifeboatError as err:
                        raise LifeboatError('cannot create the database for %s: %s'
                                            % (pg_logic.quote_ident(e['target']), err.msg))
                    staged.append((e, stage))
                    self.restore_one(store, e, stage, clean=False)
                    stmts, skipped = pg_logic.database_properties_sql(stage, props, roles)
                    for s in stmts:
                        ddl.execute(s)
                    e['warnings'] += ['not restored: %s' % s for s in skipped]
                    e['seconds'] = round(time.time() - t0, 3)
                for e in in_place:
                    t0 = time.time()
                    e['warnings'] = []
                    self.restore_one(store, e, e['target'], clean=True)
                    e['seconds'] = round(time.time() - t0, 3)
            except BaseException:
                for _e, stage in staged:
                    try:
                        pg_client.drop_database(ddl, stage, self.info['version_num'])
                    except Exception:  # pylint: disable=broad-except
                        self.warnings.append('could not drop the staging database %s' % pg_logic.quote_ident(stage))
                raise
            for n, (e, stage) in enumerate(staged):
                try:
                    self.swap(ddl, stage, e)
                except LifeboatError as err:
                    for _e2, stage2 in staged[n:]:
                        try:
                            pg_client.drop_database(ddl, stage2, self.info['version_num'])
                        except LifeboatError:
                            pass
                    done = [x['target'] for x, _s in staged[:n]]
                    raise LifeboatError('database %s was restored but could not be put in place: %s%s'
                                        % (pg_logic.quote_ident(e['target']), err.msg,
                                           ' (already in place: %s)' % ', '.join(done) if done else ''))
            for e in plan:
                for w in e.get('warnings') or []:
                    self.warnings.append('database %s: %s' % (pg_logic.quote_ident(e['target']), w))
        finally:
            if ddl is not c:
                ddl.close()

    def read(self, store, rec, sink, what):
        try:
            return artifacts.read_artifact(store, rec, sink, sink_name='verify')
        except LifeboatError as err:
            raise LifeboatError('%s: %s' % (what, err.msg), **err.details)

    def apply_globals(self, ddl, gpath):
        with open(gpath, 'rb') as f:
            sql = f.read().decode('utf-8')
        roles = pg_client.role_names(ddl)
        spaces = pg_client.tablespace_names(ddl)
        text, notes = pg_logic.rewrite_globals(sql, roles, spaces, self.info['user'])
        path = os.path.join(self.tmp, 'globals.apply.sql')
        with open(path, 'wb') as f:
            f.write(text.encode('utf-8'))
        if self.ra is not None:
            self.ra.give(path)
        os.unlink(gpath)
        argv = pg_client.as_user(self.ra, pg_logic.psql_file_argv(self.psql, pg_logic.conninfo(self.p, self.p['maintenance_db']), path))
        rc, err = pg_client.run_tool(argv, self.env)
        v = pg_logic.judge_tool('psql', rc, err)
        if not v['ok']:
            raise LifeboatError('restoring globals (roles, tablespaces) failed: %s' % v['error'])
        return {'restored': True, 'notes': notes, 'warnings': v['warnings']}

    def restore_one(self, store, e, dbname, clean):
        """pg_restore one artifact into database ``dbname`` (a staging database, or the target with clean)."""
        p = self.p
        rec = e['record']
        what = 'restoring database %s (artifact %s) into %s' % (pg_logic.quote_ident(e['database']), rec['name'],
                                                                pg_logic.quote_ident(e['target']))
        conn = pg_logic.conninfo(p, dbname)
        directory = rec['format'] == pg_logic.FORMAT_DIRECTORY
        opts = dict(single_transaction=p['single_transaction'], clean=clean, no_owner=p['no_owner'],
                    no_privileges=p['no_privileges'])
        try:
            if not directory and p['jobs'] == 1:
                # streamed: store -> sha256 -> zstd -d -> pg_restore (stdin); the hash is compared at the end,
                # before the staging database can be swapped in
                argv = pg_client.as_user(self.ra, pg_logic.pg_restore_argv(self.pg_restore, conn, None, 1, **opts))
                res = artifacts.read_artifact(store, rec, argv, sink_name='pg_restore', env=self.env)
                rc, err = res['sink'].rc, res['sink'].stderr
            else:
                work = self._workdir(self.tmp, prefix='db-')
                try:
                    if directory:
                        sink = ['tar', '-x', '--no-same-owner', '-f', '-', '-C', work]
                        artifacts.read_artifact(store, rec, pg_client.as_user(self.ra, sink), sink_name='tar')
                        src = os.path.join(work, pg_logic.DUMP_DIR_NAME)
                    else:
                        src = os.path.join(work, 'dump.pgdump')
                        artifacts.read_artifact(store, rec, pg_client.as_user(self.ra, _to_file(src)), sink_name='staging copy')
                    argv = pg_client.as_user(self.ra, pg_logic.pg_restore_argv(self.pg_restore, conn, src, p['jobs'],
                                                                               dump_format='directory' if directory else 'custom',
                                                                               **opts))
                    rc, err = pg_client.run_tool(argv, self.env)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        except LifeboatError as err_:
            raise LifeboatError('%s failed: %s' % (what, err_.msg), database=e['database'])
        v = pg_logic.judge_tool('pg_restore', rc, err)
        if not v['ok']:
            raise LifeboatError('%s failed: %s' % (what, v['error']), database=e['database'])
        e.setdefault('warnings', []).extend(v['warnings'])

    def swap(self, ddl, stage, e):
        target = e['target']
        num = self.info['version_num']
        if not e['exists']:
            pg_client.rename_database(ddl, stage, target)
            return
        old = pg_logic.old_name(self.token)
        pg_client.set_allow_connections(ddl, target, False)
        try:
            pg_client.rename_database(ddl, target, old)
        except LifeboatError:
            pg_client.set_allow_connections(ddl, target, True)
            raise
        try:
            pg_client.rename_database(ddl, stage, target)
        except LifeboatError:
            pg_client.rename_database(ddl, old, target)
            pg_client.set_allow_connections(ddl, target, True)
            raise
        pg_client.drop_database(ddl, old, num)
        e['replaced'] = True
