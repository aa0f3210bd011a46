"""`export-db` is the handover a supervisor merges: it carries the photos, and the commands an
inspector runs around it speak the language asked for."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from surveyor.i18n import language, set_language
from surveyor.paths import blob_dir_for
from surveyor.settings import load_settings
from surveyor.tui.app import SurveyorApp
from tests.test_cli import _new_db, sv


def _laptop_with_photo(tmp_path: Path) -> tuple[Path, str, str]:
    """A laptop database with one photo on a building; returns (db, code, photo sha256)."""
    db, code = _new_db(tmp_path)
    photo = tmp_path / "facade.jpg"
    Image.new("RGB", (40, 30), (90, 140, 60)).save(photo, "JPEG")
    added = sv("photo", "add", "--db", str(db), code, "主立面", str(photo))
    assert added.returncode == 0, added.stderr
    return db, code, hashlib.sha256(photo.read_bytes()).hexdigest()


def test_export_db_carries_the_photos_into_the_merge(tmp_path: Path) -> None:
    db, _, sha = _laptop_with_photo(tmp_path)
    out = tmp_path / "handover" / "wang.db"
    out.parent.mkdir()
    done = sv("export-db", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    folder = blob_dir_for(out)
    assert done.stdout.strip() == (
        f"exported to {out}, with 1 photo(s) in {folder} (hand that folder over with the file)"
    )
    copied = folder / sha[:2] / sha[2:]
    assert hashlib.sha256(copied.read_bytes()).hexdigest() == sha

    # What the supervisor receives is the file and its folder, nothing else of the laptop.
    shutil.rmtree(blob_dir_for(db))
    central = str(tmp_path / "central.db")
    assert sv("central", "init", central).returncode == 0
    merged = sv("merge", str(out), "--into", central)
    assert merged.returncode == 0, merged.stderr
    assert "missing" not in merged.stdout, merged.stdout
    assert (blob_dir_for(Path(central)) / sha[:2] / sha[2:]).is_file()


def test_export_db_says_which_photos_the_laptop_lacks(tmp_path: Path) -> None:
    db, _, sha = _laptop_with_photo(tmp_path)
    (blob_dir_for(db) / sha[:2] / sha[2:]).write_bytes(b"damaged")
    out = tmp_path / "out.db"
    done = sv("export-db", "--db", str(db), "--out", str(out), "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"已导出到 {out}"
    assert f"警告：1 张照片在本机的照片文件夹 {blob_dir_for(db)} 中缺失或已损坏" in done.stderr
    assert not (blob_dir_for(out) / sha[:2] / sha[2:]).exists()


def test_init_and_doctor_speak_chinese_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    created = sv("init", "--db", str(db), "--inspector", "王芳", "--lang", "zh")
    assert created.stdout.startswith(f"已新建 {db}（站点 ")
    checked = sv("doctor", "--db", str(db), "--lang", "zh")
    assert checked.returncode == 0, checked.stderr
    assert "楼栋：0" in checked.stdout and checked.stdout.splitlines()[-1] == "正常"


def test_the_apps_language_follows_settings_then_surveyor_lang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = tmp_path / "config.toml"
    monkeypatch.setenv("SURVEYOR_LANG", "en")
    assert load_settings(settings_file)[0].language == "en"  # no file yet
    settings_file.write_text('theme = "textual-dark"\n', encoding="utf-8")
    assert load_settings(settings_file)[0].language == "en"  # the file does not say
    settings_file.write_text('language = "zh"\n', encoding="utf-8")
    assert load_settings(settings_file)[0].language == "zh"  # F2's choice wins
    before = language()
    try:
        app = SurveyorApp(tmp_path / "x.db", settings_path=settings_file, language="en")
        assert app.settings.language == "en" and language() == "en"  # --lang, this session
    finally:
        set_language(before)


def test_a_photo_missing_from_a_handover_is_found_by_doctor_and_a_second_merge(
    tmp_path: Path,
) -> None:
    db, code, sha = _laptop_with_photo(tmp_path)
    out = tmp_path / "X.db"
    assert sv("export-db", "--db", str(db), "--out", str(out)).returncode == 0
    kept = tmp_path / "kept.blobs"
    shutil.move(blob_dir_for(out), kept)  # the folder was not handed over
    central = tmp_path / "c.db"
    assert sv("central", "init", str(central)).returncode == 0
    merged = sv("merge", str(out), "--into", str(central))
    assert "1 photo(s) missing from the file's blob folder" in merged.stdout, merged.stdout

    folder = blob_dir_for(central)
    checked = sv("doctor", "--central", str(central))
    assert checked.returncode == 2
    assert f"problem: {code}: 1 photo(s) of 'Main facade' missing from the photo folder " in (
        checked.stderr
    ), checked.stderr
    zh = sv("doctor", "--central", str(central), "--lang", "zh")
    assert f"问题：{code} 的「主立面」有 1 张照片不在照片文件夹 {folder} 中" in zh.stderr, zh.stderr

    shutil.move(kept, blob_dir_for(out))  # handed over after all: the same file again
    again = sv("merge", str(out), "--into", str(central))
    assert "1 photo(s) missing until now copied" in again.stdout, again.stdout
    assert (folder / sha[:2] / sha[2:]).is_file()
    fine = sv("doctor", "--central", str(central))
    assert fine.returncode == 0 and fine.stdout.splitlines()[-1] == "ok", fine.stderr

    (blob_dir_for(db) / sha[:2] / sha[2:]).unlink()  # and the laptop's own folder lost it
    laptop = sv("doctor", "--db", str(db))
    assert laptop.returncode == 2 and f"{code}: 1 photo(s) of 'Main facade'" in laptop.stderr


def _temp_file(folder: Path, sha: str, age: float) -> Path:
    """A photo write's temporary file (``store.blobs.write_blob``'s name), ``age`` seconds old."""
    path = folder / sha[:2] / f".{sha[2:]}.cc2d3e04.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 1000)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_merge_and_sync_remove_the_temp_files_killed_copies_left(tmp_path: Path) -> None:
    db, _, sha = _laptop_with_photo(tmp_path)
    central = tmp_path / "c.db"
    assert sv("central", "init", str(central)).returncode == 0
    other = hashlib.sha256(b"other").hexdigest()
    killed = _temp_file(blob_dir_for(central), other, age=2 * 3600)
    writing = _temp_file(blob_dir_for(central), sha, age=60)  # a live copy, maybe
    out = tmp_path / "X.db"
    assert sv("export-db", "--db", str(db), "--out", str(out)).returncode == 0
    assert sv("merge", str(out), "--into", str(central)).returncode == 0
    assert not killed.exists() and writing.exists()

    on_laptop = _temp_file(blob_dir_for(db), other, age=3 * 3600)
    in_central = _temp_file(blob_dir_for(central), other, age=3 * 3600)
    synced = sv("sync", "--db", str(db), "--central", str(central))
    assert synced.returncode == 0, synced.stderr
    assert not on_laptop.exists() and not in_central.exists() and writing.exists()
