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
    # (rules 1.5.0: with a structural sign, S01, without one the appraisal cannot matter)
    report = derive(
        {"has_elevator": False, "appraisal_done": "unknown", "structural_cracks": "visible"}
    )
    assert outcome(report, "A01") == "undetermined"
    # the grade is asked only once the appraisal is said done: check that first
    assert checks(report, "A01") == ("appraisal_done",)


def test_a01_with_everything_unknown_points_beyond_housing_origin() -> None:
    report = derive(
        {
            "has_elevator": False,
            "housing_origin": "unknown",
            "appraisal_done": "unknown",
            "structural_cracks": None,
        }
    )
    # single_owner and appraisal_grade are not asked while the origin and the appraisal are
    # 不详: the answers that decide whether they are asked are checked instead
    assert set(checks(report, "A01")) == {"housing_origin", "appraisal_done", "structural_cracks"}


def test_a_missing_calculation_points_at_the_answer_it_comes_from() -> None:
    report = derive({"roof_insulation": "unknown", "year_built": None})
    # (rules 1.2.0: a roof seen bare needs insulation at any age, so the unknown roof is
    # checked too; the era, a calculation, points at the year built)
    assert checks(report, "E05") == ("roof_insulation", "year_built")


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


# ------------------------------------------------------------ 2. 城市体检 indicators


def test_only_city_examination_criteria_feed_eng_and_dig() -> None:
    rules = {r.id: r.defn for r in get_rules(get_form()).rules}
    for rid in ("E06", "E11", "E12", "E13", "D04", "D05"):
        assert rules[rid].indicator is None, rid
    for rid in ("E01", "E04", "D01", "D02", "D03"):
        assert rules[rid].indicator is not None, rid
    report = derive({"entrance_door": "ordinary", "pv_installed": "no", "dhw_source": "electric"})
    assert {"E06", "E11", "E12"} <= set(report.need_ids)
    assert not report.indicators["ENG"]
    digital = {"energy_data_available": False, "smart_meters": ["electricity"], "fiber": "no"}
    report = derive(digital)
    assert {"E13", "D04", "D05"} <= set(report.need_ids)
    assert not report.indicators["DIG"]


# ------------------------------------------------------------ 4. damaged gas pipe under 20 years


def test_damaged_gas_pipe_under_twenty_years_is_a_gas_need() -> None:
    report = derive({"gas_pipe_condition": "damaged", "gas_pipe_year": 2016})
    g05 = next(n for n in report.needs if n.rule_id == "G05")
    assert (g05.priority, g05.need_class, g05.indicator, g05.step) == (1, "B", "GAS", 1)
    assert g05.source.status == "proposal"
    assert "G01" not in report.need_ids
    # corroded under 20 years stays as the research has it (no renewal yet)
    assert "G05" not in derive({"gas_pipe_condition": "corroded", "gas_pipe_year": 2016}).need_ids


# ------------------------------------------------------------ 5. E04 with mixed windows


def test_mixed_glazing_with_few_windows_replaced_needs_windows() -> None:
    mixed = {"window_frame": "mixed", "window_glazing": "mixed"}
    for share in ("p0", "p25", "p50"):
        assert outcome(derive({**mixed, "windows_replaced_share": share}), "E04") == "triggered"
    assert outcome(derive({**mixed, "windows_replaced_share": "p75"}), "E04") == "clear"
    unknown = derive({**mixed, "windows_replaced_share": "unknown"})
    assert outcome(unknown, "E04") == "undetermined"


# ------------------------------------------------------------ 6. E08 without radiator valves


def test_building_heat_meter_without_radiator_valves_needs_temperature_control() -> None:
    assert outcome(derive({"heat_metering": "building", "trv": "none"}), "E08") == "triggered"
    assert outcome(derive({"heat_metering": "building", "trv": "some"}), "E08") == "clear"
    assert outcome(derive({"heat_metering": "building", "trv": "unknown"}), "E08") == (
        "undetermined"
    )
    gas = {"heating_source": "gas_wall", "trv": "none"}  # E08 is for district heating only
    assert outcome(derive(gas), "E08") == "clear"


# ------------------------------------------------------------ 12. room temperature in season


def test_room_temperature_counts_only_in_the_heating_season() -> None:
    cold = {"indoor_temp_sample": 15.0}
    assert outcome(derive({**cold, "survey_date": "2025-10-10"}), "P06") == "clear"
    assert outcome(derive({**cold, "survey_date": "2025-11-14"}), "P06") == "clear"
    assert outcome(derive({**cold, "survey_date": "2025-03-16"}), "P06") == "clear"
    for day in ("2025-11-15", "2025-12-31", "2025-01-10", "2025-03-15"):
        assert outcome(derive({**cold, "survey_date": day}), "P06") == "triggered", day
    assert outcome(derive({**cold, "survey_date": None}), "P06") == "undetermined"


# ------------------------------------------------------------ 8. estimates use what was seen

# CLEAN: 2,400 m², 6 storeys → footprint 400 m², plan 4:1 → 40 m × 10 m, perimeter 100 m;
# walls 100 × 6 × 2.8 = 1,680 m², windows 25 % = 420 m², opaque 1,260 m². HDD18 2700.
SEEN_2016 = {
    "wall_insulation": "none",
    "window_frame": "steel",  # steel single glazing: 6.4 (params 1.2.0: frame and glazing)
    "window_glazing": "single",
    "windows_replaced_share": "p25",
}


def _estimate(report: NeedsReport, rid: str) -> dict[str, float]:
    need = next(n for n in report.needs if n.rule_id == rid)
    assert need.estimate is not None
    return need.estimate.values


def test_wall_and_window_estimates_of_a_2016_building_use_the_observation() -> None:
    report = derive({**SEEN_2016, "heating_source": "electric"})
    e01 = _estimate(report, "E01")
    # U 1.45 (uninsulated, not the E4 0.4) → 0.45: ΔU 1.0 × 1,260 m² × 2700 × 24 / 1000
    assert e01["u_before"] == 1.45
    assert e01["saving_kwh"] == 81_648.0
    assert round(e01["co2_t"], 2) == round(81_648 * 0.7041 / 1000, 2) == 57.49  # electric
    e04 = _estimate(report, "E04")
    # single glazing 6.4 → 2.2 on the 75 % of 420 m² not yet replaced
    assert e04["area_m2"] == 315.0
    assert round(e04["saving_kwh"], 1) == round(4.2 * 315 * 2700 * 24 / 1000, 1) == 85_730.4
    summary = next(n for n in report.needs if n.rule_id == "E01").estimate
    assert summary is not None and "saves ≈82 MWh/yr" in summary.summary.en


def test_windows_left_to_replace_scale_the_window_area() -> None:
    areas = {
        share: _estimate(derive({**SEEN_2016, "windows_replaced_share": share}), "E04")["area_m2"]
        for share in ("p0", "p25", "p50")
    }
    assert areas == {"p0": 420.0, "p25": 315.0, "p50": 210.0}


def test_co2_factor_follows_the_heating_source() -> None:
    def factor(source: str) -> float:
        return _estimate(derive({**SEEN_2016, "heating_source": source}), "E01")["co2_factor"]

    assert factor("electric") == 0.7041
    assert factor("heat_pump") == 0.7041 / 2.5
    assert factor("gas_wall") == factor("dh_boiler") == 0.202 / 0.9
    assert factor("dh_chp") == factor("dh_unknown") == 0.25
    params = {p.id: p for p in get_params().defn.params}
    for pid in ("p_heat_pump_cop", "p_co2_gas_kg_kwh", "p_gas_boiler_efficiency"):
        assert params[pid].source.status == "proposal"


# ------------------------------------------------------------ 9. 不详 where a walk-through is blind

BLIND_SPOTS: dict[str, Any] = {
    "masonry_deterioration": "unknown",
    "drain_issues": ["unknown"],
    "non_self_contained_units": "unknown",
    "security_systems": ["unknown"],
    "structural_cracks": "unknown",
}


def test_the_form_takes_unknown_where_a_walk_through_cannot_see() -> None:
    from surveyor.forms.record import coerce_answer, evaluate

    form = get_form()
    for fid, value in BLIND_SPOTS.items():
        typed = "不详" if isinstance(value, str) else ["不详"]
        assert coerce_answer(form.fields[fid], typed) == value, fid
        assert fid not in evaluate(form, {**CLEAN, fid: value}).errors, fid
    assert "unknown" in form.fields["drain_issues"].defn.exclusive
    assert "unknown" in form.fields["security_systems"].defn.exclusive


def test_rules_reading_a_blind_spot_treat_unknown_as_undetermined() -> None:
    rules = get_rules(get_form())
    for fid, value in BLIND_SPOTS.items():
        readers = [r.id for r in rules.rules if fid in r.when.references]
        assert readers, fid
        # a brick building, where masonry deterioration matters (S11 reads the structure)
        report = derive({fid: value, "structure_type": "brick_concrete"})
        for rid in readers:
            assert outcome(report, rid) == "undetermined", (fid, rid)


# ------------------------------------------------------------ 10. option ranges do not overlap


def _percent_set(label: str) -> set[int]:
    """The whole percentages an option label covers ('20% to under 30%' → 20…29)."""
    import re

    nums = [int(n) for n in re.findall(r"\d+", label)]
    if re.search(r"under|不足", label, re.I) and len(nums) == 1:
        return set(range(0, nums[0]))
    if re.search(r"over|超过|more than", label, re.I):
        return set(range(nums[0] + 1, 101))
    if len(nums) == 1:
        return {nums[0]}
    if re.search(r"under|不足", label, re.I):
        return set(range(nums[0], nums[1]))
    return set(range(nums[0], nums[1] + 1))


def test_percentage_options_do_not_overlap() -> None:
    form = get_form()
    for fid in ("elderly_share", "windows_replaced_share"):
        for lang in ("zh", "en"):
            sets = [
                _percent_set(getattr(c, lang))
                for c in form.fields[fid].choices
                if c.code != "unknown"
            ]
            covered = [n for s in sets for n in s]
            assert len(covered) == len(set(covered)), (fid, lang)
            assert set(covered) == set(range(101)), (fid, lang)


# ------------------------------------------------------------ 11./12. plausibility warnings


def test_plausibility_warnings() -> None:
    from surveyor.forms.record import evaluate

    form = get_form()

    def warned(overrides: dict[str, Any]) -> set[str]:
        in_season = {"survey_date": "2025-01-15"}  # CLEAN's May survey has a room temperature
        result = evaluate(form, {**CLEAN, **in_season, **overrides})
        assert not result.errors, result.errors
        return set(result.warnings)

    assert warned({}) == set()
    assert "water_pipe_year" in warned({"water_pipe_year": 2010})  # built 2016
    assert "gas_pipe_year" in warned({"gas_pipe_year": 2010})
    assert "has_elevator" in warned({"floors_above": 8, "has_elevator": False})
    assert "has_elevator" not in warned({"floors_above": 7, "has_elevator": False})
    assert "indoor_temp_sample" in warned({"survey_date": "2025-10-10"})
    assert "indoor_temp_sample" not in warned({"survey_date": "2025-12-01"})


def test_a_pre_1950_building_can_record_its_original_water_pipes() -> None:
    """Never replaced means the year built (the hint), so a 1935 house's pipes must be taken."""
    from surveyor.forms.record import evaluate

    form = get_form()
    old_house = {**CLEAN, "year_built": 1935, "water_pipe_year": 1935}
    assert "water_pipe_year" not in evaluate(form, old_house).errors
    assert "water_pipe_year" in evaluate(form, {**old_house, "water_pipe_year": 1899}).errors
    # A pipe older than its building is still questioned, not refused.
    earlier = evaluate(form, {**old_house, "water_pipe_year": 1920})
    assert "water_pipe_year" not in earlier.errors
    assert "water_pipe_year" in earlier.warnings
