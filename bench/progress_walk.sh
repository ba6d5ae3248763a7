#!/usr/bin/env bash
# What the progress estimate of a files backup costs: a files backup through a play (playbooks/backup.yml, so
# through the action plugin that hands the module a progress_file) of a tree of many small files, with the
# collection at REV (default: main, where every full walked the tree beside tar) and with this checkout (the walk
# starts only once the first progress line is due, lifeboat_progress_after, default 30 s), in interleaved rounds.
# Also times the walk alone (tree_size) on the same tree, and the module's flow without Ansible around it
# (_files.backup.backup with the reporter a play installs), where the module's own Python CPU (the walk's thread
# included; tar and zstd are its children) is measured apart from the rest (getrusage).
#
#   bench/progress_walk.sh [--runs N] [--files N] [--before REV] [--workdir DIR] [--keep] [--no-play]
#   (--no-play: only the walk alone and the module flow, not the playbooks)
#
# Reports wall and CPU-s (user+sys of ansible-playbook and its children: the module, tar, zstd) per variant,
# medians over the rounds, from /usr/bin/time. Environment: PY (python with ansible-core; default
# $LIFEBOAT_WORK/venv/bin/python).
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"

runs=5
files=25000
before=main
workdir=
keep=0
play=1
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --files) files=$2; shift 2 ;;
        --before) before=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --no-play) play=0; shift ;;
        *) sed -n '2,17p' "$0" >&2; exit 2 ;;
    esac
done
PY=${PY:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv/bin/python}
need_ansible_python "$PY"
PYBIN=$(dirname "$PY")
W=$(bench_workdir progress-walk "$workdir")
[ "$keep" = 1 ] || trap 'rm -rf "$W"' EXIT
log "work directory $W"

log "a tree of $files files"
"$PY" - "$W/tree" "$files" <<'PYTHON'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rand = random.Random('lifeboat-bench/progress-walk')
for index in range(count):
    folder = os.path.join(root, 'd%03d' % (index // 1000), 'e%02d' % (index // 100 % 10))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'f%05d.conf' % index), 'w') as handle:
        handle.write(('key%d = value %d\n' % (index, rand.randrange(10 ** 6))) * rand.randrange(5, 100))
PYTHON

for variant in before after; do
    mkdir -p "$W/coll-$variant/ansible_collections/lifeboat"
done
mkdir -p "$W/before-src"
git -C "$repo" archive "$before" | tar -x -C "$W/before-src"
ln -sfn "$W/before-src" "$W/coll-before/ansible_collections/lifeboat/backup"
ln -sfn "$repo" "$W/coll-after/ansible_collections/lifeboat/backup"
cat > "$W/vars.yml" <<YAML
lifeboat_store: {type: filesystem, path: $W/store}
lifeboat_files: [{name: tree, paths: [$W/tree]}]
YAML
export ANSIBLE_PYTHON_INTERPRETER=$PY ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0
export ANSIBLE_LOCAL_TEMP=$W/ansible-local ANSIBLE_REMOTE_TEMP=$W/ansible-remote
mkdir -p "$W/logs"
find "$W/tree" -type f -exec cat {} + > /dev/null  # a warm page cache, as a nightly run of an active tree has

: > "$W/rows"
: > "$W/flowrows"
for r in $(seq 1 "$runs"); do
    order=(before after)
    [ $((r % 2)) = 0 ] && order=(after before)
    for variant in "${order[@]}"; do
        [ "$play" = 1 ] || continue
        rm -rf "$W/store"
        ANSIBLE_COLLECTIONS_PATH=$W/coll-$variant /usr/bin/time -f '%e %U %S' -o "$W/time.out" \
            "$PYBIN/ansible-playbook" -i localhost, -c local "$W/coll-$variant/ansible_collections/lifeboat/backup/playbooks/backup.yml" \
            -e "@$W/vars.yml" > "$W/logs/$variant.$r.log" 2>&1 || { tail -30 "$W/logs/$variant.$r.log" >&2; exit 1; }
        read -r wall user sys < "$W/time.out"
        echo "$variant $wall $user $sys $(cut -d' ' -f1 /proc/loadavg)" >> "$W/rows"
        log "round $r $variant: wall ${wall}s user ${user}s sys ${sys}s"
    done
    /usr/bin/time -f '%e %U %S' -o "$W/time.out" "$PY" -c "import sys; sys.path.insert(0, '$W/coll-after')
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup
backup.tree_size(['$W/tree'])"
    read -r wall user sys < "$W/time.out"
    echo "walk $wall $user $sys $(cut -d' ' -f1 /proc/loadavg)" >> "$W/rows"
    for variant in "${order[@]}"; do
        rm -rf "$W/flowstore"
        "$PY" - "$W/coll-$variant" "$W/flowstore" "$W/tree" "$W/progress.json" >> "$W/flowrows" <<'PYTHON'
import resource, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

store = open_store({'type': 'filesystem', 'path': sys.argv[2]})
set_id = lifecycle.start(store)['set_id']
try:  # what _module.execute installs when the action plugin passes progress_file (and, now, progress_after=30)
    progress.install(sys.argv[4], 'files backup', write_every=2.0, after=30.0)
except TypeError:  # the collection before: no progress_after
    progress.install(sys.argv[4], 'files backup', write_every=2.0)
self0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
backup.backup(store, set_id, 'web1', 'tree', [sys.argv[3]])
progress.finish()
wall, self1 = time.time() - t0, resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print('%s %.3f %.3f %.3f' % (sys.argv[1].rsplit('-', 1)[1], wall, self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime,
                             kids.ru_utime + kids.ru_stime))
PYTHON
        log "round $r flow $variant: $(tail -1 "$W/flowrows")"
    done
done

"$PY" - "$W/rows" "$files" "$before" <<'PYTHON'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print('files backup through a play, %s files, %d rounds (medians; CPU = user+sys of the run and its children)'
      % (sys.argv[2], len([r for r in rows if r[0] == 'walk'])))
print('| variant | wall, s | CPU-s | load1 |')
print('|---|---|---|---|')
for variant, what in (('before', 'walk beside tar (%s)' % sys.argv[3]), ('after', 'walk only when a line is due'),
                      ('walk', 'the walk alone (python, tree_size)')):
    mine = [r for r in rows if r[0] == variant]
    if not mine:
        continue
    wall = statistics.median(float(r[1]) for r in mine)
    cpu = statistics.median(float(r[2]) + float(r[3]) for r in mine)
    load = statistics.median(float(r[4]) for r in mine)
    print('| %s | %.2f | %.2f | %.1f |' % (what, wall, cpu, load))
PYTHON
"$PY" - "$W/flowrows" <<'PYTHON'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print()
print('the module flow alone (_files.backup.backup with the installed reporter; medians)')
print('| variant | wall, s | module Python CPU-s | tar + zstd CPU-s |')
print('|---|---|---|---|')
for variant in ('before', 'after'):
    mine = [r for r in rows if r[0] == variant]
    print('| %s | %.2f | %.2f | %.2f |' % (variant, statistics.median(float(r[1]) for r in mine),
                                         statistics.median(float(r[2]) for r in mine), statistics.median(float(r[3]) for r in mine)))
PYTHON
