"""Rules 1.5.0, after a retrofit-planning review of the energy and heating rules (docs/RETROFIT.md,
"Where the rules depart from the research note"): lifts per entrance, plain aluminium windows,
E10 as a note, an unrecorded balancing valve, heat-metering rules only with district heating,
the caveat on windows of protected buildings, and the citations."""

from __future__ import annotations

from typing import Any

import pytest

from surveyor.cli.export_cmds import _report_json
from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN
from tests.retrofit.test_rules import outcome


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


# ------------------------------------------------------ 1. a lift for every entrance without


def test_an_entrance_without_a_lift_gets_the_lift_need() -> None:
    # one lift for three entrances: the two others are walk-ups (Tianjin adds lifts per 门栋)
    report = derive({"entrance_count": 3, "elevator_count": 1})
    a01 = next(n for n in report.needs if n.rule_id == "A01")
    assert a01.estimate is not None
    assert a01.estimate.values["lifts"] == 2
    assert a01.estimate.summary.en.startswith("one lift per entrance: 2 (3 entrances, 1 with")
    assert outcome(derive({"entrance_count": 3, "elevator_count": 3}), "A01") == "clear"


def test_a_building_without_a_lift_is_estimated_one_per_entrance() -> None:
    report = derive({"has_elevator": False, "entrance_count": 3})
    a01 = next(n for n in report.needs if n.rule_id == "A01")
    assert a01.estimate is not None and a01.estimate.values["lifts"] == 3


# ------------------------------------------------------------ 2. plain aluminium windows


def test_plain_aluminium_windows_with_insulating_glass_need_replacing() -> None:
    # p_window_u_values: aluminium + insulating glass 3.9, as steel, against the 2.2 target
    record = {"window_frame": "alu_plain", "window_glazing": "igu", "windows_replaced_share": "p0"}
    assert outcome(derive(record), "E04") == "triggered"
    assert outcome(derive({**record, "window_frame": "alu_thermal_break"}), "E04") == "clear"


# ------------------------------------------------------------ 3. E10 is a note, not a need

BUNDLED = {"wall_insulation": "none", "heating_complaints": "some", "balancing_valve": "no"}


def test_the_bundling_instruction_is_a_note_not_a_need() -> None:
    report = derive(BUNDLED)
    assert report.bundled
    assert [(n.note_id, n.value) for n in report.notes if n.note_id == "E10"] == [("E10", True)]
    assert "E10" not in report.need_ids
    # counted nowhere: class counts (sheet "W2"), roadmap capital items, the needs headline
    assert report.class_counts["W"] == 2  # E01, E07
    assert all("E10" not in step.capital + step.low_cost for step in report.roadmap)
    shown = _report_json(get_form(), "X", report)
    assert shown["notes"]["E10"] is True
    assert "E10" not in [n["rule"] for n in shown["needs"]]


# ------------------------------------------------- 4. an unrecorded optional balancing valve


def test_an_unrecorded_balancing_valve_is_a_check_not_a_need() -> None:
    report = derive({"heating_complaints": "some", "balancing_valve": None})
    assert "E07" not in report.need_ids
    e07 = next(u for u in report.undetermined if u.rule_id == "E07")
    assert e07.fields == ("balancing_valve",)
    assert not report.indicators["ENG"]
    # 不详 recorded keeps the research's worst case ("≠ yes"), listed as assumed
    assert outcome(derive({"heating_complaints": "some", "balancing_valve": "unknown"}), "E07") == (
        "triggered"
    )


# ------------------------------------------ 5. heat metering only where heat is bought (DH)

NOT_DH = {
    "heating_source": "gas_wall",
    "smart_meters": ["electricity", "water", "gas"],
    "annual_heat": None,
    "heated_area": None,
}


@pytest.mark.parametrize("source", ["gas_wall", "electric", "heat_pump", "none"])
def test_heat_metering_rules_need_district_heating(source: str) -> None:
    report = derive({**NOT_DH, "heating_source": source})
    for rid in ("D04", "E13", "E14"):
        assert outcome(report, rid) == "clear", rid


def test_district_heating_keeps_the_heat_metering_rules() -> None:
    report = derive({**NOT_DH, "heating_source": "dh_chp"})
    assert outcome(report, "D04") == "triggered"
    assert outcome(report, "E13") == "triggered"
    assert outcome(report, "E14") == "undetermined"  # annual heat still to be recorded


def test_no_remote_meter_at_all_or_no_energy_data_still_counts_without_district_heat() -> None:
    assert outcome(derive({**NOT_DH, "smart_meters": ["none"]}), "D04") == "triggered"
    assert outcome(derive({**NOT_DH, "energy_data_available": False}), "E13") == "triggered"


# ------------------------------------------------------ 6. windows of a protected building

OLD_WINDOWS = {"window_glazing": "single", "windows_replaced_share": "p0"}


def test_windows_of_a_protected_building_carry_the_heritage_caveat() -> None:
    report = derive({**OLD_WINDOWS, "heritage_status": "relic"})
    assert "E04" in report.need_ids  # the need stays
    e15 = next(n for n in report.notes if n.note_id == "E15")
    assert e15.value is True
    assert "批准" in e15.title.zh and "heritage authority" in e15.title.en
    assert outcome(derive(OLD_WINDOWS), "E15") == "clear"


# ------------------------------------------------------------------------- 7. citations


def test_heating_rules_cite_the_energy_law_and_the_metering_code() -> None:
    rules = {r.id: r.defn for r in get_rules(get_form()).rules}
    for rid in ("E07", "E08"):
        assert "中华人民共和国节约能源法" in rules[rid].source.text, rid
    assert "JGJ 173-2009" in rules["E09"].source.text


def test_an_open_note_does_not_repeat_the_checks_of_the_rules_it_reads() -> None:
    # E10 is open because E07 is (valve not recorded): E07's line already says what to check
    report = derive({**BUNDLED, "balancing_valve": None})
    assert outcome(report, "E10") == "undetermined"
    assert [u.rule_id for u in report.undetermined] == ["E07"]
