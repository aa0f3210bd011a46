"""CLI commands registered on the main app by `register(app)`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `surveyor` app (none yet)."""
