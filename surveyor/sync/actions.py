"""Local writes the sync layer owns: resolving a conflict, deleting a building, assigning work.

Each is a change like any save (one transaction: the change row, then the touched buildings
re-folded), so it syncs to every other database through the same merge. A resolution's
``parents[field]`` lists *all* the heads it closes, so it fast-forwards everywhere (§4.7).
"""

from __future__ import annotations

import difflib
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import NotFound, SurveyorError
from surveyor.forms.model import Form, Localized
from surveyor.forms.record import AnswerError, coerce_answer, refused_with
from surveyor.i18n import error_from
from surveyor.services.selection import Selection, selected_rows
from surveyor.services.survey import (
    SurveyWriter,
    building_number_key,
    load_state,
    may_be_one_building,
    resolve_building_id,
)
from surveyor.services.userfiles import ListedBuilding
from surveyor.store import hlc
from surveyor.store.db import Store, read_tx, write_tx
from surveyor.store.log import ClockState, append_change, load_clock, store_clock
from surveyor.sync.apply import WATERMARK, load_entity_changes, refold, update_watermarks
from surveyor.sync.fold import (
    ALIAS_KEY,
    ASSIGNED_KEY,
    DELETED_KEY,
    DUPLICATE_KEY,
    STATUS_KEY,
    ChangeRow,
    field_heads,
)
from surveyor.sync.rows import BUILDING, CHANGE, CONFLICT, as_uuid, change_from_mapping
from surveyor.sync.wording import change_tag, field_name


@dataclass(frozen=True)
class Choice:
    """A supervisor's decision: ``head`` (with its change id), ``base``, ``value``, ``keep``
    or ``delete`` (a delete that raced an edit, or a duplicate), or ``merge_into`` (a
    duplicate, with the kept building's code or id as ``value``)."""

    kind: str
    change_id: str | None = None
    value: Any = None


class ConflictChanged(SurveyorError):
    """The conflict's values are no longer the ones the supervisor was shown: a later sync
    added or replaced one. Resolving it anyway would close a value nobody saw."""


class NoOpenConflict(NotFound):
    """No open conflict on that field of that building (``resolved``: there was one, and it
    has been resolved): a resolution cannot be changed by resolving again."""

    def __init__(self, message: str, *, zh: str, resolved: bool = False) -> None:
        super().__init__(message, zh=zh)
        self.resolved = resolved


def _parents_value(heads: Sequence[str]) -> str | list[str] | None:
    if not heads:
        return None
    return heads[0] if len(heads) == 1 else list(heads)


class LocalWriter:
    """Appends this database's own changes and re-folds what they touch, in one transaction."""

    def __init__(
        self,
        conn: Connection,
        store: Store,
        form: Form | None,
        author: str,
        clock: Callable[[], int] = hlc.now_ms,
    ) -> None:
        self.conn = conn
        self.store = store
        self.form = form
        self.author = author
        self.clock: ClockState = load_clock(conn, clock)
        self.touched: set[str] = set()

    def append(
        self, entity_id: str, op: str, fields: Mapping[str, Any], parents: Mapping[str, Any]
    ) -> ChangeRow:
        # The same stamping and append as every local save (store.log.append_change).
        record = append_change(
            self.conn,
            self.clock,
            site_id=self.store.site_id,
            entity_id=as_uuid(entity_id),
            op=op,
            fields=dict(fields),
            parents={k: v for k, v in parents.items() if v is not None},
            author=self.author,
            form_version=self.form.version if self.form is not None else "unknown",
        )
        row = ChangeRow(
            change_id=str(record.change_id),
            site_id=str(record.site_id),
            seq=record.seq,
            hlc=record.hlc,
            entity_id=entity_id,
            op=op,
            form_version=record.form_version,
            fields=record.fields,
            parents=record.parents,
            author=record.author,
            wall_time=record.wall_time,
        )
        self.touched.add(entity_id)
        return row

    def finish(self) -> None:
        store_clock(self.conn, self.clock)
        if self.touched:
            refold(self.conn, sorted(self.touched), self.form)
            update_watermarks(self.conn, [str(self.store.site_id)])

    def heads(self, entity_id: str) -> dict[str, list[str]]:
        return field_heads(load_entity_changes(self.conn, [entity_id]).get(entity_id, []))


def _building(conn: Connection, ref: str | uuid.UUID) -> str:
    bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
    return str(bid)


def open_conflict(
    conn: Connection, entity_id: str, field_key: str, form: Form | None = None
) -> Mapping[Any, Any]:
    """The open conflict on ``field_key`` of a building; else ``NoOpenConflict``, naming the
    field by its label as the supervisor reads it (it said 字段“year_built”)."""
    row = (
        conn.execute(
            sa.select(CONFLICT).where(
                CONFLICT.c.entity_id == as_uuid(entity_id),
                CONFLICT.c.field_key == field_key,
                CONFLICT.c.status == "open",
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        resolved = conn.execute(
            sa.select(CONFLICT.c.entity_id).where(
                CONFLICT.c.entity_id == as_uuid(entity_id), CONFLICT.c.field_key == field_key
            )
        ).first()
        en, zh = field_name(form, field_key, "en"), field_name(form, field_key, "zh")
        if resolved is not None:
            raise NoOpenConflict(
                f"the conflict on '{en}' of that building is already resolved",
                zh=f"该楼栋「{zh}」的冲突已经解决",
                resolved=True,
            )
        raise NoOpenConflict(
            f"there is no open conflict on '{en}' of that building",
            zh=f"该楼栋「{zh}」没有未解决的冲突",
        )
    return row


def change_by_id(conn: Connection, change_id: str) -> ChangeRow:
    row = (
        conn.execute(sa.select(CHANGE).where(CHANGE.c.change_id == as_uuid(change_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no change {change_id}", zh=f"没有修改记录 {change_id}")
    return change_from_mapping(row)


def checked_value(conn: Connection, form: Form | None, eid: str, field_key: str, raw: Any) -> Any:
    """A typed-in resolution value, through the same coercion and checks as a save.

    Coercion alone let a range or cross-field rule pass (year_built 3000), and the value then
    synced to every laptop and printed on the sheets.
    """
    if field_key == STATUS_KEY:
        return _typed_status(raw)
    if form is None or field_key not in form.fields:
        return raw
    try:
        value = coerce_answer(form.field(field_key), raw) if isinstance(raw, str) else raw
    except AnswerError as exc:
        raise _refused_value(form, raw, field_key, exc.message) from None
    problem = refused_with(form, load_state(conn, uuid.UUID(eid)).answers, field_key, value)
    if problem is not None:
        raise _refused_value(form, raw, field_key, problem)
    return value


def _refuse_a_refused_side(
    conn: Connection, form: Form | None, eid: str, field_key: str, value: Any
) -> None:
    """Refuse taking a side's value the field's rules refuse, as a typed one is refused: a
    draft's "abc" storeys was taken without a word, while typing 3000 was refused. Said in
    one sentence, with the way on (type the right value)."""
    if form is None or field_key not in form.fields:
        return
    problem = refused_with(form, load_state(conn, uuid.UUID(eid)).answers, field_key, value)
    if problem is not None:
        refused = _refused_value(form, value, field_key, problem)
        raise error_from("review.side_refused", refused=refused)


def _typed_status(raw: Any) -> str:
    """A status typed to resolve a status conflict: draft or complete, by code or label. Any
    text was taken as a status ("finished"); an approval is given with ``surveyor status``,
    which checks the record first."""
    from surveyor.forms.display import status_code

    code = status_code(str(raw or ""))
    if code not in ("draft", "complete"):
        raise error_from("review.status_value_refused", RefusedValue, value=raw)
    return code


class RefusedValue(SurveyorError):
    """A typed-in resolution value the field's rules refuse: the review asks for it again."""


def _refused_value(form: Form, raw: Any, field_key: str, why: Localized) -> SurveyorError:
    label = form.field(field_key).defn.label
    return RefusedValue(
        f"'{raw}' is not a valid value for {label.get('en')} ({field_key}): {why.get('en')}",
        zh=f"「{raw}」不是{label.get('zh')}（{field_key}）的有效值：{why.get('zh')}",
    )


def _resolution_fields(
    w: LocalWriter, eid: str, field_key: str, kind: str, choice: Choice
) -> tuple[dict[str, Any], dict[str, Any]]:
    heads = w.heads(eid)
    if kind == "delete_vs_edit":
        if choice.kind not in ("keep", "delete"):
            raise SurveyorError(
                "a delete that raced an edit is resolved with keep or delete",
                zh="删除与修改冲突只能选择「保留」或「删除」",
            )
        parents = {k: _parents_value(v) for k, v in heads.items()}
        return {DELETED_KEY: choice.kind == "delete"}, parents
    own = heads.get(field_key, [])
    if choice.kind == "head":
        if choice.change_id not in own:
            tag = change_tag(str(choice.change_id))  # the #tag 'conflicts show' prints
            raise SurveyorError(
                f"#{tag} is not one of the conflicting values (it may have changed since: "
                "show it again)",
                zh=f"#{tag} 不是冲突中的取值之一（冲突可能已有变化，请重新查看）",
            )
        value = change_by_id(w.conn, choice.change_id).fields[field_key]
        _refuse_a_refused_side(w.conn, w.form, eid, field_key, value)
    elif choice.kind == "base":
        row = open_conflict(w.conn, eid, field_key, w.form)
        base = row["base_change_id"]
        if base is None:
            # Choosing "no value" would clear the field on every laptop: say so instead.
            raise SurveyorError(
                "this conflict has no common base value (each inspector set it independently); "
                "pick one of the values or type a new one (an empty value clears the field)",
                zh="此冲突没有共同基础值（两位普查员各自填写）；请选择其中一个取值或输入新值"
                "（空值表示清空）",
            )
        value = change_by_id(w.conn, str(base)).fields.get(field_key)
    elif choice.kind == "value":
        value = checked_value(w.conn, w.form, eid, field_key, choice.value)
    else:
        raise SurveyorError(
            f"unknown choice '{choice.kind}'; pick a head, the base or a value",
            zh=f"未知的处理方式「{choice.kind}」：请选择冲突中的一个取值、共同基础值或输入新值",
        )
    return {field_key: value}, {field_key: list(own)}


def resolve_conflict(
    store: Store,
    form: Form | None,
    ref: str | uuid.UUID,
    field_key: str,
    choice: Choice,
    *,
    author: str,
    shown_heads: Collection[str] | None = None,
    clock: Callable[[], int] = hlc.now_ms,
) -> ChangeRow:
    """Close an open conflict with a ``resolve`` change whose parents are all its heads.

    ``shown_heads`` are the change ids (for a duplicate: the building ids) of the values the
    supervisor was shown; when the conflict's heads are no longer exactly those (an inspector
    changed the field again and synced), it is refused with ``ConflictChanged``, whichever
    value was picked: the new value would be closed without ever having been seen.
    """
    with write_tx(store.engine) as conn:
        w = LocalWriter(conn, store, form, author, clock)
        eid = _building(conn, ref)
        row = open_conflict(conn, eid, field_key, form)
        if shown_heads is not None and {str(h) for h in row["head_change_ids"]} != {
            str(h) for h in shown_heads
        }:
            raise error_from("review.changed_since_shown_cli", ConflictChanged)
        if row["kind"] == "duplicate_entity":
            if choice.kind == "merge_into":
                change = _merge_duplicate(w, eid, row, str(choice.value or ""))
            elif choice.kind == "delete":
                change = _delete(w, eid)
            else:
                raise SurveyorError(
                    "duplicate buildings are never merged automatically: merge this one into "
                    "the other (--merge-into CODE), delete it, or correct its address",
                    zh="重复楼栋不会自动合并：请把它并入另一栋（--merge-into 编号）、删除它，"
                    "或更正其地址",
                )
        else:
            fields, parents = _resolution_fields(w, eid, field_key, str(row["kind"]), choice)
            change = w.append(eid, "resolve", fields, parents)
        w.finish()
        return change


def _delete(w: LocalWriter, eid: str) -> ChangeRow:
    heads = w.heads(eid)
    parents = {k: _parents_value(v) for k, v in heads.items()}
    parents.setdefault(DELETED_KEY, None)
    return w.append(eid, "delete", {DELETED_KEY: True}, parents)


def _merge_duplicate(w: LocalWriter, eid: str, row: Mapping[Any, Any], into: str) -> ChangeRow:
    """Fold a duplicate building into the one kept, as two changes in one transaction.

    The kept building gets every answer it lacks from the duplicate, saved as any save is
    (``_fill_kept``: one ``upsert`` with its status, so an approval is withdrawn); where both
    have an answer the kept one's stays, and the duplicate's remains in the log. Then the
    duplicate is tombstoned by an ``alias`` change (``_deleted`` true, ``_alias_of`` the kept
    id) that names every head it saw, exactly like a delete, so an edit that raced it still
    shows as a conflict.
    """
    if not into.strip():
        raise SurveyorError(
            "say which building to keep: --merge-into CODE",
            zh="请指明保留哪一栋：--merge-into 编号",
        )
    keep = _building(w.conn, into.strip())
    if keep == eid:
        raise SurveyorError("a building cannot be merged into itself", zh="楼栋不能并入它自己")
    if keep not in {str(h) for h in row["head_change_ids"]}:
        raise SurveyorError(
            f"{into} is not a duplicate of this building (the same address); nothing was merged",
            zh=f"{into} 不是该楼栋的重复记录（地址不同）；未作合并",
        )
    states = {
        str(i): (answers, deleted)
        for i, answers, deleted in w.conn.execute(
            sa.select(BUILDING.c.id, BUILDING.c.answers, BUILDING.c.deleted).where(
                BUILDING.c.id.in_([as_uuid(eid), as_uuid(keep)])
            )
        )
    }
    if states[keep][1]:
        raise SurveyorError(
            f"{into} has been deleted; keep a live building",
            zh=f"{into} 已被删除；请保留一栋未删除的楼栋",
        )
    missing = merge_plan(states[eid][0], states[keep][0]).gained
    if missing:
        _fill_kept(w, keep, missing)
    seen = {k: _parents_value(v) for k, v in w.heads(eid).items()}
    return w.append(eid, "alias", {DELETED_KEY: True, ALIAS_KEY: keep}, seen)


@dataclass(frozen=True)
class MergePlan:
    """What merging a duplicate into the kept building does to the answers: ``gained``, the
    duplicate's answers the kept building lacks (copied over); ``differing``, field → (kept
    value, the duplicate's value), answered by both, differently: the kept value stays and
    the other is no longer shown (it stays in the log). The review lists both before a merge:
    a merge dropped 1987 for 1988 without a word."""

    gained: dict[str, Any]
    differing: dict[str, tuple[Any, Any]]


def merge_plan(duplicate: Mapping[str, Any], kept: Mapping[str, Any]) -> MergePlan:
    """``MergePlan`` of merging a building with answers ``duplicate`` into one with ``kept``."""
    gained = {f: v for f, v in duplicate.items() if v is not None and kept.get(f) is None}
    differing = {
        f: (kept[f], v)
        for f, v in duplicate.items()
        if v is not None and kept.get(f) is not None and kept[f] != v
    }
    return MergePlan(gained, differing)


def _fill_kept(w: LocalWriter, keep: str, missing: Mapping[str, Any]) -> None:
    """Give the kept building the duplicate's answers it lacks through the write path.

    Appended directly, they bypassed the rules every save follows: an approved building
    gained answers and stayed approved, and its status and evaluation columns were not
    recomputed. ``SurveyWriter.save`` (as a draft save, so an answer the form now refuses is
    kept and marked rather than lost) withdraws an approval, reopens a record the new answers
    break, and writes the status in the same change. Its clock is this writer's, and
    ``finish`` re-folds the kept building with the duplicate (their flags, from the log).
    """
    if w.form is None:
        raise SurveyorError(
            "merging a duplicate needs the form, to check the answers the kept building gains",
            zh="合并重复楼栋需要表单，用以检查保留楼栋新增的答案",
        )
    survey = SurveyWriter(w.conn, w.store, w.form, w.author, clock_state=w.clock)
    survey.save(as_uuid(keep), missing, draft=True)
    w.touched.add(keep)


def delete_building(
    store: Store,
    form: Form | None,
    ref: str | uuid.UUID,
    *,
    author: str,
    clock: Callable[[], int] = hlc.now_ms,
) -> ChangeRow:
    """Delete a building: a tombstone change that names every head it saw (§4.8).

    A building already deleted (or merged into another as a duplicate) is refused in a
    sentence, nothing written: a second tombstone would only add a change to every laptop."""
    with write_tx(store.engine) as conn:
        w = LocalWriter(conn, store, form, author, clock)
        eid = _building(conn, ref)
        state = load_state(conn, uuid.UUID(eid))
        if state.deleted:
            raise _already_deleted(conn, state)
        change = _delete(w, eid)
        w.finish()
        return change


def _already_deleted(conn: Connection, state: Any) -> SurveyorError:
    """A delete of a building that is gone: said with where a merged duplicate went."""
    from surveyor.services.survey import kept_building

    kept = kept_building(conn, state)
    if kept is not None:
        return SurveyorError(
            f"{state.code} was merged into {kept.code} (a duplicate); nothing was deleted",
            zh=f"{state.code} 是重复记录，已并入 {kept.code}；未删除任何楼栋",
        )
    return SurveyorError(
        f"building {state.code} is already deleted; nothing was changed",
        zh=f"楼栋 {state.code} 已经删除；未作改动",
    )


@dataclass(frozen=True)
class SettledDuplicate:
    """How a possible duplicate was settled, once its flag is gone: ``merged`` (this building
    into ``other``), ``absorbed`` (``other`` into this one), ``deleted`` (this one) or
    ``other_deleted``; by whom and when (UTC, as the change stored it)."""

    code: str
    how: str
    other: str | None
    author: str
    wall_time: str


def settled_duplicate(store: Store, ref: str | uuid.UUID) -> SettledDuplicate | None:
    """How the duplicate flag of building ``ref`` was settled, or None (never flagged, or the
    flag went with an address corrected): read from this building's tombstone, or from those
    of the buildings deleted at its address (the address is indexed: no scan of the log)."""
    with read_tx(store.engine) as conn:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
        row = conn.execute(
            sa.select(
                BUILDING.c.code, BUILDING.c.deleted, BUILDING.c.address_norm, BUILDING.c.building_no
            ).where(BUILDING.c.id == bid)
        ).first()
        if row is None:
            return None
        code, deleted, address, number = row
        if deleted:
            gone = _tombstone(conn, str(bid))
            if gone is None:
                return None
            into = gone.fields.get(ALIAS_KEY)
            how, other = ("merged", _code_of(conn, into)) if into else ("deleted", None)
            return SettledDuplicate(code, how, other, gone.author, gone.wall_time)
        if not address:
            return None
        others = conn.execute(
            sa.select(BUILDING.c.id, BUILDING.c.code, BUILDING.c.building_no).where(
                BUILDING.c.address_norm == address,
                BUILDING.c.deleted.is_(True),
                BUILDING.c.id != bid,
            )
        ).all()
        found: list[tuple[int, SettledDuplicate]] = []
        key = building_number_key(number)
        for other_id, other_code, other_number in others:
            if not may_be_one_building(key, building_number_key(other_number)):
                continue  # another building of a compound that shares one 门牌
            gone = _tombstone(conn, str(other_id))
            if gone is None:
                continue
            into = gone.fields.get(ALIAS_KEY)
            if into and str(into) != str(bid):
                continue  # merged into a third building
            how = "absorbed" if into else "other_deleted"
            found.append(
                (gone.hlc, SettledDuplicate(code, how, other_code, gone.author, gone.wall_time))
            )
        return max(found, key=lambda f: f[0])[1] if found else None


def _tombstone(conn: Connection, eid: str) -> ChangeRow | None:
    """A building's latest change that deleted it (a delete or a merge into another)."""
    gone = [
        c
        for c in load_entity_changes(conn, [eid]).get(eid, [])
        if c.fields.get(DELETED_KEY) is True
    ]
    return max(gone, key=lambda c: c.hlc) if gone else None


def _code_of(conn: Connection, building_id: Any) -> str:
    from surveyor.store.ids import building_code

    code = conn.execute(
        sa.select(BUILDING.c.code).where(BUILDING.c.id == as_uuid(str(building_id)))
    ).scalar()
    return str(code) if code else building_code(uuid.UUID(str(building_id)))


def is_reserved_name(name: str) -> bool:
    """Whether ``name`` is words the lists print for nobody: （未分配）, (unassigned), or any
    name wholly in brackets. Assigned to such a "name", 218 buildings read as unassigned in
    ``--inspector '(unassigned)'`` and as someone's in the progress table."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", name).strip()
    return len(folded) >= 2 and folded[0] == "(" and folded[-1] == ")"


def assign(
    store: Store,
    form: Form | None,
    inspector: str,
    *,
    where: Selection | None = None,
    refs: Iterable[str | ListedBuilding] = (),
    author: str,
    require_known: bool = False,
    clock: Callable[[], int] = hlc.now_ms,
) -> Assigned:
    """Hand buildings to an inspector: one ``_assigned_to`` change per building that changes.

    ``where`` picks live buildings as exports do (``services.selection``); ``refs`` name more
    (a list file's lines name where they come from, so an unknown code is said with its line).
    With ``require_known`` (the supervisor's command), a name the central has never seen (no
    buildings, no edits) is refused: a typo (王方 for 王芳) made an inspector no laptop is, and
    the work reached nobody."""
    name = inspector.strip()
    if not name:
        raise SurveyorError(
            "give the inspector's name with --inspector NAME",
            zh="请用 --inspector 姓名 指定调查员",
        )
    if is_reserved_name(name):
        raise error_from("assign.reserved_name", name=name)
    return _hand_to(store, form, name, where, refs, author, require_known, clock)


def unassign(
    store: Store,
    form: Form | None,
    *,
    where: Selection | None = None,
    refs: Iterable[str | ListedBuilding] = (),
    author: str,
    clock: Callable[[], int] = hlc.now_ms,
) -> Assigned:
    """Hand buildings back to nobody: one ``_assigned_to`` change to None per building that
    had an inspector, chosen as ``assign`` chooses them. A change in the log like an
    assignment, so the laptop that had them sees them unassigned after its next sync; a
    building handed out by mistake had no way back but to another inspector."""
    return _hand_to(store, form, None, where, refs, author, False, clock)


def _hand_to(
    store: Store,
    form: Form | None,
    name: str | None,
    where: Selection | None,
    refs: Iterable[str | ListedBuilding],
    author: str,
    require_known: bool,
    clock: Callable[[], int],
) -> Assigned:
    """Set ``_assigned_to`` to ``name`` (None: nobody) on the buildings ``where`` and ``refs``
    pick, in one transaction: what ``assign`` and ``unassign`` share."""
    with write_tx(store.engine) as conn:
        if require_known and name is not None:
            _check_known_inspector(conn, name, store.own_sites)
        w = LocalWriter(conn, store, form, author, clock)
        ids = [str(r.id) for r in selected_rows(conn, where, BUILDING.c.id)] if where else []
        ids += _listed_ids(conn, refs)
        if not ids:
            raise SurveyorError(
                "no building matches; nothing was assigned", zh="没有符合条件的楼栋；未分配任何任务"
            )
        current = {
            str(i): (a, e)
            for i, a, e in conn.execute(
                sa.select(BUILDING.c.id, BUILDING.c.assigned_to, BUILDING.c.extra).where(
                    BUILDING.c.id.in_([as_uuid(i) for i in ids])
                )
            )
        }
        todo = sorted({i for i in ids if current.get(i, (None, None))[0] != name})
        held = load_entity_changes(conn, todo)
        for eid in todo:
            heads = field_heads(held.get(eid, [])).get(ASSIGNED_KEY, [])
            w.append(eid, "upsert", {ASSIGNED_KEY: name}, {ASSIGNED_KEY: _parents_value(heads)})
        w.finish()
        before = Counter(str(current[i][0]) for i in todo if current.get(i, (None, None))[0])
        return Assigned(len(todo), dict(sorted(before.items())))


@dataclass(frozen=True)
class Assigned:
    """What ``assign`` did: how many buildings changed hands, and how many of them were
    another inspector's (by name): moving a colleague's drafts should not go unsaid."""

    count: int
    taken_from: dict[str, int]


def _listed_ids(conn: Connection, refs: Iterable[str | ListedBuilding]) -> list[str]:
    """The ids of the buildings ``refs`` name; the first that names none, or a deleted one,
    is refused with the file and line it came from (and how many more do), so the list can be
    put right."""
    listed: list[tuple[str, str | None]] = []
    unknown: list[tuple[str | None, NotFound]] = []
    for ref in refs:
        text, where = (ref.ref, ref.where) if isinstance(ref, ListedBuilding) else (ref, None)
        if not text.strip():
            continue
        try:
            listed.append((_building(conn, text.strip()), where))
        except NotFound as exc:
            unknown.append((where, exc))
    if not unknown:
        _refuse_deleted(conn, listed)
        return [i for i, _ in listed]
    where, first = unknown[0]
    more = len(unknown) - 1
    en, zh = first.message, first.text("zh")
    if where is not None:
        en, zh = f"{where}: {en}", f"{where}：{zh}"
    if more:
        en += f" (and {more} more line(s) name no building)"
        zh += f"（另有 {more} 行也找不到楼栋）"
    raise NotFound(f"{en}; nothing was assigned", zh=f"{zh}；未分配任何任务")


def _refuse_deleted(conn: Connection, listed: Sequence[tuple[str, str | None]]) -> None:
    """Refuse a list naming a deleted building, or a duplicate merged into another (said with
    the building kept, which is the one to assign): such a code was "assigned" to nobody's
    use, and a merged one was taken, without a word, from the inspector who had it."""
    if not listed:
        return
    deleted = {
        str(i)
        for i in conn.execute(
            sa.select(BUILDING.c.id).where(
                BUILDING.c.id.in_({as_uuid(i) for i, _ in listed}), BUILDING.c.deleted.is_(True)
            )
        ).scalars()
    }
    gone = [(i, where) for i, where in listed if i in deleted]
    if not gone:
        return
    from surveyor.services.survey import kept_building

    eid, where = gone[0]
    state = load_state(conn, uuid.UUID(eid))
    kept = kept_building(conn, state)
    if kept is not None:
        en = f"{state.code} was merged into {kept.code} (a duplicate); assign {kept.code} instead"
        zh = f"{state.code} 是重复记录，已并入 {kept.code}；请分配 {kept.code}"
    else:
        en, zh = f"building {state.code} is deleted", f"楼栋 {state.code} 已删除"
    if where is not None:
        en, zh = f"{where}: {en}", f"{where}：{zh}"
    if more := len(gone) - 1:
        en += f" (and {more} more line(s) name a deleted building)"
        zh += f"（另有 {more} 行也是已删除的楼栋）"
    raise SurveyorError(f"{en}; nothing was assigned", zh=f"{zh}；未分配任何任务")


def known_inspectors(conn: Connection, central_sites: Collection[uuid.UUID]) -> set[str]:
    """Names the central knows as inspectors: those buildings are assigned to, and the author
    of each laptop's latest change (a supervisor's resolutions are made on the central). One
    indexed lookup a laptop, not a scan of the change log (millions of rows on a district's
    central)."""
    assigned = sa.select(BUILDING.c.assigned_to).where(BUILDING.c.assigned_to.is_not(None))
    latest = (
        sa.select(CHANGE.c.author)
        .join(
            WATERMARK,
            sa.and_(CHANGE.c.site_id == WATERMARK.c.site_id, CHANGE.c.seq == WATERMARK.c.max_seq),
        )
        .where(WATERMARK.c.site_id.not_in(central_sites))
    )
    return {n for n in conn.execute(sa.union(assigned, latest)).scalars() if n}


def made_changes_here(conn: Connection, name: str, central_sites: Collection[uuid.UUID]) -> bool:
    """Whether ``name`` wrote any change on a laptop that this central holds.

    ``known_inspectors`` sees only each laptop's latest author, and ``assign`` said "no
    inspector named 张伟 has buildings or edits here" of a central holding 1,725 of 张伟's
    changes. Answered from ``ix_change_author`` (migration 0008): a name that wrote nothing
    (a typo) read the whole change log, seconds on a district's central."""
    return conn.execute(authored_on_a_laptop(name, central_sites)).first() is not None


def authored_on_a_laptop(name: str, central_sites: Collection[uuid.UUID]) -> sa.Select[tuple[str]]:
    """The first change ``name`` wrote on any site but the central (``made_changes_here``);
    the index on (author, site_id) answers it without reading a change row."""
    return (
        sa.select(CHANGE.c.author)
        .where(CHANGE.c.author == name, CHANGE.c.site_id.not_in(central_sites))
        .limit(1)
    )


def assigned_before(conn: Connection, central_sites: Collection[uuid.UUID]) -> set[str]:
    """Every name this central ever assigned work to, from its own ``_assigned_to`` changes.

    An inspector whose buildings all moved to another (and who wrote nothing on a laptop
    yet) was refused as unknown: "no inspector named 王芳 has buildings or edits here". Only
    the central's own changes are read (the (site_id, seq) index; its register imports,
    assignments and resolutions, not the laptops' millions), and only when the cheap checks
    found no one: a new name or a typo."""
    assigned = CHANGE.c.fields[ASSIGNED_KEY].as_string()
    rows = conn.execute(
        sa.select(assigned)
        .distinct()
        .where(CHANGE.c.site_id.in_(central_sites), assigned.is_not(None))
    ).scalars()
    return {n for n in rows if n}


def is_known_inspector(conn: Connection, name: str, central_sites: Collection[uuid.UUID]) -> bool:
    """Whether the central knows ``name`` as an inspector: assigned buildings, now or before,
    or changes written on a laptop. The cheap lookups first."""
    if name in known_inspectors(conn, central_sites) or made_changes_here(
        conn, name, central_sites
    ):
        return True
    return name in assigned_before(conn, central_sites)


def _check_known_inspector(
    conn: Connection, name: str, central_sites: Collection[uuid.UUID]
) -> None:
    if is_known_inspector(conn, name, central_sites):
        return
    known = known_inspectors(conn, central_sites) | assigned_before(conn, central_sites)
    close = similar_names(name, known)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    hint_zh = f"是不是 {'、'.join(close)}？" if close else ""
    raise SurveyorError(
        f"no inspector named {name} has buildings or edits here; nothing was assigned.{hint} "
        "For a new inspector, add --new-inspector.",
        zh=f"这里没有名为 {name} 的调查员的楼栋或改动；未分配任何任务。{hint_zh}"
        "如是新调查员，请加 --new-inspector。",
    )


def similar_names(name: str, known: Iterable[str]) -> list[str]:
    """Known inspectors' names close to ``name`` (王芳 for 王方), for a did-you-mean."""
    others = sorted(n for n in known if n != name)
    return difflib.get_close_matches(name, others, n=3, cutoff=0.3)


@dataclass(frozen=True)
class NoAssignments:
    """An inspector the central has no buildings assigned to, with the names they may have
    meant: a laptop set up as 王方 when the work is assigned to 王芳 pulled nothing, silently."""

    inspector: str
    did_you_mean: list[str]


def no_assignments(
    conn: Connection, name: str, central_sites: Collection[uuid.UUID]
) -> NoAssignments | None:
    """``NoAssignments`` when no building on this central is assigned to ``name``, else None."""
    assigned = conn.execute(
        sa.select(BUILDING.c.id).where(BUILDING.c.assigned_to == name).limit(1)
    ).first()
    if assigned is not None:
        return None
    return NoAssignments(name, similar_names(name, known_inspectors(conn, central_sites)))


__all__ = [
    "DUPLICATE_KEY",
    "Choice",
    "ConflictChanged",
    "LocalWriter",
    "MergePlan",
    "NoAssignments",
    "NoOpenConflict",
    "assign",
    "delete_building",
    "merge_plan",
    "no_assignments",
    "resolve_conflict",
    "settled_duplicate",
    "unassign",
]
