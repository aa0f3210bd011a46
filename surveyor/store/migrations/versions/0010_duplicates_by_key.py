"""Duplicate flags by the current ``building_number_key``: since it drops leading zeros and a
leading 第, 01 and 1 (or 第2栋 and 2号楼) at one address are one 楼号, and may be one building.
A central merged before holds no flag for such a pair (they were two 楼号 then), and a merge
only recomputes the addresses it touches: the flags of every address with two buildings or
more are computed again here (a central only: a laptop flags nothing). A flag is computed from
the live buildings, so a duplicate already settled (merged or deleted) is not flagged again,
and running it again writes the same flags. Nothing else changes.

Revision ID: 0010_duplicates_by_key
Revises: 0009_building_sort_by_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_duplicates_by_key"
down_revision = "0009_building_sort_by_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Imported here: only this data migration needs the sync code.
    from surveyor.sync.apply import flags_duplicates, refresh_duplicates
    from surveyor.sync.fold import DUPLICATE_KEY

    conn = op.get_bind()
    if not flags_duplicates(conn):
        return
    building = sa.table(
        "building",
        sa.column("id", sa.Uuid()),
        sa.column("address_norm", sa.String()),
        sa.column("deleted", sa.Boolean()),
    )
    conflict = sa.table(
        "conflict", sa.column("entity_id", sa.Uuid()), sa.column("field_key", sa.String())
    )
    shared = conn.execute(  # where a pair may now be flagged
        sa.select(building.c.address_norm)
        .where(building.c.address_norm.is_not(None), building.c.deleted == sa.false())
        .group_by(building.c.address_norm)
        .having(sa.func.count() > 1)
    ).scalars()
    flagged = conn.execute(  # where a flag may no longer be due
        sa.select(building.c.address_norm)
        .distinct()
        .join(conflict, conflict.c.entity_id == building.c.id)
        .where(conflict.c.field_key == DUPLICATE_KEY, building.c.address_norm.is_not(None))
    ).scalars()
    found = {str(a) for a in shared} | {str(a) for a in flagged}
    if found:
        refresh_duplicates(conn, [], found)


def downgrade() -> None:
    raise NotImplementedError("0010 is not reversible; restore a backup taken before upgrading")
