"""Screenshots of the supervisor's screens in Chinese: conflict review and progress.

The data is made deterministic (fixed building ids and save times), so a change in the
screens' appearance shows as a diff. Regenerate with ``--snapshot-update`` only after looking
at the report: the baselines are the reviewed appearance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from surveyor.forms.model import Form
from surveyor.i18n import set_language
from surveyor.services.survey import save_answers, writer
from surveyor.store.db import Store, init_store
from surveyor.sync.actions import assign, delete_building
from surveyor.sync.transfer import pull, push
from surveyor.tui.screens.supervisor import ProgressScreen, SupervisorScreen
from tests.conftest import REGISTER_ROW
from tests.tui.conftest import no_cursor_blink, settle  # noqa: F401 (a fixture, used below)

pytestmark = pytest.mark.usefixtures("no_cursor_blink")

#: Fixed ids: a building's code (shown on screen) is derived from its id.
SHARED_ID = uuid.UUID("01935a2e-7c00-7000-8000-00000000c0de")
RACED_ID = uuid.UUID("01935a2e-7c00-7000-8000-0000000de1e7")


@pytest.fixture
def zh_at_fixed_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Chinese screens; every save stamped 2026-11-23 09:30 (the screens show save times)."""
    monkeypatch.setattr("surveyor.store.log.utc_now_iso", lambda: "2026-11-23T09:30:00.000+00:00")
    set_language("zh")
    yield
    set_language("zh")


@pytest.fixture
def reviewed_central(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path, zh_at_fixed_time: None
) -> Iterator[Store]:
    """Two inspectors: one field edited concurrently, one delete racing an edit."""
    central = init_store(tmp_path / "central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    with writer(a, mini, "甲") as w:
        shared = w.create(REGISTER_ROW, building_id=SHARED_ID).code
        raced = w.create(
            REGISTER_ROW | {"building_no": "5号楼", "address": "南开区宜宾道14号"},
            building_id=RACED_ID,
        ).code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[shared, raced], author="督导")
    pull(b, central, mini)
    save_answers(a, mini, shared, {"year_built": "1984", "floors_above": "6"}, author="甲")
    _next_millisecond()
    save_answers(b, mini, shared, {"year_built": "1990", "floors_above": "6"}, author="乙")
    delete_building(a, mini, raced, author="甲")
    _next_millisecond()
    save_answers(b, mini, raced, {"floors_above": "7"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    try:
        yield central
    finally:
        central.close()


def _next_millisecond() -> None:
    """Two saves in one millisecond would tie on the clock, and the random site ids would then
    pick the provisional value; a later millisecond makes the screens the same every run."""
    time.sleep(0.002)


class _Host(App[None]):
    def __init__(self, store: Store, form: Form, *, progress: bool = False) -> None:
        super().__init__()
        self.store, self.form, self.progress = store, form, progress

    def on_mount(self) -> None:
        if self.progress:
            self.push_screen(ProgressScreen(self.store, self.form))
        else:
            self.push_screen(SupervisorScreen(self.store, self.form, author="督导"))


async def _settled(pilot: Any) -> None:
    await settle(pilot.app, pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_review_of_a_concurrent_edit(
    snap_compare: Any,
    reviewed_central: Store,
    mini: Form,
    size: tuple[int, int],
) -> None:
    app = _Host(reviewed_central, mini)
    assert snap_compare(app, terminal_size=size, run_before=_settled)


def test_review_of_a_delete_racing_an_edit(
    snap_compare: Any, reviewed_central: Store, mini: Form
) -> None:
    async def second_row(pilot: Any) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("down")
        await settle(pilot.app, pilot)

    app = _Host(reviewed_central, mini)
    assert snap_compare(app, terminal_size=(120, 40), run_before=second_row)


def test_progress_by_subdistrict_and_inspector(
    snap_compare: Any, reviewed_central: Store, mini: Form
) -> None:
    app = _Host(reviewed_central, mini, progress=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_settled)
