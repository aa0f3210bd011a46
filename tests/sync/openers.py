"""A process that opens a database together with others (``test_upgrade_race``): a module
of its own, light to import, since each spawned process imports it."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy.engine import Engine

from surveyor.store import db

PATIENCE = 60.0


def open_with_the_others(target: str, barrier: Barrier, said: Any) -> None:
    """Open ``target`` in a process of its own, upgrading only when every opener is ready."""
    import alembic.command  # noqa: F401 - loaded beforehand, as by a process already running

    real = db._alembic_upgrade

    def together(engine: Engine) -> None:
        barrier.wait(PATIENCE)
        real(engine)

    db._alembic_upgrade = together
    try:
        db.open_store(target, upgrade=True).close()  # as `central upgrade` (PostgreSQL)
    except BaseException as exc:  # told to the test, which fails on it
        said.put(f"{type(exc).__name__}: {exc}")
    else:
        said.put("opened")
