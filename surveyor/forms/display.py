"""An answer as a person reads it, for screens and terminals (not for print layouts).

Shared by ``surveyor show`` and the supervisor's conflict review, so a value reads the same in
both: option labels with their code, units, yes/no in the chosen language.
"""

from __future__ import annotations

from typing import Any

from surveyor.forms.model import UNKNOWN, UNKNOWN_ZH, CompiledField

#: Record statuses as people read them: ``surveyor show``, the report and the sheets.
STATUS_LABELS = {
    "not_started": {"zh": "未开始", "en": "not started"},
    "draft": {"zh": "草稿", "en": "draft"},
    "complete": {"zh": "已完成", "en": "complete"},
    "approved": {"zh": "已审核", "en": "approved"},
}


def status_label(status: str, lang: str) -> str:
    """A record status in ``lang`` (an unknown one as it is)."""
    return STATUS_LABELS.get(status, {}).get(lang, status)


def status_code(text: str) -> str | None:
    """The status ``text`` names: its code or its zh or en label (``list --status 已完成``,
    as ``list`` prints it), or None."""
    typed = text.strip().lower()
    for code, labels in STATUS_LABELS.items():
        if typed in (code, labels["zh"], labels["en"]):
            return code
    return None


def statuses_text(lang: str, codes: tuple[str, ...] = tuple(STATUS_LABELS)) -> str:
    """Statuses to choose from, as a refusal lists them: 未开始、草稿、已完成、已审核."""
    if lang == "zh":
        return "、".join(status_label(c, "zh") for c in codes)
    return ", ".join(codes)


def format_value(fld: CompiledField, value: Any, lang: str) -> str:
    """An answer as a person reads it: option labels, units, 'yes'/'no'; '' for no answer."""
    if value is None:
        return ""
    if fld.type == "select_one" or (fld.type == "calculate" and fld.choices):
        return f"{fld.choice_label(str(value), lang)} [{value}]"
    if fld.type == "select_multiple" and isinstance(value, list):
        return ", ".join(fld.choice_label(str(v), lang) for v in value)
    if fld.type == "boolean":
        yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
        return yes if value is True else no if value is False else str(value)
    if fld.type == "photo" and isinstance(value, list):
        return "; ".join(photo_text(n, p) for n, p in enumerate(value, 1))
    if fld.type == "geopoint" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if value == UNKNOWN and fld.type != "text":  # a typed text "unknown" is what was typed
        return unknown_word(lang)
    unit = unit_text(fld, lang)
    return f"{value} {unit}" if unit else str(value)


def unit_text(fld: CompiledField, lang: str) -> str:
    """The unit said after an answer of ``fld`` in ``lang``, or "": a calendar year has none
    in English (a Chinese year is 1984 年, an English one 1984: "Survey year 2024 year" said
    the word twice, and "2024 year" reads as a length of time)."""
    unit = fld.defn.unit
    if unit is None or (lang != "zh" and unit.en == "year"):
        return ""
    return unit.get(lang)


def unknown_word(lang: str) -> str:
    """The stored answer "unknown" of a number or year field as people read it: 不详 in Chinese
    (``show --lang zh`` printed "鉴定年份 unknown" where the app shows 不详)."""
    return UNKNOWN_ZH if lang == "zh" else UNKNOWN


def photo_text(number: int, photo: dict[str, Any]) -> str:
    """One attached photo, numbered as 'surveyor photo remove' takes it: the hash start names
    the file, then the caption."""
    return f"{number}. {str(photo.get('sha256', ''))[:10]} {photo.get('caption') or ''}".rstrip()
