"""Initial schema: meta, clock, building state, change log, conflicts, sync bookkeeping.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "attachment",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.String(length=80), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "building",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("subdistrict", sa.String(length=40), nullable=True),
        sa.Column("community", sa.String(length=80), nullable=True),
        sa.Column("compound_name", sa.String(length=120), nullable=True),
        sa.Column("building_no", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("address_norm", sa.String(length=200), nullable=True),
        sa.Column("search_text", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completeness", sa.Float(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "field_change",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "field_hlc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("conflict_count", sa.Integer(), nullable=False),
        sa.Column("assigned_to", sa.String(length=80), nullable=True),
        sa.Column("created_hlc", sa.BigInteger(), nullable=False),
        sa.Column("updated_hlc", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("building", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_building_address_norm"), ["address_norm"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_building_assigned_to"), ["assigned_to"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_building_compound_name"), ["compound_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_building_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_building_subdistrict"), ["subdistrict"], unique=False)
        batch_op.create_index(batch_op.f("ix_building_updated_hlc"), ["updated_hlc"], unique=False)

    op.create_table(
        "change",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=16), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "parents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("wall_time", sa.String(length=40), nullable=False),
        sa.CheckConstraint("op IN ('upsert', 'delete', 'resolve', 'alias')", name="ck_change_op"),
        sa.PrimaryKeyConstraint("change_id"),
        sa.UniqueConstraint("site_id", "seq", name="uq_change_site_seq"),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_hlc"), ["hlc"], unique=False)

    op.create_table(
        "clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "conflict",
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("field_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_change_id", sa.Uuid(), nullable=True),
        sa.Column(
            "head_change_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("provisional_change_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('hard', 'soft', 'delete_vs_edit', 'duplicate_entity')",
            name="ck_conflict_kind",
        ),
        sa.PrimaryKeyConstraint("entity_id", "field_key"),
    )
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_status"), ["status"], unique=False)

    op.create_table(
        "imported_file",
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("max_seq", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("file_sha256"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "peer_watermark",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("max_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "resume_point",
        sa.Column("building_id", sa.Uuid(), nullable=False),
        sa.Column("field_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("building_id"),
    )


def downgrade() -> None:

    op.drop_table("resume_point")
    op.drop_table("peer_watermark")
    op.drop_table("meta")
    op.drop_table("imported_file")
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_status"))

    op.drop_table("conflict")
    op.drop_table("clock")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_hlc"))
        batch_op.drop_index(batch_op.f("ix_change_entity_id"))

    op.drop_table("change")
    with op.batch_alter_table("building", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_building_updated_hlc"))
        batch_op.drop_index(batch_op.f("ix_building_subdistrict"))
        batch_op.drop_index(batch_op.f("ix_building_status"))
        batch_op.drop_index(batch_op.f("ix_building_compound_name"))
        batch_op.drop_index(batch_op.f("ix_building_assigned_to"))
        batch_op.drop_index(batch_op.f("ix_building_address_norm"))

    op.drop_table("building")
    op.drop_table("attachment")
