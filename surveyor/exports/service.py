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

from surveyor.exports import notices
from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.labels import (
    DEFAULT_LABEL_LAYOUT,
    LABEL_FIELDS,
    LabelData,
    load_layout,
    prepare_label,
)
from surveyor.exports.output import atomic_file, atomic_folder, check_target
from surveyor.exports.render import RenderSpec, default_jobs, render_pdf, render_split
from surveyor.exports.sheetdata import SheetData, prepare_sheet, printed_text_fields, under_review
from surveyor.exports.sheetlayout import DEFAULT_SHEET_LAYOUT, SheetLayout, load_sheet_layout
from surveyor.exports.source import BuildingRecord, blob_dir, require_some, select_buildings
from surveyor.forms.model import Form, Localized
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
    #: What was written but may print wrong (``exports.notices``), said after the summary.
    warnings: tuple[Localized, ...] = ()


@dataclass(frozen=True)
class Context:
    """The definitions an export works with."""

    form: Form
    rules: RuleSet
    params: Params


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
    check_target(out, folder=split, replace=replace)
    font_path = str(setup_font(font).path)
    sheet_layout = load_sheet_layout(layout, ctx.form, register_font(font_path))
    spec = RenderSpec(font_path, sheet_layout)
    records = selected(store, selection)
    items = sheet_data(ctx, store, records, sheet_layout)
    fields = printed_text_fields(ctx.form, sheet_layout)
    warned = notices.glyph_notices(ctx.form, records, fields, register_font(font_path))
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
) -> ExportResult:
    """QR label sheets in a layout from ``exports/``."""
    check_target(out, folder=split, replace=replace)
    font_path = str(setup_font(font).path)
    label_layout = load_layout(layout)
    spec = RenderSpec(font_path, label_layout)
    records = selected(store, selection)
    items = label_data(ctx, records)
    warned = [
        *notices.margin_notices(label_layout),
        *notices.duplicate_label_notices(records),
        *notices.glyph_notices(ctx.form, records, LABEL_FIELDS, register_font(font_path)),
    ]
    result = _render(spec, items, out, split, jobs, progress, cancel)
    return with_changes(result, warnings=tuple(warned))


def check_layout_file(path: Path, form: Form) -> str | None:
    """``forms check`` of a print layout: its one-line summary, or None when the file is not a
    layout; raises FormError naming every problem's line."""
    from surveyor.exports.layoutfile import kind_of
    from surveyor.forms.yamlsource import load_yaml

    kind = kind_of(load_yaml(path))
    if kind == "label":
        labels = load_layout(str(path))
        said = f"{path}: ok (label layout {labels.layout}, {labels.per_page} per page)"
        return "; warning: ".join([said, *(n.en for n in notices.margin_notices(labels))])
    if kind == "sheet":
        sheet = load_sheet_layout(str(path), form, register_font(str(setup_font().path)))
        return (
            f"{path}: ok (sheet layout {sheet.sheet}, {len(sheet.key_facts)} key facts, "
            f"{len(sheet.elements)} elements)"
        )
    return None


def _render(
    spec: RenderSpec,
    items: list[SheetData] | list[LabelData],
    out: Path,
    split: bool,
    jobs: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> ExportResult:
    n_jobs = jobs or default_jobs()
    if split:
        with atomic_folder(out) as tmp:
            files = render_split(spec, items, tmp, jobs=n_jobs, progress=progress, cancel=cancel)
        return ExportResult(out, len(items), files, files)
    with atomic_file(out) as tmp:
        pages = render_pdf(spec, items, tmp, jobs=n_jobs, progress=progress, cancel=cancel)
    return ExportResult(out, len(items), pages)


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
    """The district report (charts) as PDF."""
    from surveyor.exports.report import summarize, write_report

    check_target(out, replace=replace)
    name = register_font(str(setup_font(font).path))
    records = selected(store, selection)
    summary = summarize(ctx.form, records, reports_for(ctx, records))
    with atomic_file(out) as tmp:
        write_report(tmp, summary, name, selection.describe())
    return ExportResult(out, len(records), 2)


def export_table(
    ctx: Context, store: Store, selection: Selection, out: Path, kind: str, *, replace: bool = False
) -> ExportResult:
    """csv, xlsx or geojson of the selected buildings."""
    from surveyor.exports import data

    check_target(out, replace=replace)
    records = selected(store, selection)
    reports = reports_for(ctx, records)
    if kind == "csv":
        paths = data.export_csv(ctx.form, records, reports, out)
        return ExportResult(out, len(records), files=len(paths))
    if kind == "xlsx":
        data.export_xlsx(ctx.form, records, reports, out)
        return ExportResult(out, len(records))
    missing = data.export_geojson(ctx.form, records, reports, out)
    return ExportResult(out, len(records) - missing)
