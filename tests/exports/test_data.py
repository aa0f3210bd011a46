"""Data exports round-trip the sample's answers; GeoJSON is valid; bad input writes nothing."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from surveyor.exports.data import data_fields, decode
from surveyor.forms.catalog import get_form


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def stored(db: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT code, status, answers FROM building WHERE deleted = 0")
        return {code: (status, json.loads(answers)) for code, status, answers in rows}


def exported_fields(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers an export carries: every form field that is not calculated and that the
    form asks under these answers."""
    from surveyor.forms.record import evaluate

    form = get_form()
    asked = evaluate(form, answers).relevant
    ids = {f.id for f in data_fields(form) if f.id in asked}
    return {k: v for k, v in answers.items() if k in ids and v is not None}


def test_csv_round_trips_the_sample(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "survey.csv"
    result = run("export", "csv", "--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    form = get_form()
    truth = stored(sample_db)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(truth)
    for row in rows:
        status, answers = truth[row["code"]]
        assert row["status"] == status
        back = {f.id: decode(f, row[f.id]) for f in data_fields(form)}
        assert {k: v for k, v in back.items() if v is not None} == exported_fields(answers)
    with (tmp_path / "survey.codebook.csv").open(encoding="utf-8-sig", newline="") as fh:
        book = list(csv.DictReader(fh))
    heritage = [r for r in book if r["field_id"] == "heritage_status"]
    assert {(r["code"], r["code_zh"]) for r in heritage} >= {("relic", "文物保护单位")}
    assert any(r["field_id"] == "year_built" and r["label_en"] == "Year built" for r in book)
    # A year answered 不详 keeps the code 'unknown' (as options keep theirs), said in the book.
    assert {"appraisal_year", "non_self_contained_units"} <= {
        r["field_id"] for r in book if (r["code"], r["code_zh"]) == ("unknown", "不详")
    }
    assert "unknown" in {row["appraisal_year"] for row in rows}
    assert (tmp_path / "survey.needs.csv").stat().st_size > 0
    assert ".undetermined.csv" in result.stdout


def test_needs_tables_carry_the_status_the_report_counts_by(
    sample_db: Path, tmp_path: Path
) -> None:
    """The needs export had 19,269 rows (4,352 from drafts) where the report counts 14,917:
    with no status column it could not be matched to the report."""
    from surveyor.exports.report import summarize
    from surveyor.exports.service import Context, reports_for, selected
    from surveyor.retrofit import get_params, get_rules
    from surveyor.services.selection import parse_selection
    from surveyor.store.db import open_store

    form = get_form()
    params = get_params()
    ctx = Context(form, get_rules(form, params), params)
    store = open_store(sample_db, readonly=True)
    try:
        records = selected(store, parse_selection(form, [], None))
    finally:
        store.close()
    summary = summarize(form, records, reports_for(ctx, records), ctx.rules)
    reported = sum(sum(per_priority) for per_priority in summary.needs.values())
    statuses = {code: status for code, (status, _) in stored(sample_db).items()}
    out = tmp_path / "survey.csv"
    assert run("export", "csv", "--db", str(sample_db), "--out", str(out)).returncode == 0
    with (tmp_path / "survey.needs.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(row["status"] == statuses[row["code"]] for row in rows)
    kept = [row for row in rows if row["status"] in ("complete", "approved")]
    assert len(kept) == reported < len(rows)  # drafts have needs too; the report leaves them
    book = tmp_path / "survey.xlsx"
    assert run("export", "xlsx", "--db", str(sample_db), "--out", str(book)).returncode == 0
    sheet = list(load_workbook(book, read_only=True)["needs"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("code", "status", "rule")
    assert sum(r[1] in ("complete", "approved") for r in sheet[1:]) == reported


def open_rules(db: Path) -> set[tuple[str, str, str, str]]:
    """(code, status, rule, fields to check) of every rule a surveyed sample record leaves
    open, as the sheet's "needs check" box lists them."""
    from surveyor.retrofit import derive_needs, get_params, get_rules

    form = get_form()
    params = get_params()
    rules = get_rules(form, params)
    return {
        (code, status, u.rule_id, " ".join(u.fields))
        for code, (status, answers) in stored(db).items()
        if status != "not_started"
        for u in derive_needs(form, rules, params, answers).undetermined
    }


def test_csv_and_xlsx_carry_the_undetermined_rules(sample_db: Path, tmp_path: Path) -> None:
    """The rules a sheet lists as "needs check" were in no data export: a second page of
    them printed, but nothing to sort or count them by."""
    expected = open_rules(sample_db)
    assert len(expected) > 100
    out = tmp_path / "survey.csv"
    assert run("export", "csv", "--db", str(sample_db), "--out", str(out)).returncode == 0
    with (tmp_path / "survey.undetermined.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["code"], r["status"], r["rule"], r["check"]) for r in rows} == expected
    assert len(rows) == len(expected)
    # an elevator deferred to a structural appraisal not yet done waits for S01: no answer to
    # check (the grade is not asked), the rule it waits for instead
    waiting = [r for r in rows if r["awaiting"]]
    assert waiting and all((r["rule"], r["awaiting"]) == ("A01", "S01") for r in waiting)
    form = get_form()
    for row in rows:  # the answers to check by their labels, as the sheet names them
        labels = [form.fields[f].defn.label.zh for f in row["check"].split()]
        assert row["check_zh"] == "、".join(labels)
        assert row["title_zh"] and row["title_en"]
    book = tmp_path / "survey.xlsx"
    assert run("export", "xlsx", "--db", str(sample_db), "--out", str(book)).returncode == 0
    sheet = list(load_workbook(book, read_only=True)["undetermined"].iter_rows(values_only=True))
    assert sheet[0] == (
        "code",
        "status",
        "rule",
        "title_zh",
        "title_en",
        "check",
        "check_zh",
        "awaiting",
    )
    assert {(r[0], r[1], r[2], r[5] or "") for r in sheet[1:]} == expected


def test_xlsx_round_trips_the_sample(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "survey.xlsx"
    result = run("export", "xlsx", "--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    form = get_form()
    truth = stored(sample_db)
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["buildings", "codebook", "needs", "undetermined"]
    rows = book["buildings"].iter_rows(values_only=True)
    header = list(next(rows))
    count = 0
    for values in rows:
        padded = [*values, *([None] * (len(header) - len(values)))]  # trailing blanks trimmed
        row = dict(zip(header, padded, strict=True))
        status, answers = truth[str(row["code"])]
        assert row["status"] == status
        back = {f.id: decode(f, row[f.id]) for f in data_fields(form)}
        assert {k: v for k, v in back.items() if v is not None} == exported_fields(answers)
        count += 1
    assert count == len(truth)
    needs = list(book["needs"].iter_rows(values_only=True))
    assert needs[0][:4] == ("code", "status", "rule", "need") and len(needs) > 1
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[3][:3] == ("subdistrict", "identification", "select_one") or any(
        r[0] == "subdistrict" and r[6] == "huayuan" and r[7] == "华苑街道" for r in codebook
    )


def elevators_then_no_elevator(tmp_path: Path) -> tuple[Path, str]:
    """A building whose elevators were counted while 'has elevator' was blank, then answered
    no: the count is kept in the database (answering yes again brings it back) but not asked."""
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    db = tmp_path / "s.db"
    store = init_store(db, role="laptop", inspector="甲")
    code = create_building(store, get_form(), REGISTER_ROW, author="甲").code
    store.close()
    for answer in ("elevator_count=3", "has_elevator=no"):
        assert run("set", "--db", str(db), code, answer).returncode == 0
    return db, code


def buildings_row(db: Path, code: str, out: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """The building's row of ``export csv`` and of ``export xlsx`` (``out`` without suffix)."""
    table, book = out.with_suffix(".csv"), out.with_suffix(".xlsx")
    for kind, path in (("csv", table), ("xlsx", book)):
        result = run("export", kind, "--db", str(db), "--out", str(path), "--building", code)
        assert result.returncode == 0, result.stderr
    with table.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    sheet = load_workbook(book, read_only=True)["buildings"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert len(cells) == 1
    return row, dict(zip(header, [*cells[0], *([None] * len(header))], strict=False))


def test_data_exports_leave_out_answers_the_form_no_longer_asks(tmp_path: Path) -> None:
    """The CSV said has_elevator=false, elevator_count=3 where the sheet and the needs skip the
    count: anyone summing elevators counted this building. An answer the form does not ask
    under the current answers is left out of the table, as it is off the sheet."""
    db, code = elevators_then_no_elevator(tmp_path)
    row, cells = buildings_row(db, code, tmp_path / "no")
    assert row["has_elevator"] == "false" and row["elevator_count"] == ""
    assert cells["has_elevator"] is False and cells["elevator_count"] is None
    # Kept, not deleted: answered yes again, the building has its three elevators back.
    assert run("set", "--db", str(db), code, "has_elevator=yes").returncode == 0
    row, cells = buildings_row(db, code, tmp_path / "yes")
    assert row["has_elevator"] == "true" and row["elevator_count"] == "3"
    assert cells["elevator_count"] == 3


def test_buildings_table_says_open_conflicts_and_possible_duplicates(tmp_path: Path) -> None:
    """A table exported before the review was finished gave provisional values with nothing
    to say which: each building's row counts its open conflicts and says whether it is
    flagged as a possible duplicate, and the codebook names both columns."""
    from tests.exports.conftest import central_under_review

    central, codes = central_under_review(tmp_path)
    out = tmp_path / "survey.csv"
    result = run("export", "csv", "--central", str(central), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["code"]: r for r in csv.DictReader(fh)}
    expected = {
        codes["conflict"]: ("2", "false"),
        codes["clean"]: ("0", "false"),
        codes["twin"]: ("0", "true"),
        codes["other_twin"]: ("0", "true"),
    }
    assert {c: (r["open_conflicts"], r["possible_duplicate"]) for c, r in rows.items()} == expected
    with (tmp_path / "survey.codebook.csv").open(encoding="utf-8-sig", newline="") as fh:
        book = {r["field_id"]: r for r in csv.DictReader(fh)}
    assert (book["open_conflicts"]["type"], book["possible_duplicate"]["type"]) == (
        "integer",
        "boolean",
    )
    assert book["open_conflicts"]["label_zh"] and book["possible_duplicate"]["label_en"]
    xlsx = tmp_path / "survey.xlsx"
    result = run("export", "xlsx", "--central", str(central), "--out", str(xlsx))
    assert result.returncode == 0, result.stderr
    workbook = load_workbook(xlsx, read_only=True)
    header, *cells = list(workbook["buildings"].iter_rows(values_only=True))
    assert header[:4] == ("code", "status", "open_conflicts", "possible_duplicate")
    assert {r[0]: (str(r[2]), str(r[3]).lower()) for r in cells} == expected  # TRUE/FALSE
    ids = {r[0] for r in list(workbook["codebook"].iter_rows(values_only=True))[1:]}
    assert {"open_conflicts", "possible_duplicate"} <= ids


def test_geojson_is_valid(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "buildings.geojson"
    result = run("export", "geojson", "--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    located = {c for c, (_, a) in stored(sample_db).items() if a.get("location")}
    assert {f["id"] for f in doc["features"]} == located
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]  # RFC 7946: longitude first
        assert 117.0 <= lon <= 117.4 and 38.9 <= lat <= 39.3
        assert feature["properties"]["code"] == feature["id"]
        assert isinstance(feature["properties"]["needs"], list)


@pytest.mark.parametrize("kind", ["sheets", "labels", "report", "csv", "xlsx", "geojson"])
def test_unknown_where_field_is_refused(sample_db: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out.file"
    result = run("export", kind, "--db", str(sample_db), "--out", str(out), "--where", "街区=x")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: --where: the form has no field '街区'; did you mean '区'?"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["sheets", "labels", "report", "csv", "xlsx", "geojson"])
def test_empty_selection_is_refused(sample_db: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out.file"
    result = run(
        "export",
        kind,
        "--db",
        str(sample_db),
        "--out",
        str(out),
        "--where",
        "heritage_status=relic",
        "--where",
        "year_built=1901",
    )
    assert result.returncode == 2
    assert "no buildings match the selection" in result.stderr
    assert "nothing was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["sheets", "labels", "csv", "xlsx", "geojson", "report"])
def test_unwritable_output_is_refused(sample_db: Path, tmp_path: Path, kind: str) -> None:
    for out, phrase in (
        (tmp_path / "missing" / "x.out", "does not exist"),
        (Path("/proc/surveyor-test.out"), "cannot write"),
        (tmp_path, "folder"),
    ):
        result = run("export", kind, "--db", str(sample_db), "--out", str(out))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: cannot write") and phrase in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_where_value_and_status(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    bad_value = run(
        "export", "csv", "--db", str(sample_db), "--out", str(out), "--where", "街道=火星街道"
    )
    assert bad_value.returncode == 2 and "not an option of subdistrict" in bad_value.stderr
    bad_status = run(
        "export", "csv", "--db", str(sample_db), "--out", str(out), "--status", "finished"
    )
    assert bad_status.returncode == 2 and "unknown status 'finished'" in bad_status.stderr
    assert not out.exists()


def test_needs_command(sample_db: Path) -> None:
    with sqlite3.connect(sample_db) as con:
        code = con.execute(
            "SELECT code FROM building WHERE status = 'complete' ORDER BY code LIMIT 1"
        ).fetchone()[0]
    result = run("needs", "--db", str(sample_db), f"URN:NKCENSUS:B:{code}", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["code"] == code
    priorities = [n["priority"] for n in data["needs"]]
    assert priorities == sorted(priorities)
    text = run("needs", "--db", str(sample_db), code, "--lang", "en")
    assert text.returncode == 0 and code in text.stdout
    # In Chinese, in words: no '(complete)', '(confirmed)', 'low'/'capital' or field ids.
    zh = run("needs", "--db", str(sample_db), code, "--lang", "zh").stdout
    assert f"{code} (已完成)" in zh and "(已证实)" in zh and "低成本" in zh
    for english in ("complete)", "confirmed", " low ", "capital"):
        assert english not in zh
    checks = [line for line in zh.splitlines() if line.startswith("  待核实")]
    assert all(not re.search(r"[a-z]+_[a-z]+", line) for line in checks)
    missing = run("needs", "--db", str(sample_db), "NK-00000-00000")
    assert missing.returncode == 2
    # English unless asked, as every other command (it used to default to Chinese).
    plain = run("needs", "--db", str(sample_db), code).stdout
    assert f"{code} (complete)" in plain


@pytest.mark.postgres
def test_exports_from_a_postgresql_central(sample_db: Path, pg_url: str, tmp_path: Path) -> None:
    """Merged into PostgreSQL, the sample exports the same table and prints its labels."""
    init = run("central", "init", pg_url)
    assert init.returncode == 0, init.stderr
    merge = run("merge", "--into", pg_url, str(sample_db))
    assert merge.returncode == 0, merge.stderr
    laptop, central = tmp_path / "laptop.csv", tmp_path / "central.csv"
    assert run("export", "csv", "--db", str(sample_db), "--out", str(laptop)).returncode == 0
    result = run("export", "csv", "--central", pg_url, "--out", str(central))
    assert result.returncode == 0, result.stderr
    with laptop.open(encoding="utf-8-sig") as a, central.open(encoding="utf-8-sig") as b:
        assert sorted(csv.reader(a)) == sorted(csv.reader(b))
    labels = tmp_path / "labels.pdf"
    printed = run(
        "export", "labels", "--central", pg_url, "--out", str(labels), "--status", "complete"
    )
    assert printed.returncode == 0, printed.stderr
    assert labels.stat().st_size > 0


def test_xlsx_writes_text_that_starts_with_a_formula_sign_as_text(tmp_path: Path) -> None:
    """An inspector's remark '=1+1 见附件' was written as the formula <f>1+1 见附件</f>."""
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    db = tmp_path / "s.db"
    store = init_store(db, role="laptop", inspector="甲")
    code = create_building(store, get_form(), REGISTER_ROW, author="甲").code
    store.close()
    remarks = ["inspector_remarks==1+1 见附件", "address=+86 南开区@宜宾道-1号"]
    assert run("set", "--db", str(db), code, *remarks).returncode == 0
    out = tmp_path / "survey.xlsx"
    result = run("export", "xlsx", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out)["buildings"]
    header = [c.value for c in sheet[1]]
    cells = {h: c for h, c in zip(header, sheet[2], strict=False)}
    assert cells["inspector_remarks"].data_type == "s"
    assert cells["inspector_remarks"].value == "=1+1 见附件"
    assert cells["address"].value == "+86 南开区@宜宾道-1号"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    values = load_workbook(out, data_only=True)["buildings"]
    assert [c.value for c in values[2]][header.index("inspector_remarks")] == "=1+1 见附件"
