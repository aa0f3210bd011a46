"""A worker's failure never freezes a screen: whatever it raises (a locked or changed
database, a file error, a bug) is said in one sentence, and what waited for the worker is
released. The failures are real: a table renamed under the app by another connection, as
another program may change a database; a trigger refusing a write."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from surveyor.tui.screens.buildings import BuildingsScreen
from tests.tui.conftest import AppFactory, run, settle


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
