"""The sync core knows no screen: importing it (and its CLI) must not import textual."""

from __future__ import annotations

import subprocess
import sys

SYNC_MODULES = [
    "surveyor.sync.fold",
    "surveyor.sync.apply",
    "surveyor.sync.files",
    "surveyor.sync.merge",
    "surveyor.sync.transfer",
    "surveyor.sync.actions",
    "surveyor.sync.review",
    "surveyor.sync.progress",
    "surveyor.sync.canonical",
    "surveyor.sync.attachments",
    "surveyor.cli.sync_cmds",
]


def test_sync_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {SYNC_MODULES!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
