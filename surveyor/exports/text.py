"""Fitting and wrapping printed text to a width, shared by the sheet and the labels.

Widths come from the registered TrueType font's glyph advances (what reportlab's
``stringWidth`` sums); a string that fits is measured once by reportlab's C accelerator, and only
one that does not is broken, in one pass over the advances read once per font.
Latin text breaks at spaces; Chinese may break between any two characters, except that closing
punctuation never starts a line nor opening punctuation ends one (``surveyor.text``'s sets, the
ones the screen wraps by), and a number keeps its measure word ("17号", "13号楼", "3单元") and
"待核实5" stays whole: ``surveyor.text.no_break_before``, the rule the app and the CLI wrap by.
Text that has to be cut ends in "…", so a reader knows something is missing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from reportlab.pdfbase.pdfmetrics import getFont, stringWidth

from surveyor.text import no_break_before

ELLIPSIS = "…"
# CJK (radicals to ideographs, compatibility and full-width forms): one breakable unit per
# character; everything else breaks at spaces. Units are then joined across punctuation
# (``_units``).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_UNITS = re.compile(rf" +|[{_CJK}]|[^ {_CJK}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")


@lru_cache(maxsize=8)
def _char_widths(font: str) -> tuple[dict[int, float], float]:
    """Glyph advance widths (1/1000 em) of a registered TrueType font."""
    face = getFont(font).face
    return face.charWidths, float(face.defaultWidth)


def text_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points, as reportlab sets it (its C accelerator sums the glyphs)."""
    return float(stringWidth(text, font, size))


def fit(text: str, font: str, size: float, width: float) -> str:
    """Text cut to a width, with an ellipsis, so nothing runs into the next column."""
    if text_width(text, font, size) <= width:
        return text
    return cut(text, font, size, width)


def cut(text: str, font: str, size: float, width: float) -> str:
    """The longest start of ``text`` that fits ``width`` together with a closing "…"."""
    widths, default = _char_widths(font)
    room = width * 1000 / size - widths.get(ord(ELLIPSIS), default)
    used = 0.0
    for i, ch in enumerate(text):  # one pass over the glyph widths, not a search
        used += widths.get(ord(ch), default)
        if used > room:
            return _word_start(text, i).rstrip() + ELLIPSIS
    return text.rstrip() + ELLIPSIS


def _word_start(text: str, i: int) -> str:
    """``text[:i]``, moved back to a space when ``i`` falls inside a Latin word that has one
    before it ("Nankai…", not "Nankai Di…")."""
    inside = 0 < i < len(text) and _is_latin(text[i - 1]) and _is_latin(text[i])
    space = text.rfind(" ", 0, i) if inside else -1
    return text[:space] if space > 0 else text[:i]


def _is_latin(ch: str) -> bool:
    return ch != " " and _CJK_CHAR.match(ch) is None


def wrap(
    text: str, font: str, size: float, width: float, max_lines: int, keep: str = ""
) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width`` points.

    What does not fit is cut with "…" on the last line. ``keep`` (a building number, a code)
    follows the text and is never cut: the text before it is cut instead, because the number is
    what identifies the building.
    """
    full = text + keep
    if text_width(full, font, size) <= width:  # most cells: one line, no breaking needed
        return [full] if full else []
    spans = _line_spans(full, font, size, width)
    if len(spans) <= max_lines:
        return [full[a:b] for a, b in spans]
    spans = _line_spans(text, font, size, width)
    lines = [text[a:b] for a, b in spans[: max_lines - 1]]
    rest = text[spans[max_lines - 1][0] :] if len(spans) >= max_lines else ""
    room = width - text_width(keep, font, size)
    if not rest.strip() or room <= 0:  # nothing of the text left, or the kept part alone
        lines.append(fit(keep.strip(), font, size, width))
    else:
        lines.append(cut(rest, font, size, room) + keep)
    return lines


def _units(text: str) -> list[tuple[int, int]]:
    """(start, end) of each piece a line may not break inside: a Chinese character or a Latin
    word, joined to the piece before it when it starts with closing punctuation (，…％) and to
    the piece after an opening one (（“), so a line neither starts nor ends with them; and
    the pieces of a number with its measure word ("17号") or of "待核实5" joined into one."""
    forbidden = no_break_before(text)
    units: list[tuple[int, int]] = []
    for unit in _UNITS.finditer(text):
        a, b = unit.span()
        if text[a] == " ":
            continue  # spaces belong to the gap before the next unit, or vanish at a break
        after = units and units[-1][1] == a
        if after and a in forbidden:
            units[-1] = (units[-1][0], b)
        else:
            units.append((a, b))
    return units


def _line_spans(text: str, font: str, size: float, width: float) -> list[tuple[int, int]]:
    """(start, end) of each line when ``text`` is filled greedily into ``width``.

    One pass sums the glyph advances (``at[i]`` is the width of ``text[:i]``), so any stretch is
    measured by a subtraction.
    """
    widths, default = _char_widths(font)
    room = width * 1000 / size
    at = [0.0, *accumulate(widths.get(ord(ch), default) for ch in text)]
    spans: list[tuple[int, int]] = []
    start = end = -1
    for a, b in _units(text):
        if start >= 0 and at[b] - at[start] <= room:
            end = b
            continue
        if start >= 0:
            spans.append((start, end))
        start, end = a, b
        while end - start > 1 and at[end] - at[start] > room:  # a word wider than a line
            fits = bisect_right(at, at[start] + room, start, end + 1) - 1
            take = max(fits - start, 1)
            spans.append((start, start + take))
            start += take
    if start >= 0:
        spans.append((start, end))
    return spans
