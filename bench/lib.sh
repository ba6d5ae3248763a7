# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with the sourcing script (bench_dir in; raw, report, MODULES, LAST_LOG out)
# Shared helpers of the benchmark scripts (bench/files.sh, bench/postgresql.sh, bench/s3.sh). Sourced, not run.
#
# The caller sets bench_dir (this directory) before sourcing, and W (work directory) before measure/end_row.

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

__bench_apt_updated=0
need_ansible_python() {  # need_ansible_python PY: exit 2 unless PY is a python that imports ansible-core
    if [ ! -x "$1" ] || ! "$1" -c 'import ansible' 2>/dev/null; then
        echo "no python with ansible-core at $1 (set PY=, e.g. PY=\$LIFEBOAT_WORK/venv/bin/python after scripts/test.sh unit)" >&2
        exit 2
    fi
}

need_pkg() {  # need_pkg COMMAND PACKAGE: install the Debian package when the command is missing
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $2"
    if [ "$__bench_apt_updated" = 0 ]; then
        apt-get update -qq >/dev/null
        __bench_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

bench_results() {  # bench_results NAME: sets stamp, results_dir, report (.md) and raw (.tsv) of this run
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    results_dir=$bench_dir/results
    mkdir -p "$results_dir"
    report=$results_dir/$1-$stamp.md
    raw=$results_dir/$1-$stamp.tsv
}

bench_workdir() {  # bench_workdir NAME [DIR]: prints DIR (made absolute), or a new /var/tmp/lbbench-NAME.XXXXXX
    if [ -z "${2:-}" ]; then
        mktemp -d "/var/tmp/lbbench-$1.XXXXXX"
    else
        mkdir -p "$2"
        (cd "$2" && pwd)
    fi
}

# fetch_collections DEST NAMESPACE/NAME...: the collections (e.g. community/general) out of the `ansible`
# package on PyPI (pip download: ~55 MB), unless DEST has them all. Galaxy is not reachable from here.
fetch_collections() {
    local dest=$1 c missing=0 dl
    shift
    for c in "$@"; do
        [ -d "$dest/ansible_collections/$c" ] || missing=1
    done
    [ "$missing" = 1 ] || return 0
    log "fetching $* (pip download ansible) into $dest"
    dl=$(mktemp -d)
    mkdir -p "$dest"
    if "$PY" -m pip download -q --no-deps 'ansible>=12,<13' -d "$dl" >/dev/null 2>&1; then
        "$PY" - "$dl" "$dest" "$@" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + '/ansible-*.whl')[0]
z = zipfile.ZipFile(whl)
want = tuple('ansible_collections/%s/' % c for c in sys.argv[3:])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(want)])
PY
    else
        log "pip download ansible failed: what needs $* is skipped"
    fi
    rm -rf "$dl"
}

# bench_ansible_env REPO COLLECTIONS: the collection under test importable as lifeboat.backup wherever the
# repo is (a symlink under $W/coll), the extra collections beside it, Ansible's temp dirs under $W, and
# per-task times (ansible.posix.profile_tasks) when that collection is there. Sets MODULES.
bench_ansible_env() {
    mkdir -p "$W/coll/ansible_collections/lifeboat"
    ln -sfn "$1" "$W/coll/ansible_collections/lifeboat/backup"
    export ANSIBLE_COLLECTIONS_PATH=$W/coll:$2
    export ANSIBLE_PYTHON_INTERPRETER=$PY
    export ANSIBLE_LOCAL_TEMP=$W/ansible-local ANSIBLE_REMOTE_TEMP=$W/ansible-remote
    export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0
    if [ -d "$2/ansible_collections/ansible/posix" ]; then
        export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
    fi
    MODULES=$1/plugins/modules
}

# write_run_module PATH: a wrapper that runs a module file directly (no ansible-playbook, no AnsiballZ) and
# reports at exit the peak RSS of the module's own Python process (getrusage SELF) and of the largest of
# its children (tar, zstd, pg_dump...), read back by module_rss.
write_run_module() {
    cat > "$1" <<'PY'
import atexit, resource, runpy, sys


def report():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write('LBBENCH self_maxrss_kb=%d self_cpu=%.3f children_maxrss_kb=%d children_cpu=%.3f\n'
                     % (s.ru_maxrss, s.ru_utime + s.ru_stime, c.ru_maxrss, c.ru_utime + c.ru_stime))


atexit.register(report)
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_path(module, run_name='__main__')
PY
}
module_rss() {  # module_rss LOG: "self_maxrss_kb=... self_cpu=... children_maxrss_kb=... children_cpu=..."
    grep -oE 'LBBENCH .*' "$1" | tail -1 | sed 's/^LBBENCH //'
}

busy_jiffies() {  # busy CPU jiffies of the whole machine since boot
    local _cpu user nice system _idle _iowait irq softirq steal _rest
    read -r _cpu user nice system _idle _iowait irq softirq steal _rest < /proc/stat
    echo $((user + nice + system + irq + softirq + steal))
}
__bench_hz=$(getconf CLK_TCK)

raw_header() { printf 'name\tround\twall\tuser\tsys\tmaxrss_kb\tothers_cpu\tload1\textra\n' > "$raw"; }

# measure NAME ROUND CMD...: runs CMD under /usr/bin/time (log in $W/logs/NAME.ROUND.log, kept in LAST_LOG)
# and starts its row of $raw: wall, user, sys, max RSS of the largest process, and the CPU-s the rest of the
# machine used meanwhile. end_row ends the row with key=value facts collected after the run. A failing
# CMD stops the benchmark with the end of its log. With BENCH_SETTLE=1, dirty pages are written back first.
measure() {
    local name=$1 round=$2 b0 b1 load wall user sys rss others
    shift 2
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "${BENCH_SETTLE:-0}" = 1 ]; then
        sync
        sleep 1
    fi
    b0=$(busy_jiffies)
    if ! /usr/bin/time -f '%e %U %S %M' -o "$W/time.out" "$@" > "$W/logs/$name.$round.log" 2>&1; then
        log "FAILED: $name (round $round); see below"
        tail -30 "$W/logs/$name.$round.log" >&2
        exit 1
    fi
    b1=$(busy_jiffies)
    read -r wall user sys rss <<< "$(tail -1 "$W/time.out")"
    others=$(awk -v b="$((b1 - b0))" -v hz="$__bench_hz" -v u="$user" -v s="$sys" \
        'BEGIN { o = b / hz - u - s; if (o < 0) o = 0; printf "%.1f", o }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t' "$name" "$round" "$wall" "$user" "$sys" "$rss" "$others" "$load" \
        >> "$raw"
    LAST_LOG=$W/logs/$name.$round.log
}
end_row() { printf '%s\n' "${1:-}" >> "$raw"; }

warm() {  # read a tree once so every candidate runs with a warm page cache (GNU tar skips /dev/null)
    tar -cf - -C "$(dirname "$1")" "$(basename "$1")" | cat > /dev/null
}

poll_hwm() {  # poll_hwm PATTERN OUTFILE: highest VmHWM (kB) of any process whose cmdline matches
    local pattern=$1 out=$2 max=0 pid key val _unit
    echo 0 > "$out"
    while :; do
        for pid in $(pgrep -f -- "$pattern" || true); do
            while read -r key val _unit; do
                if [ "$key" = VmHWM: ]; then
                    if [ "$val" -gt "$max" ]; then
                        max=$val
                        echo "$max" > "$out"
                    fi
                    break
                fi
            done < "/proc/$pid/status" 2>/dev/null || true
        done
        sleep 0.2
    done
}
start_poller() { poll_hwm "$1" "$2" & poller_pid=$!; }
stop_poller() {
    kill "$poller_pid" 2>/dev/null || true
    wait "$poller_pid" 2>/dev/null || true
    poller_pid=
}
task_seconds() {  # task_seconds LOG 'task name': the profile_tasks time of a task, or empty
    grep -F -- "$2" "$1" | grep -oE '[0-9.]+s$' | tail -1 | tr -d s || true
}
