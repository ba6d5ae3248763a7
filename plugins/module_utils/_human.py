# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes and durations for people: '1.5 GiB', '3h 20m'. Used by progress lines, reports and the listing filters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')
DURATION_UNITS = (('y', 365 * 86400), ('d', 86400), ('h', 3600), ('m', 60), ('s', 1))


def size(value):
    """Bytes in binary units, one decimal below 100 of a unit: 1536 -> '1.5 KiB', 0 -> '0 B'. ``value`` is a number."""
    amount = float(value)
    sign = '-' if amount < 0 else ''
    amount = abs(amount)
    unit = 0
    while amount >= 1024 and unit < len(UNITS) - 1:
        amount /= 1024.0
        unit += 1
    if unit == 0:
        return '%s%d B' % (sign, int(amount))
    return '%s%s %s' % (sign, ('%.1f' % amount) if amount < 100 else ('%d' % round(amount)), UNITS[unit])


def duration(value):
    """Seconds as the two largest units: '45s', '12m 5s', '3h 20m', '4d 2h', '1y 35d'. ``value`` is a number."""
    seconds = int(round(float(value)))
    sign = '-' if seconds < 0 else ''
    seconds = abs(seconds)
    parts = []
    for unit, length in DURATION_UNITS:
        if seconds >= length or (unit == 's' and not parts):
            parts.append('%d%s' % (seconds // length, unit))
            seconds %= length
        if len(parts) == 2:
            break
    return sign + ' '.join(parts)
