#!/usr/bin/env bash
# PostgreSQL dump/restore benchmark: lifeboat.backup against pg_dump | zstd, pg_dump -Fc, pg_restore -j and
# community.postgresql.postgresql_db.
#
#   bench/postgresql.sh [--runs N] [--scale S] [--wide-mb MB] [--workdir DIR] [--keep] [--no-community]
#                       [--encrypt] [--modules-only]
#
# Starts its own throwaway PostgreSQL cluster (own port and data dir, stopped at the end), loads
# `pgbench -i -s S` plus a wide text table, then runs in interleaved rounds (so a change of the
# neighbours' load hits every candidate):
#   dumps:    pg_dump -Fc -Z0 | zstd -T0 -3 (reference) | pg_dump -Fc (gzip) | postgresql_backup through
#             ansible-playbook | postgresql_backup run directly (module RSS) | community.postgresql.postgresql_db
#             state=dump to .pgc (= pg_dump -Fc) and to .sql.gz (pg_dump | pigz)
#   restores: pg_restore -j 2 from an uncompressed custom dump on local disk (reference) | lifeboat jobs=2
#             (ansible-playbook) | zstd -dc | pg_restore (streamed reference) | lifeboat jobs=1 (streamed)
# Every run is measured with /usr/bin/time (wall, user+sys CPU, peak RSS of the largest process) together
# with the CPU the rest of the machine used meanwhile ("others"; this machine type is shared). The module's
# own peak RSS comes from a direct run of the module file (getrusage SELF). Reports the median per
# candidate and ratios within each round. Writes markdown to stdout and to bench/results/postgresql-<ts>.md
# (raw TSV and per-run logs beside it; bench/results/ is gitignored).
#
# Options:
#   --runs N       rounds (default 2)
#   --scale S      pgbench scale (default 30: ~450 MB)
#   --wide-mb MB   size of the wide text table (default 100)
#   --workdir DIR  where the cluster, stores and dumps go (default: a new dir under /var/tmp); on disk
#   --keep         keep the work directory
#   --no-community skip community.postgresql
#   --encrypt      also run postgresql_backup and the streamed postgresql_restore (jobs=1) with age encryption
#                  (an X25519 recipient made for the run) in the same rounds: ratio encrypted / plain (<= 1.10)
#   --modules-only only the references and the modules run directly (no playbooks, no pg_dump -Fc, no
#                  community.postgresql, no parallel restores): with --encrypt, the quick encryption comparison
# Environment: PY (python with ansible-core and psycopg2; default /opt/lbvenv/bin/python), PG_BIN (server
# and client binaries; default /usr/lib/postgresql/15/bin), BENCH_COLLECTIONS (where community.postgresql
# and ansible.posix are, or are put; default /opt/lbbench-venv/collections).
set -euo pipefail

runs=2
scale=30
wide_mb=100
workdir=
keep=0
do_community=1
encrypt=0
modules_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --wide-mb) wide_mb=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --no-community) do_community=0; shift ;;
        --encrypt) encrypt=1; shift ;;
        --modules-only) modules_only=1; do_community=0; shift ;;
        -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$runs" "$scale" "$wide_mb"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "--runs, --scale and --wide-mb take positive integers" >&2; exit 2; }
done

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-/opt/lbvenv/bin/python}
PYBIN=$(dirname "$PY")
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BENCH_COLLECTIONS=${BENCH_COLLECTIONS:-/opt/lbbench-venv/collections}
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results postgresql


[ "$(id -u)" -eq 0 ] || { echo "run as root (initdb runs as the postgres user through runuser)" >&2; exit 2; }
[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries in $PG_BIN (set PG_BIN=)" >&2; exit 2; }
need_ansible_python "$PY"
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg zstd zstd
need_pkg jq jq
need_pkg pigz pigz

W=$(bench_workdir pg "$workdir")
chmod 755 "$W"
PGDATA_DIR=$W/pg/data
SOCK=$W/pg/sock
cleanup() {
    if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ "$keep" = 0 ]; then rm -rf "$W"; else log "kept $W"; fi
}
trap cleanup EXIT

# community.postgresql (postgresql_db) and ansible.posix (profile_tasks) come with the `ansible` package on PyPI
have_cpg=0
if [ "$do_community" = 1 ]; then
    fetch_collections "$BENCH_COLLECTIONS" community/postgresql ansible/posix
    [ -d "$BENCH_COLLECTIONS/ansible_collections/community/postgresql" ] && have_cpg=1
fi
mkdir -p "$W/logs" "$W/out"
bench_ansible_env "$repo" "$BENCH_COLLECTIONS"
write_run_module "$W/run-module.py"

# ------------------------------------------------------------------ the cluster and the data

mkdir -p "$W/pg" "$SOCK"
chown postgres: "$W/pg" "$SOCK"
log "initdb + start (own port)"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-instructions >/dev/null
cat >> "$PGDATA_DIR/postgresql.conf" <<EOF
max_wal_size = 4GB
checkpoint_timeout = 30min
shared_buffers = 256MB
maintenance_work_mem = 256MB
EOF
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$W/pg/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$SOCK" start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
unset PGDATABASE PGSERVICE
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"

log "loading: pgbench -i -s $scale + a ${wide_mb} MB wide text table"
$PSQL -c 'CREATE DATABASE bench'
"$PG_BIN/pgbench" -i -s "$scale" -q bench >"$W/logs/pgbench.log" 2>&1
wide_rows=$((wide_mb * 1024 * 1024 / 360))
# ~300 bytes of text per row, mostly distinct hex digests (compresses ~2x, like logs or JSON with ids)
$PSQL -d bench -c "CREATE TABLE events AS SELECT g AS id, now() - g * interval '1 second' AS at,
    'user ' || (g % 9973) || ' from 10.0.' || (g % 255) || '.' || (g % 7) || ' session ' || md5(g::text) || ' req '
    || md5((g * 7)::text) || md5((g * 13)::text) || ' trace ' || md5((g * 31)::text) || md5((g * 37)::text)
    || md5((g * 41)::text) || ' ok' AS payload FROM generate_series(1, $wide_rows) g" \
    -c 'ALTER TABLE events ADD PRIMARY KEY (id)' -c 'VACUUM ANALYZE'
db_bytes=$($PSQL -At -c "SELECT pg_database_size('bench')")
log "database bench: $((db_bytes / 1048576)) MiB"

# ------------------------------------------------------------------ measuring

raw_header

store=$W/store
store_json="{\"type\": \"filesystem\", \"path\": \"$store\"}"
conn_json="\"login_host\": \"127.0.0.1\", \"port\": $PORT, \"login_user\": \"postgres\""
cat > "$W/backup.yml" <<EOF
- name: lifeboat postgresql_backup (set started, dump, set committed)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start a set
      lifeboat.backup.backup_set: {state: started, store: {type: filesystem, path: "$store"}}
      register: s
    - name: Dump bench
      lifeboat.backup.postgresql_backup:
        set_id: "{{ s.set_id }}"
        host: localhost
        store: {type: filesystem, path: "$store"}
        login_host: 127.0.0.1
        port: $PORT
        login_user: postgres
        databases: [bench]
        globals: false
    - name: Commit the set
      lifeboat.backup.backup_set: {state: committed, set_id: "{{ s.set_id }}", store: {type: filesystem, path: "$store"}}
EOF
cat > "$W/restore.yml" <<EOF
- name: lifeboat postgresql_restore
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Restore bench
      lifeboat.backup.postgresql_restore:
        host: localhost
        store: {type: filesystem, path: "$store"}
        login_host: 127.0.0.1
        port: $PORT
        login_user: postgres
        databases: [bench]
        target_database: "{{ target }}"
        globals: false
        jobs: "{{ jobs }}"
EOF
cat > "$W/noop.yml" <<EOF
- name: ansible-playbook fixed cost (three trivial tasks, like the lifeboat backup playbook)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: One
      ansible.builtin.command: "true"
      changed_when: false
    - name: Two
      ansible.builtin.command: "true"
      changed_when: false
    - name: Three
      ansible.builtin.command: "true"
      changed_when: false
EOF
cat > "$W/community.yml" <<EOF
- name: community.postgresql.postgresql_db state=dump
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Dump bench
      community.postgresql.postgresql_db:
        name: bench
        state: dump
        target: "{{ target }}"
        login_host: 127.0.0.1
        port: $PORT
        login_user: postgres
EOF
# with --encrypt: encrypted sets go to a store of their own (the plain and encrypted restores each find theirs)
enc_store=$W/store-enc
enc_store_json="{\"type\": \"filesystem\", \"path\": \"$enc_store\"}"
encryption_json=
decryption_json=
if [ "$encrypt" = 1 ]; then
    need_pkg age age
    rm -f "$W/age-identity.txt"
    age-keygen -o "$W/age-identity.txt" 2>/dev/null
    encryption_json=", \"encryption\": {\"recipients\": [\"$(age-keygen -y "$W/age-identity.txt")\"]}"
    decryption_json=", \"decryption\": {\"identity_file\": \"$W/age-identity.txt\"}"
fi
start_set() {  # start_set [DIR JSON]: a fresh store (default the plain one) with one started set; prints its id
    rm -rf "${1:-$store}"
    printf '{"ANSIBLE_MODULE_ARGS": {"state": "started", "store": %s}}\n' "${2:-$store_json}" > "$W/args-start.json"
    PYTHONPATH=$W/coll "$PY" "$MODULES/backup_set.py" "$W/args-start.json" | jq -r .set_id
}
commit_set() {  # commit_set SET_ID [JSON]
    printf '{"ANSIBLE_MODULE_ARGS": {"state": "committed", "set_id": "%s", "store": %s}}\n' "$1" "${2:-$store_json}" > "$W/args-commit.json"
    PYTHONPATH=$W/coll "$PY" "$MODULES/backup_set.py" "$W/args-commit.json" | jq -e '.status == "completed"' >/dev/null
}
dropdb_q() { $PSQL -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c CHECKPOINT; }
checksum() {  # content fingerprint of the restored tables
    $PSQL -At -d "$1" -c "SELECT (SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts) || '/' ||
        (SELECT count(*) || ':' || md5(string_agg(md5(payload), '' ORDER BY id)) FROM events)"
}
want_sum=$(checksum bench)
end_checked() {  # end_checked DB [FACTS]: end the row, check the restored DB against the source, drop it
    end_row "${2:-}"
    [ "$(checksum "$1")" = "$want_sum" ] || { log "$1 differs from the source"; exit 1; }
    dropdb_q "$1"
}

ref_out=$W/out/ref.pgdump.zst
raw_dump=$W/out/raw.pgdump
log "one uncompressed custom dump for the pg_restore references"
"$PG_BIN/pg_dump" -Fc -Z0 -d bench -f "$raw_dump"

# ------------------------------------------------------------------ interleaved rounds

for r in $(seq 1 "$runs"); do
    log "round $r/$runs: dumps"
    rm -f "$ref_out"
    measure ref "$r" bash -c "set -o pipefail; '$PG_BIN/pg_dump' -Fc -Z0 -d bench | zstd -q -T0 -3 > '$ref_out'"
    end_row "size=$(stat -c %s "$ref_out")"

    if [ "$modules_only" = 0 ]; then
        measure ansible_noop "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/noop.yml"
        end_row

        rm -rf "$store"
        measure lb_playbook "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/backup.yml"
        rec=$(find "$store" -name 'bench.pgdump.zst.record.json' | head -1)
        end_row "pipeline=$(jq .extra.seconds "$rec") size=$(jq .size "$rec")"
    fi

    sid=$(start_set)
    printf '{"ANSIBLE_MODULE_ARGS": {"set_id": "%s", "host": "localhost", "store": %s, %s, "databases": ["bench"], "globals": false}}\n' \
        "$sid" "$store_json" "$conn_json" > "$W/args-backup.json"
    measure lb_module "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/postgresql_backup.py" "$W/args-backup.json"
    end_row "$(module_rss "$LAST_LOG")"
    commit_set "$sid"

    if [ "$encrypt" = 1 ]; then
        sid=$(start_set "$enc_store" "$enc_store_json")
        printf '{"ANSIBLE_MODULE_ARGS": {"set_id": "%s", "host": "localhost", "store": %s, %s, "databases": ["bench"], "globals": false%s}}\n' \
            "$sid" "$enc_store_json" "$conn_json" "$encryption_json" > "$W/args-backup-enc.json"
        measure lb_module_enc "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/postgresql_backup.py" "$W/args-backup-enc.json"
        end_row "$(module_rss "$LAST_LOG")"
        commit_set "$sid" "$enc_store_json"
    fi

    if [ "$modules_only" = 0 ]; then
        rm -f "$W/out/default.pgdump"
        measure pg_dump_default "$r" "$PG_BIN/pg_dump" -Fc -d bench -f "$W/out/default.pgdump"
        end_row "size=$(stat -c %s "$W/out/default.pgdump")"
    fi

    if [ "$have_cpg" = 1 ]; then
        rm -f "$W/out/community.pgc"
        measure community_pgc "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/community.yml" -e "target=$W/out/community.pgc"
        end_row "size=$(stat -c %s "$W/out/community.pgc")"
        rm -f "$W/out/community.pgc" "$W/out/community.sql.gz"
        measure community_sqlgz "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/community.yml" -e "target=$W/out/community.sql.gz"
        end_row "size=$(stat -c %s "$W/out/community.sql.gz")"
        rm -f "$W/out/community.sql.gz"
    fi

    log "round $r/$runs: restores"
    if [ "$modules_only" = 0 ]; then
        dropdb_q r_ref2
        measure ref_restore_j2 "$r" bash -c "$PSQL -c 'CREATE DATABASE r_ref2' && '$PG_BIN/pg_restore' -j 2 --exit-on-error -d r_ref2 '$raw_dump'"
        end_checked r_ref2

        dropdb_q r_ref2; rm -f "$W/out/staged.pgdump"
        measure ref_restore_j2_staged "$r" bash -c "set -o pipefail; $PSQL -c 'CREATE DATABASE r_ref2' && zstd -q -dc '$ref_out' > '$W/out/staged.pgdump' && '$PG_BIN/pg_restore' -j 2 --exit-on-error -d r_ref2 '$W/out/staged.pgdump'"
        end_checked r_ref2; rm -f "$W/out/staged.pgdump"

        dropdb_q r_lb2
        measure lb_restore_j2 "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/restore.yml" -e target=r_lb2 -e jobs=2
        end_checked r_lb2

        dropdb_q r_lb2
        printf '{"ANSIBLE_MODULE_ARGS": {"host": "localhost", "store": %s, %s, "databases": ["bench"], "target_database": "r_lb2", "globals": false, "jobs": 2}}\n' \
            "$store_json" "$conn_json" > "$W/args-restore2.json"
        measure lb_restore_j2_module "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/postgresql_restore.py" "$W/args-restore2.json"
        end_checked r_lb2 "$(module_rss "$LAST_LOG")"
    fi

    dropdb_q r_ref1
    measure ref_restore_stream "$r" bash -c "set -o pipefail; $PSQL -c 'CREATE DATABASE r_ref1' && zstd -q -dc '$ref_out' | '$PG_BIN/pg_restore' --exit-on-error -d r_ref1"
    end_checked r_ref1

    dropdb_q r_lb1
    printf '{"ANSIBLE_MODULE_ARGS": {"host": "localhost", "store": %s, %s, "databases": ["bench"], "target_database": "r_lb1", "globals": false}}\n' \
        "$store_json" "$conn_json" > "$W/args-restore.json"
    measure lb_restore_j1_module "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/postgresql_restore.py" "$W/args-restore.json"
    end_checked r_lb1 "$(module_rss "$LAST_LOG")"

    if [ "$encrypt" = 1 ]; then
        dropdb_q r_lb1
        printf '{"ANSIBLE_MODULE_ARGS": {"host": "localhost", "store": %s, %s, "databases": ["bench"], "target_database": "r_lb1", "globals": false%s}}\n' \
            "$enc_store_json" "$conn_json" "$decryption_json" > "$W/args-restore-enc.json"
        measure lb_restore_j1_module_enc "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/postgresql_restore.py" "$W/args-restore-enc.json"
        end_checked r_lb1 "$(module_rss "$LAST_LOG")"
    fi

    if [ "$modules_only" = 0 ]; then
        measure lb_restore_j1 "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/restore.yml" -e target=r_lb1 -e jobs=1
        end_checked r_lb1
    fi
done

# ------------------------------------------------------------------ report

env_line="$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$PG_BIN/pg_dump" --version); zstd $(zstd -V | grep -oE 'v[0-9.]+'); ansible-core $("$PY" -c 'import ansible.release as r; print(r.__version__)')"
[ "$have_cpg" = 1 ] && env_line="$env_line; community.postgresql $(jq -r .collection_info.version "$BENCH_COLLECTIONS/ansible_collections/community/postgresql/MANIFEST.json")"
"$PY" - "$raw" "$db_bytes" "$env_line" "$runs" <<'PY' | tee "$report"
import statistics, sys
raw, db_bytes, env_line, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = {}
with open(raw) as f:
    next(f)
    for line in f:
        p = line.rstrip('\n').split('\t')
        extra = dict(kv.split('=', 1) for kv in p[8].split() if '=' in kv) if len(p) > 8 else {}
        rows.setdefault(p[0], []).append({'round': int(p[1]), 'wall': float(p[2]), 'cpu': float(p[3]) + float(p[4]),
                                          'rss': int(p[5]) / 1024.0, 'others': float(p[6]), 'extra': extra})
med = lambda xs: statistics.median(xs) if xs else float('nan')  # noqa: E731


def ratio(name, ref):
    rs = []
    for a in rows.get(name, []):
        for b in rows.get(ref, []):
            if a['round'] == b['round']:
                rs.append(a['wall'] / b['wall'])
    return med(rs) if rs else None


def line(label, name, ref=None, note=''):
    xs = rows.get(name)
    if not xs:
        return
    r = ratio(name, ref) if ref else None
    print('| %s | %.1f | %.1f | %.0f | %s | %.1f | %s |' % (
        label, med([x['wall'] for x in xs]), med([x['cpu'] for x in xs]), med([x['rss'] for x in xs]),
        ('%.2fx' % r) if r else '-', med([x['others'] for x in xs]), note))


print('Database: %d MiB (pgbench + wide text table). %d round(s), median shown; ratios are computed within each '
      'round. %s.' % (db_bytes / 1048576, runs, env_line))
print()
print('| operation | wall s | CPU-s | peak RSS MiB | ratio | others CPU-s | note |')
print('|---|---|---|---|---|---|---|')
ref_size = med([int(x['extra']['size']) for x in rows['ref']])


def rss_note(name):
    m = rows[name]
    return 'module process %.0f MiB, largest child %.0f MiB' % (med([int(x['extra']['self_maxrss_kb']) for x in m]) / 1024,
                                                                med([int(x['extra']['children_maxrss_kb']) for x in m]) / 1024)


line('`pg_dump -Fc -Z0 \\| zstd -T0 -3` (reference)', 'ref', note='%.0f MiB' % (ref_size / 1048576))
line('ansible-playbook alone: 3 trivial tasks (fixed cost)', 'ansible_noop')
if 'lb_playbook' in rows:
    lb = rows['lb_playbook']
    line('postgresql_backup via ansible-playbook', 'lb_playbook', 'ref',
         'vs reference; module pipeline %.1f s, %.0f MiB' % (med([float(x['extra']['pipeline']) for x in lb]),
                                                             med([int(x['extra']['size']) for x in lb]) / 1048576))
line('postgresql_backup module run directly', 'lb_module', 'ref', rss_note('lb_module'))
if 'lb_module_enc' in rows:
    line('postgresql_backup module, **encrypted** (age, one X25519 recipient)', 'lb_module_enc', 'lb_module',
         'vs the plain module run of the same round (target <= 1.10x); ' + rss_note('lb_module_enc'))
if 'pg_dump_default' in rows:
    line('`pg_dump -Fc` (gzip inside pg_dump)', 'pg_dump_default', 'ref',
         '%.0f MiB' % (med([int(x['extra']['size']) for x in rows['pg_dump_default']]) / 1048576))
for name, label in (('community_pgc', 'community.postgresql.postgresql_db dump `.pgc` (= `pg_dump -Fc`)'),
                    ('community_sqlgz', 'community.postgresql.postgresql_db dump `.sql.gz` (pg_dump \\| pigz)')):
    if name in rows:
        r = ratio('lb_playbook', name)
        line(label, name, 'ref', 'lifeboat playbook / this = %.2fx; %.0f MiB'
             % (r, med([int(x['extra']['size']) for x in rows[name]]) / 1048576))
line('CREATE DATABASE + `pg_restore -j 2` from an uncompressed dump file (reference)', 'ref_restore_j2')
line('CREATE DATABASE + `zstd -dc` of the stream-written dump to a file + `pg_restore -j 2` (same work as lifeboat)',
     'ref_restore_j2_staged', 'ref_restore_j2', 'vs pg_restore -j 2 from a file pg_dump wrote itself')
line('postgresql_restore jobs=2 via ansible-playbook', 'lb_restore_j2', 'ref_restore_j2',
     'vs pg_restore -j 2; vs the same work: %.2fx' % (ratio('lb_restore_j2', 'ref_restore_j2_staged') or 0))
if 'lb_restore_j2_module' in rows:
    line('postgresql_restore jobs=2 module run directly', 'lb_restore_j2_module', 'ref_restore_j2',
         'vs the same work: %.2fx; %s' % (ratio('lb_restore_j2_module', 'ref_restore_j2_staged') or 0,
                                           rss_note('lb_restore_j2_module')))
line('CREATE DATABASE + `zstd -dc \\| pg_restore` streamed (reference)', 'ref_restore_stream')
line('postgresql_restore jobs=1 (streamed) via ansible-playbook', 'lb_restore_j1', 'ref_restore_stream', 'vs streamed reference')
line('postgresql_restore jobs=1 module run directly', 'lb_restore_j1_module', 'ref_restore_stream',
     rss_note('lb_restore_j1_module'))
if 'lb_restore_j1_module_enc' in rows:
    line('postgresql_restore jobs=1 module, **encrypted** (age identity file)', 'lb_restore_j1_module_enc',
         'lb_restore_j1_module', 'vs the plain module restore of the same round (target <= 1.10x); '
         + rss_note('lb_restore_j1_module_enc'))
PY
log "report: $report (raw: $raw)"
