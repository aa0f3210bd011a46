"""The export screen drives a real export with its progress bar, and cancel leaves no file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App
from textual.widgets import Input, ProgressBar, Select, Static

from surveyor.forms.catalog import get_form
from surveyor.store.db import open_store
from surveyor.tui.screens.exports import ExportScreen


class Host(App[None]):
    def __init__(self, screen: ExportScreen) -> None:
        super().__init__()
        self.export_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.export_screen)


async def _wait_idle(screen: ExportScreen) -> None:
    for _ in range(600):
        if not screen.running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("export did not finish")


def test_export_screen_writes_labels_with_progress(sample_db: Path, tmp_path: Path) -> None:
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="en")

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            screen.query_one("#export-kind", Select).value = "labels"
            await pilot.pause()
            out = tmp_path / "labels.pdf"
            screen.query_one("#export-out", Input).value = str(out)
            await pilot.click("#export-start")
            await pilot.pause()
            await _wait_idle(screen)
            await pilot.pause()
            bar = screen.query_one("#export-progress", ProgressBar)
            assert bar.total is not None and bar.progress == bar.total
            assert out.exists()
            assert "Wrote" in str(screen.query_one("#export-message", Static).render())

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_export_screen_cancel_leaves_no_file(sample_db: Path, tmp_path: Path) -> None:
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="en")

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            out = tmp_path / "sheets.pdf"
            screen.query_one("#export-out", Input).value = str(out)
            screen.cancel_event.set()  # pressed before the first chunk is drawn
            screen.run_export("sheets", "a4_3x8", out, [], None)
            screen.running = True
            await pilot.pause()
            await _wait_idle(screen)
            await pilot.pause()
            message = str(screen.query_one("#export-message", Static).render())
            assert "Cancelled" in message, message
            assert list(tmp_path.iterdir()) == []

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_export_screen_asks_only_what_the_kind_needs_and_starts_on_enter(
    sample_db: Path, tmp_path: Path
) -> None:
    """The label layout was asked for sheets too, an idle progress bar looked busy, and
    Enter in the file name did nothing."""
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="en")

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            await pilot.pause()
            layout = screen.query_one("#export-layout", Select)
            bar = screen.query_one("#export-progress", ProgressBar)
            assert not layout.display and not bar.display
            screen.query_one("#export-kind", Select).value = "labels"
            await pilot.pause()
            assert layout.display
            screen.query_one("#export-kind", Select).value = "csv"
            await pilot.pause()
            assert not layout.display
            out = screen.query_one("#export-out", Input)
            out.value = str(tmp_path / "table.csv")
            out.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert bar.display
            await _wait_idle(screen)
            assert (tmp_path / "table.csv").exists()

    try:
        asyncio.run(scenario())
    finally:
        store.close()
