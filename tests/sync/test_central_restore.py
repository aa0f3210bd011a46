"""A central put back from its backup (docs/SYNC.md, "Restoring a central"), on both backends.

The central reused its own change numbers after a restore: every laptop that had pulled one
of its lost changes (a resolution, an assignment) was refused at its next sync as "a copy of
another laptop", and the lost changes never came back.
"""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
import sqlalchemy as sa

from surveyor.forms.model import Form
from surveyor.services.survey import create_building, get_building
from surveyor.store.db import Store, is_url, open_store
from surveyor.store.restart import BACKUP_MARK, HOME
from surveyor.sync.actions import Choice, assign, resolve_conflict
from surveyor.sync.apply import CentralRestored
from surveyor.sync.merge import backup_sqlite
from surveyor.sync.restore import central_restored
from surveyor.sync.rows import BUILDING, CHANGE, CONFLICT, as_uuid
from surveyor.sync.transfer import sync
from tests.conftest import REGISTER_ROW
from tests.pgcluster import PgCluster
from tests.sync.helpers import check_store
from tests.sync.test_merge_examples import _year_built_conflict


class Backup(Protocol):
    """Backs a central up; returns the function that puts it back. ``unnoticed``: a copy
    Surveyor cannot tell from the central (a file copied by hand, a data-only restore)."""

    def __call__(self, central: Store, *, unnoticed: bool = False) -> Callable[[], Store]: ...


@pytest.fixture
def backup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backup]:
    """Take a backup of a central as a supervisor would (SQLite: the merge's copy in
    ``.backups/``; PostgreSQL: a template copy of the database) and put it back later."""
    opened: list[Store] = []

    def take(central: Store, *, unnoticed: bool = False) -> Callable[[], Store]:
        if not is_url(central.target):
            copy = backup_sqlite(central)
            if unnoticed:
                with sqlite3.connect(copy) as db:
                    db.execute("DELETE FROM meta WHERE key = ?", (BACKUP_MARK,))

            def put_back_file() -> Store:
                central.close()
                for side in ("-wal", "-shm"):
                    Path(central.target + side).unlink(missing_ok=True)
                shutil.copyfile(copy, central.target)
                opened.append(open_store(central.target))
                return opened[-1]

            return put_back_file
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        source = sa.make_url(central.target).database
        saved, restored = f"b_{uuid.uuid4().hex[:12]}", f"r_{uuid.uuid4().hex[:12]}"
        central.close()
        with psycopg.connect(**cluster.conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{saved}" TEMPLATE "{source}"')

        def put_back_database() -> Store:
            central.close()
            with psycopg.connect(**cluster.conninfo(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{restored}" TEMPLATE "{saved}"')
            if unnoticed:  # as if restored into the central's own database and tables
                with psycopg.connect(**cluster.conninfo(restored), autocommit=True) as db:
                    db.execute(
                        "UPDATE meta SET value = (SELECT d.oid || ':' || "
                        "to_regclass('change')::oid FROM pg_database d "
                        "WHERE d.datname = current_database()) WHERE key = %s",
                        (HOME,),
                    )
            opened.append(open_store(cluster.url(restored)))
            return opened[-1]

        return put_back_database

    yield take
    for store in opened:
        store.close()


def _held(store: Store, change_id: str) -> bool:
    with store.engine.connect() as conn:
        held = sa.select(CHANGE.c.seq).where(CHANGE.c.change_id == as_uuid(change_id))
        return conn.execute(held).first() is not None


def _latest_own_change(store: Store) -> tuple[str, int]:
    """(id, seq) of the central's latest change of its own."""
    with store.engine.connect() as conn:
        change_id, seq = conn.execute(
            sa.select(CHANGE.c.change_id, CHANGE.c.seq)
            .where(CHANGE.c.site_id == store.site_id)
            .order_by(CHANGE.c.seq.desc())
            .limit(1)
        ).one()
        return str(change_id), int(seq)


def _assigned(store: Store) -> set[str | None]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(BUILDING.c.assigned_to)).scalars())


def _open_conflicts(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(CONFLICT.c.field_key).where(CONFLICT.c.status == "open"))
        return set(rows.scalars())


def test_a_central_put_back_from_its_backup_gets_back_what_it_lost(
    laptops: Callable[[str], Store], central: Store, mini: Form, backup: Backup
) -> None:
    laps, code = _year_built_conflict(laptops, central, mini)
    put_back = backup(central)
    central = open_store(central.target)
    resolve_conflict(
        central, mini, code, "year_built", Choice("value", value="1986"), author="supervisor"
    )
    resolution, _ = _latest_own_change(central)
    sync(laps[0], central, mini)  # the laptop pulls the resolution
    central.close()

    restored = put_back()  # the resolution is lost there
    assert not _held(restored, resolution) and _open_conflicts(restored) == {"year_built"}
    assign(restored, mini, "inspector0", refs=[code], author="supervisor")  # written again

    sync(laps[0], restored, mini)  # was refused: "holds changes of site … that differ"
    assert _held(restored, resolution)
    assert _open_conflicts(restored) == set()
    assert get_building(restored, code).answers["year_built"] == 1986
    sync(laps[1], restored, mini)
    assert get_building(laps[1], code).answers["year_built"] == 1986
    assert _assigned(laps[1]) == {"inspector0"}
    for store in (restored, *laps):
        check_store(store, mini)


def test_a_central_put_back_unnoticed_and_written_to_is_named_and_renumbered(
    laptops: Callable[[str], Store], central: Store, mini: Form, backup: Backup
) -> None:
    """A restore Surveyor cannot tell (a file copied by hand, a data-only restore), written to
    before anyone said so: the laptop holding a lost change is told the central was put back
    and the command that renumbers it (it was told it was a copy and to rekey itself, with
    "the central …" inside the command line). After it, everyone converges, even a laptop
    that pulled the change made after the restore at its old number."""
    laps, code = _year_built_conflict(laptops, central, mini)
    put_back = backup(central, unnoticed=True)
    central = open_store(central.target)
    resolve_conflict(
        central, mini, code, "year_built", Choice("value", value="1986"), author="supervisor"
    )
    resolution, number = _latest_own_change(central)
    sync(laps[0], central, mini)
    central.close()

    restored = put_back()
    assign(restored, mini, "inspector0", refs=[code], author="supervisor")  # reuses the number
    assert _latest_own_change(restored)[1] == number
    sync(laps[1], restored, mini)  # holds the assignment at that number now
    with pytest.raises(CentralRestored) as refused:
        sync(laps[0], restored, mini)
    said = str(refused.value)
    fix = f"'surveyor central restored {shlex.quote(restored.target)} --from {number}'"
    assert fix in said and "'surveyor rekey" not in said, said
    assert refused.value.seq == number

    done = central_restored(restored, mini, since=refused.value.seq)
    assert (done.moved, done.since) == (1, number)
    restored.close()
    restored = open_store(restored.target)
    assert restored.former_sites == (uuid.UUID(done.old_site),)
    for lap in (*laps, laps[0]):
        sync(lap, restored, mini)
    assert _held(restored, resolution) and _open_conflicts(restored) == set()
    for store in (restored, *laps):
        assert get_building(store, code).answers["year_built"] == 1986
        assert _assigned(store) == {"inspector0"}
        check_store(store, mini)


def test_the_refusal_names_the_command_that_mends_the_central(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """From the command line, in Chinese: a central copied back by hand and written to. The
    refusal's command line runs as printed, and the laptop then syncs."""
    from tests.sync.test_sync_cli import FORM, new_central, run

    target = new_central(tmp_path)
    lap = laptops("甲")
    code = create_building(lap, mini, REGISTER_ROW, author="甲").code
    run("sync", "--db", lap.target, "--central", target, *FORM)
    by_hand = tmp_path / "copy.db"
    shutil.copyfile(target, by_hand)  # closed: no -wal beside it
    run(
        "assign",
        "--central",
        target,
        "--inspector",
        "甲",
        "--buildings",
        _codes(tmp_path, code),
        "--by",
        "王主管",
        *FORM,
    )
    run("sync", "--db", lap.target, "--central", target, *FORM)  # pulls the assignment
    shutil.copyfile(by_hand, target)
    run("delete", "--central", target, code, "--by", "王主管", "--yes", *FORM)  # reuses its number
    refused = run("sync", "--db", lap.target, "--central", target, "--lang", "zh", *FORM, ok=False)
    assert refused.returncode == 2 and "surveyor rekey" not in refused.stderr, refused.stderr
    fix = refused.stderr.split("「")[1].split("」")[0]
    assert fix == f"surveyor central restored {target} --from 1"
    mended = run(*shlex.split(fix)[1:], "--lang", "zh", *FORM)
    assert "1 条改动" in mended.stdout, mended.stdout
    run("sync", "--db", lap.target, "--central", target, *FORM)
    with sqlite3.connect(target) as db:  # the lost assignment is back, the delete kept
        assert db.execute("SELECT assigned_to, deleted FROM building").fetchall() == [("甲", 1)]


def _codes(tmp_path: Path, code: str) -> str:
    path = tmp_path / "codes.txt"
    path.write_text(f"{code}\n", encoding="utf-8")
    return str(path)


def test_a_second_refusal_names_the_id_the_central_wrote_under_before(
    laptops: Callable[[str], Store], central: Store, mini: Form, backup: Backup
) -> None:
    """Two laptops hold different lost changes of a central put back unnoticed: the first
    refusal's --from moves its changes to a new id; the second names the former id (it said
    another laptop was copied), and a lost change below the central's watermark, on a
    building the central wrote nothing to since, came back only through a clash."""
    a, b = laptops("甲"), laptops("乙")
    on_a = create_building(a, mini, REGISTER_ROW, author="甲").code
    on_b = create_building(
        b, mini, REGISTER_ROW | {"address": "南开区鞍山西道3号"}, author="乙"
    ).code
    for lap in (a, b):
        sync(lap, central, mini)
    put_back = backup(central, unnoticed=True)
    central = open_store(central.target)
    assign(central, mini, "乙", refs=[on_b], author="supervisor")  # (central, 1)
    sync(b, central, mini)
    assign(central, mini, "甲", refs=[on_a], author="supervisor")  # (central, 2)
    sync(a, central, mini)
    central.close()

    restored = put_back()
    assign(restored, mini, "乙", refs=[on_a], author="supervisor")  # takes 1
    assign(restored, mini, "甲", refs=[on_a], author="supervisor")  # takes 2
    with pytest.raises(CentralRestored) as first:
        sync(a, restored, mini)
    assert first.value.seq == 2 and "--site" not in str(first.value)
    central_restored(restored, mini, since=2)
    restored.close()
    restored = open_store(restored.target)
    sync(a, restored, mini)
    with pytest.raises(CentralRestored) as second:
        sync(b, restored, mini)
    former = str(restored.former_sites[0])
    assert second.value.seq == 1 and f"--from 1 --site {former}'" in str(second.value)
    central_restored(restored, mini, since=1, site=former)
    restored.close()
    restored = open_store(restored.target)
    for lap in (b, a, b):
        sync(lap, restored, mini)
    with restored.engine.connect() as conn:
        authors = conn.execute(sa.select(CHANGE.c.change_id)).scalars().all()
    assert {str(c) for c in authors} >= set(_ids(a)) | set(_ids(b))  # nothing lost
    for store in (restored, a, b):
        check_store(store, mini)
    assert get_building(b, on_b).answers == get_building(restored, on_b).answers


def _ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [str(c) for c in conn.execute(sa.select(CHANGE.c.change_id)).scalars()]
