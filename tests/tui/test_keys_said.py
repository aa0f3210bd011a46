"""The keys the app names follow the user's keymap; every key has a palette command (or a
reason it has none); F1 over a dialog says what that dialog is for."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from surveyor.i18n import LANGUAGES, catalog
from surveyor.tui.app import SurveyorApp
from surveyor.tui.commands import COMMAND_FOR, PALETTE_EXEMPT, palette_bindings
from surveyor.tui.keynames import key_in_words
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.modals.new_building import NewBuildingModal
from surveyor.tui.screens.help import HelpScreen
from surveyor.tui.widgets.note import Note
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_catalog_and_config import TUI, TUI_MODULES
from tests.tui.test_flows import FORM, first_with_status, open_at, open_survey

ROOT = Path(__file__).resolve().parents[2]


def _tui_classes() -> list[type]:
    """Every class defined in surveyor.tui (each module imported)."""
    out: list[type] = []
    for path in TUI_MODULES:
        name = ".".join(path.relative_to(TUI.parents[1]).with_suffix("").parts)
        module = importlib.import_module(name)
        out += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == name]
    return out


def test_keys_are_said_as_words() -> None:
    assert key_in_words("f10", "zh") == "F10"
    assert key_in_words("ctrl+q", "en") == "Ctrl+Q"
    assert key_in_words("ctrl+down", "en") == "Ctrl+Down"
    assert key_in_words("escape", "zh") == "Esc"
    assert key_in_words("pagedown", "en") == "PgDn"
    assert key_in_words("enter", "zh") == "回车"
    assert key_in_words("space", "en") == "Space"
    assert key_in_words("slash", "en") == "/"
    assert key_in_words("d", "en") == "d"


def test_a_key_of_a_screen_not_opened_yet_is_named_too() -> None:
    """F1 on the list, before any building is opened, names the survey's keys (PgDn), whose
    classes are not imported yet: they were said as their binding ids."""
    code = (
        "import surveyor.tui.app\n"
        "from surveyor.i18n import t_in\n"
        "print(t_in('en', 'help.overview'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "PgUp/PgDn switch sections" in done.stdout, done.stdout
    assert "survey." not in done.stdout, done.stdout


def test_messages_name_the_keys_of_the_users_keymap(sample_db: Path, make_app: AppFactory) -> None:
    """With ``"survey.complete" = "f10"`` the footer said f10, but F8 still said 「先按 F9
    检查缺项」 and PgDn on the last section 「可按 F9 标记完成」."""
    target = first_with_status(sample_db, "not_started")
    last_field = FORM.section_fields(FORM.sections[-1].id)[0].id

    async def body() -> None:
        keymap = {"survey.complete": "f10", "survey.next_problem": "f12", "app.quit": "ctrl+x"}
        app = make_app(sample_db, lang="zh", keymap=keymap)
        async with app.run_test(size=(100, 30)) as pilot:
            await open_survey(app, pilot, target.id)
            await pilot.press("f12")
            said = "先按 F10 检查缺项，之后 F12 逐个跳到"
            await until(app, lambda: said in toasts(app), "F8's words, moved to F12")
            await open_at(app, pilot, target.id, last_field)
            await pilot.press("pagedown")
            said = "已是最后一节（填完可按 F10 标记完成）"
            await until(app, lambda: said in toasts(app), "the last section's words")
            assert not any("F9" in m or "F8" in m for m in toasts(app)), toasts(app)
            # The palette says the keys of the keymap too.
            helps = {str(c.help) for c in app.get_system_commands(app.screen)}
            assert "保存后退出（Ctrl+X）" in helps, helps

    run(body)


def test_every_key_of_every_screen_has_a_palette_command_or_a_reason() -> None:
    """The list's "mine" (ctrl+o) was in no footer and not in the palette: typing "mine"
    there found nothing. A screen's keys are commands (``palette_bindings``), the app's
    stand for its own commands; the rest are exempt, each with its reason. A dialog's keys
    and a widget's are not: the palette opens over no dialog and takes a widget's focus."""
    checked = 0
    for cls in _tui_classes():
        ids = {b.id for b in Binding.make_bindings(vars(cls).get("BINDINGS", []))}
        if not ids or issubclass(cls, ModalScreen) or not issubclass(cls, Screen | SurveyorApp):
            continue
        offered = {b.id for b in palette_bindings(cls)} if issubclass(cls, Screen) else set()
        missing = ids - offered - set(COMMAND_FOR) - set(PALETTE_EXEMPT)
        assert not missing, f"{cls.__name__}: no palette command for {sorted(missing)}"
        checked += len(ids)
    assert "list.mine" in {b.id for b in palette_bindings(_class("BuildingsScreen"))}
    assert all(reason.strip() for reason in PALETTE_EXEMPT.values())
    assert checked > 20


def _class(name: str) -> type[Screen[None]]:
    found = [c for c in _tui_classes() if c.__name__ == name]
    assert found, name
    return found[0]


def test_the_palette_finds_the_lists_mine(sample_db: Path, make_app: AppFactory) -> None:
    async def body() -> None:
        app = make_app(sample_db, lang="zh", author="赵军")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            everything = app.screen.total  # type: ignore[attr-defined]
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)
            app.screen.query_one(Input).value = "mine"
            commands = app.screen.query_one(CommandList)

            def first() -> str:
                return str(commands.get_option_at_index(0).prompt) if commands.option_count else ""

            await until(app, lambda: "我的" in first(), "a command for mine")
            assert "Ctrl+O" in first(), first()
            await pilot.press("enter")
            await settle(app, pilot)
            assert 0 < app.screen.total < everything  # type: ignore[attr-defined]

    run(body)


def test_every_dialog_with_keys_of_its_own_says_what_it_is_for() -> None:
    for cls in _tui_classes():
        if (
            not issubclass(cls, Dialog)
            or cls in (Dialog, HelpScreen)
            or "BINDINGS" not in vars(cls)
        ):
            continue
        overview = vars(cls).get("HELP_OVERVIEW")
        assert overview in catalog(), f"{cls.__name__} has no HELP_OVERVIEW of its own"
        assert all("{key[" in catalog()[overview][lang] for lang in LANGUAGES), overview


def test_f1_in_the_new_building_dialog_says_what_it_is_for(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F1 in the new-building dialog showed the list's and the survey's overview."""

    async def body() -> None:
        app = make_app(sample_db, lang="en", keymap={"new.cancel": "ctrl+w"})
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await until(app, lambda: isinstance(app.screen, NewBuildingModal), "the dialog")
            await pilot.press("f1")
            await until(app, lambda: isinstance(app.screen, HelpScreen), "its help")
            said = app.screen.query_one("#overview", Note).text
            assert said.startswith("New building: add a building found on site"), said
            assert "Ctrl+W cancels" in said, said
            assert "Building list" not in said

    run(body)
