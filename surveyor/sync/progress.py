"""Supervisor progress: buildings by 街道 and by inspector, per status, conflicted ones apart
(an open field conflict or an open duplicate flag)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyor.store.db import Store, read_tx
from surveyor.sync.rows import BUILDING, CHANGE, flagged_as_duplicate

#: Columns of the progress table; a building with an open conflict counts only as conflicted.
BUCKETS = ("not_started", "draft", "complete", "approved", "conflicted")
UNASSIGNED = "(unassigned)"
NO_SUBDISTRICT = "(none)"


@dataclass
class ProgressTable:
    """Counts per group (a 街道 code or an inspector) and bucket."""

    title: str
    rows: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, group: str, bucket: str, n: int) -> None:
        counts = self.rows.setdefault(group, dict.fromkeys(BUCKETS, 0))
        counts[bucket] += n

    @property
    def total(self) -> dict[str, int]:
        return {b: sum(r[b] for r in self.rows.values()) for b in BUCKETS}


def progress(store: Store) -> tuple[ProgressTable, ProgressTable]:
    """Two tables (by 街道, by inspector), counted in SQL over live buildings."""
    conflicted = sa.or_(BUILDING.c.conflict_count > 0, flagged_as_duplicate())
    bucket = sa.case((conflicted, "conflicted"), else_=BUILDING.c.status).label("bucket")
    inspector = sa.func.coalesce(BUILDING.c.assigned_to, _added_by_an_inspector(store))
    by_sub = ProgressTable("街道")
    by_inspector = ProgressTable("inspector")
    with read_tx(store.engine) as conn:
        for group_col, table, empty in (
            (BUILDING.c.subdistrict, by_sub, NO_SUBDISTRICT),
            (inspector, by_inspector, UNASSIGNED),
        ):
            live = (
                sa.select(group_col.label("grp"), bucket)
                .where(BUILDING.c.deleted.is_(False))
                .subquery()
            )
            rows = conn.execute(
                sa.select(live.c.grp, live.c.bucket, sa.func.count()).group_by(
                    live.c.grp, live.c.bucket
                )
            )
            for group, b, n in rows:
                if b in BUCKETS:
                    table.add(str(group) if group is not None else empty, str(b), int(n))
    for table in (by_sub, by_inspector):
        table.rows = dict(sorted(table.rows.items()))
    return by_sub, by_inspector


def _added_by_an_inspector(store: Store) -> sa.ScalarSelect[str]:
    """Who added a building nobody was assigned, if that is an inspector: its creator (the
    author of its first change, made on a laptop) when buildings are assigned to that name.

    A building an inspector added on the laptop (ctrl+n) is that inspector's work, not left
    to hand out. Whoever built a register (on the central, or on a laptop before its first
    merge, as ``surveyor sample`` does) is no inspector: 孙红（督导） was listed with all 200
    buildings of a register nobody had been given yet. The inspectors are the names work is
    assigned to, so everyone else's buildings count as unassigned. On a central, "on a
    laptop" is any other site; on a laptop, it is this one (the central's register came
    from the central's site)."""
    made_on_a_laptop = (
        CHANGE.c.site_id.not_in(store.own_sites)
        if store.role == "central"
        else CHANGE.c.site_id == store.site_id
    )
    holder = BUILDING.alias("holder")
    inspectors = sa.select(holder.c.assigned_to).where(holder.c.assigned_to.is_not(None))
    return (
        sa.select(CHANGE.c.author)
        .where(
            CHANGE.c.entity_id == BUILDING.c.id,
            CHANGE.c.hlc == BUILDING.c.created_hlc,
            made_on_a_laptop,
            CHANGE.c.author.in_(inspectors),
        )
        .limit(1)
        .scalar_subquery()
    )
