"""Files that must be refused whole, with a clear message, writing nothing (one test each)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.services.survey import create_building, get_building, save_answers
from surveyor.store.bulk import COPY_FROM
from surveyor.store.db import Store, open_store
from surveyor.store.maintenance import doctor, export_sqlite
from surveyor.sync.merge import FileReport, merge_files
from surveyor.sync.transfer import sync
from tests.conftest import REGISTER_ROW
from tests.sync.helpers import check_store, dump


def laptop_file(
    laptops: Callable[[str], Store], export: Callable[[Store], Path], mini: Form, buildings: int
) -> Path:
    """An exported laptop file with ``buildings`` buildings, two changes each."""
    lap = laptops("甲")
    for n in range(buildings):
        row = REGISTER_ROW | {"address": f"南开区宜宾道{12 + 2 * n}号"}
        b = create_building(lap, mini, row, author="甲")
        save_answers(lap, mini, b.code, {"year_built": "1984", "floors_above": "6"}, author="甲")
    return export(lap)


@pytest.fixture
def good_file(laptops: Callable[[str], Store], export: Callable[[Store], Path], mini: Form) -> Path:
    return laptop_file(laptops, export, mini, 3)


def _refused(central: Store, path: Path, mini: Form) -> FileReport:
    before = dump(central)
    [report] = merge_files(central, [path], mini)
    assert report.outcome == "refused"
    assert "nothing" in report.message
    assert dump(central) == before  # nothing of it was written
    return report


def test_not_sqlite_is_refused(central: Store, tmp_path: Path, mini: Form) -> None:
    path = tmp_path / "notes.db"
    path.write_text("building list, not a database\n" * 100, encoding="utf-8")
    report = _refused(central, path, mini)
    assert "is not a SQLite database" in report.message


def test_truncated_file_is_refused(central: Store, good_file: Path, mini: Form) -> None:
    data = good_file.read_bytes()
    good_file.write_bytes(data[: len(data) // 2])
    report = _refused(central, good_file, mini)
    assert "truncated" in report.message


def test_truncated_mid_page_is_refused(central: Store, good_file: Path, mini: Form) -> None:
    data = good_file.read_bytes()
    good_file.write_bytes(data[: len(data) - 1000])
    assert "truncated" in _refused(central, good_file, mini).message


def test_corrupt_file_is_refused(central: Store, good_file: Path, mini: Form) -> None:
    with sqlite3.connect(good_file) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'change'").fetchone()[
            0
        ]
    conn.close()
    data = bytearray(good_file.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size  # the change table's root page
    good_file.write_bytes(bytes(data))
    report = _refused(central, good_file, mini)
    assert "corrupt" in report.message
    # One line, not SQLite's report of every page ("*** in database main ***\nPage 16: …").
    assert "\n" not in report.message and "***" not in report.message


def test_newer_schema_is_refused(central: Store, good_file: Path, mini: Form) -> None:
    with sqlite3.connect(good_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    report = _refused(central, good_file, mini)
    assert (
        "newer version of Surveyor" in report.message and "0099_from_the_future" in report.message
    )


@contextlib.contextmanager
def original_and_copy(
    laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> Iterator[tuple[Store, Store, str]]:
    """A laptop with one building and a copy of its disk (``clone.db``: a second laptop with
    the same id), as (original, copy, building code); both closed afterwards."""
    original = laptops("甲")
    code = create_building(original, mini, REGISTER_ROW, author="甲").code
    original.close()
    shutil.copy(original.target, tmp_path / "clone.db")
    original, clone = open_store(original.target), open_store(tmp_path / "clone.db")
    try:
        yield original, clone, code
    finally:
        original.close()
        clone.close()


def test_a_laptop_restored_from_an_older_copy_syncs_and_saves_again(
    central: Store, laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    """A dead laptop replaced by its backup: the backup pulls back the original's later
    changes, and its next save must not reuse their numbers (it failed on the log's unique
    (site, seq) key, an internal error on every save)."""
    with original_and_copy(laptops, tmp_path, mini) as (original, backup, code):
        sync(original, central, mini)
        save_answers(original, mini, code, {"year_built": "1984"}, author="甲")
        sync(original, central, mini)  # then the original is lost
        sync(backup, central, mini)
        assert get_building(backup, code).answers["year_built"] == 1984
        save_answers(backup, mini, code, {"floors_above": "6"}, author="甲")
        assert sync(backup, central, mini).pushed == 1
        assert doctor(backup).ok, doctor(backup).problems
    assert get_building(central, code).answers["floors_above"] == 6


def test_cloned_site_is_refused(
    central: Store, laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    with original_and_copy(laptops, tmp_path, mini) as (original, clone, code):
        save_answers(original, mini, code, {"year_built": "1984"}, author="甲")
        save_answers(clone, mini, code, {"year_built": "1990"}, author="乙")
        first = export_sqlite(original, tmp_path / "original.db").path
        second = export_sqlite(clone, tmp_path / "clone-export.db").path
    [ok] = merge_files(central, [first], mini)
    assert ok.outcome == "merged"
    report = _refused(central, second, mini)
    assert "copy of another laptop" in report.message


def test_clone_hidden_below_the_watermark_is_refused(
    central: Store, laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    with original_and_copy(laptops, tmp_path, mini) as (original, clone, code):
        for year in ("1981", "1982", "1983"):  # the original gets further ahead
            save_answers(original, mini, code, {"year_built": year}, author="甲")
        save_answers(clone, mini, code, {"year_built": "1990"}, author="乙")
        first = export_sqlite(original, tmp_path / "original.db").path
        second = export_sqlite(clone, tmp_path / "clone-export.db").path
    assert merge_files(central, [first], mini)[0].outcome == "merged"
    assert "copy of another laptop" in _refused(central, second, mini).message


@pytest.mark.parametrize("buildings", [3, 30], ids=["statement", "copy"])
def test_change_id_held_at_another_place_is_refused(
    central: Store,
    laptops: Callable[[str], Store],
    export: Callable[[Store], Path],
    mini: Form,
    tmp_path: Path,
    buildings: int,
) -> None:
    """Both ways new changes are written give the same refusal: 6 changes go in one INSERT
    statement; 60 are COPYed on PostgreSQL, whose error was an internal error."""
    good_file = laptop_file(laptops, export, mini, buildings)
    assert (2 * buildings >= COPY_FROM) == (buildings == 30)
    other = laptops("乙")
    create_building(other, mini, REGISTER_ROW | {"address": "南开区宜宾道99号"}, author="乙")
    first = export_sqlite(other, tmp_path / "other.db").path
    assert merge_files(central, [first], mini)[0].outcome == "merged"
    with sqlite3.connect(first) as src, sqlite3.connect(good_file) as dst:
        held = src.execute("SELECT change_id FROM change ORDER BY seq LIMIT 1").fetchone()[0]
        # an edited file: one of its changes reuses an id the central holds at another place
        dst.execute("UPDATE change SET change_id = ? WHERE seq = 1", (held,))
    report = _refused(central, good_file, mini)
    assert "already held with a different site or sequence number" in report.message


def test_file_with_the_centrals_own_site_is_refused(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    lap = laptops("甲")
    create_building(lap, mini, REGISTER_ROW, author="甲")
    own = export_sqlite(lap, tmp_path / "own.db").path
    report = _refused(lap, own, mini)
    assert "same site id" in report.message


def test_cli_refusal_is_one_sentence_and_exit_2(tmp_path: Path, good_file: Path) -> None:
    central_path = tmp_path / "central.db"
    subprocess.run(["surveyor", "central", "init", str(central_path)], check=True)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"PK\x03\x04 a zip file, not a database")
    result = subprocess.run(
        ["surveyor", "merge", str(bad), str(good_file), "--into", str(central_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is not a SQLite database" in result.stderr
    assert "merged" in result.stdout  # the good file still went in, in its own transaction
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 2 file(s) refused")


def test_another_programs_database_given_to_sync_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    """Opening a file for writing turned it to WAL mode before it was found to be no Surveyor
    database: a wrong path given to sync, merge --into or set changed another program's file
    (its journal mode, for good), though the command said it was refused."""
    other = tmp_path / "contacts.db"
    with contextlib.closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE contact (name TEXT)")
    before = other.read_bytes()
    central = tmp_path / "central.db"
    subprocess.run(["surveyor", "central", "init", str(central)], check=True)
    result = subprocess.run(
        ["surveyor", "sync", "--db", str(other), "--central", str(central)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result
    assert other.read_bytes() == before
    assert result.stderr.strip() == (
        f"error: database {other} is not a Surveyor database; it was left as it is: check the path"
    )
    with pytest.raises(SurveyorError, match="not a Surveyor database"):
        open_store(other)  # as merge --into, set, the app open it
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("contacts")) == [
        "contacts.db"
    ]


#: Damage a laptop file can hold that crashed a whole merge ("internal error"): the SQL that
#: does it, and what the refusal says in English and Chinese ({id}: the damaged row's id).
DAMAGE = {
    "site-id": (
        "UPDATE meta SET value = 'not-a-uuid' WHERE key = 'site_id'",
        "has a damaged site id (not-a-uuid); nothing was merged",
        "的站点编号已损坏（not-a-uuid）；其内容均未合并",
    ),
    "fields-json": (
        """UPDATE change SET fields = '{"year_built": 19' WHERE seq = 2""",
        "is damaged: its change at seq 2 (id {id}) has a damaged fields column",
        "已损坏：其中序号 2 的改动（编号 {id}）的 fields 列已损坏",
    ),
    "parents-json": (
        "UPDATE change SET parents = '[' WHERE seq = 2",
        "is damaged: its change at seq 2 (id {id}) has a damaged parents column",
        "已损坏：其中序号 2 的改动（编号 {id}）的 parents 列已损坏",
    ),
    "change-id": (
        "UPDATE change SET change_id = 'not-a-change-id' WHERE seq = 2",
        "is damaged: its change at seq 2 (id not-a-change-id) has a damaged change_id column",
        "已损坏：其中序号 2 的改动（编号 not-a-change-id）的 change_id 列已损坏",
    ),
}


def _change_ids(path: Path) -> set[str]:
    """The change ids a SQLite database holds, as stored (32 hex digits)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {r[0] for r in conn.execute("SELECT change_id FROM change")}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_file_is_refused_and_the_other_files_merge(
    tmp_path: Path,
    laptops: Callable[[str], Store],
    export: Callable[[Store], Path],
    good_file: Path,
    mini: Form,
    damage: str,
) -> None:
    """A malformed site id, a change whose JSON does not parse or whose id is no id: each
    crashed the merge ("internal error", exit 1) and the good file beside it was never merged."""
    lap = laptops("乙")
    b = create_building(lap, mini, REGISTER_ROW | {"address": "南开区宜宾道99号"}, author="乙")
    save_answers(lap, mini, b.code, {"year_built": "1990"}, author="乙")
    bad = export(lap)
    bad_ids = _change_ids(bad)
    sql, said_en, said_zh = DAMAGE[damage]
    with contextlib.closing(sqlite3.connect(bad)) as conn, conn:
        [row_id] = conn.execute("SELECT change_id FROM change WHERE seq = 2").fetchone()
        conn.execute(sql)
    row_id = str(uuid.UUID(row_id))
    central_path = tmp_path / "central.db"
    subprocess.run(["surveyor", "central", "init", str(central_path)], check=True)
    merge = ["surveyor", "merge", str(bad), str(good_file), "--into", str(central_path)]
    result = subprocess.run(merge, capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"{bad}: refused: {bad} {said_en.format(id=row_id)}" in result.stderr
    assert f"{good_file}: merged" in result.stdout  # in its own transaction
    held = _change_ids(central_path)
    assert _change_ids(good_file) <= held
    assert not bad_ids & held  # nothing of the damaged file
    again = subprocess.run([*merge, "--lang", "zh"], capture_output=True, text=True)
    assert again.returncode == 2
    assert f"{bad} {said_zh.format(id=row_id)}" in again.stderr
    assert _change_ids(central_path) == held


#: Damage to a laptop's own database that ``surveyor sync`` met as an internal error: the SQL
#: that does it, and the start of the error ({path}: the laptop, {id}: the damaged row's id).
SYNC_DAMAGE = {
    "site-id": (
        "UPDATE meta SET value = 'not-a-uuid' WHERE key = 'site_id'",
        "error: database {path} is damaged: its site id (not-a-uuid) is not an id",
    ),
    "fields-json": (
        """UPDATE change SET fields = '{"year_built": 19' WHERE seq = 2""",
        "error: {path} is damaged: its change at seq 2 (id {id}) has a damaged fields column",
    ),
}


@pytest.mark.parametrize("damage", SYNC_DAMAGE)
def test_a_damaged_laptop_is_told_so_by_sync(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form, damage: str
) -> None:
    """``surveyor sync`` reads the laptop itself (not as a merge reads a file): a damaged site
    id or change row there was an internal error too."""
    lap = laptops("甲")
    b = create_building(lap, mini, REGISTER_ROW, author="甲")
    save_answers(lap, mini, b.code, {"year_built": "1984"}, author="甲")
    lap.close()
    sql, said = SYNC_DAMAGE[damage]
    with contextlib.closing(sqlite3.connect(lap.target)) as conn, conn:
        [row_id] = conn.execute("SELECT change_id FROM change WHERE seq = 2").fetchone()
        conn.execute(sql)
    central_path = tmp_path / "central.db"
    subprocess.run(["surveyor", "central", "init", str(central_path)], check=True)
    result = subprocess.run(
        ["surveyor", "sync", "--db", lap.target, "--central", str(central_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stderr.startswith(said.format(path=lap.target, id=uuid.UUID(row_id)))
    assert _change_ids(central_path) == set()  # nothing was sent


@pytest.mark.parametrize(
    ("ahead", "copy_edits"),
    [(1, 1), (3, 1), (1, 3)],
    ids=["same-length", "original-ahead", "copy-ahead"],
)
def test_a_cloned_laptop_that_syncs_is_told_it_is_the_copy(
    central: Store,
    laptops: Callable[[str], Store],
    tmp_path: Path,
    mini: Form,
    ahead: int,
    copy_edits: int,
) -> None:
    """A laptop's disk copied to a second laptop, both synced: the refusal blamed 'the central'
    (when the original had got further ahead), so the inspector looked for a fault there; a
    copy further ahead pushed its changes before it was refused."""
    from surveyor.errors import SurveyorError
    from surveyor.sync.transfer import sync

    with original_and_copy(laptops, tmp_path, mini) as (original, clone, code):
        for year in range(1981, 1981 + ahead):
            save_answers(original, mini, code, {"year_built": str(year)}, author="甲")
        for year in range(1990, 1990 + copy_edits):
            save_answers(clone, mini, code, {"year_built": str(year)}, author="乙")
        sync(original, central, mini)
        before = dump(central)
        with pytest.raises(SurveyorError) as refused:
            sync(clone, central, mini)
    message = refused.value.message
    assert str(tmp_path / "clone.db") in message and "copy of another laptop" in message
    assert "the central" not in message.split("copy")[0]
    assert refused.value.zh and "副本" in refused.value.zh
    assert dump(central) == before  # nothing of the clone reached the central


def test_a_copy_given_its_own_id_syncs_and_neither_laptops_answers_are_lost(
    central: Store, laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    """A restored backup surveyed on before it synced (or a cloned disk) was refused for
    good: its answers could reach the central neither by sync nor by merge. Given its own id
    (``surveyor rekey``), it syncs; where both answered a field differently, that is a
    conflict for review, as for any two inspectors."""
    from surveyor.errors import SurveyorError
    from surveyor.sync.rekey import rekey
    from surveyor.sync.review import conflict_detail

    with original_and_copy(laptops, tmp_path, mini) as (original, clone, code):
        save_answers(original, mini, code, {"year_built": "1984"}, author="甲")
        save_answers(clone, mini, code, {"year_built": "1990", "floors_above": "6"}, author="甲")
        sync(original, central, mini)
        with pytest.raises(SurveyorError) as refused:
            sync(clone, central, mini)
        assert f"surveyor rekey --db {tmp_path / 'clone.db'} --central" in refused.value.message
        before = own_numbers(clone)
        done = rekey(clone, central)
    assert (done.moved, done.parted_at) == (1, max(before))  # the one save made apart
    clone = open_store(tmp_path / "clone.db")
    try:
        assert str(clone.site_id) == done.new_site != done.old_site
        sync(clone, central, mini)
        assert get_building(central, code).answers["floors_above"] == 6
        sides = {v.value for v in conflict_detail(central, code, "year_built").heads}
        assert sides == {1984, 1990}
        save_answers(clone, mini, code, {"has_elevator": "true"}, author="甲")
        assert sync(clone, central, mini).pushed == 1  # and it goes on syncing
        assert doctor(clone).ok, doctor(clone).problems
        with pytest.raises(SurveyorError, match="not a copy"):
            rekey(clone, central)  # once is enough
    finally:
        clone.close()
    check_store(central, mini)


def own_numbers(store: Store) -> dict[int, str]:
    """seq → change id of the changes ``store``'s own site made."""
    from surveyor.sync.rekey import own_log

    with store.engine.connect() as conn:
        return own_log(conn, str(store.site_id))


def test_a_sqlite_central_is_backed_up_before_a_merge_writes_and_not_for_a_refused_copy(
    laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    """Each merge run that writes first copies the central aside (the last 3 are kept); a run
    whose only file is refused as a copy wrote nothing, and left a backup all the same."""
    import sqlite3

    from surveyor.store.db import init_store
    from surveyor.sync.merge import KEEP_BACKUPS

    central = init_store(tmp_path / "central.db", role="central")
    backups = tmp_path / "central.db.backups"
    try:
        with original_and_copy(laptops, tmp_path, mini) as (original, clone, code):
            save_answers(clone, mini, code, {"year_built": "1990"}, author="乙")
            files = []
            for year in range(1981, 1981 + KEEP_BACKUPS + 1):
                save_answers(original, mini, code, {"year_built": str(year)}, author="甲")
                files.append(export_sqlite(original, tmp_path / f"original-{year}.db").path)
            copy = export_sqlite(clone, tmp_path / "clone-export.db").path

        [first] = merge_files(central, [files[0]], mini)
        assert first.outcome == "merged"
        [taken] = list(backups.glob("before-merge-*.db"))
        with sqlite3.connect(taken) as conn:  # the central as it was before that merge
            assert conn.execute("SELECT count(*) FROM change").fetchone() == (0,)
        [refused] = merge_files(central, [copy], mini)
        assert refused.outcome == "refused" and "copy of another laptop" in refused.message
        assert list(backups.glob("before-merge-*.db")) == [taken]
        for later in files[1:]:
            assert merge_files(central, [later], mini)[0].outcome == "merged"
        assert len(list(backups.glob("before-merge-*.db"))) == KEEP_BACKUPS
    finally:
        central.close()


def test_a_laptop_rekeyed_by_mistake_after_its_handover_merged_is_told_and_put_right(
    central: Store, laptops: Callable[[str], Store], tmp_path: Path, mini: Form
) -> None:
    """export-db (a handover copy), then rekey of the laptop itself ("it can sync now"), then
    the copy merged: the sync said "a change id is held with a different site or sequence
    number: the file is damaged or was edited", of no file, with no way out. The same changes
    are named as such, and rekey run again puts them back where the central holds them."""
    from surveyor.errors import SurveyorError
    from surveyor.sync.rekey import rekey

    mine = laptops("甲")
    code = create_building(mine, mini, REGISTER_ROW, author="甲").code
    sync(mine, central, mini)
    save_answers(mine, mini, code, {"year_built": "1984"}, author="甲")
    save_answers(mine, mini, code, {"floors_above": "5"}, author="甲")
    path = Path(mine.target)
    handover = export_sqlite(mine, tmp_path / "handover.db").path
    first = rekey(mine, central)  # a mistake: this is the original, not a copy
    mine.close()
    assert first.moved == 2
    [merged] = merge_files(central, [handover], mini)
    assert merged.outcome == "merged"
    mine = open_store(path)
    save_answers(mine, mini, code, {"has_elevator": "no"}, author="甲")  # made after the rekey
    before = dump(central)
    with pytest.raises(SurveyorError) as refused:
        sync(mine, central, mini)
    said = refused.value.message
    assert f"2 change(s) of {path} are held on the central under another laptop's id" in said
    assert "Nothing is damaged" in said and "damaged or was edited" not in said
    assert f"surveyor rekey --db {path} --central" in said
    assert refused.value.zh and "什么都没有损坏" in refused.value.zh
    assert dump(central) == before
    exported = export_sqlite(mine, tmp_path / "mine-export.db").path  # merged, not synced
    [as_file] = merge_files(central, [exported], mini)
    assert as_file.outcome == "refused" and as_file.refusal is not None
    assert f"2 change(s) of {exported} are held on the central" in as_file.refusal.message
    assert dump(central) == before
    again = rekey(mine, central)
    mine.close()
    assert (again.restored, again.moved, again.back_sites) == (2, 1, first.old_site)
    mine = open_store(path)
    try:
        assert sync(mine, central, mini).pushed == 1  # only the change made after the rekey
        assert get_building(central, code).answers["has_elevator"] is False
        assert get_building(central, code).answers["floors_above"] == 5
        assert doctor(mine).ok, doctor(mine).problems
        save_answers(mine, mini, code, {"year_built": "1985"}, author="甲")
        assert sync(mine, central, mini).pushed == 1  # and it goes on syncing
    finally:
        mine.close()
    check_store(central, mini)
