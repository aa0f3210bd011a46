"""CLI commands for the central store: init, merge, sync, assign, conflicts, progress.

Thin shells over ``surveyor.sync``; every refusal is a ``SurveyorError`` sentence (exit 2).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from surveyor.cli.options import (
    AppLangOpt,
    CentralOpt,
    DbOpt,
    FormOpt,
    LangOpt,
    SupervisorByOpt,
    author_name,
    db_path,
    name_for_hint,
    print_table,
)
from surveyor.errors import SurveyorError
from surveyor.text import colon

BlobsOpt = Annotated[
    Path | None, typer.Option("--blobs", help="Photo folder of the central (default: beside it).")
]

SyncBlobsOpt = Annotated[
    Path | None,
    typer.Option(
        "--blobs",
        help="The central's photo folder (a shared or mounted folder): default beside a SQLite "
        "central; a postgresql:// central gets no photos without it.",
    ),
]

#: The columns of 'surveyor conflicts list'.
CONFLICT_COLUMNS = ("code", "field", "kind", "status", "values", "address")

central_app = typer.Typer(help="The central store supervisors merge into.", no_args_is_help=True)
conflicts_app = typer.Typer(help="Review and resolve conflicting edits.", no_args_is_help=True)


def open_target(target: str, *, readonly: bool = False, central: bool = True) -> Any:
    """Open ``target`` as a central store (or, with ``central=False``, as a laptop database),
    refusing the other kind: merging into a laptop, or syncing a laptop with another laptop,
    would scatter the census over files no supervisor reads. Every command taking --central
    opens its store here (exports too: a "district report" of one laptop misleads)."""
    from surveyor.store.db import is_url, open_store

    if central and not is_url(target):
        _require_central_file(target)
    store = open_store(target, readonly=readonly)
    if central and store.role != "central":
        store.close()
        raise _not_a_central(target)
    if not central and store.role == "central":
        store.close()
        raise SurveyorError(
            f"{_shown(target)} is a central store, not a laptop database; "
            f"sync runs on a laptop's database (--db) with the central (--central)",
            zh=f"{_shown(target)} 是中心库，不是笔记本数据库；"
            "同步要用笔记本的数据库（--db）和中心库（--central）",
        )
    return store


@central_app.command("init")
def central_init(
    target: Annotated[str, typer.Argument(help="SQLite path or postgresql:// URL.")],
    lang: LangOpt = "en",
) -> None:
    """Create an empty central store (same schema as the laptops)."""
    from surveyor.i18n import t_in
    from surveyor.store.db import init_store

    store = init_store(target, role="central")
    typer.echo(t_in(lang, "central.created", target=_shown(target), site=store.site_id))
    store.close()


@central_app.command("upgrade")
def central_upgrade(
    target: Annotated[str, typer.Argument(help="SQLite path or postgresql:// URL.")],
    yes: Annotated[
        bool,
        typer.Option("--yes", help="A PostgreSQL central: it is backed up (pg_dump), go ahead."),
    ] = False,
    lang: LangOpt = "en",
) -> None:
    """Upgrade a central an older Surveyor wrote to the current schema.

    A SQLite central keeps a copy of the old file beside it; a PostgreSQL central is
    upgraded in place, by the owner of its tables, after a backup (pg_dump), so it asks for
    --yes."""
    from surveyor.i18n import error_from, t_in
    from surveyor.store.db import HEAD_REVISION, is_url, open_store, schema_revision

    if not is_url(target):
        _require_central_file(target)
    peek = open_store(target, readonly=True, any_schema=True)
    try:
        role, rev = peek.role, schema_revision(peek)
    finally:
        peek.close()
    if role != "central":
        raise _not_a_central(target)
    if rev == HEAD_REVISION:
        typer.echo(t_in(lang, "central.upgrade_current", target=_shown(target), rev=rev))
        return
    if is_url(target) and not yes:
        raise error_from("central.upgrade_needs_backup", target=_shown(target), rev=rev)
    open_store(target, upgrade=True).close()
    said = t_in(lang, "central.upgraded", target=_shown(target), old=rev, new=HEAD_REVISION)
    if not is_url(target):
        said += t_in(lang, "central.upgraded_copy", copy=f"{target}.schema-{rev}.bak")
    typer.echo(said)


@central_app.command("restored")
def central_restored_cmd(
    target: Annotated[str, typer.Argument(help="SQLite path or postgresql:// URL.")],
    since: Annotated[
        int | None,
        typer.Option(
            "--from",
            min=1,
            help="Written to after the restore: its own changes from this number on (the one "
            "a refused sync or merge names) move to the new id.",
        ),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            help="The id those changes carry, when the refusal names one the central wrote "
            "under before.",
        ),
    ] = None,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """A central put back from a backup: a new id for its changes.

    Laptops then send back what it lost (docs/SYNC.md, "Restoring a central")."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.sync.restore import central_restored

    store = open_target(target)
    try:
        done = central_restored(store, get_form(form), since=since, site=site)
    finally:
        store.close()
    typer.echo(t_in(lang, "central.restored", target=_shown(target), **vars(done)))
    if done.moved:
        typer.echo(t_in(lang, "central.restored_moved", **vars(done)))


def _not_a_central(target: str) -> SurveyorError:
    return SurveyorError(
        f"{_shown(target)} is an inspector's laptop database, not a central store; "
        f"give the central's path or URL (a new one is made by 'surveyor central init')",
        zh=f"{_shown(target)} 是普查员笔记本的数据库，不是中心库；"
        "请给出中心库的路径或网址（新建用「surveyor central init」）",
    )


def _require_central_file(path: str) -> None:
    if not Path(path).exists():
        raise SurveyorError(
            f"central store {path} does not exist; create it with 'surveyor central init {path}'",
            zh=f"中心库 {path} 不存在；请用「surveyor central init {path}」新建",
        )


def _shown(target: str) -> str:
    """A target for messages, without any password in a URL."""
    from surveyor.store.db import shown_target

    return shown_target(target)


def _typed_target(target: str) -> str:
    """A target for a command line to copy (``store.db.typed_target``)."""
    from surveyor.store.db import typed_target

    return typed_target(target)


def merge_cmd(
    files: Annotated[
        list[Path], typer.Argument(help="Laptop databases or their export-db copies.")
    ],
    into: CentralOpt,
    form: FormOpt = None,
    blobs: BlobsOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Merge laptop databases into the central store.

    One transaction per file."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import error_from, t_in
    from surveyor.sync.merge import FileReport, merge_files

    store = open_target(into)
    refused: list[FileReport] = []

    def show(report: FileReport) -> None:
        outcome = t_in(lang, f"merge.outcome_{report.outcome}")
        line = f"{report.path}{colon(lang)}{outcome}{colon(lang)}{report.text(lang)}"
        if report.outcome == "refused":
            refused.append(report)
        typer.echo(line, err=report.outcome == "refused")

    try:
        merge_files(store, files, get_form(form), blob_dir=blobs, on_report=show)
    finally:
        store.close()
    if refused:
        raise error_from(
            "merge.refused_summary", n=len(refused), total=len(files), first=refused[0]
        )


def sync_cmd(
    central: CentralOpt,
    db: DbOpt = None,
    form: FormOpt = None,
    blobs: SyncBlobsOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Push this laptop's changes to the central, then pull its work.

    In resumable batches."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.sync.transfer import sync

    laptop = open_target(str(db_path(db)), central=False)
    try:
        target = open_target(central)
        try:
            report = sync(laptop, target, get_form(form), central_blobs=blobs)
        finally:
            target.close()
    finally:
        laptop.close()
    typer.echo(t_in(lang, "sync.done", **vars(report)))
    if report.photos_kept:
        typer.echo(t_in(lang, "sync.photos_kept", n=report.photos_kept), err=True)
    if report.unknown_answers:
        typer.echo(
            t_in(lang, "sync.unknown_fields", n=report.unknown_answers, form=report.unknown_form)
        )
    if report.clock_ahead is not None:
        typer.echo(report.clock_ahead.text(lang), err=True)
    if report.no_assignments is not None:
        typer.echo(_no_assignments_warning(report.no_assignments, lang), err=True)
    if report.open_conflicts:
        typer.echo(t_in(lang, "sync.open_conflicts", n=report.open_conflicts))


def _no_assignments_warning(found: Any, lang: str) -> str:
    """The warning line for an inspector the central has no buildings assigned to."""
    from surveyor.i18n import t_in

    said = t_in(lang, "sync.no_assignments", inspector=found.inspector)
    if found.did_you_mean:
        names = ("、" if lang == "zh" else ", ").join(found.did_you_mean)
        said += t_in(lang, "sync.did_you_mean", names=names)
    return said


def assign_cmd(
    central: CentralOpt,
    inspector: Annotated[
        str | None, typer.Option("--inspector", help="Who gets the buildings.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="field=value, by id or label, e.g. 街道=万兴街道 (repeatable; all must hold).",
        ),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only buildings with this status.")
    ] = None,
    buildings: Annotated[
        Path | None,
        typer.Option(
            "--buildings",
            help="File with one building code or id a line (UTF-8 or GBK; a 编号/code header "
            "line and blank lines are skipped).",
        ),
    ] = None,
    by: SupervisorByOpt = None,
    new_inspector: Annotated[
        bool,
        typer.Option(
            "--new-inspector", help="The inspector has no buildings or edits yet (not a typo)."
        ),
    ] = False,
    unassign_them: Annotated[
        bool,
        typer.Option(
            "--unassign", help="Hand the buildings back to nobody (instead of --inspector)."
        ),
    ] = False,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Hand out buildings to an inspector; --unassign takes them back.

    The assignment (or its end) reaches the laptop on its next sync."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import error_from, t_in
    from surveyor.services.selection import parse_selection
    from surveyor.services.userfiles import read_building_list
    from surveyor.sync.actions import assign, unassign

    if unassign_them == (inspector is not None):
        raise error_from("assign.inspector_or_unassign")
    if bool(where or status) == bool(buildings):
        raise SurveyorError(
            "choose the buildings with either --where/--status or --buildings",
            zh="请用 --where/--status 或 --buildings 之一选择楼栋",
        )
    the_form = get_form(form)
    selection = parse_selection(the_form, where or [], status) if where or status else None
    refs = read_building_list(buildings) if buildings is not None else []
    author = author_name(by)
    store = open_target(central)
    try:
        if inspector is None:
            done = unassign(store, the_form, where=selection, refs=refs, author=author)
        else:
            done = assign(
                store,
                the_form,
                inspector,
                where=selection,
                refs=refs,
                author=author,
                require_known=not new_inspector,
            )
    finally:
        store.close()
    if inspector is None:
        typer.echo(t_in(lang, "assign.unassigned", n=done.count))
    else:
        typer.echo(t_in(lang, "assign.done", n=done.count, inspector=inspector.strip()))
    for previous, n in done.taken_from.items():
        typer.echo(t_in(lang, "assign.taken_from", n=n, previous=previous))


def progress_cmd(
    central: CentralOpt,
    form: FormOpt = None,
    lang: LangOpt = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (街道 codes).")] = False,
) -> None:
    """Buildings by 街道 and by inspector, by status.

    Not started, draft, complete, approved, conflicted."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.sync.progress import BUCKETS, progress
    from surveyor.sync.wording import group_name

    store = open_target(central, readonly=True)
    try:
        tables = progress(store)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({tb.title: tb.rows for tb in tables}, ensure_ascii=False, indent=2))
        return
    the_form = get_form(form)
    titles = (t_in(lang, "progress.by_subdistrict"), t_in(lang, "progress.by_inspector"))
    for index, (table, title) in enumerate(zip(tables, titles, strict=True)):
        rows = [
            [group_name(the_form, group, lang, by_subdistrict=index == 0), *counts.values()]
            for group, counts in table.rows.items()
        ]
        rows.append([t_in(lang, "progress.total"), *table.total.values()])
        print_table([title, *(t_in(lang, f"progress.{b}") for b in BUCKETS)], rows)
        typer.echo("")
    if conflicted := tables[0].total["conflicted"]:
        typer.echo(t_in(lang, "progress.conflicted_note", n=conflicted))


def review_cmd(
    central: CentralOpt,
    by: SupervisorByOpt = None,
    lang: AppLangOpt = None,
) -> None:
    """Open the conflict review on a central store.

    Keys 1-9, b, v, k, d, p (F1 lists them)."""
    # Checked before the screen is taken over; the app opens the store after its first frame.
    if "://" not in central:
        from surveyor.store.sqlitefile import require_sqlite_file, sqlite_role

        _require_central_file(central)
        require_sqlite_file(Path(central))
        if sqlite_role(Path(central)) == "laptop":  # resolutions belong on the central
            raise _not_a_central(central)
    from surveyor.tui.app import run_app

    run_app(central, review=True, author=author_name(by), language=lang)


@conflicts_app.command("list")
def conflicts_list(
    central: CentralOpt,
    include_resolved: Annotated[bool, typer.Option("--all", help="Also resolved ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many (by code, field).")
    ] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only this kind: field (hard and soft), hard, soft, delete_vs_edit or "
            "duplicate_entity; repeat for several.",
        ),
    ] = None,
    subdistrict: Annotated[
        str | None,
        typer.Option(help="Only buildings of this 街道 (code or name, e.g. 万兴街道 or 万兴)."),
    ] = None,
    inspector: Annotated[
        str | None,
        typer.Option(
            help="Only conflicts involving this inspector: on a building assigned to them "
            "(as 'assign' set it), or where they wrote one of the values; '(unassigned)': on "
            "buildings assigned to nobody."
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            help="Only buildings the building list's search finds: a code, or words (宜宾 13)."
        ),
    ] = None,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Open conflicts: building, field, kind, number of values."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.sync.review import (
        ConflictFilter,
        count_by,
        count_conflicts,
        kinds_named,
        list_conflicts,
    )
    from surveyor.sync.wording import field_name, filter_text, kind_counts_text, kind_name

    kinds = kinds_named(kind or [])  # refused before anything is opened
    the_form = get_form(form)
    store = open_target(central, readonly=True)
    try:
        where = ConflictFilter(
            kinds,
            _named_group(store, the_form, "subdistrict", subdistrict, include_resolved),
            _named_group(store, the_form, "inspector", inspector, include_resolved),
            search,
        )
        rows = list_conflicts(
            store, include_resolved=include_resolved, limit=limit, offset=offset, where=where
        )
        total = count_conflicts(store, include_resolved=include_resolved)
        matched = count_conflicts(store, include_resolved=include_resolved, where=where)
        by_kind = (
            {} if as_json else count_by(store, "kinds", where, include_resolved=include_resolved)
        )
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2))
        return
    if rows:
        print_table(
            [t_in(lang, f"review.col_{c}") for c in CONFLICT_COLUMNS],
            [
                [
                    r.code,
                    f"{field_name(the_form, r.field_key, lang)} ({r.field_key})",
                    kind_name(r.kind, lang),
                    t_in(lang, f"review.status_{r.status}"),
                    r.heads,
                    r.address or "",
                ]
                for r in rows
            ],
        )
    if total:  # before the count, which stays the last line
        typer.echo(t_in(lang, "review.cli_by_kind", counts=kind_counts_text(by_kind, lang)))
    said = filter_text(the_form, where, lang)
    if where.active and len(rows) == matched:
        typer.echo(
            t_in(
                lang, "review.cli_count_filtered", n=f"{matched:,}", total=f"{total:,}", filter=said
            )
        )
    elif where.active:
        typer.echo(
            t_in(
                lang,
                "review.cli_count_filtered_window",
                shown=len(rows),
                n=f"{matched:,}",
                total=f"{total:,}",
                filter=said,
            )
        )
    elif len(rows) == total:
        typer.echo(t_in(lang, "review.cli_count", n=total))
    else:
        typer.echo(t_in(lang, "review.cli_count_window", shown=len(rows), total=total))


class _Groups:
    """The 街道 or inspectors that have conflicts, with how many, said in either language
    (``error_from`` asks each value for its ``text``)."""

    def __init__(self, form: Any, part: str, counts: dict[str, int]) -> None:
        self.form, self.part, self.counts = form, part, counts

    def text(self, lang: str) -> str:
        from surveyor.i18n import t_in
        from surveyor.sync.wording import group_name, joined_names

        if not self.counts:
            return t_in(lang, "review.none_known")
        sub = self.part == "subdistrict"
        return joined_names(
            [
                f"{group_name(self.form, g, lang, by_subdistrict=sub)} {n:,}"
                for g, n in self.counts.items()
            ],
            lang,
        )


def _named_group(
    store: Any, form: Any, part: str, name: str | None, include_resolved: bool
) -> str | None:
    """The 街道 code or inspector that ``--subdistrict`` / ``--inspector`` names; a name that
    is no 街道 or inspector at all is refused, listing those with conflicts: a typo must not
    read as "no conflicts", nor a real one with none as an error.
    A 街道 is named by code or name (万兴街道, 万兴), nobody by the words for none."""
    from surveyor.i18n import error_from, t_in
    from surveyor.services.selection import option_code
    from surveyor.sync.progress import NO_SUBDISTRICT, UNASSIGNED
    from surveyor.sync.review import count_by
    from surveyor.text import normalize_text

    if name is None or not name.strip():
        return None
    typed = normalize_text(name).strip()
    none, key = (
        (NO_SUBDISTRICT, "progress.no_subdistrict")
        if part == "subdistrict"
        else (UNASSIGNED, "progress.unassigned")
    )
    value: str | None = typed
    if typed == none or typed in (t_in("zh", key), t_in("en", key)):
        value = none
    elif part == "subdistrict":
        value = option_code(form, "subdistrict", typed) if "subdistrict" in form.fields else typed
    if value is not None and _names_one(store, form, part, value):
        return value  # a real 街道 or inspector with nothing open lists nothing, exit 0
    # Counted only now (an inspector's count reads every conflict's sides).
    counts = count_by(store, part, include_resolved=include_resolved)
    if value is not None and value in counts:
        return value
    refusal = (
        "review.no_subdistrict_match" if part == "subdistrict" else "review.no_inspector_match"
    )
    raise error_from(refusal, name=name, known=_Groups(form, part, counts))


def _names_one(store: Any, form: Any, part: str, value: str) -> bool:
    """Whether ``value`` is a 街道 of the form, the words for none, or an inspector the
    central knows (with or without conflicts)."""
    from surveyor.sync.actions import is_known_inspector
    from surveyor.sync.progress import NO_SUBDISTRICT, UNASSIGNED

    if value in (NO_SUBDISTRICT, UNASSIGNED):
        return True
    if part == "subdistrict":
        fld = form.fields.get("subdistrict")
        return fld is not None and any(c.code == value for c in fld.choices)
    with store.engine.connect() as conn:
        return is_known_inspector(conn, value, store.own_sites)


@conflicts_app.command("show")
def conflicts_show(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    field: Annotated[
        str, typer.Argument(help="Field id or label, or a key 'conflicts list' prints (_status…).")
    ],
    central: CentralOpt,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """A conflict's base and values, with who and when.

    Times are local."""
    from surveyor.errors import NotFound
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import t_in
    from surveyor.services.survey import get_building
    from surveyor.sync.actions import settled_duplicate
    from surveyor.sync.fold import DUPLICATE_KEY
    from surveyor.sync.review import Version, conflict_detail
    from surveyor.sync.wording import field_name, kind_name, local_time, value_text, version_tag

    the_form = get_form(form)
    key = _conflict_key(the_form, field)
    store = open_target(central, readonly=True)
    try:
        state = get_building(store, building)  # an unknown building is said as such
        try:
            d = conflict_detail(store, state.id, key, the_form)
        except NotFound:
            settled = settled_duplicate(store, state.id) if key == DUPLICATE_KEY else None
            if settled is None:
                raise _no_conflict(the_form, state.code, key) from None
            typer.echo(_said_settled(settled, lang))
            return
    finally:
        store.close()

    def said(v: Version) -> str:
        when = f"  {local_time(v.wall_time)}" if v.wall_time else ""
        return f"{value_text(the_form, d.field_key, v, lang)}  {v.author}{when}"

    kind, status = kind_name(d.kind, lang), t_in(lang, f"review.status_{d.status}")
    where = f"{d.code} {d.address or ''}".rstrip()
    name = field_name(the_form, d.field_key, lang)
    typer.echo(
        f"{where}：{name}（{kind}，{status}）"
        if lang == "zh"
        else f"{where}: {name} ({kind}, {status})"
    )
    if d.kind in ("hard", "soft"):  # a delete race or a duplicate has no value to go back to
        base = said(d.base) if d.base is not None else t_in(lang, "review.no_base")
        typer.echo(f"  {t_in(lang, 'review.base')}{colon(lang)}{base}")
    for i, v in enumerate(d.heads, 1):
        mark = f"  {t_in(lang, 'review.shown_for_now')}" if v.provisional else ""
        typer.echo(f"  [{i}] {said(v)}  #{version_tag(v)}{mark}")
    if d.resolution is not None:  # the value taken, by whom and when
        typer.echo(f"  {t_in(lang, 'review.resolution')}{colon(lang)}{said(d.resolution)}")
    if d.status == "open":
        hint = {"delete_vs_edit": "keep_or_delete", "duplicate_entity": "merge_into"}
        pick = "pick" if d.base is not None else "pick_no_base"  # nothing for --base to take
        how = t_in(lang, f"review.cli_how_{hint.get(d.kind, pick)}")
        typer.echo(
            t_in(
                lang,
                "review.cli_resolve_hint",
                code=d.code,
                field=d.field_key,
                central=shlex.quote(_typed_target(central)),
                seen=shlex.quote(",".join(f"#{version_tag(v)}" for v in d.heads)),
                by=name_for_hint(lang),
                how=how,
            )
        )


@conflicts_app.command("resolve")
def conflicts_resolve(
    building: Annotated[str, typer.Argument(help="Building code (NK-…) or id.")],
    field: Annotated[
        str, typer.Argument(help="Field id or label, or a key 'conflicts list' prints (_status…).")
    ],
    central: CentralOpt,
    pick: Annotated[
        str | None,
        typer.Option(
            "--pick", help="Take value [N] of 'conflicts show', or the one tagged #TAG there."
        ),
    ] = None,
    base: Annotated[bool, typer.Option("--base", help="Go back to the common base value.")] = False,
    value: Annotated[str | None, typer.Option("--value", help="Type a new value.")] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep a building whose delete raced an edit.")
    ] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Delete the building.")] = False,
    merge_into: Annotated[
        str | None,
        typer.Option(
            "--merge-into",
            help="A duplicate: copy its answers the other lacks into that building (code), "
            "then delete it.",
        ),
    ] = None,
    seen: Annotated[
        str | None,
        typer.Option(
            "--seen",
            help="The #tags of the values 'conflicts show' showed ('#a1b2c3,#d4e5f6'): refused "
            "if the conflict's values changed since. Without it, the values closed are listed.",
        ),
    ] = None,
    by: SupervisorByOpt = None,
    form: FormOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Resolve a conflict; the resolution syncs to the laptops."""
    from surveyor.forms.catalog import get_form
    from surveyor.i18n import error_from
    from surveyor.sync.actions import Choice, NoOpenConflict, resolve_conflict
    from surveyor.sync.review import conflict_detail

    chosen = [pick is not None, base, value is not None, keep, delete, merge_into is not None]
    if sum(chosen) != 1:
        raise SurveyorError(
            "choose exactly one of --pick N, --base, --value TEXT, --keep, --delete, "
            "--merge-into CODE",
            zh="请只选一种：--pick N、--base、--value 文本、--keep、--delete、--merge-into 编号",
        )
    tags = None if seen is None else _seen_tags(seen)
    the_form = get_form(form)
    field = _conflict_key(the_form, field)
    author = author_name(by)
    store = open_target(central)
    picked = None
    try:
        detail = conflict_detail(store, building, field, the_form)
        shown = _shown_heads(detail, tags)
        if pick is not None:
            picked = _picked_version(detail.heads, pick)
            choice = Choice("head", picked.change_id)
        elif base:
            choice = Choice("base")
        elif value is not None:
            choice = Choice("value", value=value)
        elif merge_into is not None:
            choice = Choice("merge_into", value=merge_into)
        else:
            choice = Choice("keep" if keep else "delete")
        change = resolve_conflict(
            store, the_form, building, field, choice, author=author, shown_heads=shown
        )
    except NoOpenConflict as exc:
        if not exc.resolved or field.startswith("_"):
            raise
        # Resolving again cannot change a resolution: say what can.
        raise error_from(
            "review.cli_no_open_fix",
            error=exc,
            central=_shown(central),
            code=building,
            field=field,
        ) from None
    finally:
        store.close()
    from surveyor.sync.wording import resolved_text

    typer.echo(resolved_text(the_form, detail, change, picked, lang, base=base))
    if tags is None:  # nothing is closed unseen: say what was
        _say_closed(the_form, detail, lang)


def _no_conflict(form: Any, code: str, key: str) -> SurveyorError:
    """No conflict on that field of that building, the field by its label."""
    from surveyor.sync.wording import field_name

    en, zh = field_name(form, key, "en"), field_name(form, key, "zh")
    return SurveyorError(
        f"there is no conflict on '{en}' of {code}", zh=f"{code} 的「{zh}」没有冲突"
    )


def _said_settled(settled: Any, lang: str) -> str:
    """How a possible duplicate was settled, by whom and when: its flag is gone once merged
    or deleted, and 'conflicts show' said only "没有冲突"."""
    from surveyor.i18n import t_in
    from surveyor.sync.wording import local_time

    return t_in(
        lang,
        f"review.duplicate_{settled.how}",
        code=settled.code,
        other=settled.other or "",
        by=settled.author,
        when=local_time(settled.wall_time),
    )


def _seen_tags(text: str) -> set[str]:
    """The #tags ``--seen`` gives ('#a1b2c3,#d4e5f6'), checked before anything is opened."""
    from surveyor.i18n import error_from

    tags = {t.lstrip("#").lower() for t in re.split(r"[,\s]+", text) if t.strip()}
    if not tags or any(re.fullmatch(r"[0-9a-f]{6}", t) is None for t in tags):
        raise error_from("review.cli_seen_bad", seen=text)
    return tags


def _shown_heads(detail: Any, tags: set[str] | None) -> list[str] | None:
    """The change ids (a duplicate's: building ids) of the values the supervisor saw, for
    ``resolve_conflict(shown_heads=…)``: those ``--seen`` names, or without it the values read
    now, which ``_say_closed`` then lists. A tag no longer among the values means the conflict
    changed since it was shown (a later sync replaced that value): refused in the review's words.
    A resolved conflict is left to ``resolve_conflict``, which says it is resolved."""
    from surveyor.i18n import error_from
    from surveyor.sync.actions import ConflictChanged
    from surveyor.sync.wording import version_tag

    if detail.status != "open":
        return None
    if tags is None:
        return [v.change_id for v in detail.heads]
    matched = [v.change_id for v in detail.heads if version_tag(v) in tags]
    if len(matched) != len(tags):
        raise error_from("review.changed_since_shown_cli", ConflictChanged)
    return matched


def _say_closed(form: Any, detail: Any, lang: str) -> None:
    """The values a resolution without ``--seen`` closed, as 'conflicts show' numbers and tags
    them: a value synced after the supervisor looked was closed unseen and without a word."""
    from surveyor.i18n import t_in
    from surveyor.sync.wording import local_time, value_text, version_tag

    typer.echo(t_in(lang, "review.cli_closed"))
    for i, v in enumerate(detail.heads, 1):
        when = f"  {local_time(v.wall_time)}" if v.wall_time else ""
        said = value_text(form, detail.field_key, v, lang)
        typer.echo(f"  [{i}] {said}  {v.author}{when}  #{version_tag(v)}")


def _conflict_key(form: Any, name: str) -> str:
    """The conflict key a supervisor named (field id or label, or the review's words for a
    delete or a duplicate); an unknown name is refused as such, not as 'no conflict'."""
    from surveyor.services.survey import unknown_field_error
    from surveyor.sync.wording import conflict_key

    key = conflict_key(form, name)
    if key is None:
        raise unknown_field_error(form, name)
    return key


def _picked_version(heads: list[Any], pick: str) -> Any:
    """The side ``--pick`` names: its number in 'conflicts show', or its #tag there."""
    from surveyor.sync.wording import version_tag

    wanted = pick.strip().lstrip("#").lower()
    if wanted.isdigit() and 1 <= int(wanted) <= len(heads):
        return heads[int(wanted) - 1]
    for v in heads:
        if version_tag(v) == wanted:
            return v
    raise SurveyorError(
        f"--pick {pick} is not one of this conflict's values (1 to {len(heads)}, or a #tag "
        "that 'conflicts show' prints); it may have changed since: show it again",
        zh=f"--pick {pick} 不是这处冲突的取值之一（1 到 {len(heads)}，"
        "或 conflicts show 列出的 #标记）；冲突可能已有变化，请重新查看",
    )


def rekey_cmd(
    central: CentralOpt,
    db: DbOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Give a copied laptop database its own id, so it can sync.

    A restored backup or a cloned disk: its changes since it parted from the central's log
    move to the new id."""
    from surveyor.i18n import t_in
    from surveyor.store.sqlitefile import require_sqlite_file
    from surveyor.sync.rekey import rekey

    path = db_path(db)
    require_sqlite_file(path)
    hub = open_target(central, readonly=True)
    try:
        laptop = open_target(str(path), central=False)
        try:
            done = rekey(laptop, hub)
        finally:
            laptop.close()
    finally:
        hub.close()
    typer.echo(t_in(lang, "rekey.done", **vars(done)))
    if done.restored:
        typer.echo(t_in(lang, "rekey.restored", **vars(done)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `surveyor` app."""
    app.add_typer(central_app, name="central")
    app.add_typer(conflicts_app, name="conflicts")
    app.command("merge")(merge_cmd)
    app.command("review")(review_cmd)
    app.command("sync")(sync_cmd)
    app.command("assign")(assign_cmd)
    app.command("rekey")(rekey_cmd)
    app.command("progress")(progress_cmd)
