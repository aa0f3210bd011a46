"""What an export warns of besides writing its file, in both languages.

A printed sheet or label can be wrong in ways no refusal catches: a character the embedded font
has no glyph for prints as a blank, a label for a possible duplicate goes on a door, a stock's
text comes within the printer's unprintable margin. The export still writes (each is the
user's call), and says so: the CLI on stderr, the app under its result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from surveyor.exports.fonts import missing_glyphs
from surveyor.exports.labels import LabelLayout
from surveyor.exports.sheetlayout import SheetLayout
from surveyor.exports.source import BuildingRecord
from surveyor.forms.model import Form, Localized
from surveyor.i18n import LANGUAGES, t_in


def _notice(key: str, values: Mapping[str, Mapping[str, object]]) -> Localized:
    """Message ``key`` in each language, filled with that language's ``values``."""
    return Localized(**{lang: t_in(lang, key, **values[lang]) for lang in LANGUAGES})


def glyph_notices(
    form: Form, records: Iterable[BuildingRecord], fields: Sequence[str], font: str
) -> list[Localized]:
    """One notice per building whose printed answers (``fields``) hold characters ``font`` has
    no glyph for, naming each field and its characters: wqy-microhei lacks CJK Extension A/B,
    and "𡒄园" printed as " 园" without a word."""
    notices = []
    for r in records:
        found = [
            (fid, chars)
            for fid in fields
            if isinstance(value := r.answers.get(fid), str)
            and (chars := missing_glyphs(value, font))
        ]
        if found:
            what = {
                lang: {"code": r.code, "what": _fields_with(form, found, lang)}
                for lang in LANGUAGES
            }
            notices.append(_notice("export.warn_glyphs", what))
    return notices


def _fields_with(form: Form, found: list[tuple[str, str]], lang: str) -> str:
    """'小区名称「𡒄」、门牌地址「𠮷」' / "Compound name '𡒄', Street address '𠮷'"."""
    if lang == "zh":
        return "、".join(f"{form.fields[f].defn.label.zh}「{c}」" for f, c in found)
    return ", ".join(f"{form.fields[f].defn.label.en} '{c}'" for f, c in found)


def duplicate_label_notices(records: Iterable[BuildingRecord]) -> list[Localized]:
    """One notice per label printed for a building flagged as a possible duplicate, naming the
    buildings it may repeat: a label glued to a door for an id a supervisor then merges away
    is hard to undo."""
    notices = []
    for r in records:
        if r.possible_duplicate:
            values = {"code": r.code, "others": ", ".join(r.duplicate_of) or "?"}
            notices.append(_notice("export.warn_duplicate_label", {"zh": values, "en": values}))
    return notices


def margin_notices(layout: LabelLayout) -> list[Localized]:
    """The stock's edges where labels print within the printer's margin, if any."""
    edges = layout.margin_edges()
    if not edges:
        return []
    values = {
        lang: {
            "layout": layout.layout,
            "edges": ("、" if lang == "zh" else "/").join(
                t_in(lang, f"export.edge_{edge}") for edge in edges
            ),
            "margin": f"{layout.margin_mm:g}",
        }
        for lang in LANGUAGES
    }
    return [_notice("export.warn_margin", values)]


#: What ``static_glyph_notices`` found, by the files and font it looked at (with their
#: modification times, so an edited layout is looked at again): once per export is enough.
_STATIC_FOUND: dict[tuple[object, ...], tuple[Localized, ...]] = {}


def static_glyph_notices(
    layout: SheetLayout, layout_path: Path, form: Form, font: str
) -> list[Localized]:
    """One notice per text of the sheet layout or of the form that every sheet prints (a
    heading, an element's short name, a field's label or option) holding characters ``font``
    has no glyph for, naming the file and the key: the answers were checked, but such a
    heading printed as boxes on every sheet, silently."""
    key = (str(layout_path), _mtime(layout_path), str(form.source), _mtime(form.source), font)
    if key not in _STATIC_FOUND:
        found = []
        for file, where, text in _sheet_static_texts(layout, layout_path, form):
            chars = missing_glyphs(text, font)
            if chars:
                values = {"file": file, "where": ".".join(map(str, where)), "chars": chars}
                found.append(_notice("export.warn_static_glyphs", dict.fromkeys(LANGUAGES, values)))
        _STATIC_FOUND[key] = tuple(found)
    return list(_STATIC_FOUND[key])


def _mtime(path: Path | None) -> int:
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def _sheet_static_texts(
    layout: SheetLayout, layout_path: Path, form: Form
) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """(file, key, text) of each text a sheet prints from its layout file (the fixed lines,
    the elements' short names) or from the form (the labels and options of the fields it
    shows)."""
    from surveyor.exports.sheet import fixed_lines

    for where, text, _, _ in fixed_lines(layout):
        yield str(layout_path), where, text
    for e, element in enumerate(layout.elements):
        for a, answer in enumerate(element.answers):
            yield str(layout_path), ("elements", e, "answers", a, "short"), answer.short
    shown = [f for fact in layout.facts for f in (fact.field, fact.with_field) if f is not None]
    shown += [answer.field for element in layout.elements for answer in element.answers]
    form_file = str(form.source or form.defn.form)
    for fid in dict.fromkeys(shown):
        if fid not in form.fields:
            continue
        fld = form.fields[fid]
        for lang in LANGUAGES:
            yield form_file, (fid, "label", lang), fld.defn.label.get(lang)
        for choice in fld.choices:
            for lang in LANGUAGES:
                yield form_file, (fid, "choices", choice.code, lang), choice.label(lang)
