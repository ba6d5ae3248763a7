# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2/EBS adapter: the one file that talks to AWS EC2 through boto3 (and to the instance metadata service).

Clients are built from the connection options (AWS_SPEC, documented in doc_fragments/aws.py) with
botocore's standard retry mode; on top of it, calls throttled with SnapshotCreationPerVolumeRateExceeded,
RequestLimitExceeded or Throttling are retried with our own backoff (_ec2_snapshots/logic.retry_delay). Every
AWS failure leaves this file as a LifeboatError with one readable sentence.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time
import traceback

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import ConnectionError as UrlConnectionError, open_url

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError,
                                     NoRegionError, PartialCredentialsError, ProfileNotFound, ConnectTimeoutError,
                                     ReadTimeoutError)
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic

# Connection options of every EC2 module (documented in doc_fragments/aws.py).
AWS_SPEC = dict(
    region=dict(type='str'),
    endpoint_url=dict(type='str'),
    profile=dict(type='str'),
    access_key=dict(type='str', no_log=True),
    secret_key=dict(type='str', no_log=True),
    session_token=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    max_attempts=dict(type='int', default=8),
)

AWS_KEYS = tuple(AWS_SPEC)

IMDS_DEFAULT = 'http://169.254.169.254'
IMDS_TIMEOUT = 2

# what each EC2 action needs, for AccessDenied messages
_ACTIONS = {
    'describe_instances': 'ec2:DescribeInstances',
    'describe_volumes': 'ec2:DescribeVolumes',
    'describe_snapshots': 'ec2:DescribeSnapshots',
    'create_snapshots': 'ec2:CreateSnapshots',
    'create_tags': 'ec2:CreateTags',
    'delete_snapshot': 'ec2:DeleteSnapshot',
    'copy_snapshot': 'ec2:CopySnapshot',
    'create_volume': 'ec2:CreateVolume',
    'attach_volume': 'ec2:AttachVolume',
    'detach_volume': 'ec2:DetachVolume',
    'delete_volume': 'ec2:DeleteVolume',
    'stop_instances': 'ec2:StopInstances',
    'start_instances': 'ec2:StartInstances',
    'describe_regions': 'ec2:DescribeRegions',
    'create_replace_root_volume_task': 'ec2:CreateReplaceRootVolumeTask',
    'describe_replace_root_volume_tasks': 'ec2:DescribeReplaceRootVolumeTasks',
}


def require_boto3():
    """Raise the standard 'missing library' situation as a LifeboatError (modules use missing_required_lib)."""
    if not HAS_BOTO3:
        raise LifeboatError('boto3 and botocore are needed on the host that runs this module (pip install boto3)')


def connection_params(params):
    """The connection options out of a module's params (or a role's dict)."""
    return {k: params.get(k) for k in AWS_KEYS}


class Ec2(object):
    """An EC2 client for one region, with our error translation and throttling backoff."""

    def __init__(self, params, region=None, endpoint_url=None, client=None, sleep=time.sleep, rng=None):
        self.params = dict(params)
        self.sleep = sleep
        self.rng = rng
        if region:
            self.params['region'] = region
        if endpoint_url:
            self.params['endpoint_url'] = endpoint_url
        if client is not None:
            self.client = client
            self.region = region or self.params.get('region') or client.meta.region_name
            return
        require_boto3()
        self.client = self._build()
        self.region = self.client.meta.region_name

    def _build(self):
        p = self.params
        try:
            session = boto3.session.Session(profile_name=p.get('profile') or None,
                                            aws_access_key_id=p.get('access_key') or None,
                                            aws_secret_access_key=p.get('secret_key') or None,
                                            aws_session_token=p.get('session_token') or None)
        except ProfileNotFound as e:
            raise LifeboatError('AWS profile %r is not configured on this host: %s' % (p.get('profile'), e))
        region = p.get('region') or session.region_name or os.environ.get('AWS_REGION')
        if not region:
            raise LifeboatError('no AWS region: set the region option (or AWS_DEFAULT_REGION, AWS_REGION, or a '
                                'profile with a region)')
        cfg = Config(retries={'mode': 'standard', 'max_attempts': max(1, int(p.get('max_attempts') or 1))},
                     connect_timeout=10, read_timeout=60, user_agent_extra='lifeboat.backup')
        try:
            return session.client('ec2', region_name=region, endpoint_url=p.get('endpoint_url') or None,
                                  verify=bool(p.get('validate_certs', True)), config=cfg)
        except (BotoCoreError, ValueError) as e:
            raise LifeboatError('cannot create an EC2 client for region %s: %s' % (region, e))

    def describe(self):
        url = self.params.get('endpoint_url')
        return 'EC2 in %s%s' % (self.region, ' (%s)' % url if url else '')

    # ---------------------------------------------------------------- calls

    def call(self, op, eventual=False, **kwargs):
        """One API call with throttling backoff; AWS errors become LifeboatError.

        ``eventual``: the call names a resource created moments ago, which EC2 may not know yet
        (eventual consistency): '*.NotFound' is retried for a short while too.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return getattr(self.client, op)(**kwargs)
            except ClientError as e:
                code = error_code(e)
                delay = snapshot_logic.retry_delay(code, attempt, self.rng, eventual)
                if delay is not None:
                    self.sleep(delay)
                    continue
                raise self._translate(op, e, kwargs)
            except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as e:
                raise LifeboatError('cannot reach %s: %s' % (self.describe(), e), region=self.region)
            except (NoCredentialsError, PartialCredentialsError) as e:
                raise LifeboatError('no usable AWS credentials for %s: %s (set access_key/secret_key, a profile, '
                                    'or give the host an instance role)' % (self.describe(), e))
            except NoRegionError:
                raise LifeboatError('no AWS region: set the region option')
            except BotoCoreError as e:
                raise LifeboatError('%s failed: %s' % (self._action(op), e), region=self.region)

    def _action(self, op):
        return _ACTIONS.get(op, 'ec2:' + ''.join(w.capitalize() for w in op.split('_')))

    def _translate(self, op, e, kwargs):
        code = error_code(e)
        msg = (e.response.get('Error') or {}).get('Message') or str(e)
        action = self._action(op)
        if code in ('AccessDenied', 'UnauthorizedOperation', 'AccessDeniedException', 'AuthFailure',
                    'UnauthorizedAccess', 'OptInRequired'):
            if 'Encoded authorization failure message' in msg:
                msg = msg.split('Encoded authorization failure message')[0].strip().rstrip('.')
            return LifeboatError('AWS denied %s in %s (%s): %s. Grant it to the role or user this module runs as '
                                 '(docs/snapshots.md lists the IAM permissions)' % (action, self.region, code, msg),
                                 error_code=code, action=action)
        if code in ('InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed'):
            return LifeboatError('instance %s does not exist in %s (%s)'
                                 % (', '.join(kwargs.get('InstanceIds') or [kwargs.get('InstanceId') or
                                                                            (kwargs.get('InstanceSpecification') or {}).get('InstanceId') or '?']),
                                    self.region, code), error_code=code)
        if throttled(code):
            return LifeboatError('%s in %s was throttled (%s) and did not succeed after retries: %s'
                                 % (action, self.region, code, msg), error_code=code)
        return LifeboatError('%s in %s failed (%s): %s' % (action, self.region, code, msg), error_code=code)

    def paginate(self, op, result_key, eventual=False, **kwargs):
        out = []
        attempt = 0
        while True:
            attempt += 1
            try:
                for page in self.client.get_paginator(op).paginate(**kwargs):
                    out.extend(page.get(result_key) or [])
                return out
            except ClientError as e:
                delay = snapshot_logic.retry_delay(error_code(e), attempt, self.rng, eventual)
                if delay is not None:
                    out = []
                    self.sleep(delay)
                    continue
                raise self._translate(op, e, kwargs)
            except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as e:
                raise LifeboatError('cannot reach %s: %s' % (self.describe(), e), region=self.region)
            except (NoCredentialsError, PartialCredentialsError) as e:
                raise LifeboatError('no usable AWS credentials for %s: %s' % (self.describe(), e))
            except BotoCoreError as e:
                raise LifeboatError('%s failed: %s' % (self._action(op), e), region=self.region)

    # ---------------------------------------------------------------- instances and volumes

    def instance(self, instance_id):
        res = self.call('describe_instances', InstanceIds=[instance_id])
        for r in res.get('Reservations') or []:
            for i in r.get('Instances') or []:
                if i.get('InstanceId') == instance_id:
                    return i
        raise LifeboatError('instance %s does not exist in %s' % (instance_id, self.region))

    def volumes(self, volume_ids):
        if not volume_ids:
            return {}
        vols = self.paginate('describe_volumes', 'Volumes', VolumeIds=list(volume_ids))
        return {v['VolumeId']: v for v in vols}

    def volume_states(self, volume_ids):
        vols = self.paginate('describe_volumes', 'Volumes', eventual=True, VolumeIds=list(volume_ids))
        return {v['VolumeId']: v for v in vols}

    def create_volume(self, snapshot_id, az, volume_type=None, tags=None):
        kw = {'SnapshotId': snapshot_id, 'AvailabilityZone': az}
        if volume_type:
            kw['VolumeType'] = volume_type
        if tags:
            kw['TagSpecifications'] = [{'ResourceType': 'volume', 'Tags': snapshot_logic.tag_list(tags)}]
        return self.call('create_volume', **kw)

    def attach_volume(self, volume_id, instance_id, device):
        return self.call('attach_volume', VolumeId=volume_id, InstanceId=instance_id, Device=device)

    def detach_volume(self, volume_id, instance_id, device):
        return self.call('detach_volume', VolumeId=volume_id, InstanceId=instance_id, Device=device)

    def delete_volume(self, volume_id):
        return self.call('delete_volume', VolumeId=volume_id)

    def stop_instance(self, instance_id):
        return self.call('stop_instances', InstanceIds=[instance_id])

    def start_instance(self, instance_id):
        return self.call('start_instances', InstanceIds=[instance_id])

    # ---------------------------------------------------------------- snapshots

    def create_snapshots(self, instance_id, exclude_boot, exclude_volume_ids, description, tags):
        spec = {'InstanceId': instance_id, 'ExcludeBootVolume': bool(exclude_boot)}
        if exclude_volume_ids:
            spec['ExcludeDataVolumeIds'] = list(exclude_volume_ids)
        res = self.call('create_snapshots', InstanceSpecification=spec, Description=description,
                        TagSpecifications=[{'ResourceType': 'snapshot', 'Tags': snapshot_logic.tag_list(tags)}],
                        CopyTagsFromSource='volume')
        return res.get('Snapshots') or []

    def snapshots(self, filters=None, snapshot_ids=None, eventual=False):
        """Our own snapshots (OwnerIds self), by tag filter or id. Never lists public snapshots."""
        kw = {'OwnerIds': ['self']}
        if filters:
            kw['Filters'] = filters
        if snapshot_ids:
            kw['SnapshotIds'] = list(snapshot_ids)
        return self.paginate('describe_snapshots', 'Snapshots', eventual=eventual, **kw)

    def snapshots_by_id(self, snapshot_ids):
        """Snapshots by id; ids that no longer exist are simply absent from the answer."""
        found = []
        for sid in snapshot_ids:
            try:
                found.extend(self.call('describe_snapshots', SnapshotIds=[sid], OwnerIds=['self']).get('Snapshots')
                             or [])
            except LifeboatError as e:
                if e.details.get('error_code') not in ('InvalidSnapshot.NotFound', 'InvalidSnapshotID.Malformed'):
                    raise
        return found

    def tag(self, resource_ids, tags):
        if resource_ids and tags:
            self.call('create_tags', eventual=True, Resources=list(resource_ids), Tags=snapshot_logic.tag_list(tags))

    def delete_snapshot(self, snapshot_id):
        """Delete one snapshot; False when it was already gone."""
        try:
            self.call('delete_snapshot', SnapshotId=snapshot_id)
            return True
        except LifeboatError as e:
            if e.details.get('error_code') == 'InvalidSnapshot.NotFound':
                return False
            raise

    def copy_snapshot(self, source_region, source_snapshot_id, description, kms_key_id, tags):
        """Called on the destination region's client. Copies are always encrypted."""
        kw = {'SourceRegion': source_region, 'SourceSnapshotId': source_snapshot_id, 'Encrypted': True,
              'Description': description,
              'TagSpecifications': [{'ResourceType': 'snapshot', 'Tags': snapshot_logic.tag_list(tags)}]}
        if kms_key_id:
            kw['KmsKeyId'] = kms_key_id
        return self.call('copy_snapshot', **kw)['SnapshotId']

    def regions(self):
        res = self.call('describe_regions')
        return sorted(r['RegionName'] for r in res.get('Regions') or []
                      if r.get('OptInStatus') in (None, 'opt-in-not-required', 'opted-in'))

    # ---------------------------------------------------------------- root volume replacement

    def create_replace_root_task(self, instance_id, snapshot_id, delete_replaced, tags):
        kw = {'InstanceId': instance_id, 'SnapshotId': snapshot_id,
              'DeleteReplacedRootVolume': bool(delete_replaced)}
        if tags:
            kw['TagSpecifications'] = [{'ResourceType': 'replace-root-volume-task', 'Tags': snapshot_logic.tag_list(tags)}]
        res = self.call('create_replace_root_volume_task', **kw)
        return res['ReplaceRootVolumeTask']

    def replace_root_task(self, task_id):
        res = self.call('describe_replace_root_volume_tasks', ReplaceRootVolumeTaskIds=[task_id])
        tasks = res.get('ReplaceRootVolumeTasks') or []
        if not tasks:
            raise LifeboatError('replace-root-volume task %s disappeared in %s' % (task_id, self.region))
        return tasks[0]


def error_code(e):
    try:
        return (e.response.get('Error') or {}).get('Code') or ''
    except AttributeError:
        return ''


def throttled(code):
    return code in snapshot_logic.THROTTLE_CODES


# ---------------------------------------------------------------- instance metadata service (IMDSv2)

def imds_endpoint():
    """botocore's own override (AWS_EC2_METADATA_SERVICE_ENDPOINT) also points us elsewhere (tests)."""
    return (os.environ.get('AWS_EC2_METADATA_SERVICE_ENDPOINT') or IMDS_DEFAULT).rstrip('/')


def imds_identity(timeout=IMDS_TIMEOUT, endpoint=None):
    """This host's instance id, region and AZ from IMDSv2 (token PUT, then GET).

    Raises a LifeboatError saying to pass instance_id when the host is not an EC2 instance.
    """
    base = (endpoint or imds_endpoint()).rstrip('/')
    if os.environ.get('AWS_EC2_METADATA_DISABLED', '').lower() == 'true':
        raise LifeboatError('no instance_id given and the instance metadata service is disabled '
                            '(AWS_EC2_METADATA_DISABLED): pass instance_id')
    try:
        token = open_url(base + '/latest/api/token', method='PUT', data=b'', timeout=timeout, use_proxy=False,
                         headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'}).read().decode('ascii').strip()
        doc = json.loads(open_url(base + '/latest/dynamic/instance-identity/document', timeout=timeout,
                                  use_proxy=False, headers={'X-aws-ec2-metadata-token': token}).read().decode('utf-8'))
    except HTTPError as e:
        raise LifeboatError('the instance metadata service at %s answered HTTP %s: pass instance_id, or allow '
                            'IMDSv2 on this instance' % (base, e.code))
    except (URLError, UrlConnectionError, OSError, ValueError) as e:
        raise LifeboatError('no instance_id given and this host does not look like an EC2 instance: the instance '
                            'metadata service at %s did not answer within %ss (%s). Pass instance_id (and run the '
                            'module with delegate_to: localhost if needed)'
                            % (base, timeout, getattr(e, 'reason', e)))
    iid = doc.get('instanceId')
    if not iid:
        raise LifeboatError('the instance metadata service at %s gave no instance id' % base)
    return {'instance_id': iid, 'region': doc.get('region'), 'availability_zone': doc.get('availabilityZone')}


def botocore_version():
    return getattr(botocore, '__version__', None) if HAS_BOTO3 else None
