"""Merge speed on workload W (sync-merge.md §5), SQLite and PostgreSQL centrals, same-run ratios.

W: 50 inspector files x 1,000 buildings x ~100 fields. Files pair up (0-1, 2-3, ...): each pair
shares 50 buildings that both inspectors survey concurrently (every field differs), so
25 x 50 x ~100 = ~125k field conflicts; 48,750 distinct buildings in all.

Prints, per backend:
  T1 merge W into an empty central          (target <= 8 s)
  T4 re-merge all 50 files                  (target <= 1 s)
  T5 one new file into the 48,750-building central (target <= 0.3 s, flat as it grows:
     the per-file times of the first and last five files of T1 are printed too)
  the CPU seconds of T1 (merging process + workers) and of its floor, and the load average as
     each started: T1 needs both cores, so a busy machine slows it and not the one-process
     floor; CPU seconds that did not move say the code did not get slower
  T7 peak RSS of the merging process        (target <= 1 GB)
each with its ratio to a bare ``INSERT ... ON CONFLICT`` bulk load of the same rows, measured in
the same run: the files' ``change`` and ``building`` rows read with ``sqlite3`` and handed as
read to the driver's ``executemany``, one transaction per file (no JSON parsing, no id
conversion, no SQLAlchemy, no merge logic).

The files are generated directly in the laptop schema (as the write path would leave them)
and cached in --workdir. PostgreSQL is a throwaway cluster (tests/pgcluster.py) with a
production server's settings (``PRODUCTION_PG``: durable commits, 128 MB shared buffers).

Usage: python benchmarks/bench_merge.py [--files 50] [--buildings 1000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from surveyor.forms.catalog import get_form  # noqa: E402
from surveyor.forms.model import CompiledField, Form  # noqa: E402
from surveyor.services.survey import (  # noqa: E402
    REGISTER_FIELDS,
    natural_sort_key,
    normalize_address,
)
from surveyor.store import hlc  # noqa: E402
from surveyor.store.bulk import dump_json  # noqa: E402
from surveyor.store.db import init_store  # noqa: E402
from surveyor.store.heads import encode_heads, pack_heads  # noqa: E402
from surveyor.store.ids import building_code, uuid7  # noqa: E402

SHARED = 50
BASE_MS = 1_750_000_000_000
#: The central's server as production runs it: the test cluster's settings (tests/pgcluster.py)
#: drop durability (fsync, synchronous commit and full-page writes off) and keep 16 MB of
#: shared buffers, which a merge's figures must not lean on. These are PostgreSQL 15's
#: defaults (the WAL level too: the test cluster's "minimal" writes less WAL).
PRODUCTION_PG = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "128MB",
    "wal_level": "replica",
    "max_wal_senders": "10",
}


def _value(field: CompiledField, rng: random.Random) -> Any:
    """A plausible answer of the field's type (validity does not matter to the merge)."""
    codes = field.choice_codes if field.choices else []
    match field.type:
        case "integer":
            return rng.randint(1, 2000)
        case "decimal":
            return round(rng.uniform(1, 500), 2)
        case "boolean":
            return rng.random() < 0.5
        case "date":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        case "select_one":
            return rng.choice(sorted(codes)) if codes else "x"
        case "select_multiple":
            return sorted(rng.sample(sorted(codes), k=min(2, len(codes)))) if codes else []
        case "geopoint":
            return {
                "lat": round(rng.uniform(39.08, 39.15), 6),
                "lon": round(rng.uniform(117.1, 117.2), 6),
            }
        case _:
            return f"文本{rng.randint(0, 10**6)}"


def survey_fields(form: Form, n: int) -> list[CompiledField]:
    skip = {"calculate", "photo", *()}
    return [f for f in form.fields.values() if f.type not in skip and f.id not in REGISTER_FIELDS][
        :n
    ]


class FileWriter:
    """Writes one laptop database the way the write path leaves it: log rows + state rows."""

    def __init__(self, path: Path, form: Form, inspector: str) -> None:
        store = init_store(path, role="laptop", inspector=inspector)
        self.site = store.site_id
        store.close()
        self.conn = sqlite3.connect(path)
        self.form = form
        self.inspector = inspector
        self.seq = 0
        self.ms = BASE_MS
        self.changes: list[tuple[Any, ...]] = []
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}
        self.change_sizes: dict[str, int] = {}  # for packing heads (store.heads)

    def change(
        self,
        entity: uuid.UUID,
        fields: dict[str, Any],
        parents: dict[str, Any],
        *,
        site: uuid.UUID | None = None,
        seq: int | None = None,
        stamp: int | None = None,
        cid: uuid.UUID | None = None,
        author: str | None = None,
    ) -> tuple[uuid.UUID, int]:
        if site is None:
            self.seq += 1
            self.ms += 3
            seq, stamp = self.seq, hlc.pack(self.ms)
            cid = uuid7(self.ms)
        assert seq is not None and stamp is not None and cid is not None
        self.change_sizes[str(cid)] = len(fields)
        self.changes.append(
            (
                cid.hex,
                (site or self.site).hex,
                seq,
                stamp,
                "building",
                entity.hex,
                "upsert",
                self.form.version,
                dump_json(fields),
                dump_json(parents),
                author or self.inspector,
                # The laptop's wall clock agrees with its HLC (else every change is suspect).
                datetime.fromtimestamp(hlc.wall_ms(stamp) / 1000, UTC).isoformat(
                    timespec="milliseconds"
                ),
            )
        )
        return cid, stamp

    def state(
        self, entity: uuid.UUID, answers: dict[str, Any], heads: dict[str, tuple[uuid.UUID, int]]
    ) -> None:
        code = building_code(entity)
        self.rows[entity] = {
            "id": entity.hex,
            "code": code,
            "subdistrict": answers.get("subdistrict"),
            "community": answers.get("community"),
            "compound_name": answers.get("compound_name"),
            "building_no": answers.get("building_no"),
            "address": answers.get("address"),
            "address_norm": normalize_address(answers.get("address")),
            "building_sort": natural_sort_key(answers.get("building_no")),
            "search_text": code.lower(),
            "status": "draft",
            "completeness": 0.5,
            "error_count": 0,
            "form_version": self.form.version,
            "answers": dump_json(answers),
            "errors": "{}",
            "heads": dump_json(
                pack_heads(
                    encode_heads(
                        {k: str(c) for k, (c, _) in heads.items()},
                        {k: h for k, (_, h) in heads.items()},
                    ),
                    self.change_sizes,
                )
            ),
            "extra": "{}",
            "deleted": 0,
            "conflict_count": 0,
            "assigned_to": self.inspector,
            "created_hlc": min(h for _, h in heads.values()),
            "updated_hlc": max(h for _, h in heads.values()),
            "updated_by": self.inspector,
        }

    def close(self) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO change VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", self.changes
            )
            cols = list(next(iter(self.rows.values())))
            self.conn.executemany(
                f"INSERT INTO building ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                [tuple(r[c] for c in cols) for r in self.rows.values()],
            )
            self.conn.execute("UPDATE clock SET seq = ?, hlc = ?", (self.seq, hlc.pack(self.ms)))
        self.conn.close()


def register(i: int, j: int) -> dict[str, Any]:
    return {
        "district": "nankai",
        "subdistrict": "wanxing",
        "community": f"社区{i}",
        "compound_name": f"小区{i}-{j // 20}",
        "building_no": f"{j % 20 + 1}号楼",
        "address": f"南开区测试路{i}-{j}号",
    }


def generate(workdir: Path, n_files: int, per_file: int, n_fields: int) -> list[Path]:
    """W's files (cached): pairs share SHARED buildings, each edited by both inspectors."""
    form = get_form()
    fields = survey_fields(form, n_fields)
    # The stamp names the file format: bump it when the generator changes (W3: JSON written
    # by the store's own encoder, compact, as real laptop files are; wall times from the HLC;
    # W4: packed heads, schema 0005). It names the form version too: files from another
    # version are re-evaluated building by building on merge (about 2x per file), which
    # measures a form upgrade, not the merge of a day's work.
    stamp = workdir / f"W4-{form.version}-{n_files}x{per_file}x{len(fields)}.ok"
    paths = [workdir / f"inspector{i:02d}.db" for i in range(n_files + 1)]
    if stamp.exists():
        return paths
    for old in workdir.glob("W*.ok"):
        old.unlink()
    for p in workdir.glob("inspector*.db*"):
        p.unlink()
    rng = random.Random(2024)
    for pair in range(0, n_files + 1, 2):
        owner = FileWriter(paths[pair], form, f"inspector{pair}")
        partner = (
            FileWriter(paths[pair + 1], form, f"inspector{pair + 1}")
            if pair + 1 < n_files
            else None
        )
        for idx, w in enumerate([owner, partner]):
            if w is None:
                continue
            i = pair + idx
            own = per_file - SHARED if partner is not None else per_file
            for j in range(own):
                bid = uuid7(BASE_MS + i * 10**6 + j)
                reg = register(i, j)
                c0 = w.change(bid, reg, {})
                ans = {f.id: _value(f, rng) for f in fields}
                c1 = w.change(bid, ans | {"_status": "draft"}, {})
                w.state(
                    bid, reg | ans, dict.fromkeys(reg, c0) | dict.fromkeys([*ans, "_status"], c1)
                )
        if partner is not None:
            for j in range(SHARED):
                bid = uuid7(BASE_MS + pair * 10**6 + 900_000 + j)
                reg = register(pair, 900_000 + j)
                c0 = owner.change(bid, reg, {})
                row = owner.changes[-1]
                partner.change(
                    bid,
                    reg,
                    {},
                    site=owner.site,
                    seq=row[2],
                    stamp=row[3],
                    cid=uuid.UUID(row[0]),
                    author=row[10],
                )
                for w in (owner, partner):
                    ans = {f.id: _value(f, rng) for f in fields}
                    c1 = w.change(bid, ans | {"_status": "draft"}, {})
                    w.state(
                        bid,
                        reg | ans,
                        dict.fromkeys(reg, c0) | dict.fromkeys([*ans, "_status"], c1),
                    )
        owner.close()
        if partner is not None:
            partner.close()
    stamp.write_text("ok")
    return paths


# -- children: one process per measurement, so peak RSS is the merge's own ---------------------
def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished children (the workers).

    T1 is CPU-bound on both cores (merging process + two workers at nice +10): one busy core
    elsewhere doubles it while the one-process floor stays put. The CPU seconds do not move
    with the load, so they tell a slower merge from a busier machine.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def child_merge(target: str, files: list[Path], extra: Path) -> dict[str, Any]:
    from surveyor.store.db import open_store
    from surveyor.sync.merge import FileReport, backup_sqlite, merge_files

    form = get_form()
    store = open_store(target)
    per_file: list[float] = []
    last = [time.perf_counter()]

    def tick(_r: FileReport) -> None:
        now = time.perf_counter()
        per_file.append(now - last[0])
        last[0] = now

    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    reports = merge_files(store, files, form, on_report=tick)
    t1 = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    assert all(r.outcome == "merged" for r in reports), [
        r.message for r in reports if r.outcome != "merged"
    ]
    t0 = time.perf_counter()
    again = merge_files(store, files, form)
    t4 = time.perf_counter() - t0
    assert all(r.outcome == "skipped" for r in again)
    t0 = time.perf_counter()
    merge_files(store, [extra], form, backup=False)
    t5 = time.perf_counter() - t0
    backup = None
    if store.is_sqlite:
        t0 = time.perf_counter()
        backup_sqlite(store)
        backup = time.perf_counter() - t0
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        conflicts = conn.execute(
            sa.text("SELECT count(*) FROM conflict WHERE kind = 'hard' AND status = 'open'")
        ).scalar()
        buildings = conn.execute(sa.text("SELECT count(*) FROM building")).scalar()
    store.close()
    return {
        "t1": t1,
        "t1_cpu": cpu1[0] - cpu0[0],
        "t1_cpu_workers": cpu1[1] - cpu0[1],
        "t4": t4,
        "t5": t5,
        "backup": backup,
        "first5": sum(per_file[:5]) / 5,
        "last5": sum(per_file[-5:]) / 5,
        "conflicts": conflicts,
        "buildings": buildings,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # The merge's worker processes (sync.pipeline): the largest one's peak.
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _read_raw(path: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A table's rows as the driver returns them: ids as hex text, JSON as text."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        return cols, conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    finally:
        conn.close()


def child_baseline(target: str, files: list[Path], extra: Path) -> dict[str, Any]:
    """The floor: a bare ``INSERT ... ON CONFLICT`` of the files' ``change`` and ``building``
    rows through the driver's ``executemany``, one transaction per file.

    Rows go in as read (no JSON parsing, no id conversion, no SQLAlchemy), so the ratio says
    what the merge logic costs on top of moving its bytes.
    """
    from surveyor.store.db import open_store

    store = open_store(target)
    is_sqlite = store.is_sqlite
    mark = "?" if is_sqlite else "%s"

    def statement(table: str, cols: list[str], update: tuple[str, ...], key: str) -> str:
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in update)
            if update
            else "DO NOTHING"
        )
        names = ", ".join(f'"{c}"' for c in cols)
        marks = ", ".join([mark] * len(cols))
        return f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT ({key}) {action}'

    def rows_for_server(cols: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if is_sqlite or "deleted" not in cols:
            return rows
        at = cols.index("deleted")  # SQLite keeps booleans as 0/1
        return [(*r[:at], bool(r[at]), *r[at + 1 :]) for r in rows]

    def load(paths: list[Path]) -> float:
        t0 = time.perf_counter()
        for p in paths:
            change_cols, changes = _read_raw(p, "change")
            building_cols, buildings = _read_raw(p, "building")
            with store.engine.begin() as conn:
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cur.executemany(statement("change", change_cols, (), "change_id"), changes)
                cur.executemany(
                    statement("building", building_cols, ("answers", "heads", "updated_hlc"), "id"),
                    rows_for_server(building_cols, buildings),
                )
                cur.close()
        return time.perf_counter() - t0

    cpu0 = cpu_seconds()
    t1 = load(files)
    t1_cpu = cpu_seconds()[0] - cpu0[0]
    t4 = load(files)
    t5 = load([extra])
    store.close()
    return {
        "t1": t1,
        "t1_cpu": t1_cpu,
        "t4": t4,
        "t5": t5,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(kind: str, target: str, workdir: Path, n_files: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--target",
            target,
            "--workdir",
            str(workdir),
            "--files",
            str(n_files),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


def fresh_target(backend: str, workdir: Path, name: str, pg: Any) -> str:
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        for p in workdir.glob(f"{name}.db*"):
            if p.is_dir():
                import shutil

                shutil.rmtree(p)
            else:
                p.unlink()
        target = str(path)
    else:
        pg.drop_database(name)
        target = pg.create_database(name)
    init_store(target, role="central").close()
    return target


def report(backend: str, m: dict[str, Any], b: dict[str, Any]) -> None:
    def line(label: str, key: str, target: float) -> None:
        ok = "ok" if m[key] <= target else "MISSED"
        print(
            f"  {label:<44} {m[key]:8.2f} s   baseline {b[key]:6.2f} s   "
            f"ratio {m[key] / b[key]:5.1f}x   target <= {target} s: {ok}"
        )

    print(
        f"{backend}: {m['buildings']} buildings after T1 and T5 (T5's file adds 1,000), "
        f"{m['conflicts']} open field conflicts"
    )
    line("T1 merge W into an empty central", "t1", 8.0)
    line("T4 re-merge all files", "t4", 1.0)
    line("T5 one new file into the full central", "t5", 0.3)
    print(f"     per file during T1: first five {m['first5']:.3f} s, last five {m['last5']:.3f} s")
    print(
        f"     CPU during T1: {m['t1_cpu'] + m['t1_cpu_workers']:.2f} s (merging process "
        f"{m['t1_cpu']:.2f} s + workers {m['t1_cpu_workers']:.2f} s), "
        f"baseline {b['t1_cpu']:.2f} s; "
        f"load average {m['load']:.2f} (baseline {b['load']:.2f}) as each started"
    )
    if m["backup"] is not None:
        print(
            "     backup of the full SQLite central before a merge writes: "
            f"{m['backup']:.2f} s (not in T5)"
        )
    ok = "ok" if m["rss_mb"] <= 1024 else "MISSED"
    print(
        f"  {'T7 peak RSS of the merging process':<44} {m['rss_mb']:8.0f} MB  "
        f"baseline {b['rss_mb']:6.0f} MB  ratio {m['rss_mb'] / b['rss_mb']:5.1f}x   "
        f"target <= 1024 MB: {ok}"
    )
    if m.get("worker_rss_mb"):
        print(f"     plus each of its worker processes: at most {m['worker_rss_mb']:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--buildings", type=int, default=1000)
    ap.add_argument("--fields", type=int, default=100)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/surveyor-bench-merge"))
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--child", choices=["merge", "baseline"])
    ap.add_argument("--target")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    paths = [args.workdir / f"inspector{i:02d}.db" for i in range(args.files + 1)]
    if args.child:
        fn = child_merge if args.child == "merge" else child_baseline
        print(json.dumps(fn(args.target, paths[:-1], paths[-1])))
        return
    t0 = time.perf_counter()
    generate(args.workdir, args.files, args.buildings, args.fields)
    print(
        f"workload W: {args.files} files x {args.buildings} buildings x {args.fields} fields "
        f"(ready in {time.perf_counter() - t0:.1f} s, cached in {args.workdir})"
    )
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pg = None
    if "postgresql" in backends:
        from tests.pgcluster import PgCluster, default_base_dir

        pg = PgCluster(default_base_dir(), settings=PRODUCTION_PG)
        pg.start()
    try:
        for backend in backends:
            base = run_child(
                "baseline",
                fresh_target(backend, args.workdir, "bench_baseline", pg),
                args.workdir,
                args.files,
            )
            merged = run_child(
                "merge",
                fresh_target(backend, args.workdir, "bench_central", pg),
                args.workdir,
                args.files,
            )
            report(backend, merged, base)
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
