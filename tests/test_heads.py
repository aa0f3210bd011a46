"""Stored heads: groups that name all their change's fields are packed, and unpack exactly."""

from __future__ import annotations

from surveyor.store.heads import pack_heads, packed_changes, set_heads, unpack_heads

REGISTER = ["address", "building_no", "subdistrict"]
SURVEY = ["floors_above", "roof_type", "year_built"]
FIELDS_OF = {"c-register": REGISTER, "c-survey": [*SURVEY, "_status"], "c-fix": ["year_built"]}
SIZES = {cid: len(fields) for cid, fields in FIELDS_OF.items()}


def test_a_group_naming_all_its_changes_fields_is_stored_without_them() -> None:
    explicit = {
        "c-register": [1, REGISTER],
        "c-survey": [2, ["_status", "floors_above", "roof_type"]],  # year_built saved over
        "c-fix": [3, ["year_built"]],
    }
    stored = pack_heads(explicit, SIZES)
    assert stored == {
        "c-fix": [3, ["year_built"]],  # one name costs less than looking the change up
        "c-register": [1],
        "c-survey": [2, ["_status", "floors_above", "roof_type"]],
    }
    assert list(stored) == sorted(stored)  # canonical: equal heads give equal text
    assert packed_changes(stored) == ["c-register"]
    assert unpack_heads(stored, FIELDS_OF) == explicit


def test_a_change_of_unknown_size_stays_explicit() -> None:
    explicit = {"c-register": [1, REGISTER]}
    assert pack_heads(explicit, {}) == explicit


def test_a_save_over_a_packed_group_names_what_is_left_of_it() -> None:
    stored = {"c-survey": [2]}
    explicit = unpack_heads(stored, FIELDS_OF)
    after = set_heads(explicit, ["roof_type", "floors_above"], "c-next", 4)
    assert pack_heads(after, SIZES | {"c-next": 2}) == {
        "c-next": [4],
        "c-survey": [2, ["_status", "year_built"]],
    }
