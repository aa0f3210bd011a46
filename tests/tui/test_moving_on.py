"""Moving on through the survey with Tab, PgUp and PgDn, as Enter does."""

from __future__ import annotations

from pathlib import Path

from surveyor.tui.widgets.section_nav import SectionNav
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_flows import FORM, first_with_status, open_at, open_survey


def test_tab_on_a_sections_last_field_opens_the_next_section_as_enter_does(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Tab on 信息来源, the last field of 调查记录, put the cursor in the section list; the
    help says Tab moves on to the next field, and Enter opens the next section there."""
    target = first_with_status(sample_db, "not_started")
    second = [f.id for f in FORM.section_fields(FORM.sections[1].id) if f.type != "calculate"]

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "info_sources")
            await pilot.press("1", "tab")
            await until(app, lambda: screen.section_index == 1, "the next section")
            await settle(app, pilot)
            assert app.focused is not None and app.focused.id == second[0]
            assert not isinstance(app.focused, SectionNav)
            await pilot.press("shift+tab")  # back stays Textual's: the section list
            assert isinstance(app.focused, SectionNav)

    run(body)


def test_pgup_on_the_first_section_and_pgdn_on_the_last_stay_and_say_so(
    sample_db: Path, make_app: AppFactory
) -> None:
    """PgUp on 调查记录 jumped round to the last section (意愿与备注), and PgDn there to
    the first: the screen now stays at either end, and says so once."""
    target = first_with_status(sample_db, "not_started")
    last = len(FORM.sections) - 1
    last_field = FORM.section_fields(FORM.sections[last].id)[0].id

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert screen.section_index == 0
            await pilot.press("pageup", "pageup")
            await settle(app, pilot)
            assert screen.section_index == 0
            assert toasts(app).count("已是第一节") == 1, toasts(app)
            await open_at(app, pilot, target.id, last_field)
            await pilot.press("pagedown")
            await settle(app, pilot)
            assert screen.section_index == last
            assert any(m.startswith("已是最后一节") for m in toasts(app)), toasts(app)

    run(body)
