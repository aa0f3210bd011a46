"""GeoJSON says which selected buildings it leaves out (no location), carries what awaits
review as the tables do, and treats drafts as the CSV does."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from surveyor.exports.data import geojson_document
from surveyor.exports.source import BuildingRecord
from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.store.db import open_store
from surveyor.tui.screens.exports import ExportScreen
from tests.exports.test_data import stored
from tests.exports.test_tui_export import Host, _wait_idle


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def without_location(db: Path, statuses: tuple[str, ...] | None = None) -> int:
    return sum(
        not answers.get("location")
        for status, answers in stored(db).values()
        if statuses is None or status in statuses
    )


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "{n} selected building(s) without a location were left out"),
        ("zh", "所选楼栋中有 {n} 栋没有位置，未写入文件"),
    ],
)
def test_buildings_without_a_location_are_said_to_be_left_out(
    sample_db: Path, tmp_path: Path, lang: str, said: str
) -> None:
    """``export geojson`` left out buildings without a location without saying so."""
    n = without_location(sample_db)
    assert n
    out = tmp_path / "b.geojson"
    done = sv("export", "geojson", "--db", str(sample_db), "--out", str(out), "--lang", lang)
    assert done.returncode == 0, done.stderr
    assert said.format(n=n) in done.stdout
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) + n == len(stored(sample_db))


def test_an_empty_geojson_says_so(sample_db: Path, tmp_path: Path) -> None:
    n = without_location(sample_db, ("not_started",))
    assert n and n == sum(s == "not_started" for s, _ in stored(sample_db).values())
    out = tmp_path / "b.geojson"
    done = sv("export", "geojson", "--db", str(sample_db), "--out", str(out), "--status", "未开始")
    assert done.returncode == 0, done.stderr
    assert f"none of the {n} selected building(s) has a location" in done.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["features"] == []


def test_features_carry_open_conflicts_and_possible_duplicates() -> None:
    """The CSV and XLSX say what still awaits the supervisor; GeoJSON did not."""
    form = get_form()
    params = get_params()
    rules = get_rules(form, params)
    answers = {"subdistrict": "wanxing", "location": {"lat": 39.1, "lon": 117.2}}
    records = [
        BuildingRecord("NK-AAAAA-AAAAA", "complete", answers, 2, False),
        BuildingRecord("NK-BBBBB-BBBBB", "draft", answers, 0, True),
    ]
    reports = {r.code: derive_needs(form, rules, params, r.answers) for r in records}
    doc, missing = geojson_document(form, records, reports)
    assert missing == 0
    said = {
        f["id"]: (f["properties"]["open_conflicts"], f["properties"]["possible_duplicate"])
        for f in doc["features"]
    }
    assert said == {"NK-AAAAA-AAAAA": (2, False), "NK-BBBBB-BBBBB": (0, True)}


def test_drafts_needs_are_kept_with_their_status_as_the_csv_keeps_them(
    sample_db: Path, tmp_path: Path
) -> None:
    """A feature carries a draft's needs as the CSV's needs table does, each with the status
    to filter by (the report and labels count complete and approved only)."""
    for kind in ("csv", "geojson"):
        done = sv("export", kind, "--db", str(sample_db), "--out", str(tmp_path / f"t.{kind}"))
        assert done.returncode == 0, done.stderr
    with (tmp_path / "t.needs.csv").open(encoding="utf-8-sig", newline="") as fh:
        in_csv: dict[str, list[str]] = {}
        for row in csv.DictReader(fh):
            in_csv.setdefault(row["code"], []).append(row["rule"])
    features = json.loads((tmp_path / "t.geojson").read_text(encoding="utf-8"))["features"]
    drafts = [f["properties"] for f in features if f["properties"]["status"] == "draft"]
    assert any(p["needs"] for p in drafts)
    for p in (f["properties"] for f in features):
        assert sorted(p["needs"]) == sorted(in_csv.get(p["code"], []))


def test_the_export_dialog_says_what_was_left_out(sample_db: Path, tmp_path: Path) -> None:
    n = without_location(sample_db)
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="en")

    async def scenario() -> str:
        async with Host(screen).run_test() as pilot:
            screen.query_one("#export-kind", Select).value = "geojson"
            await pilot.pause()
            screen.query_one("#export-out", Input).value = str(tmp_path / "b.geojson")
            await pilot.click("#export-start")
            await pilot.pause()
            await _wait_idle(screen)
            await pilot.pause()
            return str(screen.query_one("#export-message", Static).render())

    try:
        said = asyncio.run(scenario())
    finally:
        store.close()
    assert f"{n} selected building(s) without a location were left out" in said
