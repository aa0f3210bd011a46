"""Where Surveyor keeps its files, following the XDG conventions through platformdirs."""

from __future__ import annotations

import os
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
