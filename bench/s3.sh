#!/usr/bin/env bash
# S3 backup benchmark: the benchmark dataset backed up to S3 (a moto server on loopback, real HTTP) by
# lifeboat.backup against the sequential baseline.
#
#   bench/s3.sh [--runs N] [--size MB] [--dataset DIR] [--workdir DIR] [--keep]
#
#   lifeboat   backup_upload of the dataset directory, run directly (no ansible-playbook overhead): GNU tar |
#              zstd -T0 -3 streamed into a multipart upload (16 MiB parts, 4 in flight, SHA-256 per part),
#              no local copy. The set is started before and committed after (timed apart: "set start+commit").
#   baseline   tar -cf - DIR | zstd -T0 -3 > file, then boto3 upload_file of that file (default TransferConfig:
#              8 MiB parts, 10 threads): what a playbook using archive + amazon.aws.s3_object does, minus
#              Ansible overhead.
# Rounds are interleaved (baseline, lifeboat, baseline, ...) so a change in the neighbours' load hits both.
# Every step runs under /usr/bin/time (wall, user+sys CPU, peak RSS of the largest process of the step).
# Reports the median per candidate; writes markdown to stdout and to bench/results/s3-<timestamp>.md.
#
# Options:
#   --runs N       rounds (default 3)
#   --size MB      dataset size for bench/make-dataset.sh (default 1100, its 1 GiB-class dataset)
#   --dataset DIR  use an existing dataset directory instead of generating one
#   --workdir DIR  where the dataset, the baseline archive and logs go (default: a new dir under /var/tmp)
#   --keep         keep the work directory
# Environment: PY (python with ansible-core, boto3 and moto[server]; default /opt/lbvenv/bin/python).
set -euo pipefail

runs=3
size_mb=1100
dataset=
workdir=
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --size) size_mb=$2; shift 2 ;;
        --dataset) dataset=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-/opt/lbvenv/bin/python}
PYBIN=$(dirname "$PY")
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results s3

W=$(bench_workdir s3 "$workdir")
moto_pid=

cleanup() {
    local rc=$?
    if [ -n "$moto_pid" ]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then
        echo "work directory kept: $W" >&2
    else
        rm -rf "$W"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg zstd zstd
need_ansible_python "$PY"
[ -x "$PYBIN/moto_server" ] || { echo "no moto_server next to $PY (pip install 'moto[server]')" >&2; exit 2; }

# ------------------------------------------------------------------ dataset

if [ -z "$dataset" ]; then
    dataset=$W/dataset
    log "generating the dataset ($size_mb MB) in $dataset"
    PYTHON=$PY "$bench_dir/make-dataset.sh" "$dataset" "$size_mb" >&2
fi
dataset=$(cd "$dataset" && pwd)
data_bytes=$(du -sb "$dataset" | cut -f1)
data_files=$(find "$dataset" -type f | wc -l)
log "dataset: $data_bytes bytes in $data_files files"
tar -cf - -C "$dataset" . > /dev/null        # warm the page cache the same way for every candidate

# ------------------------------------------------------------------ moto on loopback

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
bucket=lifeboat-bench

mkdir -p "$W/coll/ansible_collections/lifeboat"
ln -sfn "$repo" "$W/coll/ansible_collections/lifeboat/backup"
MODULES=$repo/plugins/modules

cat > "$W/s3util.py" <<'PY'
"""Helpers of bench/s3.sh: make the bucket, the baseline upload, emptying the bucket, module argument files."""
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig

ep = os.environ['BENCH_ENDPOINT']
bucket = os.environ['BENCH_BUCKET']
c = boto3.client('s3', endpoint_url=ep, region_name='us-east-1')
cmd = sys.argv[1]
if cmd == 'mkbucket':
    c.create_bucket(Bucket=bucket)
elif cmd == 'upload_file':                       # the baseline: boto3's managed multipart upload of a file
    path = sys.argv[2]
    c.upload_file(path, bucket, 'baseline/' + os.path.basename(path), Config=TransferConfig(),
                  ExtraArgs={'ServerSideEncryption': 'AES256'})
    size = c.head_object(Bucket=bucket, Key='baseline/' + os.path.basename(path))['ContentLength']
    assert size == os.path.getsize(path), (size, os.path.getsize(path))
elif cmd == 'empty':
    for page in c.get_paginator('list_objects_v2').paginate(Bucket=bucket):
        keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
        if keys:
            c.delete_objects(Bucket=bucket, Delete={'Objects': keys})
elif cmd == 'args':                              # args.json for a module run: args.py FILE MODULE_ARGS_JSON
    store = {'type': 's3', 'bucket': bucket, 'endpoint_url': ep, 'region': 'us-east-1', 'prefix': 'lifeboat'}
    args = json.loads(sys.argv[3])
    args['store'] = store
    args['_ansible_tmpdir'] = os.path.dirname(sys.argv[2])
    with open(sys.argv[2], 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f)
elif cmd == 'field':                             # print one field of a module's JSON output
    out = open(sys.argv[2]).read()
    doc = json.loads(out[out.index('{'):])
    if doc.get('failed'):
        sys.exit('module failed: %s' % doc.get('msg'))
    print(doc[sys.argv[3]])
PY
s3util() { BENCH_ENDPOINT=$endpoint BENCH_BUCKET=$bucket "$PY" "$W/s3util.py" "$@"; }
s3util mkbucket

module() {  # module NAME ARGS_JSON OUT -> runs plugins/modules/NAME.py like Ansible does (AnsiballZ-free)
    s3util args "$W/args.json" "$2"
    PYTHONPATH=$W/coll "$PY" "$MODULES/$1.py" "$W/args.json" > "$3" 2>&1 || { cat "$3" >&2; return 1; }
}

# ------------------------------------------------------------------ runs

TIMEFMT='%e\t%U\t%S\t%M'
printf 'round\tcandidate\tstep\twall_s\tuser_s\tsys_s\tmax_rss_kib\tbytes\tload1\n' > "$raw"
timed() {  # timed ROUND CANDIDATE STEP BYTES -- command...
    local r=$1 c=$2 s=$3 b=$4
    shift 5
    /usr/bin/time -f "$TIMEFMT" -o "$W/time.out" "$@"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" "$s" "$(cat "$W/time.out")" "$b" "$(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
}

for round in $(seq "$runs"); do
    log "round $round/$runs: baseline (tar | zstd -3 > file, then boto3 upload_file)"
    timed "$round" baseline compress - -- bash -c "set -o pipefail; tar -cf - -C '$dataset' . | zstd -q -T0 -3 > '$W/dataset.tar.zst'"
    bsize=$(stat -c %s "$W/dataset.tar.zst")
    timed "$round" baseline upload "$bsize" -- env BENCH_ENDPOINT="$endpoint" BENCH_BUCKET=$bucket "$PY" "$W/s3util.py" upload_file "$W/dataset.tar.zst"
    rm -f "$W/dataset.tar.zst"
    s3util empty

    log "round $round/$runs: lifeboat (backup_upload: tar | zstd -3 streamed into a multipart upload)"
    t0=$(date +%s.%N)
    module backup_set '{"state": "started", "label": "bench"}' "$W/start.out"
    set_id=$(s3util field "$W/start.out" set_id)
    t1=$(date +%s.%N)
    s3util args "$W/args.json" "{\"set_id\": \"$set_id\", \"host\": \"bench\", \"src\": \"$dataset\", \"name\": \"dataset\", \"compression\": \"zstd\", \"level\": 3, \"threads\": 0}"
    timed "$round" lifeboat upload - -- env PYTHONPATH="$W/coll" "$PY" "$MODULES/backup_upload.py" "$W/args.json" > "$W/upload.out" 2>&1 \
        || { cat "$W/upload.out" >&2; exit 1; }
    lsize=$(s3util field "$W/upload.out" size)
    sed -i '$ s/\t-\t\([^\t]*\)$/\t'"$lsize"'\t\1/' "$raw"
    t2=$(date +%s.%N)
    module backup_set "{\"state\": \"committed\", \"set_id\": \"$set_id\", \"hosts\": [\"bench\"]}" "$W/commit.out"
    t3=$(date +%s.%N)
    printf '%s\tlifeboat\tset start+commit\t%s\t-\t-\t-\t-\t%s\n' "$round" \
        "$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 + $t3 - $t2 }")" "$(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
    s3util empty
done

# ------------------------------------------------------------------ report

"$PY" - "$raw" "$data_bytes" "$data_files" "$runs" > "$report" <<'PY'
import csv
import statistics
import sys

raw, data_bytes, data_files, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = list(csv.DictReader(open(raw), delimiter='\t'))


def med(cand, step, field):
    vals = [float(r[field]) for r in rows if r['candidate'] == cand and r['step'] == step and r[field] != '-']
    return statistics.median(vals) if vals else None


def total(cand, steps, rnd):
    return sum(float(r['wall_s']) for r in rows if r['candidate'] == cand and r['step'] in steps and r['round'] == rnd)


rounds = sorted(set(r['round'] for r in rows), key=int)
base_tot = [total('baseline', ('compress', 'upload'), x) for x in rounds]
lb_tot = [total('lifeboat', ('upload',), x) for x in rounds]
ratios = [b / l for b, l in zip(base_tot, lb_tot)]
mib = 1024.0 * 1024.0
print('| candidate | wall (median of %d) | CPU user+sys | peak RSS (largest process) | stored |' % runs)
print('|---|---|---|---|---|')
bc, bu = med('baseline', 'compress', 'wall_s'), med('baseline', 'upload', 'wall_s')
print('| baseline: `tar \\| zstd -T0 -3 > file` | %.1f s | %.1f s | %.0f MiB | |' % (
    bc, med('baseline', 'compress', 'user_s') + med('baseline', 'compress', 'sys_s'),
    med('baseline', 'compress', 'max_rss_kib') / 1024))
print('| baseline: then boto3 `upload_file` | %.1f s | %.1f s | %.0f MiB | %.0f MB |' % (
    bu, med('baseline', 'upload', 'user_s') + med('baseline', 'upload', 'sys_s'),
    med('baseline', 'upload', 'max_rss_kib') / 1024, med('baseline', 'upload', 'bytes') / 1e6))
print('| **baseline total** | **%.1f s** | | | |' % statistics.median(base_tot))
print('| **lifeboat `backup_upload`** (streamed, no local copy) | **%.1f s** | %.1f s | %.0f MiB | %.0f MB |' % (
    statistics.median(lb_tot), med('lifeboat', 'upload', 'user_s') + med('lifeboat', 'upload', 'sys_s'),
    med('lifeboat', 'upload', 'max_rss_kib') / 1024, med('lifeboat', 'upload', 'bytes') / 1e6))
print('| lifeboat set start + commit (2 module runs) | %.1f s | | | |' % med('lifeboat', 'set start+commit', 'wall_s'))
print()
print('Dataset: %.2f GB in %d files. Baseline / lifeboat wall time per round: %s (median %.2fx; >1 means '
      'lifeboat is faster). Load average (1 min) during the runs: %s.' % (
          data_bytes / 1e9, data_files, ', '.join('%.2fx' % x for x in ratios), statistics.median(ratios),
          ', '.join(sorted(set(r['load1'] for r in rows)))))
PY
cat "$report"
log "report: $report (raw: $raw)"
