# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy: jittered exponential backoff, bounded attempts.

Used where something is worth trying again that the library underneath does not retry itself:
EC2's per-volume snapshot rate and eventual consistency (botocore's own retry mode handles
throttling and transient errors), a dropped S3 download body, a busy SSH server refusing a new
connection, a PostgreSQL database still in use by a reconnecting client. Each layer retries only
what the layer below does not, so attempts never multiply.

Pure: ``Backoff.delay`` is arithmetic on plain values, ``run`` takes the clock's ``sleep`` and the
random source ``rng`` as arguments, so both unit-test without waiting.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import time


class Backoff(object):
    """Delays ``first``, ``first * factor``, ... capped at ``cap`` seconds, for at most ``retries`` retries.

    ``jitter`` (0..1) is the share of each delay that is random: a delay ``d`` becomes a value between
    ``d * (1 - jitter)`` and ``d``, so clients that failed together do not retry together. 0 gives exact
    delays, 1 gives "full jitter".
    """

    def __init__(self, first, factor=2.0, cap=30.0, retries=5, jitter=0.5):
        if first < 0 or factor < 1 or cap < 0 or retries < 0 or not 0 <= jitter <= 1:
            raise ValueError('invalid backoff: first=%r factor=%r cap=%r retries=%r jitter=%r'
                             % (first, factor, cap, retries, jitter))
        self.first = float(first)
        self.factor = float(factor)
        self.cap = float(cap)
        self.retries = int(retries)
        self.jitter = float(jitter)

    def delay(self, retry, rng=random.random):
        """Seconds to wait before retry number ``retry`` (1-based), or None when no retry is left."""
        if retry < 1 or retry > self.retries:
            return None
        base = min(self.cap, self.first * self.factor ** (retry - 1))
        return base * (1.0 - self.jitter + self.jitter * rng())

    def delays(self, rng=random.random):
        """Every delay this policy allows, in order (for documentation and tests)."""
        return [self.delay(n, rng) for n in range(1, self.retries + 1)]

    def total(self):
        """The longest this policy can wait in all (every delay at its maximum)."""
        return sum(min(self.cap, self.first * self.factor ** n) for n in range(self.retries))

    def __repr__(self):
        return 'Backoff(first=%g, factor=%g, cap=%g, retries=%d, jitter=%g)' % (
            self.first, self.factor, self.cap, self.retries, self.jitter)


def run(action, policy_for, sleep=time.sleep, rng=random.random, on_retry=None):
    """Call ``action()`` until it returns, retrying the failures ``policy_for`` accepts.

    ``policy_for(exc)`` returns the Backoff for that failure, or None when it is not worth retrying (then
    the exception propagates at once). Retries are counted over the whole call, whichever policy applied;
    when the policy has no retry left the last exception propagates unchanged. ``on_retry(exc, retry,
    delay)`` is told about each retry before the sleep (logging).
    """
    retry = 0
    while True:
        try:
            return action()
        except Exception as exc:  # pylint: disable=broad-except
            policy = policy_for(exc)
            if policy is None:
                raise
            retry += 1
            delay = policy.delay(retry, rng)
            if delay is None:
                raise
            if on_retry is not None:
                on_retry(exc, retry, delay)
            sleep(delay)
