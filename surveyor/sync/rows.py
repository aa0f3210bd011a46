"""The rows sync reads and writes: changes as ``ChangeRow``, state rows and conflict rows.

Ids travel as canonical text (``canonical_id``) and bind as UUIDs (``as_uuid``); a state row
is built from a fold by ``state_row``, with the same columns the write path maintains.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.forms.record import Evaluation, evaluate
from surveyor.services.survey import derived_columns
from surveyor.store import models
from surveyor.store.bulk import RawJSON, dump_json, load_json
from surveyor.store.heads import heads_group
from surveyor.store.ids import building_code
from surveyor.sync.fold import (
    AGREEING_KEY,
    DUPLICATE_KEY,
    STATUS_KEY,
    ChangeRow,
    ConflictRow,
    EntityState,
)

CHANGE = models.TABLES.tables["change"]
BUILDING = models.TABLES.tables["building"]
CONFLICT = models.TABLES.tables["conflict"]


class RowHint(NamedTuple):
    """Evaluation columns of the sender's state row, reused when its heads equal ours.

    Evaluating the form costs ~0.4 ms per building; the sender already did it for the same
    answers under the same form version, so only buildings whose heads differ are evaluated.
    JSON stays as the sender stored it: compared as text first, and copied, not re-encoded.
    """

    heads_json: str  # the sender's heads, encoded (store.heads)
    form_version: str
    completeness: float
    errors_json: str
    error_count: int


class PriorEvaluation(NamedTuple):
    """Evaluation columns already computed for some answers: a held or a prepared state row.

    A re-fold on the central is for a building two inspectors edited; its answers often equal
    one side's, whose evaluation is then reused (the evaluation is a function of the answers
    and the form version, as ``RowHint`` relies on too).
    """

    form_version: str
    answers_key: bytes  # ``answers_key`` of the answers it was computed for
    completeness: float
    errors_json: str
    error_count: int


def flagged_as_duplicate() -> sa.Exists:
    """A correlated test, per ``building`` row, that it holds an open duplicate flag: an index
    lookup (the flag's key is in the conflict's primary key). Progress counts such a building
    as conflicted; the exports say it."""
    return (
        sa.select(CONFLICT.c.entity_id)
        .where(
            CONFLICT.c.entity_id == BUILDING.c.id,
            CONFLICT.c.field_key == DUPLICATE_KEY,
            CONFLICT.c.status == "open",
        )
        .exists()
    )


def answers_key(answers: Mapping[str, Any]) -> bytes | None:
    """Answers as one exact byte string (sorted keys; 1, 1.0 and true stay distinct).

    None when orjson refuses a value (an integer beyond 64 bits): such answers are evaluated.
    """
    try:
        return orjson.dumps(answers, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def as_uuid(text: str) -> uuid.UUID:
    """Text id to UUID for binding; cached, as site and building ids repeat across changes."""
    return uuid.UUID(text)


#: The ``change`` columns in the order ``change_from_values`` takes them.
CHANGE_COLUMNS = (
    "change_id",
    "site_id",
    "seq",
    "hlc",
    "entity_id",
    "op",
    "form_version",
    "fields",
    "parents",
    "author",
    "wall_time",
)


def change_from_values(
    change_id: Any,
    site_id: Any,
    seq: Any,
    stamp: Any,
    entity_id: Any,
    op: Any,
    form_version: Any,
    fields: Any,
    parents: Any,
    author: Any,
    wall_time: Any,
) -> ChangeRow:
    """A ``change`` row's values (in ``CHANGE_COLUMNS`` order) as a ChangeRow.

    Ids become canonical text. The text of ``fields`` read from a file is kept, so a merge
    writes it without dumping it again (changes are immutable).
    """
    return ChangeRow(
        change_id=canonical_id(change_id),
        site_id=_repeated_id(site_id),
        seq=int(seq),
        hlc=int(stamp),
        entity_id=_repeated_id(entity_id),
        op=str(op),
        form_version=str(form_version),
        fields=load_json(fields),
        parents=load_json(parents),
        author=str(author),
        wall_time=str(wall_time),
        fields_json=fields if isinstance(fields, str) else None,
    )


def storable(c: ChangeRow) -> ChangeRow:
    """The change as a central stores it: without NUL characters in its answers or author.

    Laptops from before control characters were dropped on input can hold a NUL in their log.
    PostgreSQL cannot store one, so every later sync and merge of such a laptop failed. Both
    backends drop it the same way, so their centrals stay equal; the look for it is a
    substring test on the stored text, cheap enough for every change of a merge. Other
    control characters are left as they were: they store fine and are never shown raw.
    """
    if c.fields_json is not None and "\\u0000" not in c.fields_json and "\x00" not in c.author:
        return c
    fields = _without_nul(c.fields)
    if fields == c.fields and "\x00" not in c.author:
        return c
    return dataclasses.replace(
        c, fields=fields, author=c.author.replace("\x00", ""), fields_json=None
    )


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, Mapping):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def change_from_mapping(r: Mapping[Any, Any]) -> ChangeRow:
    """A ``change`` row from SQLAlchemy (``.mappings()``) or sqlite3 as a ChangeRow."""
    return change_from_values(*(r[c] for c in CHANGE_COLUMNS))


@functools.lru_cache(maxsize=1 << 14)
def _repeated_id(value: Any) -> str:
    """canonical_id, cached: site and building ids repeat across a file's changes."""
    return canonical_id(value)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


#: SQLite's form of a UUID (``sa.Uuid`` stores 32 hex digits).
_HEX32 = re.compile(r"[0-9a-f]{32}")


def canonical_id(value: Any) -> str:
    """An id as lower-case hyphenated text; SQLite's 32-hex form is rewritten by slicing (fast).

    ValueError for what is no UUID, also 32 characters that are not hex digits: sliced, they
    looked like an id and failed only when written, after the file had been accepted.
    """
    if isinstance(value, str) and len(value) == 32:
        v = value.lower()
        if _HEX32.fullmatch(v) is None:
            raise ValueError(f"badly formed hexadecimal UUID string: {value!r}")
        return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
    return str(_uuid(value))


class DamagedChange(ValueError):
    """A ``change`` row that cannot be read: an id that is no UUID, a number that is none,
    ``fields`` or ``parents`` that are not a JSON object.

    Says which row (its seq and id as stored) and which column, so the caller can refuse the
    file in a sentence a supervisor can act on, instead of failing with an internal error.
    """

    def __init__(self, values: Sequence[Any]) -> None:
        self.column = damaged_column(values)
        stored = dict(zip(CHANGE_COLUMNS, values, strict=True))
        self.seq = shown_value(stored["seq"])
        try:  # the id as the app shows it, when it is readable
            self.change_id = canonical_id(stored["change_id"])
        except (ValueError, TypeError):
            self.change_id = shown_value(stored["change_id"])
        self.value = shown_value(stored.get(self.column, ""))
        super().__init__(f"change seq {self.seq} (id {self.change_id}): bad {self.column}")

    def said(self, label: str, tail_en: str, tail_zh: str) -> tuple[str, str]:
        """The damage as a sentence naming ``label`` (a file, a database), in English and
        Chinese, ending with what the caller did about it."""
        return (
            f"{label} is damaged: its change at seq {self.seq} (id {self.change_id}) has a "
            f"damaged {self.column} column ({self.value}); {tail_en}",
            f"{label} 已损坏：其中序号 {self.seq} 的改动（编号 {self.change_id}）的 "
            f"{self.column} 列已损坏（{self.value}）；{tail_zh}",
        )


def read_changes(rows: Iterable[Sequence[Any]]) -> list[ChangeRow]:
    """``change`` rows (values in ``CHANGE_COLUMNS`` order, as the driver gives them) as the
    changes a central stores (``storable``); ``DamagedChange`` for the first damaged row.

    A file is read by every merge at full speed: a row is diagnosed only once it failed.
    ``fields`` and ``parents`` must be objects, else the fold fails later on them.
    """
    out: list[ChangeRow] = []
    for values in rows:
        try:
            c = change_from_values(*values)
            readable = type(c.fields) is dict and type(c.parents) is dict
        except (ValueError, TypeError):
            readable = False
        if not readable:
            raise DamagedChange(values)
        out.append(storable(c))
    return out


def _json_object(value: Any) -> None:
    if not isinstance(load_json(value), dict):
        raise ValueError("not a JSON object")


#: How each column of a change row is read, in ``CHANGE_COLUMNS`` order (the rest are text).
_COLUMN_CHECKS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("change_id", canonical_id),
    ("site_id", canonical_id),
    ("seq", int),
    ("hlc", int),
    ("entity_id", canonical_id),
    ("fields", _json_object),
    ("parents", _json_object),
)


def damaged_column(values: Sequence[Any]) -> str:
    """The first column of a change row (``CHANGE_COLUMNS`` order) that cannot be read."""
    stored = dict(zip(CHANGE_COLUMNS, values, strict=True))
    for name, check in _COLUMN_CHECKS:
        try:
            check(stored[name])
        except (ValueError, TypeError):
            return name
    return "row"


def shown_value(value: Any, width: int = 40) -> str:
    """A stored value as a message quotes it: its text, cut to ``width`` characters."""
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


#: The keys of ``change_to_params``: the columns a change row is written with.
CHANGE_NAMES = (*CHANGE_COLUMNS, "entity_type")
#: The keys of ``conflict_params``, in order.
CONFLICT_NAMES = (
    "entity_id",
    "field_key",
    "kind",
    "base_change_id",
    "head_change_ids",
    "provisional_change_id",
    "status",
    "resolved_by",
)


def change_to_params(c: ChangeRow) -> dict[str, Any]:
    return {
        "change_id": c.change_id,  # unique per row: caching its UUID would only evict
        "site_id": as_uuid(c.site_id),
        "seq": c.seq,
        "hlc": c.hlc,
        "entity_type": "building",
        "entity_id": as_uuid(c.entity_id),
        "op": c.op,
        "form_version": c.form_version,
        "fields": c.fields if c.fields_json is None else RawJSON(c.fields_json),
        "parents": c.parents,
        "author": c.author,
        "wall_time": c.wall_time,
    }


_KNOWN: dict[int, tuple[Form, frozenset[str]]] = {}


def _known_fields(form: Form | None) -> frozenset[str] | None:
    """The form's field ids, computed once per form object (state_row runs per building)."""
    if form is None:
        return None
    hit = _KNOWN.get(id(form))
    if hit is None or hit[0] is not form:
        hit = _KNOWN[id(form)] = (form, frozenset(form.fields))
    return hit[1]


def state_row(
    state: EntityState,
    form: Form | None,
    hint: RowHint | None,
    prior: Sequence[PriorEvaluation] = (),
) -> dict[str, Any]:
    """The ``building`` row for a folded building (same columns the write path maintains).

    The form is evaluated unless ``hint`` (the sender's row, same heads) or one of ``prior``
    (same answers) already holds the evaluation for these answers under this form version.
    """
    known = _known_fields(form)
    values = state.values
    # Set operations per head change rather than a Python step per field: this runs for
    # every field of every merged building.
    heads: dict[str, list[Any]] = {}
    others: set[str] = set()
    for change, keys in state.groups:
        kept = {k for k in keys if k[:1] != "_"} if known is None else keys & known
        if STATUS_KEY in keys:
            kept.add(STATUS_KEY)
        if len(kept) < len(keys):
            others |= keys - kept
        if kept:
            heads[change.change_id] = heads_group(change.hlc, kept, len(change.fields))
    heads_json = dump_json({cid: heads[cid] for cid in sorted(heads)})
    if known is None:
        answers = {k: v for k, v in values.items() if v is not None and k[:1] != "_"}
    else:
        answers = {k: v for k, v in values.items() if v is not None and k in known}
    extra: dict[str, Any] = {}
    if others:
        ordered = sorted(others)
        extra = {
            "values": {k: values[k] for k in ordered},
            "heads": {k: state.head[k].change_id for k in ordered},
        }
    if state.agreeing:
        extra[AGREEING_KEY] = state.agreeing
    status = str(state.values.get(STATUS_KEY) or "not_started")
    code = building_code(as_uuid(state.entity_id))
    version = form.version if form is not None else state.last.form_version
    reused = _known_evaluation(version, answers, heads_json, hint, prior)
    if reused is not None:
        derived = derived_columns(code, answers, status, _no_evaluation())
        derived |= {
            "completeness": reused.completeness,
            "errors": RawJSON(reused.errors_json),
            "error_count": reused.error_count,
        }
    elif form is not None:
        derived = derived_columns(code, answers, status, evaluate(form, answers))
    else:
        derived = derived_columns(code, answers, status, _no_evaluation()) | {"completeness": 0.0}
    assigned = state.values.get("_assigned_to")
    return {
        "id": as_uuid(state.entity_id),
        "code": code,
        "form_version": version,
        "answers": answers,
        "heads": RawJSON(heads_json),
        "extra": extra,
        "deleted": state.deleted,
        "conflict_count": state.open_conflicts,
        "assigned_to": None if assigned is None else str(assigned)[:80],
        "created_hlc": state.first.hlc,
        "updated_hlc": state.last.hlc,
        "updated_by": state.last.author,
        **derived,
    }


def _known_evaluation(
    version: str,
    answers: Mapping[str, Any],
    heads_json: str,
    hint: RowHint | None,
    prior: Sequence[PriorEvaluation],
) -> RowHint | PriorEvaluation | None:
    """An evaluation already computed for these answers under ``version``, if any."""
    if hint is not None and hint.form_version == version and same_heads(hint, heads_json):
        return hint
    candidates = [p for p in prior if p.form_version == version]
    key = answers_key(answers) if candidates else None
    return next((p for p in candidates if key is not None and p.answers_key == key), None)


def same_heads(hint: RowHint, heads_json: str) -> bool:
    """The sender's heads equal ours: as text (same encoder, same order), else as values."""
    return hint.heads_json == heads_json or load_json(hint.heads_json) == load_json(heads_json)


def _no_evaluation() -> Evaluation:
    """An empty Evaluation, for when the evaluation columns come from elsewhere."""
    return Evaluation(values={}, relevant=set())


_FIELD_AT = CONFLICT_NAMES.index("field_key")


def conflict_values(
    conflicts: Iterable[ConflictRow], convert: Callable[[Mapping[str, Any]], tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Driver-ready ``conflict`` rows (``convert``: ``bulk.row_converter`` for CONFLICT_NAMES).

    Two inspectors' edits of a whole building give it ~100 conflicts that differ only in the
    field: everything else is converted once per distinct set of ids (a tenth of the cost).
    """
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    out: list[tuple[Any, ...]] = []
    for r in conflicts:
        key = (
            r.entity_id,
            r.kind,
            r.base_change_id,
            r.head_change_ids,
            r.provisional_change_id,
            r.status,
            r.resolved_by,
        )
        row = shared.get(key)
        if row is None:
            row = shared[key] = convert(conflict_params(r))
        out.append((*row[:_FIELD_AT], r.field_key, *row[_FIELD_AT + 1 :]))
    return out


def conflict_params(row: ConflictRow) -> dict[str, Any]:
    return {
        "entity_id": as_uuid(row.entity_id),
        "field_key": row.field_key,
        "kind": row.kind,
        "base_change_id": None if row.base_change_id is None else as_uuid(row.base_change_id),
        "head_change_ids": list(row.head_change_ids),
        "provisional_change_id": (
            None if row.provisional_change_id is None else as_uuid(row.provisional_change_id)
        ),
        "status": row.status,
        "resolved_by": None if row.resolved_by is None else as_uuid(row.resolved_by),
    }
