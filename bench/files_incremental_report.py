"""Markdown report of a bench/files_incremental.sh run: files_incremental_report.py bench/results/files-incremental-<stamp>

Reads <prefix>.tsv (one line per measured run), <prefix>-meta.json and <prefix>-mutations.jsonl; prints markdown.
Ratios are taken within each round (both sides measured minutes apart on the same machine), then the median
over the rounds is reported with the range.
"""
import json
import statistics
import sys

TARGET_UNCHANGED = 0.10
TARGET_CHANGE = 0.20
TARGET_CHAIN_RESTORE = 1.3


def load(prefix):
    rows = {}
    with open(prefix + '.tsv') as f:
        next(f)
        for line in f:
            parts = line.rstrip('\n').split('\t')
            extra = dict(kv.split('=', 1) for kv in parts[8].split() if '=' in kv) if len(parts) > 8 else {}
            rows.setdefault(parts[0], {})[int(parts[1])] = {
                'wall': float(parts[2]), 'cpu': float(parts[3]) + float(parts[4]), 'rss_kb': int(parts[5]),
                'others': float(parts[6]), 'extra': extra}
    with open(prefix + '-meta.json') as f:
        meta = json.load(f)
    mutations = []
    try:
        with open(prefix + '-mutations.jsonl') as f:
            mutations = [json.loads(line) for line in f if line.strip()]
    except OSError:
        pass
    return rows, meta, mutations


def fmt(values, digits=2):
    values = [v for v in values if v is not None]
    if not values:
        return 'n/a'
    if len(values) == 1:
        return '%.*f' % (digits, values[0])
    return '%.*f (%.*f-%.*f)' % (digits, statistics.median(values), digits, min(values), digits, max(values))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Report(object):
    def __init__(self, rows):
        self.rows = rows

    def walls(self, name):
        return self.rows.get(name, {})

    def wall(self, name):
        return [x['wall'] for _r, x in sorted(self.walls(name).items())]

    def ratio(self, top, bottom):
        a, b = self.walls(top), self.walls(bottom)
        return [a[r]['wall'] / b[r]['wall'] for r in sorted(set(a) & set(b)) if b[r]['wall'] > 0]

    def extra(self, name, key, scale=1.0):
        out = []
        for _r, x in sorted(self.walls(name).items()):
            try:
                out.append(float(x['extra'][key]) * scale)
            except (KeyError, ValueError):
                out.append(None)
        return out


def verdict(value, limit, below=True):
    if value is None:
        return 'n/a'
    ok = value <= limit if below else value >= limit
    return 'met' if ok else 'NOT met'


def main():
    prefix = sys.argv[1]
    rows, meta, mutations = load(prefix)
    rep = Report(rows)
    out = []
    add = out.append
    add('### Incremental files backups (bench/files.sh --incremental, %s)' % meta['started'])
    add('')
    facts = (int(meta['data_bytes']) / 1e9, meta['data_files'], meta['env'], meta['load_start'], meta['load_end'], meta['restore_fs'])
    add('Dataset: %.2f GB in %s files (bench/make-dataset.sh), a fresh copy each round; %s. Load average %s at the start, %s '
        'at the end; restores into %s.' % facts)
    if mutations:
        first = mutations[0]
        facts = (100.0 * first['bytes_rewritten'] / first['bytes_total'], first['files_rewritten'], first['files_added'],
                 first['files_renamed'], first['files_deleted'], meta['chain_change'])
        add('The change run: %.1f%% of the bytes rewritten (%d files), %d added, %d renamed, %d deleted, one directory renamed '
            '(archived whole again); levels 3-6: %s%% each.' % facts)
    add('')
    add('| | module (files_backup) | through the play (backup.yml) |')
    add('|---|---|---|')
    add('| full (level 0), s | %s | %s |' % (fmt(rep.wall('inc_full_module')), fmt(rep.wall('inc_full_play'))))
    add('| unchanged re-run (level 1), s | %s | %s |' % (fmt(rep.wall('inc_unchanged_module')), fmt(rep.wall('inc_unchanged_play'))))
    add('| unchanged / full | **%s** | %s |' % (fmt(rep.ratio('inc_unchanged_module', 'inc_full_module'), 3),
                                                fmt(rep.ratio('inc_unchanged_play', 'inc_full_play'), 3)))
    add('| %s%% changed (level 2), s | %s | %s |' % (meta['change'], fmt(rep.wall('inc_change_module')), fmt(rep.wall('inc_change_play'))))
    add('| changed / full | **%s** | %s |' % (fmt(rep.ratio('inc_change_module', 'inc_full_module'), 3),
                                              fmt(rep.ratio('inc_change_play', 'inc_full_play'), 3)))
    add('| a plain full of the final tree, s | %s | %s |' % (fmt(rep.wall('plain_full_module')), fmt(rep.wall('plain_full_play'))))
    add('| the play\'s fixed cost (unchanged re-run of one small file), s | | %s |' % fmt(rep.wall('inc_unchanged_play_tiny')))
    add('| size stored: full, unchanged, changed (MB) | %s, %s, %s | |' % (
        fmt(rep.extra('inc_full_module', 'size', 1e-6), 1), fmt(rep.extra('inc_unchanged_module', 'size', 1e-6), 3),
        fmt(rep.extra('inc_change_module', 'size', 1e-6), 1)))
    if 'restic_unchanged' in rows:
        add('| restic first backup / unchanged re-run, s | %s / %s | |' % (fmt(rep.wall('restic_first')), fmt(rep.wall('restic_unchanged'))))
        ratios = (fmt(rep.ratio('inc_unchanged_module', 'restic_unchanged'), 2), fmt(rep.ratio('inc_unchanged_play', 'restic_unchanged'), 2))
        add('| lifeboat unchanged / restic unchanged | **%s** | %s |' % ratios)
    add('')
    add('| restore | module (files_restore) | through the play (restore.yml) |')
    add('|---|---|---|')
    add('| chain of 1 full + 6 increments, s | %s | %s |' % (fmt(rep.wall('restore_chain_module')), fmt(rep.wall('restore_chain_play'))))
    add('| one full of the same final tree, s | %s | %s |' % (fmt(rep.wall('restore_full_module')), fmt(rep.wall('restore_full_play'))))
    add('| chain / full | **%s** | %s |' % (fmt(rep.ratio('restore_chain_module', 'restore_full_module'), 3),
                                            fmt(rep.ratio('restore_chain_play', 'restore_full_play'), 3)))
    add('')
    add('| peak RSS, MiB | incremental | plain full |')
    add('|---|---|---|')
    for what, inc, plain, key in (('backup, module process', 'inc_full_module', 'plain_full_module', 'self_maxrss_kb'),
                                  ('backup, largest child (tar, zstd)', 'inc_full_module', 'plain_full_module', 'children_maxrss_kb'),
                                  ('increment (5%), module process', 'inc_change_module', 'plain_full_module', 'self_maxrss_kb'),
                                  ('restore, module process', 'restore_chain_module', 'restore_full_module', 'self_maxrss_kb'),
                                  ('restore, largest child', 'restore_chain_module', 'restore_full_module', 'children_maxrss_kb'),
                                  ('backup through the play, module (VmHWM)', 'inc_full_play', 'plain_full_play', 'module_hwm_kb'),
                                  ('restore through the play, module (VmHWM)', 'restore_chain_play', 'restore_full_play', 'module_hwm_kb')):
        add('| %s | %s | %s |' % (what, fmt(rep.extra(inc, key, 1 / 1024.0), 1), fmt(rep.extra(plain, key, 1 / 1024.0), 1)))
    add('')
    unchanged = median(rep.ratio('inc_unchanged_module', 'inc_full_module'))
    changed = median(rep.ratio('inc_change_module', 'inc_full_module'))
    chain = median(rep.ratio('restore_chain_module', 'restore_full_module'))
    restic = median(rep.ratio('inc_unchanged_module', 'restic_unchanged'))
    add('Targets (module level): unchanged <= %.2fx full: %s; faster than restic unchanged: %s; changed <= %.2fx: %s; '
        'chain restore <= %.1fx: %s.' % (TARGET_UNCHANGED, verdict(unchanged, TARGET_UNCHANGED), verdict(restic, 1.0),
                                         TARGET_CHANGE, verdict(changed, TARGET_CHANGE), TARGET_CHAIN_RESTORE,
                                         verdict(chain, TARGET_CHAIN_RESTORE)))
    print('\n'.join(out))


if __name__ == '__main__':
    main()
