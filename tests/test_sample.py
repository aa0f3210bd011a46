"""The sample generator: deterministic, realistic, and written through the one write path."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.forms.record import evaluate
from surveyor.paths import blob_dir_for
from surveyor.services.sample import (
    LAT_RANGE,
    LON_RANGE,
    REAL_COMPOUNDS,
    STREETS_BY_SUBDISTRICT,
    SUPERVISOR,
    block_jpeg,
    generate_sample,
    placeholder_blobs,
    planned_buildings,
    real_compound_layout,
)
from surveyor.services.survey import BUILDING, REGISTER_FIELDS, STATUSES
from surveyor.store import models
from surveyor.store.db import open_store
from surveyor.store.maintenance import doctor

CHANGE = models.TABLES.tables["change"]
ATTACHMENT = models.TABLES.tables["attachment"]

Row = tuple[str, str, dict[str, Any]]


def _make(tmp: Path, form: Form, n: int, seed: int, name: str = "s.db") -> tuple[Path, str]:
    out = tmp / name
    return out, generate_sample(out, form, buildings=n, seed=seed)


def _rows(db: Path) -> list[Row]:
    store = open_store(db, readonly=True)
    try:
        with store.engine.connect() as conn:
            result = conn.execute(
                sa.select(BUILDING.c.code, BUILDING.c.status, BUILDING.c.answers).order_by(
                    BUILDING.c.code
                )
            )
            return [(code, status, answers) for code, status, answers in result]
    finally:
        store.close()


def _canon(rows: list[Row]) -> set[tuple[str, str, str]]:
    return {(c, s, json.dumps(a, sort_keys=True, ensure_ascii=False)) for c, s, a in rows}


@pytest.fixture(scope="module")
def db200(tmp_path_factory: pytest.TempPathFactory, form: Form) -> tuple[Path, str]:
    return _make(tmp_path_factory.mktemp("s200"), form, 200, seed=7)


@pytest.fixture(scope="module")
def db500(tmp_path_factory: pytest.TempPathFactory, form: Form) -> Path:
    return _make(tmp_path_factory.mktemp("s500"), form, 500, seed=2024)[0]


def test_same_seed_same_data_different_seed_different(tmp_path: Path, form: Form) -> None:
    a, _ = _make(tmp_path, form, 60, seed=11, name="a.db")
    b, _ = _make(tmp_path, form, 60, seed=11, name="b.db")
    c, _ = _make(tmp_path, form, 60, seed=12, name="c.db")
    rows_a, rows_b, rows_c = _rows(a), _rows(b), _rows(c)
    assert len(rows_a) == 60
    assert _canon(rows_a) == _canon(rows_b)
    assert _canon(rows_a) != _canon(rows_c)
    assert {r[0] for r in rows_a}.isdisjoint({r[0] for r in rows_c})


def test_status_mix_and_every_finished_record_can_complete(
    db200: tuple[Path, str], form: Form
) -> None:
    db, summary = db200
    rows = _rows(db)
    statuses = Counter(s for _, s, _ in rows)
    assert set(statuses) == set(STATUSES)
    assert sum(statuses.values()) == 200
    for status in STATUSES:
        assert f"{status} {statuses[status]}" in summary
    photo_fields = {f.id for f in form.fields.values() if f.type == "photo"}
    for code, status, answers in rows:
        ev = evaluate(form, answers)
        if status in ("complete", "approved"):
            assert ev.can_complete, (code, ev.missing, ev.errors)
            assert answers["photo_facade_main"]
        elif status == "draft":
            assert not ev.can_complete
            assert not photo_fields & set(answers)
            assert set(answers) - set(REGISTER_FIELDS)
        else:
            assert set(answers) == set(REGISTER_FIELDS)
        assert not ev.errors, (code, ev.errors)
        assert not ev.warnings, (code, ev.warnings)


def test_all_subdistricts_and_natural_keys(db500: Path, form: Form) -> None:
    rows = _rows(db500)
    subdistricts = {c.code for c in form.field("subdistrict").choices}
    assert {a["subdistrict"] for _, _, a in rows} == subdistricts
    keys = [(a["subdistrict"], a["compound_name"], a["building_no"]) for _, _, a in rows]
    assert len(set(keys)) == len(keys) == 500
    addresses = [a["address"] for _, _, a in rows]
    assert len(set(addresses)) == len(addresses)
    assert all(addr.startswith("南开区") and addr.endswith("号") for addr in addresses)
    assert all(a["community"].endswith("社区") for _, _, a in rows)


def test_realistic_building_stock(db500: Path) -> None:
    surveyed = [a for _, _, a in _rows(db500) if "year_built" in a]
    assert len(surveyed) > 200
    old = [a for a in surveyed if a["year_built"] <= 2000]
    assert 0.55 < len(old) / len(surveyed) < 0.85
    # The research's compounds keep their stated layout (罗江东里: 30 flats in 2,536 m²).
    stated = {real.name for real in REAL_COMPOUNDS if real.total_area}
    for a in old:
        walkup = a["year_built"] >= 1977 and a["compound_name"] not in stated
        if walkup and a["structure_type"] == "brick_concrete":
            assert 5 <= a["floors_above"] <= 7
            assert 40 <= a["household_count"] <= 120
            assert 2500 <= a["gross_floor_area"] <= 8500
    walkups = [a for a in surveyed if "has_elevator" in a and a["floors_above"] <= 7]
    assert walkups and sum(not a["has_elevator"] for a in walkups) / len(walkups) > 0.9
    for a in surveyed:
        if "location" in a:
            assert LAT_RANGE[0] <= a["location"]["lat"] <= LAT_RANGE[1]
            assert LON_RANGE[0] <= a["location"]["lon"] <= LON_RANGE[1]
    some_unknown = [a for a in surveyed if a.get("gas_pipe_year") == "unknown"]
    assert some_unknown
    # 直管公房 walk-ups answer "single owner?", which decides the lift need (A01): left blank,
    # none of them could ever show one.
    public = [a for a in surveyed if a["housing_origin"] == "public_direct"]
    owners = Counter(a.get("single_owner") for a in public)
    assert public and owners["no"] > len(public) / 2 and set(owners) <= {"no", "yes", "unknown"}
    assert not any("single_owner" in a for a in surveyed if a not in public)
    # Most working elevators have no faults (the option was missing: 偶尔 stood in for it).
    working = [a["elevator_faults"] for a in surveyed if a.get("has_elevator")]
    working = [f for f in working if f != "out_of_service"]
    assert working and Counter(working)["none"] > len(working) / 2


@pytest.fixture(scope="module")
def planned(form: Form) -> list[tuple[int, str, dict[str, Any]]]:
    """(seed, status, answers) of 2,000-building samples of three seeds, planned, not written."""
    return [
        (seed, status, answers)
        for seed in (1, 2, 2024)
        for status, answers in planned_buildings(form, buildings=2000, seed=seed)
    ]


def test_the_plan_is_what_is_written(db200: tuple[Path, str], form: Form) -> None:
    written = sorted(
        (s, a["compound_name"], a["building_no"], a.get("year_built"))
        for _, s, a in _rows(db200[0])
    )
    planned = sorted(
        (s, a["compound_name"], a["building_no"], a.get("year_built"))
        for s, a in planned_buildings(form, buildings=200, seed=7)
    )
    assert written == planned


def test_a_compound_lies_in_one_subdistrict_and_one_community(
    planned: list[tuple[int, str, dict[str, Any]]],
) -> None:
    """宜宾东里 belonged to whichever 街道 drew it, 观景里 not to 水上公园; the address to any
    street of the district."""
    for seed in (1, 2, 2024):
        places: dict[str, set[tuple[str, str]]] = {}
        stems: dict[str, set[str]] = {}
        for _, _, a in (p for p in planned if p[0] == seed):
            places.setdefault(a["compound_name"], set()).add((a["subdistrict"], a["community"]))
            stems.setdefault(a["compound_name"][:2], set()).add(a["subdistrict"])
            street = a["address"].removeprefix("南开区").rstrip("0123456789号")
            assert street in STREETS_BY_SUBDISTRICT[a["subdistrict"]], a["address"]
        assert len(places) > 150
        assert {n: p for n, p in places.items() if len(p) > 1} == {}
        # 宜宾东里 and 宜宾西里 are neighbours: a name stem belongs to one 街道 too.
        assert {s: p for s, p in stems.items() if len(p) > 1} == {}


def test_pre1977_stock_is_a_few_percent_mostly_in_gulou(
    planned: list[tuple[int, str, dict[str, Any]]],
) -> None:
    """There was none: the old town (鼓楼), its 平房片区 and early walk-ups, research §4.3."""
    for seed in (1, 2, 2024):
        surveyed = [a for s, _, a in planned if s == seed and "year_built" in a]
        pre = [a for a in surveyed if a["year_built"] <= 1976]
        assert 0.02 <= len(pre) / len(surveyed) <= 0.07, (seed, len(pre))
        assert sum(a["subdistrict"] == "gulou" for a in pre) / len(pre) >= 0.6
        walkups = [a for a in surveyed if 1977 <= a["year_built"] <= 2000]
        assert 0.6 <= len(walkups) / len(surveyed) <= 0.8
    pre = [a for _, _, a in planned if a.get("year_built", 9999) <= 1976]
    assert {a["structure_type"] for a in pre} <= {"brick_wood", "brick_concrete", "frame_masonry"}
    assert {a["floors_above"] for a in pre} == {1, 2, 3, 4}
    bungalows = [a for a in pre if a["floors_above"] == 1]
    assert bungalows and all(a["compound_name"].endswith("片区") for a in bungalows)
    assert all(a["entrance_count"] == a["household_count"] for a in bungalows)
    # No insulation unless an energy retrofit put it on; no elevators.
    for a in pre:
        if a.get("wall_insulation") not in (None, "none", "unknown"):
            assert {"energy_retrofit", "unknown"} & set(a["prior_programmes"])
    assert not any(a.get("has_elevator") for a in pre)
    # What the rules for old stock read: seismic check (F03), pipes past their service life.
    complete = [a for a in pre if "water_pipe_year" in a and "seismic_retrofit" in a]
    assert sum(a["seismic_retrofit"] != "yes" for a in complete) > len(complete) / 2
    old_water = [a for a in complete if a["water_pipe_year"] != "unknown"]
    assert sum(a["water_pipe_year"] <= 1994 for a in old_water) > len(old_water) / 2
    assert sum(a["non_self_contained_units"] > 0 for a in bungalows) > len(bungalows) / 3


def test_the_researched_compounds_have_their_stated_facts(
    planned: list[tuple[int, str, dict[str, Any]]], form: Form
) -> None:
    """Research §4.2: 罗江东里 1984, 14 幢, 42 门栋, 3.55万 m², all 5-storey 砖混; 观景里
    (水上公园街) 1994, buildings 1–6, 20 门栋, 5.08万 m², 6–7-storey 砖混; 宜宾东里, 泊江东里,
    沱江里 of 西营门片区 ≈3,800 m² a building (their 街道 unstated: one assumed for all)."""
    import random

    facts = {real.name: real for real in REAL_COMPOUNDS}
    luojiang, guanjing = facts["罗江东里"], facts["观景里"]
    for real in (luojiang, guanjing):
        layout = real_compound_layout(real, random.Random(3))
        assert len(layout) == real.buildings
        assert sum(b.entrances for b in layout) == real.entrances
        assert abs(sum(b.area for b in layout) - (real.total_area or 0)) < 1
        assert {b.floors for b in layout} == set(real.floors)
    buildings = [a for seed, _, a in planned if seed == 2024 and a["compound_name"] in facts]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for a in buildings:
        by_name.setdefault(a["compound_name"], []).append(a)
    assert set(by_name) == set(facts)
    for name, rows in by_name.items():
        real = facts[name]
        assert {(a["subdistrict"], a["community"]) for a in rows} == {
            (real.subdistrict, f"{name}社区")
        }
        surveyed = [a for a in rows if "year_built" in a]
        assert surveyed, name
        if real.buildings:
            assert sorted(a["building_no"] for a in rows) == sorted(
                f"{k}号楼" for k in range(1, real.buildings + 1)
            )
        if real.year:
            assert {a["year_built"] for a in surveyed} == {real.year}
        if real.structure:
            assert {a["structure_type"] for a in surveyed} == {real.structure}
        floors = [a["floors_above"] for a in surveyed if "floors_above" in a]
        if real.floors:
            assert set(floors) <= set(real.floors)
        if real.mean_area:
            areas = [a["gross_floor_area"] for a in surveyed if "gross_floor_area" in a]
            assert abs(sum(areas) / len(areas) - real.mean_area) < 0.15 * real.mean_area
    assert {a["entrance_count"] for a in by_name["罗江东里"] if "entrance_count" in a} == {3}
    assert guanjing.subdistrict == "shuishanggongyuan"
    xiyingmen = {facts[n].subdistrict for n in ("宜宾东里", "泊江东里", "沱江里")}
    assert len(xiyingmen) == 1
    # The 2012 pilot renewed 罗江东里's gas pipes.
    pipes = {a.get("gas_pipe_year") for a in by_name["罗江东里"] if "gas_pipe_year" in a}
    assert pipes and pipes <= {2012, "unknown"}
    # No other compound takes their names, in any seed.
    assert all(
        a["subdistrict"] == facts[a["compound_name"]].subdistrict
        for _, _, a in planned
        if a["compound_name"] in facts
    )


def test_doctor_authors_and_attachments(db500: Path) -> None:
    store = open_store(db500, readonly=True)
    try:
        report = doctor(store)
        assert report.ok, report.problems
        with store.engine.connect() as conn:
            authors = Counter(conn.execute(sa.select(CHANGE.c.author)).scalars())
            attachments = {
                sha: size
                for sha, size in conn.execute(sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.size))
            }
            rows = conn.execute(sa.select(BUILDING.c.answers, BUILDING.c.updated_by)).all()
    finally:
        store.close()
    assert SUPERVISOR in authors
    assert len(authors) >= 4  # the supervisor and several inspectors
    referenced: set[str] = set()
    for answers, _ in rows:
        for value in answers.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                referenced.update(item["sha256"] for item in value)
    assert referenced and referenced <= set(attachments)
    blobs = blob_dir_for(db500)
    for sha, size in attachments.items():
        data = (blobs / sha[:2] / sha[2:]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
        assert len(data) == size


def test_placeholder_photos_are_valid_jpegs() -> None:
    blobs = placeholder_blobs()
    assert len({b.sha256 for b in blobs.values()}) == len(blobs)
    for blob in blobs.values():
        assert blob.data.startswith(b"\xff\xd8") and blob.data.endswith(b"\xff\xd9")
    image_mod = pytest.importorskip("PIL.Image")
    red = (200, 30, 30)
    data = block_jpeg([[red, (20, 20, 220)]])
    with image_mod.open(io.BytesIO(data)) as img:
        assert img.size == (16, 8)
        r, g, b = img.convert("RGB").getpixel((3, 3))
        assert abs(r - 200) < 6 and abs(g - 30) < 6 and abs(b - 30) < 6


def test_refuses_an_existing_file(tmp_path: Path, form: Form) -> None:
    out = tmp_path / "x.db"
    out.write_bytes(b"not empty")
    with pytest.raises(SurveyorError):
        generate_sample(out, form, buildings=5, seed=1)
    with pytest.raises(SurveyorError):
        generate_sample(tmp_path / "y.db", form, buildings=0, seed=1)


def test_a_calculation_from_a_refused_answer_is_no_value() -> None:
    """Year built 1700 (refused: 1900 at the earliest) showed the era 1980年及以前 beside its
    error, and the retrofit rules read that era."""
    from surveyor.forms.catalog import get_form
    from surveyor.forms.record import evaluate

    form = get_form()
    refused = evaluate(form, {"year_built": 1700})
    assert "year_built" in refused.errors
    assert refused.values["era_bin"] is None
    assert evaluate(form, {"year_built": 1984}).values["era_bin"] == "y1981_1990"


def test_the_bungalows_are_not_asked_a_stairwell_and_complete(
    planned: list[tuple[int, str, dict[str, Any]]], form: Form
) -> None:
    """A 平房 was given stairwell windows, an entrance door, stair answers and a 单元楼道
    photo to complete: the form now asks none of them of a single storey (form 1.0.8)."""
    from surveyor.retrofit import derive_needs, get_params, get_rules

    rules, params = get_rules(form), get_params()
    stairwell = {
        "stairwell_windows",
        "entrance_door",
        "stair_defects",
        "stair_handrail_wall",
        "access_control",
        "photo_stairwell",
    }
    bungalows = [(s, a) for _, s, a in planned if a.get("floors_above") == 1]
    finished = [a for s, a in bungalows if s in ("complete", "approved")]
    assert len(finished) >= 20, len(finished)
    for answers in (a for _, a in bungalows):
        assert not stairwell & set(answers), stairwell & set(answers)
        assert answers.get("gas_riser_location") != "stairwell"
    for answers in finished:  # planned, not coerced: the missing answers, not can_complete
        assert not evaluate(form, answers).missing
        report = derive_needs(form, rules, params, answers)
        named = {n.rule_id for n in report.needs} | {u.rule_id for u in report.undetermined}
        assert not named & {"E06", "S10", "C01", "D01"}
