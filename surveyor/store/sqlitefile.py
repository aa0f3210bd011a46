"""SQLite files as files: a cheap check that a path is one, and how to open one read-only.

Neither imports SQLAlchemy: ``surveyor app`` checks its database before taking over the
screen, when importing the store would delay its first frame.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from surveyor.errors import SurveyorError, cannot_read
from surveyor.paths import remove_stale_temps

SQLITE_MAGIC = b"SQLite format 3\x00"


def special_file_error(
    path: Path, kind: type[SurveyorError] = SurveyorError
) -> SurveyorError | None:
    """The refusal of a path that exists but is no regular file (a pipe, a device, a folder),
    or None. Reading a named pipe to check its header waited forever for a writer."""
    if not path.exists() or path.is_file():
        return None
    return kind(
        f"{path} is not a database file (it is a folder, a pipe or a device)",
        zh=f"{path} 不是数据库文件（它是文件夹、管道或设备）",
    )


def require_sqlite_file(path: Path) -> None:
    """Refuse a missing file, or one that is not SQLite, with a sentence that says what to do.
    The command it gives must run as given: 'surveyor init --db X' alone is refused for the
    missing --inspector."""
    if not path.exists():
        typed = shlex.quote(str(path))
        raise SurveyorError(
            f"database {path} does not exist; create it, with your name for NAME: "
            f"surveyor init --db {typed} --inspector NAME",
            zh=f"数据库 {path} 不存在；请用「surveyor init --db {typed} --inspector 你的姓名」新建",
        )
    if (special := special_file_error(path)) is not None:
        raise special
    try:
        with path.open("rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise cannot_read(path, exc) from exc
    if header != SQLITE_MAGIC:
        raise SurveyorError(f"{path} is not a SQLite database", zh=f"{path} 不是 SQLite 数据库")


#: The files SQLite keeps beside a database while it writes it.
_SIDE_FILES = "(-journal|-wal|-shm)?"


class CopyDamaged(sqlite3.DatabaseError):
    """A standalone copy failed SQLite's check: it is not given the final name."""


def copy_database(
    src: Path,
    dst: Path,
    *,
    standalone: bool = False,
    before_rename: Callable[[Path], None] | None = None,
) -> None:
    """A consistent copy of a live SQLite file: the backup API (commits still in the -wal are
    in it) into a temporary file beside ``dst``, synced and renamed when whole, so a crash or
    a full disk never leaves half a copy under the final name. Raises sqlite3.Error (or
    ``CopyDamaged``) or OSError; the caller says what failed.

    ``standalone``: a file handed over on its own (``export-db``) is left in rollback-journal
    mode and checked whole. ``before_rename(tmp)`` does more with the finished copy first
    (the photos it records).
    """
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    # What a killed copy to ``dst`` left: the copy and SQLite's files beside it.
    remove_stale_temps(dst.parent, re.compile(rf"\.{re.escape(dst.name)}\.\d+\.tmp{_SIDE_FILES}"))
    try:
        source = sqlite3.connect(readonly_uri(src), uri=True)
        try:
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)
                if standalone:
                    target.execute("PRAGMA journal_mode = DELETE")
                    found = target.execute("PRAGMA quick_check").fetchone()[0]
                    if found != "ok":
                        raise CopyDamaged(f"integrity check: {found}")
            finally:
                target.close()
        finally:
            source.close()
        if before_rename is not None:
            before_rename(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):  # a full disk left the -journal
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def sqlite_role(path: Path) -> str | None:
    """The role a Surveyor SQLite file says it has (laptop, central), read without SQLAlchemy;
    None when it cannot say (not one of ours, unreadable): opening it will say why."""
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'role'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def readonly_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only, also from a folder we cannot write.

    A WAL database needs its ``-shm`` file beside it. In a read-only folder (a USB stick, a
    share) SQLite cannot create one and refuses to open the file at all. Without a ``-wal``
    file there, the database file holds every commit and no one can be writing it, so it is
    opened as immutable (no locks, no ``-shm``).
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    wal = path.with_name(path.name + "-wal")
    if not os.access(path.parent, os.W_OK) and not wal.exists():
        uri += "&immutable=1"
    return uri


def readonly_folder_hint(path: Path) -> tuple[str, str] | None:
    """Why SQLite could not open ``path`` when its folder cannot be written (en, zh), else None.

    Only a database with a ``-wal`` file beside it gets here when read (``readonly_uri``);
    any write needs the folder too.
    """
    if os.access(path.parent, os.W_OK):
        return None
    return (
        f"its folder {path.parent} is read-only; copy the database (with its -wal file, if "
        "there is one) to a writable folder",
        f"所在文件夹 {path.parent} 只读；请把数据库（连同旁边的 -wal 文件，如有）"
        "复制到可写的文件夹",
    )
