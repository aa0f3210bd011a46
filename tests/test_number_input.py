"""Numbers as typed (CLI ``set``, the app's boxes, register import all go through
``coerce_answer``): thousands grouped by commas are read, any other comma or underscore makes
the text no number."""

from __future__ import annotations

from typing import Any

import pytest

from surveyor.forms.catalog import get_form
from surveyor.forms.record import AnswerError, coerce_answer

FORM = get_form()


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        ("household_count", "1,200", 1200),
        ("household_count", "1，200", 1200),  # the IME's comma, in threes
        ("floors_above", "12", 12),
        ("floors_above", "+6", 6),
        ("gross_floor_area", "12,345.5", 12345.5),
        ("gross_floor_area", "1,234,567", 1234567.0),
        ("gross_floor_area", "85.5平米", 85.5),
        ("gross_floor_area", ".5", 0.5),
    ],
)
def test_thousands_grouped_by_commas_are_read(field: str, typed: str, value: Any) -> None:
    assert coerce_answer(FORM.field(field), typed) == value


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("floors_above", "1_2", "must be a whole number"),  # saved 12
        ("floors_above", ",,6", "must be a whole number"),  # saved 6
        ("floors_above", "6,", "must be a whole number"),
        ("household_count", "6，7", "must be a whole number"),  # two answers: saved 67
        ("household_count", "12,34", "must be a whole number"),
        ("household_count", "1,2000", "must be a whole number"),
        ("gross_floor_area", "12,34", "must be a number"),  # saved 1234.0
        ("gross_floor_area", "1_000.5", "must be a number"),
        ("gross_floor_area", "1,234.5,6", "must be a number"),
    ],
)
def test_any_other_comma_or_underscore_is_no_number(field: str, typed: str, says: str) -> None:
    """``int``/``float`` read 1_2 as 12, and every comma was dropped wherever it stood."""
    with pytest.raises(AnswerError) as caught:
        coerce_answer(FORM.field(field), typed)
    assert caught.value.message.en == says
