"""Surveyor's log file, ``surveyor.log`` in the user log folder (``paths.log_dir``).

It holds what only a developer can read: the traceback of an error nobody expected (a bug),
which the CLI and the app say in one sentence naming this file, and libraries' warnings. A
log that cannot be written is dropped: a log never fails what it records.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from surveyor import paths

#: Said instead of the log's path when it could not be written.
UNWRITABLE = Path("(log not writable)")


def append(text: str) -> Path | None:
    """Add ``text`` to ``surveyor.log`` (its folder made if missing); None when it cannot be
    written."""
    log = paths.log_file()
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        return None
    return log


def log_exception(exc: BaseException) -> Path:
    """Write ``exc``'s traceback to the log; the log's path (``UNWRITABLE`` if it could not
    be written)."""
    return append("".join(traceback.format_exception(exc))) or UNWRITABLE
