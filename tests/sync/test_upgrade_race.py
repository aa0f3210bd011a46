"""Several processes opening an older-schema central at once (SQLite and a real PostgreSQL).

Each process is held, after it found the old revision, until all have: then all upgrade at
once. Two upgrades of one PostgreSQL database used to run side by side, and the later failed
as an internal error (Alembic's "Online migration expected to match one row", or a duplicate
key in ``pg_class`` for an index both created); every opener must succeed, and the schema
must be upgraded once.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.services.survey import create_building
from surveyor.store.db import HEAD_REVISION, Store, current_revision, open_store
from surveyor.sync.merge import merge_files
from tests.conftest import REGISTER_ROW
from tests.sync.openers import PATIENCE, open_with_the_others

OPENERS = 3


def test_several_processes_upgrade_an_old_central_at_once(
    central: Store, laptops: Any, export: Any, mini: Form
) -> None:
    laptop = laptops("张伟")
    create_building(laptop, mini, REGISTER_ROW, author="张伟")
    merge_files(central, [export(laptop)], mini)
    with central.engine.begin() as conn:  # as 0007 left it
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_change_author"))
        conn.execute(
            sa.text("UPDATE alembic_version SET version_num = '0007_duplicates_by_number'")
        )
    target = central.target
    central.close()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(OPENERS)
    said = ctx.Queue()
    openers = [
        ctx.Process(target=open_with_the_others, args=(target, barrier, said))
        for _ in range(OPENERS)
    ]
    for p in openers:
        p.start()
    outcomes = [said.get(timeout=PATIENCE) for _ in openers]
    for p in openers:
        p.join(PATIENCE)
    assert outcomes == ["opened"] * OPENERS

    upgraded = open_store(target)
    try:
        with upgraded.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("change")}
        assert "ix_change_author" in indexes
    finally:
        upgraded.close()
