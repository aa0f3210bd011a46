"""Register import speed against a bare bulk insert, on the same machine in the same run.

Prints, for a register of N rows (default 20,000: all of Nankai's residential buildings at
most) imported into an empty laptop database and into an empty central (SQLite):
  the import's wall and CPU seconds through ``register import`` (every row checked, then
  created through ``SurveyWriter``: change row, state row, same-building check), and the ratio
  to a bare executemany insert of the very building rows it wrote.

Usage: python benchmarks/bench_register.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench_store import bare_building_insert

from surveyor.forms.catalog import get_form
from surveyor.services.register import import_register
from surveyor.store.db import init_store


def write_register(path: Path, rows: int) -> None:
    """A register of ``rows`` buildings, ten to a 小区, each at its own 门牌, over every 街道."""
    streets = [c.zh for c in get_form().field("subdistrict").choices]
    lines = ["街道,社区,小区名称,楼号,门牌地址"]
    for i in range(rows):
        compound, number = divmod(i, 10)
        street = streets[compound % len(streets)]
        lines.append(
            f"{street},社区{compound % 97},小区{compound},{number + 1}号楼,"
            f"南开区测试路{compound}号{number + 1}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def bench_import(register: Path, db: Path, role: str) -> tuple[float, float, int]:
    """Wall and CPU seconds of importing ``register`` into a new ``role`` database."""
    store = init_store(db, role=role, inspector="甲" if role == "laptop" else None)
    form = get_form()
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_register(store, form, register, author="甲")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    assert not report.problems, report.problems[:3]
    return wall, cpu, report.imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        register = work / "register.csv"
        write_register(register, args.rows)
        print(f"register import of {args.rows} rows (load {os.getloadavg()[0]:.1f}):")
        for role in ("laptop", "central"):
            db = work / f"{role}.db"
            wall, cpu, imported = bench_import(register, db, role)
            assert imported == args.rows, imported
            bare = bare_building_insert(db, work)
            rate = args.rows / wall
            print(
                f"  {role:7}  {wall:6.1f} s wall, {cpu:6.1f} s CPU ({rate:,.0f} rows/s);"
                f" bare insert of these rows {bare:4.1f} s; ratio {wall / bare:.1f}x"
            )
        print(f"  (load {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
