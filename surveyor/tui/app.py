"""The inspector app: the building list (home), the survey screen, help and the palette.

The app owns the open database, the form and the settings; screens call the core services
(never SQL) from thread workers that report errors as toasts instead of crashing the app.

Start-up paints first: this module and the list screen import neither SQLAlchemy nor pydantic
nor the form. The list's frame (search box focused) is drawn, then a thread worker opens the
database and loads the form (``ready``), and only then does the list query its first rows.
Keys typed in between are kept: the search text is applied once the rows load, and a building
asked for (a scanned label, a typed code) opens as soon as the database is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from surveyor import logfile
from surveyor.errors import DiskFull, SurveyorError
from surveyor.i18n import error_text, language, set_language, t, t_in
from surveyor.paths import blob_dir_for, export_dir
from surveyor.settings import (
    Settings,
    config_path,
    load_settings,
    recorded_author,
    save_settings,
)
from surveyor.tui.commands import (
    SURVEY_MODULE,
    BuildingsProvider,
    FieldsProvider,
    Palette,
    screen_key_commands,
)
from surveyor.tui.keynames import closing_key, key_named
from surveyor.tui.lifecycle import is_live
from surveyor.tui.scan import SCAN_GAP, ScanCatcher
from surveyor.tui.wide_chars import install as keep_wide_chars_whole

if TYPE_CHECKING:
    from surveyor.forms.model import Form
    from surveyor.services.survey import BuildingState
    from surveyor.store.db import Store
    from surveyor.tui.screens.exports import ExportScreen
    from surveyor.tui.screens.survey import SurveyScreen

keep_wide_chars_whole()  # Chinese toasts and dialogs over the screen's widget edges

#: A second quit within this many seconds quits even though some answers could not be saved.
QUIT_ANYWAY_SECONDS = 10.0
#: On SIGHUP/SIGTERM: how long pending answers may take to commit before the app exits anyway.
SIGNAL_SAVE_SECONDS = 5.0
#: … and past this, the process ends itself, even if the exit is stuck (a terminal gone).
SIGNAL_HARD_EXIT_SECONDS = 15.0
#: The signals that quit like ``ctrl+q``: the terminal window closed, ``kill``.
QUIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class StoreOpened(Message):
    """From the start-up worker: the database is open and the form loaded."""

    def __init__(self, store: Store, form: Form, author: str) -> None:
        super().__init__()
        self.store, self.form, self.author = store, form, author


class StoreFailed(Message):
    """From the start-up worker: the database could not be opened (one sentence)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


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
        store: Store | Path | str,
        *,
        settings: Settings | None = None,
        settings_path: Path | None = None,
        form: Form | None = None,
        review: bool = False,
        author: str | None = None,
        language: str | None = None,
    ) -> None:
        """``store`` is an open store (the caller closes it) or a database path or
        ``postgresql://`` URL, which the app opens after its first frame and closes in
        ``close_store`` (``run_app`` does). ``review`` opens the supervisor's conflict review
        as soon as the store is open; ``author`` is the name recorded on changes made here;
        ``language`` overrides the settings' for this session."""
        self.settings_path = settings_path or config_path()
        problems: list[str] = []
        if settings is None:
            settings, problems = load_settings(self.settings_path)
        if language is not None:  # `--lang` for this session; F2 still saves a choice
            settings = settings.replace(language=language)
        self.settings = settings
        self.settings_problems = problems
        set_language(settings.language)
        super().__init__()
        self._store: Store | None = None
        #: The database the app opens itself: a SQLite path or a PostgreSQL URL.
        self._db_target: str | None = None
        if isinstance(store, str | Path):
            self._db_target = str(store)
        else:
            self._store = store
        self._form = form
        #: The store this app opened itself (closed by ``close_store``).
        self._owned_store: Store | None = None
        #: True once the store is open and the form loaded: the screens may query.
        self.ready = False
        #: Why the database could not be opened (shown on the list), or None.
        self.load_error: str | None = None
        self._loader_started = False
        self._loader_done = threading.Event()
        self._pending_opens: list[tuple[str | uuid.UUID, str | None]] = []
        self.blob_dir: Path | None = None
        self._author_override = author
        #: Until the database is open (``_load``): its inspector comes before the settings'.
        self.author = recorded_author(author, None, settings.inspector) or "inspector"
        self._review_on_open = review
        #: When a quit was refused because answers could not be saved (monotonic seconds).
        self._quit_refused_at = -1e9
        #: When a quit was refused because a choice list's filter held text (monotonic).
        self._text_told_at = -1e9
        #: A quit is waiting for the database (another program's write lock).
        self._quit_waiting = False
        self._quitting_on: int | None = None
        self._scan = ScanCatcher()
        self._scan_timer: Timer | None = None
        self._opening: set[uuid.UUID] = set()
        self.title = t("app.title")
        if settings.keymap:
            self.set_keymap(settings.keymap)

    def key_named(self, binding_id: str, lang: str) -> str:
        """The key ``binding_id`` has in this app, as the messages name it
        (``{key[binding_id]}``, ``keynames.install``): they said F9 where the inspector's
        keymap had moved it to F10."""
        # Textual (pinned) keeps the keymap it applies, normalised, in ``_keymap``.
        return key_named(binding_id, lang, self._keymap)

    @property
    def store(self) -> Store:
        """The open database (only once ``ready``, unless the app was given an open store)."""
        if self._store is None:
            raise SurveyorError(t("app.not_ready"))
        return self._store

    @property
    def database_file(self) -> Path | None:
        """The SQLite file the app works on; None for a PostgreSQL store."""
        if self._store is not None:
            return Path(self._store.target) if self._store.is_sqlite else None
        if self._db_target is None or "://" in self._db_target:
            return None
        return Path(self._db_target)

    @property
    def form(self) -> Form:
        """The census form (loaded by the start-up worker; loaded here if asked for earlier)."""
        if self._form is None:
            from surveyor.forms.catalog import get_form

            self._form = get_form()
        return self._form

    # -- start-up -------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Open the database and load the form in a thread (the list calls this after its
        first frame is painted)."""
        if not self.ready and self.load_error is None and not self._loader_started:
            self._loader_started = True
            self._load()

    @work(thread=True, group="startup", exit_on_error=False)
    def _load(self) -> None:
        try:
            from surveyor.forms.catalog import get_form

            store = self._store
            if store is None:
                from surveyor.store.db import open_store

                assert self._db_target is not None
                store = self._owned_store = open_store(self._db_target)
            form = self._form or get_form()
            author = (
                recorded_author(
                    self._author_override, store.meta("inspector"), self.settings.inspector
                )
                or "inspector"
            )
            # What the list's first query needs, imported here rather than in its worker.
            import surveyor.services.browse  # noqa: F401
        except DiskFull:
            self._hand_over(StoreFailed(t("app.open_disk_full")))
            return
        except SurveyorError as exc:
            self._hand_over(StoreFailed(error_text(exc)))
            return
        except Exception as exc:  # a database or file error SQLAlchemy did not wrap
            self._hand_over(StoreFailed(t("app.open_failed", error=exc)))
            return
        finally:
            self._loader_done.set()
        self._hand_over(StoreOpened(store, form, author))

    def _hand_over(self, message: Message) -> None:
        # Posted, not called: the worker never waits for the app, which may be quitting.
        # RuntimeError (loop closed): the app has quit; close_store closes what was opened.
        with contextlib.suppress(RuntimeError):
            self.post_message(message)

    def on_store_opened(self, message: StoreOpened) -> None:
        if not self.is_running:
            return  # quit meanwhile; close_store closes what was opened
        store, form = message.store, message.form
        self._store, self._form, self.author = store, form, message.author
        self.blob_dir = blob_dir_for(Path(store.target)) if store.is_sqlite else None
        self.ready = True
        from surveyor.tui.screens.buildings import BuildingsScreen

        for screen in self.screen_stack:
            if isinstance(screen, BuildingsScreen):
                screen.store_ready()
        pending, self._pending_opens = self._pending_opens, []
        for ref, field_id in pending:
            self.open_building(ref, field_id)
        if self._review_on_open:
            self._review_on_open = False
            self.open_conflicts()

    def on_store_failed(self, event: StoreFailed) -> None:
        if not self.is_running:
            return
        message = self.load_error = event.error
        self._pending_opens.clear()
        from surveyor.tui.screens.buildings import BuildingsScreen

        for screen in self.screen_stack:
            if isinstance(screen, BuildingsScreen):
                screen.store_failed(message)
        self.notify(
            message, title=t("app.open_failed_title"), severity="error", timeout=30, markup=False
        )

    def close_store(self, timeout: float = 30.0) -> None:
        """Close the database this app opened (after it has quit)."""
        if self._db_target is not None and self._loader_started:
            self._loader_done.wait(timeout)
        store, self._owned_store = self._owned_store, None
        if store is not None:
            store.close()

    def is_ready_or_tell(self) -> bool:
        """True if the database is open; otherwise a toast says why not (still opening, or
        the error)."""
        if self.ready:
            return True
        self.notify(self.load_error or t("app.not_ready"), severity="warning", markup=False)
        return False

    # -- lifecycle ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        from surveyor.tui.screens.buildings import BuildingsScreen

        self.theme = (
            self.settings.theme
            if self.settings.theme in self.available_themes
            else ("textual-dark")
        )
        self.push_screen(BuildingsScreen())
        self._install_quit_signals()
        for problem in self.settings_problems:
            self.notify(problem, severity="warning", timeout=8, markup=False)

    def watch_theme(self, theme: str) -> None:
        if theme != self.settings.theme and self.is_running:
            self.settings = self.settings.replace(theme=theme)
            self._save_settings()

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings, self.settings_path)
        except OSError as exc:
            self.notify(str(exc), severity="error", markup=False)

    def survey_screens(self) -> list[SurveyScreen]:
        if SURVEY_MODULE not in sys.modules:
            return []  # no survey has been opened (a quit before the database is open)
        from surveyor.tui.screens.survey import SurveyScreen

        return [s for s in self.screen_stack if isinstance(s, SurveyScreen)]

    async def action_quit(self) -> None:
        """Quit after committing whatever is still waiting to be saved.

        If something cannot be saved (a full disk, a lock), the app stays open and says so;
        quitting again within ``QUIT_ANYWAY_SECONDS`` of that quits anyway, the inspector's own
        decision. The second press is timed when it is made: waiting on a long lock again
        used to run out the window first, so the app could not be quit at all.

        The answers are waited for as leaving a building waits (``survey.SAVE_QUIET_SECONDS``
        in the key's handler, then in a worker after a toast, up to ``SAVE_WAIT_SECONDS``,
        by ``SurveyScreen.wait_all_saved``): answers typed during the wait are saved too, and
        the app quits once they are. Pressed again meanwhile, quit says it is waiting.
        """
        if self._quit_waiting:
            self.notify(t("app.quit_still_waiting"), severity="warning", markup=False)
            return
        if time.monotonic() - self._quit_refused_at <= QUIT_ANYWAY_SECONDS:
            self.exit()
            return
        screens = self.survey_screens()
        if not screens:  # nothing to save (the survey module may not even be loaded)
            self.exit()
            return
        from surveyor.tui.screens import survey

        for screen in screens:
            await screen.start_saving()  # keys typed just before ctrl+q are in their fields
        if self._tell_text_not_recorded(screens):
            return
        if await self._all_saved(screens, survey.SAVE_QUIET_SECONDS):
            self.exit()
            return
        if not any(s.saving for s in screens) and any(s.save_failed for s in screens):
            self._refuse_quit(screens)  # a save failed (a full disk): say so now
            return
        self._quit_waiting = True
        wait = survey.SAVE_WAIT_SECONDS
        self.notify(
            t("app.quit_waiting", n=sum(s.unsaved() for s in screens), seconds=round(wait)),
            severity="warning",
            timeout=wait,
            markup=False,
        )
        rest = max(0.0, wait - survey.SAVE_QUIET_SECONDS)
        self.run_worker(self._quit_once_saved(screens, rest), group="quit", exit_on_error=False)

    def _tell_text_not_recorded(self, screens: list[SurveyScreen]) -> bool:
        """True (and the quit refused, saying what and where) when a choice list's filter
        holds text that matches no option: remarks typed into it by mistake vanished on
        ``ctrl+q`` without a word. Pressed again within ``QUIT_ANYWAY_SECONDS``, quit goes on
        (saving the answers first) and drops the text."""
        if time.monotonic() - self._text_told_at <= QUIT_ANYWAY_SECONDS:
            return False
        left = next((found for s in screens if (found := s.text_not_recorded())), None)
        if left is None:
            return False
        from surveyor.tui.widgets.choice import quoted_start

        label, text = left
        self._text_told_at = time.monotonic()
        said = t(
            "app.quit_text_not_recorded",
            label=label,
            text=quoted_start(text),
            seconds=round(QUIT_ANYWAY_SECONDS),
        )
        self.notify(said, severity="warning", timeout=QUIT_ANYWAY_SECONDS, markup=False)
        return True

    async def _quit_once_saved(self, screens: list[SurveyScreen], wait: float) -> None:
        """The rest of a quit held up by the database: exit once everything is committed
        (answers typed meanwhile too), else say what is not (then a second quit within
        ``QUIT_ANYWAY_SECONDS`` leaves)."""
        try:
            if await self._all_saved(screens, wait):
                self.exit()
                return
        finally:
            self._quit_waiting = False
        self._refuse_quit(screens)

    def _refuse_quit(self, screens: list[SurveyScreen]) -> None:
        """Stay, and say how many answers are not saved and why (``unsaved_reason``: the
        save's error, or the database still busy); a second quit within
        ``QUIT_ANYWAY_SECONDS`` leaves anyway."""
        unsaved = sum(s.unsaved() for s in screens)
        reason = next((s.unsaved_reason() for s in screens if s.unsaved()), None)
        self._quit_refused_at = time.monotonic()
        self.notify(
            t(
                "app.unsaved_quit",
                n=unsaved,
                error=reason or t("app.still_saving"),
                seconds=f"{QUIT_ANYWAY_SECONDS:g}",
            ),
            title=t("app.unsaved_title"),
            severity="error",
            timeout=QUIT_ANYWAY_SECONDS,
            markup=False,
        )

    @staticmethod
    async def _all_saved(screens: list[SurveyScreen], timeout: float) -> bool:
        """True when every screen's answers are committed within ``timeout`` seconds in all
        (``SurveyScreen.wait_all_saved``: answers typed during the wait too)."""
        deadline = asyncio.get_running_loop().time() + timeout
        saved = True
        for screen in screens:  # each waited for, failed or not: their saves run meanwhile
            saved = await screen.wait_all_saved(deadline) and saved
        return saved

    def _install_quit_signals(self) -> None:
        """SIGHUP (the terminal window closed) and SIGTERM (``kill``) quit like ``ctrl+q``:
        pending answers are committed first. Not under a test's Pilot (no real terminal)."""
        if self.is_headless or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in QUIT_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._quit_signal, signum)

    def _quit_signal(self, signum: int) -> None:
        if self._quitting_on is not None:  # a second signal: no more waiting
            os._exit(128 + signum)
        self._quitting_on = signum
        # Never block for ever: the saves are committed transactions, so ending the process
        # after them loses nothing, whatever the exit is waiting on.
        watchdog = threading.Timer(SIGNAL_HARD_EXIT_SECONDS, os._exit, (128 + signum,))
        watchdog.daemon = True
        watchdog.start()
        self.run_worker(self._quit_after_saving(), group="quit-signal", exit_on_error=False)

    async def _quit_after_saving(self) -> None:
        """Commit what is pending (bounded), then exit, saved or not: no one is there to
        answer a confirmation. Text left in a choice list's filter, which ``ctrl+q`` would
        ask about, is written to the log instead (``log_text_not_recorded``)."""
        why = signal.Signals(self._quitting_on).name if self._quitting_on else "a signal"
        for screen in self.survey_screens():
            with contextlib.suppress(Exception):
                await screen.save_now(timeout=SIGNAL_SAVE_SECONDS)  # keys typed are handled
            with contextlib.suppress(Exception):
                log_text_not_recorded(screen, why)
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The last resort for the app's own workers (a screen's are told to the screen): the
        error in a sentence, a bug logged and said to be one."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                t("app.worker_error", error=error_text(event.worker.error)),
                severity="error",
                timeout=10,
                markup=False,
            )

    # -- scanned labels ----------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Every key typed passes the scan catcher first, on every screen (see ``tui.scan``)."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        fed = self._scan.feed(event, time.monotonic())
        if self._scan_timer is not None:
            self._scan_timer.stop()
            self._scan_timer = None
        if self._scan.holding:
            self._scan_timer = self.set_timer(SCAN_GAP, self._release_held_keys)
        for key in fed.release:
            await super().on_event(key)
        if fed.code is not None:
            self._open_scanned(fed.code)

    async def _release_held_keys(self) -> None:
        self._scan_timer = None
        for key in self._scan.flush():
            await super().on_event(key)

    def _open_scanned(self, code: str) -> None:
        if isinstance(self.screen, ModalScreen):
            # A building opened under a dialog would leave the dialog's task half done.
            close = closing_key(self.screen, language(), self._keymap)
            said = t("app.scan_under_dialog", code=code, close=close)
            self.notify(said, severity="warning", markup=False)
            return
        self.open_building(code)

    # -- opening buildings ----------------------------------------------------------------------
    def open_building(self, ref: str | uuid.UUID, field_id: str | None = None) -> None:
        """Load a building (by id, typed code or scanned URI) and show its survey.

        Asked for before the database is open (a label scanned at start), it opens once it is.
        """
        if self.load_error is not None:
            self.notify(self.load_error, severity="error", markup=False)
        elif not self.ready:
            self._pending_opens.append((ref, field_id))
        else:
            self._load_building(ref, field_id)

    @work(thread=True, group="open", exit_on_error=False)
    def _load_building(self, ref: str | uuid.UUID, field_id: str | None) -> None:
        from surveyor.services.resume import get_resume_point
        from surveyor.services.survey import get_live_building
        from surveyor.sync.wording import conflict_notes

        try:
            live = get_live_building(self.store, ref)
            notes = conflict_notes(self.store, self.form, live.state.id, language())
        except SurveyorError as exc:
            with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
                self.call_from_thread(
                    self.notify, error_text(exc), severity="warning", markup=False
                )
            return
        state = live.state
        if live.merged_from:  # an old label, or a code from an old list
            note = t("app.merged_into", old=", ".join(live.merged_from), kept=state.code)
            with contextlib.suppress(RuntimeError):
                self.call_from_thread(self.notify, note, markup=False)
        resume = field_id or get_resume_point(self.store, state.id)
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(self.call_later, self._show_survey, state, resume, notes)

    async def _show_survey(
        self, state: BuildingState, resume: str | None, conflicts: dict[str, str]
    ) -> None:
        from surveyor.tui.screens.survey import SurveyScreen

        if self._exit:
            return  # the inspector quit while the building was being read
        open_now = self.survey_screens()
        if any(s.building.id == state.id for s in open_now):
            return  # already open (a scanner's Enter after the scan itself)
        screen = SurveyScreen(state, resume_field=resume, conflicts=conflicts)
        if open_now and self.screen is open_now[-1]:
            # Another building from the palette: save this one, then take its place — unless
            # its answers cannot be saved (switching would drop the screen that holds them).
            # Waited for like leaving (a worker under another program's lock): this waited
            # up to 10 s in the app's own message loop, saying nothing, acting on no key.
            current = open_now[-1]

            async def switch_once_saved() -> None:
                if self._exit or any(s.building.id == state.id for s in self.survey_screens()):
                    return
                if current.on_top:
                    # Later, from the app: this may run in a worker of the screen it replaces.
                    self.call_later(self.switch_screen, screen)
                elif is_live(current):  # a dialog (F1) opened over it while it waited
                    self.notify(t("survey.saved_open_again", code=state.code), markup=False)

            await current.after_saving("open", switch_once_saved, current.tell_unsaved)
        else:
            await self.push_screen(screen)

    # -- language, help -------------------------------------------------------------------------
    def switch_language(self, lang: str) -> None:
        set_language(lang)
        self.settings = self.settings.replace(language=lang)
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

    async def open_exports(self) -> None:
        """The export and print dialog (sheets, QR labels, data), writing beside the database
        (the default one's hidden folder aside: ``paths.export_dir``).

        Over a survey it offers that building alone, chosen at first, once every answer on the
        screen is committed (its sheet shows what the inspector sees); over the list it offers
        the building under the cursor."""
        if not self.is_ready_or_tell():
            return
        try:
            from surveyor.tui.screens.exports import ExportScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        from surveyor.tui.screens.buildings import BuildingsScreen
        from surveyor.tui.screens.survey import SurveyScreen

        screen = self.screen
        if isinstance(screen, SurveyScreen):
            survey = screen

            async def open_once_saved() -> None:
                if survey.on_top:  # not left nor quit, no dialog (F1) over it meanwhile
                    self._push_exports(ExportScreen, survey.building.code, first=True)
                elif is_live(survey):
                    self.notify(t("survey.saved_export_again"), markup=False)

            # A sheet now would miss what is on the screen: the dialog waits for the answers
            # (in a worker if another program holds the database), and says so.
            await survey.after_saving("export", open_once_saved, survey.tell_export_unsaved)
            return
        building = screen.highlighted_code() if isinstance(screen, BuildingsScreen) else None
        self._push_exports(ExportScreen, building, first=False)

    def _push_exports(
        self, dialog: type[ExportScreen], building: str | None, *, first: bool
    ) -> None:
        # Beside a database of the user's own; the default one is in a hidden folder.
        folder = export_dir(self.database_file)
        self.push_screen(
            dialog(
                self.store,
                self.form,
                folder,
                lang=language(),
                building=building,
                building_first=first,
            )
        )

    def open_conflicts(self) -> None:
        """The supervisor's conflict review (merged databases): resolve with a keypress."""
        if not self.is_ready_or_tell():
            return
        try:
            from surveyor.tui.screens.supervisor import SupervisorScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(SupervisorScreen(self.store, self.form, author=self.author))

    def open_progress(self) -> None:
        """Buildings by 街道 and by inspector, by status."""
        if not self.is_ready_or_tell():
            return
        try:
            from surveyor.tui.screens.supervisor import ProgressScreen
        except ImportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(ProgressScreen(self.store, self.form))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette's commands in the interface language (Textual's own are English only:
        its Keys and Maximize panels are left out, F1 is the help)."""
        from surveyor.tui.screens.buildings import BuildingsScreen

        commands: list[tuple[str, Callable[[], Any]]] = [
            ("language_zh", lambda: self.switch_language("zh")),
            ("language_en", lambda: self.switch_language("en")),
            ("export", self.open_exports),
            ("conflicts", self.open_conflicts),
            ("progress", self.open_progress),
        ]
        if isinstance(screen, BuildingsScreen):
            commands.append(("new_building", screen.action_new_building))
        commands += [
            ("help", self.action_help),
            ("theme", self.action_change_theme),
            ("screenshot", lambda: self.set_timer(0.1, self.take_screenshot)),
            ("quit", self.action_quit),
        ]
        for key, callback in commands:
            yield SystemCommand(_palette_title(key), t(f"cmd.{key}_help"), callback)
        yield from screen_key_commands(screen, self.key_named)

    def take_screenshot(self) -> None:
        """Save the screen as SVG into Surveyor's screenshot folder (created if missing) and
        say where, or why not, in the interface language. Textual's own saved into
        ~/Downloads, missing on the field laptops, and said "Failed to save screenshot" in
        English in the Chinese app."""
        from surveyor.paths import screenshot_dir

        folder = screenshot_dir()
        name = f"surveyor-{datetime.now():%Y%m%d-%H%M%S-%f}.svg"
        title = t("app.screenshot_title")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(name, str(folder))
        except OSError as exc:
            said = t("app.screenshot_failed", folder=folder, error=exc.strerror or exc)
            self.notify(said, title=title, severity="error", markup=False)
            return
        self.notify(t("app.screenshot_saved", path=saved), title=title, markup=False)

    def action_command_palette(self) -> None:
        """Textual's palette, asking and saying "no matches" in the interface language."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(Palette(id="--command-palette", placeholder=t("cmd.placeholder")))


def log_text_not_recorded(screen: SurveyScreen, why: str) -> None:
    """Write the text left in a choice list's filter on ``screen`` to ``surveyor.log``,
    whole, when the app quits on a signal (the terminal closed, ``kill``): no one is
    there to be asked, and the text (remarks typed into the wrong field) is not an
    answer, so nothing else keeps it."""
    left = screen.text_not_recorded()
    if left is None:
        return
    label, text = left
    stamp = datetime.now().isoformat(timespec="seconds")
    logfile.append(
        f"{stamp} quit on {why}: {screen.building.code} {label}: text typed into the"
        f" choice list's filter matched no option and was not recorded: {text!r}\n"
    )


def _palette_title(key: str) -> str:
    """A command's title; in Chinese with the English words after it, so a command found by
    its English name in the docs ("export") is found in the Chinese app too."""
    title = t(f"cmd.{key}")
    return title if language() == "en" else f"{title}  {t_in('en', f'cmd.{key}')}"


def run_app(
    db: Path | str,
    *,
    review: bool = False,
    author: str | None = None,
    language: str | None = None,
) -> None:
    """Run the app on the database ``db`` (a path or a ``postgresql://`` URL) until the user
    quits; with ``review``, on the supervisor's conflict review; in ``language`` for this
    session when given (else the settings').

    The app opens the database itself, after its first frame (see the module docstring).
    """
    from surveyor.tui.terminal import read_escape_promptly, survive_a_closed_terminal

    read_escape_promptly()
    survive_a_closed_terminal()
    app = SurveyorApp(db, review=review, author=author, language=language)
    try:
        app.run()
    finally:
        app.close_store()
