"""Keys in dialogs: typed at once they land where they were meant to, and F1 and F2 work.

An inspector in tmux sent 「２号楼 Enter 南开区云居里2号」 in one write to the new-building
dialog and got 楼号 「２号楼南开区云居里2号」 with an empty 门牌地址; F1 and F2 did nothing in
any dialog.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select

from surveyor.services.browse import browse_buildings
from surveyor.store.db import open_store
from surveyor.tui.modals.attach_photo import AttachPhotoModal
from surveyor.tui.modals.new_building import NewBuildingModal
from surveyor.tui.widgets.photo_field import PhotoField
from tests.tui.conftest import AppFactory, run, settle, until
from tests.tui.test_flows import burst, open_at
from tests.tui.test_photos_and_services import a_jpeg


def value(dialog: NewBuildingModal, field_id: str) -> str:
    return dialog.query_one(f"#new-{field_id}", Input).value


def focused_id(dialog: NewBuildingModal) -> str | None:
    return dialog.focused.id if dialog.focused is not None else None


def test_keys_typed_at_once_in_the_new_building_dialog_go_field_by_field(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Enter in a text box moved on only when its Submitted message was handled, after the
    keys typed behind it had gone into the same box; Enter on the picked 街道 lost them."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, NewBuildingModal)
            street = dialog.query_one("#new-subdistrict", Select)
            street.value = app.form.field("subdistrict").choices[0].code
            assert focused_id(dialog) == "new-subdistrict"
            burst(app, ["enter", "a", "b", "c", "enter", "d", "e", "f", "enter", "g", "h"])
            await until(app, lambda: value(dialog, "building_no") == "gh", "gh in 楼号")
            assert value(dialog, "community") == "abc"
            assert value(dialog, "compound_name") == "def"
            assert focused_id(dialog) == "new-building_no"
            burst(app, ["backspace", "backspace", *"２号楼", "enter", *"南开区云居里2号"])
            await until(app, lambda: value(dialog, "address") == "南开区云居里2号", "门牌地址")
            assert value(dialog, "building_no") == "２号楼"

    run(body)


def test_a_second_quick_enter_in_the_photo_dialog_attaches(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    """Path, Enter, Enter in one write: the second Enter was lost in the path box (the first
    had not moved to the caption yet), and the dialog stayed open."""
    store = open_store(sample_db)
    target = browse_buildings(store, status="not_started", limit=1).rows[0]
    store.close()
    photo = a_jpeg(tmp_path / "stairs.jpg")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_stairwell")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AttachPhotoModal)
            burst(app, [*str(photo), "enter", "enter"])
            field = screen.query_one("#photo_stairwell", PhotoField)
            await until(app, lambda: len(field.photos) == 1, "the photo attached")
            assert app.screen is screen

    run(body)
