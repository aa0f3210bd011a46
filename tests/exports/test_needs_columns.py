"""The needs tables a planner pivots: each row carries its building's 街道, 社区, compound,
year built and floor area, and the estimate's figures as numbers.

The needs export had the building's code only (a join with the wide table to pivot by 街道)
and the estimate as Chinese text ("约1,234 m²，节热82 MWh/年…"), which no spreadsheet sums."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from surveyor.exports.data import ESTIMATE_COLUMNS, NEEDS_COLUMNS
from surveyor.exports.report import CATEGORY_ZH, summarize
from surveyor.exports.service import Context, reports_for, selected
from surveyor.forms.catalog import get_form
from surveyor.retrofit import get_params, get_rules
from surveyor.services.selection import parse_selection
from surveyor.store.db import open_store

SURVEYED = ["--status", "complete", "--status", "approved"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


Estimates = dict[tuple[str, str], dict[str, float]]


def _expected(db: Path) -> tuple[dict[str, dict[str, Any]], Estimates]:
    """Per surveyed building its stored place and size; per (code, rule) its estimate's values."""
    form = get_form()
    params = get_params()
    ctx = Context(form, get_rules(form, params), params)
    store = open_store(db, readonly=True)
    try:
        records = selected(store, parse_selection(form, [], ["complete", "approved"]))
    finally:
        store.close()
    reports = reports_for(ctx, records)
    buildings = {r.code: r.answers for r in records}
    estimates = {
        (r.code, n.rule_id): n.estimate.values if n.estimate else {}
        for r in records
        for n in reports[r.code].needs
    }
    return buildings, estimates


def _check_row(row: dict[str, Any], buildings: dict[str, Any], estimates: Estimates) -> None:
    """A needs row (CSV, XLSX or JSON) holds its building's stored answers and the figures of
    its estimate, in the columns' units."""
    a = buildings[row["code"]]
    for column in ("subdistrict", "community", "compound_name", "building_no"):
        assert row[column] == a[column], (row["code"], column)
    assert row["subdistrict_zh"] == get_form().fields["subdistrict"].choice_label(
        a["subdistrict"], "zh"
    )
    assert float(row["year_built"]) == a["year_built"]
    assert float(row["gross_floor_area"]) == a["gross_floor_area"]
    values = estimates[row["code"], row["rule"]]
    pairs = {
        "est_area_m2": ("area_m2", 1, 1),
        "est_heat_mwh_yr": ("saving_kwh", 1000, 3),
        "est_co2_t_yr": ("co2_t", 1, 3),
        "est_subsidy_yuan": ("yuan", 1, 0),
        "est_pv_mwh_yr": ("kwh", 1000, 3),
    }
    for column, (key, divisor, decimals) in pairs.items():
        cell = row[column]
        if key not in values:
            assert cell in ("", None), (row["rule"], column)
        else:
            assert abs(float(cell) - values[key] / divisor) <= 0.5 * 10**-decimals, column


def test_needs_csv_and_xlsx_carry_the_building_and_the_estimate_figures(
    sample_db: Path, tmp_path: Path
) -> None:
    buildings, estimates = _expected(sample_db)
    out = tmp_path / "survey.csv"
    done = run("export", "csv", "--db", str(sample_db), "--out", str(out), *SURVEYED)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "survey.needs.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == NEEDS_COLUMNS
        rows = list(reader)
    assert len(rows) == len(estimates)
    for row in rows:
        _check_row(row, buildings, estimates)
    # Every kind of figure the sample's estimates hold shows up as a number somewhere.
    for column in ("est_area_m2", "est_heat_mwh_yr", "est_co2_t_yr", "est_subsidy_yuan"):
        assert any(row[column] for row in rows), column
    book = tmp_path / "survey.xlsx"
    done = run("export", "xlsx", "--db", str(sample_db), "--out", str(book), *SURVEYED)
    assert done.returncode == 0, done.stderr
    sheet = list(load_workbook(book, read_only=True)["needs"].iter_rows(values_only=True))
    assert sheet[0] == NEEDS_COLUMNS
    width = len(NEEDS_COLUMNS)  # a read-only sheet drops a row's trailing empty cells
    cells = [
        dict(zip(NEEDS_COLUMNS, (*r, *[None] * (width - len(r))), strict=True)) for r in sheet[1:]
    ]
    assert len(cells) == len(rows)
    for cell in cells:
        _check_row(cell, buildings, estimates)
        assert isinstance(cell["gross_floor_area"], float | int)  # a number, summable
        assert all(cell[c] is None or isinstance(cell[c], float | int) for c in ESTIMATE_COLUMNS)
        assert isinstance(cell["subdistrict_zh"], str)


def test_a_pivot_of_the_needs_csv_gives_the_reports_floor_areas(
    sample_db: Path, tmp_path: Path
) -> None:
    """The report's page 3 sums floor area per 街道 and category once per building: so does a
    pivot of the needs rows, deduplicated by building."""
    form = get_form()
    params = get_params()
    ctx = Context(form, get_rules(form, params), params)
    store = open_store(sample_db, readonly=True)
    try:
        records = selected(store, parse_selection(form, [], None))
    finally:
        store.close()
    summary = summarize(form, records, reports_for(ctx, records), ctx.rules)
    out = tmp_path / "survey.csv"
    assert (
        run("export", "csv", "--db", str(sample_db), "--out", str(out), *SURVEYED).returncode == 0
    )
    with (tmp_path / "survey.needs.csv").open(encoding="utf-8-sig", newline="") as fh:
        seen = {(r["code"], r["category"]): r for r in csv.DictReader(fh)}
    pivot: dict[tuple[str, str], float] = defaultdict(float)
    for (_, category), r in seen.items():
        pivot[r["subdistrict_zh"], category] += float(r["gross_floor_area"])
    for name, row in summary.plan_subdistricts.items():
        for c in CATEGORY_ZH:
            assert abs(pivot[name, c] - row.need_area[c]) < 1e-6, (name, c)


def test_needs_json_has_the_building_and_the_figures(sample_db: Path) -> None:
    buildings, estimates = _expected(sample_db)
    code = next(c for c, rule in estimates if "saving_kwh" in estimates[c, rule])
    done = run("needs", "--db", str(sample_db), code, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    a = buildings[code]
    building = data["building"]
    assert building["subdistrict"] == a["subdistrict"] and building["year_built"] == a["year_built"]
    assert building["gross_floor_area"] == a["gross_floor_area"]
    assert building["community"] == a["community"] and building["era_bin"]
    for need in data["needs"]:
        row = {**need, **{k: building[k] for k in building}, "code": code}
        _check_row({k: "" if v is None else v for k, v in row.items()}, buildings, estimates)
    assert any(isinstance(n["est_heat_mwh_yr"], float) for n in data["needs"])
