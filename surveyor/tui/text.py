"""Showing text a user typed: always as plain text, never as markup or terminal escapes."""

from __future__ import annotations

from rich.text import Text

from surveyor.text import without_controls


def plain(value: object, style: str = "") -> Text:
    """A Rich ``Text`` of ``value`` that is never parsed as markup."""
    return Text(without_controls(str(value)), style=style)
