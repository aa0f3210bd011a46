"""The box every dialog of the app is drawn in: one style, which each dialog only adjusts, and
the app's F1 (help) and F2 (language), which a modal screen would otherwise cut off."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select

from surveyor.i18n import t

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A modal screen whose single container (a ``Vertical`` or ``VerticalScroll``) is a
    centred, bordered box: title, problem line, hint and button row styled alike.

    Textual looks for a key's binding no further than the modal screen, so the app's F1 and
    F2 did nothing in any dialog; they are bound here again, with the app's binding ids (a
    keymap that moves them moves them here too)."""

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
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "app.help", id="app.help"),
        Binding("f2", "language", "app.language", id="app.language"),
    ]
    #: Whether F2 words this dialog again (``refresh_language``). One whose text its opener
    #: wrote in one language, or that is busy (an export), keeps it, and F2 there says so.
    RELABELS: ClassVar[bool] = True

    async def action_language(self) -> None:
        """F2: the other language, this dialog relabelled with the screens beneath it."""
        if not self.RELABELS:
            self.notify(t("dialog.keeps_language"), severity="warning", markup=False)
            return
        await self.run_action("app.toggle_language")

    async def refresh_language(self) -> None:
        """The dialog composed again in the new language (``compose`` reads the catalog), with
        what was typed, picked, highlighted and focused kept."""
        if not self.RELABELS or not self.is_attached:
            return
        typed = {w.id: w.value for w in self.query(Input) if w.id}
        cursors = {w.id: w.selection for w in self.query(Input) if w.id}
        picked = {w.id: w.value for w in self.query(Select) if w.id}
        lit = {w.id: w.highlighted for w in self.query(OptionList) if w.id}
        focused = self.focused.id if self.focused is not None else None
        await self.recompose()
        for kind, values, attribute in (
            (Input, typed, "value"),
            (Input, cursors, "selection"),
            (Select, picked, "value"),
            (OptionList, lit, "highlighted"),
        ):
            for wid, value in values.items():
                with contextlib.suppress(NoMatches):
                    widget: Any = self.query_one(f"#{wid}", kind)
                    setattr(widget, attribute, value)
        if focused is not None:
            with contextlib.suppress(NoMatches):
                self._focus_as_it_was(self.query_one(f"#{focused}"))

    def _focus_as_it_was(self, widget: Widget) -> None:
        """Focus ``widget`` again, a text box keeping its cursor: on focus a box selects its
        text, and the next key typed replaced it (新苑里, F2, x gave x)."""
        if isinstance(widget, Input) and widget.select_on_focus:
            widget.select_on_focus = False
            self.set_focus(widget)
            widget.call_later(setattr, widget, "select_on_focus", True)
        else:
            self.set_focus(widget)
