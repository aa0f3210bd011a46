"""Supervisor screens: review conflicts side by side and resolve them with a keypress; progress.

``SupervisorScreen(store, form, author=...)`` lists the open conflicts of a central (or any)
database, a window of them at a time (a district's merge can leave 100,000). The selected one
is shown as base | value 1 | value 2 … (numbered as the keys take them; a central has no
"ours"), each with who and when. Keys: 1-9 take that value (for a duplicate: merge the
selected building into building N, which is kept), b the base, v type a new value, k keep /
d delete (a delete that raced an edit, or a duplicate; d asks for a second press), p the
progress view.

Every resolution goes through ``surveyor.sync.actions.resolve_conflict``: it is a change that
syncs back to the laptops. Database work runs in thread workers; values, names and addresses
typed by inspectors are shown as plain text. ``ProgressScreen(store)`` shows buildings by 街道
and by inspector.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from surveyor.errors import NotFound
from surveyor.forms.model import Form
from surveyor.i18n import error_text, language, t
from surveyor.store.db import Store
from surveyor.sync.actions import (
    Choice,
    ConflictChanged,
    RefusedValue,
    merge_plan,
    resolve_conflict,
)
from surveyor.sync.fold import DELETED_KEY, DUPLICATE_KEY, ChangeRow
from surveyor.sync.progress import BUCKETS, ProgressTable, progress
from surveyor.sync.review import (
    KIND_GROUPS,
    ConflictDetail,
    ConflictFilter,
    ConflictSummary,
    DuplicateBuilding,
    Version,
    conflict_detail,
    count_by,
    count_conflicts,
    group_counts,
    list_conflicts,
)
from surveyor.sync.wording import (
    answer_text,
    edited_values,
    field_name,
    filter_text,
    group_name,
    joined_names,
    kind_name,
    local_time,
    resolved_text,
    value_text,
)
from surveyor.text import normalize_text, without_controls
from surveyor.tui.lifecycle import is_live
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.screens.buildings import SUBDISTRICT_SUFFIXES
from surveyor.tui.text import plain
from surveyor.tui.widgets.footer import CatalogFooter
from surveyor.tui.widgets.note import Note

#: Conflicts fetched at a time; the next window loads when the cursor nears the end.
WINDOW = 200
#: The list's columns, and the most cells each may take (longer text is cut).
COLUMN_KEYS = ("code", "field", "kind", "values", "address")
COLUMN_CAP = {"code": 16, "field": 28, "kind": 20, "values": 6, "address": 40}
#: ``d`` deletes a building only when pressed again within this many seconds (like the
#: app's second Ctrl+Q): one stray key must not delete a register building.
DELETE_CONFIRM_SECONDS = 5.0
#: What the kind key steps through: every kind, then field conflicts, deletes, duplicates.
KIND_CYCLE: tuple[tuple[str, ...], ...] = ((), *KIND_GROUPS.values())
#: Typing in the search box reads the list once the keys pause this long (seconds).
SEARCH_DELAY = 0.25


class ValueModal(Dialog[str | None]):
    """Type the value that settles a conflict; returns it, or None when cancelled."""

    DEFAULT_CSS = """
    ValueModal > Vertical { max-width: 80; }
    ValueModal .error { color: $error; margin-top: 1; }
    """
    HELP_OVERVIEW = "help.value_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "review.cancel", id="review.value_cancel")
    ]
    RELABELS = False  # the field's label and the refusal come worded from the review

    def __init__(self, field_label: str, value: str = "", refused: str = "") -> None:
        super().__init__()
        self.field_label = field_label
        #: Asked again: what was typed, and why it was refused (the box closed on a refused
        #: value, and the next digit typed picked a version instead of correcting it).
        self.value, self.refused = value, refused

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(t("review.value_title", field=self.field_label)), classes="title")
            yield Input(self.value, id="review-value", placeholder=t("review.value_placeholder"))
            if self.refused:
                yield Note(self.refused, id="review-value-refused", classes="error")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(without_controls(event.value).strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MergeModal(Dialog[bool]):
    """Confirm merging a duplicate into the building kept: says which is kept and which goes,
    every field both answered differently (the kept value stays; the other is no longer
    shown, though it stays in the change log) and what the kept building gains. A single
    digit merged at once, and 1987 gave way to 1988 without a word. True to merge."""

    DEFAULT_CSS = """
    MergeModal > VerticalScroll { max-width: 90; }
    MergeModal .differ { margin-top: 1; height: auto; }
    """
    HELP_OVERVIEW = "help.merge_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "merge", "review.key_merge", id="review.merge_confirm"),
        Binding("escape", "cancel", "review.cancel", id="review.merge_cancel"),
    ]
    RELABELS = False  # its lines come worded from the review

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        #: (CSS class, text): the title, then what the merge does, field by field.
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="merge-box"):
            for classes, text in self.lines:
                yield Static(plain(text), classes=classes)

    def on_mount(self) -> None:
        self.query_one("#merge-box", VerticalScroll).focus()

    def action_merge(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class FilterPick(Dialog[str | None]):
    """Pick a 街道 or an inspector from those that have conflicts, each with how many: a
    short list instead of a typed name, which a typo would leave matching nothing. Returns
    the value picked, "" for all of them, or None when cancelled."""

    DEFAULT_CSS = """
    FilterPick > Vertical { max-width: 60; }
    FilterPick OptionList { height: auto; max-height: 16; }
    """
    HELP_OVERVIEW = "help.pick_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "review.cancel", id="review.pick_cancel")
    ]
    RELABELS = False  # its names and counts come worded from the review

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        #: (label, value) in the order shown; the first is "all" (value "").
        self.title_text, self.choices, self.current = title, choices, current or ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="title")
            yield OptionList(*(Option(plain(label)) for label, _ in self.choices), id="pick")

    def on_mount(self) -> None:
        options = self.query_one("#pick", OptionList)
        values = [v for _, v in self.choices]
        options.highlighted = values.index(self.current) if self.current in values else 0
        options.focus()

    @on(OptionList.OptionSelected, "#pick")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SupervisorScreen(Screen[None]):
    """Open conflicts, one at a time side by side; resolve with a keypress."""

    #: What F1 says about this screen (the keys are listed from the bindings).
    HELP_OVERVIEW = "help.review_overview"
    #: The keys act on the list: it has the focus, not the search box above it (``/``).
    AUTO_FOCUS = "#conflicts"

    DEFAULT_CSS = """
    SupervisorScreen #review-filters { height: 1; }
    SupervisorScreen #review-search { width: 1fr; }
    SupervisorScreen #review-kinds { width: auto; padding: 0 1; }
    SupervisorScreen #conflicts { height: 40%; }
    SupervisorScreen #versions { height: 1fr; }
    SupervisorScreen .version {
        width: 1fr; border: round $primary; padding: 0 1; scrollbar-size-vertical: 1;
    }
    SupervisorScreen .version:focus { border: round $accent; }
    SupervisorScreen .provisional { border: round $success; }
    SupervisorScreen .version-text { height: auto; }
    SupervisorScreen #status { height: auto; max-height: 3; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(
                str(n),
                f"pick({n})",
                "review.key_take",
                show=n == 1,
                key_display="1-9" if n == 1 else None,
                id=f"review.take_{n}",
            )
            for n in range(1, 10)
        ],
        Binding("b", "base", "review.key_base", id="review.base"),
        Binding("v", "value", "review.key_value", id="review.value"),
        Binding("k", "keep", "review.key_keep", id="review.keep"),
        Binding("d", "delete", "review.key_delete", id="review.delete"),
        Binding("p", "progress", "review.key_progress", id="review.progress"),
        Binding("r", "refresh", "review.key_refresh", id="review.refresh"),
        # Esc leaves the search box for the list; there, it clears an active filter first
        # (the footer then says so), then goes back.
        Binding("escape", "leave_search", "review.key_to_list", id="review.leave_search"),
        Binding("escape", "clear_filter", "review.key_clear_filter", id="review.clear_filter"),
        Binding("escape", "back", "review.key_back", id="review.back"),
        Binding("slash", "focus_search", "review.key_search", key_display="/", id="review.search"),
        Binding("t", "cycle_kind", "review.key_kind", id="review.kind"),
        Binding("s", "pick_subdistrict", "review.key_subdistrict", id="review.subdistrict"),
        Binding("i", "pick_inspector", "review.key_inspector", id="review.inspector"),
        # Last: at 80 columns the footer drops them first (F1 lists them).
        Binding("o", "open", "review.key_open", id="review.open"),
    ]
    #: The keys that decide a conflict: on an inspector's laptop they only refuse, so the
    #: footer and F1 leave them out there.
    DECIDING: ClassVar[frozenset[str]] = frozenset(
        {*(f"review.take_{n}" for n in range(1, 10)), "review.base", "review.value"}
        | {"review.keep", "review.delete"}
    )

    def help_values(self) -> dict[str, str]:
        """The figures F1's overview names: the real window of a delete's second press (the
        text said 5 s whatever ``DELETE_CONFIRM_SECONDS`` was)."""
        return {"seconds": f"{DELETE_CONFIRM_SECONDS:g}"}

    def __init__(self, store: Store, form: Form | None, *, author: str) -> None:
        super().__init__()
        self.store = store
        #: On an inspector's laptop the conflicts are shown, not decided: a resolution there
        #: would sync to the central and close the question for the supervisor.
        self.read_only = store.role == "laptop"
        if self.read_only:  # F1 says what the keys left here do, not how to decide
            self.HELP_OVERVIEW = "help.review_overview_laptop"
        self.form = form
        self.author = author
        self.rows: list[ConflictSummary] = []
        self.total = 0
        self.detail: ConflictDetail | None = None
        self._loading_more = False
        #: Bumped by every reload from the top; windows of an older list are dropped.
        self._generation = 0
        self._keep: tuple[str, str] | None = None  # the conflict `r` keeps selected
        self._resolving = False
        #: (monotonic time, building id, field) of a first ``d`` waiting for its second.
        self._delete_armed: tuple[float, str, str] | None = None
        #: A building was opened from here: its survey may have settled a conflict (an
        #: address corrected), so the list is read again when the review is back on top.
        self._opened = False
        #: Which conflicts are listed (kind, 街道, inspector, building text); kept while a
        #: building is opened and after a resolution, cleared by Esc.
        self.where = ConflictFilter()
        #: All conflicts (``total`` counts those the filter keeps), and per kind under the
        #: rest of the filter: the filter bar's "field 12  duplicate 3,236".
        self.total_all = 0
        self.by_kind: dict[str, int] = {}
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal(id="review-filters"):
                yield Input(
                    placeholder=t("review.search_placeholder"), id="review-search", compact=True
                )
                yield Static("", id="review-kinds")
            yield DataTable(id="conflicts", cursor_type="row")
            yield Horizontal(id="versions")
            yield Static("", id="status")
        yield CatalogFooter()

    def on_mount(self) -> None:
        self._fill([], 0)
        self.action_refresh()
        if self.read_only:
            self._status(t("review.laptop_read_only"))

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The keys that work here: on a laptop, not those that would decide a conflict (the
        footer advertised "1-9 take b … k … d", which only refused). With a filter, Esc
        (clear the filter) comes first: at 80 columns the footer drops Esc, and the key that
        undoes a filter must be in sight while one hides conflicts."""
        active = super().active_bindings
        if self.read_only:
            active = {k: a for k, a in active.items() if a.binding.id not in self.DECIDING}
        if self.where.active and "escape" in active:
            active = {"escape": active["escape"], **active}
        return active

    def on_screen_resume(self) -> None:
        if self._opened:
            self._opened = False
            self.action_refresh()

    def _refused_on_a_laptop(self) -> bool:
        """Say that a supervisor decides, on the central; True when this is a laptop."""
        if self.read_only:
            said = t("review.laptop_read_only")
            self._status(said)
            self.notify(said, severity="warning", markup=False)
        return self.read_only

    def refresh_language(self) -> None:
        """Called by the app after a language switch."""
        if not is_live(self):
            return
        self.query_one("#review-search", Input).placeholder = t("review.search_placeholder")
        table = self.query_one("#conflicts", DataTable)
        cursor = table.cursor_row
        self._fill(self.rows, 0)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        self._show_detail(self.detail)
        self._show_filter()

    # -- the list -------------------------------------------------------------------------------
    def selected(self) -> ConflictSummary | None:
        """The conflict under the cursor."""
        row = self.query_one("#conflicts", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def action_refresh(self, keep_cursor: int | None = None) -> None:
        """Reload from the top: as many rows as are shown now, the cursor on the conflict it
        was on (a sync may add rows above it: keeping the row number selected another)."""
        self._keep = None
        if keep_cursor is None:
            keep_cursor = self.query_one("#conflicts", DataTable).cursor_row
            if 0 <= keep_cursor < len(self.rows):
                row = self.rows[keep_cursor]
                self._keep = (row.code, row.field_key)
        self._generation += 1  # a window still loading belongs to the old list
        self._loading_more = True  # and no new window until this one is shown
        self._load(self._generation, 0, max(keep_cursor, 0), max(WINDOW, len(self.rows)))

    @work(thread=True, exclusive=True, group="review-list", exit_on_error=False)
    def _load(
        self, generation: int, offset: int, cursor: int = 0, limit: int | None = None
    ) -> None:
        self._fetch(generation, offset, cursor, limit)

    def _fetch(self, generation: int, offset: int, cursor: int, limit: int | None) -> None:
        """In a worker thread: one window of the conflicts the filter keeps; from the top,
        their count, the count of all and the counts per kind too."""
        where = self.where
        try:
            rows = list_conflicts(self.store, limit=limit or WINDOW, offset=offset, where=where)
            counts = None
            if offset == 0:
                total = count_conflicts(self.store, where=where)
                every = count_conflicts(self.store) if where.active else total
                counts = (total, every, count_by(self.store, "kinds", where))
        except Exception as exc:  # a locked database, a lost server: say so, keep the screen
            self._from_worker(self._load_failed, generation, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self._from_worker(self._show_rows, generation, rows, offset, counts, cursor)

    def _from_worker(self, callback: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
            self.app.call_from_thread(callback, *args)

    def _load_failed(self, generation: int, error: str) -> None:
        if generation == self._generation:
            self._loading_more = False
            self._status(error)

    def _show_rows(
        self,
        generation: int,
        rows: list[ConflictSummary],
        offset: int,
        counts: tuple[int, int, dict[str, int]] | None,
        cursor: int,
    ) -> None:
        if not is_live(self) or generation != self._generation:
            return  # a window of a list that has been reloaded since
        self._loading_more = False
        if counts is not None:
            self.total, self.total_all, self.by_kind = counts
        table = self.query_one("#conflicts", DataTable)
        if offset == 0:
            self.rows = rows
            self._fill(rows, 0)
            if rows:
                table.move_cursor(row=min(self._kept_row(rows, cursor), len(rows) - 1))
            self._select(table.cursor_row if rows else None)
        else:
            self.rows.extend(rows)
            self._fill(rows, offset)
        self._show_filter()

    def _kept_row(self, rows: list[ConflictSummary], cursor: int) -> int:
        """The row of the conflict `r` kept, else the first listed after where it was (the
        list is ordered by code and field), else ``cursor``."""
        keep, self._keep = self._keep, None
        if keep is None:
            return cursor
        after = (i for i, r in enumerate(rows) if (r.code, r.field_key) >= keep)
        return next(after, cursor)

    def _show_filter(self) -> None:
        """The filter bar's counts per kind, the kind kept in reverse; the status line's
        "n shown of N", and with a filter what it keeps and of how many."""
        if not is_live(self):
            return
        kinds = Text()
        counts = group_counts(self.by_kind)
        for group, members in KIND_GROUPS.items():
            if kinds:
                kinds.append("  ")
            style = "reverse" if self.where.kinds == members else ""
            kinds.append(f"{t(f'review.group_{group}')} {counts[group]:,}", style=style)
        self.query_one("#review-kinds", Static).update(kinds)
        if not self.where.active:
            self._status(t("review.count", shown=len(self.rows), total=self.total))
            return
        said = t(
            "review.count_filtered",
            shown=len(self.rows),
            n=f"{self.total:,}",
            total=f"{self.total_all:,}",
            filter=filter_text(self.form, self.where, language()),
        )
        self._status(said)

    # -- the filter -----------------------------------------------------------------------------
    def _filter_by(self, where: ConflictFilter) -> None:
        """List what ``where`` keeps, from its first conflict."""
        self.where = where
        self.rows = []
        self.refresh_bindings()  # Esc now clears the filter, or goes back: the footer says which
        self.action_refresh(keep_cursor=0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc in the search box goes to the list; in the list it clears the filter while
        there is one (the footer says "clear filter"), and goes back once there is none."""
        focused = self.focused
        searching = isinstance(focused, Input) and focused.id == "review-search"
        if action == "leave_search":
            return searching
        if action == "clear_filter":
            return self.where.active and not searching
        return True

    def action_leave_search(self) -> None:
        """The list, the search kept (read now if its keys had not paused yet)."""
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_now()
        self.query_one("#conflicts", DataTable).focus()

    def action_clear_filter(self) -> None:
        search = self.query_one("#review-search", Input)
        with search.prevent(Input.Changed):
            search.value = ""
        self._filter_by(ConflictFilter())

    def action_focus_search(self) -> None:
        """``/``: the building search box, its text selected (typing replaces it)."""
        search = self.query_one("#review-search", Input)
        search.focus()
        search.select_all()

    def action_cycle_kind(self) -> None:
        """All kinds, then field conflicts, deletes, duplicates, and all kinds again."""
        now = self.where.kinds
        at = KIND_CYCLE.index(now) if now in KIND_CYCLE else 0
        kinds = KIND_CYCLE[(at + 1) % len(KIND_CYCLE)]
        self._filter_by(ConflictFilter(kinds, *self._rest_of_filter()))

    def _rest_of_filter(self) -> tuple[str | None, str | None, str | None]:
        return self.where.subdistrict, self.where.inspector, self.where.text

    def action_pick_subdistrict(self) -> None:
        self._read_choices("subdistrict")

    def action_pick_inspector(self) -> None:
        self._read_choices("inspector")

    @work(thread=True, exclusive=True, group="review-choices", exit_on_error=False)
    def _read_choices(self, part: str) -> None:
        """The 街道 or inspectors with conflicts under the rest of the filter, counted, and
        how many that is in all: a conflict counts under each inspector it involves, so the
        inspectors' counts may add up to more."""
        try:
            counts = count_by(self.store, part, self.where)
            every = count_conflicts(self.store, where=self.where.without(part))
        except Exception as exc:  # a locked database, a lost server
            self._from_worker(self._status, error_text(exc))
            return
        self._from_worker(self._offer_choices, part, counts, every)

    def _offer_choices(self, part: str, counts: dict[str, int], every: int) -> None:
        if not is_live(self) or not self.is_current:
            return
        lang, sub = language(), part == "subdistrict"
        choices = [(f"{t(f'review.all_{part}')}  {every:,}", "")]
        for value, n in counts.items():
            name = group_name(self.form, value, lang, by_subdistrict=sub)
            choices.append((f"{name}  {n:,}", value))
        current = self.where.subdistrict if sub else self.where.inspector

        def picked(value: str | None) -> None:
            if value is None:
                return
            kinds, subdistrict, inspector, text = (self.where.kinds, *self._rest_of_filter())
            if sub:
                subdistrict = value or None
            else:
                inspector = value or None
            self._filter_by(ConflictFilter(kinds, subdistrict, inspector, text))

        title = t(f"review.pick_{part}")
        self.app.push_screen(FilterPick(title, choices, current), picked)

    @on(Input.Changed, "#review-search")
    def search_changed(self) -> None:
        """Typed keys read the list once they pause (an input method commits a word at once)."""
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        text = normalize_text(self.query_one("#review-search", Input).value).strip() or None
        if text != self.where.text:
            kinds, subdistrict, inspector, _ = (self.where.kinds, *self._rest_of_filter())
            self._filter_by(ConflictFilter(kinds, subdistrict, inspector, text))

    @on(Input.Submitted, "#review-search")
    def search_submitted(self) -> None:
        """Enter: search now, and into the list."""
        self.action_leave_search()

    def on_key(self, event: events.Key) -> None:
        """Down from the search box goes into the list, as Enter and Esc do."""
        if event.key == "down" and self.query_one("#review-search", Input).has_focus:
            self.action_leave_search()
            event.stop()
            event.prevent_default()

    def _fill(self, rows: list[ConflictSummary], offset: int) -> None:
        """Show ``rows`` from ``offset`` on; from the top, the columns are rebuilt too."""
        table = self.query_one("#conflicts", DataTable)
        cells = [self._cells(r) for r in rows]
        if offset == 0:
            # Widths from the rows themselves (capped): DataTable's own measuring happens on an
            # idle pass, which a busy start-up was seen to skip, leaving header-wide columns.
            table.clear(columns=True)
            for i, key in enumerate(COLUMN_KEYS):
                label = t(f"review.col_{key}")
                widest = max([cell_len(label), *(c[i].cell_len for c in cells)])
                table.add_column(label, key=key, width=min(widest, COLUMN_CAP[key]))
        for row in cells:
            table.add_row(*row)

    def _cells(self, r: ConflictSummary) -> list[Text]:
        return [
            plain(r.code),
            plain(field_name(self.form, r.field_key, language())),
            plain(kind_name(r.kind, language())),
            Text(str(r.heads)),
            plain(r.address or ""),
        ]

    @on(DataTable.RowHighlighted, "#conflicts")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select(event.cursor_row)
        near_end = event.cursor_row >= len(self.rows) - max(1, WINDOW // 10)
        if near_end and len(self.rows) < self.total and not self._loading_more:
            self._loading_more = True
            self._load_more(self._generation, len(self.rows))

    @work(thread=True, exclusive=True, group="review-more", exit_on_error=False)
    def _load_more(self, generation: int, offset: int) -> None:
        """The next window; a refresh meanwhile makes it stale (``_show_rows`` drops it)."""
        self._fetch(generation, offset, 0, None)

    # -- the selected conflict ------------------------------------------------------------------
    def _select(self, index: int | None) -> None:
        # Until the new detail is in, no key may act on the previous row's conflict.
        self.detail = None
        if index is None or not 0 <= index < len(self.rows):
            self._show_detail(None)
            return
        self._load_detail(self.rows[index])

    @work(thread=True, exclusive=True, group="review-detail", exit_on_error=False)
    def _load_detail(self, row: ConflictSummary) -> None:
        try:
            detail = conflict_detail(self.store, row.building_id, row.field_key, self.form)
        except Exception as exc:  # resolved elsewhere meanwhile, a locked database …
            self._from_worker(self._status, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self._from_worker(self._show_detail, detail)

    def _is_selected(self, d: ConflictDetail) -> bool:
        row = self.selected()
        return row is not None and (row.building_id, row.field_key) == (d.building_id, d.field_key)

    def _show_detail(self, d: ConflictDetail | None) -> None:
        if not is_live(self):
            return
        if d is not None and not self._is_selected(d):
            return  # the cursor moved on while this was read
        self.detail = d
        box = self.query_one("#versions", Horizontal)
        box.remove_children()
        if d is None:
            box.mount(Static(t("review.nothing"), classes="version"))
            return
        panes: list[Widget] = []
        if d.kind in ("hard", "soft"):  # a delete race or a duplicate has no value to go back to
            panes.append(self._pane(t("review.base"), d.base, d.field_key))
        if d.kind == "duplicate_entity":  # the heads are the buildings at this address
            names = [
                t("review.this_building") if v.change_id == d.building_id else t("review.keep_one")
                for v in d.heads
            ]
        elif d.kind == "delete_vs_edit":  # kept (k) or deleted (d): no value to take by number
            for v in d.heads:
                side = "review.side_delete" if v.value is True else "review.side_edit"
                panes.append(self._pane(t(side), v, d.field_key))
            box.mount_all(panes)
            return
        else:  # on a central no side is "ours": every value is numbered as it is taken
            names = [t("review.value_n", n=i) for i in range(1, 10)]
        for i, (name, v) in enumerate(zip(names, d.heads, strict=False), 1):
            panes.append(self._pane(f"[{i}] {name}", v, d.field_key))
        box.mount_all(panes)

    def _pane(self, title: str, v: Version | None, key: str) -> Widget:
        """One side in a box that wraps its text and scrolls (Tab to it, then arrows): a long
        value (a 200-character remark at 80×24) must be readable in full before it is taken."""
        text = Text(title, style="bold")
        classes = "version"
        if v is None:
            text.append("\n" + t("review.no_base"))
        elif v.op == DUPLICATE_KEY:
            text.append("\n")
            text.append_text(self._building_facts(v))
        else:
            lang = language()
            if key == DELETED_KEY and v.edited:  # the edit that raced a delete: its values
                for label, value in edited_values(self.form, v, lang):
                    text.append("\n")
                    text.append_text(plain(t("review.edited_value", field=label, value=value)))
            else:
                text.append("\n")
                text.append_text(plain(value_text(self.form, key, v, lang)))
            text.append("\n\n")
            text.append_text(plain(v.author))
            text.append("\n" + local_time(v.wall_time))
            if v.provisional:
                edit = key == DELETED_KEY  # a delete race: the building with this edit
                shown = t("review.edit_shown_for_now" if edit else "review.shown_for_now")
                text.append("\n" + shown, style="italic")
                classes = "version provisional"
            elif key == DELETED_KEY and v.value is True:
                # The fold's provisional head, but a raced delete deletes nothing until the
                # supervisor decides: it was marked "shown until reviewed".
                text.append("\n" + t("review.not_deleted_yet"), style="italic")
        return VerticalScroll(Static(text, classes="version-text"), classes=classes)

    def _building_facts(self, v: Version) -> Text:
        """A duplicate as the supervisor compares it with the other: code, address, 街道,
        小区, 楼号, status and completeness, and its last survey save (who, when)."""
        b, lang = v.building, language()
        lines = [str(v.value)]
        if b is not None:
            sub = b.subdistrict or "-"
            if b.subdistrict and self.form is not None and "subdistrict" in self.form.fields:
                sub = self.form.field("subdistrict").choice_label(b.subdistrict, lang)
            for label, value in (
                ("list.col_subdistrict", sub),
                ("list.col_compound", b.compound_name or "-"),
                ("list.col_building_no", b.building_no or "-"),
            ):
                lines.append(t("review.fact", label=t(label), value=value))
            lines.append(
                t(
                    "review.fact_status",
                    status=t(f"status.{b.status}"),
                    done=f"{b.completeness:.0%}",
                )
            )
        saved = v.author or "-"
        if v.wall_time:
            saved += " " + local_time(v.wall_time)
        lines.append(t("review.last_saved_by", name=saved))
        return plain("\n".join(lines))

    # -- resolving ------------------------------------------------------------------------------
    def _resolve(self, choice: Choice) -> None:
        if self._refused_on_a_laptop():
            return
        d = self.detail
        if d is None or not self._is_selected(d):
            self._status(t("review.nothing_selected"))
            return
        if self._resolving:
            return  # one resolution at a time: a double press must not resolve twice
        self._resolving = True
        cursor = self.query_one("#conflicts", DataTable).cursor_row
        self._run_resolve(d, choice, cursor)

    @work(thread=True, group="review-resolve", exit_on_error=False)
    def _run_resolve(self, d: ConflictDetail, choice: Choice, cursor: int) -> None:
        try:
            change = resolve_conflict(
                self.store,
                self.form,
                d.code,
                d.field_key,
                choice,
                author=self.author,
                # Whatever the key, only the values on screen may be decided on: a sync since
                # may have replaced one (a value nobody saw would be closed).
                shown_heads=[v.change_id for v in d.heads],
            )
        except ConflictChanged:
            self._from_worker(self._resolve_failed, t("review.changed_since_shown"))
            return
        except RefusedValue as exc:
            self._from_worker(self._ask_value_again, d, str(choice.value), error_text(exc))
            return
        except Exception as exc:  # refused (SurveyorError), or a locked database, a lost server
            message = error_text(exc)
            self._from_worker(self._resolve_failed, message)
            return
        self._from_worker(self._resolved, d, choice, change, cursor)

    def _resolve_failed(self, message: str) -> None:
        self._resolving = False
        self._status(message)

    def _resolved(self, d: ConflictDetail, choice: Choice, change: ChangeRow, cursor: int) -> None:
        self._resolving = False
        if not is_live(self):
            return
        lang = language()
        field = field_name(self.form, d.field_key, lang)
        if choice.kind == "delete":  # a register building is gone: say so, not only "resolved"
            said = t("review.deleted", code=d.code, field=field)
        elif choice.kind == "merge_into":  # named by the building kept, where its work went
            kept = {v.change_id: v.building.code for v in d.heads if v.building is not None}
            said = t("review.merged", code=d.code, kept=kept.get(str(choice.value), ""))
        else:  # what was taken and whose, as `conflicts resolve` says it
            picked = next((v for v in d.heads if v.change_id == choice.change_id), None)
            if choice.kind != "head":
                picked = None
            said = resolved_text(self.form, d, change, picked, lang, base=choice.kind == "base")
            if choice.kind != "keep":  # a field's sentence does not name the building
                said = t("review.resolved", code=d.code, said=said)
        self.notify(said, markup=False)
        self.action_refresh(keep_cursor=cursor)

    def _refused_here(self, key: str) -> ConflictDetail | None:
        """The conflict ``key`` (pick, base, value, keep, delete) acts on, or None after saying
        in the screen's words why it does not act (the laptop, no conflict selected, a key
        this kind of conflict takes no decision from). ``resolve_conflict`` refuses these
        too, but in the command line's words ("--merge-into CODE"), cut at 80 columns."""
        if self._refused_on_a_laptop():
            return None
        d = self.detail
        if d is None or not self._is_selected(d):
            self._status(t("review.nothing_selected"))
            return None
        takes = {
            "delete_vs_edit": ("keep", "delete"),
            "duplicate_entity": ("pick", "delete"),
        }.get(d.kind, ("pick", "base", "value"))
        if key in takes:
            return d
        if d.kind == "delete_vs_edit":
            self._status(t("review.keep_or_delete_only"))
        elif d.kind == "duplicate_entity":
            self._status(t("review.duplicate_how"))
        else:
            self._status(t("review.edit_how"))
        return None

    def action_pick(self, n: int) -> None:
        d = self._refused_here("pick")
        if d is None:
            return
        if n > len(d.heads):
            self._status(t("review.no_such_value"))
            return
        chosen = d.heads[n - 1]
        if d.kind == "duplicate_entity":
            if chosen.change_id == d.building_id:
                self._status(t("review.pick_other"))
                return
            # Asked first, from a fresh read: which fields differ is what the answer rests on.
            self._read_for_merge(d, chosen.change_id)
            return
        self._resolve(Choice("head", chosen.change_id))

    @work(thread=True, exclusive=True, group="review-merge", exit_on_error=False)
    def _read_for_merge(self, shown: ConflictDetail, kept_id: str) -> None:
        try:
            fresh = conflict_detail(self.store, shown.building_id, shown.field_key)
        except NotFound:  # it was shown, so it is gone since: merged or deleted elsewhere
            self._from_worker(self._status, t("review.resolved_elsewhere"))
            return
        except Exception as exc:  # a locked database, a lost server …
            self._from_worker(self._status, error_text(exc))
            return
        self._from_worker(self._confirm_merge, shown, fresh, kept_id)

    def _confirm_merge(self, shown: ConflictDetail, fresh: ConflictDetail, kept_id: str) -> None:
        """Ask before merging ``shown``'s building into ``kept_id`` (``fresh``: read now)."""
        if not is_live(self) or not self._is_selected(shown) or self.detail is not shown:
            return  # the cursor moved on meanwhile
        if not self.is_current:
            return  # a confirm (of a second quick press) or another dialog is already open
        if {v.change_id for v in fresh.heads} != {v.change_id for v in shown.heads}:
            self._status(t("review.changed_since_shown"))
            return
        by_id = {v.change_id: v.building for v in fresh.heads}
        gone, kept = by_id.get(shown.building_id), by_id.get(kept_id)
        if gone is None or kept is None:
            return
        lines = self._merge_lines(gone, kept)

        def answered(merge: bool | None) -> None:
            if merge:
                self._resolve(Choice("merge_into", value=kept_id))  # refused if the cursor moved

        self.app.push_screen(MergeModal(lines), answered)

    def _merge_lines(
        self, gone: DuplicateBuilding, kept: DuplicateBuilding
    ) -> list[tuple[str, str]]:
        """What ``MergeModal`` says: the title, what becomes of each building, the fields
        whose values differ (kept vs no longer shown), the answers the kept one gains."""
        lang, form = language(), self.form
        names = {"code": gone.code, "kept": kept.code}
        lines = [("title", t("review.merge_title", **names)), ("", t("review.merge_what", **names))]
        plan = merge_plan(gone.answers, kept.answers)
        if plan.differing:
            lines.append(("differ", t("review.merge_differ", **names)))
            for f, (stays, dropped) in sorted(plan.differing.items(), key=self._form_order):
                said = t(
                    "review.merge_differ_field",
                    field=field_name(form, f, lang),
                    kept=answer_text(form, f, stays, lang),
                    dropped=answer_text(form, f, dropped, lang),
                )
                lines.append(("", said))
            lines.append(("hint", t("review.merge_other_way", **names)))
        gained = list(plan.gained)
        if gained:
            fields = [field_name(form, f, lang) for f in sorted(gained, key=self._form_order)]
            said = t("review.merge_gains", fields=joined_names(fields, lang), **names)
            lines.append(("differ", said))
        lines.append(("differ hint", t("review.merge_keys")))
        return lines

    def _form_order(self, item: Any) -> tuple[int, str]:
        """Fields (or (field, …) items) in the form's order, unknown ones after."""
        key = item[0] if isinstance(item, tuple) else item
        order = list(self.form.fields) if self.form is not None else []
        return (order.index(key) if key in order else len(order), key)

    def action_base(self) -> None:
        d = self._refused_here("base")
        if d is None:
            return
        if d.base is None:  # each inspector set it on their own: nothing to go back to
            self._status(t("review.no_base_to_take"))
            return
        self._resolve(Choice("base"))

    def action_keep(self) -> None:
        if self._refused_here("keep") is not None:
            self._resolve(Choice("keep"))

    def action_delete(self) -> None:
        """Delete the building (a delete race, a duplicate): only on a second ``d`` within
        ``DELETE_CONFIRM_SECONDS`` on the same conflict; the first says what it would do."""
        d = self._refused_here("delete")
        if d is None:
            return
        armed, self._delete_armed = self._delete_armed, None
        now = time.monotonic()
        same = armed is not None and armed[1:] == (d.building_id, d.field_key)
        if same and armed is not None and now - armed[0] <= DELETE_CONFIRM_SECONDS:
            self._resolve(Choice("delete"))
            return
        self._delete_armed = (now, d.building_id, d.field_key)
        said = t(
            "review.delete_confirm",
            code=d.code,
            address=d.address or "",
            seconds=int(DELETE_CONFIRM_SECONDS),
        )
        self._status(said)
        self.notify(said, severity="warning", timeout=DELETE_CONFIRM_SECONDS, markup=False)

    def action_value(self) -> None:
        d = self._refused_here("value")
        if d is not None:
            self._ask_value(d)

    def _ask_value(self, d: ConflictDetail, value: str = "", refused: str = "") -> None:
        def typed(value: str | None) -> None:
            if value is not None:
                self._resolve(Choice("value", value=value))  # refused if the cursor moved

        label = field_name(self.form, d.field_key, language())
        self.app.push_screen(ValueModal(label, value, refused), typed)

    def _ask_value_again(self, d: ConflictDetail, value: str, refused: str) -> None:
        self._resolving = False
        self._status(refused)
        if is_live(self) and self._is_selected(d):
            self._ask_value(d, value, refused)

    def action_open(self) -> None:
        """Open the selected conflict's building in the survey (to correct a duplicate's
        address, say); the list is read again when the review is back."""
        row = self.selected()
        opener = getattr(self.app, "open_building", None)
        if row is None or opener is None:
            self._status(t("review.nothing_selected"))
            return
        self._opened = True
        opener(uuid.UUID(row.building_id))

    def action_progress(self) -> None:
        self.app.push_screen(ProgressScreen(self.store, self.form))

    def action_back(self) -> None:
        self.dismiss()

    def _status(self, text: str) -> None:
        if is_live(self):
            self.query_one("#status", Static).update(plain(text))


def _count(n: int, *, style: str = "") -> Text:
    """A count, right-aligned so the digits of a column line up."""
    return Text(str(n), style=style, justify="right")


class ProgressScreen(Screen[None]):
    """Buildings by 街道 and by inspector: not started, draft, complete, approved, conflicted."""

    # Both tables at full height in one scrolling view: each cut to 45% of the screen hid
    # 街道 rows behind a scrollbar at 80×24 while the inspectors' table left half empty.
    DEFAULT_CSS = """
    ProgressScreen .title { text-style: bold; padding: 0 1; }
    ProgressScreen #progress-tables { height: 1fr; }
    ProgressScreen DataTable { height: auto; margin: 1 0 0 0; }
    ProgressScreen .note { margin: 1 1 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "review.key_back", id="progress.back")
    ]

    def __init__(self, store: Store, form: Form | None = None) -> None:
        super().__init__()
        self.store = store
        self.form = form
        self.tables: list[ProgressTable] = []

    def compose(self) -> ComposeResult:
        yield Static(t("progress.title"), id="progress-title", classes="title")
        with VerticalScroll(id="progress-tables"):
            yield DataTable(id="by_subdistrict", cursor_type="none", show_cursor=False)
            yield DataTable(id="by_inspector", cursor_type="none", show_cursor=False)
            yield Note("", id="progress-note", classes="note")
        yield CatalogFooter()

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.can_focus = False  # the view scrolls as one (arrows, PgUp/PgDn)
        self.query_one("#progress-tables", VerticalScroll).focus()
        self._load()

    @work(thread=True, exclusive=True, group="progress", exit_on_error=False)
    def _load(self) -> None:
        try:
            tables = progress(self.store)
        except Exception as exc:  # a locked database, a lost server, a bug: said (the
            # screen stayed empty without a word); Esc goes back as ever
            with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
                self.app.call_from_thread(
                    self.notify, error_text(exc), severity="error", timeout=10, markup=False
                )
            return
        self.app.call_from_thread(self._show, tables)

    def _show(self, tables: tuple[ProgressTable, ProgressTable]) -> None:
        if not is_live(self):
            return
        self.tables = list(tables)
        self.refresh_language()

    def refresh_language(self) -> None:
        self.query_one("#progress-title", Static).update(t("progress.title"))
        ids = ("#by_subdistrict", "#by_inspector")
        titles = (t("progress.by_subdistrict"), t("progress.by_inspector"))
        for index, (selector, title, data) in enumerate(
            zip(ids, titles, self.tables, strict=False)
        ):
            table = self.query_one(selector, DataTable)
            table.clear(columns=True)
            table.add_columns(title, *(t(f"progress.{b}") for b in BUCKETS))
            for group, counts in data.rows.items():
                name = group_name(self.form, group, language(), by_subdistrict=index == 0)
                for suffix in SUBDISTRICT_SUFFIXES if index == 0 else ():
                    # As in the building list: the column says 街道 (Sub-district) already,
                    # and "Shuishang Gongyuan Subdistrict" pushed "conflicted" off 80 columns.
                    name = name.removesuffix(suffix)
                table.add_row(plain(name), *(_count(counts[b]) for b in BUCKETS))
            total = data.total
            table.add_row(
                Text(t("progress.total"), style="bold"),
                *(_count(total[b], style="bold") for b in BUCKETS),
            )
        conflicted = self.tables[0].total["conflicted"] if self.tables else 0
        note = self.query_one("#progress-note", Note)
        note.update(t("progress.conflicted_note", n=conflicted) if conflicted else "")
        note.display = bool(conflicted)

    def action_back(self) -> None:
        self.dismiss()
