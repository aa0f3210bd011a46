"""kill -9 of the real ``surveyor merge`` at random points, then a rerun: same central."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from surveyor.forms.model import Form
from surveyor.services.survey import writer
from surveyor.store.db import Store, init_store, open_store
from surveyor.store.maintenance import export_sqlite
from surveyor.sync.merge import merge_files
from surveyor.sync.pipeline import WORKERS_ENV_VAR
from surveyor.sync.transfer import pull, push
from tests.conftest import REGISTER_ROW
from tests.sync.conftest import MINI
from tests.sync.helpers import check_store, dump


def _files(tmp_path: Path, mini: Form, n_files: int = 4, per_file: int = 150) -> list[Path]:
    """Laptop exports with private buildings and a few concurrently edited shared ones."""
    hub = init_store(tmp_path / "hub.db", role="central")
    laps: list[Store] = []
    try:
        for i in range(n_files):
            lap = init_store(tmp_path / f"lap{i}.db", role="laptop", inspector=f"i{i}")
            laps.append(lap)
            with writer(lap, mini, f"i{i}") as w:
                for j in range(per_file):
                    b = w.create(REGISTER_ROW | {"address": f"南开区{i}路{j}号"})
                    w.save(b.building_id, {"year_built": str(1950 + j % 60), "floors_above": "6"})
        push(laps[0], hub, mini)
        for lap in laps[1:]:
            pull(lap, hub, mini)  # everyone holds laptop 0's buildings ...
        for i, lap in enumerate(laps):  # ... and edits the first ten concurrently
            with writer(lap, mini, f"i{i}") as w:
                ids = sorted(w.conn.exec_driver_sql("SELECT id FROM building").scalars())
                for bid in ids[:10]:
                    w.save(_uuid(bid), {"floors_above": str(2 + i)})
        return [export_sqlite(lap, tmp_path / f"file{i}.db").path for i, lap in enumerate(laps)]
    finally:
        for lap in laps:
            lap.close()
        hub.close()


def _uuid(raw: object) -> uuid.UUID:
    return uuid.UUID(str(raw))


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in found.read_text().split()]
    except OSError:
        return []


def _wait_for_children(proc: subprocess.Popen[bytes], limit: float) -> list[int]:
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        found = _children(proc.pid)
        if found:
            return found
        time.sleep(0.01)
    return []


def _alive(pid: int) -> bool:
    """Running (an exited child nobody reaped yet is a zombie: not alive)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _merge_cmd(files: list[Path], target: str) -> list[str]:
    return ["surveyor", "merge", *map(str, files), "--into", target, "--form", str(MINI)]


@pytest.mark.slow
def test_kill_9_mid_merge_then_rerun_equals_uninterrupted(
    backend: str, tmp_path: Path, mini: Form
) -> None:
    files = _files(tmp_path, mini)
    reference = init_store(tmp_path / "reference.db", role="central")
    merge_files(reference, files, mini)
    want = dump(reference)
    reference.close()

    subprocess.run(["surveyor", "central", "init", backend], check=True, capture_output=True)
    timing = str(tmp_path / "timing.db")
    subprocess.run(["surveyor", "central", "init", timing], check=True, capture_output=True)
    start = time.monotonic()
    subprocess.run(_merge_cmd(files, timing), check=True, capture_output=True)
    full = time.monotonic() - start  # how long an uninterrupted merge takes here

    rng = random.Random(20261123)
    kills = 0
    killed_workers = 0
    spools = tmp_path / "spools"
    spools.mkdir()
    for attempt in range(6):
        # Every other run prepares files in worker processes (these files are too small to
        # start them by default): a killed merge must take its workers with it.
        env = os.environ | {
            WORKERS_ENV_VAR: "0" if attempt % 2 else "2",
            "TMPDIR": str(spools),  # where the workers hand over their results
        }
        proc = subprocess.Popen(
            _merge_cmd(files, backend),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        if not attempt % 2:  # kill while the workers run: wait for them, then a little more
            workers = _wait_for_children(proc, max(10.0, 5 * full))  # a slow start under load
            time.sleep(rng.uniform(0.0, 0.3) * full)
        else:
            time.sleep(rng.uniform(0.3, 1.1) * full)
            workers = []
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            killed_workers += len(workers)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "a worker outlived the killed merge"
    # Workers remove their spool when the merge dies; whatever a race left, the next merge
    # sweeps away, however few files it has left to read.
    result = subprocess.run(
        _merge_cmd(files, backend),
        capture_output=True,
        text=True,
        env=os.environ | {WORKERS_ENV_VAR: "2", "TMPDIR": str(spools)},
    )
    assert result.returncode == 0, result.stderr
    assert not list(spools.iterdir()), "a killed merge's spool folder outlived the next merge"
    central = open_store(backend)
    try:
        got = dump(central)
        check_store(central, mini)
    finally:
        central.close()
    assert got == want
    assert kills >= 1  # at least one merge really died mid-way
    assert killed_workers >= 1  # ... and at least once with its workers running
