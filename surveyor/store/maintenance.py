"""Database exports and integrity checks."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from surveyor.errors import (
    DiskFull,
    SurveyorError,
    cannot_write,
    damaged_database,
    database_trouble,
    is_damaged,
)
from surveyor.paths import (
    blob_dir_for,
    missing_folder,
    require_apart_from_database,
    require_not_a_folder,
)
from surveyor.store import models
from surveyor.store.blobs import blob_path, copy_blob, has_valid_blob
from surveyor.store.bulk import keyset_batches
from surveyor.store.db import HEAD_REVISION, Store, current_revision, database_labels
from surveyor.store.heads import decode_heads, packed_changes, unpack_heads
from surveyor.store.log import change_fields
from surveyor.store.sqlitefile import CopyDamaged, copy_database


@dataclass(frozen=True)
class ExportedDb:
    """An exported database and the photos copied into the blob folder beside it."""

    path: Path
    photos: int = 0
    #: Photos the database records as stored that its own blob folder lacks (or holds damaged).
    photos_missing: int = 0


def export_sqlite(store: Store, out: Path, *, overwrite: bool = False) -> ExportedDb:
    """A consistent copy of a live SQLite database, through SQLite's backup API, with its photos.

    A plain file copy can miss commits still in the ``-wal`` file; the backup API copies the
    database as one transaction sees it. It is written beside the target and renamed, so a
    crash or a full disk never leaves a half-written export under the final name. The photos
    go into ``<out>.blobs`` first, each verified, so the handover a supervisor merges carries
    them (a merge reads the blob folder beside the file).
    """
    if not store.is_sqlite:
        raise SurveyorError(
            "export-db works on a SQLite database; use pg_dump for PostgreSQL",
            zh="export-db 只适用于 SQLite 数据库；PostgreSQL 请用 pg_dump",
        )
    out = Path(out)
    src_path = Path(store.target)
    # Renamed over the open database, the copy would part it from its -wal file.
    require_apart_from_database(out, src_path)
    require_not_a_folder(out)
    if out.exists() and not overwrite:
        raise SurveyorError(
            f"{out} already exists; pass --force to replace it",
            zh=f"{out} 已存在；要替换请加 --force",
        )
    if why := missing_folder(out):
        raise SurveyorError(f"cannot write {out}: {why[0]}", zh=f"无法写入 {out}：{why[1]}")
    copied: list[tuple[int, int]] = []

    def copy_photos(tmp: Path) -> None:
        copied.append(_copy_photos(tmp, blob_dir_for(src_path), blob_dir_for(out)))

    try:
        copy_database(src_path, out, standalone=True, before_rename=copy_photos)
    except CopyDamaged as exc:
        raise SurveyorError(
            f"the export failed its {exc}", zh=f"导出的副本未通过完整性检查：{exc}"
        ) from exc
    except sqlite3.Error as exc:
        if "full" in str(exc).lower():  # SQLite's "database or disk is full"
            raise DiskFull(
                f"cannot export to {out}: the disk is full; nothing was written: free some "
                "space and try again",
                zh=f"无法导出到 {out}：磁盘已满；未写入任何内容，请腾出空间后重试",
            ) from exc
        if is_damaged(exc):  # the copy is new: the damage is the source's
            raise damaged_database(database_labels(store.target)) from exc
        en, zh = database_trouble(exc, "en") or str(exc), database_trouble(exc, "zh") or str(exc)
        raise SurveyorError(f"cannot export to {out}: {en}", zh=f"无法导出到 {out}：{zh}") from exc
    except OSError as exc:
        raise cannot_write(out, exc) from exc
    ((photos, missing),) = copied
    return ExportedDb(out, photos, missing)


def _copy_photos(db_file: Path, src_dir: Path, dst_dir: Path) -> tuple[int, int]:
    """Copy the photos ``db_file`` records as stored; returns (copied or present, missing)."""
    conn = sqlite3.connect(db_file)
    try:
        shas = [row[0] for row in conn.execute("SELECT sha256 FROM attachment WHERE stored")]
    finally:
        conn.close()
    done = sum(has_valid_blob(dst_dir, sha) or copy_blob(src_dir, dst_dir, sha) for sha in shas)
    return done, len(shas) - done


@dataclass(frozen=True)
class MissingPhotos:
    """Photos one field of one building refers to that the photo folder lacks."""

    code: str
    field_id: str
    count: int


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    #: Photos recorded but missing from (or of the wrong size in) the photo folder, per field.
    missing_photos: list[MissingPhotos] = field(default_factory=list)
    #: The photo folder checked.
    photo_folder: Path | None = None
    #: SQLite found the file damaged: nothing else was checked (its reads would fail).
    damaged: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_photos


def doctor(store: Store, photo_folder: Path | None = None) -> DoctorReport:
    """Check the file and the invariants the write path promises.

    - SQLite's own ``integrity_check``;
    - the schema is at this Surveyor's head revision;
    - this site's changes are numbered 1..n without gaps and the clock is ahead of them;
    - every field head in a building row is a change in the log that set that value;
    - every photo a building refers to is in the photo folder (``photo_folder``, default
      beside a SQLite file; a URL's is checked only when given).
    """
    report = DoctorReport()
    change = models.CHANGE_TABLE
    building = models.BUILDING_TABLE
    clock = models.CLOCK_TABLE
    with store.engine.connect() as conn:
        if store.is_sqlite and _integrity_problems(conn, report):
            return report
        rev = current_revision(conn)
        report.facts["schema"] = str(rev)
        if rev != HEAD_REVISION:
            report.problems.append(f"schema is at {rev}, expected {HEAD_REVISION}")
        site = store.site_id
        report.facts["site_id"] = str(site)
        n, lo, hi, max_hlc = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.min(change.c.seq),
                sa.func.max(change.c.seq),
                sa.func.max(change.c.hlc),
            ).where(change.c.site_id == site)
        ).one()
        report.facts["own_changes"] = str(n)
        if n and (lo != 1 or hi != n):
            report.problems.append(
                f"this site's change numbers have gaps: {n} changes, seq {lo}..{hi}"
            )
        cseq, chlc = conn.execute(sa.select(clock.c.seq, clock.c.hlc)).one()
        if n and (cseq < hi or chlc < max_hlc):
            report.problems.append(f"clock (seq {cseq}) is behind the log (seq {hi})")
        report.facts["buildings"] = str(
            conn.execute(sa.select(sa.func.count()).select_from(building)).scalar()
        )
        report.facts["changes"] = str(
            conn.execute(sa.select(sa.func.count()).select_from(change)).scalar()
        )
        report.problems.extend(_check_heads(conn))
        folder = photo_folder
        if folder is None and store.is_sqlite:
            folder = blob_dir_for(Path(store.target))
        if folder is not None:
            report.photo_folder = folder
            report.missing_photos = missing_photos(conn, folder)
    return report


def _integrity_problems(conn: sa.Connection, report: DoctorReport) -> bool:
    """SQLite's ``integrity_check`` into ``report``; True when the file is damaged. A check
    that cannot even read the file (SQLite's "database disk image is malformed") is damage
    too: it was an internal error."""
    try:
        rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    except sa.exc.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        rows = [str(exc.orig)]
    if rows == ["ok"]:
        return False
    report.problems.extend(f"integrity: {r}" for r in rows[:20])
    report.damaged = True
    return True


def missing_photos(conn: sa.Connection, folder: Path) -> list[MissingPhotos]:
    """The photos buildings refer to that ``folder`` lacks: recorded as not stored, or
    recorded as stored with no file of their size there. A merge told "1 photo(s) missing"
    and a photo "sent" to the wrong folder used to pass doctor, while ``show`` listed the
    photo and the printed sheet said 无照片.

    Reads only the attachment table and the folder unless something is missing; the size is
    compared, not the hash (a central holds many thousands of photos).
    """
    attachment = models.ATTACHMENT_TABLE
    gone = {
        str(sha)
        for sha, size, stored in conn.execute(
            sa.select(attachment.c.sha256, attachment.c.size, attachment.c.stored)
        )
        if not stored or not _blob_of_size(folder, str(sha), int(size))
    }
    if not gone:
        return []
    building = models.BUILDING_TABLE
    found: list[MissingPhotos] = []
    query = sa.select(building.c.id, building.c.code, building.c.answers)
    for rows in keyset_batches(conn, query, building.c.id, HEADS_BATCH):
        for r in rows:
            for fid, value in sorted((r.answers or {}).items()):
                if n := _photos_among(value, gone):
                    found.append(MissingPhotos(str(r.code), str(fid), n))
    return found


def _blob_of_size(folder: Path, sha: str, size: int) -> bool:
    try:
        return blob_path(folder, sha).stat().st_size == size
    except OSError:
        return False


def _photos_among(value: object, shas: set[str]) -> int:
    """How many photos of an answer (a list of ``{"sha256": …}``) are among ``shas``."""
    if not isinstance(value, list):
        return 0
    return sum(isinstance(p, dict) and p.get("sha256") in shas for p in value)


#: Buildings checked per batch: bounds memory on a large central, few round trips.
HEADS_BATCH = 500
#: Stop listing problems after this many; the first ones say what is wrong.
MAX_PROBLEMS = 50


def _check_heads(conn: sa.Connection) -> list[str]:
    """Every field's head must be a logged change that set the value the state row shows.

    Reads buildings in id order, a batch at a time, with only the changes their heads name,
    so memory stays flat however large the database is.
    """
    building = models.BUILDING_TABLE
    problems: list[str] = []
    query = sa.select(
        building.c.id, building.c.code, building.c.answers, building.c.heads, building.c.status
    )
    for rows in keyset_batches(conn, query, building.c.id, HEADS_BATCH):
        fields_by_change = change_fields(conn, sorted({cid for r in rows for cid in r.heads}))
        for r in rows:
            problems.extend(_head_problems(r.code, r.answers, r.heads, r.status, fields_by_change))
        if len(problems) > MAX_PROBLEMS:
            break
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"… (stopped after {MAX_PROBLEMS} problems)"]
    return problems


def _head_problems(
    code: str,
    answers: dict[str, object],
    heads: dict[str, list[object]],
    status: str,
    fields_by_change: dict[str, dict[str, object]],
) -> list[str]:
    if missing := [cid for cid in packed_changes(heads) if cid not in fields_by_change]:
        return [f"{code}: heads point to missing change(s) {', '.join(missing)}"]
    field_change, _ = decode_heads(unpack_heads(heads, fields_by_change))
    problems = []
    for fid, cid in field_change.items():
        setting = fields_by_change.get(cid)
        if setting is None or fid not in setting:
            problems.append(f"{code}: field '{fid}' points to a missing change {cid}")
            continue
        expected = setting[fid]
        actual = status if fid == "_status" else answers.get(fid)
        if expected != actual:
            problems.append(
                f"{code}: field '{fid}' shows {actual!r} but its change set {expected!r}"
            )
    return problems
