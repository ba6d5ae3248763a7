# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot groups: the pure logic (docs/snapshots.md).

Plain values in, plain values out: tag building, which volumes a group takes, grouping snapshots, the
state of a group, wait schedules and timeouts, and the device plans of a restore. No I/O, no boto3, so
all of it unit-tests without mocks. The AWS calls live in _aws/ec2.py, the flows in backup.py,
restore.py and info.py.

A snapshot group is every snapshot tagged with one ``lifeboat:set-id`` (the backup set it belongs to)
and one ``lifeboat:host``, in one region (copies in another region carry the same tags plus where they
were copied from). "Set" in this package only ever means the backup set; the tag names and the public
module names (ec2_snapshot_set*) keep the word for compatibility.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DamagedError, NotFoundError

TAG_PREFIX = 'lifeboat:'
TAG_SET_ID = 'lifeboat:set-id'
TAG_HOST = 'lifeboat:host'
TAG_DEVICE = 'lifeboat:device'
TAG_VOLUME_ID = 'lifeboat:volume-id'
TAG_INSTANCE_ID = 'lifeboat:instance-id'
TAG_BOOT = 'lifeboat:boot'
TAG_GROUP_SIZE = 'lifeboat:set-size'     # how many snapshots the group was created with
TAG_VOLUME_TYPE = 'lifeboat:volume-type'
TAG_AZ = 'lifeboat:availability-zone'
TAG_SOURCE_SNAPSHOT = 'lifeboat:source-snapshot-id'
TAG_SOURCE_REGION = 'lifeboat:source-region'
TAG_COPIED_TO = 'lifeboat:copied-to:'  # + region -> copy snapshot id
TAG_REPLACED_BY = 'lifeboat:replaced-by-set'
TAG_RESTORED_FROM = 'lifeboat:restored-from-set'
TAG_RESTORED_SNAPSHOT = 'lifeboat:restored-from-snapshot'

# group states, best to worst
COMPLETED = 'completed'
PENDING = 'pending'
ERROR = 'error'
INCOMPLETE = 'incomplete'

RECORD_COMPONENT = 'snapshot'
RECORD_NAME = 'ec2'
RECORD_KIND = 'lifeboat.backup/ebs-snapshot-set'

_SET_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$')
_INSTANCE_RE = re.compile(r'^i-[0-9a-f]{8,17}$')
_VOLUME_RE = re.compile(r'^vol-[0-9a-f]{8,17}$')
_DEVICE_RE = re.compile(r'^/dev/(?:sd|xvd)([a-z]{1,2})(\d*)$')
_AGE_RE = re.compile(r'^\s*(\d+)\s*([smhdw]?)\s*$')
_AGE_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


# ---------------------------------------------------------------- validation

def validate_set_id(set_id):
    if not isinstance(set_id, str) or not _SET_ID_RE.match(set_id):
        raise ConfigError("set id %r is not valid: use 1-128 letters, digits, '.', '_', ':', '@', '+' "
                          "or '-', starting with a letter or digit" % (set_id,))
    return set_id


def validate_instance_id(instance_id):
    if not isinstance(instance_id, str) or not _INSTANCE_RE.match(instance_id):
        raise ConfigError('%r is not an EC2 instance id (expected i- followed by 8 or 17 hex digits)'
                          % (instance_id,))
    return instance_id


def validate_user_tags(tags):
    """User tags as a dict of str -> str; keys under lifeboat: or aws: are reserved."""
    out = {}
    for raw_key, raw_value in sorted((tags or {}).items()):
        key = str(raw_key)
        value = '' if raw_value is None else str(raw_value)
        if key.lower().startswith('aws:') or key.startswith(TAG_PREFIX):
            raise ConfigError("tag key %r is reserved (keys starting with 'aws:' or '%s' cannot be set in tags)"
                              % (key, TAG_PREFIX))
        if not key or len(key) > 128 or len(value) > 256:
            raise ConfigError('tag %r is not valid: keys need 1-128 characters, values at most 256' % (key,))
        out[key] = value
    if len(out) > 40:
        raise ConfigError('too many tags (%d): EC2 allows 50 per snapshot and lifeboat uses up to 10' % len(out))
    return out


# ---------------------------------------------------------------- tags

def tag_list(tags):
    """{'k': 'v'} -> [{'Key': 'k', 'Value': 'v'}] (sorted, for stable requests)."""
    return [{'Key': k, 'Value': str(v)} for k, v in sorted(tags.items())]


def tag_dict(tags):
    """[{'Key': 'k', 'Value': 'v'}] -> {'k': 'v'}."""
    return {t['Key']: t.get('Value', '') for t in (tags or [])}


def group_tags(set_id, host, instance_id, group_size, availability_zone=None, user_tags=None):
    """Tags every snapshot of one group carries (user tags first: ours win)."""
    tags = dict(validate_user_tags(user_tags))
    tags.update({TAG_SET_ID: set_id, TAG_HOST: host, TAG_INSTANCE_ID: instance_id,
                 TAG_GROUP_SIZE: str(int(group_size))})
    if availability_zone:
        tags[TAG_AZ] = availability_zone
    return tags


def volume_tags(volume):
    """Per-snapshot tags: which volume and device it was taken from."""
    tags = {TAG_DEVICE: volume['device'], TAG_VOLUME_ID: volume['volume_id'],
            TAG_BOOT: 'true' if volume.get('boot') else 'false'}
    if volume.get('volume_type'):
        tags[TAG_VOLUME_TYPE] = volume['volume_type']
    return tags


def copy_tags(source_tags, source_snapshot_id, source_region):
    """Tags of a cross-region copy: the source's (minus copy pointers) plus where it came from."""
    tags = {k: v for k, v in source_tags.items()
            if not k.startswith(TAG_COPIED_TO) and not k.lower().startswith('aws:')}
    tags[TAG_SOURCE_SNAPSHOT] = source_snapshot_id
    tags[TAG_SOURCE_REGION] = source_region
    return tags


def group_filters(set_id=None, host=None):
    """describe_snapshots filters for groups: always by tag, never 'all snapshots'."""
    filters = [{'Name': 'tag-key', 'Values': [TAG_SET_ID]}]
    if set_id:
        filters.append({'Name': 'tag:' + TAG_SET_ID, 'Values': [set_id]})
    if host:
        filters.append({'Name': 'tag:' + TAG_HOST, 'Values': [host]})
    return filters


# ---------------------------------------------------------------- devices and volumes

def device_key(device):
    """Comparable form of a device name: /dev/sdf, /dev/xvdf and xvdf are the same slot."""
    name = (device or '').strip()
    if not name.startswith('/dev/'):
        name = '/dev/' + name
    match = _DEVICE_RE.match(name)
    if match:
        return 'sd' + match.group(1) + match.group(2)
    return name[len('/dev/'):]


def device_name(spec):
    """A device from a user's list: 'f' -> /dev/sdf, 'xvdg' -> /dev/xvdg, '/dev/sdh' stays."""
    name = str(spec).strip()
    if re.match(r'^[a-z]{1,2}$', name):
        return '/dev/sd' + name
    if not name.startswith('/dev/'):
        name = '/dev/' + name
    if not re.match(r'^/dev/[a-z0-9]+$', name):
        raise ConfigError('%r is not a device name (use a letter like f, or a name like /dev/sdf or xvdf)'
                          % (spec,))
    return name


def instance_volumes(instance, volumes_by_id=None):
    """The EBS volumes attached to an instance (describe_instances item), boot first, then by device.

    ``volumes_by_id`` (describe_volumes items by id) adds size, type and encryption when known.
    """
    root = instance.get('RootDeviceName')
    out = []
    for bdm in instance.get('BlockDeviceMappings') or []:
        ebs = bdm.get('Ebs')
        if not ebs or not ebs.get('VolumeId'):
            continue
        dev = bdm.get('DeviceName')
        volume = {'device': dev, 'volume_id': ebs['VolumeId'],
                  'boot': bool(root) and device_key(dev) == device_key(root),
                  'status': ebs.get('Status'), 'delete_on_termination': bool(ebs.get('DeleteOnTermination'))}
        info = (volumes_by_id or {}).get(ebs['VolumeId'])
        if info:
            volume['size_gib'] = info.get('Size')
            volume['volume_type'] = info.get('VolumeType')
            volume['encrypted'] = bool(info.get('Encrypted'))
        out.append(volume)
    out.sort(key=lambda v: (not v['boot'], device_key(v['device'])))
    return out


def select_volumes(volumes, exclude_boot=False, exclude=None):
    """Split an instance's volumes into (included, excluded).

    ``exclude`` names volume ids or devices; a name that matches nothing is an error (a typo must not
    silently widen or narrow a backup).
    """
    exclude = list(exclude or [])
    by_id = {v['volume_id']: v for v in volumes}
    by_dev = {device_key(v['device']): v for v in volumes}
    excluded_ids = set()
    unknown = []
    for entry in exclude:
        name = str(entry).strip()
        if name in by_id:
            excluded_ids.add(name)
        elif not _VOLUME_RE.match(name) and device_key(name) in by_dev:
            excluded_ids.add(by_dev[device_key(name)]['volume_id'])
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError('exclude_volumes names %s, which %s not attached to the instance (it has: %s)'
                          % (', '.join(unknown), 'is' if len(unknown) == 1 else 'are',
                             ', '.join('%s %s' % (v['device'], v['volume_id']) for v in volumes) or 'no EBS volumes'))
    boot = [v for v in volumes if v['boot']]
    if boot and boot[0]['volume_id'] in excluded_ids and not exclude_boot:
        raise ConfigError('exclude_volumes names the boot volume %s: use exclude_boot=true instead'
                          % boot[0]['volume_id'])
    included, excluded = [], []
    for volume in volumes:
        if volume['volume_id'] in excluded_ids or (volume['boot'] and exclude_boot):
            excluded.append(volume)
        else:
            included.append(volume)
    if not included:
        raise ConfigError('nothing to snapshot: every EBS volume of the instance is excluded')
    return included, excluded


def match_created(created, included, excluded):
    """Match CreateSnapshots' answer to the volumes asked for.

    Returns (kept, unwanted, problems): ``kept`` pairs (snapshot, volume) for every included volume,
    ``unwanted`` snapshots of excluded volumes (an API that ignored ExcludeDataVolumeIds), ``problems``
    messages for included volumes without a snapshot or snapshots of volumes nobody asked for.
    """
    wanted = {v['volume_id']: v for v in included}
    left_out = {v['volume_id'] for v in excluded}
    kept, unwanted, problems = [], [], []
    seen = set()
    for snap in created:
        volume_id = snap.get('VolumeId')
        if volume_id in wanted and volume_id not in seen:
            kept.append((snap, wanted[volume_id]))
            seen.add(volume_id)
        elif volume_id in left_out:
            unwanted.append(snap)
        else:
            unwanted.append(snap)
            problems.append('snapshot %s is of volume %s, which was not asked for' % (snap.get('SnapshotId'), volume_id))
    for volume_id in wanted:
        if volume_id not in seen:
            problems.append('no snapshot was created for volume %s (%s)' % (volume_id, wanted[volume_id]['device']))
    return kept, unwanted, problems


# ---------------------------------------------------------------- groups and states

def _iso(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    return value


def snapshot_summary(snap):
    """A describe_snapshots item as the module returns it."""
    tags = tag_dict(snap.get('Tags'))
    out = {
        'snapshot_id': snap.get('SnapshotId'),
        'volume_id': tags.get(TAG_VOLUME_ID) or snap.get('VolumeId'),
        'device': tags.get(TAG_DEVICE),
        'boot': tags.get(TAG_BOOT) == 'true',
        'size_gib': snap.get('VolumeSize'),
        'state': snap.get('State') or PENDING,
        'progress': snap.get('Progress'),
        'start_time': _iso(snap.get('StartTime')),
        'encrypted': bool(snap.get('Encrypted')),
    }
    if snap.get('KmsKeyId'):
        out['kms_key_id'] = snap['KmsKeyId']
    if tags.get(TAG_VOLUME_TYPE):
        out['volume_type'] = tags[TAG_VOLUME_TYPE]
    if tags.get(TAG_SOURCE_SNAPSHOT):
        out['source_snapshot_id'] = tags[TAG_SOURCE_SNAPSHOT]
        out['source_region'] = tags.get(TAG_SOURCE_REGION)
    if snap.get('StateMessage'):
        out['state_message'] = snap['StateMessage']
    return out


def group_state(summaries, expected=None):
    """State of a group from its snapshot summaries.

    error      -- a snapshot is in 'error' (or 'recoverable'...: anything but pending/completed)
    incomplete -- fewer snapshots than the group was created with (one was deleted or never made)
    pending    -- some are still pending
    completed  -- all there and completed
    """
    states = [s.get('state') for s in summaries]
    if any(st not in (PENDING, COMPLETED) for st in states):
        return ERROR
    if not summaries or (expected is not None and len(summaries) < int(expected)):
        return INCOMPLETE
    if any(st == PENDING for st in states):
        return PENDING
    return COMPLETED


def failed_snapshots(summaries):
    return [s for s in summaries if s.get('state') not in (PENDING, COMPLETED)]


def describe_failures(summaries):
    return ', '.join('%s (%s, %s)%s' % (s['snapshot_id'], s.get('device') or s.get('volume_id'), s.get('state'),
                                        ': ' + s['state_message'] if s.get('state_message') else '')
                     for s in failed_snapshots(summaries))


def group_snapshots(snapshots, region):
    """describe_snapshots items -> list of groups (dicts, one per set id and host), newest first."""
    groups = {}
    for snap in snapshots:
        tags = tag_dict(snap.get('Tags'))
        set_id = tags.get(TAG_SET_ID)
        if not set_id:
            continue
        key = (set_id, tags.get(TAG_HOST) or '')
        found = groups.setdefault(key, {'set_id': set_id, 'host': tags.get(TAG_HOST), 'region': region,
                                        'instance_id': tags.get(TAG_INSTANCE_ID),
                                        'availability_zone': tags.get(TAG_AZ), 'expected': None, 'raw': []})
        found['raw'].append(snap)
        size = tags.get(TAG_GROUP_SIZE)
        if size and size.isdigit():
            found['expected'] = max(found['expected'] or 0, int(size))
        if tags.get(TAG_SOURCE_REGION):
            found['copy_of_region'] = tags[TAG_SOURCE_REGION]
    out = []
    for found in groups.values():
        out.append(make_group(found['set_id'], found['host'], found['instance_id'], region, found['raw'],
                              expected=found['expected'], availability_zone=found['availability_zone'],
                              copy_of_region=found.get('copy_of_region')))
    out.sort(key=lambda x: (x.get('start_time') or '', x['set_id'], x['host'] or ''), reverse=True)
    return out


def snapshot_order(summary):
    """Sort key of snapshot summaries: the boot volume first, then by device."""
    return (not summary.get('boot'), device_key(summary.get('device') or ''), summary.get('snapshot_id') or '')


def make_group(set_id, host, instance_id, region, raw_snapshots, expected=None, availability_zone=None,
               copy_of_region=None):
    summaries = sorted((snapshot_summary(s) for s in raw_snapshots), key=snapshot_order)
    state = group_state(summaries, expected)
    starts = [s['start_time'] for s in summaries if s.get('start_time')]
    out = {
        'set_id': set_id,
        'host': host,
        'instance_id': instance_id,
        'region': region,
        'state': state,
        'complete': state == COMPLETED,
        'expected_count': expected if expected is not None else len(summaries),
        'snapshot_count': len(summaries),
        'size_gib': sum(s.get('size_gib') or 0 for s in summaries),
        'start_time': min(starts) if starts else None,
        'snapshots': summaries,
    }
    if availability_zone:
        out['availability_zone'] = availability_zone
    if copy_of_region:
        out['copy_of_region'] = copy_of_region
    return out


def parse_max_age(text):
    """'90', '90s', '15m', '6h', '7d', '2w' -> seconds (None for empty)."""
    if text in (None, ''):
        return None
    match = _AGE_RE.match(str(text))
    if not match:
        raise ConfigError('max_age %r is not valid: use a number with an optional unit s, m, h, d or w '
                          '(for example 36h or 7d)' % (text,))
    return int(match.group(1)) * _AGE_UNITS[match.group(2)]


def within_age(start_time_iso, max_age_seconds, now):
    if max_age_seconds is None:
        return True
    if not start_time_iso:
        return True
    started = datetime.datetime.strptime(start_time_iso, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return (now - started).total_seconds() <= max_age_seconds


# ---------------------------------------------------------------- waiting

def poll_delays(first=5.0, factor=1.5, cap=60.0):
    """Endless delays between polls: first, first*factor, ... up to cap."""
    delay = float(first)
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)


def next_sleep(delay, started, now, timeout):
    """How long to sleep before the next poll, or None when the deadline has passed."""
    left = started + timeout - now
    if left <= 0:
        return None
    return max(0.0, min(delay, left))


# ---------------------------------------------------------------- record document

def group_document(group):
    """The JSON document recorded in a backup set for one snapshot group (kind RECORD_KIND)."""
    doc = {
        'schema_version': 1,
        'kind': RECORD_KIND,
    }
    for field in ('set_id', 'host', 'instance_id', 'region', 'availability_zone', 'state', 'expected_count',
                  'size_gib', 'start_time'):
        if group.get(field) is not None:
            doc[field] = group[field]
    doc['snapshots'] = group.get('snapshots', [])
    doc['copies'] = group.get('copies', {})
    return doc


def check_document(doc, set_id, host):
    if not isinstance(doc, dict) or doc.get('kind') != RECORD_KIND:
        raise DamagedError('the snapshot record of %s in set %s is not a snapshot-group document' % (host, set_id))
    if doc.get('set_id') != set_id:
        raise DamagedError('the snapshot record names set %r, not %r' % (doc.get('set_id'), set_id))
    if not isinstance(doc.get('snapshots'), list) or not doc['snapshots']:
        raise DamagedError('the snapshot record of %s in set %s lists no snapshots' % (host, set_id))
    return doc


def record_snapshot_ids(doc, region):
    """Snapshot ids a record lists for a region: the originals, or the copies made there."""
    if region == doc.get('region'):
        return [s['snapshot_id'] for s in doc['snapshots']]
    copies = (doc.get('copies') or {}).get(region)
    if not copies:
        have = [doc.get('region')] + sorted((doc.get('copies') or {}).keys())
        raise NotFoundError('the snapshot group %s of %s has no snapshots in region %s (it has: %s)'
                            % (doc.get('set_id'), doc.get('host'), region, ', '.join(r for r in have if r)))
    return [s['snapshot_id'] for s in copies]


# ---------------------------------------------------------------- restore plans

def plan_replace(group, inst_volumes, replace_root=False):
    """In-place restore: which current volume each data snapshot replaces.

    Returns (plan, root, problems). ``plan`` items: device, snapshot_id, old_volume_id, size_gib,
    volume_type. ``root``: the boot snapshot summary when ``replace_root``. Problems are preflight
    failures (nothing may change when there is one).
    """
    problems = []
    by_dev = {device_key(v['device']): v for v in inst_volumes}
    plan = []
    root = None
    for snap in group['snapshots']:
        if snap.get('boot'):
            if replace_root:
                root = snap
            continue
        if not snap.get('device'):
            problems.append('snapshot %s has no %s tag: its device is unknown' % (snap['snapshot_id'], TAG_DEVICE))
            continue
        current = by_dev.get(device_key(snap['device']))
        if current is None:
            problems.append('the instance has no volume at %s (snapshot %s); use mode=inspect to attach it as a '
                            'new volume' % (snap['device'], snap['snapshot_id']))
            continue
        if current.get('boot'):
            problems.append('snapshot %s is a data volume but %s is the instance root device'
                            % (snap['snapshot_id'], snap['device']))
            continue
        plan.append({'device': current['device'], 'snapshot_id': snap['snapshot_id'],
                     'old_volume_id': current['volume_id'], 'size_gib': snap.get('size_gib'),
                     'volume_type': snap.get('volume_type')})
    if replace_root:
        boot_vols = [v for v in inst_volumes if v.get('boot')]
        if root is None:
            problems.append('the group has no boot-volume snapshot (it was taken with exclude_boot), so the root '
                            'volume cannot be replaced')
        elif not boot_vols:
            problems.append('the instance has no EBS root volume to replace')
        else:
            root = dict(root)
            root['old_volume_id'] = boot_vols[0]['volume_id']
            root['device'] = boot_vols[0]['device']
    if not plan and root is None and not problems:
        problems.append('the group has no data-volume snapshots to restore in place (use replace_root for the '
                        'boot volume)')
    return plan, root, problems


def plan_inspect(group, inst_volumes, devices, include_boot=False):
    """Attach a group's snapshots as extra volumes: pick free devices for them.

    ``devices``: user list (letters or names), used in order; without it, free /dev/sdf.. /dev/sdz.
    Returns (plan, problems).
    """
    snaps = [s for s in group['snapshots'] if include_boot or not s.get('boot')]
    used = {device_key(v['device']) for v in inst_volumes}
    problems = []
    if devices:
        wanted = [device_name(d) for d in devices]
        clash = [d for d in wanted if device_key(d) in used]
        if clash:
            problems.append('device(s) %s are already in use on the instance' % ', '.join(clash))
        if len({device_key(d) for d in wanted}) != len(wanted):
            problems.append('devices lists a device more than once')
        if len(wanted) < len(snaps):
            problems.append('devices lists %d device(s) but %d snapshot(s) are to be attached'
                            % (len(wanted), len(snaps)))
    else:
        wanted = ['/dev/sd' + c for c in 'fghijklmnopqrstuvwxyz' if 'sd' + c not in used]
        if len(wanted) < len(snaps):
            problems.append('not enough free devices on the instance for %d volume(s)' % len(snaps))
    if not snaps:
        problems.append('the group has no snapshots to attach (only a boot volume; use include_boot)')
    plan = []
    for snap, dev in zip(snaps, wanted):
        plan.append({'device': dev, 'snapshot_id': snap['snapshot_id'], 'source_device': snap.get('device'),
                     'size_gib': snap.get('size_gib'), 'volume_type': snap.get('volume_type'), 'old_volume_id': None})
    return plan, problems


def restore_preflight(group, instance_state, mode, stop_instance, replace_root, has_data_plan):
    """Problems with the group and instance state before a restore changes anything."""
    problems = []
    if group['state'] != COMPLETED:
        detail = ''
        if group['state'] == INCOMPLETE:
            detail = ' (%d of %d snapshots found)' % (group['snapshot_count'], group['expected_count'])
        elif group['state'] == ERROR:
            detail = ': ' + describe_failures(group['snapshots'])
        elif group['state'] == PENDING:
            detail = ' (some snapshots are still pending)'
        problems.append('snapshot group %s of %s in %s is %s%s; only a complete group can be restored'
                        % (group['set_id'], group.get('host'), group.get('region'), group['state'], detail))
    if instance_state in ('terminated', 'shutting-down'):
        problems.append('the instance is %s' % instance_state)
        return problems
    if mode == 'replace' and has_data_plan:
        if instance_state != 'stopped' and not stop_instance:
            problems.append('the instance is %s: in-place replacement of data volumes needs it stopped (stop it '
                            'first, or set stop_instance=true to have it stopped and started again)' % instance_state)
        elif instance_state not in ('stopped', 'running'):
            problems.append('the instance is %s; wait until it is running or stopped' % instance_state)
    if replace_root and instance_state != 'running':
        problems.append('replacing the root volume needs the instance running (EC2 replaces it in place and '
                        'reboots the instance); it is %s' % instance_state)
    return problems
