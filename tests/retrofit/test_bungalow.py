"""Form 1.0.8 / rules 1.5.0: a 平房 (single-storey bungalow, 62 平房片区 in Nankai, research
§4.3) has no shared stairwell. It could never be marked complete (the stairwell photo, windows,
entrance door were required) and honest answers (无窗, 普通门, no intercom) gave it E06
楼梯间窗与单元门保温密闭 and D01 单元门禁对讲. Each test failed on form 1.0.7 / rules 1.4.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from surveyor.forms.catalog import DEFAULT_FORM, get_form
from surveyor.forms.model import load_form
from surveyor.forms.record import evaluate
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import NeedsReport
from surveyor.services.survey import create_building, save_answers
from surveyor.store.db import open_store
from tests.conftest import REGISTER_ROW
from tests.retrofit.records import CLEAN

#: The fields a building without a shared stairwell is not asked.
STAIRWELL_FIELDS = (
    "stairwell_windows",
    "entrance_door",
    "stair_defects",
    "stair_handrail_wall",
    "access_control",
    "photo_stairwell",
)

#: The stairwell rules: windows, entrance door, stairs, door intercom.
STAIRWELL_RULES = {"E06", "S10", "C01", "D01"}

#: A 1950s brick-timber 平房 row of 8 dwellings, each with its own door.
BUNGALOW: dict[str, Any] = {
    key: value
    for key, value in {
        **CLEAN,
        "compound_name": "鼓楼东片区",
        "year_built": 1955,
        "structure_type": "brick_wood",
        "masonry_deterioration": "none",
        "floors_above": 1,
        "entrance_count": 8,
        "household_count": 8,
        "gross_floor_area": 420.0,
        "has_elevator": False,
    }.items()
    if key not in STAIRWELL_FIELDS
}

#: What an inspector at a 平房 honestly answered when the form asked (form 1.0.7).
HONEST_ANSWERS = {
    "stairwell_windows": "no_window",
    "entrance_door": "ordinary",
    "access_control": "none",
    "stair_defects": ["none"],
    "stair_handrail_wall": "none",
}


def derive(answers: dict[str, Any]) -> NeedsReport:
    form = get_form()
    return derive_needs(form, get_rules(form), get_params(), answers)


def stairwell_outcomes(report: NeedsReport) -> set[str]:
    """The stairwell rules that triggered or are left to check."""
    named = {n.rule_id for n in report.needs} | {u.rule_id for u in report.undetermined}
    return named & STAIRWELL_RULES


def test_a_bungalow_is_not_asked_its_stairwell_and_can_complete() -> None:
    ev = evaluate(get_form(), BUNGALOW)
    assert not set(STAIRWELL_FIELDS) & ev.relevant
    assert ev.values["shared_stairwell"] == "no"
    assert ev.can_complete, (ev.missing, ev.errors)


def test_a_bungalow_has_no_stairwell_needs_nor_checks() -> None:
    assert stairwell_outcomes(derive(BUNGALOW)) == set()
    # a record of form 1.0.7 keeps its honest answers: not asked now, so they decide nothing
    assert stairwell_outcomes(derive({**BUNGALOW, **HONEST_ANSWERS})) == set()
    broken = {**HONEST_ANSWERS, "stairwell_windows": "broken", "stair_defects": ["steps_damaged"]}
    assert stairwell_outcomes(derive({**BUNGALOW, **broken})) == set()


def test_a_multi_storey_building_is_still_asked_its_stairwell() -> None:
    for floors in (2, 6):
        walk_up = {**BUNGALOW, "floors_above": floors, "structure_type": "brick_concrete"}
        ev = evaluate(get_form(), walk_up)
        assert set(STAIRWELL_FIELDS) <= ev.relevant
        assert not ev.can_complete
        assert set(STAIRWELL_FIELDS) <= set(ev.missing)
        # not answered: each rule names its answers to check
        report = derive(walk_up)
        assert stairwell_outcomes(report) == STAIRWELL_RULES
        checks = {u.rule_id: u.fields for u in report.undetermined}
        assert checks["E06"] == ("entrance_door", "stairwell_windows")
        assert checks["D01"] == ("access_control",)
        answered = derive({**walk_up, **HONEST_ANSWERS})
        assert {n.rule_id for n in answered.needs} & STAIRWELL_RULES == {"E06", "D01"}


def test_storeys_not_given_check_the_storeys() -> None:
    report = derive({k: v for k, v in BUNGALOW.items() if k != "floors_above"})
    e06 = next(u for u in report.undetermined if u.rule_id == "E06")
    assert (e06.fields, e06.awaiting) == (("floors_above",), ())


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True, timeout=120)


def test_the_reviewers_bungalow_completes_with_surveyor_status(tmp_path: Path) -> None:
    from PIL import Image

    db = tmp_path / "s.db"
    assert sv("init", "--db", str(db), "--inspector", "王芳").returncode == 0
    form = load_form(DEFAULT_FORM)
    store = open_store(db)
    try:
        code = create_building(store, form, REGISTER_ROW, author="王芳").code
        answers = {k: v for k, v in BUNGALOW.items() if k != "photo_facade_main"}
        save_answers(store, form, code, answers, author="王芳")
    finally:
        store.close()
    photo = tmp_path / "facade.jpg"
    Image.new("RGB", (32, 24), (180, 120, 90)).save(photo, "JPEG")
    added = sv("photo", "add", "--db", str(db), code, "photo_facade_main", str(photo))
    assert added.returncode == 0, added.stderr
    run = sv("status", "--db", str(db), code, "complete")
    assert run.returncode == 0, run.stderr
    shown = json.loads(sv("show", "--db", str(db), code, "--json").stdout)
    assert shown["status"] == "complete"
    needs = json.loads(sv("needs", "--db", str(db), code, "--json").stdout)
    named = {n["rule"] for n in needs["needs"]} | {u["rule"] for u in needs["undetermined"]}
    assert not named & STAIRWELL_RULES
