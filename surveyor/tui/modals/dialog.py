"""The box every dialog of the app is drawn in: one style, which each dialog only adjusts."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A modal screen whose single container (a ``Vertical`` or ``VerticalScroll``) is a
    centred, bordered box: title, problem line, hint and button row styled alike."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical, Dialog > VerticalScroll {
        width: 80%; max-width: 90; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog .title { text-style: bold; height: auto; }
    Dialog .problem { color: $error; height: auto; }
    Dialog .hint { color: $text-muted; height: auto; }
    Dialog Horizontal { height: auto; align: right middle; }
    """
