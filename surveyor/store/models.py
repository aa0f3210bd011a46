"""The tables every Surveyor database has, laptop and central alike (sync-merge.md §4.4).

- ``change`` is the append-only log and the unit of sync: one row per save, holding the fields
  it set and, per field, the parent change the inspector saw.
- ``building`` is the materialised state: one wide row per building survey, with the answers
  and the per-field heads (grouped by change, ``store.heads``) as JSON. It is a cache of the
  log and can be recomputed from it.
- ``conflict`` only holds fields with two or more concurrent heads (rare).

Types are portable: ``Uuid`` is native on PostgreSQL and 32-char text on SQLite; JSON is
JSONB on PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _json(nullable: bool = False) -> Any:
    return Field(default_factory=dict, sa_type=JSONType, nullable=nullable)


class Meta(SQLModel, table=True):
    """Key/value facts about this database: site id, role, inspector, creation time."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class Clock(SQLModel, table=True):
    """The local site's counters, in one row so a save bumps them in its own transaction."""

    __tablename__ = "clock"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=sa.BigInteger)
    hlc: int = Field(default=0, sa_type=sa.BigInteger)


class Building(SQLModel, table=True):
    """Current state of one building survey (a cache of the change log)."""

    __tablename__ = "building"
    # Covering index of the building list and its search (migrations 0002, 0004, 0009).
    __table_args__ = (
        sa.Index(
            "ix_building_list",
            "deleted",
            "subdistrict",
            "compound_name",
            "building_sort",
            "code",
            "status",
            "assigned_to",
            "updated_by",
            "search_text",
            "place_numbers",
            "id",
        ),
    )
    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(unique=True, max_length=20)
    # Register columns, copied from answers on every save so lists and search stay in SQL.
    subdistrict: str | None = Field(default=None, index=True, max_length=40)
    community: str | None = Field(default=None, max_length=80)
    compound_name: str | None = Field(default=None, max_length=120)
    building_no: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=200)
    address_norm: str | None = Field(default=None, index=True, max_length=200)
    # building_no with digit runs zero-padded, so the list orders 2号楼 before 10号楼.
    building_sort: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    # Lower-cased code, address, compound and building number: one column for LIKE search.
    search_text: str = Field(default="", max_length=400)
    # The whole numbers of the address and compound, between spaces (" 4 12 "): a searched
    # number matches them whole (services.survey.place_numbers).
    place_numbers: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    status: str = Field(default="not_started", index=True, max_length=16)
    completeness: float = Field(default=0.0)
    error_count: int = Field(default=0)
    form_version: str = Field(max_length=32)
    answers: dict[str, Any] = _json()
    errors: dict[str, Any] = _json()
    # Per-field heads grouped by change: {change_id: [hlc, [field, ...]]}, or [hlc] alone
    # for a change that heads every field it set (store.heads).
    heads: dict[str, Any] = _json()
    extra: dict[str, Any] = _json()
    deleted: bool = Field(default=False)
    conflict_count: int = Field(default=0)
    assigned_to: str | None = Field(default=None, index=True, max_length=80)
    created_hlc: int = Field(sa_type=sa.BigInteger)
    updated_hlc: int = Field(sa_type=sa.BigInteger)
    updated_by: str | None = Field(default=None, max_length=80)


class Change(SQLModel, table=True):
    """One save: immutable once written, identical on every database that holds it."""

    __tablename__ = "change"
    # Who wrote what, answered from the index alone (migration 0008: ``assign`` checks that
    # a name wrote any change on a laptop before handing it work).
    __table_args__ = (
        sa.Index("ix_change_author", "author", "site_id"),
        sa.UniqueConstraint("site_id", "seq", name="uq_change_site_seq"),
        sa.CheckConstraint("op IN ('upsert', 'delete', 'resolve', 'alias')", name="ck_change_op"),
    )
    change_id: uuid.UUID = Field(primary_key=True)
    site_id: uuid.UUID
    seq: int = Field(sa_type=sa.BigInteger)
    hlc: int = Field(sa_type=sa.BigInteger)
    entity_type: str = Field(default="building", max_length=32)
    entity_id: uuid.UUID = Field(index=True)
    op: str = Field(max_length=16)
    form_version: str = Field(max_length=32)
    fields: dict[str, Any] = _json()
    parents: dict[str, str | None] = _json()
    author: str = Field(max_length=80)
    wall_time: str = Field(max_length=40)


class Conflict(SQLModel, table=True):
    """A field with two or more concurrent heads, kept until a supervisor resolves it."""

    __tablename__ = "conflict"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('hard', 'soft', 'delete_vs_edit', 'duplicate_entity')",
            name="ck_conflict_kind",
        ),
    )
    entity_id: uuid.UUID = Field(primary_key=True)
    field_key: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20)
    base_change_id: uuid.UUID | None = None
    head_change_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    provisional_change_id: uuid.UUID | None = None
    status: str = Field(default="open", max_length=16, index=True)
    resolved_by: uuid.UUID | None = None


class Attachment(SQLModel, table=True):
    """A photo, content-addressed; the blob itself lives in the database's blob folder."""

    __tablename__ = "attachment"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    mime: str = Field(max_length=80)
    stored: bool = Field(default=True)


class PeerWatermark(SQLModel, table=True):
    """Highest contiguous seq held per site: the version vector that answers "what do you have"."""

    __tablename__ = "peer_watermark"
    site_id: uuid.UUID = Field(primary_key=True)
    max_seq: int = Field(sa_type=sa.BigInteger)


class ImportedFile(SQLModel, table=True):
    """Files already merged, so a repeated merge of the same file is a no-op."""

    __tablename__ = "imported_file"
    file_sha256: str = Field(primary_key=True, max_length=64)
    site_id: uuid.UUID
    max_seq: int = Field(sa_type=sa.BigInteger)
    imported_at: str = Field(max_length=40)


class ResumePoint(SQLModel, table=True):
    """Where the inspector left each survey; local UI state, deliberately not synced."""

    __tablename__ = "resume_point"
    building_id: uuid.UUID = Field(primary_key=True)
    field_id: str = Field(max_length=64)
    updated_at: str = Field(max_length=40)


TABLES = SQLModel.metadata


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a model, typed (SQLModel's ``__table__`` is invisible to mypy)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


META_TABLE = table_of(Meta)
CLOCK_TABLE = table_of(Clock)
BUILDING_TABLE = table_of(Building)
CHANGE_TABLE = table_of(Change)
CONFLICT_TABLE = table_of(Conflict)
ATTACHMENT_TABLE = table_of(Attachment)
PEER_WATERMARK_TABLE = table_of(PeerWatermark)
IMPORTED_FILE_TABLE = table_of(ImportedFile)
RESUME_POINT_TABLE = table_of(ResumePoint)
