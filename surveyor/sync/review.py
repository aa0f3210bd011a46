"""Reading conflicts for review (CLI and TUI): each head and the base, with who and when."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from surveyor.errors import NotFound
from surveyor.forms.model import Form, Localized
from surveyor.forms.record import refused_with
from surveyor.i18n import error_from
from surveyor.services.queries import search_clauses
from surveyor.services.survey import load_state, resolve_building_id
from surveyor.store.bulk import load_json
from surveyor.store.db import Store, read_tx
from surveyor.sync.apply import load_entity_changes
from surveyor.sync.fold import DELETED_KEY, DUPLICATE_KEY, ChangeRow, fold_entity
from surveyor.sync.progress import NO_SUBDISTRICT, UNASSIGNED
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
    #: And the values it set them to, (field, value) in ``edited``'s order: what decides
    #: whether the building is kept ("地上层数 6", a remark that it is No. 60) is the values.
    edits: tuple[tuple[str, Any], ...] = ()
    #: For a duplicate, the building itself (``value`` is its code and address; ``author``
    #: and ``wall_time`` are its last survey save's).
    building: DuplicateBuilding | None = None
    #: Why the form refuses this value beside the building's other answers (a draft's "abc"
    #: storeys), or None: marked to be corrected where shown, refused if taken.
    refused: Localized | None = None


@dataclass(frozen=True)
class DuplicateBuilding:
    """A building flagged as a possible duplicate, as the supervisor compares them: where it
    is, how far its survey got, and its answers (what a merge would keep or add)."""

    code: str
    address: str | None
    subdistrict: str | None
    compound_name: str | None
    building_no: str | None
    status: str
    completeness: float
    answers: dict[str, Any]


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


#: The kinds of conflict, in the order the review names them.
KINDS = ("hard", "soft", "delete_vs_edit", "duplicate_entity")
#: The kinds as a supervisor sorts the work: field conflicts (both edit kinds), a delete that
#: raced an edit, possible duplicates. ``--kind field`` and the screen's kind key use them.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "field": ("hard", "soft"),
    "delete": ("delete_vs_edit",),
    "duplicate": ("duplicate_entity",),
}


@dataclass(frozen=True)
class ConflictFilter:
    """Which conflicts a review lists; an empty part does not filter.

    ``subdistrict`` is the 街道 code as stored (``NO_SUBDISTRICT`` for none), ``inspector``
    a person the conflict involves: the building is assigned to them, or they wrote one of its
    sides (``written_by``); ``UNASSIGNED`` keeps the buildings assigned to nobody. ``text`` is
    the building list's search (a code, or words: 「宜宾 13」)."""

    kinds: tuple[str, ...] = ()
    subdistrict: str | None = None
    inspector: str | None = None
    text: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.subdistrict or self.inspector or self.text)

    def without(self, part: str) -> ConflictFilter:
        """This filter with one part (``kinds``, ``subdistrict``, ``inspector``) dropped: what
        ``count_by`` counts under, so each count says what picking that value would list."""
        if part == "kinds":
            return replace(self, kinds=())
        if part == "subdistrict":
            return replace(self, subdistrict=None)
        return replace(self, inspector=None)


def kinds_named(names: Iterable[str], option: str = "--kind") -> tuple[str, ...]:
    """The kinds a supervisor named (a kind, or a group of ``KIND_GROUPS``), each once, in
    ``KINDS`` order; an unknown name is refused naming ``option`` and the valid ones."""
    chosen: set[str] = set()
    for name in names:
        word = name.strip().lower()
        if word in KINDS:
            chosen.add(word)
        elif word in KIND_GROUPS:
            chosen.update(KIND_GROUPS[word])
        else:
            raise error_from("review.unknown_kind", option=option, name=name)
    return tuple(k for k in KINDS if k in chosen)


def _same_or_none(column: sa.ColumnElement[Any], value: str, none: str) -> sa.ColumnElement[bool]:
    """``column`` equals ``value``, or is empty when ``value`` is the word for none."""
    return column.is_(None) if value == none else column == value


#: The other buildings of a duplicate flag (its sides), as ``written_by`` joins them.
SIDE = BUILDING.alias("side")


def _head_ids(dialect: str) -> tuple[sa.TableValuedAlias, sa.ColumnElement[Any]]:
    """The ids in the conflict's ``head_change_ids`` (a JSON list of UUID text), one row each,
    and the id as the key columns store it: hex without dashes on SQLite, ``uuid`` on
    PostgreSQL. Compared so, each side is found by the primary key (change, or building)."""
    if dialect == "postgresql":
        ids = sa.func.jsonb_array_elements_text(CONFLICT.c.head_change_ids).table_valued("value")
        return ids, sa.cast(ids.c.value, sa.Uuid)
    ids = sa.func.json_each(CONFLICT.c.head_change_ids).table_valued("value")
    return ids, sa.func.replace(ids.c.value, "-", "")


def written_by(query: sa.Select[Any], dialect: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """``query`` (over ``conflict``) joined with who wrote each side of its conflicts: with
    the author of each head change, and, for a duplicate flag (whose heads are buildings),
    with each flagged building (``SIDE``; its ``updated_by``, the last to save it). Two
    queries, as a side is a change or a building; each reads the sides by primary key."""
    ids, key = _head_ids(dialect)
    with_heads = query.join(ids, sa.true())
    changes = with_heads.join(CHANGE, CHANGE.c.change_id == key)
    buildings = with_heads.join(SIDE, SIDE.c.id == key)
    return (
        changes.where(CONFLICT.c.kind != "duplicate_entity"),
        buildings.where(CONFLICT.c.kind == "duplicate_entity"),
    )


def _involves(name: str, dialect: str) -> sa.ColumnElement[bool]:
    """The conflict involves ``name``: its building is assigned to them, or one of its sides
    is among what they wrote: their changes, found by ``ix_change_author`` (migration 0008),
    or, for a duplicate flag, the buildings they last saved (``updated_by``, in the building
    list's covering index). Each set is read once per query, not per conflict: joining the
    change log per head let SQLite walk the author's changes for every conflict (40 s for
    89k conflicts)."""
    ids, key = _head_ids(dialect)
    theirs = sa.select(CHANGE.c.change_id).where(CHANGE.c.author == name)
    saved = sa.select(SIDE.c.id).where(SIDE.c.updated_by == name)
    duplicate = CONFLICT.c.kind == "duplicate_entity"
    sides = sa.select(sa.literal(1)).select_from(ids).correlate(CONFLICT)
    return sa.or_(
        BUILDING.c.assigned_to == name,
        sa.and_(~duplicate, sides.where(key.in_(theirs)).exists()),
        sa.and_(duplicate, sides.where(key.in_(saved)).exists()),
    )


def _filter_clauses(flt: ConflictFilter, dialect: str) -> list[sa.ColumnElement[bool]]:
    """``flt`` as WHERE clauses on ``conflict`` joined with ``building``: all on indexed
    columns (an inspector's sides by primary key) but the text, which is the building list's
    own search."""
    clauses: list[sa.ColumnElement[bool]] = []
    if flt.kinds:
        clauses.append(CONFLICT.c.kind.in_(flt.kinds))
    if flt.subdistrict:
        clauses.append(_same_or_none(BUILDING.c.subdistrict, flt.subdistrict, NO_SUBDISTRICT))
    if flt.inspector == UNASSIGNED:
        clauses.append(BUILDING.c.assigned_to.is_(None))
    elif flt.inspector:
        clauses.append(_involves(flt.inspector, dialect))
    if flt.text and flt.text.strip():
        clauses.extend(search_clauses(flt.text))
    return clauses


def _conflict_query(
    store: Store, include_resolved: bool, flt: ConflictFilter | None = None
) -> sa.Select[Any]:
    query = sa.select(CONFLICT, BUILDING.c.code, BUILDING.c.address).join(
        BUILDING, BUILDING.c.id == CONFLICT.c.entity_id
    )
    if flt is not None:
        query = query.where(*_filter_clauses(flt, store.engine.dialect.name))
    return query if include_resolved else query.where(CONFLICT.c.status == "open")


def list_conflicts(
    store: Store,
    *,
    include_resolved: bool = False,
    limit: int | None = None,
    offset: int = 0,
    where: ConflictFilter | None = None,
) -> list[ConflictSummary]:
    """Conflicts by building code and field; ``limit``/``offset`` give one window of them,
    ``where`` keeps those of some kinds, a 街道, an inspector, buildings found by text.

    A merge of a whole district can leave 100,000 open conflicts: a screen asks for a window.
    """
    query = (
        _conflict_query(store, include_resolved, where)
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


def count_conflicts(
    store: Store, *, include_resolved: bool = False, where: ConflictFilter | None = None
) -> int:
    """How many conflicts ``list_conflicts`` lists without a limit."""
    listed = (
        _conflict_query(store, include_resolved, where)
        .with_only_columns(CONFLICT.c.entity_id)
        .subquery()
    )
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(listed)).scalar_one())


#: What ``count_by`` groups by: the filter's part, and the column it is on.
FACETS = {
    "kinds": CONFLICT.c.kind,
    "subdistrict": BUILDING.c.subdistrict,
    "inspector": BUILDING.c.assigned_to,
}


def count_by(
    store: Store,
    part: str,
    where: ConflictFilter | None = None,
    *,
    include_resolved: bool = False,
) -> dict[str, int]:
    """Conflicts per kind, 街道 or inspector (``part``, a key of ``FACETS``), most first, under
    the rest of ``where``: what the screen and the CLI offer to pick, each with what picking
    it would list ("field 12, duplicate 3,236"). One GROUP BY over the open conflicts; no 街道
    is ``NO_SUBDISTRICT``, nobody assigned ``UNASSIGNED``. Per inspector, a conflict counts
    under each person it involves (assigned the building, or wrote a side), so the counts
    may add up to more than the conflicts."""
    column = FACETS[part]
    none = NO_SUBDISTRICT if part == "subdistrict" else UNASSIGNED
    flt = (where or ConflictFilter()).without(part)
    base = _conflict_query(store, include_resolved, flt)
    if part == "inspector":
        return _count_by_person(store, base)
    query = base.with_only_columns(column, sa.func.count()).group_by(column)
    with store.engine.connect() as conn:
        rows = [(none if key is None else str(key), int(n)) for key, n in conn.execute(query)]
    return dict(sorted(rows, key=lambda kn: (-kn[1], kn[0])))


def _count_by_person(store: Store, base: sa.Select[Any]) -> dict[str, int]:
    """``count_by(…, "inspector")``: the (conflict, person) pairs of ``base``'s conflicts, a
    person being the building's assigned inspector (``UNASSIGNED`` for nobody) or a side's
    writer, each pair once (``UNION``), counted per person."""
    pk = (CONFLICT.c.entity_id, CONFLICT.c.field_key)
    changes, buildings = written_by(base, store.engine.dialect.name)
    pairs = sa.union(
        base.with_only_columns(*pk, sa.func.coalesce(BUILDING.c.assigned_to, UNASSIGNED)),
        changes.with_only_columns(*pk, CHANGE.c.author),
        buildings.with_only_columns(*pk, SIDE.c.updated_by).where(SIDE.c.updated_by.is_not(None)),
    ).subquery()
    name = list(pairs.c)[2]
    query = sa.select(name, sa.func.count()).group_by(name)
    with store.engine.connect() as conn:
        rows = [(str(key), int(n)) for key, n in conn.execute(query)]
    return dict(sorted(rows, key=lambda kn: (-kn[1], kn[0])))


def group_counts(by_kind: dict[str, int]) -> dict[str, int]:
    """``count_by(…, "kinds")`` summed by ``KIND_GROUPS``: field, delete, duplicate."""
    return {g: sum(by_kind.get(k, 0) for k in kinds) for g, kinds in KIND_GROUPS.items()}


def _version(c: ChangeRow, key: str, provisional: Collection[str]) -> Version:
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
        c.change_id in provisional,
        edited,
        tuple((f, c.fields[f]) for f in edited),
    )


def conflict_detail(
    store: Store, ref: str | uuid.UUID, field_key: str, form: Form | None = None
) -> ConflictDetail:
    """Base, every head, who and when: what a supervisor needs to decide. ``form`` names the
    field by its label when there is none (这栋楼的字段「year_built」 in a Chinese sentence)."""
    with read_tx(store.engine) as conn:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
        row = (
            conn.execute(_building_conflicts(bid).where(CONFLICT.c.field_key == field_key))
            .mappings()
            .first()
        )
        if row is None:
            from surveyor.sync.wording import field_name  # wording builds on this module

            en, zh = field_name(form, field_key, "en"), field_name(form, field_key, "zh")
            raise NotFound(
                f"there is no conflict on '{en}' of that building",
                zh=f"这栋楼的「{zh}」没有冲突",
            )
        return _with_refused(conn, form, _detail(conn, row))


def _with_refused(conn: sa.Connection, form: Form | None, d: ConflictDetail) -> ConflictDetail:
    """``d`` with each side the form refuses marked (``Version.refused``), by the rule that
    refuses taking it (``refused_with``): the review showed "[2] abc storeys" as any value."""
    if form is None or d.field_key not in form.fields or d.kind not in ("hard", "soft"):
        return d
    answers = load_state(conn, uuid.UUID(d.building_id)).answers
    heads = [replace(v, refused=refused_with(form, answers, d.field_key, v.value)) for v in d.heads]
    return replace(d, heads=heads)


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
        set() if row["provisional_change_id"] is None else {str(row["provisional_change_id"])}
    )
    changes: dict[str, ChangeRow] = {}
    if row["kind"] == "duplicate_entity":
        heads = _duplicate_versions(conn, [str(i) for i in row["head_change_ids"]])
        base = None
    else:
        head_ids = [str(i) for i in row["head_change_ids"]]
        if row["kind"] == "delete_vs_edit" and row["resolved_by"] is not None:
            head_ids = _race_heads_resolved(conn, str(row["entity_id"]), str(row["resolved_by"]))
        ids = list(head_ids)
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
        if row["kind"] == "delete_vs_edit":
            # The fold's provisional head is the delete, but a delete that raced an edit
            # deletes nothing until the supervisor decides: the building, with the edits, is
            # what is shown meanwhile ("shown until reviewed" was said of the delete).
            provisional = {h for h in head_ids if changes[h].fields.get(DELETED_KEY) is not True}
        heads = sorted(
            (_version(changes[h], field_key, provisional) for h in head_ids if h in changes),
            key=lambda v: (v.wall_time, v.change_id),
        )
        base_id = row["base_change_id"]
        base = None if base_id is None else _version(changes[str(base_id)], field_key, ())
    by = row["resolved_by"]
    resolution = None
    if by is not None and str(by) in changes:
        resolution = _version(changes[str(by)], field_key, ())
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


def _race_heads_resolved(conn: sa.Connection, entity_id: str, resolution: str) -> list[str]:
    """The delete and the edits it raced, as they stood when ``resolution`` decided them.

    A resolved row keeps only the ``_deleted`` heads the resolution saw, so the record lost
    the edit it overruled (listed while the race was open). The resolution names the heads
    of every field as its parents: folding what it saw gives the open race again.
    """
    rows = [c for cs in load_entity_changes(conn, [entity_id]).values() for c in cs]
    by_id = {c.change_id: c for c in rows}
    if resolution not in by_id:
        return []
    seen: set[str] = set()
    todo = [p for k in by_id[resolution].parents for p in by_id[resolution].parents_of(k)]
    while todo:
        cid = todo.pop()
        if cid in seen or cid not in by_id:
            continue
        seen.add(cid)
        todo.extend(p for k in by_id[cid].parents for p in by_id[cid].parents_of(k))
    before = fold_entity(entity_id, [by_id[c] for c in seen])
    race = [r for r in before.conflicts if r.field_key == DELETED_KEY]
    return list(race[0].head_change_ids) if race else []


def _duplicate_versions(conn: sa.Connection, ids: list[str]) -> list[Version]:
    """The buildings at one address, each with its last survey save: the author of the last
    change that set an answer, not of an assignment (a supervisor's ``assign`` made the box
    say "last saved by 李督导" of a building 李明 surveyed)."""
    keys = [as_uuid(i) for i in ids]
    rows = conn.execute(
        sa.select(
            BUILDING.c.id,
            BUILDING.c.code,
            BUILDING.c.address,
            BUILDING.c.subdistrict,
            BUILDING.c.compound_name,
            BUILDING.c.building_no,
            BUILDING.c.status,
            BUILDING.c.completeness,
            BUILDING.c.answers,
        )
        .where(BUILDING.c.id.in_(keys))
        .order_by(BUILDING.c.code)
    ).all()
    saved = _last_survey_saves(conn, keys)
    versions = []
    for i, code, addr, sub, compound, number, status, done, answers in rows:
        author, when = saved.get(str(i), ("", ""))
        answered = dict(load_json(answers) or {})
        facts = DuplicateBuilding(
            code, addr, sub, compound, number, status, float(done or 0), answered
        )
        value = f"{code} {addr or ''}".strip()
        versions.append(Version(str(i), value, author, when, "", DUPLICATE_KEY, building=facts))
    return versions


def _last_survey_saves(conn: sa.Connection, ids: list[uuid.UUID]) -> dict[str, tuple[str, str]]:
    """Per building, (author, wall time) of its latest save of an answer (an ``upsert``
    setting a form field; status, assignment and other reserved keys start with ``_``)."""
    found: dict[str, tuple[str, str]] = {}
    query = (
        sa.select(CHANGE.c.entity_id, CHANGE.c.fields, CHANGE.c.author, CHANGE.c.wall_time)
        .where(CHANGE.c.entity_id.in_(ids), CHANGE.c.op == "upsert")
        .order_by(CHANGE.c.hlc.desc())
    )
    for entity, fields, author, when in conn.execute(query):
        key = str(entity)
        if key in found:
            continue
        named = load_json(fields)
        if any(not f.startswith("_") for f in named):
            found[key] = (author, when)
    return found
