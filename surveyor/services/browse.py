"""The inspector's building list: one window of the register, read through a covering index.

``browse_buildings`` is ``queries.list_buildings`` plus the "mine" filter, done in two steps so
that SQLite only walks the narrow ``ix_building_list`` index to filter, order and count, and
reads the wide state rows of just the buildings shown.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from surveyor.services.queries import (
    REGISTER_ORDER,
    BuildingPage,
    BuildingRow,
    building_filter,
    by_community,
)
from surveyor.services.survey import BUILDING
from surveyor.store.db import Store


def _clauses(
    subdistrict: str | None, status: str | None, search: str | None, mine: str | None
) -> list[sa.ColumnElement[bool]]:
    clauses = building_filter(subdistrict=subdistrict, status=status, search=search)
    if mine:
        clauses.append(sa.or_(BUILDING.c.assigned_to == mine, BUILDING.c.updated_by == mine))
    return clauses


def count_buildings(
    store: Store,
    *,
    subdistrict: str | None = None,
    status: str | None = None,
    search: str | None = None,
    mine: str | None = None,
) -> int:
    """How many buildings ``browse_buildings`` would list with these filters."""
    clauses = _clauses(subdistrict, status, search, mine)
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(BUILDING).where(*clauses)
            ).scalar_one()
        )


def browse_buildings(
    store: Store,
    *,
    subdistrict: str | None = None,
    status: str | None = None,
    search: str | None = None,
    mine: str | None = None,
    limit: int = 200,
    offset: int = 0,
    with_total: bool = True,
) -> BuildingPage:
    """One window of buildings, ordered by 街道, compound, building number and code.

    ``mine`` keeps the buildings assigned to that inspector or last saved by them. With
    ``with_total=False`` the count is skipped (``total`` is then -1), for paging further.
    """
    clauses = _clauses(subdistrict, status, search, mine)
    id_query = (
        sa.select(BUILDING.c.id)
        .where(*clauses)
        .order_by(*REGISTER_ORDER)
        .limit(limit)
        .offset(offset)
    )
    cols = [getattr(BUILDING.c, f) for f in BuildingRow.__dataclass_fields__]
    with store.engine.connect() as conn:
        ids: list[uuid.UUID] = [row[0] for row in conn.execute(id_query)]
        found = (
            {
                r["id"]: BuildingRow(**r)
                for r in conn.execute(sa.select(*cols).where(BUILDING.c.id.in_(ids))).mappings()
            }
            if ids
            else {}
        )
        total = -1
        if with_total:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(BUILDING).where(*clauses)
            ).scalar_one()
    rows = [found[i] for i in ids if i in found]
    return BuildingPage(rows=rows, total=total, by_community=by_community(rows, search))
