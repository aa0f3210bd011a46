"""The core knows no screen: importing it must not import textual, and only the front ends
reach into ``surveyor.tui`` (the CLI only to start the app)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import surveyor

PACKAGE_DIR = Path(surveyor.__file__).parent


def core_modules() -> list[str]:
    """Every module of the package outside ``surveyor.tui``, found from the files (``store``
    has no ``__init__``, which ``pkgutil`` would skip), so a new module is checked from the
    day it is written. Alembic's scripts and ``__main__`` run things when imported."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[1] in ("tui", "__main__") or "migrations" in parts:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert {"surveyor.sync.merge", "surveyor.exports.sheet", "surveyor.store.db"} <= set(names)
    return names


def test_core_does_not_import_textual() -> None:
    modules = core_modules()
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "tui = sorted(m for m in sys.modules if m.startswith('surveyor.tui'))\n"
        "print(','.join(bad + tui))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


def imported_names(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module, id(node) in top))
    return found


def test_no_core_file_names_textual_or_the_tui() -> None:
    """Also the imports inside functions, which the test above does not run: the CLI may
    start the app (``surveyor.tui.app``) and nothing else of the TUI."""
    bad = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR)
        if rel.parts[0] == "tui":
            continue
        for line, module, at_top in imported_names(path):
            screen = module == "textual" or module.startswith("textual.")
            tui = module.startswith("surveyor.tui")
            starts_app = module == "surveyor.tui.app" and rel.parts[0] == "cli" and not at_top
            if screen or (tui and not starts_app):
                bad.append(f"{rel}:{line} imports {module}")
    assert bad == []


def test_the_tui_does_import_textual() -> None:
    # Guards the tests above against passing because nothing was imported at all.
    run = subprocess.run(
        [sys.executable, "-c", "import surveyor.tui.app, sys; print('textual' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == "True", run.stderr
    path = PACKAGE_DIR / "tui" / "app.py"
    assert any(module.startswith("textual") for _, module, _ in imported_names(path))
