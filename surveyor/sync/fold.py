"""The pure fold: canonical state as a function of a *set* of changes (sync-merge.md §4.7-§4.9).

Everything a merge writes to ``building`` and ``conflict`` is computed here, per building,
from that building's changes alone. Because the result depends only on the set (never on the
order changes arrived in), merging in any order or grouping, or twice, converges by
construction. ``recompute`` folds a whole log and is the oracle the tests compare against.

Causality comes from parent pointers, never from clocks: for each field, the edits form a tree
(a DAG once resolutions join branches) through ``parents[field]``. The *heads* of a field are
its edits that no other edit names as a parent. Two or more heads with different values are a
conflict; its base is their lowest common ancestor. Clocks only pick the provisional value.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from surveyor.store import hlc

#: The record status travels as this reserved field.
STATUS_KEY = "_status"
#: A delete sets this reserved field to true; an un-delete or a "keep" resolution to false.
DELETED_KEY = "_deleted"
#: Assignments travel as this reserved field, so they sync like any answer.
ASSIGNED_KEY = "_assigned_to"
#: A duplicate merged into another building names the kept one here (with ``_deleted``).
ALIAS_KEY = "_alias_of"
#: Pseudo field key of duplicate-building flags in the ``conflict`` table.
DUPLICATE_KEY = "_duplicate"
#: Fields a delete does not need to have seen: assigning work is not an edit of the survey.
NOT_EDITS = frozenset({DELETED_KEY, ASSIGNED_KEY, ALIAS_KEY})
#: Key in a state row's ``extra`` of the fields whose heads agree (``EntityState.agreeing``).
AGREEING_KEY = "agreeing"
#: A change whose HLC runs more than this ahead of its own wall time is clock-suspect (§4.9).
MAX_SKEW_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change as the sync code sees it: plain strings for ids, decoded JSON."""

    change_id: str
    site_id: str
    seq: int
    hlc: int
    entity_id: str
    op: str
    form_version: str
    fields: Mapping[str, Any]
    parents: Mapping[str, Any]
    author: str
    wall_time: str
    #: The stored text of ``fields`` when it was read as text (written back unchanged).
    fields_json: str | None = field(default=None, compare=False, repr=False)

    @property
    def order_key(self) -> tuple[int, str, str]:
        """Causal-compatible total order (the HLC is causal): for display and tie-breaks."""
        return (self.hlc, self.site_id, self.change_id)

    @property
    def clock_suspect(self) -> bool:
        """True when the HLC is far ahead of the wall time the same laptop recorded.

        A pure property of the change (not of when it was imported), so it never makes two
        centrals disagree. It catches a laptop whose clock once ran far ahead.
        """
        try:
            wall = datetime.fromisoformat(self.wall_time)
        except ValueError:
            return False
        return hlc.wall_ms(self.hlc) > int(wall.timestamp() * 1000) + MAX_SKEW_MS

    @property
    def winner_key(self) -> tuple[bool, int, str, str]:
        """Provisional-winner order: max (hlc, site_id, change_id), clock-suspect ones last."""
        return (not self.clock_suspect, self.hlc, self.site_id, self.change_id)

    def parents_of(self, key: str) -> tuple[str, ...]:
        """The parent change ids of ``key``: none (a first edit), one, or all heads (a resolve)."""
        value = self.parents.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value)


@dataclass(frozen=True)
class ConflictRow:
    """A ``conflict`` row, in canonical form (ids as strings, heads sorted)."""

    entity_id: str
    field_key: str
    kind: str
    base_change_id: str | None
    head_change_ids: tuple[str, ...]
    provisional_change_id: str | None
    status: str
    resolved_by: str | None


@dataclass
class EntityState:
    """What the log says about one building: provisional values, heads and conflicts."""

    entity_id: str
    values: dict[str, Any]
    head: dict[str, ChangeRow]  # the provisional head per field
    conflicts: list[ConflictRow]
    deleted: bool
    first: ChangeRow
    last: ChangeRow
    #: The same heads grouped by change, in causal order: each head change and its fields.
    groups: list[tuple[ChangeRow, set[str]]] = field(default_factory=list)
    #: Fields with two or more heads of one value (no conflict): every head's change id. A
    #: save over that value saw them all and names them all as its parents.
    agreeing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def open_conflicts(self) -> int:
        return sum(1 for c in self.conflicts if c.status == "open")


def value_token(value: Any) -> str:
    """A comparable form of a value (dicts and lists included) for "same value" tests."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # beyond orjson's 64-bit integers
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_SCALARS = (str, int, float, bool, type(None))


def _same_value_key(value: Any) -> Any:
    """Equal exactly when ``value_token`` is, cheaper for plain scalars (nearly all answers).

    The type is part of the key, as in JSON: ``1``, ``1.0`` and ``true`` differ.
    """
    kind = type(value)
    return (kind, value) if kind in _SCALARS else value_token(value)


class _FieldTree:
    """The edits of one field of one building and their parent links."""

    def __init__(self, key: str, edits: list[ChangeRow]) -> None:
        self.key = key
        self.by_id = {c.change_id: c for c in edits}
        referenced: set[str] = set()
        for c in edits:
            referenced.update(c.parents_of(key))
        self.heads = sorted(
            (c for c in edits if c.change_id not in referenced), key=lambda c: c.change_id
        )

    def ancestors_or_self(self, change_id: str) -> set[str]:
        """Every edit reachable through parent links from ``change_id``, itself included."""
        seen: set[str] = set()
        stack = [change_id]
        while stack:
            cid = stack.pop()
            if cid in seen or cid not in self.by_id:
                continue
            seen.add(cid)
            stack.extend(self.by_id[cid].parents_of(self.key))
        return seen

    def lca(self, heads: Iterable[str]) -> str | None:
        """The lowest common ancestor of the heads (the three-way base), or None."""
        sets = [self.ancestors_or_self(h) for h in heads]
        if not sets:
            return None
        common = set.intersection(*sets)
        if not common:
            return None
        below: set[str] = set()
        for cid in common:
            below |= self.ancestors_or_self(cid) - {cid}
        lowest = common - below
        return max(lowest, key=lambda cid: self.by_id[cid].order_key)


def conflict_kind(key: str) -> str:
    return "delete_vs_edit" if key == DELETED_KEY else "hard"


def fold_entity(entity_id: str, changes: Iterable[ChangeRow]) -> EntityState:
    """Fold every change of one building into its state (§4.7 fast-forward/stale/concurrent).

    Fast-forward and stale arrivals need no special case: a fast-forwarded head is named as a
    parent by its successor, and a stale change is named by a change already held.
    """
    rows = sorted(changes, key=lambda c: c.order_key)
    # Most fields were edited once: that edit is the head and its value the value. Dict and
    # set operations do this for all of them at C speed; only fields edited more than once
    # (in the causal order above, the last write is then provisional) get a field tree.
    values: dict[str, Any] = {}
    head: dict[str, ChangeRow] = {}
    seen: set[str] = set()
    repeated: set[str] = set()
    for c in rows:
        keys = c.fields.keys()
        repeated |= seen & keys
        seen |= keys
        values.update(c.fields)
        head.update(dict.fromkeys(keys, c))
    trees: dict[str, _FieldTree] = {}
    conflicts: dict[str, ConflictRow] = {}
    agreeing: dict[str, list[str]] = {}
    rank = {c.change_id: c.winner_key for c in rows}  # winner_key parses a date: once each
    for key in sorted(repeated):
        edits = [c for c in rows if key in c.fields]
        if any(c.parents.get(key) for c in edits):
            tree = trees[key] = _FieldTree(key, edits)
            heads = tree.heads
        else:  # concurrent first edits (two inspectors, one field): all heads, no common base
            tree = None
            heads = sorted(edits, key=lambda c: c.change_id)
        winner = max(heads, key=lambda c: rank[c.change_id])
        head[key] = winner
        values[key] = winner.fields[key]
        distinct = len({_same_value_key(h.fields[key]) for h in heads})
        if distinct == 1 and len(heads) > 1:
            agreeing[key] = sorted(h.change_id for h in heads)
        if distinct > 1:
            ids = tuple(h.change_id for h in heads)
            conflicts[key] = ConflictRow(
                entity_id,
                key,
                conflict_kind(key),
                None if tree is None else tree.lca(ids),
                ids,
                winner.change_id,
                "open",
                None,
            )
    dve = None
    if DELETED_KEY in seen:
        every = {k: trees.get(k) or _FieldTree(k, [c for c in rows if k in c.fields]) for k in seen}
        dve = _delete_vs_edit(entity_id, every, head)
    if dve is not None:
        conflicts[DELETED_KEY] = dve
    for key, tree in trees.items():  # a resolve always makes two or more edits of its field
        if key not in conflicts:
            resolved = _resolved_row(entity_id, tree)
            if resolved is not None:
                conflicts[key] = resolved
    if values.get(STATUS_KEY) == "approved" and _approval_missed_an_edit(head[STATUS_KEY], rows):
        values[STATUS_KEY] = "complete"
    deleted = values.get(DELETED_KEY) is True and dve is None
    groups = []
    for c in rows:
        headed = c.fields.keys() - repeated
        if repeated:
            headed |= {k for k in repeated if head[k] is c}
        if headed:
            groups.append((c, headed))
    return EntityState(
        entity_id=entity_id,
        values=values,
        head=head,
        conflicts=[conflicts[k] for k in sorted(conflicts)],
        deleted=deleted,
        first=rows[0],
        last=rows[-1],
        groups=groups,
        agreeing=agreeing,
    )


def _delete_vs_edit(
    entity_id: str, trees: Mapping[str, _FieldTree], head: Mapping[str, ChangeRow]
) -> ConflictRow | None:
    """A delete head that did not see every current head of every field races an edit (§4.8)."""
    deleted_tree = trees.get(DELETED_KEY)
    if deleted_tree is None:
        return None
    racing: set[str] = set()
    for d in deleted_tree.heads:
        if d.fields[DELETED_KEY] is not True:
            continue
        for key, tree in trees.items():
            if key in NOT_EDITS:
                continue
            covered: set[str] = set()
            for seen in d.parents_of(key):
                covered |= tree.ancestors_or_self(seen)
            racing.update(h.change_id for h in tree.heads if h.change_id not in covered)
    if not racing:
        return None
    delete_heads = tuple(h.change_id for h in deleted_tree.heads)
    return ConflictRow(
        entity_id,
        DELETED_KEY,
        "delete_vs_edit",
        deleted_tree.lca(delete_heads),
        tuple(sorted(set(delete_heads) | racing)),
        head[DELETED_KEY].change_id,
        "open",
        None,
    )


def _approval_missed_an_edit(approval: ChangeRow, rows: list[ChangeRow]) -> bool:
    """True when an edit of the survey is not among what ``approval`` saw: a laptop's edit
    made before it synced, merged after. Such an approval is withdrawn ("complete" again), as
    an edit on a laptop that had seen it withdraws it (``SurveyWriter``).

    An approval names every field's heads as its parents. One from before it did (only its
    ``_status`` parent) says nothing of what it saw and stands."""
    if not approval.parents.keys() - {STATUS_KEY}:
        return False
    by_key: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in rows:
        for key in c.fields:
            if key != STATUS_KEY and key not in NOT_EDITS:
                by_key[key].append(c)
    for key, edits in by_key.items():
        saw = approval.parents_of(key)
        if len(edits) == 1:
            if edits[0].change_id not in saw:
                return True
            continue
        tree = _FieldTree(key, edits)
        covered: set[str] = set()
        for seen in saw:
            covered |= tree.ancestors_or_self(seen)
        if any(h.change_id not in covered for h in tree.heads):
            return True
    return False


def _resolved_row(entity_id: str, tree: _FieldTree) -> ConflictRow | None:
    """A closed conflict, kept for the record: the latest resolve change of this field."""
    resolves = [c for c in tree.by_id.values() if c.op == "resolve"]
    if not resolves:
        return None
    r = max(resolves, key=lambda c: c.order_key)
    heads = tuple(sorted(r.parents_of(tree.key)))
    return ConflictRow(
        entity_id,
        tree.key,
        conflict_kind(tree.key),
        tree.lca(heads),
        heads,
        r.change_id,
        "resolved",
        r.change_id,
    )


@dataclass
class CanonicalState:
    """The whole database as a pure function of its change set: what every merge must reach."""

    entities: dict[str, EntityState] = field(default_factory=dict)
    duplicates: list[ConflictRow] = field(default_factory=list)
    change_ids: frozenset[str] = frozenset()


def duplicate_rows(places: Mapping[str, tuple[str, str] | None]) -> list[ConflictRow]:
    """Flag every live building that may repeat another (never merged): ``places`` maps a
    building to its normalised address and ``building_number_key`` (None: deleted). At one
    address, buildings are possible duplicates unless both have a 楼号 and they differ; each
    flag lists the building and those it may repeat."""
    from surveyor.services.survey import may_be_one_building

    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for eid, place in places.items():
        if place is not None and place[0]:
            groups[place[0]].append((eid, place[1]))
    rows: list[ConflictRow] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for eid, number in members:
            same = {o for o, n in members if o != eid and may_be_one_building(number, n)}
            if same:
                ids = tuple(sorted(same | {eid}))
                rows.append(
                    ConflictRow(
                        eid, DUPLICATE_KEY, "duplicate_entity", None, ids, None, "open", None
                    )
                )
    return sorted(rows, key=lambda r: r.entity_id)


def recompute(changes: Iterable[ChangeRow]) -> CanonicalState:
    """Fold a whole log from scratch (the oracle): every building, every conflict."""
    from surveyor.services.survey import building_number_key, normalize_address
    from surveyor.text import text_or_none

    by_entity: dict[str, list[ChangeRow]] = defaultdict(list)
    ids: set[str] = set()
    for c in changes:
        if c.change_id in ids:
            continue
        ids.add(c.change_id)
        by_entity[c.entity_id].append(c)
    state = CanonicalState(change_ids=frozenset(ids))
    for eid in sorted(by_entity):
        state.entities[eid] = fold_entity(eid, by_entity[eid])
    places: dict[str, tuple[str, str] | None] = {}
    for eid, e in state.entities.items():
        address = normalize_address(text_or_none(e.values.get("address")))
        if address is not None and not e.deleted:
            places[eid] = (address, building_number_key(text_or_none(e.values.get("building_no"))))
    state.duplicates = duplicate_rows(places)
    return state


def field_heads(changes: Iterable[ChangeRow]) -> dict[str, list[str]]:
    """Every field's current heads (sorted ids): what a delete or a resolution must cover."""
    by_field: dict[str, list[ChangeRow]] = defaultdict(list)
    for c in changes:
        for key in c.fields:
            by_field[key].append(c)
    return {
        key: [h.change_id for h in _FieldTree(key, edits).heads]
        for key, edits in sorted(by_field.items())
    }
