"""The model-based property test of sync and merge (sync-merge.md §4.13).

2-6 laptops (real SQLite files, real write path) and two centrals, one SQLite and one real
PostgreSQL. Rules: edit, create, delete, resolve, assign, pull, export, merge (one file, or
every pending file in a permuted order), a crash mid-merge, a clock skew, and a backup of the
SQLite central and putting one back (it then writes under a new site id). Checked:
1. convergence whatever the order and grouping (the two centrals, and a third merged through
   an intermediate central, end equal); 2. idempotency (re-merges and re-pushes change
   nothing; a crashed merge leaves nothing and its retry equals an uninterrupted merge);
3. no lost field edit (every change is in the central log; every head is shown or in a
   conflict); 4. conflicts exactly as the definitions say, with the base = LCA (a brute-force
   reference independent of the fold); 5. deletes (delete-vs-edit per definition);
6. incremental state == full recompute from the log; 7. SQLite central == PostgreSQL central.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from surveyor.forms.model import Form, load_form
from surveyor.services.selection import parse_selection
from surveyor.services.survey import BUILDING, save_answers, writer
from surveyor.store import hlc
from surveyor.store.db import Store, init_store, open_store, write_tx
from surveyor.store.maintenance import export_sqlite
from surveyor.sync.actions import Choice, assign, delete_building, resolve_conflict
from surveyor.sync.merge import backup_sqlite, merge_files, merge_prepared
from surveyor.sync.pipeline import prepare_file
from surveyor.sync.rows import CONFLICT
from surveyor.sync.transfer import pull, push
from tests.conftest import REGISTER_ROW
from tests.pgcluster import PgCluster
from tests.sync.helpers import assert_same, check_store, dump

MINI = Path(__file__).resolve().parents[1] / "data" / "mini_form.yaml"
ADDRESSES = ("南开区宜宾道12号", "南开区宜宾道14号", "南开区鞍山西道3号", "南开区鞍山西道5号")
VALUES = {
    "year_built": ("1980", "1984", "1990"),
    "floors_above": ("5", "6"),
    "community": ("甲社区", "乙社区"),
}
DAY_MS = 24 * 3600 * 1000


class Crash(Exception):
    """Stands for a process dying mid-merge: raised inside the merge transaction."""


class SyncMachine(RuleBasedStateMachine):
    form: Form
    base_dir: Path
    pg: PgCluster

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(dir=self.base_dir))
        self.laptops: list[Store] = []
        self.skew: list[int] = []
        self.files: list[Path] = []
        self.pg_pending: list[Path] = []
        self.pg_name: str | None = None
        self.central: Store | None = None
        self.pg_central: Store | None = None

    # -- setup ----------------------------------------------------------------------------
    @initialize(n=st.integers(2, 6))
    def setup(self, n: int) -> None:
        for i in range(n):
            self.laptops.append(
                init_store(self.dir / f"laptop{i}.db", role="laptop", inspector=f"inspector{i}")
            )
            self.skew.append(0)
        self.central = init_store(self.dir / "central.db", role="central")
        self.pg_name = f"sm_{uuid.uuid4().hex[:12]}"
        self.pg_central = init_store(self.pg.create_database(self.pg_name), role="central")
        # Every laptop starts with the same two buildings (a register handed out by the
        # central), so edits on different laptops are concurrent from the first step.
        with writer(self.laptops[0], self.form, "inspector0") as w:
            for addr in ADDRESSES[:2]:
                w.create(REGISTER_ROW | {"address": addr})
        push(self.laptops[0], self.central, self.form)
        for k, lap in enumerate(self.laptops):
            assign(
                self.central,
                self.form,
                f"inspector{k}",
                where=parse_selection(self.form, ["街道=wanxing"], None),
                author="supervisor",
            )
            pull(lap, self.central, self.form)

    def _clock(self, i: int) -> Any:
        return lambda: hlc.now_ms() + self.skew[i]

    def _live(self, store: Store) -> list[uuid.UUID]:
        with store.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(BUILDING.c.id)
                    .where(BUILDING.c.deleted.is_(False))
                    .order_by(BUILDING.c.id)
                ).scalars()
            )

    def _laptop(self, i: int) -> tuple[int, Store]:
        k = i % len(self.laptops)
        return k, self.laptops[k]

    # -- rules ----------------------------------------------------------------------------
    @rule(i=st.integers(0, 5), addr=st.sampled_from(ADDRESSES))
    def create(self, i: int, addr: str) -> None:
        k, lap = self._laptop(i)
        with writer(lap, self.form, f"inspector{k}", clock=self._clock(k)) as w:
            w.create(REGISTER_ROW | {"address": addr})

    @rule(i=st.integers(0, 5), pick=st.integers(0, 99), data=st.data())
    def edit(self, i: int, pick: int, data: st.DataObject) -> None:
        k, lap = self._laptop(i)
        ids = self._live(lap)
        if not ids:
            return
        fid = data.draw(st.sampled_from(sorted(VALUES)))
        value = data.draw(st.sampled_from(VALUES[fid]))
        save_answers(
            lap,
            self.form,
            ids[pick % len(ids)],
            {fid: value},
            author=f"inspector{k}",
            draft=True,
            clock=self._clock(k),
        )

    @rule(i=st.integers(0, 5), j=st.integers(1, 5), pick=st.integers(0, 99), data=st.data())
    def concurrent_edits(self, i: int, j: int, pick: int, data: st.DataObject) -> None:
        """Two laptops edit the same field of a building they share, then both push."""
        assert self.central is not None
        a, lap_a = self._laptop(i)
        b, lap_b = self._laptop(i + j)
        shared = sorted(set(self._live(lap_a)) & set(self._live(lap_b)))
        if a == b or not shared:
            return
        bid = shared[pick % len(shared)]
        fid = data.draw(st.sampled_from(sorted(VALUES)))
        for k, lap in ((a, lap_a), (b, lap_b)):
            value = data.draw(st.sampled_from(VALUES[fid]))
            save_answers(
                lap,
                self.form,
                bid,
                {fid: value},
                author=f"inspector{k}",
                draft=True,
                clock=self._clock(k),
            )
            push(lap, self.central, self.form)
        check_store(self.central, self.form)

    @rule(i=st.integers(0, 5), pick=st.integers(0, 99))
    def delete(self, i: int, pick: int) -> None:
        k, lap = self._laptop(i)
        ids = self._live(lap)
        if ids:
            delete_building(
                lap, self.form, ids[pick % len(ids)], author=f"inspector{k}", clock=self._clock(k)
            )

    @rule(pick=st.integers(0, 99), how=st.sampled_from(["head", "base", "value", "keep", "delete"]))
    def resolve(self, pick: int, how: str) -> None:
        assert self.central is not None
        with self.central.engine.connect() as conn:
            rows = conn.execute(
                sa.select(CONFLICT)
                .where(CONFLICT.c.status == "open", CONFLICT.c.kind != "duplicate_entity")
                .order_by(CONFLICT.c.entity_id, CONFLICT.c.field_key)
            ).all()
        if not rows:
            return
        row = rows[pick % len(rows)]
        if row.kind == "delete_vs_edit":
            choice = Choice("delete" if how == "delete" else "keep")
        elif how == "head":
            choice = Choice(
                "head", str(sorted(row.head_change_ids)[pick % len(row.head_change_ids)])
            )
        elif how == "base" and row.base_change_id is not None:
            choice = Choice("base")
        else:
            choice = Choice("value", value=VALUES.get(row.field_key, ("x",))[0])
        resolve_conflict(
            self.central, self.form, row.entity_id, row.field_key, choice, author="supervisor"
        )
        check_store(self.central, self.form)

    @rule(i=st.integers(0, 5), pick=st.integers(0, 99))
    def assign_work(self, i: int, pick: int) -> None:
        assert self.central is not None
        k, _ = self._laptop(i)
        ids = self._live(self.central)
        if ids:
            assign(
                self.central,
                self.form,
                f"inspector{k}",
                refs=[str(ids[pick % len(ids)])],
                author="supervisor",
            )

    @rule(i=st.integers(0, 5))
    def pull_work(self, i: int) -> None:
        assert self.central is not None
        _, lap = self._laptop(i)
        pull(lap, self.central, self.form)
        check_store(lap, self.form)

    @rule(i=st.integers(0, 5))
    def push_work(self, i: int) -> None:
        assert self.central is not None
        _, lap = self._laptop(i)
        push(lap, self.central, self.form, batch=3)
        check_store(self.central, self.form)

    @rule(i=st.integers(0, 5))
    def export(self, i: int) -> None:
        k, lap = self._laptop(i)
        out = self.dir / f"export{len(self.files)}-laptop{k}.db"
        export_sqlite(lap, out)
        self.files.append(out)
        self.pg_pending.append(out)

    @rule(pick=st.integers(0, 99))
    def merge_one(self, pick: int) -> None:
        assert self.central is not None
        if not self.files:
            return
        reports = merge_files(self.central, [self.files[pick % len(self.files)]], self.form)
        assert reports[0].outcome in ("merged", "skipped"), reports[0].message
        check_store(self.central, self.form)

    @rule(data=st.data())
    def merge_pending_permuted_into_pg(self, data: st.DataObject) -> None:
        assert self.pg_central is not None
        order = data.draw(st.permutations(self.pg_pending))
        reports = merge_files(self.pg_central, order, self.form)
        assert all(r.outcome in ("merged", "skipped") for r in reports)
        self.pg_pending = []
        check_store(self.pg_central, self.form)

    @rule(pick=st.integers(0, 99))
    def crash_mid_merge(self, pick: int) -> None:
        assert self.central is not None
        if not self.files:
            return
        path = self.files[pick % len(self.files)]
        before = dump(self.central)
        snap = prepare_file(path, self.form, self.central.engine.dialect.name)
        with pytest.raises(Crash), write_tx(self.central.engine) as conn:
            merge_prepared(conn, self.central, snap, self.form, self.dir / "blobs")
            raise Crash
        assert dump(self.central) == before  # nothing of the crashed merge remains
        merge_files(self.central, [path], self.form)  # the retry
        check_store(self.central, self.form)

    @rule()
    def back_up_central(self) -> None:
        assert self.central is not None
        backup_sqlite(self.central)

    @rule(pick=st.integers(0, 99), i=st.integers(0, 5))
    def restore_central(self, pick: int, i: int) -> None:
        """Put the SQLite central back from one of its backups (the merges take them too)
        and write to it at once (an assignment): what it lost since comes back from the
        laptops and their files, and its next changes must not take the places of the lost
        ones, which laptops may hold (docs/SYNC.md)."""
        assert self.central is not None
        target = self.central.target
        backups = sorted(Path(target + ".backups").glob("before-merge-*.db"))
        if not backups:
            return
        self.central.close()
        for side in ("-wal", "-shm"):
            Path(target + side).unlink(missing_ok=True)
        shutil.copyfile(backups[pick % len(backups)], target)
        self.central = open_store(target)
        check_store(self.central, self.form)
        self.assign_work(i, pick)

    @rule(i=st.integers(0, 5), delta=st.sampled_from([0, -3 * DAY_MS, 2 * DAY_MS, 400 * DAY_MS]))
    def skew_clock(self, i: int, delta: int) -> None:
        k, _ = self._laptop(i)
        self.skew[k] = delta

    # -- the end: everything meets ----------------------------------------------------------
    def _final_checks(self) -> None:
        assert self.central is not None and self.pg_central is not None
        final = []
        for k, lap in enumerate(self.laptops):
            out = self.dir / f"final-laptop{k}.db"
            export_sqlite(lap, out)
            final.append(out)
        everything = self.files + final
        merge_files(self.central, everything, self.form)
        central_copy = self.dir / "central-export.db"
        export_sqlite(self.central, central_copy)
        # PostgreSQL gets the same changes in another order and grouping: the laptop files
        # reversed, and the SQLite central's own changes (resolutions) through its export.
        merge_files(self.pg_central, [*reversed(everything), central_copy], self.form)
        assert_same(self.central, self.pg_central)
        check_store(self.central, self.form)
        check_store(self.pg_central, self.form)
        # Associativity: half the files through an intermediate central, then the rest.
        mid = init_store(self.dir / "intermediate.db", role="central")
        third = init_store(self.dir / "third.db", role="central")
        try:
            half = len(everything) // 2
            merge_files(mid, everything[:half], self.form)
            mid_copy = self.dir / "intermediate-export.db"
            export_sqlite(mid, mid_copy)
            merge_files(third, [central_copy, *everything[half:], mid_copy], self.form)
            assert_same(self.central, third)
        finally:
            mid.close()
            third.close()
        # Idempotency: re-merging and re-pushing change nothing.
        before = dump(self.central)
        again = merge_files(self.central, everything, self.form)
        assert {r.outcome for r in again} <= {"skipped"}
        own = merge_files(self.central, [central_copy], self.form)[0]
        assert own.outcome == "refused" and "same site id" in own.message
        for lap in self.laptops:
            assert push(lap, self.central, self.form) == (0, 0)
        assert dump(self.central) == before
        # No lost edit: every laptop change is in the central log.
        central_ids = set(before["changes"])
        for lap in self.laptops:
            assert set(dump(lap)["changes"]) <= central_ids
        # Laptops that pull converge on the central for their buildings.
        for lap in self.laptops:
            pull(lap, self.central, self.form)
            check_store(lap, self.form)

    def teardown(self) -> None:
        try:
            if self.central is not None and self.pg_central is not None:
                self._final_checks()
        finally:
            for s in [*self.laptops, self.central, self.pg_central]:
                if s is not None:
                    s.close()
            if self.pg_name is not None:
                self.pg.drop_database(self.pg_name)
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.mark.postgres
def test_sync_merge_state_machine(pg_cluster: PgCluster, tmp_path: Path) -> None:
    SyncMachine.form = load_form(MINI)
    SyncMachine.base_dir = tmp_path
    SyncMachine.pg = pg_cluster
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
