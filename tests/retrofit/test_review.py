"""Defects found by the domain review of the rules: each test failed on rules 1.0.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

from typing import Any

from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN
from tests.retrofit.test_rules import OLD_MASONRY, outcome


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


def checks(report: NeedsReport, ident: str) -> tuple[str, ...]:
    return next(u.fields for u in report.undetermined if u.rule_id == ident)


# ------------------------------------------------------------ 1. refused answers decide nothing


def test_a_year_built_the_form_refuses_decides_no_flag_or_rule() -> None:
    old = {**OLD_MASONRY, "floor_slab_type": "precast_hollow"}
    report = derive({**old, "year_built": 1899})  # constraint: 1900 … survey year
    assert outcome(report, "F01") == "undetermined"
    assert outcome(report, "F03") == "undetermined"
    assert outcome(report, "S04") == "undetermined"
    assert "year_built" in checks(report, "S04")
    assert report.values["year_built"] == 1899  # shown as recorded, beside its error


def test_a_year_built_after_the_survey_leaves_f01_undetermined_not_clear() -> None:
    report = derive({"year_built": 2026})  # surveyed 2025-05-01
    assert outcome(report, "F01") == "undetermined"


def test_a_refused_number_is_not_compared() -> None:
    # indoor temperature 3 °C is outside the form's 5–30 °C: not evidence of under-heating
    report = derive({"indoor_temp_sample": 3.0, "survey_date": "2025-01-10"})
    assert outcome(report, "P06") == "clear"
    assert "P06" not in report.need_ids


# ------------------------------------------------------------ 3. checks through referenced rules


def test_a01_needs_check_names_the_answers_deciding_s01_and_s02() -> None:
    report = derive({"has_elevator": False, "appraisal_done": "unknown"})
    assert outcome(report, "A01") == "undetermined"
    assert checks(report, "A01") == ("appraisal_done", "appraisal_grade")


def test_a01_with_everything_unknown_points_beyond_housing_origin() -> None:
    report = derive(
        {
            "has_elevator": False,
            "housing_origin": "unknown",
            "appraisal_done": "unknown",
            "structural_cracks": None,
        }
    )
    assert set(checks(report, "A01")) == {
        "housing_origin",
        "appraisal_done",
        "appraisal_grade",
        "structural_cracks",
    }


def test_a_missing_calculation_points_at_the_answer_it_comes_from() -> None:
    report = derive({"roof_insulation": "none", "year_built": None})
    assert checks(report, "E05") == ("year_built",)


# ------------------------------------------------------------ 7. modifiers stop at priority 2


def test_ageing_modifier_does_not_make_a_ramp_a_safety_need() -> None:
    report = derive(
        {"entrance_steps": "steps", "entrance_access": ["none"], "elderly_share": "gt50"}
    )
    a03 = next(n for n in report.needs if n.rule_id == "A03")
    assert (a03.base_priority, a03.priority, a03.step) == (2, 2, 3)
    assert "A03" not in report.roadmap[0].capital
    # it still raises a priority-3 need to 2
    a05 = next(n for n in derive({"antislip": "no", "elderly_share": "gt50"}).needs)
    assert (a05.rule_id, a05.base_priority, a05.priority) == ("A05", 3, 2)
