# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2/EBS adapter: the one file that talks to AWS EC2 through boto3 (and to the instance metadata service).

Clients come from the one AWS client layer (client.py: options, environment, botocore's standard retry
mode). On top of botocore's retries this adapter retries only what botocore does not (_retry.py):
SnapshotCreationPerVolumeRateExceeded (EC2 takes one snapshot of a volume every 15 s) and, for calls
naming a resource created moments ago, '*.NotFound' (eventual consistency). Every AWS failure leaves this
file as a typed error from errors.py (DeniedError, NotFoundError, ThrottledError, UnreachableError, ...).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import random
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import ConnectionError as UrlConnectionError, open_url

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError, NotFoundError, UnreachableError
from ansible_collections.lifeboat.backup.plugins.module_utils import _retry as retry
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import client as aws_client
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import errors as aws_errors
from ansible_collections.lifeboat.backup.plugins.module_utils._ec2_snapshots import logic as snapshot_logic

IMDS_DEFAULT = 'http://169.254.169.254'
IMDS_TIMEOUT = 2

# EC2 allows one snapshot of a volume every 15 s: 15-20 s between attempts, 6 retries
PER_VOLUME_RATE = retry.Backoff(first=20.0, factor=1.0, cap=20.0, retries=6, jitter=0.25)
# a resource created a moment ago that EC2 does not know yet: 2, 4, 8, 10, 10 s
EVENTUAL = retry.Backoff(first=2.0, factor=2.0, cap=10.0, retries=5, jitter=0.0)


def retry_policy(code, eventual=False):
    """The Backoff for an EC2 error code botocore does not retry itself, or None."""
    if code == 'SnapshotCreationPerVolumeRateExceeded':
        return PER_VOLUME_RATE
    if eventual and code.endswith('.NotFound'):
        return EVENTUAL
    return None


class Ec2(object):
    """An EC2 client for one region, with the error translation and the retries botocore leaves to us."""

    def __init__(self, params, region=None, endpoint_url=None, client=None, sleep=time.sleep, rng=None):
        self.params = dict(params)
        self.sleep = sleep
        self.rng = rng or random.random
        if region:
            self.params['region'] = region
        if endpoint_url:
            self.params['endpoint_url'] = endpoint_url
        if client is not None:
            self.client = client
            self.region = region or self.params.get('region') or client.meta.region_name
            return
        self.client, settings = aws_client.build_client('ec2', self.params)
        self.region = settings['region']

    def describe(self):
        url = self.params.get('endpoint_url')
        return 'EC2 in %s%s' % (self.region, ' (%s)' % url if url else '')

    # ---------------------------------------------------------------- calls

    def _context(self, operation, kwargs):
        spec = kwargs.get('InstanceSpecification') or {}
        instance = ', '.join(kwargs.get('InstanceIds') or [kwargs.get('InstanceId') or spec.get('InstanceId') or '?'])
        return aws_errors.Context('ec2', action=operation, region=self.region, endpoint_url=self.params.get('endpoint_url'),
                                  permission=aws_errors.ec2_permission(operation), instance=instance,
                                  attempts=self.params.get('max_attempts'))

    def _retrying(self, operation, kwargs, eventual, action):
        def policy_for(exc):
            return retry_policy(aws_errors.error_code(exc), eventual) if aws_errors.is_aws_error(exc) else None
        try:
            return retry.run(action, policy_for, sleep=self.sleep, rng=self.rng)
        except Exception as exc:  # pylint: disable=broad-except
            raise aws_errors.translate(exc, self._context(operation, kwargs))

    def call(self, operation, eventual=False, **kwargs):
        """One API call; AWS errors become typed LifeboatErrors.

        ``eventual``: the call names a resource created moments ago, which EC2 may not know yet
        (eventual consistency): '*.NotFound' is retried for a short while too.
        """
        return self._retrying(operation, kwargs, eventual, lambda: getattr(self.client, operation)(**kwargs))

    def paginate(self, operation, result_key, eventual=False, **kwargs):
        def every_page():
            found = []
            for page in self.client.get_paginator(operation).paginate(**kwargs):
                found.extend(page.get(result_key) or [])
            return found
        return self._retrying(operation, kwargs, eventual, every_page)

    # ---------------------------------------------------------------- instances and volumes

    def instance(self, instance_id):
        res = self.call('describe_instances', InstanceIds=[instance_id])
        for reservation in res.get('Reservations') or []:
            for found in reservation.get('Instances') or []:
                if found.get('InstanceId') == instance_id:
                    return found
        raise NotFoundError('instance %s does not exist in %s' % (instance_id, self.region))

    def volumes(self, volume_ids):
        if not volume_ids:
            return {}
        found = self.paginate('describe_volumes', 'Volumes', VolumeIds=list(volume_ids))
        return {vol['VolumeId']: vol for vol in found}

    def volume_states(self, volume_ids):
        found = self.paginate('describe_volumes', 'Volumes', eventual=True, VolumeIds=list(volume_ids))
        return {vol['VolumeId']: vol for vol in found}

    def create_volume(self, snapshot_id, zone, volume_type=None, tags=None):
        args = {'SnapshotId': snapshot_id, 'AvailabilityZone': zone}
        if volume_type:
            args['VolumeType'] = volume_type
        if tags:
            args['TagSpecifications'] = [{'ResourceType': 'volume', 'Tags': snapshot_logic.tag_list(tags)}]
        return self.call('create_volume', **args)

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
        args = {'OwnerIds': ['self']}
        if filters:
            args['Filters'] = filters
        if snapshot_ids:
            args['SnapshotIds'] = list(snapshot_ids)
        return self.paginate('describe_snapshots', 'Snapshots', eventual=eventual, **args)

    def snapshots_by_id(self, snapshot_ids):
        """Snapshots by id; ids that no longer exist are simply absent from the answer."""
        found = []
        for snapshot_id in snapshot_ids:
            try:
                found.extend(self.call('describe_snapshots', SnapshotIds=[snapshot_id], OwnerIds=['self'])
                             .get('Snapshots') or [])
            except LifeboatError as err:
                if err.details.get('error_code') not in ('InvalidSnapshot.NotFound', 'InvalidSnapshotID.Malformed'):
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
        except NotFoundError as err:
            if err.details.get('error_code') == 'InvalidSnapshot.NotFound':
                return False
            raise

    def copy_snapshot(self, source_region, source_snapshot_id, description, kms_key_id, tags):
        """Called on the destination region's client. Copies are always encrypted."""
        args = {'SourceRegion': source_region, 'SourceSnapshotId': source_snapshot_id, 'Encrypted': True,
                'Description': description,
                'TagSpecifications': [{'ResourceType': 'snapshot', 'Tags': snapshot_logic.tag_list(tags)}]}
        if kms_key_id:
            args['KmsKeyId'] = kms_key_id
        return self.call('copy_snapshot', **args)['SnapshotId']

    def regions(self):
        res = self.call('describe_regions')
        return sorted(region['RegionName'] for region in res.get('Regions') or []
                      if region.get('OptInStatus') in (None, 'opt-in-not-required', 'opted-in'))

    # ---------------------------------------------------------------- root volume replacement

    def create_replace_root_task(self, instance_id, snapshot_id, delete_replaced, tags):
        args = {'InstanceId': instance_id, 'SnapshotId': snapshot_id,
                'DeleteReplacedRootVolume': bool(delete_replaced)}
        if tags:
            args['TagSpecifications'] = [{'ResourceType': 'replace-root-volume-task', 'Tags': snapshot_logic.tag_list(tags)}]
        res = self.call('create_replace_root_volume_task', **args)
        return res['ReplaceRootVolumeTask']

    def replace_root_task(self, task_id):
        res = self.call('describe_replace_root_volume_tasks', ReplaceRootVolumeTaskIds=[task_id])
        tasks = res.get('ReplaceRootVolumeTasks') or []
        if not tasks:
            raise NotFoundError('replace-root-volume task %s disappeared in %s' % (task_id, self.region))
        return tasks[0]


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
    except HTTPError as err:
        raise LifeboatError('the instance metadata service at %s answered HTTP %s: pass instance_id, or allow '
                            'IMDSv2 on this instance' % (base, err.code))
    except (URLError, UrlConnectionError, OSError, ValueError) as err:
        raise UnreachableError('no instance_id given and this host does not look like an EC2 instance: the instance '
                               'metadata service at %s did not answer within %ss (%s). Pass instance_id (and run the '
                               'module with delegate_to: localhost if needed)'
                               % (base, timeout, getattr(err, 'reason', err)))
    instance_id = doc.get('instanceId')
    if not instance_id:
        raise LifeboatError('the instance metadata service at %s gave no instance id' % base)
    return {'instance_id': instance_id, 'region': doc.get('region'), 'availability_zone': doc.get('availabilityZone')}


def factory(params):
    """``make_ec2(region=None, endpoint_url=None)`` for the snapshot flows, from a module's params."""
    connection = aws_client.connection_params(params)

    def make_ec2(region=None, endpoint_url=None):
        return Ec2(connection, region=region, endpoint_url=endpoint_url)
    return make_ec2
