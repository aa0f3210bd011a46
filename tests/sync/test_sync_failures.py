"""A sync that stops part-way says what reached the central, what the laptop received, and
why it stopped."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from surveyor.errors import DiskFull, SurveyorError
from surveyor.forms.model import Form
from surveyor.services.queries import list_buildings
from surveyor.services.survey import create_building
from surveyor.store.db import Store
from surveyor.sync import transfer
from surveyor.sync.actions import assign
from surveyor.sync.transfer import push, sync
from tests.conftest import REGISTER_ROW

DAY_MS = 24 * 3600 * 1000
FULL = DiskFull("the disk holding central.db is full: nothing of this write was saved")


def _buildings(lap: Store, mini: Form, n: int) -> None:
    for i in range(n):
        create_building(lap, mini, REGISTER_ROW | {"address": f"南开区{i}号"}, author="甲")


def _locked(*_: Any, **__: Any) -> None:
    raise sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))


def test_a_push_stopped_after_a_batch_says_how_many_changes_reached_the_central(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    lap = laptops("甲")
    _buildings(lap, mini, 5)

    def full_after_the_first(batch: int) -> None:
        raise FULL

    with pytest.raises(DiskFull) as caught:
        sync(lap, central, mini, batch=2, after_batch=full_after_the_first)
    hub = transfer.shown_target(central.target)
    assert caught.value.message == (
        f"sent 2 of 5 change(s) to the central {hub}, where they are saved (the rest are safe "
        f"on the laptop, and the next sync sends only them); then sending stopped: {FULL}"
    )
    assert caught.value.text("zh").startswith(f"已向中心库 {hub} 发送 5 条改动中的 2 条")
    assert sync(lap, central, mini).pushed == 3


def test_a_push_that_sent_nothing_is_said_as_it_failed(
    laptops: Callable[[str], Store], central: Store, mini: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    lap = laptops("甲")
    _buildings(lap, mini, 1)
    monkeypatch.setattr(transfer, "apply_changes", _locked)
    with pytest.raises(sa.exc.OperationalError):
        sync(lap, central, mini)


def test_a_pull_stopped_says_the_push_reached_the_central_and_the_laptop_is_unchanged(
    laptops: Callable[[str], Store], central: Store, mini: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = laptops("甲"), laptops("乙")
    _buildings(first, mini, 2)
    push(first, central, mini)
    codes = [r.code for r in list_buildings(central).rows]
    assign(central, mini, "乙", refs=codes, author="supervisor")
    _buildings(second, mini, 1)
    monkeypatch.setattr(transfer, "refold_after_local_saves", _locked)  # in the pull's write
    with pytest.raises(SurveyorError) as caught:
        sync(second, central, mini)
    hub = transfer.shown_target(central.target)
    assert caught.value.message == (
        f"sent 1 change(s) to the central {hub}, where they are saved; then receiving from the "
        "central stopped, and nothing changed on the laptop: another program (or another "
        "Surveyor window) is writing to this database; try again in a moment"
    )
    assert list_buildings(second).total == 1  # the pull was rolled back whole
    monkeypatch.undo()
    again = sync(second, central, mini)
    assert (again.pushed, list_buildings(second).total) == (0, 3)


def test_a_sync_stopped_after_its_pull_says_what_the_laptop_received(
    laptops: Callable[[str], Store], central: Store, mini: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = laptops("甲"), laptops("乙")
    _buildings(first, mini, 2)
    push(first, central, mini)
    assign(central, mini, "乙", refs=[r.code for r in list_buildings(central).rows], author="s")
    monkeypatch.setattr(transfer, "no_assignments", _locked)
    with pytest.raises(SurveyorError) as caught:
        sync(second, central, mini)
    hub = transfer.shown_target(central.target)
    assert caught.value.message.startswith(
        f"the central {hub} already held every change of this laptop, and the laptop received "
        "4 change(s) from it; then the sync stopped before their photos were received: "
    )
    assert list_buildings(second).total == 2
