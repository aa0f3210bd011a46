"""The real ``surveyor`` commands of the central: init, merge, sync, assign, conflicts."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from surveyor.forms.catalog import get_form
from surveyor.forms.model import Form
from surveyor.services.queries import list_buildings
from surveyor.services.survey import create_building, get_building, save_answers
from surveyor.store.db import Store, open_store, read_tx, write_tx
from surveyor.sync.actions import Choice, assign, delete_building, resolve_conflict
from surveyor.sync.apply import apply_changes, load_entity_changes
from surveyor.sync.transfer import pull, push, sync
from tests.conftest import REGISTER_ROW
from tests.sync.conftest import MINI
from tests.sync.helpers import check_store, dump


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["surveyor", *args], capture_output=True, text=True)
    if ok:
        assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


#: The small test form, for every command that reads answers.
FORM = ("--form", str(MINI))


def new_central(tmp_path: Path) -> str:
    """A new SQLite central made by the real command."""
    central = str(tmp_path / "central.db")
    run("central", "init", central)
    return central


def test_the_supervisor_workflow_from_the_command_line(
    backend: str,
    laptops: Callable[[str], Store],
    export: Callable[[Store], Path],
    mini: Form,
    tmp_path: Path,
) -> None:
    form = ["--form", str(MINI)]
    assert "created central store" in run("central", "init", backend).stdout
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    run("sync", "--db", a.target, "--central", backend, *form)
    codes = tmp_path / "codes.txt"
    codes.write_text(f"{code}\n", encoding="utf-8")
    to_new = ("assign", "--central", backend, "--inspector", "乙", "--buildings", str(codes))
    # A name the central has never seen may be a typo: refused unless said to be new.
    unknown = run(*to_new, *form, ok=False)
    assert unknown.returncode == 2 and "--new-inspector" in unknown.stderr
    assert "assigned 1 building(s) to 乙" in run(*to_new, "--new-inspector", *form).stdout
    typo = run(
        "assign",
        "--central",
        backend,
        "--inspector",
        "乙乙",
        "--buildings",
        str(codes),
        *form,
        ok=False,
    )
    assert "nothing was assigned. Did you mean 乙?" in typo.stderr
    typo_zh = run(*to_new[:4], "乙乙", *to_new[5:], "--lang", "zh", *form, ok=False)
    assert "未分配任何任务。是不是 乙？如是新调查员，请加 --new-inspector。" in typo_zh.stderr
    assert "已将 0 栋楼分配给 乙" in run(*to_new, "--lang", "zh", *form).stdout
    for where in ("街道=wanxing", "街道=万兴街道", "subdistrict=Wanxing"):  # code or label
        again = run("assign", "--central", backend, "--inspector", "乙", "--where", where, *form)
        assert "assigned 0" in again.stdout  # already theirs: no new change
    other = ("--where", "街道=万兴街道", "--where", "街道=学府街道")  # all must hold: none does
    none = run("assign", "--central", backend, "--inspector", "乙", *other, *form, ok=False)
    assert none.returncode == 2 and "no building matches" in none.stderr
    run("sync", "--db", b.target, "--central", backend, *form)
    save_answers(a, mini, code, {"year_built": "1984"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1990"}, author="乙")
    merged = run("merge", str(export(a)), str(export(b)), "--into", backend, *form)
    assert merged.stdout.count(": merged:") == 2
    listed = run("conflicts", "list", "--central", backend, *form).stdout
    assert code in listed and "Year built (year_built)" in listed
    assert "edited concurrently" in listed and "open" in listed
    assert listed.rstrip().endswith("1 conflict(s)")
    window = run("conflicts", "list", "--central", backend, "--offset", "1", "--limit", "5")
    assert window.stdout.splitlines()[-1] == "0 of 1 conflict(s)"  # a window past the only one
    shown = run("conflicts", "show", code, "year_built", "--central", backend, *form).stdout
    assert "1984" in shown and "1990" in shown and "甲" in shown and "乙" in shown
    pick = 1 if "[1] 1990" in shown else 2
    # In Chinese, by the field's label: words a supervisor reads, not codes or Python quotes.
    zh = run("conflicts", "show", code, "建成年份", "--central", backend, "--lang", "zh", *form)
    assert f"{code} " in zh.stdout and ": 建成年份" not in zh.stdout
    assert "：建成年份（同时修改，待审核）\n" in zh.stdout and "  共同基础值：" in zh.stdout
    assert "'" not in zh.stdout.split("\n", 1)[1].split("解决：")[0]
    run(
        "conflicts",
        "resolve",
        code,
        "year_built",
        "--central",
        backend,
        "--pick",
        str(pick),
        "--by",
        "督导",
        *form,
    )
    assert "0 conflict(s)" in run("conflicts", "list", "--central", backend).stdout
    # The supervisor's name is on the resolution (made on the central): no inspector's.
    to_supervisor = run(*to_new[:4], "督导", *to_new[5:], *form, ok=False)
    assert "no inspector named 督导" in to_supervisor.stderr
    progress = run("progress", "--central", backend, "--lang", "zh", *form).stdout
    assert "万兴街道" in progress and "乙" in progress and "wanxing" not in progress
    assert json.loads(run("progress", "--central", backend, "--json").stdout)["街道"]["wanxing"]
    synced = run("sync", "--db", a.target, "--central", backend, "--lang", "zh", *form)
    assert synced.stdout.startswith("已发送 0 条改动（0 批），收到 3 条")
    assert get_building(a, code).answers["year_built"] == 1990
    # 甲 was never assigned a building but has synced edits: a known inspector.
    moved = run(*to_new[:4], "甲", *to_new[5:], *form).stdout
    assert "assigned 1 building(s) to 甲" in moved
    assert "1 of them were assigned to 乙 until now" in moved  # said, not done silently


def test_cli_errors_are_one_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    result = run("merge", str(tmp_path / "x.db"), "--into", str(missing), ok=False)
    assert result.returncode == 2
    assert "surveyor central init" in result.stderr
    review = run("review", "--central", str(missing), ok=False)
    assert review.returncode == 2 and "surveyor central init" in review.stderr
    central = tmp_path / "central.db"
    run("central", "init", str(central))
    again = run("central", "init", str(central), ok=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    both = run(
        "conflicts",
        "resolve",
        "NK-00000-00000",
        "x",
        "--central",
        str(central),
        "--base",
        "--keep",
        ok=False,
    )
    assert both.returncode == 2 and "exactly one" in both.stderr
    nothing = run(
        "assign",
        "--central",
        str(central),
        "--inspector",
        "甲",
        "--where",
        "街道=nowhere",
        ok=False,
    )
    assert nothing.returncode == 2 and "'nowhere' is not an option of subdistrict" in nothing.stderr


def test_merge_reports_each_file_in_the_supervisors_language(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    central, form = new_central(tmp_path), FORM
    a = laptops("甲")
    create_building(a, mini, REGISTER_ROW, author="甲")
    junk = tmp_path / "photo.db"
    junk.write_bytes(b"JFIF not a database")
    merged = run("merge", a.target, str(junk), "--into", central, "--lang", "zh", *form, ok=False)
    assert f"{a.target}：已合并：新改动 " in merged.stdout and "涉及 1 栋楼" in merged.stdout
    assert f"{junk}：已拒收：{junk} 不是 SQLite 数据库；其内容均未合并" in merged.stderr
    assert "错误：2 个文件中有 1 个被拒收，未合并（第一个：" in merged.stderr
    again = run("merge", a.target, "--into", central, "--lang", "zh", *form)
    assert again.stdout.strip() == f"{a.target}：已跳过：已合并过（中心库已有其中全部改动）"
    english = run("merge", a.target, "--into", central, *form)
    assert english.stdout.strip() == (
        f"{a.target}: skipped: already merged (the central holds every change in it)"
    )


def test_a_picked_value_stays_the_one_seen_when_a_late_sync_renumbers_them(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """丙 edited first but syncs after the supervisor looked: the values are renumbered by
    time, so '--pick 2' would now take 甲's 1962. A value is picked by its #tag, and the
    resolution says which value it took."""
    central, form = new_central(tmp_path), FORM
    hub = open_store(central)
    a, b, c = laptops("甲"), laptops("乙"), laptops("丙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    sync(a, hub, mini)
    for laptop in (b, c):
        assign(hub, mini, laptop.meta("inspector") or "", refs=[code], author="督导")
        sync(laptop, hub, mini)
    for laptop, year in ((c, "1961"), (a, "1962"), (b, "1963")):
        save_answers(laptop, mini, code, {"year_built": year}, author=laptop.meta("inspector"))
    sync(a, hub, mini)
    sync(b, hub, mini)
    seen = run("conflicts", "show", code, "year_built", "--central", central, *form).stdout
    [line] = [ln for ln in seen.splitlines() if "1963" in ln]
    assert line.strip().startswith("[2]") and "乙" in line
    tag = line.split("#")[1].split()[0]
    sync(c, hub, mini)  # the earliest edit arrives: 1963 is now [3]
    later = run("conflicts", "show", code, "year_built", "--central", central, *form).stdout
    assert "[3] 1963" in later and f"#{tag}" in later.splitlines()[-2]
    resolve = ("conflicts", "resolve", code, "year_built", "--central", central, *form)
    resolved = run(*resolve, "--pick", f"#{tag}", "--by", "李督导")
    said = resolved.stdout.splitlines()
    assert said[0] == "resolved: Year built is 1963 (乙's value)"
    assert len(said) == 5 and f"#{tag}" in said[-1]  # no --seen: the three values closed
    assert get_building(hub, code).answers["year_built"] == 1963
    closed = run("conflicts", "show", code, "建成年份", "--central", central, *form).stdout
    assert "Resolve:" not in closed  # nothing left to do
    # Which value was taken, by whom and when.
    [taken] = [ln for ln in closed.splitlines() if ln.strip().startswith("resolved as:")]
    assert "1963  李督导  20" in taken, closed
    # A wrong pick is not put right by resolving again: the refusal says what does.
    again = run(*resolve, "--pick", "1", ok=False)
    assert again.returncode == 2 and "already resolved" in again.stderr
    fix = f"surveyor set --central {central} {code} year_built=VALUE --by NAME"
    assert fix in again.stderr, again.stderr
    # … and that command works (it named `set --db CENTRAL`, refused for a PostgreSQL URL).
    run("set", "--central", central, code, "year_built=1970", "--by", "李督导", *form)
    shown = json.loads(run("show", code, "--central", central, "--json", *form).stdout)
    assert shown["answers"]["year_built"] == 1970
    again_zh = run(*resolve, "--pick", "1", "--lang", "zh", ok=False)
    assert "已经解决" in again_zh.stderr and "请在中心库上直接设置" in again_zh.stderr
    assert "该楼栋「建成年份」的冲突已经解决" in again_zh.stderr, again_zh.stderr
    unknown = run("conflicts", "show", code, "楼龄", "--central", central, *form, ok=False)
    assert "the form has no field '楼龄'" in unknown.stderr
    hub.close()


def test_the_command_the_copy_refusal_names_lets_the_copy_sync(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    import shutil

    central, form = new_central(tmp_path), FORM
    original = laptops("甲")
    code = create_building(original, mini, REGISTER_ROW, author="甲").code
    original.close()
    copy = tmp_path / "restored.db"
    shutil.copy(original.target, copy)
    run("set", "--db", original.target, code, "year_built=1984", *form)
    run("set", "--db", str(copy), code, "floors_above=6", *form)
    run("sync", "--db", original.target, "--central", central, *form)
    refused = run("sync", "--db", str(copy), "--central", central, "--lang", "zh", *form, ok=False)
    fix = f"surveyor rekey --db {copy} --central {central}"
    assert refused.returncode == 2 and fix in refused.stderr
    rekeyed = run(*fix.split()[1:], "--lang", "zh")
    assert "现在可以同步了" in rekeyed.stdout
    assert run("sync", "--db", str(copy), "--central", central, *form).returncode == 0
    shown = run("show", "--db", central, code, "--json", *form).stdout
    assert json.loads(shown)["answers"]["floors_above"] == 6


def test_a_laptop_database_is_refused_where_a_central_is_expected(tmp_path: Path) -> None:
    """merge, sync and assign used to write into a laptop given as the central."""
    import hashlib

    from surveyor.store.db import init_store

    laptop, other, central = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "central.db"
    for path, name in ((laptop, "甲"), (other, "乙")):
        store = init_store(path, role="laptop", inspector=name)
        create_building(store, get_form(), REGISTER_ROW, author=name)
        store.close()
    run("central", "init", str(central))

    def digest() -> str:
        return hashlib.sha256(laptop.read_bytes()).hexdigest()

    before = digest()
    attempts = {
        "merge": ("merge", str(other), "--into", str(laptop)),
        "sync": ("sync", "--db", str(other), "--central", str(laptop)),
        "assign": ("assign", "--central", str(laptop), "--inspector", "乙", "--status", "draft"),
        "progress": ("progress", "--central", str(laptop)),
        "review": ("review", "--central", str(laptop)),  # refused before the screen opens
    }
    for name, args in attempts.items():
        result = run(*args, ok=False)
        assert result.returncode == 2, name
        assert "is an inspector's laptop database, not a central store" in result.stderr, name
    swapped = run("sync", "--db", str(central), "--central", str(laptop), ok=False)
    assert swapped.returncode == 2
    assert "is a central store, not a laptop database" in swapped.stderr
    assert digest() == before


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("stop_after", [1, 2])
def test_sync_resumes_after_an_interruption(
    backend: str, laptops: Callable[[str], Store], mini: Form, tmp_path: Path, stop_after: int
) -> None:
    from surveyor.store.db import init_store

    central = init_store(backend, role="central")
    reference = init_store(tmp_path / "reference.db", role="central")
    lap = laptops("甲")
    for n in range(7):
        create_building(lap, mini, REGISTER_ROW | {"address": f"南开区{n}号"}, author="甲")

    def boom(batch: int) -> None:
        if batch == stop_after:
            raise Interrupted

    with pytest.raises(Interrupted):
        sync(lap, central, mini, batch=2, after_batch=boom)
    report = sync(lap, central, mini, batch=2)
    assert report.pushed == 7 - 2 * stop_after  # only the batches not yet acknowledged
    push(lap, reference, mini)
    assert dump(central)["buildings"] == dump(reference)["buildings"]
    assert push(lap, central, mini) == (0, 0)
    check_store(central, mini)
    central.close()
    reference.close()


def test_a_duplicate_is_merged_from_the_command_line(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    central, form = new_central(tmp_path), FORM
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲").code
    y = create_building(b, mini, REGISTER_ROW, author="乙").code
    save_answers(b, mini, y, {"year_built": "1990"}, author="乙")
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", central, *form)
    assert "possible duplicate" in run("conflicts", "list", "--central", central).stdout
    assert progress_total(central)["conflicted"] == 2  # both flagged buildings await review
    # ... and are not under their status: said, as the list and the exports count them there
    out = run("progress", "--central", central).stdout
    assert out.rstrip().endswith(
        "2 building(s) with an open conflict or possible duplicate count only as conflicted, not "
        "under their status (the building list, exports and report count them by status); once "
        "resolved they return to their status."
    ), out
    done = run(
        "conflicts", "resolve", y, "_duplicate", "--central", central, "--merge-into", x, *form
    )
    assert done.stdout.startswith(f"resolved: {y} was merged into {x}\n"), done.stdout
    assert "0 conflict(s)" in run("conflicts", "list", "--central", central).stdout
    assert progress_total(central)["conflicted"] == 0
    assert "count only as conflicted" not in run("progress", "--central", central).stdout
    shown = run("show", x, "--db", central, "--json", *form).stdout
    assert '"year_built": 1990' in shown
    # The duplicate's label is still on the door: it leads to the building kept.
    gone = json.loads(run("show", y, "--db", central, "--json", *form).stdout)
    assert gone["deleted"] is True and gone["merged_into"] == x
    assert f"merged into {x}" in run("show", y, "--db", central, *form).stdout
    needs = run("needs", y, "--central", central, "--json", "--lang", "en")  # the census form
    assert json.loads(needs.stdout)["code"] == x
    assert f"{y} was merged into {x}" in needs.stderr
    edit = run("set", y, "year_built=1991", "--db", central, *form, ok=False)
    assert edit.returncode == 2 and f"was merged into {x}" in edit.stderr


def progress_total(central: str) -> dict[str, int]:
    """The total row of ``surveyor progress`` (its first table), by bucket."""
    from surveyor.sync.progress import BUCKETS

    out = run("progress", "--central", central).stdout
    total = next(line for line in out.splitlines() if line.startswith("total"))
    return dict(zip(BUCKETS, map(int, total.split()[1:]), strict=True))


def test_a_central_file_uses_large_pages_and_a_laptop_the_default(tmp_path: Path) -> None:
    """A central's ≈ 5 KB state rows fit one 16 KiB page; a laptop keeps SQLite's 4 KiB."""
    import sqlite3

    from surveyor.store.db import CENTRAL_PAGE_SIZE

    central, laptop = tmp_path / "central.db", tmp_path / "laptop.db"
    run("central", "init", str(central))
    run("init", "--db", str(laptop), "--inspector", "甲")
    sizes = {}
    for path in (central, laptop):
        conn = sqlite3.connect(path)
        sizes[path] = (
            conn.execute("PRAGMA page_size").fetchone()[0],
            conn.execute("PRAGMA journal_mode").fetchone()[0],
        )
        conn.close()
    assert sizes[central] == (CENTRAL_PAGE_SIZE, "wal")
    assert sizes[laptop] == (4096, "wal")


def test_assign_reads_a_building_list_saved_on_windows(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """A GBK list was an internal error, a UTF-8 one with a BOM was refused as '\\ufeffNK-…',
    and an unknown code was named without its file and line."""
    central = str(tmp_path / "c.db")
    run("central", "init", central)
    lap = laptops("甲")
    codes = [create_building(lap, mini, REGISTER_ROW, author="甲").code for _ in range(2)]
    run("sync", "--db", lap.target, "--central", central, "--form", str(MINI))
    assign_ = ("assign", "--central", central, "--inspector", "甲", "--form", str(MINI))
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(f"编号\r\n{codes[0]}\r\n\r\n".encode("gbk"))
    assert "assigned 1 building(s) to 甲" in run(*assign_, "--buildings", str(gbk)).stdout
    bom = tmp_path / "bom.txt"
    bom.write_text(f"code\n{codes[0]}\n{codes[1]}\n", encoding="utf-8-sig")
    assert "assigned 1 building(s) to 甲" in run(*assign_, "--buildings", str(bom)).stdout
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{codes[0]}\n\nNK-AAAAA-AAAAA\nxyz\n", encoding="utf-8")
    refused = run(*assign_, "--buildings", str(bad), ok=False)
    assert refused.returncode == 2
    assert f"{bad}:3: no building with code NK-AAAAA-AAAAA (and 1 more line(s)" in refused.stderr
    zh = run(*assign_, "--buildings", str(bad), "--lang", "zh", ok=False)
    assert f"{bad}:3：没有编号为 NK-AAAAA-AAAAA 的楼栋（另有 1 行也找不到楼栋）" in zh.stderr


@pytest.mark.postgres
def test_postgresql_target_mistakes_are_sentences(pg_url: str, tmp_path: Path) -> None:
    """libpq's postgres:// scheme, another database's URL and a database that already has
    tables were each an internal error."""
    libpq = "postgres://" + pg_url.split("://", 1)[1]
    assert "created central store" in run("central", "init", libpq).stdout
    assert "0 conflict(s)" in run("conflicts", "list", "--central", libpq).stdout
    again = run("central", "init", pg_url, ok=False)
    assert again.returncode == 2 and "already initialised" in again.stderr
    for other in ("mysql://x/y", "http://example.org/db"):
        wrong = run("central", "init", other, ok=False)
        assert wrong.returncode == 2
        assert f"error: {other} is not a SQLite path or postgresql:// URL" in wrong.stderr
        wrong = run("progress", "--central", other, "--lang", "zh", ok=False)
        assert f"{other} 既不是 SQLite 文件路径，也不是 postgresql:// 网址" in wrong.stderr


@pytest.mark.postgres
def test_central_init_refuses_a_database_that_has_tables(pg_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE building (id int)"))
    refused = run("central", "init", pg_url, ok=False)
    assert refused.returncode == 2
    assert "is not empty (it has tables such as building)" in refused.stderr
    assert "nothing was written" in refused.stderr
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["building"]
    engine.dispose()


def test_merge_reports_the_possible_duplicates_it_flagged(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    """A file whose buildings were flagged as duplicates was reported as '0 open conflict(s)'."""
    central, form = new_central(tmp_path), FORM
    a, b = laptops("甲"), laptops("乙")
    create_building(a, mini, REGISTER_ROW, author="甲")
    create_building(b, mini, REGISTER_ROW, author="乙")
    first = run("merge", a.target, "--into", central, *form).stdout
    assert "0 open conflict(s)" in first and "duplicate" not in first
    second = run("merge", b.target, "--into", central, *form).stdout
    assert "1 building(s), 0 open conflict(s), 2 possible duplicate(s)" in second
    c = laptops("丙")
    create_building(c, mini, REGISTER_ROW, author="丙")
    zh = run("merge", c.target, "--into", central, "--lang", "zh", *form).stdout
    assert "未解决冲突 0 处，疑似重复楼栋 3 栋" in zh


def test_exports_and_needs_refuse_a_laptop_given_as_the_central(tmp_path: Path) -> None:
    """'export report --central wf.db' printed a district report of one laptop."""
    from surveyor.store.db import init_store

    laptop = tmp_path / "wf.db"
    store = init_store(laptop, role="laptop", inspector="王芳")
    code = create_building(store, get_form(), REGISTER_ROW, author="王芳").code
    store.close()
    attempts = {
        kind: ("export", kind, "--central", str(laptop), "--out", str(tmp_path / f"x.{kind}"))
        for kind in ("report", "sheets", "labels", "csv", "xlsx", "geojson")
    }
    attempts["needs"] = ("needs", code, "--central", str(laptop), "--lang", "en")
    for name, args in attempts.items():
        result = run(*args, ok=False)
        assert result.returncode == 2, name
        assert "is an inspector's laptop database, not a central store" in result.stderr, name
    assert not list(tmp_path.glob("x.*"))
    zh = run(*attempts["report"], "--lang", "zh", ok=False)
    assert "是普查员笔记本的数据库，不是中心库" in zh.stderr
    assert run("needs", code, "--db", str(laptop)).returncode == 0  # --db is the laptop's own


def test_sync_warns_when_no_buildings_are_assigned_to_the_laptops_inspector(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    """A laptop set up as 王方 when the work is assigned to 王芳 said 'pulled 0', nothing else."""
    central, form = new_central(tmp_path), FORM
    right, typo = laptops("王芳"), laptops("王方")
    code = create_building(right, mini, REGISTER_ROW, author="王芳").code
    run("sync", "--db", right.target, "--central", central, *form)
    codes = tmp_path / "codes.txt"
    codes.write_text(code, encoding="utf-8")
    run("assign", "--central", central, "--inspector", "王芳", "--buildings", str(codes), *form)
    ok = run("sync", "--db", right.target, "--central", central, *form)
    assert "warning" not in ok.stderr
    warned = run("sync", "--db", typo.target, "--central", central, *form)
    assert "pulled 0" in warned.stdout
    assert (
        "warning: no buildings are assigned to 王方 on the central (did you mean 王芳?"
        in warned.stderr
    )
    zh = run("sync", "--db", typo.target, "--central", central, "--lang", "zh", *form)
    assert "警告：中心库上没有分配给 王方 的楼栋（是不是 王芳？" in zh.stderr


def test_merging_the_central_into_itself_says_it_is_the_same_file(tmp_path: Path) -> None:
    """'merge central.db --into central.db' called the file a copy of the central."""
    central = tmp_path / "central.db"
    run("central", "init", str(central))
    same = run("merge", str(central), "--into", str(central), ok=False)
    assert same.returncode == 2
    assert "is the central store itself (the same file as --into)" in same.stderr
    assert "copy" not in same.stderr


def test_show_a_delete_race_without_a_false_base_and_a_status_edit_in_words(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """甲 deleted a building while 乙 only changed its status: 'conflicts show' printed
    "base: deleted the building" (the building existed before both) and "(edited: _status)"."""
    from surveyor.services.survey import set_status
    from surveyor.sync.actions import delete_building
    from surveyor.sync.transfer import pull

    central = new_central(tmp_path)
    hub = open_store(central)
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, hub, mini)
    assign(hub, mini, "乙", refs=[code], author="督导")
    pull(b, hub, mini)
    delete_building(a, mini, code, author="甲")
    set_status(b, mini, code, "draft", author="乙")
    push(a, hub, mini)
    push(b, hub, mini)
    hub.close()
    show = ("conflicts", "show", code, "_deleted", "--central", central, *FORM)
    en = run(*show).stdout
    assert "base" not in en and "deleted the building  甲" in en, en
    assert "edited: status  乙" in en and "_status" not in en, en
    zh = run(*show, "--lang", "zh").stdout
    assert "共同基础值" not in zh and "删除了楼栋  甲" in zh, zh
    assert "修改了：状态  乙" in zh and "_status" not in zh, zh


def test_a_laptop_whose_duplicate_was_merged_away_can_open_the_building_kept(
    backend: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """乙's building y was merged into 甲's x, never assigned to 乙: after syncing, 乙's laptop
    had y as an alias of a building it lacked, and show, needs and set said 'no building with
    id 01a2…'. The pull brings the building kept; until it is there, a sentence says so."""
    run("central", "init", backend)
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲").code
    y = create_building(b, mini, REGISTER_ROW, author="乙").code
    save_answers(b, mini, y, {"year_built": "1990"}, author="乙")
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", backend, *FORM)
    merge = ("conflicts", "resolve", y, "_duplicate", "--central", backend, "--merge-into", x)
    run(*merge, *FORM)
    # Before the pull: y is still live on 乙's laptop; a laptop that pulled only the alias (as
    # an older sync did) lacks x, and says so in words, never by a raw id.
    partial = laptops("乙")
    hub = open_store(backend)
    try:
        y_id = str(get_building(hub, y).id)
        with read_tx(hub.engine) as conn:
            only_y = load_entity_changes(conn, [y_id])[y_id]
    finally:
        hub.close()
    with write_tx(partial.engine) as conn:
        apply_changes(conn, only_y, mini, label="the central")
    missing = f"{y} was merged into another building, {x}, which is not on this laptop"
    shown = run("show", y, "--db", partial.target, *FORM)  # what the laptop holds of y
    assert missing in " ".join(shown.stdout.split()), shown.stdout
    zh = run("show", y, "--db", partial.target, "--lang", "zh", *FORM).stdout
    assert f"{y}是重复记录，已并入另一栋楼{x}，但该楼不在这台笔记本上" in "".join(zh.split())
    for args in (("needs", y, "--lang", "en"), ("set", y, "year_built=1991", *FORM)):
        lacking = run(*args, "--db", partial.target, ok=False)
        assert lacking.returncode == 2, args
        assert missing in lacking.stderr, (args, lacking.stderr)
        assert "no building with id" not in lacking.stderr
    # The sync brings x to 乙's laptop, though it was never assigned to 乙.
    for lap in (b, partial):
        run("sync", "--db", lap.target, "--central", backend, *FORM)
        shown = run("show", y, "--db", lap.target, *FORM).stdout
        assert f"merged into {x}" in shown
        kept = json.loads(run("show", x, "--db", lap.target, "--json", *FORM).stdout)
        assert kept["answers"]["year_built"] == 1990
        needs = run("needs", y, "--db", lap.target, "--json", "--lang", "en")
        assert json.loads(needs.stdout)["code"] == x
        edit = run("set", y, "year_built=1991", "--db", lap.target, *FORM, ok=False)
        assert f"{y} was merged into {x} (a duplicate); work on {x}" in edit.stderr


def resolve_command(shown: str) -> list[str]:
    """The command line 'conflicts show' prints to resolve it, up to its --seen '#tags'."""
    import shlex

    [hint] = [ln for ln in shown.splitlines() if ln.startswith("Resolve: surveyor ")]
    words = shlex.split(hint.removeprefix("Resolve: "))
    return words[1 : words.index("--seen") + 2]


def test_a_value_synced_after_the_supervisor_looked_is_never_closed_unseen(
    backend: str, laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """The supervisor looked at 甲's and 乙's values; 丙's arrived; 'resolve --value' closed 丙's
    unseen. The command 'show' prints names the values seen (--seen), so it is refused; without
    --seen, the resolution lists the values it closed."""
    run("central", "init", backend)
    hub = open_store(backend)
    a, b, c = laptops("甲"), laptops("乙"), laptops("丙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    sync(a, hub, mini)
    for laptop in (b, c):
        assign(hub, mini, laptop.meta("inspector") or "", refs=[code], author="督导")
        sync(laptop, hub, mini)
    for laptop, year, floors in ((a, "1962", "5"), (b, "1963", "6"), (c, "1961", "")):
        edits = {"year_built": year} | ({"floors_above": floors} if floors else {})
        save_answers(laptop, mini, code, edits, author=laptop.meta("inspector"))
    sync(a, hub, mini)
    sync(b, hub, mini)
    show = ("conflicts", "show", code, "year_built", "--central", backend, *FORM)
    looked = run(*show).stdout
    # The line to copy says whose resolution it is: the name set in the settings file (the
    # tests' own names 测试督导), else a placeholder to replace, never the login name.
    assert " --by 测试督导 --" in looked.splitlines()[-1], looked
    nameless = {**os.environ, "SURVEYOR_CONFIG": str(tmp_path / "none.toml")}
    for lang, placeholder in (("en", "NAME"), ("zh", "你的姓名")):
        shown = ["surveyor", *show, "--lang", lang]
        said = subprocess.run(shown, env=nameless, capture_output=True, text=True).stdout
        assert f" --by {placeholder} --" in said.splitlines()[-1], said
    command = resolve_command(looked)
    seen = command[-1].split(",")
    assert len(seen) == 2 and all(f"{tag}" in looked for tag in seen), looked
    assert command[:5] == ["conflicts", "resolve", code, "year_built", "--central"]
    sync(c, hub, mini)  # 丙's 1961 arrives after the supervisor looked
    refused = run(*command, "--value", "1970", *FORM, ok=False)
    assert refused.returncode == 2
    assert "this conflict changed since it was shown (a later sync); show it again" in (
        refused.stderr
    )
    assert "1961" in run(*show).stdout and "Resolve:" in run(*show).stdout  # still open
    assert get_building(hub, code).answers["year_built"] != 1970
    again = run(*show).stdout
    done = run(*resolve_command(again), "--value", "1970", "--by", "李督导", *FORM)
    assert "values closed" not in done.stdout  # all three were seen
    assert get_building(hub, code).answers["year_built"] == 1970
    # Without --seen, what was closed is said, each value with its #tag.
    floors = ("conflicts", "resolve", code, "floors_above", "--central", backend, *FORM)
    closed = run(*floors, "--value", "7").stdout.splitlines()
    assert closed[1] == "values closed (no --seen was given: check them):", closed
    assert sorted(ln.split()[1] for ln in closed[2:]) == ["5", "6"], closed
    assert all("#" in ln for ln in closed[2:])
    bad = run(*floors, "--value", "7", "--seen", "1984", ok=False)
    assert bad.returncode == 2 and "--seen 1984 is not the #tags" in bad.stderr
    hub.close()


def test_the_printed_resolve_command_hides_only_a_password() -> None:
    from surveyor.cli.sync_cmds import _typed_target

    assert _typed_target("postgresql://sv:s3cret@db.local/census") == (
        "postgresql://sv:PASSWORD@db.local/census"
    )
    assert _typed_target("postgresql://sv@/census?host=/run") == "postgresql://sv@/census?host=/run"
    assert _typed_target("/srv/central.db") == "/srv/central.db"


def test_a_supervisor_sets_and_shows_a_value_on_the_central(
    laptops: Callable[[str], Store], mini: Form, backend: str
) -> None:
    """On a PostgreSQL central there was no command to change a value: `set` and `show` took
    only --db (a file), and the refusal to resolve a conflict twice suggested `set --db URL`."""
    run("central", "init", backend)
    a = laptops("甲")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    hub = open_store(backend)
    sync(a, hub, mini)
    hub.close()
    said = run("set", "--central", backend, code, "year_built=1968", "--by", "李督导", *FORM)
    assert said.stdout.startswith(f"{code}: saved")
    shown = json.loads(run("show", code, "--central", backend, "--json", *FORM).stdout)
    assert shown["answers"]["year_built"] == 1968
    both = run("set", "--db", a.target, "--central", backend, code, "year_built=1", ok=False)
    assert both.returncode == 2 and "give either --db or --central, not both" in both.stderr
    laptop = run("set", "--central", a.target, code, "year_built=1", ok=False)
    assert laptop.returncode == 2 and "not a central store" in laptop.stderr
    hub = open_store(backend)
    try:  # the supervisor's value reaches the laptop like any change
        sync(a, hub, mini)
    finally:
        hub.close()
    assert get_building(a, code).answers["year_built"] == 1968


def test_a_supervisor_imports_the_register_and_approves_on_the_central(
    backend: str, tmp_path: Path
) -> None:
    """A PostgreSQL central could not be given the register nor have a record approved:
    `register import` and `status` took only --db (a file), which refuses a URL saying "a
    central store is given with --central", and `status --central` was "No such option"."""
    run("central", "init", backend)
    register = tmp_path / "register.csv"
    register.write_text(
        "街道,社区,小区名称,楼号,门牌地址\n万兴街道,宜宾里社区,宜宾东里,1号楼,南开区宜宾道1号\n",
        encoding="utf-8",
    )
    imported = run(
        "register", "import", str(register), "--central", backend, "--by", "李督导", *FORM
    )
    assert "imported 1" in imported.stdout, imported.stdout
    hub = open_store(backend)
    try:
        [code] = [row.code for row in list_buildings(hub).rows]
    finally:
        hub.close()
    answers = ("year_built=1984", "floors_above=6", "has_elevator=false", "seismic_retrofit=no")
    run("set", "--central", backend, code, *answers, "--by", "李督导", *FORM)
    status = ("status", code, "--central", backend, "--by", "李督导", *FORM)
    assert run(*status[:2], "complete", *status[2:]).stdout.strip() == f"{code}: complete"
    assert run(*status[:2], "approved", *status[2:]).stdout.strip() == f"{code}: approved"
    hub = open_store(backend)
    try:
        assert get_building(hub, code).status == "approved"
        with read_tx(hub.engine) as conn:
            authors = {a for (a,) in conn.exec_driver_sql("SELECT author FROM change")}
    finally:
        hub.close()
    assert authors == {"李督导"}
    both = run(*status[:2], "approved", *status[2:], "--db", str(tmp_path / "x.db"), ok=False)
    assert both.returncode == 2 and "give either --db or --central, not both" in both.stderr


def test_assign_refuses_a_deleted_building_and_says_where_a_merged_duplicate_went(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """A deleted code was "assigned 1 building(s) to 王芳"; a duplicate merged into another was
    also taken, silently, from the inspector who had it."""
    central = new_central(tmp_path)
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲").code
    y = create_building(b, mini, REGISTER_ROW, author="乙").code
    gone = create_building(a, mini, {**REGISTER_ROW, "address": "南开区宜宾道14号"}, author="甲")
    hub = open_store(central)
    push(a, hub, mini)
    push(b, hub, mini)
    assign(hub, mini, "乙", refs=[y], author="督导")
    resolve_conflict(hub, mini, y, "_duplicate", Choice("merge_into", value=x), author="督导")
    delete_building(hub, mini, gone.code, author="督导")
    before = dump(hub)
    hub.close()
    assign_ = ("assign", "--central", central, "--inspector", "王芳", "--new-inspector", *FORM)
    listed = tmp_path / "codes.txt"
    listed.write_text(f"{x}\n{gone.code}\n{y}\n", encoding="utf-8")
    refused = run(*assign_, "--buildings", str(listed), ok=False)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: {listed}:2: building {gone.code} is deleted (and 1 more line(s) name a "
        "deleted building); nothing was assigned"
    )
    listed.write_text(f"{x}\n{y}\n", encoding="utf-8")
    merged = run(*assign_, "--buildings", str(listed), ok=False)
    assert merged.stderr.strip() == (
        f"error: {listed}:2: {y} was merged into {x} (a duplicate); assign {x} instead; "
        "nothing was assigned"
    )
    zh = run(*assign_, "--buildings", str(listed), "--lang", "zh", ok=False)
    assert zh.stderr.strip() == (
        f"错误：{listed}:2：{y} 是重复记录，已并入 {x}；请分配 {x}；未分配任何任务"
    )
    hub = open_store(central)
    try:
        assert dump(hub) == before  # nothing written: y is still 乙's
    finally:
        hub.close()


def test_a_supervisors_set_on_a_conflicted_field_says_the_conflict_stays_open(
    laptops: Callable[[str], Store], mini: Form, backend: str
) -> None:
    """`set --central` on a field in conflict said only "saved (draft, 16% complete)": the
    value became one of the conflict's values, and the conflict stayed open unsaid."""
    run("central", "init", backend)
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    hub = open_store(backend)
    push(a, hub, mini)
    assign(hub, mini, "乙", refs=[code], author="督导")
    pull(b, hub, mini)
    save_answers(a, mini, code, {"year_built": "1984"}, author="甲")
    save_answers(b, mini, code, {"year_built": "1990"}, author="乙")
    push(a, hub, mini)
    push(b, hub, mini)
    hub.close()
    set_ = ("set", "--central", backend, code, "--by", "李督导", *FORM)
    said = run(*set_, "year_built=1970").stdout.splitlines()
    assert said[0].startswith(f"{code}: saved")
    assert said[1:] == [
        "  year_built: the conflict stays open; the value saved is one of its values now. "
        f"Resolve it: surveyor conflicts show {code} year_built --central {shlex.quote(backend)} "
        "(then resolve it as that says)"
    ]
    zh = run(*set_, "建成年份=1971", "--lang", "zh").stdout.splitlines()
    assert zh[1:] == [
        "  建成年份：冲突仍未解决，刚保存的值是其中一个取值。请裁定："
        f"surveyor conflicts show {code} year_built --central {shlex.quote(backend)}"
        "（再按其提示解决）"
    ]
    assert run(*set_, "floors_above=6").stdout.count("\n") == 1  # no conflict there


def test_sync_says_answers_of_fields_the_form_does_not_know(
    laptops: Callable[[str], Store], tmp_path: Path
) -> None:
    """A laptop on a newer form synced without a word: the answers it holds of fields the
    form of this Surveyor lacks are kept, but no export shows them."""
    import yaml

    from surveyor.forms.model import form_from_data

    raw = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    raw["version"] = "0.2"
    raw["sections"][1]["fields"].append(
        {"id": "roof_colour", "type": "text", "label": {"zh": "屋顶颜色", "en": "Roof colour"}}
    )
    newer = form_from_data(raw, "newer form")
    central = new_central(tmp_path)
    lap = laptops("新")
    code = create_building(lap, newer, REGISTER_ROW, author="新").code
    save_answers(lap, newer, code, {"roof_colour": "红"}, author="新")
    said = run("sync", "--db", lap.target, "--central", central, *FORM).stdout.splitlines()
    assert said[1] == (
        "1 answer(s) of fields this form does not know were kept (form 0.2); "
        "upgrade Surveyor to see them"
    ), said
    again = run("sync", "--db", lap.target, "--central", central, "--lang", "zh", *FORM)
    assert "不认识的字段" not in again.stdout  # nothing new arrived


def _status_conflict(laptops: Callable[[str], Store], mini: Form, hub: Store) -> str:
    """A building whose status two inspectors changed concurrently: 甲 reopened it as a draft
    while 乙 corrected an answer and marked it complete again."""
    from surveyor.services.survey import set_status

    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    answers = {"year_built": "1984", "floors_above": "5", "has_elevator": "no"}
    save_answers(a, mini, code, {**answers, "seismic_retrofit": "no"}, author="甲")
    set_status(a, mini, code, "complete", author="甲")
    push(a, hub, mini)
    assign(hub, mini, "乙", refs=[code], author="督导")
    pull(b, hub, mini)
    set_status(a, mini, code, "draft", author="甲")
    save_answers(b, mini, code, {"year_built": ""}, author="乙", draft=True)
    save_answers(b, mini, code, {"year_built": "1985"}, author="乙")
    set_status(b, mini, code, "complete", author="乙")
    push(a, hub, mini)
    push(b, hub, mini)
    return code


def test_a_status_conflict_is_shown_and_resolved_by_the_key_the_list_prints(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """'conflicts list' printed "status (_status)", and 'conflicts show … _status' (or
    status, 状态) said "the form has no field '_status'; did you mean 'heritage_status'?":
    a status conflict could be neither shown nor resolved from the command line."""
    central = new_central(tmp_path)
    hub = open_store(central)
    code = _status_conflict(laptops, mini, hub)
    hub.close()
    listed = run("conflicts", "list", "--central", central, *FORM).stdout
    assert "status (_status)" in listed
    for key in ("_status", "status", "Status", "状态"):
        shown = run("conflicts", "show", code, key, "--central", central, *FORM).stdout
        assert "[1] draft" in shown and "[2] complete" in shown, (key, shown)
    zh = run("conflicts", "show", code, "状态", "--central", central, "--lang", "zh", *FORM)
    assert "：状态（同时修改，待审核）" in zh.stdout
    resolve = ("conflicts", "resolve", code, "_status", "--central", central, "--by", "督导")
    bad = run(*resolve, "--value", "finished", *FORM, ok=False)
    assert bad.returncode == 2 and "'finished' is not a status" in bad.stderr, bad.stderr
    assert "resolved: status is draft (甲's value)" in run(*resolve, "--pick", "1", *FORM).stdout
    assert "0 conflict(s)" in run("conflicts", "list", "--central", central).stdout


def test_a_drafts_refused_value_is_marked_and_cannot_be_taken(
    backend: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """One laptop saved storeys "abc" as a draft, another 5: the review showed "[2] abc
    storeys" as any value (the sheet prints "abc（待更正）"), and taking it resolved to "abc",
    while typing 3000 was refused by the field's rule."""
    run("central", "init", backend)
    hub = open_store(backend)
    a, b = laptops("甲"), laptops("乙")
    code = create_building(a, mini, REGISTER_ROW, author="甲").code
    push(a, hub, mini)
    assign(hub, mini, "乙", refs=[code], author="督导")
    pull(b, hub, mini)
    save_answers(a, mini, code, {"floors_above": "abc"}, author="甲", draft=True)
    save_answers(b, mini, code, {"floors_above": "5"}, author="乙")
    push(a, hub, mini)
    push(b, hub, mini)
    hub.close()
    show = ("conflicts", "show", code, "floors_above", "--central", backend, *FORM)
    en = run(*show).stdout
    assert "abc (to correct)  甲" in en and "] 5  乙" in en, en
    zh = run(*show, "--lang", "zh").stdout
    assert "abc（待更正）  甲" in zh, zh
    pick = "1" if "[1] abc" in en else "2"
    resolve = ("conflicts", "resolve", code, "floors_above", "--central", backend, "--by", "督导")
    taken = run(*resolve, "--pick", pick, *FORM, ok=False)
    assert taken.returncode == 2, taken.stdout
    assert (
        "'abc' is not a valid value for Storeys (floors_above): must be a whole number; it "
        "cannot be taken: type the right value" in taken.stderr
    ), taken.stderr
    assert "1 conflict(s)" in run("conflicts", "list", "--central", backend).stdout
    other = "2" if pick == "1" else "1"
    assert "Storeys is 5 (乙's value)" in run(*resolve, "--pick", other, *FORM).stdout


def test_an_inspector_whose_work_moved_on_is_still_known(
    backend: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """王芳 was given work (--new-inspector), then it all moved to 李明: 'assign --inspector
    王芳' said "no inspector named 王芳 has buildings or edits here", though the central held
    the assignments to her; and a typo 王 got no did-you-mean."""
    from surveyor.errors import SurveyorError
    from surveyor.services.selection import parse_selection
    from surveyor.store.db import init_store

    central = init_store(backend, role="central")
    try:
        a = laptops("甲")
        create_building(a, mini, REGISTER_ROW, author="甲")
        push(a, central, mini)
        where = parse_selection(mini, ["街道=万兴街道"], None)
        assign(central, mini, "王芳", where=where, author="督导")  # as --new-inspector
        assign(central, mini, "李明", where=where, author="督导")
        again = assign(central, mini, "王芳", where=where, author="督导", require_known=True)
        assert again.count == 1 and again.taken_from == {"李明": 1}
        assign(central, mini, "李明", where=where, author="督导")
        with pytest.raises(SurveyorError, match="no inspector named 王 ") as typo:
            assign(central, mini, "王", where=where, author="督导", require_known=True)
        assert "Did you mean 王芳" in str(typo.value)
    finally:
        central.close()


def test_assign_unassign_hands_buildings_back_to_nobody_and_the_laptop_sees_it(
    tmp_path: Path, laptops: Callable[[str], Store], mini: Form
) -> None:
    """A building handed out by mistake could only be handed to another inspector: there was
    no way back to nobody. ``assign --unassign`` (same --where / --buildings choice) writes it
    in the log, and the laptop that had the buildings sees them unassigned after its sync."""
    central, form = new_central(tmp_path), FORM
    lap = laptops("王芳")
    codes = [
        create_building(lap, mini, REGISTER_ROW | {"building_no": f"{n}号楼"}, author="王芳").code
        for n in (1, 2, 3)
    ]
    run("sync", "--db", lap.target, "--central", central, *form)
    listed = tmp_path / "codes.txt"
    listed.write_text("\n".join(codes), encoding="utf-8")
    to_her = ("assign", "--central", central, "--inspector", "王芳", "--buildings", str(listed))
    run(*to_her, *form)
    run("sync", "--db", lap.target, "--central", central, *form)

    def holders() -> dict[str, str | None]:
        return {r.code: r.assigned_to for r in list_buildings(lap, limit=10).rows}

    assert holders() == dict.fromkeys(codes, "王芳")

    one = tmp_path / "one.txt"
    one.write_text(codes[0], encoding="utf-8")
    back = ("assign", "--central", central, "--unassign")
    out = run(*back, "--buildings", str(one), *form).stdout
    assert "handed 1 building(s) back to nobody (unassigned)" in out
    assert "1 of them were assigned to 王芳 until now" in out
    zh = run(*back, "--where", "街道=万兴街道", "--lang", "zh", *form).stdout
    assert "已取消 2 栋楼的分配，现在无人负责" in zh and "其中 2 栋此前分配给 王芳" in zh
    again = run(*back, "--where", "街道=万兴街道", *form).stdout
    assert "handed 0 building(s) back to nobody" in again
    run("sync", "--db", lap.target, "--central", central, *form)
    assert holders() == dict.fromkeys(codes, None)
    check_store(lap, mini)

    for wrong in ((*back, "--inspector", "王芳"), back[:3]):
        refused = run(*wrong, "--buildings", str(one), *form, ok=False)
        assert refused.returncode == 2
        assert "give the inspector with --inspector NAME, or --unassign" in refused.stderr
    zh_refused = run(*back[:3], "--buildings", str(one), "--lang", "zh", *form, ok=False)
    assert "请用 --inspector 姓名 指定调查员，或用 --unassign 取消分配" in zh_refused.stderr
