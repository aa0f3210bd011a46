"""Errors the interface can show carry their sentence in Chinese too.

The TUI shows a ``SurveyorError`` in the interface language (``surveyor.i18n.error_text``); a raise
in these modules without ``zh=`` would show English to a Chinese-speaking inspector. Errors
that only the CLI gives (command-line options, merge and import reports) stay English.
"""

from __future__ import annotations

import ast
import errno
import os
import re
from pathlib import Path

import pytest

from surveyor.errors import DiskFull, NotFound, SurveyorError
from surveyor.i18n import catalog, error_text, t_in
from surveyor.services.survey import IncompleteRecord, get_building
from surveyor.store.db import Store

PACKAGE = Path(__file__).resolve().parents[1] / "surveyor"
#: Modules whose errors reach the TUI: saving, photos, resolving, opening, printing.
SHOWN_IN_THE_TUI = [
    "services/survey.py",
    "services/photos.py",
    "sync/actions.py",
    "store/db.py",
    "exports/fonts.py",
    "exports/output.py",
    "exports/labels.py",
]
#: Error classes built from a plain sentence (others build both languages themselves).
SENTENCE_ERRORS = {SurveyorError.__name__, NotFound.__name__, DiskFull.__name__}


def _sentence_errors_without_zh(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in SENTENCE_ERRORS
            and not any(k.arg == "zh" for k in node.keywords)
        ):
            missing.append(f"{path.name}:{node.lineno}")
    return missing


@pytest.mark.parametrize("module", SHOWN_IN_THE_TUI)
def test_every_error_the_tui_shows_has_a_chinese_sentence(module: str) -> None:
    path = PACKAGE / module
    assert path.exists()
    assert _sentence_errors_without_zh(path) == []


def test_the_check_finds_a_raise_without_chinese(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text('raise NotFound("gone")\nraise NotFound("gone", zh="没了")\n')
    assert _sentence_errors_without_zh(source) == ["bad.py:1"]


def test_an_error_reads_in_the_language_asked_for(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(NotFound) as caught:
        get_building(store, "NK-00000-00000")
    assert error_text(caught.value, "zh") == "没有编号为 NK-00000-00000 的楼栋"
    assert error_text(caught.value, "en") == "no building with code NK-00000-00000"
    # Not ours: a bug, logged and said to be one, as the CLI's last resort says it (it was
    # shown as it is, "plain", and the app's export dialog hung on it).
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    log = tmp_path / "state" / "surveyor" / "log" / "surveyor.log"
    assert error_text(ValueError("plain"), "zh") == f"内部错误：这是 Surveyor 的缺陷，详情见 {log}"
    assert "ValueError: plain" in log.read_text(encoding="utf-8")
    with pytest.raises(OSError) as refused:
        (tmp_path / "missing" / "x.csv").open("w")
    assert (
        error_text(refused.value, "zh")
        == f"无法访问 {refused.value.filename}：没有这个文件或文件夹"
    )
    # A file past the system's size limit, as the app's export dialog meets it: "File too
    # large" was said in English in the Chinese app.
    too_large = OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    assert error_text(too_large, "zh") == "无法访问：文件太大（超出文件系统或系统设定的上限）"
    assert error_text(too_large, "en") == "cannot access: File too large"


def test_an_incomplete_record_lists_its_fields_in_chinese() -> None:
    exc = IncompleteRecord(
        ["survey_date"],
        {"floors_above": "层数应为1至60"},
        {"survey_date": "调查日期", "floors_above": "地上层数"},
    )
    assert exc.text("zh") == (
        "无法标记为已完成。未填写：调查日期（survey_date）；有误：地上层数（floors_above）：层数应为1至60"
    )
    assert exc.message.startswith("cannot mark complete; unanswered: 调查日期 (survey_date)")


def test_a_locked_database_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app showed the driver's 'database is locked' (with its SQL) as a failed save."""
    import sqlite3

    db = tmp_path / "x.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("INSERT INTO t VALUES (1)")
    finally:
        holder.rollback()
        holder.close()
        other.close()
    assert error_text(caught.value, "zh").startswith("另一个程序（或另一个 Surveyor 窗口）正在写入")
    assert error_text(caught.value, "en").startswith("another program")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert error_text(ValueError("something else"), "zh").startswith("内部错误")


def test_a_locked_central_is_named(tmp_path: Path) -> None:
    """'merge l1.db --into c4.db' with c4.db held by another program said "another program …
    is writing to this database": a merge holds two databases, and it did not say which."""
    import sqlite3

    from tests.test_cli import sv

    laptop, central = tmp_path / "l1.db", tmp_path / "c4.db"
    assert sv("init", "--db", str(laptop), "--inspector", "王芳").returncode == 0
    register = tmp_path / "r.csv"
    register.write_text("街道,小区名称,楼号,门牌地址\n万兴街道,小区C,1号楼,南开区1号\n", "utf-8")
    assert sv("register", "import", "--db", str(laptop), str(register)).returncode == 0
    assert sv("central", "init", str(central)).returncode == 0
    holder = sqlite3.connect(central, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        en = sv("merge", str(laptop), "--into", str(central))
        zh = sv("merge", str(laptop), "--into", str(central), "--lang", "zh")
    finally:
        holder.rollback()
        holder.close()
    assert en.returncode == zh.returncode == 2
    assert en.stderr.strip() == (
        f"error: another program (or another Surveyor window) is writing to database {central}; "
        "try again in a moment"
    )
    assert zh.stderr.strip() == (
        f"错误：另一个程序（或另一个 Surveyor 窗口）正在写入数据库 {central}；请稍后再试"
    )
    assert sv("merge", str(laptop), "--into", str(central)).returncode == 0  # free again


def test_a_postgresql_central_is_named_without_its_password() -> None:
    """A driver error of a central given by URL names "the central database", never the URL
    (its password)."""
    import sqlalchemy as sa

    from surveyor.errors import database_trouble
    from surveyor.store.db import make_engine

    engine = make_engine("postgresql://inspector:s3cret@127.0.0.1:1/census?connect_timeout=2")
    with pytest.raises(sa.exc.OperationalError) as caught:
        engine.connect()
    engine.dispose()
    assert caught.value.surveyor_database == ("the central database", "中心数据库")  # type: ignore[attr-defined]
    said = database_trouble(caught.value, "en")
    assert said is not None and "s3cret" not in said


def test_no_message_outside_the_app_names_a_key() -> None:
    """``{key[binding.id]}`` is filled with the key the app's keymap gives that binding; the
    CLI and the core have no keymap, and would say the id: none of their messages names one."""
    known = catalog()
    for path in PACKAGE.rglob("*.py"):
        if "tui" in path.relative_to(PACKAGE).parts:
            continue
        used = set(re.findall(r"\"([a-z_]+\.[a-z_.]+)\"", path.read_text(encoding="utf-8")))
        naming = sorted(m for m in used & set(known) if "{key[" in known[m]["en"])
        assert not naming, f"{path.name} uses {naming}"


def test_chinese_messages_name_enter_and_space_in_chinese() -> None:
    """The photo field's lines said "Enter" in the Chinese app, where every other message and
    the key names (``tui.keynames.KEY_WORDS``) say 回车 and 空格."""
    english = re.compile(r"\b(Enter|Space)\b")
    saying = sorted(key for key, texts in catalog().items() if english.search(texts["zh"]))
    assert not saying, saying


def test_the_label_start_position_reads_as_counted_row_by_row() -> None:
    """「按行数」 read as "the row number": the position is counted row by row from the top
    left, as the English says."""
    said = t_in("zh", "export.start_at")
    assert "按行依次数" in said and "1 为左上角" in said, said
    assert "row by row" in t_in("en", "export.start_at")
