"""Pilot tests of the supervisor screen: review a conflict side by side, resolve by keypress."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import sqlalchemy as sa
from textual.app import App
from textual.widgets import DataTable, Static

from surveyor.forms.model import Form
from surveyor.services.survey import create_building, get_building, save_answers
from surveyor.store.db import Store, init_store
from surveyor.sync.actions import assign, delete_building
from surveyor.sync.apply import CONFLICT
from surveyor.sync.transfer import pull, push, sync
from surveyor.tui.screens.supervisor import ProgressScreen, SupervisorScreen
from tests.conftest import REGISTER_ROW


class _Host(App[None]):
    def __init__(self, store: Store, form: Form) -> None:
        super().__init__()
        self.store, self.form = store, form

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen(self.store, self.form, author="督导"))


def _conflicted(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> tuple[list[Store], str]:
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    save_answers(a, mini, code, {"year_built": "1984"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1990"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    return [a, b], code


def _open(central: Store) -> int:
    with central.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(CONFLICT).where(CONFLICT.c.status == "open")
            ).scalar_one()
        )


def test_screen_shows_base_theirs_ours_and_resolves_with_a_key(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    laps, code = _conflicted(laptops, central, mini)
    chosen = asyncio.run(_resolve_second(central, mini))
    assert _open(central) == 0
    assert get_building(central, code).answers["year_built"] == chosen
    sync(laps[0], central, mini)  # the resolution reaches the laptop
    assert get_building(laps[0], code).answers["year_built"] == chosen
    central.close()


async def _resolve_second(central: Store, mini: Form) -> object:
    app = _Host(central, mini)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert screen.query_one("#conflicts", DataTable).row_count == 1
        panes = [str(s.render()) for s in screen.query(".version").results(Static)]
        assert panes[0].startswith("base") and "(no common value)" in panes[0]
        assert "theirs" in panes[1] and "ours" in panes[2]
        assert {"甲", "乙"} <= {w for p in panes for w in p.split()}
        chosen = screen.detail.heads[1].value if screen.detail else None
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one("#conflicts", DataTable).row_count == 0
    return chosen


def test_delete_racing_an_edit_is_kept_with_k_and_progress_opens(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    delete_building(a, mini, code, author="甲")
    save_answers(b, mini, code, {"floors_above": "6"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    asyncio.run(_keep_then_progress(central, mini))
    assert not get_building(central, code).deleted
    central.close()


async def _keep_then_progress(central: Store, mini: Form) -> None:
    app = _Host(central, mini)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")  # not a choice for a delete-vs-edit conflict
        await pilot.pause()
        assert "no such value" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("k")
        await pilot.pause()
        assert _open(central) == 0
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        table = app.screen.query_one("#by_inspector", DataTable)
        assert table.row_count == 2  # 乙 and the total


def test_a_duplicate_is_merged_into_the_other_with_its_number(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲")
    y = create_building(b, mini, REGISTER_ROW, author="乙")
    save_answers(b, mini, y.code, {"floors_above": "6"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    asyncio.run(_merge_duplicate(central, mini))
    assert _open(central) == 0
    kept, gone = get_building(central, x.code), get_building(central, y.code)
    assert {kept.deleted, gone.deleted} == {False, True}  # one kept, one merged away
    survivor = kept if not kept.deleted else gone
    assert survivor.answers["floors_above"] == 6  # nothing the inspectors entered is lost
    central.close()


async def _merge_duplicate(central: Store, mini: Form) -> None:
    app = _Host(central, mini)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert screen.detail is not None and screen.detail.kind == "duplicate_entity"
        mine = [v.change_id for v in screen.detail.heads].index(screen.detail.building_id) + 1
        await pilot.press(str(mine))  # itself: refused with a hint
        await pilot.pause()
        assert "this building" in str(screen.query_one("#status", Static).render())
        await pilot.press("2" if mine == 1 else "1")
        await pilot.pause()
        assert screen.query_one("#conflicts", DataTable).row_count == 0
