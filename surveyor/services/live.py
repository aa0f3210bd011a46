"""An open survey kept up with writes made elsewhere: ``surveyor photo add`` in another
terminal, a sync that brought a resolution or an assignment, on the same database.

The screen asks ``BuildingWatch.poll`` every second or two (in a worker thread); it reads the
building again only after a commit by another connection (``store.watch.CommitWatch``), and
``changed_elsewhere`` tells which fields that commit moved past what the screen shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from surveyor.services.survey import BuildingState, get_building
from surveyor.store.db import Store
from surveyor.store.watch import CommitWatch


class BuildingWatch:
    """One building as stored, read again when the database may have changed."""

    def __init__(self, store: Store, building_id: uuid.UUID) -> None:
        self._store = store
        self._building_id = building_id
        self._commits = CommitWatch(store)

    def poll(self, *, force: bool = False) -> BuildingState | None:
        """The building as stored now, or None when nothing was committed since the last
        poll (``force``: read it anyway, the caller's last reading was set aside)."""
        if not self._commits.changed() and not force:
            return None
        return get_building(self._store, self._building_id)

    def close(self) -> None:
        self._commits.close()


def changed_elsewhere(state: BuildingState, seen: Mapping[str, str | None]) -> set[str]:
    """The fields whose head change in ``state`` is not the one the screen shows (``seen``):
    set, cleared or resolved by another program since the screen read them."""
    heads = state.field_change
    return {fid for fid in heads.keys() | seen.keys() if heads.get(fid) != seen.get(fid)}
