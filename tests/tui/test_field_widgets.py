"""The field widgets as an inspector met them in a day's work: where the cursor lands in the
remarks box, a paste into a choice list, the remarks' length counter, the search after a
building. Pilot against a real sample database; what was saved is read back through the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import DataTable, Input, Static, TextArea

from surveyor.services.resume import set_resume_point
from surveyor.services.survey import save_answers
from surveyor.store.db import open_store
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.choice import ChoiceField
from surveyor.tui.widgets.field_row import FieldRow
from tests.tui.conftest import AppFactory, run, settle, toasts
from tests.tui.test_flows import FORM, burst, first_with_status, open_survey, read

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


def paste(app: Any, text: str) -> None:
    """A bracketed paste, as the terminal sends it (tmux ``paste-buffer -p``)."""
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


def test_a_paste_into_a_choice_list_is_said_not_dropped(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Skip logic put 居民最关心问题 where the remarks box was expected: a pasted 1,173-character
    note ticked nothing and showed nothing. A long paste is now said not recorded at once; a
    short one goes in as typed keys would (a filter, an option's key)."""
    target = first_with_status(sample_db, "not_started")
    note = ("三单元顶层北侧卧室雨季漏水，墙皮脱落，" * 62)[:1173]
    assert len(note) == 1173

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("resident_willingness")
            await pilot.press("2", "enter")  # 一般: on to 居民最关心问题, a choice list
            choice = screen.query_one("#resident_priorities", ChoiceField)
            assert app.focused is choice
            paste(app, note + "\n")
            await settle(app, pilot)
            said = [m for m in toasts(app) if m.startswith("粘贴的文字")]
            assert said == [
                "粘贴的文字不能填入选择题「居民最关心问题」，未记录"
                "（1173 个字符：三单元顶层北侧卧室雨季漏水，墙皮脱落，三...）"
            ]
            assert choice.value is None and not choice.filtering  # nothing ticked or kept

            paste(app, "顶层")  # short, matches nothing: kept in the filter, said, as typed
            await settle(app, pilot)
            assert choice.filtering and choice.filter_text == "顶层"
            assert "无匹配选项" in choice.render().plain
            assert any(m.startswith("居民最关心问题是选择题") for m in toasts(app))
            await pilot.press("escape")
            paste(app, " 漏水 ")  # an option's label: filtered to it, Enter picks it
            await settle(app, pilot)
            assert choice.filter_text == "漏水"
            await pilot.press("enter")
            paste(app, "3")  # an option's key picks it, as the key would
            await settle(app, pilot)
            assert choice.value == ["leaks", "gas"]
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["resident_priorities"] == ["leaks", "gas"]

    run(body)


def test_a_search_typed_after_returning_from_a_building_replaces_the_old_one(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Search 新苑里 1号, Enter (it opens), Esc, type 宜宾: the box read 新苑里 1号宜宾, no
    rows. Back from a building the old search is selected: the first key replaces it, in the
    box or from the list; arrows and Enter still work on the rows."""
    target = first_with_status(sample_db, "draft")
    unique = read(sample_db, target.id).answers["address"]
    compound = read(sample_db, target.id).answers["compound_name"]

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            home = app.screen
            search = home.query_one("#search", Input)
            table = home.query_one("#buildings", DataTable)
            burst(app, [*unique, "enter"])  # the one building found opens
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is home and app.focused is search
            assert search.value == unique  # kept, with its rows
            await pilot.press(*"宜宾")
            await settle(app, pilot)
            assert search.value == "宜宾"

            search.value = ""
            await pilot.press(*compound, "enter")  # several: Enter goes into the list
            await settle(app, pilot)
            assert app.focused is table and table.row_count > 1
            await pilot.press("down")
            row = table.cursor_row
            await pilot.press("enter")  # opens the building under the cursor
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.focused is table and table.cursor_row == row  # the rows work on
            await pilot.press("down")
            assert table.cursor_row == row + 1
            await pilot.press(*"宜宾")  # typed from the list: a new search
            await settle(app, pilot)
            assert search.value == "宜宾"
            await pilot.press("down")
            await pilot.press(*"里")  # after that, typing goes on with it, as before
            await settle(app, pilot)
            assert search.value == "宜宾里"

    run(body)


def test_the_remarks_box_counts_its_characters_against_the_forms_limit(
    sample_db: Path, make_app: AppFactory
) -> None:
    """A pasted 1,173-character note was saved as an invalid draft and 备注不得超过500个字符
    said only on leaving the box. A counter under it, from the form's constraint
    (``string-length(.) <= 500``), says so as it is typed, in the error colour past it."""
    target = first_with_status(sample_db, "not_started")
    with_remarks(sample_db, target.id, NOTE)
    assert FORM.field("inspector_remarks").max_length() == 500
    assert FORM.field("compound_name").max_length() == 60  # 1 <= length <= 60
    assert FORM.field("follow_up").max_length() is None

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("inspector_remarks")
            row = screen.query_one("#row-inspector_remarks", FieldRow)
            counter = row.query_one(".counter", Static)
            assert str(counter.render()) == f"{len(NOTE)}/500"
            muted = counter.styles.color
            paste(app, "，北侧漏水" * 200)  # 1,000 more: past the limit, said at once
            await settle(app, pilot)
            assert str(counter.render()) == f"{len(NOTE) + 1000}/500"
            assert counter.has_class("-over")
            over = counter.styles.color  # the error colour: red, not the muted grey
            assert over != muted and over.r > over.g and over.r > over.b
            area = screen.query_one("#inspector_remarks", TextArea)
            area.load_text(NOTE + " more")
            await settle(app, pilot)
            assert str(counter.render()) == f"{len(NOTE) + 5}/500"
            assert not counter.has_class("-over")

    run(body)
