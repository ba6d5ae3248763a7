# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification of committed sets (backup_verify, docs/verify.md).

quick -- the manifest is readable and valid; every artifact it lists is in the store with its recorded size;
         every record object is there and says what the manifest's copy says; every earlier level of each
         incremental files entry is completed and present with the pinned checksum and size (its whole chain).
full  -- quick, then every artifact is streamed from the store through the one pipeline (artifacts.read_artifact:
         sha256 and size against the record, decompression to the end) into a decoder that proves the data
         reads: tar's listing through the archive safety checks (an increment listed with its dumpdirs, checked
         as a restore checks it), pg_restore reading the whole custom dump,
         the SQL trailer of pg_dumpall's globals. Memory stays bounded (the pipeline's chunks), nothing is
         written to disk, artifacts are read ``jobs`` at a time. Encrypted artifacts are decrypted by age on the way
         with the identity given (``decryption``); without one, their ciphertext is checked against the sha256 only
         and the item says so in ``skipped`` (a wrong identity is a problem).

Results never touch a set: one small JSON per set and run goes into the checks area (results.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import concurrent.futures
import datetime
import os
import socket
import threading
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import logic as checks_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._checks import results
from ansible_collections.lifeboat.backup.plugins.module_utils._files import chain
from ansible_collections.lifeboat.backup.plugins.module_utils._files import incremental
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tarsafe import IncrementalChecker, MemberChecker
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic

LEVELS = ('quick', 'full')
ENV = dict(os.environ, LC_ALL='C')


# ---------------------------------------------------------------- which sets

def select_sets(store, which, now):
    """The set ids to verify: 'latest' (newest completed), 'all' (every completed set) or a list of ids."""
    listing = lifecycle.list_sets(store, now)
    completed = [item['id'] for item in listing if item['status'] == set_format.COMPLETED]
    if which in (None, '', 'latest', ['latest']):
        if not completed:
            raise LifeboatError('there is no completed backup set in the %s to verify' % store.describe())
        return completed[:1], listing
    if which in ('all', ['all']):
        return completed, listing
    ids = [which] if isinstance(which, str) else list(which)
    for set_id in ids:
        set_format.parse_set_id(set_id)
    return ids, listing


# ---------------------------------------------------------------- quick

def check_objects(store, manifest):
    """Every artifact with its size and every record object equal to the manifest's copy.

    Returns (problems, keys of the artifacts that are missing or have another size).
    """
    set_id = manifest['set_id']
    present = {info.key: info.size for info in store.list(set_id)}
    problems = set_format.verify_parts(manifest.get('artifacts', []), present)
    bad = {record['key'] for record in manifest.get('artifacts', []) if present.get(record['key']) != record['size']}
    for record in manifest.get('artifacts', []):
        key = set_format.record_key_for(record['key'])
        if key not in present:
            problems.append('%s is missing (the record of %s)' % (key, record['key']))
            continue
        data = store.get_bytes(key)
        try:
            stored = set_format.loads(data, 'record %s' % key) if data is not None else None
        except LifeboatError as e:
            problems.append(e.msg)
            continue
        if stored is None:
            problems.append('%s is missing (the record of %s)' % (key, record['key']))
        elif stored != record:
            changed = sorted(name for name in set(stored) | set(record) if stored.get(name) != record.get(name))
            problems.append('%s differs from the manifest\'s copy (%s)' % (key, ', '.join(changed)))
    return problems, bad


# ---------------------------------------------------------------- full

class _Tail(object):
    """Keeps the last ``limit`` bytes of a sink's stdout lines."""

    def __init__(self, limit=checks_logic.TAIL_BYTES):
        self.lines = collections.deque()
        self.size = 0
        self.limit = limit

    def feed(self, line):
        self.lines.append(line)
        self.size += len(line)
        while self.size > self.limit and len(self.lines) > 1:
            self.size -= len(self.lines.popleft())

    def data(self):
        return b''.join(self.lines)


class Decoder(object):
    """How one artifact's decompressed stream is proven to read: a sink process, a line hook and a judge."""

    def __init__(self, argv, name, feed=None, judge=None, facts=None, skipped=None):
        self.argv = argv
        self.name = name
        self.feed = feed
        self.judge = judge or _sink_ok
        self.facts = facts or dict
        self.skipped = skipped


def _sink_ok(res):
    return ['reading failed: %s' % res['sink'].describe()] if res['sink'].failed() else []


def _drain(skipped=None):
    """Decompression alone, into /dev/null (raw uploads, snapshot records, and where no decoder is installed)."""
    dd = pipeline.need_tool('dd', 'verifying artifacts')
    return Decoder([dd, 'of=/dev/null', 'bs=1M', 'status=none'], 'dd', skipped=skipped)


def chain_problems(store, manifest):
    """Every incremental entry's chain: each earlier level completed, present, with the pinned checksum and size."""
    manifests = chain.Manifests(store)
    problems = []
    for record in manifest.get('artifacts', []):
        if (incremental.facts_of(record) or {}).get('level'):
            why = chain.chain_problem(store, record, manifests)
            if why:
                problems.append(why)
    return problems


def _tar_decoder(record, kind):
    tar = pipeline.need_tool('tar', 'verifying archives')
    roots = ((record.get('extra') or {}).get('paths') or []) if kind == 'tar-listing' else []
    argv = [tar, '-tvv', '--quoting-style=c', '-f', '-']
    if kind == 'tar-listing' and incremental.facts_of(record):
        # a level of a chain: listed with its dumpdirs, through the checks a restore applies to it
        checker = IncrementalChecker(roots)
        argv = files_logic.tar_list_incremental_argv(tar)
    else:
        checker = MemberChecker(roots)
    seen = {'toc': False}

    def feed(line):
        checker.feed(line)
        if kind == 'pg-directory-tar' and line.rstrip().endswith(b'toc.dat"'):
            seen['toc'] = True

    def judge(res):
        if isinstance(checker, IncrementalChecker):
            checker.finish()
        checker.check_stderr(res['sink'].stderr)
        problems = list(checker.problems)
        if res['sink'].failed():
            problems.append('tar cannot read the archive: %s' % res['sink'].describe())
        if kind == 'pg-directory-tar' and not seen['toc']:
            problems.append('the directory-format dump has no toc.dat')
        return problems

    return Decoder(argv, 'tar', feed, judge, lambda: {'members': checker.members})


def _pg_restore_decoder(record):
    from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
    from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import logic as pg_logic
    dumped_by = (record.get('extra') or {}).get('pg_dump_version_num')
    try:
        tool, tool_num, _text = pg_client.find_tool('pg_restore', None, dumped_by)
    except LifeboatError as e:
        return _drain(skipped=e.msg)
    if dumped_by and pg_logic.major_num(tool_num) < pg_logic.major_num(dumped_by):
        return _drain(skipped='pg_restore %s on this host cannot read a dump of pg_dump %s (install the PostgreSQL %s '
                              'client tools)' % (pg_logic.version_text(tool_num), pg_logic.version_text(dumped_by),
                                                 pg_logic.major_text(dumped_by)))

    def judge(res):
        return ['pg_restore cannot read the dump: %s' % res['sink'].describe()] if res['sink'].failed() else []

    # --file=/dev/null: pg_restore reads the whole archive (every data block), not only its table of contents
    return Decoder([tool, '--file=/dev/null'], 'pg_restore', judge=judge, facts=lambda: {'pg_restore': tool})


def _sql_decoder():
    tail = _Tail()

    def judge(res):
        if res['sink'].failed():
            return ['reading the SQL dump failed: %s' % res['sink'].describe()]
        if not checks_logic.sql_complete(tail.data()):
            return ['the SQL dump does not end with its "dump complete" trailer: it is truncated']
        return []

    return Decoder(['tail', '-c', str(checks_logic.TAIL_BYTES)], 'tail', tail.feed, judge)


def decoder(record):
    kind = checks_logic.decoder_for(record)
    if kind in ('tar-listing', 'pg-directory-tar'):
        return _tar_decoder(record, kind)
    if kind == 'pg-restore':
        return _pg_restore_decoder(record)
    if kind == 'sql-complete':
        return _sql_decoder()
    return _drain()


def verify_artifact(store, record, decryption=None, progress=None):
    """Stream one artifact through its decoder. Returns an item dict (passed, problems, decoder, bytes, seconds).

    ``progress``: the pipeline's progress hook of this read (else the module's reporter gets a phase of its own)."""
    item = {'host': record['host'], 'component': record['component'], 'name': record['name'], 'key': record['key'],
            'size': record['size'], 'decoder': checks_logic.decoder_for(record), 'problems': []}
    how = decoder(record)
    if encryption_logic.is_encrypted(record) and decryption is None:
        # the stored bytes as they are: their sha256 is checked, nothing is decrypted
        how = _drain(skipped='encrypted with age and no identity was given (option decryption): only the ciphertext was '
                             'checked against the record, it was not decrypted nor decoded')
        record = dict(record, compression='none', encryption='none')
    if how.skipped:
        item['skipped'] = how.skipped
    t0 = time.time()
    try:
        res = artifacts.read_artifact(store, record, how.argv, sink_name=how.name, env=ENV, on_sink_line=how.feed,
                                      decryption=decryption, progress=progress)
    except LifeboatError as e:
        item.update({'passed': False, 'problems': [e.msg], 'seconds': round(time.time() - t0, 3), 'bytes': 0})
        return item
    item['problems'] = how.judge(res)
    item.update(how.facts())
    item.update({'passed': not item['problems'], 'seconds': round(res['seconds'], 3), 'bytes': res['size'],
                 'sha256': res['sha256']})
    return item


def verify_manifest_full(store, manifest, jobs, reporter=None, decryption=None):
    """Every artifact of one manifest, ``jobs`` at a time. Returns the items, in manifest order.

    ``reporter`` (the set's phase) counts the stored bytes read of all of them, while they are read."""
    records = manifest.get('artifacts', [])
    lock = threading.Lock()
    read = {}  # key -> stored bytes read so far
    total = [0]  # their sum, kept as it changes (a tick must not sum every artifact of a large manifest)

    def count(key, stored):
        with lock:
            total[0] += stored - read.get(key, 0)
            read[key] = stored
            if reporter is not None:
                reporter(total[0])

    def one(record):
        hook = None if reporter is None else (lambda stored, plain=None: count(record['key'], stored))
        item = verify_artifact(store, record, decryption, progress=hook)
        count(record['key'], item.get('bytes') or 0)
        return item

    if jobs <= 1 or len(records) <= 1 or not store.parallel_reads:
        return [one(record) for record in records]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, records))


# ---------------------------------------------------------------- a run

def verify_set(store, set_id, level, jobs=1, reporter=None, decryption=None):
    """One set: returns (doc fields: passed, items, problems, manifest_sha256, totals)."""
    try:
        manifest, digest = lifecycle.resolve_completed(store, set_id)
    except LifeboatError as e:
        return {'passed': False, 'items': [], 'problems': [e.msg], 'manifest_sha256': None, 'totals': {}}
    problems, bad = check_objects(store, manifest)
    problems.extend(chain_problems(store, manifest))
    items = []
    totals = {'artifacts': len(manifest.get('artifacts', [])), 'size': manifest.get('size', 0)}
    if level == 'full':
        to_read = dict(manifest)
        to_read['artifacts'] = [record for record in manifest.get('artifacts', []) if record['key'] not in bad]
        if reporter is not None:
            reporter.phase('set %s' % set_id, total=sum(record['size'] for record in to_read['artifacts']))
        t0 = time.time()
        items = verify_manifest_full(store, to_read, jobs, reporter, decryption)
        seconds = time.time() - t0
        read = sum(item.get('bytes') or 0 for item in items)
        totals.update({'bytes_read': read, 'seconds': round(seconds, 3),
                       'throughput': int(read / seconds) if seconds > 0 else None,
                       'skipped': [item['key'] for item in items if item.get('skipped')]})
        for item in items:
            problems.extend('%s: %s' % (item['key'], problem) for problem in item['problems'])
    return {'passed': not problems, 'items': items, 'problems': problems, 'manifest_sha256': digest, 'totals': totals}


def record_result(store, set_id, kind, outcome, started, now, runner):
    """Write the check document of one set; returns its key. Never touches the set's own objects."""
    moment = now
    doc = results.make_check_doc(set_id, kind, outcome['passed'], set_format.iso(started), set_format.iso(now),
                                 outcome['manifest_sha256'], outcome['items'], outcome['problems'], runner=runner,
                                 totals=outcome.get('totals'))
    data = set_format.dumps(doc)
    for _attempt in range(5):
        key = results.check_key(set_id, moment, kind, outcome['passed'])
        if store.put_bytes(key, data, exclusive=True):
            return key
        moment = moment + datetime.timedelta(seconds=1)
    raise LifeboatError('could not record the %s result of set %s: the names were taken' % (kind, set_id))


def run(store, which='latest', level='quick', jobs=2, record=True, check_mode=False, reporter=None, now=None,
        decryption=None):
    """What backup_verify returns: per set passed/problems, totals, and where each result was recorded."""
    if level not in LEVELS:
        raise LifeboatError('verify level must be quick or full, got %r' % (level,))
    started = now or set_format.utcnow()
    set_ids, _listing = select_sets(store, which, started)
    runner = {'host': socket.gethostname(), 'pid': os.getpid(), 'level': level, 'jobs': jobs}
    kind = 'verify-' + level
    out = []
    t0 = time.time()
    for set_id in set_ids:
        set_started = set_format.utcnow()
        outcome = verify_set(store, set_id, level, jobs, reporter, decryption)
        entry = {'set_id': set_id, 'passed': outcome['passed'], 'problems': outcome['problems'],
                 'manifest_sha256': outcome['manifest_sha256'], 'totals': outcome['totals']}
        if level == 'full':
            entry['artifacts'] = outcome['items']
        if record and not check_mode:
            try:
                entry['recorded'] = record_result(store, set_id, kind, outcome, set_started, set_format.utcnow(), runner)
            except LifeboatError as e:
                entry['record_error'] = e.msg
        out.append(entry)
    seconds = time.time() - t0
    read = sum((entry['totals'] or {}).get('bytes_read') or 0 for entry in out)
    failed = [entry['set_id'] for entry in out if not entry['passed']]
    result = {
        'changed': bool(record and not check_mode and out),
        'level': level,
        'passed': not failed,
        'sets': out,
        'checked': len(out),
        'failed_sets': failed,
        'bytes_read': read,
        'seconds': round(seconds, 3),
        'throughput': int(read / seconds) if level == 'full' and seconds > 0 else None,
    }
    return result
