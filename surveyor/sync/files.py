"""Reading an inspector's database file for a merge, after checking it is safe to read.

A file is refused whole, before anything is written, when it is not SQLite, truncated,
corrupt, not a Surveyor database, or written by a newer Surveyor (unknown schema revision).
Files are opened read-only with the sqlite3 module directly: it is faster than SQLAlchemy for
a bulk read and never creates or upgrades anything.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from surveyor.errors import SurveyorError, cannot_read
from surveyor.store.bulk import dump_json, load_json
from surveyor.store.db import KNOWN_REVISIONS
from surveyor.store.heads import encode_heads, pack_heads
from surveyor.store.sqlitefile import (
    SQLITE_MAGIC,
    readonly_folder_hint,
    readonly_uri,
    special_file_error,
)
from surveyor.sync.fold import ChangeRow
from surveyor.sync.rows import (
    CHANGE_COLUMNS,
    DamagedChange,
    RowHint,
    canonical_id,
    read_changes,
    shown_value,
)

#: Schema revisions whose state rows keep per-field ``field_change``/``field_hlc`` columns.
LEGACY_HEADS = frozenset({"0001_initial", "0002_building_list_index"})
#: Schema revisions whose grouped heads name every field (not packed, ``store.heads``).
EXPLICIT_HEADS = LEGACY_HEADS | {"0003_compact_heads", "0004_merge_write_costs"}


class RefusedFile(SurveyorError):
    """A file that cannot be merged; nothing of it is written."""


@dataclass
class Snapshot:
    """What a merge needs from one file, read in one consistent read transaction."""

    path: Path
    sha256: str
    site_id: str
    inspector: str | None
    changes: list[ChangeRow]
    hints: dict[str, RowHint]
    attachments: list[tuple[str, int, str]]  # sha256, size, mime


def file_sha256(path: Path) -> str:
    """Hash of the database file and its WAL (a live laptop file keeps recent commits there)."""
    digest = hashlib.sha256()
    for part in (path, Path(f"{path}-wal")):
        if part.exists():
            with part.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
    return digest.hexdigest()


def check_header(path: Path) -> None:
    """Refuse non-SQLite and truncated files from the 100-byte header alone."""
    if (special := special_file_error(path, RefusedFile)) is not None:
        raise special
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        raise RefusedFile(f"{path} does not exist", zh=f"{path} 不存在") from None
    except OSError as exc:
        raise cannot_read(path, exc, RefusedFile) from exc
    if not header.startswith(SQLITE_MAGIC):
        raise RefusedFile(
            f"{path} is not a SQLite database; nothing was merged",
            zh=f"{path} 不是 SQLite 数据库；其内容均未合并",
        )
    if len(header) < 100:
        raise RefusedFile(
            f"{path} is truncated (only {len(header)} bytes); nothing was merged",
            zh=f"{path} 不完整（只有 {len(header)} 字节）；其内容均未合并",
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_ok = header[24:28] == header[92:96]
    size = path.stat().st_size
    if size % page_size or (counter_ok and pages and size < pages * page_size):
        raise RefusedFile(
            f"{path} is truncated ({size} bytes, its header says {pages * page_size}); "
            "copy it again from the laptop; nothing was merged",
            zh=f"{path} 不完整（{size} 字节，文件头写的是 {pages * page_size}）；"
            "请从笔记本重新复制；其内容均未合并",
        )


def _connect_readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(readonly_uri(path), uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def read_snapshot(path: Path) -> Snapshot:
    """Check a file and read its changes, state hints and attachment list."""
    path = Path(path)
    check_header(path)
    sha = file_sha256(path)
    try:
        conn = _connect_readonly(path)
    except sqlite3.Error as exc:
        raise RefusedFile(
            f"cannot open {path}: {exc}; nothing was merged",
            zh=f"无法打开 {path}：{exc}；其内容均未合并",
        ) from exc
    try:
        conn.execute("BEGIN")
        return _read(conn, path, sha)
    except sqlite3.DatabaseError as exc:
        hint = readonly_folder_hint(path) if isinstance(exc, sqlite3.OperationalError) else None
        if hint is not None:
            raise RefusedFile(
                f"cannot open {path}: {hint[0]}; nothing was merged",
                zh=f"无法打开 {path}：{hint[1]}；其内容均未合并",
            ) from exc
        raise _corrupt(path, exc) from exc
    finally:
        conn.close()


def _corrupt(path: Path, detail: object) -> RefusedFile:
    """SQLite's check reports a page per line ("*** in database main ***", "Page 16: …"):
    the first line that says something, once."""
    lines = [line.strip() for line in str(detail).splitlines() if line.strip()]
    said = next((line for line in lines if not line.startswith("***")), lines[0] if lines else "")
    return RefusedFile(
        f"{path} is corrupt ({said}); nothing was merged",
        zh=f"{path} 已损坏（{said}）；其内容均未合并",
    )


def _read(conn: sqlite3.Connection, path: Path, sha: str) -> Snapshot:
    check = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    if check != ["ok"]:
        raise _corrupt(path, check[0])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables or "change" not in tables:
        raise RefusedFile(
            f"{path} is not a Surveyor database; nothing was merged",
            zh=f"{path} 不是 Surveyor 数据库；其内容均未合并",
        )
    rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if rev is None or rev[0] not in KNOWN_REVISIONS:
        raise RefusedFile(
            f"{path} was written by a newer version of Surveyor (schema "
            f"{rev[0] if rev else 'unknown'}); upgrade Surveyor before merging it; "
            "nothing was merged",
            zh=f"{path} 由更新版本的 Surveyor 写成（数据结构 {rev[0] if rev else '未知'}）；"
            "请先升级 Surveyor 再合并；其内容均未合并",
        )
    meta = {r[0]: r[1] for r in conn.execute("SELECT key, value FROM meta")}
    site = _site_id(path, meta)
    changes = _changes(conn, path)
    # Older files' heads are packed here, so they still compare equal to a fold's as text.
    sizes = {c.change_id: len(c.fields) for c in changes} if rev[0] in EXPLICIT_HEADS else None
    hints = _hints(conn, path, legacy=rev[0] in LEGACY_HEADS, change_sizes=sizes)
    attachments = [
        (str(r[0]), int(r[1]), str(r[2]))
        for r in conn.execute("SELECT sha256, size, mime FROM attachment WHERE stored")
    ]
    return Snapshot(path, sha, site, meta.get("inspector"), changes, hints, attachments)


def _site_id(path: Path, meta: dict[str, str]) -> str:
    """The file's site id, canonical; a missing or damaged one refuses the file (it is the
    key of every change the file holds, so nothing in it can be placed)."""
    if "site_id" not in meta:
        raise RefusedFile(
            f"{path} has no site id; it is damaged; nothing was merged",
            zh=f"{path} 没有站点编号，文件已损坏；其内容均未合并",
        )
    try:
        return canonical_id(meta["site_id"])
    except (ValueError, TypeError) as exc:
        shown = shown_value(meta["site_id"])
        raise RefusedFile(
            f"{path} has a damaged site id ({shown}); nothing was merged",
            zh=f"{path} 的站点编号已损坏（{shown}）；其内容均未合并",
        ) from exc


def _changes(conn: sqlite3.Connection, path: Path) -> list[ChangeRow]:
    """Every change of the file; a row that cannot be read refuses the file, naming the row
    (its seq and id) and the column, so whoever has the laptop can find it."""
    plain = conn.cursor()
    plain.row_factory = None  # tuples, straight into change_from_values
    try:
        return read_changes(plain.execute(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM change"))
    except DamagedChange as exc:
        en, zh = exc.said(str(path), "nothing was merged", "其内容均未合并")
        raise RefusedFile(en, zh=zh) from exc


def _hints(
    conn: sqlite3.Connection, path: Path, *, legacy: bool, change_sizes: dict[str, int] | None
) -> dict[str, RowHint]:
    """The file's state rows as hints (``RowHint``); a row that cannot be read refuses the
    file like a damaged change: its evaluation would be copied into the central."""
    hints: dict[str, RowHint] = {}
    for r in conn.execute(
        f"SELECT id, {'field_change, field_hlc' if legacy else 'heads'}, "
        "form_version, completeness, errors, error_count FROM building"
    ):
        try:
            hints[canonical_id(r["id"])] = RowHint(
                heads_json=_heads_of(r, legacy=legacy, change_sizes=change_sizes),
                form_version=r["form_version"],
                completeness=float(r["completeness"]),
                errors_json=r["errors"],
                error_count=int(r["error_count"]),
            )
        except (ValueError, TypeError) as exc:
            shown = shown_value(r["id"])
            raise RefusedFile(
                f"{path} is damaged: its building row {shown} cannot be read ({exc}); "
                "nothing was merged",
                zh=f"{path} 已损坏：其中楼栋行 {shown} 无法读取（{exc}）；其内容均未合并",
            ) from exc
    return hints


def _heads_of(r: sqlite3.Row, *, legacy: bool, change_sizes: dict[str, int] | None) -> str:
    """A state row's heads as JSON text in the current encoding (files from before 0003 kept
    them per field, from before 0005 unpacked)."""
    if change_sizes is None:
        return str(r["heads"])
    if legacy:
        heads = encode_heads(load_json(r["field_change"]), load_json(r["field_hlc"]))
    else:
        heads = load_json(r["heads"])
    return dump_json(pack_heads(heads, change_sizes))
