"""The services the TUI added: content-addressed photos, resume points, the browse query."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from textual.widgets import Input, Static

from surveyor.errors import SurveyorError
from surveyor.forms.catalog import get_form
from surveyor.paths import blob_dir_for
from surveyor.services.browse import browse_buildings
from surveyor.services.photos import attach_photo
from surveyor.services.queries import list_buildings
from surveyor.services.resume import get_resume_point, set_resume_point
from surveyor.services.survey import get_building, save_answers
from surveyor.store.db import Store, open_store
from surveyor.tui.modals.attach_photo import AttachPhotoModal, RemovePhotoModal
from surveyor.tui.widgets.photo_field import PhotoField
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_flows import open_at, open_survey

FORM = get_form()


def a_walk_up(db: Path) -> Any:
    """A building not started, given its 5 storeys: the stairwell photo is asked only once
    the storeys say there is a shared stairwell (form 1.0.8: a 平房 has none)."""
    store = open_store(db)
    try:
        target = browse_buildings(store, status="not_started", limit=1).rows[0]
        save_answers(store, FORM, target.id, {"floors_above": 5}, author="测试员")
        return target
    finally:
        store.close()


def a_jpeg(path: Path, colour: tuple[int, int, int] = (200, 40, 40)) -> Path:
    Image.new("RGB", (64, 48), colour).save(path, "JPEG")
    return path


@pytest.fixture
def store(sample_db: Path) -> Store:
    s = open_store(sample_db)
    yield s  # type: ignore[misc]
    s.close()


def test_attach_photo_stores_by_content_hash(store: Store, sample_db: Path, tmp_path: Path) -> None:
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    photo = a_jpeg(tmp_path / "facade.jpg")
    data = photo.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    result = attach_photo(
        store, FORM, target.id, "photo_facade_main", photo, caption=" 南立面 ", author="测试员"
    )
    assert result.change_id is not None
    blob = blob_dir_for(sample_db) / sha[:2] / sha[2:]
    assert blob.read_bytes() == data
    saved = get_building(store, target.id).answers["photo_facade_main"]
    assert saved == [{"sha256": sha, "size": len(data), "mime": "image/jpeg", "caption": "南立面"}]
    # The same file again is refused; a full field is refused; nothing half-written remains.
    with pytest.raises(SurveyorError):
        attach_photo(store, FORM, target.id, "photo_facade_main", photo, author="测试员")
    assert not list(blob.parent.glob("*.tmp"))


def test_a_photo_added_meanwhile_is_kept_for_the_supervisor_not_dropped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``photo add`` read the field's photos, stored the file, then saved the list it had read:
    a photo the app attached to the same field in between was dropped without a word. The
    save names what it read, so the two lists become a conflict, both kept."""
    import surveyor.services.photos as photos

    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    mine, theirs = a_jpeg(tmp_path / "a.jpg"), a_jpeg(tmp_path / "b.jpg", (10, 200, 10))
    real_read = photos.read_photo
    meanwhile: list[str] = []

    def read_while_the_app_attaches_one(source: Path) -> object:
        if not meanwhile:  # between reading the list and saving it
            meanwhile.append("attached")
            attach_photo(store, FORM, target.id, "photo_other", theirs, author="app")
        return real_read(source)

    monkeypatch.setattr(photos, "read_photo", read_while_the_app_attaches_one)
    result = attach_photo(store, FORM, target.id, "photo_other", mine, author="cli")
    assert meanwhile and result.conflicts == ("photo_other",)
    assert get_building(store, target.id).conflict_count == 1


def test_resume_point_round_trip(store: Store) -> None:
    target = browse_buildings(store, limit=1).rows[0]
    assert get_resume_point(store, target.id) is None
    set_resume_point(store, target.id, "floors_above")
    set_resume_point(store, target.id, "roof_form")
    assert get_resume_point(store, target.id) == "roof_form"


def test_browse_matches_the_core_list_and_filters_mine(store: Store) -> None:
    for kwargs in ({}, {"search": "南开"}, {"status": "draft"}, {"subdistrict": "wanxing"}):
        mine = browse_buildings(store, limit=50, **kwargs)  # type: ignore[arg-type]
        core = list_buildings(store, limit=50, **kwargs)  # type: ignore[arg-type]
        assert [r.id for r in mine.rows] == [r.id for r in core.rows]
        assert mine.total == core.total
    someone = get_building(store, browse_buildings(store, status="draft", limit=1).rows[0].id)
    assert someone.updated_by
    mine = browse_buildings(store, mine=someone.updated_by, limit=500)
    assert someone.id in {r.id for r in mine.rows}
    assert all(get_building(store, r.id).updated_by == someone.updated_by for r in mine.rows)


def test_search_finds_a_building_however_the_inspector_spaces_the_words(store: Store) -> None:
    """和水西里9号楼 (no space) and 黄河道 25 (a space inside the address) found nothing."""
    row = browse_buildings(store, status="draft", limit=1).rows[0]
    building = get_building(store, row.id).answers
    compound, number = building["compound_name"], building["building_no"]
    for query in (f"{compound}{number}", f"{compound} {number}", f"{number}  {compound}"):
        found = list_buildings(store, search=query, limit=500)
        assert row.id in {r.id for r in found.rows}, query
    address = building["address"]
    head, tail = address[:-3], address[-3:]  # 南开区黄河道 / 25号
    spaced = list_buildings(store, search=f"{head} {tail}", limit=500)
    assert row.id in {r.id for r in spaced.rows}
    assert list_buildings(store, search=f"{compound} 不存在的词", limit=5).total == 0


def test_attach_a_photo_through_the_app(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    target = a_walk_up(sample_db)
    photo = a_jpeg(tmp_path / "stairs.jpg", (30, 90, 200))
    notes = tmp_path / "notes.jpg"  # a text file with a photo's name
    notes.write_text("楼道照片见附件\n", encoding="utf-8")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("photo_stairwell")
            # A document picked by mistake is refused in the dialog, which stays open with
            # the caption kept (it closed, and both had to be typed again); no failed save.
            await pilot.press("enter")
            await settle(app, pilot)
            modal = app.screen
            assert isinstance(modal, AttachPhotoModal)
            await pilot.press(*str(notes), "enter", *"楼道", "enter")
            await settle(app, pilot)
            assert app.screen is modal
            problem = modal.query_one("#photo-problem", Static)
            assert "notes.jpg 不是照片" in str(problem.render())
            assert screen.save_error is None
            path = modal.query_one("#photo-path", Input)
            path.value = str(photo)  # corrected: the stale sentence goes
            await settle(app, pilot)
            assert str(problem.render()) == ""
            assert modal.query_one("#photo-caption", Input).value == "楼道"
            await pilot.click("#photo-ok")
            await settle(app, pilot)
            assert app.screen is screen
            field = screen.query_one("#photo_stairwell", PhotoField)
            assert len(field.photos) == 1
            assert field.photos[0]["caption"] == "楼道"
            # Saved, and the indicator says so as after any answer (it still said 无改动).
            assert screen.indicator.state == "saved"
            assert "已保存" in str(screen.indicator.render())
            # A field that holds its most says so before asking for a path.
            await screen.goto_field("photo_facade_main")
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press(*str(photo), "enter", "enter")
            await settle(app, pilot)
            assert len(screen.query_one("#photo_facade_main", PhotoField).photos) == 1
            await pilot.press("space")  # asking to attach one more (Enter moves on)
            await settle(app, pilot)
            assert app.screen is screen  # no dialog
            assert any("最多 1 张" in str(n.message) for n in app._notifications)

    run(body)
    store = open_store(sample_db)
    try:
        saved = get_building(store, target.id).answers["photo_stairwell"]
    finally:
        store.close()
    assert saved[0]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()


def test_the_app_refuses_a_cut_short_photo_by_name(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    """A truncated JPEG passed the dialog's check and was attached; it is refused in a toast
    naming it (decoded in the save thread: the dialog's check stays cheap), nothing stored."""
    from tests.test_damaged import _cut_short_jpeg

    target = a_walk_up(sample_db)
    photo = _cut_short_jpeg(tmp_path / "stairs.jpg")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_stairwell")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AttachPhotoModal)
            await pilot.press(*str(photo), "enter", "enter")
            await until(
                app, lambda: any("stairs.jpg 已损坏或不完整" in m for m in toasts(app)), "refusal"
            )
            assert any(m.startswith("照片未添加：") for m in toasts(app))
            assert screen.query_one("#photo_stairwell", PhotoField).photos == []

    run(body)
    store = open_store(sample_db)
    try:
        assert "photo_stairwell" not in get_building(store, target.id).answers
    finally:
        store.close()


def test_enter_on_a_full_photo_field_moves_on_to_the_next_field(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    """A field that holds its most photos: every Enter said "already full" again and stayed;
    now it moves on, as Enter does in any other field, and the field says it is full."""
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    facade = a_jpeg(tmp_path / "facade.jpg")
    attach_photo(store, FORM, target.id, "photo_facade_main", facade, author="测试员")
    store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_facade_main")
            field = screen.query_one("#photo_facade_main", PhotoField)
            drawn = [strip.text for strip in field.render_lines(field.region.reset_offset)]
            assert any("照片已满（1/1），回车到下一项" in line for line in drawn), drawn
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is screen  # no dialog, and no refusal
            assert not any("最多 1 张" in str(n.message) for n in app._notifications)
            assert app.focused is screen.query_one("#photo_other", PhotoField)

    run(body)


def test_enter_skips_an_optional_photo_field_and_space_attaches(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Enter on an empty optional photo field (其他立面/屋面) always opened the attach dialog,
    so only Tab or PgDn got past it, and the field did not say so. Enter now moves on there
    (and once a required field has its photo); space attaches, as the field and the footer
    say; Enter still attaches where the record needs a photo (楼道, required, none yet)."""
    target = a_walk_up(sample_db)

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_other")
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is screen  # no dialog: on to the next field
            stairwell = screen.query_one("#photo_stairwell", PhotoField)
            assert app.focused is stairwell
            drawn = [strip.text for strip in stairwell.render_lines(stairwell.region.reset_offset)]
            assert any("+ 添加照片 (0/3)：回车或空格" in line for line in drawn), drawn
            await pilot.press("enter")  # required and empty: Enter attaches
            await settle(app, pilot)
            assert isinstance(app.screen, AttachPhotoModal)
            await pilot.press("escape")
            await settle(app, pilot)
            await screen.goto_field("photo_other")
            await settle(app, pilot)
            other = screen.query_one("#photo_other", PhotoField)
            drawn = [strip.text for strip in other.render_lines(other.region.reset_offset)]
            assert any("+ 空格 添加 (0/6)，回车下一项" in line for line in drawn), drawn
            assert "photo.attach" in [b.id for _, b, _, _ in screen.active_bindings.values()]
            await pilot.press("space")  # space attaches anywhere
            await settle(app, pilot)
            assert isinstance(app.screen, AttachPhotoModal)

    run(body)


def test_remove_a_photo_through_the_app(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    """A photo attached by mistake could not be taken off: Delete on the field asks which one
    (by number or Enter) and saves the field without it; Esc keeps them all."""
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    for name, colour in (("a.jpg", (200, 0, 0)), ("b.jpg", (0, 0, 200))):
        attach_photo(
            store,
            FORM,
            target.id,
            "photo_other",
            a_jpeg(tmp_path / name, colour),
            caption=name,
            author="测试员",
        )
    store.close()

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("photo_other")
            field = screen.query_one("#photo_other", PhotoField)
            await pilot.press("delete")
            await settle(app, pilot)
            assert isinstance(app.screen, RemovePhotoModal)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen and len(field.photos) == 2
            await pilot.press("delete")
            await settle(app, pilot)
            assert screen.indicator.state == "idle"
            await pilot.press("1")
            await settle(app, pilot)
            assert app.screen is screen
            assert [p["caption"] for p in field.photos] == ["b.jpg"]
            assert screen.indicator.state == "saved"
            assert any("照片已移除" in str(n.message) for n in app._notifications)
            await pilot.press("backspace", "enter")
            await settle(app, pilot)
            assert field.photos == []
            await pilot.press("delete")
            await settle(app, pilot)
            assert app.screen is screen  # nothing to remove: said, no dialog
            assert any("没有可移除的照片" in str(n.message) for n in app._notifications)

    run(body)
    store = open_store(sample_db)
    try:
        assert "photo_other" not in get_building(store, target.id).answers
    finally:
        store.close()


def test_new_core_modules_do_not_import_textual() -> None:
    modules = [
        "surveyor.services.browse",
        "surveyor.services.photos",
        "surveyor.services.resume",
        "surveyor.settings",
        "surveyor.i18n",
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
