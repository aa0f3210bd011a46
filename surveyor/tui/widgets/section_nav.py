"""The survey's section list: each section's answered/required count and error count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from surveyor.i18n import t


@dataclass(frozen=True)
class SectionProgress:
    section_id: str
    title: str
    answered: int
    required: int
    errors: int
    #: Fields in conflict until a supervisor decides (their notes stand under them).
    conflicts: int = 0


class SectionNav(Widget, can_focus=True):
    DEFAULT_CSS = """
    SectionNav {
        width: 23;
        height: 1fr;
        padding: 0 1;
        border-right: vkey $foreground 20%;
    }
    SectionNav:focus { background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "nav.key_previous", show=False, id="nav.previous"),
        Binding("down", "move(1)", "nav.key_next", show=False, id="nav.next"),
        Binding("enter,space", "choose", "nav.key_open", show=False, id="nav.open"),
    ]

    current: reactive[int] = reactive(0)
    cursor: reactive[int] = reactive(0)

    class Selected(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[SectionProgress] = []

    def set_progress(self, items: list[SectionProgress]) -> None:
        if items != self.items:
            self.items = items
            self.refresh()

    def watch_current(self, value: int) -> None:
        self.cursor = value

    def action_move(self, step: int) -> None:
        if self.items:
            self.cursor = (self.cursor + step) % len(self.items)

    def action_choose(self) -> None:
        self.post_message(self.Selected(self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and 1 <= offset.y <= len(self.items):
            self.cursor = offset.y - 1
            self.post_message(self.Selected(self.cursor))

    def render(self) -> Text:
        width = max(8, self.content_size.width)
        text = Text(t("survey.sections"), style="bold underline", no_wrap=True)
        for index, item in enumerate(self.items):
            badge = f"{item.answered}/{item.required}" if item.required else ""
            err = f" !{item.errors}" if item.errors else ""
            disputed = f" ?{item.conflicts}" if item.conflicts else ""
            tail = f" {badge}{err}{disputed}"
            room = max(1, width - len(tail) - 2)
            title = Text(item.title, no_wrap=True, overflow="ellipsis")
            title.truncate(room, overflow="ellipsis", pad=True)
            line = Text("\n")
            marker = ">" if index == self.current else " "
            line.append(marker + " ")
            line.append_text(title)
            done = item.required and item.answered == item.required and not item.errors
            line.append(f" {badge}", style="green" if done else "dim")
            if err:
                line.append(err, style="bold red")
            if disputed:
                line.append(disputed, style="bold yellow")
            style = "reverse" if self.has_focus and index == self.cursor else ""
            if index == self.current:
                style += " bold"
            line.stylize(style.strip() or "none", 1)
            text.append_text(line)
        return text
