"""``surveyor sync``: push a laptop's changes to the central in idempotent batches, then pull.

Push sends only what the central lacks (per-site watermarks, then an anti-join on change ids),
in batches of causal (HLC) order, each batch its own transaction: an interrupted sync leaves
whole batches merged and a rerun sends only the rest. Pull brings the inspector what they
need: every change of the buildings assigned to them or already on the laptop (assignments,
resolutions, register updates, colleagues' edits), and of the buildings their merged-away
duplicates were kept as, and the photos those changes reference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import DiskFull, SurveyorError
from surveyor.forms.model import Form
from surveyor.i18n import error_text, t_in
from surveyor.store import hlc
from surveyor.store.blobs import sweep_stale_temps
from surveyor.store.db import Store, is_url, read_tx, shown_target, write_tx
from surveyor.sync.actions import NoAssignments, no_assignments
from surveyor.sync.apply import (
    CLOCK,
    ApplyStats,
    ClonedSite,
    RenumberedChanges,
    apply_changes,
    chunks,
    held_sites,
    load_entity_changes,
    refold_after_local_saves,
    restored_central,
    version_key,
    watermarks,
)
from surveyor.sync.attachments import (
    ATTACHMENT,
    default_blob_dir,
    record_unsent,
    transfer_attachments,
)
from surveyor.sync.fold import ALIAS_KEY, MAX_SKEW_MS, ChangeRow
from surveyor.sync.merge import plan_probes_by_index
from surveyor.sync.rekey import held_places
from surveyor.sync.restore import follow_the_central, moved_on_the_central
from surveyor.sync.rows import (
    BUILDING,
    CHANGE,
    CHANGE_COLUMNS,
    DamagedChange,
    as_uuid,
    canonical_id,
    read_changes,
)
from surveyor.sync.wording import local_time

#: Changes per pushed batch (one transaction each on the central).
PUSH_BATCH = 500


@dataclass
class SyncReport:
    pushed: int = 0
    batches: int = 0
    #: Changes the push set out to send (``pushed`` of them went before any failure).
    to_push: int = 0
    pulled: int = 0
    photos_sent: int = 0
    photos_received: int = 0
    #: Photos not sent: a URL central was given no photo folder (``--blobs``).
    photos_kept: int = 0
    open_conflicts: int = 0
    #: Set when the central has no buildings assigned to this laptop's inspector (a typo at
    #: ``init --inspector`` pulls nothing, and nothing said why).
    no_assignments: NoAssignments | None = None
    #: Answers sent or received of fields this form does not know (a laptop on a newer form),
    #: and the newest form version that wrote them: kept, but no export shows them.
    unknown_answers: int = 0
    unknown_form: str = ""
    #: Set when this laptop's clock ran more than a day past the central's time: its
    #: stamps were not let move the central's clock (``central_now``).
    clock_ahead: ClockAhead | None = None

    def saw_unknown(self, stats: ApplyStats) -> None:
        """Count what a batch applied of fields this form does not know."""
        if stats.unknown_answers:
            self.unknown_answers += stats.unknown_answers
            self.unknown_form = max(self.unknown_form, stats.unknown_form, key=version_key)


@dataclass(frozen=True)
class ClockAhead:
    """A laptop clock more than a day past the central's time (both Unix ms).

    ``measured``: the central's time is a clock read now (a PostgreSQL server's), so the
    laptop is ahead. Otherwise it is only the latest time a SQLite central has recorded, a
    lower bound: a central nobody wrote to for a day is as far behind a sound laptop.
    """

    laptop_ms: int
    central_ms: int
    measured: bool = False

    def text(self, lang: str) -> str:
        """The warning ``sync`` prints: both times, as the inspector's watch shows them; a
        fact against a measured clock, the two possibilities against a lower bound (a correct
        laptop was told it ran a day ahead of a central idle over a weekend)."""
        return t_in(
            lang,
            "sync.clock_ahead" if self.measured else "sync.clock_ahead_maybe",
            laptop=_shown_ms(self.laptop_ms),
            central=_shown_ms(self.central_ms),
        )


def _shown_ms(ms: int) -> str:
    return local_time(datetime.fromtimestamp(ms / 1000, UTC).isoformat())


def central_now(conn: Connection, laptop_ms: int) -> tuple[int, ClockAhead | None]:
    """The time a push checks the stamps it sends against, and whether the laptop's clock
    is more than a day ahead of it.

    A push runs on the laptop, and a laptop clock a day ahead let its stamps move the
    central's clock a day forward: every later change made on the central (assignments,
    resolutions) carried next day's stamp, and later merges blamed innocent laptops for it.
    A PostgreSQL central has its server's clock. A SQLite file has no clock of its own (the
    process syncing runs on the laptop, so its clock is the one in doubt); the latest time
    the file has stamped or seen is only a lower bound of the time. A laptop a day past it
    is not trusted all the same: its stamps are not observed (not lost, only not let move
    the central's clock), which costs a sound laptop nothing, and the warning says both
    possibilities (``ClockAhead.measured``).
    """
    measured = conn.dialect.name == "postgresql"
    if measured:
        server = conn.execute(
            sa.text("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
        ).scalar_one()
        known = int(server)
        trusted = known
    else:
        last = conn.execute(sa.select(CLOCK.c.hlc).where(CLOCK.c.id == 1)).scalar()
        known = hlc.wall_ms(int(last or 0))
        trusted = laptop_ms
    if known and laptop_ms > known + MAX_SKEW_MS:
        return known, ClockAhead(laptop_ms, known, measured)
    return trusted, None


def _all_changes(store: Store) -> list[ChangeRow]:
    """Every change of a laptop, read raw (``rows.read_changes``): a damaged row is refused in
    a sentence naming it, where SQLAlchemy's conversion of it was an internal error."""
    with read_tx(store.engine) as conn:
        rows = conn.exec_driver_sql(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM change")
        try:
            return read_changes(rows)
        except DamagedChange as exc:
            en, zh = exc.said(
                shown_target(store.target), "nothing was sent or received", "未发送也未接收任何内容"
            )
            raise SurveyorError(en, zh=zh) from exc


def changes_to_push(laptop: Store, central: Store, form: Form | None) -> list[ChangeRow]:
    """The laptop's changes the central lacks, oldest first."""
    # The central's own changes are looked up by id whatever its watermark: put back from a
    # backup, it may have numbered others alike since, and the ones it lost came back only
    # where a clash happened to be found (docs/SYNC.md, "Restoring a central").
    its_own = {str(s) for s in central.own_sites}
    held = _all_changes(laptop)
    with read_tx(central.engine) as conn:  # one snapshot: the watermarks and what they miss
        marks = watermarks(conn)
        candidates = [c for c in held if c.seq > marks.get(c.site_id, 0) or c.site_id in its_own]
        have = held_sites(conn, [c.change_id for c in candidates])
    elsewhere = [c for c in candidates if have.get(c.change_id, c.site_id) != c.site_id]
    # Its own changes held under another site: this laptop was re-keyed after a copy of it
    # was merged. Said before anything is sent (``_said_of_a_copied_laptop`` names the
    # laptop and the fix).
    own = [c for c in elsewhere if c.site_id == str(laptop.site_id)]
    if own:
        raise RenumberedChanges("", own[0].site_id, len(own), "")
    if elsewhere:  # the central's, renumbered by ``surveyor central restored --from``
        with read_tx(central.engine) as conn:
            follow_the_central(laptop, form, held_places(conn, [c.change_id for c in elsewhere]))
    return sorted((c for c in candidates if c.change_id not in have), key=lambda c: c.order_key)


def push(
    laptop: Store,
    central: Store,
    form: Form | None,
    *,
    batch: int = PUSH_BATCH,
    after_batch: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Send the missing changes in batches; returns (changes, batches)."""
    return _push(laptop, central, form, batch=batch, after_batch=after_batch)


def _push(
    laptop: Store,
    central: Store,
    form: Form | None,
    *,
    batch: int,
    after_batch: Callable[[int], None] | None,
    report: SyncReport | None = None,
) -> tuple[int, int]:
    todo = changes_to_push(laptop, central, form)
    with read_tx(central.engine) as conn:
        now, ahead = central_now(conn, hlc.now_ms())
    if report is not None:
        report.clock_ahead = ahead
        report.to_push = len(todo)
    sent = 0
    batches = 0
    for part in chunks(todo, batch):
        with write_tx(central.engine) as conn:
            plan_probes_by_index(conn)
            stats = apply_changes(
                conn, list(part), form, label=f"laptop {shown_target(laptop.target)}", now=now
            )
        sent += len(part)
        batches += 1
        if report is not None:  # kept as it goes: a later batch that fails says what went
            report.saw_unknown(stats)
            report.pushed, report.batches = sent, batches
        if after_batch is not None:
            after_batch(batches)
    return sent, batches


def _photo_hashes(changes: Iterable[ChangeRow]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            sha = value.get("sha256")
            if isinstance(sha, str):
                found.add(sha)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for c in changes:
        walk(dict(c.fields))
    return found


def _relevant_entities(laptop: Store, central: Store) -> list[str]:
    inspector = laptop.meta("inspector")
    with read_tx(laptop.engine) as conn:
        ids = {str(i) for i in conn.execute(sa.select(BUILDING.c.id)).scalars()}
    if inspector:
        with read_tx(central.engine) as conn:
            ids |= {
                str(i)
                for i in conn.execute(
                    sa.select(BUILDING.c.id).where(BUILDING.c.assigned_to == inspector)
                ).scalars()
            }
    return sorted(ids)


def _alias_targets(held: Mapping[str, list[ChangeRow]]) -> set[str]:
    """The buildings the duplicates among ``held`` were merged into (their ``alias`` changes)."""
    return {
        canonical_id(c.fields[ALIAS_KEY])
        for rows in held.values()
        for c in rows
        if c.op == "alias" and isinstance(c.fields.get(ALIAS_KEY), str)
    }


def _with_kept_buildings(conn: Connection, held: dict[str, list[ChangeRow]]) -> None:
    """Add to ``held`` the changes of every building kept for a duplicate in it, and of the
    ones those were merged into in turn. The duplicate's label still hangs on the door and
    leads to the building kept; a kept building never assigned to this inspector was not
    pulled, and the laptop could open neither (docs/SYNC.md)."""
    wanted = _alias_targets(held) - held.keys()
    while wanted:
        more = load_entity_changes(conn, sorted(wanted))
        held.update(more)
        wanted = _alias_targets(more) - held.keys()


def pull(laptop: Store, central: Store, form: Form | None) -> tuple[int, list[ChangeRow]]:
    """Bring the inspector's buildings up to date from the central, in one transaction: the
    relevant buildings and the buildings their merged-away duplicates lead to."""
    return _pull(laptop, central, form)


def _pull(
    laptop: Store, central: Store, form: Form | None, report: SyncReport | None = None
) -> tuple[int, list[ChangeRow]]:
    entities = _relevant_entities(laptop, central)
    with read_tx(central.engine) as conn:
        held = load_entity_changes(conn, entities)
        _with_kept_buildings(conn, held)
    offered = [c for rows in held.values() for c in rows]
    try:
        stats = _apply_pulled(laptop, central, form, offered)
    except ClonedSite:
        # The central renumbered changes this laptop pulled before (``central restored
        # --from``): put them where it holds them, and take the rest.
        moved = moved_on_the_central(laptop, offered)
        if not moved:
            raise
        follow_the_central(laptop, form, moved)
        stats = _apply_pulled(laptop, central, form, offered)
    if report is not None:
        report.saw_unknown(stats)
    have_new = stats.new
    return have_new, offered


def _apply_pulled(
    laptop: Store, central: Store, form: Form | None, offered: list[ChangeRow]
) -> ApplyStats:
    """Apply what the central offers to the laptop, in one transaction."""
    with write_tx(laptop.engine) as conn:
        stats = apply_changes(
            conn, offered, form, label=f"the central {shown_target(central.target)}"
        )
        refold_after_local_saves(conn, form, str(laptop.site_id))
    return stats


def _attachment_rows(store: Store, shas: Iterable[str] | None) -> list[tuple[str, int, str]]:
    with read_tx(store.engine) as conn:
        query = sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.size, ATTACHMENT.c.mime).where(
            ATTACHMENT.c.stored.is_(True)
        )
        rows = [(str(s), int(n), str(m)) for s, n, m in conn.execute(query)]
    if shas is None:
        return rows
    wanted = set(shas)
    return [r for r in rows if r[0] in wanted]


def central_photo_folder(central: Store, given: Path | None) -> Path | None:
    """The central's photo folder: the one given (``sync --blobs``), else beside a SQLite
    central; None for a URL central given none. A folder derived from the URL lies on this
    laptop, not with the central: photos "sent" there reached no one, yet were recorded as
    stored on the central, and no handover merge brought them in after (docs/SYNC.md)."""
    if given is not None:
        return given
    return None if is_url(central.target) else default_blob_dir(central.target)


def sync(
    laptop: Store,
    central: Store,
    form: Form | None,
    *,
    batch: int = PUSH_BATCH,
    laptop_blobs: Path | None = None,
    central_blobs: Path | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> SyncReport:
    """Push then pull; safe to interrupt and rerun at any point."""
    if laptop.site_id == central.site_id:
        raise SurveyorError(
            "the laptop and the central are the same database", zh="笔记本与中心库是同一个数据库"
        )
    report = SyncReport()
    lap_dir = laptop_blobs or default_blob_dir(laptop.target)
    cen_dir = central_photo_folder(central, central_blobs)
    for folder in (lap_dir, cen_dir):
        if folder is not None:
            sweep_stale_temps(folder)
    with _said_of_a_copied_laptop(laptop, central):
        _refuse_a_copied_laptop(laptop, central)
        with _said_where_it_stopped("push", report, laptop, central):
            _push(laptop, central, form, batch=batch, after_batch=after_batch, report=report)
    with (
        _said_where_it_stopped("photos_sent", report, laptop, central),
        write_tx(central.engine) as conn,
    ):
        if cen_dir is None:
            report.photos_kept = record_unsent(conn, _attachment_rows(laptop, None))
        else:
            report.photos_sent = transfer_attachments(
                conn, _attachment_rows(laptop, None), lap_dir, cen_dir
            ).copied
    with (
        _said_of_a_copied_laptop(laptop, central),
        _said_where_it_stopped("pull", report, laptop, central),
    ):
        report.pulled, offered = _pull(laptop, central, form, report)
    with _said_where_it_stopped("finish", report, laptop, central):
        _finish(laptop, central, report, offered, lap_dir, cen_dir)
    return report


def _finish(
    laptop: Store,
    central: Store,
    report: SyncReport,
    offered: list[ChangeRow],
    lap_dir: Path,
    cen_dir: Path | None,
) -> None:
    """After the pull: warn of an inspector with nothing assigned, bring the pulled changes'
    photos, count the laptop's open conflicts."""
    inspector = laptop.meta("inspector")
    if inspector:
        with read_tx(central.engine) as conn:
            report.no_assignments = no_assignments(conn, inspector, central.own_sites)
    with write_tx(laptop.engine) as conn:
        if cen_dir is not None:
            report.photos_received = transfer_attachments(
                conn, _attachment_rows(central, _photo_hashes(offered)), cen_dir, lap_dir
            ).copied
        report.open_conflicts = int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(BUILDING.c.conflict_count), 0))
            ).scalar_one()
        )


__all__ = ["ClockAhead", "SyncReport", "as_uuid", "central_now", "chunks", "pull", "push", "sync"]


def _refuse_a_copied_laptop(laptop: Store, central: Store) -> None:
    """Before sending anything, check the laptop's own log agrees with what the central holds
    of it, at the last place both have. A copy ahead of what its original synced used to push
    its changes and be refused only on pull."""
    site = str(laptop.site_id)
    with read_tx(central.engine) as conn:
        synced = watermarks(conn).get(site, 0)
    with read_tx(laptop.engine) as conn:
        mine = _last_own_change(conn, site, synced)
    if mine is None:
        return
    with read_tx(central.engine) as conn:
        theirs = _last_own_change(conn, site, mine[0])
    if theirs is not None and theirs[0] == mine[0] and theirs != mine:
        raise ClonedSite.differs(shown_target(laptop.target), site, mine[0])


def _last_own_change(conn: Any, site: str, up_to: int) -> tuple[int, str] | None:
    """(seq, change id) of the latest change from ``site`` at or below ``up_to``."""
    row = conn.execute(
        sa.select(CHANGE.c.seq, CHANGE.c.change_id)
        .where(CHANGE.c.site_id == as_uuid(site), CHANGE.c.seq <= up_to)
        .order_by(CHANGE.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


#: What a sync had done before each step (``_said_where_it_stopped``): the message saying it.
_STOPPED_AT = {
    "push": "sync.stopped_push",
    "photos_sent": "sync.stopped_photos_sent",
    "pull": "sync.stopped_pull",
    "finish": "sync.stopped_finish",
}


@contextlib.contextmanager
def _said_where_it_stopped(
    step: str, report: SyncReport, laptop: Store, central: Store
) -> Iterator[None]:
    """A sync that fails after changes reached the central says so, and what the failed step
    left undone. A full laptop disk after the push was said only as "nothing of this write
    was saved": inspectors took their work for lost on the central and set about redoing it.
    A failure before anything was sent is said as it is; a bug stays an internal error."""
    try:
        yield
    except ClonedSite:
        raise
    except (SurveyorError, OSError, sa.exc.DBAPIError) as exc:
        if step == "push" and not report.pushed:
            raise
        raise _stopped(step, report, laptop, central, exc) from exc


def _stopped(
    step: str, report: SyncReport, laptop: Store, central: Store, exc: BaseException
) -> SurveyorError:
    """The sentence for a sync stopped at ``step`` by ``exc``: what reached the central, what
    the laptop received, then why it stopped and what to do."""
    hub, lap = shown_target(central.target), shown_target(laptop.target)
    kind = DiskFull if isinstance(exc, DiskFull) else SurveyorError

    def said(lang: str) -> str:
        sent = (
            t_in(lang, "sync.sent", n=report.pushed, central=hub)
            if report.pushed
            else t_in(lang, "sync.sent_none", central=hub)
        )
        if step == "pull" and isinstance(exc, DiskFull):  # the one write of a pull: the laptop's
            return t_in(lang, "sync.stopped_pull_full", sent=sent, laptop=lap)
        return t_in(
            lang,
            _STOPPED_AT[step],
            sent=sent,
            n=report.pushed,
            total=report.to_push,
            central=hub,
            pulled=report.pulled,
            error=error_text(exc, lang),
        )

    return kind(said("en"), zh=said("zh"))


@contextlib.contextmanager
def _said_of_a_copied_laptop(laptop: Store, central: Store) -> Iterator[None]:
    """A clash over the laptop's own id means the laptop is the copy: say so of the laptop.
    (Found on pull, the refusal named 'the central', and inspectors looked for a fault there.)"""
    try:
        yield
    except ClonedSite as exc:
        shown, hub = shown_target(laptop.target), shown_target(central.target)
        fix = f"surveyor rekey --db {shown} --central {hub}"
        if isinstance(exc, RenumberedChanges):  # re-keyed after its copy was merged
            raise exc.told_of(shown, fix) from None
        if (restored := restored_central(exc, central, shown, merging=False)) is not None:
            raise restored from None
        if exc.site != str(laptop.site_id):
            raise _differs_from_what_it_received(exc, shown, hub) from None
        raise ClonedSite(
            f"{shown} is a copy of another laptop's database (a restored backup, or a disk "
            "copied to a second laptop): both carry the same id and their answers have differed "
            "since, so this one cannot sync as it is (nothing was sent or received). Its answers "
            f"are safe in the file. Give it its own id with '{fix}', then sync again",
            site=exc.site,
            zh=f"{shown} 是另一台笔记本数据库的副本（从备份恢复，或把磁盘复制到了另一台笔记本）："
            "两者编号相同，之后又各自改动，因此不能直接同步（未发送也未接收任何内容）。文件中的答案都在。"
            f"请先用「{fix}」给它一个自己的编号，再同步",
        ) from None


def _differs_from_what_it_received(exc: ClonedSite, laptop: str, hub: str) -> ClonedSite:
    """Another laptop's changes on the central differ from those this laptop received of
    it: that laptop's database was copied, and the copy merged; this one is no copy. The
    refusal said of "the central …" to rekey it, with those words inside the command."""

    def said(lang: str) -> str:
        return t_in(
            lang, "sync.another_copy", central=hub, site=exc.site, label=laptop, seq=exc.seq
        )

    return ClonedSite(said("en"), site=exc.site, zh=said("zh"))
