"""The review screen's filter (Pilot): a kind key, a building search, 街道 and inspector picked
from those with conflicts. It stays through a resolution and an opened building; Esc clears
it before leaving. (A review of 3,248 open items, mostly duplicate flags, took ~190
PageDowns to reach one field conflict.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from surveyor.forms.model import Form
from surveyor.i18n import set_language
from surveyor.services.survey import create_building, get_building
from surveyor.store.db import Store, init_store
from surveyor.sync.transfer import push, sync
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.supervisor import FilterPick, SupervisorScreen
from surveyor.tui.screens.survey import SurveyScreen
from tests.conftest import REGISTER_ROW
from tests.sync.test_supervisor_screen import _conflicted, review, review_app
from tests.tui.conftest import settle, until

FIELD = ("hard", "soft")


@pytest.fixture(autouse=True)
def english() -> Any:
    set_language("en")
    yield
    set_language("zh")


def _mixed(laptops: Callable[[str], Store], central: Store, mini: Form) -> str:
    """Two field conflicts on one building (乙's), and two buildings 丙 and 丁 each
    registered at one other address: possible duplicates, listed among the field ones."""
    theirs = {"year_built": "1984", "floors_above": "5"}
    ours = {"year_built": "1985", "floors_above": "6"}
    _laps, code = _conflicted(laptops, central, mini, theirs=theirs, ours=ours)
    other = REGISTER_ROW | {"compound_name": "学府花园", "address": "南开区学府路1号"}
    for name in ("丙", "丁"):
        lap = laptops(name)
        create_building(lap, mini, other, author=name)
        push(lap, central, mini)
    return code


def _kinds(screen: SupervisorScreen) -> set[str]:
    return {r.kind for r in screen.rows}


def _status(screen: SupervisorScreen) -> str:
    return str(screen.query_one("#status", Static).render())


def _esc(app: Any) -> str | None:
    """What Esc does now, as F1 says it (its binding's id)."""
    return app.screen.active_bindings["escape"].binding.id


def _footer_esc(app: Any) -> str:
    """What the footer, as drawn, says Esc does."""
    from textual.widgets._footer import FooterKey

    keys = {k.key: k.description for k in app.screen.query(FooterKey)}
    return keys.get("escape", "")  # at 80 columns, "back" is left out


def test_filtered_by_kind_a_resolution_moves_on_to_the_next_of_that_kind(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _mixed(laptops, central, mini)
    asyncio.run(_resolve_within_the_filter(central, mini))
    assert get_building(central, code).answers["year_built"] in (1984, 1985)
    central.close()


async def _resolve_within_the_filter(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        assert len(screen.rows) == 4 and "duplicate_entity" in _kinds(screen)
        await pilot.press("t")  # all kinds → field conflicts
        await until(app, lambda: len(screen.rows) == 2, "the field conflicts alone")
        assert _kinds(screen) <= set(FIELD)
        assert "2 shown; 2 of 4 conflicts match (field)" in _status(screen)
        kinds_bar = str(screen.query_one("#review-kinds", Static).render())
        assert kinds_bar == "field 2  delete 0  duplicate 2"
        await until(app, lambda: screen.detail is not None, "the first one shown")
        await pilot.press("1")
        await until(app, lambda: len(screen.rows) == 1, "the list read again")
        await settle(app, pilot)
        # The next conflict under the cursor is the other field conflict, not a duplicate.
        assert _kinds(screen) <= set(FIELD) and screen.where.kinds == FIELD
        assert screen.detail is not None and screen.detail.kind in FIELD
        assert "1 shown; 1 of 3 conflicts match (field)" in _status(screen)
        for _ in range(3):  # field → delete → duplicate → all
            await pilot.press("t")
        await until(app, lambda: len(screen.rows) == 3, "every kind again")
        assert not screen.where.active


def test_the_filter_survives_opening_a_building_and_esc_clears_it_before_leaving(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    _mixed(laptops, central, mini)
    app = review_app(central, mini, tmp_path, "en")
    asyncio.run(_open_back_and_esc(app))
    app.close_store()


async def _open_back_and_esc(app: SurveyorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen) and len(screen.rows) == 4
        assert _esc(app) == "review.back"
        await pilot.press("t", "t", "t")  # duplicates
        await until(app, lambda: len(screen.rows) == 2, "the duplicates alone")
        assert _kinds(screen) == {"duplicate_entity"}
        await pilot.press("o")
        await until(app, lambda: isinstance(app.screen, SurveyScreen), "the building opened")
        await pilot.press("escape")
        await until(app, lambda: app.screen is screen, "back in the review")
        await settle(app, pilot)
        assert _kinds(screen) == {"duplicate_entity"} and len(screen.rows) == 2
        # Esc first clears the filter (the footer says so), then goes back.
        assert _esc(app) == "review.clear_filter"
        await until(app, lambda: _footer_esc(app) == "clear filter", "the footer saying so")
        await pilot.press("escape")
        await until(app, lambda: len(screen.rows) == 4, "every conflict again")
        assert app.screen is screen and not screen.where.active
        assert _esc(app) == "review.back"
        await until(app, lambda: _footer_esc(app) != "clear filter", "the footer saying not")
        await pilot.press("escape")
        await until(app, lambda: isinstance(app.screen, BuildingsScreen), "the review left")


def test_slash_searches_buildings_and_an_inspector_is_picked_from_those_with_conflicts(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _mixed(laptops, central, mini)
    asyncio.run(_search_and_pick(central, mini, code))
    central.close()


async def _search_and_pick(central: Store, mini: Form, code: str) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        search = screen.query_one("#review-search", Input)
        await pilot.press("slash")
        assert search.has_focus
        assert _esc(app) == "review.leave_search"
        await pilot.press(*"学府")  # the duplicates' compound; a digit here is no key
        await until(app, lambda: len(screen.rows) == 2, "the buildings the search finds")
        assert _kinds(screen) == {"duplicate_entity"} and screen.where.text == "学府"
        await pilot.press("escape")  # back to the list, the search kept
        assert screen.query_one("#conflicts", DataTable).has_focus and search.value == "学府"
        assert "'学府'" in _status(screen)
        await pilot.press("escape")  # clears it
        await until(app, lambda: len(screen.rows) == 4, "every conflict again")
        assert search.value == ""
        await pilot.press("i")
        await until(app, lambda: isinstance(app.screen, FilterPick), "the inspectors offered")
        pick = app.screen
        assert isinstance(pick, FilterPick)
        # Each conflict under everyone it involves: 乙 is assigned the building, 甲 wrote a
        # value of its two field conflicts, 丙 and 丁 each saved one of the duplicates.
        assert [label for label, _ in pick.choices] == [
            "all inspectors  4",
            "(unassigned)  2",
            "丁  2",
            "丙  2",
            "乙  2",
            "甲  2",
        ]
        await pilot.press("down", "down", "down", "down", "enter")
        await until(app, lambda: screen.where.inspector == "乙", "the inspector picked")
        await until(app, lambda: len(screen.rows) == 2, "乙's conflicts")
        assert {r.code for r in screen.rows} == {code}
        assert "inspector 乙" in _status(screen)


def test_a_laptops_read_only_review_has_the_same_filter(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    _mixed(laptops, central, mini)
    inspector = laptops("乙")
    sync(inspector, central, mini)  # 乙's building, with its two field conflicts
    asyncio.run(_filter_on_a_laptop(inspector, mini))
    central.close()


async def _filter_on_a_laptop(laptop: Store, mini: Form) -> None:
    async with review(laptop, mini, size=(80, 24)) as (app, pilot, screen):
        assert screen.read_only and len(screen.rows) == 2
        await pilot.press("t", "t")  # deletes: none here
        await until(app, lambda: screen.rows == [], "the deletes (none)")
        assert "0 shown; 0 of 2 conflicts match (delete)" in _status(screen)
        assert _esc(app) == "review.clear_filter"
        await pilot.press("escape")
        await until(app, lambda: len(screen.rows) == 2, "both again")


def test_an_inspector_picked_lists_the_conflicts_where_they_wrote_a_value(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """`i` offered only the buildings' assigned inspectors: 甲, who wrote one side of both
    field conflicts on 乙's building, was not there to pick. Picked, 甲 lists those two."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _mixed(laptops, central, mini)
    asyncio.run(_pick_the_writer(central, mini, code))
    central.close()


async def _pick_the_writer(central: Store, mini: Form, code: str) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        await pilot.press("i")
        await until(app, lambda: isinstance(app.screen, FilterPick), "the inspectors offered")
        pick = app.screen
        assert isinstance(pick, FilterPick)
        assert "each inspector involved" in pick.title_text
        values = [value for _, value in pick.choices]
        assert "甲" in values, pick.choices
        for _ in range(values.index("甲")):
            await pilot.press("down")
        await pilot.press("enter")
        await until(app, lambda: screen.where.inspector == "甲", "甲 picked")
        await until(app, lambda: len(screen.rows) == 2, "the conflicts 甲 wrote a value of")
        assert {r.code for r in screen.rows} == {code} and _kinds(screen) <= set(FIELD)
        assert "2 shown; 2 of 4 conflicts match (inspector 甲)" in _status(screen)
