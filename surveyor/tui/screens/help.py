"""F1: help for the focused field (from the form) and the keys of the screen underneath."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from surveyor.i18n import catalog, language, t
from surveyor.text import colon
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.text import plain
from surveyor.tui.widgets.note import Note

if TYPE_CHECKING:
    from surveyor.tui.app import SurveyorApp


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; }
    HelpScreen .heading { text-style: bold; color: $accent; margin-top: 1; }
    HelpScreen .close { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "new.cancel", id="help.close"),
        Binding("f1", "close", "new.cancel", show=False, id="help.close_f1"),
    ]

    app: SurveyorApp

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            field = self._focused_field()
            if field is not None:
                yield Static(t("help.field"), classes="heading")
                # Wrapped as Chinese is set: a hint keeps 2021年 and 「3号楼」 whole.
                yield Note(self._field_help(field), id="field-help")
            yield Static(t("help.title"), classes="heading")
            # A screen or dialog with its own work says it (the conflict review, the new
            # building), else the inspector's list and survey.
            overview = getattr(self.under, "HELP_OVERVIEW", "help.overview")
            values: dict[str, object] = getattr(self.under, "help_values", dict)()  # its figures
            yield Note(t(overview, **values), id="overview")
            yield Static(t("help.keys"), classes="heading")
            yield Static(self._keys(), id="keys")
            yield Static(t("help.paths"), classes="heading")
            yield Static(self._paths(), id="paths")
            yield Static(t("help.close"), classes="close")

    def _focused_field(self) -> str | None:
        focused = self.under.focused
        if focused is not None and focused.id in self.app.form.fields:
            return focused.id
        return None

    def _field_help(self, field_id: str) -> Text:
        fld, lang = self.app.form.field(field_id), language()
        d = fld.defn
        text = plain(d.label.get(lang), style="bold")
        other = "en" if lang == "zh" else "zh"
        text.append("  ")
        text.append_text(plain(d.label.get(other), style="dim"))
        text.append(f"  ({field_id})\n", style="dim")
        if d.hint is not None:
            text.append_text(plain(d.hint.get(lang)))
            text.append("\n")
        if d.unit is not None:
            text.append(t("help.unit") + colon(lang), style="bold")
            text.append_text(plain(d.unit.get(lang)))
            text.append("\n")
        if d.constraint_message is not None:
            text.append(t("help.rule") + colon(lang), style="bold")
            text.append_text(plain(d.constraint_message.get(lang)))
            text.append("\n")
        if fld.choices:
            text.append(t("help.options") + colon(lang), style="bold")
            from surveyor.tui.widgets.choice import KEYS

            text.append_text(
                plain(
                    "  ".join(
                        f"{KEYS[i] if i < len(KEYS) else '-'} {c.label(lang)}"
                        for i, c in enumerate(fld.choices)
                    )
                )
            )
        return text

    def _keys(self) -> Text:
        keys: dict[str, list[str]] = {}  # action → its keys, in the order first seen
        said: dict[str, str] = {}
        in_footer: set[str] = set()
        known = catalog()
        # The keys in the footer first: of two keys for one action (ctrl+q, ctrl+c) the shown one.
        active = sorted(self.under.active_bindings.values(), key=lambda a: not a.binding.show)
        ranges: set[str] = set()  # descriptions a shown key range (1-9) already says
        for _node, binding, _enabled, _tip in active:
            # Only the app's own keys (their descriptions are message ids): a text box's many
            # editing keys (cursor, select, delete…) would bury them, in English only.
            if binding.description not in known:
                continue
            if binding.description in ranges and not binding.show:
                continue  # 2 … 9 of "1-9 take", one line each, said it eight times more
            if binding.show and binding.key_display and "-" in binding.key_display:
                ranges.add(binding.description)
            if binding.action in in_footer and not binding.show:
                continue  # quit: ctrl+q is shown, ctrl+c is only the terminal's habit
            if binding.show:
                in_footer.add(binding.action)
            keys.setdefault(binding.action, []).append(self.app.get_key_display(binding))
            said.setdefault(binding.action, t(binding.description))
        # Every key of an action: a choice moves with ←/↑ and →/↓, not only the first of them.
        return _aligned([("/".join(dict.fromkeys(keys[a])), said[a]) for a in keys])

    def _paths(self) -> Text:
        """Where the settings, the database, its photos, the log and exports are (as
        ``surveyor paths`` says): they were named only in docs/TUI.md."""
        from surveyor.paths import places

        # The screens are reusable in another app (the review's tests host it alone): that
        # app has no database file or settings path of its own.
        database = getattr(self.app, "database_file", None)
        config = getattr(self.app, "settings_path", None)
        rows = [(t(f"paths.{what}"), str(where)) for what, where in places(database, config=config)]
        return _aligned(rows)

    def action_close(self) -> None:
        self.dismiss(None)


def _aligned(rows: list[tuple[str, str]]) -> Text:
    """Two columns, the first bold and padded by display width (a Chinese character takes
    two cells)."""
    width = max((cell_len(k) for k, _ in rows), default=0) + 2
    text = Text()
    for index, (key, description) in enumerate(rows):
        if index:
            text.append("\n")
        text.append(key + " " * (width - cell_len(key)), style="bold")
        text.append_text(plain(description))
    return text
