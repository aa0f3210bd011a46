"""Merging with files prepared in worker processes gives exactly the in-process result.

The pipeline (``sync.pipeline``) reads, checks and folds files ahead in worker processes; the
merging process uses a prepared state row only where the central's changes of that building
are exactly the file's. These tests run real worker
processes (forked, or spawned when pytest runs threads) against both backends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from surveyor.forms.model import Form
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import Store, init_store
from surveyor.sync.actions import delete_building
from surveyor.sync.merge import merge_files
from surveyor.sync.pipeline import (
    SPOOL_PREFIX,
    WORKER_NICENESS,
    Prefetcher,
    _start_worker,
    prepare_file,
    sweep_spools,
)
from surveyor.sync.transfer import pull, push
from tests.conftest import REGISTER_ROW
from tests.sync.helpers import check_store, dump


def _register(i: int, *, address: str | None = None) -> dict[str, str]:
    return REGISTER_ROW | {
        "building_no": f"{i}号楼",
        "address": address or f"南开区测试路{i}号",
    }


@pytest.fixture
def district(
    laptops: Callable[[str], Store], central: Store, mini: Form, export: Callable[[Store], Path]
) -> list[Path]:
    """Three inspectors' files: own buildings, one shared building edited concurrently,
    a duplicate address across files, a delete, and a laptop that pulled another's work."""
    a, b, c = laptops("甲"), laptops("乙"), laptops("丙")
    shared = create_building(a, mini, _register(0), author="甲").code
    push(a, central, mini)
    from surveyor.sync.actions import assign

    assign(central, mini, "乙", refs=[shared], author="supervisor")
    pull(b, central, mini)
    for k, lap in enumerate((a, b, c)):
        for i in range(1, 16):
            code = create_building(lap, mini, _register(100 * k + i), author=str(k)).code
            save_answers(lap, mini, code, {"year_built": str(1950 + i)}, author=str(k))
    create_building(c, mini, _register(999, address="南开区测试路101号"), author="丙")  # dup of a's
    save_answers(a, mini, shared, {"year_built": "1980", "floors_above": "5"}, author="甲")
    save_answers(b, mini, shared, {"year_built": "1990"}, author="乙")
    gone = create_building(c, mini, _register(777), author="丙").code
    delete_building(c, mini, gone, author="丙")
    return [export(a), export(b), export(c)]


def _fresh_central(backend: str, tmp_path: Path, name: str, pg: Callable[[], str]) -> Store:
    target = str(tmp_path / f"{name}.db") if backend == "sqlite" else pg()
    return init_store(target, role="central")


@pytest.fixture
def more_pg(request: pytest.FixtureRequest, backend: str) -> Callable[[], str]:
    """Further empty PostgreSQL databases for one test (the central fixture is the first)."""

    def make() -> str:
        cluster = request.getfixturevalue("pg_cluster")
        import uuid

        name = f"t_{uuid.uuid4().hex[:12]}"
        request.addfinalizer(lambda: cluster.drop_database(name))
        url: str = cluster.create_database(name)
        return url

    return make


def test_workers_give_the_in_process_central(
    district: list[Path],
    central: Store,
    mini: Form,
    tmp_path: Path,
    backend: str,
    more_pg: Callable[[], str],
) -> None:
    files = district
    # The central already holds the first push: prepared rows must not be used blindly there.
    in_process = _fresh_central(backend, tmp_path, "inproc", more_pg)
    merge_files(in_process, [*files, *files], mini, workers=0)
    reports = merge_files(central, [*files, *files], mini, workers=2)
    assert [r.outcome for r in reports] == ["merged"] * 3 + ["skipped"] * 3
    check_store(central, mini)
    assert dump(central) == dump(in_process)
    in_process.close()


def test_one_file_stays_in_process(
    district: list[Path],
    central: Store,
    mini: Form,
) -> None:
    files = district
    with Prefetcher({0: files[0]}, mini, central.engine.dialect.name, workers=2) as ahead:
        assert ahead._pool is None  # no workers for one file (measured slower)
        assert ahead.take(0).batch.change_rows


def test_a_refused_file_among_prepared_ones(
    district: list[Path],
    central: Store,
    mini: Form,
    tmp_path: Path,
) -> None:
    files = district
    junk = tmp_path / "notes.db"
    junk.write_text("not a database\n" * 100)
    reports = merge_files(central, [files[0], junk, files[1], files[2]], mini, workers=2)
    assert [r.outcome for r in reports] == ["merged", "refused", "merged", "merged"]
    assert "is not a SQLite database" in reports[1].message
    check_store(central, mini)


def test_killed_workers_cost_no_file(
    district: list[Path],
    central: Store,
    mini: Form,
    tmp_path: Path,
) -> None:
    files = district
    copies = [shutil.copy(f, tmp_path / f"copy-{n}.db") for n, f in enumerate(files)]
    paths = [*files, *map(Path, copies)]
    with Prefetcher(dict(enumerate(paths)), mini, "sqlite", workers=2) as ahead:
        first = ahead.take(0)  # the pool is up, and busy with the next files
        pool = ahead._pool
        assert pool is not None
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not pool._broken and time.monotonic() < deadline:
            time.sleep(0.02)
        rest = [ahead.take(i) for i in range(1, len(paths))]
        assert ahead._pool is None  # found broken, shut down: the rest were prepared here
    assert [p.path for p in [first, *rest]] == paths
    for p, again in zip(rest, paths[1:], strict=True):
        assert p.batch.change_rows == prepare_file(again, mini, "sqlite").batch.change_rows
    reference = init_store(tmp_path / "reference.db", role="central")
    merge_files(reference, files, mini, workers=0)
    merge_files(central, files, mini, workers=2)
    assert dump(central) == dump(reference)
    reference.close()


def test_form_crosses_to_spawned_workers(mini: Form) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(mini))
    assert copy.version == mini.version
    assert list(copy.fields) == list(mini.fields)
    assert [f.id for f in copy.calculation_order] == [f.id for f in mini.calculation_order]
    assert copy.source == mini.source


def test_sweep_removes_the_spools_of_dead_merges_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"{SPOOL_PREFIX}{dead.pid}-x1"
    live = tmp_path / f"{SPOOL_PREFIX}{os.getpid()}-x2"
    unrelated = tmp_path / f"{SPOOL_PREFIX}notapid-x3"
    for folder in (orphan, live, unrelated):
        folder.mkdir()
        (folder / "1-2.pickle").write_bytes(b"result")
    sweep_spools()
    assert not orphan.exists()
    assert live.exists() and unrelated.exists()


def test_a_merge_without_workers_sweeps_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini: Form
) -> None:
    """A rerun after a kill may find one file or none left to read: it still sweeps."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"{SPOOL_PREFIX}{dead.pid}-x1"
    orphan.mkdir()
    with Prefetcher({}, mini, "sqlite", workers=2):
        assert not orphan.exists()
    assert list(tmp_path.iterdir()) == []


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_workers_run_nicer_than_the_merging_process(tmp_path: Path) -> None:
    """The merging process is the pipeline's one writer: its CPU comes first."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(
        1, initializer=_start_worker, initargs=(None, os.getpid(), tmp_path)
    ) as pool:
        worker = pool.submit(_niceness).result()
    assert worker == min(_niceness() + WORKER_NICENESS, 19)
