"""Every flag, rule and modifier: one record that triggers it, one that does not, one with unknown.

Each row starts from the clean record (no needs, nothing undetermined) and changes only what
the case is about. ``unknown`` lists the outcome when the deciding answer is 'unknown' (or, for
fields that have no 'unknown' option, unanswered): undetermined, or triggered where the rule
deliberately assumes the worst. Never "clear": unknown is not no.
"""

from __future__ import annotations

from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN

OLD_MASONRY = {
    "structure_type": "brick_concrete",
    "floor_slab_type": "cast_in_situ",
    "year_built": 1985,
    "seismic_retrofit": "no",
}
DH_OK = {"heating_source": "dh_chp"}

# id: (trigger, clear, unknown case, expected outcome of the unknown case)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = {
    "F01": ({"year_built": 1995}, {"year_built": 2001}, {"year_built": None}, "undetermined"),
    "F02": (
        {"year_built": 1990, "wall_insulation": "none", "prior_programmes": ["none"]},
        {"year_built": 1990, "wall_insulation": "none", "prior_programmes": ["energy_retrofit"]},
        {"year_built": 1990, "wall_insulation": "none", "prior_programmes": ["unknown"]},
        "undetermined",
    ),
    "F03": (
        OLD_MASONRY,
        {**OLD_MASONRY, "seismic_retrofit": "yes"},
        {**OLD_MASONRY, "seismic_retrofit": "unknown"},
        "triggered",
    ),
    "F04": ({"floors_above": 12}, {"floors_above": 9}, {"floors_above": None}, "undetermined"),
    "F05": (
        {"heritage_status": "style"},
        {"heritage_status": "none"},
        {"heritage_status": "unknown"},
        "undetermined",
    ),
    "S01": (
        {"structural_cracks": "visible"},
        {"structural_cracks": "hairline"},
        {"structural_cracks": None},
        "undetermined",
    ),
    "S02": (
        {"appraisal_done": "yes", "appraisal_year": 2020, "appraisal_grade": "C"},
        {"appraisal_done": "yes", "appraisal_year": 2020, "appraisal_grade": "B"},
        {"appraisal_done": "unknown"},
        "undetermined",
    ),
    "S03": (
        {"unauthorized_alterations": ["bay_window_added"]},
        {},
        {"unauthorized_alterations": ["unknown"]},
        "undetermined",
    ),
    "S04": (
        OLD_MASONRY,
        {**OLD_MASONRY, "seismic_retrofit": "yes"},
        {**OLD_MASONRY, "year_built": None},
        "undetermined",
    ),
    "S05": (
        {"facade_defects": ["render_spalling"]},
        {"facade_defects": ["water_staining"]},
        {"facade_defects": None},
        "undetermined",
    ),
    "S06": ({"hanging_objects": ["signs"]}, {}, {"hanging_objects": None}, "undetermined"),
    "S07": (
        {"balcony_condition": "exposed_rebar"},
        {"balcony_condition": "minor"},
        {"balcony_condition": None},
        "undetermined",
    ),
    "S08": ({"roof_leakage": "local"}, {}, {"roof_leakage": "unknown"}, "undetermined"),
    "S09": ({"dampness": "local"}, {}, {"dampness": None}, "undetermined"),
    "S10": ({"stairwell_windows": "broken"}, {}, {"stairwell_windows": None}, "undetermined"),
    "S11": (
        {"structure_type": "brick_concrete", "masonry_deterioration": "local"},
        {"structure_type": "brick_concrete", "masonry_deterioration": "none"},
        {"structure_type": "brick_concrete", "masonry_deterioration": "unknown"},
        "undetermined",
    ),
    "G01": (
        {"gas_pipe_condition": "corroded", "gas_pipe_year": 1985},
        {"gas_pipe_condition": "corroded", "gas_pipe_year": 2016},
        {"gas_pipe_condition": "unknown", "gas_pipe_year": 1985},
        "undetermined",
    ),
    "G02": (
        {"gas_pipe_condition": "tampered"},
        {},
        {"gas_pipe_condition": "unknown"},
        "undetermined",
    ),
    "G03": ({"rubber_hose": "some"}, {}, {"rubber_hose": "unknown"}, "undetermined"),
    "G04": (
        {"gas_safety_devices": ["alarm"]},
        {},
        {"gas_safety_devices": ["unknown"]},
        "undetermined",
    ),
    "G05": (
        {"gas_pipe_condition": "damaged", "gas_pipe_year": 2016},
        {"gas_pipe_condition": "damaged", "gas_pipe_year": 1985},  # G01 covers it
        {"gas_pipe_condition": "unknown", "gas_pipe_year": 2016},
        "undetermined",
    ),
    "P01": (
        {"water_pipe_material": "cast_iron"},
        {},
        {"water_pipe_material": "unknown"},
        "undetermined",
    ),
    "P02": (
        {"secondary_supply": "roof_tank", "water_quality_pressure": ["low_pressure"]},
        {"secondary_supply": "roof_tank", "water_quality_pressure": ["none"]},
        {"secondary_supply": "unknown", "water_quality_pressure": ["low_pressure"]},
        "undetermined",
    ),
    "P03": (
        {"drain_issues": ["blocked"]},
        {"drain_issues": ["sewage_overflow"]},
        {"drain_issues": None},
        "undetermined",
    ),
    "P04": (
        {"electrical_issues": ["aged_wiring"]},
        {"electrical_issues": ["messy_telecom"]},
        {"electrical_issues": None},
        "undetermined",
    ),
    "P05": (
        {"electrical_issues": ["messy_telecom"]},
        {},
        {"electrical_issues": None},
        "undetermined",
    ),
    "P06": ({"heating_complaints": "many"}, {}, {"heating_complaints": "unknown"}, "undetermined"),
    "C01": ({"stair_defects": ["steps_damaged"]}, {}, {"stair_defects": None}, "undetermined"),
    "C02": ({"flue_shaft_blocked": "yes"}, {}, {"flue_shaft_blocked": "unknown"}, "undetermined"),
    "C03": (
        {"fire_facility_defects": ["extinguisher_missing"]},
        {},
        {"fire_facility_defects": None},
        "undetermined",
    ),
    "C04": ({"corridor_clutter": "some"}, {}, {"corridor_clutter": None}, "undetermined"),
    "C05": ({"flood_history": "occasional"}, {}, {"flood_history": "unknown"}, "undetermined"),
    "E01": ({"wall_insulation": "none"}, {}, {"wall_insulation": "unknown"}, "undetermined"),
    "E02": (
        {"facade_defects": ["insulation_cracked"]},
        {},
        {"insulation_thickness_mm": "unknown", "insulation_year": 2010},
        "undetermined",
    ),
    "E03": ({"wall_insulation": "internal"}, {}, {"wall_insulation": "unknown"}, "undetermined"),
    "E04": (
        {"window_glazing": "single", "windows_replaced_share": "p0"},
        {"window_glazing": "single", "windows_replaced_share": "p100"},
        {"window_glazing": "single", "windows_replaced_share": "unknown"},
        "undetermined",
    ),
    "E05": (
        {"roof_insulation": "none", "year_built": 1990},
        {"roof_insulation": "present", "year_built": 1990},
        {"roof_insulation": "unknown", "year_built": 1990},
        "triggered",
    ),
    "E06": ({"entrance_door": "ordinary"}, {}, {"stairwell_windows": None}, "undetermined"),
    "E07": (
        {"heating_complaints": "some", "balancing_valve": "no"},
        {"heating_complaints": "some"},
        {"heating_complaints": "some", "balancing_valve": "unknown"},
        "triggered",
    ),
    "E08": (
        {"heat_metering": "none", "trv": "some"},
        {"trv": "some"},
        {"heat_metering": "unknown", "trv": "some"},
        "triggered",
    ),
    "E09": (
        {"heating_layout": "vertical_single_series"},
        {},
        {"heating_layout": "unknown"},
        "undetermined",
    ),
    "E10": (
        {"wall_insulation": "none", "heating_complaints": "some", "balancing_valve": "no"},
        {"wall_insulation": "none"},
        {"wall_insulation": "unknown", "heating_complaints": "some", "balancing_valve": "no"},
        "undetermined",
    ),
    "E15": (  # a note: E04 on a protected building
        {"window_glazing": "single", "windows_replaced_share": "p0", "heritage_status": "style"},
        {"window_glazing": "single", "windows_replaced_share": "p0"},
        {"window_glazing": "single", "windows_replaced_share": "p0", "heritage_status": "unknown"},
        "undetermined",
    ),
    "E11": (
        {"pv_installed": "no"},
        {},
        {"pv_installed": "no", "roof_free_area": None},
        "undetermined",
    ),
    "E12": ({"dhw_source": "electric"}, {}, {"dhw_source": "unknown"}, "undetermined"),
    "E13": ({"energy_data_available": False}, {}, {"smart_meters": ["unknown"]}, "undetermined"),
    "E14": ({"annual_heat": 1500.0}, {}, {"annual_heat": None}, "undetermined"),
    "A01": (
        {"has_elevator": False},
        {"has_elevator": False, "floors_above": 3},
        {"has_elevator": False, "structural_cracks": None},
        "undetermined",
    ),
    "A02": (  # built 2003: an elevator older than the building is refused by the form
        {"year_built": 2003, "elevator_oldest_year": 2005, "elevator_faults": "frequent"},
        {"year_built": 2003, "elevator_oldest_year": 2005},
        {"year_built": 2003, "elevator_oldest_year": 2005, "elevator_faults": "unknown"},
        "undetermined",
    ),
    "A03": (
        {"entrance_steps": "steps", "entrance_access": ["none"]},
        {"entrance_steps": "steps", "entrance_access": ["ramp_ok", "handrail"]},
        {"entrance_steps": "steps"},
        "undetermined",
    ),
    "A04": ({"stair_handrail_wall": "one"}, {}, {"stair_handrail_wall": None}, "undetermined"),
    "A05": ({"antislip": "no"}, {}, {"antislip": None}, "undetermined"),
    "A06": (
        {"antislip": "no", "elderly_share": "gt50"},
        {"antislip": "no"},
        {"antislip": "no", "elderly_share": "unknown"},
        "undetermined",
    ),
    "N01": (
        {"non_self_contained_units": 5},
        {},
        {"non_self_contained_units": None},
        "undetermined",
    ),
    "N02": ({"property_management": "none"}, {}, {"property_management": None}, "undetermined"),
    "D01": ({"access_control": "none"}, {}, {"access_control": None}, "undetermined"),
    "D02": (
        {"security_systems": ["cctv_partial"]},
        {},
        {"security_systems": ["unknown"]},
        "undetermined",
    ),
    "D03": (
        {"floors_above": 12, "smoke_detectors_public": "partial"},
        {"floors_above": 12},
        {"floors_above": 12, "smoke_detectors_public": None},
        "undetermined",
    ),
    "D04": ({"smart_meters": ["electricity"]}, {}, {"smart_meters": ["unknown"]}, "undetermined"),
    "D05": ({"fiber": "partial"}, {}, {"fiber": "unknown"}, "undetermined"),
}


def _derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    record = {**CLEAN, **overrides}
    return derive_needs(form, get_rules(form), get_params(), record)


def outcome(report: NeedsReport, ident: str) -> str:
    """'triggered', 'clear' or 'undetermined' for a flag, rule or modifier id."""
    decided = [(f.flag_id, f.value) for f in report.flags]
    decided += [(n.note_id, n.value) for n in report.notes]
    for known, value in decided:
        if known == ident:
            return {True: "triggered", False: "clear", None: "undetermined"}[value]
    if ident == "A06":  # the modifier: did it raise A05's priority?
        if any(u.rule_id == "A06" for u in report.undetermined):
            return "undetermined"
        a05 = next(n for n in report.needs if n.rule_id == "A05")
        return "triggered" if a05.priority < a05.base_priority else "clear"
    if ident in report.need_ids:
        return "triggered"
    if any(u.rule_id == ident for u in report.undetermined):
        return "undetermined"
    return "clear"


def test_clean_record_has_no_needs_and_nothing_undetermined() -> None:
    report = _derive({})
    assert report.needs == []
    assert report.undetermined == []
    assert all(f.value is False for f in report.flags)


def test_every_rule_flag_and_modifier_has_cases() -> None:
    form = get_form()
    rules = get_rules(form)
    ids = {f.id for f, _ in rules.flags} | {r.id for r in rules.rules}
    ids |= {m.id for m, _ in rules.modifiers} | {n.id for n, _ in rules.notes}
    assert ids == set(CASES)


@pytest.mark.parametrize("ident", sorted(CASES))
def test_rule_triggers(ident: str) -> None:
    assert outcome(_derive(CASES[ident][0]), ident) == "triggered"


@pytest.mark.parametrize("ident", sorted(CASES))
def test_rule_does_not_trigger(ident: str) -> None:
    assert outcome(_derive(CASES[ident][1]), ident) == "clear"


@pytest.mark.parametrize("ident", sorted(CASES))
def test_rule_with_unknown_is_never_clear(ident: str) -> None:
    _, _, unknown, expected = CASES[ident]
    assert expected != "clear"
    assert outcome(_derive(unknown), ident) == expected
