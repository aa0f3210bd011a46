"""Start-up: the list's frame comes first, the database is opened after it, nothing typed is lost.

The app given a database *path* (as ``surveyor app`` runs it) opens the store in a thread worker
after its first frame. These tests hold that worker at a gate to type into the app while the
database is "still opening", then let it go.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, Static

import surveyor.store.db as store_db
from surveyor.services import survey as survey_service
from surveyor.services.browse import browse_buildings
from surveyor.settings import Settings, load_settings
from surveyor.store.db import Store, open_store
from surveyor.store.ids import building_uri
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens import buildings
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.survey import SurveyScreen
from tests.tui.conftest import run, settle

SURVEYOR = Path(sys.executable).with_name("surveyor")


class Gate:
    """Holds ``open_store`` (as the start-up worker calls it) until ``release``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.event = threading.Event()
        self.calls = 0
        self.closed: list[Store] = []
        real = store_db.open_store

        def held(target: Any, **kwargs: Any) -> Store:
            self.calls += 1
            assert self.event.wait(30), "the gate was never released"
            store = real(target, **kwargs)
            close = store.close

            def recorded_close() -> None:
                self.closed.append(store)
                close()

            store.close = recorded_close  # type: ignore[method-assign]
            return store

        monkeypatch.setattr(store_db, "open_store", held)

    def release(self) -> None:
        self.event.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate(monkeypatch)
    try:
        yield g
    finally:
        g.release()  # never leave a worker thread waiting


@pytest.fixture
def path_app(tmp_path: Path) -> Iterator[Callable[..., SurveyorApp]]:
    """Apps on a database *path*: each opens (and, in close_store, closes) its own store."""
    apps: list[SurveyorApp] = []

    def make(db: Path, *, lang: str = "zh") -> SurveyorApp:
        app = SurveyorApp(
            db,
            settings=Settings(language=lang, autosave_delay=0.2),
            settings_path=tmp_path / "config" / "config.toml",
        )
        apps.append(app)
        return app

    try:
        yield make
    finally:
        for app in apps:
            app.close_store()


async def until(check: Callable[[], bool], pilot: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await pilot.pause(0.01)


def first_frame(app: SurveyorApp) -> Callable[[], bool]:
    return lambda: isinstance(app.screen, BuildingsScreen) and app.screen.first_frame_shown


def status_line(app: SurveyorApp) -> str:
    return str(app.screen.query_one("#count", Static).render())


def some_building(db: Path, status: str = "draft") -> Any:
    store = open_store(db)
    try:
        return browse_buildings(store, status=status, limit=1).rows[0]
    finally:
        store.close()


# -- imports before the first frame -----------------------------------------------------------
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "surveyor.store.db", "surveyor.forms")


def loaded_heavy_modules(code: str) -> list[str]:
    probe = (
        code + "\nimport sys\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        f" or m.startswith({HEAVY!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [m for m in out.stdout.strip().split(",") if m]


def test_the_app_and_its_first_screen_import_no_database_or_form_code() -> None:
    assert loaded_heavy_modules("import surveyor.tui.app, surveyor.tui.screens.buildings") == []


def test_surveyor_app_reaches_the_app_without_importing_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "any.db"
    with sqlite3.connect(db) as conn:  # any SQLite file passes the command's own check
        conn.execute("CREATE TABLE t (x)")
    code = (
        "import sys\n"
        "import surveyor.tui.app as tui\n"
        "def fake_run_app(db, **options):\n"
        "    heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'surveyor.store.db',"
        " 'surveyor.forms.model') if m in sys.modules]\n"
        "    print('run_app', db, heavy, options.get('language'))\n"
        "tui.run_app = fake_run_app\n"
        "from surveyor.cli.main import run\n"
        f"run(['app', '--db', {str(db)!r}, '--lang', 'en'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"run_app {db} [] en"  # --lang reaches the app


def _app_on(db: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``surveyor ARGS`` with the app's ``run_app`` replaced by one that prints the author it
    was given, in an empty home (no settings file, so no name set)."""
    import os

    code = (
        "import sys\n"
        "import surveyor.tui.app as tui\n"
        "def fake_run_app(db, **options):\n"
        "    heavy = [m for m in ('sqlalchemy', 'surveyor.store.db') if m in sys.modules]\n"
        "    print('run_app', options.get('author'), heavy)\n"
        "tui.run_app = fake_run_app\n"
        "from surveyor.cli.main import run\n"
        f"run([*{list(args)!r}, '--db', {str(db)!r}])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEYOR_", "XDG_"))}
    env |= {"HOME": str(home), "LOGNAME": "root", "USER": "root"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_surveyor_app_on_a_central_needs_a_persons_name_as_review_does(tmp_path: Path) -> None:
    """`surveyor app --db central.db` with no --by and no name in the settings opened, and
    every edit made there was recorded under the placeholder "inspector" for good. It is
    refused before the screen opens in `review`'s sentence; a name given reaches the app; a
    laptop needs none (its own inspector is recorded)."""
    from surveyor.store.db import init_store

    central, laptop = tmp_path / "central.db", tmp_path / "laptop.db"
    init_store(central, role="central").close()
    init_store(laptop, role="laptop", inspector="王芳").close()
    home = tmp_path / "home"
    home.mkdir()
    for args in (["app"], ["app", "--lang", "en"]):
        refused = _app_on(central, home, *args)
        assert refused.returncode == 2 and "run_app" not in refused.stdout, refused.stdout
        [line] = refused.stderr.splitlines()
        assert "--by NAME" in line and "inspector = " in line, line
    assert _app_on(central, home).returncode == 2  # `surveyor --db central.db`: the app too
    named = _app_on(central, home, "app", "--by", "李督导")
    assert named.returncode == 0 and named.stdout.strip() == "run_app 李督导 []", named.stderr
    mine = _app_on(laptop, home, "app")
    assert mine.returncode == 0 and mine.stdout.strip() == "run_app None []", mine.stderr


def test_surveyor_app_refuses_a_missing_or_non_sqlite_file_before_the_screen(
    tmp_path: Path,
) -> None:
    missing = subprocess.run(
        [str(SURVEYOR), "app", "--db", str(tmp_path / "nope.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all")
    bad = subprocess.run(
        [str(SURVEYOR), "app", "--db", str(junk)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "is not a SQLite database" in bad.stderr


def test_the_list_statuses_are_the_cores() -> None:
    assert buildings.STATUSES == survey_service.STATUSES


# -- the frame first, then the rows --------------------------------------------------------------
def test_the_frame_is_interactive_before_the_database_is_open_and_rows_follow(
    sample_db: Path, gate: Gate, path_app: Callable[..., SurveyorApp]
) -> None:
    query = (some_building(sample_db).compound_name or "")[:2]  # a short Chinese query
    store = open_store(sample_db)
    try:
        expected = [str(r.id) for r in browse_buildings(store, search=query, limit=60).rows]
        everything = browse_buildings(store, limit=1).total
    finally:
        store.close()
    assert len(query) == 2 and 0 < len(expected) < everything

    async def body() -> None:
        app = path_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(first_frame(app), pilot)
            screen = app.screen
            assert isinstance(screen, BuildingsScreen)
            assert app.focused is screen.query_one("#search", Input)
            assert not app.ready and gate.calls == 1  # the worker waits at the gate
            assert screen.query_one("#buildings", DataTable).row_count == 0
            assert "正在打开数据库" in status_line(app)
            await pilot.press(*query)  # typed while the database is still opening
            assert screen.query_one("#search", Input).value == query
            gate.release()
            await settle(app, pilot)
            assert app.ready and app.load_error is None
            assert screen.first_page_shown and screen._last_query["search"] == query
            table = screen.query_one("#buildings", DataTable)
            assert [key.value for key in table.rows] == expected  # the search, applied
            assert screen.counted and screen.total == len(expected)
            assert status_line(app) == f"显示 {len(expected)} / 共 {len(expected)} 栋"
            # the sub-district filter got its options once the form was there
            options = screen._subdistrict_options()
            assert options
            screen.query_one("#f-subdistrict", Select).value = options[0][1]

    run(body)


def test_a_label_scanned_before_the_database_is_open_opens_its_building(
    sample_db: Path, gate: Gate, path_app: Callable[..., SurveyorApp]
) -> None:
    target = some_building(sample_db)

    async def body() -> None:
        app = path_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(first_frame(app), pilot)
            await pilot.press(*building_uri(target.code))  # a keyboard-wedge scanner, early
            assert app.screen.query_one("#search", Input).value == ""  # taken as a scan
            gate.release()
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id

    run(body)


def test_a_code_typed_and_entered_before_the_database_is_open_opens_its_building(
    sample_db: Path, gate: Gate, path_app: Callable[..., SurveyorApp]
) -> None:
    target = some_building(sample_db, "complete")

    async def body() -> None:
        app = path_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(first_frame(app), pilot)
            await pilot.press(*target.code.lower().replace("-", ""), "enter")
            gate.release()
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id

    run(body)


def test_actions_that_need_the_database_wait_politely(
    sample_db: Path, gate: Gate, path_app: Callable[..., SurveyorApp]
) -> None:
    async def body() -> None:
        app = path_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(first_frame(app), pilot)
            await pilot.press("ctrl+n")  # new building: needs the form and the store
            await pilot.pause()
            assert isinstance(app.screen, BuildingsScreen)
            assert any("数据库还在打开" in str(n.message) for n in app._notifications)
            await pilot.press("f2")  # the language switches while it opens
            await pilot.pause()
            assert status_line(app) == "Opening the database..."
            await pilot.press("f1")  # help works too
            await pilot.pause()
            assert not isinstance(app.screen, BuildingsScreen)
            await pilot.press("f1")
            await pilot.pause()
            gate.release()
            await settle(app, pilot)
            assert isinstance(app.screen, BuildingsScreen)
            assert app.screen.first_page_shown and status_line(app).startswith("Showing")
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            assert not isinstance(app.screen, BuildingsScreen)  # the modal is open now

    run(body)


def test_quitting_before_the_database_is_open_closes_it_afterwards(
    sample_db: Path, gate: Gate, path_app: Callable[..., SurveyorApp]
) -> None:
    app = path_app(sample_db)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(first_frame(app), pilot)
            await pilot.press("ctrl+q")
        gate.release()
        await asyncio.to_thread(app.close_store)  # waits for the worker, closes its store
        assert gate.calls == 1 and len(gate.closed) == 1
        assert app._owned_store is None and not app.ready

    run(body)


# -- a database that cannot be opened -------------------------------------------------------------
def test_a_database_that_cannot_be_opened_is_an_error_on_screen_not_a_crash(
    tmp_path: Path, path_app: Callable[..., SurveyorApp]
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:  # SQLite, but not a Surveyor database
        conn.execute("CREATE TABLE t (x)")

    async def body() -> None:
        app = path_app(other, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.is_running and isinstance(app.screen, BuildingsScreen)
            assert not app.ready and app.load_error is not None
            shown = status_line(app)
            assert "could not be opened" in shown and "not a Surveyor database" in shown
            assert app.screen.query_one("#count").has_class("-error")
            assert any("not a Surveyor database" in str(n.message) for n in app._notifications)
            # Still usable: typing works, a scan is refused with the reason, ctrl+q quits.
            await pilot.press(*"abc")
            assert app.screen.query_one("#search", Input).value == "abc"
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert isinstance(app.screen, BuildingsScreen)
            await pilot.press("ctrl+q")
        assert app.return_code == 0

    run(body)


def test_an_unexpected_open_error_is_shown_in_one_sentence(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, path_app: Callable[..., SurveyorApp]
) -> None:
    def broken(_target: Any, **_kwargs: Any) -> Store:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store_db, "open_store", broken)

    async def body() -> None:
        app = path_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.is_running
            assert app.load_error == "Cannot open the database: [Errno 13] Permission denied"
            assert "Permission denied" in status_line(app)  # shown as text, not as markup

    run(body)


# -- settings are read before the first frame, without pydantic ----------------------------------
def test_settings_of_the_wrong_type_give_the_defaults_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('autosave_delay = "fast"\ntheme = "textual-light"\n', encoding="utf-8")
    settings, problems = load_settings(path)
    assert settings == Settings()
    assert len(problems) == 1 and "autosave_delay" in problems[0]
    path.write_text("autosave_delay = 30\n", encoding="utf-8")
    assert "between" in load_settings(path)[1][0]
    path.write_text('[keymap]\n"survey.complete" = 9\n', encoding="utf-8")
    assert "keymap" in load_settings(path)[1][0]
    path.write_text("autosave_delay = 2\n", encoding="utf-8")
    assert load_settings(path) == (Settings(autosave_delay=2.0), [])


def test_in_chinese_the_reason_a_database_cannot_be_opened_is_chinese(
    tmp_path: Path, path_app: Callable[..., SurveyorApp]
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")

    async def body() -> None:
        app = path_app(other, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.load_error is not None
            assert "不是 Surveyor 数据库" in status_line(app)
            assert "not a Surveyor database" not in status_line(app)
            await pilot.press("ctrl+q")

    run(body)
