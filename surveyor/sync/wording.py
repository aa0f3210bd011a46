"""Conflicts and progress in words, as a supervisor reads them: in the review and progress
screens and in ``surveyor conflicts`` / ``surveyor progress``.

A field is said by its label, a value by its option label and unit, a 街道 by its name, and a
time in the local time zone (change times are stored in UTC: 08:15 UTC is 16:15 in Tianjin).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from surveyor.forms.display import format_value
from surveyor.forms.model import Form
from surveyor.i18n import t_in
from surveyor.services.selection import field_id_for
from surveyor.store.db import Store
from surveyor.sync.fold import ASSIGNED_KEY, DELETED_KEY, DUPLICATE_KEY, STATUS_KEY
from surveyor.sync.progress import NO_SUBDISTRICT, UNASSIGNED
from surveyor.sync.review import (
    KIND_GROUPS,
    ConflictDetail,
    ConflictFilter,
    Version,
    group_counts,
    open_conflicts_of,
)
from surveyor.text import colon

#: The words a conflict on a reserved key (not a form field) is said by, in the catalog.
RESERVED_NAMES = {
    DELETED_KEY: "review.field_deleted",
    STATUS_KEY: "review.field_status",
    ASSIGNED_KEY: "review.field_assigned_to",
    DUPLICATE_KEY: "review.field_duplicate",
}


def field_name(form: Form | None, key: str, lang: str) -> str:
    """A conflicting field as the supervisor reads it: the form's label, else its id."""
    if key in RESERVED_NAMES:
        return t_in(lang, RESERVED_NAMES[key])
    if form is not None and key in form.fields:
        return form.field(key).defn.label.get(lang)
    return key


def conflict_key(form: Form | None, name: str) -> str | None:
    """The conflict key a supervisor names: a field id or label, or a reserved key or the
    words the review prints for it (a delete, a duplicate, the status, the assignment; in
    either language); None when it is none of them. Every key ``conflicts list`` prints is
    one: "_status" was refused as "the form has no field '_status'"."""
    text = name.strip()
    for key, message in RESERVED_NAMES.items():
        if text == key or any(text.lower() == t_in(lang, message).lower() for lang in ("zh", "en")):
            return key
    if form is None:
        return text
    return field_id_for(form, text)


def version_tag(v: Version) -> str:
    """A short, stable name for one side of a conflict (the random end of its change id): it
    keeps naming the same value when a later sync adds a side and the numbers shift."""
    return change_tag(v.change_id)


def change_tag(change_id: str) -> str:
    """``version_tag`` of a change id (without the ``#``)."""
    return str(change_id).replace("-", "")[-6:]


def value_text(form: Form | None, key: str, v: Version, lang: str) -> str:
    """One side's value in words: option labels and units, a delete or an edit said so."""
    if key == DELETED_KEY:
        if v.op == "delete" or v.value is True:
            return t_in(lang, "review.was_deleted")
        if v.value is False:  # a "keep" resolution
            return t_in(lang, "review.was_kept")
        if v.edited:
            named = _edited_fields(form, v.edited)
            edited = [field_name(form, f, lang) for f in named] or [t_in(lang, "review.empty")]
            return t_in(lang, "review.was_edited", fields=joined_names(edited, lang))
    if v.refused is not None:  # as recorded, without a unit, marked as the sheet marks it
        recorded = " ".join(map(str, v.value)) if isinstance(v.value, list) else str(v.value)
        return recorded + ("" if lang == "zh" else " ") + t_in(lang, "review.to_correct")
    return answer_text(form, key, v.value, lang)


def resolved_text(
    form: Form | None,
    detail: ConflictDetail,
    change: Any,
    picked: Version | None,
    lang: str,
    *,
    base: bool = False,
) -> str:
    """What a resolution did, in words, whichever way it was made (``surveyor conflicts
    resolve`` and the review's toast): the value a field now has and whose it is, or what
    became of the building. ``change`` is the resolution (``actions.resolve_conflict``);
    ``picked`` the value taken, if one was; ``base``: the common base was. ``--value``
    printed a change id and no value, and the review's toast "已解决 NK-… 的「建成年份」"
    said neither the value nor whose; keeping a raced building was "resolved building
    deleted"."""
    from surveyor.store.ids import building_code
    from surveyor.sync.fold import ALIAS_KEY

    code = detail.code
    if change.fields.get(ALIAS_KEY):
        kept = building_code(uuid.UUID(str(change.fields[ALIAS_KEY])))
        return t_in(lang, "review.cli_resolved_merged", code=code, kept=kept)
    key = detail.field_key
    if key not in change.fields or key in (DELETED_KEY, DUPLICATE_KEY):
        deleted = change.fields.get(DELETED_KEY) is True
        return t_in(lang, f"review.cli_resolved_{'deleted' if deleted else 'kept'}", code=code)
    name = field_name(form, key, lang)
    if picked is not None:  # say which value was taken: the numbers shift when a side arrives
        value = value_text(form, key, picked, lang)
        return t_in(lang, "review.cli_resolved_to", field=name, value=value, by=picked.author)
    taken = Version(
        change.change_id,
        change.fields[key],
        change.author,
        change.wall_time,
        change.site_id,
        change.op,
    )
    value = value_text(form, key, taken, lang)
    how = "base" if base else "value"
    return t_in(lang, f"review.cli_resolved_{how}", field=name, value=value)


def answer_text(form: Form | None, key: str, value: Any, lang: str) -> str:
    """One field's value in words: an option's label, a number with its unit, a status by
    name, nothing as (empty)."""
    if key == STATUS_KEY and isinstance(value, str):
        return t_in(lang, f"status.{value}")
    if value is None:
        return t_in(lang, "review.empty")
    if form is not None and key in form.fields:
        return format_value(form.field(key), value, lang)
    return str(value)


def _edited_fields(form: Form | None, edited: Iterable[str]) -> list[str]:
    """The fields an edit racing a delete is said by: its answers, in the form's order;
    reserved keys (status, assignment) are bookkeeping beside answers, said by name only
    when nothing else was edited (never as their raw ids)."""
    order = {f: i for i, f in enumerate(form.fields)} if form is not None else {}
    answers = sorted(
        (f for f in edited if not f.startswith("_")), key=lambda f: (order.get(f, len(order)), f)
    )
    return answers or [f for f in edited if f in (STATUS_KEY, ASSIGNED_KEY)]


def edited_values(form: Form | None, v: Version, lang: str) -> list[tuple[str, str]]:
    """An edit that raced a delete, field by field: (label, value in words). What it changed
    decides whether the building is kept ("地上层数 6 层", a remark that it is No. 60), so
    the review shows the values, not only the fields' names."""
    values = dict(v.edits)
    return [
        (field_name(form, f, lang), answer_text(form, f, values.get(f), lang))
        for f in _edited_fields(form, v.edited)
    ]


def joined_names(names: list[str], lang: str) -> str:
    """Names in a sentence: 、 in Chinese, commas in English."""
    return ("、" if lang == "zh" else ", ").join(names)


def kind_name(kind: str, lang: str) -> str:
    """hard, soft, delete_vs_edit, duplicate_entity in words."""
    return t_in(lang, f"review.kind_{kind}")


def kinds_text(kinds: tuple[str, ...], lang: str) -> str:
    """The kinds a filter keeps: a group by its short name (field conflicts), else each
    kind's name."""
    for group, members in KIND_GROUPS.items():
        if set(kinds) == set(members):
            return t_in(lang, f"review.group_{group}")
    return joined_names([kind_name(k, lang) for k in kinds], lang)


def kind_counts_text(by_kind: dict[str, int], lang: str) -> str:
    """Conflicts per group of kinds, as the screen and ``conflicts list`` show them ("field
    12  duplicate 3,236"): the groups with any, or all three when there are none."""
    counts = group_counts(by_kind)
    shown = {g: n for g, n in counts.items() if n} or counts
    return "  ".join(f"{t_in(lang, f'review.group_{g}')} {n:,}" for g, n in shown.items())


def filter_text(form: Form | None, flt: ConflictFilter, lang: str) -> str:
    """What a review filter keeps, in words (字段冲突，万兴街道，普查员 李明，「宜宾 13」);
    empty for no filter."""
    parts = []
    if flt.kinds:
        parts.append(kinds_text(flt.kinds, lang))
    if flt.subdistrict:
        parts.append(group_name(form, flt.subdistrict, lang, by_subdistrict=True))
    if flt.inspector:
        name = group_name(form, flt.inspector, lang, by_subdistrict=False)
        parts.append(t_in(lang, "review.filter_inspector", name=name))
    if flt.text and flt.text.strip():
        parts.append(t_in(lang, "review.filter_text", text=flt.text.strip()))
    return ("，" if lang == "zh" else ", ").join(parts)


def local_time(wall_time: str) -> str:
    """A stored UTC time (``2026-11-23T08:15:02.123+00:00``) as local ``2026-11-23 16:15``:
    enough to tell edits apart, in the time the supervisor's watch shows."""
    try:
        moment = datetime.fromisoformat(wall_time)
    except ValueError:
        return wall_time[:16].replace("T", " ")
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def group_name(form: Form | None, group: str, lang: str, *, by_subdistrict: bool) -> str:
    """A progress row's name: a 街道 by its name (not its code), an inspector as entered."""
    if group == UNASSIGNED:
        return t_in(lang, "progress.unassigned")
    if group == NO_SUBDISTRICT:
        return t_in(lang, "progress.no_subdistrict")
    if by_subdistrict and form is not None and "subdistrict" in form.fields:
        return form.field("subdistrict").choice_label(group, lang)
    return group


def conflict_note(form: Form | None, detail: ConflictDetail, lang: str) -> str:
    """An open conflict as the inspector surveying the building reads it: every value with who
    set it and when, and that a supervisor decides (the field shows one of them for now)."""
    if detail.field_key == DUPLICATE_KEY:
        others = [v.value for v in detail.heads if v.change_id != detail.building_id]
        return t_in(lang, "survey.duplicate_note", buildings=joined_names(others, lang))
    sides = [
        t_in(
            lang,
            "survey.conflict_side",
            value=value_text(form, detail.field_key, v, lang),
            who=v.author,
            when=local_time(v.wall_time),
        )
        for v in detail.heads
    ]
    values = ("；" if lang == "zh" else "; ").join(sides)
    if detail.field_key == DELETED_KEY:
        return t_in(lang, "survey.delete_note", values=values)
    note = t_in(lang, "survey.conflict_note", values=values)
    if form is not None and detail.field_key in form.fields:
        return note  # shown under the field itself
    return field_name(form, detail.field_key, lang) + colon(lang) + note


def conflict_notes(store: Store, form: Form, building_id: uuid.UUID, lang: str) -> dict[str, str]:
    """A building's open conflicts as ``conflict_note`` words, by field (or reserved key)."""
    return {
        d.field_key: conflict_note(form, d, lang) for d in open_conflicts_of(store, building_id)
    }
