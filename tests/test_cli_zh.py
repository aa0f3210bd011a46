"""The real `surveyor` command as a supervisor working in Chinese uses it: no English word, no
raw id and no ASCII colon in a Chinese line; ``show`` says everything a building still needs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from surveyor.forms.catalog import DEFAULT_FORM
from surveyor.forms.model import load_form
from surveyor.services.survey import create_building
from surveyor.store.db import init_store, open_store
from tests.conftest import REGISTER_ROW
from tests.sync.test_migrations import _rewrite_as_0002


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(["surveyor", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def test_an_old_database_is_named_in_chinese(tmp_path: Path) -> None:
    """`export csv --db <old sample>` said "错误：database /tmp/…/sample.db 由旧版本的 …"."""
    path = tmp_path / "old.db"
    store = init_store(path, role="laptop", inspector="王芳")
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    _rewrite_as_0002(store)
    store.close()
    run = sv("show", "--db", str(path), code, "--lang", "zh")
    assert run.returncode == 2
    assert run.stderr.startswith(f"错误：数据库 {path} 由旧版本的 Surveyor 写入"), run.stderr
    assert "database " not in run.stderr.replace(str(path), "")
    en = sv("show", "--db", str(path), code)
    assert en.stderr.startswith(f"error: database {path} was written by an older version")


@pytest.mark.postgres
def test_a_postgresql_central_is_named_in_chinese(pg_url: str) -> None:
    """A PostgreSQL central was "the central database" in the middle of a Chinese sentence."""
    assert sv("central", "init", pg_url).returncode == 0
    again = sv("central", "init", pg_url, "--lang", "zh")
    assert again.returncode == 2
    assert again.stderr.strip() == "错误：中心数据库 已经初始化过", again.stderr
    en = sv("central", "init", pg_url)
    assert en.stderr.strip() == "error: the central database is already initialised"


def test_a_chinese_line_has_full_width_colons(tmp_path: Path) -> None:
    """ "NK-S7MMS-27RSE: 已完成": an ASCII colon in a Chinese line; the doctor's facts too."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    status = sv("status", "--db", str(db), code, "draft", "--lang", "zh")
    assert status.stdout == f"{code}：草稿\n", status.stdout
    assert sv("status", "--db", str(db), code, "draft").stdout == f"{code}: draft\n"
    doctor = sv("doctor", "--db", str(db), "--lang", "zh").stdout
    assert "楼栋：1\n" in doctor and ": " not in doctor, doctor


def test_show_prints_a_long_remark_whole_when_piped(tmp_path: Path) -> None:
    """Piped, `show` ended a long remark in "…": what a script or a file got was cut."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    remark = "北侧单元外墙有明显裂缝，雨季渗水严重，三楼住户反映屋顶漏水已有两年。" * 4 + "完"
    assert sv("set", "--db", str(db), code, f"inspector_remarks={remark}").returncode == 0
    for lang in ("zh", "en"):
        shown = sv("show", "--db", str(db), code, "--lang", lang).stdout
        assert remark in shown and "…" not in shown, shown


def test_an_option_is_taken_as_a_person_says_it(tmp_path: Path) -> None:
    """`set … 结构类型=砖混` was refused as "structure_type: “砖混”不是有效选项" (the label is
    砖混（砌体）): taken now, as is an unambiguous start; a refusal names the field as typed and
    lists the options."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    for typed, code_ in (
        ("砖混", "brick_concrete"),
        ("钢筋", "rc_frame"),
        ("Large", "large_panel"),
    ):
        saved = sv("set", "--db", str(db), code, f"结构类型={typed}", "--lang", "zh")
        assert saved.returncode == 0, saved.stderr
        shown = sv("show", "--db", str(db), code, "--json").stdout
        assert f'"structure_type": "{code_}"' in shown
    # 砖 is 砖混（砌体） or 砖木: refused, with the options to choose from.
    both = sv("set", "--db", str(db), code, "结构类型=砖", "--lang", "zh")
    assert both.returncode == 2
    assert both.stderr.startswith(
        "错误：未保存：结构类型：「砖」不是有效选项（可选：砖混（砌体）、砖木、"
    )
    assert "structure_type" not in both.stderr
    en = sv("set", "--db", str(db), code, "structure_type=Brick")
    assert en.stderr.startswith(
        "error: refused: structure_type: 'Brick' is not one of the options "
        "(Brick-concrete masonry, Brick-timber, "
    ), en.stderr
    draft = sv("set", "--db", str(db), code, "结构类型=砖", "--draft", "--lang", "zh")
    assert "  ! 结构类型：「砖」不是有效选项（可选：" in draft.stderr


def test_a_file_where_the_folder_should_be_is_said_so(tmp_path: Path) -> None:
    """`init --db notes.txt/x.db` said "无法创建 数据库 …：unable to open database file" (the
    driver's English), `export --out notes.txt/x.csv` "folder notes.txt does not exist"
    of a file that is there, and `register import notes.txt/x.csv` "Not a directory"."""
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    inside = tmp_path / "notes.txt"
    db = tmp_path / "a.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    said = {
        "init": sv("init", "--db", str(inside / "x.db"), "--inspector", "王芳", "--lang", "zh"),
        "central": sv("central", "init", str(inside / "c.db"), "--lang", "zh"),
        "export": sv(
            "export", "csv", "--db", str(db), "--out", str(inside / "x.csv"), "--lang", "zh"
        ),
        "import": sv("register", "import", "--db", str(db), str(inside / "r.csv"), "--lang", "zh"),
    }
    for name, run in said.items():
        assert run.returncode == 2, (name, run.stderr)
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("错误："), (name, run.stderr)
    assert (
        said["init"].stderr.strip()
        == f"错误：无法创建数据库 {inside / 'x.db'}：{inside} 是文件，不是文件夹"
    )
    assert said["central"].stderr.strip().endswith(f"{inside} 是文件，不是文件夹")
    assert said["export"].stderr.strip().endswith(f"{inside} 是文件，不是文件夹")
    assert said["import"].stderr.strip().endswith("：路径中有一项不是文件夹")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db", "notes.txt"]  # nothing new
    en = sv("init", "--db", str(inside / "x.db"), "--inspector", "王芳")
    assert (
        en.stderr.strip()
        == f"error: cannot create database {inside / 'x.db'}: {inside} is a file, not a folder"
    )


def test_a_chinese_sentence_says_statuses_and_options_in_chinese(tmp_path: Path) -> None:
    """'只有已完成的记录才能审核（NK-… 当前为 draft）', '（subdistrict=changhong,
    subdistrict=gulou）', '请用其中之一：not_started, draft, …': English codes in Chinese
    sentences; and `list --status 已完成`, a status as `list` prints it, was refused."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    hub = tmp_path / "central.db"  # only a central approves
    assert sv("central", "init", str(hub)).returncode == 0
    store = open_store(hub)
    hub_code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="督导").code
    store.close()
    on_hub = ("status", "--central", str(hub), "--by", "督导", hub_code, "approved")
    approve = sv(*on_hub, "--lang", "zh")
    assert approve.stderr.strip() == f"错误：只有已完成的记录才能审核（{hub_code} 当前为未开始）"
    approve = sv(*on_hub)
    assert approve.stderr.strip() == (
        f"error: only a complete record can be approved ({hub_code} is not started)"
    )
    # A status as list prints it, in either language, is taken.
    for said, lang in (("未开始", "zh"), ("not started", "en"), ("not_started", "en")):
        listed = sv("list", "--db", str(db), "--status", said, "--lang", lang)
        assert listed.returncode == 0 and code in listed.stdout, listed.stderr
    listed = sv("list", "--db", str(db), "--status", "已完成", "--lang", "zh")
    assert listed.returncode == 0 and code not in listed.stdout
    assert sv("status", "--db", str(db), code, "草稿", "--lang", "zh").stdout == f"{code}：草稿\n"
    wrong = sv("list", "--db", str(db), "--status", "完成", "--lang", "zh")
    assert (
        wrong.stderr.strip() == "错误：未知状态「完成」；请用其中之一：未开始、草稿、已完成、已审核"
    )
    wrong = sv("status", "--db", str(db), code, "完成", "--lang", "zh")
    assert wrong.stderr.strip() == "错误：未知状态「完成」；请用其中之一：草稿、已完成、已审核"
    out = str(tmp_path / "x.csv")
    where = ["--where", "街道=长虹", "--where", "subdistrict=gulou", "--status", "complete"]
    none = sv("export", "csv", "--db", str(db), "--out", out, *where, "--lang", "zh")
    assert none.stderr.strip() == (
        "错误：没有楼栋符合所选条件（街道=长虹街道，街道=鼓楼街道，状态=已完成）；未写出任何文件"
    )
    none = sv("export", "csv", "--db", str(db), "--out", out, *where)
    assert "(subdistrict=changhong, subdistrict=gulou, status=complete)" in none.stderr


def test_usage_errors_are_said_in_chinese(tmp_path: Path) -> None:
    """A missing argument, a mistyped option or a word for a number were said in English in a
    box ("Missing argument 'files'.") though Chinese was asked for."""
    missing = sv("merge", "--lang", "zh")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[1:] == [
        "错误：缺少参数 files",
        "用 surveyor merge --help 查看全部选项（说明为英文）",
    ], missing.stderr
    assert missing.stderr.startswith("用法：surveyor merge [OPTIONS]")
    typo = sv("merge", "a.db", "--centrl", "c.db", "--lang", "zh")
    assert "错误：没有 --centrl 选项；相近的有 --central" in typo.stderr, typo.stderr
    word = sv("sample", "--out", str(tmp_path / "s.db"), "--buildings", "二十", "--lang", "zh")
    assert word.returncode == 2 and "错误：--buildings 应为整数" in word.stderr, word.stderr
    extra = sv("list", "--db", str(tmp_path / "s.db"), "多余", "--lang", "zh")
    assert "错误：多余的参数 多余" in extra.stderr, extra.stderr
    assert not (tmp_path / "s.db").exists()  # nothing was done
    for run in (missing, typo, word, extra):
        assert "Error" not in run.stderr and "╭" not in run.stderr, run.stderr


def test_usage_errors_in_english_keep_the_command_line_form() -> None:
    missing = sv("merge")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[1:] == [
        "error: Missing argument 'files'",
        "Try 'surveyor merge --help' for help.",
    ], missing.stderr
    assert sv("--version").returncode == 0


def test_an_error_in_a_field_not_typed_is_named_by_its_label(tmp_path: Path) -> None:
    """`set … 地上层数=7 --draft --lang zh` printed "! insulation_year：保温施工年份须…": a
    field not typed on the line was named by its raw id, not its label."""
    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    store = open_store(db)
    code = create_building(store, load_form(DEFAULT_FORM), REGISTER_ROW, author="王芳").code
    store.close()
    bad = ("year_built=1990", "wall_insulation=external", "insulation_year=1980")
    assert sv("set", "--db", str(db), code, *bad, "--draft").returncode == 0
    again = sv("set", "--db", str(db), code, "地上层数=7", "--draft", "--lang", "zh")
    assert "  ! 保温施工年份：" in again.stderr, again.stderr
    assert "insulation_year" not in again.stderr
