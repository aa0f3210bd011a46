"""Enter past a section's last field with an answer there that breaks a rule: the next
section opened and the error was shown nowhere but as "!1" beside the section's name."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import AppFactory, run, settle, toasts
from tests.tui.test_flows import first_with_status, open_at


def test_an_error_in_a_sections_last_field_is_said_on_leaving_it(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "prior_programmes")
            section = screen.section_index
            for key in ("1", "7", "enter"):  # 既有建筑节能改造 and 无: 无 stands alone
                await pilot.press(key)
                await settle(app, pilot)
            assert screen.section_index == section + 1
            said = " ".join(toasts(app))
            assert "上一节有 1 处回答有误" in said and "「既往改造」" in said, said

    run(body)
