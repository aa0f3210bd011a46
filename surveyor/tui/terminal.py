"""Esc read as Esc when a key follows it quickly.

Textual's terminal reader waits ``ESCDELAY`` ms after an Esc for the rest of an escape
sequence, but it only looks at that wait between 100 ms polls, and a key arriving before the
poll joins the Esc as Alt+key. Esc then a key within 100 ms lost the Esc (the building stayed
open) and the key's meaning. Here a lone Esc whose wait has run out ends before the next key
is read, and the wait is 25 ms (see ``surveyor.tui.__init__``).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
from textual.message import Message


class PromptEscapeParser(XTermParser):
    """Textual's parser, ending an expired Esc wait before new input is parsed."""

    def feed(self, data: str) -> Iterable[Message]:
        yield from self.tick()
        yield from super().feed(data)


def read_escape_promptly() -> None:
    """Make Textual's Linux/macOS driver use ``PromptEscapeParser`` (Textual is pinned)."""
    setattr(linux_driver, "XTermParser", PromptEscapeParser)  # noqa: B010
