"""Export screen: sheets, labels, report and data exports with a progress bar and cancel.

Self-contained (its strings come from the catalog, in the language it is opened in) and given
the store and form by its caller, so it can be opened from any screen:
``app.push_screen(ExportScreen(app.store, app.form, folder))``. Opened over a building (the
survey, or a row of the list) it also offers that building alone: one sheet, one lost label.
The work runs in a thread worker through ``surveyor.exports.service``; rendering itself uses
all cores. Cancel stops between chunks of pages and leaves no file.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from surveyor.exports.labels import DEFAULT_LABEL_LAYOUT, label_layouts
from surveyor.exports.render import Cancelled
from surveyor.forms.model import Form
from surveyor.i18n import error_text, t_in
from surveyor.store.db import Store
from surveyor.tui.lifecycle import is_live
from surveyor.tui.modals.dialog import Dialog

#: Export kinds (their names are ``export.kind_<code>`` in the catalog) and the file names
#: offered (the CLI's examples' names: "csv.csv" said nothing).
KINDS: tuple[tuple[str, str], ...] = (
    ("sheets", "sheets.pdf"),
    ("labels", "labels.pdf"),
    ("report", "report.pdf"),
    ("csv", "survey.csv"),
    ("xlsx", "survey.xlsx"),
    ("geojson", "buildings.geojson"),
)
#: The status filter's choices: one status, or "complete or approved": the surveyed buildings,
#: whose needs the report counts and whose labels carry the need classes.
STATUS_CHOICES: tuple[tuple[str, ...], ...] = (
    ("complete",),
    ("approved",),
    ("complete", "approved"),
    ("draft",),
    ("not_started",),
)


def unused_name(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… if it exists: the name offered for an
    export, which never replaces a file already written."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class ExportScreen(Dialog[Path | None]):
    """Returns the written path, or None when closed without exporting."""

    DEFAULT_CSS = """
    ExportScreen #export-message { height: auto; }
    """
    HELP_OVERVIEW = "help.export_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "export.close", id="export.close")
    ]
    RELABELS = False  # worded in ``lang`` throughout, and possibly busy exporting

    def __init__(
        self,
        store: Store,
        form: Form,
        folder: Path,
        lang: str = "zh",
        *,
        building: str | None = None,
        building_first: bool = False,
    ) -> None:
        """``building``: the code of the building the dialog was opened over, offered as the
        scope (chosen at first when ``building_first``: opened from its survey)."""
        super().__init__(id="export-screen")
        self.store = store
        self.form = form
        self.folder = folder
        self.lang = lang
        self.building = building
        self.building_first = building is not None and building_first
        #: The name last offered for the output, and the base it was made from.
        self._offered: tuple[Path, str] = (Path(), "")
        self.cancel_event = threading.Event()
        self.running = False
        self.written: Path | None = None

    def tr(self, key: str, **kw: object) -> str:
        return t_in(self.lang, f"export.{key}", **kw)

    def compose(self) -> ComposeResult:
        sub = self.form.field("subdistrict")
        with Vertical():
            yield Static(self.tr("title"), classes="title")
            yield Label(self.tr("kind"))
            yield Select(
                [(self.tr(f"kind_{code}"), code) for code, _name in KINDS],
                value="sheets",
                allow_blank=False,
                id="export-kind",
                compact=True,
            )
            yield Label(self.tr("layout"), id="export-layout-label", classes="labels-only")
            yield Select(
                [(title, name) for name, title in label_layouts(self.lang)],
                value=DEFAULT_LABEL_LAYOUT,
                allow_blank=False,
                id="export-layout",
                compact=True,
                classes="labels-only",
            )
            yield Label(self.tr("start_at"), classes="labels-only")
            yield Input(
                placeholder="1",
                type="integer",
                id="export-start-at",
                compact=True,
                classes="labels-only",
            )
            if self.building is not None:
                yield Label(self.tr("scope"))
                yield Select(
                    [
                        (self.tr("scope_building", code=self.building), "building"),
                        (self.tr("scope_filter"), "filter"),
                    ],
                    value="building" if self.building_first else "filter",
                    allow_blank=False,
                    id="export-scope",
                    compact=True,
                )
            yield Label(self.tr("status"), classes="filter-only")
            yield Select(
                [(self._statuses_label(c), c) for c in STATUS_CHOICES],
                prompt=t_in(self.lang, "list.all_statuses"),  # blank: every status
                id="export-status",
                compact=True,
                classes="filter-only",
            )
            yield Label(self.tr("subdistrict"), classes="filter-only")
            yield Select(
                [(c.label(self.lang), c.code) for c in sub.choices],
                prompt=t_in(self.lang, "list.all_subdistricts"),
                id="export-subdistrict",
                compact=True,
                classes="filter-only",
            )
            yield Label(self.tr("out"))
            yield Input(id="export-out", compact=True)  # named on mount, for kind and scope
            bar = ProgressBar(id="export-progress", show_eta=True)
            bar.display = False  # until an export starts: an idle bar looked busy
            yield bar
            yield Static("", id="export-message")
            with Horizontal():
                yield Button(self.tr("close"), id="export-close", compact=True)
                yield Button(self.tr("cancel"), id="export-cancel", disabled=True, compact=True)
                yield Button(self.tr("start"), variant="primary", id="export-start", compact=True)

    def _statuses_label(self, codes: tuple[str, ...]) -> str:
        """已完成或已审核 / complete or approved."""
        joiner = t_in(self.lang, "export.status_or")
        return joiner.join(t_in(self.lang, f"status.{c}") for c in codes)

    def _offer(self, base: Path) -> None:
        """Offer ``base``, or ``base-2``… when it exists (an export never replaces a file)."""
        box = self.query_one("#export-out", Input)
        box.value = str(unused_name(base))
        self._offered = (base, box.value)

    def _suggest_next_name(self) -> None:
        """After an export, a new name: the next of the series offered (labels-3.pdf after
        labels-2.pdf, not labels-2-2.pdf), or of the name the user typed."""
        typed = self.query_one("#export-out", Input).value
        base, offered = self._offered
        self._offer(base if typed == offered else Path(typed))

    def on_mount(self) -> None:
        self._show_layout_for(str(self.query_one("#export-kind", Select).value))
        self._show_filters()
        self._rename_for("sheets")

    def _one_building(self) -> bool:
        """Whether the export is of the building the dialog was opened over, alone."""
        scope = self.query("#export-scope")
        return bool(scope) and scope.first(Select).value == "building"

    def _default_path(self, kind: str, folder: Path | None = None) -> Path:
        """``sheets.pdf``, or ``sheets-NK-….pdf`` for one building (its file says whose)."""
        name = Path(dict(KINDS)[kind])
        if self.building is not None and self._one_building():
            name = name.with_stem(f"{name.stem}-{self.building}")
        return (folder or self.folder) / name

    def _show_filters(self) -> None:
        """Status and 街道 filters are asked only when the scope is not one building."""
        one = self._one_building()
        for widget in self.query(".filter-only"):
            widget.display = not one

    @on(Select.Changed, "#export-scope")
    def scope_changed(self) -> None:
        self._show_filters()
        self._rename_for(str(self.query_one("#export-kind", Select).value))

    def _show_layout_for(self, kind: str) -> None:
        """The label layout is asked only for labels."""
        for widget in self.query(".labels-only"):
            widget.display = kind == "labels"

    @on(Select.Changed, "#export-kind")
    def kind_changed(self, event: Select.Changed) -> None:
        """Keep the output name's extension in step with the kind."""
        self._show_layout_for(str(event.value))
        self._rename_for(str(event.value))

    def _rename_for(self, kind: str) -> None:
        """The name offered for ``kind`` and the scope, in the folder already chosen."""
        box = self.query_one("#export-out", Input)
        folder = Path(box.value).parent if box.value.strip() else self.folder
        self._offer(self._default_path(kind, folder))

    def _selection_args(self) -> tuple[list[str], list[str], list[str]]:
        """``--where``, ``--status`` (any of them) and ``--building`` as the CLI would be
        given them."""
        if self._one_building():
            assert self.building is not None
            return [], [], [self.building]
        status = self.query_one("#export-status", Select).value
        sub = self.query_one("#export-subdistrict", Select).value
        where = [f"subdistrict={sub}"] if isinstance(sub, str) else []
        return where, list(status) if isinstance(status, tuple) else [], []

    @on(Input.Submitted, "#export-out")
    @on(Button.Pressed, "#export-start")
    def start(self) -> None:
        if self.running:
            return
        kind = str(self.query_one("#export-kind", Select).value)
        layout = str(self.query_one("#export-layout", Select).value)
        # The whole path, said in the result: "Wrote sheets.pdf" did not say where.
        out = Path(self.query_one("#export-out", Input).value.strip()).expanduser().absolute()
        where, status, buildings = self._selection_args()
        start_at = self._start_position()
        self.cancel_event.clear()
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._set_running(True)
        self.query_one("#export-message", Static).update(self.tr("running"))
        self.run_export(kind, layout, out, where, status, buildings, start_at)

    def _start_position(self) -> int:
        """The label position to start at: 1 when left empty; something that is no number
        (a lone "-") is 0, which the export refuses saying the positions the stock has."""
        typed = self.query_one("#export-start-at", Input).value.strip()
        try:
            return int(typed) if typed else 1
        except ValueError:
            return 0

    def _set_running(self, running: bool) -> None:
        """Start and cancel swap, and the focus goes to the one that can be pressed (Enter
        cancels a running export; the disabled start button kept the focus, unmoved by Tab)."""
        self.running = running
        start = self.query_one("#export-start", Button)
        cancel = self.query_one("#export-cancel", Button)
        if running:
            cancel.disabled = False
            cancel.focus()
            start.disabled = True
        else:
            start.disabled = False
            start.focus()
            cancel.disabled = True

    @on(Button.Pressed, "#export-cancel")
    def cancel(self) -> None:
        self.cancel_event.set()

    def _progress(self, done: int, total: int) -> None:
        """From the export thread: the progress bar is updated on the UI thread, if still shown."""
        with contextlib.suppress(RuntimeError):  # the app has quit: the export goes on
            self.app.call_from_thread(self._show_progress, done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if is_live(self):
            self.query_one("#export-progress", ProgressBar).update(total=total, progress=done)

    @work(thread=True, exit_on_error=False, exclusive=True)
    def run_export(
        self,
        kind: str,
        layout: str,
        out: Path,
        where: list[str],
        status: list[str],
        buildings: list[str],
        start_at: int = 1,
    ) -> None:
        try:
            from surveyor.exports import service
            from surveyor.retrofit import get_params, get_rules
            from surveyor.services.selection import parse_selection

            params = get_params()
            ctx = service.Context(self.form, get_rules(self.form, params), params)
            selection = parse_selection(self.form, where, status, buildings=buildings)
            if kind == "sheets":
                result = service.export_sheets(
                    ctx,
                    self.store,
                    selection,
                    out,
                    progress=self._progress,
                    cancel=self.cancel_event,
                )
            elif kind == "labels":
                result = service.export_labels(
                    ctx,
                    self.store,
                    selection,
                    out,
                    layout=layout,
                    progress=self._progress,
                    cancel=self.cancel_event,
                    start=start_at,
                )
            elif kind == "report":
                result = service.export_report(ctx, self.store, selection, out)
            else:
                result = service.export_table(ctx, self.store, selection, out, kind)
            message = (
                self.tr("done_pages", path=result.path, n=result.buildings, pages=result.pages)
                if result.pages and result.files == 1
                else self.tr("done", path=result.path, n=result.buildings)
            )
            if left_out := service.left_out_text(result, self.lang):
                message += f"\n{left_out}"
            # Written, but may print wrong (a glyph the font lacks, a duplicate's label).
            message = "\n".join([message, *(w.get(self.lang) for w in result.warnings)])
            self.written = result.path
            written = True
        except Cancelled:
            message, written = self.tr("cancelled"), False
        except Exception as exc:
            # Refused (a SurveyorError), a file the system would not write, or a bug (logged,
            # and said to be one): every failure ends the export and is said. Only the first
            # two were caught; anything else ended this thread without a word, the dialog said
            # "Exporting..." for ever and Close and Esc did nothing.
            message, written = error_text(exc, self.lang), False
        with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
            self.app.call_from_thread(self._finish, message, written)

    def _finish(self, message: str, written: bool) -> None:
        self.running = False
        if not is_live(self):
            return
        self._set_running(False)
        self.query_one("#export-message", Static).update(message)
        bar = self.query_one("#export-progress", ProgressBar)
        if written:  # full, also for the kinds that report no progress (it went on pulsing)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        else:  # nothing was written: no bar at 100% beside "cancelled"
            bar.display = False
        if written:  # the usual next step: close (Enter), or Tab back for another export
            self.query_one("#export-close", Button).focus()
        self._suggest_next_name()

    @on(Button.Pressed, "#export-close")
    def action_close(self) -> None:
        if self.running:
            self.cancel_event.set()
            return
        self.dismiss(self.written)
