"""Hybrid logical clock packed in 64 bits: 48-bit Unix milliseconds and a 16-bit counter.

Changes are ordered by HLC for display and provisional winners only; conflicts are decided by
causality (parent pointers), never by clocks. The last value is persisted so that a wall clock
stepping backwards (a laptop with a flat CMOS battery) still yields increasing stamps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

LOGICAL_BITS = 16
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


def pack(wall_ms: int, logical: int = 0) -> int:
    return wall_ms << LOGICAL_BITS | logical


def wall_ms(hlc: int) -> int:
    return hlc >> LOGICAL_BITS


def logical(hlc: int) -> int:
    return hlc & LOGICAL_MASK


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def tick(last: int, clock: Callable[[], int] = now_ms) -> int:
    """The next local stamp: the wall clock if it moved past ``last``, else ``last + 1``.

    Incrementing the packed integer carries an overflowing counter into the millisecond
    field, which keeps the stamp monotone without ever rejecting a save.
    """
    return max(pack(clock()), last + 1)


def observe(last: int, remote: int) -> int:
    """Merge a received stamp, so later local edits sort after everything we have seen."""
    return max(last, remote)
