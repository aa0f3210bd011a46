"""Defects found by the building-energy review of rules 1.1.0 against the research note
(shared/research/domain-census.md): each test failed on rules 1.1.0 / params 1.1.0.

Records start from the clean record (tests/retrofit/records.py), as in test_rules.py.
"""

from __future__ import annotations

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
    rules = {r.id: r.defn for r in get_rules(get_form()).rules}
    for rid in PROPOSED:
        assert rules[rid].source.status == "proposal", rid
    for rule in rules.values():  # a source text that admits a proposal has the status too
        if "为提案" in rule.source.text:
            assert rule.source.status == "proposal", rule.id
