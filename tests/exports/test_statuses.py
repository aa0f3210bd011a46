"""``--status`` repeated takes any of the statuses (as ``--building`` does), in every export
and in the app's export dialog; the selection's sentence says them all."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from surveyor.forms.catalog import get_form
from surveyor.store.db import open_store
from surveyor.tui.screens.exports import ExportScreen
from tests.exports.test_tui_export import Host, _wait_idle


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def by_status(db: Path) -> Counter[str]:
    with sqlite3.connect(db) as con:
        return Counter(dict(con.execute("SELECT status, count(*) FROM building GROUP BY status")))


def csv_statuses(path: Path) -> Counter[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return Counter(row["status"] for row in csv.DictReader(fh))


def test_a_repeated_status_takes_either(sample_db: Path, tmp_path: Path) -> None:
    """``--status complete --status approved`` kept only the last: approved only, silently."""
    counts = by_status(sample_db)
    assert counts["complete"] and counts["approved"]
    out = tmp_path / "t.csv"
    done = sv(
        "export", "csv", "--db", str(sample_db), "--out", str(out),
        "--status", "complete", "--status", "已审核",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert csv_statuses(out) == Counter(complete=counts["complete"], approved=counts["approved"])
    labels = tmp_path / "labels.pdf"
    done = sv(
        "export", "labels", "--db", str(sample_db), "--out", str(labels),
        "--status", "complete", "--status", "approved",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{counts['complete'] + counts['approved']} building(s)" in done.stdout


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "(year_built=1901, status=complete or approved)"),
        ("zh", "（建成年份=1901，状态=已完成或已审核）"),
    ],
)
def test_the_selection_sentence_names_every_status(
    sample_db: Path, tmp_path: Path, lang: str, said: str
) -> None:
    done = sv(
        "export", "report", "--db", str(sample_db), "--out", str(tmp_path / "r.pdf"),
        "--where", "year_built=1901", "--status", "complete", "--status", "approved",
        "--lang", lang,
    )  # fmt: skip
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_export_dialog_offers_complete_or_approved(sample_db: Path, tmp_path: Path) -> None:
    """The dialog offered one status; the stocks carrying need classes want exactly the
    complete and approved records."""
    counts = by_status(sample_db)
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="zh")
    out = tmp_path / "t.csv"

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            status = screen.query_one("#export-status", Select)
            offered = {label: value for label, value in status._options}
            assert offered["已完成或已审核"] == ("complete", "approved")
            screen.query_one("#export-kind", Select).value = "csv"
            status.value = ("complete", "approved")
            await pilot.pause()
            screen.query_one("#export-out", Input).value = str(out)
            await pilot.click("#export-start")
            await pilot.pause()
            await _wait_idle(screen)

    try:
        asyncio.run(scenario())
    finally:
        store.close()
    assert csv_statuses(out) == Counter(complete=counts["complete"], approved=counts["approved"])
