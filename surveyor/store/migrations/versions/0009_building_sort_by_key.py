"""``building_sort`` is the natural sort key of the 楼号's ``building_number_key``
(``services.survey.number_sort``), no longer of the 楼号 as written: every spelling of one
楼号 (1号楼, 1栋, 01, 第1栋, "1 号楼") has one sort key, which the new-building check and the
search match by one value through the list's index. Before, a stored 第1栋 was not found by
the 1号楼 typed on site. Every building's sort key is computed again here; nothing else changes.

Revision ID: 0009_building_sort_by_key
Revises: 0008_change_author_index
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0009_building_sort_by_key"
down_revision = "0008_change_author_index"
branch_labels = None
depends_on = None

BATCH = 1000
# Frozen copies of services.survey's NUMBER_SUFFIXES, building_number_key and number_sort as
# of this revision: a later change of them must not change what this upgrade wrote.
_SUFFIX = re.compile(
    "(" + "|".join(map(re.escape, ("号楼", "号", "栋", "幢", "座", "楼", "#"))) + ")$"
)


def _number_key(text: str | None) -> str:
    if not text:
        return ""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())
    bare = _SUFFIX.sub("", folded.removeprefix("第")) or folded
    return re.sub(r"^0+(?=\d)", "", bare)


def _number_sort(text: str | None) -> str:
    key = _number_key(text)
    if not key:
        return ""
    folded = unicodedata.normalize("NFKC", key).lower()
    return re.sub(r"\d+", lambda m: m.group().zfill(8), folded)[:80]


def upgrade() -> None:
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
        query = sa.select(building.c.id, building.c.building_no, building.c.building_sort)
        if last is not None:
            query = query.where(building.c.id > last)
        rows = conn.execute(query.order_by(building.c.id).limit(BATCH)).all()
        if not rows:
            break
        changed = [
            {"b_id": r.id, "b_sort": sort}
            for r in rows
            if (sort := _number_sort(r.building_no)) != r.building_sort
        ]
        if changed:
            conn.execute(update, changed)
        last = rows[-1].id


def downgrade() -> None:
    raise NotImplementedError("0009 is not reversible; restore a backup taken before upgrading")
