#!/usr/bin/env bash
# Generate a reproducible mixed dataset for the files backup/restore benchmark.
#
#   bench/make-dataset.sh DIR [SIZE_MB]
#
# Default SIZE_MB=1100 mirrors the dataset of shared/notes/baselines.md: ~1.1 GB in ~24.5k files made of
# application logs, JSON documents, ~20k small config-like files, ~310 MB of random binary and tables of
# floats (CSV). SIZE_MB scales every part by the same factor (2200 gives the 2x dataset); the same
# SIZE_MB always gives byte-identical content with the same Python (every file comes from its own seeded generator), so
# compression ratios and times are comparable between runs and machines.
# DIR must not exist or be empty. Needs python3 (3.9+) and nothing else.
set -euo pipefail

usage() { echo "usage: $0 DIR [SIZE_MB]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
dir=$1
size_mb=${2:-1100}
if ! [[ $size_mb =~ ^[0-9]+$ ]] || [ "$size_mb" -lt 10 ]; then
    echo "SIZE_MB must be an integer >= 10" >&2
    exit 2
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "$dir exists and is not empty" >&2
    exit 2
fi
mkdir -p "$dir"

"${PYTHON:-python3}" - "$dir" "$size_mb" <<'PY'
import multiprocessing
import os
import random
import sys

root, size_mb = sys.argv[1], int(sys.argv[2])
f = size_mb / 1100.0
MB = 1000 * 1000


def rng(*key):
    return random.Random('lifeboat-bench/' + '/'.join(str(k) for k in key))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as fh:
        fh.write(data)


def n_of(base):
    return max(1, int(round(base * f)))


WORDS = ('request served user login logout session token cache miss hit refresh job started finished failed retry '
         'timeout upstream connection reset accepted rejected queue worker inventory playbook host task changed '
         'skipped unreachable ok backup restore snapshot volume bucket object upload download checksum verify '
         'database query slow index vacuum replication lag primary standby').split()
LEVELS = ('INFO',) * 12 + ('DEBUG',) * 5 + ('WARNING',) * 2 + ('ERROR',)
SERVICES = ('awx-web', 'awx-task', 'nginx', 'postgres', 'redis', 'receptor', 'automate-gw', 'es-sidecar')


def log_file(i, target):
    r = rng('log', i)
    t = 1763769600 + i * 86400
    lines = []
    n = 0
    while n < target:
        t += r.randrange(0, 3)
        msg = ' '.join(r.choices(WORDS, k=r.randrange(3, 12)))
        line = '%d.%03d %s %s[%d]: %s id=%08x dur=%dms src=10.%d.%d.%d\n' % (
            t, r.randrange(1000), r.choice(LEVELS), r.choice(SERVICES), r.randrange(100, 40000), msg,
            r.getrandbits(32), r.randrange(0, 5000), r.randrange(256), r.randrange(256), r.randrange(256))
        lines.append(line)
        n += len(line)
    return ''.join(lines).encode()


def json_file(i, target):
    r = rng('json', i)
    items = []
    n = 0
    while n < target:
        item = ('{"id": %d, "name": "%s-%d", "enabled": %s, "tags": ["%s", "%s"], "created": "2026-%02d-%02dT%02d:%02d:%02dZ", '
                '"score": %.4f, "owner": {"uid": %d, "group": "%s"}, "note": "%s"}' % (
                    r.getrandbits(40), r.choice(WORDS), r.randrange(10000), 'true' if r.random() < 0.7 else 'false',
                    r.choice(WORDS), r.choice(WORDS), r.randrange(1, 13), r.randrange(1, 29), r.randrange(24),
                    r.randrange(60), r.randrange(60), r.random() * 100, r.randrange(1000, 65000), r.choice(SERVICES),
                    ' '.join(r.choices(WORDS, k=r.randrange(2, 9)))))
        items.append(item)
        n += len(item) + 2
    return ('[\n' + ',\n'.join(items) + '\n]\n').encode()


def small_file(i):
    r = rng('small', i)
    n = r.randrange(300, 7000)
    out = []
    k = 0
    while k < n:
        line = '%s_%d = %s\n' % (r.choice(WORDS), r.randrange(100), ' '.join(r.choices(WORDS, k=r.randrange(1, 6))))
        out.append(line)
        k += len(line)
    return ''.join(out).encode()


def table_file(i, rows):
    r = rng('table', i)
    out = ['ts,sensor,a,b,c,d,e,f\n']
    t = 1763769600.0 + i * 3600
    for _ in range(rows):
        t += r.random()
        out.append('%.3f,%d,%.5f,%.4f,%.4f,%.4f,%.3f,%.6g\n' % (
            t, r.randrange(64), r.gauss(0, 1), r.gauss(20, 5), r.random(), r.uniform(-180, 180),
            r.expovariate(0.1), r.lognormvariate(0, 2)))
    return ''.join(out).encode()


JOBS = []  # (kind, index): every file is generated from its own seed, so the order of work does not matter
PARTS = (('logs', 120), ('json', 1800), ('small', 20000), ('bin', 10), ('tables', 2600))
counts = {}
for kind, base in PARTS:
    counts[kind] = n_of(base)
    JOBS.extend((kind, i) for i in range(counts[kind]))


def make(job):
    kind, i = job
    if kind == 'logs':  # ~2.5 MB each
        write(os.path.join(root, 'logs', 'svc%02d' % (i % 12), 'app-%04d.log' % i), log_file(i, int(2.5 * MB)))
    elif kind == 'json':  # ~110 kB each
        write(os.path.join(root, 'json', 'd%02d' % (i % 30), 'doc-%05d.json' % i), json_file(i, 110 * 1000))
    elif kind == 'small':  # 0.3-7 kB, 100 per directory
        write(os.path.join(root, 'small', 'd%04d' % (i // 100), 'conf-%05d.ini' % i), small_file(i))
    elif kind == 'bin':  # 31.2 MB of seeded random bytes each: incompressible, identical every time
        write(os.path.join(root, 'bin', 'blob-%03d.bin' % i), rng('bin', i).randbytes(int(31.2 * MB)))
    else:  # float tables, ~1300 rows (~100 kB) each
        write(os.path.join(root, 'tables', 't%02d' % (i % 26), 'table-%05d.csv' % i), table_file(i, 1300))


with multiprocessing.Pool(min(4, os.cpu_count() or 1)) as pool:
    for _ in pool.imap_unordered(make, JOBS, chunksize=16):
        pass

total = 0
files = 0
for d, _dirs, names in os.walk(root):
    for n in names:
        total += os.path.getsize(os.path.join(d, n))
        files += 1
print('dataset %s: %d files, %.1f MB (%s)' % (root, files, total / 1e6,
                                             ', '.join('%s %d' % kv for kv in counts.items())))
PY
