#!/usr/bin/env bash
# Incremental files backups (docs/incremental.md) against full ones and restic, module level and through the
# playbooks, in the same run: run as `bench/files.sh --incremental [options]` (or this script directly).
#
#   bench/files.sh --incremental [--runs N] [--size MB] [--dataset DIR] [--workdir DIR] [--restore-dir DIR]
#                                [--change PCT] [--chain-change PCT] [--keep] [--no-restic]
#
# Every round starts from a fresh copy of the dataset and measures, each through files_backup run directly (the
# module) and through playbooks/backup.yml (the play), into stores of their own:
#   full        the first backup of an incremental entry (level 0)
#   unchanged   the next run with nothing changed (level 1); restic's first backup and unchanged re-run of the
#               same tree are measured in the same round
#   change      a run after bench/mutate-dataset.py rewrote --change % of the bytes (default 5) and added,
#               renamed and deleted a few files and one small directory (level 2)
# then levels 3-6 with --chain-change % each (default 1), so each store holds a chain of 1 full + 6 increments,
# then a plain (non-incremental) full of the same final tree, and restores (module and play) of the chain
# against the plain full, in rotating order, into fresh directories; both restored trees are compared with the
# dataset. Peak RSS: the module's own (getrusage) and, for the play, the module process' VmHWM.
# Targets (issue 16): unchanged <= 0.10x full and faster than restic unchanged; change <= 0.20x full;
# chain restore <= 1.3x the full's restore; peak RSS as for full backups and restores.
# Writes a markdown report to stdout and bench/results/files-incremental-<timestamp>.md (raw data beside it).
# Environment: PY (python with ansible-core; default /opt/lbvenv/bin/python), BENCH_COLLECTIONS (default
# /opt/lbbench-venv/collections; ansible.posix's profile_tasks gives per-task times when it is there).
set -euo pipefail

runs=3
size_mb=1100
workdir=
dataset=
restore_dir=
keep=0
do_restic=1
change=5
chain_change=1
while [ $# -gt 0 ]; do
    case $1 in
        --incremental) shift ;;
        --runs) runs=$2; shift 2 ;;
        --size) size_mb=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --dataset) dataset=$2; shift 2 ;;
        --restore-dir) restore_dir=$2; shift 2 ;;
        --change) change=$2; shift 2 ;;
        --chain-change) chain_change=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --no-restic) do_restic=0; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-/opt/lbvenv/bin/python}
PYBIN=$(dirname "$PY")
BENCH_COLLECTIONS=${BENCH_COLLECTIONS:-/opt/lbbench-venv/collections}
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results files-incremental

W=$(bench_workdir files-incremental "$workdir")
poller_pid=
cleanup() {
    local rc=$?
    if [ -n "$poller_pid" ]; then
        kill "$poller_pid" 2>/dev/null || true
        wait "$poller_pid" 2>/dev/null || true
    fi
    if [ -n "${R:-}" ] && [ "$R" != "$W" ]; then rm -rf "$R"; fi
    if [ "$keep" = 1 ]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg zstd zstd
need_pkg jq jq
[ "$do_restic" = 0 ] || need_pkg restic restic
need_ansible_python "$PY"
fetch_collections "$BENCH_COLLECTIONS" ansible/posix
bench_ansible_env "$repo" "$BENCH_COLLECTIONS"
write_run_module "$W/run-module.py"
BENCH_SETTLE=1
mkdir -p "$W/logs"

if [ -n "$dataset" ]; then
    pristine=$(cd "$dataset" && pwd)
else
    pristine=$W/pristine
    log "making the dataset ($size_mb MB) in $pristine"
    "$bench_dir/make-dataset.sh" "$pristine" "$size_mb" >&2
fi
data=$W/data/dataset
if [ -n "$restore_dir" ]; then
    mkdir -p "$restore_dir"
    R=$(mktemp -d "$(cd "$restore_dir" && pwd)/lbbench-restore.XXXXXX")
else
    R=$W
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
raw_header

# ------------------------------------------------------------------ helpers

module() {  # module NAME ARGS_JSON: run a module file directly with ANSIBLE_MODULE_ARGS
    printf '{"ANSIBLE_MODULE_ARGS": %s}\n' "$2" > "$W/args-$1.json"
    PYTHONPATH=$W/coll "$PY" "$MODULES/$1.py" "$W/args-$1.json"
}
store_of() { printf '{"type": "filesystem", "path": "%s"}' "$1"; }
start_set() {  # start_set STORE: prints the new set's id
    module backup_set "{\"state\": \"started\", \"store\": $(store_of "$1")}" | jq -r .set_id
}
commit_set() {  # commit_set STORE SET_ID RECORDS_JSON_FILE
    local expect
    expect=$(grep -m1 '^{' "$3" | jq -c '{localhost: [.records[] | .component + "/" + .name]}')
    module backup_set "{\"state\": \"committed\", \"store\": $(store_of "$1"), \"set_id\": \"$2\", \"hosts\": [\"localhost\"], \"expect\": $expect}" \
        | jq -e '.status == "completed"' > /dev/null
}
module_backup() {  # module_backup NAME ROUND STORE INCREMENTAL(true|false): a measured files_backup, committed
    local sid
    sid=$(start_set "$3")
    printf '{"ANSIBLE_MODULE_ARGS": {"set_id": "%s", "host": "localhost", "name": "data", "paths": ["%s"], "incremental": %s, "store": %s}}\n' \
        "$sid" "$data" "$4" "$(store_of "$3")" > "$W/args-backup.json"
    warm "$data"
    measure "$1" "$2" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_backup.py" "$W/args-backup.json"
    end_row "$(module_rss "$LAST_LOG") level=$(grep -m1 '^{' "$LAST_LOG" | jq '.incremental.level // "plain"') size=$(grep -m1 '^{' "$LAST_LOG" | jq .size) pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .record.extra.seconds)"
    commit_set "$3" "$sid" "$LAST_LOG"
}
play_vars() {  # play_vars FILE STORE INCREMENTAL(true|false)
    cat > "$1" <<EOF
lifeboat_store: {type: filesystem, path: $2}
lifeboat_files: [{name: data, paths: [$data], incremental: $3}]
EOF
}
play_backup() {  # play_backup NAME ROUND VARS: a measured backup.yml
    warm "$data"
    start_poller AnsiballZ_files_backup "$W/hwm"
    measure "$1" "$2" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/backup.yml" -e "@$3"
    stop_poller
    end_row "task=$(task_seconds "$LAST_LOG" 'Archive files entries into the set') module_hwm_kb=$(cat "$W/hwm")"
}
mutate() {  # mutate PCT SEED
    "$PY" "$bench_dir/mutate-dataset.py" "$data" "$1" "$2" >> "$W/logs/mutations.jsonl"
}

# the fixed cost of a backup play: an incremental entry of one small file, unchanged
mkdir -p "$W/tiny"
echo "one small file" > "$W/tiny/file.txt"
cat > "$W/tiny.yml" <<EOF
lifeboat_store: {type: filesystem, path: $W/tinystore}
lifeboat_files: [{name: data, paths: [$W/tiny], incremental: true}]
EOF

# ------------------------------------------------------------------ rounds

for r in $(seq 1 "$runs"); do
    log "round $r/$runs: a fresh copy of the dataset"
    rm -rf "$W/data" "$W"/store-* "$W/restic" "$W/restic-cache"
    mkdir -p "$W/data"
    cp -a "$pristine" "$data"
    sync
    play_vars "$W/play-inc.yml" "$W/store-play" true
    play_vars "$W/play-full.yml" "$W/store-play-full" false

    log "round $r: full, unchanged"
    module_backup inc_full_module "$r" "$W/store-mod" true
    module_backup inc_unchanged_module "$r" "$W/store-mod" true
    play_backup inc_full_play "$r" "$W/play-inc.yml"
    play_backup inc_unchanged_play "$r" "$W/play-inc.yml"
    "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/backup.yml" -e "@$W/tiny.yml" > /dev/null
    measure inc_unchanged_play_tiny "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/backup.yml" -e "@$W/tiny.yml"
    end_row
    if [ "$do_restic" = 1 ]; then
        export RESTIC_PASSWORD=lifeboat-bench RESTIC_REPOSITORY=$W/restic RESTIC_CACHE_DIR=$W/restic-cache
        restic init -q > /dev/null
        warm "$data"
        measure restic_first "$r" restic backup -q "$data"; end_row
        warm "$data"
        measure restic_unchanged "$r" restic backup -q "$data"; end_row
    fi

    log "round $r: $change % changed"
    mutate "$change" "$r"
    module_backup inc_change_module "$r" "$W/store-mod" true
    play_backup inc_change_play "$r" "$W/play-inc.yml"

    log "round $r: levels 3-6 ($chain_change % each)"
    for level in 3 4 5 6; do
        mutate "$chain_change" "$((r * 100 + level))"
        module_backup "inc_chain${level}_module" "$r" "$W/store-mod" true
        play_backup "inc_chain${level}_play" "$r" "$W/play-inc.yml"
    done
    module_backup plain_full_module "$r" "$W/store-mod-full" false
    play_backup plain_full_play "$r" "$W/play-full.yml"

    log "round $r: restores"
    order=(chain_module full_module chain_play full_play)
    k=$(( (r - 1) % 4 ))
    for c in "${order[@]:k}" "${order[@]:0:k}"; do
        dest=$R/restore-$c.$r
        warm "$data"
        case $c in
            chain_module|full_module)
                st=$W/store-mod; [ "$c" = full_module ] && st=$W/store-mod-full
                printf '{"ANSIBLE_MODULE_ARGS": {"host": "localhost", "name": "data", "dest": "%s", "store": %s}}\n' \
                    "$dest" "$(store_of "$st")" > "$W/args-restore.json"
                measure "restore_$c" "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_restore.py" "$W/args-restore.json"
                end_row "$(module_rss "$LAST_LOG") levels=$(grep -m1 '^{' "$LAST_LOG" | jq '.chain | length') pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .seconds)"
                ;;
            chain_play|full_play)
                vars=$W/play-inc.yml; [ "$c" = full_play ] && vars=$W/play-full.yml
                start_poller AnsiballZ_files_restore "$W/hwm"
                measure "restore_$c" "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/restore.yml" \
                    -e "@$vars" -e "lifeboat_restore_dest=$dest"
                stop_poller
                end_row "module_hwm_kb=$(cat "$W/hwm")"
                ;;
        esac
        diff -rq "$data" "$dest$data" > /dev/null || { log "the $c restore differs from the dataset"; exit 1; }
    done
    rm -rf "$R"/restore-*
    sync
    sleep 5
done

# ------------------------------------------------------------------ report

env_line="$(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB RAM; $(tar --version | head -1); zstd $(zstd -V | grep -oE 'v[0-9.]+'); \
$("$PYBIN/ansible-playbook" --version | sed -n 1p); Python $("$PY" -c 'import platform; print(platform.python_version())')"
if [ "$do_restic" = 1 ]; then env_line="$env_line; $(restic version | cut -d' ' -f1-2)"; fi
jq -n --arg data_bytes "$(du -sb "$pristine" | cut -f1)" --arg data_files "$(find "$pristine" -type f | wc -l)" \
    --arg env "$env_line" --arg change "$change" --arg chain_change "$chain_change" --arg started "$stamp" \
    --arg restore_fs "$(df -PT "$R" | awk 'NR == 2 { print $2 }')" \
    --arg load_start "$load_start" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" '$ARGS.named' > "$results_dir/files-incremental-$stamp-meta.json"
cp "$W/logs/mutations.jsonl" "$results_dir/files-incremental-$stamp-mutations.jsonl"
"$PY" "$bench_dir/files_incremental_report.py" "$results_dir/files-incremental-$stamp" > "$report"
cp -r "$W/logs" "$results_dir/files-incremental-$stamp-logs"
cat "$report"
log "report: $report (raw data: $raw)"
