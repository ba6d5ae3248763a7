# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot groups, taking and deleting them: the flows behind ec2_snapshot_set (state present / absent).

Each flow takes ``make_ec2(region=None, endpoint_url=None) -> _aws.ec2.Ec2`` (so tests can hand in clients
wired to moto or botocore's Stubber), plain option values, and injectable ``clock``/``sleep``. Decisions
are made by logic.py (pure); AWS calls go through _aws/ec2.py; the quiesce hooks through the command
runner; the group's record in the backup set through record.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils import _runner as command_runner
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import info as snapshot_info
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import record as snapshot_record

HOOK_OUTPUT_LIMIT = 4096


def _nolog(_msg):
    pass


# ---------------------------------------------------------------- quiesce hooks

def run_hook(runner, argv, timeout, what):
    """Run a pre/post command (argv list, no shell) through ``runner``. Raises unless it exits 0 in time.
    In check mode it is only recorded as a command that would run."""
    if not argv:
        return None
    try:
        res = runner.run(argv, timeout=timeout, what=what)
    except command_runner.CommandError as err:
        raise LifeboatError(err.msg)
    out, errs = res.stdout[-HOOK_OUTPUT_LIMIT:], res.stderr[-HOOK_OUTPUT_LIMIT:]
    if res.ran and res.rc != 0:
        raise LifeboatError('%s %s failed with exit code %d: %s'
                            % (what, ' '.join(res.argv), res.rc, errs.strip() or out.strip() or 'no output'))
    return {'argv': res.argv, 'rc': res.rc, 'stdout': out, 'stderr': errs,
            'seconds': None if res.seconds is None else round(res.seconds, 3), 'ran': res.ran}


# ---------------------------------------------------------------- waiting

def progress_text(summaries):
    return ', '.join('%s %s %s' % (s['snapshot_id'], s.get('device') or s.get('volume_id'),
                                   s.get('progress') or s.get('state'))
                     for s in summaries if s['state'] != snapshot_logic.COMPLETED)


class WaitTimeout(Exception):
    """The snapshots did not complete in time; ``summaries`` say how far they got."""

    def __init__(self, summaries):
        Exception.__init__(self, 'timeout')
        self.summaries = summaries


def wait_snapshots(ec2, snapshot_ids, timeout, clock=time.time, sleep=time.sleep, delays=None, log=_nolog,
                   what='snapshots'):
    """Poll until every snapshot is completed or one failed; WaitTimeout on timeout. Returns raw snapshots."""
    started = clock()
    delays = delays if delays is not None else snapshot_logic.poll_delays()
    want = set(snapshot_ids)
    while True:
        raw = ec2.snapshots(snapshot_ids=sorted(want), eventual=True)
        summaries = [snapshot_logic.snapshot_summary(snap) for snap in raw]
        have = {summary['snapshot_id'] for summary in summaries}
        if have != want:
            raise LifeboatError('%s %s disappeared from %s while waiting for them'
                                % (what, ', '.join(sorted(want - have)), ec2.region))
        if snapshot_logic.failed_snapshots(summaries):
            return raw
        if all(summary['state'] == snapshot_logic.COMPLETED for summary in summaries):
            return raw
        log('waiting for %s in %s: %s' % (what, ec2.region, progress_text(summaries)))
        delay = snapshot_logic.next_sleep(next(delays), started, clock(), timeout)
        if delay is None:
            raise WaitTimeout(summaries)
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


def _check_options(opts, set_id, host, region, check_mode):
    """Option combinations that cannot work, found before any snapshot is taken."""
    if opts.get('record_in_set'):
        if not opts.get('wait'):
            raise LifeboatError('record_in_set needs wait=true: a group is recorded once its snapshots completed')
        if not opts.get('store'):
            raise LifeboatError('record_in_set needs store')
        set_format.parse_set_id(set_id)
        set_format.validate_host(host)
        if not check_mode:  # in check mode the backup set was not really started
            snapshot_record.check_record_target(opts['store'], set_id, host=host)
    if opts.get('copy_to_region') and not opts.get('wait'):
        raise LifeboatError('copy_to_region needs wait=true: EC2 copies a snapshot only once it is completed')
    if opts.get('copy_to_region') == region:
        raise LifeboatError('copy_to_region is %s, the region the snapshots are taken in' % region)


def _excluded(volumes):
    return [{'volume_id': v['volume_id'], 'device': v['device'], 'boot': v['boot']} for v in volumes]


def _plan(set_id, host, instance_id, region, zone, included, excluded):
    """What check mode reports: the group that would be taken."""
    return {'set_id': set_id, 'host': host, 'instance_id': instance_id, 'region': region, 'availability_zone': zone,
            'state': 'planned', 'complete': False, 'excluded': _excluded(excluded), 'copies': {}, 'snapshots': [
                {'snapshot_id': None, 'volume_id': v['volume_id'], 'device': v['device'], 'boot': v['boot'],
                 'size_gib': v.get('size_gib'), 'state': 'planned', 'start_time': None} for v in included]}


def create_group(make_ec2, opts, check_mode=False, clock=time.time, sleep=time.sleep, imds=None, hook=None,
                 log=_nolog, delays=None, runner=None):
    """state=present of ec2_snapshot_set. ``opts``: the module's params (see the module's options).

    ``hook(argv, timeout, what)`` runs the quiesce commands (default: run_hook through ``runner``, whose
    records become the result's ``commands``)."""
    runner = runner or command_runner.Runner(check_mode=check_mode)
    hook = hook or (lambda argv, timeout, what: run_hook(runner, argv, timeout, what))
    started = clock()
    instance_id, ident = resolve_instance_id(opts.get('instance_id'), imds)
    ec2 = make_ec2(opts.get('region') or (ident or {}).get('region'))
    set_id = snapshot_logic.validate_set_id(opts.get('set_id') or set_format.make_set_id(set_format.utcnow()))
    host = opts.get('host') or instance_id
    _check_options(opts, set_id, host, ec2.region, check_mode)
    user_tags = snapshot_logic.validate_user_tags(opts.get('tags'))

    inst = ec2.instance(instance_id)
    zone = (inst.get('Placement') or {}).get('AvailabilityZone')
    attached = [bdm['Ebs']['VolumeId'] for bdm in inst.get('BlockDeviceMappings') or [] if bdm.get('Ebs')]
    volumes = snapshot_logic.instance_volumes(inst, ec2.volumes(attached))
    included, excluded = snapshot_logic.select_volumes(volumes, opts.get('exclude_boot'), opts.get('exclude_volumes'))

    result = {'changed': False, 'records': [], 'hooks': {}, 'commands': runner.commands}
    existing = ec2.snapshots(filters=snapshot_logic.group_filters(set_id, host))
    if existing:
        group = snapshot_logic.group_snapshots(existing, ec2.region)[0]
        if group.get('instance_id') and group['instance_id'] != instance_id:
            raise LifeboatError('snapshot group %s of host %s already exists in %s for instance %s, not %s'
                                % (set_id, host, ec2.region, group['instance_id'], instance_id))
        log('snapshot group %s of %s already exists (%s): not creating it again' % (set_id, host, group['state']))
    elif check_mode:
        for name in ('pre_command', 'post_command'):
            if opts.get(name) and opts.get('pre_command'):
                hook(opts[name], int(opts.get('command_timeout') or 300), name)   # recorded, not run
        plan = _plan(set_id, host, instance_id, ec2.region, zone, included, excluded)
        result.update({'changed': True, 'snapshot_set': plan})
        return result
    else:
        group = _take(ec2, opts, set_id, host, instance_id, zone, included, excluded, user_tags, hook, result, log)
        result['changed'] = True
    group['excluded'] = _excluded(excluded)
    group['copies'] = {}
    result['snapshot_set'] = group
    if group['state'] == snapshot_logic.ERROR:
        raise _group_error(group, ec2.region, result)
    if not opts.get('wait') or (check_mode and group['state'] != snapshot_logic.COMPLETED):
        return result
    group = _complete(make_ec2, ec2, group, opts, check_mode, clock, sleep, delays, log, result)
    if opts.get('record_in_set') and not check_mode:
        _record(opts, group, set_id, host, clock() - started, result)
    return result


def _complete(make_ec2, ec2, group, opts, check_mode, clock, sleep, delays, log, result):
    """Wait for the group, then copy it (and wait for the copies) when asked."""
    timeout = int(opts.get('wait_timeout') or 0)
    group = _wait_group(ec2, group, timeout, clock, sleep, delays, log, result)
    result['snapshot_set'] = group
    if opts.get('copy_to_region'):
        dest = make_ec2(opts['copy_to_region'], opts.get('copy_endpoint_url'))
        copies = _copy(ec2, dest, group, opts, check_mode, result, log)
        if copies is not None:
            group['copies'][dest.region] = copies
            if not check_mode:
                group['copies'][dest.region] = _wait_copies(dest, group, timeout, clock, sleep, delays, log, result)
    return group


def _record(opts, group, set_id, host, seconds, result):
    rec = snapshot_record.write_record(opts['store'], group, set_id, host)
    result['records'] = [rec]
    result['summary'] = [{'host': host, 'component': rec['component'], 'name': rec['name'], 'size': rec['size'],
                          'uncompressed_size': None, 'seconds': round(seconds, 3),
                          'snapshots': len(group['snapshots']), 'volume_gib': group.get('size_gib')}]


def _group_error(group, region, result):
    result['snapshot_set'] = group
    failed = snapshot_logic.failed_snapshots(group['snapshots'])
    return LifeboatError('snapshot group %s of %s in %s is incomplete: %s ended in error state: %s. The group is not '
                         'usable for a restore; delete it (state=absent) and take a new one'
                         % (group['set_id'], group['host'], region, 'a snapshot' if len(failed) == 1 else 'snapshots',
                            snapshot_logic.describe_failures(group['snapshots'])),
                         snapshot_set=group, records=[])


def _quiesced_create(ec2, opts, instance_id, excluded, description, tags, hook, result):
    """pre_command, CreateSnapshots, post_command (always, once pre_command ran). Returns (created, post failure)."""
    timeout = int(opts.get('command_timeout') or 300)
    pre, post = opts.get('pre_command'), opts.get('post_command')
    failure, post_failure = None, None
    created = None
    pre_ran = False
    try:
        if pre:
            pre_ran = True
            result['hooks']['pre'] = hook(pre, timeout, 'pre_command')
        created = ec2.create_snapshots(instance_id, opts.get('exclude_boot'),
                                       [v['volume_id'] for v in excluded if not v['boot']], description, tags)
    except LifeboatError as err:
        failure = err
    finally:
        if pre_ran and post:
            try:
                result['hooks']['post'] = hook(post, timeout, 'post_command')
            except LifeboatError as err:
                post_failure = err
    if failure is not None:
        if post_failure is not None:
            raise type(failure)('%s; and then %s' % (failure.msg, post_failure.msg), **failure.details)
        raise failure
    return created, post_failure


def _take(ec2, opts, set_id, host, instance_id, zone, included, excluded, user_tags, hook, result, log):
    """Quiesce, CreateSnapshots, thaw, tag, drop snapshots of excluded volumes; the new group."""
    common = snapshot_logic.group_tags(set_id, host, instance_id, len(included), zone, user_tags)
    description = opts.get('description') or ('lifeboat.backup snapshot set %s of %s' % (set_id, host))
    log('creating snapshot group %s of %s (%s)' % (set_id, instance_id, ', '.join(v['device'] for v in included)))
    created, post_failure = _quiesced_create(ec2, opts, instance_id, excluded, description, common, hook, result)
    kept, unwanted, problems = snapshot_logic.match_created(created, included, excluded)
    for snap in unwanted:
        # EC2 honours ExcludeDataVolumeIds; an endpoint that ignored it (moto) made snapshots we must not keep
        log('deleting snapshot %s of excluded volume %s' % (snap.get('SnapshotId'), snap.get('VolumeId')))
        ec2.delete_snapshot(snap['SnapshotId'])
    for snap, volume in kept:
        tags = dict(common)
        tags.update(snapshot_logic.volume_tags(volume))
        ec2.tag([snap['SnapshotId']], tags)
    if unwanted:
        result['deleted_unwanted'] = [snap['SnapshotId'] for snap in unwanted]
    if problems:
        raise LifeboatError('CreateSnapshots for %s did not give the expected snapshots: %s'
                            % (instance_id, '; '.join(problems)))
    raw = ec2.snapshots(snapshot_ids=[snap['SnapshotId'] for snap, _volume in kept], eventual=True)
    group = snapshot_logic.make_group(set_id, host, instance_id, ec2.region, raw, expected=len(included),
                                      availability_zone=zone)
    if post_failure is not None:
        result['snapshot_set'] = group
        raise LifeboatError('%s. The snapshots were taken (set %s) but are not recorded: check the host (a '
                            'filesystem may still be frozen)' % (post_failure.msg, set_id),
                            snapshot_set=group, records=[])
    return group


def _wait_group(ec2, group, timeout, clock, sleep, delays, log, result):
    ids = [snap['snapshot_id'] for snap in group['snapshots']]
    try:
        raw = wait_snapshots(ec2, ids, timeout, clock, sleep, delays, log,
                             'snapshots of group %s' % group['set_id'])
    except WaitTimeout as timed_out:
        done = len([s for s in timed_out.summaries if s['state'] == snapshot_logic.COMPLETED])
        group = dict(group, snapshots=sorted(timed_out.summaries, key=snapshot_logic.snapshot_order),
                     state=snapshot_logic.PENDING, complete=False)
        result['snapshot_set'] = group
        raise LifeboatError('timed out after %d seconds waiting for snapshot group %s of %s in %s: %d of %d completed '
                            '(still pending: %s). The snapshots go on in AWS; run again with the same set_id to keep '
                            'waiting (raise wait_timeout), or check with ec2_snapshot_set_info. The group is not '
                            'recorded' % (timeout, group['set_id'], group['host'], ec2.region, done,
                                          len(timed_out.summaries), progress_text(timed_out.summaries)),
                            snapshot_set=group, records=[])
    new = snapshot_logic.make_group(group['set_id'], group['host'], group['instance_id'], ec2.region, raw,
                                    expected=group['expected_count'], availability_zone=group.get('availability_zone'))
    new['excluded'] = group.get('excluded', [])
    new['copies'] = group.get('copies', {})
    if new['state'] == snapshot_logic.ERROR:
        raise _group_error(new, ec2.region, result)
    if new['state'] != snapshot_logic.COMPLETED:
        raise LifeboatError('snapshot group %s of %s in %s is %s'
                            % (new['set_id'], new['host'], ec2.region, new['state']), snapshot_set=new, records=[])
    return new


def _copy(src, dest, group, opts, check_mode, result, log):
    """Copy every snapshot of a completed group to dest (encrypted); reuses copies made by an earlier run."""
    existing = dest.snapshots(filters=snapshot_logic.group_filters(group['set_id'], group['host']))
    have = {snapshot_logic.tag_dict(snap.get('Tags')).get(snapshot_logic.TAG_SOURCE_SNAPSHOT): snap for snap in existing}
    todo = [snap for snap in group['snapshots'] if snap['snapshot_id'] not in have]
    if check_mode:
        if todo:
            result['changed'] = True
        return [dict(s, snapshot_id=None, source_snapshot_id=s['snapshot_id'], state='planned') for s in todo] + \
            [snapshot_logic.snapshot_summary(have[s['snapshot_id']]) for s in group['snapshots'] if s['snapshot_id'] in have]
    src_raw = {s['SnapshotId']: s for s in src.snapshots(snapshot_ids=[x['snapshot_id'] for x in todo])} \
        if todo else {}
    ids = [have[s['snapshot_id']]['SnapshotId'] for s in group['snapshots'] if s['snapshot_id'] in have]
    for snap in todo:
        tags = snapshot_logic.copy_tags(snapshot_logic.tag_dict(src_raw[snap['snapshot_id']].get('Tags')),
                                        snap['snapshot_id'], src.region)
        description = 'lifeboat.backup copy of %s (set %s of %s, %s) from %s' % (
            snap['snapshot_id'], group['set_id'], group['host'], snap.get('device'), src.region)
        log('copying %s to %s' % (snap['snapshot_id'], dest.region))
        copy_id = dest.copy_snapshot(src.region, snap['snapshot_id'], description, opts.get('copy_kms_key_id'), tags)
        src.tag([snap['snapshot_id']], {snapshot_logic.TAG_COPIED_TO + dest.region: copy_id})
        ids.append(copy_id)
        result['changed'] = True
    # by id, not by tag: a copy made a moment ago may not be found by a tag filter yet
    raw = dest.snapshots(snapshot_ids=ids, eventual=True)
    return sorted((snapshot_logic.snapshot_summary(s) for s in raw), key=snapshot_logic.snapshot_order)


def _wait_copies(dest, group, timeout, clock, sleep, delays, log, result):
    ids = [copy['snapshot_id'] for copy in group['copies'][dest.region]]
    try:
        raw = wait_snapshots(dest, ids, timeout, clock, sleep, delays, log, 'copies of group %s' % group['set_id'])
    except WaitTimeout as timed_out:
        group['copies'][dest.region] = timed_out.summaries
        result['snapshot_set'] = group
        raise LifeboatError('timed out after %d seconds waiting for the copies of snapshot group %s of %s in %s '
                            '(still pending: %s). The copies go on in AWS; run again with the same set_id to keep '
                            'waiting. The group is not recorded'
                            % (timeout, group['set_id'], group['host'], dest.region,
                               progress_text(timed_out.summaries)), snapshot_set=group, records=[])
    done = sorted((snapshot_logic.snapshot_summary(s) for s in raw), key=snapshot_logic.snapshot_order)
    group['copies'][dest.region] = done
    if snapshot_logic.failed_snapshots(done):
        result['snapshot_set'] = group
        raise LifeboatError('the copy of snapshot group %s of %s to %s failed: %s. The group is not recorded'
                            % (group['set_id'], group['host'], dest.region, snapshot_logic.describe_failures(done)),
                            snapshot_set=group, records=[])
    if len(done) != len(group['snapshots']):
        raise LifeboatError('snapshot group %s of %s has %d snapshots but %d copies in %s'
                            % (group['set_id'], group['host'], len(group['snapshots']), len(done), dest.region),
                            snapshot_set=group, records=[])
    return done


# ---------------------------------------------------------------- delete

def delete_group(make_ec2, opts, check_mode=False, log=_nolog):
    """state=absent: delete every snapshot of the group (set id and host) in the module's region, the regions
    its snapshots were copied to, and ``regions`` (``all``: every enabled region)."""
    set_id = snapshot_logic.validate_set_id(opts.get('set_id') or '')
    host = opts.get('host')
    home = make_ec2(opts.get('region'))
    regions = list(opts.get('regions') or [])
    if 'all' in regions:
        regions = home.regions()
    clients = snapshot_info.clients_for(make_ec2, home, regions, opts.get('copy_endpoint_url'))
    found, seen = _find_everywhere(make_ec2, clients, set_id, host, opts.get('copy_endpoint_url'))
    deleted = {}
    for region, raw in sorted(found.items()):
        deleted[region] = sorted(snap['SnapshotId'] for snap in raw)
        if check_mode:
            continue
        for snap in raw:
            log('deleting snapshot %s in %s' % (snap['SnapshotId'], region))
            clients[region].delete_snapshot(snap['SnapshotId'])
    return {'changed': bool(deleted), 'deleted': deleted, 'set_id': set_id, 'host': host, 'records': [],
            'regions_searched': sorted(seen)}


def _find_everywhere(make_ec2, clients, set_id, host, copy_endpoint_url):
    """The group's snapshots per region, following the copied-to tags into further regions."""
    found = {}
    queue = list(clients)
    seen = set()
    while queue:
        region = queue.pop(0)
        if region in seen:
            continue
        seen.add(region)
        if region not in clients:
            clients[region] = make_ec2(region, copy_endpoint_url)
        raw = clients[region].snapshots(filters=snapshot_logic.group_filters(set_id, host))
        if raw:
            found[region] = raw
        for snap in raw:
            for key in snapshot_logic.tag_dict(snap.get('Tags')):
                if key.startswith(snapshot_logic.TAG_COPIED_TO):
                    queue.append(key[len(snapshot_logic.TAG_COPIED_TO):])
    return found, seen
