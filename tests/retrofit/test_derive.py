"""Roll-ups, ordering, bundling, priorities, estimates and the rule-file checker."""

from __future__ import annotations

import collections
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.forms.model import FormError
from surveyor.retrofit import DEFAULT_RULES, derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from surveyor.retrofit.model import load_rules
from tests.retrofit.records import CLEAN

OLD_WALKUP: dict[str, Any] = {
    "year_built": 1984,
    "year_built_basis": "estimate",
    "structure_type": "brick_concrete",
    "floor_slab_type": "precast_hollow",
    "seismic_retrofit": "no",
    "has_elevator": False,
    "wall_insulation": "none",
    "roof_insulation": "none",
    "window_frame": "steel",
    "window_glazing": "single",
    "windows_replaced_share": "p25",
    "heating_layout": "vertical_single_series",
    "heat_metering": "none",
    "trv": "none",
    "balancing_valve": "no",
    "heating_complaints": "many",
    "roof_leakage": "severe",
    "gas_pipe_condition": "corroded",
    "gas_pipe_year": 1986,
    "antislip": "no",
    "elderly_share": "gt50",
    "fiber": "partial",
}


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


def test_needs_are_sorted_by_priority_then_step() -> None:
    needs = derive(OLD_WALKUP).needs
    keys = [(n.priority, n.step, n.sequence, n.rule_id) for n in needs]
    assert keys == sorted(keys)
    assert needs[0].priority == 1


def test_priority_if_and_priority_one_goes_to_step_one() -> None:
    report = derive(OLD_WALKUP)
    s08 = next(n for n in report.needs if n.rule_id == "S08")
    assert (s08.base_priority, s08.priority, s08.step) == (2, 1, 1)  # severe leak
    assert "S08" in report.roadmap[0].capital


def test_ageing_modifier_raises_a05_priority() -> None:
    a05 = next(n for n in derive(OLD_WALKUP).needs if n.rule_id == "A05")
    assert (a05.base_priority, a05.priority) == (3, 2)


def test_bundle_puts_envelope_before_heating_in_step_two() -> None:
    report = derive(OLD_WALKUP)
    assert report.bundled
    step2 = report.roadmap[1]
    order = list(step2.capital)
    assert "E10" not in order  # a note (bundling instruction), not a capital item
    assert order.index("E01") < order.index("E07")
    assert order.index("E05") < order.index("E08")
    assert order.index("E04") < order.index("E09")


def test_rollups_indicators_classes_and_defaulted_inputs() -> None:
    report = derive(OLD_WALKUP)
    assert report.indicators["GAS"] and report.indicators["ENG"] and report.indicators["AGE"]
    assert not report.indicators["NSC"]
    assert sum(report.class_counts.values()) == len(report.needs)
    assert report.class_counts["B"] > 0 and report.class_counts["W"] > 0
    labels = [d.label.en for d in report.defaulted]
    assert "Year built is an estimate" in labels
    assert any("E0 era default" in label for label in labels)
    low = {n.rule_id for n in report.needs if n.cost == "low"}
    assert low and all(set(s.low_cost) <= low for s in report.roadmap)


def test_heat_loss_estimate_uses_era_default() -> None:
    e01 = next(n for n in derive(OLD_WALKUP).needs if n.rule_id == "E01")
    assert e01.estimate is not None
    assert e01.estimate.values["saving_kwh"] > 0
    assert "MWh" in e01.estimate.summary.en


def test_unknown_answer_is_listed_as_a_field_to_check() -> None:
    report = derive({"gas_pipe_condition": "unknown", "gas_pipe_year": 1985})
    g01 = next(u for u in report.undetermined if u.rule_id == "G01")
    assert g01.fields == ("gas_pipe_condition",)


def test_derive_is_pure_and_repeatable() -> None:
    record = {**CLEAN, **OLD_WALKUP}
    before = json.dumps(record, sort_keys=True)
    a, b = derive(OLD_WALKUP), derive(OLD_WALKUP)
    assert a.needs == b.needs and a.roadmap == b.roadmap
    assert json.dumps(record, sort_keys=True) == before


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "retrofit_rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "${balcony_condition} = 'exposed_rebar'",
            "${balcony_state} = 'exposed_rebar'",
            "rule 'S07': when refers to unknown field, parameter, flag or rule 'balcony_state'",
        ),
        (
            "${balcony_condition} = 'exposed_rebar'",
            "${balcony_condition} = 'rusty'",
            "rule 'S07': when: 'rusty' is not an option of field 'balcony_condition'",
        ),
        (
            "    priority: 2\n    class: B\n    indicator: ENV\n    scale: dwellings",
            "    priority: 5\n    class: B\n    indicator: ENV\n    scale: dwellings",
            "rule 'S07': rules.priority: Input should be less than or equal to 3",
        ),
        (
            "${p_gas_pipe_service_years}",
            "${p_gas_pipe_years}",
            "unknown field, parameter, flag or rule 'p_gas_pipe_years'",
        ),
        (
            "(not(${rule_s01}) or",
            "(not(${rule_a02}) or",
            "unknown field, parameter, flag or rule 'rule_a02'",
        ),
        (
            "status: proposal}\n\n  - id: S08",
            "status: maybe}\n\n  - id: S08",
            "rules.source.status: Input should be 'confirmed', 'recalled' or 'proposal'",
        ),
    ],
)
def test_broken_rule_files_are_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(FormError) as info:
        load_rules(path, get_form(), get_params())
    problems = info.value.problems
    assert any(message in p for p in problems), problems
    assert all(p.startswith(f"{path}:") and p.split(":")[1].isdigit() for p in problems)


def test_forms_check_cli_accepts_rule_and_param_files(tmp_path: Path) -> None:
    from surveyor.retrofit import DEFAULT_PARAMS

    ok = subprocess.run(
        ["surveyor", "forms", "check", str(DEFAULT_RULES), str(DEFAULT_PARAMS)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "rules 1.5.0" in ok.stdout and "parameters 1.2.0" in ok.stdout
    bad = _broken(tmp_path, "${balcony_condition} = 'exposed_rebar'", "${nope} = 'x'")
    run = subprocess.run(["surveyor", "forms", "check", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{bad}:" in run.stderr and "'nope'" in run.stderr


def test_param_file_errors(tmp_path: Path) -> None:
    from surveyor.retrofit import DEFAULT_PARAMS

    text = DEFAULT_PARAMS.read_text(encoding="utf-8").replace(
        "status: confirmed}", "status: sure}", 1
    )
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run(["surveyor", "forms", "check", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "param 'p_gas_pipe_service_years'" in run.stderr


def _needs_by_category(db: Path) -> dict[str, int]:
    form = get_form()
    rules, params = get_rules(form), get_params()
    counts: collections.Counter[str] = collections.Counter()
    with sqlite3.connect(db) as con:
        for (answers,) in con.execute(
            "SELECT answers FROM building WHERE status IN ('complete', 'approved') ORDER BY code"
        ):
            report = derive_needs(form, rules, params, json.loads(answers))
            counts.update(n.category for n in report.needs)
    return dict(sorted(counts.items()))


def test_sample_needs_by_category_are_non_trivial_and_stable(tmp_path: Path) -> None:
    dbs = []
    for name in ("a.db", "b.db"):
        db = tmp_path / name
        subprocess.run(
            ["surveyor", "sample", "--out", str(db), "--buildings", "150", "--seed", "2024"],
            check=True,
            capture_output=True,
        )
        dbs.append(db)
    first, second = (_needs_by_category(db) for db in dbs)
    assert first == second  # the same sample gives the same needs
    assert set(first) == {
        "safety",
        "gas",
        "pipes",
        "stairwell",
        "energy",
        "accessibility",
        "housing",
        "digital",
    }
    with sqlite3.connect(dbs[0]) as con:
        done = con.execute(
            "SELECT count(*) FROM building WHERE status IN ('complete', 'approved')"
        ).fetchone()[0]
    assert done > 20
    # Non-trivial: every category occurs, none in every building for every rule.
    assert all(n > 0 for n in first.values())
    assert first["energy"] > first["housing"]


def test_worst_case_assumption_is_listed_only_when_it_triggered_the_need() -> None:
    roof = derive({"roof_insulation": "unknown", "year_built": 1990})
    e05 = next(n for n in roof.needs if n.rule_id == "E05")
    assert e05.assumed_unknown == ("roof_insulation",)
    assert any(d.label.en.startswith("Roof insulation: unknown") for d in roof.defaulted)
    # E13 is triggered by the missing energy data; the unknown meters did not decide it.
    meters = derive({"energy_data_available": False, "smart_meters": ["unknown"]})
    e13 = next(n for n in meters.needs if n.rule_id == "E13")
    assert e13.assumed_unknown == ()
    assert not any("unknown" in d.label.en for d in meters.defaulted)
