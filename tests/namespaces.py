"""Run a command in a private mount namespace, where a test may mount what it needs (a tiny
tmpfs, a read-only bind) without privileges beyond a user namespace and with nothing left
mounted behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest


def namespace_command() -> list[str]:
    """``unshare`` for a private mount namespace: plain as root, with a user namespace
    otherwise."""
    base = ["unshare", "--mount", "--propagation", "private"]
    return base if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]


def run_in_namespace(argv: Sequence[str], *, why: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in its own mount namespace; fails the test (never skips) without one."""
    if shutil.which("unshare") is None:
        pytest.fail(f"util-linux 'unshare' is needed {why}")
    return subprocess.run(
        [*namespace_command(), *argv], capture_output=True, text=True, timeout=300
    )


def run_scenario(script: str, args: Sequence[Path], *, why: str) -> dict[str, Any]:
    """Run a Python ``script`` in its own mount namespace; it prints what it saw as JSON last."""
    result = run_in_namespace([sys.executable, "-c", script, *map(str, args)], why=why)
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return seen
