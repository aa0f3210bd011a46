"""A new member's first day, done from the README: the commands as written there, on the
default database, with no settings file, in a fresh home folder."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest


def fresh_home(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with an empty home: default database, settings and logs all under it."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SURVEYOR_", "XDG_")) or k == "SURVEYOR_PG_BASE_DIR"
    }
    env.update(HOME=str(home), **extra)
    return env


def sv(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True, env=env, timeout=120)


def ok(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = sv(env, *args)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("via_env", [False, True])
def test_sync_and_rekey_work_on_the_default_database(tmp_path: Path, via_env: bool) -> None:
    """After 'surveyor init --inspector 王芳', 'surveyor sync --central …' said "Missing
    option '--db'", with or without $SURVEYOR_DB: sync and rekey had their own --db."""
    extra = {"SURVEYOR_DB": str(tmp_path / "mine.db")} if via_env else {}
    env = fresh_home(tmp_path, **extra)
    ok(env, "init", "--inspector", "王芳")
    central = str(tmp_path / "central.db")
    ok(env, "central", "init", central)
    assert "pushed" in ok(env, "sync", "--central", central).stdout
    rekeyed = sv(env, "rekey", "--central", central)
    assert "--db" not in rekeyed.stderr, rekeyed.stderr
    assert "Traceback" not in rekeyed.stderr


def test_list_reads_the_central_too(tmp_path: Path) -> None:
    """'surveyor list --central central.db' was "No such option" (show, set, status, needs
    and export have it), and 'list --db postgresql://…' sent the user to a --central that
    list lacked."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    env = fresh_home(tmp_path)
    central = tmp_path / "central.db"
    store = init_store(central, role="central")
    code = create_building(store, get_form(), REGISTER_ROW, author="李督导").code
    store.close()
    listed = ok(env, "list", "--central", str(central))
    assert code in listed.stdout and "1 of 1" in listed.stdout
    via_url = sv(env, "list", "--db", "postgresql://u@host/census")
    assert "--central" in via_url.stderr
    assert "--central" in ok(env, "list", "--help").stdout


@pytest.mark.parametrize(("lang", "name"), [("en", "NAME"), ("zh", "你的姓名")])
def test_the_missing_database_hint_is_a_command_that_works(
    tmp_path: Path, lang: str, name: str
) -> None:
    """The hint "create it with 'surveyor init --db noname.db'" was refused in turn: "give
    your name with --inspector NAME". The hint's command, with a name put in, now runs."""
    env = fresh_home(tmp_path)
    db = tmp_path / "no name.db"
    refused = sv(env, "list", "--db", str(db), "--lang", lang)
    assert refused.returncode == 2
    hint = refused.stderr.split("surveyor ", 1)[1].split("」")[0]

    args = [a if a != name else "王芳" for a in shlex.split(hint)]
    assert args[:2] == ["init", "--db"] and "--inspector" in args, hint
    ok(env, *args)
    assert db.exists()


def test_a_write_on_a_central_needs_a_persons_name(tmp_path: Path) -> None:
    """The README's 'assign' and 'conflicts resolve' have no --by, nor the command 'conflicts
    show' prints to copy: each change was recorded under the login name, 'root', for good.
    Without a name given or set, a write on a central is refused in one sentence that says
    how to give one, and nothing is written; reading needs no name."""
    import sqlite3

    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    env = fresh_home(tmp_path, LOGNAME="root", USER="root")
    central = tmp_path / "central.db"
    store = init_store(central, role="central")
    code = create_building(store, get_form(), REGISTER_ROW, author="李督导").code
    store.close()

    def changes() -> int:
        with sqlite3.connect(central) as conn:
            return int(conn.execute("SELECT count(*) FROM change").fetchone()[0])

    before = changes()
    on = ("--central", str(central))
    writes = [
        ("set", *on, code, "year_built=1984"),
        ("status", *on, code, "draft"),
        ("assign", *on, "--inspector", "王芳", "--where", "街道=万兴街道", "--new-inspector"),
        ("delete", *on, code, "--yes"),
    ]
    for args in writes:
        for lang, said in (("en", "--by NAME"), ("zh", "--by 姓名")):
            refused = sv(env, *args, "--lang", lang)
            assert refused.returncode == 2, (args, refused.stdout)
            [line] = refused.stderr.splitlines()
            assert said in line and "inspector = " in line and "config.toml" in line, line
    assert "--by NAME" in sv(env, "review", *on).stderr  # refused before the screen opens
    assert changes() == before
    assert code in ok(env, "show", code, *on).stdout  # reads need no name
    ok(env, "list", *on)
    ok(env, "status", *on, code, "draft", "--by", "李督导")
    settings = Path(env["HOME"]) / ".config" / "surveyor" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('inspector = "王主管"\n', encoding="utf-8")
    ok(env, "set", *on, code, "year_built=1984")
    with sqlite3.connect(central) as conn:
        authors = [a for (a,) in conn.execute("SELECT author FROM change ORDER BY seq")]
    assert "root" not in authors and authors[-1] == "王主管"


def _command_rows(help_text: str) -> list[str]:
    """The rows of the help's command list, each line as printed."""
    lines = help_text.splitlines()
    if not any(ln.startswith("╭─ Commands") for ln in lines):
        return []
    start = next(i for i, ln in enumerate(lines) if ln.startswith("╭─ Commands"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("╰"))
    return lines[start + 1 : end]


def test_help_reads_whole_at_80_columns(tmp_path: Path) -> None:
    """At 80 columns a command's description broke mid-sentence ("approved, or back to" /
    "draft; on a laptop…"), and every flag looked as if it took a value (--version <bool>,
    --help <bool>)."""
    env = fresh_home(tmp_path, COLUMNS="80")
    groups = [(), ("export",), ("conflicts",), ("central",), ("register",), ("forms",)]
    for group in [*groups, ("photo",)]:
        shown = ok(env, *group, "--help").stdout
        assert "<bool>" not in shown, group
        rows = _command_rows(shown)
        assert rows, group
        for row in rows:  # one line each: a second line starts with a blank name column
            assert row[2] != " " and "…" not in row, (group, row)
    for command in (("sync",), ("status",), ("export", "sheets"), ("conflicts", "list")):
        assert "<bool>" not in ok(env, *command, "--help").stdout, command


def test_paths_says_where_settings_data_and_logs_are(tmp_path: Path) -> None:
    """--help said only "the user data folder"; config.toml and surveyor.log were named in
    docs/TUI.md alone. 'surveyor paths' lists them, and --help points to it."""
    env = fresh_home(tmp_path)
    home = Path(env["HOME"])
    assert "surveyor paths" in ok(env, "--help").stdout
    before = ok(env, "paths").stdout
    data = home / ".local" / "share" / "surveyor"
    for line in (
        f"settings file  {home / '.config' / 'surveyor' / 'config.toml'} (not created yet)",
        f"database       {data / 'survey.db'} (not created yet)",
        f"photo folder   {data / 'survey.db.blobs'} (not created yet)",
        "surveyor.log",
    ):
        assert line in before, before
    ok(env, "init", "--inspector", "王芳")
    after = ok(env, "paths", "--lang", "zh").stdout
    assert f"数据库        {data / 'survey.db'}" in [ln.rstrip() for ln in after.splitlines()]
    own = tmp_path / "mine.db"
    assert f"{own} " in ok(env, "paths", "--db", str(own)).stdout


ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_name_palette_entries_as_the_palette_shows_them() -> None:
    """TUI.md said 'ctrl+p → "Change theme"'; the palette's entry is "appearance: theme"
    (外观：配色主题). Every entry the docs quote after ctrl+p is one the palette lists."""
    import re

    from surveyor.i18n import catalog

    titles = {
        text
        for key, texts in catalog().items()
        if key.startswith("cmd.")
        for text in texts.values()
    }
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    quoted = re.findall(r'ctrl\+p → ((?:"[^"]+"(?: / )?)+)', docs)
    assert quoted
    for names in quoted:
        for name in re.findall(r'"([^"]+)"', names):
            assert name in titles, name


def test_dev_test_runs_the_suite_on_every_core() -> None:
    """DEPENDENCIES.md says the tests run on all cores (pytest-xdist), but './dev test' ran
    pytest without -n: one core. Its pytest line asks for every core, before the arguments
    given, so a later -n (the lead's -n 2, or -n 0) still wins."""
    script = (ROOT / "dev").read_text(encoding="utf-8")
    test_branch = script.split("\n  test)\n", 1)[1].split(";;", 1)[0]
    [line] = [ln.strip() for ln in test_branch.splitlines() if "-m pytest" in ln]
    assert line == 'exec "$PY" -m pytest -n auto "$@"', line
