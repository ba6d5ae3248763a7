# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL backup: discover databases, dump each (and the globals) through the shared pipeline into a set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile


from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption


class _ToolFailed(LifeboatError):
    """A client tool failed; its message already says what was being done."""


def rewrap(err, what, **details):
    """``err`` (a LifeboatError) with ``what: `` in front of its message, keeping its type and details."""
    merged = dict(err.details)
    for key, value in details.items():
        merged.setdefault(key, value)
    return type(err)('%s: %s' % (what, err.msg), **merged)


def _judge(tool, what, error=_ToolFailed):
    """check_source for write_artifact: the source tool's verdict (``error`` raised when it failed)."""
    def check(res):
        if res is None:
            return {}
        verdict = pg_logic.judge_tool(tool, res.rc, res.stderr)
        if not verdict['ok']:
            raise error('%s failed: %s' % (what, verdict['error']))
        return {'warnings': verdict['warnings']} if verdict['warnings'] else {}
    return check


class Backup(object):
    def __init__(self, params, check_mode, runner=None):
        self.params = params
        self.check_mode = check_mode
        self.runner = runner or command_runner.Runner(check_mode=check_mode)
        self.user = pg_client.run_as(params, self.runner)
        self.env = pg_client.tools_env(params, self.user)
        self.warnings = []
        self.records = []
        self.summary = []
        self.info = None
        self.tools = {}
        self.encryption = None

    def run(self):
        params = self.params
        self.encryption = encryption.for_backup(params.get('encryption'))   # recipients checked before any connection
        with pg_client.connect(params, params['maintenance_db']) as conn:
            self.info = pg_client.server_info(conn)
            all_dbs = pg_client.list_databases(conn)
            chosen = self._choose(all_dbs)
            self._find_tools()
            result = self._plan(all_dbs, chosen)
            if self.check_mode:
                self._record_would_run(chosen)
                result['changed'] = bool(chosen) or bool(params['globals'])
                return result
            with open_store(params['store']) as store:
                for database in chosen:
                    self.dump_database(store, conn, database)
                if params['globals']:
                    self.dump_globals(store)
            result['changed'] = bool(self.records)
            return result

    def _choose(self, all_dbs):
        """The databases to dump (templates and databases without connections left out, with a warning)."""
        params = self.params
        for name in params['databases']:
            named = [db for db in all_dbs if db['name'] == name]
            if named and (named[0]['template'] or not named[0]['allow_connections']):
                raise LifeboatError('database %s is a template or does not accept connections; it cannot be dumped'
                                    % pg_logic.quote_ident(name))
        candidates = [db for db in all_dbs if not db['template']]
        chosen = pg_logic.select_databases(candidates, params['databases'], params['exclude'])
        for database in list(chosen):
            if not database['allow_connections']:
                chosen.remove(database)
                self.warnings.append('database %s does not accept connections (datallowconn is false): skipped'
                                     % pg_logic.quote_ident(database['name']))
        return chosen

    def _find_tools(self):
        """pg_dump (and pg_dumpall) of a version that can dump this server; tar and the compressor."""
        params = self.params
        server_num = self.info['version_num']
        for tool in ('pg_dump', 'pg_dumpall') if params['globals'] else ('pg_dump',):
            path, num, text = pg_client.find_tool(tool, params['bin_dir'], server_num, self.runner)
            pg_logic.check_dump_tool(tool, num, server_num, path)
            self.tools[tool] = (path, num, text)
        if params['format'] == 'directory':
            pipeline.need_tool('tar', 'directory-format dumps')
        pipeline.compressor_argv(params['compression'], params['level'], params['threads'])

    def _plan(self, all_dbs, chosen):
        chosen_names = {db['name'] for db in chosen}
        databases = []
        for database in all_dbs:
            if database['template']:
                continue
            entry = {'name': database['name'], 'size': database['size'], 'dump': database['name'] in chosen_names}
            if entry['dump']:
                entry['artifact'] = pg_logic.artifact_name(database['name'])
            databases.append(entry)
        return {
            'changed': False, 'records': self.records, 'summary': self.summary, 'databases': databases,
            'server_version': self.info['version'], 'server_version_num': self.info['version_num'],
            'in_recovery': self.info['in_recovery'], 'pg_dump_version': self.tools['pg_dump'][2],
            'commands': self.runner.commands,
        }

    def _record_would_run(self, chosen):
        """Check mode: the commands a real run would start (custom format: one pipeline per database)."""
        params = self.params
        for database in chosen:
            conninfo = pg_logic.conninfo(params, database['name'])
            if params['format'] == 'custom':
                self._record_pipeline('pg_dump', self._dump_argv(conninfo, 'custom'))
            else:
                self.runner.run(self._dump_argv(conninfo, 'directory', os.path.join('TMPDIR', pg_logic.DUMP_DIR_NAME)))
                self._record_pipeline('tar', ['tar', '-C', 'TMPDIR', '-cf', '-', pg_logic.DUMP_DIR_NAME])
        if params['globals']:
            self._record_pipeline('pg_dumpall', self._dumpall_argv())

    def _record_pipeline(self, source_name, source_argv):
        params = self.params
        self.runner.record_pipeline(pipeline.backup_stages(source_argv, source_name, params['compression'],
                                                           params['level'], params['threads'], self.encryption))

    def _dump_argv(self, conninfo, dump_format, out_dir=None, snapshot=None):
        params = self.params
        return pg_client.as_user(self.user, pg_logic.pg_dump_argv(
            self.tools['pg_dump'][0], conninfo, dump_format, jobs=params['jobs'], out_dir=out_dir,
            lock_wait_timeout=params['lock_wait_timeout'], snapshot=snapshot))

    def _dumpall_argv(self):
        params = self.params
        argv = pg_logic.pg_dumpall_globals_argv(self.tools['pg_dumpall'][0],
                                                pg_logic.conninfo(params, params['maintenance_db']))
        if not self.info['superuser']:
            argv.insert(-1, '--no-role-passwords')
        return pg_client.as_user(self.user, argv)

    def _common_extra(self, tool):
        _path, tool_num, tool_text = self.tools[tool]
        return {
            '%s_version' % tool: tool_text,
            '%s_version_num' % tool: tool_num,
            'server_version': self.info['version'],
            'server_version_num': self.info['version_num'],
            'in_recovery': self.info['in_recovery'],
        }

    def dump_database(self, store, conn, database):
        params = self.params
        name = database['name']
        qname = pg_logic.quote_ident(name)
        artifact = pg_logic.artifact_name(name)
        props = pg_client.database_properties(conn, name, self.info['version_num'])
        with pg_client.connect(params, name) as db_conn:
            tables, truncated = pg_client.table_estimates(db_conn)
        extra = self._common_extra('pg_dump')
        extra.update({'database': name, 'database_size': database['size'], 'dump_format': params['format'],
                      'properties': props, 'tables': tables, 'table_count': len(tables)})
        if truncated:
            extra['tables_truncated'] = True
        what = 'dumping database %s' % qname
        common = dict(store=store, set_id=params['set_id'], host=params['host'], component=pg_logic.COMPONENT,
                      name=artifact, kind='database', source=pg_logic.source_uri(params, name),
                      compression=params['compression'], level=params['level'], threads=params['threads'],
                      encryption=self.encryption, tools={'pg_dump': self.tools['pg_dump'][2]}, extra=extra,
                      total=database['size'], estimated=True)  # progress: pg_database_size, an upper bound of the dump
        snap_conn = self._counted_snapshot(name, extra) if params.get('row_counts', True) else None
        snapshot = extra.pop('_snapshot', None)
        try:
            if params['format'] == 'custom':
                record = self._dump_custom(pg_logic.conninfo(params, name), what, common, snapshot)
            else:
                record = self._dump_directory(pg_logic.conninfo(params, name), what, qname, extra, common, snapshot)
        except _ToolFailed:
            raise
        except LifeboatError as err:
            raise rewrap(err, what, database=name)
        finally:
            if snap_conn is not None:
                try:
                    pg_client.end_snapshot(snap_conn)
                finally:
                    snap_conn.close()
        for warning in (record.get('extra') or {}).get('warnings') or []:
            self.warnings.append('pg_dump %s: %s' % (qname, warning))
        self.records.append(record)
        self.summary.append({'host': params['host'], 'component': pg_logic.COMPONENT, 'name': artifact, 'database': name,
                             'size': record['size'], 'uncompressed_size': None, 'database_size': database['size'],
                             'seconds': record['extra']['seconds']})

    def _counted_snapshot(self, name, extra):
        """Row counts of every table, taken in the snapshot pg_dump will dump (an open REPEATABLE READ transaction
        that exported it; the caller ends it after the dump). Returns the connection holding it, or None when the
        server cannot export a snapshot (then the dump goes on without counts, with a warning)."""
        conn = pg_client.connect(self.params, name)
        try:
            extra['_snapshot'] = pg_client.begin_snapshot(conn)
            extra['row_counts'] = pg_client.exact_row_counts(conn)
            extra['row_counts_snapshot'] = True
        except LifeboatError as err:
            conn.close()
            extra.pop('_snapshot', None)
            extra.pop('row_counts', None)
            self.warnings.append('database %s: rows not counted (%s); a restore drill will compare its tables only'
                                 % (pg_logic.quote_ident(name), err.msg))
            return None
        return conn

    def _dump_custom(self, conninfo, what, common, snapshot=None):
        argv = self._dump_argv(conninfo, 'custom', snapshot=snapshot)
        self._record_pipeline('pg_dump', argv)
        return artifacts.write_artifact(
            fmt_name=pg_logic.FORMAT_CUSTOM, fmt_ext=pg_logic.EXTENSIONS[pg_logic.FORMAT_CUSTOM],
            check_source=_judge('pg_dump', what), source_name='pg_dump', source_argv=argv, env=self.env, **common)

    def _dump_directory(self, conninfo, what, qname, extra, common, snapshot=None):
        """pg_dump -Fd -j into a temp directory (as os_user), then tar of it streamed into the set."""
        params = self.params
        extra['jobs'] = params['jobs']
        tmp = tempfile.mkdtemp(prefix='lifeboat-pgdump-', dir=params['tmp_dir'])
        try:
            if self.user is not None:
                self.user.give(tmp)  # pg_dump writes the directory as os_user; tar reads it as root
            argv = self._dump_argv(conninfo, 'directory', os.path.join(tmp, pg_logic.DUMP_DIR_NAME), snapshot=snapshot)
            rc, err = pg_client.run_tool(self.runner, argv, self.env)
            verdict = pg_logic.judge_tool('pg_dump', rc, err)
            if not verdict['ok']:
                raise _ToolFailed('%s failed: %s' % (what, verdict['error']))
            if verdict['warnings']:
                extra['warnings'] = verdict['warnings']
            tar = pipeline.need_tool('tar', 'directory-format dumps')
            common['tools']['tar'] = self.runner.tool_version('tar')
            tar_argv = [tar, '-C', tmp, '-cf', '-', pg_logic.DUMP_DIR_NAME]
            self._record_pipeline('tar', tar_argv)
            return artifacts.write_artifact(
                fmt_name=pg_logic.FORMAT_DIRECTORY, fmt_ext=pg_logic.EXTENSIONS[pg_logic.FORMAT_DIRECTORY],
                check_source=_judge('tar', 'archiving the dump directory of %s' % qname, LifeboatError), source_name='tar',
                source_argv=tar_argv, **common)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def dump_globals(self, store):
        params = self.params
        extra = self._common_extra('pg_dumpall')
        extra['role_passwords'] = bool(self.info['superuser'])
        if not self.info['superuser']:
            self.warnings.append('%s is not a superuser: roles are dumped without their passwords'
                                 % pg_logic.quote_ident(self.info['user']))
        what = 'dumping globals (roles, tablespaces)'
        argv = self._dumpall_argv()
        self._record_pipeline('pg_dumpall', argv)
        try:
            record = artifacts.write_artifact(
                store, params['set_id'], params['host'], pg_logic.COMPONENT, pg_logic.GLOBALS_NAME, 'globals',
                pg_logic.FORMAT_GLOBALS, pg_logic.EXTENSIONS[pg_logic.FORMAT_GLOBALS],
                pg_logic.source_uri(params, params['maintenance_db']), _judge('pg_dumpall', what), source_argv=argv,
                source_name='pg_dumpall', compression=params['compression'], level=params['level'],
                threads=params['threads'], encryption=self.encryption, tools={'pg_dumpall': self.tools['pg_dumpall'][2]}, extra=extra, env=self.env)
        except _ToolFailed:
            raise
        except LifeboatError as err:
            raise rewrap(err, what)
        self.records.append(record)
        self.summary.append({'host': params['host'], 'component': pg_logic.COMPONENT, 'name': pg_logic.GLOBALS_NAME,
                             'size': record['size'], 'uncompressed_size': None, 'seconds': record['extra']['seconds']})
