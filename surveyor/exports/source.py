"""The buildings an export covers (a ``services.selection.Selection``), read from a store."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from surveyor.errors import SurveyorError
from surveyor.paths import blob_dir_for
from surveyor.services.selection import Selection, selected_rows
from surveyor.services.survey import BUILDING, get_live_building
from surveyor.store.db import Store, is_url
from surveyor.sync.rows import flagged_as_duplicate


@dataclass(frozen=True)
class BuildingRecord:
    """One selected building: its code, status and stored answers; and what still awaits a
    supervisor: its open field conflicts, and whether it is flagged as a possible duplicate
    (a central flags buildings at one address), so an export says its figures are provisional.
    """

    code: str
    status: str
    answers: dict[str, Any]
    open_conflicts: int = 0
    possible_duplicate: bool = False

    @property
    def under_review(self) -> bool:
        return self.open_conflicts > 0 or self.possible_duplicate


def select_buildings(store: Store, selection: Selection) -> list[BuildingRecord]:
    """The selected buildings in register order (街道, compound, building number, code)."""
    if selection.codes:
        selection = replace(selection, codes=live_codes(store, selection.codes))
    flagged = flagged_as_duplicate().label("flagged")
    columns = (BUILDING.c.code, BUILDING.c.status, BUILDING.c.conflict_count, flagged)
    with store.engine.connect() as conn:
        rows = selected_rows(conn, selection, *columns)
    return [
        BuildingRecord(
            r.code, r.status, dict(r.answers or {}), int(r.conflict_count or 0), bool(r.flagged)
        )
        for r in rows
    ]


def live_codes(store: Store, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The codes of the live buildings ``codes`` name: a duplicate merged away gives the
    building kept (its old label is still on the door); an unknown or deleted building is an
    error naming it, never a sheet silently missing from the stack."""
    return tuple(dict.fromkeys(get_live_building(store, code).state.code for code in codes))


def require_some(records: list[BuildingRecord], selection: Selection) -> None:
    """An empty selection is an error: no file is written for it."""
    if not records:
        raise SurveyorError(
            f"no buildings match the selection ({selection.describe()}); nothing was written",
            zh=f"没有楼栋符合所选条件（{selection.describe('zh')}）；未写出任何文件",
        )


def blob_dir(store: Store) -> Path | None:
    """Where a SQLite store keeps its photos; None for PostgreSQL (photos stay on laptops)."""
    if is_url(store.target):
        return None
    folder = blob_dir_for(Path(store.target))
    return folder if folder.is_dir() else None
