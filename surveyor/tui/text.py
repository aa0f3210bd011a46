"""Showing text a user typed: always as plain text, never as markup or terminal escapes."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from surveyor.text import without_controls


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
