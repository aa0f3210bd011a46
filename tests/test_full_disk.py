"""A really full disk under the real ``surveyor`` command: one sentence, exit code 2, nothing
half-written, nothing saved before lost, and everything works again once there is space.

The disk is a small tmpfs mounted in a private mount namespace (``unshare``), so the test
needs no privileges beyond a user namespace and leaves nothing mounted behind. The scenario
runs inside the namespace (``FULL_DISK_SCENARIO``) and prints what it saw as JSON.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.namespaces import run_scenario

FULL_DISK_SCENARIO = textwrap.dedent(
    """
    import json, os, sqlite3, subprocess, sys
    disk, register, laptop_file, photo = sys.argv[1:5]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk], check=True)
    seen = {}

    def surveyor(name, *args):
        r = subprocess.run(["surveyor", *args], capture_output=True, text=True)
        seen[name] = {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
        return r

    def fill(leave=0):
        # fill the disk, then give back `leave` bytes
        with open(os.path.join(disk, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\\0" * 65536)
                    f.flush()
            except OSError:
                pass
            if leave:
                f.truncate(max(0, f.tell() - leave))

    def free():
        os.remove(os.path.join(disk, "filler"))

    def count(db, table):
        conn = sqlite3.connect(db)
        try:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            conn.close()

    db = os.path.join(disk, "laptop.db")
    surveyor("init", "init", "--db", db, "--inspector", "甲")
    surveyor("import", "register", "import", register, "--db", db)
    listing = surveyor("list", "list", "--db", db)
    code = next(w for w in listing.stdout.split() if w.startswith("NK-"))
    surveyor("saved", "set", code, "year_built=1984", "--db", db, "--draft")

    fill()  # a save with the disk full, the database already open (its -wal and -shm exist)
    surveyor("full_save", "set", code, "year_built=1990", "inspector_remarks=" + "外墙渗水" * 5000,
             "--db", db, "--draft")
    free()
    surveyor("doctor_after", "doctor", "--db", db)
    surveyor("show_after", "show", code, "--db", db)
    surveyor("save_again", "set", code, "year_built=1990", "--db", db, "--draft")
    fill(leave=200_000)  # room for the database's own writes, not for the 1 MB photo
    surveyor("full_photo", "photo", "add", "--db", db, code, "主立面", photo)
    seen["photo_leftovers"] = [
        name for _, _, names in os.walk(db + ".blobs") for name in names
    ]
    free()

    central = os.path.join(disk, "central.db")
    surveyor("central", "central", "init", central)
    before = count(central, "building")
    fill()  # a merge into a central on a full disk: refused whole
    surveyor("full_merge", "merge", laptop_file, "--into", central)
    free()
    fill(leave=300_000)  # room to open the central (512 KB), not to back it up
    surveyor("full_backup_zh", "merge", laptop_file, "--into", central, "--lang", "zh")
    surveyor("full_backup", "merge", laptop_file, "--into", central)
    free()
    seen["central_buildings_before"] = before
    seen["central_buildings_after_refusal"] = count(central, "building")
    fill(leave=1_000_000)  # room to open it and back it up, not for the merge: rolled back
    surveyor("partial_merge", "merge", laptop_file, "--into", central)
    free()
    seen["central_buildings_after_rollback"] = count(central, "building")
    surveyor("central_doctor", "doctor", "--db", central)
    surveyor("merge_again", "merge", laptop_file, "--into", central)
    seen["central_buildings_after_merge"] = count(central, "building")
    fill()  # printing onto a full disk (a full USB stick): a sentence, no half-written file
    surveyor("full_sheets", "export", "sheets", "--db", laptop_file, "--out",
             os.path.join(disk, "sheets.pdf"), "--lang", "zh")
    surveyor("full_xlsx", "export", "xlsx", "--db", laptop_file, "--out",
             os.path.join(disk, "all.xlsx"))
    surveyor("full_export_db", "export-db", "--db", laptop_file, "--out",
             os.path.join(disk, "handover.db"), "--lang", "zh")
    seen["export_leftovers"] = sorted(
        name for name in os.listdir(disk)
        if not name.startswith(("laptop.db", "central.db", "filler"))
    )
    free()
    seen["code"] = code
    print(json.dumps(seen))
    """
)


def _run_scenario(tmp_path: Path, laptop_file: Path) -> dict[str, Any]:
    disk = tmp_path / "disk"
    disk.mkdir()
    register = tmp_path / "register.csv"
    rows = ["街道,社区,小区名称,楼号,门牌地址"] + [
        f"万兴街道,宜宾里社区,宜宾东里,{i}号楼,南开区宜宾道{i}号" for i in range(1, 41)
    ]
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    photo = tmp_path / "facade.jpg"  # ≈ 1 MB: a whole JPEG of noise (a cut-short one is refused)
    noise = random.Random(7).randbytes(500 * 500 * 3)
    Image.frombytes("RGB", (500, 500), noise).save(photo, "JPEG", quality=100, subsampling=0)
    return run_scenario(
        FULL_DISK_SCENARIO,
        [disk, register, laptop_file, photo],
        why="to give the test a small, really full disk",
    )


def test_a_full_disk_refuses_the_write_in_one_sentence_and_loses_nothing(
    tmp_path: Path, sample_laptop_file: Path
) -> None:
    seen = _run_scenario(tmp_path, sample_laptop_file)
    for name in ("init", "import", "saved", "doctor_after", "save_again", "central"):
        assert seen[name]["rc"] == 0, (name, seen[name]["err"])

    full = seen["full_save"]
    assert full["rc"] == 2
    assert "full" in full["err"] and "free some space" in full["err"]
    assert "Traceback" not in full["err"]
    # What was saved before the disk filled is there; the refused save left nothing behind.
    assert "1984" in seen["show_after"]["out"] and "外墙渗水" not in seen["show_after"]["out"]
    assert "ok" in seen["doctor_after"]["out"]

    # A photo on a full disk: a sentence, and its half-written file removed (it kept the disk
    # full, and every retry left another).
    photo = seen["full_photo"]
    assert photo["rc"] == 2 and "is full: the photo was not stored" in photo["err"], photo
    assert seen["photo_leftovers"] == []

    refused = seen["full_merge"]
    assert refused["rc"] != 0 and "Traceback" not in refused["err"]
    assert "full" in (refused["err"] + refused["out"]) or "space" in refused["err"]
    # The backup before the merge said SQLite's English inside the Chinese sentence.
    zh = seen["full_backup_zh"]["err"].strip()
    assert zh.startswith("错误：无法写入 ") and "before-merge-" in zh, zh
    assert zh.endswith("：磁盘已满；未写入任何内容，请腾出空间后重试"), zh
    assert (
        seen["full_backup"]["err"]
        .strip()
        .endswith(": No space left on device; nothing was written: free some space and try again")
    ), seen["full_backup"]["err"]
    assert seen["central_buildings_after_refusal"] == seen["central_buildings_before"] == 0
    rolled_back = seen["partial_merge"]
    assert rolled_back["rc"] == 2, rolled_back
    assert "is full: nothing of this write was saved" in rolled_back["err"]
    assert seen["central_buildings_after_rollback"] == 0
    assert seen["central_doctor"]["rc"] == 0
    assert seen["merge_again"]["rc"] == 0, seen["merge_again"]["err"]
    assert seen["central_buildings_after_merge"] > 0

    # An export onto a full disk said "cannot access: No space left on device", in English
    # under --lang zh; its half-written file is removed.
    sheets, xlsx = seen["full_sheets"], seen["full_xlsx"]
    assert sheets["rc"] == 2 and xlsx["rc"] == 2, (sheets, xlsx)
    assert "磁盘已满" in sheets["err"] and "space" not in sheets["err"], sheets["err"]
    assert "sheets.pdf" in sheets["err"] and "未写入" in sheets["err"], sheets["err"]
    assert xlsx["err"].startswith("error: cannot write") and "all.xlsx" in xlsx["err"]
    assert "nothing was written: free some space" in xlsx["err"], xlsx["err"]
    assert "Traceback" not in sheets["err"] + xlsx["err"]
    handover = seen["full_export_db"]  # "无法导出到 …：database or disk is full"
    assert handover["rc"] == 2, handover
    assert handover["err"].strip().endswith("磁盘已满；未写入任何内容，请腾出空间后重试")
    assert seen["export_leftovers"] == []


@pytest.fixture
def sample_laptop_file(tmp_path: Path) -> Path:
    """A small inspector database to merge (generated, with answers and change log)."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.sample import generate_sample

    out = tmp_path / "inspector.db"
    generate_sample(out, get_form(), buildings=200, seed=7)
    return out


SYNC_SCENARIO = textwrap.dedent(
    """
    import json, os, shutil, subprocess, sys
    disk, laptop, central, code = sys.argv[1:5]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk], check=True)
    seen = {}

    def surveyor(name, *args):
        r = subprocess.run(["surveyor", *args], capture_output=True, text=True)
        seen[name] = {"rc": r.returncode, "out": r.stdout, "err": r.stderr}

    filler = os.path.join(disk, "filler")
    db = shutil.copy(laptop, disk)
    with open(filler, "wb") as f:  # room to open the laptop, not for what the pull brings
        try:
            while True:
                f.write(bytes(65536))
                f.flush()
        except OSError:
            pass
        f.truncate(max(0, f.tell() - 200_000))
    surveyor("full_sync", "sync", "--db", db, "--central", central)
    surveyor("full_sync_zh", "sync", "--db", db, "--central", central, "--lang", "zh")
    os.remove(filler)
    surveyor("show_after", "show", code, "--db", db)
    surveyor("sync_again", "sync", "--db", db, "--central", central)
    print(json.dumps(seen))
    """
)


def test_a_sync_stopped_by_a_full_laptop_disk_says_its_changes_reached_the_central(
    tmp_path: Path, sample_laptop_file: Path
) -> None:
    """The push went through, then the pull found the laptop's disk full: the sync said only
    "nothing of this write was saved", and inspectors took their work for lost on the central."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.queries import list_buildings
    from surveyor.services.survey import create_building, save_answers
    from surveyor.store.db import init_store
    from surveyor.sync.actions import assign
    from surveyor.sync.merge import merge_files
    from tests.conftest import REGISTER_ROW

    form = get_form()
    central = tmp_path / "central.db"
    store = init_store(central, role="central")
    try:
        merge_files(store, [sample_laptop_file], form)
        page = list_buildings(store, limit=50)  # enough to overflow the 200 KB left
        assign(store, form, "甲", refs=[r.code for r in page.rows], author="supervisor")
    finally:
        store.close()
    laptop = tmp_path / "laptop.db"
    store = init_store(laptop, role="laptop", inspector="甲")
    try:
        code = create_building(store, form, REGISTER_ROW, author="甲").code
        save_answers(store, form, code, {"year_built": "1984"}, author="甲")
    finally:
        store.close()
    disk = tmp_path / "disk"
    disk.mkdir()
    seen = run_scenario(
        SYNC_SCENARIO, [disk, laptop, central, Path(code)], why="to give the test a full disk"
    )
    full = seen["full_sync"]
    assert full["rc"] == 2 and "Traceback" not in full["err"], full
    said = full["err"].strip()
    assert said == (
        f"error: sent 2 change(s) to the central {central}, where they are saved; but the disk "
        f"holding {disk / 'laptop.db'} is full, so nothing was received from the central and "
        "nothing changed on the laptop: free some space and sync again"
    ), said
    # the rerun found the central holding the changes: nothing left to send, and it says so
    said_zh = seen["full_sync_zh"]["err"].strip()
    assert said_zh == (
        f"错误：中心库 {central} 已有这台笔记本的全部改动；但 {disk / 'laptop.db'} 所在的磁盘已满，"
        "因此未从中心库接收任何内容，笔记本上也没有任何改动：请腾出空间后再同步一次"
    ), said_zh
    assert seen["show_after"]["rc"] == 0 and "1984" in seen["show_after"]["out"]
    again = seen["sync_again"]
    assert again["rc"] == 0 and again["out"].startswith("pushed 0 change(s)"), again
