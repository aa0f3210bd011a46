"""Why completion was refused: every unanswered or invalid field; Enter jumps to one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from surveyor.i18n import language, t
from surveyor.text import colon
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.text import plain

if TYPE_CHECKING:
    from surveyor.tui.screens.survey import Problem


class ProblemsModal(Dialog[str | None]):
    """Returns the id of the field to jump to, or None."""

    DEFAULT_CSS = """
    ProblemsModal > Vertical { width: 90%; max-width: 100; height: 80%; border: thick $error; }
    ProblemsModal .title { color: $error; }
    ProblemsModal .hint { height: 1; }
    ProblemsModal OptionList { height: 1fr; }
    """
    HELP_OVERVIEW = "help.problems_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "new.cancel", id="problems.close")
    ]

    def __init__(
        self, problems: list[Problem], reword: Callable[[list[str]], list[Problem]]
    ) -> None:
        """``reword`` gives the problems of those fields in the current language (F2)."""
        super().__init__()
        self.problems = problems
        self._reword = reword

    async def refresh_language(self) -> None:
        self.problems = self._reword([p.field_id for p in self.problems])
        await super().refresh_language()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(t("problems.title", count=len(self.problems)), classes="title")
            options = []
            for p in self.problems:
                prompt = Text()
                prompt.append_text(plain(p.section_title, style="dim"))
                prompt.append(" > ")
                prompt.append_text(plain(p.label, style="bold"))
                prompt.append(colon(language()))
                prompt.append_text(plain(p.message, style="red"))
                options.append(Option(prompt, id=p.field_id))
            yield OptionList(*options, id="problem-list")
            yield Static(t("problems.hint"), classes="hint")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
