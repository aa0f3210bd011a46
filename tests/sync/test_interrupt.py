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
