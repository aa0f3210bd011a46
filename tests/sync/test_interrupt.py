"""Ctrl-C during a real ``surveyor merge``: one line saying what is kept, exit 130, and a
second Ctrl-C while it shuts down neither prints a traceback nor hangs the merge."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from surveyor.forms.catalog import get_form
from surveyor.services.sample import generate_sample

INTERRUPTED = (
    "interrupted; what was merged or saved is kept (a file or batch cut off half-way is "
    "rolled back): run the same command again to continue"
)


@pytest.fixture(scope="module")
def laptop_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("laptops")
    files = [folder / f"big{i}.db" for i in range(4)]
    for seed, path in enumerate(files):
        generate_sample(path, get_form(), buildings=800, seed=seed)
    return files


def _interrupted_merge(
    files: list[Path], central: Path, second_after: float | None, env: dict[str, str]
) -> tuple[int, str, str]:
    """Run the merge, Ctrl-C its process group once the first file is merged (and again
    ``second_after`` seconds later); its exit code, stdout and stderr."""
    proc = subprocess.Popen(
        ["surveyor", "merge", *map(str, files), "--into", str(central)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    os.killpg(proc.pid, signal.SIGINT)
    if second_after is not None:
        time.sleep(second_after)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the merge hung after Ctrl-C")
    return proc.returncode, first + out, err


@pytest.mark.parametrize("second_after", [None, 0.02, 0.2])
def test_ctrl_c_says_what_is_kept_and_a_second_one_is_quiet(
    laptop_files: list[Path], tmp_path: Path, second_after: float | None
) -> None:
    central = tmp_path / "central.db"
    made = subprocess.run(["surveyor", "central", "init", str(central)], capture_output=True)
    assert made.returncode == 0
    env = os.environ | {"SURVEYOR_MERGE_WORKERS": "2"}
    code, out, err = _interrupted_merge(laptop_files, central, second_after, env)
    assert code == 130, (out, err)
    assert err.strip().splitlines() == [INTERRUPTED], err
    assert f"{laptop_files[0]}: merged:" in out
    again = subprocess.run(
        ["surveyor", "merge", *map(str, laptop_files), "--into", str(central)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert f"{laptop_files[0]}: skipped: already merged" in again.stdout
    zh_env = env | {"SURVEYOR_LANG": "zh"}
    other = tmp_path / "central2.db"
    assert subprocess.run(["surveyor", "central", "init", str(other)]).returncode == 0
    code, _out, err = _interrupted_merge(laptop_files, other, second_after, zh_env)
    assert code == 130 and "已中断；已完成的部分都已保存" in err


@pytest.mark.postgres
def test_ctrl_c_while_postgresql_waits_for_the_rows_is_one_line_too(
    laptop_files: list[Path], pg_url: str
) -> None:
    """A colleague's transaction holds the change table; the merge's COPY waits behind it.
    Ctrl-C there printed SQLAlchemy's pool traceback (≈110 lines) and "database error:
    another command is already in progress", exit 2: the rollback ran on a connection still
    inside the COPY. Nothing of the file may be kept."""
    import psycopg
    import sqlalchemy as sa

    assert subprocess.run(["surveyor", "central", "init", pg_url]).returncode == 0
    dsn = sa.engine.make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as colleague:
        colleague.execute("LOCK TABLE change IN SHARE MODE")
        proc = subprocess.Popen(
            ["surveyor", "merge", str(laptop_files[0]), "--into", pg_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        _wait_for_lock_wait(dsn)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        colleague.rollback()
        (changes,) = colleague.execute("SELECT count(*) FROM change").fetchone() or (None,)
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines() == [INTERRUPTED], err
    assert changes == 0


def _wait_for_lock_wait(dsn: str, timeout: float = 30.0) -> None:
    """Until another session waits for a lock (the merge's write behind ours). Asked outside
    any transaction: pg_stat_activity is a snapshot per transaction."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0]:
                return
            time.sleep(0.1)
    pytest.fail("the merge never waited for the lock")
