"""Cleaning text a user typed or pasted, the same on every path (app, CLI, register import),
and the colon every front end writes after a name.

Pure string functions with no heavy imports: the app's first screen uses them before the
form code is loaded.
"""

from __future__ import annotations

import re
import unicodedata

#: Control characters other than a remark's line breaks and tabs (C0, DEL, C1), and every
#: format character (Unicode category Cf, listed as of Unicode 15.1; a test checks the list
#: against the running Python's): zero-width space, ZWNJ/ZWJ, LRM/RLM and the bidi embeddings
#: and isolates, word joiner, BOM, soft hyphen, interlinear annotation, tags. None has a place
#: in a Chinese address or remark: Chinese has no hyphenation or joining, and its direction
#: needs no marks. Spelled out rather than computed at import: the app's first screen uses it.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def colon(lang: str) -> str:
    """The colon after a name in ``lang``: full-width in Chinese, the same on every front end
    ("NK-…: 已完成" mixed an ASCII colon into a Chinese line; the F1 help said "选项: 1 无")."""
    return "：" if lang == "zh" else ": "


def without_controls(text: str) -> str:
    """Text without invisible control and format characters (Windows line ends become line
    breaks).

    A NUL pasted from a broken spreadsheet cannot be stored by PostgreSQL: it stopped every
    later change of the laptop from reaching the central. An escape character would take over
    the terminal that prints the address. A zero-width space copied from a web page made
    "1号楼\u200b" a second 1号楼 that looks the same and never matched the first.
    """
    return _CONTROLS.sub("", text.replace("\r\n", "\n"))


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and letters from a Chinese IME become ASCII) and trimmed.

    For numbers, codes, dates and searching. Free text keeps its punctuation:
    ``normalize_free_text``.
    """
    return unicodedata.normalize("NFKC", without_controls(text)).strip()


#: Full-width ASCII digits and letters (U+FF10–FF19, FF21–FF3A, FF41–FF5A), what NFKC maps
#: them to; full-width punctuation (，（）：) is left alone.
_FULL_WIDTH_ALNUM = {
    code: code - 0xFEE0
    for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(first, last + 1)
}


def normalize_free_text(text: str) -> str:
    """Free text (addresses, remarks, captions), trimmed: full-width digits and letters from a
    Chinese IME become ASCII, as NFKC does, but Chinese punctuation and signs stay as typed —
    full NFKC would turn "，" into "," and "㎡" into "m2" in an inspector's remarks."""
    return without_controls(text).translate(_FULL_WIDTH_ALNUM).strip()


#: Chinese line breaking, the same on the screen and on paper: closing punctuation never starts
#: a line and opening punctuation never ends one, so a wrapped sentence keeps its 。 (or ，）」…)
#: with the character before it and its （ with the one after it, instead of leaving them
#: alone at a line's edge.
NO_LINE_START = frozenset("。．，、；：？！）］｝〕〉》」』】〗〙〛〞”’…‥・ー～％℃,.;:?!)]}%")
NO_LINE_END = frozenset("（［｛〔〈《「『【〖〘〚〝“‘([{")

#: Stretches a printed line never breaks inside: a number and the measure word after it
#: ("城厢中路17号" broke into "…17" / "号", which reads as another address), and the label's
#: count of rules to check ("待核实5" broke into "待核" / "实5").
UNBREAKABLE = re.compile(r"\d+(?:号|楼|栋|单元|层|户|室|年)|待核实\d*")


def unbreakable_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each stretch of ``text`` a line may not break inside (``UNBREAKABLE``)."""
    return [m.span() for m in UNBREAKABLE.finditer(text)]


def text_or_none(value: object) -> str | None:
    """A stored answer as text for matching (an address may have been stored as a number)."""
    return None if value is None else str(value)


def latin_letters_only(text: str) -> bool:
    """Whether ``text`` is Latin letters and spaces only (NFKC): pinyin, most likely, which
    the search does not match (it matches Chinese characters, codes and numbers)."""
    letters = normalize_text(text).replace(" ", "")
    return letters.isascii() and letters.isalpha()
