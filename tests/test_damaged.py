"""Damaged files and what killed writes leave: a damaged database is said by every command in
one sentence (exit 2), naming the file and where to go on from, instead of "internal error:
this is a bug" or SQLite's English; a cut-short photo is refused; exports and database copies
sweep the hidden temporary files killed or failed runs left."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from surveyor.errors import DAMAGED_EN, DAMAGED_ZH, SurveyorError
from surveyor.forms.catalog import DEFAULT_FORM
from surveyor.forms.model import load_form
from surveyor.i18n import error_text
from surveyor.services.survey import create_building
from surveyor.store.db import init_store, open_store
from surveyor.store.maintenance import doctor
from tests.conftest import REGISTER_ROW
from tests.test_cli import sv


def _laptop(tmp_path: Path) -> tuple[Path, str]:
    """A laptop file with one building."""
    db = tmp_path / "l.db"
    store = init_store(db, role="laptop", inspector="王芳")
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    return db, code


def _damage_table(db: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage, as a bad sector or a half-copied
    file leaves it: the header stays readable, the table does not."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    with db.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes(range(7, 256)) * (page_size // 249) + b"\xff" * (page_size % 249))


def _damaged_zh(db: Path) -> str:
    return "错误：" + DAMAGED_ZH.format(db=f"数据库 {db}")


def test_every_command_says_a_damaged_file_is_damaged(tmp_path: Path) -> None:
    """doctor, show, export csv and export-db said "internal error: this is a bug" (exit 1)
    or SQLite's "database disk image is malformed" inside a Chinese sentence."""
    db, code = _laptop(tmp_path)
    _damage_table(db, "building")
    for args in (
        ["doctor"],
        ["show", code],
        ["export", "csv", "--out", str(tmp_path / "x.csv")],
        ["export-db", "--out", str(tmp_path / "e.db")],
    ):
        run = sv(*args, "--db", str(db), "--lang", "zh")
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.strip().splitlines()[-1] == _damaged_zh(db), args
    assert not (tmp_path / "e.db").exists()
    assert "internal error" not in sv("doctor", "--db", str(db)).stderr


def test_doctor_reports_the_damage_and_checks_nothing_else(tmp_path: Path) -> None:
    db, _ = _laptop(tmp_path)
    _damage_table(db, "building")
    store = open_store(db, readonly=True)
    try:
        report = doctor(store)
    finally:
        store.close()
    assert report.damaged and not report.ok
    assert report.problems and all(p.startswith("integrity: ") for p in report.problems)


def test_a_truncated_file_is_said_damaged_when_opened(tmp_path: Path) -> None:
    """The app's open error on a half-copied file was SQLite's English."""
    db, _ = _laptop(tmp_path)
    half = tmp_path / "half.db"
    half.write_bytes(db.read_bytes()[: 3 * 4096])
    with pytest.raises(SurveyorError) as caught:
        open_store(half).close()
    assert caught.value.text("zh") == DAMAGED_ZH.format(db=f"数据库 {half}")
    assert caught.value.text("en") == DAMAGED_EN.format(db=f"database {half}")


def test_the_driver_error_is_said_in_words() -> None:
    """What the app's background tasks show (``error_text``) for SQLite's damaged-file errors."""
    for words in ("database disk image is malformed", "file is not a database"):
        said = error_text(sqlite3.DatabaseError(words), "zh")
        assert said == DAMAGED_ZH.format(db="这个数据库")


def _cut_short_jpeg(path: Path) -> Path:
    """A real JPEG with its second half missing, as an interrupted copy leaves it."""
    from PIL import Image

    Image.effect_noise((320, 240), 60).convert("RGB").save(path, "JPEG", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_cut_short_photo_is_refused_by_name(tmp_path: Path) -> None:
    """``photo add`` said "saved" for a truncated JPEG; every sheet then printed 照片无法读取."""
    db, code = _laptop(tmp_path)
    photo = _cut_short_jpeg(tmp_path / "facade.jpg")
    run = sv("photo", "add", "--db", str(db), code, "photo_facade_main", str(photo), "--lang", "zh")
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip() == (
        "错误：facade.jpg 已损坏或不完整（无法读取其中的图像）；请从相机或手机重新复制"
    )
    store = open_store(db, readonly=True)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM attachment").scalar() == 0
    finally:
        store.close()
    assert not any(p.is_file() for p in (tmp_path / "l.db.blobs").rglob("*"))


def _left_behind(path: Path, *, hours: float, folder: bool = False) -> Path:
    """A temporary file (or folder of PDFs) a killed write left ``hours`` ago."""
    if folder:
        path.mkdir()
        for i in range(3):
            (path / f"{i}.pdf").write_bytes(b"%PDF-")
    else:
        path.write_bytes(b"half")
    when = time.time() - hours * 3600
    os.utime(path, (when, when))
    return path


def test_an_export_sweeps_what_a_killed_export_of_it_left(tmp_path: Path) -> None:
    """kill -9 during ``export sheets`` left ``.k.pdf.og8y4vns.part``, during ``--split``
    ``.s.7rdyicok.part/`` with its PDFs, hidden, never removed. The next export of the same
    target removes those an hour old; a running export's (fresh) and another target's stay."""
    from surveyor.exports.output import atomic_file, atomic_folder

    old_file = _left_behind(tmp_path / ".k.pdf.og8y4vns.part", hours=2)
    old_folder = _left_behind(tmp_path / ".s.7rdyicok.part", hours=2, folder=True)
    running = _left_behind(tmp_path / ".k.pdf.abcd_123.part", hours=0)
    other = _left_behind(tmp_path / ".other.pdf.og8y4vns.part", hours=2)
    with atomic_file(tmp_path / "k.pdf") as tmp:
        tmp.write_bytes(b"%PDF-")
    with atomic_folder(tmp_path / "s") as folder:
        (folder / "1.pdf").write_bytes(b"%PDF-")
    assert not old_file.exists() and not old_folder.exists()
    assert running.exists() and other.exists()
    assert (tmp_path / "k.pdf").exists() and (tmp_path / "s" / "1.pdf").exists()


def test_a_database_copy_leaves_no_journal(tmp_path: Path) -> None:
    """A full disk during ``export-db`` left ``.e2.db.24517.tmp-journal``: the failed copy
    removes its journal with its file, and the next copy to the same name sweeps an old one."""
    from surveyor.store.sqlitefile import copy_database

    db, _ = _laptop(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    old = _left_behind(out / ".e2.db.24517.tmp-journal", hours=2)
    running = _left_behind(out / ".e2.db.24518.tmp", hours=0)

    def disk_fills(tmp: Path) -> None:
        Path(f"{tmp}-journal").write_bytes(b"journal")  # as SQLite leaves it on a full disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError):
        copy_database(db, out / "e2.db", standalone=True, before_rename=disk_fills)
    assert sorted(p.name for p in out.iterdir()) == [running.name]
    assert not old.exists()


def test_ctrl_c_during_an_export_says_nothing_was_written(tmp_path: Path) -> None:
    """Ctrl-C during an export said the merge's "what was merged or saved is kept … run the
    same command again to continue", though an export writes nothing until it is whole."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.sample import generate_sample

    db = tmp_path / "s.db"
    generate_sample(db, get_form(), buildings=300, seed=3)  # the export outlasts the signal
    out = tmp_path / "out"
    out.mkdir()
    command = ["surveyor", "export", "sheets", "--db", str(db), "--out", str(out / "s")]
    proc = subprocess.Popen(
        [*command, "--split", "--jobs", "1", "--lang", "zh"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not any(out.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until its hidden .part folder is there: the export is writing
    # The first sheet imports zxing-cpp, whose C++ initialisation aborted (-6) or crashed (-11)
    # when the interrupt landed inside it.
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == (
        "已中断；未写出导出文件（导出文件只在完整时写出）：再运行同一命令即可导出"
    )
    assert list(out.iterdir()) == []
