#!/usr/bin/env bash
# OpenSearch snapshot/restore benchmark: lifeboat.backup through ansible-playbook against the same REST calls
# made directly with curl (wait_for_completion=true).
#
#   bench/opensearch.sh [--runs N] [--size-mb MB] [--heap SIZE] [--workdir DIR] [--keep]
#
# Starts its own OpenSearch 2.19 node (tests/integration/opensearch/osnode.py: the Maven-built launcher, HTTP on
# a free loopback port, stopped at the end), indexes MB of generated documents (4 primaries, no replicas), then
# runs in interleaved rounds, each into a NEW empty fs repository (snapshots are incremental: a second snapshot
# into the same repository would copy nothing):
#   snapshot: curl PUT _snapshot/<repo> + PUT _snapshot/<repo>/<snap>?wait_for_completion=true
#             | tests/integration/opensearch/os_backup.yml: set start, opensearch_snapshot (repository, verify,
#               snapshot, wait, counts, record), commit
#   restore:  curl DELETE <index> + POST _snapshot/<repo>/<snap>/_restore?wait_for_completion=true
#             | os_module.yml: opensearch_snapshot_restore force/existing=delete (preflight, delete, restore,
#               wait for health and recovery, count)
#   fixed:    the same two playbooks on a 10-document index (the playbook's fixed cost)
# Every run is measured with /usr/bin/time (bench/lib.sh measure). Reports medians and ratios, as markdown to
# stdout and bench/results/opensearch-<ts>.md (raw TSV and logs beside it; bench/results/ is gitignored).
#
# Options:
#   --runs N       rounds (default 3)
#   --size-mb MB   primary store size to index (default 1024)
#   --heap SIZE    node heap (default 1g)
#   --workdir DIR  node, repositories and store (default: a new dir under /var/tmp); on disk
#   --keep         keep the work directory
# Environment: PY (python with ansible-core; default $LIFEBOAT_VENV/bin/python, else /tmp/lifeboat-work/venv).
set -euo pipefail

runs=3
size_mb=1024
heap=1g
workdir=
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --size-mb) size_mb=$2; shift 2 ;;
        --heap) heap=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$runs" "$size_mb"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "--runs and --size-mb take positive integers" >&2; exit 2; }
done

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
PY=${PY:-${LIFEBOAT_VENV:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv}/bin/python}
osdir=$repo/tests/integration/opensearch
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
need_pkg curl curl
[ -x "$PY" ] || { echo "PY=$PY is not a python with ansible-core (run scripts/test.sh unit first)" >&2; exit 2; }

W=$(bench_workdir opensearch "$workdir")
mkdir -p "$W/logs" "$W/repos"
bench_results opensearch
node_pid=
cleanup() {
    if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
    [ "$keep" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
bench_ansible_env "$repo" "$W/none"
export LIFEBOAT_WORK=${LIFEBOAT_WORK:-/tmp/lifeboat-work} LIFEBOAT_OPENSEARCH_HEAP=$heap

# ---------------------------------------------------------------- the node and its data
log "starting an OpenSearch node (heap $heap) and indexing ${size_mb} MB"
"$PY" - "$osdir" "$W" "$size_mb" > "$W/node.env" 2> "$W/logs/node.log" <<'PY' &
import json, os, random, signal, sys, time
sys.path[:0] = [sys.argv[1], os.path.dirname(sys.argv[1])]
import osnode
from osnode import rest
work, size_mb = sys.argv[2], int(sys.argv[3])
node = osnode.OsNode(work, 'bench', [os.path.join(work, 'repos')], cluster_name='lifeboat-bench')
node.start()
signal.signal(signal.SIGTERM, lambda *_: (node.stop(), sys.exit(0)))
url = node.url
for name, shards in (('bench', 4), ('tiny', 1)):
    rest(url, 'PUT', '/' + name, {'settings': {'number_of_shards': shards, 'number_of_replicas': 0,
                                               'refresh_interval': '-1'}})
rng = random.Random(42)
words = ['%x' % rng.getrandbits(40) for _ in range(5000)]
t0, i = time.time(), 0
def store_mb():
    rest(url, 'POST', '/bench/_refresh')
    return rest(url, 'GET', '/bench/_stats/store')['_all']['primaries']['store']['size_in_bytes'] / 1048576.0
while True:
    lines = []
    for _ in range(2000):
        doc = {'n': i, 'ts': 1700000000 + i, 'tag': words[i % 50], 'text': ' '.join(rng.choice(words) for _ in range(80))}
        lines.append(json.dumps({'index': {'_index': 'bench', '_id': str(i)}}))
        lines.append(json.dumps(doc))
        i += 1
    answer = rest(url, 'POST', '/_bulk', ndjson='\n'.join(lines) + '\n', timeout=300)
    assert not answer['errors']
    if i % 100000 == 0 and store_mb() >= size_mb:
        break
rest(url, 'POST', '/bench/_forcemerge?max_num_segments=1', timeout=3600)
for d in range(10):
    rest(url, 'PUT', '/tiny/_doc/%d' % d, {'n': d})
rest(url, 'PUT', '/bench,tiny/_settings', {'index': {'refresh_interval': '1s'}})
rest(url, 'POST', '/_refresh')
size = rest(url, 'GET', '/bench/_stats/store,docs')['_all']['primaries']
print('URL=%s' % url)
print('DOCS=%d' % size['docs']['count'])
print('BYTES=%d' % size['store']['size_in_bytes'])
print('LOAD_SECONDS=%d' % (time.time() - t0))
sys.stdout.flush()
while True:
    time.sleep(3600)
PY
node_pid=$!
while ! grep -q '^LOAD_SECONDS=' "$W/node.env" 2>/dev/null; do
    kill -0 "$node_pid" 2>/dev/null || { log "the node or the load failed:"; tail -30 "$W/logs/node.log" >&2; exit 1; }
    sleep 5
done
# shellcheck disable=SC1091
. "$W/node.env"
log "indexed $DOCS documents, $((BYTES / 1048576)) MiB of primary store, in ${LOAD_SECONDS}s"

# ---------------------------------------------------------------- candidates
# shellcheck disable=SC2089,SC2090  # JSON text, not a command line
printf -v store '{"type": "filesystem", "path": "%s"}' "$W/store"
curl_snapshot() {  # curl_snapshot REPO INDEX
    curl -sf -XPUT "$URL/_snapshot/$1" -H 'Content-Type: application/json' \
        -d '{"type":"fs","settings":{"location":"'"$W/repos/$1"'"}}' > /dev/null
    curl -sf -XPUT "$URL/_snapshot/$1/snap?wait_for_completion=true" -H 'Content-Type: application/json' \
        -d '{"indices":"'"$2"'","include_global_state":false}' | grep -q '"state":"SUCCESS"'
}
curl_restore() {  # curl_restore REPO INDEX
    curl -sf -XDELETE "$URL/$2" > /dev/null
    curl -sf -XPOST "$URL/_snapshot/$1/snap/_restore?wait_for_completion=true" -H 'Content-Type: application/json' \
        -d '{"indices":"'"$2"'","include_global_state":false}' | grep -q '"failed":0'
}
pb_args() {  # pb_args REPO INDEX RESULT: the extra vars of os_backup.yml
    printf '{"lifeboat_store": %s, "result_file": "%s", "os_args": {"hosts": ["%s"], "repository": "%s", "repository_type": "fs", "repository_settings": {"location": "%s"}, "indices": ["%s"], "include_global_state": false}}' \
        "$store" "$3" "$URL" "$1" "$W/repos/$1" "$2"
}
pb_snapshot() {  # pb_snapshot REPO INDEX
    pb_args "$1" "$2" "$W/$1.json" > "$W/$1.vars.json"
    "$(dirname "$PY")/ansible-playbook" -i localhost, -c local "$osdir/os_backup.yml" -e "@$W/$1.vars.json"
    grep -q '"ok": true' "$W/$1.json"
}
pb_restore() {  # pb_restore REPO INDEX: restores the set pb_snapshot REPO wrote
    local set_id
    set_id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["set_id"])' "$W/$1.json")
    printf '{"result_file": "%s", "os_module": "restore", "os_args": {"hosts": ["%s"], "store": %s, "set_id": "%s", "force": true, "existing": "delete"}}' \
        "$W/$1.restore.json" "$URL" "$store" "$set_id" > "$W/$1.rvars.json"
    "$(dirname "$PY")/ansible-playbook" -i localhost, -c local "$osdir/os_module.yml" -e "@$W/$1.rvars.json"
    grep -q '"ok": true' "$W/$1.restore.json"
}

# shellcheck disable=SC2090
export URL W PY osdir store
export -f curl_snapshot curl_restore pb_args pb_snapshot pb_restore
raw_header
for round in $(seq 1 "$runs"); do
    log "round $round of $runs"
    measure curl-snapshot "$round" bash -c "curl_snapshot c$round bench"; end_row ""
    measure playbook-snapshot "$round" bash -c "pb_snapshot p$round bench"; end_row ""
    measure curl-restore "$round" bash -c "curl_restore c$round bench"; end_row ""
    measure playbook-restore "$round" bash -c "pb_restore p$round bench"; end_row ""
    measure playbook-snapshot-tiny "$round" bash -c "pb_snapshot t$round tiny"; end_row ""
    measure playbook-restore-tiny "$round" bash -c "pb_restore t$round tiny"; end_row ""
    measure curl-snapshot-tiny "$round" bash -c "curl_snapshot ct$round tiny"; end_row ""
done

# ---------------------------------------------------------------- report
"$PY" - "$raw" "$DOCS" "$BYTES" "$LOAD_SECONDS" "$heap" <<'PY' | tee "$report"
import statistics, sys
raw, docs, size, load, heap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = [line.rstrip('\n').split('\t') for line in open(raw)][1:]
med = {}
for name in sorted({r[0] for r in rows}):
    med[name] = statistics.median(float(r[2]) for r in rows if r[0] == name)
mib = size / 1048576.0
print('OpenSearch 2.19.6, one node (heap %s), %d documents, %.0f MiB primary store (indexed in %s s); %d rounds, '
      'medians (wall s):\n' % (heap, docs, mib, load, len(rows) // 7))
print('| candidate | wall s | MiB/s |')
print('|---|---|---|')
for name, wall in med.items():
    print('| %s | %.1f | %s |' % (name, wall, '%.0f' % (mib / wall) if 'tiny' not in name else '-'))
for op in ('snapshot', 'restore'):
    pb, curl, fixed = med['playbook-' + op], med['curl-' + op], med['playbook-%s-tiny' % op]
    print('\n%s: playbook / curl = %.2fx; (playbook - fixed cost %.1f s) / curl = %.2fx'
          % (op, pb / curl, fixed, (pb - fixed) / curl))
PY
