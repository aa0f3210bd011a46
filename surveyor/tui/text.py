"""Showing text a user typed: always as plain text, never as markup or terminal escapes."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from surveyor.text import NO_LINE_END, NO_LINE_START, without_controls


def plain(value: object, style: str = "") -> Text:
    """A Rich ``Text`` of ``value`` that is never parsed as markup."""
    return Text(without_controls(str(value)), style=style)


#: Said where ``fit_cells`` cut a text short; ASCII, one cell in every terminal (… is two in
#: some Chinese ones, which shifts the rest of the line).
CUT_MARK = "~"


def fit_cells(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` terminal cells: whole if it fits; Latin text cut after a
    whole word if one fits (Shuishang Gongyuan → Shuishang); else cut and marked, so a cut
    address does not read as another one (南开区红旗路2 for 南开区红旗路21号)."""
    if cell_len(text) <= cells:
        return text
    if text.isascii() and " " in text:
        words = text[: cells + 1].rsplit(" ", 1)[0].rstrip()
        if words and cell_len(words) <= cells and words != text[: cells + 1]:
            return words
    room = max(0, cells - len(CUT_MARK))
    kept, used = [], 0
    for ch in text:
        used += cell_len(ch)
        if used > room:
            break
        kept.append(ch)
    return "".join(kept) + CUT_MARK if cells >= len(CUT_MARK) else ""


def can_break(text: str, at: int) -> bool:
    """Whether a line may end before ``text[at]``: at a space; between Chinese characters
    except before closing or after opening punctuation (``NO_LINE_START``/``NO_LINE_END``, as
    printed text breaks); never inside a Latin word."""
    before, after = text[at - 1], text[at]
    if before == " " or after == " ":
        return True
    if after in NO_LINE_START or before in NO_LINE_END:
        return False
    return cell_len(before) > 1 or cell_len(after) > 1


def wrap_text(text: str, width: int, *, indent: int = 0, keep: int = 0) -> list[str]:
    """One paragraph in lines of at most ``width`` cells, as Chinese is set (``can_break``).

    The lines after the first are indented by ``indent`` spaces; the first ``keep``
    characters stay on the first line. A word longer than a line (no break allowed in it)
    is cut where it must be.
    """
    lines: list[str] = []
    rest, room, low = text, max(1, width), keep + 1
    while cell_len(rest) > room:
        fit, used = 0, 0
        for i, ch in enumerate(rest):
            used += cell_len(ch)
            if used > room:
                break
            fit = i + 1
        cut = next((at for at in range(fit, max(1, low) - 1, -1) if can_break(rest, at)), 0)
        if not cut:  # cut where it must, but still not before closing punctuation
            cut = max(fit, 1)
            while cut > 1 and rest[cut] in NO_LINE_START:
                cut -= 1
        lines.append(rest[:cut].rstrip(" "))
        rest = rest[cut:].lstrip(" ")
        room, low = max(1, width - indent), 1
    lines.append(rest)
    return lines[:1] + [" " * indent + line for line in lines[1:]]
