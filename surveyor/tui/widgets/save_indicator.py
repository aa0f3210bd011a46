"""A one-line save state: no changes / unsaved / saving / saved at HH:MM:SS / failed."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from surveyor.i18n import t
from surveyor.tui.text import plain


class SaveIndicator(Widget):
    DEFAULT_CSS = """
    SaveIndicator {
        width: auto;
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    SaveIndicator.-saving, SaveIndicator.-pending { color: $warning; }
    SaveIndicator.-saved { color: $success; }
    SaveIndicator.-error { color: $error; text-style: bold; }
    """

    state: reactive[str] = reactive("idle")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.saved_at: datetime | None = None
        self.error = ""

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    def mark(self, state: str, *, error: str = "") -> None:
        if state == "saved":
            self.saved_at = datetime.now()
        self.error = error
        self.state = state
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.state == "saved" and self.saved_at is not None:
            return Text(t("save.saved", time=self.saved_at.strftime("%H:%M:%S")))
        if self.state == "error":
            return plain(t("save.error", error=self.error))
        return Text(t(f"save.{self.state}"))
