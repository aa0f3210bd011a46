"""``surveyor …`` commands. Each is a thin shell over a service function.

Errors the user can act on are one sentence on stderr and exit code 2; anything unexpected is
logged with its traceback to the log folder and reported in one line (exit code 1).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from surveyor import logfile, paths
from surveyor.cli.options import (
    AppLangOpt,
    ByOpt,
    DbOpt,
    EitherCentralOpt,
    FormOpt,
    LangOpt,
    chosen_store,
    db_path,
    pass_db_down,
    print_table,
    reading_store,
)
from surveyor.errors import SurveyorError, ValidationFailed, damaged_database, database_trouble
from surveyor.text import colon

if TYPE_CHECKING:
    from surveyor.forms.model import Form
    from surveyor.services.survey import SaveResult
    from surveyor.store.db import Store

app = typer.Typer(
    name="surveyor",
    help="Offline census of existing residential buildings (Nankai District).",
    epilog="Where the settings file, the data, the photos and the log are: surveyor paths",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
)
forms_app = typer.Typer(help="Check form and rule definition files.", no_args_is_help=True)
register_app = typer.Typer(help="The register of buildings to survey.", no_args_is_help=True)
app.add_typer(forms_app, name="forms")
photo_app = typer.Typer(help="Attach photos to a building or take them off.", no_args_is_help=True)
app.add_typer(register_app, name="register")
app.add_typer(photo_app, name="photo")


def _author(store: Any, by: str | None) -> str:
    """Whose change it is (``options.author_name``): ``--by``, else the laptop's inspector,
    else the name in the settings file (a central has no inspector); else refused."""
    from surveyor.cli.options import author_name

    return author_name(by, store)


def _print_version(asked: bool) -> None:
    if asked:
        from surveyor import __version__

        typer.echo(f"surveyor {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    db: DbOpt = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Without a command, open the inspector app."""
    if ctx.invoked_subcommand is None:
        _run_app(db_path(db))
    else:
        pass_db_down(ctx, db)


def _run_app(db: Path, language: str | None = None, by: str | None = None) -> None:
    # A missing or non-SQLite file is refused here, before the screen is taken over, and so
    # is a central without a person's name (as `review`). The rest (schema, upgrade) is
    # checked by the app after its first frame: importing the store here would import
    # SQLAlchemy before it (docs/TUI.md, "Start-up").
    from surveyor.cli.options import app_author
    from surveyor.store.sqlitefile import require_sqlite_file

    if "://" not in str(db):
        require_sqlite_file(db)
    author = app_author(str(db), by)
    from surveyor.tui.app import run_app

    run_app(db, language=language, author=author)


@app.command("app")
def app_cmd(db: DbOpt = None, lang: AppLangOpt = None, by: ByOpt = None) -> None:
    """Open the inspector app on a database.

    On a central, say who you are with --by NAME (or the settings' name): every edit records it.
    """
    _run_app(db_path(db), lang, by)


@app.command()
def init(
    db: DbOpt = None,
    inspector: Annotated[
        str, typer.Option("--inspector", help="Your name, recorded on every change.")
    ] = "",
    lang: LangOpt = "en",
) -> None:
    """Create a new, empty survey database."""
    from surveyor.i18n import t_in
    from surveyor.store.db import init_store

    if not inspector.strip():
        raise SurveyorError(
            "give your name with --inspector NAME; it is recorded on every change",
            zh="请用 --inspector 姓名 给出你的名字；每条改动都会记下它",
        )
    path = db_path(db)
    if db is None:  # the default folder may not exist yet on a new laptop
        path.parent.mkdir(parents=True, exist_ok=True)
    store = init_store(path, role="laptop", inspector=inspector.strip())
    typer.echo(t_in(lang, "init.created", path=path, site=store.site_id))
    store.close()


def _parse_assignments(pairs: list[str]) -> list[tuple[str, str]]:
    """``field=value`` pairs as typed, in order: a field given twice stays visible here."""
    answers: list[tuple[str, str]] = []
    for pair in pairs:
        if "=" not in pair:
            raise SurveyorError(f"'{pair}' is not field=value", zh=f"「{pair}」不是 字段=值 的形式")
        key, value = pair.split("=", 1)
        answers.append((key.strip(), value))
    return answers


def _answers_by_field(form: Form, pairs: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The typed pairs by field id (a field by its id or its label: 建成年份=1984), and each
    field as it was typed. A field given twice is refused: '建成年份=1984 year_built=1990'
    saved 1990 without a word."""
    from surveyor.services.selection import field_id_for

    answers: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in _parse_assignments(pairs):
        fid = field_id_for(form, name) or name  # an unknown name is the service's error
        if fid in spelled:
            raise _field_twice(form, spelled[fid], name, fid)
        spelled[fid] = name
        answers[fid] = value
    return answers, spelled


def _named(form: Form, spelled: dict[str, str], fid: str, lang: str) -> str:
    """A field as the user typed it, else the form's label in ``lang``: an error in a field
    not typed (another field's check failing) was named by its raw id (insulation_year)."""
    from surveyor.sync.wording import field_name

    return spelled.get(fid) or field_name(form, fid, lang)


def _refused_as_typed(
    form: Form, exc: ValidationFailed, spelled: dict[str, str], lang: str
) -> SurveyorError:
    """A refused save with each field named as the user typed it (结构类型, not
    structure_type), in the line's own punctuation."""
    parts = [
        f"{_named(form, spelled, fid, lang)}{colon(lang)}{msg}" for fid, msg in exc.errors.items()
    ]
    if lang == "zh":
        return SurveyorError(exc.message, zh="未保存：" + "；".join(parts))
    return SurveyorError("refused: " + "; ".join(parts))


def _field_twice(form: Form, first: str, second: str, fid: str) -> SurveyorError:
    """A field given twice, in both languages, naming both spellings as typed."""
    from surveyor.i18n import t_in

    def said(lang: str) -> str:
        label = form.fields[fid].defn.label.get(lang) if fid in form.fields else None
        field = (
            fid if label is None else f"{label}（{fid}）" if lang == "zh" else f"{label} ({fid})"
        )
        key = "set.field_twice" if first == second else "set.same_field"
        return t_in(lang, key, first=first, second=second, field=field)

    return SurveyorError(said("en"), zh=said("zh"))


@app.command("set")
def set_cmd(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    assignments: Annotated[
        list[str], typer.Argument(help="field=value pairs (id or label); an empty value clears.")
    ],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    form: FormOpt = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Keep invalid values, marked as errors.")
    ] = False,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Answer fields of one building, checked as the app checks them.

    Fields by id or label; on a laptop (--db) or, for a supervisor, on the central
    (--central, with --by)."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.services.survey import save_answers

    the_form = get_form(form)
    answers, spelled = _answers_by_field(the_form, assignments)
    with chosen_store(db, central, readonly=False) as store:
        try:
            result = save_answers(
                store,
                the_form,
                building,
                answers,
                author=_author(store, by),
                draft=draft,
                lang=lang,
            )
        except ValidationFailed as exc:
            raise _refused_as_typed(the_form, exc, spelled, lang) from None
        role = store.role
    _say_saved(result, lang, on_central=role == "central")
    _say_kept_not_asked(the_form, result, spelled, lang)
    _say_still_conflicted(result, spelled, role, central or str(db_path(db)), lang)
    for fid, msg in result.errors.items():
        typer.echo(
            f"  ! {_named(the_form, spelled, fid, lang)}{colon(lang)}{msg.get(lang)}", err=True
        )
    for fid, msg in result.warnings.items():  # allowed, saved: the app's yellow notes
        field_name = _named(the_form, spelled, fid, lang)
        typer.echo(t_in(lang, "set.warning", field=field_name, message=msg.get(lang)))


def _say_saved(result: SaveResult, lang: str, *, on_central: bool = False) -> None:
    """What a save did, in ``lang``; an edit that took an approved record back to complete
    says so, or the supervisor's approval would vanish without a word. On a laptop, that a
    supervisor approves it again on the central: it told the inspector to approve it."""
    from surveyor.forms.display import status_label

    if result.change_id is None:
        typer.echo(f"{result.code}：未改动" if lang == "zh" else f"{result.code}: nothing changed")
    else:
        status_text = status_label(result.status, lang)
        typer.echo(
            f"{result.code}：已保存（{status_text}，完成度 {result.completeness:.0%}）"
            if lang == "zh"
            else f"{result.code}: saved ({status_text}, {result.completeness:.0%} complete)"
        )
    if result.back_to_draft:
        typer.echo(
            f"  改回草稿：有必答项未答（surveyor show {result.code} 可查看）"
            if lang == "zh"
            else f"  back to draft: a required answer is missing (surveyor show {result.code})"
        )
    if result.approval_withdrawn and on_central:
        typer.echo(
            f"  审核已撤销：{result.code} 已改动，需重新审核"
            f"（surveyor status {result.code} approved）"
            if lang == "zh"
            else f"  approval withdrawn: {result.code} changed, so it must be approved again "
            f"(surveyor status {result.code} approved)"
        )
    elif result.approval_withdrawn:  # a laptop approves nothing (``approves_here``)
        typer.echo(
            f"  审核已撤销：{result.code} 已改动，需主管在中心库上重新审核"
            if lang == "zh"
            else f"  approval withdrawn: {result.code} changed, so a supervisor must approve "
            "it again on the central"
        )


def _say_kept_not_asked(form: Form, result: SaveResult, spelled: dict[str, str], lang: str) -> None:
    """An answer saved that the form does not ask with the other answers (roof_free_area
    while roof_form is 不详): kept, as the app keeps it, but said, with the answer that hides
    it. "saved (complete, 100% complete)" alone let it pass for counted, and it resurfaced
    later, when the other answer changed."""
    from surveyor.forms.display import format_value
    from surveyor.i18n import t_in

    sep = "、" if lang == "zh" else " and "
    for fid, hiders in result.kept_not_asked.items():
        because = [
            t_in(lang, "set.hidden_by_blank", field=form.field(h).defn.label.get(lang))
            if value is None
            else t_in(
                lang,
                "set.hidden_by_answer",
                field=form.field(h).defn.label.get(lang),
                value=format_value(form.field(h), value, lang),
            )
            for h, value in hiders.items()
        ]
        said = t_in(
            lang,
            "set.kept_not_asked",
            field=spelled.get(fid, fid),
            not_asked=t_in(lang, "show.not_asked"),
            because=sep.join(because),
        )
        typer.echo(said)


def _say_still_conflicted(
    result: SaveResult, spelled: dict[str, str], role: str, target: str, lang: str
) -> None:
    """A saved field still in an open conflict: a save does not resolve it (the value is one
    of its values now), and the output said only "saved", so the supervisor took it as
    settled. On a central, how to resolve it; on a laptop, that a supervisor decides."""
    import shlex

    from surveyor.cli.sync_cmds import _typed_target
    from surveyor.i18n import t_in

    for fid in result.conflicts:
        if role == "central":
            central = shlex.quote(_typed_target(target))
            said = t_in(
                lang,
                "set.conflict_stays_open",
                field=spelled.get(fid, fid),
                code=result.code,
                field_id=fid,
                central=central,
            )
        else:
            said = t_in(lang, "set.conflict_stays_open_laptop", field=spelled.get(fid, fid))
        typer.echo(said)


@photo_app.command("add")
def photo_add(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    field: Annotated[str, typer.Argument(help="Photo field, by id or label.")],
    file: Annotated[Path, typer.Argument(help="The photo (JPEG, PNG, WebP, HEIC or GIF).")],
    caption: Annotated[str, typer.Option("--caption", help="What the photo shows.")] = "",
    db: DbOpt = None,
    form: FormOpt = None,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Attach a photo to a photo field of one building."""
    from surveyor.services.photos import attach_photo

    with _photo_target(db, form, field, lang) as (store, the_form, field_id):
        result = attach_photo(
            store,
            the_form,
            building,
            field_id,
            file,
            caption=caption,
            author=_author(store, by),
            lang=lang,
        )
    _say_saved(result, lang)


@photo_app.command("remove")
def photo_remove(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    field: Annotated[str, typer.Argument(help="Photo field, by id or label.")],
    which: Annotated[
        str, typer.Argument(help="The photo's number as 'show' lists it, or its hash's start.")
    ],
    db: DbOpt = None,
    form: FormOpt = None,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Take a photo off a photo field.

    The file stays stored: the history refers to it."""
    from surveyor.services.photos import remove_photo

    with _photo_target(db, form, field, lang) as (store, the_form, field_id):
        result = remove_photo(
            store, the_form, building, field_id, which, author=_author(store, by), lang=lang
        )
    _say_saved(result, lang)


@contextlib.contextmanager
def _photo_target(
    db: Path | None, form: Path | None, field: str, lang: str
) -> Iterator[tuple[Store, Form, str]]:
    """The open laptop database, the form and the photo field's id (given by id or label)."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.selection import field_id_for
    from surveyor.store.db import open_store

    the_form = get_form(form)
    store = open_store(db_path(db))
    try:
        yield store, the_form, field_id_for(the_form, field) or field
    finally:
        store.close()


@app.command()
def status(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    new_status: Annotated[
        str, typer.Argument(metavar="STATUS", help="complete, draft or approved")
    ],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    form: FormOpt = None,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Mark a building complete, approved, or back to draft.

    Complete is refused while answers are missing. On a laptop (--db) or, for a supervisor,
    on the central (--central, with --by)."""
    from surveyor.forms.catalog import get_form
    from surveyor.forms.display import status_label
    from surveyor.services.survey import set_status

    with chosen_store(db, central, readonly=False) as store:
        result = set_status(
            store,
            get_form(form),
            building,
            new_status,
            author=_author(store, by),
            lang=lang,
        )
    typer.echo(f"{result.code}{colon(lang)}{status_label(result.status, lang)}")


@app.command()
def delete(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete without asking (for scripts).")
    ] = False,
    form: FormOpt = None,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Delete a building (e.g. demolished).

    On a laptop (--db) or the central (--central): the delete is a change that syncs like an
    edit; one that races an edit is a conflict to review."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import error_from, t_in
    from surveyor.services.survey import get_building
    from surveyor.sync.actions import delete_building

    the_form = get_form(form)
    with chosen_store(db, central, readonly=False) as store:
        author = _author(store, by)
        state = get_building(store, building)
        if not yes:
            address = state.answers.get("address") or ""
            if not sys.stdin.isatty():
                raise error_from("delete.needs_yes", code=state.code)
            asked = t_in(lang, "delete.confirm", code=state.code, address=address)
            if not typer.confirm(asked, default=False):
                typer.echo(t_in(lang, "delete.not_deleted"))
                raise typer.Exit(1)
        delete_building(store, the_form, state.id, author=author)
    typer.echo(t_in(lang, "delete.done", code=state.code))


@app.command()
def show(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    form: FormOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: LangOpt = "en",
) -> None:
    """Show one building's answers, status and open problems.

    On a laptop (--db) or the central (--central)."""
    from surveyor.forms.catalog import get_form
    from surveyor.forms.record import evaluate, not_asked
    from surveyor.services.survey import get_building, kept_instead
    from surveyor.sync.review import open_conflicts_of

    the_form = get_form(form)
    with reading_store(db, central) as store:
        state = get_building(store, building)
        kept = kept_instead(store, state)
        conflicts = open_conflicts_of(store, state.id)
    ev = evaluate(the_form, state.answers)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "id": str(state.id),
                    "code": state.code,
                    "status": state.status,
                    "form_version": state.form_version,
                    "completeness": round(ev.completeness, 4),
                    "answers": state.answers,
                    # Kept answers the form does not ask under the others: left out of the
                    # sheet, the needs and the data exports.
                    "not_asked": not_asked(the_form, state.answers, ev),
                    "calculated": {f.id: ev.values.get(f.id) for f in the_form.calculation_order},
                    "errors": {f: m.get(lang) for f, m in ev.errors.items()},
                    "warnings": {f: m.get(lang) for f, m in ev.warnings.items()},
                    "missing": ev.missing,
                    "conflicts": state.conflict_count,
                    "open_conflicts": [_conflict_json(d) for d in conflicts],
                    "deleted": state.deleted,
                    "merged_into": None if kept is None else kept.code,
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return
    from surveyor.cli.render import print_building

    print_building(
        the_form, state, ev, lang, merged_into=kept, role=store.role, conflicts=conflicts
    )


def _conflict_json(d: Any) -> dict[str, Any]:
    """An open conflict for ``show --json``: the field, its kind, and each value with who set
    it and when (UTC, as stored)."""
    return {
        "field": d.field_key,
        "kind": d.kind,
        "values": [{"value": v.value, "by": v.author, "at": v.wall_time or None} for v in d.heads],
    }


@app.command("list")
def list_cmd(
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    subdistrict: Annotated[
        str | None, typer.Option(help="Only this 街道 (code or name, e.g. 万兴街道 or 万兴).")
    ] = None,
    status_: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Code, address, compound or building number.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """List the register's buildings with their survey status.

    On a laptop (--db) or the central (--central)."""
    from surveyor.forms.catalog import get_form
    from surveyor.forms.display import status_label
    from surveyor.i18n import t_in
    from surveyor.services.queries import list_buildings
    from surveyor.services.selection import parse_selection

    the_form = get_form(form)
    # Checked against the form: a mistyped 街道 or status is an error, not an empty list.
    selection = parse_selection(
        the_form,
        [f"subdistrict={subdistrict}"] if subdistrict else [],
        status_,
        option="--subdistrict",
    )
    code = dict(selection.where).get("subdistrict")
    with reading_store(db, central) as store:
        page = list_buildings(
            store, subdistrict=code, status=selection.statuses, search=search, limit=limit
        )
    streets = the_form.field("subdistrict")
    columns = ("code", "status", "completeness", "subdistrict", "compound", "building_no")
    if page.rows:
        print_table(
            [t_in(lang, f"list.col_{c}") for c in (*columns, "address")],
            [
                [
                    row.code,
                    status_label(row.status, lang),
                    f"{row.completeness:.0%}",
                    streets.choice_label(row.subdistrict, lang) if row.subdistrict else "",
                    row.compound_name or "",
                    row.building_no or "",
                    row.address or "",
                ]
                for row in page.rows
            ],
        )
    typer.echo(t_in(lang, "list.cli_count", shown=len(page.rows), total=page.total))


@app.command("export-db")
def export_db(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    db: DbOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    lang: LangOpt = "en",
) -> None:
    """Write a consistent copy of the database and its photos.

    For the supervisor, or as a backup (SQLite's backup API)."""
    from surveyor.cli.interruption import interruption_means
    from surveyor.i18n import t_in
    from surveyor.store.db import open_store
    from surveyor.store.maintenance import export_sqlite

    interruption_means("cli.interrupted_export")
    source = db_path(db)
    store = open_store(source, readonly=True, any_schema=True)
    try:
        done = export_sqlite(store, out, overwrite=force)
    finally:
        store.close()
    said = t_in(lang, "exportdb.done", path=out)
    if done.photos:
        said += t_in(lang, "exportdb.photos", n=done.photos, folder=paths.blob_dir_for(out))
    typer.echo(said)
    if done.photos_missing:
        typer.echo(
            t_in(
                lang,
                "exportdb.photos_missing",
                n=done.photos_missing,
                folder=paths.blob_dir_for(source),
            ),
            err=True,
        )


def _missing_photo_lines(report: Any, form: Path | None, lang: str) -> list[str]:
    """doctor's lines for photos missing from the photo folder, a field named by its label."""
    if not report.missing_photos:
        return []
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.sync.wording import field_name

    shown = get_form(form)
    return [
        t_in(
            lang,
            "doctor.photos_missing",
            code=m.code,
            field=field_name(shown, m.field_id, lang),
            n=m.count,
            folder=report.photo_folder,
        )
        for m in report.missing_photos
    ]


@app.command()
def doctor(
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    blobs: Annotated[
        Path | None,
        typer.Option(
            "--blobs",
            help="The photo folder to check (default: beside a SQLite file; for a "
            "postgresql:// central the one merge uses by default).",
        ),
    ] = None,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Check a database's integrity, its change log and its photos."""
    from surveyor.i18n import error_from, t_in
    from surveyor.store.db import database_labels
    from surveyor.store.maintenance import doctor as run_doctor
    from surveyor.sync.attachments import default_blob_dir

    with reading_store(db, central) as store:
        report = run_doctor(store, blobs or default_blob_dir(store.target))
    for key, value in report.facts.items():
        typer.echo(f"{t_in(lang, f'doctor.{key}')}{colon(lang)}{value}")
    if report.ok:
        typer.echo(t_in(lang, "doctor.ok"))
        return
    problems = [*report.problems, *_missing_photo_lines(report, form, lang)]
    for problem in problems:
        typer.echo(t_in(lang, "doctor.problem", problem=problem), err=True)
    if report.damaged:
        raise damaged_database(database_labels(store.target))
    raise error_from("doctor.problems", n=len(problems))


@forms_app.command("check")
def forms_check(
    files: Annotated[
        list[Path], typer.Argument(help="Form, rule, parameter or print layout YAML files.")
    ],
    lang: LangOpt = "en",
) -> None:
    """Validate form, rule, parameter and print layout files.

    Ids, types, expressions and references; layouts against the form and the page."""
    from surveyor.exports.service import check_layout_file
    from surveyor.forms.catalog import get_form
    from surveyor.forms.model import FormError, load_form
    from surveyor.i18n import t_in
    from surveyor.retrofit.check import check_rule_file

    failed = 0
    for file in files:
        try:
            # The kind of file is told by its top-level key.
            summary = check_rule_file(file, lang) or check_layout_file(file, get_form(), lang)
            if summary is not None:
                typer.echo(summary)
                continue
            form = load_form(file)
        except FormError as exc:
            failed += 1
            for problem in exc.problems_in(lang):
                typer.echo(problem, err=True)
            continue
        typer.echo(
            t_in(
                lang,
                "check.ok_form",
                path=file,
                form=form.defn.form,
                version=form.version,
                sections=len(form.sections),
                fields=len(form.fields),
            )
        )
    if failed:
        raise SurveyorError(f"{failed} file(s) have errors", zh=f"{failed} 个文件有错误")


@register_app.command("import")
def register_import(
    file: Annotated[Path, typer.Argument(help="Register as .csv or .xlsx.")],
    db: DbOpt = None,
    central: EitherCentralOpt = None,
    form: FormOpt = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows even if some are bad.")
    ] = False,
    by: ByOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Import the register of buildings to survey.

    Columns: address, 街道, 社区, 小区, 楼号. Into a laptop (--db) or the central
    (--central, with --by)."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import error_from, t_in
    from surveyor.services.register import import_register

    the_form = get_form(form)
    with chosen_store(db, central, readonly=False) as store:
        report = import_register(
            store, the_form, file, author=_author(store, by), skip_bad=skip_bad
        )
    for p in report.problems:
        said = p.message.get(lang)
        if p.field:
            name = the_form.field(p.field).defn.label.get(lang)
            said = t_in(lang, "register.field_problem", field=p.field, label=name, problem=said)
        typer.echo(t_in(lang, "register.row_problem", file=file, row=p.row, problem=said), err=True)
    if report.problems and not skip_bad:
        raise error_from("register.nothing_imported", n=len({p.row for p in report.problems}))
    for row, same in report.same_place:
        said = t_in(
            lang,
            "survey.same_building",
            code=same.code,
            place=same.place,
            address=same.address or "",
        )
        said = t_in(lang, "register.same_place", said=said)
        typer.echo(t_in(lang, "register.row_problem", file=file, row=row, problem=said), err=True)
    counts = {k: getattr(report, k) for k in ("imported", "already_present", "skipped_bad")}
    typer.echo(t_in(lang, "register.imported", **counts))


@app.command("paths")
def paths_cmd(db: DbOpt = None, lang: LangOpt = "en") -> None:
    """Show where the settings, data, photos, log and exports are.

    The database is the one --db names, else the default ($SURVEYOR_DB, else the data
    folder); exports are offered in the last folder shown."""
    from surveyor.i18n import t_in

    missing = t_in(lang, "paths.missing")
    rows: list[list[object]] = [
        [t_in(lang, f"paths.{what}"), where if where.exists() else f"{where} {missing}"]
        for what, where in paths.places(db_path(db))
    ]
    print_table(["", ""], rows)


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="Database file to create.")],
    buildings: Annotated[int, typer.Option("--buildings", min=1, max=200_000)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 2024,
    form: FormOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    lang: LangOpt = "en",
) -> None:
    """Generate a realistic, deterministic Nankai sample database."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.sample import generate_sample

    paths.require_not_a_folder(out)
    if out.exists():
        if not force:
            raise SurveyorError(
                f"{out} already exists; pass --force to replace it",
                zh=f"{out} 已存在；要替换请加 --force",
            )
        for suffix in ("", "-wal", "-shm"):
            Path(str(out) + suffix).unlink(missing_ok=True)
    summary = generate_sample(out, get_form(form), buildings=buildings, seed=seed, lang=lang)
    typer.echo(summary)


def _register_command_modules() -> None:
    # Sync/merge and export commands live in their own modules; each adds its commands here.
    from surveyor.cli import export_cmds, sync_cmds

    sync_cmds.register(app)
    export_cmds.register(app)


_register_command_modules()


def _flags_take_no_value(command: Any, ctx: typer.Context | None = None) -> None:
    """No type shown beside a flag in the help: Typer prints ``--json <bool>`` and
    ``--help <bool>``, which reads as if the flag took a value. Set through Click's own
    ``metavar`` and ``get_help_option``, on every command below ``command`` (one context
    names the help option for all: it only gives ``help_option_names``)."""
    ctx = ctx or typer.Context(command)
    for option in [*command.params, command.get_help_option(ctx)]:
        if option is not None and getattr(option, "is_flag", False):
            option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _flags_take_no_value(sub, ctx)


class Interrupted(BaseException):
    """Ctrl-C, as our SIGINT handler raises it. Not a KeyboardInterrupt: Typer turns that into
    a silent exit 130, and the user was not told that what was merged is kept."""


def _interrupt(_signum: int, _frame: object) -> None:
    """First Ctrl-C: stop the command. Every later one is ignored while it shuts down (its
    transaction rolls back, merge workers finish): a second one used to interrupt Python's
    own shutdown, print a traceback and leave the merge waiting forever for its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Interrupted


def run(argv: list[str] | None = None) -> None:
    """Entry point: run the command and turn every failure into a sentence and an exit code."""
    zh = _asked_for_zh(sys.argv[1:] if argv is None else argv)
    lang = "zh" if zh else "en"
    signal.signal(signal.SIGINT, _interrupt)
    _quiet_library_logs()
    from surveyor.cli.usage import usage_error_class, usage_lines

    try:
        # Not standalone: usage errors come here to be said in the asked language.
        command = typer.main.get_command(app)
        _flags_take_no_value(command)
        exit_code = command.main(args=argv, prog_name="surveyor", standalone_mode=False)
        if isinstance(exit_code, int) and exit_code:  # typer.Exit(N), returned, not raised
            sys.exit(exit_code)
    except usage_error_class() as exc:
        for line in usage_lines(exc, lang):
            typer.echo(line, err=True)
        sys.exit(2)
    except typer.Abort:  # Ctrl-D at a question: nothing was done
        _say_interrupted(zh)
    except SurveyorError as exc:
        typer.echo(f"错误：{exc.text('zh')}" if zh else f"error: {exc.message}", err=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt):
        _say_interrupted(zh)
    except OSError as exc:
        from surveyor.i18n import error_text

        said = error_text(exc, lang)
        typer.echo(f"错误：{said}" if zh else f"error: {said}", err=True)
        sys.exit(2)
    except Exception as exc:
        from surveyor.i18n import error_text

        if _interrupted_underneath(exc):
            _say_interrupted(zh)
        # SQLAlchemy is imported only by the commands that use it (not before `surveyor app`'s
        # first frame), so its errors are recognised through sys.modules.
        sa_exc = sys.modules.get("sqlalchemy.exc")
        operational = sa_exc is not None and isinstance(exc, sa_exc.OperationalError)
        if operational or database_trouble(exc, lang) is not None:  # e.g. a damaged file
            trouble = error_text(exc, lang)
            typer.echo(f"错误：{trouble}" if zh else f"error: {trouble}", err=True)
            sys.exit(2)
        # A bug: its traceback goes to the log, and the sentence says where.
        typer.echo(error_text(exc, lang), err=True)
        sys.exit(1)


def _say_interrupted(zh: bool) -> NoReturn:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from surveyor.cli.interruption import interruption_key
    from surveyor.i18n import t_in

    typer.echo(t_in("zh" if zh else "en", interruption_key()), err=True)
    sys.exit(130)


def _interrupted_underneath(exc: BaseException) -> bool:
    """Ctrl-C that another error replaced: interrupted inside PostgreSQL's COPY, the rollback
    on that connection fails ("another command is already in progress") and is raised
    instead. The transaction is gone either way (the server drops it with the connection)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, Interrupted | KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _quiet_library_logs() -> None:
    """Libraries' log records go to the log file, not the terminal: with no handler, Python
    prints them on stderr, and SQLAlchemy's pool logged a 110-line traceback there when a
    rollback failed after Ctrl-C."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(_LogFile())


class _LogFile(logging.Handler):
    """Appends warnings and errors to ``surveyor.log``, opened only when a record comes; a
    log that cannot be written is dropped rather than failing the command."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        logfile.append(self.format(record) + "\n")


def _asked_for_zh(argv: list[str]) -> bool:
    """Whether the command line asks for Chinese (``--lang zh``, else ``$SURVEYOR_LANG``): an
    error is said in it too, though it is raised before the command has read its options."""
    for a, b in itertools.pairwise(["", *argv]):
        if b.startswith("--lang="):
            return b == "--lang=zh"
        if a == "--lang":
            return b == "zh"
    return os.environ.get("SURVEYOR_LANG") == "zh"


if __name__ == "__main__":
    run()
