"""A laptop database on a read-only folder (a USB stick, a share) under the real command.

SQLite cannot create a WAL database's ``-shm`` file there, and used to refuse the file as
"corrupt (unable to open database file)". The folder is bind-mounted read-only in a private
mount namespace (``tests.namespaces``), so the test needs no privileges beyond a user namespace.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import textwrap
from pathlib import Path

from tests.namespaces import run_scenario
from tests.test_cli import sv

READONLY_SCENARIO = textwrap.dedent(
    """
    import json, subprocess, sys
    folder, with_wal, central, out = sys.argv[1:5]
    for f in (folder, with_wal):
        subprocess.run(["mount", "--bind", "-o", "ro", f, f], check=True)
    seen = {}
    def surveyor(name, *args):
        r = subprocess.run(["surveyor", *args], capture_output=True, text=True)
        seen[name] = {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
    laptop = folder + "/laptop.db"
    surveyor("merge", "merge", laptop, "--into", central)
    surveyor("list", "list", "--db", laptop)
    surveyor("export", "export-db", "--db", laptop, "--out", out)
    surveyor("set", "set", "--db", laptop, "NK-00000-00000", "year_built=1990")
    surveyor("merge_wal", "merge", with_wal + "/laptop.db", "--into", central)
    print(json.dumps(seen))
    """
)


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM building").fetchone()[0])
    finally:
        conn.close()


def test_a_laptop_file_on_a_read_only_folder_is_read_and_merged(tmp_path: Path) -> None:
    folder = tmp_path / "usb"
    folder.mkdir()
    laptop = folder / "laptop.db"
    assert sv("sample", "--out", str(laptop), "--buildings", "4").returncode == 0
    assert not laptop.with_name("laptop.db-wal").exists()  # closed cleanly, as copied off
    before = hashlib.sha256(laptop.read_bytes()).hexdigest()
    central = tmp_path / "central.db"
    assert sv("central", "init", str(central)).returncode == 0
    # A copy taken with its -wal file beside it cannot be opened there: SQLite needs a -shm.
    with_wal = tmp_path / "share"
    with_wal.mkdir()
    (with_wal / "laptop.db").write_bytes(laptop.read_bytes())
    (with_wal / "laptop.db-wal").touch()
    seen = run_scenario(
        READONLY_SCENARIO,
        [folder, with_wal, central, tmp_path / "copy.db"],
        why="to mount a read-only folder",
    )
    assert seen["merge"]["rc"] == 0, seen["merge"]["err"]
    assert "merged" in seen["merge"]["out"]
    assert _count(central) == 4
    assert seen["list"]["rc"] == 0 and seen["list"]["out"].count("NK-") == 4
    assert seen["export"]["rc"] == 0 and _count(tmp_path / "copy.db") == 4
    # A write says why it cannot be done, in one sentence.
    assert seen["set"]["rc"] == 2
    assert "is read-only; copy the database" in seen["set"]["err"]
    assert seen["merge_wal"]["rc"] == 2
    assert "share/laptop.db: its folder" in seen["merge_wal"]["err"]
    assert "is read-only; copy the database (with its -wal file" in seen["merge_wal"]["err"]
    assert "Traceback" not in json.dumps(seen)
    assert hashlib.sha256(laptop.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in folder.iterdir()) == ["laptop.db", "laptop.db.blobs"]
