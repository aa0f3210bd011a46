"""Write-path speed against bare SQLModel, on the same machine in the same run.

Prints:
  1. the save of one building (~100 fields) through SurveyWriter: p50/p99 in ms, and the ratio
     to a bare SQLModel save of the same wide row (target: <= 2.5x, p99 <= 10 ms);
  2. bulk generation of N buildings (default 50,000) through the write path, against a bare
     executemany insert of the same number of building rows.

Usage: python benchmarks/bench_store.py [--saves 300] [--bulk 50000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, create_engine

from surveyor.forms.catalog import get_form
from surveyor.forms.record import evaluate
from surveyor.services.sample import generate_sample
from surveyor.services.survey import save_answers
from surveyor.store import models
from surveyor.store.db import open_store


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def two_answer_sets(db: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Two complete records from a small sample, so each save changes many fields."""
    form = get_form()
    store = open_store(db)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(models.Building.__table__.c.code, models.Building.__table__.c.answers).where(
                models.Building.__table__.c.status == "complete"
            )
        ).all()
    store.close()
    rows.sort(key=lambda r: -len(r.answers))
    code, a = rows[0]
    b = rows[1].answers
    # Keep the register fields of the target building; everything else alternates.
    skip = {"subdistrict", "community", "compound_name", "building_no", "address", "district"}
    a = {k: v for k, v in a.items() if k not in skip}
    b = {k: v for k, v in b.items() if k not in skip}
    assert evaluate(form, rows[0].answers).can_complete
    return code, a, b


def bench_saves(n: int, workdir: Path) -> tuple[list[float], list[float], int]:
    form = get_form()
    db = workdir / "saves.db"
    generate_sample(db, form, buildings=40, seed=1)
    code, a, b = two_answer_sets(db)
    store = open_store(db)
    fields = len(set(a) | set(b))
    ours: list[float] = []
    for i in range(n):
        payload = dict(a if i % 2 else b)
        for key in set(a) | set(b):
            payload.setdefault(key, None)
        t0 = time.perf_counter()
        save_answers(store, form, code, payload, author="bench", draft=True)
        ours.append((time.perf_counter() - t0) * 1000)
    store.close()

    # Baseline: the same wide building row (answers and per-field heads) saved by a plain
    # SQLModel session, with no validation, no change log and no clock.
    bare_db = workdir / "bare.db"
    engine = create_engine(f"sqlite:///{bare_db}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    SQLModel.metadata.create_all(engine, tables=[models.BUILDING_TABLE])
    store = open_store(db)
    with store.engine.connect() as conn:
        template = dict(
            conn.execute(
                sa.select(models.BUILDING_TABLE).where(models.BUILDING_TABLE.c.code == code)
            )
            .mappings()
            .one()
        )
    store.close()
    with Session(engine) as s:
        s.add(models.Building(**template))
        s.commit()
    bare: list[float] = []
    for i in range(n):
        t0 = time.perf_counter()
        with Session(engine) as s:
            s.connection().exec_driver_sql("PRAGMA synchronous=NORMAL")
            row = s.get(models.Building, template["id"])
            assert row is not None
            answers = a if i % 2 else b
            row.answers = dict(answers)
            row.heads = {str(uuid.uuid4()): [i, sorted(answers)]}
            row.updated_hlc = i
            row.updated_by = "bench"
            s.add(row)
            s.commit()
        bare.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return ours, bare, fields


def bare_building_insert(db: Path, workdir: Path) -> float:
    """Seconds of a bare SQLAlchemy bulk insert of ``db``'s building rows into a fresh file:
    the floor that a write path's bulk figures (generation, register import) are set against."""
    store = open_store(db)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(models.BUILDING_TABLE)).mappings()]
    store.close()
    target = workdir / "bare_bulk.db"
    target.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{target}")
    SQLModel.metadata.create_all(engine, tables=[models.BUILDING_TABLE])
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for i in range(0, len(rows), 1000):
            conn.execute(sa.insert(models.BUILDING_TABLE), rows[i : i + 1000])
    bare = time.perf_counter() - t0
    engine.dispose()
    target.unlink()
    return bare


def bench_bulk(n: int, workdir: Path) -> tuple[float, float]:
    form = get_form()
    t0 = time.perf_counter()
    generate_sample(workdir / "bulk.db", form, buildings=n, seed=2024)
    ours = time.perf_counter() - t0

    # Baseline: a bare bulk insert of the very building rows the generator produced.
    bare = bare_building_insert(workdir / "bulk.db", workdir)
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--bulk", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours, bare, fields = bench_saves(args.saves, work)
        p50, p99 = statistics.median(ours), percentile(ours, 99)
        b50, b99 = statistics.median(bare), percentile(bare, 99)
        print(f"save of one building ({fields} fields, {args.saves} saves, SQLite WAL):")
        print(f"  write path   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
        print(f"  bare SQLModel p50 {b50:6.2f} ms   p99 {b99:6.2f} ms")
        print(
            f"  ratio p50 {p50 / b50:4.2f}x  p99 {p99 / b99:4.2f}x   (target <= 2.5x, p99 <= 10 ms)"
        )
        ours_bulk, bare_bulk = bench_bulk(args.bulk, work)
        print(f"bulk generation of {args.bulk} buildings through the write path:")
        print(f"  write path {ours_bulk:7.1f} s ({args.bulk / ours_bulk:,.0f} buildings/s)")
        print(f"  bare insert of these rows {bare_bulk:5.1f} s; ratio {ours_bulk / bare_bulk:.1f}x")


if __name__ == "__main__":
    main()
