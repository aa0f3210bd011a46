"""A cheap check that a path is an existing SQLite file, without importing SQLAlchemy.

``open_store`` and ``surveyor app`` both use it: the app calls it before taking over the
screen, when importing the store (and SQLAlchemy) would delay its first frame.
"""

from __future__ import annotations

from pathlib import Path

from surveyor.errors import SurveyorError

SQLITE_MAGIC = b"SQLite format 3\x00"


def require_sqlite_file(path: Path) -> None:
    """Refuse a missing file, or one that is not SQLite, with a sentence that says what to do."""
    if not path.exists():
        raise SurveyorError(
            f"database {path} does not exist; create it with 'surveyor init --db {path}'"
        )
    try:
        with path.open("rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise SurveyorError(f"cannot read {path}: {exc.strerror}") from exc
    if header != SQLITE_MAGIC:
        raise SurveyorError(f"{path} is not a SQLite database")
