"""A worker's failure never freezes a screen: whatever it raises (a locked or changed
database, a file error, a bug) is said in one sentence, and what waited for the worker is
released. The failures are real: a table renamed under the app by another connection, as
another program may change a database."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from surveyor.tui.modals.attach_photo import AttachPhotoModal
from surveyor.tui.modals.new_building import NewBuildingModal
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.supervisor import ProgressScreen
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import first_with_status, open_survey
from tests.tui.test_new_building_same import fill_and_submit
from tests.tui.test_photos_and_services import a_jpeg, a_walk_up

#: What the app says of the building table gone (a database error, in words, no SQL).
GONE = "database error: no such table: building"


def sql(db: Path, statement: str) -> None:
    """Run ``statement`` on ``db`` from another connection (as another program would)."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as other:
        other.execute(statement)


def messages(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_a_window_that_fails_to_load_is_said_and_tried_again(
    sample_db: Path, make_app: AppFactory, monkeypatch: Any
) -> None:
    """The next window's read failing (here its table gone for a moment) left the list
    'fetching' for ever: nothing was said, and no row past those shown came again, wherever
    the cursor went."""
    from surveyor.tui.screens import buildings

    monkeypatch.setattr(buildings, "WINDOW", 15)

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, BuildingsScreen)
            table = screen.query_one("#buildings", DataTable)
            assert table.row_count == 15
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            table.focus()
            table.move_cursor(row=14)
            await settle(app, pilot)
            assert table.row_count == 15
            said = messages(app)
            assert any("database error" in m and "no such table: building" in m for m in said)
            sql(sample_db, "ALTER TABLE building_away RENAME TO building")
            table.move_cursor(row=13)
            await settle(app, pilot)
            assert table.row_count == 30

    run(body)


def test_f9_on_a_database_that_fails_says_why(sample_db: Path, make_app: AppFactory) -> None:
    """Completing a building caught only refusals: a locked or changed database made F9 do
    nothing at all, without a word."""
    target = first_with_status(sample_db, "draft")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            await pilot.press("f9")
            await settle(app, pilot)
            assert any(GONE in m for m in messages(app)), messages(app)
            assert screen.save_error is not None and GONE in screen.save_error
            sql(sample_db, "ALTER TABLE building_away RENAME TO building")

    run(body)


def test_a_new_building_the_database_fails_to_take_is_said_in_the_dialog(
    sample_db: Path, make_app: AppFactory
) -> None:
    """ctrl+n's create caught only refusals: a locked or changed database left the dialog as
    it was, silent, whatever the inspector pressed."""
    answers = {
        "subdistrict": "wanxing",
        "community": "新社区",
        "compound_name": "新小区",
        "building_no": "1号楼",
        "address": "新路1号",
    }

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            await fill_and_submit(pilot, app, answers)
            assert isinstance(app.screen, NewBuildingModal)
            problem = str(app.screen.query_one("#new-problem", Static).render())
            assert GONE in problem, problem
            sql(sample_db, "ALTER TABLE building_away RENAME TO building")

    run(body)


def test_a_photo_the_database_will_not_take_is_said(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    """Attaching a photo caught only refusals: any other failure dropped it without a word."""
    target = a_walk_up(sample_db)
    photo = a_jpeg(tmp_path / "stairs.jpg")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("photo_stairwell")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AttachPhotoModal)
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            await pilot.press(*str(photo), "enter", "enter")
            await settle(app, pilot)
            assert app.screen is screen
            assert any(GONE in m for m in messages(app)), messages(app)
            sql(sample_db, "ALTER TABLE building_away RENAME TO building")

    run(body)


def test_progress_that_cannot_be_read_is_said(sample_db: Path, make_app: AppFactory) -> None:
    """The progress screen stayed empty, without a word, when its counts could not be read."""

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            app.open_progress()
            await settle(app, pilot)
            assert isinstance(app.screen, ProgressScreen)
            assert any(GONE in m for m in messages(app)), messages(app)
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, BuildingsScreen)

    run(body)


def test_an_app_worker_failure_is_said_in_words(sample_db: Path, make_app: AppFactory) -> None:
    """The app's own workers' last resort showed the exception's text: SQLAlchemy's, with
    the SQL statement and a link to its documentation."""
    target = first_with_status(sample_db, "draft")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            sql(sample_db, "ALTER TABLE building RENAME TO building_away")
            app.open_building(target.code)
            await settle(app, pilot)
            said = [m for m in messages(app) if "no such table" in m]
            assert said == [f"A background task failed: {GONE}"], messages(app)

    run(body)
