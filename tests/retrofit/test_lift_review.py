"""A01 (elevator addition) after the building-energy review of rules 1.2.0: each test failed
on rules 1.2.0, which cleared A01 for every 直管公房 walk-up (``housing_origin`` as a proxy for
"single owner", research §3.6 "proxy, verify") and whenever S01 asked for a structural
appraisal.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

from typing import Any

from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN
from tests.retrofit.test_rules import outcome

#: The reviewer's case: a 1958 municipal walk-up, 5 storeys, no lift, over half the residents
#: over 60 and four households with a mobility-impaired member.
WALK_UP_1958: dict[str, Any] = {
    "year_built": 1958,
    "housing_origin": "public_direct",
    "structure_type": "brick_concrete",
    "masonry_deterioration": "none",
    "floors_above": 5,
    "has_elevator": False,
    "elderly_share": "gt50",
    "mobility_impaired": 4,
}


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


def checks(report: NeedsReport, ident: str) -> tuple[str, ...]:
    return next(u.fields for u in report.undetermined if u.rule_id == ident)


def test_municipal_housing_of_unrecorded_ownership_is_a_check_not_clear() -> None:
    report = derive(WALK_UP_1958)
    assert outcome(report, "A01") == "undetermined"
    # only the ownership: no structural doubt, so the appraisal grade could not change it
    assert checks(report, "A01") == ("single_owner",)
    unknown = derive({**WALK_UP_1958, "single_owner": "unknown"})
    assert checks(unknown, "A01") == ("single_owner",)


def test_municipal_housing_with_sold_dwellings_needs_the_elevator() -> None:
    report = derive({**WALK_UP_1958, "single_owner": "no"})
    [a01] = [n for n in report.needs if n.rule_id == "A01"]
    assert a01.priority == 2  # elderly residents and mobility-impaired households


def test_a_recorded_single_owner_clears_it() -> None:
    # out of the 2019 guidance's scope (its five conditions: not single-owner)
    assert outcome(derive({**WALK_UP_1958, "single_owner": "yes"}), "A01") == "clear"


def test_other_housing_origins_never_ask_about_ownership() -> None:
    report = derive({**WALK_UP_1958, "housing_origin": "reform"})
    assert outcome(report, "A01") == "triggered"
    assert not get_form().fields["single_owner"].relevant.truth(report.values)  # type: ignore[union-attr]


def test_a_structural_doubt_defers_the_elevator_to_the_appraisal() -> None:
    doubt = {**WALK_UP_1958, "single_owner": "no", "structural_cracks": "visible"}
    report = derive(doubt)
    assert outcome(report, "S01") == "triggered"
    assert outcome(report, "A01") == "undetermined"
    # no appraisal done, so the grade is not asked: A01 waits for S01's appraisal
    [a01] = [u for u in report.undetermined if u.rule_id == "A01"]
    assert (a01.fields, [a.ident for a in a01.awaiting]) == ((), ["S01"])
    appraised = {**doubt, "appraisal_done": "yes", "appraisal_year": 2024}
    assert outcome(derive({**appraised, "appraisal_grade": "B"}), "A01") == "triggered"
    dangerous = derive({**appraised, "appraisal_grade": "C"})
    assert outcome(dangerous, "S02") == "triggered"
    assert outcome(dangerous, "A01") == "clear"  # made safe first (S02), then reconsidered


def test_a_working_elevator_is_recorded_as_without_faults() -> None:
    """'Elevator faults' is required once there is an elevator, and offered only 偶尔, 频繁,
    停用 or 不详: a working one had to be recorded as 偶尔 (rare) or 不详. 无故障 (none) is an
    answer, and an old elevator without faults needs no renewal (A02 clear, not a check)."""
    from surveyor.forms.record import coerce_answer, evaluate

    form = get_form()
    faults = form.field("elevator_faults")
    assert faults.choice_label("none", "zh") == "无故障"
    assert faults.choice_label("none", "en") == "No faults"
    assert coerce_answer(faults, "无故障") == "none"
    old = {"year_built": 2003, "elevator_oldest_year": 2005, "elevator_faults": "none"}
    assert not evaluate(form, {**CLEAN, **old}).errors
    assert outcome(derive(old), "A02") == "clear"
    assert outcome(derive({**old, "elevator_faults": "frequent"}), "A02") == "triggered"
