"""The review's filter: conflicts by kind, 街道, inspector and building text, with counts per
kind and per 街道 (a central of 3,248 open items, mostly duplicate flags, took ~190
PageDowns to reach one field conflict)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.services.survey import create_building
from surveyor.store.db import Store, open_store
from surveyor.sync.actions import assign
from surveyor.sync.progress import NO_SUBDISTRICT, UNASSIGNED
from surveyor.sync.review import (
    ConflictFilter,
    count_by,
    count_conflicts,
    group_counts,
    kinds_named,
    list_conflicts,
)
from surveyor.sync.rows import CONFLICT
from surveyor.sync.wording import filter_text, kind_counts_text
from tests.conftest import REGISTER_ROW, mint_codes
from tests.sync.test_sync_cli import FORM, new_central, run


def _building(store: Store, mini: Form, **answers: str) -> str:
    return create_building(store, mini, REGISTER_ROW | answers, author="督导").code


def _conflicts(store: Store, rows: list[tuple[str, str, str, str]]) -> None:
    """(code, field, kind, status) rows written as they stand after a merge: what is listed
    is read from the conflict and building tables alone."""
    with store.engine.begin() as conn:
        ids = dict(conn.execute(sa.text("SELECT code, id FROM building")).all())
        conn.execute(
            CONFLICT.insert(),
            [
                {
                    "entity_id": ids[code]
                    if isinstance(ids[code], uuid.UUID)
                    else uuid.UUID(ids[code]),
                    "field_key": field,
                    "kind": kind,
                    "head_change_ids": [str(uuid.uuid4()), str(uuid.uuid4())],
                    "status": status,
                }
                for code, field, kind, status in rows
            ],
        )


def _register(central: Store, mini: Form) -> dict[str, str]:
    """宜宾东里 13号楼 (万兴, 李明): two field conflicts; 宜宾东里 3号楼 (万兴, 王芳): a duplicate
    flag and a resolved conflict; 学府's building (nobody assigned): a delete race. 3号楼's
    code holds 13, as a random one did once (NK-V6BXV-B13WE), for 「宜宾 13」 not to find it."""
    with pytest.MonkeyPatch.context() as patch:
        mint_codes(patch, "NK-AAAAA-AAAAA", "NK-V6BXV-B13WE", "NK-XFXFX-XFXFX")
        codes = {
            "yb13": _building(central, mini, building_no="13号楼", address="南开区宜宾道13号"),
            "yb3": _building(central, mini),
            "xf": _building(
                central,
                mini,
                subdistrict="xuefu",
                compound_name="学府花园",
                address="南开区学府路1号",
            ),
        }
    assign(central, mini, "李明", refs=[codes["yb13"]], author="督导")
    assign(central, mini, "王芳", refs=[codes["yb3"]], author="督导")
    _conflicts(
        central,
        [
            (codes["yb13"], "year_built", "hard", "open"),
            (codes["yb13"], "floors_above", "soft", "open"),
            (codes["yb3"], "_duplicate", "duplicate_entity", "open"),
            (codes["yb3"], "gas_pipe_year", "hard", "resolved"),
            (codes["xf"], "_deleted", "delete_vs_edit", "open"),
        ],
    )
    return codes


def _listed(store: Store, where: ConflictFilter | None = None) -> list[tuple[str, str]]:
    return [(r.code, r.field_key) for r in list_conflicts(store, where=where)]


def test_a_filter_keeps_a_kind_a_subdistrict_an_inspector_or_the_buildings_a_search_finds(
    central: Store, mini: Form
) -> None:
    c = _register(central, mini)
    every = _listed(central)
    assert len(every) == 4 and every == _listed(central, ConflictFilter())  # no filter: as ever
    field = ConflictFilter(kinds=kinds_named(["field"]))
    assert sorted(_listed(central, field)) == [
        (c["yb13"], "floors_above"),
        (c["yb13"], "year_built"),
    ]
    assert count_conflicts(central, where=field) == 2
    assert count_conflicts(central) == 4
    dup = ConflictFilter(kinds=("duplicate_entity",))
    assert _listed(central, dup) == [(c["yb3"], "_duplicate")]
    assert {k for k, _ in _listed(central, ConflictFilter(subdistrict="wanxing"))} == {
        c["yb13"],
        c["yb3"],
    }
    assert _listed(central, ConflictFilter(subdistrict="xuefu")) == [(c["xf"], "_deleted")]
    assert _listed(central, ConflictFilter(inspector="王芳")) == [(c["yb3"], "_duplicate")]
    assert _listed(central, ConflictFilter(inspector=UNASSIGNED)) == [(c["xf"], "_deleted")]
    # The building list's search: 「宜宾 13」 is 13号楼 of 宜宾东里, not 3号楼 (whose code holds
    # 13: a number is found whole, never in a code); a code or a piece of one: that building.
    assert {k for k, _ in _listed(central, ConflictFilter(text="宜宾 13"))} == {c["yb13"]}
    assert {k for k, _ in _listed(central, ConflictFilter(text="b13we"))} == {c["yb3"]}
    assert _listed(central, ConflictFilter(text=c["xf"].lower())) == [(c["xf"], "_deleted")]
    both = ConflictFilter(kinds=("hard", "soft"), inspector="王芳")
    assert _listed(central, both) == [] and count_conflicts(central, where=both) == 0
    # Resolved ones too, with --all.
    assert (c["yb3"], "gas_pipe_year") in [
        (r.code, r.field_key)
        for r in list_conflicts(central, include_resolved=True, where=ConflictFilter(text="宜宾"))
    ]


def test_counts_per_kind_and_subdistrict_say_what_picking_each_would_list(
    central: Store, mini: Form
) -> None:
    _register(central, mini)
    assert count_by(central, "kinds") == {
        "delete_vs_edit": 1,
        "duplicate_entity": 1,
        "hard": 1,
        "soft": 1,
    }
    assert group_counts(count_by(central, "kinds")) == {"field": 2, "delete": 1, "duplicate": 1}
    # Each part is counted under the rest of the filter, not under itself.
    field = ConflictFilter(kinds=("hard", "soft"), subdistrict="xuefu")
    assert count_by(central, "subdistrict", field) == {"wanxing": 2}
    assert count_by(central, "kinds", field) == {"delete_vs_edit": 1}
    assert count_by(central, "inspector") == {"李明": 2, UNASSIGNED: 1, "王芳": 1}
    assert count_by(central, "subdistrict", include_resolved=True) == {"wanxing": 4, "xuefu": 1}
    by_kind = count_by(central, "kinds")
    assert kind_counts_text(by_kind, "en") == "field 2  delete 1  duplicate 1"
    assert kind_counts_text(by_kind, "zh") == "字段冲突 2  删除冲突 1  疑似重复 1"


def test_a_filter_in_words() -> None:
    flt = ConflictFilter(("hard", "soft"), "wanxing", "李明", "宜宾 13")
    assert filter_text(None, flt, "en") == "field, wanxing, inspector 李明, '宜宾 13'"
    assert filter_text(None, ConflictFilter(subdistrict=NO_SUBDISTRICT), "zh") == "（无街道）"
    assert filter_text(None, ConflictFilter(kinds=("hard",)), "en") == "edited concurrently"


def test_an_unknown_kind_is_refused_naming_the_option_and_the_kinds() -> None:
    assert kinds_named(["duplicate_entity", "field", "hard"]) == (
        "hard",
        "soft",
        "duplicate_entity",
    )
    with pytest.raises(SurveyorError) as refused:
        kinds_named(["fields"])
    assert refused.value.message == (
        "--kind: 'fields' is not a kind of conflict; use field (hard and soft), hard, soft, "
        "delete_vs_edit or duplicate_entity"
    )
    assert refused.value.zh is not None and refused.value.zh.startswith(
        "--kind：「fields」不是冲突类型"
    )


def test_conflicts_list_filters_and_says_the_filter_in_the_count_line(
    mini: Form, tmp_path: Path
) -> None:
    central = new_central(tmp_path)
    hub = open_store(central)
    try:
        c = _register(hub, mini)
    finally:
        hub.close()
    listing = ("conflicts", "list", "--central", central, *FORM)
    field = run(*listing, "--kind", "field", "--subdistrict", "万兴")
    lines = field.stdout.splitlines()
    assert sum(c["yb13"] in line for line in lines) == 2 and c["yb3"] not in field.stdout
    assert lines[-1] == "2 of 4 conflict(s) match (field, Wanxing)"
    assert lines[-2] == "by kind: field 2  duplicate 1"  # in 万兴, whatever the kind
    zh = run(*listing, "--inspector", "李明", "--search", "宜宾 13", "--lang", "zh")
    assert zh.stdout.splitlines()[-1] == "共 4 条冲突，2 条符合筛选（普查员 李明，「宜宾 13」）"
    window = run(*listing, "--kind", "duplicate_entity", "--kind", "delete_vs_edit", "--limit", "1")
    assert window.stdout.splitlines()[-1] == (
        "1 shown; 2 of 4 conflict(s) match (delete raced an edit, possible duplicate)"
    )
    unfiltered = run(*listing)
    assert unfiltered.stdout.splitlines()[-2:] == [
        "by kind: field 2  delete 1  duplicate 1",
        "4 conflict(s)",
    ]
    nobody = run(*listing, "--inspector", "(unassigned)", "--json")
    assert [r["code"] for r in json.loads(nobody.stdout)] == [c["xf"]]


def test_a_real_subdistrict_or_inspector_with_no_conflicts_lists_none(
    mini: Form, tmp_path: Path
) -> None:
    """`--subdistrict 万兴` (a real 街道 with no conflicts) said "no conflicts in '万兴'" exit 2,
    and `--inspector 赵磊 --json` exit 2 instead of []: nothing to list is no error."""
    central = new_central(tmp_path)
    hub = open_store(central)
    try:
        code = _building(hub, mini)
        assign(hub, mini, "赵磊", refs=[code], author="督导")
    finally:
        hub.close()
    listing = ("conflicts", "list", "--central", central, *FORM)
    street = run(*listing, "--subdistrict", "万兴", "--lang", "zh")
    assert street.returncode == 0 and "0" in street.stdout.strip().splitlines()[-1]
    assert json.loads(run(*listing, "--inspector", "赵磊", "--json").stdout) == []
    typo = run(*listing, "--subdistrict", "万星", "--lang", "zh", ok=False)
    assert typo.returncode == 2
    assert "--subdistrict：没有名为「万星」的街道；有冲突的街道：（没有）" in typo.stderr


def test_conflicts_list_refuses_a_kind_subdistrict_or_inspector_that_matches_nothing(
    mini: Form, tmp_path: Path
) -> None:
    """A typo must not read as "no conflicts": it is refused in one sentence listing those
    that have conflicts, and nothing is listed (exit 2)."""
    central = new_central(tmp_path)
    hub = open_store(central)
    try:
        _register(hub, mini)
    finally:
        hub.close()
    listing = ("conflicts", "list", "--central", central, *FORM)
    kind = run(*listing, "--kind", "dup", ok=False)
    assert kind.returncode == 2 and kind.stdout == ""
    assert kind.stderr.strip().endswith(
        "--kind: 'dup' is not a kind of conflict; use field (hard and soft), hard, soft, "
        "delete_vs_edit or duplicate_entity"
    )
    kind_zh = run(*listing, "--kind", "dup", "--lang", "zh", ok=False)
    assert kind_zh.returncode == 2 and "--kind：「dup」不是冲突类型" in kind_zh.stderr
    street = run(*listing, "--subdistrict", "万星", ok=False)
    assert street.returncode == 2 and street.stdout == ""
    assert street.stderr.strip().endswith(
        "--subdistrict: there is no sub-district '万星'; "
        "sub-districts with conflicts: Wanxing 3, Xuefu 1"
    )
    who = run(*listing, "--inspector", "李敏", "--lang", "zh", ok=False)
    assert who.returncode == 2 and len(who.stderr.strip().splitlines()) == 1
    assert who.stderr.strip().endswith(
        "--inspector：这里没有名为「李敏」的普查员（既无分配的楼栋，也无改动）；"
        "有冲突的普查员：李明 2、（未分配） 1、王芳 1"
    )


@pytest.mark.parametrize("name", ["（未分配）", "(unassigned)", "（无）"])
def test_assign_refuses_the_words_for_nobody_as_a_name(
    mini: Form, tmp_path: Path, name: str
) -> None:
    """`assign --inspector '（未分配）' --new-inspector` handed 218 buildings to 「（未分配）」,
    which the lists then read as nobody's (or someone's): refused, nothing assigned."""
    central = new_central(tmp_path)
    hub = open_store(central)
    try:
        code = _building(hub, mini)
        with pytest.raises(SurveyorError, match="nothing was assigned"):
            assign(hub, mini, name, refs=[code], author="督导")
        with hub.engine.connect() as conn:
            assigned = conn.execute(sa.text("SELECT assigned_to FROM building")).scalars().all()
        assert assigned == [None]
    finally:
        hub.close()


def test_an_inspector_is_whoever_a_conflict_involves_assigned_or_wrote_a_side(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """「李娜's conflicts」 meant only the buildings assigned to her: the field she and a
    colleague both edited on his building was not hers to find. An inspector now keeps the
    conflicts of buildings assigned to them and those where they wrote a side (a head
    change; for a duplicate flag, a flagged building they last saved), in the list, the
    counts (one conflict under each person involved) and `conflicts list --inspector`."""
    from tests.sync.test_review_filter_screen import _mixed

    code = _mixed(laptops, central, mini)  # 乙's building, field conflicts by 甲 and 乙
    field = sorted((code, f) for f in ("floors_above", "year_built"))
    assert sorted(_listed(central, ConflictFilter(inspector="乙"))) == field  # assigned
    assert sorted(_listed(central, ConflictFilter(inspector="甲"))) == field  # wrote a side
    assert count_conflicts(central, where=ConflictFilter(inspector="甲")) == 2
    dups = {(r.code, r.field_key) for r in list_conflicts(central) if r.field_key == "_duplicate"}
    for name in ("丙", "丁"):  # each registered one of the two buildings at 学府路1号
        assert set(_listed(central, ConflictFilter(inspector=name))) == dups
    assert set(_listed(central, ConflictFilter(inspector=UNASSIGNED))) == dups  # as before
    assert _listed(central, ConflictFilter(kinds=("duplicate_entity",), inspector="甲")) == []
    assert count_by(central, "inspector") == {UNASSIGNED: 2, "丁": 2, "丙": 2, "乙": 2, "甲": 2}
    assert count_by(central, "inspector", ConflictFilter(kinds=("hard", "soft"))) == {
        "乙": 2,
        "甲": 2,
    }
    listing = ("conflicts", "list", "--central", central.target, *FORM)
    mine = run(*listing, "--inspector", "甲", "--json")
    assert sorted((r["code"], r["field_key"]) for r in json.loads(mine.stdout)) == field
    typo = run(*listing, "--inspector", "甲乙", ok=False)
    assert typo.returncode == 2 and "甲 2" in typo.stderr
