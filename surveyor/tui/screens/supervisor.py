"""Supervisor screens: review conflicts side by side and resolve them with a keypress; progress.

``SupervisorScreen(store, form, author=...)`` lists the open conflicts of a central (or any)
database; the selected one is shown as base | theirs | ours (or every value when more than two
inspectors disagree), each with who and when. Keys: 1-9 take that value (for a duplicate:
merge the selected building into building N, which is kept), b the base, k keep / d delete (a
delete that raced an edit, or a duplicate), p the progress view.
Every resolution goes through ``surveyor.sync.actions.resolve_conflict``: it is a change that
syncs back to the laptops. ``ProgressScreen(store)`` shows buildings by 街道 and by inspector.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.store.db import Store
from surveyor.sync.actions import Choice, resolve_conflict
from surveyor.sync.progress import BUCKETS, progress
from surveyor.sync.review import (
    ConflictDetail,
    ConflictSummary,
    Version,
    conflict_detail,
    list_conflicts,
)


def _version_text(title: str, v: Version | None) -> str:
    if v is None:
        return f"[b]{title}[/b]\n(no common value)"
    mark = "\n(shown for now)" if v.provisional else ""
    return f"[b]{title}[/b]\n{v.value!r}\n\n{v.author}\n{v.wall_time}{mark}"


class SupervisorScreen(Screen[None]):
    """Open conflicts, one at a time side by side; resolve with a keypress."""

    DEFAULT_CSS = """
    SupervisorScreen #conflicts { height: 40%; }
    SupervisorScreen #versions { height: 1fr; }
    SupervisorScreen .version { width: 1fr; border: round $primary; padding: 0 1; }
    SupervisorScreen #status { height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(str(n), f"pick({n})", f"take {n}", show=n <= 2) for n in range(1, 10)],
        Binding("b", "base", "base"),
        Binding("k", "keep", "keep"),
        Binding("d", "delete", "delete"),
        Binding("p", "progress", "progress"),
        Binding("r", "refresh", "refresh"),
        Binding("escape", "app.pop_screen", "back"),
    ]

    def __init__(self, store: Store, form: Form | None, *, author: str = "supervisor") -> None:
        super().__init__()
        self.store = store
        self.form = form
        self.author = author
        self.rows: list[ConflictSummary] = []
        self.detail: ConflictDetail | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield DataTable(id="conflicts", cursor_type="row")
            yield Horizontal(id="versions")
            yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#conflicts", DataTable)
        table.add_columns("building", "field", "kind", "values", "address")
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        self.rows = list_conflicts(self.store)
        for r in self.rows:
            table.add_row(r.code, r.field_key, r.kind, str(r.heads), r.address or "")
        self._status(f"{len(self.rows)} open conflict(s)")
        self._show(0 if self.rows else None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def _show(self, index: int | None) -> None:
        box = self.query_one("#versions", Horizontal)
        box.remove_children()
        if index is None or index >= len(self.rows):
            self.detail = None
            box.mount(Static("nothing to review", classes="version"))
            return
        row = self.rows[index]
        self.detail = d = conflict_detail(self.store, row.building_id, row.field_key)
        panes: list[Static] = []
        if d.kind != "duplicate_entity":
            panes.append(Static(_version_text("base", d.base), classes="version"))
        if d.kind == "duplicate_entity":  # the heads are the buildings at this address
            names = [
                "this building" if v.change_id == d.building_id else "keep this one"
                for v in d.heads
            ]
        elif len(d.heads) == 2:
            names = ["theirs", "ours"]
        else:
            names = [f"value {i}" for i in range(1, 10)]
        for i, (name, v) in enumerate(zip(names, d.heads, strict=False), 1):
            panes.append(Static(_version_text(f"[{i}] {name}", v), classes="version"))
        box.mount_all(panes)

    def _resolve(self, choice: Choice) -> None:
        d = self.detail
        if d is None:
            self._status("nothing selected")
            return
        try:
            resolve_conflict(self.store, self.form, d.code, d.field_key, choice, author=self.author)
        except SurveyorError as exc:
            self._status(exc.message)
            return
        self.action_refresh()
        self._status(f"resolved {d.code} {d.field_key}; {len(self.rows)} open conflict(s) left")

    def action_pick(self, n: int) -> None:
        d = self.detail
        if d is None or d.kind == "delete_vs_edit" or n > len(d.heads):
            self._status("no such value here")
            return
        chosen = d.heads[n - 1]
        if d.kind == "duplicate_entity":
            if chosen.change_id == d.building_id:
                self._status("that is this building; press the number of the one to keep")
                return
            # Its answers the kept building lacks are copied over, then it is deleted.
            self._resolve(Choice("merge_into", value=chosen.change_id))
            return
        self._resolve(Choice("head", chosen.change_id))

    def action_base(self) -> None:
        self._resolve(Choice("base"))

    def action_keep(self) -> None:
        self._resolve(Choice("keep"))

    def action_delete(self) -> None:
        self._resolve(Choice("delete"))

    def action_progress(self) -> None:
        self.app.push_screen(ProgressScreen(self.store))

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)


class ProgressScreen(Screen[None]):
    """Buildings by 街道 and by inspector: not started, draft, complete, approved, conflicted."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        yield DataTable(id="by_subdistrict")
        yield DataTable(id="by_inspector")
        yield Footer()

    def on_mount(self) -> None:
        for table, data in zip(
            (
                self.query_one("#by_subdistrict", DataTable),
                self.query_one("#by_inspector", DataTable),
            ),
            progress(self.store),
            strict=True,
        ):
            table.add_columns(data.title, *BUCKETS)
            for group, counts in [*data.rows.items(), ("total", data.total)]:
                table.add_row(group, *(str(counts[b]) for b in BUCKETS))
