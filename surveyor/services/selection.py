"""Which buildings a command works on: ``--where field=value`` (repeatable, all must hold) and
``--status`` (repeatable, any may hold), checked against the form before anything is read or
written.

Exports and ``assign`` share it, so a supervisor writes a selection the same way everywhere:
a field by its id or its zh/en label (``街道``), a value by its option code or label
(``万兴街道``); a typo gets a sentence ("the form has no field '街区'") instead of an empty or
partial result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError
from surveyor.forms.display import status_code, status_label, statuses_text
from surveyor.forms.model import Form
from surveyor.services.queries import REGISTER_ORDER, building_filter
from surveyor.services.survey import BUILDING, STATUSES, unknown_field_error
from surveyor.store.ids import normalize_code
from surveyor.text import normalize_text


@dataclass(frozen=True)
class Selection:
    """Validated filters: answers that must equal a value, and the statuses of which a
    building must have one (none: any status)."""

    where: tuple[tuple[str, Any], ...] = ()
    statuses: tuple[str, ...] = ()
    #: Building codes named one by one (a reprinted label, one sheet); empty: no such limit.
    codes: tuple[str, ...] = ()

    #: How ``describe`` says it in Chinese (by labels), when made by ``parse_selection``.
    zh: str | None = field(default=None, compare=False)

    def describe(self, lang: str = "en") -> str:
        if lang == "zh" and self.zh is not None:
            return self.zh
        parts = [f"{f}={v}" for f, v in self.where]
        if self.statuses:
            parts.append(f"status={' or '.join(self.statuses)}")
        parts += self.codes
        return ", ".join(parts) or "all buildings"


def field_id_for(form: Form, name: str) -> str | None:
    """A field id from its id or its zh/en label (``街道`` → ``subdistrict``), or None."""
    key = normalize_text(name).strip()
    if key in form.fields:
        return key
    for fid, fld in form.fields.items():
        label = fld.defn.label
        if key == label.zh or key.lower() == label.en.lower():
            return fid
    return None


def _resolve_field(form: Form, name: str) -> str:
    fid = field_id_for(form, name)
    if fid is not None:
        return fid
    raise unknown_field_error(form, name, "--where")


def option_code(form: Form, fid: str, text: str) -> str | None:
    """The option of ``fid`` that ``text`` names: its code or zh/en label, and for the 街道
    also the short name people write (长虹 for 长虹街道), in a register as on the command
    line; None when it names none."""
    fld = form.fields[fid]
    code = fld.code_for(text)
    if code is None and fid == "subdistrict":
        short = normalize_text(text).strip()
        code = next((c.code for c in fld.choices if c.zh.removesuffix("街道") == short), None)
    return code


def _resolve_value(form: Form, fid: str, raw: str, option: str = "--where") -> Any:
    """The stored value for a --where value: option codes or labels, numbers, yes/no."""
    fld = form.fields[fid]
    text = normalize_text(raw)
    if fld.choices:
        code = option_code(form, fid, text)
        if code is not None:
            return code
        codes = ", ".join(c.code for c in fld.choices[:8])
        labels = "、".join(c.zh for c in fld.choices[:8])
        raise SurveyorError(
            f"{option}: '{raw}' is not an option of {fid} (options: {codes} …)",
            zh=f"{option}：「{raw}」不是{fld.defn.label.zh}的选项（可选：{labels} 等）",
        )
    if fld.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise SurveyorError(
                f"{option}: {fid} needs a whole number, not '{raw}'",
                zh=f"{option}：{fld.defn.label.zh}应为整数，而不是「{raw}」",
            ) from None
    if fld.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "是", "1"):
            return True
        if lowered in ("false", "no", "否", "0"):
            return False
        raise SurveyorError(
            f"{option}: {fid} needs yes or no, not '{raw}'",
            zh=f"{option}：{fld.defn.label.zh}应为「是」或「否」，而不是「{raw}」",
        )
    return text


def parse_selection(
    form: Form,
    where: list[str],
    status: str | Sequence[str] | None,
    *,
    option: str = "--where",
    buildings: list[str] | None = None,
) -> Selection:
    """Check ``field=value`` filters, the status (or statuses: any of them may hold) and
    building codes; raise on any mistake.

    ``option`` is what the user typed the filters as (``list --subdistrict 火星`` is not told
    about a ``--where`` it never wrote). ``buildings`` are codes as typed or scanned (a QR
    URI); whether each exists is for the store to say (``live_codes``)."""
    pairs: list[tuple[str, Any]] = []
    for item in where:
        if "=" not in item:
            raise SurveyorError(
                f"{option} '{item}' must be written field=value",
                zh=f"{option}「{item}」应写成 字段=值",
            )
        name, _, value = item.partition("=")
        fid = _resolve_field(form, name.strip())
        pairs.append((fid, _resolve_value(form, fid, value.strip(), option)))
    typed = [status] if isinstance(status, str) else list(status or [])
    statuses = _each_once(map(_status_code, typed))
    codes = _each_once(map(_building_code, buildings or []))
    selection = Selection(tuple(pairs), statuses, codes)
    return replace(selection, zh=_described_zh(form, selection))


def _described_zh(form: Form, selection: Selection) -> str:
    """The selection in Chinese, by labels (街道=长虹街道，状态=已完成), not codes."""
    parts = []
    for fid, value in selection.where:
        fld = form.field(fid)
        said = fld.choice_label(str(value), "zh") if fld.choices else value
        if isinstance(value, bool):
            said = "是" if value else "否"
        parts.append(f"{fld.defn.label.zh}={said}")
    if selection.statuses:
        parts.append(f"状态={'或'.join(status_label(s, 'zh') for s in selection.statuses)}")
    parts += selection.codes
    return "，".join(parts) or "全部楼栋"


def _each_once(codes: Iterable[str]) -> tuple[str, ...]:
    """The codes in the order given, a repeat dropped (``dict`` keeps first-seen order)."""
    return tuple(dict.fromkeys(codes))


def _status_code(text: str) -> str:
    """The status code for a ``--status`` value (code or zh/en word); an unknown one is
    refused."""
    code = status_code(normalize_text(text))
    if code not in STATUSES:
        raise SurveyorError(
            f"unknown status '{text}'; use one of {statuses_text('en')}",
            zh=f"未知状态「{text}」；请用其中之一：{statuses_text('zh')}",
        )
    return code


def _building_code(ref: str) -> str:
    """The canonical code for a ``--building`` value; anything else is refused."""
    code = normalize_code(ref)
    if code is None:
        raise SurveyorError(
            f"--building: '{ref}' is not a building code (NK-XXXXX-XXXXX)",
            zh=f"--building：「{ref}」不是楼栋编号（NK-XXXXX-XXXXX）",
        )
    return code


def matches(answers: Mapping[str, Any], where: tuple[tuple[str, Any], ...]) -> bool:
    for fid, value in where:
        answer = answers.get(fid)
        if isinstance(answer, list):
            if value not in answer:
                return False
        elif answer != value:
            return False
    return True


def selected_rows(
    conn: Connection, selection: Selection, *columns: sa.ColumnElement[Any]
) -> list[sa.Row[Any]]:
    """``columns`` of the live buildings ``selection`` picks, in register order.

    The 街道 and the statuses narrow the query in SQL; other fields are matched on the answers.
    """
    subdistrict = next((v for f, v in selection.where if f == "subdistrict"), None)
    clauses = building_filter(subdistrict=subdistrict, status=selection.statuses)
    if selection.codes:
        clauses.append(BUILDING.c.code.in_(selection.codes))
    query = sa.select(BUILDING.c.answers, *columns).where(*clauses).order_by(*REGISTER_ORDER)
    return [row for row in conn.execute(query) if matches(dict(row[0] or {}), selection.where)]
