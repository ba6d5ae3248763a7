# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot groups, restoring them: the flow behind ec2_snapshot_set_restore.

Phases: find the group (from its record in a backup set, or by tag), preflight everything (any problem
changes nothing), create the new volumes (nothing on the instance changes yet), then attach them for
inspection, or stop the instance, swap the volumes and start it again, then the root volume task.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError, NotFoundError
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import record as snapshot_record


def _nolog(_msg):
    pass


def find_group(ec2, set_id, host, doc=None):
    """The snapshot group to restore, from the recorded document (its snapshot ids) or by tag."""
    if doc is not None:
        ids = snapshot_logic.record_snapshot_ids(doc, ec2.region)
        raw = ec2.snapshots_by_id(ids)
        for snap in raw:
            tagged = snapshot_logic.tag_dict(snap.get('Tags')).get(snapshot_logic.TAG_SET_ID)
            if tagged != set_id:
                raise LifeboatError('snapshot %s in %s is not tagged as part of set %s (it says %r)'
                                    % (snap['SnapshotId'], ec2.region, set_id, tagged))
        group = snapshot_logic.make_group(set_id, doc.get('host'), doc.get('instance_id'), ec2.region, raw,
                                          expected=len(ids), availability_zone=doc.get('availability_zone'))
        missing = sorted(set(ids) - {snap['SnapshotId'] for snap in raw})
        if missing:
            group['missing'] = missing
        return group
    groups = snapshot_logic.group_snapshots(ec2.snapshots(filters=snapshot_logic.group_filters(set_id, host)),
                                            ec2.region)
    if not groups:
        raise NotFoundError('there is no snapshot group %s%s in %s'
                            % (set_id, ' of host %s' % host if host else '', ec2.region))
    if len(groups) > 1:
        raise LifeboatError('set %s has snapshot groups of several hosts in %s (%s): name one with host'
                            % (set_id, ec2.region, ', '.join(sorted(g['host'] or '?' for g in groups))))
    return groups[0]


def restore_group(make_ec2, opts, check_mode=False, clock=time.time, sleep=time.sleep, log=_nolog):
    """ec2_snapshot_set_restore. Preflight everything first; any preflight problem changes nothing."""
    started = clock()
    ec2, group, set_id = _locate(make_ec2, opts)
    result, plan, root = _preflight(ec2, group, set_id, opts)
    result['changed'] = True
    if check_mode:
        return _finish(result, plan, root, started, clock)
    waits = {'timeout': int(opts.get('wait_timeout') or 1800), 'clock': clock, 'sleep': sleep}
    instance_id, mode = result['instance_id'], result['mode']
    created = _create_volumes(ec2, plan, set_id, result['availability_zone'], opts.get('volume_type'), log, waits)
    if mode == 'inspect':
        for item in plan:
            ec2.attach_volume(item['new_volume_id'], instance_id, item['device'])
        _wait_volumes(ec2, created, 'in-use', **waits)
        return _finish(result, plan, None, started, clock)
    if plan:
        result['stopped_and_started'] = _swap_in_place(ec2, plan, set_id, instance_id, result['instance_state'],
                                                       opts.get('delete_replaced'), log, waits)
    if root is not None:
        result['root'] = _replace_root(ec2, root, set_id, instance_id, opts.get('delete_replaced'), log, waits)
    return _finish(result, plan, root, started, clock)


def _locate(make_ec2, opts):
    """(Ec2 of the group's region, the group, the set id): from the backup set's record when a store is given."""
    set_id = snapshot_logic.validate_set_id(opts['set_id'])
    host = opts.get('host')
    doc = None
    if opts.get('store'):
        if not host:
            raise LifeboatError('with store, host is needed to find the snapshot record in the backup set')
        doc, set_id = snapshot_record.read_record(opts['store'], set_id, host, opts.get('manifest_sha256'))
    ec2 = make_ec2(opts.get('region') or (doc or {}).get('region'))
    return ec2, find_group(ec2, set_id, host, doc), set_id


def _preflight(ec2, group, set_id, opts):
    """The instance, the device plan and every problem; raises (changing nothing) when there is one.
    Returns (result so far, plan, root)."""
    instance_id = opts.get('instance_id') or group.get('instance_id')
    if not instance_id:
        raise LifeboatError('the group does not name its instance: pass instance_id')
    snapshot_logic.validate_instance_id(instance_id)
    inst = ec2.instance(instance_id)
    zone = (inst.get('Placement') or {}).get('AvailabilityZone')
    state = (inst.get('State') or {}).get('Name')
    inst_vols = snapshot_logic.instance_volumes(inst)
    mode = opts.get('mode') or 'replace'
    replace_root = bool(opts.get('replace_root')) and mode == 'replace'
    if mode == 'replace':
        plan, root, problems = snapshot_logic.plan_replace(group, inst_vols, replace_root)
    else:
        plan, problems = snapshot_logic.plan_inspect(group, inst_vols, opts.get('devices'), opts.get('include_boot'))
        root = None
    if group.get('missing'):
        problems.insert(0, 'snapshot(s) %s recorded in the set no longer exist in %s'
                        % (', '.join(group['missing']), ec2.region))
    problems = snapshot_logic.restore_preflight(group, state, mode, opts.get('stop_instance'), replace_root,
                                                bool(plan)) + problems
    if not zone:
        problems.append('the availability zone of instance %s is unknown' % instance_id)
    if problems:
        raise LifeboatError('restore preflight failed, nothing was changed: %s' % '; '.join(problems),
                            problems=problems, volumes=plan)
    result = {'changed': False, 'set_id': set_id, 'host': group.get('host'), 'instance_id': instance_id,
              'region': ec2.region, 'availability_zone': zone, 'mode': mode, 'instance_state': state,
              'volumes': plan, 'root': root, 'snapshot_set': group}
    return result, plan, root


def _create_volumes(ec2, plan, set_id, zone, volume_type, log, waits):
    """1. a new volume from every planned snapshot (nothing on the instance changes yet); all deleted again
    when one fails. Returns the new volume ids."""
    created = []
    try:
        for item in plan:
            tags = {snapshot_logic.TAG_RESTORED_FROM: set_id, snapshot_logic.TAG_RESTORED_SNAPSHOT: item['snapshot_id'],
                    snapshot_logic.TAG_DEVICE: item.get('source_device') or item['device']}
            volume = ec2.create_volume(item['snapshot_id'], zone, volume_type or item.get('volume_type'), tags)
            item['new_volume_id'] = volume['VolumeId']
            created.append(volume['VolumeId'])
        if created:
            log('waiting for volumes %s' % ', '.join(created))
            _wait_volumes(ec2, created, 'available', **waits)
    except LifeboatError as err:
        for volume_id in created:
            try:
                ec2.delete_volume(volume_id)
            except LifeboatError:
                pass  # the failure below is the one to report; the volume is tagged restored-from
        raise type(err)('creating volumes from set %s failed, the instance was not changed (new volumes were '
                        'deleted): %s' % (set_id, err.msg), volumes=plan)
    return created


def _swap_in_place(ec2, plan, set_id, instance_id, state, delete_replaced, log, waits):
    """2. stop (when running), detach each old volume and attach its new one, (delete the old), start.
    Returns whether the instance was stopped and started by us."""
    stopped_by_us = False
    if state == 'running':
        log('stopping %s' % instance_id)
        ec2.stop_instance(instance_id)
        _wait_instance(ec2, instance_id, 'stopped', **waits)
        stopped_by_us = True
    done = []
    try:
        for item in plan:
            ec2.detach_volume(item['old_volume_id'], instance_id, item['device'])
            _wait_volumes(ec2, [item['old_volume_id']], 'available', **waits)
            ec2.tag([item['old_volume_id']], {snapshot_logic.TAG_REPLACED_BY: set_id})
            item['detached'] = True
            ec2.attach_volume(item['new_volume_id'], instance_id, item['device'])
            _wait_volumes(ec2, [item['new_volume_id']], 'in-use', **waits)
            item['attached'] = True
            done.append(item['device'])
    except LifeboatError as err:
        raise type(err)(
            'restore of set %s onto %s failed after changing the instance: %s. Replaced so far: %s. The instance '
            'is left stopped; replaced volumes are kept (tagged %s=%s) and can be attached back'
            % (set_id, instance_id, err.msg, ', '.join(done) or 'nothing', snapshot_logic.TAG_REPLACED_BY, set_id),
            volumes=plan)
    if delete_replaced:
        for item in plan:
            ec2.delete_volume(item['old_volume_id'])
            item['old_volume_deleted'] = True
    if stopped_by_us:
        log('starting %s' % instance_id)
        ec2.start_instance(instance_id)
        _wait_instance(ec2, instance_id, 'running', **waits)
    return stopped_by_us


def _replace_root(ec2, root, set_id, instance_id, delete_replaced, log, waits):
    """3. the root volume, by a replace-root-volume task (EC2 swaps it and reboots the instance)."""
    task = ec2.create_replace_root_task(instance_id, root['snapshot_id'], delete_replaced,
                                        {snapshot_logic.TAG_RESTORED_FROM: set_id})
    task_id = task['ReplaceRootVolumeTaskId']
    log('replace-root-volume task %s for %s' % (task_id, instance_id))

    def bad(found):
        if found.get('TaskState') in ('failed', 'failed-detached', 'failing'):
            return 'replace-root-volume task %s is %s (the old root volume stays attached)' % (task_id, found['TaskState'])
        return None
    final = _poll(lambda: ec2.replace_root_task(task_id), lambda found: found.get('TaskState') == 'succeeded', bad,
                  'the root volume of %s to be replaced from %s' % (instance_id, root['snapshot_id']), **waits)
    root['task_id'] = task_id
    root['task_state'] = final.get('TaskState')
    return root


def _finish(result, plan, root, started, clock):
    lines = []
    for item in plan:
        lines.append('%s: %s from %s%s' % (item['device'], item.get('new_volume_id') or 'new volume', item['snapshot_id'],
                                           ' (replaced %s)' % item['old_volume_id'] if item.get('old_volume_id') else ''))
    if root is not None:
        lines.append('root %s: replaced from %s' % (root.get('device'), root['snapshot_id']))
    result['restored'] = lines
    result['seconds'] = round(clock() - started, 3)
    return result


def _poll(fetch, done, bad, what, timeout, clock=time.time, sleep=time.sleep, first=2.0, cap=15.0):
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


def _wait_volumes(ec2, ids, state, timeout, clock=time.time, sleep=time.sleep):
    def bad(vols):
        for volume in vols.values():
            if volume.get('State') == 'error':
                return 'volume %s is in error state' % volume['VolumeId']
        return None
    return _poll(lambda: ec2.volume_states(ids), lambda vols: all(v.get('State') == state for v in vols.values())
                 and len(vols) == len(ids), bad, 'volume(s) %s to be %s' % (', '.join(ids), state), timeout,
                 clock=clock, sleep=sleep)


def _wait_instance(ec2, instance_id, state, timeout, clock=time.time, sleep=time.sleep):
    def bad(found):
        current = (found.get('State') or {}).get('Name')
        if current in ('terminated', 'shutting-down'):
            return 'instance %s is %s' % (instance_id, current)
        return None
    return _poll(lambda: ec2.instance(instance_id), lambda found: (found.get('State') or {}).get('Name') == state, bad,
                 'instance %s to be %s' % (instance_id, state), timeout, clock=clock, sleep=sleep)
