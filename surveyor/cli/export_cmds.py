"""``surveyor needs`` and ``surveyor export …``: retrofit needs and printed and data outputs.

Thin shells over ``surveyor.exports.service`` and ``surveyor.retrofit``; every mistake the user
can fix (unknown field, empty selection, unwritable path, unusable font) is a SurveyorError,
which the main entry point prints as one sentence with exit code 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from surveyor.cli.interruption import interruption_means
from surveyor.cli.options import DbOpt, EitherCentralOpt, FormOpt, LangOpt, reading_store

export_app = typer.Typer(
    help="Printed sheets, QR labels, the district report and data exports.",
    no_args_is_help=True,
)


@export_app.callback()
def _exports_write_when_whole() -> None:
    # Every export writes its file (or --split folder) only when whole: Ctrl-C writes nothing.
    interruption_means("cli.interrupted_export")


OutOpt = Annotated[Path, typer.Option("--out", help="Output file.")]
SplitOutOpt = Annotated[Path, typer.Option("--out", help="Output file (a folder with --split).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing output file.")]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="Only buildings whose answer matches, e.g. 街道=长虹街道 "
        "(field id or label; option code or label). Repeatable.",
    ),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        help="Only buildings with this status (e.g. complete). Repeatable: "
        "--status complete --status approved takes either.",
    ),
]
BuildingOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--building",
        help="Only this building (code or scanned QR text), e.g. to reprint one lost label. "
        "Repeatable.",
    ),
]
SplitOpt = Annotated[bool, typer.Option("--split", help="One file per building into a folder.")]
FontOpt = Annotated[
    Path | None, typer.Option("--font", help="TrueType CJK font (.ttf/.ttc) to embed.")
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", min=1, max=256, help="Worker processes (default: all cores)."),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Retrofit rules (default: forms/retrofit_rules.yaml)."),
]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="Rule parameters (default: forms/params.yaml).")
]


def _context(form: Path | None, rules: Path | None, params: Path | None) -> Any:
    from surveyor.exports.service import Context
    from surveyor.forms.catalog import get_form
    from surveyor.retrofit import get_params, get_rules

    f = get_form(form)
    p = get_params(params)
    return Context(f, get_rules(f, p, rules), p)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr, fed with (done, total)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(label, total=None)
    started = False

    def update(done: int, total: int) -> None:
        # Started on the first page, so a refused export prints only its error sentence.
        nonlocal started
        if not started:
            bar.start()
            started = True
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if started:
            bar.stop()


def needs_cmd(
    building: Annotated[str, typer.Argument(help="Building code, QR URI or id.")],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    lang: LangOpt = "en",
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Show a building's retrofit needs, flags and roadmap.

    And what needs checking."""
    from surveyor.retrofit import derive_needs
    from surveyor.services.survey import get_live_building

    ctx = _context(form, rules, params)
    with reading_store(db, central) as store:
        live = get_live_building(store, building)
    state = live.state
    for old in live.merged_from:
        typer.echo(
            f"{old} 是重复记录，已并入 {state.code}"
            if lang == "zh"
            else f"{old} was merged into {state.code} (a duplicate)",
            err=True,
        )
    report = derive_needs(ctx.form, ctx.rules, ctx.params, state.answers)
    if as_json:
        shown = _report_json(ctx.form, state.code, report) | {"merged_from": list(live.merged_from)}
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    _print_report(ctx.form, state.code, state.status, report, lang)


def _report_json(form: Any, code: str, report: Any) -> dict[str, Any]:
    """``needs --json``: the building's place, age and size (the needs export's columns) and
    each need's estimate as text and as numbers (``estimate_figures``, the same columns)."""
    from surveyor.exports.data import building_facts, estimate_figures

    return {
        "code": code,
        "building": building_facts(form, report),
        "rules_version": report.rules_version,
        "flags": {f.flag_id: f.value for f in report.flags},
        "notes": {n.note_id: n.value for n in report.notes},
        "needs": [
            {
                "rule": n.rule_id,
                "need": n.need,
                "title_zh": n.title.zh,
                "title_en": n.title.en,
                "category": n.category,
                "priority": n.priority,
                "class": n.need_class,
                "indicator": n.indicator,
                "scale": n.scale,
                "step": n.step,
                "cost": n.cost,
                "source": n.source.text,
                "source_status": n.source.status,
                "estimate": n.estimate.summary.en if n.estimate else None,
                **estimate_figures(n.estimate),
            }
            for n in report.needs
        ],
        "undetermined": [
            {
                "rule": u.rule_id,
                "check": list(u.fields),
                "awaiting": [a.ident for a in u.awaiting],
            }
            for u in report.undetermined
        ],
        "indicators": report.indicators,
        "classes": report.class_counts,
        "roadmap": [
            {"step": s.step, "low_cost": list(s.low_cost), "capital": list(s.capital)}
            for s in report.roadmap
        ],
        "defaulted": [{"input": d.label.en, "value": d.value} for d in report.defaulted],
    }


def _print_report(form: Any, code: str, status: str, report: Any, lang: str) -> None:
    """The needs in ``lang``: statuses, source statuses and the fields to check by their words
    (the Chinese output said '(complete)', '(confirmed)', 'low', 'capital' and field ids); each
    need's estimate under it, and the inputs that were defaults or worst-case assumptions, as
    the sheet prints them (only ``--json`` had them, so a need assumed from an unknown answer
    read as observed)."""
    from surveyor.exports.sheetdata import STATUS_ZH
    from surveyor.forms.display import status_label
    from surveyor.i18n import t_in
    from surveyor.text import colon

    zh = lang == "zh"
    count = f"{len(report.needs)} 项需求" if zh else f"{len(report.needs)} needs"
    typer.echo(f"{code} ({status_label(status, lang)}) — {count}")
    flags = [f"{f.flag_id} {f.title.get(lang)}" for f in report.flags if f.value]
    if flags:
        typer.echo(("标记：" if zh else "flags: ") + "; ".join(flags))
    notes = [f"{n.note_id} {n.title.get(lang)}" for n in report.notes if n.value]
    if notes:
        typer.echo(("提示：" if zh else "notes: ") + "; ".join(notes))
    for n in report.needs:
        source = STATUS_ZH.get(n.source.status, n.source.status) if zh else n.source.status
        typer.echo(
            f"  P{n.priority} {n.rule_id} {n.title.get(lang)} [{n.need_class}"
            f"{'/' + n.indicator if n.indicator else ''}] ({source})"
        )
        if n.estimate is not None:
            said = t_in(lang, "needs.estimate")
            typer.echo(f"      {said}{colon(lang)}{n.estimate.summary.get(lang)}")
    for u in report.undetermined:
        check = ("、" if zh else ", ").join(u.check_labels(form, lang)) or "-"
        typer.echo(
            ("  待核实 " if zh else "  needs check ")
            + f"{u.rule_id} {u.title.get(lang)}{colon(lang)}{check}"
        )
    for d in report.defaulted:
        said = t_in(lang, "needs.defaulted")
        typer.echo(f"  {said} {d.label.get(lang)}{colon(lang)}{d.value}")
    low, capital = ("低成本", "投资") if zh else ("low", "capital")
    for step in report.roadmap:
        if step.low_cost or step.capital:
            typer.echo(
                f"  {step.title.get(lang)}{colon(lang)}{low} {' '.join(step.low_cost) or '-'} | "
                f"{capital} {' '.join(step.capital) or '-'}"
            )


def _selection(
    ctx: Any, where: list[str] | None, status: list[str] | None, building: list[str] | None
) -> Any:
    from surveyor.services.selection import parse_selection

    return parse_selection(ctx.form, where or [], status, buildings=building)


def _done(result: Any, kind: str, lang: str) -> None:
    """What was written, in ``lang``: the file, the kind, how many buildings (pages, files),
    and how many selected buildings the file leaves out; then, on stderr, each warning of what
    may print wrong."""
    from surveyor.exports.service import left_out_text
    from surveyor.i18n import t_in

    said = t_in(
        lang,
        "export.cli_done",
        path=result.path,
        what=t_in(lang, f"export.kind_{kind}"),
        n=result.buildings,
    )
    if result.pages and result.files == 1:
        said += t_in(lang, "export.cli_pages", n=result.pages)
    if kind == "csv":  # its four files are one table
        said += t_in(lang, "export.cli_csv_beside")
    elif result.files > 1:
        said += t_in(lang, "export.cli_files", n=result.files)
    typer.echo(said)
    if left_out := left_out_text(result, lang):
        typer.echo(left_out)
    for warning in result.warnings:  # written, but may print wrong: the user decides
        typer.echo(warning.get(lang), err=True)


@export_app.command("sheets")
def export_sheets_cmd(
    out: SplitOutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    layout: Annotated[
        str,
        typer.Option("--layout", help="sheet_a4 or a sheet layout YAML file (docs/PRINTING.md)."),
    ] = "sheet_a4",
    split: SplitOpt = False,
    font: FontOpt = None,
    jobs: JobsOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """Retrofit-need sheets as PDF.

    A4, a page per building, more when needed."""
    from surveyor.exports.service import export_sheets

    ctx = _context(form, rules, params)
    selection = _selection(ctx, where, status, building)
    with reading_store(db, central) as store, _progress("sheets") as progress:
        result = export_sheets(
            ctx,
            store,
            selection,
            out,
            layout=layout,
            split=split,
            font=font,
            jobs=jobs,
            progress=progress,
            replace=force,
        )
    _done(result, "sheets", lang)


@export_app.command("labels")
def export_labels_cmd(
    out: SplitOutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    layout: Annotated[
        str, typer.Option("--layout", help="a4_3x8, l7160, thermal_50x30 or a layout YAML file.")
    ] = "a4_3x8",
    start: Annotated[
        int,
        typer.Option(
            "--start",
            help="Position of the first label on the first sheet (1 = top left, row by row), "
            "to use up a partly used sheet.",
        ),
    ] = 1,
    split: SplitOpt = False,
    font: FontOpt = None,
    jobs: JobsOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """QR label sheets for the selected buildings."""
    from surveyor.exports.service import export_labels

    ctx = _context(form, rules, params)
    selection = _selection(ctx, where, status, building)
    with reading_store(db, central) as store, _progress("labels") as progress:
        result = export_labels(
            ctx,
            store,
            selection,
            out,
            layout=layout,
            split=split,
            font=font,
            jobs=jobs,
            progress=progress,
            replace=force,
            start=start,
        )
    _done(result, "labels", lang)


@export_app.command("report")
def export_report_cmd(
    out: OutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    font: FontOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """The district report as PDF.

    Buildings, households, needs, indicators, classes, progress."""
    from surveyor.exports.service import export_report

    ctx = _context(form, rules, params)
    selection = _selection(ctx, where, status, building)
    with reading_store(db, central) as store:
        result = export_report(ctx, store, selection, out, font=font, replace=force)
    _done(result, "report", lang)


def _table(
    kind: str,
    out: Path,
    db: Path | None,
    central: str | None,
    where: list[str] | None,
    status: list[str] | None,
    building: list[str] | None,
    form: Path | None,
    rules: Path | None,
    params: Path | None,
    force: bool,
    lang: str,
) -> None:
    from surveyor.exports.service import export_table

    ctx = _context(form, rules, params)
    selection = _selection(ctx, where, status, building)
    with reading_store(db, central) as store:
        result = export_table(ctx, store, selection, out, kind, replace=force)
    _done(result, kind, lang)


@export_app.command("csv")
def export_csv_cmd(
    out: OutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """Wide CSV, one row per building.

    With a codebook, needs and undetermined rules beside it."""
    _table("csv", out, db, central, where, status, building, form, rules, params, force, lang)


@export_app.command("xlsx")
def export_xlsx_cmd(
    out: OutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """Excel workbook: buildings, codebook, needs, undetermined.

    Buildings wide, one row each."""
    _table("xlsx", out, db, central, where, status, building, form, rules, params, force, lang)


@export_app.command("geojson")
def export_geojson_cmd(
    out: OutOpt,
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    where: WhereOpt = None,
    status: StatusOpt = None,
    building: BuildingOpt = None,
    form: FormOpt = None,
    rules: RulesOpt = None,
    params: ParamsOpt = None,
    force: ForceOpt = False,
    lang: LangOpt = "en",
) -> None:
    """GeoJSON points (WGS-84) of the buildings that have a location."""
    _table("geojson", out, db, central, where, status, building, form, rules, params, force, lang)


def register(app: typer.Typer) -> None:
    """Add ``needs`` and the ``export`` group to the `surveyor` app."""
    app.command("needs")(needs_cmd)
    app.add_typer(export_app, name="export")
