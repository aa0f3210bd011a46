"""Defects found by the building-energy review of rules 1.1.0 against the research note
(shared/research/domain-census.md): each test failed on rules 1.1.0 / params 1.1.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from surveyor.forms.catalog import get_form
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from tests.retrofit.records import CLEAN
from tests.retrofit.test_rules import outcome


def derive(overrides: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), {**CLEAN, **overrides})


# ------------------------------------------------------------ 1. our own criteria are proposals

#: Research §1.1: the official 节能 criterion was not found, so the energy rules are a proposal;
#: A01's housing_origin is a proxy ("proxy, verify"); P01 fires on a galvanised pipe ≥ 30 years
#: with no hazard, while 22号 asks for "≥ 30 years and hazards".
PROPOSED = ("E01", "E04", "E07", "E08", "E10", "E13", "A01", "P01")


def test_rules_built_on_our_own_criteria_say_proposal() -> None:
    ruleset = get_rules(get_form())
    rules: dict[str, Any] = {r.id: r.defn for r in ruleset.rules}
    rules |= {n.id: n for n, _ in ruleset.notes}  # E10 is a note since rules 1.5.0
    for rid in PROPOSED:
        assert rules[rid].source.status == "proposal", rid
    for rule in rules.values():  # a source text that admits a proposal has the status too
        if "为提案" in rule.source.text:
            assert rule.source.status == "proposal", rule.id


# ------------------------------------------------------------ 2. 待核实 means undetermined only

#: P05 (telecom cables, 23号 架空线规整) and D05 (fibre) have recalled sources.
RECALLED = {"electrical_issues": ["messy_telecom"], "fiber": "partial"}


def _db_with(tmp_path: Path, overrides: dict[str, Any]) -> tuple[Path, str]:
    """A real SQLite survey database holding one building with the clean record + overrides."""
    from surveyor.services.survey import create_building, save_answers
    from surveyor.store.db import init_store

    form = get_form()
    db = tmp_path / "survey.db"
    store = init_store(db, role="laptop", inspector="王芳")
    try:
        register = ("district", "subdistrict", "community", "compound_name", "building_no")
        created = create_building(store, form, {k: CLEAN[k] for k in register}, author="王芳")
        rest = {k: v for k, v in {**CLEAN, **overrides}.items() if k not in register}
        save_answers(store, form, created.code, rest, author="王芳")
    finally:
        store.close()
    return db, created.code


def test_a_recalled_source_is_not_called_undetermined(tmp_path: Path) -> None:
    report = derive(RECALLED)
    assert {n.rule_id: n.source.status for n in report.needs} == {
        "P05": "recalled",
        "D05": "recalled",
    }
    db, code = _db_with(tmp_path, RECALLED)
    run = subprocess.run(
        ["surveyor", "needs", "--db", str(db), code, "--lang", "zh"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("  P")]
    assert len(rows) == 2 and all(row.endswith("(依据待查证)") for row in rows), rows
    assert "待核实" not in run.stdout  # nothing is undetermined in this record
    # The printed sheet: the source column starts with the status word.
    from tests.exports.test_print_content import one_line, sheet_text

    text = one_line(sheet_text(tmp_path, {**CLEAN, **RECALLED}))
    assert "依据待查证 23号 基础类（光纤入户）" in text
    box_title = "待核实（信息不详）"
    assert text.count("待核实") == text.count(box_title) == 1


def test_plain_needs_print_the_estimates_and_the_defaulted_inputs(tmp_path: Path) -> None:
    """Only 'needs --json' had them: the plain text said E07 without saying it assumed the
    worst of a balancing valve of unknown kind, nor what the need would come to."""
    answers = {
        "balancing_valve": "unknown",
        "heating_layout": "vertical_single_series",
        "year_built_basis": "estimate",
    }
    report = derive(answers)
    e07 = next(n for n in report.needs if n.rule_id == "E07")
    assert e07.estimate is not None and len(report.defaulted) == 2
    db, code = _db_with(tmp_path, answers)
    for lang, estimate, defaulted in (
        ("en", "      estimate: ", "  defaulted "),
        ("zh", "      估算：", "  默认/假定 "),
    ):
        run = subprocess.run(
            ["surveyor", "needs", "--db", str(db), code, "--lang", lang],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("  P2 E07 "))
        assert lines[at + 1] == estimate + e07.estimate.summary.get(lang)  # under its need
        colon = "：" if lang == "zh" else ": "
        assert [line for line in lines if line.startswith(defaulted)] == [
            f"{defaulted}{d.label.get(lang)}{colon}{d.value}" for d in report.defaulted
        ]
    assert "建成年份为估计：2016" in run.stdout and "热力入口平衡阀：不详，按不利情况" in run.stdout


def test_no_source_text_says_undetermined() -> None:
    rules = get_rules(get_form())
    texts = [r.defn.source.text for r in rules.rules] + [f.source.text for f, _ in rules.flags]
    assert not [t for t in texts if "待核实" in t]


# ------------------------------------------------------------ 3. what was seen beats the era


def test_a_roof_seen_without_insulation_needs_insulation_whatever_its_age() -> None:
    for year in (1990, 2008, 2016):
        report = derive({"roof_insulation": "none", "year_built": year})
        assert outcome(report, "E05") == "triggered", year
        e05 = next(n for n in report.needs if n.rule_id == "E05")
        assert e05.assumed_unknown == ()
    # unknown: the era decides where it says "no insulation standard yet" (E0–E2) …
    assert outcome(derive({"roof_insulation": "unknown", "year_built": 1990}), "E05") == (
        "triggered"
    )
    # … and after 2005 the roof may still be bare: check it, never "no need"
    assert outcome(derive({"roof_insulation": "unknown", "year_built": 2016}), "E05") == (
        "undetermined"
    )
    assert outcome(derive({"roof_insulation": "present", "year_built": 1990}), "E05") == "clear"


def test_a_wall_seen_without_insulation_is_suspect_whatever_its_age() -> None:
    bare = {"wall_insulation": "none", "prior_programmes": ["none"]}
    for year in (1990, 2008, 2016):
        report = derive({**bare, "year_built": year})
        assert outcome(report, "F02") == "triggered", year
        assert "E01" in report.need_ids  # the need and the flag agree
    unknown = {"wall_insulation": "unknown", "prior_programmes": ["none"]}
    assert outcome(derive({**unknown, "year_built": 1990}), "F02") == "triggered"
    assert outcome(derive({**unknown, "year_built": 2016}), "F02") == "undetermined"
    retrofitted = {**bare, "year_built": 1990, "prior_programmes": ["energy_retrofit"]}
    assert outcome(derive(retrofitted), "F02") == "clear"


# ------------------------------------------------------------ 4. roof repair with roof insulation


def test_a_local_roof_leak_is_repaired_with_the_roof_insulation() -> None:
    report = derive({"roof_leakage": "local", "roof_insulation": "none"})
    s08, e05 = (next(n for n in report.needs if n.rule_id == r) for r in ("S08", "E05"))
    assert (s08.priority, s08.step) == (2, 2)
    assert s08.step == e05.step and s08.sequence == e05.sequence
    step2 = report.roadmap[1].capital
    assert "S08" in step2 and "E05" in step2
    assert "S08" not in report.roadmap[0].capital
    # a severe leak is a priority-1 safety need: it stays in step 1
    severe = derive({"roof_leakage": "severe", "roof_insulation": "none"})
    assert "S08" in severe.roadmap[0].capital
    assert next(n for n in severe.needs if n.rule_id == "S08").step == 1


# ------------------------------------------------------------ 5. window U from frame and glazing


def _e04(overrides: dict[str, Any]) -> tuple[dict[str, float], str, str]:
    report = derive({"windows_replaced_share": "p0", **overrides})
    need = next(n for n in report.needs if n.rule_id == "E04")
    assert need.estimate is not None
    return need.estimate.values, need.estimate.summary.zh, need.estimate.summary.en


def test_window_u_comes_from_the_frame_and_glazing_seen() -> None:
    # steel frame with insulating glass, built 2016: not the E4 default 2.0 (below the 2.2
    # target: "节热0 MWh/年") but a steel-framed window, 3.9
    values, zh, _ = _e04({"window_frame": "steel", "window_glazing": "igu"})
    assert values["u_before"] == 3.9
    assert values["saving_kwh"] == (3.9 - 2.2) * 420 * 2700 * 24 / 1000
    assert "节热0 " not in zh and "CO₂ 0 " not in zh
    # an E0 building with double (ordinary) windows: not the single-glazing 6.4
    assert (
        _e04({"year_built": 1980, "window_frame": "steel", "window_glazing": "double_air"})[0][
            "u_before"
        ]
        == 3.0
    )
    assert (
        _e04({"year_built": 1980, "window_frame": "wood", "window_glazing": "double_air"})[0][
            "u_before"
        ]
        == 2.3
    )
    # PVC single glazing is 4.7 (the 6.4 is a metal frame's)
    assert _e04({"window_glazing": "single"})[0]["u_before"] == 4.7


def test_one_answer_seen_bounds_the_era_default() -> None:
    # single glazing, frame unknown, built 2016 (E4 2.0): at least wood/PVC single glazing 4.7
    assert _e04({"window_frame": "unknown", "window_glazing": "single"})[0]["u_before"] == 4.7
    # built 1980 (E0 6.4): kept, single glazing in a metal frame is 6.4
    old = {"year_built": 1980, "window_frame": "mixed", "window_glazing": "single"}
    assert _e04(old)[0]["u_before"] == 6.4
    # a steel frame, glazing unknown, built 2016: a steel window is never below 3.0
    assert _e04({"window_frame": "steel", "window_glazing": "unknown"})[0]["u_before"] == 3.0
    # nothing seen: the era default
    unseen = {"window_frame": "unknown", "window_glazing": "unknown", "year_built": 1980}
    assert outcome(derive({**unseen, "windows_replaced_share": "p0"}), "E04") == "undetermined"
    from surveyor.retrofit.estimates import estimate

    env = derive(unseen).values
    result = estimate("heat_loss_window", {**env, "windows_replaced_share": "p0"}, get_params())
    assert result is not None and result.values["u_before"] == 6.4  # E0 default
    assert result.defaulted[0].label.en == "Window U-value (E0 era default)"


def test_no_saving_is_never_printed_as_an_estimate() -> None:
    # wood frames with triple glazing are already better than the 2.2 target
    values, zh, en = _e04({"window_frame": "wood", "window_glazing": "triple"})
    assert values["saving_kwh"] == 0.0
    assert "预计无节热" in zh and "MWh" not in zh and "CO₂" not in zh
    assert "no heat saving expected" in en
    # what rounds to nothing says "<1", not 0
    small = {"gross_floor_area": 50.0, "floors_above": 1, "household_count": 1}
    values, zh, en = _e04({**small, "window_frame": "wood", "window_glazing": "igu"})
    assert 0 < values["co2_t"] < 0.5
    assert "减排CO₂ <1 t/年" in zh and "<1 tCO₂/yr" in en


def test_the_window_table_uses_the_form_codes() -> None:
    form = get_form()
    table = get_params().table("p_window_u_values")
    glazing = {c.code for c in form.fields["window_glazing"].choices}
    frames = {c.code for c in form.fields["window_frame"].choices}
    assert set(table) == glazing - {"mixed", "unknown"}
    assert all(set(row) == frames - {"mixed", "unknown"} for row in table.values())


# ------------------------------------------------------------ 6. no heating, no heat saving


def test_a_building_without_heating_gets_no_heat_saving_estimate() -> None:
    report = derive({"heating_source": "none", "wall_insulation": "none", "year_built": 1980})
    e01 = next(n for n in report.needs if n.rule_id == "E01")
    assert e01.estimate is not None
    assert e01.estimate.summary.zh == "约1,260 m²，无供暖，不估算节热"
    assert "saving_kwh" not in e01.estimate.values
    labels = [d.label.zh for d in report.defaulted]
    assert not [label for label in labels if "供暖方式" in label or "排放因子" in label]
    assert not [label for label in labels if label.startswith("外墙U值")]
    # an unanswered heating source is still a default, said as such
    draft = derive({"heating_source": None, "wall_insulation": "none"})
    assert "排放因子：供暖方式不详，按集中供热" in [d.label.zh for d in draft.defaulted]


# ------------------------------------------------------------ 7. undetermined flags are listed


def test_an_undetermined_flag_is_listed_with_what_to_check(tmp_path: Path) -> None:
    from tests.retrofit.test_review import checks

    unknown = {
        "prior_programmes": ["unknown"],
        "heritage_status": "unknown",
        "wall_insulation": "none",
        "year_built": 1990,
    }
    report = derive(unknown)
    assert outcome(report, "F02") == outcome(report, "F05") == "undetermined"
    assert checks(report, "F02") == ("prior_programmes",)
    assert checks(report, "F05") == ("heritage_status",)
    # on the sheet, in the box of answers to check
    from tests.exports.test_print_content import one_line, sheet_text

    text = one_line(sheet_text(tmp_path, {**CLEAN, **unknown}))
    assert "F05 保护建筑：外立面改造受限：核实 保护状态" in text
    assert "F02 非节能建筑嫌疑：核实 既往改造" in text


# ------------------------------------------------------------ 8. assumptions are said


def test_a_gas_pipe_year_not_given_is_listed_as_assumed() -> None:
    corroded = {"gas_pipe_condition": "corroded"}
    for year, said in ((None, "not given"), ("unknown", "unknown")):
        report = derive({**corroded, "gas_pipe_year": year})
        g01 = next(n for n in report.needs if n.rule_id == "G01")
        assert g01.assumed_unknown == ("gas_pipe_year",), year
        item = next(d for d in report.defaulted if d.value == "G01")
        assert (
            item.label.en == f"Year gas risers/service pipes installed: {said}, worst case assumed"
        )
    # a year given decides it: no assumption
    report = derive({**corroded, "gas_pipe_year": 1985})
    assert next(n for n in report.needs if n.rule_id == "G01").assumed_unknown == ()
    assert not any(d.value == "G01" for d in report.defaulted)


def test_a_balancing_valve_not_known_is_listed_as_assumed() -> None:
    # docs/RETROFIT.md: E07 "≠ yes" assumes the worst for a valve recorded 不详, and says so
    # (one not recorded is a check since rules 1.5.0: tests/retrofit/test_heating_review.py)
    report = derive({"heating_complaints": "some", "balancing_valve": "unknown"})
    e07 = next(n for n in report.needs if n.rule_id == "E07")
    assert e07.assumed_unknown == ("balancing_valve",)
    report = derive({"heating_complaints": "some", "balancing_valve": "no"})
    assert next(n for n in report.needs if n.rule_id == "E07").assumed_unknown == ()


def test_an_answer_not_asked_is_not_an_assumption() -> None:
    # P06 triggered by complaints; the room temperature (not taken) did not decide it
    report = derive({"heating_complaints": "many", "indoor_temp_sample": None})
    assert next(n for n in report.needs if n.rule_id == "P06").assumed_unknown == ()
