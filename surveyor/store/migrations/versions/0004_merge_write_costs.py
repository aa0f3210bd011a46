"""Natural order of building numbers; cheaper merge writes.

``building_sort`` holds the building number with its digit runs zero-padded
(``services.survey.natural_sort_key``), and the list's covering index orders by it instead of
the raw text, which put "10号楼" before "2号楼".

Every state row and change row written updates each index of its table. ``ix_change_hlc``,
``ix_building_updated_hlc`` and ``ix_building_compound_name`` serve no query (the building
list orders through ``ix_building_list``), so they are dropped.

PostgreSQL: the large JSON columns are compressed with lz4 instead of pglz.

A survey's answers and a change's fields are 2-4 KB of JSON, above PostgreSQL's TOAST
threshold, so every row written is compressed; pglz made that a large share of a merge's
server time (lz4 compresses several times faster at a similar ratio). Existing values keep
their compression until rewritten. SQLite is unaffected. A server built without lz4 keeps
pglz: the change is then skipped, since the schema is otherwise identical.

Revision ID: 0004_merge_write_costs
Revises: 0003_compact_heads
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004_merge_write_costs"
down_revision = "0003_compact_heads"
branch_labels = None
depends_on = None

COLUMNS = [
    ("change", "fields"),
    ("change", "parents"),
    ("building", "answers"),
    ("building", "heads"),
    ("building", "errors"),
]


def _set_compression(method: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    try:
        with conn.begin_nested():
            conn.execute(sa.text(f"SET LOCAL default_toast_compression = {method}"))
    except sa.exc.DBAPIError:
        return  # this server was built without lz4
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


UNUSED_INDEXES = [
    ("change", "ix_change_hlc", "hlc"),
    ("building", "ix_building_updated_hlc", "updated_hlc"),
    ("building", "ix_building_compound_name", "compound_name"),
]


LIST_INDEX_0002 = [
    "deleted",
    "subdistrict",
    "compound_name",
    "building_no",
    "code",
    "status",
    "assigned_to",
    "updated_by",
    "search_text",
    "id",
]
LIST_INDEX_0004 = [c if c != "building_no" else "building_sort" for c in LIST_INDEX_0002]
BATCH = 1000


def _sort_key(text: str | None) -> str:
    # A frozen copy of services.survey.natural_sort_key as of this revision.
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\d+", lambda m: m.group().zfill(8), folded)[:80]


def _fill_sort_keys() -> None:
    conn = op.get_bind()
    building = sa.table(
        "building",
        sa.column("id", sa.Uuid()),
        sa.column("building_no", sa.String()),
        sa.column("building_sort", sa.String()),
    )
    update = (
        sa.update(building)
        .where(building.c.id == sa.bindparam("b_id"))
        .values(building_sort=sa.bindparam("b_sort"))
    )
    last = None
    while True:
        query = sa.select(building.c.id, building.c.building_no).where(
            building.c.building_no.is_not(None)
        )
        if last is not None:
            query = query.where(building.c.id > last)
        rows = conn.execute(query.order_by(building.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(update, [{"b_id": r.id, "b_sort": _sort_key(r.building_no)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    op.add_column(
        "building",
        sa.Column("building_sort", sa.String(length=80), nullable=False, server_default=""),
    )
    _fill_sort_keys()
    op.drop_index("ix_building_list", table_name="building")
    op.create_index("ix_building_list", "building", LIST_INDEX_0004, unique=False)
    for table, name, _ in UNUSED_INDEXES:
        op.drop_index(name, table_name=table)
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("pglz")
    for table, name, column in UNUSED_INDEXES:
        op.create_index(name, table, [column], unique=False)
    op.drop_index("ix_building_list", table_name="building")
    op.create_index("ix_building_list", "building", LIST_INDEX_0002, unique=False)
    op.drop_column("building", "building_sort")
