"""Command-palette providers: jump to a building, jump to a field (titles "namespace: verb").

Imported with the app, before its first frame: the database and survey modules are imported
only when a search needs them.
"""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from surveyor.i18n import language, t
from surveyor.text import normalize_text
from surveyor.tui.text import plain

if TYPE_CHECKING:
    from surveyor.tui.app import SurveyorApp
    from surveyor.tui.screens.survey import SurveyScreen

#: The survey screen's module: imported when the first building is opened.
SURVEY_MODULE = "surveyor.tui.screens.survey"


def _survey_screen(screen: object) -> SurveyScreen | None:
    """``screen`` if it is a survey screen (without importing that module when none exists)."""
    if SURVEY_MODULE not in sys.modules:
        return None
    from surveyor.tui.screens.survey import SurveyScreen

    return screen if isinstance(screen, SurveyScreen) else None


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


class FieldsProvider(Provider):
    """On the survey screen: find a field by its Chinese or English label or its id.

    Only the fields shown with the current answers are offered: a field the skip logic hides
    (``relevant``) is not, since going there would land on nothing.
    """

    def _fields(self) -> list[tuple[str, str]]:
        screen = _survey_screen(self.screen)
        if screen is None:
            return []
        app: SurveyorApp = self.app  # type: ignore[assignment]
        lang = language()
        other = "en" if lang == "zh" else "zh"
        out = []
        for fid, fld in app.form.fields.items():
            if not screen.is_shown(fid):
                continue
            label = fld.defn.label
            out.append((fid, f"{label.get(lang)} {label.get(other)} {fid}"))
        return out

    async def search(self, query: str) -> Hits:
        screen = _survey_screen(self.screen)
        if screen is None:
            return
        matcher = self.matcher(normalize_text(query))
        prefix = t("cmd.go_field") + " "
        for fid, text in self._fields():
            score = matcher.match(text)
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
        for fid, text in self._fields():
            yield DiscoveryHit(prefix + text, partial(screen.call_later, screen.goto_field, fid))
