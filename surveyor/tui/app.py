"""The inspector app. For now: the building list of the register (the survey screen follows)."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from surveyor.services.queries import BuildingPage, list_buildings
from surveyor.store.db import Store, open_store

STATUS_LABELS = {
    "not_started": "未开始 not started",
    "draft": "草稿 draft",
    "complete": "完成 complete",
    "approved": "已审核 approved",
}


class SurveyorApp(App[None]):
    TITLE = "Surveyor 南开区既有住宅普查"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]
    CSS = """
    #search { dock: top; }
    #count { dock: bottom; height: 1; color: $text-muted; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="搜索 Search: code, address, compound…", id="search")
        yield DataTable(id="buildings", cursor_type="row", zebra_stripes=True)
        yield Static("", id="count")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Code", "街道", "小区 Compound", "楼号", "Address", "Status", "%")
        self.refresh_list("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def refresh_list(self, search: str) -> None:
        page = list_buildings(self.store, search=search or None, limit=200)
        self.call_from_thread(self._show, page)

    def _show(self, page: BuildingPage) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in page.rows:
            table.add_row(
                row.code,
                row.subdistrict or "",
                row.compound_name or "",
                row.building_no or "",
                row.address or "",
                STATUS_LABELS.get(row.status, row.status),
                f"{row.completeness:.0%}",
                key=str(row.id),
            )
        self.query_one("#count", Static).update(f"{len(page.rows)} of {page.total}")


def run_app(db: Path) -> None:
    store = open_store(db)
    try:
        SurveyorApp(store).run()
    finally:
        store.close()
