"""Retrofit rules and printed outputs are core: importing them must not import textual."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "surveyor.retrofit",
    "surveyor.retrofit.check",
    "surveyor.exports.service",
    "surveyor.exports.data",
    "surveyor.exports.report",
    "surveyor.exports.render",
    "surveyor.cli.export_cmds",
]


def test_retrofit_and_exports_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {MODULES!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
