"""Duplicate flags by address and 楼号: buildings of one compound sharing a 门牌 are no
duplicates (``fold.duplicate_rows``). Flags written before this version paired every
building at an address; the flags of those addresses are computed again here (a central
only: a laptop flags nothing). Nothing else changes.

Revision ID: 0007_duplicates_by_number
Revises: 0006_agreeing_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_duplicates_by_number"
down_revision = "0006_agreeing_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Imported here: only this data migration needs the sync code.
    from surveyor.sync.apply import refresh_duplicates
    from surveyor.sync.fold import DUPLICATE_KEY

    conn = op.get_bind()
    building = sa.table(
        "building", sa.column("id", sa.Uuid()), sa.column("address_norm", sa.String())
    )
    conflict = sa.table(
        "conflict", sa.column("entity_id", sa.Uuid()), sa.column("field_key", sa.String())
    )
    addresses = conn.execute(
        sa.select(building.c.address_norm)
        .distinct()
        .join(conflict, conflict.c.entity_id == building.c.id)
        .where(conflict.c.field_key == DUPLICATE_KEY, building.c.address_norm.is_not(None))
    ).scalars()
    found = sorted(str(a) for a in addresses)
    if found:
        refresh_duplicates(conn, [], set(found))


def downgrade() -> None:
    raise NotImplementedError("0007 is not reversible; restore a backup taken before upgrading")
