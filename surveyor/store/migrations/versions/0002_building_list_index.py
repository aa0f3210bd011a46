"""A covering index for the building list: 街道, compound, building number, code order.

The list and its search (``services.browse``) read only this index, never the wide state rows
(about 8 KB each with their answers), so a search over 50,000 buildings stays within a few
milliseconds of SQLite work.

Revision ID: 0002_building_list_index
Revises: 0001_initial
"""

from __future__ import annotations

from alembic import op

revision = "0002_building_list_index"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

COLUMNS = [
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


def upgrade() -> None:
    op.create_index("ix_building_list", "building", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_building_list", table_name="building")
