"""Upgrading databases written by earlier Surveyor versions, and merging their files.

Migration 0003 replaced the per-field ``field_change``/``field_hlc`` columns by grouped
``heads``; 0005 packs the groups that name all their change's fields. A database (laptop or
central, SQLite or PostgreSQL) at 0002 or 0004 is rebuilt here from a current one, by writing
its heads back the way that revision kept them; opening it must upgrade it to exactly the
heads it had, and a merge must read an older laptop file as it reads a new one.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.services.survey import create_building, get_building, save_answers
from surveyor.store.bulk import load_json
from surveyor.store.db import HEAD_REVISION, Store, current_revision, init_store, open_store
from surveyor.store.heads import HeadsDoc, decode_heads, packed_changes, unpack_heads
from surveyor.store.log import change_fields
from surveyor.store.maintenance import doctor
from surveyor.sync.canonical import dump_database
from surveyor.sync.files import read_snapshot
from surveyor.sync.merge import merge_files
from tests.conftest import REGISTER_ROW


def _fill(store: Store, form: Form) -> list[str]:
    codes = []
    for i in range(3):
        row = dict(REGISTER_ROW, address=f"{REGISTER_ROW['address']}-{i}")
        created = create_building(store, form, row, author="甲")
        save_answers(store, form, created.code, {"year_built": str(1980 + i)}, author="甲")
        save_answers(store, form, created.code, {"year_built": str(1990 + i)}, author="甲")
        codes.append(created.code)
    return codes


def _explicit_heads(conn: sa.Connection) -> dict[Any, HeadsDoc]:
    """Each building's heads as 0003 and 0004 stored them: every group names its fields."""
    out = {}
    for bid, stored in conn.execute(sa.text("SELECT id, heads FROM building")).all():
        doc = load_json(stored)
        out[bid] = unpack_heads(doc, change_fields(conn, packed_changes(doc)))
    return out


def _rewrite_as_0004(store: Store) -> None:
    """Unpack every building's heads, mark it 0004."""
    pg = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as conn:
        for bid, heads in _explicit_heads(conn).items():
            conn.execute(
                sa.text(
                    f"UPDATE building SET heads = {'CAST(:h AS JSONB)' if pg else ':h'} "
                    "WHERE id = :id"
                ),
                {"h": json.dumps(heads), "id": bid},
            )
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0004_merge_write_costs'"))


def _rewrite_as_0002(store: Store) -> None:
    """Put the heads back into per-field columns, restore 0002's indexes, mark it 0002."""
    pg = store.engine.dialect.name == "postgresql"
    json_type = "JSONB" if pg else "JSON"
    with store.engine.begin() as conn:
        rows = list(_explicit_heads(conn).items())
        conn.execute(
            sa.text(f"ALTER TABLE building ADD COLUMN field_change {json_type} DEFAULT '{{}}'")
        )
        conn.execute(
            sa.text(f"ALTER TABLE building ADD COLUMN field_hlc {json_type} DEFAULT '{{}}'")
        )
        cast = "CAST(:fc AS JSONB)" if pg else ":fc"
        cast_h = "CAST(:fh AS JSONB)" if pg else ":fh"
        for bid, heads in rows:
            field_change, field_hlc = decode_heads(heads)
            conn.execute(
                sa.text(
                    f"UPDATE building SET field_change = {cast}, field_hlc = {cast_h} "
                    "WHERE id = :id"
                ),
                {"fc": json.dumps(field_change), "fh": json.dumps(field_hlc), "id": bid},
            )
        conn.execute(sa.text("ALTER TABLE building DROP COLUMN heads"))
        # 0004 added the sort key to the list index, and dropped three indexes 0002 had.
        conn.execute(sa.text("DROP INDEX ix_building_list"))
        conn.execute(sa.text("ALTER TABLE building DROP COLUMN building_sort"))
        conn.execute(
            sa.text(
                "CREATE INDEX ix_building_list ON building (deleted, subdistrict, "
                "compound_name, building_no, code, status, assigned_to, updated_by, "
                "search_text, id)"
            )
        )
        conn.execute(sa.text("CREATE INDEX ix_change_hlc ON change (hlc)"))
        conn.execute(sa.text("CREATE INDEX ix_building_updated_hlc ON building (updated_hlc)"))
        conn.execute(sa.text("CREATE INDEX ix_building_compound_name ON building (compound_name)"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002_building_list_index'"))


def _heads(store: Store, codes: list[str]) -> dict[str, Any]:
    return {code: get_building(store, code).heads for code in codes}


def test_a_0002_database_upgrades_to_the_same_heads(backend: str, mini: Form) -> None:
    store = init_store(backend, role="laptop", inspector="甲")
    codes = _fill(store, mini)
    before = _heads(store, codes)
    _rewrite_as_0002(store)
    store.close()

    upgraded = open_store(backend, upgrade=True)
    try:
        with upgraded.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            columns = {c["name"] for c in sa.inspect(conn).get_columns("building")}
        assert "heads" in columns and not {"field_change", "field_hlc"} & columns
        assert _schema_differences(upgraded) == []
        with upgraded.engine.connect() as conn:
            keys = set(conn.execute(sa.text("SELECT building_sort FROM building")).scalars())
        assert keys == {"00000003"}  # filled from building_no "3号楼" (0004), its key (0009)
        assert _heads(upgraded, codes) == before
        assert doctor(upgraded).ok, doctor(upgraded).problems
        # The upgraded database takes new saves on top of the converted heads.
        result = save_answers(upgraded, mini, codes[0], {"year_built": "2001"}, author="甲")
        state = get_building(upgraded, codes[0])
        assert state.field_change["year_built"] == str(result.change_id)
        assert doctor(upgraded).ok
    finally:
        upgraded.close()


def _stored_heads(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, heads FROM building")).all()
    return {str(bid): load_json(heads) for bid, heads in rows}


def test_a_0004_database_upgrades_to_packed_heads(backend: str, mini: Form) -> None:
    store = init_store(backend, role="laptop", inspector="甲")
    codes = _fill(store, mini)
    packed = _stored_heads(store)
    explicit = _heads(store, codes)
    _rewrite_as_0004(store)
    unpacked = _stored_heads(store)
    store.close()
    # Each building's latest survey save heads every field it set: stored without names.
    assert all(any(len(group) == 1 for group in doc.values()) for doc in packed.values())
    assert all(len(group) == 2 for doc in unpacked.values() for group in doc.values())

    upgraded = open_store(backend, upgrade=True)
    try:
        with upgraded.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
        assert _stored_heads(upgraded) == packed
        assert _heads(upgraded, codes) == explicit
        assert doctor(upgraded).ok, doctor(upgraded).problems
        result = save_answers(upgraded, mini, codes[0], {"year_built": "2001"}, author="甲")
        assert get_building(upgraded, codes[0]).field_change["year_built"] == str(result.change_id)
        assert doctor(upgraded).ok
    finally:
        upgraded.close()


@pytest.mark.parametrize(
    ("revision", "rewrite"),
    [("0002_building_list_index", _rewrite_as_0002), ("0004_merge_write_costs", _rewrite_as_0004)],
)
def test_an_older_laptop_file_merges_like_a_current_one(
    tmp_path: Path, backend: str, mini: Form, revision: str, rewrite: Callable[[Store], None]
) -> None:
    laptop = init_store(tmp_path / "laptop.db", role="laptop", inspector="甲")
    _fill(laptop, mini)
    laptop.close()
    old_file = tmp_path / "old.db"
    old_file.write_bytes((tmp_path / "laptop.db").read_bytes())
    legacy = open_store(old_file)
    rewrite(legacy)
    legacy.close()
    with sqlite3.connect(old_file) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == (revision,)
    # Its heads are read in the current encoding, so the merge reuses its evaluations.
    current_hints = read_snapshot(tmp_path / "laptop.db").hints
    assert read_snapshot(old_file).hints == current_hints

    new_central = init_store(tmp_path / "central-new.db", role="central")
    old_central = init_store(backend, role="central")
    try:
        [new] = merge_files(new_central, [tmp_path / "laptop.db"], mini, backup=False)
        [old] = merge_files(old_central, [old_file], mini, backup=False)
        assert new.outcome == old.outcome == "merged", (new.message, old.message)
        with new_central.engine.connect() as a, old_central.engine.connect() as b:
            assert dump_database(a)["buildings"] == dump_database(b)["buildings"]
    finally:
        new_central.close()
        old_central.close()


@pytest.mark.postgres
def test_postgresql_compresses_the_large_json_columns_with_lz4(pg_url: str) -> None:
    store = init_store(pg_url, role="central")
    try:
        with store.engine.connect() as conn:
            methods = dict(
                conn.execute(
                    sa.text(
                        "SELECT attrelid::regclass::text || '.' || attname, attcompression "
                        "FROM pg_attribute WHERE attrelid IN ('change'::regclass, "
                        "'building'::regclass) AND attname IN ('fields', 'answers')"
                    )
                ).all()
            )
        assert methods == {"change.fields": "l", "building.answers": "l"}
    finally:
        store.close()


def test_the_migrations_build_exactly_the_models_schema(backend: str) -> None:
    """Alembic's own comparison: no table, column or index differs from ``store.models``."""
    store = init_store(backend, role="central")
    try:
        assert _schema_differences(store) == []
    finally:
        store.close()


def _schema_differences(store: Store) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from surveyor.store import models

    with store.engine.connect() as conn:
        diffs: list[Any] = compare_metadata(MigrationContext.configure(conn), models.TABLES)
    return diffs


def test_an_older_laptop_file_is_kept_before_the_upgrade_and_refused_read_only(
    tmp_path: Path, mini: Form
) -> None:
    """Reading commands failed on missing columns; the upgrade rewrote the only copy."""
    path = tmp_path / "old.db"
    store = init_store(path, role="laptop", inspector="甲")
    codes = _fill(store, mini)
    _rewrite_as_0002(store)
    store.close()
    with sqlite3.connect(path) as conn:
        changes = conn.execute("SELECT count(*) FROM change").fetchone()

    with pytest.raises(SurveyorError, match="written by an older version of Surveyor"):
        open_store(path, readonly=True)
    open_store(path, readonly=True, any_schema=True).close()  # export-db copies it as it is

    upgraded = open_store(path)
    upgraded.close()
    backup = tmp_path / "old.db.schema-0002_building_list_index.bak"
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            "0002_building_list_index",
        )
        assert conn.execute("SELECT count(*) FROM change").fetchone() == changes
    finally:
        conn.close()
    assert len(codes) > 1


def test_a_0005_database_gains_its_agreeing_heads(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Rows folded before 0006 lacked ``extra.agreeing``: the first save over a value two
    inspectors had entered alike named one head, and a false conflict followed."""
    from surveyor.sync.actions import assign
    from surveyor.sync.transfer import pull, push, sync

    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    pull(b, central, mini)
    for lap, who in ((a, "甲"), (b, "乙")):
        save_answers(lap, mini, code, {"floors_above": "6"}, author=who)
    for lap in (a, b, a, b):
        sync(lap, central, mini)
    folded = get_building(a, code).extra["agreeing"]
    assert "floors_above" in folded
    target = a.target
    with a.engine.begin() as conn:  # as 0005 left it
        conn.execute(sa.text("UPDATE building SET extra = '{}'"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005_packed_heads'"))
    a.close()

    upgraded = open_store(target, upgrade=True)
    try:
        assert get_building(upgraded, code).extra["agreeing"] == folded
        save_answers(upgraded, mini, code, {"floors_above": "5"}, author="甲")
        pull(upgraded, central, mini)
        with upgraded.engine.connect() as conn:
            opened = conn.execute(sa.text("SELECT count(*) FROM conflict")).scalar()
        assert opened == 0
    finally:
        upgraded.close()


def test_a_0006_central_drops_the_flags_of_a_compound_sharing_one_doorplate(
    central: Store, mini: Form
) -> None:
    """Flags written before 0007 paired every building at an address (华苑里 1号楼 and 2号楼
    at 华苑路5号), with no way to clear them but a merge, a delete or a false address. The
    upgrade computes those addresses' flags again: a true pair (1号楼 twice) keeps its flags."""
    from surveyor.store.bulk import write_rows
    from surveyor.sync.fold import DUPLICATE_KEY, ConflictRow
    from surveyor.sync.rows import CONFLICT, conflict_params

    at = REGISTER_ROW | {"compound_name": "华苑里", "address": "南开区华苑路5号"}
    ids = [
        str(create_building(central, mini, at | {"building_no": no}, author="s").building_id)
        for no in ("1号楼", "2号楼", "1栋")
    ]
    with central.engine.begin() as conn:  # the flags 0006 wrote: everyone at the address
        conn.execute(sa.delete(CONFLICT))
        everyone = tuple(sorted(ids))
        old = [
            ConflictRow(e, DUPLICATE_KEY, "duplicate_entity", None, everyone, None, "open", None)
            for e in everyone
        ]
        write_rows(conn, CONFLICT, [conflict_params(r) for r in old])
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0006_agreeing_heads'"))
    target = central.target
    central.close()

    upgraded = open_store(target, upgrade=True)
    try:
        with upgraded.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            rows = conn.execute(sa.select(CONFLICT)).all()
        pair = {ids[0], ids[2]}
        assert {str(r.entity_id): {str(h) for h in r.head_change_ids} for r in rows} == {
            ids[0]: pair,
            ids[2]: pair,
        }
        assert doctor(upgraded).ok
    finally:
        upgraded.close()


def _plan(conn: sa.Connection, query: sa.Select[Any]) -> str:
    """The database's plan for ``query``, as text (SQLite and PostgreSQL)."""
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table is read whole else
    return " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))


def test_a_0007_central_looks_up_authors_in_an_index(
    central: Store, laptops: Callable[[str], Store], export: Callable[[Store], Path], mini: Form
) -> None:
    """``assign`` asks whether a name wrote any change on a laptop; with no index on authors,
    a typo (a name that wrote nothing) read the whole change log: seconds on a district's
    central. A 0007 central gains the index on upgrade and the question is answered from it."""
    from surveyor.sync.actions import assign, authored_on_a_laptop, made_changes_here

    laptop = laptops("张伟")
    code = create_building(laptop, mini, REGISTER_ROW, author="张伟").code
    merge_files(central, [export(laptop)], mini)
    with central.engine.begin() as conn:  # as 0007 left it
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_change_author"))
        conn.execute(
            sa.text("UPDATE alembic_version SET version_num = '0007_duplicates_by_number'")
        )
    target = central.target
    central.close()

    upgraded = open_store(target, upgrade=True)
    try:
        site = upgraded.own_sites
        with upgraded.engine.begin() as conn:
            assert current_revision(conn) == HEAD_REVISION
            assert "ix_change_author" in _plan(conn, authored_on_a_laptop("张玮", site))
            assert made_changes_here(conn, "张伟", site)
            assert not made_changes_here(conn, "张玮", site)
        assert _schema_differences(upgraded) == []
        with pytest.raises(SurveyorError, match="no inspector named 张玮"):
            assign(upgraded, mini, "张玮", refs=[code], author="督导", require_known=True)
        assign(upgraded, mini, "张伟", refs=[code], author="督导", require_known=True)
    finally:
        upgraded.close()


def test_a_0008_database_sorts_every_spelling_of_a_number_as_one(backend: str, mini: Form) -> None:
    """Up to 0008, ``building_sort`` kept the 楼号 as written: a stored 第1栋 was not found by the
    1号楼 typed on site. The upgrade computes every building's sort key from its
    ``building_number_key``, so the new-building check finds it."""
    from surveyor.services.survey import SameBuildingExists, natural_sort_key

    store = init_store(backend, role="laptop", inspector="甲")
    row = REGISTER_ROW | {"compound_name": "宜宾东里"}
    code = create_building(store, mini, row | {"building_no": "第1栋"}, author="甲").code
    with store.engine.begin() as conn:  # as 0008 left it
        old = {"s": natural_sort_key("第1栋")}
        conn.execute(sa.text("UPDATE building SET building_sort = :s"), old)
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0008_change_author_index'"))
    store.close()

    upgraded = open_store(backend, upgrade=True)
    try:
        with upgraded.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            assert (
                conn.execute(sa.text("SELECT building_sort FROM building")).scalar() == "00000001"
            )
        typed = row | {"building_no": "1号楼", "address": "宜宾东里新门牌"}
        with pytest.raises(SameBuildingExists) as raised:
            create_building(upgraded, mini, typed, author="甲", check_same=True)
        assert raised.value.existing.code == code
        assert doctor(upgraded).ok
    finally:
        upgraded.close()


def test_a_0009_central_flags_the_pairs_the_new_number_key_makes_one(
    central: Store, mini: Form
) -> None:
    """A central that merged 01 and 1 (two ids, one address) under the old 楼号 key held no
    duplicate flag for them: the key now drops leading zeros, but a merge only recomputes the
    addresses it touches. The upgrade flags them; a duplicate already merged stays settled,
    another 楼号 at the address stays unflagged, and upgrading again changes nothing."""
    from surveyor.sync.actions import Choice, resolve_conflict
    from surveyor.sync.fold import DUPLICATE_KEY
    from surveyor.sync.rows import CONFLICT

    at = REGISTER_ROW | {"compound_name": "宜宾东里", "address": "南开区宜宾道9号"}
    ids = {
        no: str(create_building(central, mini, at | {"building_no": no}, author="s").building_id)
        for no in ("01", "1", "2号楼")
    }
    settled = REGISTER_ROW | {"address": "南开区宜宾道11号", "building_no": "3"}
    kept = create_building(central, mini, settled, author="s").code
    gone = create_building(central, mini, settled | {"building_no": "03"}, author="s").code
    resolve_conflict(
        central, mini, gone, DUPLICATE_KEY, Choice("merge_into", value=kept), author="督导"
    )

    def flags(store: Store) -> dict[str, set[str]]:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(CONFLICT)).all()
        return {str(r.entity_id): {str(h) for h in r.head_change_ids} for r in rows}

    target = central.target
    store = central
    for again in (False, True):
        with store.engine.begin() as conn:
            if not again:  # as 0009 left it: the old key flagged neither 01 nor 1
                old_pair = [uuid.UUID(ids["01"]), uuid.UUID(ids["1"])]
                conn.execute(sa.delete(CONFLICT).where(CONFLICT.c.entity_id.in_(old_pair)))
            conn.execute(
                sa.text("UPDATE alembic_version SET version_num = '0009_building_sort_by_key'")
            )
        store.close()
        store = open_store(target, upgrade=True)
        try:
            with store.engine.connect() as conn:
                assert current_revision(conn) == HEAD_REVISION
            pair = {ids["01"], ids["1"]}
            assert flags(store) == {ids["01"]: pair, ids["1"]: pair}
            assert doctor(store).ok
        except BaseException:
            store.close()
            raise
    store.close()
