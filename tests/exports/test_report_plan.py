"""The district report as a retrofit plan: page 3 counts buildings and floor area (万m²) by
街道 and by year-built band, not rule hits, and keeps what needs a check apart from the needs.

The report counted rule hits by category and priority only: a planner could not read how many
buildings had a priority-1 need, nor how much floor area each kind of work covers where."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

from surveyor.exports.report import CATEGORY_ZH, headline, summarize
from surveyor.exports.source import BuildingRecord
from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from tests.exports.conftest import pdf_text
from tests.exports.test_print_content import derive
from tests.retrofit.records import CLEAN


def _expected(db: Path) -> dict[str, list[str]]:
    """Each 街道's row of the firm-needs table, computed here from the stored answers: the
    surveyed buildings, those with a priority-1 need, the floor area, and the floor area with
    a need of each category, in 万m² as printed."""
    from surveyor.exports.source import select_buildings
    from surveyor.services.selection import Selection
    from surveyor.store.db import open_store

    form = get_form()
    params = get_params()
    rules = get_rules(form, params)
    store = open_store(db)
    try:
        records = select_buildings(store, Selection())
    finally:
        store.close()
    surveyed: dict[str, int] = defaultdict(int)
    p1: dict[str, int] = defaultdict(int)
    area: dict[str, float] = defaultdict(float)
    by_cat: dict[tuple[str, str], float] = defaultdict(float)
    for r in records:
        if r.status not in ("complete", "approved"):
            continue
        name = form.fields["subdistrict"].choice_label(r.answers["subdistrict"], "zh")
        report = derive_needs(form, rules, params, r.answers)
        gfa = float(r.answers["gross_floor_area"])
        surveyed[name] += 1
        p1[name] += any(n.priority == 1 for n in report.needs)
        area[name] += gfa
        for c in {n.category for n in report.needs}:
            by_cat[name, c] += gfa
    return {
        name: [
            str(surveyed[name]),
            str(p1[name]),
            f"{area[name] / 10000:,.2f}",
            *(f"{by_cat[name, c] / 10000:,.2f}" for c in CATEGORY_ZH),
        ]
        for name in surveyed
    }


def test_page_3_counts_buildings_and_floor_area_by_subdistrict(
    sample_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        ["surveyor", "export", "report", "--db", str(sample_db), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "3 page(s)" in done.stdout
    pages = pdf_text(out).split("\f")
    page3 = pages[2]
    assert "Retrofit plan (surveyed buildings)" in page3
    assert "Needs by sub-district" in page3 and "Needs by year built" in page3
    assert "Needs check by sub-district (undetermined)" in page3
    assert "page 3 of 3" in page3
    firm = page3.split("Needs check by sub-district")[0]
    rows = {line.split()[0]: line.split()[1:] for line in firm.splitlines() if line.strip()}
    expected = _expected(sample_db)
    assert expected, "the sample has surveyed buildings"
    for name, (n, p1, area, *cats) in expected.items():
        # printed: surveyed, priority 1, P1 check, floor area, the categories
        printed = rows[name]
        assert [printed[0], printed[1], *printed[3:]] == [n, p1, area, *cats], name
    total = sum(int(v[1]) for v in expected.values())
    assert f"有优先级1需求 with a priority-1 need {total}" in " ".join(pages[0].split())


def test_a_check_is_not_a_need_and_a_missing_floor_area_is_counted_apart() -> None:
    """A building whose structural safety could not be decided (cracks 不详: S01, priority 1,
    undetermined) adds its floor area to the safety check and one to the priority-1 checks,
    none to the needs; one without a floor area counts as a building, in no area; a draft in
    nothing."""
    form = get_form()
    rules = get_rules(form, get_params())
    cracks_unknown = {**CLEAN, "structural_cracks": "unknown"}
    assert not derive(CLEAN).needs and not derive(CLEAN).undetermined
    assert [u.rule_id for u in derive(cracks_unknown).undetermined] == ["S01"]
    records = [
        BuildingRecord("NK-00000-00001", "complete", CLEAN),
        BuildingRecord("NK-00000-00002", "approved", cracks_unknown),
        BuildingRecord("NK-00000-00003", "complete", {**CLEAN, "gross_floor_area": None}),
        BuildingRecord("NK-00000-00004", "draft", cracks_unknown),
    ]
    s = summarize(form, records, {r.code: derive(r.answers) for r in records}, rules)
    gfa = float(CLEAN["gross_floor_area"])
    for row in (s.plan_total, s.plan_subdistricts["学府街道"]):
        assert (row.surveyed, row.priority1, row.priority1_check) == (3, 0, 1)
        assert (row.floor_area, row.without_area) == (2 * gfa, 1)
        assert set(row.need_area.values()) == {0.0}
        assert row.check_area == {**dict.fromkeys(CATEGORY_ZH, 0.0), "safety": gfa}
    assert "with a priority-1 need 0 + 待核实 needs check 1" in headline(s)[0]
