"""Keys in dialogs: typed at once they land where they were meant to, and F1 and F2 work.

An inspector in tmux sent 「２号楼 Enter 南开区云居里2号」 in one write to the new-building
dialog and got 楼号 「２号楼南开区云居里2号」 with an empty 门牌地址; F1 and F2 did nothing in
any dialog.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Select, Static

from surveyor.tui.modals.attach_photo import AttachPhotoModal
from surveyor.tui.modals.new_building import NewBuildingModal
from surveyor.tui.modals.problems import ProblemsModal
from surveyor.tui.screens.exports import ExportScreen
from surveyor.tui.screens.help import HelpScreen
from surveyor.tui.widgets.photo_field import PhotoField
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_flows import burst, open_at
from tests.tui.test_photos_and_services import a_jpeg, a_walk_up


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
    target = a_walk_up(sample_db)
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


def test_f1_and_f2_work_in_the_new_building_dialog(sample_db: Path, make_app: AppFactory) -> None:
    """A modal screen cuts the app's own keys off: F1 and F2 did nothing in any dialog, though
    F1 is said to work everywhere. F1 opens the help over the dialog (its keys listed) and
    closes it again; F2 relabels the dialog with what was typed and the focus kept."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, NewBuildingModal)
            dialog.set_focus(dialog.query_one("#new-compound_name", Input))
            await pilot.press(*"新苑里", "f1")
            await until(app, lambda: isinstance(app.screen, HelpScreen), "the help")
            keys = str(app.screen.query_one("#keys", Static).render())
            assert "esc" in keys and "取消" in keys and "f2" in keys, keys
            await pilot.press("f1")
            await until(app, lambda: app.screen is dialog, "back to the dialog")
            await pilot.press("f2")
            title = dialog.query_one(".title", Static)
            await until(app, lambda: str(title.render()) == "Add a building found on site", "en")
            assert value(dialog, "compound_name") == "新苑里"
            assert focused_id(dialog) == "new-compound_name"
            await pilot.press("x")
            assert value(dialog, "compound_name") == "新苑里x"

    run(body)


def test_f2_in_the_problems_list_and_the_photo_dialog_relabels_them(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F9's list of what stops completion and the photo dialog, each worded again by F2 (the
    field's label too), and F1 opens the help over them."""
    target = a_walk_up(sample_db)

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_stairwell")
            await pilot.press("f9")
            await until(app, lambda: isinstance(app.screen, ProblemsModal), "F9's list")
            modal = app.screen
            assert isinstance(modal, ProblemsModal)
            assert modal.problems[0].message == "未填写"
            await pilot.press("down", "f2")
            await until(app, lambda: modal.problems[0].message == "unanswered", "reworded")
            title = str(modal.query_one(".title", Static).render())
            assert title.startswith("Cannot mark complete"), title
            assert modal.query_one("#problem-list", OptionList).highlighted == 1
            await pilot.press("f1")
            await until(app, lambda: isinstance(app.screen, HelpScreen), "the help")
            await pilot.press("escape", "escape")
            await until(app, lambda: app.screen is screen, "back to the survey")
            await screen.goto_field("photo_stairwell")
            await pilot.press("enter")
            await until(app, lambda: isinstance(app.screen, AttachPhotoModal), "the dialog")
            dialog = app.screen
            label = app.form.field("photo_stairwell").defn.label
            title_of = lambda: str(dialog.query_one(".title", Static).render())  # noqa: E731
            assert title_of() == f"Attach a photo: {label.get('en')}"  # F2 above
            await pilot.press(*"/tmp/x", "f2")
            await until(app, lambda: title_of() == f"添加照片：{label.get('zh')}", "zh")
            assert dialog.query_one("#photo-path", Input).value == "/tmp/x"

    run(body)


def test_f2_in_the_export_dialog_says_it_keeps_its_language(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The export dialog is worded in the language it was opened in (and may be busy
    exporting): F2 there says so instead of doing nothing; F1 still opens the help."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await app.open_exports()
            await until(app, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
            await pilot.press("f2")
            said = "此对话框保持打开时的语言：关闭后再按 F2 切换"
            await until(app, lambda: said in toasts(app), "said")
            assert app.settings.language == "zh"
            await pilot.press("f1")
            await until(app, lambda: isinstance(app.screen, HelpScreen), "the help")

    run(body)
