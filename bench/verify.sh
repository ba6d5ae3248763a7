#!/usr/bin/env bash
# shellcheck disable=SC2154  # raw and report come from bench_results (bench/lib.sh)
# Full verification benchmark: backup_verify level=full of a set holding the benchmark dataset (tar | zstd -3 in
# the filesystem store), against what a careful operator would run on the same artifact by hand.
#
#   bench/verify.sh [--runs N] [--size MB] [--dataset DIR] [--workdir DIR] [--keep]
#
#   baseline   zstd -t ARTIFACT && sha256sum ARTIFACT: the stream decodes to its end, and its checksum (two reads
#              of the file, both from the page cache)
#   lifeboat   backup_verify level=full run directly (no ansible-playbook): the manifest, objects and records, then
#              one read through the pipeline: sha256 + size against the record, zstd -d, and tar's listing of
#              every member through the archive safety checks. Result recorded beside the set.
# The artifact is read once before the rounds (page cache warm for both). Target: lifeboat <= 1.2x the baseline.
# Reports medians; markdown to stdout and bench/results/verify-<timestamp>.md.
# Environment: PY (python with ansible-core; default: the test venv $LIFEBOAT_WORK/venv).
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
        -h|--help) sed -n '3,17p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv/bin/python}
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results verify  # sets raw and report
W=$(bench_workdir verify "$workdir")
cleanup() {
    local rc=$?
    if [ "$keep" = 1 ]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg zstd zstd
need_ansible_python "$PY"
mkdir -p "$W/coll/ansible_collections/lifeboat" "$W/logs"
ln -sfn "$repo" "$W/coll/ansible_collections/lifeboat/backup"
util() { PYTHONPATH=$W/coll "$PY" "$bench_dir/lifecycle_util.py" "$@"; }

if [ -z "$dataset" ]; then
    dataset=$W/dataset
    log "generating the dataset ($size_mb MB) in $dataset"
    PYTHON=$PY "$bench_dir/make-dataset.sh" "$dataset" "$size_mb" >&2
fi
dataset=$(cd "$dataset" && pwd)
log "backing the dataset up into a set (tar | zstd -3)"
artifact=$(util artifact "$W/store" "$dataset")
bytes=$(stat -c %s "$artifact")
members=$(find "$dataset" | wc -l)
log "artifact: $bytes bytes, $members members"
cat "$artifact" > /dev/null
util args "$W/args.json" "{\"store\": {\"type\": \"filesystem\", \"path\": \"$W/store\", \"prefix\": \"lifeboat\"}, \"level\": \"full\", \"jobs\": 1}"

printf 'round\tcandidate\twall_s\tuser_s\tsys_s\tmax_rss_kib\tload1\n' > "$raw"
timed() {  # timed ROUND CANDIDATE -- command...
    local r=$1 c=$2
    shift 3
    /usr/bin/time -f '%e\t%U\t%S\t%M' -o "$W/time.out" "$@" > "$W/logs/$c-$r.log" 2>&1 || { tail -20 "$W/logs/$c-$r.log" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\n' "$r" "$c" "$(cat "$W/time.out")" "$(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
}
for round in $(seq "$runs"); do
    log "round $round/$runs: baseline (zstd -t && sha256sum)"
    timed "$round" baseline -- bash -c "zstd -q -t '$artifact' && sha256sum '$artifact'"
    log "round $round/$runs: lifeboat backup_verify level=full"
    timed "$round" lifeboat -- env PYTHONPATH="$W/coll" "$PY" "$repo/plugins/modules/backup_verify.py" "$W/args.json"
    util field "$W/logs/lifeboat-$round.log" passed > /dev/null
done

"$PY" - "$raw" "$bytes" "$members" "$runs" > "$report" <<'PY'
import csv
import statistics
import sys

raw, size, members, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = list(csv.DictReader(open(raw), delimiter='\t'))


def med(cand, field):
    return statistics.median(float(r[field]) for r in rows if r['candidate'] == cand)


ratios = []
for rnd in sorted({r['round'] for r in rows}, key=int):
    walls = {r['candidate']: float(r['wall_s']) for r in rows if r['round'] == rnd}
    ratios.append(walls['lifeboat'] / walls['baseline'])
print('| candidate | wall (median of %d) | throughput | CPU user+sys | peak RSS (largest process) |' % runs)
print('|---|---|---|---|---|')
for cand, label in (('baseline', 'baseline: `zstd -t` + `sha256sum`'),
                    ('lifeboat', '**lifeboat `backup_verify level=full`** (sha256, zstd -d, tar listing + safety checks)')):
    wall = med(cand, 'wall_s')
    print('| %s | %.2f s | %.0f MB/s | %.1f s | %.0f MiB |' % (label, wall, size / wall / 1e6, med(cand, 'user_s') + med(cand, 'sys_s'),
                                                          med(cand, 'max_rss_kib') / 1024))
print()
print('Artifact: %.2f GB (zstd -3) holding %d members. lifeboat / baseline wall time per round: %s (median %.2fx; the '
      'target is <= 1.2x). Load average (1 min) during the runs: %s.' % (
          size / 1e9, members, ', '.join('%.2fx' % x for x in ratios), statistics.median(ratios),
          ', '.join(sorted({r['load1'] for r in rows}))))
PY
cat "$report"
log "report: $report (raw: $raw)"
