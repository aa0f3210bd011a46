"""Screenshots of the main screens at 80×24 and 120×40, with Chinese data, cursor blink off.

Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` only after looking at
the report: the baselines are the reviewed appearance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from surveyor.services.browse import browse_buildings
from surveyor.store.db import open_store
from tests.tui.conftest import AppFactory, settle

SIZES = [(80, 24), (120, 40)]


def nth_building(db: Path, status: str) -> Any:
    store = open_store(db)
    try:
        return browse_buildings(store, status=status, limit=1).rows[0]
    finally:
        store.close()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_building_list(
    snap_compare: Any,
    sample_db: Path,
    make_app: AppFactory,
    no_cursor_blink: None,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(sample_db, lang="zh"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_survey_section_with_chinese_data(
    snap_compare: Any,
    sample_db: Path,
    make_app: AppFactory,
    no_cursor_blink: None,
    size: tuple[int, int],
) -> None:
    target = nth_building(sample_db, "draft")

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await settle(app, pilot)
        app.open_building(target.id, "subdistrict")
        await settle(app, pilot)

    assert snap_compare(make_app(sample_db, lang="zh"), terminal_size=size, run_before=run_before)


def test_survey_in_english_with_an_inline_error(
    snap_compare: Any, sample_db: Path, make_app: AppFactory, no_cursor_blink: None
) -> None:
    target = nth_building(sample_db, "not_started")

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await settle(app, pilot)
        app.open_building(target.id, "floors_above")
        await settle(app, pilot)
        await pilot.press(*"９９", "enter")  # full-width, and above the form's limit
        await pilot.press("escape")  # leave: committed, back on the list…
        await settle(app, pilot)
        app.open_building(target.id, "floors_above")  # …and back: the value is shown
        await settle(app, pilot)

    assert snap_compare(
        make_app(sample_db, lang="en"), terminal_size=(80, 24), run_before=run_before
    )


def test_completion_refused_lists_the_problems(
    snap_compare: Any, sample_db: Path, make_app: AppFactory, no_cursor_blink: None
) -> None:
    target = nth_building(sample_db, "not_started")

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await settle(app, pilot)
        app.open_building(target.id)
        await settle(app, pilot)
        await pilot.press("f9")
        await settle(app, pilot)

    assert snap_compare(
        make_app(sample_db, lang="zh"), terminal_size=(80, 24), run_before=run_before
    )
