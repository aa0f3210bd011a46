"""The append-only change log and the local clock (sync-merge.md §4.3-§4.5).

Nothing here knows the form: it stores which fields a change set and which change each field
replaced. The services decide what a change means.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.store import models
from surveyor.store.bulk import load_json, select_values
from surveyor.store.db import utc_now_iso
from surveyor.store.hlc import now_ms, tick, wall_ms
from surveyor.store.ids import uuid7

CHANGE = models.CHANGE_TABLE
CLOCK = models.CLOCK_TABLE
_INSERT_CHANGE = sa.insert(CHANGE)
_SELECT_CLOCK = sa.select(CLOCK.c.seq, CLOCK.c.hlc).where(CLOCK.c.id == 1)
_UPDATE_CLOCK = (
    sa.update(CLOCK)
    .where(CLOCK.c.id == 1)
    .values(seq=sa.bindparam("c_seq"), hlc=sa.bindparam("c_hlc"))
)


@dataclass
class ClockState:
    """The site's seq and HLC as read at the start of a write transaction."""

    seq: int
    hlc: int
    clock: Callable[[], int] = now_ms

    def next(self) -> tuple[int, int]:
        self.seq += 1
        self.hlc = tick(self.hlc, self.clock)
        return self.seq, self.hlc


def load_clock(conn: Connection, clock: Callable[[], int] = now_ms) -> ClockState:
    """Read (and on PostgreSQL lock) the clock row; SQLite is already locked by BEGIN IMMEDIATE."""
    query = _SELECT_CLOCK
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return ClockState(seq=int(row.seq), hlc=int(row.hlc), clock=clock)


def store_clock(conn: Connection, state: ClockState) -> None:
    conn.execute(_UPDATE_CLOCK, {"c_seq": state.seq, "c_hlc": state.hlc})


@dataclass(frozen=True)
class ChangeRecord:
    change_id: uuid.UUID
    site_id: uuid.UUID
    seq: int
    hlc: int
    entity_id: uuid.UUID
    op: str
    fields: dict[str, Any]
    parents: dict[str, str | None]
    author: str
    form_version: str
    wall_time: str


def append_change(
    conn: Connection,
    clock: ClockState,
    *,
    site_id: uuid.UUID,
    entity_id: uuid.UUID,
    op: str,
    fields: dict[str, Any],
    parents: dict[str, str | None],
    author: str,
    form_version: str,
) -> ChangeRecord:
    """Stamp and append one change; the caller's transaction makes it atomic with the state."""
    seq, stamp = clock.next()
    record = ChangeRecord(
        change_id=uuid7(wall_ms(stamp)),
        site_id=site_id,
        seq=seq,
        hlc=stamp,
        entity_id=entity_id,
        op=op,
        fields=fields,
        parents=parents,
        author=author,
        form_version=form_version,
        wall_time=utc_now_iso(),
    )
    conn.execute(
        _INSERT_CHANGE,
        {
            "change_id": record.change_id,
            "site_id": site_id,
            "seq": seq,
            "hlc": stamp,
            "entity_type": "building",
            "entity_id": entity_id,
            "op": op,
            "form_version": form_version,
            "fields": fields,
            "parents": parents,
            "author": author,
            "wall_time": record.wall_time,
        },
    )
    return record


def changes_for(conn: Connection, entity_id: uuid.UUID) -> list[ChangeRecord]:
    """Every change of one building, oldest first (for history views and checks)."""
    rows = conn.execute(
        sa.select(CHANGE)
        .where(CHANGE.c.entity_id == entity_id)
        .order_by(CHANGE.c.hlc, CHANGE.c.site_id, CHANGE.c.change_id)
    ).mappings()
    return [
        ChangeRecord(
            change_id=r["change_id"],
            site_id=r["site_id"],
            seq=r["seq"],
            hlc=r["hlc"],
            entity_id=r["entity_id"],
            op=r["op"],
            fields=r["fields"],
            parents=r["parents"],
            author=r["author"],
            form_version=r["form_version"],
            wall_time=r["wall_time"],
        )
        for r in rows
    ]


def change_fields(conn: Connection, change_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The fields each of these changes set, by canonical change id (packed heads leave
    their names to the log: ``store.heads``)."""
    rows = select_values(conn, CHANGE, ("change_id", "fields"), "change_id", change_ids)
    return {str(uuid.UUID(str(cid))): load_json(fields) for cid, fields in rows}
