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
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic


def _judge(tool, what):
    """check_source for write_artifact: the source tool's verdict."""
    def check(res):
        if res is None:
            return {}
        v = pg_logic.judge_tool(tool, res.rc, res.stderr)
        if not v['ok']:
            raise LifeboatError('%s failed: %s' % (what, v['error']))
        return {'warnings': v['warnings']} if v['warnings'] else {}
    return check


class Backup(object):
    def __init__(self, params, check_mode):
        self.p = params
        self.check_mode = check_mode
        self.ra = pg_client.run_as(params)
        self.env = pg_client.tools_env(params, self.ra)
        self.warnings = []
        self.records = []
        self.summary = []

    def run(self):
        p = self.p
        with pg_client.connect(p, p['maintenance_db']) as c:
            info = pg_client.server_info(c)
            self.info = info
            all_dbs = pg_client.list_databases(c)
            candidates = [d for d in all_dbs if not d['template']]
            for n in p['databases']:
                d = [x for x in all_dbs if x['name'] == n]
                if d and (d[0]['template'] or not d[0]['allow_connections']):
                    raise LifeboatError('database %s is a template or does not accept connections; it cannot be dumped'
                                        % pg_logic.quote_ident(n))
            chosen = pg_logic.select_databases(candidates, p['databases'], p['exclude'])
            for d in list(chosen):
                if not d['allow_connections']:
                    chosen.remove(d)
                    self.warnings.append('database %s does not accept connections (datallowconn is false): skipped'
                                         % pg_logic.quote_ident(d['name']))
            pg_dump, dump_num, dump_text = pg_client.find_tool('pg_dump', p['bin_dir'], info['version_num'])
            pg_logic.check_dump_tool('pg_dump', dump_num, info['version_num'], pg_dump)
            pg_dumpall = None
            if p['globals']:
                pg_dumpall, dall_num, dall_text = pg_client.find_tool('pg_dumpall', p['bin_dir'], info['version_num'])
                pg_logic.check_dump_tool('pg_dumpall', dall_num, info['version_num'], pg_dumpall)
            if p['format'] == 'directory':
                pipeline.need_tool('tar', 'directory-format dumps')
            pipeline.compressor_argv(p['compression'], p['level'], p['threads'])

            chosen_names = {d['name'] for d in chosen}
            databases = []
            for d in all_dbs:
                if d['template']:
                    continue
                entry = {'name': d['name'], 'size': d['size'], 'dump': d['name'] in chosen_names}
                if entry['dump']:
                    entry['artifact'] = pg_logic.artifact_name(d['name'])
                databases.append(entry)
            result = {
                'changed': False, 'records': self.records, 'summary': self.summary, 'databases': databases,
                'server_version': info['version'], 'server_version_num': info['version_num'],
                'in_recovery': info['in_recovery'], 'pg_dump_version': dump_text,
            }
            if self.check_mode:
                result['changed'] = bool(chosen) or bool(p['globals'])
                return result

            with open_store(p['store']) as store:
                for d in chosen:
                    self.dump_database(store, c, d, pg_dump, dump_num, dump_text)
                if p['globals']:
                    self.dump_globals(store, pg_dumpall, dall_num, dall_text)
            result['changed'] = bool(self.records)
            return result

    def _common_extra(self, tool, tool_num, tool_text):
        return {
            '%s_version' % tool: tool_text,
            '%s_version_num' % tool: tool_num,
            'server_version': self.info['version'],
            'server_version_num': self.info['version_num'],
            'in_recovery': self.info['in_recovery'],
        }

    def dump_database(self, store, c, d, pg_dump, dump_num, dump_text):
        p = self.p
        name = d['name']
        qname = pg_logic.quote_ident(name)
        art = pg_logic.artifact_name(name)
        props = pg_client.database_properties(c, name, self.info['version_num'])
        with pg_client.connect(p, name) as dbc:
            tables, truncated = pg_client.table_estimates(dbc)
        extra = self._common_extra('pg_dump', dump_num, dump_text)
        extra.update({'database': name, 'database_size': d['size'], 'dump_format': p['format'], 'properties': props,
                      'tables': tables, 'table_count': len(tables)})
        if truncated:
            extra['tables_truncated'] = True
        conn = pg_logic.conninfo(p, name)
        what = 'dumping database %s' % qname
        common = dict(store=store, set_id=p['set_id'], host=p['host'], component=pg_logic.COMPONENT, name=art,
                      kind='database', source=pg_logic.source_uri(p, name), compression=p['compression'],
                      level=p['level'], threads=p['threads'],
                      tools={'pg_dump': dump_text}, extra=extra)
        try:
            if p['format'] == 'custom':
                rec = artifacts.write_artifact(
                    fmt_name=pg_logic.FORMAT_CUSTOM, fmt_ext=pg_logic.EXTENSIONS[pg_logic.FORMAT_CUSTOM],
                    check_source=_judge('pg_dump', what), source_name='pg_dump',
                    source_argv=pg_client.as_user(self.ra, pg_logic.pg_dump_argv(pg_dump, conn, 'custom',
                                                                                 lock_wait_timeout=p['lock_wait_timeout'])),
                    env=self.env, **common)
            else:
                extra['jobs'] = p['jobs']
                tmp = tempfile.mkdtemp(prefix='lifeboat-pgdump-', dir=p['tmp_dir'])
                try:
                    if self.ra is not None:
                        self.ra.give(tmp)  # pg_dump writes the directory as os_user; tar reads it as root
                    out = os.path.join(tmp, pg_logic.DUMP_DIR_NAME)
                    argv = pg_client.as_user(self.ra, pg_logic.pg_dump_argv(pg_dump, conn, 'directory', jobs=p['jobs'], out_dir=out,
                                                                            lock_wait_timeout=p['lock_wait_timeout']))
                    rc, err = pg_client.run_tool(argv, self.env)
                    v = pg_logic.judge_tool('pg_dump', rc, err)
                    if not v['ok']:
                        raise LifeboatError('%s failed: %s' % (what, v['error']))
                    if v['warnings']:
                        extra['warnings'] = v['warnings']
                    tar = pipeline.need_tool('tar', 'directory-format dumps')
                    common['tools']['tar'] = pipeline.tool_version('tar')
                    rec = artifacts.write_artifact(
                        fmt_name=pg_logic.FORMAT_DIRECTORY, fmt_ext=pg_logic.EXTENSIONS[pg_logic.FORMAT_DIRECTORY],
                        check_source=_judge('tar', 'archiving the dump directory of %s' % qname), source_name='tar',
                        source_argv=[tar, '-C', tmp, '-cf', '-', pg_logic.DUMP_DIR_NAME], **common)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        except LifeboatError as e:
            if e.msg.startswith(what):
                raise
            details = dict(e.details)
            details.setdefault('database', name)
            raise LifeboatError('%s: %s' % (what, e.msg), **details)
        for w in (rec.get('extra') or {}).get('warnings') or []:
            self.warnings.append('pg_dump %s: %s' % (qname, w))
        self.records.append(rec)
        self.summary.append({'host': p['host'], 'component': pg_logic.COMPONENT, 'name': art, 'database': name,
                             'size': rec['size'], 'uncompressed_size': None, 'database_size': d['size'],
                             'seconds': rec['extra']['seconds']})

    def dump_globals(self, store, pg_dumpall, num, text):
        p = self.p
        argv = pg_logic.pg_dumpall_globals_argv(pg_dumpall, pg_logic.conninfo(p, p['maintenance_db']))
        extra = self._common_extra('pg_dumpall', num, text)
        extra['role_passwords'] = True
        if not self.info['superuser']:
            argv.insert(-1, '--no-role-passwords')
            extra['role_passwords'] = False
            self.warnings.append('%s is not a superuser: roles are dumped without their passwords'
                                 % pg_logic.quote_ident(self.info['user']))
        what = 'dumping globals (roles, tablespaces)'
        try:
            rec = artifacts.write_artifact(
                store, p['set_id'], p['host'], pg_logic.COMPONENT, pg_logic.GLOBALS_NAME, 'globals', pg_logic.FORMAT_GLOBALS,
                pg_logic.EXTENSIONS[pg_logic.FORMAT_GLOBALS], pg_logic.source_uri(p, p['maintenance_db']),
                _judge('pg_dumpall', what), source_argv=pg_client.as_user(self.ra, argv), source_name='pg_dumpall',
                compression=p['compression'], level=p['level'], threads=p['threads'],
                tools={'pg_dumpall': text}, extra=extra, env=self.env)
        except LifeboatError as e:
            if e.msg.startswith(what):
                raise
            raise LifeboatError('%s: %s' % (what, e.msg), **e.details)
        self.records.append(rec)
        self.summary.append({'host': p['host'], 'component': pg_logic.COMPONENT, 'name': pg_logic.GLOBALS_NAME,
                             'size': rec['size'], 'uncompressed_size': None, 'seconds': rec['extra']['seconds']})
