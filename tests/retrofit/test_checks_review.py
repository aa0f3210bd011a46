"""Rules 1.4.0, after a building-energy engineer's review: what "needs check" names, worst
cases assumed through flags, ownership uncertainty, source statuses, English amounts and the
form's copy of a rule threshold. Each test failed on rules 1.3.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.forms.model import FormError
from surveyor.forms.yamlsource import load_yaml
from surveyor.retrofit import DEFAULT_PARAMS, DEFAULT_RULES, derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport, Undetermined
from surveyor.retrofit.model import params_from_data, rules_from_data
from surveyor.services.sample import generate_sample
from tests.retrofit.records import CLEAN
from tests.retrofit.test_lift_review import WALK_UP_1958
from tests.retrofit.test_rules import outcome


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


def open_item(report: NeedsReport, ident: str) -> Undetermined:
    return next(u for u in report.undetermined if u.rule_id == ident)


# ------------------------------------------------ 1. never "check" a question the form does not ask


def test_a_roof_area_not_asked_points_at_the_roof_form() -> None:
    # the roof area is asked only once the roof form is known (the stored 300 m² is masked)
    report = derive({"pv_installed": "no", "roof_form": "unknown", "roof_leakage": "local"})
    assert "roof_free_area" not in report.relevant
    e11 = open_item(report, "E11")
    assert (e11.fields, e11.awaiting) == (("roof_form",), ())
    assert e11.check_labels(get_form(), "zh") == ["屋面形式"]


def test_an_elevator_deferred_to_an_appraisal_not_done_waits_for_s01() -> None:
    report = derive(
        {**WALK_UP_1958, "single_owner": "no", "structural_cracks": "visible"}
    )  # appraisal_done = no: the grade is not asked
    assert outcome(report, "S01") == "triggered"
    a01 = open_item(report, "A01")
    assert a01.fields == ()
    assert [a.ident for a in a01.awaiting] == ["S01"]
    assert a01.check_labels(get_form(), "zh") == ["待S01 房屋安全鉴定（JGJ 125-2016）"]
    assert a01.check_labels(get_form(), "en") == ["awaiting S01 Structural safety appraisal"]


def test_an_appraisal_of_unknown_status_is_checked_not_its_grade() -> None:
    # (rules 1.5.0: with a structural sign, S01, without one the appraisal cannot matter)
    doubt = {"structural_cracks": "visible", "appraisal_done": "unknown"}
    report = derive({**WALK_UP_1958, "single_owner": "no", **doubt})
    assert open_item(report, "S02").fields == ("appraisal_done",)
    assert open_item(report, "A01").fields == ("appraisal_done",)


def test_surveyor_needs_says_what_the_elevator_waits_for(tmp_path: Path) -> None:
    import json
    import subprocess

    from tests.retrofit.test_energy_review import _db_with

    db, code = _db_with(
        tmp_path,
        {
            **WALK_UP_1958,
            "single_owner": "no",
            "structural_cracks": "visible",
            "pv_installed": "no",
            "roof_form": "unknown",
            "roof_leakage": "local",
        },
    )
    text = subprocess.run(
        ["surveyor", "needs", "--db", str(db), code, "--lang", "zh"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "  待核实 E11 屋顶光伏评估：屋面形式\n" in text
    assert "  待核实 A01 加装电梯可行性：待S01 房屋安全鉴定（JGJ 125-2016）\n" in text
    assert "鉴定结论" not in text and "屋面可利用面积" not in text
    data = json.loads(
        subprocess.run(
            ["surveyor", "needs", "--db", str(db), code, "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    a01 = next(u for u in data["undetermined"] if u["rule"] == "A01")
    assert a01 == {"rule": "A01", "check": [], "awaiting": ["S01"]}


def test_no_sample_building_is_sent_to_a_question_the_form_does_not_ask(tmp_path: Path) -> None:
    import json
    import sqlite3

    db = tmp_path / "s.db"
    generate_sample(db, get_form(), buildings=120, seed=2024)
    form = get_form()
    rules, params = get_rules(form), get_params()
    named = waiting = 0
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT answers FROM building WHERE status != 'not_started'")
        for (answers,) in rows:
            report = derive_needs(form, rules, params, json.loads(answers))
            for u in report.undetermined:
                assert set(u.fields) <= report.relevant, (u.rule_id, u.fields)
                named += len(u.fields)
                waiting += len(u.awaiting)
    assert named > 100 and waiting > 0  # the sample has open answers and deferred elevators


# ------------------------------------------------ 2. a worst case assumed through a flag is listed


SEISMIC_UNKNOWN = {
    "year_built": 1985,
    "structure_type": "brick_concrete",
    "floor_slab_type": "precast_hollow",
    "masonry_deterioration": "none",
    "seismic_retrofit": "unknown",
}


def test_a_worst_case_assumed_by_a_flag_is_listed_with_the_need() -> None:
    report = derive(SEISMIC_UNKNOWN)
    assert outcome(report, "F03") == "triggered"  # "≠ yes": 不详 counts as not retrofitted
    s04 = next(n for n in report.needs if n.rule_id == "S04")
    assert s04.assumed_unknown == ("seismic_retrofit",)
    assert [(d.label.zh, d.value) for d in report.defaulted if "抗震" in d.label.zh] == [
        ("是否抗震加固：不详，按不利情况", "S04")
    ]
    # a real answer is not an assumption
    retrofitted = derive({**SEISMIC_UNKNOWN, "seismic_retrofit": "no"})
    assert not any("抗震" in d.label.zh for d in retrofitted.defaulted)


def test_an_assumption_is_listed_with_the_need_not_with_the_bundling_note() -> None:
    # E07 assumes the balancing valve missing; E10 (a note since rules 1.5.0, not a need)
    # bundles E07 with the walls (E01) and assumes nothing of its own
    report = derive(
        {
            "wall_insulation": "none",
            "balancing_valve": "unknown",
            "heating_complaints": "some",
        }
    )
    assert report.bundled
    valve = [d for d in report.defaulted if d.label.en.startswith("Balancing valve")]
    assert [d.value for d in valve] == ["E07"]


# ------------------------------------------------ 3. ownership uncertainty is one outcome


@pytest.mark.parametrize(
    ("answers", "check"),
    [
        ({"housing_origin": "unknown"}, "housing_origin"),
        ({"housing_origin": None}, "housing_origin"),
        ({"single_owner": "unknown"}, "single_owner"),
        ({"single_owner": None}, "single_owner"),
    ],
)
def test_ownership_not_known_is_a_check_whichever_answer_leaves_it_open(
    answers: dict[str, Any], check: str
) -> None:
    # the research assumes no worst case for ownership ("proxy, verify"): every way of not
    # knowing it says "check", as 直管公房 with single_owner 不详 already did
    report = derive({**WALK_UP_1958, **answers})
    assert outcome(report, "A01") == "undetermined"
    assert open_item(report, "A01").fields == (check,)
    assert not any("房屋来源" in d.label.zh for d in report.defaulted)


# ------------------------------------------------ 4. our own triggers are proposals


def test_rules_whose_trigger_is_ours_are_proposals() -> None:
    rules = {r.id: r.defn for r in get_rules(get_form()).rules}
    for rid in ("N02", "C05", "A04"):
        assert rules[rid].source.status == "proposal", rid
    report = derive({"property_management": "none", "flood_history": "occasional"})
    statuses = {n.rule_id: n.source.status for n in report.needs}
    assert statuses == {"N02": "proposal", "C05": "proposal"}


# ------------------------------------------------ 5. English amounts in yuan


def test_english_amounts_are_in_yuan_and_chinese_in_wan() -> None:
    report = derive(
        {
            "has_elevator": False,
            "balancing_valve": "no",
            "heating_complaints": "some",
            "heated_area": None,
        }
    )
    summaries = {n.rule_id: n.estimate.summary for n in report.needs if n.estimate}
    # 2 entrances × 200,000 yuan; 2,400 m² × 45 yuan/m² × 10 % = 10,800 yuan
    assert summaries["A01"].zh.endswith("补贴约40万元")
    assert summaries["A01"].en.endswith("subsidy ≈400,000 yuan")
    assert summaries["E07"].zh.endswith("约1.1万元")
    assert summaries["E07"].en.endswith("≈11,000 yuan")
    assert not any("万" in s.en for s in summaries.values())


# ------------------------------------------------ 6. the form's copy of a rule threshold


def test_a_form_threshold_that_disagrees_with_the_rules_parameter_is_refused() -> None:
    raw = load_yaml(DEFAULT_PARAMS)
    for param in raw["params"]:
        if param["id"] == "p_elevator_min_floors":
            param["value"] = 5
    params = params_from_data(raw, "params.yaml")
    with pytest.raises(FormError) as info:
        rules_from_data(load_yaml(DEFAULT_RULES), "rules.yaml", get_form(), params)
    assert any(
        "rule 'A01': compares floors_above >= p_elevator_min_floors (5), but the form's field "
        "'elevator_addition_space' relevant compares floors_above >= 4" in p
        for p in info.value.problems
    ), info.value.problems
