"""Importing the building register (the list of buildings to survey) from CSV or XLSX.

All rows are checked first; unless ``skip_bad`` is set, one bad row means nothing is imported.
A building already in the database (same 楼号 by ``building_number_key``, so 2号楼, 2栋 and 2
are one, in the same 街道 and 小区 or at the same normalised address) is skipped, so importing
the same register twice, or an update of it that writes 楼号 another way, adds nothing (its
other columns are not read). A row imported where a live building already stands (its 小区
and 楼号 in another 街道: ``survey.same_building``, the check the TUI's "new building" asks
with) is reported in ``same_place``: a central flags such a pair as a possible duplicate at
once, a laptop's only at the merge.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form, Localized
from surveyor.forms.record import AnswerError, coerce_answer, evaluate
from surveyor.i18n import t_in
from surveyor.services.selection import option_code
from surveyor.services.survey import (
    BUILDING,
    SameBuilding,
    SameBuildings,
    building_number_key,
    normalize_address,
    writer,
)
from surveyor.services.userfiles import read_user_text
from surveyor.store.db import Store
from surveyor.text import normalize_text

#: Accepted column headers (lower-cased) for each register field; the first Chinese one is
#: the header a missing column is named by.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "subdistrict": ("subdistrict", "街道", "街道办事处", "street_office"),
    "community": ("community", "社区", "社区居委会"),
    "compound_name": ("compound_name", "compound", "小区名称", "小区"),
    "building_no": ("building_no", "building", "楼号", "楼栋号"),
    "address": ("address", "门牌地址", "地址"),
}
REQUIRED_COLUMNS = ("subdistrict", "compound_name", "building_no", "address")

#: How Excel shows what it took for a date when a 楼号 such as 1-2 is typed into a cell not
#: formatted as text, and a CSV keeps it so: 2-Jan or Jan-32 (English), 1月2日 or 2024/1/2
#: (Chinese), or the date's serial number (45293) in a column formatted as a number. A 楼号
#: 2-1 (building 2, unit 1) as typed is none of these.
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_EXCEL_DATE = re.compile(
    rf"\d{{1,2}}-(?:{_MONTHS})(?:-\d{{2,4}})?"
    rf"|(?:{_MONTHS})-\d{{2,4}}"
    r"|(?:\d{4}年)?\d{1,2}月\d{1,2}日"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}/\d{1,2}/\d{4}"
    r"|\d{5}",
    re.IGNORECASE | re.ASCII,
)

#: A building as a register row names it, to find it again: ("compound", 街道, 小区, 楼号 key)
#: or ("address", normalised address, 楼号 key).
PlaceKey = tuple[str, str, str, str] | tuple[str, str, str]


@dataclass
class RowProblem:
    row: int
    field: str | None
    message: Localized


@dataclass
class ImportReport:
    imported: int = 0
    already_present: int = 0
    skipped_bad: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    #: Imported rows (by number) and the live building already at their place.
    same_place: list[tuple[int, SameBuilding]] = field(default_factory=list)


def _read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise SurveyorError(
        f"{path}: the register must be a .csv or .xlsx file",
        zh=f"{path}：楼栋清单须为 .csv 或 .xlsx 文件",
    )


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    # The csv module splits records itself: str.splitlines() also broke a row at characters
    # such as U+2028 inside a cell, importing half an address and reporting a row that is not
    # in the file.
    reader = csv.reader(io.StringIO(read_user_text(path), newline=""))
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:  # a cell over csv's 128 KB limit, or a NUL in an old Python
        n = len(rows) + 1
        raise SurveyorError(
            f"{path}:row {n}: cannot read the row ({exc})",
            zh=f"{path}：第 {n} 行：无法读取该行（{exc}）",
        ) from exc
    if not rows:
        raise SurveyorError(f"{path}: the file is empty", zh=f"{path}：文件是空的")
    return rows[0], ((i, r) for i, r in enumerate(rows[1:], start=2))


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    import openpyxl  # imported lazily: only register import needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise SurveyorError(
            f"{path}: not a readable .xlsx workbook ({exc})",
            zh=f"{path}：不是可读取的 .xlsx 工作簿（{exc}）",
        ) from exc
    sheet = book.worksheets[0]
    rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    if not rows:
        raise SurveyorError(f"{path}: the first sheet is empty", zh=f"{path}：第一个工作表是空的")
    return rows[0], ((i, r) for i, r in enumerate(rows[1:], start=2))


class DateCell(str):
    """A cell Excel stored as a date: 楼号 1-2 typed into a column not set to text becomes
    2 January, and was imported as "2024-01-02 00:00:00" or refused for its length."""


def _cell_text(value: object) -> str:
    """An .xlsx cell as the text typed into it: 4.0 (a number cell) is "4" (it was imported
    as 楼号 "4.0", apart from 4号楼's sort and duplicate checks); a date is marked."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.date | datetime.datetime):
        shown = value.date() if isinstance(value, datetime.datetime) else value
        return DateCell(shown.isoformat())
    return str(value)


def _map_headers(path: Path, headers: list[str]) -> dict[str, int]:
    lookup = {alias.lower(): key for key, aliases in HEADER_ALIASES.items() for alias in aliases}
    mapping: dict[str, int] = {}
    for idx, header in enumerate(headers):
        key = lookup.get(normalize_text(header).lower())
        if key is None:
            continue
        if key in mapping:
            # Which of the two to read is a guess: the first won, and a row whose value was
            # in the second was refused for an empty column it had filled.
            first, second = normalize_text(headers[mapping[key]]), normalize_text(header)
            name = _column_name(key)
            a, b = mapping[key] + 1, idx + 1
            raise SurveyorError(
                f"{path}:1: columns {a} ({first}) and {b} ({second}) are both the {name} "
                "column; keep one",
                zh=f"{path}：第 1 行：第 {a} 列（{first}）和第 {b} 列（{second}）都是{name}列，"
                "请只保留一列",
            )
        mapping[key] = idx
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        _refuse_other_separators(path, headers)
        raise SurveyorError(
            f"{path}:1: missing column(s): {'; '.join(_column_names(c, 'en') for c in missing)}",
            zh=f"{path}：第 1 行：缺少列：{'；'.join(_column_names(c, 'zh') for c in missing)}",
        )
    return mapping


def _refuse_other_separators(path: Path, headers: list[str]) -> None:
    """Refuse a header whose columns are separated by tabs or semicolons, saying so: read
    with commas it is one cell, and the file was refused for missing every column it names."""
    said = " ".join(headers)
    for mark, word in (("\t", "tab"), (";", "semicolon"), ("；", "semicolon")):
        if mark in said:
            sep = {lang: t_in(lang, f"register.separator_{word}") for lang in ("en", "zh")}
            raise SurveyorError(
                t_in("en", "register.not_comma_separated", file=path, sep=sep["en"]),
                zh=t_in("zh", "register.not_comma_separated", file=path, sep=sep["zh"]),
            )


def _column_name(key: str) -> str:
    """A register column as its author knows it: its first Chinese header (楼号)."""
    return next(a for a in HEADER_ALIASES[key] if not a.isascii())


def _column_names(key: str, lang: str) -> str:
    """A missing column as a register's author knows it: its Chinese header (楼号), then
    every header accepted for it (the field id alone, 'building_no (building)', said little)."""
    name = _column_name(key)
    accepted = "、".join(HEADER_ALIASES[key]) if lang == "zh" else ", ".join(HEADER_ALIASES[key])
    return f"{name}（可用列名：{accepted}）" if lang == "zh" else f"{name} (accepted: {accepted})"


def import_register(
    store: Store, form: Form, path: Path, *, author: str, skip_bad: bool = False
) -> ImportReport:
    """Check every row, then create the buildings in one transaction."""
    headers, rows = _read_rows(path)
    columns = _map_headers(path, headers)
    report = ImportReport()
    good: list[tuple[int, dict[str, Any]]] = []
    seen: dict[PlaceKey, int] = {}
    existing = _places_here(store)
    width = len(_without_trailing_blanks(headers))
    for rowno, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        extra = _too_many_cells(cells, width, rowno, csv_file=path.suffix.lower() == ".csv")
        if extra is not None:
            report.problems.append(extra)
            continue
        raw = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
        raw["district"] = "nankai"
        street = normalize_text(raw["subdistrict"])
        raw["subdistrict"] = option_code(form, "subdistrict", street) or street  # else refused
        answers, problems = _check_row(form, raw, rowno)
        if not problems:
            keys = _place_keys(
                answers["subdistrict"],
                answers["compound_name"],
                answers["building_no"],
                normalize_address(answers["address"]),
            )
            if not existing.isdisjoint(keys):
                report.already_present += 1
                continue
            if (first := next((seen[k] for k in keys if k in seen), None)) is not None:
                same = Localized(
                    zh=f"与第 {first} 行是同一栋楼", en=f"same building as row {first}"
                )
                problems.append(RowProblem(rowno, "building_no", same))
            for k in keys:
                seen.setdefault(k, rowno)
        if problems:
            report.problems.extend(problems)
            continue
        good.append((rowno, answers))
    if report.problems and not skip_bad:
        return report
    report.skipped_bad = len({p.row for p in report.problems})
    with writer(store, form, author) as w:
        here = SameBuildings(w.conn)
        for rowno, answers in good:
            # Before the row's own insert; rows imported earlier in this file count too.
            if (there := here.find(answers)) is not None:
                report.same_place.append((rowno, there))
            here.add(w.create(answers), answers)
            report.imported += 1
    return report


def _places_here(store: Store) -> set[PlaceKey]:
    """The ``_place_keys`` of every building in the database (deleted ones too: a register
    imported again does not bring back a building deleted on purpose)."""
    columns = (
        BUILDING.c.subdistrict,
        BUILDING.c.compound_name,
        BUILDING.c.building_no,
        BUILDING.c.address_norm,
    )
    with store.engine.connect() as conn:
        return {key for row in conn.execute(sa.select(*columns)) for key in _place_keys(*row)}


def _place_keys(
    subdistrict: str | None, compound: str | None, number: str | None, address: str | None
) -> tuple[PlaceKey, ...]:
    """The keys a building is found again by: its 楼号 (``building_number_key``) in its 街道
    and 小区, and at its normalised ``address``. Comparing 楼号 as written, an updated register
    writing 2号楼 as 2 added every building a second time."""
    number_key = building_number_key(number)
    keys: list[PlaceKey] = [("compound", subdistrict or "", compound or "", number_key)]
    if address and number_key:
        keys.append(("address", address, number_key))
    return tuple(keys)


def _without_trailing_blanks(cells: list[str]) -> list[str]:
    """``cells`` without the empty cells at the end: Excel writes trailing commas (and a sheet
    pads every row to its widest one), and those blanks carry nothing."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _too_many_cells(
    cells: list[str], width: int, rowno: int, *, csv_file: bool
) -> RowProblem | None:
    """A row holding more (non-blank-trailing) cells than the header has columns, as a problem.

    Such a row is usually an address with an unquoted comma: importing it would silently drop
    the cells past the header (the end of the address), so it is refused like any bad row."""
    n = len(_without_trailing_blanks(cells))
    if n <= width:
        return None
    zh_hint, en_hint = ("（含逗号的值要加引号）", " (quote a value that contains a comma)")
    return RowProblem(
        rowno,
        None,
        Localized(
            zh=f"有 {n} 个单元格，但表头只有 {width} 列" + (zh_hint if csv_file else ""),
            en=f"{n} cells but the header has {width}" + (en_hint if csv_file else ""),
        ),
    )


def _check_row(
    form: Form, raw: dict[str, str], rowno: int
) -> tuple[dict[str, Any], list[RowProblem]]:
    problems: list[RowProblem] = []
    answers: dict[str, Any] = {}
    for fid, text in raw.items():
        if isinstance(text, DateCell):
            said = Localized(
                zh=f"Excel 把它存成了日期（{text}）；请把该列设为文本格式后重新输入",
                en=f"Excel stored it as a date ({text}); format the column as text and retype it",
            )
            problems.append(RowProblem(rowno, fid, said))
            continue
        if fid == "building_no" and _EXCEL_DATE.fullmatch(normalize_text(text)):
            said = Localized(
                zh=t_in("zh", "register.looks_like_date", text=normalize_text(text)),
                en=t_in("en", "register.looks_like_date", text=normalize_text(text)),
            )
            problems.append(RowProblem(rowno, fid, said))
            continue
        try:
            value = coerce_answer(form.field(fid), text)
        except AnswerError as exc:
            problems.append(RowProblem(rowno, fid, exc.message))
            continue
        if value is None and fid in REQUIRED_COLUMNS:
            problems.append(RowProblem(rowno, fid, Localized(zh="为空", en="is empty")))
            continue
        if value is not None:
            answers[fid] = value
    if not problems:
        ev = evaluate(form, answers)
        for fid in answers:
            if fid in ev.errors:
                problems.append(RowProblem(rowno, fid, ev.errors[fid]))
    return answers, problems
