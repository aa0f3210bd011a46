"""The real ``surveyor`` command in a real terminal (tmux): open a building, type, quit, check.

Skipped nowhere: tmux is a test tool (``scripts/ensure_tools.sh`` installs it); a missing tmux
fails the test with that instruction.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from surveyor.services.browse import browse_buildings
from surveyor.services.survey import get_building
from surveyor.store.db import open_store

SURVEYOR = Path(sys.executable).with_name("surveyor")


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "smoke")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "smoke", *(["-l"] if literal else []), *keys)


@pytest.mark.slow
def test_real_command_in_tmux_saves_what_was_typed(sample_db: Path, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed; run 'bash scripts/ensure_tools.sh'")
    assert SURVEYOR.exists(), f"{SURVEYOR} not installed (pip install -e .)"
    store = open_store(sample_db)
    try:
        target = browse_buildings(store, status="not_started", limit=1).rows[0]
    finally:
        store.close()
    rc_file = tmp_path / "rc"
    config = tmp_path / "config.toml"
    config.write_text('language = "zh"\ninspector = "烟测员"\n', encoding="utf-8")
    command = (
        f"SURVEYOR_CONFIG='{config}' TERM=xterm-256color '{SURVEYOR}' app --db '{sample_db}'; "
        f"echo $? > '{rc_file}'"
    )
    tmux = Tmux(f"surveyor-smoke-{uuid.uuid4().hex[:8]}")
    env_ok = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [
            "tmux",
            "-L",
            tmux.socket,
            "-u",
            "new-session",
            "-d",
            "-s",
            "smoke",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            command,
        ],
        check=True,
        env=env_ok,
        timeout=20,
    )
    try:
        tmux.wait_for("NK-")  # the building list is up
        tmux.keys(target.code, literal=True)
        tmux.keys("Enter")
        tmux.wait_for("调查日期")  # the survey opened on its first field
        today = date.today().isoformat()
        tmux.keys(today, literal=True)
        tmux.keys("Enter")  # next field: the inspector's name
        tmux.keys("Tmux 李四", literal=True)
        tmux.wait_for("Tmux 李四")
        tmux.keys("C-q")
        deadline = time.monotonic() + 20
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.exists(), tmux.screen()
        assert rc_file.read_text().strip() == "0"
    finally:
        tmux("kill-server")
    store = open_store(sample_db)
    try:
        saved = get_building(store, target.id)
    finally:
        store.close()
    assert saved.answers["survey_date"] == today
    assert saved.answers["inspector_name"] == "Tmux 李四"
    assert saved.updated_by == "烟测员"
