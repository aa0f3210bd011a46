"""Photos in a sync with a PostgreSQL central: they travel only into the central's own photo
folder (``sync --blobs``); without one they stay on the laptop, recorded as not stored, and a
handover merge brings them in later."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from surveyor.paths import blob_dir_for
from surveyor.store.blobs import blob_path
from tests.test_cli import _new_db


def _sv(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["surveyor", *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


def _photo(tmp_path: Path, name: str, colour: tuple[int, int, int]) -> tuple[Path, str]:
    path = tmp_path / name
    Image.new("RGB", (40, 30), colour).save(path, "JPEG")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(url: str) -> dict[str, bool]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT sha256, stored FROM attachment")).all()
    finally:
        engine.dispose()
    return {str(sha): bool(stored) for sha, stored in rows}


@pytest.mark.postgres
def test_a_pg_sync_sends_photos_only_into_the_centrals_folder(pg_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = os.environ | {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    _sv(env, "central", "init", pg_url)
    lap, code = _new_db(tmp_path)
    first, sha1 = _photo(tmp_path, "p1.jpg", (10, 20, 30))
    _sv(env, "photo", "add", "--db", str(lap), code, "主立面", str(first))

    # No photo folder for the URL central: nothing sent, nothing marked stored, said so.
    synced = _sv(env, "sync", "--db", str(lap), "--central", pg_url)
    assert "photos sent 0" in synced.stdout, synced.stdout
    assert synced.stderr.splitlines()[0] == (
        "1 photo(s) stay on this laptop until synced with --blobs (the central's photo folder) "
        "or handed over with export-db"
    )
    assert _stored(pg_url) == {sha1: False}
    assert not list(home.rglob("*central-blobs*"))  # nothing "sent" into the laptop's own folder
    zh = _sv(env, "sync", "--db", str(lap), "--central", pg_url, "--lang", "zh")
    assert "1 张照片仍只在这台笔记本上" in zh.stderr

    shared = tmp_path / "shared-photos"
    doctor = subprocess.run(
        ["surveyor", "doctor", "--central", pg_url, "--blobs", str(shared)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert doctor.returncode == 2
    assert f"{code}: 1 photo(s) of 'Main facade' missing from the photo folder" in doctor.stderr

    # The handover of the same laptop: its changes are merged already, its photo is not.
    out = tmp_path / "hand" / "wang.db"
    out.parent.mkdir()
    _sv(env, "export-db", "--db", str(lap), "--out", str(out))
    merged = _sv(env, "merge", str(out), "--into", pg_url, "--blobs", str(shared))
    assert "already merged" in merged.stdout and "1 photo(s) missing until now" in merged.stdout
    assert blob_path(shared, sha1).read_bytes() == first.read_bytes()
    assert _stored(pg_url) == {sha1: True}
    _sv(env, "doctor", "--central", pg_url, "--blobs", str(shared))

    # With the central's folder given, a sync sends the photo there, verified.
    second, sha2 = _photo(tmp_path, "p2.jpg", (200, 20, 30))
    _sv(env, "photo", "add", "--db", str(lap), code, "photo_defects", str(second))
    sent = _sv(env, "sync", "--db", str(lap), "--central", pg_url, "--blobs", str(shared))
    assert "photos sent 1" in sent.stdout and "stay on this laptop" not in sent.stderr
    assert blob_path(shared, sha2).read_bytes() == second.read_bytes()
    assert _stored(pg_url) == {sha1: True, sha2: True}

    # A colleague's laptop assigned the building receives them from that folder only.
    codes = tmp_path / "codes.txt"
    codes.write_text(f"{code}\n", encoding="utf-8")
    _sv(
        env,
        "assign",
        "--central",
        pg_url,
        "--inspector",
        "李",
        "--buildings",
        str(codes),
        "--new-inspector",
    )
    other = tmp_path / "other.db"
    _sv(env, "init", "--db", str(other), "--inspector", "李")
    none = _sv(env, "sync", "--db", str(other), "--central", pg_url)
    assert "received 0" in none.stdout and not blob_dir_for(other).exists()
    got = _sv(env, "sync", "--db", str(other), "--central", pg_url, "--blobs", str(shared))
    assert "received 2" in got.stdout, got.stdout
    assert blob_path(blob_dir_for(other), sha2).is_file()
    shutil.rmtree(shared)
