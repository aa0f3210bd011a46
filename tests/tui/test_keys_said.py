"""The keys the app names follow the user's keymap."""

from __future__ import annotations

from pathlib import Path

from surveyor.tui.keynames import key_in_words
from tests.tui.conftest import AppFactory, run, toasts, until
from tests.tui.test_flows import FORM, first_with_status, open_at, open_survey


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
