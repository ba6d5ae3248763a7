#!/usr/bin/env bash
# shellcheck disable=SC2154  # raw and report come from bench_results (bench/lib.sh)
# Prune benchmark: backup_prune on a store of 1,000 sets (one every 12 hours, 500 days), on the filesystem store and
# on S3 (a moto server on loopback, real HTTP), against deleting the same sets directly.
#
#   bench/prune.sh [--runs N] [--sets N] [--workdir DIR] [--keep]
#
#   lifeboat   backup_prune run directly (no ansible-playbook) with {keep_daily: 7, keep_weekly: 4, keep_monthly: 12}:
#              takes the lock, lists and reads every manifest, decides, and removes ~975 sets in the safe order
#              (manifest, status, then the rest; on S3 DeleteObjects of up to 1,000 keys, every version).
#   baseline   the same sets removed without any of that: `rm -rf` of their directories (filesystem), or one
#              listing plus DeleteObjects batches of their keys (S3): the floor any prune has to pay.
# Each round rebuilds the store first (not timed). Reports medians; markdown to stdout and bench/results/prune-<ts>.md.
# Environment: PY (python with ansible-core, boto3, moto[server]; default: the test venv $LIFEBOAT_WORK/venv).
set -euo pipefail

runs=3
sets=1000
workdir=
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --sets) sets=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '3,15p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ && $sets =~ ^[1-9][0-9]*$ ]] || { echo "--runs and --sets must be positive integers" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv/bin/python}
PYBIN=$(dirname "$PY")
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results prune  # sets raw and report
W=$(bench_workdir prune "$workdir")
moto_pid=
cleanup() {
    local rc=$?
    if [ -n "$moto_pid" ]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_ansible_python "$PY"
[ -x "$PYBIN/moto_server" ] || { echo "no moto_server next to $PY (pip install 'moto[server]')" >&2; exit 2; }
mkdir -p "$W/coll/ansible_collections/lifeboat" "$W/logs"
ln -sfn "$repo" "$W/coll/ansible_collections/lifeboat/backup"
util() { PYTHONPATH=$W/coll "$PY" "$bench_dir/lifecycle_util.py" "$@"; }

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYBIN/moto_server" -H 127.0.0.1 -p "$port" > "$W/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
endpoint=http://127.0.0.1:$port
policy='{"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12}'

cat > "$W/baseline.py" <<'PY'
"""The floor: delete the sets a prune would remove, with nothing else (keep the newest N sets' ids)."""
import os
import shutil
import sys

kind, where, keep_file = sys.argv[1], sys.argv[2], sys.argv[3]
keep = set(open(keep_file).read().split())
if kind == 'fs':
    root = os.path.join(where, 'lifeboat')
    for name in os.listdir(root):
        if name not in keep and name[:1].isdigit():
            shutil.rmtree(os.path.join(root, name))
else:
    import boto3
    endpoint, bucket = where.split('|')
    client = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1')
    keys = [obj['Key'] for page in client.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix='lifeboat/')
            for obj in page.get('Contents', []) if obj['Key'].split('/')[1] not in keep and obj['Key'].split('/')[1][:1].isdigit()]
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': key} for key in keys[start:start + 1000]]})
PY

printf 'round\tstore\tcandidate\twall_s\tuser_s\tsys_s\tmax_rss_kib\tremoved\tload1\n' > "$raw"
timed() {  # timed ROUND STORE CANDIDATE -- command...
    local r=$1 s=$2 c=$3
    shift 4
    /usr/bin/time -f '%e\t%U\t%S\t%M' -o "$W/time.out" "$@" > "$W/logs/$s-$c-$r.log" 2>&1 || { tail -20 "$W/logs/$s-$c-$r.log" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\t-\t%s\n' "$r" "$s" "$c" "$(cat "$W/time.out")" "$(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
}

log "building the template store of $sets sets"
util sets "$W/template" "$sets"
util args "$W/args.json" "{\"store\": {\"type\": \"filesystem\", \"path\": \"$W/template\", \"prefix\": \"lifeboat\"}, \"policy\": $policy, \"_ansible_check_mode\": true}"
PYTHONPATH=$W/coll "$PY" "$repo/plugins/modules/backup_prune.py" "$W/args.json" > "$W/plan.out" 2>&1
util ids "$W/plan.out" keep > "$W/keep.txt"
log "the policy keeps $(wc -l < "$W/keep.txt") of $sets sets"
for round in $(seq "$runs"); do
    for kind in fs s3; do
        for candidate in baseline lifeboat; do
            rm -rf "$W/store" && cp -a "$W/template" "$W/store"
            bucket=bench-$round-$candidate
            if [ "$kind" = s3 ]; then
                util to-s3 "$W/store" "$endpoint" "$bucket" > /dev/null
                store="{\"type\": \"s3\", \"bucket\": \"$bucket\", \"endpoint_url\": \"$endpoint\", \"region\": \"us-east-1\", \"prefix\": \"lifeboat\"}"
            else
                store="{\"type\": \"filesystem\", \"path\": \"$W/store\", \"prefix\": \"lifeboat\"}"
            fi
            if [ "$candidate" = lifeboat ]; then
                util args "$W/args.json" "{\"store\": $store, \"policy\": $policy}"
                log "round $round: $kind lifeboat backup_prune"
                timed "$round" "$kind" lifeboat -- env PYTHONPATH="$W/coll" "$PY" "$repo/plugins/modules/backup_prune.py" "$W/args.json"
                removed=$(util ids "$W/logs/$kind-lifeboat-$round.log" removed | wc -l)
                sed -i '$ s/\t-\t\([^\t]*\)$/\t'"$removed"'\t\1/' "$raw"
            else
                where=$W/store
                [ "$kind" = s3 ] && where="$endpoint|$bucket"
                log "round $round: $kind baseline (delete the same sets directly)"
                timed "$round" "$kind" baseline -- "$PY" "$W/baseline.py" "$kind" "$where" "$W/keep.txt"
            fi
        done
    done
done

"$PY" - "$raw" "$sets" "$runs" > "$report" <<'PY'
import csv
import statistics
import sys

raw, sets, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.DictReader(open(raw), delimiter='\t'))


def med(store, cand, field):
    vals = [float(r[field]) for r in rows if r['store'] == store and r['candidate'] == cand and r[field] != '-']
    return statistics.median(vals) if vals else float('nan')


print('| store | candidate | wall (median of %d) | CPU user+sys | peak RSS | sets removed | per removed set |' % runs)
print('|---|---|---|---|---|---|---|')
for store, name in (('fs', 'filesystem'), ('s3', 'S3 (moto)')):
    removed = med(store, 'lifeboat', 'removed')
    for cand, label in (('baseline', 'baseline: delete the same sets directly'), ('lifeboat', '**lifeboat `backup_prune`**')):
        wall = med(store, cand, 'wall_s')
        print('| %s | %s | %.1f s | %.1f s | %.0f MiB | %s | %.1f ms |' % (
            name, label, wall, med(store, cand, 'user_s') + med(store, cand, 'sys_s'), med(store, cand, 'max_rss_kib') / 1024,
            '%d' % removed if cand == 'lifeboat' else '(same)', 1000.0 * wall / removed))
print()
print('%d sets of one 4 KiB artifact each (one every 12 h over %d days), policy keep_daily 7, keep_weekly 4, '
      'keep_monthly 12. Load average (1 min) during the runs: %s.' % (sets, sets // 2, ', '.join(sorted(set(r['load1'] for r in rows)))))
PY
cat "$report"
log "report: $report (raw: $raw)"
