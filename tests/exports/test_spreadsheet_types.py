"""The data exports as a spreadsheet reads them: the XLSX keeps IDs as text, dates as dates and
yes/no as booleans, with a frozen, filtered header; the codebook names every code a column
holds and says what the CSV cannot carry."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def test_xlsx_keeps_ids_as_text_dates_as_dates_and_yes_no_as_booleans(
    sample_db: Path, tmp_path: Path
) -> None:
    """Excel showed the 18-digit 2021 building ID as 1.20104E+17 from the CSV; the XLSX held
    the survey date and yes/no answers as text, so they neither sorted as dates nor filtered
    as TRUE/FALSE, and its header scrolled away without a filter."""
    out = tmp_path / "survey.xlsx"
    done = run("export", "xlsx", "--db", str(sample_db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(sample_db) as con:
        stored = {
            code: json.loads(answers)
            for code, answers in con.execute("SELECT code, answers FROM building")
        }
    book = load_workbook(out)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        last = sheet.cell(1, sheet.max_column).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
    sheet = book["buildings"]
    header = [c.value for c in sheet[1]]
    seen = {"id": 0, "date": 0, "bool": 0}
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=False))
        answers = stored[str(cells["code"].value)]
        census_id = cells["building_census_code"]
        if census_id.value is not None:
            assert census_id.data_type == "s" and census_id.number_format == "@"
            assert census_id.value == answers["building_census_code"]
            assert len(census_id.value) == 18 and census_id.value.isdigit()
            seen["id"] += 1
        date = cells["survey_date"]
        if date.value is not None:
            assert date.is_date and date.number_format == "yyyy-mm-dd"
            assert isinstance(date.value, datetime)
            assert date.value.date().isoformat() == answers["survey_date"]
            seen["date"] += 1
        assert isinstance(cells["possible_duplicate"].value, bool)
        if cells["has_elevator"].value is not None:
            assert cells["has_elevator"].data_type == "b"
            assert cells["has_elevator"].value is answers["has_elevator"]
            seen["bool"] += 1
    assert all(seen.values()), seen


def test_codebook_names_status_and_boolean_codes_and_what_a_cell_holds(
    sample_db: Path, tmp_path: Path
) -> None:
    """The codebook had no rows for the four statuses nor for true/false, said nothing of
    'lat,lon' (GeoJSON writes [lon, lat]), nor of Excel reading an 18-digit ID as a number."""
    out = tmp_path / "survey.csv"
    done = run("export", "csv", "--db", str(sample_db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "survey.codebook.csv").open(encoding="utf-8-sig", newline="") as fh:
        book = list(csv.DictReader(fh))

    def codes(field: str) -> set[tuple[str, str, str]]:
        return {(r["code"], r["code_zh"], r["code_en"]) for r in book if r["field_id"] == field}

    assert codes("status") == {
        ("not_started", "未开始", "not started"),
        ("draft", "草稿", "draft"),
        ("complete", "已完成", "complete"),
        ("approved", "已审核", "approved"),
    }
    for field in ("possible_duplicate", "has_elevator", "energy_data_available"):
        assert codes(field) == {("true", "是", "yes"), ("false", "否", "no")}, field
    [location] = [r for r in book if r["field_id"] == "location"]
    assert "'lat,lon'" in location["note_en"] and "[lon, lat]" in location["note_en"]
    assert "纬度,经度" in location["note_zh"]
    [census_id] = [r for r in book if r["field_id"] == "building_census_code"]
    assert "1.20104E+17" in census_id["note_en"] and "XLSX" in census_id["note_en"]
    # Every value the CSV holds in those columns is one of the codes the book lists.
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["status"] for r in rows} <= {c for c, _, _ in codes("status")}
    assert {r["has_elevator"] for r in rows} - {""} == {"true", "false"}
