"""Markdown report of a bench/files.sh run: files_report.py bench/results/files-<stamp>

Reads <prefix>.tsv (one line per measured run), <prefix>-meta.json and, when present,
<prefix>-hyperfine.json and <prefix>-hyperfine-restore.json. Prints markdown to stdout.
"""
import json
import os
import statistics
import sys

TARGET_BACKUP = 1.15
TARGET_RESTORE = 1.2
TARGET_RSS_MIB = 128
TARGET_ENCRYPTED = 1.10   # encrypted / plain module run, same data, same round (--encrypt)


def load(prefix):
    rows = {}
    with open(prefix + '.tsv') as f:
        next(f)
        for line in f:
            p = line.rstrip('\n').split('\t')
            extra = dict(kv.split('=', 1) for kv in p[8].split() if '=' in kv) if len(p) > 8 else {}
            rows.setdefault(p[0], []).append({
                'round': int(p[1]), 'wall': float(p[2]), 'cpu': float(p[3]) + float(p[4]),
                'rss': int(p[5]) / 1024.0, 'others': float(p[6]), 'load': float(p[7]), 'extra': extra})
    with open(prefix + '-meta.json') as f:
        meta = json.load(f)
    return rows, meta


def num(x, key):
    try:
        return float(x['extra'][key])
    except (KeyError, ValueError):
        return None


def med(xs):
    return statistics.median(xs) if xs else None


def rng(xs, nd=2):
    if not xs:
        return ''
    if len(xs) == 1:
        return '%.*f' % (nd, xs[0])
    return '%.*f (%.*f-%.*f)' % (nd, statistics.median(xs), nd, min(xs), nd, max(xs))


class Report(object):
    def __init__(self, rows, meta):
        self.rows = rows
        self.meta = meta

    def values(self, name, key=None, what='wall'):
        out = {}
        for x in self.rows.get(name, []):
            v = num(x, key) if key else x[what]
            if v is not None:
                out[x['round']] = v
        return out

    def ratios(self, name, ref, key=None, what='wall'):
        """name/ref per round (same round = same neighbours, as far as possible); 1-run rows use the ref median."""
        a = self.values(name, key, what)
        b = self.values(ref, what=what)
        if not a or not b:
            return []
        if len(a) == 1 and len(b) > 1:
            return [list(a.values())[0] / med(list(b.values()))]
        return [a[r] / b[r] for r in sorted(a) if r in b]

    def best_ratio(self, name, ref, key=None):
        a = list(self.values(name, key).values())
        b = list(self.values(ref).values())
        return min(a) / min(b) if a and b else None

    def line(self, label, name, ref=None, target=None, key=None, note=''):
        xs = self.rows.get(name)
        if not xs:
            return
        walls = list(self.values(name, key).values())
        if not walls:
            return
        ratio = best = cpu = cpu_ratio = rss = others = ''
        if ref:
            rs = self.ratios(name, ref, key)
            if rs:
                m = statistics.median(rs)
                ratio = '%.2fx' % m + (' (%.2f-%.2f)' % (min(rs), max(rs)) if len(rs) > 1 else '')
                if target:
                    ratio += ' **%s**' % ('meets' if m <= target else 'misses')
            b = self.best_ratio(name, ref, key)
            best = '' if b is None else format(b, '.2f') + 'x'
        if not key:
            cpu = rng([x['cpu'] for x in xs])
            rss = str(int(round(max(x['rss'] or 0 for x in xs))))
            others = rng([x['others'] for x in xs], 1)
            if ref:
                cr = self.ratios(name, ref, what='cpu')
                cpu_ratio = '%.2fx' % statistics.median(cr) if cr else ''
        if len(xs) == 1 and len(self.rows.get('ref', [])) > 1:
            note = '1 run' + ('; ' + note if note else '')
        print('| %s | %s | %s | %s | %s | %s | %s | %s | %s |'
              % (label, rng(walls), ratio, best, cpu, cpu_ratio, rss, others, note))

    def rss_rows(self, label, name, data, how):
        xs = self.rows.get(name, [])
        self_kb = [int(x['extra']['self_maxrss_kb']) for x in xs if 'self_maxrss_kb' in x['extra']]
        hwm_kb = [int(x['extra']['module_hwm_kb']) for x in xs if 'module_hwm_kb' in x['extra']]
        cpu = [float(x['extra']['self_cpu']) for x in xs if 'self_cpu' in x['extra']]
        child = [int(x['extra']['children_maxrss_kb']) for x in xs if 'children_maxrss_kb' in x['extra']]
        peak = self_kb or hwm_kb
        if not peak:
            return
        mib = max(peak) / 1024.0
        print('| %s | %s | %.1f %s | %s | %s | %s | %d |'
              % (label, data, mib, '**meets**' if mib <= TARGET_RSS_MIB else '**misses**',
                 rng(cpu) if cpu else '', '%.1f' % (max(child) / 1024.0) if child else '', how, len(peak)))

    def render(self):
        m, rows = self.meta, self.rows
        data_bytes = int(m['data_bytes'])
        n = len(rows.get('ref', []))
        ratio = ''
        if rows.get('ref') and 'size' in rows['ref'][0]['extra']:
            ratio = ' zstd -3 ratio %.2f.' % (data_bytes / float(rows['ref'][0]['extra']['size']))
        print('Run %s. Dataset: %.2f GB in %s files (`bench/make-dataset.sh DIR %s`).%s'
              % (m['started'], data_bytes / 1e9, m['data_files'], m['size_mb'], ratio))
        print('Machine: %s. Load average at start: %s; at end: %s. Restores written to: %s.'
              % (m['env'], m.get('load_start', '?'), m.get('load_end', '?'), m.get('restore_fs', '?')))
        print()
        print('Wall and CPU: median (min-max) over %d interleaved rounds, unless the note says 1 run. "ratio" is' % n)
        print('taken within each round against that round\'s reference, then the median (1-run rows: against the')
        print('median reference); "best" is the fastest run over the fastest reference run; "CPU ratio" compares')
        print('CPU-s (user+sys of the whole process tree), which the neighbours disturb much less than wall time.')
        print('"others" is the CPU-s other processes of the shared machine used during the run (2 cores give 2 CPU-s')
        print('per second of wall time). Peak RSS: the largest single process of the tree (`/usr/bin/time`).')
        print()
        print('| operation | wall s | ratio (target) | best | CPU-s | CPU ratio | peak RSS MiB | others CPU-s | note |')
        print('|---|---|---|---|---|---|---|---|---|')
        self.line('`tar -cf - DIR \\| zstd -T0 -3 > file` (**backup reference**)', 'ref',
                  note='baselines.md: 10.5 s, 14.1 CPU-s')
        self.line('same + `sync file`', 'ref_sync', 'ref', note='the store fsyncs every object')
        self.line('same with the tar arguments of files_backup (posix, xattrs, acls, sparse) + sync', 'ref_lbtar', 'ref')
        self.line('lifeboat `backup.yml` (ansible-playbook, whole play)', 'lb_playbook', 'ref', TARGET_BACKUP,
                  note='target <= %.2fx' % TARGET_BACKUP)
        self.line('&nbsp;&nbsp;its task "Archive files entries into the set" (profile_tasks)', 'lb_playbook', 'ref',
                  TARGET_BACKUP, key='task')
        self.line('&nbsp;&nbsp;its pipeline (record `extra.seconds`)', 'lb_playbook', 'ref', key='pipeline')
        self.line('files_backup module run directly (no ansible-playbook)', 'lb_module', 'ref', TARGET_BACKUP)
        self.line('files_backup module, **encrypted** (age, one X25519 recipient)', 'lb_module_enc', 'lb_module',
                  TARGET_ENCRYPTED, note='ratio against the plain module run of the same round; target <= %.2fx'
                  % TARGET_ENCRYPTED)
        self.line('&nbsp;&nbsp;its pipeline (record `extra.seconds`)', 'lb_module_enc', 'lb_module', key='pipeline')
        self.line('ansible-playbook floor: a play with one `command: true` task', 'ansible_floor', 'ref',
                  note='fixed cost of any playbook run here')
        self.line('lifeboat `backup.yml` on a directory of one small file', 'lb_playbook_empty', 'ref',
                  note='fixed cost of the backup play')
        self.line('community.general.archive format=gz', 'cg_archive_gz', 'ref',
                  note='Python tarfile + gzip level 9; format=zstd does not exist')
        self.line('restic 0.14 first backup', 'restic_first', 'ref')
        self.line('restic 0.14 unchanged re-run', 'restic_unchanged', 'ref')
        self.line('`zstd -dc file \\| tar -x -C dir` (**restore reference**)', 'raw_restore',
                  note='baselines.md: 4.6 s')
        self.line('lifeboat `restore.yml` (ansible-playbook, whole play)', 'lb_restore_playbook', 'raw_restore',
                  TARGET_RESTORE, note='target <= %.2fx' % TARGET_RESTORE)
        self.line('&nbsp;&nbsp;its task "Restore files" (profile_tasks)', 'lb_restore_playbook', 'raw_restore',
                  TARGET_RESTORE, key='task')
        self.line('files_restore module run directly', 'lb_restore_module', 'raw_restore', TARGET_RESTORE)
        self.line('files_restore module, **encrypted** (age identity file)', 'lb_restore_module_enc', 'lb_restore_module',
                  TARGET_ENCRYPTED, note='ratio against the plain module restore of the same round; target <= %.2fx'
                  % TARGET_ENCRYPTED)
        self.line('lifeboat `restore.yml` of a directory of one small file', 'lb_restore_playbook_empty', 'raw_restore',
                  note='fixed cost of the restore play')
        self.line('restic 0.14 restore', 'restic_restore', 'raw_restore')
        print()
        print('Peak RSS of the module\'s own process (target <= %d MiB, and the same at 2x data):' % TARGET_RSS_MIB)
        print()
        print('| module | data | peak RSS MiB (max over runs) | its CPU-s | largest child (tar, zstd) MiB | how | runs |')
        print('|---|---|---|---|---|---|---|')
        two = '2x: %.2f GB, %s files' % (int(m.get('data2_bytes') or 0) / 1e9, m.get('data2_files'))
        self.rss_rows('files_backup', 'lb_module', '1x', 'run directly, getrusage(RUSAGE_SELF)')
        self.rss_rows('files_backup, encrypted', 'lb_module_enc', '1x', 'run directly, getrusage(RUSAGE_SELF)')
        self.rss_rows('files_backup', 'lb_playbook', '1x', 'in ansible-playbook: VmHWM of the AnsiballZ process, '
                      'polled every 0.2 s')
        self.rss_rows('files_backup', 'lb_module_2x', two, 'run directly, getrusage(RUSAGE_SELF)')
        self.rss_rows('files_restore', 'lb_restore_module', '1x', 'run directly, getrusage(RUSAGE_SELF)')
        self.rss_rows('files_restore, encrypted', 'lb_restore_module_enc', '1x', 'run directly, getrusage(RUSAGE_SELF)')
        self.rss_rows('files_restore', 'lb_restore_playbook', '1x', 'in ansible-playbook: VmHWM polled '
                      '(dry run and restore)')
        self.rss_rows('files_restore', 'lb_restore_module_2x', two, 'run directly, getrusage(RUSAGE_SELF)')
        if rows.get('ref_2x') and rows.get('lb_module_2x'):
            a, b = rows['ref_2x'][0], rows['lb_module_2x'][0]
            print()
            print('At 2x data (1 run each): reference %.2f s / %.2f CPU-s, files_backup module %.2f s / %.2f CPU-s '
                  '(%.2fx wall, %.2fx CPU); files_restore module %s.'
                  % (a['wall'], a['cpu'], b['wall'], b['cpu'], b['wall'] / a['wall'], b['cpu'] / a['cpu'],
                     '%.2f s' % rows['lb_restore_module_2x'][0]['wall'] if rows.get('lb_restore_module_2x')
                     else 'n/a'))
        hf = [self.prefix + s for s in ('-hyperfine.json', '-hyperfine-restore.json')]
        hf = [p for p in hf if os.path.exists(p)]
        if hf:
            print()
            print('hyperfine, the references alone (5 runs each, warm cache; mean +- sd):')
            print()
            for path in hf:
                with open(path) as f:
                    for res in json.load(f)['results']:
                        print('- `%s`: %.2f s +- %.2f (min %.2f; user %.2f s, system %.2f s)'
                              % (res['command'], res['mean'], res['stddev'], res['min'], res['user'], res['system']))
        if m.get('cg_zstd'):
            print()
            print('community.general.archive with format=zstd answers: %s' % m['cg_zstd'])


def main():
    prefix = sys.argv[1]
    rows, meta = load(prefix)
    r = Report(rows, meta)
    r.prefix = prefix
    r.render()


if __name__ == '__main__':
    main()
