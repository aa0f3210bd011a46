"""Input a broken spreadsheet or a mistaken path brings: control characters, odd line
separators, huge cells, named pipes. Each is refused in a sentence or cleaned, never a hang or
an internal error, and never a value PostgreSQL cannot store."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from surveyor.services.survey import get_building
from surveyor.store.db import open_store
from tests.test_cli import sv

HEADER = "街道,社区,小区名称,楼号,门牌地址\n"


def _laptop(tmp_path: Path, register: str) -> tuple[Path, dict[str, str]]:
    db = tmp_path / "l.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    csv_file = tmp_path / "reg.csv"
    csv_file.write_text(HEADER + register, encoding="utf-8")
    done = sv("register", "import", "--db", str(db), str(csv_file))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        rows = [json.loads(a) for (a,) in conn.execute("SELECT answers FROM building")]
    return db, {row["building_no"]: row["address"] for row in rows}


def test_control_characters_never_reach_the_record(tmp_path: Path) -> None:
    db, addresses = _laptop(
        tmp_path,
        "万兴街道,万兴社区,小区C,1号楼,南开区\x00二号\n万兴街道,万兴社区,小区C,2号楼,南开\x1b[2J区\n",
    )
    assert addresses == {"1号楼": "南开区二号", "2号楼": "南开[2J区"}
    with sqlite3.connect(db) as conn:
        (code,) = conn.execute("SELECT code FROM building LIMIT 1").fetchone()
    said = sv("set", "--db", str(db), code, "inspector_remarks=外墙\x07渗水\r\n二层")
    assert said.returncode == 0, said.stderr
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["inspector_remarks"] == "外墙渗水\n二层"


def test_invisible_format_characters_never_reach_the_record(tmp_path: Path) -> None:
    """A zero-width space copied from a web page made "1号楼\u200b" a second 1号楼 that looks
    the same: imported beside the first, and never "already present"."""
    db, addresses = _laptop(
        tmp_path,
        "万兴街道,万兴社区,小区C,1号楼,南开区\u200d二\u00ad号\u2060\n"
        "万兴街道,万兴社区,小区C,2号楼\ufeff,\u202e南开\u200c区\u200e\n",
    )
    assert addresses == {"1号楼": "南开区二号", "2号楼": "南开区"}
    again = tmp_path / "again.csv"
    again.write_text(HEADER + "万兴街道,万兴社区,小区C\u200b,1号楼\u200b,南开区二号\n", "utf-8")
    done = sv("register", "import", "--db", str(db), str(again))
    assert done.returncode == 0, done.stderr
    assert "imported 0 building(s); 1 already present" in done.stdout
    with sqlite3.connect(db) as conn:
        (code,) = conn.execute("SELECT code FROM building LIMIT 1").fetchone()
    said = sv("set", "--db", str(db), code, "inspector_remarks=外墙\u200b渗水\u2063")
    assert said.returncode == 0, said.stderr
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["inspector_remarks"] == "外墙渗水"


def test_every_format_character_is_cleaned() -> None:
    """The cleaning's list of format characters (Cf) against this Python's Unicode tables."""
    import sys
    import unicodedata

    from surveyor.text import normalize_free_text, normalize_text, without_controls

    cf = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    assert len(cf) > 150
    assert without_controls("1" + cf + "号楼") == "1号楼"
    assert normalize_text(cf + "１号楼" + cf) == "1号楼"
    assert normalize_free_text("南开区，" + cf + "二号") == "南开区，二号"
    # What stays: line breaks and tabs of a remark, emoji variation selectors (Mn, not Cf).
    assert without_controls("甲\n乙\t丙\u2764\ufe0f") == "甲\n乙\t丙\u2764\ufe0f"


def test_a_line_separator_inside_a_cell_does_not_split_the_row(tmp_path: Path) -> None:
    _, addresses = _laptop(tmp_path, "万兴街道,万兴社区,小区C,1号楼,南开区\u2028二号\n")
    assert addresses == {"1号楼": "南开区\u2028二号"}


def test_a_huge_cell_is_a_sentence_naming_its_row(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    sv("init", "--db", str(db), "--inspector", "王芳")
    csv_file = tmp_path / "huge.csv"
    csv_file.write_text(HEADER + "万兴街道,万兴社区,小区C,1号楼," + "长" * 200_000 + "\n")
    done = sv("register", "import", "--db", str(db), str(csv_file))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {csv_file}:row 2: cannot read the row (field larger")


def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    pipe = tmp_path / "fifo.db"
    os.mkfifo(pipe)
    central = tmp_path / "c.db"
    assert sv("central", "init", str(central)).returncode == 0
    said = f"{pipe} is not a database file (it is a folder, a pipe or a device)"
    merged = sv("merge", str(pipe), "--into", str(central))  # sv times out after 120 s
    assert merged.returncode == 2 and said in merged.stdout + merged.stderr
    for args in (("doctor", "--db", str(pipe)), ("show", "--db", str(pipe), "NK-00000-00000")):
        done = sv(*args)
        assert done.returncode == 2 and said in done.stderr, args


def _laptop_with_legacy_nul(tmp_path: Path) -> Path:
    """A laptop whose log holds a NUL, as versions before the control-character fix wrote."""
    db, _ = _laptop(tmp_path, "万兴街道,万兴社区,小区C,1号楼,南开区二号\n")
    with sqlite3.connect(db) as conn:
        for table, column in (("change", "fields"), ("building", "answers")):
            conn.execute(
                f"UPDATE {table} SET {column} = replace({column}, '南开区', ?)",
                (json.dumps("南开区\x00", ensure_ascii=False)[1:-1],),
            )
        conn.execute("UPDATE change SET author = ?", ("王\x00芳",))
        (held,) = conn.execute("SELECT fields FROM change").fetchone()
    assert "\\u0000" in held  # the JSON escape PostgreSQL's jsonb refuses
    return db


@pytest.mark.parametrize("way", ["merge", "sync"])
def test_a_nul_already_in_a_laptop_log_is_dropped_by_both_centrals(
    tmp_path: Path, backend: str, way: str
) -> None:
    """PostgreSQL cannot store a NUL: such a laptop could never sync again. A SQLite central
    drops it too, so the two stay equal."""
    db = _laptop_with_legacy_nul(tmp_path)
    assert sv("central", "init", backend).returncode == 0
    if way == "merge":
        done = sv("merge", str(db), "--into", backend)
    else:
        done = sv("sync", "--db", str(db), "--central", backend)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        (code,) = conn.execute("SELECT code FROM building").fetchone()
    central = open_store(backend, readonly=True)
    try:
        building = get_building(central, code)
        assert building.answers["address"] == "南开区二号"
        assert building.updated_by == "王芳"
    finally:
        central.close()


def test_a_location_is_exactly_two_numbers(tmp_path: Path) -> None:
    """ "39 07 30 117 10 20" (degrees, minutes, seconds) was saved as 39, 7 (a point in
    Shanxi), the rest dropped without a word; so was "39.1 117.2 5 6 7"."""
    db, _ = _laptop(tmp_path, "万兴街道,万兴社区,小区C,1号楼,南开区一号\n")
    with sqlite3.connect(db) as conn:
        (code,) = conn.execute("SELECT code FROM building LIMIT 1").fetchone()
    for typed in ("39 07 30 117 10 20", "39.1 117.2 5 6 7", "39.1"):
        refused = sv("set", "--db", str(db), code, f"location={typed}", "--lang", "zh")
        assert refused.returncode == 2, (typed, refused.stdout)
        assert "位置应为两个数「纬度,经度」" in refused.stderr, refused.stderr
    assert (
        "location" not in json.loads(sv("show", "--db", str(db), code, "--json").stdout)["answers"]
    )
    assert sv("set", "--db", str(db), code, "location=39.12， 117.15").returncode == 0
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["location"] == {"lat": 39.12, "lon": 117.15}
