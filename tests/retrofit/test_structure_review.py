"""Structural rules and the lift rule after a retrofit-planning review (rules 1.5.0): each test
failed on rules 1.4.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN
from tests.retrofit.test_rules import outcome

#: The reviewer's case: a 1984 5-storey walk-up, 30-50 % of residents over 60, space for a
#: lift, no structural sign seen, and nobody knows whether it was ever appraised.
WALK_UP_1984: dict[str, Any] = {
    "year_built": 1984,
    "structure_type": "brick_concrete",
    "floor_slab_type": "precast_hollow",
    "masonry_deterioration": "none",
    "floors_above": 5,
    "has_elevator": False,
    "elevator_addition_space": "yes",
    "elderly_share": "p30_50",
    "appraisal_done": "unknown",
}

#: Energy and digital works a graded-dangerous building must not be offered (capital works).
DEFERRED = ("E01", "E02", "E04", "E05", "E07", "E08", "E09", "E11", "D01", "D02", "D04", "D05")

#: A record that triggers every one of DEFERRED, plus safety items that must stay.
NEEDS_EVERYTHING: dict[str, Any] = {
    "wall_insulation": "none",
    "window_frame": "steel",
    "window_glazing": "single",
    "windows_replaced_share": "p0",
    "roof_insulation": "none",
    "heating_layout": "vertical_single_series",
    "balancing_valve": "no",
    "heat_metering": "none",
    "trv": "none",
    "pv_installed": "no",
    "access_control": "none",
    "security_systems": ["cctv_partial"],
    "smart_meters": ["electricity"],
    "fiber": "partial",
    "rubber_hose": "some",  # G03, a gas safety item
    "structural_cracks": "visible",  # S01, so the appraisal's grade is what the form records
}


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


def _pv_roof(report: NeedsReport) -> dict[str, Any]:
    """E11 also needs a roof area: the clean record's is below the threshold."""
    return {"roof_free_area": report.values["p_pv_min_roof_area"] + 100}


# ---------------------------------------------------------------- 1. A01 and an unknown appraisal


def test_an_unknown_appraisal_without_structural_signs_does_not_hold_the_lift() -> None:
    report = derive(WALK_UP_1984)
    assert outcome(report, "S01") == "clear"
    assert outcome(report, "A01") == "triggered"
    [a01] = [n for n in report.needs if n.rule_id == "A01"]
    assert a01.priority == 2
    # no appraisal is assumed for it: a sign (S01) would be needed for one to matter
    assert "appraisal_done" not in a01.assumed_unknown
    assert not any("appraisal" in d.label.en.lower() for d in report.defaulted)


def test_an_unknown_appraisal_still_matters_with_structural_signs() -> None:
    report = derive({**WALK_UP_1984, "structural_cracks": "visible"})
    assert outcome(report, "S01") == "triggered"
    assert outcome(report, "A01") == "undetermined"
    [a01] = [u for u in report.undetermined if u.rule_id == "A01"]
    assert a01.fields == ("appraisal_done",)


def test_an_appraisal_done_is_still_read() -> None:
    done = {**WALK_UP_1984, "appraisal_done": "yes", "appraisal_year": 2010}
    assert outcome(derive({**done, "appraisal_grade": "D"}), "A01") == "clear"
    assert outcome(derive({**done, "appraisal_grade": "A"}), "A01") == "triggered"
    assert outcome(derive(done), "A01") == "undetermined"  # the grade not yet copied


# ---------------------------------------------------------------- 2. S02 defers energy, digital


def test_a_dangerous_building_gets_no_energy_or_digital_works() -> None:
    appraised = {**NEEDS_EVERYTHING, "appraisal_done": "yes", "appraisal_year": 2020}
    safe = derive({**appraised, "appraisal_grade": "B"})
    safe = derive({**appraised, "appraisal_grade": "B", **_pv_roof(safe)})
    assert set(DEFERRED) - {"E02"} <= set(safe.need_ids)
    dangerous = derive({**appraised, "appraisal_grade": "D", **_pv_roof(safe)})
    assert outcome(dangerous, "S02") == "triggered"
    for ident in DEFERRED:
        assert outcome(dangerous, ident) == "clear", ident
    assert outcome(dangerous, "E10") == "clear"  # nothing left to bundle
    detached = {"wall_insulation": "external", "facade_defects": ["insulation_detached"]}
    assert "E02" in derive({**appraised, **detached, "appraisal_grade": "B"}).need_ids
    repair = derive({**appraised, **detached, "appraisal_grade": "C"})
    assert outcome(repair, "E02") == "clear"
    assert "S05" in repair.need_ids  # the detached insulation is made safe all the same
    # safety items stand: gas hoses, and the smoke detectors of a high-rise
    assert "G03" in dangerous.need_ids
    high_rise = {"floors_above": 12, "smoke_detectors_public": "partial"}
    high = derive({**appraised, "appraisal_grade": "D", **high_rise})
    assert "D03" in high.need_ids


def test_the_deferral_reads_s02_only_when_it_can_matter() -> None:
    plain = derive({**NEEDS_EVERYTHING, "structural_cracks": "none", "appraisal_done": "unknown"})
    assert {"E01", "E04", "E05", "D01", "D05"} <= set(plain.need_ids)
    doubt = derive({**NEEDS_EVERYTHING, "appraisal_done": "unknown"})
    for ident in ("E01", "E04", "E05", "D01", "D05"):
        assert outcome(doubt, ident) == "undetermined", ident
    not_appraised = derive({**NEEDS_EVERYTHING, "appraisal_done": "no"})
    assert {"E01", "E04", "E05", "D01", "D05"} <= set(not_appraised.need_ids)


# ---------------------------------------------------------------- 3. S01 and a recorded appraisal


@pytest.mark.parametrize("grade", ["A", "B"])
def test_a_recorded_a_or_b_appraisal_answers_the_cracks(grade: str) -> None:
    report = derive(
        {
            "structural_cracks": "visible",
            "appraisal_done": "yes",
            "appraisal_year": 2020,
            "appraisal_grade": grade,
        }
    )
    assert outcome(report, "S01") == "clear"


@pytest.mark.parametrize(
    "appraisal",
    [
        {"appraisal_done": "yes", "appraisal_year": 2020, "appraisal_grade": "other"},
        {"appraisal_done": "yes", "appraisal_year": "unknown", "appraisal_grade": "B"},
        {"appraisal_done": "no"},
    ],
)
def test_cracks_without_a_dated_a_or_b_appraisal_still_ask_for_one(
    appraisal: dict[str, Any],
) -> None:
    report = derive({"structural_cracks": "visible", **appraisal})
    assert outcome(report, "S01") == "triggered"


# ---------------------------------------------------------------- 4. F03 and S04 agree


@pytest.mark.parametrize(
    "building",
    [
        {"structure_type": "brick_concrete", "floor_slab_type": "cast_in_situ"},
        {"structure_type": "brick_concrete", "floor_slab_type": "precast_hollow"},
        {"structure_type": "frame_masonry", "floor_slab_type": "mixed"},
        {"structure_type": "brick_wood", "floor_slab_type": "cast_in_situ"},
        {"structure_type": "large_panel"},
    ],
)
def test_the_seismic_flag_and_the_seismic_rule_agree(building: dict[str, Any]) -> None:
    old = {"year_built": 1985, "seismic_retrofit": "no", **building}
    report = derive(old)
    assert outcome(report, "F03") == "triggered"
    assert outcome(report, "S04") == "triggered"
    done = derive({**old, "seismic_retrofit": "yes"})
    assert (outcome(done, "F03"), outcome(done, "S04")) == ("clear", "clear")


def test_s04_cites_the_seismic_appraisal_standard() -> None:
    rules = get_rules(get_form())
    [s04] = [r for r in rules.rules if r.id == "S04"]
    assert "GB 50023-2009" in s04.defn.source.text


# ---------------------------------------------------------------- 5. local masonry deterioration


def test_local_masonry_deterioration_of_a_brick_building_is_a_structural_repair() -> None:
    brick = {"structure_type": "brick_concrete", "floor_slab_type": "cast_in_situ"}
    report = derive({**brick, "masonry_deterioration": "local"})
    [need] = [n for n in report.needs if n.indicator == "STR"]
    assert need.rule_id == "S11"
    assert (need.priority, need.category, need.need_class) == (2, "safety", "B")
    assert report.indicators["STR"]
    assert outcome(derive({**brick, "masonry_deterioration": "none"}), "S11") == "clear"
    assert outcome(derive({**brick, "masonry_deterioration": "unknown"}), "S11") == "undetermined"
    # extensive also sends it to an appraisal (S01, priority 1); the repair stands beside it,
    # and after an A or B appraisal, which answers S01, the repair is still needed
    extensive = {**brick, "masonry_deterioration": "extensive"}
    assert {"S01", "S11"} <= set(derive(extensive).need_ids)
    appraised = {"appraisal_done": "yes", "appraisal_year": 2020, "appraisal_grade": "B"}
    after = derive({**extensive, **appraised})
    assert "S01" not in after.need_ids and "S11" in after.need_ids
    large_panel = derive({"structure_type": "large_panel", "masonry_deterioration": "local"})
    assert outcome(large_panel, "S11") == "clear"  # infill is not load-bearing masonry


def test_every_reader_of_s02_reads_it_only_when_it_can_matter() -> None:
    # the deferral is written out in each rule (the expression language has no named
    # conditions): one wording, so the rules cannot drift apart
    guard = (
        "(not(${rule_s02}) or not(${rule_s01} or coalesce(${appraisal_done}, 'unknown') = 'yes'))"
    )
    rules = get_rules(get_form())
    readers = {r.id: r.defn.when for r in rules.rules if "rule_s02" in r.when.references}
    assert set(readers) == {*DEFERRED, "A01"}
    for ident, when in readers.items():
        assert when.count("${rule_s02}") == 1 and guard in when, ident
