"""Worked examples of the merge rules (§4.7-§4.11), each on SQLite and PostgreSQL centrals."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form, form_from_data
from surveyor.paths import blob_dir_for
from surveyor.services.survey import (
    create_building,
    get_building,
    save_answers,
    set_status,
    writer,
)
from surveyor.store import hlc
from surveyor.store.blobs import blob_path, copy_blob
from surveyor.store.db import Store, init_store, write_tx
from surveyor.store.log import changes_for
from surveyor.sync.actions import Choice, assign, delete_building, resolve_conflict
from surveyor.sync.apply import CLOCK, FOLDED_SEQ_KEY, buildings_to_refold, refold_after_local_saves
from surveyor.sync.attachments import ATTACHMENT, default_blob_dir
from surveyor.sync.canonical import all_changes
from surveyor.sync.fold import ChangeRow
from surveyor.sync.merge import merge_files
from surveyor.sync.review import conflict_detail
from surveyor.sync.rows import CHANGE, CONFLICT, as_uuid
from surveyor.sync.transfer import pull, push, sync
from surveyor.sync.wording import conflict_notes
from tests.conftest import REGISTER_ROW
from tests.sync.helpers import check_store, dump

DAY_MS = 24 * 3600 * 1000


def _shared(
    laptops: Callable[[str], Store], central: Store, mini: Form, n: int
) -> tuple[list[Store], str]:
    """n laptops holding the same building (created on the first, synced to all)."""
    laps = [laptops(f"inspector{i}") for i in range(n)]
    code = create_building(laps[0], mini, REGISTER_ROW, author="inspector0").code
    push(laps[0], central, mini)
    for lap in laps[1:]:
        from surveyor.sync.actions import assign

        assign(central, mini, lap.meta("inspector") or "", refs=[code], author="supervisor")
        pull(lap, central, mini)
    return laps, code


def _year_built_conflict(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> tuple[list[Store], str]:
    """Two laptops that set year_built of the same building to 1984 and 1990, both synced:
    one open conflict on the central, with no common base."""
    laps, code = _shared(laptops, central, mini, 2)
    save_answers(laps[0], mini, code, {"year_built": "1984"}, author="inspector0")
    save_answers(laps[1], mini, code, {"year_built": "1990"}, author="inspector1")
    for lap in laps:
        sync(lap, central, mini)
    return laps, code


def _conflicts(store: Store, status: str = "open") -> dict[str, sa.Row[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.status == status)).all()
    return {r.field_key: r for r in rows}


def test_any_order_and_grouping_gives_the_same_central(
    laptops: Callable[[str], Store],
    central: Store,
    export: Callable[[Store], Path],
    mini: Form,
    tmp_path: Path,
) -> None:
    laps, code = _shared(laptops, central, mini, 3)
    save_answers(laps[0], mini, code, {"year_built": "1980"}, author="inspector0")
    save_answers(
        laps[1], mini, code, {"year_built": "1990", "floors_above": "5"}, author="inspector1"
    )
    save_answers(laps[2], mini, code, {"floors_above": "6"}, author="inspector2")
    files = [export(lap) for lap in laps]
    dumps = []
    for n, order in enumerate(itertools.permutations(files)):
        c = init_store(tmp_path / f"c{n}.db", role="central")
        merge_files(c, list(order), mini)
        merge_files(c, list(order), mini)  # twice: no effect
        check_store(c, mini)
        dumps.append(dump(c))
        c.close()
    merge_files(central, files, mini)
    dumps.append(dump(central))
    assert all(d == dumps[0] for d in dumps)
    assert set(dumps[0]["conflicts"]) == {
        f"{get_building(laps[0], code).id}/year_built",
        f"{get_building(laps[0], code).id}/floors_above",
    }


def test_chain_through_another_inspector_is_no_conflict(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _shared(laptops, central, mini, 2)
    save_answers(laps[0], mini, code, {"year_built": "1980"}, author="inspector0")
    sync(laps[0], central, mini)
    pull(laps[1], central, mini)  # B sees A's edit, then changes it
    save_answers(laps[1], mini, code, {"year_built": "1984"}, author="inspector1")
    sync(laps[1], central, mini)
    assert _conflicts(central) == {}
    assert get_building(central, code).answers["year_built"] == 1984


def test_concurrent_equal_values_and_different_fields_merge_cleanly(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _shared(laptops, central, mini, 2)
    save_answers(
        laps[0], mini, code, {"year_built": "1980", "floors_above": "5"}, author="inspector0"
    )
    save_answers(
        laps[1], mini, code, {"year_built": "1980", "has_elevator": "true"}, author="inspector1"
    )
    for lap in laps:
        push(lap, central, mini)
    assert _conflicts(central) == {}
    answers = get_building(central, code).answers
    assert answers["floors_above"] == 5 and answers["has_elevator"] is True
    check_store(central, mini)


def test_conflict_keeps_every_head_and_the_base(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _shared(laptops, central, mini, 3)
    base = save_answers(laps[0], mini, code, {"year_built": "1980"}, author="inspector0")
    sync(laps[0], central, mini)
    for lap in laps[1:]:
        pull(lap, central, mini)
    heads = [
        save_answers(lap, mini, code, {"year_built": year}, author=f"inspector{i}").change_id
        for i, (lap, year) in enumerate(zip(laps, ("1984", "1990", "1995"), strict=True))
    ]
    for lap in laps:
        push(lap, central, mini)
    row = _conflicts(central)["year_built"]
    assert row.kind == "hard"
    assert row.base_change_id == base.change_id
    assert sorted(row.head_change_ids) == sorted(str(h) for h in heads)
    shown = get_building(central, code).answers["year_built"]
    assert shown in (1984, 1990, 1995)  # deterministic provisional value until review


def test_resolution_syncs_back_and_a_stale_edit_reopens(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _year_built_conflict(laptops, central, mini)
    resolve_conflict(
        central, mini, code, "year_built", Choice("value", value="1986"), author="supervisor"
    )
    assert _conflicts(central) == {}
    assert _conflicts(central, "resolved")["year_built"].resolved_by is not None
    # Laptop 1 edits again before it hears of the resolution: concurrent with it.
    save_answers(laps[1], mini, code, {"year_built": "1991"}, author="inspector1")
    sync(laps[0], central, mini)
    assert get_building(laps[0], code).answers["year_built"] == 1986
    assert _conflicts(laps[0]) == {}
    sync(laps[1], central, mini)
    assert "year_built" in _conflicts(central)
    check_store(central, mini)
    check_store(laps[1], mini)


def test_a_typed_resolution_value_passes_the_forms_checks(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Coercion alone let 3000 through; the value then synced out and printed on sheets."""
    _, code = _year_built_conflict(laptops, central, mini)
    before = dump(central)
    for bad, why in (("3000", "between 1900 and 2030"), ("abc", "not a valid value")):
        with pytest.raises(SurveyorError, match=why):
            resolve_conflict(
                central, mini, code, "year_built", Choice("value", value=bad), author="supervisor"
            )
    assert dump(central) == before  # nothing written
    resolve_conflict(
        central, mini, code, "year_built", Choice("value", value="1986"), author="supervisor"
    )
    assert get_building(central, code).answers["year_built"] == 1986


def test_base_is_refused_when_the_conflict_has_none(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Each inspector set the field on their own: "base" would clear it everywhere."""
    _, code = _year_built_conflict(laptops, central, mini)
    assert _conflicts(central)["year_built"].base_change_id is None
    with pytest.raises(SurveyorError, match="no common base value"):
        resolve_conflict(central, mini, code, "year_built", Choice("base"), author="supervisor")
    assert "year_built" in _conflicts(central)
    assert get_building(central, code).answers["year_built"] in (1984, 1990)


def test_delete_after_seeing_edits_vs_racing_an_edit(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _shared(laptops, central, mini, 2)
    delete_building(laps[0], mini, code, author="inspector0")
    sync(laps[0], central, mini)
    assert get_building(central, code).deleted
    assert _conflicts(central) == {}
    # Laptop 1 edited without knowing of the delete: a delete-vs-edit conflict, kept visible.
    save_answers(laps[1], mini, code, {"year_built": "1984"}, author="inspector1")
    sync(laps[1], central, mini)
    assert _conflicts(central)["_deleted"].kind == "delete_vs_edit"
    assert not get_building(central, code).deleted
    resolve_conflict(central, mini, code, "_deleted", Choice("keep"), author="supervisor")
    assert not get_building(central, code).deleted and _conflicts(central) == {}
    sync(laps[0], central, mini)
    assert not get_building(laps[0], code).deleted
    check_store(central, mini)


def test_a_resolved_delete_race_still_shows_the_edit_it_overruled(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """After 'd d', 'conflicts show CODE _deleted' listed only the delete and the resolution:
    the edit it overruled (listed while the race was open) was gone from the record."""
    laps, code = _shared(laptops, central, mini, 2)
    delete_building(laps[0], mini, code, author="inspector0")
    save_answers(laps[1], mini, code, {"community": "仍有人居住"}, author="inspector1")
    for lap in laps:
        sync(lap, central, mini)
    before = conflict_detail(central, code, "_deleted")
    assert {h.author for h in before.heads} == {"inspector0", "inspector1"}
    resolve_conflict(central, mini, code, "_deleted", Choice("delete"), author="supervisor")
    after = conflict_detail(central, code, "_deleted")
    assert after.status == "resolved" and after.resolution is not None
    assert [(h.change_id, h.edits) for h in after.heads] == [
        (h.change_id, h.edits) for h in before.heads
    ]
    assert ("community", "仍有人居住") in [e for h in after.heads for e in h.edits]


def test_an_inspector_is_told_of_a_delete_race_in_words(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """The survey screen says a building's open conflicts: a delete raced by an edit has no
    field to stand under, so it is said as a whole, with who deleted and who edited what."""
    laps, code = _shared(laptops, central, mini, 2)
    delete_building(laps[0], mini, code, author="inspector0")
    sync(laps[0], central, mini)
    save_answers(laps[1], mini, code, {"year_built": "1984"}, author="inspector1")
    sync(laps[1], central, mini)
    building = get_building(laps[1], code).id
    (note,) = conflict_notes(laps[1], mini, building, "en").values()
    assert note.startswith("Deleted and edited at once; a supervisor decides: ")
    assert "deleted the building (inspector0, " in note
    assert f"edited: {mini.field('year_built').defn.label.en} (inspector1, " in note
    assert list(conflict_notes(laps[1], mini, building, "zh")) == ["_deleted"]
    assert conflict_notes(laps[0], mini, building, "zh") == {}  # it has not pulled the edit


def test_clock_skew_never_changes_the_conflicts(
    laptops: Callable[[str], Store], central: Store, mini: Form, tmp_path: Path
) -> None:
    laps, code = _shared(laptops, central, mini, 2)
    ahead = lambda: hlc.now_ms() + 400 * DAY_MS  # noqa: E731 - a laptop with a wrong clock
    save_answers(laps[0], mini, code, {"year_built": "1984"}, author="inspector0", clock=ahead)
    fair = save_answers(laps[1], mini, code, {"year_built": "1990"}, author="inspector1")
    for lap in laps:
        push(lap, central, mini)
    row = _conflicts(central)["year_built"]
    # The clock-suspect change does not win the provisional value on its own.
    assert row.provisional_change_id == fair.change_id
    assert get_building(central, code).answers["year_built"] == 1990


def _stamp(days: int) -> tuple[int, str]:
    """An HLC and a wall time ``days`` from now (a laptop whose clock is that far off)."""
    ms = hlc.now_ms() + days * DAY_MS
    return hlc.pack(ms), datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def test_the_merge_report_says_each_clock_fact_once_and_as_it_is(
    laptops: Callable[[str], Store], central: Store, mini: Form, export: Callable[[Store], Path]
) -> None:
    """A change stamped far ahead of the merging computer's clock, with its laptop's time as
    far ahead, is no clock-suspect: it wins by its stamp. The report added both counts and
    said of all of them that they never win, counting a change that was both twice."""
    lap = laptops("甲")
    for n in range(3):
        row = REGISTER_ROW | {"address": f"南开区宜宾道{20 + n}号"}
        code = create_building(lap, mini, row, author="甲").code
        save_answers(lap, mini, code, {"year_built": "1984"}, author="甲")
    path = export(lap)
    far, far_wall = _stamp(400)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        # ahead of this computer only: the laptop's whole clock ran ahead
        conn.execute("UPDATE change SET hlc = ?, wall_time = ? WHERE seq = 2", (far, far_wall))
        # suspect only: stamped 10 days after the time the laptop recorded
        conn.execute("UPDATE change SET wall_time = ? WHERE seq = 4", (_stamp(-10)[1],))
        # both: a stamp far ahead of the laptop's own recorded time and of this computer
        conn.execute("UPDATE change SET hlc = ? WHERE seq = 6", (far,))
    [report] = merge_files(central, [path], mini)
    assert (report.stats.clock_suspect, report.stats.clock_ahead) == (2, 2)
    assert report.message.endswith(
        "; 2 change(s) stamped more than a day after the time their laptop recorded for them "
        "(clock-suspect: in a conflict, a change with a sound clock is taken before them as "
        "the provisional value)"
        "; 2 change(s) stamped more than a day ahead of this computer's clock (its clock was "
        "not moved forward to them; check the date and time of that laptop and of this computer)"
    )
    said_zh = report.text("zh")
    assert "；2 条改动的时间戳比其笔记本为它们记下的时间晚一天以上（时钟可疑" in said_zh
    assert "；2 条改动的时间戳比本机时钟超前一天以上（本机时钟没有随之调快" in said_zh
    check_store(central, mini)


def test_a_laptop_clock_a_day_ahead_does_not_move_the_central_clock_through_sync(
    laptops: Callable[[str], Store],
    central: Store,
    mini: Form,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sync`` runs on the laptop: the day limit was checked against the laptop's own clock,
    so a laptop a day ahead moved the central's clock a day forward, and every later change
    made on the central (assignments, resolutions) carried next day's stamp."""
    laps, code = _shared(laptops, central, mini, 2)
    real = hlc.now_ms
    ahead = lambda: real() + 26 * 3600 * 1000  # noqa: E731 - this laptop's clock
    save_answers(laps[1], mini, code, {"year_built": "1990"}, author="inspector1", clock=ahead)
    monkeypatch.setattr(hlc, "now_ms", ahead)
    report = sync(laps[1], central, mini)
    monkeypatch.undo()
    assert report.pushed == 1
    assert report.clock_ahead is not None
    assert report.clock_ahead.laptop_ms - report.clock_ahead.central_ms > DAY_MS
    assert report.clock_ahead.text("zh").startswith("警告：这台笔记本的时钟（")
    assert "the central's clock was not moved forward" in report.clock_ahead.text("en")
    assign(central, mini, "inspector0", refs=[code], author="supervisor")
    with central.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(CHANGE.c.hlc))).scalar_one()
        assigned = conn.execute(
            sa.select(CHANGE.c.hlc)
            .where(CHANGE.c.site_id == as_uuid(str(central.site_id)))
            .order_by(CHANGE.c.seq.desc())
            .limit(1)
        ).scalar_one()
    hour = 3600 * 1000
    # the assignment made after seeing the edit is stamped now, not next day; the edit keeps
    # its own stamp, the newest (causality, its parents, not stamps, orders the two)
    assert hlc.wall_ms(int(assigned)) < real() + hour
    assert hlc.wall_ms(int(newest)) > real() + DAY_MS
    assert get_building(central, code).answers["year_built"] == 1990


def test_a_correct_laptop_is_not_told_it_runs_ahead_of_an_idle_sqlite_central(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path
) -> None:
    """A SQLite central's "now" is the latest time it recorded, only a lower bound: after a
    weekend nobody synced, a laptop with a correct clock was told it ran a day ahead. Its
    stamps are still not let move the central's clock."""
    central = init_store(tmp_path / "central.db", role="central")
    idle_since = hlc.pack(hlc.now_ms() - 3 * DAY_MS)
    with write_tx(central.engine) as conn:
        conn.execute(sa.update(CLOCK).where(CLOCK.c.id == 1).values(hlc=idle_since))
    lap = laptops("甲")
    create_building(lap, mini, REGISTER_ROW, author="甲")
    report = sync(lap, central, mini)
    assert report.clock_ahead is not None
    en, zh = report.clock_ahead.text("en"), report.clock_ahead.text("zh")
    assert "is more than a day ahead" not in en and "超前" not in zh
    assert "either nobody has written to the central since, or this laptop's clock is wrong" in en
    assert "可能此后无人写入过中心库，也可能这台笔记本的时钟不对" in zh
    assert "the central's clock was not moved forward" in en
    with central.engine.connect() as conn:
        kept = conn.execute(sa.select(CLOCK.c.hlc).where(CLOCK.c.id == 1)).scalar_one()
    assert kept == idle_since
    central.close()


def test_duplicate_buildings_are_flagged_never_merged(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW | {"address": "南开区 宜宾道12号"}, author="甲")
    y = create_building(b, mini, REGISTER_ROW | {"address": "南开区宜宾道１２号"}, author="乙")
    push(a, central, mini)
    push(b, central, mini)
    with central.engine.connect() as conn:
        rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity")).all()
    assert {r.entity_id for r in rows} == {x.building_id, y.building_id}
    assert get_building(central, x.code).id != get_building(central, y.code).id
    # Each is told of the other (not of itself) when it is opened.
    assert conflict_notes(central, mini, x.building_id, "zh") == {
        "_duplicate": f"可能与 {y.code} 南开区宜宾道12号 是同一栋楼，待主管裁定"
    }
    resolve_conflict(central, mini, y.code, "_duplicate", Choice("delete"), author="supervisor")
    with central.engine.connect() as conn:
        left = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity")).all()
    assert left == []
    assert conflict_notes(central, mini, x.building_id, "zh") == {}


def test_duplicate_flags_follow_address_edits_across_merges(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    a, b, c = laptops("甲"), laptops("乙"), laptops("丙")
    x = create_building(a, mini, REGISTER_ROW | {"address": "南开区宜宾道12号"}, author="甲")
    y = create_building(b, mini, REGISTER_ROW | {"address": "南开区宜宾道12号"}, author="乙")
    z = create_building(c, mini, REGISTER_ROW | {"address": "南开区黄河道3号"}, author="丙")
    for lap in (a, b, c):
        push(lap, central, mini)

    def flags() -> dict[str, set[str]]:
        with central.engine.connect() as conn:
            rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity"))
            return {str(r.entity_id): set(r.head_change_ids) for r in rows}

    xid, yid, zid = (str(v.building_id) for v in (x, y, z))
    assert flags() == {xid: {xid, yid}, yid: {xid, yid}}
    # y moves to z's address: x's flag goes, y and z are flagged as a pair.
    save_answers(b, mini, y.code, {"address": "南开区黄河道3号"}, author="乙")
    push(b, central, mini)
    assert flags() == {yid: {yid, zid}, zid: {yid, zid}}
    check_store(central, mini)


def test_an_address_corrected_on_the_central_clears_both_duplicate_flags(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """The supervisor corrects one of two flagged addresses on the central itself (review
    app, ``surveyor set --db CENTRAL``): the other building, now alone at its address, loses
    its flag too (as when the same correction comes from a laptop), and is not counted
    conflicted."""
    from surveyor.sync.progress import progress

    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW, author="甲")
    y = create_building(b, mini, REGISTER_ROW, author="乙")
    push(a, central, mini)
    push(b, central, mini)

    def flagged() -> set[str]:
        with central.engine.connect() as conn:
            rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity"))
            return {str(r.entity_id) for r in rows}

    assert flagged() == {str(x.building_id), str(y.building_id)}
    save_answers(central, mini, y.code, {"address": "南开区宜宾道12号乙"}, author="督导")
    assert flagged() == set()
    assert sum(t.total["conflicted"] for t in progress(central)) == 0
    check_store(central, mini)


def test_newer_and_older_form_versions_lose_nothing(
    laptops: Callable[[str], Store], central: Store, mini: Form, tmp_path: Path
) -> None:
    import yaml

    from tests.sync.conftest import MINI

    raw = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    raw["version"] = "0.2"
    raw["sections"][1]["fields"].append(
        {"id": "roof_colour", "type": "text", "label": {"zh": "屋顶颜色", "en": "Roof colour"}}
    )
    newer = form_from_data(raw, "newer form")
    new_lap, old_lap = laptops("新"), laptops("旧")
    b = create_building(new_lap, newer, REGISTER_ROW, author="新")
    save_answers(new_lap, newer, b.code, {"roof_colour": "红", "year_built": "1984"}, author="新")
    push(new_lap, central, mini)  # the central still runs the older form
    state = get_building(central, b.code)
    assert state.answers["year_built"] == 1984
    assert state.extra["values"]["roof_colour"] == "红"  # unknown field kept, not dropped
    from surveyor.sync.actions import assign

    assign(central, mini, "旧", refs=[b.code], author="supervisor")
    pull(old_lap, central, mini)
    save_answers(old_lap, mini, b.code, {"floors_above": "6"}, author="旧")
    sync(old_lap, central, mini)
    pull(new_lap, central, newer)  # back on the newer laptop: every value is there
    state = get_building(new_lap, b.code)
    assert state.answers["roof_colour"] == "红" and state.answers["floors_above"] == 6
    check_store(central, mini)


def test_photos_travel_by_hash_verified_and_only_when_missing(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path, export: Callable[[Store], Path]
) -> None:
    central = init_store(tmp_path / "central.db", role="central")
    lap = laptops("甲")
    create_building(lap, mini, REGISTER_ROW, author="甲")
    good, bad = b"\xff\xd8\xffgood photo", b"\xff\xd8\xffbad photo"
    src = blob_dir_for(Path(lap.target))
    with write_tx(lap.engine) as conn:
        for data in (good, bad):
            sha = hashlib.sha256(data).hexdigest()
            blob_path(src, sha).parent.mkdir(parents=True, exist_ok=True)
            blob_path(src, sha).write_bytes(data)
            conn.execute(
                sa.insert(ATTACHMENT),
                [{"sha256": sha, "size": len(data), "mime": "image/jpeg", "stored": True}],
            )
    bad_sha = hashlib.sha256(bad).hexdigest()
    good_sha = hashlib.sha256(good).hexdigest()
    blob_path(src, bad_sha).write_bytes(b"bit rot")  # damaged on the laptop's disk
    file = export(lap)  # the export package carries the blobs it could verify
    assert sorted(p.name for p in blob_dir_for(file).rglob("*")) == sorted(
        [good_sha[:2], good_sha[2:]]
    )
    [report] = merge_files(central, [file], mini)
    assert report.blobs.copied == 1 and report.blobs.missing == 1
    dst = default_blob_dir(central.target)
    assert blob_path(dst, good_sha).read_bytes() == good
    assert not blob_path(dst, bad_sha).exists()
    assert not list(dst.rglob("*.tmp"))
    with central.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.stored)).all())
    assert stored == {good_sha: True, bad_sha: False}
    create_building(lap, mini, REGISTER_ROW | {"address": "别处"}, author="甲")
    file2 = export(lap)
    [again] = merge_files(central, [file2], mini)
    assert again.blobs.copied == 0  # only missing blobs travel
    # The damaged photo is repaired on the laptop; the first file, merged again, is skipped as
    # already merged but now supplies the photo the central still lacks (verified).
    blob_path(src, bad_sha).write_bytes(bad)
    copy_blob(src, blob_dir_for(file), bad_sha)  # and handed over again beside the file
    [repaired] = merge_files(central, [file], mini)
    assert repaired.outcome == "skipped" and "1 photo(s) missing until now" in repaired.message
    assert blob_path(dst, bad_sha).read_bytes() == bad
    with central.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(ATTACHMENT.c.sha256, ATTACHMENT.c.stored)).all())
    assert stored == {good_sha: True, bad_sha: True}
    [nothing] = merge_files(central, [file], mini)
    assert nothing.outcome == "skipped" and "photo" not in nothing.message
    central.close()


def test_newer_file_from_the_same_site_reads_only_new_changes(
    laptops: Callable[[str], Store], central: Store, mini: Form, export: Callable[[Store], Path]
) -> None:
    lap = laptops("甲")
    b = create_building(lap, mini, REGISTER_ROW, author="甲")
    first = export(lap)
    save_answers(lap, mini, b.code, {"year_built": "1984"}, author="甲")
    second = export(lap)
    assert merge_files(central, [first], mini)[0].stats.new == 1
    report = merge_files(central, [second], mini)[0]
    assert report.stats.new == 1 and report.stats.received == 1  # watermark skipped the rest
    with central.engine.connect() as conn:
        mark = conn.execute(sa.text("SELECT max_seq FROM peer_watermark")).scalar_one()
    assert mark == 2
    assert uuid.UUID(str(get_building(central, b.code).id)) == b.building_id


def test_a_laptop_edit_of_a_conflicted_field_is_a_head_after_the_next_pull(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    laps, code = _year_built_conflict(laptops, central, mini)
    sync(laps[0], central, mini)  # laptop 0 now holds the conflict too
    assert "year_built" in _conflicts(laps[0])
    again = save_answers(laps[0], mini, code, {"year_built": "1985"}, author="inspector0")
    pull(laps[0], central, mini)  # nothing new arrives, but the conflict row is brought up to date
    assert str(again.change_id) in _conflicts(laps[0])["year_built"].head_change_ids
    check_store(laps[0], mini)
    sync(laps[0], central, mini)
    assert len(_conflicts(central)["year_built"].head_change_ids) == 2  # 1985 superseded 1984
    check_store(central, mini)


def test_a_laptop_edit_over_two_agreeing_heads_supersedes_both(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Two inspectors enter the same value (two heads, no conflict); one then changes it.

    It saw that value, which is both heads': the change names both as parents. Naming only
    the one the laptop showed left the other a head, and the supervisor was offered the
    value its own inspector had just replaced ([1] 6 inspector1, [2] 5 inspector1)."""
    laps, code = _shared(laptops, central, mini, 2)
    for k, lap in enumerate(laps):
        save_answers(lap, mini, code, {"floors_above": "6"}, author=f"inspector{k}")
    for lap in [*laps, *laps]:
        sync(lap, central, mini)
    assert "floors_above" not in _conflicts(laps[1])  # equal values: no conflict
    for k, lap in enumerate(laps):
        shown = get_building(lap, code)
        assert sorted(shown.extra["agreeing"]["floors_above"]) == sorted(_heads(central, code))
        saved = save_answers(lap, mini, code, {"floors_above": str(5 - k)}, author=f"i{k}")
        assert "floors_above" not in get_building(lap, code).extra.get("agreeing", {})
        check_store(lap, mini)
        (change,) = [c for c in _log(lap) if c.change_id == str(saved.change_id)]
        assert sorted(change.parents_of("floors_above")) == sorted(_heads(central, code))
    for lap in [*laps, *laps]:
        sync(lap, central, mini)
    conflict = _conflicts(central)["floors_above"]  # 5 and 4: both replaced the 6s
    assert len(conflict.head_change_ids) == 2
    check_store(central, mini)
    for lap in laps:
        check_store(lap, mini)


def test_a_screen_that_showed_the_other_agreeing_head_supersedes_both_too(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """The screen loaded one 6; a sync brought the other inspector's 6, which is shown now.
    The save names what the screen saw, which is one of the two equal heads: both go."""
    laps, code = _shared(laptops, central, mini, 2)
    for k, lap in enumerate(laps):
        save_answers(lap, mini, code, {"floors_above": "6"}, author=f"inspector{k}")
    for lap in [*laps, *laps]:
        sync(lap, central, mini)
    lap = laps[0]
    state = get_building(lap, code)
    both = state.extra["agreeing"]["floors_above"]
    other = next(h for h in both if h != state.field_change["floors_above"])
    save_answers(lap, mini, code, {"floors_above": "7"}, author="i0", seen={"floors_above": other})
    pull(lap, central, mini)
    assert "floors_above" not in _conflicts(lap)
    check_store(lap, mini)


def _heads(store: Store, code: str) -> list[str]:
    """The change ids that set floors_above, from the store's log (both inspectors' 6s)."""
    return [c.change_id for c in _log(store) if "floors_above" in c.fields]


def _log(store: Store) -> list[ChangeRow]:
    with store.engine.connect() as conn:
        return all_changes(conn)


def test_a_duplicate_merged_into_the_kept_building_loses_no_answer(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW | {"address": "南开区宜宾道12号"}, author="甲")
    y = create_building(b, mini, REGISTER_ROW | {"address": "南开区宜宾道12号"}, author="乙")
    save_answers(a, mini, x.code, {"year_built": "1980"}, author="甲")
    save_answers(b, mini, y.code, {"year_built": "1990", "floors_above": "6"}, author="乙")
    for lap in (a, b):
        sync(lap, central, mini)
    other = create_building(central, mini, REGISTER_ROW | {"address": "别处1号"}, author="s")
    with pytest.raises(SurveyorError, match="not a duplicate"):
        resolve_conflict(
            central, mini, y.code, "_duplicate", Choice("merge_into", value=other.code), author="s"
        )
    change = resolve_conflict(
        central, mini, y.code, "_duplicate", Choice("merge_into", value=x.code), author="督导"
    )
    assert change.op == "alias"
    kept = get_building(central, x.code)
    assert kept.answers["year_built"] == 1980  # the kept building's own answer stays
    assert kept.answers["floors_above"] == 6  # the answer it lacked comes from the duplicate
    gone = get_building(central, y.code)
    assert gone.deleted and gone.extra["values"]["_alias_of"] == str(x.building_id)
    with central.engine.connect() as conn:
        flags = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity"))
        assert flags.all() == []
    check_store(central, mini)
    sync(b, central, mini)  # the inspector's laptop learns its building was merged away
    assert get_building(b, y.code).deleted
    check_store(b, mini)


def test_a_save_on_the_central_over_agreeing_heads_supersedes_them_at_once(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """The supervisor saw 6, both inspectors' value, and corrected it: no conflict between
    the correction and a 6 it replaced (it was one, to be decided by the same supervisor)."""
    laps, code = _shared(laptops, central, mini, 2)
    for k, lap in enumerate(laps):
        save_answers(lap, mini, code, {"floors_above": "6"}, author=f"inspector{k}")
        push(lap, central, mini)
    assert "floors_above" not in _conflicts(central)
    save_answers(central, mini, code, {"floors_above": "5"}, author="督导")
    assert "floors_above" not in _conflicts(central)
    assert get_building(central, code).answers["floors_above"] == 5
    check_store(central, mini)
    for lap in laps:  # the correction reaches both laptops as a plain update
        sync(lap, central, mini)
        assert get_building(lap, code).answers["floors_above"] == 5
        assert "floors_above" not in _conflicts(lap)


#: Answers that make a mini-form building complete (with the register row).
COMPLETE = {
    "year_built": "1980",
    "floors_above": "5",
    "has_elevator": "no",
    "seismic_retrofit": "no",
}


@pytest.mark.parametrize(
    ("gas_pipe_year", "status", "errors"),
    [("1995", "complete", 0), ("1970", "draft", 1)],  # 1970 is before the year built (1980)
)
def test_merging_a_duplicate_into_an_approved_building_withdraws_the_approval(
    laptops: Callable[[str], Store],
    central: Store,
    mini: Form,
    gas_pipe_year: str,
    status: str,
    errors: int,
) -> None:
    """The answers the kept building gains from the duplicate go through the write path's
    rules: an approved record whose answers change must be approved again, so it is complete
    (awaiting approval) when it still passes the form, a draft when the new answer breaks it
    (the value is kept and marked, as a draft save keeps it)."""
    a, b = laptops("甲"), laptops("乙")
    x = create_building(a, mini, REGISTER_ROW | COMPLETE, author="甲")
    set_status(a, mini, x.code, "complete", author="甲")
    y = create_building(b, mini, REGISTER_ROW, author="乙")
    save_answers(b, mini, y.code, {"gas_pipe_year": gas_pipe_year}, author="乙")
    for lap in (a, b):
        push(lap, central, mini)
    set_status(central, mini, x.code, "approved", author="督导")
    resolve_conflict(
        central, mini, y.code, "_duplicate", Choice("merge_into", value=x.code), author="督导"
    )
    kept = get_building(central, x.code)
    assert kept.answers["gas_pipe_year"] == int(gas_pipe_year)  # the answer it lacked
    assert kept.status == status
    assert len(kept.errors) == errors and (not errors or "gas_pipe_year" in kept.errors)
    with central.engine.connect() as conn:
        fields = [c.fields for c in changes_for(conn, x.building_id)]
    assert fields[-1] == {"gas_pipe_year": int(gas_pipe_year), "_status": status}
    check_store(central, mini)


def test_a_building_created_on_the_central_at_a_known_address_is_flagged_at_once(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """``register import`` or a create on the central flags duplicates as a merge would."""
    a = laptops("甲")
    x = create_building(a, mini, REGISTER_ROW | {"address": "南开区宜宾道12号"}, author="甲")
    push(a, central, mini)

    def flags() -> dict[str, set[str]]:
        with central.engine.connect() as conn:
            rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity"))
            return {str(r.entity_id): {str(h) for h in r.head_change_ids} for r in rows}

    y = create_building(
        central, mini, REGISTER_ROW | {"address": "南开区 宜宾道１２号"}, author="s"
    )
    pair = {str(x.building_id), str(y.building_id)}
    assert flags() == dict.fromkeys(pair, pair)
    with writer(central, mini, "s") as w:  # a register import: many creates, one writer
        p = w.create(REGISTER_ROW | {"address": "南开区黄河道3号"})
        q = w.create(REGISTER_ROW | {"address": "南开区黄河道3号", "building_no": "3栋"})
        w.create(REGISTER_ROW | {"address": "南开区长江道5号"})
    other = {str(p.building_id), str(q.building_id)}
    assert flags() == dict.fromkeys(pair, pair) | dict.fromkeys(other, other)
    check_store(central, mini)


def test_buildings_of_a_compound_sharing_one_doorplate_are_no_duplicates(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Old compounds give one 门牌 to every building: 1号楼, 2号楼 and 3号楼 of 华苑里 at
    华苑路5号 were three "possible duplicates", counted as conflicted, with no way out but a
    merge, a delete or a false address. A building at that address without a 楼号, or with
    the same one written otherwise (1栋), may still repeat one of them."""
    at = REGISTER_ROW | {"compound_name": "华苑里", "address": "南开区华苑路5号"}
    with writer(central, mini, "s") as w:
        one, two, three = (w.create(at | {"building_no": f"{n}号楼"}) for n in (1, 2, 3))
    with central.engine.connect() as conn:
        assert not conn.execute(sa.select(CONFLICT)).all()
    a = laptops("甲")  # found on site: 1栋 (the same 1号楼), and one with no 楼号 written
    same = create_building(a, mini, at | {"building_no": "1栋"}, author="甲")
    blank = create_building(a, mini, at | {"building_no": None}, author="甲")
    push(a, central, mini)
    with central.engine.connect() as conn:
        rows = conn.execute(sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity"))
        flags = {str(r.entity_id): {str(h) for h in r.head_change_ids} for r in rows}
    ids = {
        name: str(b.building_id)
        for name, b in zip(
            ("one", "two", "three", "same", "blank"), (one, two, three, same, blank), strict=True
        )
    }
    everyone = set(ids.values())
    assert flags == {
        ids["one"]: {ids["one"], ids["same"], ids["blank"]},
        ids["two"]: {ids["two"], ids["blank"]},
        ids["three"]: {ids["three"], ids["blank"]},
        ids["same"]: {ids["one"], ids["same"], ids["blank"]},
        ids["blank"]: everyone,
    }
    check_store(central, mini)
    resolve_conflict(central, mini, same.code, "_duplicate", Choice("delete"), author="督导")
    resolve_conflict(central, mini, blank.code, "_duplicate", Choice("delete"), author="督导")
    with central.engine.connect() as conn:
        assert not conn.execute(
            sa.select(CONFLICT).where(CONFLICT.c.kind == "duplicate_entity")
        ).all()
    check_store(central, mini)


def test_a_pull_refolds_no_building_whose_conflicts_are_all_resolved(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """A resolved conflict row is kept for the record; it does not make every later pull
    re-fold its building. Open conflicts and the laptop's own new saves still do."""
    laps, code = _year_built_conflict(laptops, central, mini)
    resolve_conflict(central, mini, code, "year_built", Choice("value", value="1985"), author="s")
    other = create_building(laps[0], mini, REGISTER_ROW | {"building_no": "4号楼"}, author="i0")
    push(laps[0], central, mini)
    assign(central, mini, "inspector1", refs=[other.code], author="supervisor")
    pull(laps[1], central, mini)
    save_answers(laps[0], mini, other.code, {"floors_above": "5"}, author="inspector0")
    save_answers(laps[1], mini, other.code, {"floors_above": "6"}, author="inspector1")
    sync(laps[1], central, mini)
    sync(laps[0], central, mini)
    lap = laps[0]
    assert set(_conflicts(lap, "resolved")) == {"year_built"}
    assert set(_conflicts(lap)) == {"floors_above"}
    site, since = str(lap.site_id), int(lap.meta(FOLDED_SEQ_KEY) or 0)
    other_id, code_id = str(other.building_id), str(get_building(lap, code).id)
    with write_tx(lap.engine) as conn:
        assert buildings_to_refold(conn, site, since) == [other_id]
        assert refold_after_local_saves(conn, mini, site) == 1
    save_answers(lap, mini, code, {"floors_above": "7"}, author="inspector0")
    with write_tx(lap.engine) as conn:  # the building saved since the last pull is re-folded
        assert buildings_to_refold(conn, site, since) == sorted([other_id, code_id])
        assert refold_after_local_saves(conn, mini, site) == 2
    assert set(_conflicts(lap, "resolved")) == {"year_built"}  # rewritten, still resolved
    check_store(lap, mini)


def _approved_on_the_central(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> tuple[Store, str]:
    """A laptop's complete survey, merged and approved on the central; the laptop has not
    synced since the approval."""
    lap = laptops("甲")
    code = create_building(lap, mini, REGISTER_ROW | COMPLETE, author="甲").code
    set_status(lap, mini, code, "complete", author="甲")
    push(lap, central, mini)
    set_status(central, mini, code, "approved", author="督导")
    return lap, code


def test_an_edit_the_approval_did_not_see_withdraws_it_when_merged(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """The inspector corrected an answer before the approval reached the laptop: the merge
    kept "approved", no conflict, over a value the supervisor never saw (and the report
    counted it as reviewed). It is "complete" again, on the central and on the laptop."""
    lap, code = _approved_on_the_central(laptops, central, mini)
    save_answers(lap, mini, code, {"floors_above": "6"}, author="甲")
    assert get_building(lap, code).status == "complete"  # it never saw the approval
    push(lap, central, mini)
    after = get_building(central, code)
    assert after.answers["floors_above"] == 6 and after.status == "complete"
    assert not _conflicts(central)
    check_store(central, mini)
    sync(lap, central, mini)
    assert get_building(lap, code).status == "complete"
    check_store(lap, mini)
    set_status(central, mini, code, "approved", author="督导")  # approved again, seeing it
    sync(lap, central, mini)
    assert get_building(central, code).status == get_building(lap, code).status == "approved"
    check_store(central, mini)


def test_an_approval_stands_over_the_edits_it_saw(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Re-merging what the approval saw, and an assignment after it, leave it approved."""
    lap, code = _approved_on_the_central(laptops, central, mini)
    push(lap, central, mini)
    assign(central, mini, "乙", refs=[code], author="督导")
    sync(lap, central, mini)
    assert get_building(central, code).status == get_building(lap, code).status == "approved"
    check_store(central, mini)
    check_store(lap, mini)


def test_a_building_with_an_open_conflict_cannot_be_approved(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """Approving the provisional value of a conflicted answer: the pick that follows would
    change an approved record."""
    laps, code = _shared(laptops, central, mini, 2)
    for k, lap in enumerate(laps):
        save_answers(lap, mini, code, COMPLETE | {"floors_above": str(5 + k)}, author=f"i{k}")
        set_status(lap, mini, code, "complete", author=f"i{k}")
        sync(lap, central, mini)
    assert "floors_above" in _conflicts(central)
    with pytest.raises(SurveyorError, match="open conflict") as refused:
        set_status(central, mini, code, "approved", author="督导")
    assert "请先裁定" in (refused.value.zh or "")
    assert get_building(central, code).status == "complete"


def test_answers_of_fields_the_form_does_not_know_are_said_in_the_merge_report(
    laptops: Callable[[str], Store], mini: Form, tmp_path: Path, export: Callable[[Store], Path]
) -> None:
    """A laptop on a newer form merged without a word: its answers of fields the central's
    form lacks stay in ``extra``, but every export leaves them out."""
    import yaml

    from tests.sync.conftest import MINI

    raw = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    raw["version"] = "0.2"
    raw["sections"][1]["fields"] += [
        {"id": "roof_colour", "type": "text", "label": {"zh": "屋顶颜色", "en": "Roof colour"}},
        {"id": "roof_kind", "type": "text", "label": {"zh": "屋顶形式", "en": "Roof kind"}},
    ]
    newer = form_from_data(raw, "newer form")
    central = init_store(tmp_path / "central.db", role="central")
    lap = laptops("新")
    b = create_building(lap, newer, REGISTER_ROW, author="新")
    save_answers(lap, newer, b.code, {"roof_colour": "红", "year_built": "1984"}, author="新")
    save_answers(lap, newer, b.code, {"roof_kind": "坡屋顶"}, author="新")
    [report] = merge_files(central, [export(lap)], mini)
    assert report.text("en").endswith(
        "; 2 answer(s) of fields this form does not know were kept (form 0.2); "
        "upgrade Surveyor to see them"
    ), report.text("en")
    assert report.text("zh").endswith(
        "；2 个答案属于本表单不认识的字段，已保留（表单 0.2）；升级 Surveyor 后可见"
    ), report.text("zh")
    plain = laptops("旧")
    create_building(plain, mini, REGISTER_ROW | {"address": "南开区宜宾道14号"}, author="旧")
    [known] = merge_files(central, [export(plain)], mini)
    assert "does not know" not in known.text("en")
    central.close()


def test_assign_knows_an_inspector_by_any_change_not_only_a_laptops_latest(
    laptops: Callable[[str], Store], central: Store, mini: Form
) -> None:
    """张伟 worked on 赵强's laptop before handing it over: 'assign --inspector 张伟' said
    "no inspector named 张伟 has buildings or edits here" of a central holding his changes
    (only each laptop's latest author was asked)."""
    lap = laptops("赵强")
    code = create_building(lap, mini, REGISTER_ROW, author="张伟").code
    save_answers(lap, mini, code, {"year_built": "1984"}, author="张伟")
    save_answers(lap, mini, code, {"year_built": "1985"}, author="赵强")
    push(lap, central, mini)

    def assign_to(name: str) -> None:
        assign(central, mini, name, refs=[code], author="supervisor", require_known=True)

    assign_to("张伟")
    with pytest.raises(SurveyorError, match="no inspector named 张卫 has buildings or edits"):
        assign_to("张卫")
    # the supervisor's own changes, made on the central, make no inspector of them
    with pytest.raises(SurveyorError, match="no inspector named supervisor"):
        assign_to("supervisor")
