"""A central put back from a backup writes under a new site id (docs/SYNC.md, "Restoring a
central").

A backup holds the central as it was. Put back, its next change would take the number
``(site, seq)`` of a change it made after the backup, which laptops pulled since: two
different changes at one place in the log, and every laptop holding the first was refused at
its next sync as "a copy of another laptop". A new site id for its future writes keeps every
place unique; its earlier changes keep theirs, and laptops send back those it lost.

Backups made by Surveyor (``<central>.backups/``, the copy kept before a schema upgrade) are
marked in their ``meta`` (``BACKUP_MARK``): the first writable open of a marked central takes a
new id and drops the mark, each time the same backup is put back. A PostgreSQL central notes
where it lives (``HOME``: the database's and the change table's oids); a dump restored, or a
template copy, lives elsewhere, and its first writable open takes a new id too (so does a
central moved to another server: a new id costs nothing). Copies neither can tell (a SQLite
file copied by hand, a data-only restore) need ``surveyor central restored``.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.store import models

META = models.META_TABLE
CLOCK = models.CLOCK_TABLE
#: ``meta`` key of a backup copy of a central: whoever opens it to write is a restored central.
BACKUP_MARK = "backup_copy"
#: ``meta`` key: the ids this database wrote under before (space-separated, oldest first).
#: A central's own changes (register, assignments, resolutions) stay its own after a restart:
#: an assignment made before it still makes a name an inspector, never a laptop's edit.
FORMER_SITES = "former_site_ids"


def meta_facts(conn: Connection) -> dict[str, str]:
    """Every ``meta`` row of this database, key → value."""
    return {str(k): str(v) for k, v in conn.execute(sa.select(META.c.key, META.c.value))}


def former_sites(facts: dict[str, str]) -> tuple[uuid.UUID, ...]:
    """The ids a database wrote under before its current one, from its ``meta`` rows."""
    return tuple(uuid.UUID(s) for s in facts.get(FORMER_SITES, "").split())


#: ``meta`` key: where a PostgreSQL central lives (``home_of``).
HOME = "home"


def home_of(conn: Connection) -> str | None:
    """The oids of this PostgreSQL database and of its change table (a restored dump or a
    template copy has others); None on SQLite, whose copies are told by ``BACKUP_MARK``."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(
        sa.text(
            "SELECT d.oid, to_regclass('change')::oid FROM pg_database d "
            "WHERE d.datname = current_database()"
        )
    ).one()
    return f"{row[0]}:{row[1]}"


def was_put_back(facts: dict[str, str], home: str | None) -> bool:
    """Whether a central's ``meta`` says it is a backup put back (or a copy): marked as a
    backup, or a PostgreSQL central living elsewhere than it noted."""
    if facts.get("role") != "central":
        return False
    return BACKUP_MARK in facts or (home is not None and facts.get(HOME, home) != home)


def settle_home(conn: Connection, facts: dict[str, str]) -> dict[str, str]:
    """On a central's writable open: a new site id if it was put back from a backup (or is a
    copy), and its home noted; returns its ``meta`` as it is now. Writes only when needed."""
    home = home_of(conn)
    if was_put_back(facts, home):
        restart_site(conn)
    if home is not None and facts.get(HOME) != home:
        conn.execute(sa.delete(META).where(META.c.key == HOME))
        conn.execute(sa.insert(META), [{"key": HOME, "value": home}])
    return meta_facts(conn)


def needs_settling(conn: Connection, facts: dict[str, str]) -> bool:
    """Whether ``settle_home`` has anything to write (read first: most opens have not)."""
    if facts.get("role") != "central":
        return False
    home = home_of(conn)
    return was_put_back(facts, home) or (home is not None and facts.get(HOME) != home)


def mark_as_backup(path: Path) -> None:
    """Mark a finished backup copy of a central (a ``copy_database`` ``before_rename``), so
    that putting it back gives the central a new site id; a laptop's copy is left as it is."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            role = conn.execute("SELECT value FROM meta WHERE key = 'role'").fetchone()
            if role is not None and role[0] == "central":
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (BACKUP_MARK,)
                )
    finally:
        conn.close()


def restart_site(conn: Connection, seq: int = 0) -> tuple[str, str]:
    """Give this database a new site id, its change counter at ``seq`` (the changes already
    moved under the new id), and drop any backup mark; returns (old id, new id). The old id
    joins ``FORMER_SITES``."""
    facts = meta_facts(conn)
    old = facts["site_id"]
    new = str(uuid.uuid4())
    conn.execute(sa.update(META).where(META.c.key == "site_id").values(value=new))
    former = " ".join([*facts.get(FORMER_SITES, "").split(), old])
    conn.execute(sa.delete(META).where(META.c.key == FORMER_SITES))
    conn.execute(sa.insert(META), [{"key": FORMER_SITES, "value": former}])
    conn.execute(sa.delete(META).where(META.c.key == BACKUP_MARK))
    conn.execute(sa.update(CLOCK).where(CLOCK.c.id == 1).values(seq=seq))
    return str(old), new
