# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot sets: the flows behind ec2_snapshot_set, ec2_snapshot_set_info and ec2_snapshot_set_restore.

Each flow takes ``make_ec2(region=None, endpoint_url=None) -> _aws.ec2.Ec2`` (so tests can hand in clients
wired to moto or botocore's Stubber), plain option values, and injectable ``clock``/``sleep``. Decisions
are made by logic.py (pure); AWS calls go through _aws/ec2.py; the backup-set record is written with
artifacts.write_artifact like every other component's artifact.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format

HOOK_OUTPUT_LIMIT = 4096


def _nolog(_msg):
    pass


# ---------------------------------------------------------------- quiesce hooks

def run_hook(argv, timeout, what):
    """Run a pre/post command (argv list, no shell). Raises LifeboatError unless it exits 0 in time."""
    if not argv:
        return None
    argv = [str(a) for a in argv]
    t0 = time.time()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LifeboatError('%s %s did not finish within %d seconds and was killed' % (what, argv[0], timeout))
    except OSError as e:
        raise LifeboatError('%s %s could not be started: %s' % (what, argv[0], e))
    out = p.stdout.decode('utf-8', 'replace')[-HOOK_OUTPUT_LIMIT:]
    err = p.stderr.decode('utf-8', 'replace')[-HOOK_OUTPUT_LIMIT:]
    if p.returncode != 0:
        raise LifeboatError('%s %s failed with exit code %d: %s'
                            % (what, ' '.join(argv), p.returncode, err.strip() or out.strip() or 'no output'))
    return {'argv': argv, 'rc': p.returncode, 'stdout': out, 'stderr': err, 'seconds': round(time.time() - t0, 3)}


# ---------------------------------------------------------------- waiting

def _progress_text(summaries):
    return ', '.join('%s %s %s' % (s['snapshot_id'], s.get('device') or s.get('volume_id'),
                                   s.get('progress') or s.get('state')) for s in summaries if s['state'] != snapshot_logic.COMPLETED)


def wait_snapshots(ec2, snapshot_ids, timeout, clock=time.time, sleep=time.sleep, delays=None, log=_nolog,
                   what='snapshots'):
    """Poll until every snapshot is completed or one failed; raise on timeout. Returns raw snapshots."""
    started = clock()
    delays = delays if delays is not None else snapshot_logic.poll_delays()
    want = set(snapshot_ids)
    while True:
        raw = ec2.snapshots(snapshot_ids=sorted(want), eventual=True)
        summaries = [snapshot_logic.snapshot_summary(s) for s in raw]
        have = {s['snapshot_id'] for s in summaries}
        if have != want:
            raise LifeboatError('%s %s disappeared from %s while waiting for them'
                                % (what, ', '.join(sorted(want - have)), ec2.region))
        if snapshot_logic.failed_snapshots(summaries):
            return raw
        if all(s['state'] == snapshot_logic.COMPLETED for s in summaries):
            return raw
        log('waiting for %s in %s: %s' % (what, ec2.region, _progress_text(summaries)))
        delay = snapshot_logic.next_sleep(next(delays), started, clock(), timeout)
        if delay is None:
            raise _Timeout(summaries)
        sleep(delay)


class _Timeout(Exception):
    def __init__(self, summaries):
        Exception.__init__(self, 'timeout')
        self.summaries = summaries


def _poll(fetch, done, bad, timeout, what, clock=time.time, sleep=time.sleep, first=2.0, cap=15.0):
    """Generic poll: fetch() -> value; done(value) -> bool; bad(value) -> message or None."""
    started = clock()
    delays = snapshot_logic.poll_delays(first, 1.5, cap)
    while True:
        value = fetch()
        problem = bad(value)
        if problem:
            raise LifeboatError('%s: %s' % (what, problem))
        if done(value):
            return value
        delay = snapshot_logic.next_sleep(next(delays), started, clock(), timeout)
        if delay is None:
            raise LifeboatError('timed out after %d seconds waiting for %s' % (timeout, what))
        sleep(delay)


# ---------------------------------------------------------------- create

def resolve_instance_id(instance_id, imds):
    """The instance to snapshot: the option, or this host's own id from IMDSv2 (``imds`` callable)."""
    if instance_id:
        return snapshot_logic.validate_instance_id(instance_id), None
    if imds is None:
        raise LifeboatError('instance_id is required')
    ident = imds()
    return snapshot_logic.validate_instance_id(ident['instance_id']), ident


def create_set(make_ec2, opts, check_mode=False, clock=time.time, sleep=time.sleep, imds=None, hook=run_hook,
               log=_nolog, delays=None):
    """state=present of ec2_snapshot_set. ``opts``: the module's params (see the module's options)."""
    t0 = clock()
    iid, ident = resolve_instance_id(opts.get('instance_id'), imds)
    region = opts.get('region') or (ident or {}).get('region')
    ec2 = make_ec2(region)
    set_id = snapshot_logic.validate_set_id(opts.get('set_id') or set_format.make_set_id(set_format.utcnow()))
    host = opts.get('host') or iid
    if opts.get('record_in_set'):
        if not opts.get('wait'):
            raise LifeboatError('record_in_set needs wait=true: a set is recorded once its snapshots completed')
        if not opts.get('store'):
            raise LifeboatError('record_in_set needs store')
        set_format.parse_set_id(set_id)
        set_format.validate_host(host)
        if not check_mode:  # in check mode the backup set was not really started
            check_record_target(opts['store'], set_id)
    if opts.get('copy_to_region') and not opts.get('wait'):
        raise LifeboatError('copy_to_region needs wait=true: EC2 copies a snapshot only once it is completed')
    if opts.get('copy_to_region') == ec2.region:
        raise LifeboatError('copy_to_region is %s, the region the snapshots are taken in' % ec2.region)
    user_tags = snapshot_logic.validate_user_tags(opts.get('tags'))

    inst = ec2.instance(iid)
    az = (inst.get('Placement') or {}).get('AvailabilityZone')
    attached = [b['Ebs']['VolumeId'] for b in inst.get('BlockDeviceMappings') or [] if b.get('Ebs')]
    volumes = snapshot_logic.instance_volumes(inst, ec2.volumes(attached))
    included, excluded = snapshot_logic.select_volumes(volumes, opts.get('exclude_boot'), opts.get('exclude_volumes'))

    result = {'changed': False, 'records': [], 'hooks': {}}
    existing = ec2.snapshots(filters=snapshot_logic.set_filters(set_id, host))
    if existing:
        snapset = snapshot_logic.group_sets(existing, ec2.region)[0]
        if snapset.get('instance_id') and snapset['instance_id'] != iid:
            raise LifeboatError('snapshot set %s of host %s already exists in %s for instance %s, not %s'
                                % (set_id, host, ec2.region, snapset['instance_id'], iid))
        log('snapshot set %s of %s already exists (%s): not creating it again' % (set_id, host, snapset['state']))
    elif check_mode:
        plan = {'set_id': set_id, 'host': host, 'instance_id': iid, 'region': ec2.region, 'availability_zone': az,
                'state': 'planned', 'complete': False, 'snapshots': [
                    {'snapshot_id': None, 'volume_id': v['volume_id'], 'device': v['device'], 'boot': v['boot'],
                     'size_gib': v.get('size_gib'), 'state': 'planned', 'start_time': None} for v in included],
                'excluded': [{'volume_id': v['volume_id'], 'device': v['device'], 'boot': v['boot']} for v in excluded],
                'copies': {}}
        result.update({'changed': True, 'snapshot_set': plan})
        return result
    else:
        snapset = _take(ec2, opts, set_id, host, iid, az, included, excluded, user_tags, hook, result, log)
        result['changed'] = True
    snapset['excluded'] = [{'volume_id': v['volume_id'], 'device': v['device'], 'boot': v['boot']} for v in excluded]
    snapset['copies'] = {}
    result['snapshot_set'] = snapset
    if snapset['state'] == snapshot_logic.ERROR:
        raise _set_error(snapset, ec2.region, result)
    if not opts.get('wait') or (check_mode and snapset['state'] != snapshot_logic.COMPLETED):
        return result

    timeout = int(opts.get('wait_timeout') or 0)
    snapset = _wait_set(ec2, snapset, timeout, clock, sleep, delays, log, result)
    result['snapshot_set'] = snapset

    if opts.get('copy_to_region'):
        dest = make_ec2(opts['copy_to_region'], opts.get('copy_endpoint_url'))
        copies = _copy(ec2, dest, snapset, opts, check_mode, result, log)
        if copies is not None:
            snapset['copies'][dest.region] = copies
            if not check_mode:
                done = _wait_copies(dest, snapset, timeout, clock, sleep, delays, log, result)
                snapset['copies'][dest.region] = done
    if opts.get('record_in_set') and not check_mode:
        rec = write_record(opts['store'], snapset, set_id, host)
        result['records'] = [rec]
        result['summary'] = [{'host': host, 'component': rec['component'], 'name': rec['name'], 'size': rec['size'],
                              'uncompressed_size': None,
                              'seconds': round(clock() - t0, 3), 'snapshots': len(snapset['snapshots']),
                              'volume_gib': snapset.get('size_gib')}]
    return result


def _set_error(snapset, region, result):
    result['snapshot_set'] = snapset
    return LifeboatError('snapshot set %s of %s in %s is incomplete: %s ended in error state: %s. The set is not '
                         'usable for a restore; delete it (state=absent) and take a new one'
                         % (snapset['set_id'], snapset['host'], region,
                            'a snapshot' if len(snapshot_logic.failed_snapshots(snapset['snapshots'])) == 1 else 'snapshots',
                            snapshot_logic.describe_failures(snapset['snapshots'])),
                         snapshot_set=snapset, records=[])


def _take(ec2, opts, set_id, host, iid, az, included, excluded, user_tags, hook, result, log):
    """Quiesce, CreateSnapshots, thaw (always, once quiesce ran), tag, drop snapshots of excluded volumes."""
    common = snapshot_logic.set_tags(set_id, host, iid, len(included), az, user_tags)
    description = opts.get('description') or ('lifeboat.backup snapshot set %s of %s' % (set_id, host))
    cmd_timeout = int(opts.get('command_timeout') or 300)
    pre, post = opts.get('pre_command'), opts.get('post_command')
    created, failure, post_failure = None, None, None
    pre_ran = False
    try:
        if pre:
            pre_ran = True
            result['hooks']['pre'] = hook(pre, cmd_timeout, 'pre_command')
        log('creating snapshot set %s of %s (%s)' % (set_id, iid, ', '.join(v['device'] for v in included)))
        created = ec2.create_snapshots(iid, opts.get('exclude_boot'),
                                       [v['volume_id'] for v in excluded if not v['boot']], description, common)
    except LifeboatError as e:
        failure = e
    finally:
        if pre_ran and post:
            try:
                result['hooks']['post'] = hook(post, cmd_timeout, 'post_command')
            except LifeboatError as e:
                post_failure = e
            except Exception as e:  # pylint: disable=broad-except
                post_failure = LifeboatError('post_command failed: %s' % e)
    if failure is not None:
        if post_failure is not None:
            raise LifeboatError('%s; and then %s' % (failure.msg, post_failure.msg), **failure.details)
        raise failure
    kept, unwanted, problems = snapshot_logic.match_created(created, included, excluded)
    for s in unwanted:
        # EC2 honours ExcludeDataVolumeIds; an endpoint that ignored it (moto) made snapshots we must not keep
        log('deleting snapshot %s of excluded volume %s' % (s.get('SnapshotId'), s.get('VolumeId')))
        ec2.delete_snapshot(s['SnapshotId'])
    for s, v in kept:
        tags = dict(common)
        tags.update(snapshot_logic.volume_tags(v))
        ec2.tag([s['SnapshotId']], tags)
    if unwanted:
        result['deleted_unwanted'] = [s['SnapshotId'] for s in unwanted]
    if problems:
        raise LifeboatError('CreateSnapshots for %s did not give the expected snapshots: %s'
                            % (iid, '; '.join(problems)))
    raw = ec2.snapshots(snapshot_ids=[s['SnapshotId'] for s, _v in kept], eventual=True)
    snapset = snapshot_logic.make_set(set_id, host, iid, ec2.region, raw, expected=len(included), availability_zone=az)
    if post_failure is not None:
        result['snapshot_set'] = snapset
        raise LifeboatError('%s. The snapshots were taken (set %s) but are not recorded: check the host (a '
                            'filesystem may still be frozen)' % (post_failure.msg, set_id),
                            snapshot_set=snapset, records=[])
    return snapset


def _wait_set(ec2, snapset, timeout, clock, sleep, delays, log, result):
    ids = [s['snapshot_id'] for s in snapset['snapshots']]
    try:
        raw = wait_snapshots(ec2, ids, timeout, clock, sleep, delays, log, 'snapshots of set %s' % snapset['set_id'])
    except _Timeout as t:
        done = len([s for s in t.summaries if s['state'] == snapshot_logic.COMPLETED])
        snapset = dict(snapset, snapshots=sorted(t.summaries, key=snapshot_logic._snap_order), state=snapshot_logic.PENDING,
                       complete=False)
        result['snapshot_set'] = snapset
        raise LifeboatError('timed out after %d seconds waiting for snapshot set %s of %s in %s: %d of %d completed '
                            '(still pending: %s). The snapshots go on in AWS; run again with the same set_id to keep '
                            'waiting (raise wait_timeout), or check with ec2_snapshot_set_info. The set is not recorded'
                            % (timeout, snapset['set_id'], snapset['host'], ec2.region, done, len(t.summaries),
                               _progress_text(t.summaries)), snapshot_set=snapset, records=[])
    new = snapshot_logic.make_set(snapset['set_id'], snapset['host'], snapset['instance_id'], ec2.region, raw,
                                  expected=snapset['expected_count'], availability_zone=snapset.get('availability_zone'))
    new['excluded'] = snapset.get('excluded', [])
    new['copies'] = snapset.get('copies', {})
    if new['state'] == snapshot_logic.ERROR:
        raise _set_error(new, ec2.region, result)
    if new['state'] != snapshot_logic.COMPLETED:
        raise LifeboatError('snapshot set %s of %s in %s is %s'
                            % (new['set_id'], new['host'], ec2.region, new['state']), snapshot_set=new, records=[])
    return new


def _copy(src, dest, snapset, opts, check_mode, result, log):
    """Copy every snapshot of a completed set to dest (encrypted); reuses copies made by an earlier run."""
    existing = dest.snapshots(filters=snapshot_logic.set_filters(snapset['set_id'], snapset['host']))
    have = {snapshot_logic.tag_dict(s.get('Tags')).get(snapshot_logic.TAG_SOURCE_SNAPSHOT): s for s in existing}
    todo = [s for s in snapset['snapshots'] if s['snapshot_id'] not in have]
    if check_mode:
        if todo:
            result['changed'] = True
        return [dict(s, snapshot_id=None, source_snapshot_id=s['snapshot_id'], state='planned') for s in todo] + \
            [snapshot_logic.snapshot_summary(have[s['snapshot_id']]) for s in snapset['snapshots'] if s['snapshot_id'] in have]
    src_raw = {s['SnapshotId']: s for s in src.snapshots(snapshot_ids=[x['snapshot_id'] for x in todo])} \
        if todo else {}
    ids = [have[s['snapshot_id']]['SnapshotId'] for s in snapset['snapshots'] if s['snapshot_id'] in have]
    for s in todo:
        tags = snapshot_logic.copy_tags(snapshot_logic.tag_dict(src_raw[s['snapshot_id']].get('Tags')), s['snapshot_id'], src.region)
        desc = 'lifeboat.backup copy of %s (set %s of %s, %s) from %s' % (
            s['snapshot_id'], snapset['set_id'], snapset['host'], s.get('device'), src.region)
        log('copying %s to %s' % (s['snapshot_id'], dest.region))
        cid = dest.copy_snapshot(src.region, s['snapshot_id'], desc, opts.get('copy_kms_key_id'), tags)
        src.tag([s['snapshot_id']], {snapshot_logic.TAG_COPIED_TO + dest.region: cid})
        ids.append(cid)
        result['changed'] = True
    # by id, not by tag: a copy made a moment ago may not be found by a tag filter yet
    raw = dest.snapshots(snapshot_ids=ids, eventual=True)
    return sorted((snapshot_logic.snapshot_summary(s) for s in raw), key=snapshot_logic._snap_order)


def _wait_copies(dest, snapset, timeout, clock, sleep, delays, log, result):
    copies = snapset['copies'][dest.region]
    ids = [c['snapshot_id'] for c in copies]
    try:
        raw = wait_snapshots(dest, ids, timeout, clock, sleep, delays, log,
                             'copies of set %s' % snapset['set_id'])
    except _Timeout as t:
        snapset['copies'][dest.region] = t.summaries
        result['snapshot_set'] = snapset
        raise LifeboatError('timed out after %d seconds waiting for the copies of snapshot set %s of %s in %s '
                            '(still pending: %s). The copies go on in AWS; run again with the same set_id to keep '
                            'waiting. The set is not recorded'
                            % (timeout, snapset['set_id'], snapset['host'], dest.region, _progress_text(t.summaries)),
                            snapshot_set=snapset, records=[])
    done = sorted((snapshot_logic.snapshot_summary(s) for s in raw), key=snapshot_logic._snap_order)
    snapset['copies'][dest.region] = done
    if snapshot_logic.failed_snapshots(done):
        result['snapshot_set'] = snapset
        raise LifeboatError('the copy of snapshot set %s of %s to %s failed: %s. The set is not recorded'
                            % (snapset['set_id'], snapset['host'], dest.region, snapshot_logic.describe_failures(done)),
                            snapshot_set=snapset, records=[])
    if len(done) != len(snapset['snapshots']):
        raise LifeboatError('snapshot set %s of %s has %d snapshots but %d copies in %s'
                            % (snapset['set_id'], snapset['host'], len(snapset['snapshots']), len(done), dest.region),
                            snapshot_set=snapset, records=[])
    return done


# ---------------------------------------------------------------- the record in the backup set

def check_record_target(store_params, set_id):
    """Before any snapshot is taken: the backup set to record into exists and is open."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
    with open_store(store_params) as store:
        lifecycle.require_open(store, set_id)


def write_record(store_params, snapset, set_id, host):
    """Write the snapshot set's JSON document into the backup set as artifact snapshot/ec2."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import write_document
    if snapset.get('state') != snapshot_logic.COMPLETED:
        raise LifeboatError('snapshot set %s of %s is %s: only a completed set is recorded'
                            % (set_id, host, snapset.get('state')))
    extra = {'instance_id': snapset['instance_id'], 'region': snapset['region'],
             'snapshot_ids': [s['snapshot_id'] for s in snapset['snapshots']],
             'copies': {r: [c['snapshot_id'] for c in cs] for r, cs in (snapset.get('copies') or {}).items()},
             'size_gib': snapset.get('size_gib')}
    with open_store(store_params) as store:
        return write_document(store, set_id, host, snapshot_logic.RECORD_COMPONENT, snapshot_logic.RECORD_NAME,
                              'ebs-snapshot-set', 'ec2:%s/%s' % (snapset['region'], snapset['instance_id']),
                              snapshot_logic.set_document(snapset), extra=extra)


def read_record(store_params, set_id, host, pin=None):
    """The snapshot-set document of ``host`` in a completed backup set, checked against its record."""
    from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set.artifacts import find_record, read_document
    from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
    with open_store(store_params) as store:
        manifest, _digest = lifecycle.resolve_completed(store, set_id, pin)
        record = find_record(manifest, host, snapshot_logic.RECORD_COMPONENT, snapshot_logic.RECORD_NAME)
        doc = read_document(store, record, 'snapshot record of %s in set %s' % (host, manifest['set_id']))
    return snapshot_logic.check_document(doc, manifest['set_id'], host), manifest['set_id']


# ---------------------------------------------------------------- delete and list

def _clients_for(make_ec2, home, regions, copy_endpoint_url):
    out = {home.region: home}
    for r in regions:
        if r not in out:
            out[r] = make_ec2(r, copy_endpoint_url)
    return out


def delete_set(make_ec2, opts, check_mode=False, log=_nolog):
    """state=absent: delete every snapshot of the set (and host) in the module's region, the regions its
    snapshots were copied to, and ``regions`` (``all``: every enabled region)."""
    set_id = snapshot_logic.validate_set_id(opts.get('set_id') or '')
    host = opts.get('host')
    home = make_ec2(opts.get('region'))
    regions = list(opts.get('regions') or [])
    if 'all' in regions:
        regions = home.regions()
    clients = _clients_for(make_ec2, home, regions, opts.get('copy_endpoint_url'))
    found = {}
    queue = list(clients)
    seen = set()
    while queue:
        r = queue.pop(0)
        if r in seen:
            continue
        seen.add(r)
        if r not in clients:
            clients[r] = make_ec2(r, opts.get('copy_endpoint_url'))
        raw = clients[r].snapshots(filters=snapshot_logic.set_filters(set_id, host))
        if raw:
            found[r] = raw
        for s in raw:
            for k in snapshot_logic.tag_dict(s.get('Tags')):
                if k.startswith(snapshot_logic.TAG_COPIED_TO):
                    queue.append(k[len(snapshot_logic.TAG_COPIED_TO):])
    deleted = {}
    for r, raw in sorted(found.items()):
        deleted[r] = sorted(s['SnapshotId'] for s in raw)
        if check_mode:
            continue
        for s in raw:
            log('deleting snapshot %s in %s' % (s['SnapshotId'], r))
            clients[r].delete_snapshot(s['SnapshotId'])
    return {'changed': bool(deleted), 'deleted': deleted, 'set_id': set_id, 'host': host, 'records': [],
            'regions_searched': sorted(seen)}


def list_sets(make_ec2, opts, now=None):
    """ec2_snapshot_set_info: sets by set id / host / max age in one or more regions."""
    now = now or set_format.utcnow()
    max_age = snapshot_logic.parse_max_age(opts.get('max_age'))
    home = make_ec2(opts.get('region'))
    regions = list(opts.get('regions') or [])
    if 'all' in regions:
        regions = home.regions()
    if not regions:
        regions = [home.region]
    clients = _clients_for(make_ec2, home, regions, opts.get('copy_endpoint_url'))
    out = []
    for r in regions:
        raw = clients[r].snapshots(filters=snapshot_logic.set_filters(opts.get('set_id'), opts.get('host')))
        for s in snapshot_logic.group_sets(raw, r):
            if snapshot_logic.within_age(s.get('start_time'), max_age, now):
                out.append(s)
    out.sort(key=lambda x: (x.get('start_time') or '', x['set_id'], x.get('host') or '', x['region']), reverse=True)
    return {'changed': False, 'snapshot_sets': out, 'regions': regions}


# ---------------------------------------------------------------- restore

def find_set(ec2, set_id, host, doc=None):
    """The snapshot set to restore, from the recorded document (its snapshot ids) or by tag."""
    if doc is not None:
        ids = snapshot_logic.record_snapshot_ids(doc, ec2.region)
        raw = ec2.snapshots_by_id(ids)
        for s in raw:
            t = snapshot_logic.tag_dict(s.get('Tags'))
            if t.get(snapshot_logic.TAG_SET_ID) != set_id:
                raise LifeboatError('snapshot %s in %s is not tagged as part of set %s (it says %r)'
                                    % (s['SnapshotId'], ec2.region, set_id, t.get(snapshot_logic.TAG_SET_ID)))
        s = snapshot_logic.make_set(set_id, doc.get('host'), doc.get('instance_id'), ec2.region, raw, expected=len(ids),
                                    availability_zone=doc.get('availability_zone'))
        missing = sorted(set(ids) - {x['SnapshotId'] for x in raw})
        if missing:
            s['missing'] = missing
        return s
    sets = snapshot_logic.group_sets(ec2.snapshots(filters=snapshot_logic.set_filters(set_id, host)), ec2.region)
    if not sets:
        raise LifeboatError('there is no snapshot set %s%s in %s'
                            % (set_id, ' of host %s' % host if host else '', ec2.region))
    if len(sets) > 1:
        raise LifeboatError('snapshot set %s has snapshots of several hosts in %s (%s): name one with host'
                            % (set_id, ec2.region, ', '.join(sorted(s['host'] or '?' for s in sets))))
    return sets[0]


def restore_set(make_ec2, opts, check_mode=False, clock=time.time, sleep=time.sleep, log=_nolog):
    """ec2_snapshot_set_restore. Preflight everything first; any preflight problem changes nothing."""
    t0 = clock()
    set_id = snapshot_logic.validate_set_id(opts['set_id'])
    host = opts.get('host')
    doc = None
    if opts.get('store'):
        if not host:
            raise LifeboatError('with store, host is needed to find the snapshot record in the backup set')
        doc, set_id = read_record(opts['store'], set_id, host, opts.get('manifest_sha256'))
    ec2 = make_ec2(opts.get('region') or (doc or {}).get('region'))
    snapset = find_set(ec2, set_id, host, doc)
    iid = opts.get('instance_id') or snapset.get('instance_id')
    if not iid:
        raise LifeboatError('the set does not name its instance: pass instance_id')
    snapshot_logic.validate_instance_id(iid)
    inst = ec2.instance(iid)
    az = (inst.get('Placement') or {}).get('AvailabilityZone')
    state = (inst.get('State') or {}).get('Name')
    inst_vols = snapshot_logic.instance_volumes(inst)
    mode = opts.get('mode') or 'replace'
    replace_root = bool(opts.get('replace_root')) and mode == 'replace'
    if mode == 'replace':
        plan, root, problems = snapshot_logic.plan_replace(snapset, inst_vols, replace_root)
    else:
        plan, problems = snapshot_logic.plan_inspect(snapset, inst_vols, opts.get('devices'), opts.get('include_boot'))
        root = None
    if snapset.get('missing'):
        problems.insert(0, 'snapshot(s) %s recorded in the set no longer exist in %s'
                        % (', '.join(snapset['missing']), ec2.region))
    problems = snapshot_logic.restore_preflight(snapset, state, mode, opts.get('stop_instance'), replace_root,
                                                bool(plan)) + problems
    if not az:
        problems.append('the availability zone of instance %s is unknown' % iid)
    result = {'changed': False, 'set_id': set_id, 'host': snapset.get('host'), 'instance_id': iid,
              'region': ec2.region, 'availability_zone': az, 'mode': mode, 'instance_state': state,
              'volumes': plan, 'root': root, 'snapshot_set': snapset}
    if problems:
        raise LifeboatError('restore preflight failed, nothing was changed: %s' % '; '.join(problems),
                            problems=problems, volumes=plan)
    result['changed'] = True
    if check_mode:
        return _finish_restore(result, plan, root, t0, clock)
    timeout = int(opts.get('wait_timeout') or 1800)
    waits = dict(clock=clock, sleep=sleep)
    vol_tags = {snapshot_logic.TAG_RESTORED_FROM: set_id}

    # 1. new volumes (nothing on the instance changes yet)
    created = []
    try:
        for item in plan:
            tags = dict(vol_tags)
            tags[snapshot_logic.TAG_RESTORED_SNAPSHOT] = item['snapshot_id']
            tags[snapshot_logic.TAG_DEVICE] = item.get('source_device') or item['device']
            v = ec2.create_volume(item['snapshot_id'], az, opts.get('volume_type') or item.get('volume_type'), tags)
            item['new_volume_id'] = v['VolumeId']
            created.append(v['VolumeId'])
        if created:
            log('waiting for volumes %s' % ', '.join(created))
            _wait_volumes(ec2, created, 'available', timeout, **waits)
    except LifeboatError as e:
        for vid in created:
            try:
                ec2.delete_volume(vid)
            except LifeboatError:
                pass
        raise LifeboatError('creating volumes from set %s failed, the instance was not changed (new volumes were '
                            'deleted): %s' % (set_id, e.msg), volumes=plan)

    if mode == 'inspect':
        for item in plan:
            ec2.attach_volume(item['new_volume_id'], iid, item['device'])
        _wait_volumes(ec2, created, 'in-use', timeout, **waits)
        return _finish_restore(result, plan, None, t0, clock)

    # 2. in place: stop, swap, (delete), start
    stopped_by_us = False
    done = []
    if plan:
        if state == 'running':
            log('stopping %s' % iid)
            ec2.stop_instance(iid)
            _wait_instance(ec2, iid, 'stopped', timeout, **waits)
            stopped_by_us = True
        try:
            for item in plan:
                ec2.detach_volume(item['old_volume_id'], iid, item['device'])
                _wait_volumes(ec2, [item['old_volume_id']], 'available', timeout, **waits)
                ec2.tag([item['old_volume_id']], {snapshot_logic.TAG_REPLACED_BY: set_id})
                item['detached'] = True
                ec2.attach_volume(item['new_volume_id'], iid, item['device'])
                _wait_volumes(ec2, [item['new_volume_id']], 'in-use', timeout, **waits)
                item['attached'] = True
                done.append(item['device'])
        except LifeboatError as e:
            raise LifeboatError(
                'restore of set %s onto %s failed after changing the instance: %s. Replaced so far: %s. The instance '
                'is left stopped; replaced volumes are kept (tagged %s=%s) and can be attached back'
                % (set_id, iid, e.msg, ', '.join(done) or 'nothing', snapshot_logic.TAG_REPLACED_BY, set_id),
                volumes=plan)
        if opts.get('delete_replaced'):
            for item in plan:
                ec2.delete_volume(item['old_volume_id'])
                item['old_volume_deleted'] = True
        if stopped_by_us:
            log('starting %s' % iid)
            ec2.start_instance(iid)
            _wait_instance(ec2, iid, 'running', timeout, **waits)
        result['stopped_and_started'] = stopped_by_us

    # 3. root volume
    if root is not None:
        task = ec2.create_replace_root_task(iid, root['snapshot_id'], opts.get('delete_replaced'),
                                            {snapshot_logic.TAG_RESTORED_FROM: set_id})
        tid = task['ReplaceRootVolumeTaskId']
        log('replace-root-volume task %s for %s' % (tid, iid))

        def bad(t):
            if t.get('TaskState') in ('failed', 'failed-detached', 'failing'):
                return 'replace-root-volume task %s is %s (the old root volume stays attached)' % (tid, t['TaskState'])
            return None
        t = _poll(lambda: ec2.replace_root_task(tid), lambda t: t.get('TaskState') == 'succeeded', bad, timeout,
                  'the root volume of %s to be replaced from %s' % (iid, root['snapshot_id']), **waits)
        root['task_id'] = tid
        root['task_state'] = t.get('TaskState')
        result['root'] = root
    return _finish_restore(result, plan, root, t0, clock)


def _finish_restore(result, plan, root, t0, clock):
    lines = []
    for item in plan:
        lines.append('%s: %s from %s%s' % (item['device'], item.get('new_volume_id') or 'new volume', item['snapshot_id'],
                                           ' (replaced %s)' % item['old_volume_id'] if item.get('old_volume_id') else ''))
    if root is not None:
        lines.append('root %s: replaced from %s' % (root.get('device'), root['snapshot_id']))
    result['restored'] = lines
    result['seconds'] = round(clock() - t0, 3)
    return result


def _wait_volumes(ec2, ids, state, timeout, clock=time.time, sleep=time.sleep):
    def bad(vols):
        for v in vols.values():
            if v.get('State') == 'error':
                return 'volume %s is in error state' % v['VolumeId']
        return None
    return _poll(lambda: ec2.volume_states(ids), lambda vols: all(v.get('State') == state for v in vols.values())
                 and len(vols) == len(ids), bad, timeout, 'volume(s) %s to be %s' % (', '.join(ids), state),
                 clock=clock, sleep=sleep)


def _wait_instance(ec2, iid, state, timeout, clock=time.time, sleep=time.sleep):
    def bad(i):
        st = (i.get('State') or {}).get('Name')
        if st in ('terminated', 'shutting-down'):
            return 'instance %s is %s' % (iid, st)
        return None
    return _poll(lambda: ec2.instance(iid), lambda i: (i.get('State') or {}).get('Name') == state, bad, timeout,
                 'instance %s to be %s' % (iid, state), clock=clock, sleep=sleep)
