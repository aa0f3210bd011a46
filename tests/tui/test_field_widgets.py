"""The field widgets as an inspector met them in a day's work: where the cursor lands in the
remarks box, a paste into a choice list, the remarks' length counter, the search after a
building. Pilot against a real sample database; what was saved is read back through the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import TextArea

from surveyor.services.resume import set_resume_point
from surveyor.services.survey import save_answers
from surveyor.store.db import open_store
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import FORM, first_with_status, open_survey, read

NOTE = "moreTest note 123"


def with_remarks(db: Path, building_id: Any, note: str, *, resume: str | None = None) -> None:
    store = open_store(db)
    try:
        answers = {"inspector_remarks": note, "resident_willingness": "willing"}
        save_answers(store, FORM, building_id, answers, author="测试员", draft=True)
        if resume is not None:
            set_resume_point(store, building_id, resume)
    finally:
        store.close()


def test_arriving_in_the_remarks_box_puts_the_cursor_after_the_note(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Enter from 居民最关心问题 into remarks holding "moreTest note 123", then "XYZ ": the
    cursor was before the note and "XYZ moreTest note 123" was saved. Reopening a building
    that resumes in the remarks box did the same."""
    target = first_with_status(sample_db, "not_started")
    with_remarks(sample_db, target.id, NOTE)

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("resident_priorities")
            await pilot.press("enter")  # on to the remarks box
            area = screen.query_one("#inspector_remarks", TextArea)
            assert app.focused is area
            await pilot.press(*"XYZ ")
            assert area.text == NOTE + "XYZ "
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["inspector_remarks"] == NOTE + "XYZ"

        set_point = open_store(sample_db)
        try:
            set_resume_point(set_point, target.id, "inspector_remarks")
        finally:
            set_point.close()
        app = make_app(sample_db, lang="zh")  # reopened: it resumes in the remarks box
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            area = screen.query_one("#inspector_remarks", TextArea)
            assert app.focused is area
            await pilot.press(*" more")
            assert area.text == NOTE + "XYZ more"
            await pilot.press("home", *">")  # a cursor put in the note stays there…
            await pilot.press("tab", "shift+tab")  # …when the box is left and come back to
            assert app.focused is area
            await pilot.press("<")
            assert area.text == ">" + "<" + NOTE + "XYZ more"
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["inspector_remarks"] == "><" + NOTE + "XYZ more"

    run(body)
