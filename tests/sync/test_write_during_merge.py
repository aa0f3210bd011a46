"""A supervisor's save on a central while a merge runs (SQLite and a real PostgreSQL).

The save's transaction is held open, after it wrote, until the merge is stuck behind it
(waiting on a lock) or has ended; then it commits. Whatever the order, the central's state
must be the fold of its log: on PostgreSQL the merge used to read the building, wait for the
save's row lock and then write its stale fold over the save (or, for a new building at the
same address, never see it and leave both unflagged).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from surveyor.forms.model import Form
from surveyor.services import survey
from surveyor.services.register import import_register
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import Store
from surveyor.sync import merge
from surveyor.sync.merge import merge_files
from surveyor.sync.rows import CONFLICT
from surveyor.sync.transfer import push
from tests.conftest import REGISTER_ROW
from tests.sync.helpers import check_store

#: How long any step may take before the test gives up (it never waits this long when sound).
PATIENCE = 30.0


def _merge_waits(central: Store) -> bool:
    """Whether a session of the central waits on a lock (PostgreSQL). A SQLite merge that
    began its transaction waits in ``BEGIN IMMEDIATE`` while the save holds the write lock."""
    if central.is_sqlite:
        return True
    with central.engine.connect() as conn:
        waiting = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


class HeldSave:
    """Holds the next save's transaction open, after it wrote, until the merge is stuck
    behind it or has ended."""

    def __init__(self, central: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.central = central
        self.wrote = threading.Event()
        self.merge_began = threading.Event()
        self.merge_ended = threading.Event()
        real_save_tx, real_merge_tx = survey.write_tx, merge.write_tx

        @contextmanager
        def save_tx(engine: Engine) -> Iterator[Connection]:
            with real_save_tx(engine) as conn:
                yield conn
                self.wrote.set()
                self._until_merge_is_behind()

        @contextmanager
        def merge_tx(engine: Engine) -> Iterator[Connection]:
            self.merge_began.set()
            with real_merge_tx(engine) as conn:
                yield conn

        monkeypatch.setattr(survey, "write_tx", save_tx)
        monkeypatch.setattr(merge, "write_tx", merge_tx)

    def _until_merge_is_behind(self) -> None:
        deadline = time.monotonic() + PATIENCE
        while not self.merge_ended.is_set():
            if self.merge_began.is_set() and _merge_waits(self.central):
                return
            assert time.monotonic() < deadline, "the merge neither waited nor ended"
            time.sleep(0.005)  # polling a condition, not a fixed delay

    def run(self, save: Callable[[], object], merge_file: Callable[[], object]) -> None:
        """The save first (held open), the merge while it is held; both must succeed."""
        failures: list[BaseException] = []

        def guarded(job: Callable[[], object], done: threading.Event | None = None) -> None:
            try:
                job()
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
                self.wrote.set()
            finally:
                if done is not None:
                    done.set()

        saver = threading.Thread(target=guarded, args=(save,))
        saver.start()
        assert self.wrote.wait(PATIENCE), "the save never wrote"
        merger = threading.Thread(target=guarded, args=(merge_file, self.merge_ended))
        merger.start()
        saver.join(PATIENCE)
        merger.join(PATIENCE)
        assert not saver.is_alive() and not merger.is_alive(), "a writer hangs"
        assert not failures, failures


def _open_conflicts(central: Store) -> set[str]:
    with central.engine.connect() as conn:
        rows = conn.execute(
            sa.select(CONFLICT.c.field_key).where(CONFLICT.c.status == "open")
        ).scalars()
        return set(rows)


def test_a_save_held_open_across_a_merge_is_in_the_state(
    central: Store,
    laptops: Callable[[str], Store],
    export: Callable[[Store], Path],
    form: Form,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lap = laptops("甲")
    code = create_building(lap, form, REGISTER_ROW, author="甲").code
    push(lap, central, form)
    save_answers(lap, form, code, {"floors_above": "6"}, author="甲")
    laptop_file = export(lap)
    held = HeldSave(central, monkeypatch)
    held.run(
        lambda: save_answers(central, form, code, {"floors_above": "7"}, author="李督导"),
        lambda: merge_files(central, [laptop_file], form, backup=False, workers=0),
    )
    check_store(central, form)
    assert "floors_above" in _open_conflicts(central)


def test_a_register_import_held_open_across_a_merge_flags_duplicates(
    central: Store,
    laptops: Callable[[str], Store],
    export: Callable[[Store], Path],
    form: Form,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    lap = laptops("甲")
    create_building(lap, form, REGISTER_ROW, author="甲")
    laptop_file = export(lap)
    register = tmp_path / "register.csv"
    register.write_text(
        "街道,社区,小区名称,楼号,门牌地址\n万兴街道,宜宾里社区,宜宾东里,3号楼,南开区宜宾道12号\n",
        encoding="utf-8",
    )
    held = HeldSave(central, monkeypatch)
    held.run(
        lambda: import_register(central, form, register, author="李督导"),
        lambda: merge_files(central, [laptop_file], form, backup=False, workers=0),
    )
    check_store(central, form)
    assert "_duplicate" in _open_conflicts(central)
