"""Packed heads: a change that heads every field it set (two or more) is stored as ``[hlc]``.

Its field names are the keys of that change's ``fields`` in the log, so a surveyed building's
heads shrink from ≈ 2 KB to ≈ 0.1 KB (see ``surveyor.store.heads``): about a fifth of the bytes
a merge writes and a laptop stores. Existing rows are packed in batches; the change log itself
is untouched.

Revision ID: 0005_packed_heads
Revises: 0004_merge_write_costs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from surveyor.store.bulk import keyset_batches, load_json
from surveyor.store.heads import pack_heads
from surveyor.store.log import change_fields

revision = "0005_packed_heads"
down_revision = "0004_merge_write_costs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    building = sa.table("building", sa.column("id", sa.Uuid()), sa.column("heads", JSON))
    update = (
        sa.update(building)
        .where(building.c.id == sa.bindparam("b_id"))
        .values(heads=sa.bindparam("b_heads"))
    )
    query = sa.select(building.c.id, building.c.heads)
    for rows in keyset_batches(conn, query, building.c.id, BATCH):
        heads = {r.id: load_json(r.heads) for r in rows}
        wanted = sorted({cid for doc in heads.values() for cid in doc})
        sizes = {cid: len(fields) for cid, fields in change_fields(conn, wanted).items()}
        packed = {bid: pack_heads(doc, sizes) for bid, doc in heads.items()}
        params = [{"b_id": b, "b_heads": doc} for b, doc in packed.items() if doc != heads[b]]
        if params:
            conn.execute(update, params)


def downgrade() -> None:
    raise NotImplementedError("0005 is not reversible; restore a backup taken before upgrading")
