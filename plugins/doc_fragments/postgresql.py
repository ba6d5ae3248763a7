# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options shared by postgresql_backup and postgresql_restore (spec: _postgresql/logic.py CONNECTION_SPEC).
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host name or address of the PostgreSQL server.
      - Without it (and without O(login_unix_socket)) libpq's defaults apply (E(PGHOST), else the default
        unix socket directory).
    type: str
  login_unix_socket:
    description: Directory of the server's unix socket (for example C(/var/run/postgresql)).
    type: str
  port:
    description: Server port. Defaults to E(PGPORT), else 5432.
    type: int
  login_user:
    description:
      - Role to connect as. Defaults to E(PGUSER), else the name of the OS user running the module.
      - Dumping everything, globals included, needs a superuser (or a role that can read every object).
    type: str
  login_password:
    description:
      - Password of O(login_user). Passed to the client tools in E(PGPASSWORD), never on their command line.
      - Without it, a password file (O(passfile), E(PGPASSFILE) or C(~/.pgpass)) or a password-less method
        (peer, trust, certificates) must work.
    type: str
  maintenance_db:
    description: Database used for the maintenance connection (discovery, CREATE/DROP/RENAME DATABASE, globals).
    type: str
    default: postgres
  ssl_mode:
    description: libpq C(sslmode). Defaults to E(PGSSLMODE), else C(prefer).
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description: CA certificate file used to verify the server (libpq C(sslrootcert)).
    type: path
  passfile:
    description: A libpq password file to use instead of E(PGPASSFILE) or C(~/.pgpass).
    type: path
  connect_timeout:
    description: Seconds to wait for each connection (libpq C(connect_timeout)).
    type: int
    default: 10
  os_user:
    description:
      - Connect, and run the client tools, as this OS user, for peer authentication on the unix socket
        (C(local all postgres peer), the Debian and RHEL default for the C(postgres) role).
      - The module itself keeps running as the task's user, which must be root; only the PostgreSQL side
        changes user (the tools through C(setpriv) from util-linux, the catalog connection with that effective
        uid), so a filesystem store written by root stays private to root.
      - The tools get that user's C(HOME), so its C(~/.pgpass) applies.
    type: str
  bin_dir:
    description:
      - Directory holding pg_dump, pg_dumpall, pg_restore and psql (for example C(/usr/lib/postgresql/16/bin)).
      - Without it, the tools on E(PATH) are used; when they are older than the server, the version-specific
        directories of Debian/Ubuntu (C(/usr/lib/postgresql/N/bin)) and PGDG RPMs (C(/usr/pgsql-N/bin)) are
        tried for the server's major version N.
    type: path
requirements:
  - psycopg2 (or psycopg2-binary) on the host that runs the module
  - PostgreSQL client tools (pg_dump, pg_dumpall, pg_restore, psql) at least as new as the server
notes:
  - The other libpq environment variables of the module's environment (E(PGSSLCERT), E(PGSSLKEY),
    E(PGTARGETSESSIONATTRS)...) apply to every connection; E(PGDATABASE), E(PGSERVICE) and E(PGOPTIONS)
    are ignored so they cannot redirect a dump or a restore.
'''
