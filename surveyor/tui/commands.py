"""The command palette and its providers: jump to a building, jump to a field (titles
"namespace: verb"), and a command for each key of the screen underneath.

Imported with the app, before its first frame: the database and survey modules are imported
only when a search needs them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.align import Align
from rich.text import Text
from textual.actions import parse as parse_action
from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.widgets.option_list import Option

from surveyor.i18n import language, t, t_in
from surveyor.text import normalize_text
from surveyor.tui.text import plain

if TYPE_CHECKING:
    from textual.screen import Screen

    from surveyor.tui.app import SurveyorApp
    from surveyor.tui.screens.survey import SurveyScreen

#: The survey screen's module: imported when the first building is opened.
SURVEY_MODULE = "surveyor.tui.screens.survey"

#: Bindings the app's own palette commands stand for (``SurveyorApp.get_system_commands``).
COMMAND_FOR: dict[str, str] = {
    "app.quit": "quit",
    "app.help": "help",
    "app.language": "language_zh",
    "list.new": "new_building",
}
#: Bindings of a screen (or the app) that the palette offers no command for, and why. A
#: dialog's keys and a widget's are not offered either: the palette opens over no dialog, and
#: it takes the focus from the widget whose key it would be.
PALETTE_EXEMPT: dict[str, str] = {
    "app.quit_ctrl_c": "the terminal's habit for quit, which the palette offers (app.quit)",
    **{
        f"review.take_{n}": "takes the value of that number: a command could not say which"
        for n in range(1, 10)
    },
}


def palette_bindings(screen: type[Screen[Any]]) -> list[Binding]:
    """The bindings of ``screen`` (its class and those it inherits) that become palette
    commands: each with an id, once, unless an app command stands for it or it is exempt."""
    out: dict[str, Binding] = {}
    for cls in reversed(screen.__mro__):
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", [])):
            ident = binding.id
            if ident is None or ident in COMMAND_FOR or ident in PALETTE_EXEMPT:
                continue
            out.setdefault(ident, binding)
    return list(out.values())


def screen_key_commands(
    screen: Screen[Any], key_named: Callable[[str, str], str]
) -> Iterator[SystemCommand]:
    """A command for each key of ``screen`` that it allows now, titled as its footer word
    and said with its key (``key_named``): the list's "mine" (ctrl+o) was in no footer and
    not in the palette either, so it could not be found at all."""
    lang = language()
    for binding in palette_bindings(type(screen)):
        _namespace, name, params = parse_action(binding.action)
        if screen.check_action(name, params) is not True:
            continue
        title = t(binding.description)
        if lang != "en":  # found by its English name too, as the app's commands are
            title = f"{title}  {t_in('en', binding.description)}"
        said = t("cmd.key", name=key_named(str(binding.id), lang))
        yield SystemCommand(title, said, partial(screen.run_action, binding.action))


def _survey_screen(screen: object) -> SurveyScreen | None:
    """``screen`` if it is a survey screen (without importing that module when none exists)."""
    if SURVEY_MODULE not in sys.modules:
        return None
    from surveyor.tui.screens.survey import SurveyScreen

    return screen if isinstance(screen, SurveyScreen) else None


class Palette(CommandPalette):
    """Textual's palette, saying in the interface language that nothing matched.

    Textual's own said "No matches found" in English in the Chinese app (``ctrl+p`` with a
    query matching nothing; ``ctrl+g`` with a field that exists but is hidden by the current
    answers). It writes that text inside ``_start_no_matches_countdown`` (Textual 8.2), which
    is taken over here whole, the text aside.
    """

    def no_match_text(self, query: str) -> str:
        """What the palette says when ``query`` matched nothing: a field the answers hide is
        named as such; else "no field" when the palette finds only fields, "no command"."""
        for provider in self._providers:
            if isinstance(provider, FieldsProvider):
                hidden = provider.hidden_matches(query)
                if hidden:
                    labels = t("cmd.list_separator").join(hidden)
                    return t("cmd.no_field_hidden", labels=labels)
        if self._providers and all(isinstance(p, FieldsProvider) for p in self._providers):
            return t("cmd.no_field")
        return t("cmd.no_match")

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if not search_value:  # discovery: an empty list needs no words
                self._list_visible = False
                return
            said = Text(self.no_match_text(search_value), style="not bold")
            self.query_one(CommandList).add_option(
                Option(Align.center(said), disabled=True, id=self._NO_MATCHES)
            )
            self._list_visible = True

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class BuildingsProvider(Provider):
    """Search the register from the palette (SQL, 10 rows) and open a building."""

    async def search(self, query: str) -> Hits:
        text = normalize_text(query)
        if not text:
            return
        app: SurveyorApp = self.app  # type: ignore[assignment]
        if not app.ready:
            return  # the database is still opening (or could not be opened)
        from surveyor.services.browse import browse_buildings

        try:
            page = await asyncio.to_thread(
                browse_buildings, app.store, search=text, limit=10, with_total=False
            )
        except Exception:
            return
        for row in page.rows:
            display = Text(t("cmd.go_building") + " ", style="dim")
            display.append(row.code + " ")
            display.append_text(
                plain(" ".join(v for v in (row.compound_name, row.building_no, row.address) if v))
            )
            yield Hit(0.9, display, partial(app.open_building, row.id), text=display.plain)


def field_score(query: str, names: tuple[str, ...], fuzzy: float) -> float:
    """A field's place among the hits for ``query``: a name (label, English label, id) that is
    the query first, then one starting with it, then one containing it, then a fuzzy match;
    the fuzzy score orders each tier. Fuzzy alone put 楼道占用堆物 before the field 楼道."""
    if fuzzy <= 0:
        return 0.0
    needle = normalize_text(query).lower()
    lowered = [name.lower() for name in names]
    if needle in lowered:
        tier = 3
    elif any(name.startswith(needle) for name in lowered):
        tier = 2
    elif any(needle in name for name in lowered):
        tier = 1
    else:
        tier = 0
    return (tier + min(fuzzy, 1.0)) / 4


class FieldsProvider(Provider):
    """On the survey screen: find a field by its Chinese or English label or its id.

    Only the fields shown with the current answers are offered: a field the skip logic hides
    (``relevant``) is not, since going there would land on nothing.
    """

    #: How many hidden fields a "no field matches" names at most.
    HIDDEN_NAMED = 3

    def _fields(self, *, shown: bool = True) -> list[tuple[str, str, tuple[str, ...]]]:
        """(id, searchable text, names) of the fields shown with the current answers, or with
        ``shown=False`` of those the answers hide; the names are the labels and the id, for
        ``field_score``."""
        screen = _survey_screen(self.screen)
        if screen is None:
            return []
        app: SurveyorApp = self.app  # type: ignore[assignment]
        lang = language()
        other = "en" if lang == "zh" else "zh"
        out: list[tuple[str, str, tuple[str, ...]]] = []
        for fid, fld in app.form.fields.items():
            if screen.is_shown(fid) != shown:
                continue
            label = fld.defn.label
            names = (label.get(lang), label.get(other), fid)
            out.append((fid, " ".join(names), names))
        return out

    def hidden_matches(self, query: str) -> list[str]:
        """The labels of the fields ``query`` finds that the current answers hide (抽测室温
        until 供暖方式 is answered), best match first, at most ``HIDDEN_NAMED``."""
        matcher = self.matcher(normalize_text(query))
        app: SurveyorApp = self.app  # type: ignore[assignment]
        scored = [
            (field_score(query, names, matcher.match(text)), fid)
            for fid, text, names in self._fields(shown=False)
        ]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])
        return [app.form.fields[fid].defn.label.get(language()) for _, fid in best][
            : self.HIDDEN_NAMED
        ]

    async def search(self, query: str) -> Hits:
        screen = _survey_screen(self.screen)
        if screen is None:
            return
        matcher = self.matcher(normalize_text(query))
        prefix = t("cmd.go_field") + " "
        for fid, text, names in self._fields():
            score = field_score(query, names, matcher.match(text))
            if score > 0:
                display = Content.assemble((prefix, "dim"), matcher.highlight(text))
                yield Hit(
                    score,
                    display,
                    partial(screen.call_later, screen.goto_field, fid),
                    text=prefix + text,
                )

    async def discover(self) -> Hits:
        screen = _survey_screen(self.screen)
        if screen is None:
            return
        prefix = t("cmd.go_field") + " "
        for fid, text, _names in self._fields():
            yield DiscoveryHit(prefix + text, partial(screen.call_later, screen.goto_field, fid))
