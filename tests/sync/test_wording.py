"""Conflicts in words: times in the supervisor's own time zone."""

from __future__ import annotations

import time

import pytest

from surveyor.sync.wording import local_time


def test_a_stored_utc_time_is_shown_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change times are stored in UTC; shown as stored, a Tianjin supervisor read 08:15 for an
    edit made at 16:15 and could not match it to the inspector's day."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert local_time("2026-11-23T08:15:02.123+00:00") == "2026-11-23 16:15"
        assert local_time("2026-11-23T20:05:00+00:00") == "2026-11-24 04:05"  # the next day
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
