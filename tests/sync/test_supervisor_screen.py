"""Pilot tests of the supervisor screen: review a conflict side by side, resolve by keypress."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from textual.app import App
from textual.geometry import Region
from textual.widgets import DataTable, Input, Static

from surveyor.forms.model import Form
from surveyor.i18n import set_language
from surveyor.services.survey import create_building, get_building, save_answers
from surveyor.settings import Settings
from surveyor.store.db import Store, init_store
from surveyor.store.ids import building_uri
from surveyor.sync.actions import assign, delete_building
from surveyor.sync.rows import CHANGE, CONFLICT
from surveyor.sync.transfer import pull, push, sync
from surveyor.tui import screens
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.supervisor import (
    MergeModal,
    ProgressScreen,
    SupervisorScreen,
    ValueModal,
)
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.note import Note
from tests.conftest import REGISTER_ROW
from tests.tui.conftest import settle


@pytest.fixture(autouse=True)
def english() -> Any:
    set_language("en")
    yield
    set_language("zh")


class _Host(App[None]):
    def __init__(self, store: Store, form: Form) -> None:
        super().__init__()
        self.store, self.form = store, form

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen(self.store, self.form, author="督导"))


def _conflicted(
    laptops: Callable[[str], Store],
    central: Store,
    mini: Form,
    ours: dict[str, str] | None = None,
    theirs: dict[str, str] | None = None,
) -> tuple[list[Store], str]:
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    save_answers(a, mini, code, theirs or {"year_built": "1984"}, author="甲")
    save_answers(b, mini, code, ours or {"year_built": "1990"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    return [a, b], code


@asynccontextmanager
async def review(
    central: Store, mini: Form, size: tuple[int, int] = (120, 40)
) -> AsyncIterator[tuple[_Host, Any, SupervisorScreen]]:
    """The review screen on ``central``, its first conflict (if any) read and shown."""
    app = _Host(central, mini)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        yield app, pilot, screen


def review_app(central: Store, mini: Form, tmp_path: Path, lang: str) -> SurveyorApp:
    """The whole app on ``central`` with the review on top, as ``surveyor review`` opens it
    (the central store is closed first: the app opens its own)."""
    target = central.target
    central.close()
    return SurveyorApp(
        target,
        settings=Settings(language=lang),
        settings_path=tmp_path / "c.toml",
        form=mini,
        review=True,
        author="督导",
    )


def _panes(screen: SupervisorScreen) -> list[str]:
    return [str(s.render()) for s in screen.query(".version .version-text").results(Static)]


def _cells(table: DataTable[Any], row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


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
    async with review(central, mini) as (app, pilot, screen):
        table = screen.query_one("#conflicts", DataTable)
        assert table.row_count == 1
        assert _cells(table, 0)[1:4] == ["Year built", "edited concurrently", "2"]
        panes = _panes(screen)
        assert panes[0].startswith("base") and "(no common value)" in panes[0]
        # Numbered as the keys take them: no side is "theirs" or "ours" on a central.
        assert panes[1].startswith("[1] value 1") and panes[2].startswith("[2] value 2")
        assert {"甲", "乙"} <= {w for p in panes for w in p.split()}
        assert screen.detail is not None
        code, taken = screen.detail.code, screen.detail.heads[1]
        chosen = taken.value
        await pilot.press("2")
        await settle(app, pilot)
        assert table.row_count == 0
        # The toast says what was taken and whose, in the words `conflicts resolve` prints:
        # it said only "Resolved Year built of NK-…".
        said = f"{code}: resolved: Year built is {chosen} ({taken.author}'s value)"
        assert [n.message for n in app._notifications] == [said]
        assert "0 shown of 0" in str(screen.query_one("#status", Static).render())
    return chosen


def test_on_a_laptop_the_review_shows_conflicts_but_a_supervisor_decides(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """An inspector pressed 2 in the review opened from the laptop's palette: the conflict
    closed there and, after a sync, on the central too, without the supervisor."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    laps, _code = _conflicted(laptops, central, mini)
    sync(laps[1], central, mini)
    assert _open(laps[1]) == 1
    asyncio.run(_try_to_resolve_on(laps[1], mini))
    assert _open(laps[1]) == 1
    sync(laps[1], central, mini)
    assert _open(central) == 1
    central.close()


async def _try_to_resolve_on(laptop: Store, mini: Form) -> None:
    async with review(laptop, mini) as (app, pilot, screen):
        table = screen.query_one("#conflicts", DataTable)
        assert table.row_count == 1 and len(_panes(screen)) == 3  # shown: base and both
        for key in ("2", "b", "v", "d", "d"):
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, SupervisorScreen)  # no value dialog either
        said = str(screen.query_one("#status", Static).render())
        assert said.startswith("This is an inspector's laptop: conflicts are shown here")
        assert table.row_count == 1


def test_delete_racing_an_edit_is_kept_with_k_and_progress_opens(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _delete_race(laptops, central, mini)
    asyncio.run(_keep_then_progress(central, mini))
    assert not get_building(central, code).deleted
    central.close()


async def _keep_then_progress(central: Store, mini: Form) -> None:
    async with review(central, mini) as (app, pilot, screen):
        assert "delete raced an edit" in _cells(screen.query_one("#conflicts", DataTable), 0)
        panes = _panes(screen)
        assert len(panes) == 2 and any("deleted the building" in p for p in panes)
        assert any("Storeys: 6" in p for p in panes), panes  # what the edit set
        assert not any(p.startswith("[") for p in panes), panes  # no number to press
        assert panes[0].startswith(("the delete", "the edit")), panes
        for key in ("1", "b"):  # not a choice for a delete-vs-edit conflict: says what is
            await pilot.press(key)
            await settle(app, pilot)
            said = str(app.screen.query_one("#status", Static).render())
            assert said == "A delete racing an edit can only be kept (k) or deleted (d)", said
        assert screen.detail is not None
        code = screen.detail.code
        await pilot.press("k")
        await settle(app, pilot)
        assert _open(central) == 0
        said = f"resolved: building {code} is kept"
        assert any(n.message == said for n in app._notifications), list(app._notifications)
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, ProgressScreen)
        table = app.screen.query_one("#by_inspector", DataTable)
        assert table.row_count == 2  # 乙 and the total
        assert _cells(table, 1)[0] == "total"
        by_sub = app.screen.query_one("#by_subdistrict", DataTable)
        assert _cells(by_sub, 0)[0] != "wanxing"  # the 街道's name from the form, not its code
        assert not app.screen.query_one("#progress-note", Note).display  # nothing conflicted


def test_a_duplicate_is_merged_into_the_other_with_its_number(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
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
    survivor, merged = (kept, gone) if not kept.deleted else (gone, kept)
    assert survivor.answers["floors_above"] == 6  # nothing the inspectors entered is lost
    target = central.target
    central.close()
    # The merged-away building's label is still on its door: scanning it opens the one kept.
    app = SurveyorApp(
        target, settings=Settings(language="en"), settings_path=tmp_path / "c.toml", form=mini
    )
    asyncio.run(_scan_merged_label(app, building_uri(merged.code), survivor.id))
    app.close_store()


async def _scan_merged_label(app: SurveyorApp, uri: str, kept_id: object) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press(*uri)
        await settle(app, pilot)
        assert isinstance(app.screen, SurveyScreen)
        assert app.screen.building.id == kept_id
        assert any("was merged into" in n.message for n in app._notifications)


async def _merge_duplicate(central: Store, mini: Form) -> None:
    async with review(central, mini) as (app, pilot, screen):
        assert screen.detail is not None and screen.detail.kind == "duplicate_entity"
        mine = [v.change_id for v in screen.detail.heads].index(screen.detail.building_id) + 1
        await pilot.press(str(mine))  # itself: refused with a hint
        await settle(app, pilot)
        assert "this building" in str(screen.query_one("#status", Static).render())
        await pilot.press("2" if mine == 1 else "1")
        await settle(app, pilot)
        assert isinstance(app.screen, MergeModal)  # asked first
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 0


def test_a_typed_value_resolves_and_typed_text_is_never_markup(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """In Chinese: the panes show an inspector's text as typed, even when it looks like markup;
    v asks for the right value, which becomes the resolution."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    _laps, code = _conflicted(
        laptops,
        central,
        mini,
        theirs={"community": "[red]甲[/red]社区"},
        ours={"community": "乙社区"},
    )
    asyncio.run(_type_a_value(central, mini))
    assert _open(central) == 0
    assert get_building(central, code).answers["community"] == "宜宾里社区"
    central.close()


async def _type_a_value(central: Store, mini: Form) -> None:
    async with review(central, mini) as (app, pilot, screen):
        table = screen.query_one("#conflicts", DataTable)
        assert _cells(table, 0)[1:3] == ["社区", "同时修改"]
        panes = _panes(screen)
        assert panes[0].startswith("共同基础值")
        assert any("[red]甲[/red]社区" in p for p in panes)  # shown as typed, not as red text
        await pilot.press("v")
        await settle(app, pilot)
        assert isinstance(app.screen, ValueModal)
        await pilot.press(*"宜宾里社区", "enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert table.row_count == 0


def test_a_refused_value_is_asked_for_again_not_dropped(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """v, "abc", Enter: the box closed with the refusal in the status line, so the "1986"
    typed next picked version 1 with its first digit. The box opens again with "abc" and the
    reason; the right value then resolves."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    _laps, code = _conflicted(
        laptops, central, mini, theirs={"year_built": "1984"}, ours={"year_built": "1990"}
    )
    asyncio.run(_type_a_wrong_value_then_the_right_one(central, mini))
    assert _open(central) == 0
    assert get_building(central, code).answers["year_built"] == 1986
    central.close()


async def _type_a_wrong_value_then_the_right_one(central: Store, mini: Form) -> None:
    async with review(central, mini) as (app, pilot, screen):
        await pilot.press("v")
        await settle(app, pilot)
        await pilot.press(*"abc", "enter")
        await settle(app, pilot)
        again = app.screen
        assert isinstance(again, ValueModal), again
        assert again.query_one(Input).value == "abc"
        refused = again.query_one("#review-value-refused", Note).text
        assert "「abc」不是建成年份" in refused, refused
        again.query_one(Input).value = ""
        await pilot.press(*"1986", "enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.query_one("#conflicts", DataTable).row_count == 0


def test_a_long_conflict_list_loads_a_window_at_a_time(
    laptops: Callable[[str], Store],
    mini: Form,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(screens.supervisor, "WINDOW", 2)
    central = init_store(f"{tmp_path}/central.db", role="central")
    theirs = {"year_built": "1984", "floors_above": "5", "gas_pipe_year": "1990"}
    ours = {"year_built": "1985", "floors_above": "6", "gas_pipe_year": "1991"}
    theirs |= {"community": "甲", "compound_name": "甲小区"}
    ours |= {"community": "乙", "compound_name": "乙小区"}
    _conflicted(laptops, central, mini, theirs=theirs, ours=ours)
    assert _open(central) == 5
    asyncio.run(_scroll_the_list(central, mini))
    central.close()


async def _scroll_the_list(central: Store, mini: Form) -> None:
    async with review(central, mini) as (app, pilot, screen):
        table = screen.query_one("#conflicts", DataTable)
        assert table.row_count == 2
        assert "2 shown of 5" in str(screen.query_one("#status", Static).render())
        for _ in range(4):
            await pilot.press("down")
            await settle(app, pilot)
        assert table.row_count == 5
        assert len({_cells(table, i)[1] for i in range(5)}) == 5  # each conflict once
        assert screen.detail is not None and screen.detail.field_key == screen.rows[4].field_key


def test_review_opens_the_app_on_a_central_of_either_backend(
    laptops: Callable[[str], Store], mini: Form, central: Store, tmp_path: Path
) -> None:
    """``surveyor review --central TARGET`` is this app, opened on the target (a SQLite file or
    a PostgreSQL URL) with the review on top; resolutions are recorded under the given name."""
    _laps, code = _conflicted(laptops, central, mini)
    settings = Settings(inspector="", language="en")
    app = SurveyorApp(
        central.target,
        settings=settings,
        settings_path=tmp_path / "config.toml",
        form=mini,
        review=True,
        author="督导",
    )
    asyncio.run(_take_first(app))
    app.close_store()
    assert _open(central) == 0
    with central.engine.connect() as conn:
        authors = {
            a for (a,) in conn.execute(sa.select(CHANGE.c.author).where(CHANGE.c.op == "resolve"))
        }
    assert authors == {"督导"}
    assert get_building(central, code).answers["year_built"] in (1984, 1990)


async def _take_first(app: SurveyorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert screen.query_one("#conflicts", DataTable).row_count == 1
        await pilot.press("1")
        await settle(app, pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 0
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, BuildingsScreen)  # the central's register underneath


def test_a_key_never_acts_on_the_row_the_cursor_has_left(
    laptops: Callable[[str], Store],
    mini: Form,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading a conflict's detail takes a moment (a big central): a digit pressed meanwhile
    must not resolve the conflict of the row above, whose panes were still shown."""
    import time as _time

    from surveyor.sync.review import conflict_detail as real

    def slow(*args: Any, **kwargs: Any) -> Any:
        _time.sleep(0.3)
        return real(*args, **kwargs)

    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(
        laptops,
        central,
        mini,
        theirs={"year_built": "1984", "floors_above": "5"},
        ours={"year_built": "1985", "floors_above": "6"},
    )
    monkeypatch.setattr(screens.supervisor, "conflict_detail", slow)
    left = asyncio.run(_press_while_loading(central, mini))
    with central.engine.connect() as conn:
        still_open = (
            conn.execute(sa.select(CONFLICT.c.field_key).where(CONFLICT.c.status == "open"))
            .scalars()
            .all()
        )
    assert still_open == [left]  # only the row the key was pressed on was resolved
    central.close()


async def _press_while_loading(central: Store, mini: Form) -> str:
    async with review(central, mini) as (app, pilot, screen):
        first = screen.rows[0].field_key
        await pilot.press("down", "1")  # the second row's detail is still being read
        await pilot.pause()
        assert "No conflict selected" in str(screen.query_one("#status", Static).render())
        await settle(app, pilot)
        assert screen.detail is not None and screen.detail.field_key == screen.rows[1].field_key
        await pilot.press("1", "1")  # a double press resolves once
        await settle(app, pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 1
    return first


def test_a_key_on_a_conflict_that_changed_since_it_was_shown_is_refused(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """乙 changed the field again and synced while the review showed 1984 | 1990: neither
    key may resolve it (taking 1984 would close 乙's new value, which nobody saw); after r,
    the new value is shown and a key resolves."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    laps, code = _conflicted(laptops, central, mini)
    asyncio.run(_press_on_a_stale_screen(central, mini, laps[1], code))
    assert _open(central) == 0
    central.close()


async def _press_on_a_stale_screen(central: Store, mini: Form, b: Store, code: str) -> None:
    async with review(central, mini) as (app, pilot, screen):
        assert screen.detail is not None
        assert sorted(v.value for v in screen.detail.heads) == [1984, 1990]
        save_answers(b, mini, code, {"year_built": "1991"}, author="乙")
        push(b, central, mini)
        for key in ("1", "2"):
            await pilot.press(key)
            await settle(app, pilot)
            status = str(screen.query_one("#status", Static).render())
            assert "changed since it was shown" in status and "press r" in status, status
            assert _open(central) == 1
        assert get_building(central, code).answers["year_built"] in (1984, 1991)
        await pilot.press("r")
        await settle(app, pilot)
        assert screen.detail is not None
        assert sorted(v.value for v in screen.detail.heads) == [1984, 1991]
        await pilot.press("1")
        await settle(app, pilot)


def _delete_race(
    laptops: Callable[[str], Store],
    central: Store,
    mini: Form,
    edit: dict[str, str] | None = None,
) -> str:
    """甲 deleted a building while 乙 edited it: a delete-vs-edit conflict on the central."""
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    delete_building(a, mini, code, author="甲")
    save_answers(b, mini, code, edit or {"floors_above": "6"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    return code


def test_d_deletes_a_building_only_on_a_second_press_and_says_deleted(
    laptops: Callable[[str], Store],
    mini: Form,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _delete_race(laptops, central, mini)
    asyncio.run(_delete_twice(central, mini, code, monkeypatch))
    assert _open(central) == 0
    assert get_building(central, code).deleted
    central.close()


async def _delete_twice(
    central: Store, mini: Form, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with review(central, mini) as (app, pilot, screen):
        await pilot.press("d")
        await settle(app, pilot)
        assert _open(central) == 1 and not get_building(central, code).deleted
        status = str(screen.query_one("#status", Static).render())
        assert code in status and "press d again" in status, status
        # A second press after the window is a first press again.
        monkeypatch.setattr(screens.supervisor, "DELETE_CONFIRM_SECONDS", 0.0)
        await pilot.press("d")
        await settle(app, pilot)
        assert _open(central) == 1
        monkeypatch.setattr(screens.supervisor, "DELETE_CONFIRM_SECONDS", 5.0)
        await pilot.press("d")  # the second press within the window deletes
        await settle(app, pilot)
        assert any(f"Deleted building {code}" in n.message for n in app._notifications)


def test_a_long_value_can_be_read_in_full_at_80x24(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """A 200-character text in a box a third of 80 columns wide is taller than the box: the
    box scrolls (Tab to it, then the arrows), so the whole value can be read before taking it."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    long = "东侧外墙有多处竖向裂缝，" * 17  # 204 characters
    _conflicted(laptops, central, mini, theirs={"community": long}, ours={"community": "乙社区"})
    asyncio.run(_scroll_a_long_value(central, mini, long))
    central.close()


async def _scroll_a_long_value(central: Store, mini: Form, long: str) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        assert any(long in p.replace("\n", "") for p in _panes(screen))
        [box] = [
            b for b in screen.query(".version") if long[:12] in str(b.query_one(Static).render())
        ]
        assert box.focusable and box.max_scroll_y > 0  # taller than its box: it scrolls
        for _ in range(4):
            if app.focused is box:
                break
            await pilot.press("tab")
        assert app.focused is box
        await pilot.press("end")
        await settle(app, pilot)
        assert box.scroll_y == box.max_scroll_y > 0
        await pilot.press("1")  # the keys still act on the conflict
        await settle(app, pilot)
        assert _open(central) == 0


def test_f1_on_the_review_explains_the_review_keys_once_each(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 showed the inspector's help, and listed '1-9 take' then '2 take' … '9 take'; it
    said a delete's second press counts within 5 s whatever the window was."""
    monkeypatch.setattr(screens.supervisor, "DELETE_CONFIRM_SECONDS", 3.0)
    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(laptops, central, mini)
    app = review_app(central, mini, tmp_path, "en")
    asyncio.run(_review_help(app))
    app.close_store()


async def _review_help(app: SurveyorApp) -> None:
    from surveyor.tui.screens.help import HelpScreen

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press("f1")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        overview = app.screen.query_one("#overview", Note).text
        assert "Conflict review" in overview and "Building list" not in overview
        # k is said for a delete race only: on a duplicate it works not (F1 promised it).
        lines = overview.splitlines()
        [race] = [line for line in lines if line.startswith("A delete that raced an edit")]
        assert "k keeps the building, d deletes it" in race
        [dup] = [line for line in lines if line.startswith("A possible duplicate")]
        assert " k " not in dup and "d deletes this one" in dup and "o opens" in dup
        assert "pressed twice within 3 s" in overview
        keys = str(app.screen.query_one("#keys", Static).render()).splitlines()
        firsts = [line.split()[0] for line in keys]
        assert firsts.count("1-9") == 1 and not set("23456789") & set(firsts), keys
        for key in ("b", "v", "k", "d", "r", "o"):
            assert key in firsts, keys


def test_progress_in_english_fits_80_columns_with_the_longest_subdistrict_name(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """'Shuishang Gongyuan Subdistrict' made the table wider than 80 columns: 'conflicted'
    was cut to 'conflic', with no way to scroll to it."""
    from surveyor.forms.model import form_from_data
    from tests.sync.conftest import MINI

    raw = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    sub = next(f for f in raw["sections"][0]["fields"] if f["id"] == "subdistrict")
    sub["choices"][0]["en"] = "Shuishang Gongyuan Subdistrict"
    form = form_from_data(raw, MINI)
    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(laptops, central, mini)
    asyncio.run(_progress_at_80(central, form))
    central.close()


async def _progress_at_80(central: Store, form: Form) -> None:
    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ProgressScreen(central, form))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#by_subdistrict", DataTable)
        # What the screen draws: the header names every bucket in full, none cut at the edge.
        # (A column's label is never shortened, so the label itself proved nothing.)
        drawn = [strip.text for strip in table.render_lines(Region(0, 0, *table.outer_size))]
        assert drawn[0].split()[-1] == "conflicted", drawn  # it was drawn as 'conflic'
        assert drawn[1].split()[-1] == "1", drawn  # and the count under it is on the screen
        # Every column within the screen, the scrollbar of the view beside them included.
        assert table.virtual_size.width <= 80 - 2, table.virtual_size
        assert _cells(table, 0)[0] == "Shuishang Gongyuan"  # the column says Sub-district


def _duplicates(laptops: Callable[[str], Store], central: Store, mini: Form) -> tuple[str, str]:
    """甲 and 乙 each registered the same building: two possible duplicates on the central."""
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲").code
    y = create_building(b, mini, REGISTER_ROW, author="乙").code
    push(a, central, mini)
    push(b, central, mini)
    return x, y


def _status_drawn(screen: SupervisorScreen) -> str:
    """The status line as drawn, its lines joined: what the supervisor can read of it."""
    status = screen.query_one("#status", Static)
    lines = [s.text.strip() for s in status.render_lines(Region(0, 0, *status.outer_size))]
    return " ".join(line for line in lines if line)


def test_keys_a_duplicate_takes_no_decision_from_say_what_works_in_the_screens_words(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """k on a duplicate said "重复楼栋不会自动合并：请把它并入另一栋（--merge-into", a command
    line option, cut at 80 columns; F1 promised k for duplicates."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    _duplicates(laptops, central, mini)
    asyncio.run(_duplicate_keys(central, mini))
    assert _open(central) == 2  # nothing decided
    central.close()


async def _duplicate_keys(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        assert screen.detail is not None and screen.detail.kind == "duplicate_entity"
        for key in ("k", "b", "v"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen is screen  # no value dialog
            said = _status_drawn(screen)
            assert said == "疑似重复楼栋：按另一栋的编号并入它，d 删除本栋，或 o 打开本栋更正地址"
            assert "--" not in said


def test_keys_an_edit_conflict_takes_no_decision_from_are_refused_in_words(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """b on a conflict without a base said the command line's sentence, cut at 80 columns
    ("…请选择其中一个取值或输入新值（空值表"); k and d said "未知的处理方式“keep”"."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(laptops, central, mini)
    asyncio.run(_edit_conflict_keys(central, mini))
    assert _open(central) == 1
    central.close()


async def _edit_conflict_keys(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        assert screen.detail is not None and screen.detail.base is None
        await pilot.press("b")
        await settle(app, pilot)
        said = _status_drawn(screen)
        assert said == "此冲突没有共同基础值：请按数字采用一个取值，或按 v 输入新值", said
        for key in ("k", "d"):
            await pilot.press(key)
            await settle(app, pilot)
            said = _status_drawn(screen)
            assert said == "同时修改的冲突：按数字采用一个取值，b 恢复基础值，或 v 输入新值", said


def test_v_with_nothing_selected_says_so(mini: Form, tmp_path: Path) -> None:
    """An empty list: v said "此类冲突不能输入新值" (this kind takes no typed value)."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    asyncio.run(_v_on_an_empty_list(central, mini))
    central.close()


async def _v_on_an_empty_list(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        for key in ("v", "k", "b", "1"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen is screen
            assert _status_drawn(screen) == "No conflict selected", key


def test_o_opens_the_duplicate_to_correct_its_address_and_the_review_reads_again(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """What the review tells a supervisor to do with a wrongly addressed duplicate works
    from the review: o opens the building; corrected, it is no duplicate when back."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    _duplicates(laptops, central, mini)
    app = review_app(central, mini, tmp_path, "en")
    asyncio.run(_open_and_correct(app, mini))
    app.close_store()


async def _open_and_correct(app: SurveyorApp, mini: Form) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        review = app.screen
        assert isinstance(review, SupervisorScreen)
        assert review.query_one("#conflicts", DataTable).row_count == 2
        code = review.rows[0].code
        await pilot.press("o")
        await settle(app, pilot)
        assert isinstance(app.screen, SurveyScreen) and app.screen.building.code == code
        # The address corrected (as the survey screen saves it), then back to the review.
        save_answers(app.store, mini, code, {"address": "南开区宜宾道14号"}, author="督导")
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is review
        assert review.query_one("#conflicts", DataTable).row_count == 0


def test_a_building_opened_from_the_review_tells_the_supervisor_where_to_decide(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """o on a conflict: the survey's toast told the supervisor the field was "待主管裁定"
    (awaiting the supervisor)."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(laptops, central, mini, theirs={"year_built": "1984"}, ours={"year_built": "1990"})
    app = review_app(central, mini, tmp_path, "zh")

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("o")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            said = [str(n.message) for n in app._notifications]
            assert any(m.startswith("未裁定的冲突：建成年份（") for m in said), said
            assert not any("待主管裁定" in m for m in said), said

    asyncio.run(scenario())
    app.close_store()


def _footer_keys(app: App[None]) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [k.key_display for k in app.screen.query(FooterKey)]


def test_on_a_laptop_the_footer_and_f1_offer_only_what_works_and_the_status_is_whole(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """At 80×24 on a laptop the footer advertised "1-9 采用 b … k … d", which only refused,
    and the status line saying why was cut at the screen's edge."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    laps, _code = _conflicted(laptops, central, mini)
    sync(laps[1], central, mini)
    asyncio.run(_laptop_footer(laps[1], mini))
    central.close()


async def _laptop_footer(laptop: Store, mini: Form) -> None:
    from surveyor.tui.screens.help import HelpScreen

    async with review(laptop, mini, size=(80, 24)) as (app, pilot, screen):
        shown = _footer_keys(app)
        assert not {"1-9", "b", "v", "k", "d"} & set(shown), shown
        assert {"p", "r", "o"} <= set(shown), shown  # and room now for o
        said = (
            "这是普查员笔记本：冲突在此只供查看，由主管在中心库裁定"
            "（surveyor review --central 中心库）"
        )
        await pilot.press("2")  # the key, not in the footer, still says why: in full
        await settle(app, pilot)
        assert _status_drawn(screen) == said
        await app.push_screen(HelpScreen(screen))
        await settle(app, pilot)
        overview = app.screen.query_one("#overview", Note).text
        assert overview.startswith("冲突查看（普查员笔记本）") and "1-9" not in overview
        keys = str(app.screen.query_one("#keys", Static).render()).splitlines()
        firsts = {line.split()[0] for line in keys}
        assert not {"1-9", "b", "v", "k", "d"} & firsts and {"o", "r"} <= firsts, keys


def test_on_a_central_the_footer_offers_the_deciding_keys(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    _conflicted(laptops, central, mini)
    asyncio.run(_central_footer(central, mini))
    central.close()


async def _central_footer(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (app, _pilot, _screen):
        assert {"1-9", "b", "v", "k", "d", "r"} <= set(_footer_keys(app))


def test_a_delete_race_shows_what_the_edit_changed_and_never_calls_the_delete_provisional(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """The edit's box said "修改了：地上层数、社区" without the values that decide the case,
    and the delete's box was marked "（审核前暂时显示此值）" though the building stays (shown,
    with the edit) until the supervisor decides; `conflicts show` marked the delete too."""
    from surveyor.sync.review import conflict_detail

    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    code = _delete_race(laptops, central, mini, {"floors_above": "6", "community": "即60号"})
    detail = conflict_detail(central, code, "_deleted")
    marked = {v.value is True: v.provisional for v in detail.heads}
    assert marked == {True: False, False: True}  # the edit is what is shown meanwhile
    asyncio.run(_read_the_race(central, mini))
    central.close()


async def _read_the_race(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (_app, _pilot, screen):
        deleted, edited = _panes(screen)
        assert deleted.startswith("删除") and edited.startswith("修改")
        assert "审核前暂时显示此值" not in deleted and "审核前楼栋不删除" in deleted, deleted
        assert "社区：即60号" in edited and "地上层数：6" in edited, edited
        assert "审核前楼栋按此修改显示" in edited


def test_a_duplicates_box_names_the_last_survey_save_not_the_supervisors_assignment(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """The box said "最后保存：李督导" of a building 李明 surveyed: the supervisor's assignment
    (the building's last change) was counted as a save."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    x, y = _duplicates(laptops, central, mini)
    assign(central, mini, "乙", refs=[x, y], author="督导")
    asyncio.run(_last_saves(central, mini))
    central.close()


async def _last_saves(central: Store, mini: Form) -> None:
    async with review(central, mini, size=(80, 24)) as (_app, _pilot, screen):
        panes = _panes(screen)
        saved = sorted(line for p in panes for line in p.splitlines() if "最后保存" in line)
        assert [s.split()[0] for s in saved] == ["最后保存：乙", "最后保存：甲"], panes
        assert "督导" not in "".join(panes)


def test_a_duplicate_shows_enough_to_decide_and_a_merge_is_confirmed_listing_what_differs(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """The boxes showed only code, address and "最后保存"; one digit merged B120X into DAS5Q
    at once, and B120X's 建成年份 1987 gave way to DAS5Q's 1988 without a word."""
    set_language("zh")
    central = init_store(f"{tmp_path}/central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲").code
    save_answers(a, mini, x, {"year_built": "1987", "floors_above": "6"}, author="甲")
    y = create_building(b, mini, REGISTER_ROW, author="乙").code
    save_answers(b, mini, y, {"year_built": "1988"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    asyncio.run(_merge_x_into_y(central, mini, x, y))
    kept, gone = get_building(central, y), get_building(central, x)
    assert gone.deleted and not kept.deleted
    assert kept.answers["year_built"] == 1988 and kept.answers["floors_above"] == 6
    central.close()


async def _merge_x_into_y(central: Store, mini: Form, x: str, y: str) -> None:
    async with review(central, mini, size=(80, 24)) as (app, pilot, screen):
        table = screen.query_one("#conflicts", DataTable)
        if screen.rows[0].code != x:
            await pilot.press("down")
            await settle(app, pilot)
        assert screen.detail is not None and screen.detail.code == x
        for box, pane in zip(screen.query(".version"), _panes(screen), strict=True):
            lines = pane.splitlines()
            assert lines[2:6] == [
                "街道：万兴街道",
                "小区：宜宾东里",
                "楼号：3号楼",
                "状态：草稿  完成度：" + lines[5].rsplit("：", 1)[1],
            ], lines
            assert lines[6].startswith("最后保存：" + ("甲" if x in lines[1] else "乙"))
            assert box.max_scroll_y == 0  # all of it in the box at 80×24
        other = str([v.building.code for v in screen.detail.heads if v.building].index(y) + 1)
        await pilot.press(other, other)  # a double press asks once
        await settle(app, pilot)
        assert isinstance(app.screen, MergeModal) and _open(central) == 2  # asked, not merged
        assert sum(isinstance(s, MergeModal) for s in app.screen_stack) == 1
        said = [str(s.render()) for s in app.screen.query(Static)]
        assert said[0] == f"把 {x} 并入 {y}？"
        assert "建成年份：保留 1988，不再显示 1987" in said, said
        assert any(f"{y} 从 {x} 补入：地上层数" == line for line in said), said
        await pilot.press("escape")  # cancelled: nothing merged
        await settle(app, pilot)
        assert app.screen is screen and _open(central) == 2
        await pilot.press(other, "enter")
        await settle(app, pilot)
        assert table.row_count == 0
        assert any(n.message == f"已把 {x} 并入 {y}" for n in app._notifications)


#: Every required answer of the test form.
_COMPLETE = {
    "year_built": "1984",
    "floors_above": "6",
    "has_elevator": "false",
    "seismic_retrofit": "no",
}


def _complete_building(laptop: Store, mini: Form) -> str:
    from surveyor.services.survey import set_status

    code = create_building(laptop, mini, REGISTER_ROW, author=laptop.meta("inspector")).code
    save_answers(laptop, mini, code, _COMPLETE, author="甲")
    set_status(laptop, mini, code, "complete", author="甲")
    return code


def _review_app(target: str, mini: Form, tmp_path: Path, *, review: bool = True) -> SurveyorApp:
    return SurveyorApp(
        target,
        settings=Settings(language="en"),
        settings_path=tmp_path / "c.toml",
        form=mini,
        review=review,
        author="督导",
    )


def test_a_supervisor_approves_a_complete_building_opened_from_the_list(
    laptops: Callable[[str], Store], mini: Form, central: Store, tmp_path: Path
) -> None:
    """The app offered no approve action: on a PostgreSQL central (no `--db` file for
    `surveyor status`) the approved stage could not be reached at all."""
    a = laptops("甲")
    code = _complete_building(a, mini)
    push(a, central, mini)
    app = _review_app(central.target, mini, tmp_path)
    asyncio.run(_approve_from_the_list(app, code))
    app.close_store()
    assert get_building(central, code).status == "approved"
    with central.engine.connect() as conn:
        [author] = conn.execute(
            sa.select(CHANGE.c.author).where(CHANGE.c.site_id == central.site_id)
        ).one()
    assert author == "督导"  # the central's one change: the approval
    sync(a, central, mini)  # the approval reaches the laptop like any change
    assert get_building(a, code).status == "approved"


async def _approve_from_the_list(app: SurveyorApp, code: str) -> None:
    from surveyor.tui.screens.help import HelpScreen

    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("escape")  # no conflicts: the central's register underneath
        await settle(app, pilot)
        assert isinstance(app.screen, BuildingsScreen)
        app.screen.query_one("#buildings", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        survey = app.screen
        assert isinstance(survey, SurveyScreen) and survey.building.code == code
        assert "f7" in _footer_keys(app)
        await pilot.press("f1")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#keys", Static).render()).splitlines()
        assert any(line.split()[0] == "f7" and "Approve" in line for line in keys), keys
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert any(n.message == f"{code} is approved" for n in app._notifications)
        assert "f7" not in _footer_keys(app)  # approved: nothing more to approve
        assert survey.status == "approved"


def test_f7_approves_from_inside_the_remarks_box(
    laptops: Callable[[str], Store], tmp_path: Path
) -> None:
    """In a multi-line box F7 was Textual's "select all": a supervisor reading the remarks
    pressed F7 and the building stayed complete, with nothing said."""
    from surveyor.forms.model import form_from_data
    from tests.sync.conftest import MINI

    raw = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    facts = next(s for s in raw["sections"] if s["id"] == "facts")
    facts["fields"].append({"id": "notes", "type": "text", "label": {"zh": "备注", "en": "Notes"}})
    form = form_from_data(raw, MINI)
    a = laptops("甲")
    code = _complete_building(a, form)
    central = init_store(f"{tmp_path}/central.db", role="central")
    push(a, central, form)
    central.close()
    app = _review_app(f"{tmp_path}/central.db", form, tmp_path)
    asyncio.run(_approve_from_the_notes(app, code))
    assert get_building(app.store, code).status == "approved"
    app.close_store()


async def _approve_from_the_notes(app: SurveyorApp, code: str) -> None:
    from textual.widgets import TextArea

    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("escape")  # no conflicts: the central's register underneath
        await settle(app, pilot)
        app.screen.query_one("#buildings", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        survey = app.screen
        assert isinstance(survey, SurveyScreen) and survey.building.code == code
        await pilot.press("pagedown")  # the facts section, with the notes box
        await settle(app, pilot)
        survey.query_one("#notes", TextArea).focus()
        await settle(app, pilot)
        assert isinstance(app.focused, TextArea)
        await pilot.press("f7")
        await settle(app, pilot)
        assert survey.status == "approved", [n.message for n in app._notifications]


def test_approving_a_building_with_an_open_conflict_says_why_not(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central = init_store(f"{tmp_path}/central.db", role="central")
    a, b = laptops("甲"), laptops("乙")
    code = _complete_building(a, mini)
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    save_answers(a, mini, code, {"year_built": "1983"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1985"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    assert get_building(central, code).status == "complete" and _open(central) == 1
    target = central.target
    central.close()
    app = _review_app(target, mini, tmp_path)
    asyncio.run(_approve_conflicted(app, code))
    assert get_building(app.store, code).status == "complete"
    app.close_store()


async def _approve_conflicted(app: SurveyorApp, code: str) -> None:
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press("o")  # the conflict's building, from the review
        await settle(app, pilot)
        assert isinstance(app.screen, SurveyScreen) and app.screen.building.code == code
        await pilot.press("f7")
        await settle(app, pilot)
        said = f"{code} has 1 open conflict(s); resolve them before approving it"
        assert any(n.message == said for n in app._notifications), [
            n.message for n in app._notifications
        ]
        assert app.screen.status == "complete"


def test_an_inspector_is_offered_no_approval_on_a_laptop(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    a = laptops("甲")
    code = _complete_building(a, mini)
    app = _review_app(a.target, mini, tmp_path, review=False)
    asyncio.run(_no_approval_on_a_laptop(app, code))
    app.close_store()
    assert get_building(a, code).status == "complete"


async def _no_approval_on_a_laptop(app: SurveyorApp, code: str) -> None:
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        app.open_building(code)
        await settle(app, pilot)
        assert isinstance(app.screen, SurveyScreen) and app.screen.status == "complete"
        assert "f7" not in _footer_keys(app)
        await pilot.press("f7")
        await settle(app, pilot)
        assert app.screen.status == "complete"


def test_refresh_keeps_the_same_conflict_selected_when_rows_come_above_it(
    laptops: Callable[[str], Store], mini: Form, tmp_path: object
) -> None:
    """A sync added a conflict sorting above the selected one; `r` kept the row number, so
    the cursor (and the next 1) landed on the new conflict: it stays on the same one now."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    _laps, code = _conflicted(laptops, central, mini)
    asyncio.run(_refresh_with_a_row_above(central, mini, code))
    central.close()


async def _refresh_with_a_row_above(central: Store, mini: Form, code: str) -> None:
    async with review(central, mini) as (app, pilot, screen):
        assert [r.field_key for r in screen.rows] == ["year_built"]
        with central.engine.begin() as conn:
            entity = conn.execute(sa.text("SELECT id FROM building WHERE code = :c"), {"c": code})
            conn.execute(
                CONFLICT.insert(),
                {
                    "entity_id": uuid.UUID(str(entity.scalar_one())),
                    "field_key": "floors_above",
                    "kind": "soft",
                    "head_change_ids": [str(uuid.uuid4()), str(uuid.uuid4())],
                    "status": "open",
                },
            )
        await pilot.press("r")
        await settle(app, pilot)
        assert [r.field_key for r in screen.rows] == ["floors_above", "year_built"]
        assert screen.query_one("#conflicts", DataTable).cursor_row == 1


def test_a_duplicate_merged_elsewhere_says_already_resolved_and_r(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """Another supervisor merged the pair; `2` on the stale row said "这栋楼的「同一地址的楼栋」
    没有冲突", as if there never was one: it says already resolved, press r, as a field's does."""
    central = init_store(f"{tmp_path}/central.db", role="central")
    _duplicates(laptops, central, mini)
    asyncio.run(_merge_elsewhere_then_pick(central, mini))
    central.close()


async def _merge_elsewhere_then_pick(central: Store, mini: Form) -> None:
    from surveyor.sync.actions import Choice, resolve_conflict

    async with review(central, mini) as (app, pilot, screen):
        d = screen.detail
        assert d is not None and d.kind == "duplicate_entity"
        other = next(v.change_id for v in d.heads if v.change_id != d.building_id)
        resolve_conflict(
            central,
            mini,
            d.building_id,
            d.field_key,
            Choice("merge_into", value=other),
            author="督导乙",
        )
        await pilot.press("2" if d.heads[1].change_id == other else "1")
        await settle(app, pilot)
        said = _status_drawn(screen)
        assert "already resolved" in said and "press r" in said, said
