"""The write path: every answer, status change and new building goes through ``SurveyWriter``.

One save is one transaction that validates against the form, appends exactly one change row
(with, per field, the parent change the inspector saw) and updates the building's state row.
If anything fails, nothing is written.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import NotFound, SurveyorError, ValidationFailed
from surveyor.forms.display import status_code, status_label, statuses_text
from surveyor.forms.model import Form, Localized
from surveyor.forms.record import (
    AnswerError,
    Evaluation,
    coerce_answer,
    evaluate,
    hidden_by,
    kept_as_entered,
    not_asked,
    start_defaults,
)
from surveyor.i18n import error_from, t_in
from surveyor.store import hlc, models
from surveyor.store.bulk import load_json
from surveyor.store.db import Store, database_role, write_tx
from surveyor.store.heads import (
    HeadsDoc,
    decode_heads,
    pack_heads,
    packed_changes,
    set_heads,
    unpack_heads,
)
from surveyor.store.ids import building_code, normalize_code, uuid7
from surveyor.store.log import (
    CHANGE,
    ClockState,
    append_change,
    change_fields,
    load_clock,
    store_clock,
)

# Reserved change fields (underscore keys never clash with form ids) are the fold's.
from surveyor.sync.fold import AGREEING_KEY, ALIAS_KEY, STATUS_KEY
from surveyor.text import colon, normalize_text, text_or_none

BUILDING = models.BUILDING_TABLE
# Built once: constructing and caching a fresh UPDATE per save cost more than executing it.
_UPDATE_STATE = (
    sa.update(BUILDING)
    .where(BUILDING.c.id == sa.bindparam("b_id"))
    .values(
        {
            col: sa.bindparam(col)
            for col in (
                "answers",
                "heads",
                "form_version",
                "updated_hlc",
                "updated_by",
                "subdistrict",
                "community",
                "compound_name",
                "building_no",
                "address",
                "address_norm",
                "building_sort",
                "search_text",
                "place_numbers",
                "status",
                "completeness",
                "errors",
                "error_count",
            )
        }
    )
)
_SELECT_STATE = sa.select(BUILDING).where(BUILDING.c.id == sa.bindparam("b_id"))

#: What a caller showed of a field: its head change id, several (a conflict), or None.
Seen = str | uuid.UUID | Sequence[str | uuid.UUID] | None


def _parent_ref(seen: Seen) -> str | list[str] | None:
    """A ``seen`` entry as a change's ``parents`` value: one id, sorted ids, or None."""
    if seen is None:
        return None
    if isinstance(seen, (str, uuid.UUID)):
        return str(seen)
    ids = sorted({str(s) for s in seen})
    if not ids:
        return None
    return ids[0] if len(ids) == 1 else ids


STATUSES = ("not_started", "draft", "complete", "approved")
#: Fields that come from the building register; answering only these does not start a survey.
REGISTER_FIELDS = (
    "district",
    "subdistrict",
    "community",
    "compound_name",
    "building_no",
    "address",
)


_EN_WORDS = {
    "lead": "cannot mark complete; ",
    "unanswered": "unanswered: ",
    "invalid": "invalid: ",
    "and": ", ",
    "then": "; ",
    "field": "{label} ({field})",
    "says": ": ",
}
_ZH_WORDS = {
    "lead": "无法标记为已完成。",
    "unanswered": "未填写：",
    "invalid": "有误：",
    "and": "、",
    "then": "；",
    "field": "{label}（{field}）",
    "says": "：",
}


def _incomplete_text(
    missing: list[str], errors: dict[str, str], labels: dict[str, str], words: dict[str, str]
) -> str:
    """Why a record cannot be completed, in the language of ``words``."""

    def name(f: str) -> str:
        return words["field"].format(label=labels[f], field=f)

    parts = []
    if missing:
        parts.append(words["unanswered"] + words["and"].join(name(f) for f in missing))
    if errors:
        listed = (name(f) + words["says"] + m for f, m in errors.items())
        parts.append(words["invalid"] + words["and"].join(listed))
    return words["lead"] + words["then"].join(parts)


class IncompleteRecord(ValidationFailed):
    """Completion refused: ``missing`` and ``errors`` list the fields to fix, in form order."""

    def __init__(self, missing: list[str], errors: dict[str, str], labels: dict[str, str]) -> None:
        self.missing = missing
        self.labels = labels
        combined = {f: "required" for f in missing} | errors
        super().__init__(combined)
        self.message = _incomplete_text(missing, errors, labels, _EN_WORDS)
        self.args = (self.message,)
        self.zh = _incomplete_text(missing, errors, labels, _ZH_WORDS)


@dataclass
class BuildingState:
    """A building row as the services see it (plain data, never bound to a session)."""

    id: uuid.UUID
    code: str
    status: str
    answers: dict[str, Any]
    heads: HeadsDoc
    errors: dict[str, dict[str, str]]
    form_version: str
    completeness: float
    deleted: bool
    conflict_count: int
    updated_by: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: How many fields each change stored packed in ``heads`` set (``store.heads``).
    change_sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(
        cls, row: Mapping[Any, Any], fields_of: Mapping[str, Iterable[str]]
    ) -> BuildingState:
        """A state from its row; ``fields_of`` holds the fields set by each change whose
        names its stored heads leave to the log (``packed_changes``)."""
        stored = dict(row["heads"])
        heads = unpack_heads(stored, fields_of)
        return cls(
            id=row["id"],
            code=row["code"],
            status=row["status"],
            answers=dict(row["answers"]),
            heads=heads,
            change_sizes={cid: len(heads[cid][1]) for cid in packed_changes(stored)},
            errors=dict(row["errors"]),
            form_version=row["form_version"],
            completeness=row["completeness"],
            deleted=row["deleted"],
            conflict_count=row["conflict_count"],
            updated_by=row["updated_by"],
            extra=dict(row["extra"]),
        )

    def heads_after(self, fields: Collection[str], change_id: str, stamp: int) -> HeadsDoc:
        """The stored heads once ``change_id`` has set exactly ``fields``."""
        heads = set_heads(self.heads, list(fields), change_id, stamp)
        return pack_heads(heads, self.change_sizes | {change_id: len(fields)})

    @property
    def field_change(self) -> dict[str, str]:
        """The head change id of each field (decoded from ``heads``)."""
        return decode_heads(self.heads)[0]

    @property
    def field_hlc(self) -> dict[str, int]:
        """The HLC of each field's head change."""
        return decode_heads(self.heads)[1]


@dataclass(frozen=True)
class SaveResult:
    building_id: uuid.UUID
    code: str
    change_id: uuid.UUID | None  # None when the save changed nothing
    status: str
    errors: dict[str, Localized]
    completeness: float
    previous_status: str = "not_started"
    #: For each field passed to ``save``: the change its shown value now descends from (the
    #: new change, or the head it already had when its value did not change). A caller that
    #: keeps what it showed (``seen``) takes these after each save.
    heads: dict[str, str | None] = field(default_factory=dict)
    #: Fields of this save that are in an open conflict after it (the ``seen`` head was not
    #: the current one, and the two values differ): kept for the supervisor.
    conflicts: tuple[str, ...] = ()
    #: Answers this save started the survey with (the form's defaults: date, inspector).
    started: dict[str, Any] = field(default_factory=dict)
    #: Answers of this save the form does not ask with the record's other answers (kept, not
    #: counted: typed ahead of the answer that asks them), each with the answers that hide
    #: it and their values (None: not answered yet), as ``forms.record.hidden_by`` finds them.
    kept_not_asked: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The record's warnings after the save (``forms.record.evaluate``: an answer unlikely but
    #: allowed, 户均建筑面积 outside 25–250 m²): only the app showed them, ``set`` said 已保存.
    warnings: dict[str, Localized] = field(default_factory=dict)

    @property
    def approval_withdrawn(self) -> bool:
        """The save changed an approved record, so a supervisor must approve it again."""
        return self.previous_status == "approved" and self.status != "approved"

    @property
    def back_to_draft(self) -> bool:
        """A complete (or approved) record lost a required answer: it is a draft again."""
        return self.previous_status in ("complete", "approved") and self.status == "draft"


def normalize_address(text: str | None) -> str | None:
    """A comparable address: NFKC, lower case, no spaces or punctuation (duplicate detection)."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\-_.,，。、·()（）#]+", "", folded) or None


#: What follows a building's number in Chinese addresses and registers: 1号楼, 1栋, 1#.
NUMBER_SUFFIXES = ("号楼", "号", "栋", "幢", "座", "楼", "#")
_NUMBER_SUFFIX = re.compile("(" + "|".join(map(re.escape, NUMBER_SUFFIXES)) + ")$")


def building_number_key(text: str | None) -> str:
    """A comparable 楼号: NFKC, lower case, no spaces, no 第 before it, no 号楼/栋/幢/座 after
    it and no leading zeros, so 1号楼, "1栋", "01" and 第1栋 are the same building (a
    register's 01 doubled the 1号楼 already there); "" for none."""
    if not text:
        return ""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())
    bare = _NUMBER_SUFFIX.sub("", folded.removeprefix("第")) or folded
    return re.sub(r"^0+(?=\d)", "", bare)


def number_sort(number: str | None) -> str:
    """The ``building_sort`` of a 楼号: the natural sort key of its ``building_number_key``, so
    every spelling of one 楼号 (1号楼, 1栋, 01, 第1栋, "1 号楼") has the same one and SQL finds
    them all by one value through the list's index, and the list orders them together.

    Sorting the number as written, a stored 第1栋 was not found by the 1号楼 typed on site
    (only a few spellings were looked up): the new-building check and the search missed it."""
    return natural_sort_key(building_number_key(number))


def may_be_one_building(number: str, other: str) -> bool:
    """Whether two buildings at one address may be the same one, by their ``building_number_key``:
    unless both have a 楼号 and they differ. Old compounds give one 门牌 to every building, so
    1号楼 and 2号楼 at 华苑路5号 were flagged as duplicates of each other."""
    return not number or not other or number == other


#: Digit runs are padded to this width in sort keys ("2号楼" before "10号楼").
SORT_DIGITS = 8


def natural_sort_key(text: str | None) -> str:
    """A key that orders building numbers as people read them: 1号楼, 2号楼, 10号楼.

    Text columns compare character by character, so "10号楼" sorts before "2号楼"; padding
    every run of digits (after NFKC, so full-width digits count) fixes that in SQL order.
    """
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\d+", lambda m: m.group().zfill(SORT_DIGITS), folded)[:80]


#: Longest ``place_numbers`` value stored (its column's width).
PLACE_NUMBERS_WIDTH = 200


def place_numbers(*texts: str | None) -> str:
    """The whole numbers of a building's 门牌 (address) and compound name, each between spaces
    and without leading zeros (" 4 12 "), so the search finds 4 in 宜宾道4号 by
    ``LIKE '% 4 %'`` and not in 宜宾道14号, nor in a code (``queries._number_search``): "4"
    found 14号楼, 24号 and NK-WK4FA… as substrings. "" for none."""
    numbers: list[str] = []
    for text in texts:
        for run in re.findall(r"[0-9]+", unicodedata.normalize("NFKC", text or "")):
            number = run.lstrip("0") or "0"
            if number not in numbers:
                numbers.append(number)
    joined = ""
    for number in numbers:  # whole numbers only, should the column ever be too narrow
        if len(joined) + len(number) + 2 > PLACE_NUMBERS_WIDTH:
            break
        joined += f" {number}"
    return f"{joined} " if joined else ""


def _localized(errors: Mapping[str, Localized], lang: str) -> dict[str, str]:
    return {f: m.get(lang) for f, m in errors.items()}


def place_columns(answers: Mapping[str, Any]) -> dict[str, str | None]:
    """The state row's register columns and the two derived for finding a building again
    (``address_norm``, ``building_sort``): written by every save, and what ``SameBuildings``
    indexes a building just created by, so it finds it as the SQL of ``same_building`` would."""
    register = {k: text_or_none(answers.get(k)) for k in REGISTER_FIELDS if k != "district"}
    return {
        **register,
        "address_norm": normalize_address(register["address"]),
        "building_sort": number_sort(register["building_no"]),
    }


def derived_columns(
    code: str, answers: Mapping[str, Any], status: str, ev: Evaluation
) -> dict[str, Any]:
    """The state row's indexed columns, derived from answers so they never drift.

    Shared by local saves (SurveyWriter) and sync's re-fold, so both write the same row shape.
    """

    place = place_columns(answers)
    search = " ".join(
        v
        for v in (
            code,
            place["address"],
            place["compound_name"],
            place["building_no"],
            place["community"],
        )
        if v
    )
    return {
        **place,
        "search_text": normalize_text(search).lower()[:400],
        "place_numbers": place_numbers(place["address"], place["compound_name"]),
        "status": status,
        "completeness": round(ev.completeness, 4),
        "errors": {f: m.model_dump() for f, m in ev.errors.items()},
        "error_count": len(ev.errors),
    }


def resolve_building_id(conn: Connection, ref: str) -> uuid.UUID:
    """A building named by its code (typed or scanned) or its UUID."""
    code = normalize_code(ref)
    if code is not None:
        found = conn.execute(sa.select(BUILDING.c.id).where(BUILDING.c.code == code)).scalar()
        if found is not None:
            return uuid.UUID(str(found))
        raise NotFound(f"no building with code {code}", zh=f"没有编号为 {code} 的楼栋")
    try:
        bid = uuid.UUID(ref.strip())
    except ValueError:
        raise NotFound(
            f"'{ref}' is neither a building code (NK-XXXXX-XXXXX) nor an id",
            zh=f"「{ref}」既不是楼栋编号（NK-XXXXX-XXXXX），也不是楼栋标识",
        ) from None
    if conn.execute(sa.select(BUILDING.c.id).where(BUILDING.c.id == bid)).first() is None:
        raise NotFound(f"no building with id {bid}", zh=f"没有标识为 {bid} 的楼栋")
    return bid


def load_state(conn: Connection, building_id: uuid.UUID, *, lock: bool = False) -> BuildingState:
    query = _SELECT_STATE
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query, {"b_id": building_id}).mappings().first()
    if row is None:
        raise NotFound(f"no building with id {building_id}", zh=f"没有标识为 {building_id} 的楼栋")
    packed = packed_changes(row["heads"])
    fields_of = change_fields(conn, packed)
    if missing := [cid for cid in packed if cid not in fields_of]:
        raise SurveyorError(
            f"building {row['code']} names change {missing[0]}, which its log lacks: the "
            "database is damaged (see `surveyor doctor`)",
            zh=f"楼栋 {row['code']} 引用的变更 {missing[0]} 不在日志中：数据库已损坏"
            "（请运行 surveyor doctor）",
        )
    return BuildingState.from_row(row, fields_of)


def unknown_field_error(form: Form, name: str, option: str = "") -> SurveyorError:
    """A field name that is no field's (as typed: an id or a label), with the fields it was
    likely meant for; ``option`` names the option it came with (``--where``). The one
    sentence for ``set``, ``--where`` and ``conflicts``, so their hints cannot drift apart."""
    near = form.similar_fields(name)

    def said(lang: str) -> str:
        prefix = f"{option}{colon(lang)}" if option else ""
        if not near:
            return t_in(lang, "set.no_field", option=prefix, name=name)
        quoted = "、".join(f"「{n}」" for n in near) if lang == "zh" else _either(near)
        return t_in(lang, "set.no_field_near", option=prefix, name=name, near=quoted)

    return SurveyorError(said("en"), zh=said("zh"))


def _either(names: list[str]) -> str:
    """'a', 'a' or 'b', 'a', 'b' or 'c'."""
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class SurveyWriter:
    """All writes of one transaction. Use ``writer(store, form, author)`` to get one.

    Bulk jobs (register import, the sample generator) make many saves through one writer;
    the TUI and ``surveyor set`` make one. Either way each save appends exactly one change.
    """

    def __init__(
        self,
        conn: Connection,
        store: Store,
        form: Form,
        author: str,
        *,
        lang: str = "en",
        today: date | None = None,
        clock: Callable[[], int] = hlc.now_ms,
        clock_state: ClockState | None = None,
    ) -> None:
        """``clock_state``: the site clock another writer of the same transaction holds
        (sync's ``LocalWriter``), so both number their changes from one counter."""
        self.conn = conn
        self.store = store
        self.form = form
        self.author = author
        self.lang = lang
        self.today = today
        self.clock: ClockState = clock_state or load_clock(conn, clock)
        #: Buildings whose existing answers this writer changed (not the ones it created).
        self.edited: set[uuid.UUID] = set()
        #: The normalised addresses edited buildings had before this writer changed them.
        self.left_addresses: set[str] = set()
        #: Buildings this writer created, with their normalised address (None: none given).
        self.created: dict[uuid.UUID, str | None] = {}

    def close(self) -> None:
        store_clock(self.conn, self.clock)
        if self.store.role != "central":
            return
        if self.edited:
            # A central holds every inspector's edits, so a save there can start a conflict
            # (a save on a conflicted field adds a head; a building whose state row predates
            # ``extra.agreeing`` names one of two agreeing heads) that its conflict rows must
            # show at once; laptops catch up at their next pull. Imported here: sync builds
            # on this module.
            from surveyor.sync.apply import refold

            # A corrected address: buildings still at the old one may have lost their
            # duplicate, so their flags are re-checked too (the state rows already hold the
            # new address, so the re-fold alone would not look there).
            refold(
                self.conn,
                sorted(str(i) for i in self.edited),
                self.form,
                left_addresses=self.left_addresses,
            )
        if self.created:
            self._flag_created_duplicates()

    def _flag_created_duplicates(self) -> None:
        """Flag the buildings created on a central that share an address, as a merge would.

        A merge flags a new building at an address already held at once; a building created
        on the central itself (``register import``, the review app) was left unflagged until a
        later merge touched its address. Only the duplicate flags are written: a new
        building's state row is already what a re-fold of its one change gives."""
        from surveyor.sync.apply import refresh_duplicates  # sync builds on this module

        addresses = {a for a in self.created.values() if a is not None}
        if not addresses:
            return
        # A building saved after its creation was re-folded above and may hold a flag.
        fresh = {str(i) for i in self.created if i not in self.edited}
        refresh_duplicates(
            self.conn, sorted(str(i) for i in self.created), addresses, unflagged=fresh
        )

    # -- creating -------------------------------------------------------------------------
    def create(
        self,
        raw_answers: Mapping[str, Any],
        *,
        building_id: uuid.UUID | None = None,
        check_same: bool = False,
    ) -> SaveResult:
        """Add a building (from the register or found on site); its first change has no parents.

        ``check_same``: refuse (``SameBuildingExists``) if a live building of this database
        already stands there (``same_building``), checked in this write's own transaction."""
        bid = building_id or uuid7()
        code = building_code(bid)
        fields = self._coerce(raw_answers, draft=False)
        answers = {k: v for k, v in fields.items() if v is not None}
        ev = evaluate(self.form, answers, today=self.today)
        bad = {f: m for f, m in ev.errors.items() if f in fields}
        if bad:
            raise ValidationFailed(_localized(bad, self.lang))
        if check_same and (same := same_building(self.conn, answers)) is not None:
            raise SameBuildingExists(same)
        status = "draft" if any(f not in REGISTER_FIELDS for f in answers) else "not_started"
        if status != "not_started":
            fields[STATUS_KEY] = status
        change = append_change(
            self.conn,
            self.clock,
            site_id=self.store.site_id,
            entity_id=bid,
            op="upsert",
            fields=fields,
            parents={},
            author=self.author,
            form_version=self.form.version,
        )
        cid = str(change.change_id)
        row = {
            "id": bid,
            "code": code,
            "form_version": self.form.version,
            "answers": answers,
            "heads": pack_heads(set_heads({}, list(fields), cid, change.hlc), {cid: len(fields)}),
            "extra": {},
            "deleted": False,
            "conflict_count": 0,
            "created_hlc": change.hlc,
            "updated_hlc": change.hlc,
            "updated_by": self.author,
            **derived_columns(code, answers, status, ev),
        }
        try:
            with self.conn.begin_nested():
                self.conn.execute(sa.insert(BUILDING), [row])
        except sa.exc.IntegrityError:
            raise SurveyorError(
                f"building code {code} is already taken; try again",
                zh=f"楼栋编号 {code} 已被占用，请重试",
            ) from None
        self.created[bid] = row["address_norm"]
        return SaveResult(
            bid, code, change.change_id, status, ev.errors, ev.completeness, warnings=ev.warnings
        )

    # -- answering --------------------------------------------------------------------------
    def save(
        self,
        building_id: uuid.UUID,
        raw_answers: Mapping[str, Any],
        *,
        draft: bool = False,
        seen: Mapping[str, Seen] | None = None,
    ) -> SaveResult:
        """Save answers. Invalid values are refused unless ``draft``, which keeps them marked.

        ``seen`` maps a field to the head change(s) whose value the caller showed (None: it
        showed the field unanswered). Without it, or for a field it leaves out, the parent is
        the head at save time: right for a caller that reads and writes at once (``set``).
        A screen that loaded the building earlier passes what it loaded: when the head moved
        underneath (a sync pulled a colleague's edit), the save is concurrent with that edit,
        and the building is re-folded so it shows the conflict, never a silent overwrite.
        """
        state = load_state(self.conn, building_id, lock=True)
        if state.deleted:
            raise deleted_error(self.conn, state)
        fields = self._coerce(raw_answers, draft=draft)
        started = self._start_defaults(state, fields)
        fields = {**started, **fields}
        answers = dict(state.answers)
        for fid, value in fields.items():
            if value is None:
                answers.pop(fid, None)
            else:
                answers[fid] = value
        ev = evaluate(self.form, answers, today=self.today)
        bad = {f: m for f, m in ev.errors.items() if f in fields}
        if bad and not draft:
            raise ValidationFailed(_localized(bad, self.lang))
        fields = {f: v for f, v in fields.items() if state.answers.get(f) != v}
        status = self._status_after_edit(state, fields, ev)
        if status != state.status:
            fields[STATUS_KEY] = status
        result = self._commit(state, fields, answers, status, ev, seen=seen)
        previous = state.field_change
        new = str(result.change_id) if result.change_id is not None else None
        heads = {f: new if f in fields else previous.get(f) for f in [*raw_answers, *started]}
        hidden = {
            fid: {h: answers.get(h) for h in hidden_by(self.form, ev, fid)}
            for fid in not_asked(self.form, answers, ev)
            if fid in raw_answers
        }
        return replace(result, heads=heads, started=started, kept_not_asked=hidden)

    def _start_defaults(self, state: BuildingState, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The form's defaults (survey date, inspector) when this save starts the survey: the
        first answer beyond the register's on a building not started."""
        if state.status != "not_started":
            return {}
        if all(f in REGISTER_FIELDS or v is None for f, v in fields.items()):
            return {}
        answered = {**state.answers, **fields}
        today = self.today or date.today()
        return start_defaults(self.form, answered, today=today, inspector=self.author)

    def set_status(self, building_id: uuid.UUID, status: str) -> SaveResult:
        """Mark complete (refused while answers are missing or invalid), approve, or reopen.

        A deleted building is refused as ``save`` refuses it: a pull may delete the building
        a screen still shows, and a status change written after the delete races it in the
        log (the fold shows a delete_vs_edit conflict the state row does not)."""
        settable = ("draft", "complete", "approved")
        typed, status = status, status_code(status) or status
        if status not in settable:
            raise SurveyorError(
                f"unknown status '{typed}'; use {statuses_text('en', settable)}",
                zh=f"未知状态「{typed}」；请用其中之一：{statuses_text('zh', settable)}",
            )
        state = load_state(self.conn, building_id, lock=True)
        if state.deleted:
            raise deleted_error(self.conn, state)
        ev = evaluate(self.form, state.answers, today=self.today)
        if status == "approved" and state.status != "complete":
            raise SurveyorError(
                "only a complete record can be approved "
                f"({state.code} is {status_label(state.status, 'en')})",
                zh=f"只有已完成的记录才能审核"
                f"（{state.code} 当前为{status_label(state.status, 'zh')}）",
            )
        if status in ("complete", "approved") and not ev.can_complete:
            labels = {f: self.form.field(f).defn.label.get(self.lang) for f in self.form.fields}
            errors = {f: ev.errors[f].get(self.lang) for f in self.form.fields if f in ev.errors}
            raise IncompleteRecord(ev.missing, errors, labels)
        fields: dict[str, Any] = {} if status == state.status else {STATUS_KEY: status}
        if status == "approved" and fields:
            if state.conflict_count:
                raise error_from(
                    "status.approve_conflicted", code=state.code, count=state.conflict_count
                )
            return self._commit(
                state, fields, state.answers, status, ev, also_saw=self._every_head(state.id)
            )
        return self._commit(state, fields, state.answers, status, ev)

    def _every_head(self, building_id: uuid.UUID) -> dict[str, Seen]:
        """Every field's heads in the log, which an approval names: an edit it did not see
        (a laptop's, merged later) then withdraws it in the fold, as it does on the laptop."""
        from surveyor.sync.apply import load_entity_changes  # sync builds on this module
        from surveyor.sync.fold import field_heads

        eid = str(building_id)
        return dict(field_heads(load_entity_changes(self.conn, [eid]).get(eid, [])))

    # -- internals --------------------------------------------------------------------------
    def _coerce(self, raw_answers: Mapping[str, Any], *, draft: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        problems: dict[str, Localized] = {}
        for fid, raw in raw_answers.items():
            if fid not in self.form.fields:
                raise unknown_field_error(self.form, fid)
            try:
                fields[fid] = coerce_answer(self.form.field(fid), raw)
            except AnswerError as exc:
                if not draft or self.form.field(fid).type == "calculate":
                    problems[fid] = exc.message
                else:
                    fields[fid] = kept_as_entered(self.form.field(fid), raw)
        if problems:
            raise ValidationFailed(_localized(problems, self.lang))
        return fields

    @staticmethod
    def _status_after_edit(state: BuildingState, fields: Mapping[str, Any], ev: Evaluation) -> str:
        if not fields:
            return state.status
        if state.status == "not_started":
            return "draft" if any(f not in REGISTER_FIELDS for f in fields) else "not_started"
        if state.status in ("complete", "approved"):
            # An edit withdraws an approval; an edit that breaks the record reopens it.
            return "complete" if ev.can_complete else "draft"
        return state.status

    def _commit(
        self,
        state: BuildingState,
        fields: dict[str, Any],
        answers: dict[str, Any],
        status: str,
        ev: Evaluation,
        *,
        seen: Mapping[str, Seen] | None = None,
        also_saw: Mapping[str, Seen] | None = None,
    ) -> SaveResult:
        """Append one change of ``fields`` and write the state row. ``seen``: what the caller
        showed of the saved fields; ``also_saw``: heads of other fields it names as parents."""
        if not fields:
            return SaveResult(
                state.id,
                state.code,
                None,
                state.status,
                ev.errors,
                ev.completeness,
                state.status,
                warnings=ev.warnings,
            )
        self.edited.add(state.id)
        if (was := normalize_address(text_or_none(state.answers.get("address")))) is not None:
            self.left_addresses.add(was)
        previous = state.field_change
        # A field without an entry had no parent (its first edit): nulls are not stored.
        parents: dict[str, Any] = {f: previous[f] for f in fields if f in previous}
        for fid, heads in (also_saw or {}).items():
            if fid not in fields and (ref := _parent_ref(heads)) is not None:
                parents[fid] = ref
        agreeing: Mapping[str, list[str]] = state.extra.get(AGREEING_KEY) or {}
        stale = False
        for fid in fields.keys() & (seen or {}).keys():
            saw = _parent_ref((seen or {})[fid])
            if saw != previous.get(fid):
                stale = True  # the head moved since the caller loaded it: concurrent edits
                if saw is None:
                    parents.pop(fid, None)
                else:
                    parents[fid] = saw
        for fid in fields.keys() & agreeing.keys():
            saw = parents.get(fid)
            if isinstance(saw, str) and saw in agreeing[fid]:  # any of them: the same value
                # Two inspectors entered the same value; whoever changes it saw both. Naming
                # only the shown one left the other a head: a false conflict of a value its
                # own inspector had replaced, which a supervisor might pick.
                parents[fid] = agreeing[fid]
        change = append_change(
            self.conn,
            self.clock,
            site_id=self.store.site_id,
            entity_id=state.id,
            op="upsert",
            fields=fields,
            parents=parents,
            author=self.author,
            form_version=self.form.version,
        )
        cid = str(change.change_id)
        if not agreeing.keys().isdisjoint(fields):
            self._forget_agreeing(state, fields)
        self.conn.execute(
            _UPDATE_STATE,
            {
                "b_id": state.id,
                "answers": answers,
                "heads": state.heads_after(fields, cid, change.hlc),
                "form_version": self.form.version,
                "updated_hlc": change.hlc,
                "updated_by": self.author,
                **derived_columns(state.code, answers, status, ev),
            },
        )
        conflicts: tuple[str, ...] = ()
        # A conflicted building is re-folded too: a save on a conflicted field replaces one
        # of its heads, which the conflict row must list (rare, so exact at once).
        if stale or state.conflict_count:
            conflicts = self._fold_concurrent(state.id, fields)
            status = str(
                self.conn.execute(
                    sa.select(BUILDING.c.status).where(BUILDING.c.id == state.id)
                ).scalar_one()
            )
        return SaveResult(
            state.id,
            state.code,
            change.change_id,
            status,
            ev.errors,
            ev.completeness,
            state.status,
            conflicts=conflicts,
            warnings=ev.warnings,
        )

    def _forget_agreeing(self, state: BuildingState, fields: Collection[str]) -> None:
        """The saved fields have one head now: their agreeing heads leave the state row, as a
        fold of the log would leave them."""
        extra = dict(state.extra)
        left = {f: ids for f, ids in extra.pop(AGREEING_KEY).items() if f not in fields}
        if left:
            extra[AGREEING_KEY] = left
        self.conn.execute(sa.update(BUILDING).where(BUILDING.c.id == state.id).values(extra=extra))

    def _fold_concurrent(self, building_id: uuid.UUID, fields: Collection[str]) -> tuple[str, ...]:
        """Re-fold a building a save made concurrent with an edit it did not see, as sync
        does (state row from the log: provisional values, heads, conflict rows); the fields of
        ``fields`` now in an open conflict."""
        from surveyor.sync.apply import refold  # sync builds on this module

        refold(self.conn, [str(building_id)], self.form)
        conflict = models.CONFLICT_TABLE
        rows = self.conn.execute(
            sa.select(conflict.c.field_key).where(
                conflict.c.entity_id == building_id, conflict.c.status == "open"
            )
        ).scalars()
        return tuple(sorted(set(rows) & set(fields)))


@contextmanager
def writer(
    store: Store,
    form: Form,
    author: str,
    *,
    lang: str = "en",
    today: date | None = None,
    clock: Callable[[], int] = hlc.now_ms,
) -> Iterator[SurveyWriter]:
    """A writer inside one transaction: everything it did commits together, or nothing does."""
    with write_tx(store.engine) as conn:
        w = SurveyWriter(conn, store, form, author, lang=lang, today=today, clock=clock)
        yield w
        w.close()


def save_answers(
    store: Store,
    form: Form,
    ref: str | uuid.UUID,
    answers: Mapping[str, Any],
    *,
    author: str,
    draft: bool = False,
    lang: str = "en",
    clock: Callable[[], int] = hlc.now_ms,
    seen: Mapping[str, Seen] | None = None,
) -> SaveResult:
    """Save one building's answers in its own transaction (the TUI's autosave and ``set``).

    ``seen``: the heads the caller showed (``SurveyWriter.save``); the TUI passes them."""
    with writer(store, form, author, lang=lang, clock=clock) as w:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(w.conn, ref)
        return w.save(bid, answers, draft=draft, seen=seen)


def approves_here(store: Store) -> bool:
    """Whether this database may approve a building: only a central, the supervisor's. An
    inspector's laptop approving its own work (``surveyor status … approved`` after an edit
    withdrew the approval) synced up and counted as the supervisor's review."""
    return store.role == "central"


def set_status(
    store: Store, form: Form, ref: str | uuid.UUID, status: str, *, author: str, lang: str = "en"
) -> SaveResult:
    """Mark a building complete, draft or (on a central only: ``approves_here``) approved:
    the TUI's F9/F7 and ``surveyor status``. A laptop's approval is refused, nothing written."""
    with writer(store, form, author, lang=lang) as w:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(w.conn, ref)
        if status_code(status) == "approved" and not approves_here(store):
            raise error_from("status.approve_on_laptop", code=building_code(bid))
        return w.set_status(bid, status)


def create_building(
    store: Store,
    form: Form,
    answers: Mapping[str, Any],
    *,
    author: str,
    lang: str = "en",
    check_same: bool = False,
) -> SaveResult:
    """Add one building. ``check_same``: refuse with ``SameBuildingExists`` if a live building
    here has the same address or 小区 and 楼号 (the TUI asks first; "add anyway" passes False)."""
    with writer(store, form, author, lang=lang) as w:
        return w.create(answers, check_same=check_same)


@dataclass(frozen=True)
class SameBuilding:
    """A live building a new one would repeat: same normalised address, or same 小区 and 楼号."""

    id: uuid.UUID
    code: str
    compound_name: str | None
    building_no: str | None
    address: str | None
    same_address: bool

    @property
    def place(self) -> str:
        """小区 and 楼号 as the list shows them ("新苑里 1号楼")."""
        return " ".join(p for p in (self.compound_name, self.building_no) if p) or self.code


class SameBuildingExists(SurveyorError):
    """``create(check_same=True)`` refused: ``existing`` already stands there."""

    def __init__(self, existing: SameBuilding) -> None:
        said = error_from(
            "survey.same_building",
            code=existing.code,
            place=existing.place,
            address=existing.address or "",
        )
        super().__init__(said.message, zh=said.zh)
        self.existing = existing


#: The columns ``same_building`` reads of a candidate building.
_PLACE_COLUMNS = (
    BUILDING.c.id,
    BUILDING.c.code,
    BUILDING.c.compound_name,
    BUILDING.c.building_no,
    BUILDING.c.address,
    BUILDING.c.address_norm,
    BUILDING.c.building_sort,
)


@dataclass(frozen=True)
class _Placed:
    """A live building as ``same_building`` compares it (``_PLACE_COLUMNS``)."""

    id: uuid.UUID
    code: str
    compound_name: str | None
    building_no: str | None
    address: str | None
    address_norm: str | None
    building_sort: str


@dataclass(frozen=True)
class _PlaceAsked:
    """What ``same_building`` looks for: the normalised address, and the 小区 with the
    ``building_sort`` of the 楼号, the same for all its spellings (``number_sort``)."""

    address: str | None
    compound: str | None
    number: str | None
    sort: str

    @classmethod
    def of(cls, answers: Mapping[str, Any]) -> _PlaceAsked:
        number = text_or_none(answers.get("building_no"))
        return cls(
            normalize_address(text_or_none(answers.get("address"))),
            text_or_none(answers.get("compound_name")),
            number,
            number_sort(number),
        )

    @property
    def by_compound(self) -> bool:
        """Whether a 小区 and a 楼号 are given to match by (else the address alone)."""
        return self.compound is not None and bool(self.sort)

    def first_same(self, candidates: Iterable[_Placed]) -> SameBuilding | None:
        """The building of ``candidates`` (those at the address or of the 小区 and 楼号) that
        is this one: at the address first, then by code; one of them only by the address
        whose 楼号 differs is another building of a compound sharing one 门牌."""
        key = building_number_key(self.number)
        unique = {c.id: c for c in candidates}.values()  # one may match both ways
        for c in sorted(unique, key=lambda c: (not self.at_address(c), c.code)):
            same_address = self.at_address(c)
            if same_address and not may_be_one_building(key, building_number_key(c.building_no)):
                continue
            return SameBuilding(
                c.id, c.code, c.compound_name, c.building_no, c.address, same_address
            )
        return None

    def at_address(self, candidate: _Placed) -> bool:
        """Whether ``candidate`` has the normalised address asked for."""
        return self.address is not None and candidate.address_norm == self.address


def _placed(row: Any) -> _Placed:
    """A ``_PLACE_COLUMNS`` row as a ``_Placed``."""
    return _Placed(uuid.UUID(str(row.id)), *row[1:])


def same_building(conn: Connection, answers: Mapping[str, Any]) -> SameBuilding | None:
    """The live building of this database that ``answers`` (coerced, as saved) would repeat:
    the same normalised address (what a central flags as a duplicate at the merge), else the
    same 小区 and 楼号 (楼号 by ``building_number_key``, as at one address: 13, 13号楼 and 13栋
    are one building). Any 街道: a wrong 街道 picked on site should not hide the building.
    None if there is none. For many rows in one write, ``SameBuildings`` asks the same."""
    asked = _PlaceAsked.of(answers)
    matches = []
    if asked.address is not None:
        matches.append(BUILDING.c.address_norm == asked.address)
    if asked.by_compound:
        matches.append(
            sa.and_(
                BUILDING.c.compound_name == asked.compound,
                BUILDING.c.building_sort == asked.sort,
            )
        )
    if not matches:
        return None
    rows = conn.execute(
        sa.select(*_PLACE_COLUMNS).where(BUILDING.c.deleted == sa.false(), sa.or_(*matches))
    )
    # A handful: those at the address, or of the same 小区 and 楼号.
    return asked.first_same(_placed(row) for row in rows)


class SameBuildings:
    """``same_building`` for every row of a bulk write (register import), from the live
    buildings read once: asked per row, that query scans the building list (its 小区 is not
    indexed alone), and a 20,000-row register took minutes. Tell it of each building the
    write creates (``add``), so the rows after it find it as the query would."""

    def __init__(self, conn: Connection) -> None:
        self._by_address: dict[str, list[_Placed]] = {}
        self._by_number: dict[tuple[str, str], list[_Placed]] = {}
        live = conn.execute(sa.select(*_PLACE_COLUMNS).where(BUILDING.c.deleted == sa.false()))
        for row in live:
            self._index(_placed(row))

    def _index(self, placed: _Placed) -> None:
        if placed.address_norm is not None:
            self._by_address.setdefault(placed.address_norm, []).append(placed)
        if placed.compound_name is not None:
            key = (placed.compound_name, placed.building_sort)
            self._by_number.setdefault(key, []).append(placed)

    def find(self, answers: Mapping[str, Any]) -> SameBuilding | None:
        """What ``same_building`` answers for ``answers`` in this write."""
        asked = _PlaceAsked.of(answers)
        candidates = list(self._by_address.get(asked.address, ())) if asked.address else []
        if asked.by_compound:
            candidates.extend(self._by_number.get((asked.compound or "", asked.sort), ()))
        return asked.first_same(candidates)

    def add(self, created: SaveResult, answers: Mapping[str, Any]) -> None:
        """A building this write created (``SurveyWriter.create``) with ``answers``."""
        place = place_columns(answers)
        self._index(
            _Placed(
                created.building_id,
                created.code,
                place["compound_name"],
                place["building_no"],
                place["address"],
                place["address_norm"],
                place["building_sort"] or "",
            )
        )


def get_building(store: Store, ref: str | uuid.UUID) -> BuildingState:
    """The building ``ref`` names, as stored: deleted or merged away ones too (``show``)."""
    with store.engine.connect() as conn:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
        return load_state(conn, bid)


@dataclass(frozen=True)
class LiveBuilding:
    """A building to work on, and the codes of the duplicates followed to reach it."""

    state: BuildingState
    merged_from: tuple[str, ...] = ()


def get_live_building(store: Store, ref: str | uuid.UUID) -> LiveBuilding:
    """The live building ``ref`` names. A duplicate merged away leads to the building kept:
    its label is still on the door and its code in old lists. A deleted one is refused, and so
    is a duplicate whose kept building is not in this database (said in words, not by id)."""
    merged_from: list[str] = []
    with store.engine.connect() as conn:
        bid = ref if isinstance(ref, uuid.UUID) else resolve_building_id(conn, ref)
        state = load_state(conn, bid)
        while state.deleted:
            kept = kept_building(conn, state)
            if kept is None or not kept.here or len(merged_from) > 16:  # a cycle cannot arise
                raise deleted_error(conn, state)
            merged_from.append(state.code)
            state = load_state(conn, kept.id)
    return LiveBuilding(state, tuple(merged_from))


@dataclass(frozen=True)
class KeptBuilding:
    """The building a duplicate was merged into. Its code is derived from its id, so it is
    known before the building itself reaches this database; ``here`` says whether it has."""

    id: uuid.UUID
    code: str
    here: bool


def kept_instead(store: Store, state: BuildingState) -> KeptBuilding | None:
    """The building a deleted duplicate was merged into, or None."""
    with store.engine.connect() as conn:
        return kept_building(conn, state)


def kept_building(conn: Connection, state: BuildingState) -> KeptBuilding | None:
    """The building ``state`` was merged into, if it was; read without loading that building:
    a laptop may hold the alias without the building kept (it was never assigned there), and
    loading it said 'no building with id …', leaving the inspector nowhere to go."""
    kept = merged_into(conn, state.id) if state.deleted else None
    if kept is None:
        return None
    here = conn.execute(sa.select(BUILDING.c.id).where(BUILDING.c.id == kept)).first()
    return KeptBuilding(kept, building_code(kept), here is not None)


def kept_elsewhere_error(role: str, code: str, kept_code: str) -> SurveyorError:
    """A duplicate merged into a building this database lacks: say so, and how to get it (on a
    laptop, a sync brings the building kept; elsewhere, the file holding it must be merged)."""
    key = "survey.kept_not_on_laptop" if role == "laptop" else "survey.kept_not_here"
    return error_from(key, code=code, kept=kept_code)


def deleted_error(conn: Connection, state: BuildingState) -> SurveyorError:
    """Why a deleted building cannot be worked on, naming the one kept if it was merged."""
    kept = kept_building(conn, state)
    if kept is None:
        return SurveyorError(
            f"building {state.code} has been deleted", zh=f"楼栋 {state.code} 已被删除"
        )
    if not kept.here:
        return kept_elsewhere_error(database_role(conn), state.code, kept.code)
    return SurveyorError(
        f"building {state.code} was merged into {kept.code} (a duplicate); work on {kept.code}",
        zh=f"楼栋 {state.code} 是重复记录，已并入 {kept.code}；请在 {kept.code} 上操作",
    )


def merged_into(conn: Connection, building_id: uuid.UUID) -> uuid.UUID | None:
    """The building a duplicate was merged into (its latest ``alias`` change), or None."""
    fields = conn.execute(
        sa.select(CHANGE.c.fields)
        .where(CHANGE.c.entity_id == building_id, CHANGE.c.op == "alias")
        .order_by(CHANGE.c.hlc.desc())
        .limit(1)
    ).scalar()
    target = None if fields is None else load_json(fields).get(ALIAS_KEY)
    return None if target is None else uuid.UUID(str(target))
