"""``surveyor merge``: inspector database files into a central store, one transaction per file.

Per file (§4.12): check it whole (``files.read_snapshot``; with several files, in worker
processes ahead of the merge: ``sync.pipeline``), skip it if its hash was imported before,
keep only changes beyond the central's per-site watermarks (after checking the file agrees
with what was merged before — a cloned laptop does not), then ``apply_prepared``, copy
missing photos and record the file, all in one transaction. A SQLite central is backed up
(SQLite backup API) before the first write of a run.
"""

from __future__ import annotations

import errno
import gc
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError, cannot_write, database_trouble
from surveyor.forms.model import Form
from surveyor.i18n import t_in
from surveyor.paths import blob_dir_for
from surveyor.store import models
from surveyor.store.blobs import sweep_stale_temps
from surveyor.store.db import Store, utc_now_iso, write_tx
from surveyor.store.restart import mark_as_backup
from surveyor.store.sqlitefile import copy_database, readonly_uri
from surveyor.sync.apply import (
    ApplyStats,
    ClonedSite,
    apply_prepared,
    restored_central,
    watermarks,
)
from surveyor.sync.attachments import (
    BlobStats,
    default_blob_dir,
    fill_missing_blobs,
    missing_blobs_in,
    transfer_attachments,
)
from surveyor.sync.files import RefusedFile, check_header
from surveyor.sync.pipeline import MERGE_GC_THRESHOLDS, Prefetcher, PreparedFile
from surveyor.sync.rows import CHANGE, as_uuid, canonical_id

IMPORTED = models.TABLES.tables["imported_file"]
#: Backups of a SQLite central kept beside it; older ones are removed.
KEEP_BACKUPS = 3


@dataclass
class FileReport:
    """The outcome of one file: merged, skipped (already imported) or refused, and why.

    The facts, not a sentence: ``text(lang)`` says them in the supervisor's language.
    """

    path: Path
    outcome: str  # merged | skipped | refused
    stats: ApplyStats = field(default_factory=ApplyStats)
    blobs: BlobStats = field(default_factory=BlobStats)
    #: Why a file was refused.
    refusal: SurveyorError | None = None
    #: Why a file was skipped: its hash was merged before ("file"), or the central holds
    #: every change in it ("changes").
    skipped_because: str = ""
    #: Photos of a skipped file the central lacked until now, copied from its blob folder.
    photos_copied: int = 0

    def text(self, lang: str) -> str:
        """What happened to the file, in ``lang``."""
        if self.refusal is not None:
            return self.refusal.text(lang)
        if self.outcome == "skipped":
            said = t_in(lang, f"merge.skipped_{self.skipped_because}")
            if self.photos_copied:
                said += t_in(lang, "merge.photos_copied", n=self.photos_copied)
            return said
        s = self.stats
        said = t_in(
            lang,
            "merge.merged",
            new=s.new,
            received=s.received,
            buildings=s.buildings,
            conflicts=s.open_conflicts,
        )
        if s.possible_duplicates:
            said += t_in(lang, "merge.duplicates", n=s.possible_duplicates)
        said += _clock_notes(lang, s)
        if s.unknown_answers:
            said += t_in(lang, "merge.unknown_fields", n=s.unknown_answers, form=s.unknown_form)
        if self.blobs.missing:
            said += t_in(lang, "merge.photos_missing", n=self.blobs.missing)
        return said

    @property
    def message(self) -> str:
        """``text`` in English (logs, tests)."""
        return self.text("en")


def _clock_notes(lang: str, s: ApplyStats) -> str:
    """What the merge report says of clocks: two facts, each counted once and said as it is.

    Clock-suspect changes (stamped more than a day after the time their own laptop recorded)
    give way to any head with a sound clock for a conflict's provisional value
    (``ChangeRow.winner_key``); changes stamped more than a day ahead of this computer's
    clock only leave its clock where it was (``apply.observe_clock``): they win by their
    stamp like any other. One sum of both said the first of every change, and counted a
    change that was both twice.
    """
    said = ""
    if s.clock_suspect:
        said += t_in(lang, "merge.clock_suspect", n=s.clock_suspect)
    if s.clock_ahead:
        said += t_in(lang, "merge.clock_ahead", n=s.clock_ahead)
    return said


def plan_probes_by_index(conn: Connection) -> None:
    """Turn PostgreSQL's sequential scans off for the rest of this transaction (``SET
    LOCAL``): for a merge's file and a push's batch, whose reads are probes of up to
    ``bulk.IN_LIST`` keys on indexed columns (addresses for duplicate flags, a building's
    changes, its conflict rows).

    The planner read whole tables for them: on a central just filled by a merge, before
    autovacuum has analysed it, it guesses each listed value matches 0.5 % of the rows, and
    even with statistics it prices 900 index probes above a scan. On a 50,000-building central
    the address probe took 23-27 ms by scan against 0.2-3 ms by index, and grew with the
    central (docs/PERFORMANCE.md). A scan stays possible where no index serves. A supervisor's
    action is left as planned: its ``--where`` may select most of the buildings, which a scan
    reads best.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('enable_seqscan', 'off', true)"))


def already_imported(conn: Connection, sha: str) -> bool:
    return (
        conn.execute(sa.select(IMPORTED.c.file_sha256).where(IMPORTED.c.file_sha256 == sha)).first()
        is not None
    )


def check_watermark_agreement(conn: Connection, snap: PreparedFile, marks: dict[str, int]) -> None:
    """Before skipping a site's changes up to the watermark, check the file agrees with them.

    A cloned laptop shares its original's site id and early seqs but diverges later; its
    change at the last shared seq differs from the one the central holds.
    """
    by_site: dict[str, dict[int, str]] = {}
    for c in snap.batch.keys:
        if c.seq <= marks.get(c.site_id, 0):
            by_site.setdefault(c.site_id, {})[c.seq] = c.change_id
    for site, seqs in by_site.items():
        probe = max(seqs)
        held = conn.execute(
            sa.select(CHANGE.c.change_id).where(
                CHANGE.c.site_id == as_uuid(site), CHANGE.c.seq == probe
            )
        ).scalar()
        if held is not None and str(held) != seqs[probe]:
            raise ClonedSite.differs(str(snap.path), site, _first_difference(conn, site, seqs))


def _first_difference(conn: Connection, site: str, seqs: dict[int, str]) -> int:
    """The lowest of a file's numbers of ``site`` where the central holds another change: a
    central put back from a backup is told to renumber its own changes from there."""
    lo, hi = min(seqs), max(seqs)
    rows = conn.execute(
        sa.select(CHANGE.c.seq, CHANGE.c.change_id).where(
            CHANGE.c.site_id == as_uuid(site), CHANGE.c.seq.between(lo, hi)
        )
    )
    held = {int(seq): str(cid) for seq, cid in rows}
    return min(seq for seq, cid in seqs.items() if held.get(seq, cid) != cid)


def _same_file(path: Path, target: str) -> bool:
    """Whether ``path`` is the central's own SQLite file (``merge c.db --into c.db``), which
    was called a copy of it."""
    try:
        return Path(target).exists() and path.samefile(target)
    except OSError:
        return False


def refuse_a_copy(conn: Connection, store: Store, snap: PreparedFile) -> dict[str, int]:
    """Refuse a file that is a copy of the central or of a laptop already merged (read only,
    so it can run before the backup: a refused file leaves no backup behind); returns the
    central's watermarks."""
    if snap.site_id == str(store.site_id):
        if _same_file(snap.path, store.target):
            raise RefusedFile(
                f"{snap.path} is the central store itself (the same file as --into); "
                "nothing was merged",
                zh=f"{snap.path} 就是中心库本身（与 --into 是同一个文件）；其内容均未合并",
            )
        raise RefusedFile(
            f"{snap.path} has the same site id as the database it is merged into: it is a "
            "copy of it; nothing was merged",
            zh=f"{snap.path} 与要并入的数据库站点编号相同：它是那个数据库的副本；其内容均未合并",
        )
    marks = watermarks(conn)
    check_watermark_agreement(conn, snap, marks)
    return marks


def merge_prepared(
    conn: Connection, store: Store, snap: PreparedFile, form: Form | None, blob_dir: Path
) -> FileReport:
    """Merge one checked file in the caller's ``write_tx`` (the whole file or nothing; its
    write lock keeps saves out between the merge's reads and its writes)."""
    plan_probes_by_index(conn)
    if conn.dialect.name == "sqlite":
        # A 128 MB page cache keeps the central's indexes in memory across a merge.
        conn.exec_driver_sql("PRAGMA cache_size = -131072")
    if already_imported(conn, snap.sha256):
        found = missing_blobs_in(conn, snap.blob_dir)
        return _skipped(conn, snap.path, blob_dir, "file", found)
    marks = refuse_a_copy(conn, store, snap)
    fresh = [k for k in snap.batch.keys if k.seq > marks.get(k.site_id, 0)]
    batch = replace(snap.batch, keys=fresh)
    stats = apply_prepared(conn, batch, form, label=str(snap.path))
    blobs = transfer_attachments(conn, snap.attachments, snap.blob_dir, blob_dir)
    conn.execute(
        sa.insert(IMPORTED),
        [
            {
                "file_sha256": snap.sha256,
                "site_id": uuid.UUID(snap.site_id),
                "max_seq": snap.max_seq,
                "imported_at": utc_now_iso(),
            }
        ],
    )
    return FileReport(snap.path, "merged", stats, blobs)


def backup_sqlite(store: Store) -> Path:
    """A consistent copy of a SQLite central before a merge writes (backup API, then rename)."""
    src_path = Path(store.target)
    folder = src_path.with_name(src_path.name + ".backups")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out = folder / f"before-merge-{stamp}.db"
    try:
        folder.mkdir(exist_ok=True)
        copy_database(src_path, out, before_rename=mark_as_backup)
    except OSError as exc:
        raise cannot_write(out, exc) from exc
    except sqlite3.Error as exc:
        raise _backup_failed(src_path, out, exc) from exc
    for old in sorted(folder.glob("before-merge-*.db"))[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    return out


def _backup_failed(src_path: Path, out: Path, exc: sqlite3.Error) -> SurveyorError:
    """SQLite's refusal of the backup in the project's words: a full disk as every full disk
    is said (``errors.cannot_write``), where SQLite's English "database or disk is full" stood
    inside the Chinese sentence."""
    if "full" in str(exc).lower():  # SQLITE_FULL: "database or disk is full"
        return cannot_write(out, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    en = database_trouble(exc, "en", named=True) or str(exc)
    zh = database_trouble(exc, "zh", named=True) or str(exc)
    return SurveyorError(
        f"cannot back up {src_path} before merging: {en}",
        zh=f"合并前无法备份 {src_path}：{zh}",
    )


def covered_by_watermarks(store: Store, path: Path) -> bool:
    """True when every change in the file is already held: skipped without hashing it.

    Per site in the file, its highest seq must be at or below the central's watermark and
    the change there must be the very one the central holds (a clone's would differ). Any
    doubt answers False, and the file takes the full path with all its checks.
    """
    check_header(path)
    found = _tops_of_sites(path)
    if found is None or found[0] == str(store.site_id):
        return False
    with store.engine.connect() as target:
        marks = watermarks(target)
        for sid, seq, change_id in found[1]:
            if seq > marks.get(sid, 0):
                return False
            held = target.execute(
                sa.select(CHANGE.c.change_id).where(
                    CHANGE.c.site_id == as_uuid(sid), CHANGE.c.seq == seq
                )
            ).scalar()
            if held is None or str(held) != change_id:
                return False
    return True


def _tops_of_sites(path: Path) -> tuple[str, list[tuple[str, int, str]]] | None:
    """The file's site id and, per site in it, (site, top seq, change id there), canonical.

    None when the file holds no change or cannot be read, or an id or seq among these is
    damaged: the file then takes the full path, where ``files.read_snapshot`` refuses it
    in a sentence (here a damaged site id crashed the whole merge before it was read).
    """
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            conn.execute("BEGIN")
            site = conn.execute("SELECT value FROM meta WHERE key = 'site_id'").fetchone()
            tops = conn.execute(
                "SELECT c.site_id, c.seq, c.change_id FROM change c JOIN "
                "(SELECT site_id, max(seq) AS seq FROM change GROUP BY site_id) m "
                "ON c.site_id = m.site_id AND c.seq = m.seq"
            ).fetchall()
        finally:
            conn.close()
        if site is None or not tops:
            return None
        return canonical_id(site[0]), [
            (canonical_id(s), int(seq), canonical_id(cid)) for s, seq, cid in tops
        ]
    except (sqlite3.Error, ValueError, TypeError):
        return None


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """Collect young objects less often during a merge (restored after).

    A merge allocates hundreds of thousands of small dicts per file, nearly all freed by
    reference counting; the default thresholds re-scan them in full collections and cost
    ~15 % of the merge. Cycles are still collected, only less often.
    """
    before = gc.get_threshold()
    gc.set_threshold(*(max(b, m) for b, m in zip(before, MERGE_GC_THRESHOLDS, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def merge_files(
    store: Store,
    files: Sequence[Path],
    form: Form | None,
    *,
    blob_dir: Path | None = None,
    backup: bool = True,
    on_report: Callable[[FileReport], None] | None = None,
    workers: int | None = None,
) -> list[FileReport]:
    """Merge each file in its own transaction; a refused file is reported, the rest go on.

    Files not yet merged are read and prepared ahead in ``workers`` processes (default:
    ``pipeline.workers_for``) while the current one is written.
    """
    with fewer_gc_pauses():
        return _merge_each(
            store, [Path(f) for f in files], form, blob_dir, backup, on_report, workers
        )


def _merge_each(
    store: Store,
    files: list[Path],
    form: Form | None,
    blob_dir: Path | None,
    backup: bool,
    on_report: Callable[[FileReport], None] | None,
    workers: int | None,
) -> list[FileReport]:
    blobs = blob_dir or default_blob_dir(store.target)
    sweep_stale_temps(blobs)
    reports: list[FileReport] = []
    backed_up = not (backup and store.is_sqlite)
    # Watermarks only grow: a file covered now stays covered; the others are read ahead and
    # checked again when their turn comes (an earlier file in the list may cover them).
    covered = {i for i, path in enumerate(files) if _covered(store, path)}
    to_read = {i: path for i, path in enumerate(files) if i not in covered}
    with Prefetcher(to_read, form, store.engine.dialect.name, workers=workers) as ahead:
        for i, path in enumerate(files):
            try:
                if i in covered or covered_by_watermarks(store, path):
                    ahead.drop(i)
                    report = _skip_covered(store, path, blobs)
                else:
                    snap = ahead.take(i)
                    if not backed_up and not _is_imported(store, snap.sha256):
                        with store.engine.connect() as conn:
                            refuse_a_copy(conn, store, snap)
                        backup_sqlite(store)
                        backed_up = True
                    with write_tx(store.engine) as conn:
                        report = merge_prepared(conn, store, snap, form, blobs)
            except RefusedFile as exc:
                report = FileReport(path, "refused", refusal=exc)
            except ClonedSite as exc:
                restored = restored_central(exc, store, str(path), merging=True)
                report = FileReport(path, "refused", refusal=restored or exc)
            reports.append(report)
            if on_report is not None:
                on_report(report)
    return reports


def _covered(store: Store, path: Path) -> bool:
    """``covered_by_watermarks``, with a file refused by its header left to the main loop."""
    try:
        return covered_by_watermarks(store, path)
    except RefusedFile:
        return False


def _skip_covered(store: Store, path: Path, blobs: Path) -> FileReport:
    """A file whose changes are all held: skipped, but photos the central lacks are copied."""
    with store.engine.connect() as conn:
        found = missing_blobs_in(conn, blob_dir_for(path))
    if not found:
        return FileReport(path, "skipped", skipped_because="changes")
    with write_tx(store.engine) as conn:
        return _skipped(conn, path, blobs, "changes", found)


def _skipped(
    conn: Connection, path: Path, blob_dir: Path, because: str, found: Sequence[str]
) -> FileReport:
    """A file already merged: nothing of it is merged again, but the photos the central still
    lacks that its blob folder has now (``found``) are copied in."""
    copied = fill_missing_blobs(conn, found, blob_dir_for(path), blob_dir)
    return FileReport(path, "skipped", skipped_because=because, photos_copied=copied)


def _is_imported(store: Store, sha: str) -> bool:
    with store.engine.connect() as conn:
        return already_imported(conn, sha)
