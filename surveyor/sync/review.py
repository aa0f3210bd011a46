"""Reading conflicts for review (CLI and TUI): each head and the base, with who and when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from surveyor.errors import NotFound
from surveyor.services.survey import resolve_building_id
from surveyor.store.db import Store, read_tx
from surveyor.sync.fold import DELETED_KEY, DUPLICATE_KEY, ChangeRow
from surveyor.sync.rows import BUILDING, CHANGE, CONFLICT, as_uuid, change_from_mapping


@dataclass(frozen=True)
class ConflictSummary:
    building_id: str
    code: str
    address: str | None
    field_key: str
    kind: str
    status: str
    heads: int


@dataclass(frozen=True)
class Version:
    """One side of a conflict: the value a change set, by whom, when, from which laptop."""

    change_id: str
    value: Any
    author: str
    wall_time: str
    site_id: str
    op: str
    provisional: bool = False
    #: For a building's delete conflict, the fields an edit on the other side set.
    edited: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConflictDetail:
    building_id: str
    code: str
    address: str | None
    field_key: str
    kind: str
    status: str
    base: Version | None
    heads: list[Version]
    #: The change that resolved it (the value taken, by whom, when), once resolved.
    resolution: Version | None = None


def _conflict_query(include_resolved: bool) -> sa.Select[Any]:
    query = sa.select(CONFLICT, BUILDING.c.code, BUILDING.c.address).join(
        BUILDING, BUILDING.c.id == CONFLICT.c.entity_id
    )
    return query if include_resolved else query.where(CONFLICT.c.status == "open")


def list_conflicts(
    store: Store,
    *,
    include_resolved: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[ConflictSummary]:
    """Conflicts by building code and field; ``limit``/``offset`` give one window of them.

    A merge of a whole district can leave 100,000 open conflicts: a screen asks for a window.
    """
    query = (
        _conflict_query(include_resolved)
        .order_by(BUILDING.c.code, CONFLICT.c.field_key)
        .limit(limit)
        .offset(offset)
    )
    with read_tx(store.engine) as conn:
        return [
            ConflictSummary(
                str(r["entity_id"]),
                r["code"],
                r["address"],
                r["field_key"],
                r["kind"],
                r["status"],
                len(r["head_change_ids"]),
            )
            for r in conn.execute(query).mappings()
        ]


def count_conflicts(store: Store, *, include_resolved: bool = False) -> int:
    """How many conflicts ``list_conflicts`` lists without a limit."""
    listed = _conflict_query(include_resolved).with_only_columns(CONFLICT.c.entity_id).subquery()
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(listed)).scalar_one())


def _version(c: ChangeRow, key: str, provisional: str | None) -> Version:
    value = c.fields.get(key) if key in c.fields else ("(deleted)" if c.op == "delete" else None)
    edited: tuple[str, ...] = ()
    if key == DELETED_KEY and key not in c.fields:
        edited = tuple(sorted(c.fields))
        value = f"(edited: {', '.join(edited)})"
    return Version(
        c.change_id,
        value,
        c.author,
        c.wall_time,
        c.site_id,
        c.op,
        c.change_id == provisional,
        edited,
    )


def conflict_detail(store: Store, ref: str | uuid.UUID, field_key: str) -> ConflictDetail:
    """Base, every head, who and when: what a supervisor needs to decide."""
    with read_tx(store.engine) as conn:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
        row = (
            conn.execute(_building_conflicts(bid).where(CONFLICT.c.field_key == field_key))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(
                f"there is no conflict on field '{field_key}' of that building",
                zh=f"这栋楼的字段“{field_key}”没有冲突",
            )
        return _detail(conn, row)


def open_conflicts_of(store: Store, building_id: uuid.UUID) -> list[ConflictDetail]:
    """A building's open conflicts, field by field, with every head: what the inspector
    surveying it is shown beside the fields the supervisor still has to decide."""
    with read_tx(store.engine) as conn:
        rows = conn.execute(
            _building_conflicts(building_id)
            .where(CONFLICT.c.status == "open")
            .order_by(CONFLICT.c.field_key)
        ).mappings()
        return [_detail(conn, row) for row in rows.all()]


def _building_conflicts(building_id: uuid.UUID) -> sa.Select[Any]:
    return (
        sa.select(CONFLICT, BUILDING.c.code, BUILDING.c.address)
        .join(BUILDING, BUILDING.c.id == CONFLICT.c.entity_id)
        .where(CONFLICT.c.entity_id == building_id)
    )


def _detail(conn: sa.Connection, row: sa.RowMapping) -> ConflictDetail:
    """A ``conflict`` row (joined with its building's code and address) with its versions."""
    field_key = row["field_key"]
    provisional = (
        None if row["provisional_change_id"] is None else str(row["provisional_change_id"])
    )
    changes: dict[str, ChangeRow] = {}
    if row["kind"] == "duplicate_entity":
        heads = _duplicate_versions(conn, [str(i) for i in row["head_change_ids"]])
        base = None
    else:
        ids = [str(i) for i in row["head_change_ids"]]
        if row["base_change_id"] is not None:
            ids.append(str(row["base_change_id"]))
        if row["resolved_by"] is not None:
            ids.append(str(row["resolved_by"]))
        changes = {
            str(r["change_id"]): change_from_mapping(r)
            for r in conn.execute(
                sa.select(CHANGE).where(CHANGE.c.change_id.in_([as_uuid(i) for i in ids]))
            ).mappings()
        }
        heads = sorted(
            (_version(changes[str(h)], field_key, provisional) for h in row["head_change_ids"]),
            key=lambda v: (v.wall_time, v.change_id),
        )
        base_id = row["base_change_id"]
        base = None if base_id is None else _version(changes[str(base_id)], field_key, None)
    by = row["resolved_by"]
    resolution = None
    if by is not None and str(by) in changes:
        resolution = _version(changes[str(by)], field_key, None)
    return ConflictDetail(
        str(row["entity_id"]),
        row["code"],
        row["address"],
        field_key,
        row["kind"],
        row["status"],
        base,
        heads,
        resolution,
    )


def _duplicate_versions(conn: sa.Connection, ids: list[str]) -> list[Version]:
    rows = conn.execute(
        sa.select(BUILDING.c.id, BUILDING.c.code, BUILDING.c.address, BUILDING.c.updated_by)
        .where(BUILDING.c.id.in_([as_uuid(i) for i in ids]))
        .order_by(BUILDING.c.code)
    )
    return [
        Version(str(i), f"{code} {addr or ''}".strip(), by or "", "", "", DUPLICATE_KEY)
        for i, code, addr, by in rows
    ]
