#!/usr/bin/env bash
# HA cluster benchmark: a backup of three nodes at once against the slowest node backed up alone.
#
#   bench/cluster.sh [--size MB] [--runs N] [--compression zstd|none|both] [--keep]
#
# Brings up the network-namespace test cluster (tests/integration/cluster/netcluster.py: 3 nodes, real sshd,
# Ansible in the hub namespace, the store on one directory shared by every node like EFS), puts the same
# --size MB mixed dataset (bench/make-dataset.sh) in /srv/app/data of every node, then in each round runs
# playbooks/backup.yml as a user does: once per node alone (-l nodeN) and once for all three nodes. It reports
# the playbook wall times, the ratio three-nodes / slowest-single-node per round and its median, and the
# per-node archive time recorded in the set. Warm page cache (the data is read once first).
#
# Read the ratio with the machine in mind: the three "nodes" share this machine's cores (2 on the project's
# machine type), so CPU-bound work (zstd) of three nodes cannot run in the time of one; with
# --compression none the work is I/O and hashing, and the ratio shows the orchestration's parallelism.
#
# Writes a markdown report to stdout and to bench/results/cluster-<timestamp>.md. Needs root.
# Environment: PY (python with ansible-core and pytest's deps; default /opt/lbvenv/bin/python).
set -euo pipefail

size_mb=300
runs=2
compression=both
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --size) size_mb=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --compression) compression=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
case $compression in zstd|none|both) ;; *) echo "--compression must be zstd, none or both" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench/cluster.sh needs root (network namespaces)" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
py=${PY:-/opt/lbvenv/bin/python}
mkdir -p "$repo/bench/results"
report="$repo/bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ).md"

BENCH_SIZE_MB=$size_mb BENCH_RUNS=$runs BENCH_COMPRESSION=$compression BENCH_KEEP=$keep \
BENCH_REPO=$repo BENCH_REPORT=$report "$py" - <<'PY'
import json
import os
import statistics
import subprocess
import sys
import time

repo = os.environ['BENCH_REPO']
sys.path.insert(0, os.path.join(repo, 'tests', 'integration', 'cluster'))
import netcluster  # noqa: E402
netcluster._tests_conftest()  # tests/conftest.py: the collection on sys.path, run_playbook
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle  # noqa: E402

size_mb = int(os.environ['BENCH_SIZE_MB'])
runs = int(os.environ['BENCH_RUNS'])
modes = ['zstd', 'none'] if os.environ['BENCH_COMPRESSION'] == 'both' else [os.environ['BENCH_COMPRESSION']]
lines = []


def say(text=''):
    print(text, flush=True)
    lines.append(text)


def log(text):
    print(text, file=sys.stderr, flush=True)


c = netcluster.Cluster(nodes=3, postgresql=False)
t0 = time.monotonic()
c.up()
log('cluster %s up in %.1f s' % (c.run_id, time.monotonic() - t0))
try:
    first = c.nodes[0].host_path(netcluster.APP_DATA)
    subprocess.run(['rm', '-rf', str(first)], check=True)
    t0 = time.monotonic()
    subprocess.run([os.path.join(repo, 'bench', 'make-dataset.sh'), str(first), str(size_mb)], check=True,
                   stdout=subprocess.DEVNULL)
    for n in c.nodes[1:]:
        dst = n.host_path(netcluster.APP_DATA)
        subprocess.run(['rm', '-rf', str(dst)], check=True)
        subprocess.run(['cp', '-a', str(first), str(dst)], check=True)
    du = subprocess.run(['du', '-sb', str(first)], stdout=subprocess.PIPE, universal_newlines=True, check=True)
    data_bytes = int(du.stdout.split()[0])
    files = sum(len(f) for _r, _d, f in os.walk(str(first)))
    log('dataset %.0f MB x 3 in %.1f s' % (data_bytes / 1e6, time.monotonic() - t0))

    def warm():
        for n in c.nodes:
            subprocess.run('tar -cf - -C %s . | cat >/dev/null' % n.host_path(netcluster.APP_DATA), shell=True,
                           check=True)

    def backup(prefix, compression, limit=None):
        ev = {'lifeboat_store': {'type': 'filesystem', 'path': netcluster.STORE_PATH, 'prefix': prefix},
              'lifeboat_compression': compression}
        args = ('-l', limit) if limit else ()
        t = time.monotonic()
        r = c.run_playbook('backup.yml', extra_vars=ev, args=args)
        wall = time.monotonic() - t
        if r.rc != 0:
            raise SystemExit('backup failed (%s):\n%s' % (limit or 'all nodes', r.output[-4000:]))
        store = c.store(prefix)
        sid = [s for s in lifecycle.list_sets(store) if s['status'] == 'completed'][0]['id']
        manifest = json.loads(store.get_bytes('%s/manifest.json' % sid).decode())
        secs = {a['host']: a['extra'].get('seconds') for a in manifest['artifacts'] if a['component'] == 'files'}
        size = sum(a['size'] for a in manifest['artifacts'])
        subprocess.run(['rm', '-rf', str(c.shared_store / prefix)], check=True)
        return wall, secs, size

    load = os.getloadavg()
    say('## HA cluster')
    say()
    say('`bench/cluster.sh --size %d --runs %d` on %s, %d cores, load average %.1f at start; '
        'three nodes in network namespaces of this one machine (they share its cores), each with %.0f MB in '
        '%d files; store: one shared directory (EFS stand-in); Ansible over SSH from the hub namespace.'
        % (size_mb, runs, time.strftime('%Y-%m-%d'), os.cpu_count(), load[0], data_bytes / 1e6, files))
    say()
    say('| compression | round | slowest node alone: playbook wall | three nodes: playbook wall | ratio | '
        'archive s per node, alone | archive s per node, three at once | stored (three nodes) |')
    say('|---|---|---|---|---|---|---|---|')
    summary = {}
    for mode in modes:
        ratios = []
        for rnd in range(1, runs + 1):
            warm()
            singles = {}
            alone = {}
            for n in c.nodes:
                wall, secs, _size = backup('single-%s-%d-%s' % (mode, rnd, n.name), mode, limit=n.name)
                singles[n.name] = wall
                alone[n.name] = secs[n.name]
                log('%s round %d: %s alone %.1f s (archive %.1f s)' % (mode, rnd, n.name, wall, secs[n.name]))
            warm()
            wall3, secs3, size3 = backup('three-%s-%d' % (mode, rnd), mode)
            log('%s round %d: three nodes %.1f s' % (mode, rnd, wall3))
            slowest = max(singles.values())
            ratio = wall3 / slowest
            ratios.append(ratio)
            say('| %s | %d | %.1f s (%s) | %.1f s | %.2f | %s | %s | %.0f MB |' % (
                mode, rnd, slowest, max(singles, key=singles.get), wall3, ratio,
                ', '.join('%.1f' % alone[h] for h in sorted(alone)),
                ', '.join('%.1f' % secs3[h] for h in sorted(secs3)), size3 / 1e6))
        summary[mode] = statistics.median(ratios)
    say()
    say('Median ratio three-nodes / slowest-single-node: %s (target <= 1.3).'
        % ', '.join('%s %.2f' % (m, r) for m, r in summary.items()))
finally:
    if os.environ.get('BENCH_KEEP') == '1':
        state = json.loads((c.base / 'state.json').read_text())
        state['owner_pid'] = None   # kept on purpose: never reaped as stale
        (c.base / 'state.json').write_text(json.dumps(state, indent=1))
        log('kept: %s (down with: %s %s down %s)' % (c.base, sys.executable, netcluster.__file__, c.run_id))
    else:
        c.down()
with open(os.environ['BENCH_REPORT'], 'w') as f:
    f.write('\n'.join(lines) + '\n')
log('report: %s' % os.environ['BENCH_REPORT'])
PY
