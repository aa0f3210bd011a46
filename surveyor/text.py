"""Cleaning text a user typed or pasted, the same on every path (app, CLI, register import),
and the colon every front end writes after a name.

Pure string functions with no heavy imports (Rich's cell widths only): the app's first screen
uses them before the form code is loaded. Also the one rule of line breaking
(``no_break_before``), shared by the printed pages, the app and the CLI.
"""

from __future__ import annotations

import re
import unicodedata

from rich.cells import cell_len

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

#: Stretches a line never breaks inside, on paper, on the screen or in the CLI: a number and
#: the measure word after it ("城厢中路17号" broke into "…17" / "号", which reads as another
#: address; "13号楼" into "13号" / "楼"), and the label's count of rules to check ("待核实5"
#: broke into "待核" / "实5").
UNBREAKABLE = re.compile(r"\d+(?:号楼|号|楼|栋|单元|层|户|室|年)|待核实\d*")


def unbreakable_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each stretch of ``text`` a line may not break inside (``UNBREAKABLE``)."""
    return [m.span() for m in UNBREAKABLE.finditer(text)]


def no_break_before(text: str) -> frozenset[int]:
    """The positions ``i`` a line may not start at (no break before ``text[i]``): closing
    punctuation, the character after opening punctuation, and inside an ``UNBREAKABLE``
    stretch. The one rule of Chinese line breaking: the PDF's wrapping, the app's
    (``wrap_text``) and the CLI's all ask it, so "13号楼" stays whole everywhere."""
    forbidden = {i for a, b in unbreakable_spans(text) for i in range(a + 1, b)}
    forbidden.update(
        i for i in range(1, len(text)) if text[i] in NO_LINE_START or text[i - 1] in NO_LINE_END
    )
    return frozenset(forbidden)


def can_break(text: str, at: int, forbidden: frozenset[int]) -> bool:
    """Whether a line may end before ``text[at]`` in terminal cells: at a space; between
    Chinese characters except where ``forbidden`` (``no_break_before(text)``) says not;
    never inside a Latin word."""
    before, after = text[at - 1], text[at]
    if before == " " or after == " ":
        return True
    if at in forbidden:
        return False
    return cell_len(before) > 1 or cell_len(after) > 1


def wrap_text(text: str, width: int, *, indent: int = 0, keep: int = 0) -> list[str]:
    """One paragraph in lines of at most ``width`` terminal cells, as Chinese is set
    (``can_break``): the app's notes and choices and the CLI's answers.

    The lines after the first are indented by ``indent`` spaces; the first ``keep``
    characters stay on the first line. A word longer than a line (no break allowed in it)
    is cut where it must be.
    """
    forbidden = no_break_before(text)
    lines: list[str] = []
    start, room, low = 0, max(1, width), max(1, keep + 1)
    while cell_len(text[start:]) > room:
        fit, used = start, 0
        for i in range(start, len(text)):
            used += cell_len(text[i])
            if used > room:
                break
            fit = i + 1
        breaks = range(fit, start + low - 1, -1)
        cut = next((at for at in breaks if can_break(text, at, forbidden)), 0)
        if not cut:  # cut where it must, but still not before closing punctuation
            cut = max(fit, start + 1)
            while cut > start + 1 and text[cut] in NO_LINE_START:
                cut -= 1
        lines.append(text[start:cut].rstrip(" "))
        start = cut
        while start < len(text) and text[start] == " ":
            start += 1
        room, low = max(1, width - indent), 1
    lines.append(text[start:])
    return lines[:1] + [" " * indent + line for line in lines[1:]]


def text_or_none(value: object) -> str | None:
    """A stored answer as text for matching (an address may have been stored as a number)."""
    return None if value is None else str(value)


def latin_letters_only(text: str) -> bool:
    """Whether ``text`` is Latin letters and spaces only (NFKC): pinyin, most likely, which
    the search does not match (it matches Chinese characters, codes and numbers)."""
    letters = normalize_text(text).replace(" ", "")
    return letters.isascii() and letters.isalpha()
