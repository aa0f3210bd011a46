"""Shared helpers for the sync tests: a brute-force reference check independent of the fold."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.store.db import Store
from surveyor.sync.canonical import all_changes, differences, dump_database, expected_from_log
from surveyor.sync.fold import ChangeRow
from surveyor.sync.rows import CONFLICT

NOT_EDITS = {"_deleted", "_assigned_to", "_alias_of"}


def _token(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _parents(c: ChangeRow, key: str) -> list[str]:
    p = c.parents.get(key)
    if p is None:
        return []
    return [p] if isinstance(p, str) else list(p)


def _closure(edits: dict[str, ChangeRow], key: str) -> dict[str, set[str]]:
    """Strict ancestors of every edit of one field, by transitive closure (no shortcuts)."""
    anc: dict[str, set[str]] = {}

    def of(cid: str) -> set[str]:
        if cid in anc:
            return anc[cid]
        out: set[str] = set()
        for p in _parents(edits[cid], key):
            if p in edits:
                out |= {p} | of(p)
        anc[cid] = out
        return out

    for cid in edits:
        of(cid)
    return anc


def expected_conflicts(changes: Iterable[ChangeRow]) -> dict[tuple[str, str], dict[str, Any]]:
    """(entity, field) → {heads, bases} for every field that must be in open conflict.

    Straight from the definitions: heads are edits that are no other edit's ancestor; a
    conflict is two heads with different values; the base is a lowest common ancestor.
    A delete head races an edit when a head of another field is not among what it saw.
    """
    by_entity: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in changes:
        by_entity[c.entity_id].append(c)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for eid, rows in by_entity.items():
        heads_by_field: dict[str, list[ChangeRow]] = {}
        closures: dict[str, dict[str, set[str]]] = {}
        for key in {k for c in rows for k in c.fields}:
            edits = {c.change_id: c for c in rows if key in c.fields}
            anc = _closure(edits, key)
            closures[key] = anc
            heads = [e for e in edits.values() if not any(e.change_id in anc[o] for o in edits)]
            heads_by_field[key] = heads
            if len({_token(h.fields[key]) for h in heads}) > 1:
                common = set.intersection(*({h.change_id} | anc[h.change_id] for h in heads))
                lowest = {c for c in common if not any(c in anc[o] for o in common)}
                out[(eid, key)] = {"heads": {h.change_id for h in heads}, "bases": lowest}
        racing: set[str] = set()
        for d in heads_by_field.get("_deleted", []):
            if d.fields["_deleted"] is not True:
                continue
            for key, heads in heads_by_field.items():
                if key in NOT_EDITS:
                    continue
                seen = set(_parents(d, key))
                covered = seen | {a for s in seen if s in closures[key] for a in closures[key][s]}
                racing |= {h.change_id for h in heads if h.change_id not in covered}
        if racing:
            entry = out.setdefault((eid, "_deleted"), {"heads": set(), "bases": None})
            entry["heads"] |= racing | {h.change_id for h in heads_by_field["_deleted"]}
    return out


def check_store(store: Store, form: Form | None) -> None:
    """Incremental state == full recompute, and conflicts exactly as the definitions say."""
    with store.engine.connect() as conn:
        have = dump_database(conn)
        want = expected_from_log(conn, form)
        changes = all_changes(conn)
        open_rows = {
            (str(r.entity_id), r.field_key): r
            for r in conn.execute(
                sa.select(CONFLICT).where(
                    CONFLICT.c.status == "open", CONFLICT.c.kind != "duplicate_entity"
                )
            )
        }
    diff = differences(have, want)
    assert not diff, "incremental state differs from a full recompute:\n" + "\n".join(diff)
    expected = expected_conflicts(changes)
    assert set(open_rows) == set(expected), (
        f"conflicts {sorted(open_rows)} but the definitions give {sorted(expected)}"
    )
    for key, row in open_rows.items():
        assert set(row.head_change_ids) == expected[key]["heads"]
        bases = expected[key]["bases"]
        if bases is not None:
            base = None if row.base_change_id is None else str(row.base_change_id)
            assert (base is None and not bases) or base in bases


def assert_same(a: Store, b: Store) -> None:
    with a.engine.connect() as ca, b.engine.connect() as cb:
        da, db_ = dump_database(ca), dump_database(cb)
    diff = differences(da, db_)
    assert not diff, "the two databases differ:\n" + "\n".join(diff)


def dump(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return dump_database(conn)
