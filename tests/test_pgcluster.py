"""Tests for the throwaway PostgreSQL harness (tests/pgcluster.py).

These use PgCluster directly (not the conftest fixtures) so they exercise start/stop
themselves.  They never skip: missing server binaries is a failure.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pgcluster import PgCluster, default_base_dir, find_pg_bindir

pytestmark = pytest.mark.postgres


def _require_bindir() -> Path:
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "run `bash scripts/ensure_postgres.sh` first",
            pytrace=False,
        )
    return bindir


def test_find_pg_bindir() -> None:
    bindir = _require_bindir()
    assert (bindir / "initdb").is_file()
    assert (bindir / "pg_ctl").is_file()
    assert os.access(bindir / "postgres", os.X_OK)


def test_cluster_lifecycle() -> None:
    _require_bindir()
    cluster = PgCluster(default_base_dir())
    t0 = time.perf_counter()
    cluster.start()
    started = time.perf_counter() - t0
    try:
        assert cluster.running
        data_dir, work_dir = cluster.data_dir, cluster.work_dir
        assert data_dir is not None and data_dir.is_dir()
        assert work_dir is not None
        if os.geteuid() == 0:
            # the server must not run as root
            assert data_dir.stat().st_uid != 0

        url = cluster.url()
        assert url.startswith("postgresql+psycopg://postgres@/surveyor_test?host=/")
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)"))
                conn.execute(
                    sa.text("INSERT INTO t (name) VALUES (:n)"),
                    [{"n": "南开"}, {"n": "tianjin"}],
                )
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT id, name FROM t ORDER BY id")).all()
                assert [tuple(r) for r in rows] == [(1, "南开"), (2, "tianjin")]
                assert conn.execute(sa.text("SELECT current_database()")).scalar() == (
                    "surveyor_test"
                )
                assert conn.execute(sa.text("SHOW listen_addresses")).scalar() == ""
                assert conn.execute(sa.text("SHOW server_encoding")).scalar() == "UTF8"
                assert conn.execute(sa.text("SHOW fsync")).scalar() == "off"
                assert conn.execute(sa.text("SELECT current_user")).scalar() == "postgres"
                # no TCP: the connection is over the Unix socket
                assert conn.execute(sa.text("SELECT inet_server_addr()")).scalar() is None
        finally:
            engine.dispose()

        # a second, independent database
        name = f"t_{uuid.uuid4().hex}"
        url2 = cluster.create_database(name)
        assert url2.startswith(f"postgresql+psycopg://postgres@/{name}?")
        engine2 = sa.create_engine(url2)
        try:
            with engine2.connect() as conn:
                assert conn.execute(sa.text("SELECT current_database()")).scalar() == name
                assert conn.execute(sa.text("SELECT to_regclass('t')")).scalar() is None
            # Leave a pooled connection open: drop_database must still succeed.
            leaked = engine2.connect()
            cluster.drop_database(name)
            leaked.invalidate()
        finally:
            engine2.dispose()
        with sa.create_engine(url).connect() as conn:
            exists = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            assert exists == 0
    finally:
        t1 = time.perf_counter()
        cluster.stop()
        stopped = time.perf_counter() - t1
    print(f"\ncluster start {started:.2f}s, stop {stopped:.2f}s")

    assert not cluster.running
    assert not data_dir.exists()
    assert not work_dir.exists()
    cluster.stop()  # idempotent


def test_concurrent_clusters_do_not_collide() -> None:
    """What pytest-xdist does: several clusters at once, each in its own temp dir."""
    _require_bindir()
    # the last one also checks that a not-yet-existing base_dir is created and removed again
    fresh_base = Path("/tmp") / f"svy-pg-{uuid.uuid4().hex[:8]}"
    clusters = [PgCluster(default_base_dir()), PgCluster(default_base_dir()), PgCluster(fresh_base)]
    try:
        with ThreadPoolExecutor(len(clusters)) as pool:
            list(pool.map(lambda c: c.start(), clusters))
        assert len({c.socket_dir for c in clusters}) == len(clusters)
        for i, c in enumerate(clusters):
            engine = sa.create_engine(c.url())
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text("CREATE TABLE marker (i int)"))
                    conn.execute(sa.text("INSERT INTO marker VALUES (:i)"), {"i": i})
                with engine.connect() as conn:
                    assert conn.execute(sa.text("SELECT i FROM marker")).scalars().all() == [i]
            finally:
                engine.dispose()
    finally:
        for c in clusters:
            c.stop()
    assert all(c.work_dir is None for c in clusters)
    assert not fresh_base.exists()


def test_start_failure_reports_server_log() -> None:
    _require_bindir()
    cluster = PgCluster(default_base_dir(), settings={"shared_buffers": "'not-a-size'"})
    with pytest.raises(RuntimeError) as excinfo:
        cluster.start()
    message = str(excinfo.value)
    assert "pg_ctl start failed" in message
    assert "tail of server log" in message
    assert "shared_buffers" in message
    # a failed start cleans up after itself
    assert cluster.work_dir is None
    assert not cluster.running
