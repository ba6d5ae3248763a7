# -*- coding: utf-8 -*-
"""Change a benchmark dataset the way a day of use does, reproducibly, for the incremental benchmark.

    bench/mutate-dataset.py DIR PERCENT SEED

Rewrites whole files (new random content, same size) until PERCENT of the dataset's bytes changed, and on top
adds, renames and deletes a few files and renames one small directory (a directory renamed is archived whole
again by an increment, docs/incremental.md). Prints what it did as one JSON line. The same DIR content,
PERCENT and SEED always make the same changes.
"""

import json
import os
import random
import sys


def files_of(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            out.append((path, os.lstat(path).st_size))
    return out


def main():
    root, percent, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    files = files_of(root)
    total = sum(size for _path, size in files)
    target = total * percent / 100.0
    changed = 0
    rewritten = 0
    order = list(files)
    rnd.shuffle(order)
    for path, size in order:
        if changed >= target:
            break
        if size > target - changed and changed > 0:
            continue
        with open(path, 'r+b') as f:
            f.write(rnd.randbytes(size) if hasattr(rnd, 'randbytes') else os.urandom(size))
        changed += size
        rewritten += 1
    added = 0
    for index in range(20):
        directory = os.path.dirname(rnd.choice(files)[0])
        path = os.path.join(directory, 'added-%d-%d.dat' % (seed, index))
        with open(path, 'wb') as f:
            f.write(rnd.randbytes(4096) if hasattr(rnd, 'randbytes') else os.urandom(4096))
        added += 1
    small = [path for path, size in files if size < 65536 and os.path.exists(path)]
    rnd.shuffle(small)
    for path in small[:10]:
        os.rename(path, path + '.renamed-%d' % seed)
    for path in small[10:20]:
        os.unlink(path)
    dirs = sorted(d for d, _dirs, names in os.walk(root) if d != root and 0 < len(names) <= 20)
    renamed_dir = None
    if dirs:
        renamed_dir = rnd.choice(dirs)
        os.rename(renamed_dir, renamed_dir + '-renamed-%d' % seed)
    print(json.dumps({'bytes_total': total, 'bytes_rewritten': changed, 'files_rewritten': rewritten, 'files_added': added,
                      'files_renamed': min(10, len(small)), 'files_deleted': max(0, min(10, len(small) - 10)),
                      'directory_renamed': renamed_dir}))


if __name__ == '__main__':
    main()
