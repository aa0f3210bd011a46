"""Canonical dumps: a database's state, or the state its log implies, as comparable plain data.

``dump_database`` reads what merges maintained incrementally; ``expected_from_log`` folds the
same database's change log from scratch (``fold.recompute``). Equal dumps mean incremental
state == full recompute; equal dumps of two databases mean they converged. The convergence
and property tests use both (``surveyor doctor`` checks heads against the log instead: a
full recompute of a district's central is a merge's work).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.forms.model import Form
from surveyor.store.bulk import RawJSON, load_json
from surveyor.sync.apply import flags_duplicates
from surveyor.sync.fold import ChangeRow, recompute
from surveyor.sync.rows import (
    BUILDING,
    CHANGE,
    CONFLICT,
    change_from_mapping,
    conflict_params,
    state_row,
)

Dump = dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, RawJSON):  # state_row's pre-encoded columns
        return _plain(load_json(value.text))
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def all_changes(conn: Connection) -> list[ChangeRow]:
    return [change_from_mapping(r) for r in conn.execute(sa.select(CHANGE)).mappings()]


def dump_database(conn: Connection) -> Dump:
    """Buildings, conflicts and change ids, as the database holds them."""
    buildings = {
        str(r["id"]): _plain(dict(r)) for r in conn.execute(sa.select(BUILDING)).mappings()
    }
    conflicts = {
        f"{r['entity_id']}/{r['field_key']}": _plain(dict(r))
        for r in conn.execute(sa.select(CONFLICT)).mappings()
    }
    ids = sorted(str(c) for c in conn.execute(sa.select(CHANGE.c.change_id)).scalars())
    return {"buildings": buildings, "conflicts": conflicts, "changes": ids}


def expected_from_changes(
    changes: list[ChangeRow], form: Form | None, *, duplicates: bool = True
) -> Dump:
    """The dump a database holding exactly these changes must have (the oracle)."""
    state = recompute(changes)
    buildings = {}
    conflicts = {}
    for eid, entity in state.entities.items():
        buildings[eid] = _plain(state_row(entity, form, None))
        for c in entity.conflicts:
            conflicts[f"{eid}/{c.field_key}"] = _plain(conflict_params(c))
    for c in state.duplicates if duplicates else []:
        conflicts[f"{c.entity_id}/{c.field_key}"] = _plain(conflict_params(c))
    return {"buildings": buildings, "conflicts": conflicts, "changes": sorted(state.change_ids)}


def expected_from_log(conn: Connection, form: Form | None) -> Dump:
    """The oracle for this database (duplicate flags only where they are kept: a central)."""
    return expected_from_changes(all_changes(conn), form, duplicates=flags_duplicates(conn))


def differences(a: Dump, b: Dump, limit: int = 10) -> list[str]:
    """Human-readable differences between two dumps (empty when equal)."""
    out: list[str] = []
    for part in ("buildings", "conflicts"):
        keys = sorted(set(a[part]) | set(b[part]))
        for k in keys:
            x, y = a[part].get(k), b[part].get(k)
            if x == y:
                continue
            if x is None or y is None:
                out.append(f"{part} {k}: only in {'second' if x is None else 'first'}")
            else:
                cols = [c for c in sorted(set(x) | set(y)) if x.get(c) != y.get(c)]
                out.extend(f"{part} {k}.{c}: {x.get(c)!r} != {y.get(c)!r}" for c in cols)
            if len(out) >= limit:
                return out
    if a["changes"] != b["changes"]:
        out.append(f"change sets differ: {len(a['changes'])} vs {len(b['changes'])} changes")
    return out
