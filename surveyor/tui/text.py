"""Showing text a user typed: always as plain text, never as markup or terminal escapes."""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

# C0 and C1 control characters (ESC starts terminal escape sequences), except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: str) -> str:
    """NFKC (full-width digits from a Chinese IME become ASCII) without control characters."""
    return _CONTROL.sub("", unicodedata.normalize("NFKC", value))


def without_controls(value: str) -> str:
    """The text with control characters (terminal escapes) removed, otherwise as typed."""
    return _CONTROL.sub("", value)


def plain(value: object, style: str = "") -> Text:
    """A Rich ``Text`` of ``value`` that is never parsed as markup."""
    return Text(_CONTROL.sub("", str(value)), style=style)
