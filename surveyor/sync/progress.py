"""Supervisor progress: buildings by 街道 and by inspector, per status, conflicted ones apart
(an open field conflict or an open duplicate flag)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyor.store.db import Store, read_tx
from surveyor.sync.fold import DUPLICATE_KEY
from surveyor.sync.rows import BUILDING, CONFLICT

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
    flagged_duplicate = (
        sa.select(CONFLICT.c.entity_id)
        .where(
            CONFLICT.c.entity_id == BUILDING.c.id,
            CONFLICT.c.field_key == DUPLICATE_KEY,
            CONFLICT.c.status == "open",
        )
        .exists()
    )
    conflicted = sa.or_(BUILDING.c.conflict_count > 0, flagged_duplicate)
    bucket = sa.case((conflicted, "conflicted"), else_=BUILDING.c.status).label("bucket")
    by_sub = ProgressTable("街道")
    by_inspector = ProgressTable("inspector")
    with read_tx(store.engine) as conn:
        for group_col, table, empty in (
            (BUILDING.c.subdistrict, by_sub, NO_SUBDISTRICT),
            (BUILDING.c.assigned_to, by_inspector, UNASSIGNED),
        ):
            rows = conn.execute(
                sa.select(group_col, bucket, sa.func.count())
                .where(BUILDING.c.deleted.is_(False))
                .group_by(group_col, bucket)
            )
            for group, b, n in rows:
                if b in BUCKETS:
                    table.add(str(group) if group is not None else empty, str(b), int(n))
    for table in (by_sub, by_inspector):
        table.rows = dict(sorted(table.rows.items()))
    return by_sub, by_inspector
