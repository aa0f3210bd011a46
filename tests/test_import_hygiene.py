"""The core knows no screen: importing it must not import textual."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "surveyor.forms.expr",
    "surveyor.forms.model",
    "surveyor.forms.record",
    "surveyor.forms.catalog",
    "surveyor.store.db",
    "surveyor.store.log",
    "surveyor.store.maintenance",
    "surveyor.services.survey",
    "surveyor.services.register",
    "surveyor.services.queries",
    "surveyor.services.sample",
    "surveyor.cli.main",
]


def test_core_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {CORE_MODULES!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


def test_the_tui_does_import_textual() -> None:
    # Guards the test above against passing because nothing was imported at all.
    run = subprocess.run(
        [sys.executable, "-c", "import surveyor.tui.app, sys; print('textual' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == "True", run.stderr
