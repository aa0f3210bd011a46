"""Fixtures for the TUI tests: a real sample database per test, and an app factory."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.widgets import Input

from surveyor.forms.catalog import get_form
from surveyor.services.sample import generate_sample
from surveyor.settings import Settings
from surveyor.store.db import Store, open_store
from surveyor.tui.app import SurveyorApp

T = TypeVar("T")
SAMPLE_SEED = 2024
SAMPLE_BUILDINGS = 40


@pytest.fixture(scope="session")
def sample_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One deterministic sample database per test session (copied for each test)."""
    out = tmp_path_factory.mktemp("sample") / "sample.db"
    generate_sample(out, get_form(), buildings=SAMPLE_BUILDINGS, seed=SAMPLE_SEED)
    return out


@pytest.fixture
def sample_db(sample_master: Path, tmp_path: Path) -> Path:
    """A private copy of the sample database (and its photo blobs) for one test."""
    target = tmp_path / "survey.db"
    shutil.copy(sample_master, target)
    blobs = sample_master.with_name(sample_master.name + ".blobs")
    if blobs.exists():
        shutil.copytree(blobs, target.with_name(target.name + ".blobs"))
    return target


@pytest.fixture
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots nondeterministic."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's settings file."""
    path = tmp_path / "config" / "config.toml"
    monkeypatch.setenv("SURVEYOR_CONFIG", str(path))
    return path


class AppFactory:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.stores: list[Store] = []

    def __call__(
        self, db: Path, *, lang: str = "zh", author: str | None = None, **settings: Any
    ) -> SurveyorApp:
        """``author`` is the name given for the run (as ``surveyor app --by``); the sample is
        张伟's laptop, whose name comes before a settings file's ``inspector``."""
        store = open_store(db)
        self.stores.append(store)
        values: dict[str, Any] = {"language": lang, "autosave_delay": 0.2, **settings}
        return SurveyorApp(
            store,
            settings=Settings(**values),
            settings_path=self.tmp_path / "config" / "config.toml",
            author=author,
        )

    def close(self) -> None:
        for store in self.stores:
            store.close()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[AppFactory]:
    factory = AppFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body (the suite has no asyncio plugin)."""
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


async def settle(app: App[Any], pilot: Any) -> None:
    """Let timers fire and every worker finish, then let the UI catch up."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def until(app: App[Any], check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait for ``check()`` without waiting for the app to go idle (a quit or a save may be
    waiting on the database); an error the app raised meanwhile is raised here."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if app._exception is not None:
            raise app._exception
        assert asyncio.get_running_loop().time() < deadline, f"{what} never happened"
        await asyncio.sleep(0.02)


def toasts(app: App[Any]) -> list[str]:
    """The toasts the app shows now, as text."""
    return [str(n.message) for n in app._notifications]
