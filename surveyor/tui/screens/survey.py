"""The survey screen: one building's form, one section mounted at a time, saved as you go.

Values live in ``self.answers`` (what the database holds after a draft save); the rows only show
them. Every change is queued and committed by ``save_answers(..., draft=True)`` in a thread
worker about ``autosave_delay`` seconds later, and at once on leaving a field, a section or the
screen, and on quit. Drafts keep invalid values (marked) so nothing typed is lost.

Anything that runs later — the rest of a section after the first frame, the autosave timer, the
save thread's results, palette and modal choices, the code after an ``await`` — may find the
screen gone (the inspector pressed ``esc`` or ``ctrl+q`` meanwhile): it checks ``is_live``
before it touches a widget (see ``tui/lifecycle.py``). Sections are swapped under a lock, so
two switches (a key and a callback) never interleave their removes and mounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches, QueryType
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Header, Input, Static, TextArea

from surveyor.errors import DiskFull, SurveyorError
from surveyor.forms.model import CompiledField
from surveyor.forms.record import (
    AnswerError,
    Evaluation,
    coerce_answer,
    evaluate,
    kept_as_entered,
    normalize_input,
)
from surveyor.i18n import error_text, language, t
from surveyor.services.live import BuildingWatch, changed_elsewhere
from surveyor.services.photos import (
    attach_photo,
    check_room_for_photo,
    photos_of,
    remove_photo,
)
from surveyor.services.resume import set_resume_point
from surveyor.services.survey import (
    BuildingState,
    IncompleteRecord,
    SaveResult,
    approves_here,
    get_building,
    save_answers,
    set_status,
)
from surveyor.store.db import is_transient
from surveyor.sync.wording import conflict_notes, joined_names
from surveyor.text import without_controls
from surveyor.tui.lifecycle import is_live, settle_keys
from surveyor.tui.text import plain
from surveyor.tui.toasts import ToastOnce
from surveyor.tui.widgets.choice import ChoiceField
from surveyor.tui.widgets.field_row import FieldRow, display_value, refusal_with_hint
from surveyor.tui.widgets.fields_scroll import FieldsScroll
from surveyor.tui.widgets.footer import CatalogFooter
from surveyor.tui.widgets.photo_field import PhotoField
from surveyor.tui.widgets.save_indicator import SaveIndicator
from surveyor.tui.widgets.section_nav import SectionNav, SectionProgress

if TYPE_CHECKING:
    from surveyor.tui.app import SurveyorApp
    from surveyor.tui.modals.attach_photo import PhotoRequest


#: From this many columns on, the section list and the labels get wider.
WIDE = 110
#: Rows of a section mounted before the first frame; the rest follow right after it.
FIRST_ROWS = 8
#: Seconds between retries of a save that failed (a full disk, a locked database).
SAVE_RETRY_SECONDS = 5.0
#: How long leaving, the export, another building, F9 or quitting wait for the answers to be
#: saved (SQLite waits up to 10 s for a lock).
SAVE_WAIT_SECONDS = 10.0
#: Those actions wait this long for the last save in the key's own handler; a save that
#: takes longer (another program holds the write lock) is waited for in a worker, after a
#: toast says so (``SurveyScreen.after_saving``, and ``SurveyorApp.action_quit``).
SAVE_QUIET_SECONDS = 0.3
#: While typing goes on, an answer is saved at most this long (or ``autosave_delay``, if
#: longer) after its first unsaved key: the debounce restarts on every key, so steady typing
#: would otherwise never be saved before a crash or ``kill -9``.
AUTOSAVE_MAX_WAIT = 2.0
#: The autosave timer's shortest wait, in seconds (Textual's timer cannot wait 0 s).
SHORTEST_TIMER = 0.001
#: Seconds between two looks for answers another program stored (``surveyor photo add``, a
#: sync): a look asks SQLite whether anything was committed, and reads the building only then.
LIVE_POLL_SECONDS = 1.5


@dataclass(frozen=True)
class Problem:
    """A field that stops completion, with its message in the current language."""

    field_id: str
    section_title: str
    label: str
    message: str


def draft_value(fld: CompiledField, raw: Any) -> Any:
    """What a draft save stores for ``raw``: the typed value, or the text as typed if invalid."""
    try:
        return coerce_answer(fld, raw)
    except AnswerError:
        return kept_as_entered(fld, raw)


class SurveyScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "survey.key_back", id="survey.back"),
        # priority: the scrolling container would otherwise take PgUp/PgDn for itself
        Binding(
            "pageup",
            "section(-1)",
            "survey.key_prev_section",
            priority=True,
            show=False,
            id="survey.prev_section",
        ),
        Binding(
            "pagedown",
            "section(1)",
            "survey.key_next_section",
            priority=True,
            id="survey.next_section",
        ),
        Binding("f9", "complete", "survey.key_complete", id="survey.complete"),
        # Offered on a central only, for a complete building (``check_action``). priority: the
        # remarks box would otherwise take f7 (select all); where approving is not offered the
        # key still reaches the box.
        Binding("f7", "approve", "survey.key_approve", priority=True, id="survey.approve"),
        Binding("ctrl+s", "save", "survey.key_save", show=False, id="survey.save"),
        Binding(
            "f8", "next_problem", "survey.key_next_problem", show=False, id="survey.next_problem"
        ),
        Binding(
            "ctrl+g", "goto_field", "survey.key_goto_field", show=False, id="survey.goto_field"
        ),
        # priority: a multi-line text field (remarks) would otherwise take f6 (select line)
        Binding(
            "f6",
            "focus_nav",
            "survey.key_sections",
            show=False,
            priority=True,
            id="survey.sections",
        ),
    ]

    DEFAULT_CSS = """
    SurveyScreen #main { width: 1fr; height: 1fr; }
    SurveyScreen #section-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    SurveyScreen #status-line { height: 1; }
    SurveyScreen #record-status { width: 1fr; padding: 0 1; color: $text-muted; }
    """

    app: SurveyorApp

    def __init__(
        self,
        building: BuildingState,
        *,
        resume_field: str | None = None,
        conflicts: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.building = building
        #: Open conflicts in words (``wording.conflict_notes``), by field or reserved key.
        self.conflicts: dict[str, str] = dict(conflicts or {})
        self.answers: dict[str, Any] = dict(building.answers)
        #: The head change of each field as this screen shows it (what the inspector saw):
        #: saved as the parent, so an edit a sync brought in meanwhile becomes a conflict.
        self.seen: dict[str, str | None] = dict(building.field_change)
        self.status = building.status
        self.resume_field = resume_field
        self.section_index = 0
        self.current_field: str | None = None
        self.ev: Evaluation | None = None
        self.problems: list[Problem] = []
        self.show_missing = False
        # Autosave: ``pending`` waits for the timer; ``_queue`` is handed to the save thread.
        self.pending: dict[str, Any] = {}
        self._queue: dict[str, Any] = {}
        self._resume_to_write: str | None = None
        self._resume_written: str | None = resume_field
        self._lock = threading.Lock()
        self._saver_running = False
        #: The batch the save thread is committing right now (not saved until it returns).
        self._in_flight: dict[str, Any] = {}
        self._timer: Timer | None = None
        #: When the oldest answer still in ``pending`` was typed (monotonic), or None.
        self._pending_since: float | None = None
        #: Why the last save failed (a full disk, a locked database), until a save succeeds.
        self.save_error: str | None = None
        #: Why the save thread's last batch failed, set by the thread itself (``save_error``
        #: is set later, by the callback it sends to the message loop); None after a success.
        self._failed: str | None = None
        #: What is waiting for the save thread to finish ("leave", "export", "open",
        #: "complete"), or None.
        self._waiting_for: str | None = None
        self._retry_timer: Timer | None = None
        self._switching = False
        self._section_token = 0
        self._rest_rows: list[FieldRow] = []
        #: Held while a section's rows are removed and mounted.
        self._section_lock = asyncio.Lock()
        #: "This is the first/last section", not said again while shown (PgDn held down).
        self._edge_toast = ToastOnce()
        # Writes made elsewhere (``look_elsewhere``): the watch, opened on mount; a look
        # under way; a reading to take again (set aside, or a field kept back from it).
        self._watch: BuildingWatch | None = None
        self._looking = False
        self._look_again = False
        #: Bumped (under ``_lock``) whenever ``seen`` takes this screen's own save: a reading
        #: of the database taken before it would look like someone else's write.
        self._save_generation = 0
        #: Photo fields whose attach or removal is being written (their heads come with it).
        self._photos_writing: set[str] = set()
        #: (field, head) pairs already said to have changed under the inspector's cursor.
        self._told_kept: set[tuple[str, str | None]] = set()

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield SectionNav(id="nav")
            with Vertical(id="main"):
                yield Static("", id="section-title")
                yield FieldsScroll(id="fields")
                with Horizontal(id="status-line"):
                    yield Static("", id="record-status")
                    yield SaveIndicator(id="save-indicator")
        yield CatalogFooter()

    async def on_mount(self) -> None:
        form = self.app.form
        self.ev = evaluate(form, self.answers)
        index = 0
        focus = None
        if self.resume_field in form.fields:
            sid = form.field(self.resume_field).section_id
            index = next(i for i, s in enumerate(form.sections) if s.id == sid)
            focus = self.resume_field
        self.set_class(self.app.size.width >= WIDE, "-wide")
        self._update_subtitle()
        await self.show_section(index, focus=focus, save=False)
        self._watch = BuildingWatch(self.app.store, self.building.id)
        self.set_interval(LIVE_POLL_SECONDS, self.look_elsewhere)
        if self.status == "approved":
            self.notify(t("survey.approved_warning"), severity="warning", markup=False)
        self._tell_building_conflicts(self.conflicts)

    def _tell_building_conflicts(self, notes: dict[str, str]) -> None:
        """On opening: which fields are in conflict (their notes stand under them, maybe in
        another section), and conflicts on the building itself (a delete, a duplicate, its
        status), which have no field row to stand under."""
        form, lang = self.app.form, language()
        fields = [form.field(key).defn.label.get(lang) for key in notes if key in form.fields]
        if fields:  # a supervisor (on the central) is told where to decide, not to wait
            key = "open_conflicts_central" if self.app.store.role == "central" else "open_conflicts"
            said = t(f"survey.{key}", fields=joined_names(fields, lang))
            self.notify(said, severity="warning", timeout=15, markup=False)
        for key, note in notes.items():
            if key not in form.fields:
                self.notify(note, severity="warning", timeout=15, markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    @property
    def indicator(self) -> SaveIndicator:
        return self.query_one("#save-indicator", SaveIndicator)

    def _mark(self, state: str, *, error: str = "") -> None:
        """Show the save state, if the screen is still there."""
        if is_live(self):
            self.indicator.mark(state, error=error)

    def _update_subtitle(self) -> None:
        if not is_live(self):
            return
        a = self.answers
        parts = [
            self.building.code,
            str(a.get("compound_name") or ""),
            str(a.get("building_no") or ""),
        ]
        self.sub_title = plain(" ".join(p for p in parts if p)).plain
        pct = f"{(self.ev.completeness if self.ev else 0):.0%}"
        self.query_one("#record-status", Static).update(
            plain(
                t(
                    "survey.status_line",
                    code=self.building.code,
                    status=t(f"status.{self.status}"),
                    pct=pct,
                )
            )
        )

    # -- sections -----------------------------------------------------------------------------
    def section_of(self, field_id: str) -> int:
        sid = self.app.form.field(field_id).section_id
        return next(i for i, s in enumerate(self.app.form.sections) if s.id == sid)

    async def show_section(
        self, index: int, *, focus: str | None = None, save: bool = True
    ) -> None:
        """Mount the fields of section ``index`` (only one section is mounted at a time).

        The first rows (a screenful) are mounted and focused at once; the rest of a long
        section follows right after the first frame, so switching feels immediate.
        """
        if save:
            await settle_keys(self)  # a key typed just before PgDn belongs to this section
            self.flush(leaving=True)
        async with self._section_lock:
            if not is_live(self):
                return  # left or quitting meanwhile; everything typed is saved
            self._switching = True
            try:
                await self._show_section(index, focus)
            finally:
                self._switching = False

    async def _show_section(self, index: int, focus: str | None) -> None:
        form, lang = self.app.form, language()
        self.section_index = index
        section = form.sections[index]
        fields = form.section_fields(section.id)
        ev = self.ev
        if focus is None or focus not in {f.id for f in fields}:
            focus = next(
                (
                    f.id
                    for f in fields
                    if f.type != "calculate" and (ev is None or f.id in ev.relevant)
                ),
                None,
            )
        ids = [f.id for f in fields]
        split = max(FIRST_ROWS, ids.index(focus) + 2 if focus in ids else 0)
        rows = [
            FieldRow(
                fld,
                self.answers.get(fld.id),
                lang=lang,
                required=self.is_required(fld),
                blob_dir=self.app.blob_dir,
            )
            for fld in fields
        ]
        self._section_token += 1
        self._rest_rows = rows[split:]
        container = self.query_one("#fields", FieldsScroll)
        with self.app.batch_update():
            # Drop focus first: otherwise it passes through the container, restyling all rows.
            self.set_focus(None)
            await container.remove_children()
            if not is_live(self):
                return
            await container.mount_all(rows[:split])
            if not is_live(self):
                return  # the mount was cut short: the rows may have no editors
            self._show_title(index, lang)
            self.query_one("#nav", SectionNav).current = index
            self.apply_evaluation()
        container.scroll_home(animate=False)
        if focus is not None:
            self.focus_field(focus)
        if self._rest_rows:
            self.call_after_refresh(self._mount_rest, self._section_token)

    def _show_title(self, index: int, lang: str) -> None:
        """The title above the fields: "3/14 结构安全"."""
        form = self.app.form
        title = Text(f"{index + 1}/{len(form.sections)} ")
        title.append_text(plain(form.sections[index].title.get(lang)))
        self.query_one("#section-title", Static).update(title)

    async def _mount_rest(self, token: int) -> None:
        """Mount the rest of the section shown by ``show_section`` call ``token``.

        Runs after the first frame, so the screen may have been left (or the app quit) by then.
        """
        async with self._section_lock:
            if token != self._section_token or not self._rest_rows or not is_live(self):
                return
            rows, self._rest_rows = self._rest_rows, []
            await self.query_one("#fields", FieldsScroll).mount_all(rows)
            self.apply_evaluation()

    async def ensure_section_mounted(self) -> None:
        """Wait until every row of the current section is mounted."""
        await self._mount_rest(self._section_token)

    def _editors(self) -> list[Widget]:
        """The focusable editors of the mounted section that are shown, in form order."""
        out: list[Widget] = []
        for row in self.query(FieldRow):
            if is_live(row) and row.display and row.fld.type != "calculate":
                out.append(row.query_one(f"#{row.field_id}"))
        return out

    def focus_field(self, field_id: str) -> None:
        if not is_live(self):
            return
        try:
            widget = self.query_one(f"#{field_id}")
        except NoMatches:
            return
        self.set_focus(widget)  # at once, not deferred: the next key must land here
        try:  # the whole row, so its message under the field is in view too
            row: Widget | None = self.query_one(f"#row-{field_id}", FieldRow)
        except NoMatches:
            row = None
        (row or widget).scroll_visible(animate=False)

    def is_required(self, fld: CompiledField) -> bool:
        """True if ``fld`` is required with the current answers (the core's evaluation): a
        ``required_if`` field only while its condition holds."""
        if self.ev is None:
            return fld.defn.required
        return fld.id in self.ev.required

    def is_shown(self, field_id: str) -> bool:
        """True if ``field_id`` is shown with the current answers (skip logic, ``relevant``)."""
        return self.ev is None or field_id in self.ev.relevant

    async def goto_field(self, field_id: str) -> None:
        """Show ``field_id``'s section if needed and put the cursor on it.

        A field the skip logic hides is refused with a toast that says why.
        """
        if field_id not in self.app.form.fields or not is_live(self):
            return
        if not self.is_shown(field_id):
            label = self.app.form.field(field_id).defn.label.get(language())
            self.app.notify(t("survey.field_hidden", label=label), severity="warning", markup=False)
            return
        index = self.section_of(field_id)
        if index != self.section_index:
            await self.show_section(index, focus=field_id)
        else:
            await self.ensure_section_mounted()
            self.focus_field(field_id)

    async def action_section(self, step: int) -> None:
        """PgDn/PgUp: the next or previous section; at the last or first one the screen stays
        and says so (PgUp on 调查记录 jumped round to the last section, 意愿与备注)."""
        index = self.section_index + step
        if not 0 <= index < len(self.app.form.sections):
            edge = "survey.first_section" if step < 0 else "survey.last_section"
            self._edge_toast.say(self.app, t(edge), severity="information")
            return
        await self.show_section(index)

    @on(SectionNav.Selected)
    async def nav_selected(self, event: SectionNav.Selected) -> None:
        await self.show_section(event.index)

    def action_focus_nav(self) -> None:
        if is_live(self):
            self.query_one("#nav", SectionNav).focus()

    # -- evaluation -----------------------------------------------------------------------------
    def apply_evaluation(self, *, quiet: str | None = None) -> None:
        """Skip logic, inline messages and progress from the current answers.

        ``quiet`` is the field being typed in: its message waits until the inspector leaves it.
        """
        ev = self.ev
        if ev is None or not is_live(self):
            return
        lang = language()
        for row in self.query(FieldRow):
            if not is_live(row):
                continue  # a row of the section being replaced
            fid = row.field_id
            row.display = fid in ev.relevant
            if row.fld.type == "calculate":
                row.show_calculated(ev.values.get(fid))
                continue
            row.show_required(fid in ev.required)
            warning = ev.warnings.get(fid)
            error = row.shown_error if fid == quiet else self.message_for(fid)
            row.show_messages(error, warning.get(lang) if warning else None)
            row.show_conflict(self.conflicts.get(fid))
        self.update_nav()

    def message_for(self, field_id: str) -> str | None:
        ev = self.ev
        if ev is None:
            return None
        error = ev.errors.get(field_id)
        if error is not None:  # refused: the hint says what is wanted
            return refusal_with_hint(
                self.app.form.field(field_id), error.get(language()), language()
            )
        if self.show_missing and field_id in ev.missing:
            return t("problems.missing")
        return None

    def update_nav(self) -> None:
        ev = self.ev
        if ev is None or not is_live(self):
            return
        form, lang = self.app.form, language()
        items = []
        for section in form.sections:
            fields = [f for f in form.section_fields(section.id) if f.type != "calculate"]
            shown = [f for f in fields if f.id in ev.relevant]
            answered = sum(1 for f in shown if ev.values.get(f.id) is not None)
            errors = sum(1 for f in shown if f.id in ev.errors)
            if self.show_missing:
                errors += sum(1 for f in shown if f.id in ev.missing)
            disputed = sum(1 for f in shown if f.id in self.conflicts)
            title = section.title.get(lang)
            items.append(SectionProgress(section.id, title, answered, len(shown), errors, disputed))
        self.query_one("#nav", SectionNav).set_progress(items)

    # -- editing --------------------------------------------------------------------------------
    def record(self, field_id: str, raw: Any, *, typing: bool = False) -> None:
        """An edit of ``field_id``: update the state, re-evaluate, and queue the save."""
        form = self.app.form
        fld = form.field(field_id)
        if isinstance(raw, str):
            raw = without_controls(raw)  # the core normalises (full-width digits …) per type
        value = draft_value(fld, raw)
        if self.answers.get(field_id) == value and field_id not in self.pending:
            return
        if value is None:
            self.answers.pop(field_id, None)
        else:
            self.answers[field_id] = value
        self.pending[field_id] = raw
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.ev = evaluate(form, self.answers)
        if not is_live(self):
            self.flush()  # the screen is going: no timer, no widgets to update
            return
        self._mark("pending")
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        delay = self.app.settings.autosave_delay
        latest = self._pending_since + max(AUTOSAVE_MAX_WAIT, delay)
        # Never a 0 s timer: Textual's divides by its interval, so a key typed once the
        # longest wait had passed (a busy laptop) crashed it and the answer was not saved.
        wait = max(SHORTEST_TIMER, min(delay, latest - now))
        self._timer = self.set_timer(wait, self.flush)
        self.apply_evaluation(quiet=field_id if typing else None)
        self._update_subtitle()

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        fid = event.input.id
        if self._switching or fid is None or fid not in self.app.form.fields:
            return
        # What the field shows now, not what it showed when it posted: Enter and Tab may
        # have recorded a later key's answer already (``advance_from``, ``focus_next``).
        self.record(fid, event.input.value, typing=True)

    @on(TextArea.Changed)
    def text_area_changed(self, event: TextArea.Changed) -> None:
        fid = event.text_area.id
        if self._switching or fid is None or fid not in self.app.form.fields:
            return
        self.record(fid, event.text_area.text, typing=True)

    @on(ChoiceField.Changed)
    def choice_changed(self, event: ChoiceField.Changed) -> None:
        fid = event.choice.id
        if fid is not None and fid in self.app.form.fields:
            self.record(fid, event.choice.value)  # now, as for an input

    def _record_focused(self) -> None:
        """Record what the focused field shows. Esc runs from the field's own key handler (in
        key order), so the change a key just before it posted is still queued behind it, on
        the field itself, where ``settle_keys`` cannot wait for it."""
        self._record_widget(self.focused)

    def _record_widget(self, widget: Widget | None) -> None:
        """Record what ``widget`` (a field's editor) shows, and so the skip logic it drives."""
        fid = widget.id if widget is not None else None
        if self._switching or fid is None or fid not in self.app.form.fields:
            return
        if isinstance(widget, Input):
            self.record(fid, widget.value, typing=True)
        elif isinstance(widget, TextArea):
            self.record(fid, widget.text, typing=True)
        elif isinstance(widget, ChoiceField):
            self.record(fid, widget.value)

    def advance_from(self, field_id: str) -> None:
        """Enter: focus the next shown field now; after the last one, open the next section.

        The field's answer is recorded first, so the next field is the one it shows: the
        change its last key posted is still queued behind the Enter (keys typed at once all
        wait on the field), and "1 Enter 2 Enter" on 燃气供应 put the 2 into 给水立管材质, past
        the 燃气立管位置 the 1 had just shown.
        """
        with contextlib.suppress(NoMatches):
            self._record_widget(self.query_one(f"#{field_id}"))
        self.flush()
        if not is_live(self):
            return
        ids = [w.id for w in self._editors()]
        if field_id in ids and ids.index(field_id) + 1 < len(ids):
            self.focus_field(str(ids[ids.index(field_id) + 1]))
        elif self._rest_rows:
            self.call_later(self._advance_after_mount, field_id)
        elif self.section_index + 1 < len(self.app.form.sections):
            self._say_errors_left_behind(ids)
            self.call_later(self.show_section, self.section_index + 1)

    def _say_errors_left_behind(self, field_ids: list[str | None]) -> None:
        """Enter past a section's last field opens the next one: an answer there that breaks a
        rule (无 ticked with other programmes) was then shown nowhere but as "!1" beside the
        section's name. Said in a toast, the first such field named."""
        ev = self.ev
        wrong = [fid for fid in field_ids if ev is not None and fid in ev.errors]
        if ev is None or not wrong:
            return
        first = str(wrong[0])
        label = self.app.form.field(first).defn.label.get(language())
        said = t(
            "survey.section_left_wrong",
            n=len(wrong),
            label=label,
            error=ev.errors[first].get(language()),
        )
        self.notify(said, severity="warning", timeout=10, markup=False)

    def focus_next(self, selector: str | type[QueryType] = "*") -> Widget | None:
        """Tab: like Enter, the focused field's answer is recorded first, so the fields it
        shows or hides are in the focus chain or out of it; on a section's last field, like
        Enter, it opens the next section (it put the cursor in the section list, though the
        help says Tab moves on to the next field)."""
        fid = self.focused.id if self.focused is not None else None
        if selector == "*" and fid is not None and self._tab_leaves_the_fields(fid):
            self.advance_from(fid)
            return self.focused
        self._record_focused()
        return super().focus_next(selector)

    def _tab_leaves_the_fields(self, field_id: str) -> bool:
        """True if Tab from ``field_id`` would leave the section's fields for the section
        list (it is the last field shown) while Enter goes on: to the rows still being
        mounted, or to the next section."""
        if self._switching or field_id not in self.app.form.fields:
            return False
        ids = [w.id for w in self._editors()]
        if not ids or ids[-1] != field_id:
            return False
        return bool(self._rest_rows) or self.section_index + 1 < len(self.app.form.sections)

    def focus_previous(self, selector: str | type[QueryType] = "*") -> Widget | None:
        self._record_focused()
        return super().focus_previous(selector)

    async def _advance_after_mount(self, field_id: str) -> None:
        await self.ensure_section_mounted()
        self.advance_from(field_id)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        fid = event.widget.id
        if fid is not None and fid in self.app.form.fields:
            self.current_field = fid
            with self._lock:
                self._resume_to_write = fid

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        widget, fid = event.widget, event.widget.id
        if fid is not None and fid in self.app.form.fields and not self._switching:
            if is_live(widget):
                self._show_as_stored(widget)
                with contextlib.suppress(NoMatches):
                    self.query_one(f"#row-{fid}", FieldRow).show_error(self.message_for(fid))
            self.flush()

    def _show_as_stored(self, widget: Widget) -> None:
        """A field just left shows its text as stored: normalised for its type (full-width
        digits as ASCII), no control characters."""
        fld = self.app.form.field(str(widget.id))
        if isinstance(widget, Input):
            shown = normalize_input(fld, without_controls(widget.value))
            if shown != widget.value:
                with widget.prevent(Input.Changed):
                    widget.value = shown
        elif isinstance(widget, TextArea):
            shown = normalize_input(fld, without_controls(widget.text))
            if shown != widget.text:
                with widget.prevent(TextArea.Changed):
                    widget.load_text(shown)

    # -- saving ---------------------------------------------------------------------------------
    def flush(self, *, leaving: bool = False) -> None:
        """Hand everything pending to the save thread now.

        The resume point travels with the answers, or alone when leaving a section or the
        screen; moving between fields alone does not write to the database.
        """
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._pending_since = None
        with self._lock:
            resume_changed = leaving and (
                self._resume_to_write is not None and self._resume_to_write != self._resume_written
            )
            # A batch that failed is still queued: any flush retries it.
            if not self.pending and not resume_changed and not self._queue:
                return
            self._queue.update(self.pending)
            self.pending = {}
            start = not self._saver_running
            self._saver_running = True
        if self._queue:
            self._mark("saving")
        if start:
            self._saver()

    @work(thread=True, group="autosave", exit_on_error=False)
    def _saver(self) -> None:
        """Commit queued answers, one transaction per batch, until the queue is empty."""
        app, building_id = self.app, self.building.id
        while True:
            with self._lock:
                batch, self._queue = self._queue, {}
                self._in_flight = batch
                seen = {f: self.seen.get(f) for f in batch}
                resume = self._resume_to_write
                write_resume = resume is not None and resume != self._resume_written
                if not batch and not write_resume:
                    self._saver_running = False
                    return
            try:
                result = None
                if batch:
                    result = save_answers(
                        app.store,
                        app.form,
                        building_id,
                        batch,
                        author=app.author,
                        draft=True,
                        lang=language(),
                        seen=seen,
                    )
                    with self._lock:
                        self.seen.update(result.heads)
                        self._save_generation += 1
                if write_resume and resume is not None:
                    set_resume_point(app.store, building_id, resume)
                    with self._lock:
                        self._resume_written = resume
            except Exception as exc:
                transient = is_transient(exc)
                reason = t("save.disk_full") if isinstance(exc, DiskFull) else error_text(exc)
                with self._lock:
                    if transient:
                        self._queue = batch | self._queue  # keep it; newer edits win
                        self._failed = reason
                    self._in_flight = {}
                    self._saver_running = False
                if transient:
                    self._call_ui(self._save_failed, reason)
                else:  # refused for good (the building was deleted meanwhile …): say what
                    self._call_ui(self._save_refused, reason, sorted(batch))
                return
            with self._lock:
                self._in_flight = {}
                self._failed = None
            if result is not None:
                self._call_ui(self._saved, result)
                if result.conflicts or not self.conflicts.keys().isdisjoint(batch):
                    self._reread_conflicts()

    def _reread_conflicts(self) -> None:
        """After a save started a conflict or edited a conflicted field (its value is now one
        of the heads): the notes as the database has them now. Runs in the save thread."""
        try:
            notes = conflict_notes(self.app.store, self.app.form, self.building.id, language())
        except Exception:  # only words: the answers are saved, the next save tries again
            return
        self._call_ui(self._show_conflicts, notes)

    def _show_conflicts(self, notes: dict[str, str]) -> None:
        self.conflicts = notes
        self.apply_evaluation()

    def _call_ui(self, callback: Any, *args: Any) -> None:
        # RuntimeError: the app is shutting down; the data is committed already.
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(callback, *args)

    def _took_status(self, result: SaveResult) -> None:
        """Show the status a save left; say so when it withdrew the supervisor's approval or
        took a complete record back to draft (a required answer cleared, without a word)."""
        self.status = result.status
        self.refresh_bindings()  # F7 is offered for a complete building only
        said = [
            t(key, code=result.code)
            for key, happened in (
                ("survey.approval_withdrawn", result.approval_withdrawn),
                ("survey.back_to_draft", result.back_to_draft),
            )
            if happened
        ]
        if said:
            self.app.notify(" ".join(said), severity="warning", timeout=10, markup=False)

    def _saved(self, result: SaveResult) -> None:
        self._took_status(result)
        if result.started:
            self._show_started(result.started)
        if result.conflicts:
            self.tell_conflicts(result.conflicts)
        if self.save_error is not None:
            self.save_error = None
            self.notify(t("save.recovered"), markup=False)
        self._show_saved()

    def _show_saved(self) -> None:
        """The indicator says "saved" with the time, unless answers typed since still wait."""
        with self._lock:
            idle = not self._queue and not self.pending
        if idle:
            self._mark("saved")
            self._update_subtitle()

    def _show_started(self, started: dict[str, Any]) -> None:
        """The answers the first save started the survey with (the form's defaults: today's
        date, the inspector's name), in ``answers`` as saved and shown in their fields.

        Only a field typed in since (its answer is saved next, over the default) keeps what
        it holds. The field with the cursor used to be left out of ``answers`` too, so the
        screen showed 调查人 empty and 「未填写」 while the database held the name; it now
        shows the default selected, as arriving in a field does (``_show_default``).
        """
        with self._lock:
            typed = self.pending.keys() | self._queue.keys() | self._in_flight.keys()
        for fid, value in started.items():
            if fid in typed:
                continue
            self.answers[fid] = value
            self._show_default(fid, value)
        self.ev = evaluate(self.app.form, self.answers)
        self.apply_evaluation()

    def _show_default(self, field_id: str, value: Any) -> None:
        """Show a default the save filled in ``field_id``'s input (none: another section,
        shown from the answers when opened). An input holding text is left alone: those are
        keys typed as the save came back, recorded (and saved over the default) when their
        change arrives. The focused one gets the default selected, so a key still on its way
        replaces it as it would on arriving in the field."""
        if not is_live(self):
            return
        shown = display_value(self.app.form.field(field_id), value, language())
        for widget in self.query(f"#{field_id}").results(Input):
            if widget.value:
                continue
            with widget.prevent(Input.Changed):
                widget.value = shown
            if widget.has_focus:
                widget.select_all()

    def tell_conflicts(self, field_ids: tuple[str, ...]) -> None:
        """Someone else changed these fields since the screen loaded them (a sync brought it
        in): both answers are kept as a conflict for the supervisor, this one shown for now."""
        form, lang = self.app.form, language()
        labels = joined_names([form.field(f).defn.label.get(lang) for f in field_ids], lang)
        self.app.notify(
            t("survey.conflict_started", fields=labels),
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _save_failed(self, error: str) -> None:
        """Keep what failed queued, say so once, and retry every few seconds: the inspector
        may free disk space (or another program release the database) without typing again."""
        first = self.save_error is None
        self.save_error = error
        self._mark("error", error=error)
        if first:
            self.notify(
                t("save.error_retrying", error=error), severity="error", timeout=10, markup=False
            )
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        if is_live(self):
            self._retry_timer = self.set_timer(SAVE_RETRY_SECONDS, self._retry_save)

    def _save_refused(self, error: str, fields: list[str]) -> None:
        """A save that can never succeed is not retried (it would block leaving for ever)."""
        self._mark("error", error=error)
        form, lang = self.app.form, language()
        labels = joined_names(
            [form.field(f).defn.label.get(lang) for f in fields if f in form.fields], lang
        )
        self.notify(
            t("save.refused", fields=labels, error=error),
            severity="error",
            timeout=15,
            markup=False,
        )

    def _retry_save(self) -> None:
        self._retry_timer = None
        if self.save_error is not None:
            self.flush()

    def tell_unsaved(self) -> None:
        self.notify(
            t("survey.unsaved_stay", n=self.unsaved(), error=self.unsaved_reason()),
            severity="error",
            timeout=10,
            markup=False,
        )

    def tell_export_unsaved(self) -> None:
        """The export dialog waits for the answers: a sheet now would miss them."""
        self.notify(
            t("survey.export_unsaved", n=self.unsaved(), error=self.unsaved_reason()),
            severity="error",
            timeout=10,
            markup=False,
        )

    def unsaved_reason(self) -> str:
        """Why answers are not saved yet: the last save's error, or the database still busy.

        ``save_error`` alone was empty while the save thread still waited for another
        program's lock, and for a moment after it failed: "未能保存（）"."""
        with self._lock:
            failed = self._failed
        return self.save_error or failed or t("app.still_saving")

    def text_not_recorded(self) -> tuple[str, str] | None:
        """A choice list's label and the text left in its filter that matches no option
        (remarks meant for the box below, typed into the choice the skip logic put before
        it), or None. Quitting would drop it: the first ``ctrl+q`` says so instead."""
        if not is_live(self):
            return None
        for choice in self.query(ChoiceField):
            if choice.unmatched:
                return choice.label or str(choice.id), choice.filter_text
        return None

    def unsaved(self) -> int:
        """How many answers are not committed yet (typed, queued or failed)."""
        with self._lock:
            return len(set(self.pending) | set(self._queue) | set(self._in_flight))

    async def save_now(self, timeout: float | None = None) -> bool:
        """Commit everything pending and wait for it (leaving the screen, quitting); True
        when all of it is committed, False when a save failed or did not finish in time."""
        await self.start_saving()
        wait = SAVE_WAIT_SECONDS if timeout is None else timeout
        return await self.wait_all_saved(asyncio.get_running_loop().time() + wait)

    async def start_saving(self) -> None:
        """Hand everything typed to the save thread now, the resume point with it.

        Keys already sent to the focused field are handled first: typed right before
        ``ctrl+q`` or ``esc``, they are still queued when the app runs the quit.
        """
        await settle_keys(self)
        self._record_focused()
        self.flush(leaving=True)

    @property
    def saving(self) -> bool:
        """True while the save thread is at work (a lock held elsewhere keeps it waiting)."""
        with self._lock:
            return self._saver_running

    async def wait_saved(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the save thread; True when everything is
        committed, False when a save failed or is still running (a lock held elsewhere)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if not self._saver_running:
                    return not self._queue and not self.pending
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)

    @property
    def save_failed(self) -> bool:
        """True when the save thread's last batch failed (retried later), until one succeeds."""
        with self._lock:
            return self._failed is not None

    async def wait_all_saved(self, deadline: float) -> bool:
        """Wait until ``deadline`` (the event loop's clock) for every answer to be committed,
        those typed during the wait too: they are handed to the save thread as soon as it
        finishes. True when all is committed; False when a save failed, the deadline passed
        or the screen is gone.

        Leaving, the export, another building, F9 and quit all wait this way: quit used to
        wait for the save thread alone, so an answer typed meanwhile made it refuse with
        "the database is busy" once the lock was released (and a second ``ctrl+q`` lost it).
        """
        loop = asyncio.get_running_loop()
        while not await self.wait_saved(max(0.0, deadline - loop.time())):
            if self.save_failed or self.saving or loop.time() >= deadline or not is_live(self):
                return False
            await self.start_saving()  # typed while it waited: those are saved too
        return True

    def action_save(self) -> None:
        self.flush()

    async def after_saving(
        self,
        what: str,
        then: Callable[[], Awaitable[None]],
        refuse: Callable[[], None],
    ) -> None:
        """Commit everything typed, then run ``then``; if it cannot be saved, ``refuse``.

        ``what`` ("leave", "export", "open" another building, "complete") names the action in
        the toasts. A save that takes longer than ``SAVE_QUIET_SECONDS`` (another program
        holds the database's write lock) is waited for in a worker, after a toast says so:
        the wait used to hold the message loop of the key's handler (or the app's), so for up
        to 10 s no key was acted on and nothing was said, then "未能保存（）" without a
        reason. Asked again meanwhile, it says it is still waiting. Quit waits the same way
        (``wait_all_saved``, from the app's ``action_quit``).
        """
        if self._waiting_for is not None:
            self.notify(t("survey.still_waiting"), severity="warning", markup=False)
            return
        await self.start_saving()
        loop = asyncio.get_running_loop()
        if await self.wait_all_saved(loop.time() + SAVE_QUIET_SECONDS):
            await then()
            return
        if self.save_failed and not self.saving:  # a full disk, a lock given up on: say so
            refuse()
            return
        self._waiting_for = what
        self.notify(
            t(f"survey.{what}_waiting", n=self.unsaved(), seconds=round(SAVE_WAIT_SECONDS)),
            severity="warning",
            timeout=SAVE_WAIT_SECONDS,
            markup=False,
        )
        rest = max(0.0, SAVE_WAIT_SECONDS - SAVE_QUIET_SECONDS)
        self.run_worker(
            self._once_saved(then, refuse, rest), group="save-wait", exit_on_error=False
        )

    async def _once_saved(
        self, then: Callable[[], Awaitable[None]], refuse: Callable[[], None], wait: float
    ) -> None:
        """The rest of ``after_saving``: ``then`` once everything is committed (answers typed
        meanwhile too), else ``refuse``."""
        loop = asyncio.get_running_loop()
        try:
            saved = await self.wait_all_saved(loop.time() + wait)
        finally:
            self._waiting_for = None
        if not is_live(self):
            return  # quit meanwhile: the quit saved (or said) the rest
        if saved:
            await then()
        else:
            refuse()

    async def action_back(self) -> None:
        await self.after_saving("leave", self._leave, self.tell_unsaved)

    @property
    def on_top(self) -> bool:
        """True when this screen is the one shown, no dialog over it (Textual's
        ``is_current`` is true under a dialog too: leaving then closed the help instead)."""
        return is_live(self) and self.app.screen is self

    async def _leave(self) -> None:
        if self.on_top:
            self.dismiss(None)
        elif is_live(self):  # a dialog (F1) opened over it while it waited
            self.notify(t("survey.saved_can_leave"), markup=False)

    def on_screen_suspend(self) -> None:
        self.flush(leaving=True)

    def on_screen_resume(self) -> None:
        self.look_elsewhere()  # back from a dialog, or from another screen

    def on_unmount(self) -> None:
        """Gone: no timer may fire on this screen any more; whatever is pending is handed to
        the save thread (``save_now`` has normally committed everything before)."""
        for timer in (self._timer, self._retry_timer):
            if timer is not None:
                timer.stop()
        self._timer = self._retry_timer = None
        self.flush(leaving=True)
        if self._watch is not None:
            self._watch.close()

    # -- completion -----------------------------------------------------------------------------
    async def action_complete(self) -> None:
        """Check and mark the building complete once its answers are saved (waited for like
        leaving: it used to hold the key's handler up to 10 s under another program's lock)."""
        await self.after_saving(
            "complete", partial(self._status_once_saved, "complete"), self.tell_unsaved
        )

    # -- approval (a supervisor, on a central) ----------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F7 is the supervisor's, on a central: an inspector's laptop approves nothing (its
        approval would sync up as the supervisor's), and only a complete building is approved;
        elsewhere it is neither shown nor acted on."""
        if action == "approve":
            return approves_here(self.app.store) and self.status == "complete"
        return True

    async def action_approve(self) -> None:
        """Approve the building once its answers are saved (waited for as F9 waits): through
        the write path, which refuses it while a conflict is open, saying so."""
        await self.after_saving(
            "approve", partial(self._status_once_saved, "approved"), self.tell_unsaved
        )

    async def _status_once_saved(self, status: str) -> None:
        if self.on_top:
            self._set_status(status)
        elif is_live(self):  # a dialog (F1) opened over it while it waited
            again = "complete" if status == "complete" else "approve"
            self.notify(t(f"survey.saved_{again}_again"), markup=False)

    @work(thread=True, group="status", exit_on_error=False)
    def _set_status(self, status: str) -> None:
        """F9 (complete) or F7 (approved) through the write path. A refusal for missing or
        wrong answers lists them; any other failure (an open conflict, a locked database, a
        bug) is said: F9 said nothing, F7 let all but a refusal end the thread unseen."""
        app = self.app
        completing = status == "complete"
        try:
            result = set_status(
                app.store, app.form, self.building.id, status, author=app.author, lang=language()
            )
        except IncompleteRecord as exc:
            self._call_ui(self._refused, list(exc.errors))
            return
        except Exception as exc:
            failed = self._save_failed if completing else self._approval_refused
            self._call_ui(failed, error_text(exc))
            return
        self._call_ui(self._completed if completing else self._approved, result)

    def _approval_refused(self, said: str) -> None:
        self.app.notify(said, severity="error", timeout=10, markup=False)

    def _approved(self, result: SaveResult) -> None:
        self._took_status(result)
        self._update_subtitle()
        self.app.notify(t("survey.approved", code=result.code), markup=False)

    def _completed(self, result: SaveResult) -> None:
        self._took_status(result)
        self.problems = []
        self.show_missing = False
        self._update_subtitle()
        self.apply_evaluation()
        self.app.notify(t("survey.completed", code=result.code), markup=False)

    def _refused(self, field_ids: list[str]) -> None:
        from surveyor.tui.modals.problems import ProblemsModal

        if not is_live(self):
            return  # left meanwhile: the record simply stays a draft
        self.problems = self.problems_for(field_ids)
        self.show_missing = True
        self.apply_evaluation()

        async def jump(field_id: str | None) -> None:
            if field_id is not None:
                await self.goto_field(field_id)

        self.app.push_screen(ProblemsModal(self.problems, self.problems_for), jump)

    def problems_for(self, field_ids: Collection[str]) -> list[Problem]:
        """The fields that stop completion, in the form's order, worded in the current
        language: F9's list, and the same list again after F2 in it."""
        form, lang = self.app.form, language()
        titles = {s.id: s.title.get(lang) for s in form.sections}
        return [
            Problem(
                fid,
                titles[form.field(fid).section_id],
                form.field(fid).defn.label.get(lang),
                self.message_for_problem(fid),
            )
            for fid in form.fields
            if fid in field_ids
        ]

    def still_a_problem(self, field_id: str) -> bool:
        """True if ``field_id``, listed by F9, still stops completion with the current answers
        (unanswered though required, or refused); F8 skips the ones fixed since."""
        ev = self.ev
        return ev is None or field_id in ev.errors or field_id in ev.missing

    def message_for_problem(self, field_id: str) -> str:
        ev = self.ev
        if ev is not None and field_id in ev.errors:
            return ev.errors[field_id].get(language())
        return t("problems.missing")

    def action_next_problem(self) -> None:
        if not self.problems:  # F8 walks the list F9 makes; it did nothing, without a word
            self.notify(t("survey.no_problem_list"), markup=False)
            return
        ids = [p.field_id for p in self.problems if self.still_a_problem(p.field_id)]
        if not ids:  # it went back to a field fixed already, as if nothing had changed
            self.notify(t("survey.no_problems_left"), markup=False)
            return
        order = list(self.app.form.fields)
        here = order.index(self.current_field) if self.current_field in order else -1
        after = [fid for fid in ids if order.index(fid) > here]
        # Later, from the screen: run from a field's key handler (keys run in order), waiting
        # here for another section would wait for that very field's removal, for ever.
        self.call_later(self.goto_field, after[0] if after else ids[0])

    # -- photos ---------------------------------------------------------------------------------
    @on(PhotoField.AttachRequested)
    def attach_requested(self, event: PhotoField.AttachRequested) -> None:
        from surveyor.tui.modals.attach_photo import AttachPhotoModal

        fid = event.photo_field.id
        if fid is None:
            return
        try:  # a full field is said before the inspector types a path and a caption
            check_room_for_photo(self.app.form.field(fid), photos_of(self.answers, fid))
        except SurveyorError as exc:
            self.notify(error_text(exc), severity="warning", markup=False)
            return
        label = self.app.form.field(fid).defn.label  # both languages: F2 relabels the dialog

        def chosen(request: PhotoRequest | None) -> None:
            if request is not None:
                self.flush()
                self._change_photos(
                    fid, "attach", attach_photo, request.path, caption=request.caption
                )

        self.app.push_screen(AttachPhotoModal(label), chosen)

    @on(PhotoField.RemoveRequested)
    def remove_requested(self, event: PhotoField.RemoveRequested) -> None:
        from surveyor.tui.modals.attach_photo import RemovePhotoModal

        fid = event.photo_field.id
        if fid is None:
            return
        photos = photos_of(self.answers, fid)
        if not photos:
            self.notify(t("survey.no_photo_to_remove"), severity="warning", markup=False)
            return
        label = self.app.form.field(fid).defn.label

        def chosen(sha256: str | None) -> None:
            if sha256:
                self.flush()
                self._change_photos(fid, "remove", remove_photo, sha256)

        self.app.push_screen(RemovePhotoModal(label, photos), chosen)

    @work(thread=True, group="autosave", exit_on_error=False)
    def _change_photos(
        self, field_id: str, how: str, service: Callable[..., SaveResult], *args: Any, **kw: Any
    ) -> None:
        """Attach or remove one photo through the core service (in a save thread), then show
        the field."""
        app = self.app
        with self._lock:
            self._photos_writing.add(field_id)
        try:
            result = service(
                app.store,
                app.form,
                self.building.id,
                field_id,
                *args,
                author=app.author,
                lang=language(),
                **kw,
            )
            state = get_building(app.store, self.building.id)
            with self._lock:
                self.seen[field_id] = state.field_change.get(field_id)
                self._save_generation += 1
        except Exception as exc:  # refused, a locked database, a bug: said, not dropped
            # Not a failed save: nothing is queued to retry, the answers are all saved.
            self._call_ui(self._photo_refused, error_text(exc))
            return
        finally:
            with self._lock:
                self._photos_writing.discard(field_id)
        self._call_ui(self._photos_changed, field_id, state.answers.get(field_id), result, how)

    def _photo_refused(self, error: str) -> None:
        self.notify(t("survey.photo_refused", error=error), severity="warning", markup=False)

    def _photos_changed(self, field_id: str, photos: Any, result: SaveResult, how: str) -> None:
        self.answers.pop(field_id, None)
        if photos:
            self.answers[field_id] = photos
        self._took_status(result)
        self.ev = evaluate(self.app.form, self.answers)
        if is_live(self):
            # NoMatches: another section is shown now; the value is in the state already.
            with contextlib.suppress(NoMatches):
                self.query_one(f"#{field_id}", PhotoField).set_photos(list(photos or []))
            self.apply_evaluation()
            self._update_subtitle()
        self._show_saved()  # a photo is an answer saved like any other (it said nothing)
        if how == "remove":
            self.app.notify(t("survey.photo_removed"), markup=False)
            return
        from surveyor.tui.widgets.photo_field import human_size

        size = sum(int(p.get("size", 0)) for p in photos or [])
        self.app.notify(t("survey.photo_added", size=human_size(size)), markup=False)

    # -- writes made elsewhere ---------------------------------------------------------------------
    def look_elsewhere(self) -> None:
        """Every ``LIVE_POLL_SECONDS`` and on coming back to the screen: read the building
        again if another program committed to the database (a photo added by ``surveyor photo
        add``, a sync's resolution), in a thread. The screen showed the old photos and answers
        until the building was opened again."""
        if self._looking or self._watch is None or not is_live(self):
            return
        self._looking = True
        self._read_elsewhere(self._watch)

    @work(thread=True, group="live", exit_on_error=False)
    def _read_elsewhere(self, watch: BuildingWatch) -> None:
        with self._lock:
            generation = self._save_generation
            again, self._look_again = self._look_again, False
        state, notes = None, None
        try:
            state = watch.poll(force=again)
            if state is not None and (state.conflict_count or self.conflicts):
                app = self.app
                notes = conflict_notes(app.store, app.form, self.building.id, language())
        except Exception:  # a locked or damaged database: the next save says what is wrong
            state = None
        self._call_ui(self._take_elsewhere, state, notes, generation)

    def _take_elsewhere(
        self, state: BuildingState | None, notes: dict[str, str] | None, generation: int
    ) -> None:
        """Show what another program stored: answers of the fields it changed, the status,
        the conflict notes. A field being typed in (or with the cursor in it) keeps its text,
        and the inspector is told (``_say_kept``); it takes the stored answer once left, or
        its own answer is saved over it as a conflict."""
        self._looking = False
        if state is None or not is_live(self):
            return
        if self._switching:  # rows made from the answers, not mounted yet: read again later
            self._look_again = True
            return
        with self._lock:
            if generation != self._save_generation:  # read before this screen's own save
                self._look_again = True
                return
            typed = self.pending.keys() | self._queue.keys() | self._in_flight.keys()
            typed |= self._photos_writing
        focused = self.focused.id if self.focused is not None else None
        shown, kept = [], []
        for fid in sorted(changed_elsewhere(state, self.seen)):
            value = state.answers.get(fid)
            row = self._row_of(fid)
            under_cursor = row is not None and fid == focused and row.holds_typing()
            if fid in typed or (under_cursor and row is not None and not row.shows(value)):
                kept.append(fid)
                continue
            with self._lock:
                self.seen[fid] = state.field_change.get(fid)
            if self.answers.get(fid) == value:
                continue
            shown.append(fid)
            self._take_answer(fid, value, row)
        self._look_again = bool(kept)  # read again until the field is left
        if notes is not None:
            self.conflicts = notes
        if state.status != self.status:
            self.status = state.status
            self.refresh_bindings()  # F7 is offered for a complete building only
        self.ev = evaluate(self.app.form, self.answers)
        self.apply_evaluation(quiet=focused)
        self._update_subtitle()
        self._say_elsewhere(shown, state, kept)

    def _row_of(self, field_id: str) -> FieldRow | None:
        """The row of ``field_id`` in the section shown, mounted or still to be mounted."""
        rows: list[FieldRow] = [*self.query(FieldRow), *self._rest_rows]
        return next((row for row in rows if row.field_id == field_id), None)

    def _take_answer(self, field_id: str, value: Any, row: FieldRow | None) -> None:
        """``value``, stored elsewhere, as this screen's answer, shown in its row if any."""
        if value is None:
            self.answers.pop(field_id, None)
        else:
            self.answers[field_id] = value
        if row is not None:
            row.show_value(value)

    def _say_elsewhere(self, shown: list[str], state: BuildingState, kept: list[str]) -> None:
        """Name the fields shown anew, and those kept as the inspector has them (once for each
        answer stored under them)."""
        form, lang = self.app.form, language()

        def names(fields: list[str]) -> str:
            labels = [form.field(f).defn.label.get(lang) for f in fields if f in form.fields]
            return joined_names(labels, lang)

        if labels := names(shown):
            self.notify(t("survey.changed_elsewhere", fields=labels), markup=False)
        heads = state.field_change
        new = [f for f in kept if (f, heads.get(f)) not in self._told_kept]
        self._told_kept.update((f, heads.get(f)) for f in new)
        if labels := names(new):
            said = t("survey.changed_under_you", fields=labels)
            self.notify(said, severity="warning", timeout=10, markup=False)

    # -- language, palette ------------------------------------------------------------------------
    async def refresh_language(self) -> None:
        """F2: the section's rows in the new language, relabelled in place. The section was
        mounted again: the field being typed in, focused anew, selected its text (19, F2, 85
        gave 85; 1, F2, 2 saved 2 floors) and the remarks box put its cursor at the start."""
        self._update_subtitle()
        async with self._section_lock:  # rows being swapped are relabelled once they are in
            if not is_live(self):
                return
            # The save state is worded when drawn: drawn again ("已保存 18:24:25" stayed in
            # the old language until the next save), its width with it.
            self.indicator.refresh(layout=True)
            lang = language()
            focused = self.focused
            for row in [*self.query(FieldRow), *self._rest_rows]:
                editor_focused = focused is not None and focused.id == row.field_id
                row.relabel(lang, self.answers.get(row.field_id), focused=editor_focused)
            self._show_title(self.section_index, lang)
            # The field being typed in stays quiet, as while typing; a message it shows
            # already is said again in the new language.
            quiet = focused.id if focused is not None else None
            self.apply_evaluation(quiet=quiet)
            if quiet is not None and quiet in self.app.form.fields:
                with contextlib.suppress(NoMatches):
                    row = self.query_one(f"#row-{quiet}", FieldRow)
                    if row.shown_error is not None:
                        row.show_error(self.message_for(quiet))
        if self.conflicts:
            self._reread_conflicts_now()

    @work(thread=True, group="conflict-notes", exit_on_error=False)
    def _reread_conflicts_now(self) -> None:
        """The conflict notes in the new language (they are sentences, read in the old one)."""
        self._reread_conflicts()

    def action_goto_field(self) -> None:
        from surveyor.tui.commands import FieldsProvider, Palette

        self.app.push_screen(Palette(providers=[FieldsProvider], placeholder=t("cmd.go_field")))
