#!/usr/bin/env bash
# Peak RSS of files_restore for a chain of 1 full + 6 increments against one full of the same final tree, on a tree
# with the benchmark dataset's names (24530 files in the directories bench/make-dataset.sh makes) but tiny
# contents: the module's memory depends on the number of names, not on the bytes, so this measures in a minute
# what bench/files.sh --incremental measures on the 1.1 GB dataset (issue 16, "peak RSS unchanged").
#
#   bench/files_chain_rss.sh [--files N] [--levels N] [--workdir DIR] [--keep] [--tracemalloc]
#
# Each backup and restore runs the module file directly (bench/lib.sh write_run_module: getrusage of the module's
# own process); --tracemalloc adds Python's own peak of traced allocations (tracemalloc slows the run, so the
# RSS figures of that run are higher). Both restored trees are compared with the tree. Prints a markdown table.
# Environment: PY (python with ansible-core; default /opt/lbvenv/bin/python).
set -euo pipefail

files=24530
levels=7
workdir=
keep=0
trace=0
while [ $# -gt 0 ]; do
    case $1 in
        --files) files=$2; shift 2 ;;
        --levels) levels=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --tracemalloc) trace=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $files =~ ^[1-9][0-9]*$ && $levels =~ ^[1-9][0-9]*$ ]] || { echo "--files and --levels take positive integers" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-/opt/lbvenv/bin/python}
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
need_pkg zstd zstd
need_pkg jq jq
need_ansible_python "$PY"
W=$(bench_workdir files-chain-rss "$workdir")
cleanup() {
    local rc=$?
    if [ "$keep" = 1 ]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_ansible_env "$repo" "$W/no-collections"   # the collection under test as lifeboat.backup in $W/coll; MODULES
write_run_module "$W/run-module.py"
if [ "$trace" = 1 ]; then   # the same wrapper, with Python's peak of traced allocations in its report
    {
        echo 'import tracemalloc'
        echo 'tracemalloc.start()'
        cat "$W/run-module.py"
        printf '%s\n' 'atexit.register(lambda: sys.stderr.write("LBTRACE peak_kb=%d\n" % (tracemalloc.get_traced_memory()[1] // 1024)))'
    } > "$W/run-module-trace.py"
    mv "$W/run-module-trace.py" "$W/run-module.py"
fi

data=$W/data/tree
log "making a tree of $files small files in $data"
"$PY" - "$data" "$files" <<'PY'
import os
import sys

root, total = sys.argv[1], int(sys.argv[2])
# the layout of bench/make-dataset.sh (logs, json, small, bin, tables), scaled to the number of files
parts = (('logs', 120, lambda i: 'logs/svc%02d/app-%04d.log' % (i % 12, i)),
         ('json', 1800, lambda i: 'json/d%02d/doc-%05d.json' % (i % 30, i)),
         ('small', 20000, lambda i: 'small/d%04d/conf-%05d.ini' % (i // 100, i)),
         ('bin', 10, lambda i: 'bin/blob-%03d.bin' % i),
         ('tables', 2600, lambda i: 'tables/t%02d/table-%05d.csv' % (i % 26, i)))
scale = total / 24530.0
for _kind, base, name in parts:
    for i in range(max(1, int(round(base * scale)))):
        path = os.path.join(root, name(i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(('%s %d\n' % (name(i), i)).encode() * 4)
PY

module() {  # module NAME ARGS_JSON LOG: run a module file directly, with the RSS report on stderr
    printf '{"ANSIBLE_MODULE_ARGS": %s}\n' "$2" > "$W/args-$1.json"
    PYTHONPATH=$W/coll "$PY" "$W/run-module.py" "$MODULES/$1.py" "$W/args-$1.json" > "$3" 2>&1
}
store_of() { printf '{"type": "filesystem", "path": "%s"}' "$1"; }
backup() {  # backup STORE INCREMENTAL LOG: one set with the tree, committed
    local sid expect
    module backup_set "{\"state\": \"started\", \"store\": $(store_of "$1")}" "$W/start.log"
    sid=$(grep -m1 '^{' "$W/start.log" | jq -r .set_id)
    module files_backup "{\"set_id\": \"$sid\", \"host\": \"localhost\", \"name\": \"data\", \"paths\": [\"$data\"], \"incremental\": $2, \"store\": $(store_of "$1")}" "$3"
    expect=$(grep -m1 '^{' "$3" | jq -c '{localhost: [.records[] | .component + "/" + .name]}')
    module backup_set "{\"state\": \"committed\", \"store\": $(store_of "$1"), \"set_id\": \"$sid\", \"hosts\": [\"localhost\"], \"expect\": $expect}" "$W/commit.log"
    grep -m1 '^{' "$W/commit.log" | jq -e '.status == "completed"' > /dev/null
    sleep 1.1   # set ids are made of seconds
}
rss_of() { grep -oE 'self_maxrss_kb=[0-9]+' "$1" | tail -1 | cut -d= -f2; }
trace_of() { grep -oE 'LBTRACE peak_kb=[0-9]+' "$1" | tail -1 | cut -d= -f2 || true; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

log "a chain of $levels levels"
for level in $(seq 0 $((levels - 1))); do
    if [ "$level" -gt 0 ]; then
        "$PY" "$bench_dir/mutate-dataset.py" "$data" 1 "$level" > /dev/null
    fi
    backup "$W/store-chain" true "$W/backup-$level.log"
done
log "a plain full of the final tree"
backup "$W/store-full" false "$W/backup-full.log"

rows=
for what in chain full; do
    dest=$W/restore-$what
    mkdir -p "$dest"
    module files_restore "{\"host\": \"localhost\", \"name\": \"data\", \"dest\": \"$dest\", \"store\": $(store_of "$W/store-$what")}" "$W/restore-$what.log"
    grep -m1 '^{' "$W/restore-$what.log" | jq -e '.changed' > /dev/null || { cat "$W/restore-$what.log" >&2; exit 1; }
    diff -r "$data" "$dest$data" > /dev/null || { log "the $what restore differs from the tree"; exit 1; }
    n=$(grep -m1 '^{' "$W/restore-$what.log" | jq '(.chain // [1]) | length')
    from=$(grep -m1 '^{' "$W/restore-$what.log" | jq -r '[.chain[]?.deletions_from // empty] | unique | join(", ")')
    rows="$rows| $what ($n level$([ "$n" = 1 ] || echo s)${from:+, deletions from $from}) | $(mib "$(rss_of "$W/restore-$what.log")")"
    if [ "$trace" = 1 ]; then rows="$rows | $(mib "$(trace_of "$W/restore-$what.log")")"; fi
    rows="$rows |"$'\n'
done
echo "files_restore of a tree of $(find "$data" -type f | wc -l) files ($(find "$data" -type d | wc -l) directories), $(date -u +%FT%TZ), $(tar --version | head -1), Python $("$PY" -c 'import platform; print(platform.python_version())')"
echo
if [ "$trace" = 1 ]; then
    echo "| restore | module peak RSS, MiB (tracemalloc on) | tracemalloc peak, MiB |"
    echo "|---|---|---|"
else
    echo "| restore | module peak RSS, MiB |"
    echo "|---|---|"
fi
printf '%s' "$rows"
