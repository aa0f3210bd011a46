"""Per-field heads grouped by change: one ``heads`` column replaces ``field_change``/``field_hlc``.

``field_change`` held a UUID string per field and ``field_hlc`` an HLC per field (≈5.7 KB per
surveyed building); ``heads`` holds each head change once with its HLC and field names
(≈1.8 KB), see ``surveyor.store.heads``. Existing rows are converted in batches; the change log
itself is untouched.

Revision ID: 0003_compact_heads
Revises: 0002_building_list_index
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from surveyor.store.bulk import keyset_batches
from surveyor.store.heads import encode_heads

revision = "0003_compact_heads"
down_revision = "0002_building_list_index"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BATCH = 1000


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("building", sa.Column("heads", JSON, nullable=False, server_default="{}"))
    building = sa.table(
        "building",
        sa.column("id", sa.Uuid()),
        sa.column("field_change", sa.Text()),
        sa.column("field_hlc", sa.Text()),
        sa.column("heads", JSON),
    )
    pg = conn.dialect.name == "postgresql"
    update = (
        sa.update(building)
        .where(building.c.id == sa.bindparam("b_id"))
        .values(heads=sa.bindparam("b_heads"))
    )
    query = sa.select(building.c.id, building.c.field_change, building.c.field_hlc)
    for rows in keyset_batches(conn, query, building.c.id, BATCH):
        params = [
            {"b_id": r.id, "b_heads": encode_heads(_load(r.field_change), _load(r.field_hlc))}
            for r in rows
        ]
        conn.execute(update, params)
    if pg:
        op.drop_column("building", "field_change")
        op.drop_column("building", "field_hlc")
    else:
        # SQLite >= 3.35 drops a column in place (Alembic would copy the whole table).
        op.execute("ALTER TABLE building DROP COLUMN field_change")
        op.execute("ALTER TABLE building DROP COLUMN field_hlc")


def downgrade() -> None:
    raise NotImplementedError("0003 is not reversible; restore a backup taken before upgrading")
