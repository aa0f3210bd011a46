"""How a PostgreSQL central answers a merge's probes: by index, whatever its statistics say."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.services.sample import generate_sample
from surveyor.store.db import init_store, write_tx
from surveyor.sync.merge import merge_files, plan_probes_by_index

pytestmark = pytest.mark.postgres


def _plan(conn: sa.Connection, sql: str, values: list[str]) -> str:
    marks = ", ".join(["%s"] * len(values))
    rows = conn.exec_driver_sql(f"EXPLAIN {sql.format(marks=marks)}", tuple(values))
    return "\n".join(r[0] for r in rows)


def test_a_merge_probes_a_central_not_yet_analysed_by_index(
    pg_url: str, form: Form, tmp_path: Path
) -> None:
    """A central just filled by a merge has no statistics until autovacuum comes by, and
    even with them the planner prices many listed keys above a scan; it read the whole
    building table for the duplicate flags' address probe (and the change log for a
    building's changes), ~25 ms a file on a 50,000-building central and growing with it.
    Inside a merge's transaction the probes read the indexes; outside it the server plans as
    configured."""
    laptop = tmp_path / "laptop.db"
    generate_sample(laptop, form, buildings=300, seed=7)
    central = init_store(pg_url, role="central")
    try:
        merge_files(central, [laptop], form, backup=False, workers=0)
        with central.engine.connect() as conn:
            addresses = [
                a
                for (a,) in conn.exec_driver_sql(
                    "SELECT address_norm FROM building WHERE address_norm IS NOT NULL LIMIT 100"
                )
            ]
        assert addresses  # autovacuum may or may not have analysed it yet: either way
        probe = (
            "SELECT id, address_norm, building_no, deleted FROM building "
            "WHERE address_norm IN ({marks})"
        )
        with write_tx(central.engine) as conn:
            plan_probes_by_index(conn)
            plan = _plan(conn, probe, addresses)
            assert "Seq Scan" not in plan, plan
            assert "ix_building_address_norm" in plan, plan
        with central.engine.connect() as conn:  # the pool's connection, plans as before
            assert conn.exec_driver_sql("SHOW enable_seqscan").scalar() == "on"
            assert "Seq Scan" in _plan(conn, probe, addresses)
    finally:
        central.close()
