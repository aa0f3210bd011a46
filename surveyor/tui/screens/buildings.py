"""The home screen: the register as a windowed, searchable, filterable list.

Rows come from ``services.browse.browse_buildings`` in a thread worker, 60 at a time; more are
fetched when the cursor nears the end. A scanned label (the URN a USB scanner types into the
search box) or a complete typed code opens that building directly.

This is the first screen: its module imports no database or form code. Its frame (search box
focused, empty table, "opening the database") is painted first; then the app opens the database
in a thread (``SurveyorApp.start_loading``) and calls ``store_ready``, which fills the
sub-district filter and runs the query with whatever was typed meanwhile.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Header, Input, Select, Static
from textual.worker import get_current_worker

from surveyor.i18n import error_text, language, t
from surveyor.store.ids import URI_PREFIX, normalize_code
from surveyor.text import latin_letters_only, normalize_text, without_controls
from surveyor.tui.lifecycle import is_live
from surveyor.tui.text import fit_cells, plain
from surveyor.tui.widgets.footer import CatalogFooter
from surveyor.tui.widgets.keys import forward_if_moved

if TYPE_CHECKING:
    from surveyor.services.queries import BuildingPage, BuildingRow
    from surveyor.tui.app import SurveyorApp

WINDOW = 60
#: ``services.survey.STATUSES`` (a test keeps them equal): importing that module here would
#: import SQLAlchemy before the first frame.
STATUSES = ("not_started", "draft", "complete", "approved")
SEARCH_DELAY = 0.05
#: Screens that change no building: back from them, the list is not read again. By name, so
#: the list imports none of them before its first frame.
READ_ONLY_SCREENS = frozenset({"HelpScreen", "CommandPalette", "Palette", "ExportScreen"})
#: What finds the building on site comes first: at 80 columns the address showed five
#: characters, behind the counts; now the counts are the ones left past the edge.
COLUMNS = (
    ("code", "list.col_code"),
    ("subdistrict", "list.col_subdistrict"),
    ("compound", "list.col_compound"),
    ("building_no", "list.col_building_no"),
    ("address", "list.col_address"),
    ("status", "list.col_status"),
    ("completeness", "list.col_completeness"),
    ("conflicts", "list.col_conflicts"),
)
#: The column says 街道: its cells need not say it again ("万兴", "Wanxing").
SUBDISTRICT_SUFFIXES = ("街道", " Subdistrict")
#: Cells the table keeps for its vertical scrollbar, and around each cell (``cell_padding``).
SCROLLBAR = 2
PADDING = 2
#: Least cells of the building number column ("13号楼"); it grows to the longest 楼号 of the
#: first window of rows (平房3排, 3号楼A were cut to 平房3~ even at 130 columns) up to
#: ``BUILDING_NO_MOST``: wider, the address would get less than its first 16 cells at 80.
BUILDING_NO_CELLS = 6
BUILDING_NO_MOST = 10
#: The columns that give way: their least width, then what they get next, in this order, from
#: what the whole columns leave. The address whole first (its number finds the building), then
#: the compound, then the street, then the counts column; then more of each. Sized by their
#: contents, the street and compound columns took what status and completeness needed at 80
#: columns after a search (完成度 cut to 完, "not sta"), and never gave it back.
FLEX_MIN = {"subdistrict": 6, "compound": 6, "address": 12}
FLEX_STEPS = (
    ("address", 16),
    ("compound", 8),
    ("subdistrict", 8),
    ("conflicts", 0),
    ("compound", 12),
    ("address", 24),
    ("subdistrict", 20),
    ("compound", 20),
    ("address", 40),
    ("compound", 32),  # a compound with the community that matched a search (``_compound``)
)
STATUS_STYLE = {
    "not_started": "dim",
    "draft": "yellow",
    "complete": "green",
    "approved": "bold green",
}


def column_widths(
    width: int, whole: dict[str, int], natural: dict[str, int], conflicts: int
) -> dict[str, int]:
    """Content cells of each column in a table ``width`` cells wide.

    ``whole`` columns (code, building number, status, completeness) get their width; the
    others share the rest (``FLEX_MIN``, ``FLEX_STEPS``), none wider than its ``natural``
    width (the longest street name). The counts column (``conflicts`` cells) is left past the
    edge when the address, compound and street would be cut for it (80 columns).
    """
    widths = dict(whole)
    for key, least in FLEX_MIN.items():
        widths[key] = min(least, natural.get(key, least))
    left = width - SCROLLBAR - PADDING * len(widths) - sum(widths.values())
    for key, upto in FLEX_STEPS:
        if key == "conflicts":
            if left >= conflicts + PADDING:
                left -= conflicts + PADDING
            continue
        grow = max(0, min(min(upto, natural.get(key, upto)) - widths[key], left))
        widths[key] += grow
        left -= grow
    widths["conflicts"] = conflicts
    return widths


def building_no_cells(rows: Sequence[BuildingRow], header: int) -> int:
    """Cells of the 楼号 column: the longest 楼号 of ``rows`` whole (CJK counts two), at
    least ``BUILDING_NO_CELLS`` and the header, at most ``BUILDING_NO_MOST``."""
    longest = max((cell_len(without_controls(r.building_no or "")) for r in rows), default=0)
    return max(BUILDING_NO_CELLS, header, min(longest, BUILDING_NO_MOST))


class BuildingTable(DataTable[Text]):
    """The register's rows. Typing here goes on with the search (``type_into_search``).

    The table takes its own keys, in the order they were queued for it: the first printable
    key moves the focus to the search box, and the keys queued behind it (an input method
    commits 西里4号楼 at once) are passed on there (``forward_if_moved``). Judged by the
    screen, by what had the focus when each key came round, every key after the first was
    dropped: the focus was already on the search box, which never got them.
    """

    async def _on_key(self, event: events.Key) -> None:
        if forward_if_moved(self, event):
            return
        char = event.character
        screen = self.screen
        if isinstance(screen, BuildingsScreen) and char and char.isprintable() and char != " ":
            event.stop()
            event.prevent_default()
            screen.type_into_search(char)
        # Other keys (arrows, Enter) go on to the table's own handling.


class BuildingsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "focus_search", "list.key_search", id="list.search"),
        Binding("ctrl+n", "new_building", "list.key_new", id="list.new"),
        # Printing was in the palette only: neither the footer nor F1 named it.
        Binding("f4", "export", "list.key_export", id="list.export"),
        Binding("ctrl+o", "toggle_mine", "list.key_mine", show=False, id="list.mine"),
    ]

    DEFAULT_CSS = """
    BuildingsScreen #filters { height: 1; margin: 1 0 0 0; }
    BuildingsScreen #search { width: 1fr; }
    BuildingsScreen #f-subdistrict { width: 20; }
    BuildingsScreen #f-status { width: 16; }
    BuildingsScreen #f-mine { width: auto; }
    BuildingsScreen #buildings { height: 1fr; margin-top: 1; }
    BuildingsScreen #count { height: 1; color: $text-muted; padding: 0 1; }
    BuildingsScreen #count.-error { height: auto; max-height: 4; color: $text-error; }
    """

    app: SurveyorApp

    def __init__(self) -> None:
        super().__init__(id="buildings-screen")
        self.total = 0
        self.loaded = 0
        self._search_timer: Timer | None = None
        self._last_keystroke = 0.0
        self._fetching_more = False
        self._last_query: dict[str, Any] = {}
        #: Enter was pressed in the search box and waits for its query's answer.
        self._enter_pending = False
        #: The class name of the screen last pushed over the list.
        self._covered_by = ""
        #: Back from a building with the search that found it: the next text typed (in the box
        #: or from the list) starts a new search instead of going on with that one.
        self._search_spent = False
        #: The frame is painted with the search box focused (set just before the app starts
        #: opening the database): the first interactive frame.
        self.first_frame_shown = False
        self.first_page_shown = False
        self.counted = False
        #: Rows (ids) the search found through their community alone: their compound cell
        #: says the community (``BuildingPage.by_community``).
        self.by_community: set[uuid.UUID] = set()
        #: Content cells of each column (``column_widths``), and the width they share.
        self.widths: dict[str, int] = {}
        self._laid_out_at = 0

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder=t("list.search_placeholder"), id="search", compact=True)
            yield Select(
                self._subdistrict_options(),
                prompt=t("list.all_subdistricts"),
                id="f-subdistrict",
                compact=True,
            )
            yield Select(
                self._status_options(), prompt=t("list.all_statuses"), id="f-status", compact=True
            )
            yield Checkbox(t("list.mine"), id="f-mine", compact=True)
        yield BuildingTable(id="buildings", cursor_type="row", zebra_stripes=True)
        yield Static("", id="count")
        yield CatalogFooter()

    def _subdistrict_options(self) -> list[tuple[str, str]]:
        if not self.app.ready:
            return []  # filled in by store_ready
        fld = self.app.form.field("subdistrict")
        return [(c.label(language()), c.code) for c in fld.choices]

    @staticmethod
    def _status_options() -> list[tuple[str, str]]:
        return [(t(f"status.{s}"), s) for s in STATUSES]

    def on_mount(self) -> None:
        self._add_columns()
        self.query_one("#search", Input).focus()
        self._update_count()
        if self.app.ready:
            self.reload()
        else:
            # Paint this frame first; open the database (SQLAlchemy, the form) after it.
            self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        self.first_frame_shown = True
        self.app.start_loading()

    def store_ready(self) -> None:
        """The database is open: fill the filters and query with what was typed meanwhile."""
        self.query_one("#f-subdistrict", Select).set_options(self._subdistrict_options())
        self.reload()

    def store_failed(self, message: str) -> None:
        """The database could not be opened: say so where the count would be."""
        self._update_count()

    def _add_columns(self, rows: Sequence[BuildingRow] = ()) -> None:
        """The columns, as wide as ``rows`` (a first page) need, within their share of the
        width. Fixed widths: a column sized by Textual after the rows were added could be
        drawn once at its header's width and kept so (its cells are cached)."""
        table = self.query_one("#buildings", DataTable)
        self.widths = self._column_widths(rows)
        self._laid_out_at = self.app.size.width
        for key, label in COLUMNS:
            width = self.widths[key]
            table.add_column(fit_cells(t(label), width), key=key, width=width)

    def _column_widths(self, rows: Sequence[BuildingRow]) -> dict[str, int]:
        """The columns' widths at this width in this language: status and completeness
        whole, whatever the rows hold; the street, compound and address as the rows need."""
        header = {key: cell_len(t(label)) for key, label in COLUMNS}
        status = max(cell_len(t(f"status.{s}")) for s in STATUSES)
        whole = {
            "code": max(len("NK-00000-00000"), header["code"]),
            "building_no": building_no_cells(rows, header["building_no"]),
            "status": max(status, header["status"]),
            "completeness": max(len("100%"), header["completeness"]),
        }
        held = {
            "subdistrict": [self._street(r) for r in rows],
            "compound": [self._compound(r) for r in rows],
            "address": [r.address or "" for r in rows],
        }
        natural = {
            key: max([header[key], *(cell_len(without_controls(v)) for v in values)])
            for key, values in held.items()
        }
        return column_widths(self.app.size.width, whole, natural, header["conflicts"])

    def on_resize(self) -> None:
        """Another width: the columns share it anew. The rows are cut to the columns, so they
        are read again (``_show`` sets the columns up with the first page)."""
        if self.first_page_shown and self.app.size.width != self._laid_out_at:
            self.reload()

    def refresh_language(self) -> None:
        """Rebuild every interface string in the new language (the rows are re-read)."""
        self.query_one("#search", Input).placeholder = t("list.search_placeholder")
        sub = self.query_one("#f-subdistrict", Select)
        keep_sub = sub.value
        sub.set_options(self._subdistrict_options())
        sub.prompt = t("list.all_subdistricts")
        sub.value = keep_sub
        status = self.query_one("#f-status", Select)
        keep_status = status.value
        status.set_options(self._status_options())
        status.prompt = t("list.all_statuses")
        status.value = keep_status
        self.query_one("#f-mine", Checkbox).label = t("list.mine")
        table = self.query_one("#buildings", DataTable)
        table.clear(columns=True)
        self._add_columns()
        self._update_count()
        self.reload()

    # -- querying -----------------------------------------------------------------------------
    def query_args(self) -> dict[str, Any]:
        search = normalize_text(self.query_one("#search", Input).value)
        sub = self.query_one("#f-subdistrict", Select).value
        status = self.query_one("#f-status", Select).value
        mine = self.query_one("#f-mine", Checkbox).value
        return {
            "search": search or None,
            "subdistrict": sub if isinstance(sub, str) else None,
            "status": status if isinstance(status, str) else None,
            "mine": self.app.author if mine else None,
        }

    def reload(self, *, keep_place: bool = False) -> None:
        """Read the list again. ``keep_place``: as many rows as were loaded, the cursor back
        on its building (back from a survey or a dialog, the inspector goes on down the list;
        the cursor went back to row 1, and the export dialog offered that building)."""
        if not self.app.ready or not is_live(self):
            return  # store_ready reloads with the search and filters as they are then
        args = self.query_args()
        if args != self._last_query:
            self.counted = False  # a new question: its count follows its rows
        self._last_query = args
        table = self.query_one("#buildings", DataTable)
        keep = None
        if keep_place and table.row_count:
            keep = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        self._fetch(self._last_query, 0, max(WINDOW, self.loaded) if keep else WINDOW, keep)

    @work(thread=True, exclusive=True, group="list", exit_on_error=False)
    def _fetch(
        self, args: dict[str, Any], offset: int, limit: int = WINDOW, keep: str | None = None
    ) -> None:
        from surveyor.services.browse import browse_buildings, count_buildings

        # The rows first, then the count: the rows are what the inspector is waiting for.
        try:
            page = browse_buildings(
                self.app.store, limit=limit, offset=offset, with_total=False, **args
            )
            if get_current_worker().is_cancelled:
                return
            self.app.call_from_thread(self._show, page, offset, keep)
            if offset == 0:
                total = count_buildings(self.app.store, **args)
                if not get_current_worker().is_cancelled:
                    self.app.call_from_thread(self._show_total, total)
        except Exception as exc:  # a locked database, a lost server, a bug: said, not lost
            self._from_thread(self._fetch_failed, error_text(exc))

    @work(thread=True, exclusive=True, group="list-more", exit_on_error=False)
    def _fetch_more(self, args: dict[str, Any], offset: int) -> None:
        """The next window, appended when the cursor nears the end of the rows shown."""
        from surveyor.services.browse import browse_buildings

        try:
            page = browse_buildings(
                self.app.store, limit=WINDOW, offset=offset, with_total=False, **args
            )
        except Exception as exc:
            # Said, and tried again when the cursor moves: it left ``_fetching_more`` set, and
            # no row past those shown ever came, without a word.
            self._from_thread(self._fetch_failed, error_text(exc))
            return
        if get_current_worker().is_cancelled or args != self._last_query:
            self.app.call_from_thread(setattr, self, "_fetching_more", False)
            return
        self.app.call_from_thread(self._show, page, offset)

    def _from_thread(self, callback: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
            self.app.call_from_thread(callback, *args)

    def _fetch_failed(self, message: str) -> None:
        self._fetching_more = False
        if is_live(self):
            self.notify(message, severity="error", timeout=10, markup=False)

    def _street(self, row: BuildingRow) -> str:
        """The building's street (街道) as the list shows it: 万兴, Wanxing."""
        if not row.subdistrict:
            return ""
        label = self.app.form.field("subdistrict").choice_label(row.subdistrict, language())
        for suffix in SUBDISTRICT_SUFFIXES:
            label = label.removesuffix(suffix)
        return label

    def _compound(self, row: BuildingRow) -> str:
        """The compound cell's text: with the community after it when the search found the
        row through its community alone (no 社区 column: at 80 columns there is no room)."""
        compound = row.compound_name or ""
        if row.id not in self.by_community or not row.community:
            return compound
        return t("list.via_community", compound=compound, community=row.community)

    def _compound_cell(self, row: BuildingRow) -> Text:
        """``_compound`` cut to its column, the community dim: it is why the row is listed."""
        cell = plain(fit_cells(self._compound(row), self.widths["compound"]))
        if row.id in self.by_community and row.compound_name:
            cell.stylize("dim", len(row.compound_name))
        return cell

    def _row_cells(self, row: BuildingRow) -> list[Text]:
        widths = self.widths
        return [
            Text(row.code),
            plain(fit_cells(self._street(row), widths["subdistrict"])),
            self._compound_cell(row),
            plain(fit_cells(row.building_no or "", widths["building_no"])),
            plain(fit_cells(row.address or "", widths["address"])),
            Text(t(f"status.{row.status}"), style=STATUS_STYLE.get(row.status, "")),
            Text(f"{row.completeness:.0%}", justify="right"),
            Text(str(row.conflict_count) if row.conflict_count else "", style="bold red"),
        ]

    def _show(self, page: BuildingPage, offset: int, keep: str | None = None) -> None:
        """Show a window of rows (from the top when ``offset`` is 0); the cursor goes to the
        building ``keep`` when it is among them."""
        if not is_live(self):
            return  # the app quit while the rows were read
        table = self.query_one("#buildings", DataTable)
        if offset == 0:
            self.by_community.clear()
        self.by_community |= page.by_community
        with self.app.batch_update():
            if offset == 0:
                # The columns too: sized by their cells, they kept the widest cell ever shown
                # (a search's long street) and cut status and completeness at 80 columns.
                table.clear(columns=True)
                self._add_columns(page.rows)
                self.loaded = 0
            for row in page.rows:
                key = str(row.id)
                if key not in table.rows:
                    table.add_row(*self._row_cells(row), key=key)
            self.loaded = table.row_count
            if keep is not None and keep in table.rows:
                table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._fetching_more = False
        self._update_count()
        self.first_page_shown = True

    def _show_total(self, total: int) -> None:
        self.total = total
        self.counted = True
        self._update_count()
        if self._enter_pending and self._last_query == self.query_args() and is_live(self):
            self._after_enter()

    def _update_count(self) -> None:
        if not is_live(self):
            return
        line = self.query_one("#count", Static)
        error = self.app.load_error
        line.set_class(error is not None, "-error")
        if error is not None:
            line.update(plain(t("list.failed", error=error)))
        elif not self.app.ready:
            line.update(t("list.opening"))
        elif self.counted and self.total == 0 and self._searched_in_latin():
            line.update(t("list.count_latin"))
        else:
            line.update(
                t("list.count", shown=self.loaded, total=self.total if self.counted else "-")
            )

    def _searched_in_latin(self) -> bool:
        """Whether the query answered is Latin letters only (pinyin: 「yunju」 for 云居), which
        found nothing and said only 「显示 0 / 共 0 栋」."""
        search = self._last_query.get("search")
        return isinstance(search, str) and latin_letters_only(search)

    # -- events -------------------------------------------------------------------------------
    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        value = normalize_text(event.value)
        code = normalize_code(value)
        if code is not None and value.upper().startswith(URI_PREFIX):
            # A pasted label: open it at once (typed or scanned ones never get here: the
            # app's scan catcher takes them, tui/scan.py).
            self._open_scanned(code)
            return
        self._enter_pending = False  # typing on: an Enter before was for another query
        self._search_spent = False
        if self._search_timer is not None:
            self._search_timer.stop()
        now = time.monotonic()
        if now - self._last_keystroke > SEARCH_DELAY:
            self.reload()  # the first key of a burst searches at once…
        else:  # …keys typed in quick succession (a scanner, an IME commit) search once, after
            self._search_timer = self.set_timer(SEARCH_DELAY, self.reload)
        self._last_keystroke = now

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        code = normalize_code(normalize_text(event.value))
        if code is not None:
            self._open_scanned(code)
            return
        if self._search_timer is not None:  # keys still waiting to be searched: search now
            self._search_timer.stop()
            self._search_timer = None
            self.reload()
        self._enter_pending = True
        if self.counted and self._last_query == self.query_args():
            self._after_enter()  # the list already answers this query

    def _after_enter(self) -> None:
        """Enter in the search box, once its query is answered: the one building found opens;
        with more, the cursor goes into the list. (Opening whatever was listed when Enter was
        pressed could open the answer to an older query.)"""
        self._enter_pending = False
        table = self.query_one("#buildings", DataTable)
        if self.total == 1 and table.row_count == 1:
            key = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key.value
            if key is not None:
                self.app.open_building(uuid.UUID(key))
                return
        if table.row_count:
            table.focus()

    def highlighted_code(self) -> str | None:
        """The code of the building under the list's cursor, or None with an empty list."""
        table = self.query_one("#buildings", DataTable)
        if not table.row_count:
            return None
        return str(table.get_row_at(table.cursor_row)[0])

    def _open_scanned(self, code: str) -> None:
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = ""
        self.app.open_building(code)
        self.reload()

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def filter_changed(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#buildings")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.open_building(uuid.UUID(event.row_key.value))

    @on(DataTable.RowHighlighted, "#buildings")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        near_end = event.cursor_row >= self.loaded - 20
        if near_end and self.counted and self.loaded < self.total and not self._fetching_more:
            self._fetching_more = True
            self._fetch_more(self._last_query, self.loaded)

    def on_key(self, event: events.Key) -> None:
        """Down from the search box goes into the list, as in any search-then-pick screen.
        (Typing in the list goes to the search: ``BuildingTable``.)"""
        table = self.query_one("#buildings", DataTable)
        focused = self.focused
        in_search = isinstance(focused, Input) and focused.id == "search"
        if event.key == "down" and in_search and table.row_count:
            table.focus()
            event.stop()

    def type_into_search(self, text: str) -> None:
        """Add ``text`` to the end of the search (a key typed in the list), or, back from a
        building, start a new search with it. The box selects all on focus: that selection
        swallowed the first key typed from the table and the query before it."""
        search = self.query_one("#search", Input)
        if not search.has_focus:
            search.select_on_focus = False
            self.set_focus(search)  # now, so its Focus is queued before the restore below
            search.call_later(setattr, search, "select_on_focus", True)
        if self._search_spent:  # back from a building: a new search, not more of the old one
            search.value = ""
        search.cursor_position = len(search.value)
        search.insert_text_at_cursor(text)

    def on_screen_suspend(self) -> None:
        self._covered_by = type(self.app.screen).__name__  # pushed already when this runs

    def on_screen_resume(self) -> None:
        """Back from a survey, a review, a new building: read the rows again (statuses and
        completeness may have changed), keeping the place. Back from help, the palette or
        the export dialog nothing changed: reading every loaded row again after each F1 was
        waste.

        Back from a building, the search that found it is spent: it stays, with its rows and
        the focus where it was (arrows and Enter work on the rows), but selected, so the next
        text typed, in the box or from the list, replaces it. Typed after the return, 宜宾
        went on with 新苑里 1号 (新苑里 1号宜宾, no rows)."""
        if self._covered_by in READ_ONLY_SCREENS:
            return
        if self.first_page_shown:
            self.reload(keep_place=True)
        search = self.query_one("#search", Input)
        if search.value:
            self._search_spent = True
            search.select_all()

    # -- actions ------------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        """The search box, its query selected: a new one replaces it. Already in the box,
        ``ctrl+f`` only added the next query to the old one (0 results)."""
        search = self.query_one("#search", Input)
        search.focus()
        search.select_all()

    async def action_export(self) -> None:
        """The export and print dialog (sheets, QR labels, data), the building under the
        cursor offered first."""
        await self.app.open_exports()

    def action_toggle_mine(self) -> None:
        box = self.query_one("#f-mine", Checkbox)
        box.value = not box.value

    def action_new_building(self) -> None:
        if not self.app.is_ready_or_tell():
            return
        from surveyor.tui.modals.new_building import NewBuildingModal

        def created(building_id: uuid.UUID | None) -> None:
            if building_id is not None:
                self.reload()
                self.app.open_building(building_id)

        self.app.push_screen(NewBuildingModal(), created)
