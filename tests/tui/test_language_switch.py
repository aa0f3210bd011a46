"""F2 (the language) while typing in a field: what was typed, the cursor and the selection
stay; the labels, units, options and the status line follow the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.choice import ChoiceField
from surveyor.tui.widgets.field_row import FieldRow
from tests.tui.conftest import AppFactory, run, settle, until
from tests.tui.test_flows import burst, first_with_status, open_at, open_survey, read


@pytest.mark.parametrize("at_once", [False, True], ids=["typed", "one-burst"])
@pytest.mark.parametrize(
    ("field_id", "before", "after", "saved"),
    [
        ("year_built", "19", "85", 1985),  # it held 85 (and said the year was out of range)
        ("floors_above", "1", "2", 12),  # a wrong but valid 2 was saved without a word
    ],
)
def test_f2_while_typing_a_number_keeps_what_was_typed(
    sample_db: Path,
    make_app: AppFactory,
    field_id: str,
    before: str,
    after: str,
    saved: int,
    at_once: bool,
) -> None:
    """F2 re-mounted the section: the field, focused again, selected its text, so the next
    key replaced the 19 typed before F2."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, field_id)
            field = screen.query_one(f"#{field_id}", Input)
            if at_once:
                burst(app, [*before, "f2", *after])
            else:
                await pilot.press(*before, "f2")
                await settle(app, pilot)
                await pilot.press(*after)
            await settle(app, pilot)
            field = screen.query_one(f"#{field_id}", Input)
            assert field.value == before + after
            assert app.focused is field
            row = screen.query_one(f"#row-{field_id}", FieldRow)
            assert row.lang == "en"
            label = screen.app.form.field(field_id).defn.label.en
            assert label in str(row.label_text())
            await pilot.press("tab")
            await settle(app, pilot)
            assert row.shown_error is None
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers[field_id] == saved

    run(body)


def test_f2_in_the_remarks_box_keeps_the_cursor_where_it_was(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F2 in the remarks box put the cursor at the start: ABC typed after it went before the
    remarks ('ABC第一行备注\\n第二行' was saved)."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "inspector_remarks")
            area = screen.query_one("#inspector_remarks", TextArea)
            await pilot.press(*"第一行备注", "enter", *"第二行", "f2")
            await settle(app, pilot)
            await pilot.press(*"ABC")
            await settle(app, pilot)
            area = screen.query_one("#inspector_remarks", TextArea)
            assert area.text == "第一行备注\n第二行ABC"
            assert app.focused is area
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["inspector_remarks"] == "第一行备注\n第二行ABC"

    run(body)


def test_f2_keeps_a_selection_and_relabels_the_section(
    sample_db: Path, make_app: AppFactory
) -> None:
    """An answer arrived at is selected (typing replaces it): still so after F2. The labels,
    units and choice options are in the new language, the answers as they were."""
    target = first_with_status(sample_db, "complete")
    before = read(sample_db, target.id).answers

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "floors_above")
            field = screen.query_one("#floors_above", Input)
            assert field.selected_text == str(before["floors_above"])
            await pilot.press("f2")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            field = screen.query_one("#floors_above", Input)
            assert field.selected_text == str(before["floors_above"])
            assert app.focused is field
            form = app.form
            basis = screen.query_one("#year_built_basis", ChoiceField)
            assert [o.label for o in basis.options] == [
                c.label("en") for c in form.field("year_built_basis").choices
            ]
            assert basis.value == before["year_built_basis"]
            assert basis.label == form.field("year_built_basis").defn.label.en
            unit = form.field("floors_above").defn.unit
            assert unit is not None
            row = screen.query_one("#row-floors_above", FieldRow)
            assert unit.en in [str(s.render()) for s in row.query(".unit")]
            await pilot.press("7")
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["floors_above"] == 7

    run(body)


def shown_status_line(screen: SurveyScreen) -> str:
    """The status line as the terminal shows it (record status, completeness, save state)."""
    region = screen.query_one("#status-line").region
    lines = [strip.text for strip in screen._compositor.render_strips()]
    return lines[region.y]


def test_f2_says_the_save_state_in_the_new_language(sample_db: Path, make_app: AppFactory) -> None:
    """After F2 the status line read "草稿 完成度 69%  Saved 18:24:25" until the next save:
    the save indicator was never drawn again."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert "No changes" in shown_status_line(screen)
            await pilot.press("f2")
            await settle(app, pilot)
            assert "无改动" in shown_status_line(screen), shown_status_line(screen)
            await screen.goto_field("floors_above")
            await settle(app, pilot)
            await pilot.press("5")
            await until(app, lambda: screen.indicator.saved_at is not None, "the save")
            await settle(app, pilot)
            saved_at = screen.indicator.saved_at
            assert saved_at is not None
            when = saved_at.strftime("%H:%M:%S")
            assert f"已保存 {when}" in shown_status_line(screen)
            await pilot.press("f2")
            await settle(app, pilot)
            line = shown_status_line(screen)
            assert f"Saved {when}" in line and "done" in line, line
            await pilot.press("escape")
            await settle(app, pilot)

    run(body)


def test_a_year_says_its_unit_once_and_none_in_english(
    sample_db: Path, make_app: AppFactory
) -> None:
    """'Survey year  2025 year (calculated) year': a calculated value said its unit and the
    unit beside it said it again, and an English year took the word 'year' at all. F2 swaps
    the unit beside a year box: 年 in Chinese, nothing in English."""
    from textual.widgets import Static

    from surveyor.exports.sheetdata import text_of
    from surveyor.forms.catalog import get_form
    from surveyor.forms.display import format_value

    form = get_form()
    year, storeys = form.field("year_built"), form.field("floors_above")
    assert format_value(year, 1984, "en") == "1984" and format_value(year, 1984, "zh") == "1984 年"
    assert format_value(storeys, 6, "en") == "6 storeys"  # other units stay
    assert text_of(form, "year_built", 1984, "en") == "1984"
    assert text_of(form, "year_built", 1984, "zh") == "1984年"
    target = first_with_status(sample_db, "draft")

    def texts(screen: SurveyScreen, field_id: str) -> list[str]:
        row = screen.query_one(f"#row-{field_id}", FieldRow)
        return [str(s.render()) for s in row.query(Static) if s.display]  # the label is a Note

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_at(app, pilot, target.id, "survey_date")
            (survey_year,) = texts(screen, "survey_year")
            assert survey_year.count("年") == 1 and survey_year.startswith("20")
            await pilot.press("f2")
            row = screen.query_one("#row-survey_year", FieldRow)
            await until(app, lambda: row.lang == "en", "the row in English")
            (survey_year,) = texts(screen, "survey_year")
            assert "year" not in survey_year and survey_year.endswith("(calculated)")
            await screen.goto_field("year_built")
            await settle(app, pilot)
            assert texts(screen, "year_built") == []  # no unit beside the box
            await pilot.press("f2")
            row = screen.query_one("#row-year_built", FieldRow)
            await until(app, lambda: row.lang == "zh", "the row in Chinese")
            assert texts(screen, "year_built") == ["年"]

    run(body)
