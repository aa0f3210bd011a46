"""Contradictory answers the census form warns about (form 1.0.5, after a building-energy
review): each pair of answers was accepted without a word by form 1.0.4. A warning never
blocks: the record still completes."""

from __future__ import annotations

from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.forms.record import evaluate
from tests.retrofit.records import CLEAN

#: The clean record, less its room temperature (taken in May, it has a warning of its own).
BASE = {**CLEAN, "indoor_temp_sample": None}
BRICK_1985 = {
    "year_built": 1985,
    "structure_type": "brick_concrete",
    "masonry_deterioration": "none",
}
APPRAISED_C = {"appraisal_done": "yes", "appraisal_year": 2020, "appraisal_grade": "C"}
HEAT_DATA = {"energy_data_available": True, "energy_data_year": 2024, "heated_area": 2000.0}

#: (answers over the clean record, the field that warns)
CONTRADICTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "cracked insulation on a bare wall": (
        {**BRICK_1985, "wall_insulation": "none", "facade_defects": ["insulation_cracked"]},
        "facade_defects",
    ),
    "heat delivered without heating": (
        {**HEAT_DATA, "heating_source": "none", "annual_heat": 900.0},
        "annual_heat",
    ),
    "energy retrofit, bare wall": (
        {**BRICK_1985, "prior_programmes": ["energy_retrofit"], "wall_insulation": "none"},
        "wall_insulation",
    ),
    "dangerous grade, no symptom": (APPRAISED_C, "appraisal_grade"),
    "masonry deterioration on RC": ({"masonry_deterioration": "local"}, "masonry_deterioration"),
    "masonry building marked not masonry": (
        {**BRICK_1985, "masonry_deterioration": "na"},
        "masonry_deterioration",
    ),
}

CONSISTENT: dict[str, dict[str, Any]] = {
    "cracked external insulation": {"facade_defects": ["insulation_detached"]},
    "no heating, no heat delivered": {**HEAT_DATA, "heating_source": "none", "annual_heat": 0},
    "heated, heat delivered": {**HEAT_DATA, "annual_heat": 900.0},
    "energy retrofit, insulated wall": {"prior_programmes": ["energy_retrofit"]},
    "bare wall, no retrofit": {**BRICK_1985, "wall_insulation": "none"},
    "dangerous grade, visible cracks": {**APPRAISED_C, "structural_cracks": "visible"},
    "dangerous grade, hidden members": {**APPRAISED_C, "structural_cracks": "unknown"},
    "dangerous grade, removed bearing wall": {
        **APPRAISED_C,
        "unauthorized_alterations": ["bearing_wall_removed"],
    },
    "grade B, no symptom": {**APPRAISED_C, "appraisal_grade": "B"},
    "masonry deterioration on brick": {**BRICK_1985, "masonry_deterioration": "extensive"},
    "RC, not masonry": {},
}


def test_the_clean_record_completes_without_warnings() -> None:
    ev = evaluate(get_form(), BASE)
    assert ev.can_complete and not ev.warnings


@pytest.mark.parametrize("case", CONTRADICTIONS)
def test_contradictory_answers_warn_but_do_not_block(case: str) -> None:
    answers, field_id = CONTRADICTIONS[case]
    ev = evaluate(get_form(), {**BASE, **answers})
    assert list(ev.warnings) == [field_id]
    assert ev.warnings[field_id].zh and ev.warnings[field_id].en
    # non-blocking: no error (a defect answered still asks for its photo, as before)
    assert not ev.errors and set(ev.missing) <= {"photo_defects"}


@pytest.mark.parametrize("case", CONSISTENT)
def test_consistent_answers_do_not_warn(case: str) -> None:
    ev = evaluate(get_form(), {**BASE, **CONSISTENT[case]})
    assert not ev.warnings, ev.warnings


def test_a_draft_without_the_structural_answers_is_not_warned_yet() -> None:
    """The grade is asked before the symptoms: no warning until they are answered."""
    draft = {**APPRAISED_C, "structural_cracks": None, "masonry_deterioration": None}
    assert "appraisal_grade" not in evaluate(get_form(), {**BASE, **draft}).warnings
