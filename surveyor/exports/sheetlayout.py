"""The retrofit-need sheet's layout as data (``exports/sheet_a4.yaml``).

The file says what a district may want to change without code: the header's words, the key
facts, which answers grade each element of the condition table and how badly, where the
thumbnails come from, the signature lines and the disclaimer. It is checked against the
census form (every field exists, every graded code is one of its options) and against the
page (every fixed line fits the width it is printed in), so a mistake is found when the layout
is loaded, not on the 2,000th printed sheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from surveyor.exports.layoutfile import layout_file, problem, validated
from surveyor.exports.text import text_width
from surveyor.forms.model import SELECT_TYPES, Form, FormError, Localized
from surveyor.i18n import t_in

DEFAULT_SHEET_LAYOUT = "sheet_a4"
#: The page has room for this many key facts and elements beside each other above the needs.
MAX_KEY_FACTS = 16
MAX_ELEMENTS = 10
#: An element's answers print on the two lines under its name, worst first.
MAX_ELEMENT_ANSWERS = 6
#: Field types a key fact cannot print as one short value.
NOT_PRINTABLE_FACTS = frozenset({"photo", "geopoint"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class KeyFact(_Strict):
    """A field of the key facts box; ``with`` adds a second answer in brackets."""

    field: str
    with_field: str | None = Field(default=None, alias="with")


class GradedAnswer(_Strict):
    """An answer that grades its element: option code → 1 fair, 2 damaged, 3 severe."""

    field: str
    short: str = Field(min_length=1, max_length=8)
    grade: dict[str, Annotated[int, Field(ge=1, le=3)]] = Field(min_length=1)


class Element(_Strict):
    title: Localized
    answers: list[GradedAnswer] = Field(min_length=1, max_length=MAX_ELEMENT_ANSWERS)


class Header(_Strict):
    district: Localized
    title: Localized


class Photos(_Strict):
    fields: list[str] = Field(min_length=1)
    count: int = Field(ge=0, le=2)


class SheetLayout(_Strict):
    sheet: str
    title: Localized
    header: Header
    qr_mm: float = Field(ge=20, le=40)
    key_facts: list[str | KeyFact] = Field(min_length=1, max_length=MAX_KEY_FACTS)
    elements: list[Element] = Field(min_length=1, max_length=MAX_ELEMENTS)
    photos: Photos
    signatures: list[Localized] = Field(max_length=2)
    disclaimer: Localized

    @property
    def facts(self) -> list[KeyFact]:
        """The key facts, each as a ``KeyFact`` (a bare field id is one without ``with``)."""
        return [KeyFact(field=f) if isinstance(f, str) else f for f in self.key_facts]


def load_sheet_layout(name_or_path: str, form: Form, font: str) -> SheetLayout:
    """A sheet layout by name (``sheet_a4``) or YAML path, checked against the form and the
    page as set in ``font`` (registered); raises FormError naming every problem's line."""
    path, raw = layout_file(name_or_path, "sheet")
    layout = validated(SheetLayout, raw, path)
    found = [*_form_problems(layout, form), *_overlong_lines(layout, font)]
    if found:
        en, zh = (
            [problem(raw, path, loc, t_in(lang, key, **values), lang) for loc, key, values in found]
            for lang in ("en", "zh")
        )
        raise FormError(en, zh)
    return layout


#: A problem of a sheet layout: where (its key), and its sentence's catalog key and values.
Found = tuple[tuple[Any, ...], str, dict[str, object]]


def _form_problems(layout: SheetLayout, form: Form) -> Iterator[Found]:
    """Fields the form does not have, or cannot serve where the layout puts them."""

    def unknown(fid: str) -> tuple[str, dict[str, object]]:
        return "layout.no_such_field", {"form": form.defn.form, "version": form.version, "id": fid}

    for i, fact in enumerate(layout.key_facts):
        if isinstance(fact, str):
            named: list[tuple[tuple[Any, ...], str]] = [(("key_facts", i), fact)]
        else:
            named = [(("key_facts", i, "field"), fact.field)]
            if fact.with_field is not None:
                named.append((("key_facts", i, "with"), fact.with_field))
        for loc, fid in named:
            if fid not in form.fields:
                yield loc, *unknown(fid)
            elif form.fields[fid].type in NOT_PRINTABLE_FACTS:
                yield loc, "layout.not_a_fact", {"type": form.fields[fid].type}
    for e, element in enumerate(layout.elements):
        for a, answer in enumerate(element.answers):
            loc = ("elements", e, "answers", a)
            fld = form.fields.get(answer.field)
            if fld is None:
                yield (*loc, "field"), *unknown(answer.field)
            elif fld.type not in SELECT_TYPES:
                yield (*loc, "field"), "layout.not_a_choice", {}
            else:
                options = ", ".join(c.code for c in fld.choices)
                for code in answer.grade:
                    if code not in fld.choice_codes:
                        values: dict[str, object] = {"id": answer.field, "code": code}
                        values["options"] = options
                        yield (*loc, "grade", code), "layout.no_such_option", values
    for i, fid in enumerate(layout.photos.fields):
        fld = form.fields.get(fid)
        if fld is None:
            yield ("photos", "fields", i), *unknown(fid)
        elif fld.type != "photo":
            yield ("photos", "fields", i), "layout.not_a_photo", {"id": fid}


def _overlong_lines(layout: SheetLayout, font: str) -> Iterator[Found]:
    """Fixed lines too long for the width the sheet prints them in (they would be cut)."""
    from surveyor.exports.sheet import fixed_lines

    for loc, text, size, width in fixed_lines(layout):
        used = text_width(text, font, size)
        if used > width:
            values: dict[str, object] = {"used": f"{used:.0f}", "width": f"{width:.0f}"}
            values["size"] = f"{size:g}"
            yield loc, "layout.line_too_long", values
