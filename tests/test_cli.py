"""The real `surveyor` command, as automation and the tests drive it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from surveyor.forms.catalog import DEFAULT_FORM
from surveyor.forms.model import load_form
from surveyor.services.survey import create_building
from surveyor.store.db import open_store
from tests.conftest import REGISTER_ROW, mint_codes


def sv(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True, env=env, timeout=120)


def set_answers(db: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``surveyor set --db DB CODE ARGS…``."""
    return sv("set", "--db", str(db), code, *args)


def _new_db(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "s.db"
    run = sv("init", "--db", str(db), "--inspector", "王芳")
    assert run.returncode == 0, run.stderr
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    return db, code


def test_init_set_show_roundtrip(tmp_path: Path) -> None:
    db, code = _new_db(tmp_path)
    run = set_answers(
        db,
        code,
        "year_built=1984",
        "floors_above=６",
        "structure_type=brick_concrete",
        "prior_programmes=old_building_upgrade,safety_upgrade",
    )
    assert run.returncode == 0, run.stderr
    assert f"{code}: saved (draft" in run.stdout
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["year_built"] == 1984
    assert shown["answers"]["floors_above"] == 6
    assert shown["answers"]["prior_programmes"] == ["old_building_upgrade", "safety_upgrade"]
    assert shown["calculated"]["era_bin"] == "y1981_1990"
    assert shown["status"] == "draft"
    assert "info_sources" in shown["missing"]
    # The survey started with the day and the inspector (the form's defaults).
    assert shown["answers"]["survey_date"] == date.today().isoformat()
    assert shown["answers"]["inspector_name"] == "王芳"
    text = sv("show", "--db", str(db), code, "--lang", "zh")
    assert "砖混" in text.stdout and "建成年份" in text.stdout


def test_a_mistyped_field_gets_the_same_hint_from_set_and_where(tmp_path: Path) -> None:
    """set gave no hint for 建成年分 (it looked among ids only) while --where suggested
    建成年份; and nosuch was offered 'info_sources'."""
    db, code = _new_db(tmp_path)
    assert set_answers(db, code, "建成年份=1990").returncode == 0  # a label names a field
    out = str(tmp_path / "out.csv")
    for lang in ("en", "zh"):
        said = set_answers(db, code, "建成年分=1990", "--lang", lang)
        where = sv(
            "export",
            "csv",
            "--db",
            str(db),
            "--out",
            out,
            "--where",
            "建成年分=1990",
            "--lang",
            lang,
        )
        assert said.returncode == where.returncode == 2
        if lang == "zh":
            hint = "表单中没有字段「建成年分」；是不是「建成年份」？"
            assert said.stderr.strip() == f"错误：{hint}"
            assert where.stderr.strip() == f"错误：--where：{hint}"
        else:
            hint = "the form has no field '建成年分'; did you mean '建成年份'?"
            assert said.stderr.strip() == f"error: {hint}"
            assert where.stderr.strip() == f"error: --where: {hint}"
    nosuch = set_answers(db, code, "nosuch=1")
    assert nosuch.stderr.strip() == "error: the form has no field 'nosuch'"
    floors = set_answers(db, code, "floors=1")
    assert floors.stderr.strip() == (
        "error: the form has no field 'floors'; did you mean 'floors_above' or 'floors_below'?"
    )
    assert not (tmp_path / "out.csv").exists()


def test_refused_value_is_a_sentence_and_exit_2(tmp_path: Path) -> None:
    db, code = _new_db(tmp_path)
    run = set_answers(db, code, "floors_above=99")
    assert run.returncode == 2
    assert run.stderr.startswith("error: refused: floors_above:")
    assert "Traceback" not in run.stderr
    # Under --lang zh the error is said in Chinese (it was English whatever --lang said).
    run = set_answers(db, code, "floors_above=99", "--lang", "zh")
    assert run.returncode == 2
    assert run.stderr.startswith("错误：未保存：floors_above：")
    unknown = set_answers(db, code, "remarks=x", "--lang=zh")
    assert unknown.stderr.startswith(
        "错误：表单中没有字段「remarks」；是不是「inspector_remarks」？"
    )
    draft = set_answers(db, code, "floors_above=99", "--draft")
    assert draft.returncode == 0
    assert "! floors_above:" in draft.stderr


def test_status_complete_is_refused_with_the_list(tmp_path: Path) -> None:
    db, code = _new_db(tmp_path)
    run = sv("status", "--db", str(db), code, "complete")
    assert run.returncode == 2
    assert "cannot mark complete; unanswered: Survey date (survey_date)" in run.stderr
    # Approving says why in one line (a laptop approves nothing), not with what is missing.
    run = sv("status", "--db", str(db), code, "approved")
    assert run.returncode == 2
    assert "this laptop cannot approve" in run.stderr
    assert "unanswered" not in run.stderr


def test_export_db_and_doctor(tmp_path: Path) -> None:
    db, code = _new_db(tmp_path)
    assert set_answers(db, code, "year_built=1990").returncode == 0
    out = tmp_path / "export.db"
    run = sv("export-db", "--db", str(db), "--out", str(out))
    assert run.returncode == 0, run.stderr
    shown = json.loads(sv("show", "--db", str(out), code, "--json").stdout)
    assert shown["answers"]["year_built"] == 1990  # the WAL's latest commit is in the export
    again = sv("export-db", "--db", str(db), "--out", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    doc = sv("doctor", "--db", str(out))
    assert doc.returncode == 0 and doc.stdout.strip().endswith("ok")


def test_doctor_finds_tampering(tmp_path: Path) -> None:
    import sqlite3

    db, code = _new_db(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE building SET answers = json_set(answers, '$.address', 'forged')")
    doc = sv("doctor", "--db", str(db))
    assert doc.returncode == 2
    assert f"{code}: field 'address' shows 'forged'" in doc.stderr


def test_default_db_comes_from_env(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, SURVEYOR_DB=str(tmp_path / "env.db"))
    assert sv("init", "--inspector", "甲", env=env).returncode == 0
    assert (tmp_path / "env.db").exists()


def test_bad_files_are_refused_cleanly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all")
    run = sv("show", "--db", str(junk), "NK-00000-00000")
    assert run.returncode == 2 and "is not a SQLite database" in run.stderr
    again = sv("init", "--db", str(junk), "--inspector", "x")
    assert again.returncode == 2 and "already exists" in again.stderr
    nofolder = sv("init", "--db", str(tmp_path / "no" / "x.db"), "--inspector", "x")
    assert nofolder.returncode == 2 and "does not exist" in nofolder.stderr


def test_db_before_the_command_is_the_database_it_works_on(tmp_path: Path) -> None:
    """``surveyor --db X set …`` once wrote to $SURVEYOR_DB while saying "saved"."""
    db, code = _new_db(tmp_path)
    other = tmp_path / "other.db"
    assert sv("init", "--db", str(other), "--inspector", "李明").returncode == 0
    env = {**os.environ, "SURVEYOR_DB": str(other)}
    run = sv("--db", str(db), "set", code, "year_built=1984", env=env)
    assert run.returncode == 0, run.stderr
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["year_built"] == 1984
    assert "0 of 0" in sv("list", "--db", str(other)).stdout
    # A database given after the command still wins; nested commands get it too.
    assert code in sv("--db", str(other), "list", "--db", str(db)).stdout
    out = tmp_path / "x.csv"
    assert sv("--db", str(db), "export", "csv", "--out", str(out)).returncode == 0
    assert code in out.read_text(encoding="utf-8-sig")


def test_list_search_finds_a_number_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``list --search "宜宾 4"`` listed 14号楼 and a building whose code holds a 4 beside
    4号楼: a number is the 楼号 or a whole number of the 门牌, never a piece of a code."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    mint_codes(monkeypatch, "NK-AAAAA-AAAAA", "NK-BBBBB-BBBBB", "NK-WK4FA-B13WE")
    store = open_store(db)
    form = load_form(DEFAULT_FORM)
    four, fourteen, coded = (
        create_building(store, form, REGISTER_ROW | row, author="王芳").code
        for row in (
            {"building_no": "4号楼", "address": "南开区宜宾道30号"},
            {"building_no": "14号楼", "address": "南开区宜宾道31号"},
            {"building_no": "3号楼", "address": "南开区宜宾道33号"},
        )
    )
    store.close()
    assert coded == "NK-WK4FA-B13WE"
    listed = sv("list", "--db", str(db), "--search", "宜宾 4")
    assert listed.returncode == 0, listed.stderr
    assert four in listed.stdout and fourteen not in listed.stdout
    assert coded not in listed.stdout and "1 of 1" in listed.stdout
    assert coded in sv("list", "--db", str(db), "--search", "wk4fa").stdout


def test_db_before_a_command_that_does_not_use_it_is_refused(tmp_path: Path) -> None:
    db, _ = _new_db(tmp_path)
    central = tmp_path / "central.db"
    run = sv("--db", str(db), "merge", str(db), "--into", str(central))
    assert run.returncode == 2
    assert "'surveyor merge' does not use --db" in run.stderr
    assert not central.exists()
    run = sv("--db", str(db), "conflicts", "list", "--central", str(central))
    assert run.returncode == 2 and "does not use --db" in run.stderr


def test_a_future_year_is_refused_before_the_survey_date_is_set(tmp_path: Path) -> None:
    """The bound was the survey year, which is empty until the survey date is answered."""
    db, code = _new_db(tmp_path)
    this_year = date.today().year
    for bad in ("3000", str(this_year + 1)):
        run = set_answers(db, code, f"year_built={bad}")
        assert run.returncode == 2, bad
        assert "year_built: The year built must be between 1900" in run.stderr
    assert set_answers(db, code, f"year_built={this_year}").returncode == 0
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["year_built"] == this_year
    # The save that took it started the survey, dated today (the form's default).
    assert shown["calculated"]["survey_year"] == this_year


def test_list_filters_are_checked_and_read_in_the_chosen_language(tmp_path: Path) -> None:
    """An unknown 街道 or status listed nothing (as if the 街道 were empty); --limit -1 listed
    everything."""
    db, code = _new_db(tmp_path)
    street = REGISTER_ROW["subdistrict"]
    label_zh = load_form(DEFAULT_FORM).field("subdistrict").choice_label(street, "zh")
    for args, says in (
        (("--subdistrict", "nowhere"), "'nowhere' is not an option of subdistrict"),
        (("--status", "finished"), "unknown status 'finished'"),
        (("--limit", "-1"), "greater than or equal to 1"),
    ):
        refused = sv("list", "--db", str(db), *args)
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    listed = sv("list", "--db", str(db), "--subdistrict", label_zh, "--lang", "zh")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(code))
    assert label_zh in row and "未开始" in row
    assert listed.stdout.rstrip().endswith("显示 1 栋，共 1 栋")


def test_set_takes_labels_dates_and_unknown_as_people_write_them(tmp_path: Path) -> None:
    """建成年份=… (a label), 砖混（砌体） (an option label), 2025/9/1 and 不详 were refused."""
    db, code = _new_db(tmp_path)
    run = set_answers(
        db,
        code,
        "建成年份=1984",
        "structure_type=砖混（砌体）",
        "Previous renovation programmes=old_building_upgrade,老旧小区及远年住房改造",
        "survey_date=2025/9/1",
        "last_renovation_year=不详",
        "floors_above=6层",  # the unit beside the box, typed out of habit
        "gross_floor_area=２４００平米",
    )
    assert run.returncode == 0, run.stderr
    answers = json.loads(sv("show", "--db", str(db), code, "--json").stdout)["answers"]
    assert answers["year_built"] == 1984
    assert answers["structure_type"] == "brick_concrete"
    assert answers["prior_programmes"] == ["old_building_upgrade", "safety_upgrade"]
    assert answers["survey_date"] == "2025-09-01"
    assert answers["last_renovation_year"] == "unknown"
    assert (answers["floors_above"], answers["gross_floor_area"]) == (6, 2400)
    wrong = set_answers(db, code, "survey_date=2025/9")
    assert wrong.returncode == 2 and "YYYY-MM-DD" in wrong.stderr
    no_such_day = set_answers(db, code, "survey_date=2025/13/1")  # written right
    assert "there is no such day as 2025/13/1" in no_such_day.stderr
    assert "YYYY-MM-DD" not in no_such_day.stderr
    not_a_unit = set_answers(db, code, "floors_above=6米")
    assert not_a_unit.returncode == 2 and "whole number" in not_a_unit.stderr


def test_exports_never_replace_a_file_unless_told(tmp_path: Path) -> None:
    """export wrote over last week's file silently; export-db --force copied a database onto
    itself (parting it from its -wal file)."""
    db, _code = _new_db(tmp_path)
    out = tmp_path / "data.csv"
    out.write_text("last week's\n", encoding="utf-8")
    refused = sv("export", "csv", "--db", str(db), "--out", str(out))
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert out.read_text(encoding="utf-8") == "last week's\n"
    replaced = sv("export", "csv", "--db", str(db), "--out", str(out), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert out.read_text(encoding="utf-8") != "last week's\n"
    before = db.read_bytes()
    onto_itself = sv("export-db", "--db", str(db), "--out", str(db), "--force")
    assert onto_itself.returncode == 2 and "is the database being read" in onto_itself.stderr
    assert db.read_bytes() == before
    assert "--split" not in sv("export", "csv", "--help").stdout


def test_set_on_an_approved_building_says_the_approval_is_withdrawn(tmp_path: Path) -> None:
    """An edit takes an approved record back to complete; 'set' said only 'saved (complete)',
    so the supervisor's approval vanished without a word."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.browse import browse_buildings
    from surveyor.services.sample import generate_sample

    db = tmp_path / "sample.db"
    generate_sample(db, get_form(), buildings=40, seed=2024)
    store = open_store(db)
    try:
        approved = browse_buildings(store, status="approved", limit=1).rows[0]
    finally:
        store.close()
    run = set_answers(db, approved.code, "inspector_remarks=复查时补充", "--lang", "zh")
    assert run.returncode == 0, run.stderr
    assert f"{approved.code}：已保存（已完成" in run.stdout
    # On a laptop the supervisor approves it again, on the central: it said to run
    # 'surveyor status CODE approved', and the laptop approved its own edit.
    assert f"审核已撤销：{approved.code} 已改动，需主管在中心库上重新审核" in run.stdout
    assert "surveyor status" not in run.stdout
    approve = sv("status", "--db", str(db), approved.code, "approved", "--lang", "zh")
    assert approve.returncode == 2 and "这台笔记本不能审核" in approve.stderr, approve.stderr
    assert "Traceback" not in approve.stderr
    approve_en = sv("status", "--db", str(db), approved.code, "approved")
    assert "approving is the supervisor's, on the central" in approve_en.stderr
    again = set_answers(db, approved.code, "inspector_remarks=复查时再补充")
    assert again.returncode == 0, again.stderr
    assert "saved (complete" in again.stdout and "withdrawn" not in again.stdout
    cleared = set_answers(db, approved.code, "year_built=")  # a required answer cleared
    assert "saved (draft" in cleared.stdout
    assert "back to draft: a required answer is missing" in cleared.stdout


def test_photo_add_and_remove(tmp_path: Path) -> None:
    """A photo attached by mistake could not be taken off, by the app or the command line."""
    from PIL import Image

    db, code = _new_db(tmp_path)
    first, second = tmp_path / "a.jpg", tmp_path / "b.jpg"
    Image.new("RGB", (32, 24), (200, 40, 40)).save(first, "JPEG")
    Image.new("RGB", (32, 24), (40, 40, 200)).save(second, "JPEG")
    for photo, caption in ((first, "南立面"), (second, "屋面")):
        run = sv(
            "photo", "add", "--db", str(db), code, "其他立面/屋面", str(photo), "--caption", caption
        )
        assert run.returncode == 0, run.stderr
        assert f"{code}: saved (draft" in run.stdout
    shown = sv("show", "--db", str(db), code)
    assert "1. " in shown.stdout and "南立面" in shown.stdout and "2. " in shown.stdout

    run = sv("photo", "remove", "--db", str(db), code, "photo_other", "1")
    assert run.returncode == 0, run.stderr
    photos = json.loads(sv("show", "--db", str(db), code, "--json").stdout)["answers"][
        "photo_other"
    ]
    assert [p["caption"] for p in photos] == ["屋面"]

    missing = sv("photo", "remove", "--db", str(db), code, "photo_other", "2", "--lang", "zh")
    assert missing.returncode == 2
    assert f"{code} 的其他立面/屋面中没有照片「2」（1. " in missing.stderr
    start = photos[0]["sha256"][:8].upper()  # a hash start as typed, in any case
    by_hash = sv("photo", "remove", "--db", str(db), code, "photo_other", start)
    assert by_hash.returncode == 0, by_hash.stderr
    answers = json.loads(sv("show", "--db", str(db), code, "--json").stdout)["answers"]
    assert "photo_other" not in answers  # the last photo off: no answer, not an empty list
    # A hash start that is all digits is not taken for a photo number that does not exist.
    digits = tmp_path / "digits.jpg"
    for shade in range(256):
        Image.new("RGB", (8, 8), (shade, 0, 0)).save(digits, "JPEG")
        sha = hashlib.sha256(digits.read_bytes()).hexdigest()
        if sha[:5].isdigit():
            break
    assert sv("photo", "add", "--db", str(db), code, "photo_other", str(digits)).returncode == 0
    numeric = sv("photo", "remove", "--db", str(db), code, "photo_other", sha[:5])
    assert numeric.returncode == 0, numeric.stderr
    not_photo = sv("photo", "remove", "--db", str(db), code, "year_built", "1")
    assert not_photo.returncode == 2 and "'year_built' is not a photo field" in not_photo.stderr


def test_set_and_show_say_the_forms_warnings(tmp_path: Path) -> None:
    """12 dwellings in 180 m² saved with only 已保存: the app warned that 户均建筑面积 was
    outside 25–250 m², the command line said nothing, in ``set`` or in ``show``. A warning
    is said, as a warning: the answers are saved and the exit status is 0."""
    db, code = _new_db(tmp_path)
    said = sv(
        "set", "--db", str(db), code, "household_count=12", "gross_floor_area=180",
        "floors_above=1", "entrance_count=1", "--lang", "zh",
    )  # fmt: skip
    assert said.returncode == 0, said.stderr
    assert "已保存" in said.stdout
    assert "  注意：" in said.stdout and "户均建筑面积" in said.stdout, said.stdout
    assert "!" not in said.stderr  # not an error
    shown = sv("show", "--db", str(db), code, "--lang", "zh")
    assert "注意：" in shown.stdout and "户均建筑面积" in shown.stdout, shown.stdout
    as_json = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert "gross_floor_area" in as_json["warnings"], as_json["warnings"]


def test_photo_add_says_a_mistyped_path_is_not_found(tmp_path: Path) -> None:
    """A mistyped path said 「…不是文件」 ("is not a file"), as if the file were of the
    wrong kind; a folder is still "not a file"."""
    db, code = _new_db(tmp_path)
    missing = tmp_path / "facde.jpg"
    said = sv("photo", "add", "--db", str(db), code, "photo_other", str(missing), "--lang", "zh")
    assert said.returncode != 0
    assert f"找不到 {missing}" in said.stderr and "不是文件" not in said.stderr, said.stderr
    said = sv("photo", "add", "--db", str(db), code, "photo_other", str(missing))
    assert f"{missing} not found" in said.stderr, said.stderr
    folder = sv("photo", "add", "--db", str(db), code, "photo_other", str(tmp_path))
    assert folder.returncode != 0 and f"{tmp_path} is not a file" in folder.stderr


def test_tables_print_typed_text_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    """An address with brackets was read as markup: 'Flat 3[/a]' stopped the command with an
    internal error, '[b]' vanished and ':smile:' became an emoji."""
    from surveyor.cli.options import print_table

    print_table(["地址", "n"], [["Flat 3[/a] [b]x :smile:", 1], ["南开区宜宾道12号", 22]])
    out = capsys.readouterr().out
    assert "Flat 3[/a] [b]x :smile:" in out
    from rich.cells import cell_len

    widths = {cell_len(line.rstrip()) for line in out.splitlines()[1:]}
    assert len(widths) == 1  # the number column ends at one cell for Chinese and Latin rows


def test_surveyor_lang_sets_the_language_of_every_command(tmp_path: Path) -> None:
    """A supervisor who works in Chinese sets $SURVEYOR_LANG once: exports, the central's
    commands and every error then speak Chinese; ``--lang`` still wins."""
    db, _ = _new_db(tmp_path)
    zh = {**os.environ, "SURVEYOR_LANG": "zh"}
    sheets = sv("export", "sheets", "--db", str(db), "--out", str(tmp_path / "s.pdf"), env=zh)
    assert sheets.returncode == 0, sheets.stderr
    assert sheets.stdout.strip() == f"已写出 {tmp_path / 's.pdf'}：改造需求单 PDF，1 栋楼，1 页"
    table = sv("export", "csv", "--db", str(db), "--out", str(tmp_path / "t.csv"), "--lang", "en")
    assert table.stdout.startswith(f"wrote {tmp_path / 't.csv'}: Data table (CSV), 1 building(s)")
    labels = ("export", "labels", "--db", str(db), "--out", str(tmp_path / "l.pdf"))
    none = sv(*labels, "--where", "街道=学府街道", env=zh)
    assert none.returncode == 2 and "错误：没有楼栋符合所选条件" in none.stderr
    assert not (tmp_path / "l.pdf").exists()
    central = tmp_path / "central.db"
    made = sv("central", "init", str(central), env=zh)
    assert made.stdout.startswith(f"已新建中心库 {central}（站点 ")
    wrong = sv(
        "assign", "--central", str(db), "--inspector", "王芳", "--where", "街道=万兴街道", env=zh
    )
    assert wrong.stderr.startswith(f"错误：{db} 是普查员笔记本的数据库，不是中心库")
    where = sv("export", "csv", "--db", str(db), "--out", "x.csv", "--where", "地上层数=六", env=zh)
    assert "错误：--where：" in where.stderr and "应为整数" in where.stderr
    english = sv("assign", "--central", str(db), "--inspector", "王芳", "--lang", "en", env=zh)
    assert english.stderr.startswith("error: choose the buildings with either --where")
    unknown = sv("list", "--db", str(db), env={**os.environ, "SURVEYOR_LANG": "fr"})
    assert unknown.returncode == 2 and "unknown language 'fr'" in unknown.stderr


def test_db_given_a_url_says_a_central_is_given_with_central(tmp_path: Path) -> None:
    """'--db postgresql://…' was read as the path 'postgresql:/…' and 'surveyor init --db' was
    suggested with it."""
    url = "postgresql://inspector:secret@db.example/census"
    for args in (("doctor", "--db", url), ("show", "NK-AAAAA-AAAAA", "--db", url)):
        run = sv(*args)
        assert run.returncode == 2
        assert "--db takes a database file, not a URL" in run.stderr
        assert "--central" in run.stderr
        assert "postgresql:/" not in run.stderr.replace("postgresql://…", "")
        assert "secret" not in run.stderr and "Traceback" not in run.stderr
    zh = sv("doctor", "--db", url, env=os.environ | {"SURVEYOR_LANG": "zh"})
    assert "--db 只接受数据库文件，不接受网址" in zh.stderr


def test_a_url_in_surveyor_db_or_sync_db_is_refused_too(tmp_path: Path) -> None:
    """Through $SURVEYOR_DB, or `sync --db`, the URL got past the check: the password was
    printed in "does not exist", and `init` made folders named after the URL (password and
    all) and said "created"."""
    url = "postgresql://alice:S3cretPw@/central?host=/tmp/sock"
    central = tmp_path / "central.db"
    assert sv("central", "init", str(central)).returncode == 0
    runs = {
        "init": sv(
            "init", "--inspector", "x", env=os.environ | {"SURVEYOR_DB": url, "HOME": str(tmp_path)}
        ),
        "list": sv("list", env=os.environ | {"SURVEYOR_DB": url}),
        "sync": sv("sync", "--db", url, "--central", str(central)),
        "rekey": sv("rekey", "--db", url, "--central", str(central)),
    }
    for name, run in runs.items():
        assert run.returncode == 2, (name, run.stderr)
        assert "takes a database file, not a URL" in run.stderr, (name, run.stderr)
        assert "S3cretPw" not in run.stderr and "Traceback" not in run.stderr, name
    assert runs["list"].stderr.startswith("error: $SURVEYOR_DB takes a database file")
    assert not any(tmp_path.rglob("postgresql*"))  # no folder named after the URL
    assert not Path("postgresql:").exists()


def test_doctor_checks_a_central_and_refuses_a_laptop_there(tmp_path: Path) -> None:
    db, _code = _new_db(tmp_path)
    central = tmp_path / "central.db"
    assert sv("central", "init", str(central)).returncode == 0
    assert sv("merge", str(db), "--into", str(central)).returncode == 0
    doc = sv("doctor", "--central", str(central))
    assert doc.returncode == 0, doc.stderr
    assert "buildings: 1" in doc.stdout and doc.stdout.strip().endswith("ok")
    laptop = sv("doctor", "--central", str(db))
    assert laptop.returncode == 2 and "is an inspector's laptop database" in laptop.stderr
    both = sv("doctor", "--central", str(central), "--db", str(db))
    assert both.returncode == 2 and "either --db or --central" in both.stderr


def test_list_subdistrict_names_the_option_typed_and_takes_the_short_name(
    tmp_path: Path,
) -> None:
    """'list --subdistrict 火星' blamed a --where never typed; 万兴 (as a register writes
    万兴街道) was refused although register import takes it."""
    db, code = _new_db(tmp_path)
    refused = sv("list", "--db", str(db), "--subdistrict", "火星")
    assert refused.returncode == 2
    assert "error: --subdistrict: '火星' is not an option of subdistrict" in refused.stderr
    assert "--where" not in refused.stderr
    short = sv("list", "--db", str(db), "--subdistrict", "万兴")
    assert short.returncode == 0, short.stderr
    assert code in short.stdout
    out = tmp_path / "w.csv"
    where = sv("export", "csv", "--db", str(db), "--where", "街道=万兴", "--out", str(out))
    assert where.returncode == 0, where.stderr


def test_an_output_that_is_a_folder_is_said_to_be_one(tmp_path: Path) -> None:
    """'sample --out adir' said 'pass --force to replace it', then 'cannot access adir: Is a
    directory'."""
    db, _code = _new_db(tmp_path)
    folder = tmp_path / "adir"
    folder.mkdir()
    for args in (
        ("sample", "--out", str(folder), "--buildings", "5"),
        ("sample", "--out", str(folder), "--buildings", "5", "--force"),
        ("export-db", "--db", str(db), "--out", str(folder)),
        ("export-db", "--db", str(db), "--out", str(folder), "--force"),
    ):
        run = sv(*args)
        assert run.returncode == 2
        assert f"error: {folder} is a folder; give the path of the file to write" in run.stderr
    assert folder.is_dir() and not list(folder.iterdir())


def test_a_change_made_on_a_central_records_the_supervisor_or_by(tmp_path: Path) -> None:
    """'set' and 'register import' run on a central recorded the author as 'unknown', then as
    the role word 'supervisor' (the review said "最后保存：supervisor"), then as the login
    name ('root', in the log for good): now a person's name, --by, else the name in the
    settings file, else the write is refused, saying how to give one."""
    import sqlite3

    central = tmp_path / "central.db"
    assert sv("central", "init", str(central)).returncode == 0
    register = tmp_path / "register.csv"
    register.write_text(
        "街道,社区,小区名称,楼号,门牌地址\n万兴街道,宜宾里社区,宜宾东里,1号楼,南开区宜宾道1号\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text('inspector = "王主管"\n', encoding="utf-8")
    login = {"LOGNAME": "zhanglei", "USER": "zhanglei", "LNAME": "zhanglei", "USERNAME": ""}
    configured = {**os.environ, **login, "SURVEYOR_CONFIG": str(config)}
    unconfigured = {**os.environ, **login, "SURVEYOR_CONFIG": str(tmp_path / "none.toml")}
    imported = sv("register", "import", "--db", str(central), str(register), "--by", "李督导")
    assert imported.returncode == 0, imported.stderr
    conn = sqlite3.connect(central)
    [(code,)] = conn.execute("SELECT code FROM building").fetchall()
    conn.close()
    assert sv("set", "--db", str(central), code, "year_built=1984", env=configured).returncode == 0
    nameless = sv("set", "--db", str(central), code, "year_built=1985", env=unconfigured)
    assert nameless.returncode == 2 and "--by NAME" in nameless.stderr
    assert str(tmp_path / "none.toml") in nameless.stderr  # where to set it once
    codes = tmp_path / "codes.txt"
    codes.write_text(f"{code}\n", encoding="utf-8")
    assign = ("assign", "--central", str(central), "--buildings", str(codes), "--new-inspector")
    assert sv(*assign, "--inspector", "王芳", env=configured).returncode == 0
    conn = sqlite3.connect(central)
    authors = [a for (a,) in conn.execute("SELECT author FROM change ORDER BY seq")]
    conn.close()
    assert authors == ["李督导", "王主管", "王主管"]


def test_a_password_with_special_characters_unencoded_is_a_sentence() -> None:
    """An unencoded ':' in the password made the port 'w/rd' (an internal error); an
    unencoded '@' split the password and blamed a correct one."""
    for password in ("p@ss:w/rd#1", "p@ss"):
        run = sv("conflicts", "list", "--central", f"postgresql://bob:{password}@/central")
        assert run.returncode == 2, run.stderr
        assert "must be written percent-encoded (@ as %40" in run.stderr, run.stderr
        assert password not in run.stderr and "internal error" not in run.stderr


def test_a_central_server_that_is_not_running_is_one_line(tmp_path: Path) -> None:
    """libpq's two lines ("connection failed: … No such file or directory" and a tab-indented
    "Is the server running locally …?") reached the terminal as they were."""
    url = f"postgresql://postgres@/central?host={tmp_path}"  # no server on that socket
    for args in (("conflicts", "list", "--central", url), ("merge", "x.db", "--into", url)):
        run = sv(*args)
        assert run.returncode == 2, run.stderr
        assert run.stderr.strip().splitlines() == [
            "error: cannot open the central database: the central database server cannot be "
            "reached; check the network and try again"
        ]


def test_show_says_unknown_answers_in_the_chosen_language(tmp_path: Path) -> None:
    """'show --lang zh' printed '鉴定年份 unknown' where the app shows 不详."""
    db, code = _new_db(tmp_path)
    # The year of an appraisal done (not asked without one: show marks it so).
    answers = ("appraisal_done=yes", "appraisal_year=不详", "non_self_contained_units=unknown")
    run = set_answers(db, code, *answers)
    assert run.returncode == 0, run.stderr
    zh = sv("show", "--db", str(db), code, "--lang", "zh").stdout
    lines = {line.split()[0]: line.split()[1:] for line in zh.splitlines() if line.split()}
    assert lines["鉴定年份"] == ["不详"] and lines["非成套户数"] == ["不详"], zh
    assert "unknown" not in zh
    en = sv("show", "--db", str(db), code).stdout
    assert "unknown" in en and "不详" not in en
    stored = json.loads(sv("show", "--db", str(db), code, "--json", "--lang", "zh").stdout)
    assert stored["answers"]["appraisal_year"] == "unknown"  # JSON keeps the stored code


def test_show_marks_answers_the_form_no_longer_asks(tmp_path: Path) -> None:
    """'Has elevator(s) no / Number of elevators 3 elevators' with nothing to say the count is
    not asked any more (exports and needs leave it out; the database keeps it)."""
    db, code = _new_db(tmp_path)
    for answer in ("elevator_count=3", "has_elevator=no"):
        assert set_answers(db, code, answer).returncode == 0
    en = sv("show", "--db", str(db), code).stdout
    count = next(line for line in en.splitlines() if "Number of elevators" in line)
    assert "3 elevators" in count
    assert "not asked with the current answers (kept, not counted)" in count
    has = next(line for line in en.splitlines() if "Has elevator(s)" in line)
    assert has.split() == ["Has", "elevator(s)", "no"]
    zh = sv("show", "--db", str(db), code, "--lang", "zh").stdout
    count = next(line for line in zh.splitlines() if "电梯数量" in line)
    assert "3 台" in count and "按目前的回答不适用（保留，不计入）" in count
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["elevator_count"] == 3  # kept as stored
    assert shown["not_asked"] == ["elevator_count"]
    assert set_answers(db, code, "has_elevator=yes").returncode == 0
    again = sv("show", "--db", str(db), code).stdout
    assert "3 elevators" in again and "not asked" not in again
    assert json.loads(sv("show", "--db", str(db), code, "--json").stdout)["not_asked"] == []


def test_set_says_an_answer_it_keeps_is_not_asked_and_what_hides_it(tmp_path: Path) -> None:
    """'set CODE roof_free_area=300' with roof_form 不详 said 'saved (…, 100% complete)': the
    value was stored, counted nowhere, and came back when the roof form was answered. It is
    kept (an answer typed ahead is legitimate) and said, in show's words, with its cause."""
    db, code = _new_db(tmp_path)
    assert set_answers(db, code, "roof_form=unknown").returncode == 0
    run = set_answers(db, code, "roof_free_area=300")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1:] == [
        "  roof_free_area: not asked with the current answers (kept, not counted), because "
        "Roof form is Unknown [unknown]"
    ]
    run = sv("set", "--db", str(db), code, "屋面可利用面积=250", "--lang", "zh")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1:] == [
        "  屋面可利用面积：按目前的回答不适用（保留，不计入），因为屋面形式为不详 [unknown]"
    ]
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["answers"]["roof_free_area"] == 250 and shown["not_asked"] == ["roof_free_area"]
    run = set_answers(db, code, "elevator_faults=rare")  # before 'has elevator' is answered
    assert "because Has elevator(s) is not answered" in run.stdout
    run = set_answers(db, code, "roof_form=flat", "roof_free_area=300")
    assert run.returncode == 0 and "not asked" not in run.stdout


def test_set_refuses_a_field_given_twice_naming_both_spellings(tmp_path: Path) -> None:
    """'建成年份=1984 year_built=1990' (a label and an id of one field) saved 1990 silently."""
    db, code = _new_db(tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    both = set_answers(db, code, "建成年份=1984", "floors_above=6", "year_built=1990")
    assert both.returncode == 2 and "Traceback" not in both.stderr
    assert (
        "建成年份 and year_built are the same field, Year built (year_built): give it once; "
        "nothing was saved" in both.stderr
    ), both.stderr
    zh = set_answers(db, code, "year_built=1984", "Year built=1990", "--lang", "zh")
    assert "year_built 和 Year built 是同一个字段 建成年份（year_built）" in zh.stderr, zh.stderr
    again = set_answers(db, code, "year_built=1984", "year_built=1990")
    assert again.returncode == 2 and "year_built is given twice" in again.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    answers = json.loads(sv("show", "--db", str(db), code, "--json").stdout)["answers"]
    assert "year_built" not in answers and "floors_above" not in answers


@pytest.mark.postgres
def test_a_refusal_by_a_running_server_is_said_as_it_says_it(pg_url: str) -> None:
    """Every refusal psycopg reports starts "connection failed: connection to server …": a
    misspelled database name was said as "the server cannot be reached; check the network"."""
    wrong = pg_url.replace("/t_", "/nosuchdb_", 1)
    run = sv("conflicts", "list", "--central", wrong)
    assert run.returncode == 2, run.stderr
    assert 'database "nosuchdb_' in run.stderr and "does not exist" in run.stderr, run.stderr
    assert "cannot be reached" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_show_wraps_an_answer_without_splitting_a_number_from_its_measure_word(
    tmp_path: Path,
) -> None:
    """In a terminal, `show` folded a Chinese remark at any cell: "13号楼" read "13号" / "楼"
    (Rich's folding); it wraps as the app does now."""
    import re

    from tests.tui.test_line_breaking import REMARK, split_stretches

    db, code = _new_db(tmp_path)
    assert set_answers(db, code, f"inspector_remarks={REMARK}").returncode == 0
    for columns in (48, 52, 60, 66):
        env = {**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": str(columns), "NO_COLOR": "1"}
        shown = sv("show", "--db", str(db), code, "--lang", "zh", env=env)
        assert shown.returncode == 0, shown.stderr
        text = re.sub(r"\x1b\[[0-9;]*m", "", shown.stdout)
        at = text.index(REMARK[:4])
        lines = [line.strip() for line in text[at:].splitlines()]
        lines = lines[: next(i for i, line in enumerate(lines) if line.endswith("。")) + 1]
        assert "".join(lines) == REMARK, (columns, lines)  # it does wrap, and loses nothing
        assert len(lines) > 1 and split_stretches(lines) == [], (columns, lines)
