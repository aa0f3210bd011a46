"""Where Surveyor keeps its files, following the XDG conventions through platformdirs."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "surveyor"
_dirs = PlatformDirs(APP_NAME, appauthor=False)

#: Environment variable that overrides the default database location.
DB_ENV_VAR = "SURVEYOR_DB"


def data_dir() -> Path:
    return Path(_dirs.user_data_dir)


def config_dir() -> Path:
    return Path(_dirs.user_config_dir)


def log_dir() -> Path:
    return Path(_dirs.user_log_dir)


def log_file() -> Path:
    """``surveyor.log``: tracebacks of errors nobody expected, and libraries' warnings."""
    return log_dir() / "surveyor.log"


def export_dir(db: Path | None) -> Path:
    """The folder an export is offered in: beside a database the user keeps somewhere of
    their own; for one in the hidden data folder (the default database) or a PostgreSQL
    central (``db`` None), the Documents folder if there is one, else the current folder.
    The dialog offered ``~/.local/share/surveyor/sheets.pdf``, where nobody finds a PDF."""
    if db is not None and not _inside(db, data_dir()):
        return db.parent if str(db.parent) else Path(".")
    documents = Path(_dirs.user_documents_dir)
    return documents if documents.is_dir() else Path.cwd()


def _inside(path: Path, folder: Path) -> bool:
    return path.expanduser().resolve().is_relative_to(folder.expanduser().resolve())


def places(db: Path | None, *, config: Path | None = None) -> list[tuple[str, Path]]:
    """Where Surveyor keeps what a user looks for, as (what, path): the settings file (the
    app's own ``config``, else the one commands read), the data folder, the database ``db``
    and its photo folder (left out for a PostgreSQL store, ``db`` None), the log file and
    the folder exports are offered in. One list for ``surveyor paths`` and F1 help: these
    were named only in docs/TUI.md."""
    from surveyor.settings import config_path

    found = [("config", config or config_path()), ("data", data_dir())]
    if db is not None:
        found += [("database", db), ("photos", blob_dir_for(db))]
    return [*found, ("log", log_file()), ("exports", export_dir(db))]


def screenshot_dir() -> Path:
    """Where the app's screenshots go (the palette's "screenshot"): the user data directory,
    which Surveyor creates anyway. Textual's default, ~/Downloads, is missing on many field
    laptops, so every screenshot failed."""
    return data_dir() / "screenshots"


def default_db_path() -> Path:
    """The inspector's database: ``$SURVEYOR_DB`` if set, else the user data directory."""
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return Path(env)
    return data_dir() / "survey.db"


def blob_dir_for(db_path: Path) -> Path:
    """Photos live beside their database, content-addressed, so an export can carry them."""
    return db_path.with_name(db_path.name + ".blobs")


def missing_folder(path: Path) -> tuple[str, str] | None:
    """Why ``path`` cannot be made in its folder, in English and Chinese, or None. A file
    where the folder should be was said to be a folder that "does not exist"."""
    parent = path.parent if str(path.parent) else Path(".")
    if parent.is_dir():
        return None
    if parent.exists():
        return f"{parent} is a file, not a folder", f"{parent} 是文件，不是文件夹"
    return f"folder {parent} does not exist", f"文件夹 {parent} 不存在"


def require_not_a_folder(out: Path) -> None:
    """Refuse an output path that is a folder: "already exists; pass --force" and then
    "cannot access …: Is a directory" never said what was wrong."""
    from surveyor.errors import SurveyorError

    if out.is_dir():
        raise SurveyorError(
            f"{out} is a folder; give the path of the file to write (e.g. {out / 'survey.db'})",
            zh=f"{out} 是文件夹；请给出要写入的文件路径（例如 {out / 'survey.db'}）",
        )


#: What SQLite keeps beside a database file while it is in use (its journals).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _same_path(a: Path, b: Path) -> bool:
    """Whether two paths name one file or folder (a hard link or symlink too)."""
    if a.exists() and b.exists():
        return a.samefile(b)
    return a.resolve() == b.resolve()


def require_apart_from_database(out: Path, db: Path, *, folder: bool = False) -> None:
    """Refuse, even when told to replace files, an output that is the database being read,
    a journal SQLite keeps beside it, its photo folder or a path inside that, or (``folder``)
    a folder holding it: ``export labels --out s.db --force`` wrote a PDF over the survey.
    ``export-db`` and every export share this one check."""
    from surveyor.errors import SurveyorError

    if _same_path(out, db):
        raise SurveyorError(
            f"{out} is the database being read; nothing was written: write to another file "
            "(--force never replaces it)",
            zh=f"{out} 就是正在读取的数据库；未写入任何内容："
            "请写到另一个文件（--force 也不会覆盖它）",
        )
    blobs = blob_dir_for(db)
    side = [db.with_name(db.name + suffix) for suffix in SQLITE_SIDE_FILES]
    target = out.resolve()
    if any(_same_path(out, p) for p in [*side, blobs]) or target.is_relative_to(blobs.resolve()):
        raise SurveyorError(
            f"{out} belongs to the database being read, {db} (SQLite's journal or its photo "
            "folder); nothing was written: write elsewhere (--force never replaces it)",
            zh=f"{out} 属于正在读取的数据库 {db}（SQLite 的日志文件或照片文件夹）；"
            "未写入任何内容：请写到别处（--force 也不会覆盖它）",
        )
    if folder and db.resolve().is_relative_to(target):
        raise SurveyorError(
            f"{out} holds the database being read, {db}; nothing was written: write into a "
            "new folder",
            zh=f"{out} 中有正在读取的数据库 {db}；未写入任何内容：请写入一个新文件夹",
        )


#: A temporary file or folder untouched this long was left by a killed or failed write: a live
#: one is touched as it goes and takes seconds, even into a slow shared folder. An age, not a
#: process id: a central's folder may be shared by several computers.
STALE_TEMP_SECONDS = 3600


def remove_stale_temps(
    folder: Path, name: re.Pattern[str], *, older_than: float = STALE_TEMP_SECONDS
) -> int:
    """Remove the entries of ``folder`` whose whole name matches ``name`` and that are older
    than ``older_than`` seconds (files, or folders with what is in them); returns how many.

    The one sweep of what killed writes leave: photo writes (``store.blobs``), exports'
    ``.<name>.xxxxxxxx.part`` files and folders (``exports.output``), database copies'
    ``.tmp`` and ``.tmp-journal`` (``store.sqlitefile.copy_database``). Hidden, nothing else
    ever removed them (a killed ``--split`` left 323 PDFs)."""
    cutoff = time.time() - older_than
    try:
        with os.scandir(folder) as entries:
            stale = [
                e
                for e in entries
                if name.fullmatch(e.name) and e.stat(follow_symlinks=False).st_mtime < cutoff
            ]
    except OSError:
        return 0
    removed = 0
    for entry in stale:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError:
            pass  # gone meanwhile, or not ours to remove: the next sweep tries again
    return removed
