"""The whole numbers of each building's address and compound (``building.place_numbers``), in
the list's covering index: the search matches a number typed alone (宜宾 4, 4号, 04) against
them whole, and against the 楼号 by its spellings, no longer inside any text.

"4" found 14号楼, 宜宾道24号 and every code holding a 4 (NK-WK4FA…); a number needs its
neighbours to be no digits, which ``LIKE`` cannot say over the free text, so each number is
stored between spaces (" 4 12 ") and found by ``LIKE '% 4 %'`` in the index, as fast as the
text search beside it (``services.queries._number_search``).

Revision ID: 0011_search_place_numbers
Revises: 0010_duplicates_by_key
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011_search_place_numbers"
down_revision = "0010_duplicates_by_key"
branch_labels = None
depends_on = None

LIST_INDEX_0004 = [
    "deleted",
    "subdistrict",
    "compound_name",
    "building_sort",
    "code",
    "status",
    "assigned_to",
    "updated_by",
    "search_text",
    "id",
]
LIST_INDEX_0011 = [*LIST_INDEX_0004[:-1], "place_numbers", "id"]
BATCH = 1000
WIDTH = 200


def _place_numbers(*texts: str | None) -> str:
    # A frozen copy of services.survey.place_numbers as of this revision.
    numbers: list[str] = []
    for text in texts:
        for run in re.findall(r"[0-9]+", unicodedata.normalize("NFKC", text or "")):
            number = run.lstrip("0") or "0"
            if number not in numbers:
                numbers.append(number)
    joined = ""
    for number in numbers:
        if len(joined) + len(number) + 2 > WIDTH:
            break
        joined += f" {number}"
    return f"{joined} " if joined else ""


def _fill_place_numbers() -> None:
    conn = op.get_bind()
    building = sa.table(
        "building",
        sa.column("id", sa.Uuid()),
        sa.column("address", sa.String()),
        sa.column("compound_name", sa.String()),
        sa.column("place_numbers", sa.String()),
    )
    update = (
        sa.update(building)
        .where(building.c.id == sa.bindparam("b_id"))
        .values(place_numbers=sa.bindparam("b_numbers"))
    )
    last = None
    while True:
        query = sa.select(building.c.id, building.c.address, building.c.compound_name)
        if last is not None:
            query = query.where(building.c.id > last)
        rows = conn.execute(query.order_by(building.c.id).limit(BATCH)).all()
        if not rows:
            break
        numbers = [
            {"b_id": r.id, "b_numbers": _place_numbers(r.address, r.compound_name)} for r in rows
        ]
        conn.execute(update, numbers)
        last = rows[-1].id


def upgrade() -> None:
    # A database marked older than its schema (as the tests of earlier revisions make one)
    # may hold the column already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("building")}
    if "place_numbers" not in columns:
        op.add_column(
            "building",
            sa.Column("place_numbers", sa.String(length=200), nullable=False, server_default=""),
        )
    _fill_place_numbers()
    op.drop_index("ix_building_list", table_name="building")
    op.create_index("ix_building_list", "building", LIST_INDEX_0011, unique=False)


def downgrade() -> None:
    op.drop_index("ix_building_list", table_name="building")
    op.create_index("ix_building_list", "building", LIST_INDEX_0004, unique=False)
    op.drop_column("building", "place_numbers")
