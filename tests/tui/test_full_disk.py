"""A full disk while surveying: nothing typed is dropped, the inspector is told, and the
answers are saved by themselves once there is space again.

The disk is "filled" with SQLite's own cap on the database's size (``PRAGMA max_page_count``):
a write that needs one more page fails with SQLITE_FULL, "database or disk is full" — the same
error, through the same code path, as a full filesystem (``tests/test_full_disk.py`` fills a
real one under the CLI).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from textual import events
from textual.widgets import TextArea

from surveyor.store.db import Store
from surveyor.tui import app as tui_app
from surveyor.tui.screens import survey
from surveyor.tui.screens.survey import SurveyScreen
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_flows import first_with_status, open_survey, read


class DiskLimit:
    """Caps the database at the pages it has now (``fill``) or lifts the cap (``free``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pages: int | None = None
        event.listen(store.engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        if self.pages is not None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {self.pages}")

    def fill(self) -> None:
        with self.store.engine.connect() as conn:
            self.pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        self.store.engine.dispose()  # pooled connections reopen with the cap

    def free(self) -> None:
        self.pages = None
        self.store.engine.dispose()


async def remarks_on_a_full_disk(
    app: Any, pilot: Any, disk: DiskLimit, building_id: Any, text: str
) -> SurveyScreen:
    """Open the building's survey, fill the disk, then type ``text`` into the remarks."""
    screen = await open_survey(app, pilot, building_id)
    await screen.goto_field("inspector_remarks")
    disk.fill()
    screen.query_one("#inspector_remarks", TextArea).insert(text)
    return screen


def test_a_full_disk_keeps_the_answers_and_saves_them_once_there_is_space(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(survey, "SAVE_RETRY_SECONDS", 0.3)
    target = first_with_status(sample_db, "not_started")
    remarks = "北侧外墙渗水。" * 20_000  # ≈ 420 KB: needs many new pages

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        disk = DiskLimit(app.store)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await remarks_on_a_full_disk(app, pilot, disk, target.id, remarks)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert screen.indicator.state == "error"
            assert screen.save_error is not None and "disk is full" in screen.save_error
            assert screen.unsaved() == 1

            await pilot.press("escape")  # leaving would drop the unsaved answer: refused
            await settle(app, pilot)
            assert app.screen is screen
            await pilot.press("ctrl+q")  # so is quitting, the first time
            await settle(app, pilot)
            assert app.is_running and app.screen is screen
            assert "inspector_remarks" not in read(sample_db, target.id).answers

            disk.free()  # the inspector deletes some files: the retry saves it unasked
            await asyncio.sleep(0.6)
            await settle(app, pilot)
            assert screen.indicator.state == "saved" and screen.save_error is None
            assert screen.unsaved() == 0
            await pilot.press("ctrl+q")
            await settle(app, pilot)
        assert not app.is_running
        assert read(sample_db, target.id).answers["inspector_remarks"] == remarks

    run(body)


def test_a_second_quit_leaves_even_when_the_disk_stays_full(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The inspector's own decision: told twice what is lost, the app does quit."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        disk = DiskLimit(app.store)
        async with app.run_test(size=(100, 30)) as pilot:
            await remarks_on_a_full_disk(app, pilot, disk, target.id, "外墙" * 100_000)
            await pilot.press("ctrl+q")
            await settle(app, pilot)
            assert app.is_running and isinstance(app.screen, SurveyScreen)
            assert "磁盘已满" in (app.screen.save_error or "")  # said in the inspector's language
            assert not any("正在等待数据库" in str(n.message) for n in app._notifications)
            await pilot.press("ctrl+q")
            await settle(app, pilot)
        assert not app.is_running
        assert "inspector_remarks" not in read(sample_db, target.id).answers

    run(body)


def test_a_quit_held_up_by_a_lock_says_so_at_once_and_leaves_once_saved(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program holds the database's write lock (a merge, a backup tool): the quit
    says at once that it is waiting for the database (nothing was said for up to 10 s: the
    wait held the app's message loop), a second press says it is still waiting (it does not
    throw the answer away), and the app leaves as soon as the answer is saved."""
    monkeypatch.setattr(survey, "SAVE_WAIT_SECONDS", 4.0)
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh", autosave_delay=10.0)
        other = sqlite3.connect(sample_db, isolation_level=None)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                screen = await open_survey(app, pilot, target.id)
                await pilot.click("#inspector_name")
                await pilot.press(*"王芳")
                other.execute("BEGIN IMMEDIATE")  # the other program's write lock
                app.post_message(events.Key("ctrl+q", None))  # as the terminal sends it
                await until(
                    app, lambda: any("正在等待数据库" in m for m in toasts(app)), "the wait"
                )
                assert app.is_running and app.screen is screen and screen.unsaved() == 1
                app.post_message(events.Key("ctrl+q", None))  # impatient: still waiting
                await until(app, lambda: any("仍在等待数据库" in m for m in toasts(app)), "again")
                assert app.is_running and screen.unsaved() == 1
                other.execute("ROLLBACK")  # released: the answer is saved, the app leaves
                await until(app, lambda: not app.is_running, "quitting")
        finally:
            other.close()
        assert read(sample_db, target.id).answers["inspector_name"] == "王芳"

    run(body)


def test_answers_typed_while_a_quit_waits_for_a_lock_are_saved_before_it_quits(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quit waited for the save thread alone: answers typed during the wait were still
    unsaved when it finished, so the quit was refused with "数据库正忙，仍在保存中" once the
    lock was released, and a second ``ctrl+q`` quit and lost them. Now they are saved too
    (a second press during the wait says it is still waiting) and then the app quits."""
    monkeypatch.setattr(survey, "SAVE_WAIT_SECONDS", 15.0)
    monkeypatch.setattr(survey, "AUTOSAVE_MAX_WAIT", 60.0)  # only the quit saves them
    target = first_with_status(sample_db, "not_started")

    def key(k: str) -> events.Key:
        return events.Key(k, k if len(k) == 1 else None)

    async def body() -> None:
        app = make_app(sample_db, lang="zh", autosave_delay=10.0)
        other = sqlite3.connect(sample_db, isolation_level=None)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                screen = await open_survey(app, pilot, target.id)
                await pilot.click("#inspector_name")
                await pilot.press(*"王芳")
                other.execute("BEGIN IMMEDIATE")  # the other program's write lock
                app.post_message(key("ctrl+q"))
                await until(
                    app, lambda: any("正在等待数据库" in m for m in toasts(app)), "the wait"
                )
                for k in "同志":  # typed while the quit waits
                    app.post_message(key(k))
                await until(
                    app, lambda: screen.pending.get("inspector_name") == "王芳同志", "typing"
                )
                app.post_message(key("ctrl+q"))  # impatient: still waiting, nothing dropped
                await until(app, lambda: any("仍在等待数据库" in m for m in toasts(app)), "again")
                assert app.is_running
                other.execute("ROLLBACK")  # released: both saves go through, the app leaves
                await until(app, lambda: not app.is_running, "quitting")
                assert not any("未能保存" in m for m in toasts(app)), toasts(app)
        finally:
            other.close()
        assert read(sample_db, target.id).answers["inspector_name"] == "王芳同志"

    run(body)


def test_a_second_quit_under_a_long_lock_is_timed_when_pressed(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each quit waited on the lock again before looking at the clock: with a wait longer
    than the quit-anyway window the app could not be quit at all. The refusal, once the wait
    is over, names the lock, not a full disk."""
    monkeypatch.setattr(survey, "SAVE_WAIT_SECONDS", 0.6)
    monkeypatch.setattr(tui_app, "QUIT_ANYWAY_SECONDS", 0.4)
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en", autosave_delay=10.0)
        other = sqlite3.connect(sample_db, isolation_level=None)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await open_survey(app, pilot, target.id)
                await pilot.click("#inspector_name")
                other.execute("BEGIN IMMEDIATE")  # held for good
                await pilot.press(*"Lock", "ctrl+q")
                assert any("Waiting for the database" in m for m in toasts(app)), toasts(app)
                await until(app, lambda: any("could not be saved" in m for m in toasts(app)), "no")
                assert app.is_running
                assert any("the database is busy" in m for m in toasts(app)), toasts(app)
                assert any("again within 0.4 seconds" in m for m in toasts(app)), toasts(app)
                assert not any("disk" in m for m in toasts(app)), toasts(app)
                await pilot.press("ctrl+q")
                await pilot.pause()
            assert not app.is_running
        finally:
            other.execute("ROLLBACK")
            other.close()

    run(body)


def test_a_save_refused_for_good_is_said_and_does_not_block_leaving(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The building was deleted meanwhile (a sync brought a supervisor's delete): the answer
    cannot be saved, the inspector is told which one, and can still leave."""
    from surveyor.forms.catalog import get_form
    from surveyor.store.db import open_store
    from surveyor.sync.actions import delete_building

    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en", autosave_delay=10.0)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            other = open_store(sample_db)
            try:
                delete_building(other, get_form(), target.code, author="督导")
            finally:
                other.close()
            await pilot.click("#inspector_name")
            await pilot.press(*"Gone", "ctrl+s")
            await settle(app, pilot)
            assert screen.indicator.state == "error" and screen.save_error is None
            assert screen.unsaved() == 0  # dropped, and said so (not retried for ever)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is not screen

    run(body)
