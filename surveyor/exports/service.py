"""Export entry points shared by the CLI and the TUI: select, derive, prepare, render, write.

Every function validates its inputs (selection, font, layout, output path) before any page is
drawn, and writes through a temporary file, so a mistake costs nothing and leaves nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as with_changes
from pathlib import Path

from surveyor.errors import SurveyorError
from surveyor.exports import notices
from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.labels import (
    DEFAULT_LABEL_LAYOUT,
    LABEL_FIELDS,
    LabelData,
    LabelLayout,
    load_layout,
    prepare_label,
)
from surveyor.exports.layoutfile import layout_path
from surveyor.exports.output import atomic_file, atomic_folder, check_target
from surveyor.exports.render import RenderSpec, default_jobs, drawn, render_pdf, render_split
from surveyor.exports.sheetdata import SheetData, prepare_sheet, printed_text_fields, under_review
from surveyor.exports.sheetlayout import DEFAULT_SHEET_LAYOUT, SheetLayout, load_sheet_layout
from surveyor.exports.source import BuildingRecord, blob_dir, require_some, select_buildings
from surveyor.forms.model import Form, Localized
from surveyor.i18n import t_in
from surveyor.paths import require_apart_from_database
from surveyor.retrofit import derive_needs
from surveyor.retrofit.derive import NeedsReport
from surveyor.retrofit.model import Params, RuleSet
from surveyor.services.selection import Selection
from surveyor.store.db import Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    """What was written, for the one-line summary."""

    path: Path
    buildings: int
    pages: int = 0
    files: int = 1
    #: Selected buildings left out of the file: a GeoJSON has no point for a building
    #: without a location.
    left_out: int = 0
    #: What was written but may print wrong (``exports.notices``), said after the summary.
    warnings: tuple[Localized, ...] = ()


@dataclass(frozen=True)
class Context:
    """The definitions an export works with."""

    form: Form
    rules: RuleSet
    params: Params


def check_outputs(
    store: Store, outs: list[Path], *, folder: bool = False, replace: bool = False
) -> None:
    """Every path an export will write, checked before any is written: none may be the
    database it reads (or its journal or photo folder), whatever ``replace`` says."""
    for out in outs:
        if store.is_sqlite:
            require_apart_from_database(out, Path(store.target), folder=folder)
        check_target(out, folder=folder, replace=replace)


def selected(store: Store, selection: Selection) -> list[BuildingRecord]:
    """The selected buildings; an empty selection is an error (nothing is written)."""
    records = select_buildings(store, selection)
    require_some(records, selection)
    return records


def sheet_data(
    ctx: Context, store: Store, records: list[BuildingRecord], layout: SheetLayout
) -> list[SheetData]:
    blobs = blob_dir(store)
    return [
        prepare_sheet(
            ctx.form,
            r.code,
            r.status,
            r.answers,
            derive_needs(ctx.form, ctx.rules, ctx.params, r.answers),
            layout,
            blobs,
            under_review(ctx.form, r.conflict_fields, r.possible_duplicate, r.duplicate_of),
        )
        for r in records
    ]


def label_data(ctx: Context, records: list[BuildingRecord]) -> list[LabelData]:
    return [
        prepare_label(
            r.code, r.status, r.answers, derive_needs(ctx.form, ctx.rules, ctx.params, r.answers)
        )
        for r in records
    ]


def export_sheets(
    ctx: Context,
    store: Store,
    selection: Selection,
    out: Path,
    *,
    layout: str = DEFAULT_SHEET_LAYOUT,
    split: bool = False,
    font: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    replace: bool = False,
) -> ExportResult:
    """Retrofit-need sheets, one A4 page per building (more when its needs do not fit one): one
    PDF, or one file each."""
    check_outputs(store, [out], folder=split, replace=replace)
    font_path = str(setup_font(font).path)
    sheet_layout = load_sheet_layout(layout, ctx.form, register_font(font_path))
    spec = RenderSpec(font_path, sheet_layout)
    records = selected(store, selection)
    items = sheet_data(ctx, store, records, sheet_layout)
    fields = printed_text_fields(ctx.form, sheet_layout)
    warned = [
        *notices.static_glyph_notices(
            sheet_layout, layout_path(layout), ctx.form, register_font(font_path)
        ),
        *notices.glyph_notices(ctx.form, records, fields, register_font(font_path)),
    ]
    result = _render(spec, items, out, split, jobs, progress, cancel)
    return with_changes(result, warnings=tuple(warned))


def export_labels(
    ctx: Context,
    store: Store,
    selection: Selection,
    out: Path,
    *,
    layout: str = DEFAULT_LABEL_LAYOUT,
    split: bool = False,
    font: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    replace: bool = False,
    start: int = 1,
) -> ExportResult:
    """QR label sheets in a layout from ``exports/``; the first label at position ``start``
    of the first sheet (1-based, row by row), so a partly used sheet is used up."""
    check_outputs(store, [out], folder=split, replace=replace)
    font_path = str(setup_font(font).path)
    label_layout = load_layout(layout)
    check_start(start, label_layout, split)
    spec = RenderSpec(font_path, label_layout)
    records = selected(store, selection)
    items: list[LabelData | None] = [None] * (start - 1)
    items += label_data(ctx, records)
    warned = [
        *notices.margin_notices(label_layout),
        *notices.duplicate_label_notices(records),
        *notices.glyph_notices(ctx.form, records, LABEL_FIELDS, register_font(font_path)),
    ]
    result = _render(spec, items, out, split, jobs, progress, cancel)
    return with_changes(result, warnings=tuple(warned))


def check_start(start: int, labels: LabelLayout, split: bool) -> None:
    """Refuse a start position that is not on the stock's sheet (naming how many labels a
    sheet has), or one given with one file per building, which has no sheet to start on."""
    n = labels.per_page
    if not 1 <= start <= n:
        raise SurveyorError(
            f"label position {start} is not on the {labels.layout} sheet ({n} labels a page); "
            f"start at 1 to {n}; nothing was written",
            zh=f"标签位置 {start} 不在 {labels.layout} 标签纸上（每页 {n} 个）；"
            f"起始位置应为 1 到 {n}；未写入任何文件",
        )
    if split and start > 1:
        raise SurveyorError(
            "a start position is for one PDF of label sheets, not for --split (one file per "
            "building); nothing was written",
            zh="起始位置用于一个标签 PDF，不能与 --split（每栋一个文件）同用；未写入任何文件",
        )


def check_layout_file(path: Path, form: Form, lang: str = "en") -> str | None:
    """``forms check`` of a print layout: its one-line summary in ``lang``, or None when the
    file is not a layout; raises FormError naming every problem's line."""
    from surveyor.exports.layoutfile import looks_like
    from surveyor.forms.yamlsource import load_yaml

    # A stock whose 'layout:' is mistyped is still a stock: it was checked as a census form.
    kind = looks_like(load_yaml(path))
    warnings: list[Localized] = []
    if kind == "label":
        labels = load_layout(str(path))
        said = t_in(lang, "check.ok_labels", path=path, layout=labels.layout, n=labels.per_page)
        warnings = notices.margin_notices(labels)
    elif kind == "sheet":
        font = register_font(str(setup_font().path))
        sheet = load_sheet_layout(str(path), form, font)
        warnings = notices.static_glyph_notices(sheet, path, form, font)
        said = t_in(
            lang,
            "check.ok_sheet",
            path=path,
            layout=sheet.sheet,
            facts=len(sheet.key_facts),
            elements=len(sheet.elements),
        )
    else:
        return None
    return t_in(lang, "check.warning").join([said, *(n.get(lang) for n in warnings)])


def _render(
    spec: RenderSpec,
    items: list[SheetData] | list[LabelData | None],
    out: Path,
    split: bool,
    jobs: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> ExportResult:
    n_jobs = jobs or default_jobs()
    if split:
        with atomic_folder(out) as tmp:
            files = render_split(
                spec,
                [i for i in items if i is not None],  # --split has no blank positions
                tmp,
                jobs=n_jobs,
                progress=progress,
                cancel=cancel,
            )
        return ExportResult(out, len(items), files, files)
    with atomic_file(out) as tmp:
        pages = render_pdf(spec, items, tmp, jobs=n_jobs, progress=progress, cancel=cancel)
    return ExportResult(out, drawn(items), pages)


def reports_for(ctx: Context, records: list[BuildingRecord]) -> dict[str, NeedsReport]:
    """Needs of every selected building, by code."""
    return {r.code: derive_needs(ctx.form, ctx.rules, ctx.params, r.answers) for r in records}


def export_report(
    ctx: Context,
    store: Store,
    selection: Selection,
    out: Path,
    *,
    font: Path | None = None,
    replace: bool = False,
) -> ExportResult:
    """The district report (charts, then the plan tables) as PDF."""
    from surveyor.exports.report import PAGES, selection_line, summarize, write_report

    check_outputs(store, [out], replace=replace)
    name = register_font(str(setup_font(font).path))
    records = selected(store, selection)
    summary = summarize(ctx.form, records, reports_for(ctx, records), ctx.rules)
    with atomic_file(out) as tmp:
        title = selection_line(selection.describe("zh"), selection.describe("en"))
        write_report(tmp, summary, name, title)
    return ExportResult(out, len(records), PAGES)


def export_table(
    ctx: Context, store: Store, selection: Selection, out: Path, kind: str, *, replace: bool = False
) -> ExportResult:
    """csv, xlsx or geojson of the selected buildings."""
    from surveyor.exports import data

    # A CSV's companions too: survey.codebook.csv was replaced without --force.
    check_outputs(store, data.csv_files(out) if kind == "csv" else [out], replace=replace)
    records = selected(store, selection)
    reports = reports_for(ctx, records)
    if kind == "csv":
        paths = data.export_csv(ctx.form, records, reports, out)
        return ExportResult(out, len(records), files=len(paths))
    if kind == "xlsx":
        data.export_xlsx(ctx.form, records, reports, out)
        return ExportResult(out, len(records))
    missing = data.export_geojson(ctx.form, records, reports, out)
    return ExportResult(out, len(records) - missing, left_out=missing)


def left_out_text(result: ExportResult, lang: str) -> str:
    """What the summary adds for buildings left out of the file ("" when none were): they
    were dropped without a word, and an empty file looked like a finished one."""
    from surveyor.i18n import t_in

    if not result.left_out:
        return ""
    key = "export.no_location_at_all" if not result.buildings else "export.no_location"
    return t_in(lang, key, n=result.left_out)
