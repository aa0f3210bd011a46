"""The buildings an export covers (a ``services.selection.Selection``), read from a store."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.paths import blob_dir_for
from surveyor.services.selection import Selection, selected_rows
from surveyor.services.survey import BUILDING, get_live_building
from surveyor.store.db import Store, is_url
from surveyor.sync.fold import DUPLICATE_KEY
from surveyor.sync.rows import CONFLICT, as_uuid, flagged_as_duplicate

#: Ids bound per query (SQLite's old limit is 999 parameters).
_CHUNK = 500


@dataclass(frozen=True)
class BuildingRecord:
    """One selected building: its code, status and stored answers; and what still awaits a
    supervisor: its open field conflicts, and whether it is flagged as a possible duplicate
    (a central flags buildings at one address), so an export says its figures are provisional.
    """

    code: str
    status: str
    answers: dict[str, Any]
    open_conflicts: int = 0
    possible_duplicate: bool = False
    #: The fields in open conflict (their keys), and the codes of the buildings it may repeat.
    conflict_fields: tuple[str, ...] = ()
    duplicate_of: tuple[str, ...] = ()

    @property
    def under_review(self) -> bool:
        return self.open_conflicts > 0 or self.possible_duplicate


def select_buildings(store: Store, selection: Selection) -> list[BuildingRecord]:
    """The selected buildings in register order (街道, compound, building number, code), with
    what awaits review named: the fields in conflict and the buildings a possible duplicate may
    repeat (looked up for those buildings only, which are few)."""
    if selection.codes:
        selection = replace(selection, codes=live_codes(store, selection.codes))
    flagged = flagged_as_duplicate().label("flagged")
    columns = (BUILDING.c.id, BUILDING.c.code, BUILDING.c.status, BUILDING.c.conflict_count)
    with store.engine.connect() as conn:
        rows = selected_rows(conn, selection, *columns, flagged)
        review = _open_review(conn, [r.id for r in rows if r.conflict_count or r.flagged])
    records = []
    for r in rows:
        fields, twins = review.get(str(r.id), ((), ()))
        records.append(
            BuildingRecord(
                r.code,
                r.status,
                dict(r.answers or {}),
                int(r.conflict_count or 0),
                bool(r.flagged),
                fields,
                tuple(code for code in twins if code != r.code),
            )
        )
    return records


def _open_review(
    conn: sa.Connection, ids: list[Any]
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per building id (as text): the keys of its fields in open conflict, and the codes of the
    buildings an open duplicate flag groups it with (itself included)."""
    fields: dict[str, list[str]] = {}
    groups: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        query = sa.select(CONFLICT.c.entity_id, CONFLICT.c.field_key, CONFLICT.c.head_change_ids)
        query = query.where(CONFLICT.c.entity_id.in_(chunk), CONFLICT.c.status == "open")
        for entity, key, heads in conn.execute(query.order_by(CONFLICT.c.field_key)):
            if key == DUPLICATE_KEY:  # its heads are the buildings at one address
                groups[str(entity)] = [str(h) for h in heads or ()]
            else:
                fields.setdefault(str(entity), []).append(key)
    codes = _codes(conn, {as_uuid(i) for group in groups.values() for i in group})
    return {
        eid: (
            tuple(fields.get(eid, ())),
            tuple(sorted(codes[i] for i in groups.get(eid, ()) if i in codes)),
        )
        for eid in fields.keys() | groups.keys()
    }


def _codes(conn: sa.Connection, ids: set[uuid.UUID]) -> dict[str, str]:
    """Building codes by id (as text)."""
    found: dict[str, str] = {}
    for chunk in _chunks(list(ids)):
        query = sa.select(BUILDING.c.id, BUILDING.c.code).where(BUILDING.c.id.in_(chunk))
        found.update((str(i), code) for i, code in conn.execute(query))
    return found


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def live_codes(store: Store, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The codes of the live buildings ``codes`` name: a duplicate merged away gives the
    building kept (its old label is still on the door); an unknown or deleted building is an
    error naming it, never a sheet silently missing from the stack."""
    return tuple(dict.fromkeys(get_live_building(store, code).state.code for code in codes))


def require_some(records: list[BuildingRecord], selection: Selection) -> None:
    """An empty selection is an error: no file is written for it."""
    if not records:
        raise SurveyorError(
            f"no buildings match the selection ({selection.describe()}); nothing was written",
            zh=f"没有楼栋符合所选条件（{selection.describe('zh')}）；未写出任何文件",
        )


def blob_dir(store: Store) -> Path | None:
    """Where a SQLite store keeps its photos; None for PostgreSQL (photos stay on laptops)."""
    if is_url(store.target):
        return None
    folder = blob_dir_for(Path(store.target))
    return folder if folder.is_dir() else None
