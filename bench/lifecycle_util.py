# -*- coding: utf-8 -*-
"""Helpers of bench/prune.sh and bench/verify.sh: stores full of sets made by the collection's own set code,
copied to S3 (moto), module argument files, fields of a module's output.

  lifecycle_util.py sets STORE_DIR COUNT               1,000 backdated sets (one every 12 h), a few KiB each
  lifecycle_util.py to-s3 STORE_DIR ENDPOINT BUCKET    the same objects in a bucket (prefix lifeboat/)
  lifecycle_util.py artifact STORE_DIR SRC_DIR         one set holding SRC_DIR as a files archive (tar | zstd -3)
  lifecycle_util.py args FILE MODULE_ARGS_JSON         an args file for running a module directly
  lifecycle_util.py field OUTPUT FIELD                 one field of a module's JSON output (fails if it failed)
  lifecycle_util.py ids OUTPUT FIELD                   the ids of a list field, one a line
  lifecycle_util.py count-sets STORE_DIR               sets left in a filesystem store
"""
import concurrent.futures
import datetime
import json
import os
import sys

from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.factory import open_store

UTC = datetime.timezone.utc


def fs(path):
    return open_store({'type': 'filesystem', 'path': path, 'prefix': 'lifeboat'})


def make_sets(path, count):
    store = fs(path)
    end = datetime.datetime.now(UTC).replace(microsecond=0, second=0, minute=15) - datetime.timedelta(hours=1)
    payload = os.urandom(4096)
    for index in range(count):
        when = end - datetime.timedelta(hours=12 * (count - 1 - index))
        set_id = lifecycle.start(store, label='nightly', now=when)['set_id']
        rfd, wfd = os.pipe()
        os.write(wfd, payload)
        os.close(wfd)
        with os.fdopen(rfd, 'rb') as source:
            artifacts.write_artifact(store, set_id, 'web1', 'files', 'app', 'files', 'raw', '.bin', 'bench',
                                     check_source=lambda res: {}, source_file=source, compression='none')
        lifecycle.commit(store, set_id, hosts=['web1'], now=when + datetime.timedelta(minutes=2))


def to_s3(path, endpoint, bucket):
    import boto3
    client = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1')
    client.create_bucket(Bucket=bucket)
    root = os.path.join(path, 'lifeboat')
    files = []
    for directory, _dirs, names in os.walk(root):
        files += [os.path.join(directory, name) for name in names]

    def put(name):
        with open(name, 'rb') as handle:
            client.put_object(Bucket=bucket, Key='lifeboat/' + os.path.relpath(name, root), Body=handle.read())

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files))
    print(len(files))


def artifact(path, src):
    store = fs(path)
    set_id = lifecycle.start(store, label='bench')['set_id']
    argv = files_logic.tar_create_argv('tar', [src], features=tar_features('/usr/bin/tar'))
    record = artifacts.write_artifact(store, set_id, 'bench', 'files', 'dataset', 'files', 'tar', '.tar', 'files:' + src,
                                      check_source=lambda res: files_logic.judge_tar_create(res.rc, res.stderr),
                                      source_argv=argv, compression='zstd', level=3, extra={'paths': [src]})
    lifecycle.commit(store, set_id, hosts=['bench'])
    print(os.path.join(path, 'lifeboat', record['key']))


def main():
    command = sys.argv[1]
    if command == 'sets':
        make_sets(sys.argv[2], int(sys.argv[3]))
    elif command == 'to-s3':
        to_s3(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == 'artifact':
        artifact(sys.argv[2], sys.argv[3])
    elif command == 'args':
        with open(sys.argv[2], 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': dict(json.loads(sys.argv[3]), _ansible_tmpdir=os.path.dirname(sys.argv[2]))},
                      handle)
    elif command == 'field':
        text = open(sys.argv[2]).read()
        doc = json.loads(text[text.index('{'):])
        if doc.get('failed'):
            sys.exit('module failed: %s' % doc.get('msg'))
        print(doc[sys.argv[3]])
    elif command == 'ids':                       # the ids in one list field of a module's output, one a line
        text = open(sys.argv[2]).read()
        doc = json.loads(text[text.index('{'):])
        if doc.get('failed'):
            sys.exit('module failed: %s' % doc.get('msg'))
        print('\n'.join(doc[sys.argv[3]]))
    elif command == 'count-sets':
        print(len([name for name in os.listdir(os.path.join(sys.argv[2], 'lifeboat')) if set_format.is_set_id(name)]))
    else:
        sys.exit('unknown command %s' % command)


if __name__ == '__main__':
    main()
