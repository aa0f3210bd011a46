"""Agreeing heads: ``extra.agreeing`` names the heads of a field two inspectors set alike.

A save over such a value saw every one of those heads, and names them all as its parents
(``SurveyWriter``); they come from the state row, which a fold writes. Rows folded before
this version lack them, so the first save there named one head and left the other: a
conflict of the value its own inspector had just replaced. Buildings whose changes come from
more than one site are folded from the log here, and only their ``extra`` gains the key; the
form is not needed and nothing else in the row changes.

Revision ID: 0006_agreeing_heads
Revises: 0005_packed_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_agreeing_heads"
down_revision = "0005_packed_heads"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BATCH = 500


def upgrade() -> None:
    # Imported here: only this data migration needs the sync code.
    from surveyor.store.bulk import load_json
    from surveyor.sync.apply import chunks, load_entity_changes
    from surveyor.sync.fold import AGREEING_KEY, fold_entity
    from surveyor.sync.rows import as_uuid, canonical_id

    conn = op.get_bind()
    change = sa.table("change", sa.column("entity_id", sa.Uuid()), sa.column("site_id", sa.Uuid()))
    building = sa.table("building", sa.column("id", sa.Uuid()), sa.column("extra", JSON))
    shared = conn.execute(
        sa.select(change.c.entity_id)
        .group_by(change.c.entity_id)
        .having(sa.func.count(sa.distinct(change.c.site_id)) > 1)
    ).scalars()
    update = (
        sa.update(building)
        .where(building.c.id == sa.bindparam("b_id"))
        .values(extra=sa.bindparam("b_extra"))
    )
    for batch in chunks(sorted(canonical_id(i) for i in shared), BATCH):
        agreeing = {
            eid: state.agreeing
            for eid, changes in load_entity_changes(conn, list(batch)).items()
            if (state := fold_entity(eid, changes)).agreeing
        }
        if not agreeing:
            continue
        rows = conn.execute(
            sa.select(building.c.id, building.c.extra).where(
                building.c.id.in_([as_uuid(i) for i in agreeing])
            )
        ).all()
        params = [
            {
                "b_id": bid,
                "b_extra": _with(load_json(extra), AGREEING_KEY, agreeing[canonical_id(bid)]),
            }
            for bid, extra in rows
        ]
        if params:
            conn.execute(update, params)


def _with(extra: object, key: str, value: object) -> dict[str, object]:
    """A row's ``extra`` (stored JSON, maybe empty) with ``key`` set."""
    return {**(extra if isinstance(extra, dict) else {}), key: value}


def downgrade() -> None:
    raise NotImplementedError("0006 is not reversible; restore a backup taken before upgrading")
