#!/usr/bin/env bash
# Per-host cost of a backup: one play backing up 1, 10 and 50 hosts, against Ansible's own floor.
#
#   bench/awx_hosts.sh [--hosts "1 10 50"] [--runs N] [--forks 50] [--keep]
#
# Every host is an inventory host on the local connection with its own small directory (5 files, 20 KB) and
# the same filesystem store, as a large AWX inventory would be backed up by one job (forks 50). For each host
# count the script runs, in interleaved rounds:
#   - backup:  playbooks/backup.yml (lifeboat_phase all: preflight, set start, parts, commit);
#   - floor:   a play with the same module tasks as the backup run executed (counted from the backup run's
#              own task results: per host, and run once) where each is ansible.builtin.command: "true".
# It reports wall time and CPU (user+sys of ansible-playbook and everything it started, /usr/bin/time), CPU per
# host, the ratio backup/floor per host, and for the backup run the tasks per host by kind (module tasks,
# controller-side actions: set_fact, debug, assert, include_*..., and the skipped tasks, which cost a worker
# process per host as well) with the size of each module's payload.
#
# Writes a markdown report to stdout and to bench/results/awx_hosts-<timestamp>.md.
# Environment: PY (python with ansible-core; default $LIFEBOAT_VENV/bin/python or /tmp/lifeboat-work/venv).
set -euo pipefail

host_counts="1 10 50"
runs=3
forks=50
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --hosts) host_counts=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --forks) forks=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

bench_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench_dir")
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
PY=${PY:-${LIFEBOAT_VENV:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv}/bin/python}
bin=$(dirname "$PY")
[ -x "$bin/ansible-playbook" ] || { echo "no ansible-playbook beside $PY (set PY)" >&2; exit 2; }
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time

W=$(bench_workdir awx_hosts)
cleanup() { [ "$keep" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
bench_results awx_hosts

# the collection as this checkout has it
mkdir -p "$W/collections/ansible_collections/lifeboat"
ln -s "$repo" "$W/collections/ansible_collections/lifeboat/backup"
export ANSIBLE_COLLECTIONS_PATH="$W/collections" ANSIBLE_PYTHON_INTERPRETER="$PY" ANSIBLE_HOST_KEY_CHECKING=False \
    ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_NOCOLOR=1 PYTHONWARNINGS=ignore ANSIBLE_DEPRECATION_WARNINGS=False

make_inventory() {  # make_inventory N: inventory-N.yml with N local hosts, each with its own small directory
    local n=$1 i h
    {
        echo "all:"
        echo "  vars:"
        echo "    ansible_connection: local"
        echo "    lifeboat_store: {type: filesystem, path: $W/store-$n}"
        echo "  hosts:"
        for i in $(seq 1 "$n"); do
            h=$(printf 'h%03d' "$i")
            mkdir -p "$W/data/$h"
            for f in 1 2 3 4 5; do head -c 4096 /dev/urandom > "$W/data/$h/f$f"; done
            echo "    $h:"
            echo "      lifeboat_files: [{name: app, paths: [$W/data/$h]}]"
        done
    } > "$W/inventory-$n.yml"
}

measure() {  # measure OUT CMD...: runs CMD under /usr/bin/time; OUT gets "wall user sys"
    local out=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$out" "$@" > "$out.log" 2>&1 || { cat "$out.log" >&2; return 1; }
}

# a callback that records, for every task result, the host, the action and whether it ran once for the play
mkdir -p "$W/callback_plugins"
cat > "$W/callback_plugins/lbcount.py" <<'PY'
import json
import os
from ansible.plugins.callback import CallbackBase
DOCUMENTATION = """
name: lbcount
type: aggregate
short_description: task results per host and action (bench/awx_hosts.sh)
description: [Writes LBCOUNT_OUT, a JSON list of results.]
"""
class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'lbcount'
    CALLBACK_NEEDS_ENABLED = True
    def __init__(self):
        super().__init__()
        self.rows = []
    def _add(self, result, skipped=False):
        task = result._task
        self.rows.append({'host': result._host.get_name(), 'action': task.action, 'once': bool(task.run_once),
                          'task': task.get_name(), 'skipped': skipped})
    v2_runner_on_ok = v2_runner_on_failed = _add
    def v2_runner_on_skipped(self, result):
        self._add(result, skipped=True)
    def v2_playbook_on_stats(self, stats):
        with open(os.environ['LBCOUNT_OUT'], 'w') as f:
            json.dump(self.rows, f)
PY

count_tasks() {  # count_tasks N: from the results of a backup run, the task counts and the floor play
    "$PY" - "$W/count-$1.json" "$W/floor-$1.yml" "$W/kinds-$1.tsv" "$1" <<'PY'
import collections, json, sys
rows = json.load(open(sys.argv[1]))
hosts = int(sys.argv[4])
controller = {'set_fact', 'debug', 'assert', 'fail', 'include_tasks', 'include_role', 'import_tasks', 'meta',
              'set_stats', 'group_by', 'add_host', 'validate_argument_spec', 'include_vars'}
per_host = collections.Counter()
once = collections.Counter()
kinds = collections.Counter()
skipped = collections.Counter()
for row in rows:
    short = row['action'].split('.')[-1]
    if row.get('skipped'):
        # a skipped task costs a worker process too, but the floor has the tasks that ran
        skipped['once' if row['once'] else 'per_host'] += 1
        kinds[('skipped', short)] += 1
        continue
    kind = 'controller' if short in controller else 'module'
    kinds[(kind, short)] += 1
    (once if row['once'] else per_host)[kind] += 1
modules_per_host = round(per_host['module'] / hosts)
modules_once = once['module']
with open(sys.argv[2], 'w') as f:
    f.write('- name: Floor\n  hosts: all\n  gather_facts: false\n  tasks:\n')
    for i in range(modules_per_host):
        f.write('    - name: Per-host module %d\n      ansible.builtin.command: "true"\n      changed_when: false\n' % i)
    for i in range(modules_once):
        f.write('    - name: Run-once module %d\n      ansible.builtin.command: "true"\n      changed_when: false\n'
                '      run_once: true\n' % i)
with open(sys.argv[3], 'w') as f:
    for (kind, short), count in sorted(kinds.items()):
        f.write('%s\t%s\t%.2f\n' % (kind, short, count / hosts))
print(modules_per_host, modules_once, round(per_host['controller'] / hosts, 2), round(skipped['per_host'] / hosts, 2))
PY
}

printf 'hosts\tround\tcandidate\twall\tcpu\n' > "$raw"
declare -A tasks_info
for n in $host_counts; do
    make_inventory "$n"
    log "$n hosts: counting the backup run's tasks"
    LBCOUNT_OUT="$W/count-$n.json" ANSIBLE_CALLBACK_PLUGINS="$W/callback_plugins" ANSIBLE_CALLBACKS_ENABLED=lbcount \
        "$bin/ansible-playbook" -i "$W/inventory-$n.yml" -f "$forks" "$repo/playbooks/backup.yml" > "$W/count-$n.log" 2>&1 \
        || { tail -50 "$W/count-$n.log" >&2; exit 1; }
    tasks_info[$n]=$(count_tasks "$n")
    for r in $(seq 1 "$runs"); do
        log "$n hosts, round $r: backup"
        measure "$W/t" "$bin/ansible-playbook" -i "$W/inventory-$n.yml" -f "$forks" "$repo/playbooks/backup.yml"
        read -r wall user sys < "$W/t"
        printf '%s\t%s\tbackup\t%s\t%s\n' "$n" "$r" "$wall" "$(echo "$user + $sys" | bc)" >> "$raw"
        log "$n hosts, round $r: floor"
        measure "$W/t" "$bin/ansible-playbook" -i "$W/inventory-$n.yml" -f "$forks" "$W/floor-$n.yml"
        read -r wall user sys < "$W/t"
        printf '%s\t%s\tfloor\t%s\t%s\n' "$n" "$r" "$wall" "$(echo "$user + $sys" | bc)" >> "$raw"
    done
done

# module payload sizes (the AnsiballZ zip each module task ships to a host)
[ -f "$W/inventory-1.yml" ] || make_inventory 1      # (when 1 is not among --hosts)
ANSIBLE_KEEP_REMOTE_FILES=1 ANSIBLE_REMOTE_TMP="$W/remote-tmp" "$bin/ansible-playbook" -i "$W/inventory-1.yml" \
    "$repo/playbooks/backup.yml" > /dev/null 2>&1 || true
mkdir -p "$W/remote-tmp"
payloads=$(find "$W/remote-tmp" -name 'AnsiballZ_*.py' -printf '%f %s\n' 2>/dev/null | sort -u | \
    awk '{sub("AnsiballZ_", "", $1); sub(".py", "", $1); printf "%s %d KiB, ", $1, $2/1024}')

{
    echo "## bench/awx_hosts.sh $stamp"
    echo
    echo "forks $forks, $runs rounds, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| hosts | backup wall s | backup CPU-s | floor wall s | floor CPU-s | CPU-s per host backup / floor | ratio per host | module tasks per host (+ run once) | controller tasks per host | skipped tasks per host |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for n in $host_counts; do
        read -r mph mo cph sph <<< "${tasks_info[$n]}"
        "$PY" - "$raw" "$n" "$mph" "$mo" "$cph" "$sph" <<'PY'
import statistics, sys
rows = [line.rstrip('\n').split('\t') for line in open(sys.argv[1])][1:]
n, mph, mo, cph, sph = sys.argv[2:7]
pick = lambda cand, col: statistics.median(float(r[col]) for r in rows if r[0] == n and r[2] == cand)
bw, bc, fw, fc = pick('backup', 3), pick('backup', 4), pick('floor', 3), pick('floor', 4)
hosts = int(n)
print('| %s | %.1f | %.1f | %.1f | %.1f | %.2f / %.2f | **%.2fx** | %s (+%s) | %s | %s |' % (
    n, bw, bc, fw, fc, bc / hosts, fc / hosts, bc / fc, mph, mo, cph, sph))
PY
    done
    echo
    echo "Module payloads: ${payloads%, }"
    echo
    echo "Tasks per host of the largest run, by kind and action:"
    echo
    last=${host_counts##* }
    awk -F'\t' '{printf "- %s %s: %s\n", $1, $2, $3}' "$W/kinds-$last.tsv"
} | tee "$report"
