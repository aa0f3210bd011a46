"""Leaving or quitting right after a survey screen opens: no traceback, nothing typed lost.

The survey screen mounts the first rows of a section before the first frame and the rest right
after it, in the screen's own task. ``ctrl+q`` and ``esc`` run in the app's task, so they can
land while those rows are still being mounted: the screen is then taken down under them, rows
whose compose had not run yet stay empty, and the code after the ``await`` used to query their
editors (``NoMatches``). On a real terminal the window is a few milliseconds (about one quick
quit in 30); here every row's compose is held 50 ms so that it is hit every time.

Keys are posted the way the terminal driver posts them, without waiting for the app in
between, at several event-loop ticks after the moment that matters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input

from surveyor.forms.catalog import get_form
from surveyor.services.browse import browse_buildings
from surveyor.services.survey import get_building, save_answers
from surveyor.store.db import open_store
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.field_row import FieldRow
from tests.tui.conftest import AppFactory, run, settle

FORM = get_form()
#: Event-loop ticks between the moment that matters and the keys.
TICKS = range(2)


class SlowRows:
    """While ``on`` is true, every field row waits before composing (a slow terminal)."""

    def __init__(self) -> None:
        self.on = False


@pytest.fixture
def slow_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowRows]:
    slow = SlowRows()
    compose = FieldRow._compose

    async def held(row: FieldRow) -> None:
        if slow.on:
            await asyncio.sleep(0.05)
        await compose(row)

    monkeypatch.setattr(FieldRow, "_compose", held)
    yield slow


def prepared(db: Path) -> Any:
    """A building whose resume field opens a long section, with an invalid draft answer in the
    part of it mounted after the first frame (its message is shown as soon as it is mounted)."""
    store = open_store(db)
    try:
        target = browse_buildings(store, status="not_started", limit=1).rows[0]
        save_answers(store, FORM, target.id, {"floors_above": "six"}, author="测试员", draft=True)
        return target
    finally:
        store.close()


def press(app: SurveyorApp, *keys: str) -> None:
    """Keys as the driver sends them: queued at once, nothing awaited in between."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def until(app: SurveyorApp, check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 5
    while not check():
        if app._exception is not None:
            raise app._exception
        assert time.monotonic() < deadline, f"{what} never happened"
        await asyncio.sleep(0)


def gone(screen: SurveyScreen) -> bool:
    return not screen.is_attached


async def quitting(app: SurveyorApp) -> None:
    await until(app, lambda: not app.is_running, "quitting")


async def ticks(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def ready(app: SurveyorApp) -> None:
    await until(app, lambda: app.ready and isinstance(app.screen, BuildingsScreen), "start-up")


async def rest_of_section_mounting(app: SurveyorApp) -> SurveyScreen:
    """Open ``year_built``'s section and return as the rows after the first frame mount."""
    await until(
        app,
        lambda: isinstance(app.screen, SurveyScreen) and bool(app.screen._rest_rows),
        "the first rows",
    )
    screen = app.screen
    assert isinstance(screen, SurveyScreen)
    await until(app, lambda: not screen._rest_rows, "mounting the rest")  # taken: mounting
    return screen


def test_quit_or_leave_while_the_rest_of_a_section_mounts(
    sample_db: Path, make_app: AppFactory, slow_rows: SlowRows
) -> None:
    target = prepared(sample_db)

    async def quit_at(n: int) -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)):
            await ready(app)
            app.open_building(target.id, "year_built")
            slow_rows.on = True
            try:
                await rest_of_section_mounting(app)
                await ticks(n)
                press(app, "ctrl+q")
                await quitting(app)
            finally:
                slow_rows.on = False

    async def body() -> None:
        for n in TICKS:
            await quit_at(n)
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(app)
            for n in TICKS:
                for keys in (("escape",), ("pagedown", "escape")):
                    app.open_building(target.id, "year_built")
                    slow_rows.on = True
                    try:
                        screen = await rest_of_section_mounting(app)
                        await ticks(n)
                        press(app, *keys)
                        await until(app, partial(gone, screen), "leaving")
                    finally:
                        slow_rows.on = False
                    assert isinstance(app.screen, BuildingsScreen)
            await settle(app, pilot)  # whatever was still scheduled for the screens left

    run(body)


def test_an_answer_typed_right_before_a_quick_quit_is_saved(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = prepared(sample_db)

    def saved_name() -> Any:
        store = open_store(sample_db)
        try:
            return get_building(store, target.id).answers.get("inspector_name")
        finally:
            store.close()

    async def typed_into_the_field(app: SurveyorApp, n: int, typed: str, *keys: str) -> None:
        app.open_building(target.id, "inspector_name")
        await until(
            app,
            lambda: isinstance(app.focused, Input) and app.focused.id == "inspector_name",
            "focusing the field",
        )
        await ticks(n)
        press(app, typed, *keys)  # the key and ctrl+q (or esc, PgDn) right behind it

    async def body() -> None:
        # Each key replaces the answer (arriving selects it): a different name each time, so
        # a lost save shows.
        names = iter("王李张刘赵钱孙周")
        for n in TICKS:
            for keys in (("ctrl+q",), ("pagedown", "ctrl+q")):
                app = make_app(sample_db, autosave_delay=10.0)  # only leaving or quitting saves
                async with app.run_test(size=(100, 30)):
                    await ready(app)
                    expected = next(names)
                    await typed_into_the_field(app, n, expected, *keys)
                    await quitting(app)
                assert saved_name() == expected, (n, keys)
        app = make_app(sample_db, autosave_delay=10.0)
        async with app.run_test(size=(100, 30)):
            await ready(app)
            for n in TICKS:
                expected = next(names)
                await typed_into_the_field(app, n, expected, "escape")
                await until(app, lambda: isinstance(app.screen, BuildingsScreen), "leaving")
                assert saved_name() == expected, (n, "escape")

    run(body)
