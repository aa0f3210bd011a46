"""No committed save is ever lost: kill -9 a writer mid-run, then check the database."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from surveyor.forms.catalog import DEFAULT_FORM
from surveyor.forms.model import load_form
from surveyor.services.survey import create_building
from surveyor.store.db import init_store, open_store
from surveyor.store.maintenance import doctor
from tests.conftest import REGISTER_ROW

WRITER = textwrap.dedent(
    """
    import sys
    from surveyor.forms.model import load_form
    from surveyor.services.survey import save_answers
    from surveyor.store.db import open_store

    db, form_path, code = sys.argv[1:4]
    store = open_store(db)
    form = load_form(form_path)
    i = 0
    while True:
        i += 1
        result = save_answers(store, form, code, {"household_count": str(1 + i % 1999),
                              "inspector_remarks": f"save {i}"}, author="甲")
        # Printed only after the commit returned: every printed id must survive the kill.
        print(result.change_id, flush=True)
    """
)


def test_kill_9_mid_run_loses_no_committed_save(tmp_path: Path) -> None:
    db = tmp_path / "survey.db"
    store = init_store(db, role="laptop", inspector="甲")
    form = load_form(DEFAULT_FORM)
    code = create_building(store, form, REGISTER_ROW, author="甲").code
    store.close()

    rng = random.Random(7)
    committed: list[str] = []
    for _round in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(DEFAULT_FORM), code],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        target = rng.randint(20, 80)
        seen = 0
        deadline = time.monotonic() + 60
        while seen < target and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed.append(line.strip())
            seen += 1
        time.sleep(rng.random() * 0.05)  # land the kill at a random point of a save
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Lines already written to the pipe before the kill are committed saves too.
        committed.extend(line.strip() for line in proc.stdout.read().splitlines())
        assert seen == target, "the writer stopped early"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {
            str(__import__("uuid").UUID(r[0])) for r in conn.execute("SELECT change_id FROM change")
        }
    missing = [c for c in committed if c not in stored]
    assert not missing, f"{len(missing)} committed saves lost"
    store = open_store(db)
    try:
        report = doctor(store)
    finally:
        store.close()
    assert report.ok, report.problems
