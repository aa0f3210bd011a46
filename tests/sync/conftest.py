"""Fixtures for the sync tests: the small test form, laptops, centrals on both backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from surveyor.forms.model import Form, load_form
from surveyor.store.db import Store, init_store
from surveyor.store.maintenance import export_sqlite

MINI = Path(__file__).resolve().parents[1] / "data" / "mini_form.yaml"


@pytest.fixture(scope="session")
def mini() -> Form:
    return load_form(MINI)


@pytest.fixture
def laptops(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Make laptop databases by inspector name; all are closed at the end."""
    made: list[Store] = []

    def make(name: str) -> Store:
        store = init_store(tmp_path / f"laptop-{len(made)}.db", role="laptop", inspector=name)
        made.append(store)
        return store

    yield make
    for s in made:
        s.close()


@pytest.fixture
def central(backend: str) -> Iterator[Store]:
    """A central store on each backend (SQLite file, real PostgreSQL)."""
    store = init_store(backend, role="central")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def export(tmp_path: Path) -> Callable[[Store], Path]:
    """Export a laptop as the supervisor would receive it (``surveyor export-db``)."""
    counter = iter(range(10_000))

    def run(store: Store) -> Path:
        return export_sqlite(store, tmp_path / f"export-{next(counter)}.db").path

    return run
