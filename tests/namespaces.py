"""Run a command in a private mount namespace, where a test may mount what it needs (a tiny
tmpfs, a read-only bind) without privileges beyond a user namespace and with nothing left
mounted behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

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
