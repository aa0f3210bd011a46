"""The supervisor's commands as a supervisor working in Chinese reads them (the real
``surveyor`` command): every resolution in words, full-width colons, fields by label."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from surveyor.forms.model import Form
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import Store, open_store
from surveyor.sync.actions import assign, delete_building
from surveyor.sync.merge import merge_files
from surveyor.sync.progress import progress
from tests.conftest import REGISTER_ROW
from tests.sync.test_sync_cli import FORM, new_central, run


def two_inspectors_disagree(
    central: str, laptops: Callable[[str], Store], mini: Form, answers: dict[str, tuple[str, str]]
) -> tuple[str, Store, Store]:
    """王芳's building, also assigned to 李强 after it was surveyed (1980, 5 storeys); then
    each sets ``answers`` (field: (王芳's, 李强's)) and both sync: a conflict on each field,
    with the first survey as its base."""
    a, b = laptops("王芳"), laptops("李强")
    code = create_building(a, mini, REGISTER_ROW, author="王芳").code
    save_answers(a, mini, code, {"year_built": "1980", "floors_above": "5"}, author="王芳")
    run("sync", "--db", a.target, "--central", central, *FORM)
    hub = open_store(central)
    try:
        assign(hub, mini, "李强", refs=[code], author="督导")
    finally:
        hub.close()
    run("sync", "--db", b.target, "--central", central, *FORM)
    save_answers(a, mini, code, {k: v[0] for k, v in answers.items()}, author="王芳")
    save_answers(b, mini, code, {k: v[1] for k, v in answers.items()}, author="李强")
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", central, *FORM)
    return code, a, b


def test_every_resolution_says_what_was_taken_in_words(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """`--value 1986` printed "已解决（resolve 改动 01a20e39-d856-…）": the word resolve and a raw
    id, no value; `--pick` said "已解决：建成年份 取 1984（王芳 的值）". Every form now says it."""
    central = new_central(tmp_path)
    disagree = {"year_built": ("1984", "1990"), "floors_above": ("6", "7")}
    code, a, _ = two_inspectors_disagree(central, laptops, mini, disagree)
    resolve = ("conflicts", "resolve", code, "--central", central, "--by", "王主管", *FORM)
    typed = run(*resolve[:3], "建成年份", *resolve[3:], "--value", "1986", "--lang", "zh")
    assert typed.stdout.splitlines()[0] == "已解决：建成年份 取 1986（新输入的值）", typed.stdout
    base = run(*resolve[:3], "floors_above", *resolve[3:], "--base")
    assert base.stdout.splitlines()[0] == "resolved: Storeys is 5 (the common base value)"
    # A delete that raced an edit: kept, in words.
    hub = open_store(central)
    try:
        delete_building(hub, mini, code, author="王主管")
    finally:
        hub.close()
    save_answers(a, mini, code, {"floors_above": "8"}, author="王芳")
    run("sync", "--db", a.target, "--central", central, *FORM)
    kept = run(*resolve[:3], "_deleted", *resolve[3:], "--keep", "--lang", "zh")
    assert kept.stdout.splitlines()[0] == f"已解决：保留楼栋 {code}", kept.stdout
    for said in (typed.stdout, base.stdout, kept.stdout):
        assert "resolve 改动" not in said and "change 0" not in said


def test_show_lists_the_open_conflicts_a_laptop_holds(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """`show --help` promises "open problems", but `show --db lm.db CODE` printed no conflict
    while the laptop held three for that building."""
    central = new_central(tmp_path)
    disagree = {
        "year_built": ("1984", "1990"),
        "floors_above": ("6", "7"),
        "gas_pipe_year": ("2001", "2003"),
    }
    code, a, _ = two_inspectors_disagree(central, laptops, mini, disagree)
    run("sync", "--db", a.target, "--central", central, *FORM)  # brings 李强's side
    zh = run("show", "--db", a.target, code, "--lang", "zh", *FORM).stdout
    assert "未解决的冲突 3 处（由主管裁定）：" in zh, zh
    lines = [line.strip() for line in zh.splitlines()]
    year = next(line for line in lines if line.startswith("建成年份：冲突"))
    assert "1984（王芳，" in year and "1990（李强，" in year, year
    # Each whole on its line when piped, the time of the last value too.
    for label in ("建成年份", "地上层数", "燃气管年份"):
        said = next(line for line in lines if line.startswith(f"{label}：冲突，待主管裁定："))
        assert re.search(r"（李强，\d{4}-\d\d-\d\d \d\d:\d\d）$", said), said
    en = run("show", "--db", a.target, code, *FORM).stdout
    assert "3 open conflict(s) (a supervisor decides):" in en
    shown = json.loads(run("show", "--db", a.target, code, "--json", *FORM).stdout)
    fields = {c["field"]: c for c in shown["open_conflicts"]}
    assert sorted(fields) == ["floors_above", "gas_pipe_year", "year_built"]
    year_values = fields["year_built"]["values"]
    assert {(v["value"], v["by"]) for v in year_values} == {(1984, "王芳"), (1990, "李强")}
    # Resolved on the central and synced: no longer listed.
    run("conflicts", "resolve", code, "year_built", "--central", central, "--pick", "1", *FORM)
    run("sync", "--db", a.target, "--central", central, *FORM)
    after = run("show", "--db", a.target, code, "--lang", "zh", *FORM).stdout
    assert "未解决的冲突 2 处" in after and "建成年份：冲突" not in after


def test_a_demolished_building_is_deleted_from_the_command_line(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """No command deleted a building: a demolished register building stayed in every list.
    `surveyor delete` writes the delete change (asked first, or --yes); it syncs, and a delete
    racing an edit is a conflict for review."""
    central = new_central(tmp_path)
    a, b = laptops("王芳"), laptops("李强")
    gone = create_building(a, mini, REGISTER_ROW, author="王芳").code
    raced = create_building(a, mini, REGISTER_ROW | {"address": "南开区宜宾道14号"}, author="王芳")
    run("sync", "--db", a.target, "--central", central, *FORM)
    hub = open_store(central)
    try:
        assign(hub, mini, "李强", refs=[raced.code], author="督导")
    finally:
        hub.close()
    run("sync", "--db", b.target, "--central", central, *FORM)
    delete = ("delete", "--central", central, "--by", "王主管", *FORM)
    # Piped without --yes: refused, nothing written.
    unasked = run(*delete[:1], gone, *delete[1:], "--lang", "zh", ok=False)
    assert unasked.returncode == 2
    assert unasked.stderr.startswith(f"错误：删除 {gone} 需要确认：")
    # In a terminal it asks; "n" keeps it.
    line = " ".join(["surveyor", delete[0], gone, *delete[1:], "--lang", "zh"])
    kept = subprocess.run(
        ["script", "-qec", line, "/dev/null"], input="n\n", capture_output=True, text=True
    )
    assert kept.returncode == 1 and f"删除楼栋 {gone} 南开区宜宾道12号？" in kept.stdout
    assert (
        json.loads(run("show", gone, "--central", central, "--json", *FORM).stdout)["deleted"]
        is False
    )
    done = run(*delete[:1], gone, *delete[1:], "--yes", "--lang", "zh")
    assert done.stdout == f"已删除楼栋 {gone}\n"
    shown = json.loads(run("show", gone, "--central", central, "--json", *FORM).stdout)
    assert shown["deleted"] is True
    again = run(*delete[:1], gone, *delete[1:], "--yes", "--lang", "zh", ok=False)
    assert again.returncode == 2 and again.stderr == f"错误：楼栋 {gone} 已经删除；未作改动\n"
    unknown = run(*delete[:1], "NK-00000-00000", *delete[1:], "--yes", ok=False)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1, unknown.stderr
    # The delete reaches the laptop; an edit made without seeing it races it: a conflict.
    save_answers(b, mini, raced.code, {"year_built": "1970"}, author="李强")
    run(*delete[:1], raced.code, *delete[1:], "--yes")
    run("sync", "--db", b.target, "--central", central, *FORM)
    listed = run("conflicts", "list", "--central", central, *FORM).stdout
    assert raced.code in listed and "delete raced an edit" in listed
    # An inspector may delete on the laptop (--db): it reaches the central on sync.
    run("sync", "--db", a.target, "--central", central, *FORM)
    assert json.loads(run("show", gone, "--db", a.target, "--json", *FORM).stdout)["deleted"]
    third = create_building(a, mini, REGISTER_ROW | {"address": "南开区宜宾道16号"}, author="王芳")
    run("delete", third.code, "--db", a.target, "--yes", *FORM)
    run("sync", "--db", a.target, "--central", central, *FORM)
    on_central = run("show", third.code, "--central", central, "--json", *FORM).stdout
    assert json.loads(on_central)["deleted"] is True


def test_conflicts_show_offers_only_what_the_conflict_has(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """Two inspectors each set a field first: there is no base, yet the hint offered --base
    (which `resolve` then refused)."""
    central = new_central(tmp_path)
    a, b = laptops("王芳"), laptops("李强")
    code = create_building(a, mini, REGISTER_ROW, author="王芳").code
    run("sync", "--db", a.target, "--central", central, *FORM)
    hub = open_store(central)
    try:
        assign(hub, mini, "李强", refs=[code], author="督导")
    finally:
        hub.close()
    run("sync", "--db", b.target, "--central", central, *FORM)
    save_answers(a, mini, code, {"year_built": "1984"}, author="王芳")
    save_answers(b, mini, code, {"year_built": "1990"}, author="李强")
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", central, *FORM)
    show = ("conflicts", "show", code, "建成年份", "--central", central, *FORM)
    zh = run(*show, "--lang", "zh").stdout
    assert "（无共同基础值）" in zh and "--pick N 或 --pick '#标记'（或 --value 值）" in zh, zh
    assert "--base" not in zh
    assert "--base" not in run(*show).stdout


def test_a_merged_duplicate_says_how_it_was_resolved(
    backend: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """After a duplicate was merged, `conflicts show CODE _duplicate` said "没有冲突": it is
    resolved, and says how, by whom and when, on either building (both backends)."""
    central = backend
    run("central", "init", central)
    a, b = laptops("王芳"), laptops("李强")
    x = create_building(a, mini, REGISTER_ROW, author="王芳").code
    y = create_building(b, mini, REGISTER_ROW, author="李强").code
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", central, *FORM)
    merge = ("conflicts", "resolve", y, "_duplicate", "--central", central, "--merge-into", x)
    run(*merge, "--by", "王主管", *FORM)
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    for code, said in (
        (y, rf"{y} 的疑似重复已解决：王主管 于 {when} 把它并入 {x}"),
        (x, rf"{x} 的疑似重复已解决：王主管 于 {when} 把 {y} 并入本楼"),
    ):
        shown = run(
            "conflicts", "show", code, "同一地址的楼栋", "--central", central, "--lang", "zh"
        )
        assert re.fullmatch(said + "\n", shown.stdout), shown.stdout
    en = run("conflicts", "show", y, "_duplicate", "--central", central).stdout
    assert re.fullmatch(
        rf"the possible duplicate {y} is resolved: 王主管 merged it into {x} on {when}\n", en
    )
    # Deleted instead of merged: said so on both.
    other = REGISTER_ROW | {"address": "南开区宜宾道20号"}
    p = create_building(a, mini, other, author="王芳").code
    q = create_building(b, mini, other, author="李强").code
    for lap in (a, b):
        run("sync", "--db", lap.target, "--central", central, *FORM)
    run("conflicts", "resolve", q, "_duplicate", "--central", central, "--delete", "--by", "王主管")
    for code, said in (
        (q, rf"{q} 的疑似重复已解决：王主管 于 {when} 删除了它"),
        (p, rf"{p} 的疑似重复已解决：王主管 于 {when} 删除了 {q}"),
    ):
        shown = run("conflicts", "show", code, "_duplicate", "--central", central, "--lang", "zh")
        assert re.fullmatch(said + "\n", shown.stdout), shown.stdout
    # A field that never was in conflict is said by its label.
    none = run("conflicts", "show", x, "year_built", "--central", central, "--lang", "zh", ok=False)
    assert none.returncode == 2 and none.stderr == f"错误：{x} 的「建成年份」没有冲突\n"


def test_progress_counts_a_building_an_inspector_added_under_that_inspector(
    backend: str, laptops: Callable[[str], Store], mini: Form
) -> None:
    """A building 王芳 added on her laptop (ctrl+n) counted as （未分配） by inspector. It is
    hers; one the central made itself (the register) stays unassigned; the sums still agree."""
    run("central", "init", backend)
    hub = open_store(backend)
    try:
        listed = [
            create_building(hub, mini, REGISTER_ROW | {"address": f"南开区{n}号"}, author="王主管")
            for n in (1, 2)
        ]
        assign(hub, mini, "王芳", refs=[listed[0].code], author="王主管")
    finally:
        hub.close()
    a = laptops("王芳")
    run("sync", "--db", a.target, "--central", backend, *FORM)
    create_building(a, mini, REGISTER_ROW | {"address": "南开区3号"}, author="王芳")
    run("sync", "--db", a.target, "--central", backend, *FORM)
    tables = json.loads(run("progress", "--central", backend, "--json", *FORM).stdout)
    by_inspector = {k: sum(v.values()) for k, v in tables["inspector"].items()}
    assert by_inspector == {"王芳": 2, "(unassigned)": 1}
    by_subdistrict = sum(sum(v.values()) for v in tables["街道"].values())
    assert sum(by_inspector.values()) == by_subdistrict == 3
    zh = run("progress", "--central", backend, "--lang", "zh", *FORM).stdout
    [row] = [line.split() for line in zh.splitlines() if line.startswith("王芳")]
    assert row == ["王芳", "2", "0", "0", "0", "0"], zh
    # On her laptop too: the building she added there is hers (on a laptop the register's
    # buildings come from the central's site, her own from this one).
    _by_street, by_inspector_here = progress(a)  # the app's progress screen on a laptop
    assert {k: sum(r.values()) for k, r in by_inspector_here.rows.items()} == {"王芳": 2}


def test_resolving_a_field_with_no_conflict_names_it_by_its_label(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """ "这栋楼的字段「year_built」没有冲突": the field's id in a Chinese sentence."""
    central = new_central(tmp_path)
    code, _, _ = two_inspectors_disagree(central, laptops, mini, {"year_built": ("1984", "1990")})
    resolve = ("conflicts", "resolve", code, "floors_above", "--central", central, *FORM)
    said = run(*resolve, "--by", "王主管", "--base", "--lang", "zh", ok=False)
    assert said.returncode == 2 and "year_built" not in said.stderr
    assert said.stderr.strip() == "错误：这栋楼的「地上层数」没有冲突", said.stderr


def test_progress_lists_no_register_builder_as_an_inspector(
    central: Store, laptops: Callable[[str], Store], export: Callable[[Store], Path], mini: Form
) -> None:
    """A register built on a laptop (as ``surveyor sample`` does) listed its builder,
    孙红（督导）, as the inspector of every building, on the laptop and on the central after
    the merge: a supervisor saw nothing left to hand out. Nobody was assigned them, so they
    are （未分配）; once some are assigned, those count under the inspector given them."""
    laptop = laptops("张伟")
    codes = [
        create_building(
            laptop, mini, REGISTER_ROW | {"address": f"南开区{n}号"}, author="孙红（督导）"
        ).code
        for n in (1, 2, 3)
    ]
    save_answers(laptop, mini, codes[0], {"year_built": "1980"}, author="张伟")

    def by_inspector(store: Store) -> dict[str, int]:
        by_street, by_whom = progress(store)
        counted = {k: sum(r.values()) for k, r in by_whom.rows.items()}
        assert sum(by_street.total.values()) == sum(counted.values())  # the same buildings
        return counted

    assert by_inspector(laptop) == {"(unassigned)": 3}
    merge_files(central, [export(laptop)], mini)
    assert by_inspector(central) == {"(unassigned)": 3}
    assign(central, mini, "张伟", refs=codes[:1], author="孙红（督导）")
    assert by_inspector(central) == {"(unassigned)": 2, "张伟": 1}
    zh = run("progress", "--central", central.target, "--lang", "zh", *FORM).stdout
    rows = {line.split()[0]: line.split()[1:] for line in zh.splitlines()[-4:] if line.strip()}
    assert rows["（未分配）"] == ["2", "0", "0", "0", "0"] and "孙红（督导）" not in zh, zh
