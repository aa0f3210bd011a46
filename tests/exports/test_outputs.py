"""Where an export writes: never over the database it reads, never over a file without --force
(companion files included), and nothing at all when it refuses."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest


def sv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True, cwd=cwd)


def ok(*args: str, cwd: Path | None = None) -> str:
    done = sv(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by its path, with a hash of its bytes; but for what SQLite
    makes and changes by reading: the shared-memory index, and an empty write-ahead log."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and not p.stat().st_size)
    }


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A laptop database with photos (``lap.db``) and a SQLite central it synced to
    (``cc.db``), in one folder."""
    folder = tmp_path_factory.mktemp("stores")
    ok("sample", "--out", "lap.db", "--buildings", "8", "--seed", "1", cwd=folder)
    ok("central", "init", "cc.db", cwd=folder)
    ok("sync", "--db", "lap.db", "--central", "cc.db", cwd=folder)
    return folder


@pytest.mark.parametrize(
    ("source", "export", "out"),
    [
        ("--db", ["labels", "--status", "approved"], "lap.db"),
        ("--db", ["sheets"], "lap.db-wal"),
        ("--db", ["csv"], "lap.db-shm"),
        ("--db", ["xlsx"], "lap.db-journal"),
        ("--db", ["geojson"], "lap.db.blobs/points.geojson"),
        ("--db", ["labels", "--split"], "lap.db.blobs"),
        ("--db", ["sheets", "--split"], "."),
        ("--central", ["report"], "cc.db"),
        ("--central", ["labels"], "cc.db-wal"),
        ("--central", ["csv"], "cc.db.blobs"),
    ],
)
def test_an_export_never_writes_over_the_database_it_reads(
    stores: Path, source: str, export: list[str], out: str
) -> None:
    """``export labels --db s.db --out s.db --force`` wrote a PDF over the survey database
    ("s.db is not a SQLite database" afterwards); a report did the same to a central."""
    db = "lap.db" if source == "--db" else "cc.db"
    before = snapshot(stores)
    done = sv("export", *export, source, db, "--out", out, "--force", cwd=stores)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "database being read" in done.stderr and "nothing was written" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert snapshot(stores) == before


def test_export_db_shares_the_check(stores: Path) -> None:
    before = snapshot(stores)
    for out in ("lap.db", "lap.db-wal", "lap.db.blobs/copy.db"):
        args = ("--db", "lap.db", "--out", out, "--force", "--lang", "zh")
        done = sv("export-db", *args, cwd=stores)
        assert done.returncode == 2 and "正在读取的数据库" in done.stderr, done.stderr
    assert snapshot(stores) == before


@pytest.mark.parametrize("existing", ["codebook", "needs", "undetermined"])
def test_csv_refuses_when_a_companion_file_exists(
    stores: Path, tmp_path: Path, existing: str
) -> None:
    """``export csv`` checked only the table's own name and replaced ``t.codebook.csv`` (or
    needs, undetermined) left from another export without --force."""
    kept = tmp_path / f"t.{existing}.csv"
    kept.write_text("another export's\n", encoding="utf-8")
    done = sv("export", "csv", "--db", str(stores / "lap.db"), "--out", str(tmp_path / "t.csv"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{kept} already exists; nothing was written" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name]
    assert kept.read_text(encoding="utf-8") == "another export's\n"
    ok("export", "csv", "--db", str(stores / "lap.db"), "--out", str(tmp_path / "t.csv"), "--force")
    assert len(list(tmp_path.iterdir())) == 4
    assert kept.read_text(encoding="utf-8") != "another export's\n"
