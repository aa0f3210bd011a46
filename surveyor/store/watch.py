"""Noticing that another connection wrote to the database, cheaply (the open survey's refresh).

SQLite raises ``PRAGMA data_version`` on a connection each time *another* connection commits
(another process — ``surveyor photo add``, a sync — or another connection of this one); asking
costs no read of the database. The question needs one connection kept for it, so a
``CommitWatch`` holds its own read-only one. PostgreSQL has no such counter: there every
question is answered "maybe", and the caller reads what it shows again (one row).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from surveyor.store.db import Store
from surveyor.store.sqlitefile import readonly_uri


class CommitWatch:
    """Whether anything was committed to ``store`` since the last ``changed()``.

    Opened lazily, by the first question (from a worker thread: the screen that asks must not
    wait for a file to open), which always answers True, so a write between the caller's
    first read and that question is not missed. Thread-safe; ``close`` when done.
    """

    def __init__(self, store: Store) -> None:
        self._path = Path(store.target) if store.is_sqlite else None
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._closed = False
        self._lock = threading.Lock()

    def changed(self) -> bool:
        """True when another connection committed since the last call (always True the first
        time, and on PostgreSQL, or when the file cannot be asked)."""
        with self._lock:
            if self._path is None or self._closed:
                return self._path is None
            try:
                if self._conn is None:
                    uri = readonly_uri(self._path)
                    self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                row = self._conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                return True  # the caller's own read says what is wrong, if anything
            before, self._version = self._version, int(row[0])
            return before is None or before != self._version

    def close(self) -> None:
        """Close the watch's connection; it answers False from then on."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
