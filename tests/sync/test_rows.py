"""A folded building's rows: its evaluation columns, computed or reused; its conflict rows.

A merge reuses an evaluation already computed for the same answers (the sender's row with the
same heads, or a held or prepared row with the same answers). Reuse must be exact: a
different value, a different type or another form version is evaluated afresh.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from surveyor.forms.model import Form
from surveyor.forms.record import evaluate
from surveyor.store.bulk import dump_json, row_converter
from surveyor.store.ids import uuid7
from surveyor.sync.fold import ChangeRow, ConflictRow, fold_entity
from surveyor.sync.rows import (
    CONFLICT,
    CONFLICT_NAMES,
    PriorEvaluation,
    RowHint,
    answers_key,
    conflict_params,
    conflict_values,
    state_row,
)
from tests.conftest import REGISTER_ROW

BUILDING_ID = str(uuid7())
SITE_ID = str(uuid7())
#: Evaluation columns no real evaluation gives: seeing them proves they were reused.
MARKED = {"completeness": 0.125, "errors": {"marker": {"en": "reused"}}, "error_count": 7}


def _state(form: Form, answers: dict[str, Any]) -> Any:
    change = ChangeRow(
        change_id=str(uuid7()),
        site_id=SITE_ID,
        seq=1,
        hlc=1 << 16,
        entity_id=BUILDING_ID,
        op="upsert",
        form_version=form.version,
        fields=REGISTER_ROW | answers,
        parents={},
        author="甲",
        wall_time="2026-11-24T08:00:00+00:00",
    )
    return fold_entity(BUILDING_ID, [change])


def _prior(form: Form, answers: dict[str, Any], version: str | None = None) -> PriorEvaluation:
    key = answers_key(REGISTER_ROW | answers)
    assert key is not None
    return PriorEvaluation(
        version or form.version,
        key,
        MARKED["completeness"],
        dump_json(MARKED["errors"]),
        MARKED["error_count"],
    )


def _evaluation_columns(row: dict[str, Any]) -> dict[str, Any]:
    errors = row["errors"]  # a reused evaluation's errors stay JSON text (RawJSON)
    return {
        "completeness": row["completeness"],
        "errors": errors if isinstance(errors, dict) else json.loads(errors.text),
        "error_count": row["error_count"],
    }


def test_a_prior_evaluation_of_the_same_answers_is_reused(mini: Form) -> None:
    state = _state(mini, {"year_built": 1990})
    row = state_row(state, mini, None, [_prior(mini, {"year_built": 1990})])
    assert _evaluation_columns(row) == MARKED


@pytest.mark.parametrize(
    ("prior_answers", "version"),
    [
        ({"year_built": 1991}, None),  # another value
        ({"year_built": 1990.0}, None),  # same number, another type
        ({"year_built": "1990"}, None),
        ({"year_built": 1990, "floors_above": 6}, None),  # one answer more
        ({"year_built": 1990}, "older-version"),  # evaluated under another form version
    ],
)
def test_a_prior_evaluation_of_other_answers_is_not_reused(
    mini: Form, prior_answers: dict[str, Any], version: str | None
) -> None:
    answers = {"year_built": 1990}
    state = _state(mini, answers)
    row = state_row(state, mini, None, [_prior(mini, prior_answers, version)])
    fresh = state_row(state, mini, None)
    assert _evaluation_columns(row) == _evaluation_columns(fresh) != MARKED
    assert row["error_count"] == len(evaluate(mini, REGISTER_ROW | answers).errors)


def test_the_senders_row_is_reused_when_its_heads_equal_ours(mini: Form) -> None:
    state = _state(mini, {"year_built": 1990})
    heads = state_row(state, mini, None)["heads"].text
    hint = RowHint(heads, mini.version, 0.125, dump_json(MARKED["errors"]), 7)
    assert _evaluation_columns(state_row(state, mini, hint)) == MARKED
    other = hint._replace(heads_json=dump_json({"someone-else": [1, ["year_built"]]}))
    assert _evaluation_columns(state_row(state, mini, other)) != MARKED


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_conflict_rows_convert_as_one_by_one(dialect: str) -> None:
    a, b, c, base = (str(uuid7()) for _ in range(4))
    conflicts = [
        ConflictRow(BUILDING_ID, f"field_{i}", "hard", base, (a, b), b, "open", None)
        for i in range(5)
    ] + [
        ConflictRow(BUILDING_ID, "floors_above", "hard", None, (a, c), c, "open", None),
        ConflictRow(BUILDING_ID, "year_built", "delete_vs_edit", base, (a, c), a, "resolved", c),
    ]
    convert = row_converter(CONFLICT, CONFLICT_NAMES, dialect)
    assert conflict_values(conflicts, convert) == [convert(conflict_params(r)) for r in conflicts]
