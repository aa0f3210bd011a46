"""The inspector app: the building list (home), the survey screen, help and the palette.

The app owns the open database, the form and the settings; screens call the core services
(never SQL) from thread workers that report errors as toasts instead of crashing the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from surveyor.errors import SurveyorError
from surveyor.forms.catalog import get_form
from surveyor.forms.model import Form
from surveyor.paths import blob_dir_for
from surveyor.services.resume import get_resume_point
from surveyor.services.survey import BuildingState, get_building
from surveyor.store.db import Store, open_store
from surveyor.tui.commands import BuildingsProvider, FieldsProvider
from surveyor.tui.config import Settings, config_path, load_settings, save_settings
from surveyor.tui.i18n import language, set_language, t

if TYPE_CHECKING:
    from surveyor.tui.screens.survey import SurveyScreen


class SurveyorApp(App[None]):
    """Surveyor's inspector app on one open database."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {BuildingsProvider, FieldsProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "app.quit", priority=True, id="app.quit"),
        # ctrl+c quits too (saving first) instead of Textual's "press ctrl+q" notice.
        Binding("ctrl+c", "quit", "app.quit", show=False, priority=True, id="app.quit_ctrl_c"),
        Binding("f1", "help", "app.help", id="app.help"),
        Binding("f2", "toggle_language", "app.language", id="app.language"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        settings: Settings | None = None,
        settings_path: Path | None = None,
        form: Form | None = None,
    ) -> None:
        self.settings_path = settings_path or config_path()
        problems: list[str] = []
        if settings is None:
            settings, problems = load_settings(self.settings_path)
        self.settings = settings
        self.settings_problems = problems
        set_language(settings.language)
        super().__init__()
        self.store = store
        self.form = form or get_form()
        self.blob_dir: Path | None = blob_dir_for(Path(store.target)) if store.is_sqlite else None
        self.author = settings.inspector or store.meta("inspector") or "inspector"
        self._opening: set[uuid.UUID] = set()
        self.title = t("app.title")
        if settings.keymap:
            self.set_keymap(settings.keymap)

    # -- lifecycle ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        from surveyor.tui.screens.buildings import BuildingsScreen

        self.theme = (
            self.settings.theme
            if self.settings.theme in self.available_themes
            else ("textual-dark")
        )
        self.push_screen(BuildingsScreen())
        for problem in self.settings_problems:
            self.notify(problem, severity="warning", timeout=8, markup=False)

    def watch_theme(self, theme: str) -> None:
        if theme != self.settings.theme and self.is_running:
            self.settings = self.settings.model_copy(update={"theme": theme})
            self._save_settings()

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings, self.settings_path)
        except OSError as exc:
            self.notify(str(exc), severity="error", markup=False)

    def survey_screens(self) -> list[SurveyScreen]:
        from surveyor.tui.screens.survey import SurveyScreen

        return [s for s in self.screen_stack if isinstance(s, SurveyScreen)]

    async def action_quit(self) -> None:
        """Quit after committing whatever is still waiting to be saved."""
        for screen in self.survey_screens():
            await screen.save_now()
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                t("app.worker_error", error=event.worker.error),
                severity="error",
                timeout=10,
                markup=False,
            )

    # -- opening buildings ----------------------------------------------------------------------
    def open_building(self, ref: str | uuid.UUID, field_id: str | None = None) -> None:
        """Load a building (by id, typed code or scanned URI) and show its survey."""
        self._load_building(ref, field_id)

    @work(thread=True, group="open", exit_on_error=False)
    def _load_building(self, ref: str | uuid.UUID, field_id: str | None) -> None:
        try:
            state = get_building(self.store, ref)
        except SurveyorError as exc:
            self.call_from_thread(self.notify, str(exc), severity="warning", markup=False)
            return
        resume = field_id or get_resume_point(self.store, state.id)
        self.call_from_thread(self.call_later, self._show_survey, state, resume)

    async def _show_survey(self, state: BuildingState, resume: str | None) -> None:
        from surveyor.tui.screens.survey import SurveyScreen

        open_now = self.survey_screens()
        if any(s.building.id == state.id for s in open_now):
            return  # already open (a scanner's Enter after the scan itself)
        screen = SurveyScreen(state, resume_field=resume)
        if open_now and self.screen is open_now[-1]:
            # Another building from the palette: save this one, then take its place.
            await open_now[-1].save_now()
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)

    # -- language, help -------------------------------------------------------------------------
    def switch_language(self, lang: str) -> None:
        set_language(lang)
        self.settings = self.settings.model_copy(update={"language": lang})
        self._save_settings()
        self.title = t("app.title")
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_language", None)
            if refresh is not None:
                self.call_later(refresh)
        self.refresh_bindings()

    def action_toggle_language(self) -> None:
        self.switch_language("en" if self.settings.language == "zh" else "zh")

    def action_help(self) -> None:
        from surveyor.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen))

    def open_exports(self) -> None:
        """The export and print dialog (sheets, QR labels, data), writing beside the database."""
        try:
            from surveyor.tui.screens.exports import ExportScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        folder = Path(self.store.target).parent if self.store.is_sqlite else Path.cwd()
        self.push_screen(ExportScreen(self.store, self.form, folder, lang=language()))

    def open_conflicts(self) -> None:
        """The supervisor's conflict review (merged databases): resolve with a keypress."""
        try:
            from surveyor.tui.screens.supervisor import SupervisorScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(SupervisorScreen(self.store, self.form, author=self.author))

    def open_progress(self) -> None:
        """Buildings by 街道 and by inspector, by status."""
        try:
            from surveyor.tui.screens.supervisor import ProgressScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(ProgressScreen(self.store))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            t("cmd.language_zh"), t("cmd.language_help"), lambda: self.switch_language("zh")
        )
        yield SystemCommand(
            t("cmd.language_en"), t("cmd.language_help"), lambda: self.switch_language("en")
        )
        yield SystemCommand(t("cmd.export"), t("cmd.export_help"), self.open_exports)
        yield SystemCommand(t("cmd.conflicts"), t("cmd.conflicts_help"), self.open_conflicts)
        yield SystemCommand(t("cmd.progress"), t("cmd.progress_help"), self.open_progress)
        from surveyor.tui.screens.buildings import BuildingsScreen

        if isinstance(screen, BuildingsScreen):
            yield SystemCommand(
                t("cmd.new_building"), t("cmd.new_building_help"), screen.action_new_building
            )


def run_app(db: Path) -> None:
    """Open the database and run the app until the inspector quits."""
    store = open_store(db)
    try:
        SurveyorApp(store).run()
    finally:
        store.close()
