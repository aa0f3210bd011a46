"""Applying a form to a record: coercing typed input, then relevance, constraints, requirements.

Every front end (TUI, CLI, register import, sync) goes through ``coerce_answer`` and
``evaluate``, so a value is judged the same way wherever it was entered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from surveyor.forms.expr import And, Expr, Not, Or, child_nodes
from surveyor.forms.expr import Field as FieldRef
from surveyor.forms.model import (
    INSPECTOR_DEFAULT,
    TODAY_DEFAULT,
    UNKNOWN,
    UNKNOWN_ZH,
    CompiledField,
    Form,
    Localized,
)
from surveyor.text import normalize_free_text, normalize_text

#: What an inspector types for "not known": the stored code, or the word in Chinese.
UNKNOWN_WORDS = frozenset({UNKNOWN, UNKNOWN_ZH, "未知"})


class AnswerError(ValueError):
    """An input that cannot be turned into a value of the field's type."""

    def __init__(self, message: Localized) -> None:
        super().__init__(message.en)
        self.message = message


def _msg(zh: str, en: str) -> Localized:
    return Localized(zh=zh, en=en)


def normalize_input(fld: CompiledField, text: str) -> str:
    """How typed text is normalised for ``fld`` before it is coerced (and shown back)."""
    return normalize_free_text(text) if fld.type == "text" else normalize_text(text)


_TRUE = {"true", "yes", "y", "1", "是", "有"}
_FALSE = {"false", "no", "n", "0", "否", "无"}


def start_defaults(
    form: Form, answers: Mapping[str, Any], *, today: date, inspector: str
) -> dict[str, Any]:
    """The answers a survey starts with: each unanswered field's ``default`` from the form
    (``today()`` is the day it starts, ``inspector()`` who starts it). An inspector typed the
    date and their own name on every one of a day's buildings."""
    out: dict[str, Any] = {}
    for fld in form.fields.values():
        default = fld.defn.default
        if default is None or answers.get(fld.id) is not None:
            continue
        if default == TODAY_DEFAULT:
            default = today.isoformat()
        elif default == INSPECTOR_DEFAULT:
            default = inspector
        try:
            value = coerce_answer(fld, default)
        except AnswerError:
            continue  # `forms check` says why; a survey is not held up by it
        if value is not None:
            out[fld.id] = value
    return out


def coerce_answer(fld: CompiledField, raw: Any) -> Any:
    """The stored value for an input: typed, normalised, or None to clear the answer.

    Accepts strings (CLI, TUI inputs) and already typed values (sync, sample generator).
    """
    ftype = fld.type
    if ftype == "calculate":
        raise AnswerError(_msg("计算字段不能手工填写", "a calculated field cannot be set"))
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = normalize_input(fld, raw)
        if raw == "":
            return None
        if raw.lower() in UNKNOWN_WORDS and ftype != "select_multiple":
            if fld.accepts_unknown():
                return UNKNOWN
            if ftype != "text":  # in free text the word is just text
                raise AnswerError(
                    _msg("此项不能填「不详」", "'unknown' is not an allowed answer here")
                )
    if ftype == "text":
        return str(raw)
    if ftype == "integer":
        return _integer(without_unit(fld, raw))
    if ftype == "decimal":
        return _decimal(without_unit(fld, raw))
    if ftype == "boolean":
        return _boolean(raw)
    if ftype == "date":
        return _date(raw)
    if ftype == "select_one":
        return _select_one(fld, raw)
    if ftype == "select_multiple":
        return _select_multiple(fld, raw)
    if ftype == "geopoint":
        return _geopoint(raw)
    if ftype == "photo":
        return _photos(fld, raw)
    raise AnswerError(_msg(f"未知类型 {ftype}", f"unknown type {ftype}"))  # pragma: no cover


def kept_as_entered(fld: CompiledField, raw: Any) -> Any:
    """What a draft keeps of an answer ``coerce_answer`` refused: what was entered.

    Nothing the inspector entered is lost; the evaluation marks it invalid. A set of options
    stays a list (in the form's order): kept as the text of a Python list, it showed every box
    unticked, gave the wrong message and crashed the choice widget.
    """
    if fld.type == "select_multiple" and isinstance(raw, list | tuple | set | frozenset):
        return in_form_order(fld, (normalize_text(str(p)) for p in raw))
    return normalize_input(fld, str(raw))


def in_form_order(fld: CompiledField, codes: Iterable[str]) -> list[str]:
    """Distinct option codes in the form's order; codes the form lacks go last, sorted."""
    order = {c.code: i for i, c in enumerate(fld.choices)}
    return sorted({c for c in codes if c}, key=lambda c: (order.get(c, len(order)), c))


#: Other ways people write a unit, after NFKC (㎡ → m2, m² → m2).
_UNIT_ALIASES = {"平方米": ("平米", "m2"), "立方米": ("方", "m3")}


def without_unit(fld: CompiledField, raw: Any) -> Any:
    """A number typed with the unit shown beside the box (6层, １９８８年, 85平米): the number.

    An inspector with a Chinese IME types the unit out of habit; it was refused as "must be a
    whole number" though it says just what the box asks.
    """
    unit = fld.defn.unit
    if not isinstance(raw, str) or unit is None:
        return raw
    text = raw.strip()
    spelled = {unit.zh, unit.en, *_UNIT_ALIASES.get(unit.zh, ())}
    for word in sorted({normalize_text(w).lower() for w in spelled}, key=len, reverse=True):
        if word and text.lower().endswith(word) and len(text) > len(word):
            return text[: -len(word)].strip()
    return raw


#: Numbers as people write them: ASCII digits (after NFKC), thousands grouped by commas in
#: threes or not at all (1,200 and 1200), a decimal point. ``int``/``float`` alone also took
#: 1_2 as 12, and dropping every comma read 6，7 (two answers) as 67.
_GROUPED = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)"
_INTEGER_TEXT = re.compile(_GROUPED, re.ASCII)
_DECIMAL_TEXT = re.compile(rf"{_GROUPED}(?:\.\d*)?|[+-]?\.\d+", re.ASCII)


def _number_text(raw: Any, pattern: re.Pattern[str]) -> str | None:
    """``raw`` as text ``int``/``float`` reads as written, without its thousands commas; None
    if it is no number written that way (a comma out of place, an underscore, a letter)."""
    text = str(raw).strip()
    return text.replace(",", "") if pattern.fullmatch(text) else None


def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise AnswerError(_msg("应为整数", "must be a whole number"))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = _number_text(raw, _INTEGER_TEXT)
    if text is None:
        raise AnswerError(_msg("应为整数", "must be a whole number"))
    return int(text)


def _decimal(raw: Any) -> float:
    if isinstance(raw, bool):
        raise AnswerError(_msg("应为数字", "must be a number"))
    if isinstance(raw, str):
        raw = _number_text(raw, _DECIMAL_TEXT)
    try:
        value = float(raw)
    except (TypeError, ValueError):  # None: a text that is no number
        raise AnswerError(_msg("应为数字", "must be a number")) from None
    if not math.isfinite(value):
        raise AnswerError(_msg("应为有限数字", "must be a finite number"))
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise AnswerError(_msg("应为「是」或「否」", "must be yes or no"))


#: Dates as people write them: 2025-09-01, 2025/9/1, 2025.9.1, 2025年9月1日.
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(raw: Any) -> str:
    if isinstance(raw, datetime):  # a spreadsheet's date cell: the day, not "…T00:00:00"
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    match = _DATE.fullmatch(str(raw))
    if match is None:
        raise AnswerError(
            _msg("日期格式应为 YYYY-MM-DD（如 2025-09-01）", "must be a date written YYYY-MM-DD")
        )
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:  # written right, but no such day (2024-13-45, 2025-02-30)
        raise AnswerError(_msg(f"没有 {raw} 这一天", f"there is no such day as {raw}")) from None


def _select_one(fld: CompiledField, raw: Any) -> str:
    code = fld.code_for(normalize_text(str(raw)))
    if code is None:
        raise _not_an_option(fld, raw)
    return code


def _not_an_option(fld: CompiledField, raw: Any) -> AnswerError:
    """A text that names no option (or two), with the options to choose from."""
    return AnswerError(
        _msg(
            f"「{raw}」不是有效选项（可选：{fld.options_text('zh')}）",
            f"'{raw}' is not one of the options ({fld.options_text('en')})",
        )
    )


def _select_multiple(fld: CompiledField, raw: Any) -> list[str]:
    if isinstance(raw, str):
        items = [normalize_text(p) for p in raw.replace("，", ",").replace(" ", ",").split(",")]
    elif isinstance(raw, list | tuple | set | frozenset):
        items = [normalize_text(str(p)) for p in raw]
    else:
        raise AnswerError(_msg("应为选项列表", "must be a list of options"))
    chosen: set[str] = set()
    for item in filter(None, items):
        code = fld.code_for(item)
        if code is None:
            raise _not_an_option(fld, item)
        chosen.add(code)
    exclusive = chosen & set(fld.defn.exclusive)
    if exclusive and len(chosen) > 1:
        code = sorted(exclusive)[0]
        label = fld.choice_label(code, "zh")
        raise AnswerError(
            _msg(
                f"「{label}」不能与其他选项同时选择",
                f"'{code}' cannot be combined with other options",
            )
        )
    if not chosen:
        raise AnswerError(_msg("至少选择一项", "choose at least one option"))
    # Keep the form's option order, so equal selections store equal values.
    return in_form_order(fld, chosen)


def _geopoint(raw: Any) -> dict[str, float]:
    if isinstance(raw, Mapping):
        lat, lon = raw.get("lat"), raw.get("lon")
    else:
        # Exactly two numbers: "39 07 30 117 10 20" (degrees, minutes, seconds) was read as
        # 39, 7 and the rest dropped, a point in Shanxi with no word said.
        parts = str(raw).replace(",", " ").split()
        lat, lon = (parts[0], parts[1]) if len(parts) == 2 else (None, None)
    try:
        point = {"lat": float(lat), "lon": float(lon)}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnswerError(
            _msg(
                "位置应为两个数「纬度,经度」，如 39.12,117.15（度分秒请换算成小数度）",
                "a location is two numbers, 'latitude,longitude', e.g. 39.12,117.15 (degrees "
                "and minutes as decimal degrees)",
            )
        ) from None
    if not (-90 <= point["lat"] <= 90 and -180 <= point["lon"] <= 180):
        raise AnswerError(_msg("经纬度超出范围", "latitude or longitude out of range"))
    return point


def _photos(fld: CompiledField, raw: Any) -> list[dict[str, Any]]:
    items = raw if isinstance(raw, list) else [raw]
    photos = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("sha256"), str):
            raise AnswerError(_msg("照片须先导入", "photos must be attached through the app"))
        photos.append(dict(item))
    if len(photos) > fld.defn.max_count:
        raise AnswerError(
            _msg(f"最多 {fld.defn.max_count} 张照片", f"at most {fld.defn.max_count} photos")
        )
    return photos


@dataclass
class Evaluation:
    """What the form says about a record right now."""

    values: dict[str, Any]
    relevant: set[str]
    errors: dict[str, Localized] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    #: The fields required with these answers (``required``, or ``required_if`` true now):
    #: what a front end marks as required.
    required: set[str] = field(default_factory=set)
    warnings: dict[str, Localized] = field(default_factory=dict)
    required_total: int = 0
    required_answered: int = 0

    @property
    def completeness(self) -> float:
        if self.required_total == 0:
            return 1.0
        return self.required_answered / self.required_total

    @property
    def can_complete(self) -> bool:
        return not self.errors and not self.missing


def refused_with(
    form: Form, answers: Mapping[str, Any], field_id: str, value: Any
) -> Localized | None:
    """Why the form refuses ``value`` as ``field_id``'s answer beside the other ``answers``
    (its type, range or a cross-field rule), or None: what a resolution of a conflict must
    pass, typed (``v``) or taken from a side (a draft's "abc" storeys)."""
    if value is None or field_id not in form.fields:
        return None
    return evaluate(form, {**answers, field_id: value}).errors.get(field_id)


def evaluate(form: Form, answers: Mapping[str, Any], *, today: date | None = None) -> Evaluation:
    """Relevance, calculations, constraints, warnings and requirements for a whole record.

    Non-relevant answers are masked to None for everything evaluated after them (as in ODK),
    but are kept in the record: hiding a field never deletes what an inspector typed.
    """
    env: dict[str, Any] = {fid: answers.get(fid) for fid in form.fields}
    for calc in form.calculation_order:
        assert calc.calculate is not None
        env[calc.id] = calc.calculate.evaluate(env, today=today)
    result = Evaluation(values=env, relevant=set())
    for fld in form.fields.values():
        if fld.relevant is not None and fld.relevant.truth(env, today=today) is not True:
            env[fld.id] = None
            continue
        result.relevant.add(fld.id)
        if fld.type == "calculate":
            continue
        value = env[fld.id]
        required = fld.defn.required or (
            fld.required_if is not None and fld.required_if.truth(env, today=today) is True
        )
        if required:
            result.required.add(fld.id)
            result.required_total += 1
            if value is None:
                result.missing.append(fld.id)
            else:
                result.required_answered += 1
        if value is None:
            continue
        problem = type_problem(fld, value)
        if problem is not None:
            result.errors[fld.id] = problem
            continue
        if value == UNKNOWN and fld.type not in ("select_one", "select_multiple"):
            continue  # 'unknown' is an answer; range checks do not apply to it
        if fld.constraint is not None:
            ok = fld.constraint.truth(env, current=value, today=today)
            if ok is False:
                assert fld.defn.constraint_message is not None
                result.errors[fld.id] = fld.defn.constraint_message
        if fld.warn is not None and fld.warn.truth(env, current=value, today=today) is False:
            assert fld.defn.warn_message is not None
            result.warnings[fld.id] = fld.defn.warn_message
    _blank_calculations_of_invalid_answers(form, result)
    return result


def not_asked(form: Form, answers: Mapping[str, Any], ev: Evaluation) -> list[str]:
    """The fields, in form order, whose stored answer the form does not ask under the other
    answers (``ev``'s relevance): kept in the record, off the sheet, the needs and the exports."""
    return [
        fid
        for fid, fld in form.fields.items()
        if fid not in ev.relevant and fld.type != "calculate" and answers.get(fid) is not None
    ]


def hidden_by(form: Form, ev: Evaluation, fid: str) -> list[str]:
    """The questions whose answers (or lack of one) keep ``fid`` from being asked, in form
    order: the fields its relevance reads, followed through calculations and through
    questions themselves not asked. ``roof_free_area`` is hidden by ``roof_form`` (不详, or not
    answered yet); ``elevator_addition_space`` of a building with an elevator by
    ``has_elevator`` alone, not by its storeys."""
    found: set[str] = set()
    seen = {fid}
    todo = [fid]
    while todo:
        fld = form.fields[todo.pop()]
        if fld.id != fid and fld.id in ev.relevant and fld.calculate is None:
            found.add(fld.id)
            continue
        refs: set[str] = set()
        if fld.id not in ev.relevant and fld.relevant is not None:
            refs = _deciding_refs(fld.relevant, ev.values)
        elif fld.calculate is not None:
            refs = set(fld.calculate.references)
        for ref in sorted(refs - seen):
            if ref in form.fields:
                seen.add(ref)
                todo.append(ref)
    return [f for f in form.fields if f in found]


def _deciding_refs(expr: Expr, env: Mapping[str, Any]) -> set[str]:
    """The fields read by the parts of a condition that keep it from being true: of an
    ``and``, only its items that are not true; under a ``not``, the other way round."""
    refs: set[str] = set()
    stack: list[tuple[Any, bool]] = [(expr.ast, True)]
    while stack:
        node, want = stack.pop()
        if isinstance(node, Not):
            stack.append((node.operand, not want))
        elif isinstance(node, And | Or):
            # An ``and`` missed true (an ``or`` missed false) by its items that did; the
            # other two missed by every item.
            picky = isinstance(node, And) == want
            stack.extend(
                (item, want)
                for item in node.items
                if not picky or expr.node_truth(item, env) is not want
            )
        elif isinstance(node, FieldRef):
            refs.add(node.name)
        else:
            stack.extend((child, want) for child in child_nodes(node))
    return refs


def _blank_calculations_of_invalid_answers(form: Form, result: Evaluation) -> None:
    """A calculation from an answer the form refuses is no value: year built 1700 showed
    1980年及以前 beside its error, and a survey date in 2099 a survey year of 2099."""
    tainted = set(result.errors)
    for calc in form.calculation_order:
        assert calc.calculate is not None
        if calc.calculate.references & tainted:
            tainted.add(calc.id)
            result.values[calc.id] = None


def _well_formed(fld: CompiledField, value: Any) -> bool:
    """Cheap check that a stored value already has its field's type (the common case).

    ``evaluate`` runs on every save over every answer; full coercion of each value would
    dominate the write path, so only values failing this check are coerced again.
    """
    ftype = fld.type
    if value == UNKNOWN and isinstance(value, str):
        return fld.accepts_unknown()
    if ftype == "select_one":
        return isinstance(value, str) and value in fld.choice_codes
    if ftype == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if ftype == "decimal":
        return isinstance(value, float) and math.isfinite(value)
    if ftype == "text":
        return isinstance(value, str) and value == value.strip() and value != ""
    if ftype == "boolean":
        return isinstance(value, bool)
    return False


def type_problem(fld: CompiledField, value: Any) -> Localized | None:
    """Why a stored value does not fit its field (a draft may hold raw text), or None."""
    if _well_formed(fld, value):
        return None
    try:
        coerced = coerce_answer(fld, value)
    except AnswerError as exc:
        return exc.message
    if coerced != value:
        return _msg("值的格式不正确", "the stored value has the wrong format")
    return None
