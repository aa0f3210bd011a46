"""Read-only queries for lists and search, always windowed in SQL (never all rows in Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from surveyor.services.survey import BUILDING
from surveyor.store.db import Store
from surveyor.store.ids import normalize_code
from surveyor.text import normalize_text

#: How the register is listed everywhere: 街道, compound, building number, then code.
REGISTER_ORDER = (
    BUILDING.c.subdistrict,
    BUILDING.c.compound_name,
    BUILDING.c.building_sort,  # natural order of building numbers
    BUILDING.c.code,
)


@dataclass(frozen=True)
class BuildingRow:
    id: uuid.UUID
    code: str
    subdistrict: str | None
    compound_name: str | None
    building_no: str | None
    address: str | None
    status: str
    completeness: float
    conflict_count: int
    assigned_to: str | None


@dataclass(frozen=True)
class BuildingPage:
    rows: list[BuildingRow]
    total: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def building_filter(
    *,
    subdistrict: str | None = None,
    status: str | tuple[str, ...] | None = None,
    search: str | None = None,
    assigned_to: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses shared by the list, its count and exports' selections; ``status`` may
    name several (an export of "complete or approved")."""
    clauses: list[sa.ColumnElement[bool]] = [BUILDING.c.deleted.is_(False)]
    if subdistrict:
        clauses.append(BUILDING.c.subdistrict == subdistrict)
    if isinstance(status, str):
        status = (status,)
    if status:
        clauses.append(BUILDING.c.status.in_(status))
    if assigned_to:
        clauses.append(BUILDING.c.assigned_to == assigned_to)
    if search:
        code = normalize_code(search)
        if code is not None:
            clauses.append(BUILDING.c.code == code)
        else:
            clauses.extend(_text_search(search))
    return clauses


def _text_search(search: str) -> list[sa.ColumnElement[bool]]:
    """Every word of the query, anywhere in the code, address, compound, number, community.

    Spaces are ignored on both sides, so 和水西里9号楼 finds 和水西里 9号楼 and 黄河道 25 finds
    南开区黄河道25号 (the whole query as one string found neither).
    """
    squeezed = sa.func.replace(BUILDING.c.search_text, " ", "")
    return [
        squeezed.like(f"%{_escape_like(word)}%", escape="\\")
        for word in normalize_text(search).lower().split()
    ]


def list_buildings(
    store: Store,
    *,
    subdistrict: str | None = None,
    status: str | tuple[str, ...] | None = None,
    search: str | None = None,
    assigned_to: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> BuildingPage:
    """One window of the register, ordered by 街道, compound and building number."""
    clauses = building_filter(
        subdistrict=subdistrict, status=status, search=search, assigned_to=assigned_to
    )
    cols = [getattr(BUILDING.c, f) for f in BuildingRow.__dataclass_fields__]
    query = sa.select(*cols).where(*clauses).order_by(*REGISTER_ORDER).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        rows = [BuildingRow(**r) for r in conn.execute(query).mappings()]
        total = conn.execute(
            sa.select(sa.func.count()).select_from(BUILDING).where(*clauses)
        ).scalar_one()
    return BuildingPage(rows=rows, total=total)
