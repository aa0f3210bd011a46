"""Data exports: wide CSV / XLSX (one row per building, with a codebook) and GeoJSON points.

Cells hold the stored codes, not labels, so a table read back through the form's own coercion
gives the same answers (the tests check this round trip on the sample), and a column reads the
same whatever the language of whoever exported it: a number field answered "unknown" holds the
code ``unknown``, not 不详. The codebook carries the zh/en labels of every field and option, and
of ``unknown`` for the fields that allow it, so the codes stay readable.

A row carries the answers the form asks under the building's current answers, as its sheet
prints them: an answer kept for a question since hidden (elevators counted, then "has elevator"
answered no) is left blank, by the relevance ``derive_needs`` already evaluated for the
building's needs (``NeedsReport.relevant``), not evaluated again per field.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from surveyor.exports.output import atomic_file
from surveyor.exports.sheetdata import NOT_SURVEYED
from surveyor.exports.source import BuildingRecord
from surveyor.forms.display import STATUS_LABELS
from surveyor.forms.model import UNKNOWN, UNKNOWN_ZH, CompiledField, Form
from surveyor.forms.record import coerce_answer
from surveyor.retrofit.derive import NeedsReport
from surveyor.retrofit.estimates import EstimateResult

#: ``open_conflicts`` and ``possible_duplicate`` say what still awaits a supervisor: a table
#: exported before the review is finished holds provisional values, and these say which.
FIXED_COLUMNS = ("code", "status", "open_conflicts", "possible_duplicate")
CODEBOOK_COLUMNS = (
    "field_id",
    "section",
    "type",
    "label_zh",
    "label_en",
    "unit",
    "code",
    "code_zh",
    "code_en",
    "note_zh",
    "note_en",
)
#: The building's place, age and size, on every needs row so a planner pivots without a join:
#: ``subdistrict`` the 街道 code (the codebook's), ``subdistrict_zh`` its name, ``era_bin`` the
#: year-built band the report's tables use; the answers as the form shows them (not asked: blank).
NEED_BUILDING_COLUMNS = (
    "subdistrict",
    "subdistrict_zh",
    "community",
    "compound_name",
    "building_no",
    "year_built",
    "era_bin",
    "gross_floor_area",
)
#: The estimate's figures as numbers, blank where its method has none: column → (the
#: ``EstimateResult.values`` key, divisor to the column's unit, decimals kept).
ESTIMATE_FIGURES: dict[str, tuple[str, float, int]] = {
    "est_area_m2": ("area_m2", 1, 1),  # element area insulated or replaced, m²
    "est_u_before": ("u_before", 1, 3),  # U-value assumed before, W/(m²·K)
    "est_heat_mwh_yr": ("saving_kwh", 1000, 3),  # heat saved, MWh/year
    "est_pv_kwp": ("kwp", 1, 1),  # PV peak power, kWp
    "est_pv_mwh_yr": ("kwh", 1000, 3),  # PV electricity, MWh/year
    "est_co2_t_yr": ("co2_t", 1, 3),  # CO₂ avoided, t/year
    "est_subsidy_yuan": ("yuan", 1, 0),  # reference subsidy (2007 level, lifts 2021), 元
    "est_count": ("count", 1, 0),  # entrances, dwellings (the method's unit)
    "est_lifts": ("lifts", 1, 0),  # lifts to add, one per entrance
}
ESTIMATE_COLUMNS = tuple(ESTIMATE_FIGURES)

#: ``status`` is the building's: the district report counts the needs of complete and approved
#: buildings only, so the rows to keep to match it are those.
NEEDS_COLUMNS = (
    "code",
    "status",
    "rule",
    "need",
    "title_zh",
    "title_en",
    "category",
    "priority",
    "class",
    "indicator",
    "scale",
    "step",
    "cost",
    "source_status",
    "estimate",
    *NEED_BUILDING_COLUMNS,
    *ESTIMATE_COLUMNS,
)

#: The rules a record leaves open (as the sheet's "needs check" box lists them): ``check`` the
#: field ids of the answers that would decide the rule, space-separated, ``check_zh`` their
#: labels; ``awaiting`` the triggered rules it waits for beyond them (A01 awaiting S01's appraisal).
UNDETERMINED_COLUMNS = (
    "code",
    "status",
    "rule",
    "title_zh",
    "title_en",
    "check",
    "check_zh",
    "awaiting",
)


def data_fields(form: Form) -> list[CompiledField]:
    """The exported answer columns, in form order (calculated fields are left out)."""
    return [f for f in form.fields.values() if f.type != "calculate"]


def encode(fld: CompiledField, value: Any) -> str:
    """One answer as CSV text that ``decode`` turns back into the same value."""
    if value is None:
        return ""
    if fld.type == "photo":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict) and fld.type == "geopoint":
        return f"{value['lat']!r},{value['lon']!r}"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def decode(fld: CompiledField, cell: Any) -> Any:
    """A CSV or XLSX cell back to the stored value, through the form's own coercion."""
    if cell is None or cell == "":
        return None
    if fld.type == "photo":
        return json.loads(cell) if isinstance(cell, str) else cell
    return coerce_answer(fld, cell)


def review_cells(r: BuildingRecord) -> list[Any]:
    """``open_conflicts`` and ``possible_duplicate``, as a number and a boolean field are."""
    return [r.open_conflicts, "true" if r.possible_duplicate else "false"]


def _xlsx_review_cells(r: BuildingRecord) -> list[Any]:
    """``review_cells`` as Excel types: a number and a TRUE/FALSE cell."""
    return [r.open_conflicts, r.possible_duplicate]


def asked(fields: list[CompiledField], r: BuildingRecord, report: NeedsReport) -> list[Any]:
    """The building's answers to ``fields``, None where the form does not ask the field
    under its current answers (the answer stays in the database, off the export)."""
    relevant = report.relevant
    answers = r.answers
    return [answers.get(f.id) if f.id in relevant else None for f in fields]


def _xlsx_cell(fld: CompiledField, value: Any) -> Any:
    """An answer as an Excel cell of its type: numbers stay numbers, yes/no are TRUE/FALSE, a
    date is a date cell (sorting and filtering work on them); everything else is the CSV text,
    written as text (``_append``), so an 18-digit ID stays those digits rather than becoming
    1.20104E+17. A draft's date that is no date stays the text it was entered as."""
    if isinstance(value, bool | int | float):
        return value
    if fld.type == "date" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.combine(date.fromisoformat(value), time())
    text = encode(fld, value)
    return text or None


#: A boolean column's codes (the XLSX holds TRUE/FALSE cells).
BOOLEAN_CODES = (("true", "是", "yes"), ("false", "否", "no"))
#: Said of a text column: Excel reads digits as a number when it opens a CSV.
TEXT_NOTE = (
    "文本；只含数字的值（如18位房屋调查编码）在 Excel 直接打开 CSV 时会变成数字"
    "（1.20104E+17，末位丢失、前导0消失）：请用 XLSX，或在导入时把此列设为文本",
    "text; a value of digits only (an 18-digit building ID) becomes a number when Excel opens "
    "the CSV (1.20104E+17, its last digits and leading zeros lost): use the XLSX, or import "
    "this column as text",
)
#: Said of a geopoint column: its order differs from GeoJSON's.
GEOPOINT_NOTE = (
    "CSV 单元格为「纬度,经度」（lat,lon，WGS-84）；GeoJSON 的坐标顺序相反：[经度, 纬度]",
    "the CSV cell is 'lat,lon' (WGS-84, latitude first); GeoJSON coordinates are [lon, lat]",
)


def codebook_rows(form: Form) -> list[tuple[str, ...]]:
    """The codebook: a row per column, and one per code a column holds (options, the four
    statuses, true/false of a boolean, ``unknown``), with a note where a column needs one."""
    no_code, no_note = ("", "", ""), ("", "")
    code = ("code", "", "text", "楼栋编码", "Building code", "")
    status = ("status", "", "text", "记录状态", "Record status", "")
    conflicts = (
        "open_conflicts",
        "",
        "integer",
        "未解决的冲突数（待主管裁定）",
        "Open conflicts (a supervisor decides)",
        "",
    )
    duplicate = (
        "possible_duplicate",
        "",
        "boolean",
        "疑似重复（待主管裁定）",
        "Possible duplicate (a supervisor decides)",
        "",
    )
    rows: list[tuple[str, ...]] = [
        (*code, *no_code, *no_note),
        *((*status, c, names["zh"], names["en"], *no_note) for c, names in STATUS_LABELS.items()),
        (*conflicts, *no_code, *no_note),
        *((*duplicate, *codes, *no_note) for codes in BOOLEAN_CODES),
    ]
    for fld in data_fields(form):
        d = fld.defn
        unit = f"{d.unit.zh} / {d.unit.en}" if d.unit is not None else ""
        base = (fld.id, fld.section_id, fld.type, d.label.zh, d.label.en, unit)
        note = {"text": TEXT_NOTE, "geopoint": GEOPOINT_NOTE}.get(fld.type, no_note)
        if fld.choices:
            rows.extend((*base, c.code, c.zh, c.en, *note) for c in fld.choices)
        elif fld.type == "boolean":
            rows.extend((*base, *codes, *note) for codes in BOOLEAN_CODES)
        else:
            rows.append((*base, *no_code, *note))
        if d.allow_unknown and not fld.choices:  # the code a column holds besides its values
            rows.append((*base, UNKNOWN, UNKNOWN_ZH, UNKNOWN, *note))
    return rows


def building_facts(form: Form, report: NeedsReport) -> dict[str, Any]:
    """``NEED_BUILDING_COLUMNS`` of one building, from the record as the form shows it."""
    facts = {c: report.values.get(c) for c in NEED_BUILDING_COLUMNS if c != "subdistrict_zh"}
    sub = facts["subdistrict"]
    zh = form.fields["subdistrict"].choice_label(sub, "zh") if isinstance(sub, str) else None
    return {**facts, "subdistrict_zh": zh}


def estimate_figures(estimate: EstimateResult | None) -> dict[str, float | None]:
    """``ESTIMATE_COLUMNS`` of one need's estimate: numbers in the columns' units, rounded as
    the orders of magnitude they are; None where the estimate has no such figure."""
    values = estimate.values if estimate is not None else {}
    figures: dict[str, float | None] = {}
    for column, (key, divisor, decimals) in ESTIMATE_FIGURES.items():
        value = values.get(key)
        if value is not None:  # whole units (元, counts) as integers, "225" not "225.0"
            value = round(value / divisor, decimals) if decimals else round(value / divisor)
        figures[column] = value
    return figures


def need_rows(form: Form, code: str, status: str, report: NeedsReport) -> Iterable[tuple[Any, ...]]:
    """The needs rows of one building: the need, the building's facts, the estimate's figures."""
    facts = building_facts(form, report)
    place = tuple(facts[c] for c in NEED_BUILDING_COLUMNS)
    for n in report.needs:
        figures = estimate_figures(n.estimate)
        yield (
            code,
            status,
            n.rule_id,
            n.need,
            n.title.zh,
            n.title.en,
            n.category,
            n.priority,
            n.need_class,
            n.indicator or "",
            n.scale,
            n.step,
            n.cost,
            n.source.status,
            n.estimate.summary.zh if n.estimate else "",
            *place,
            *(figures[c] for c in ESTIMATE_COLUMNS),
        )


def undetermined_rows(
    form: Form, code: str, status: str, report: NeedsReport
) -> Iterable[tuple[Any, ...]]:
    for u in report.undetermined:
        yield (
            code,
            status,
            u.rule_id,
            u.title.zh,
            u.title.en,
            " ".join(u.fields),
            "、".join(u.field_labels(form, "zh")),
            " ".join(a.ident for a in u.awaiting),
        )


def _undetermined(
    form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport]
) -> Iterable[tuple[Any, ...]]:
    for r in records:
        if r.status != NOT_SURVEYED:  # a register row decides nothing: nothing is "open" yet
            yield from undetermined_rows(form, r.code, r.status, reports[r.code])


def _write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    # utf-8-sig so that Excel opens the Chinese text correctly when double-clicked.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def companion(out: Path, name: str) -> Path:
    """``survey.csv`` → ``survey.codebook.csv``."""
    return out.with_name(f"{out.stem}.{name}{out.suffix}")


def csv_files(out: Path) -> list[Path]:
    """The four files a CSV export writes: the table and, beside it, its codebook, needs and
    undetermined rules (each is checked before any is written)."""
    return [out, *(companion(out, name) for name in ("codebook", "needs", "undetermined"))]


def export_csv(
    form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport], out: Path
) -> list[Path]:
    """Wide CSV plus ``.codebook.csv``, ``.needs.csv`` and ``.undetermined.csv`` beside it;
    all or nothing."""
    fields = data_fields(form)
    header = [*FIXED_COLUMNS, *(f.id for f in fields)]
    rows = (
        [
            r.code,
            r.status,
            *review_cells(r),
            *(encode(f, v) for f, v in zip(fields, asked(fields, r, reports[r.code]), strict=True)),
        ]
        for r in records
    )
    targets = csv_files(out)
    with (
        atomic_file(targets[0]) as t0,
        atomic_file(targets[1]) as t1,
        atomic_file(targets[2]) as t2,
        atomic_file(targets[3]) as t3,
    ):
        _write_csv(t0, header, rows)
        _write_csv(t1, CODEBOOK_COLUMNS, codebook_rows(form))
        _write_csv(
            t2,
            NEEDS_COLUMNS,
            (row for r in records for row in need_rows(form, r.code, r.status, reports[r.code])),
        )
        _write_csv(t3, UNDETERMINED_COLUMNS, _undetermined(form, records, reports))
    return targets


def export_xlsx(
    form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport], out: Path
) -> None:
    """One workbook: buildings (wide), codebook, needs, undetermined."""
    book = io.BytesIO()  # a zip openpyxl half-wrote to a full disk spilled tracebacks
    _workbook(form, records, reports).save(book)  # when it was collected, after our sentence
    with atomic_file(out) as tmp:
        tmp.write_bytes(book.getbuffer())


def _workbook(form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport]) -> Any:
    from openpyxl import Workbook

    fields = data_fields(form)
    book = Workbook(write_only=True)
    _table(
        book,
        "buildings",
        [*FIXED_COLUMNS, *(f.id for f in fields)],
        (
            [
                r.code,
                r.status,
                *_xlsx_review_cells(r),
                *(
                    _xlsx_cell(f, v)
                    for f, v in zip(fields, asked(fields, r, reports[r.code]), strict=True)
                ),
            ]
            for r in records
        ),
    )
    _table(book, "codebook", CODEBOOK_COLUMNS, codebook_rows(form))
    needs = (row for r in records for row in need_rows(form, r.code, r.status, reports[r.code]))
    _table(book, "needs", NEEDS_COLUMNS, needs)
    _table(book, "undetermined", UNDETERMINED_COLUMNS, _undetermined(form, records, reports))
    return book


def _table(book: Any, name: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """One sheet: its header row frozen (it stays in view while scrolling) and filtered (a
    drop-down on each column), then the rows."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(name)
    sheet.freeze_panes = "A2"  # a write-only sheet takes it before its first row
    columns = list(header)
    _append(sheet, columns)
    count = 1
    for row in rows:
        _append(sheet, list(row))
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count}"


def _append(sheet: Any, values: list[Any]) -> None:
    """Append a row whose every text is a string cell in the text format: openpyxl makes a text
    starting with "=" a formula, so an inspector's remark "=1+1 见附件" was exported as one
    (and read back as something else, or evaluated by Excel); and a date is a date cell that
    reads as one."""
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.number_format = "@"  # typed over in Excel, it stays text
            cells.append(cell)
        elif isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        else:
            cells.append(value)
    sheet.append(cells)


def geojson_document(
    form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport]
) -> tuple[dict[str, Any], int]:
    """An RFC 7946 FeatureCollection of buildings with a location; and how many had none."""
    features = []
    missing = 0
    sub = form.fields["subdistrict"]
    for r in records:
        report = reports[r.code]
        # The answers the form asks (none of these is conditional in the census form; a
        # district's form may make one so).
        a = {k: v for k, v in r.answers.items() if k in report.relevant}
        point = a.get("location")
        if not isinstance(point, dict) or "lat" not in point or "lon" not in point:
            missing += 1
            continue
        features.append(
            {
                "type": "Feature",
                "id": r.code,
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(point["lon"]), float(point["lat"])],
                },
                "properties": {
                    "code": r.code,
                    "status": r.status,
                    "open_conflicts": r.open_conflicts,
                    "possible_duplicate": r.possible_duplicate,
                    "subdistrict": sub.choice_label(a["subdistrict"], "zh")
                    if isinstance(a.get("subdistrict"), str)
                    else None,
                    "compound_name": a.get("compound_name"),
                    "building_no": a.get("building_no"),
                    "address": a.get("address"),
                    "year_built": a.get("year_built"),
                    "household_count": a.get("household_count"),
                    "needs": report.need_ids,
                    "priority1": sum(n.priority == 1 for n in report.needs),
                    "classes": report.class_counts,
                    "indicators": [k for k, v in report.indicators.items() if v],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}, missing


def export_geojson(
    form: Form, records: list[BuildingRecord], reports: Mapping[str, NeedsReport], out: Path
) -> int:
    """Write the points; returns how many selected buildings had no location."""
    doc, missing = geojson_document(form, records, reports)
    with atomic_file(out) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return missing
