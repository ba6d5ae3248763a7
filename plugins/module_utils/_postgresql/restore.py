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
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql.backup import rewrap

DISCARD = ['sh', '-c', 'cat >/dev/null']


def _to_file(path):
    return ['sh', '-c', 'cat >"$1"', 'sh', path]


class Restore(object):
    def __init__(self, params, check_mode, runner=None):
        self.params = params
        self.check_mode = check_mode
        self.runner = runner or command_runner.Runner(check_mode=check_mode)
        self.user = pg_client.run_as(params, self.runner)
        self.env = pg_client.tools_env(params, self.user)
        self.warnings = []
        self.token = uuid.uuid4().hex[:10]
        self.tmp = None
        self.info = None
        self.pg_restore = None
        self.pg_restore_num = None
        self.psql = None
        self.decryption = None

    def _workdir(self, parent, prefix='lifeboat-pgrestore-'):
        """A private temp directory; owned by os_user when set, since its tools write and read there."""
        path = tempfile.mkdtemp(prefix=prefix, dir=parent)
        if self.user is not None:
            self.user.give(path)
        return path

    # ------------------------------------------------------------ plan
    def run(self):
        params = self.params
        with open_store(params['store']) as store:
            manifest, digest = lifecycle.resolve_completed(store, params['set_id'], params['manifest_sha256'])
            targets, globals_rec = self._select(manifest)
            # an encrypted set needs an identity that is one of its recipients: checked before the server is touched
            self.decryption = encryption.for_restore(params.get('decryption'), self.runner)
            encryption.check_identity([rec for rec, _target in targets] + ([globals_rec] if globals_rec else []),
                                      self.decryption)
            result = {'changed': False, 'set_id': manifest['set_id'], 'manifest_sha256': digest,
                      'commands': self.runner.commands}
            with pg_client.connect(params, params['maintenance_db']) as conn:
                self.info = pg_client.server_info(conn)
                result['server_version'] = self.info['version']
                result['in_recovery'] = self.info['in_recovery']
                if self.info['in_recovery'] and params['standby'] == 'skip':
                    result.update({'databases': [], 'would_drop': [], 'globals': {'restore': False}, 'summary': [],
                                   'skipped_standby': True})
                    return result
                if self.info['in_recovery']:
                    raise LifeboatError('the target server %s is in recovery (a standby, read-only): restore into '
                                        'the primary' % pg_logic.describe_server(params))
                plan = self.plan(conn, targets, globals_rec)
                result['databases'] = _public(plan)
                result['would_drop'] = [entry['target'] for entry in plan if entry['action'] == 'replace' and entry['exists']]
                result['globals'] = {'restore': globals_rec is not None}
                if self.check_mode:
                    self._record_would_run(plan, globals_rec)
                    result['changed'] = bool(plan) or globals_rec is not None
                    return result
                self.tmp = self._workdir(params['tmp_dir'])
                try:
                    self.execute(store, conn, plan, globals_rec, result)
                finally:
                    shutil.rmtree(self.tmp, ignore_errors=True)
                result['databases'] = _public(plan)
                result['summary'] = self._summary(plan, globals_rec, result)
                result['changed'] = True
                return result

    def _select(self, manifest):
        """(restore targets [(record, target name)], the globals record or None) of this host in the set."""
        params = self.params
        records = [rec for rec in manifest.get('artifacts', [])
                   if rec['host'] == params['host'] and rec['component'] == pg_logic.COMPONENT]
        if not records:
            hosts = sorted({rec['host'] for rec in manifest.get('artifacts', []) if rec['component'] == pg_logic.COMPONENT})
            raise LifeboatError('set %s has no PostgreSQL artifacts for host %s (hosts with some: %s)'
                                % (manifest['set_id'], params['host'], ', '.join(hosts) or 'none'))
        db_records = [rec for rec in records if rec.get('artifact_kind') == 'database']
        globals_records = [rec for rec in records if rec.get('artifact_kind') == 'globals']
        targets = pg_logic.restore_targets(db_records, params['databases'], params['rename'], params['target_database'])
        if params['globals'] and not globals_records:
            self.warnings.append('set %s has no PostgreSQL globals for host %s; roles are not restored'
                                 % (manifest['set_id'], params['host']))
        return targets, (globals_records[0] if (params['globals'] and globals_records) else None)

    def _summary(self, plan, globals_rec, result):
        summary = [{'artifact': '%s/%s' % (pg_logic.COMPONENT, entry['artifact']), 'size': entry['artifact_size'],
                    'seconds': entry.get('seconds', 0), 'restored': [entry['target']]} for entry in plan]
        if globals_rec is not None:
            summary.insert(0, {'artifact': '%s/%s' % (pg_logic.COMPONENT, pg_logic.GLOBALS_NAME),
                               'size': globals_rec['size'], 'seconds': result['globals'].get('seconds', 0),
                               'restored': ['roles, tablespaces']})
        return summary

    def plan(self, conn, targets, globals_rec):
        problems = self._plan_tools(targets, globals_rec)
        existing = {db['name']: db for db in pg_client.list_databases(conn)}
        plan = []
        for rec, target in targets:
            entry, entry_problems = self._plan_entry(rec, target, existing)
            problems += entry_problems
            plan.append(entry)
        if problems:
            raise LifeboatError('nothing was restored: ' + '; '.join(problems), problems=problems)
        return plan

    def _plan_tools(self, targets, globals_rec):
        """Find pg_restore / psql for this server; problems with their versions and the options."""
        params = self.params
        problems = []
        if targets:
            self.pg_restore, self.pg_restore_num, _text = pg_client.find_tool('pg_restore', params['bin_dir'],
                                                                              self.info['version_num'], self.runner)
        if globals_rec is not None:
            self.psql, psql_num, _text = pg_client.find_tool('psql', params['bin_dir'], self.info['version_num'],
                                                             self.runner)
            globals_extra = globals_rec.get('extra') or {}
            problems += pg_logic.check_restore_versions(None, psql_num, None, self.info['version_num'],
                                                        globals_extra.get('server_version_num'), restore_tool='psql',
                                                        what='the globals (roles, tablespaces)')
        if params['jobs'] < 1:
            problems.append('jobs must be at least 1')
        if params['single_transaction'] and params['jobs'] > 1:
            problems.append('single_transaction cannot be combined with jobs > 1 (pg_restore refuses it)')
        return problems

    def _plan_entry(self, rec, target, existing):
        """What to do for one database artifact: create, replace, clean or refuse; and its problems."""
        params = self.params
        extra = rec.get('extra') or {}
        source = extra.get('database')
        problems = pg_logic.check_restore_versions(source, self.pg_restore_num, extra.get('pg_dump_version_num'),
                                                   self.info['version_num'], extra.get('server_version_num'))
        entry = {'database': source, 'target': target, 'artifact': rec['name'], 'artifact_size': rec['size'],
                 'database_size': extra.get('database_size'), 'format': rec['format'], 'record': rec,
                 'exists': target in existing, 'contents': None}
        if rec['format'] not in (pg_logic.FORMAT_CUSTOM, pg_logic.FORMAT_DIRECTORY):
            problems.append('artifact %s has format %r, which this version cannot restore' % (rec['key'], rec['format']))
        quoted = pg_logic.quote_ident(target)
        if entry['exists']:
            found = existing[target]
            entry['target_size'] = found['size']
            if found['template']:
                problems.append('target database %s is a template; refusing to replace it' % quoted)
            elif not found['allow_connections']:
                problems.append('target database %s does not accept connections; refusing to replace it' % quoted)
            else:
                with pg_client.connect(params, target) as target_conn:
                    entry['contents'] = pg_logic.nonempty_reason(pg_client.content_counts(target_conn))
        if not entry['exists']:
            entry['action'] = 'create'
        elif entry['contents'] and not params['force']:
            entry['action'] = 'refuse'
            problems.append('database %s on the target is not empty (%s): set force to replace it'
                            % (quoted, entry['contents']))
        elif entry['contents'] and params['force_method'] == 'clean':
            entry['action'] = 'clean'
        else:
            entry['action'] = 'replace'
        return entry, problems

    def _record_would_run(self, plan, globals_rec):
        """Check mode: the commands a restore would start (streamed pg_restore, or staged copy + pg_restore -j)."""
        params = self.params
        if globals_rec is not None:
            self.runner.record_pipeline(pipeline.restore_stages(_to_file('TMPDIR/globals.sql'), 'globals',
                                                                globals_rec['compression'], self._planned(globals_rec)))
            self.runner.run(pg_client.as_user(self.user, pg_logic.psql_file_argv(
                self.psql, pg_logic.conninfo(params, params['maintenance_db']), 'TMPDIR/globals.apply.sql')))
        for index, entry in enumerate(plan):
            rec = entry['record']
            clean = entry['action'] == 'clean'
            dbname = entry['target'] if clean else pg_logic.staging_name('%s_%d' % (self.token, index))
            (sink_name, sink_argv), restore_argv = self._restore_argvs(rec, pg_logic.conninfo(params, dbname), clean,
                                                                       'TMPDIR')
            self.runner.record_pipeline(pipeline.restore_stages(sink_argv, sink_name, rec['compression'],
                                                                self._planned(rec)))
            if restore_argv is not None:
                self.runner.run(restore_argv)

    # ------------------------------------------------------------ execute
    def execute(self, store, conn, plan, globals_rec, result):
        """Verify first where a change comes before the last check; globals; staged and in-place restores; swaps."""
        params = self.params
        names = {entry['target'] for entry in plan}
        ddl_db = params['maintenance_db'] if params['maintenance_db'] not in names else 'template1'
        ddl = conn if ddl_db == params['maintenance_db'] else pg_client.connect(params, ddl_db)
        try:
            globals_path = self._fetch_globals(store, globals_rec)
            self._verify_first(store, plan, bool(globals_path))
            if globals_path:
                started = time.time()
                result['globals'].update(self.apply_globals(ddl, globals_path))
                result['globals']['seconds'] = round(time.time() - started, 3)
            staged = self._restore_staged(store, ddl, plan)
            self._swap_all(ddl, staged)
            for entry in plan:
                for warning in entry.get('warnings') or []:
                    self.warnings.append('database %s: %s' % (pg_logic.quote_ident(entry['target']), warning))
        finally:
            if ddl is not conn:
                ddl.close()

    def _fetch_globals(self, store, globals_rec):
        """1. the globals, fetched (and checked) into a temp file before anything changes; its path or None."""
        if globals_rec is None:
            return None
        path = os.path.join(self.tmp, 'globals.sql')
        self.read(store, globals_rec, pg_client.as_user(self.user, _to_file(path)), 'globals')
        return path

    def _verify_first(self, store, plan, globals_first):
        """2. the artifacts checked end to end before the first change, when that change comes earlier than their
        own restore (globals, or an in-place clean restore); with verify_first false only the in-place ones."""
        in_place = [entry for entry in plan if entry['action'] == 'clean']
        if not self.params['verify_first']:
            todo = in_place
        else:
            todo = plan if (globals_first or in_place) else []
        for entry in todo:
            self.read(store, entry['record'], DISCARD, 'database %s' % pg_logic.quote_ident(entry['database']))
            entry['verified_first'] = True

    def _restore_staged(self, store, ddl, plan):
        """3. every create/replace into its own staging database, then the in-place (clean) ones. On any failure the
        staging databases are dropped. Returns [(entry, staging name)]."""
        roles = set(pg_client.role_names(ddl))
        spaces = set(pg_client.tablespace_names(ddl))
        staged = []
        try:
            for index, entry in enumerate(item for item in plan if item['action'] in ('create', 'replace')):
                started = time.time()
                stage = pg_logic.staging_name('%s_%d' % (self.token, index))
                props = self._create_stage(ddl, entry, stage, roles, spaces)
                staged.append((entry, stage))
                self.restore_one(store, entry, stage, clean=False)
                statements, skipped = pg_logic.database_properties_sql(stage, props, roles)
                for statement in statements:
                    ddl.execute(statement)
                entry['warnings'] += ['not restored: %s' % statement for statement in skipped]
                entry['seconds'] = round(time.time() - started, 3)
            for entry in plan:
                if entry['action'] == 'clean':
                    started = time.time()
                    entry['warnings'] = []
                    self.restore_one(store, entry, entry['target'], clean=True)
                    entry['seconds'] = round(time.time() - started, 3)
        except BaseException:
            for _entry, stage in staged:
                try:
                    pg_client.drop_database(ddl, stage, self.info['version_num'])
                except Exception:  # pylint: disable=broad-except
                    self.warnings.append('could not drop the staging database %s' % pg_logic.quote_ident(stage))
            raise
        return staged

    def _create_stage(self, ddl, entry, stage, roles, spaces):
        """CREATE DATABASE for a staging copy with the recorded properties this server can give it."""
        entry['warnings'] = []
        props = (entry['record'].get('extra') or {}).get('properties') or {}
        owner = props.get('owner') if props.get('owner') in roles else None
        if props.get('owner') and owner is None:
            entry['warnings'].append('owner role %s does not exist on the target: the database belongs to %s'
                                     % (pg_logic.quote_ident(props['owner']), pg_logic.quote_ident(self.info['user'])))
        space = props.get('tablespace')
        if space in (None, 'pg_default') or space not in spaces:
            if space not in (None, 'pg_default'):
                entry['warnings'].append('tablespace %s does not exist on the target: using the default'
                                         % pg_logic.quote_ident(space))
            space = None
        try:
            ddl.execute(pg_logic.database_create_sql(stage, props, owner, space))
        except LifeboatError as err:
            raise type(err)('cannot create the database for %s: %s' % (pg_logic.quote_ident(entry['target']), err.msg))
        return props

    def _swap_all(self, ddl, staged):
        """4. each staging database renamed into place; on a failure the rest are dropped."""
        for index, (entry, stage) in enumerate(staged):
            try:
                self.swap(ddl, stage, entry)
            except LifeboatError as err:
                for _entry, later in staged[index:]:
                    try:
                        pg_client.drop_database(ddl, later, self.info['version_num'])
                    except LifeboatError:
                        pass  # the failure below is the one to report; a leftover staging db is named in it
                done = [item['target'] for item, _stage in staged[:index]]
                raise type(err)('database %s was restored but could not be put in place: %s%s'
                                % (pg_logic.quote_ident(entry['target']), err.msg,
                                   ' (already in place: %s)' % ', '.join(done) if done else ''))

    def _planned(self, rec):
        """The decryption stage of ``rec`` as a command list shows it (no pipe opened), or None when it is plain."""
        return self.decryption.planned_stage() if encryption_logic.is_encrypted(rec) and self.decryption else None

    def read(self, store, rec, sink, what):
        try:
            return artifacts.read_artifact(store, rec, sink, sink_name='verify', decryption=self.decryption)
        except LifeboatError as err:
            raise rewrap(err, what)

    def apply_globals(self, ddl, globals_path):
        with open(globals_path, 'rb') as source:
            sql = source.read().decode('utf-8')
        roles = pg_client.role_names(ddl)
        spaces = pg_client.tablespace_names(ddl)
        text, notes = pg_logic.rewrite_globals(sql, roles, spaces, self.info['user'])
        path = os.path.join(self.tmp, 'globals.apply.sql')
        with open(path, 'wb') as target:
            target.write(text.encode('utf-8'))
        if self.user is not None:
            self.user.give(path)
        os.unlink(globals_path)
        argv = pg_client.as_user(self.user, pg_logic.psql_file_argv(
            self.psql, pg_logic.conninfo(self.params, self.params['maintenance_db']), path))
        rc, err = pg_client.run_tool(self.runner, argv, self.env)
        verdict = pg_logic.judge_tool('psql', rc, err)
        if not verdict['ok']:
            raise LifeboatError('restoring globals (roles, tablespaces) failed: %s' % verdict['error'])
        return {'restored': True, 'notes': notes, 'warnings': verdict['warnings']}

    def _staged(self, rec):
        """Whether an artifact is copied to a work directory before pg_restore reads it (directory format, or
        a parallel restore, which needs a file); otherwise pg_restore reads the verified stream."""
        return rec['format'] == pg_logic.FORMAT_DIRECTORY or self.params['jobs'] > 1

    def _restore_argvs(self, rec, conninfo, clean, work):
        """((sink name, sink argv), pg_restore argv or None): what restores one artifact. Streamed, the sink is
        pg_restore itself; staged, the sink writes into ``work`` and pg_restore runs afterwards."""
        params = self.params
        directory = rec['format'] == pg_logic.FORMAT_DIRECTORY
        opts = dict(single_transaction=params['single_transaction'], clean=clean, no_owner=params['no_owner'],
                    no_privileges=params['no_privileges'])
        if not self._staged(rec):
            # streamed: store -> sha256 -> zstd -d -> pg_restore (stdin); the hash is compared at the end,
            # before the staging database can be swapped in
            return ('pg_restore', pg_client.as_user(
                self.user, pg_logic.pg_restore_argv(self.pg_restore, conninfo, None, 1, **opts))), None
        if directory:
            fetch = ('tar', pg_client.as_user(self.user, ['tar', '-x', '--no-same-owner', '-f', '-', '-C', work]))
            source = os.path.join(work, pg_logic.DUMP_DIR_NAME)
        else:
            source = os.path.join(work, 'dump.pgdump')
            fetch = ('staging copy', pg_client.as_user(self.user, _to_file(source)))
        return fetch, pg_client.as_user(self.user, pg_logic.pg_restore_argv(
            self.pg_restore, conninfo, source, params['jobs'], dump_format='directory' if directory else 'custom',
            **opts))

    def restore_one(self, store, entry, dbname, clean):
        """pg_restore one artifact into database ``dbname`` (a staging database, or the target with clean)."""
        rec = entry['record']
        what = 'restoring database %s (artifact %s) into %s' % (pg_logic.quote_ident(entry['database']), rec['name'],
                                                                pg_logic.quote_ident(entry['target']))
        work = self._workdir(self.tmp, prefix='db-') if self._staged(rec) else None
        try:
            fetch, restore_argv = self._restore_argvs(rec, pg_logic.conninfo(self.params, dbname), clean, work)
            rc, err = self._run_restore(store, rec, fetch, restore_argv)
        except LifeboatError as failure:
            raise rewrap(failure, '%s failed' % what, database=entry['database'])
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
        verdict = pg_logic.judge_tool('pg_restore', rc, err)
        if not verdict['ok']:
            raise LifeboatError('%s failed: %s' % (what, verdict['error']), database=entry['database'])
        entry.setdefault('warnings', []).extend(verdict['warnings'])

    def _run_restore(self, store, rec, fetch, restore_argv):
        """Stream the artifact into the fetch sink, then run pg_restore when it was staged; (rc, stderr) of pg_restore."""
        sink_name, sink_argv = fetch
        self.runner.record_pipeline(pipeline.restore_stages(sink_argv, sink_name, rec['compression'], self._planned(rec)))
        res = artifacts.read_artifact(store, rec, sink_argv, sink_name=sink_name,
                                      env=self.env if restore_argv is None else None, decryption=self.decryption)
        if restore_argv is None:
            return res['sink'].rc, res['sink'].stderr
        if res['sink'].failed():
            raise LifeboatError('copying the artifact for pg_restore failed: %s' % res['sink'].describe())
        return pg_client.run_tool(self.runner, restore_argv, self.env)

    def swap(self, ddl, stage, entry):
        target = entry['target']
        num = self.info['version_num']
        if not entry['exists']:
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
        entry['replaced'] = True


def _public(plan):
    """The plan as returned: without the records."""
    return [{key: value for key, value in entry.items() if key != 'record'} for entry in plan]
