# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy (_retry.py) and the policies built on it, with an injected rng and sleep (no waiting)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils import _retry as retry
from ansible_collections.lifeboat.backup.plugins.module_utils._aws import ec2 as ec2_client
from ansible_collections.lifeboat.backup.plugins.module_utils._postgresql import client as pg_client
from ansible_collections.lifeboat.backup.plugins.module_utils._stores import s3_reader
from ansible_collections.lifeboat.backup.plugins.module_utils._stores import sftp as sftp_store


class Sleeps(object):
    def __init__(self):
        self.slept = []

    def __call__(self, seconds):
        self.slept.append(seconds)


def test_backoff_grows_exponentially_to_its_cap_then_stops():
    policy = retry.Backoff(first=1.0, factor=2.0, cap=5.0, retries=5, jitter=0.0)
    assert policy.delays() == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.delay(0) is None and policy.delay(6) is None
    assert policy.total() == 17.0


def test_jitter_keeps_each_delay_between_its_floor_and_its_base():
    policy = retry.Backoff(first=2.0, factor=2.0, cap=30.0, retries=4, jitter=0.5)
    assert policy.delays(rng=lambda: 1.0) == [2.0, 4.0, 8.0, 16.0]          # the top of the range
    assert policy.delays(rng=lambda: 0.0) == [1.0, 2.0, 4.0, 8.0]           # the floor: base x (1 - jitter)
    full = retry.Backoff(first=4.0, retries=1, jitter=1.0)
    assert full.delay(1, rng=lambda: 0.25) == 1.0                           # full jitter: anywhere in 0..base


@pytest.mark.parametrize('kwargs', [dict(first=-1), dict(first=1, factor=0.5), dict(first=1, jitter=2),
                                    dict(first=1, retries=-1)])
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        retry.Backoff(**kwargs)


def test_run_retries_what_the_policy_accepts_and_counts_over_the_whole_call():
    sleeps = Sleeps()
    calls = []
    policy = retry.Backoff(first=1.0, retries=3, jitter=0.0)

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise IOError('transient')
        return 'done'
    assert retry.run(flaky, lambda exc: policy if isinstance(exc, IOError) else None, sleep=sleeps) == 'done'
    assert sleeps.slept == [1.0, 2.0] and len(calls) == 3


def test_run_gives_up_with_the_last_exception_and_never_retries_others():
    sleeps = Sleeps()
    policy = retry.Backoff(first=1.0, retries=2, jitter=0.0)
    seen = []

    def always():
        raise IOError('still down')
    with pytest.raises(IOError, match='still down'):
        retry.run(always, lambda exc: policy, sleep=sleeps, on_retry=lambda exc, n, d: seen.append((n, d)))
    assert sleeps.slept == [1.0, 2.0] and seen == [(1, 1.0), (2, 2.0)]

    def bug():
        raise KeyError('a bug')
    with pytest.raises(KeyError):
        retry.run(bug, lambda exc: None, sleep=sleeps)
    assert sleeps.slept == [1.0, 2.0]          # not retried


def test_the_policies_in_use():
    # EC2: one snapshot of a volume every 15 s -> 15..20 s; eventual consistency -> 2, 4, 8, 10, 10
    assert ec2_client.retry_policy('SnapshotCreationPerVolumeRateExceeded') is ec2_client.PER_VOLUME_RATE
    assert all(15.0 <= d <= 20.0 for d in ec2_client.PER_VOLUME_RATE.delays(rng=lambda: 0.0)
               + ec2_client.PER_VOLUME_RATE.delays(rng=lambda: 1.0))
    assert ec2_client.retry_policy('InvalidSnapshot.NotFound') is None
    assert ec2_client.retry_policy('InvalidSnapshot.NotFound', eventual=True).delays() == [2.0, 4.0, 8.0, 10.0, 10.0]
    for code in ('RequestLimitExceeded', 'Throttling', 'InternalError', 'UnauthorizedOperation'):
        assert ec2_client.retry_policy(code, eventual=True) is None      # botocore's standard mode, or final
    # the S3 reader re-reads a broken body as many times as a request may be attempted
    assert s3_reader.body_backoff(8).retries == 7 and s3_reader.body_backoff(1).retries == 0
    # PostgreSQL renames while clients reconnect: bounded, about 7 s at most
    assert pg_client.RENAME_BACKOFF.total() < 10
    # SFTP: a connection dropped before the handshake is tried again a few times, refused ones are not
    assert sftp_store.CONNECT_BACKOFF.retries == 3
    assert sftp_store.connect_retryable(EOFError())
    assert sftp_store.connect_retryable(ConnectionResetError())
    assert not sftp_store.connect_retryable(ConnectionRefusedError())
    assert not sftp_store.connect_retryable(ValueError('bug'))


def test_rename_database_retries_only_while_the_database_is_in_use():
    sleeps = Sleeps()

    class Conn(object):
        params = {}

        def __init__(self, busy):
            self.busy = busy
            self.statements = []

        def execute(self, sql, args=None):
            self.statements.append(sql)
            if sql.startswith('ALTER') and self.busy:
                self.busy -= 1
                raise pg_client.DatabaseInUseError('database "a" is being accessed by other users')
    conn = Conn(busy=2)
    pg_client.rename_database(conn, 'a', 'b', sleep=sleeps, rng=lambda: 1.0)
    assert [s.split()[0] for s in conn.statements] == ['SELECT', 'ALTER'] * 3
    assert sleeps.slept == [0.2, 0.4]
    with pytest.raises(pg_client.DatabaseInUseError):
        pg_client.rename_database(Conn(busy=99), 'a', 'b', sleep=sleeps, rng=lambda: 1.0)
    assert len(sleeps.slept) == 2 + pg_client.RENAME_BACKOFF.retries
