"""Where the inspector left each survey (the ``resume_point`` table; local, never synced)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from surveyor.store import models
from surveyor.store.db import Store, utc_now_iso, write_tx

RESUME = models.RESUME_POINT_TABLE


def get_resume_point(store: Store, building_id: uuid.UUID) -> str | None:
    """The field the inspector was last on in this building's survey, or None."""
    with store.engine.connect() as conn:
        value = conn.execute(
            sa.select(RESUME.c.field_id).where(RESUME.c.building_id == building_id)
        ).scalar()
    return str(value) if value is not None else None


def set_resume_point(store: Store, building_id: uuid.UUID, field_id: str) -> None:
    """Remember ``field_id`` as the place to reopen this building's survey."""
    now = utc_now_iso()
    with write_tx(store.engine) as conn:
        updated = conn.execute(
            sa.update(RESUME)
            .where(RESUME.c.building_id == building_id)
            .values(field_id=field_id, updated_at=now)
        ).rowcount
        if not updated:
            conn.execute(
                sa.insert(RESUME),
                [{"building_id": building_id, "field_id": field_id, "updated_at": now}],
            )
