#!/usr/bin/env bash
# Files backup/restore benchmark: lifeboat.backup against `tar | zstd`, community.general.archive and restic.
#
#   bench/files.sh [--runs N] [--size MB] [--dataset DIR] [--workdir DIR] [--restore-dir DIR] [--keep] [--no-2x]
#                  [--no-archive] [--no-restic] [--encrypt] [--modules-only]
#   bench/files.sh --incremental [options]: incremental backups instead (bench/files_incremental.sh --help)
#
# Measures wall time, CPU (user+sys), peak RSS and the CPU used by other processes of the machine during
# each run (this machine type is shared), with /usr/bin/time, hyperfine, restic and the playbooks as a user
# runs them. Lifeboat and its references run in interleaved rounds (ref, lifeboat, ref, lifeboat...) so
# that a change of the neighbours' load hits both; ratios are computed within each round, then the median
# is reported. Everything runs with a warm page cache (the dataset is read once before every run).
# Writes a markdown report to stdout and to bench/results/files-<timestamp>.md (raw data and the log of
# every run beside it; bench/results/ is gitignored).
#
# Options:
#   --runs N      rounds of the lifeboat-vs-reference comparison (default 3)
#   --size MB     dataset size (default 1100, the shape of shared/notes/baselines.md); the 2x check uses 2*MB
#   --workdir DIR where datasets, stores and restores go (default: a new dir under /var/tmp); must be on disk
#   --keep        keep the work directory (datasets included) instead of deleting it at the end
#   --dataset DIR use this dataset (bench/make-dataset.sh DIR SIZE, with --size SIZE) instead of making one; kept
#   --restore-dir DIR  restore into this directory instead of the work directory, e.g. a tmpfs: extracting
#                 24k files into this VM's ext4 varies 2-4x in kernel time from run to run, which hides
#                 what the tools themselves cost (the archives are still read from the work directory)
#   --no-2x       skip the 2x-data memory check
#   --no-archive  skip community.general.archive (gz takes minutes: it is Python gzip level 9)
#   --no-restic   skip restic
#   --encrypt     also run files_backup and files_restore with age encryption (an X25519 recipient made for the
#                 run), in the same rounds as the plain module runs: the ratio encrypted / plain (target <= 1.10)
#   --modules-only  measure only the references and the modules run directly (no playbooks, no hyperfine):
#                 with --encrypt --no-2x --no-archive --no-restic, the quick encryption comparison
# Environment: PY (python with ansible-core; default /opt/lbvenv/bin/python), BENCH_COLLECTIONS (where
# community.general and ansible.posix are, or are put; default /opt/lbbench-venv/collections).
set -euo pipefail
for arg in "$@"; do   # the incremental benchmark is a script of its own (bench/files_incremental.sh)
    if [ "$arg" = --incremental ]; then exec "$(dirname "${BASH_SOURCE[0]}")/files_incremental.sh" "$@"; fi
done

runs=3
size_mb=1100
workdir=
dataset=
restore_dir=
keep=0
do_2x=1
do_archive=1
do_restic=1
encrypt=0
modules_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --size) size_mb=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --dataset) dataset=$2; shift 2 ;;
        --restore-dir) restore_dir=$2; shift 2 ;;
        --no-2x) do_2x=0; shift ;;
        --no-archive) do_archive=0; shift ;;
        --no-restic) do_restic=0; shift ;;
        --encrypt) encrypt=1; shift ;;
        --modules-only) modules_only=1; shift ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ $size_mb =~ ^[0-9]+$ ]] || { echo "--size must be an integer (MB)" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-/opt/lbvenv/bin/python}
PYBIN=$(dirname "$PY")
BENCH_COLLECTIONS=${BENCH_COLLECTIONS:-/opt/lbbench-venv/collections}
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
bench_results files

W=$(bench_workdir files "$workdir")
poller_pid=

cleanup() {
    local rc=$?
    if [ -n "$poller_pid" ]; then
        kill "$poller_pid" 2>/dev/null || true
        wait "$poller_pid" 2>/dev/null || true
    fi
    if [ -n "${R:-}" ] && [ "$R" != "$W" ]; then
        rm -rf "$R"
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

# ------------------------------------------------------------------ tools

[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg hyperfine hyperfine
need_pkg zstd zstd
need_pkg jq jq
[ "$do_restic" = 0 ] || need_pkg restic restic
[ "$encrypt" = 0 ] || need_pkg age age
need_ansible_python "$PY"

# community.general (archive) and ansible.posix (profile_tasks) come with the `ansible` package on PyPI
fetch_collections "$BENCH_COLLECTIONS" community/general ansible/posix
have_cg=0
[ -d "$BENCH_COLLECTIONS/ansible_collections/community/general" ] && have_cg=1
bench_ansible_env "$repo" "$BENCH_COLLECTIONS"
write_run_module "$W/run-module.py"

# ------------------------------------------------------------------ measuring

# Before each measured run (measure, with BENCH_SETTLE=1): write back dirty pages left by the previous run
# (and let the discards of a removed tree go through), so that no candidate pays for the one before it.
BENCH_SETTLE=1

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
raw_header


# ------------------------------------------------------------------ data

mkdir -p "$W/logs" "$W/out"
need_free_mb=$((size_mb * 6))
free_mb=$(df -Pm "$W" | awk 'NR == 2 { print $4 }')
if [ "$free_mb" -lt "$need_free_mb" ]; then
    echo "$W has $free_mb MB free; this run needs about $need_free_mb MB (use --workdir, or a smaller --size)" >&2
    exit 2
fi
if [ -n "$dataset" ]; then
    data=$(cd "$dataset" && pwd)
    own_data=0
else
    data=$W/data/dataset
    own_data=1
    log "making the dataset ($size_mb MB) in $data"
    "$bench_dir/make-dataset.sh" "$data" "$size_mb" >&2
fi
data_bytes=$(du -sb "$data" | cut -f1)
data_files=$(find "$data" -type f | wc -l)

store=$W/store
if [ -n "$restore_dir" ]; then
    mkdir -p "$restore_dir"
    R=$(mktemp -d "$(cd "$restore_dir" && pwd)/lbbench-restore.XXXXXX")
else
    R=$W
fi
rest_lb=$R/restore-lb
rest_mod=$R/restore-mod
rest_raw=$R/restore-raw
ref_out=$W/out/ref.tar.zst
cat > "$W/floor.yml" <<'EOF'
- name: The cost of running any playbook here
  hosts: all
  gather_facts: false
  tasks:
    - name: One module run
      ansible.builtin.command: "true"
      changed_when: false
EOF
# the fixed cost of the playbooks: the same run on a directory holding one small file
mkdir -p "$W/tiny"
echo "one small file" > "$W/tiny/file.txt"
cat > "$W/tiny.yml" <<EOF
lifeboat_store: {type: filesystem, path: $W/tinystore}
lifeboat_files: [{name: data, paths: [$W/tiny]}]
EOF
cat > "$W/vars.yml" <<EOF
lifeboat_store: {type: filesystem, path: $store}
lifeboat_files: [{name: data, paths: [$data]}]
EOF

# module args for direct invocation
store_json="{\"type\": \"filesystem\", \"path\": \"$store\"}"
# with --encrypt: the recipient on the backup side, the identity (a file) on the restore side; the encrypted
# sets live in a store of their own, so that the plain and the encrypted restores each find theirs
enc_store=$W/store-enc
enc_store_json="{\"type\": \"filesystem\", \"path\": \"$enc_store\"}"
encryption_json=
decryption_json=
if [ "$encrypt" = 1 ]; then
    rm -f "$W/age-identity.txt"
    age-keygen -o "$W/age-identity.txt" 2>/dev/null
    encryption_json="\"encryption\": {\"recipients\": [\"$(age-keygen -y "$W/age-identity.txt")\"]}, "
    decryption_json="\"decryption\": {\"identity_file\": \"$W/age-identity.txt\"}, "
fi
variant_store() {  # variant_store [enc]: the store dir, then its JSON, of the plain or the encrypted variant
    if [ "${1:-}" = enc ]; then printf '%s\n%s\n' "$enc_store" "$enc_store_json"; else printf '%s\n%s\n' "$store" "$store_json"; fi
}
start_set() {  # start_set [enc]: a fresh store with one started set; prints the set id
    local dir json
    { read -r dir; read -r json; } < <(variant_store "${1:-}")
    rm -rf "$dir"
    printf '{"ANSIBLE_MODULE_ARGS": {"state": "started", "store": %s}}\n' "$json" > "$W/args-start.json"
    PYTHONPATH=$W/coll "$PY" "$MODULES/backup_set.py" "$W/args-start.json" | jq -r .set_id
}
commit_set() {  # commit_set SET_ID [enc]
    local dir json
    { read -r dir; read -r json; } < <(variant_store "${2:-}")
    printf '{"ANSIBLE_MODULE_ARGS": {"state": "committed", "set_id": "%s", "hosts": ["localhost"], "store": %s}}\n' \
        "$1" "$json" > "$W/args-commit.json"
    PYTHONPATH=$W/coll "$PY" "$MODULES/backup_set.py" "$W/args-commit.json" | jq -e '.status == "completed"' >/dev/null
}
backup_args() {  # backup_args SET_ID PATH [enc]: args-backup.json (args-backup-enc.json, encrypted)
    local dir json enc='' out=$W/args-backup.json
    { read -r dir; read -r json; } < <(variant_store "${3:-}")
    if [ "${3:-}" = enc ]; then enc=$encryption_json; out=$W/args-backup-enc.json; fi
    printf '{"ANSIBLE_MODULE_ARGS": {%s"set_id": "%s", "host": "localhost", "name": "data", "paths": ["%s"], "store": %s}}\n' \
        "$enc" "$1" "$2" "$json" > "$out"
}
restore_args() {  # restore_args DEST [enc]: args-restore.json (args-restore-enc.json, with the identity)
    local dir json dec='' out=$W/args-restore.json
    { read -r dir; read -r json; } < <(variant_store "${2:-}")
    if [ "${2:-}" = enc ]; then dec=$decryption_json; out=$W/args-restore-enc.json; fi
    printf '{"ANSIBLE_MODULE_ARGS": {%s"host": "localhost", "name": "data", "dest": "%s", "store": %s}}\n' \
        "$dec" "$1" "$json" > "$out"
}

ref_cmd="set -o pipefail; tar -cf - -C '$(dirname "$data")' '$(basename "$data")' | zstd -q -T0 -3 > '$ref_out'"
ref_sync_cmd="$ref_cmd && sync '$ref_out'"
# the same pipe with the exact tar and zstd arguments files_backup uses (plugins/module_utils/_files/logic.py)
ref_lbtar_cmd="set -o pipefail; LC_ALL=C tar --create --file=- --directory=/ --format=posix --sparse --totals \
--pax-option=delete=atime,delete=ctime --warning=no-file-ignored --xattrs '--xattrs-include=*' --acls -- '${data#/}' \
| zstd -q -c -T0 -3 > '$ref_out' && sync '$ref_out'"
raw_restore_cmd="set -o pipefail; mkdir -p '$rest_raw' && zstd -q -dc '$ref_out.keep' | tar -x -C '$rest_raw'"

log "warming the page cache"
warm "$data"
warm "$data"

# ------------------------------------------------------------------ interleaved rounds

for r in $(seq 1 "$runs"); do
    log "round $r/$runs: backups"
    rm -f "$ref_out"; warm "$data"
    measure ref "$r" bash -c "$ref_cmd"; end_row "size=$(stat -c %s "$ref_out")"

    cp "$ref_out" "$ref_out.keep"
    if [ "$modules_only" = 0 ]; then
        rm -f "$ref_out"; warm "$data"
        measure ref_sync "$r" bash -c "$ref_sync_cmd"; end_row

        rm -f "$ref_out"; warm "$data"
        measure ref_lbtar "$r" bash -c "$ref_lbtar_cmd"; end_row

        rm -rf "$store"; warm "$data"
        start_poller AnsiballZ_files_backup "$W/hwm"
        measure lb_playbook "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/backup.yml" -e "@$W/vars.yml"
        stop_poller
        rec=$(find "$store" -name 'data.tar.*.record.json' | head -1)
        end_row "task=$(task_seconds "$LAST_LOG" 'Archive files entries into the set') pipeline=$(jq .extra.seconds "$rec") module_hwm_kb=$(cat "$W/hwm") size=$(jq .size "$rec")"

        measure ansible_floor "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$W/floor.yml"; end_row
        rm -rf "$W/tinystore" "$W/tinyrestore"
        measure lb_playbook_empty "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/backup.yml" -e "@$W/tiny.yml"
        end_row
        measure lb_restore_playbook_empty "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/restore.yml" \
            -e "@$W/tiny.yml" -e "lifeboat_restore_dest=$W/tinyrestore"
        end_row
    fi

    # plain and encrypted module runs back to back, in an order that alternates from round to round
    variants=(plain)
    if [ "$encrypt" = 1 ]; then
        if [ $((r % 2)) = 1 ]; then variants=(plain enc); else variants=(enc plain); fi
    fi
    for v in "${variants[@]}"; do
        if [ "$v" = enc ]; then
            name=lb_module_enc; tag=enc; args=$W/args-backup-enc.json
        else
            name=lb_module; tag=; args=$W/args-backup.json
        fi
        sid=$(start_set $tag); backup_args "$sid" "$data" $tag; warm "$data"
        measure "$name" "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_backup.py" "$args"
        end_row "$(module_rss "$LAST_LOG") pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .record.extra.seconds || true) size=$(grep -m1 '^{' "$LAST_LOG" | jq .size || true)"
        commit_set "$sid" $tag
    done

    # Restores write 1.1 GB of new files. On this machine's ext4 (mounted with online discard) extracting
    # right after a big tree was deleted costs up to 3x the system time, so no restore is measured right
    # after a deletion: each goes into a fresh directory, the round's trees are removed at its end, and
    # the order of the three candidates rotates from round to round.
    log "round $r/$runs: restores"
    restore_order=(raw lb_playbook lb_module)
    [ "$modules_only" = 0 ] || restore_order=(raw lb_module)
    [ "$encrypt" = 0 ] || restore_order+=(lb_module_enc)
    k=$(( (r - 1) % ${#restore_order[@]} ))
    for c in "${restore_order[@]:k}" "${restore_order[@]:0:k}"; do
        warm "$data"
        case $c in
            raw)
                measure raw_restore "$r" bash -c "set -o pipefail; mkdir -p '$rest_raw.$r' && zstd -q -dc '$ref_out.keep' | tar -x -C '$rest_raw.$r'"
                end_row ;;
            lb_playbook)
                start_poller AnsiballZ_files_restore "$W/hwm"
                measure lb_restore_playbook "$r" "$PYBIN/ansible-playbook" -i localhost, -c local "$repo/playbooks/restore.yml" \
                    -e "@$W/vars.yml" -e "lifeboat_restore_dest=$rest_lb.$r"
                stop_poller
                end_row "task=$(task_seconds "$LAST_LOG" 'lifeboat.backup.restore : Restore files ---') module_hwm_kb=$(cat "$W/hwm")"
                ;;
            lb_module)
                restore_args "$rest_mod.$r"
                measure lb_restore_module "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_restore.py" "$W/args-restore.json"
                end_row "$(module_rss "$LAST_LOG") pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .seconds || true)"
                ;;
            lb_module_enc)
                restore_args "$rest_mod.enc.$r" enc
                measure lb_restore_module_enc "$r" env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_restore.py" "$W/args-restore-enc.json"
                end_row "$(module_rss "$LAST_LOG") pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .seconds || true)"
                ;;
        esac
    done
    if [ "$modules_only" = 0 ]; then
        diff -rq "$data" "$rest_lb.$r$data" > /dev/null || { log "the restore.yml tree differs from the dataset"; exit 1; }
    fi
    diff -rq "$data" "$rest_mod.$r$data" > /dev/null || { log "the files_restore tree differs from the dataset"; exit 1; }
    if [ "$encrypt" = 1 ]; then
        diff -rq "$data" "$rest_mod.enc.$r$data" > /dev/null || { log "the encrypted files_restore tree differs from the dataset"; exit 1; }
    fi
    rm -rf "$rest_raw.$r" "$rest_lb.$r" "$rest_mod.$r" "$rest_mod.enc.$r"
    sync
    sleep 5
done

# ------------------------------------------------------------------ hyperfine: the references alone

if [ "$modules_only" = 0 ]; then
    log "hyperfine: references, 5 runs each"
    hyperfine --style basic --runs 5 --export-json "$results_dir/files-$stamp-hyperfine.json" \
        --prepare "rm -f '$ref_out'; tar -cf - -C '$(dirname "$data")' '$(basename "$data")' | cat > /dev/null" \
        -n 'tar | cat (read limit)' "tar -cf - -C '$(dirname "$data")' '$(basename "$data")' | cat > /dev/null" \
        -n 'tar | zstd -T0 -3' "bash -c \"$ref_cmd\"" >&2
    hyperfine --style basic --runs 5 --export-json "$results_dir/files-$stamp-hyperfine-restore.json" \
        --prepare "rm -rf '$rest_raw'; sync; sleep 5" -n 'zstd -dc | tar -x' "bash -c \"$raw_restore_cmd\"" >&2
    rm -rf "$rest_raw"
fi

# ------------------------------------------------------------------ the others (one run: far from the targets)

if [ "$do_restic" = 1 ]; then
    log "restic"
    export RESTIC_PASSWORD=lifeboat-bench RESTIC_REPOSITORY=$W/restic RESTIC_CACHE_DIR=$W/restic-cache
    restic init -q > /dev/null
    warm "$data"
    measure restic_first 1 restic backup -q "$data"; end_row
    measure restic_unchanged 1 restic backup -q "$data"; end_row
    rm -rf "$W/restic-restore"; warm "$data"
    measure restic_restore 1 restic restore -q latest --target "$W/restic-restore"; end_row
    rm -rf "$W/restic" "$W/restic-cache" "$W/restic-restore"
fi

cg_zstd_msg=
if [ "$do_archive" = 1 ] && [ "$have_cg" = 1 ]; then
    log "community.general.archive (format zstd is not offered; trying it to record the answer)"
    cg_zstd_msg=$("$PYBIN/ansible" localhost -i localhost, -c local -m community.general.archive -o \
        -a "path=$data dest=$W/out/cg.tar.zst format=zstd" 2>&1 | grep -oE '"msg": "[^"]*"' | head -1 || true)
    log "community.general.archive format=gz (Python tarfile + gzip level 9: minutes)"
    warm "$data"
    measure cg_archive_gz 1 "$PYBIN/ansible" localhost -i localhost, -c local -m community.general.archive \
        -a "path=$data dest=$W/out/cg.tar.gz format=gz"
    end_row "size=$(stat -c %s "$W/out/cg.tar.gz")"
    rm -f "$W/out/cg.tar.gz"
fi

# ------------------------------------------------------------------ 2x data: memory stays flat

if [ "$do_2x" = 1 ]; then
    rm -rf "$store"
    data2=$W/data/dataset2x
    log "making the 2x dataset ($((size_mb * 2)) MB)"
    "$bench_dir/make-dataset.sh" "$data2" "$((size_mb * 2))" >&2
    data2_bytes=$(du -sb "$data2" | cut -f1)
    data2_files=$(find "$data2" -type f | wc -l)
    if [ "$keep" = 0 ] && [ "$own_data" = 1 ]; then
        rm -rf "$data"  # the 1x dataset is no longer needed; keeps disk use down
    fi
    warm "$data2"
    rm -f "$ref_out"
    measure ref_2x 1 bash -c "set -o pipefail; tar -cf - -C '$(dirname "$data2")' '$(basename "$data2")' | zstd -q -T0 -3 > '$ref_out'"
    end_row
    rm -f "$ref_out"
    sid=$(start_set); backup_args "$sid" "$data2"; warm "$data2"
    measure lb_module_2x 1 env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_backup.py" "$W/args-backup.json"
    end_row "$(module_rss "$LAST_LOG") pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .record.extra.seconds || true)"
    commit_set "$sid"
    rm -rf "$rest_mod"; restore_args "$rest_mod"
    measure lb_restore_module_2x 1 env PYTHONPATH="$W/coll" "$PY" "$W/run-module.py" "$MODULES/files_restore.py" "$W/args-restore.json"
    end_row "$(module_rss "$LAST_LOG") pipeline=$(grep -m1 '^{' "$LAST_LOG" | jq .seconds || true)"
    rm -rf "$rest_mod" "$store" "$data2"
fi

# ------------------------------------------------------------------ report

env_line="$(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB RAM; $(tar --version | head -1); zstd $(zstd -V | grep -oE 'v[0-9.]+'); \
$("$PYBIN/ansible-playbook" --version | sed -n 1p); $([ "$encrypt" = 0 ] || echo "age $(age --version);") Python $("$PY" -c 'import platform; print(platform.python_version())')"
if [ "$do_restic" = 1 ]; then env_line="$env_line; $(restic version | cut -d' ' -f1-2)"; fi
if [ "$have_cg" = 1 ]; then env_line="$env_line; community.general $(jq -r .collection_info.version "$BENCH_COLLECTIONS/ansible_collections/community/general/MANIFEST.json")"; fi

jq -n --arg data_bytes "$data_bytes" --arg data_files "$data_files" --arg size_mb "$size_mb" --arg env "$env_line" \
    --arg data2_bytes "${data2_bytes:-0}" --arg data2_files "${data2_files:-0}" --arg cg_zstd "$cg_zstd_msg" \
    --arg restore_fs "$(df -PT "$R" | awk 'NR == 2 { print $2 }')" \
    --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" --arg load_start "$load_start" --arg started "$stamp" \
    '$ARGS.named' > "$results_dir/files-$stamp-meta.json"
"$PY" "$bench_dir/files_report.py" "$results_dir/files-$stamp" > "$report"
cp -r "$W/logs" "$results_dir/files-$stamp-logs"
cat "$report"
log "report: $report (raw data: $raw, logs of every run: $results_dir/files-$stamp-logs)"
