"""Whole inspector flows driven through Pilot against a real SQLite sample database.

Every check of what was saved reads it back through the core (``get_building``), never mocks.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual import events
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Select, TextArea

from surveyor.forms.catalog import get_form
from surveyor.services.browse import browse_buildings
from surveyor.services.resume import get_resume_point
from surveyor.services.survey import create_building, get_building, save_answers, set_status
from surveyor.store.db import open_store
from surveyor.store.ids import building_uri
from surveyor.tui.modals.problems import ProblemsModal
from surveyor.tui.screens import survey as survey_screen
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.text import fit_cells
from surveyor.tui.widgets.choice import ChoiceField
from surveyor.tui.widgets.field_row import FieldRow
from surveyor.tui.widgets.note import Note
from surveyor.tui.widgets.section_nav import SectionNav
from tests.conftest import REGISTER_ROW, mint_codes
from tests.tui.conftest import AppFactory, run, settle, until

FORM = get_form()


def error_line(screen: SurveyScreen, field_id: str) -> str | None:
    """The error alone: the first line of ``error_text`` (the field's hint follows it)."""
    said = error_text(screen, field_id)
    return None if said is None else said.split("\n")[0]


def first_with_status(db: Path, status: str) -> Any:
    store = open_store(db)
    try:
        return browse_buildings(store, status=status, limit=1).rows[0]
    finally:
        store.close()


def read(db: Path, ref: Any) -> Any:
    store = open_store(db)
    try:
        return get_building(store, ref)
    finally:
        store.close()


def error_text(screen: SurveyScreen, field_id: str) -> str | None:
    """The field's inline message when it is an error (with the field's hint, if any)."""
    row = screen.query_one(f"#row-{field_id}", FieldRow)
    if not row.has_class("-invalid"):
        return None
    return row.message_text


async def open_survey(app: Any, pilot: Any, ref: Any) -> SurveyScreen:
    await settle(app, pilot)
    app.open_building(ref)
    await settle(app, pilot)
    assert isinstance(app.screen, SurveyScreen)
    return app.screen


async def open_at(app: Any, pilot: Any, ref: Any, field_id: str) -> SurveyScreen:
    """The survey of ``ref`` opened with the cursor in ``field_id`` (its section shown)."""
    screen = await open_survey(app, pilot, ref)
    await screen.goto_field(field_id)
    await settle(app, pilot)
    return screen


def test_search_then_open_a_building(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "draft")
    query = (target.compound_name or "")[:2]  # a short Chinese query
    assert len(query) == 2

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, BuildingsScreen)
            everything = screen.total
            await pilot.press(*query)
            await pilot.pause(0.3)
            await settle(app, pilot)
            table = screen.query_one("#buildings", DataTable)
            assert 0 < screen.total < everything
            keys = [row.value for row in table.rows]
            assert str(target.id) in keys
            for key in keys:  # every row shown matches the query
                row = read(sample_db, key)
                hay = " ".join(
                    str(row.answers.get(f) or "")
                    for f in ("compound_name", "address", "building_no", "community")
                )
                assert query in hay or query.lower() in row.code.lower()
            await pilot.press("enter")  # search box → list
            assert app.focused is table
            await pilot.press("ctrl+f")
            assert app.focused is screen.query_one("#search", Input)
            await pilot.press("down")  # down arrow also goes from the search box into the list
            assert app.focused is table
            table.move_cursor(row=keys.index(str(target.id)))
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id

    run(body)


def test_a_number_searched_in_the_list_is_the_building_or_door_number_whole(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """宜宾 4 listed 14号楼 and a building whose code holds a 4 beside 4号楼: the number is
    the 楼号 or a whole number of the 门牌 (测试路4号), never a piece of other text."""
    plain = ("NK-AAAAA-AAAAA", "NK-BBBBB-BBBBB", "NK-CCCCC-CCCCC")
    mint_codes(monkeypatch, *plain, "NK-WK4FA-B13WE")
    store = open_store(sample_db)
    try:
        made = {
            number: create_building(
                store,
                FORM,
                {**REGISTER_ROW, "compound_name": "测试北里", "building_no": number, "address": at},
                author="甲",
            )
            for number, at in (
                ("4号楼", "南开区测试路30号"),
                ("1号楼", "南开区测试路4号"),
                ("14号楼", "南开区测试路31号"),
                ("3号楼", "南开区测试路33号"),
            )
        }
    finally:
        store.close()
    assert made["3号楼"].code == "NK-WK4FA-B13WE"
    wanted = {str(made["4号楼"].building_id), str(made["1号楼"].building_id)}

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, BuildingsScreen)
            table = screen.query_one("#buildings", DataTable)
            await pilot.press(*"测试北里 4")
            await until(app, lambda: {r.value for r in table.rows} == wanted, "4号楼 and 4号")
            await settle(app, pilot)
            assert {r.value for r in table.rows} == wanted and screen.total == 2

    run(body)


def test_typing_while_the_list_has_the_cursor_goes_on_with_the_search(
    sample_db: Path, make_app: AppFactory
) -> None:
    """From the list, 宜宾里 became 宾里 (and a typed code lost its N): the search box
    selected all on focus, and the next key replaced the first with the query before it."""

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            search = app.screen.query_one("#search", Input)
            await pilot.press("down")
            assert isinstance(app.focused, DataTable)
            await pilot.press(*"宜宾里")
            assert search.value == "宜宾里"
            await pilot.press("down")
            burst(app, list("NK"))
            await settle(app, pilot)
            assert search.value == "宜宾里NK"

    run(body)


def test_a_phrase_typed_at_once_from_the_list_lands_whole_in_the_search(
    sample_db: Path, make_app: AppFactory
) -> None:
    """An input method commits 西里4号楼 as five keys at once: from the list only 西 reached
    the search box (abc gave a). The keys behind the first were queued for the table, which
    dropped them once the focus had gone to the search box."""

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            search = app.screen.query_one("#search", Input)
            table = app.screen.query_one("#buildings", DataTable)
            await pilot.press("down")
            assert app.focused is table
            burst(app, list("abc"))
            await settle(app, pilot)
            assert search.value == "abc"
            await pilot.press("ctrl+u")
            await settle(app, pilot)
            await pilot.press("down")
            assert app.focused is table
            burst(app, list("西里4号楼"))
            await settle(app, pilot)
            assert search.value == "西里4号楼"
            assert app.focused is search

    run(body)


def test_enter_in_the_search_opens_the_one_building_found(
    sample_db: Path, make_app: AppFactory
) -> None:
    """One result and Enter did nothing visible (F1 says Enter opens); with several, Enter
    goes into the list, as before."""
    target = first_with_status(sample_db, "draft")
    row = read(sample_db, target.id).answers
    unique = f"{row['address']}"

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            burst(app, [*unique, "enter"])  # Enter before the search has answered
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id
            await pilot.press("escape")
            await settle(app, pilot)
            search = app.screen.query_one("#search", Input)
            search.value = "南开"
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.focused, DataTable)

    run(body)


def test_the_address_is_on_screen_at_80_columns(sample_db: Path, make_app: AppFactory) -> None:
    """At 80×24 the address column showed five characters (zh) or nothing (en), behind the
    counts; the 街道 cells repeated the column's word (万兴街道, Wanxing Subdistrict)."""

    async def body() -> None:
        for lang in ("zh", "en"):
            app = make_app(sample_db, lang=lang)
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(app, pilot)
                table = app.screen.query_one("#buildings", DataTable)
                widths = {
                    str(c.key.value): c.get_render_width(table) for c in table.ordered_columns
                }
                keys = list(widths)
                start = sum(widths[k] for k in keys[: keys.index("address")])
                assert start + 20 <= table.size.width, (lang, widths)
                first = next(iter(table.rows))
                sub = table.get_cell(first, "subdistrict").plain
                assert not sub.endswith(("街道", "Subdistrict")), sub
                search = app.screen.query_one("#search", Input)  # its hint is not cut either
                assert cell_len(search.placeholder) <= search.content_size.width, lang

    run(body)


def test_status_and_completeness_stay_whole_at_80_columns(
    sample_db: Path, make_app: AppFactory
) -> None:
    """After a search or the "mine" filter the 街道 and compound columns widened to their
    longest cell and never gave the room back: completeness read 完 / 1; in English Changhong
    took 14 cells, status read "complet" / "not sta" and completeness was gone."""
    target = first_with_status(sample_db, "draft")
    store = open_store(sample_db)
    try:  # a long compound name and address, saved by the inspector: "mine"
        long = {
            "compound_name": "南开大学西南村教职工住宅小区",
            "address": "南开区卫津路94号南开大学西南村",
        }
        save_answers(store, FORM, target.id, long, author="王芳", draft=True)
    finally:
        store.close()

    def assert_whole(app: Any, state: str) -> None:
        table = app.screen.query_one("#buildings", DataTable)
        assert table.row_count, state
        seen = table.scrollable_content_region.width  # the scrollbar aside
        end = 0
        for column in table.ordered_columns:
            key = str(column.key.value)
            end += column.get_render_width(table)
            if key in ("status", "completeness"):
                assert end <= seen, (state, key, end, seen)
            for row in table.rows:
                shown = table.get_cell(row, key).plain
                assert cell_len(shown) <= column.get_render_width(table) - 2, (state, shown)
                if key in ("status", "completeness"):
                    assert not shown.endswith("~"), (state, shown)

    async def body() -> None:
        for lang in ("zh", "en"):
            app = make_app(sample_db, lang=lang, author="王芳")
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(app, pilot)
                assert_whole(app, f"{lang} start")
                await pilot.press(*"南开大学")
                await pilot.pause(0.3)
                await settle(app, pilot)
                assert app.screen.query_one("#buildings", DataTable).row_count == 1
                assert_whole(app, f"{lang} search")
                await pilot.press("ctrl+u")
                await settle(app, pilot)
                assert_whole(app, f"{lang} search cleared")
                await pilot.press("ctrl+o")
                await pilot.pause(0.3)
                await settle(app, pilot)
                assert_whole(app, f"{lang} mine")
                table = app.screen.query_one("#buildings", DataTable)
                narrow = table.get_cell(next(iter(table.rows)), "compound").plain
                assert narrow.endswith("~"), narrow  # cut, and said to be
                await pilot.resize_terminal(120, 40)  # wider: the columns share the room anew
                await settle(app, pilot)
                table = app.screen.query_one("#buildings", DataTable)
                wide = table.get_cell(next(iter(table.rows)), "compound").plain
                assert cell_len(wide) > cell_len(narrow), wide

    run(body)


@pytest.mark.parametrize(("width", "number"), [(130, "平房3排"), (80, "3号楼A"), (80, "平房3排")])
def test_the_building_number_column_is_as_wide_as_the_longest_shown(
    sample_db: Path, make_app: AppFactory, width: int, number: str
) -> None:
    """The 楼号 column was 6 cells at any width: 平房3排 read 平房3~ even at 130 columns.
    It takes the longest 楼号 listed, whole, up to a cap that leaves the address 16 cells
    at 80 columns (a much longer one is cut, and says so)."""
    store = open_store(sample_db)
    try:
        target = first_with_status(sample_db, "draft")
        answers = {"building_no": number}
        save_answers(store, FORM, target.id, answers, author="王芳", draft=True)
        other = first_with_status(sample_db, "not_started")
        long = {"building_no": "平房区第三排西侧院"}  # 18 cells: past the cap
        save_answers(store, FORM, other.id, long, author="王芳", draft=True)
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(width, 24)) as pilot:
            await settle(app, pilot)
            table = app.screen.query_one("#buildings", DataTable)
            shown = [table.get_cell(row, "building_no").plain for row in table.rows]
            assert number in shown, shown
            assert "平房区第~" in shown, shown  # cut at the cap, said to be
            widths = {str(c.key.value): c.get_render_width(table) for c in table.ordered_columns}
            assert widths["address"] - 2 >= 16, widths

    run(body)


def test_a_cell_cut_short_says_so_and_latin_keeps_whole_words() -> None:
    """A cut address must not read as another (南开区红旗路2 for 21号); … is two cells in some
    Chinese terminals, so the mark is ASCII."""
    assert fit_cells("南开区红旗路21号", 16) == "南开区红旗路21号"
    assert fit_cells("南开区红旗路121号", 16) == "南开区红旗路121~"
    assert fit_cells("水上公园", 7) == "水上公~"
    assert fit_cells("Shuishang Gongyuan", 12) == "Shuishang"
    assert fit_cells("Changhong", 6) == "Chang~"
    assert all(cell_len(fit_cells("南开大学西南村", n)) <= n for n in range(0, 16))


def test_fill_a_section_leave_and_come_back(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert screen.section_index == 0
            await pilot.click("#inspector_name")
            await pilot.press(*"李雷")
            await pilot.press("enter")  # Enter moves to the next field
            assert app.focused is screen.query_one("#info_sources")
            await pilot.press("1", "3")
            await pilot.press("escape")  # leave the screen: everything is committed
            await settle(app, pilot)
            assert isinstance(app.screen, BuildingsScreen)

        saved = read(sample_db, target.id)
        assert saved.answers["inspector_name"] == "李雷"
        assert saved.answers["info_sources"] == ["site", "committee"]
        assert saved.status == "draft"
        store = open_store(sample_db)
        try:
            assert get_resume_point(store, target.id) == "info_sources"
        finally:
            store.close()

        app = make_app(sample_db)  # a new session: the values come from the database
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert screen.query_one("#inspector_name", Input).value == "李雷"
            assert screen.query_one("#info_sources", ChoiceField).value == ["site", "committee"]
            assert app.focused is screen.query_one("#info_sources")  # resumed at the last field

    run(body)


def test_autosave_commits_within_the_delay_without_leaving(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        # 1 s: a busy machine's key presses must not come further apart than the delay.
        app = make_app(sample_db, autosave_delay=1.0)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await pilot.click("#inspector_name")
            await pilot.press(*"王五")
            assert screen.indicator.state == "pending"
            await until(app, lambda: screen.indicator.state == "saved", "autosaved")
            assert app.focused is screen.query_one("#inspector_name")  # still in the field
            assert read(sample_db, target.id).answers["inspector_name"] == "王五"

    run(body)


def test_editing_an_approved_building_warns_then_says_the_approval_is_withdrawn(
    sample_db: Path, make_app: AppFactory
) -> None:
    """An edit takes an approved record back to complete; it did so without a word, so the
    supervisor's approval vanished behind the inspector's back."""
    target = first_with_status(sample_db, "approved")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            messages = [str(n.message) for n in app._notifications]
            assert any("已审核：修改任何答案都会撤销审核" in m for m in messages)
            await pilot.click("#inspector_name")
            await pilot.press("end", *"甲")
            await pilot.press("escape")
            await settle(app, pilot)
            assert screen.status == "complete"
            messages = [str(n.message) for n in app._notifications]
            assert any(f"{target.code} 的审核已撤销" in m for m in messages)

        assert read(sample_db, target.id).status == "complete"

    run(body)


def test_clearing_a_required_answer_of_a_complete_building_says_it_is_a_draft_again(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Backspace on a required choice took a complete building back to draft silently."""
    target = first_with_status(sample_db, "complete")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await open_at(app, pilot, target.id, "structure_type")
            await pilot.press("backspace")
            await pilot.press("escape")
            await settle(app, pilot)
            messages = [str(n.message) for n in app._notifications]
            assert any(f"{target.code} 改回草稿：有必答项未答" in m for m in messages), messages

        assert read(sample_db, target.id).status == "draft"

    run(body)


def test_invalid_value_message_in_zh_and_en(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")
    rule = FORM.field("survey_date").defn.constraint_message
    assert rule is not None

    async def body() -> None:
        # No autosave while typing (a busy machine's key presses come slowly): Enter checks.
        app = make_app(sample_db, lang="zh", autosave_delay=10.0)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await pilot.click("#survey_date")
            await pilot.press(*"2023-05-01")
            assert error_text(screen, "survey_date") is None  # no shouting while typing
            await pilot.press("enter")
            assert error_line(screen, "survey_date") == rule.zh
            await pilot.press("f2")  # switch language
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SurveyScreen)
            assert error_line(screen, "survey_date") == rule.en
            await pilot.press("escape")
            await settle(app, pilot)
        # The draft keeps the invalid value, marked, so nothing typed is lost.
        saved = read(sample_db, target.id)
        assert saved.answers["survey_date"] == "2023-05-01"
        assert "survey_date" in saved.errors

    run(body)


def test_a_refused_value_shows_the_fields_hint_with_the_error(
    sample_db: Path, make_app: AppFactory
) -> None:
    """2024-2025 typed in 数据年度/采暖季 said only 「应为整数」; the hint saying a heating
    season is entered as its start year was in F1 only. It comes with the error now."""
    target = first_with_status(sample_db, "not_started")
    store = open_store(sample_db)
    try:
        answers = {"energy_data_available": True}
        save_answers(store, FORM, target.id, answers, author="王芳", draft=True)
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "energy_data_year")
            await pilot.press(*"2024-2025", "enter")
            await settle(app, pilot)
            said = error_text(screen, "energy_data_year")
            assert said is not None and "应为整数" in said, said
            assert "提示：采暖季数据填开始年份，如2024至2025年采暖季填2024。" in said, said

    run(body)


def test_type_error_and_full_width_digits(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("floors_above")
            await pilot.press(*"six", "enter")
            assert error_line(screen, "floors_above") == "must be a whole number"
            await screen.goto_field("floors_above")
            field = screen.query_one("#floors_above", Input)
            field.value = ""
            await pilot.press(*"６", "enter")  # a full-width digit from a Chinese IME
            assert error_text(screen, "floors_above") is None
            assert field.value == "6"  # shown as stored once the field is left
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["floors_above"] == 6

    run(body)


def test_thousands_typed_with_commas_are_read_and_stray_commas_refused(
    sample_db: Path, make_app: AppFactory
) -> None:
    """1,200 typed into a number box is 1200; 12,34 (every comma was dropped: 1234) is no
    number, kept as typed in the draft and marked."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("household_count")
            await pilot.press(*"1,200", "enter")
            assert error_text(screen, "household_count") is None
            await screen.goto_field("gross_floor_area")
            await pilot.press(*"12,34", "enter")
            assert error_line(screen, "gross_floor_area") == "must be a number"
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id)
        assert saved.answers["household_count"] == 1200
        assert saved.answers["gross_floor_area"] == "12,34"

    run(body)


def test_calculated_fields_read_as_labels_not_codes(sample_db: Path, make_app: AppFactory) -> None:
    """The era bins showed their codes (y1981_1990, E0), which no inspector can read."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("year_built")
            field = screen.query_one("#year_built", Input)
            field.value = ""
            await pilot.press(*"1984", "enter")
            await settle(app, pilot)
            era = str(screen.query_one("#era_bin").render())
            energy = str(screen.query_one("#energy_era").render())
            assert era.startswith("1981至1990年") and "y1981" not in era
            assert energy.startswith("E0 1985年及以前（无节能标准）")

    run(body)


def test_unknown_reads_as_buxiang_in_chinese(sample_db: Path, make_app: AppFactory) -> None:
    """A field that takes 'unknown' hinted the English word in the Chinese interface, and an
    answer of unknown came back as 'unknown'."""
    target = first_with_status(sample_db, "not_started")
    store = open_store(sample_db)
    try:  # the wall's thickness is asked once its material is known
        save_answers(store, FORM, target.id, {"wall_material": "block"}, author="测试员")
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("wall_thickness_mm")
            field = screen.query_one("#wall_thickness_mm", Input)
            assert field.placeholder == "不清楚时填：不详"  # a hint, not an answer
            field.value = ""
            await pilot.press(*"不详", "enter")
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["wall_thickness_mm"] == "unknown"
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("wall_thickness_mm")
            assert screen.query_one("#wall_thickness_mm", Input).value == "不详"

    run(body)


def test_skip_logic_hides_and_reveals_a_field(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("has_elevator")
            row = screen.query_one("#row-elevator_count", FieldRow)
            assert not row.display  # unanswered: not relevant yet
            await pilot.press("1")  # 是 / yes
            assert row.display
            await pilot.press("2")  # 否 / no
            assert not row.display
            await pilot.press("1")
            assert row.display
            await pilot.press("enter")
            assert app.focused is screen.query_one("#elevator_count")
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["has_elevator"] is True

    run(body)


def test_the_required_mark_follows_the_answers(sample_db: Path, make_app: AppFactory) -> None:
    """问题照片 (required only once a defect is answered) read 问题照片 * on a new building,
    where ``surveyor show`` rightly did not list it: every ``required_if`` was marked."""
    target = first_with_status(sample_db, "not_started")

    def marked(screen: SurveyScreen, field_id: str) -> bool:
        row = screen.query_one(f"#row-{field_id}", FieldRow)
        shown = row.query_one(".label", Note).text
        assert row.has_class("-required") == shown.endswith(" *"), shown
        return row.has_class("-required")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_defects")
            assert "photo_defects" not in (screen.ev.missing if screen.ev else [])
            assert not marked(screen, "photo_defects")
            assert marked(screen, "photo_facade_main")  # required: true, marked as before
            screen.record("structural_cracks", "visible")  # the mark follows at once
            await pilot.pause()
            assert marked(screen, "photo_defects")
            screen.record("structural_cracks", "none")
            await pilot.pause()
            assert not marked(screen, "photo_defects")
            await screen.goto_field("structural_cracks")
            await settle(app, pilot)
            await pilot.press("4")  # 严重: a defect, answered by hand in its own section
            await screen.goto_field("photo_defects")
            await settle(app, pilot)
            assert marked(screen, "photo_defects")
            await pilot.press("escape")
            await settle(app, pilot)

    run(body)


def test_completion_refused_then_allowed(sample_db: Path, make_app: AppFactory) -> None:
    done = first_with_status(sample_db, "complete")
    store = open_store(sample_db)
    try:  # reopen a finished record and clear one required answer
        set_status(store, FORM, done.id, "draft", author="测试员")
        save_answers(store, FORM, done.id, {"survey_date": None}, author="测试员", draft=True)
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, done.id)
            await screen.goto_field("floors_above")
            await pilot.press("f9")
            await settle(app, pilot)
            modal = app.screen
            assert isinstance(modal, ProblemsModal)
            assert [p.field_id for p in modal.problems] == ["survey_date"]
            await pilot.press("enter")  # jump to it
            await settle(app, pilot)
            assert app.screen is screen
            assert app.focused is screen.query_one("#survey_date")
            assert error_line(screen, "survey_date") == "unanswered"
            assert read(sample_db, done.id).status == "draft"
            await pilot.press(*date.today().isoformat(), "enter")
            await pilot.press("f9")
            await settle(app, pilot)
            assert app.screen is screen
            assert screen.status == "complete"
        saved = read(sample_db, done.id)
        assert saved.status == "complete"
        assert saved.answers["survey_date"] == date.today().isoformat()

    run(body)


def test_next_problem_after_the_last_is_fixed_says_so_and_stays(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F8 after fixing the last problem F9 listed jumped back to that field, already fixed,
    instead of saying nothing is left."""
    done = first_with_status(sample_db, "complete")
    store = open_store(sample_db)
    try:
        set_status(store, FORM, done.id, "draft", author="测试员")
        save_answers(store, FORM, done.id, {"survey_date": None}, author="测试员", draft=True)
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, done.id)
            await pilot.press("f9")
            await settle(app, pilot)
            assert [p.field_id for p in screen.problems] == ["survey_date"]
            await pilot.press("enter")  # jump to it, answer it, move on
            await settle(app, pilot)
            await pilot.press(*date.today().isoformat(), "enter")
            await settle(app, pilot)
            assert app.focused is screen.query_one("#inspector_name")
            await pilot.press("f8")
            await settle(app, pilot)
            assert app.focused is screen.query_one("#inspector_name")  # stays
            toasts = [str(n.message) for n in app._notifications]
            assert "F9 列出的问题都已处理，可按 F9 标记完成" in toasts
            await pilot.press("escape")
            await settle(app, pilot)

    run(body)


def test_a_field_jumped_to_is_shown_whole_with_its_options(
    sample_db: Path, make_app: AppFactory
) -> None:
    """A jump to 既往改造 (from another section: F8, the problem list, ctrl+g) at 80×24 left
    its last two options below the screen: it scrolled before the scrollbar came and the
    rows above, narrower, grew by two lines."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert screen.section_index != screen.section_of("prior_programmes")
            await screen.goto_field("prior_programmes")
            await settle(app, pilot)
            choice = screen.query_one("#prior_programmes", ChoiceField)
            assert app.focused is choice
            shown = screen.query_one("#fields").content_region
            row = screen.query_one("#row-prior_programmes", FieldRow).region
            assert choice.region.height > 4  # its eight options take several lines
            assert shown.contains_region(row), (shown, row)

    run(body)


def test_next_problem_key_walks_the_refusals(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await pilot.press("f8")  # before F9 there is no list to walk: said so
            await settle(app, pilot)
            assert any("Press F9 first" in str(n.message) for n in app._notifications)
            await pilot.press("f9")
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemsModal)
            problems = [p.field_id for p in app.screen.problems]
            assert problems[:3] == ["survey_date", "inspector_name", "info_sources"]
            await pilot.press("escape")
            await pilot.press("f8")
            await settle(app, pilot)
            first = app.focused.id if app.focused else None
            await pilot.press("f8")
            await settle(app, pilot)
            second = app.focused.id if app.focused else None
            assert [first, second] == problems[1:3] or [first, second] == problems[:2]
            assert read(sample_db, target.id).status == "not_started"
            assert screen.status == "not_started"

    run(body)


def test_next_problem_in_another_section_moves_there_from_a_field(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F8 from a field whose section holds no further problem opens the next one's section.
    It froze the app for good: the key's action waited for the field's own removal."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await pilot.press("f9")
            await settle(app, pilot)
            problems = [p.field_id for p in app.screen.problems]
            await pilot.press("escape")
            here = screen.section_index
            last_here = [f for f in problems if screen.section_of(f) == here][-1]
            following = problems[problems.index(last_here) + 1]
            assert screen.section_of(following) != here
            await screen.goto_field(last_here)
            await settle(app, pilot)
            await asyncio.wait_for(pilot.press("f8"), 10)
            await asyncio.wait_for(settle(app, pilot), 10)
            assert screen.section_index == screen.section_of(following)
            assert app.focused is not None and app.focused.id == following
            await asyncio.wait_for(pilot.press("f1"), 10)  # the app still answers
            await settle(app, pilot)
            assert not isinstance(app.screen, SurveyScreen)

    run(body)


def test_a_scanned_label_opens_its_building(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "complete")

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.focused is app.screen.query_one("#search")
            await pilot.press(*building_uri(target.code), "enter")  # a keyboard-wedge scanner
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id
            assert len(app.survey_screens()) == 1
            await pilot.press("escape")
            await settle(app, pilot)
            # A code typed by hand, lower case and without dashes, opens it on Enter.
            await pilot.press(*target.code.lower().replace("-", ""), "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == target.id

    run(body)


def test_a_label_scanned_while_a_building_is_open_opens_the_scanned_one_and_types_nothing(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The URI used to be typed into the focused field (and a choice field's digits picked
    options); a scanner's keys all arrive queued, so they are sent as a burst."""
    first = first_with_status(sample_db, "draft")
    scanned = first_with_status(sample_db, "complete")
    before = read(sample_db, first.id).answers

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, first.id)
            for field_id in ("inspector_name", "info_sources"):
                await screen.goto_field(field_id)
                await settle(app, pilot)
                burst(app, [*building_uri(first.code), "enter"])  # the open one: stays
                await settle(app, pilot)
                assert app.screen is screen
            burst(app, [*building_uri(scanned.code).lower(), "enter"])  # caps lock on
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.id == scanned.id
            assert len(app.survey_screens()) == 1
            # Keys that only start like a label are typed, in order, by hand or in a burst.
            await app.screen.goto_field("inspector_name")
            await settle(app, pilot)
            burst(app, ["end", "ctrl+u", "U", "R", "N", "a", "tab"])
            await settle(app, pilot)
            await app.screen.goto_field("community")
            await settle(app, pilot)
            await pilot.press("end", "ctrl+u", "U")
            await pilot.pause(0.3)  # a lone U is held while it might start a scan, then typed
            await settle(app, pilot)
            assert app.screen.query_one("#community", Input).value == "U"
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, first.id).answers == before
        answers = read(sample_db, scanned.id).answers
        assert answers["inspector_name"] == "URNa"
        assert answers["community"] == "U"

    run(body)


def test_keys_typed_right_after_esc_go_to_the_list_not_the_building_left(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Esc ran only once it had bubbled up to the app, after the field had taken the keys
    typed behind it."""
    target = first_with_status(sample_db, "draft")
    before = read(sample_db, target.id).answers

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await open_at(app, pilot, target.id, "inspector_name")
            burst(app, ["escape", "z", "z", "q"])
            await settle(app, pilot)
            assert isinstance(app.screen, BuildingsScreen)
            assert app.screen.query_one("#search", Input).value == "zzq"
        assert read(sample_db, target.id).answers == before

    run(body)


def test_language_switch_and_it_is_remembered(
    sample_db: Path, make_app: AppFactory, isolated_config: Path
) -> None:
    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            table = app.screen.query_one("#buildings", DataTable)
            assert str(table.ordered_columns[0].label) == "编号"
            await pilot.press("f2")
            await settle(app, pilot)
            table = app.screen.query_one("#buildings", DataTable)
            assert str(table.ordered_columns[0].label) == "Code"
            assert app.screen.query_one("#search", Input).placeholder.startswith("Search")
        settings = tomllib.loads(app.settings_path.read_text(encoding="utf-8"))
        assert settings["language"] == "en"

    run(body)


def test_ctrl_c_quits_without_losing_the_last_answer(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, autosave_delay=10.0)  # the timer will not fire first
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await pilot.click("#inspector_name")
            await pilot.press(*"赵六")
            assert screen.indicator.state == "pending"
            await pilot.press("ctrl+c")
            await pilot.pause()
        assert app.return_code == 0 or app.return_code is None
        assert read(sample_db, target.id).answers["inspector_name"] == "赵六"

    run(body)


def test_user_text_is_never_markup(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")
    store = open_store(sample_db)
    try:
        save_answers(
            store,
            FORM,
            target.id,
            {"compound_name": "[bold red]红[/] \x1b[31m楼", "building_no": "[link]"},
            author="测试员",
            draft=True,
        )
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press(*"bold")
            await pilot.pause(0.3)
            await settle(app, pilot)
            table = app.screen.query_one("#buildings", DataTable)
            cell = table.get_cell(str(target.id), "compound")
            assert "[bold red]红[/]" in cell.plain
            assert "\x1b" not in cell.plain
            assert table.get_cell(str(target.id), "building_no").plain == "[link]"
            app.open_building(target.id, "compound_name")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SurveyScreen)
            shown = screen.query_one("#compound_name", Input).value
            assert shown == "[bold red]红[/] [31m楼"  # the text as typed, without the ESC
            assert "[bold red]" in screen.sub_title

    run(body)


def test_add_a_building_found_on_site(sample_db: Path, make_app: AppFactory) -> None:
    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            before = app.screen.total
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            modal = app.screen
            modal.query_one("#new-subdistrict").value = "wanxing"
            for fid, value in {
                "community": "宜宾里社区",
                "compound_name": "宜宾东里",
                "building_no": "９号楼",
                "address": "南开区宜宾道99号",
            }.items():
                modal.query_one(f"#new-{fid}", Input).value = value
            await pilot.click("#new-create")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            code = app.screen.building.code
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen.total == before + 1
        saved = read(sample_db, code)
        assert saved.answers["compound_name"] == "宜宾东里"
        assert saved.answers["building_no"] == "9号楼"  # NFKC
        assert saved.status == "not_started"

    run(body)


def test_enter_in_the_new_building_dialogs_last_field_creates_it(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Typed field by field with Enter: the Enter after the address used to move to Cancel,
    and a second Enter threw the five answers away."""

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            app.screen.query_one("#new-subdistrict").value = "wanxing"
            app.screen.query_one("#new-community", Input).focus()
            for text in ("宜宾里社区", "宜宾东里", "12号楼", "南开区宜宾道120号"):
                await pilot.press(*text, "enter")
            await pilot.press("enter")  # a second Enter, as the inspector did
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.answers["address"] == "南开区宜宾道120号"

    run(body)


def test_enter_on_the_chosen_subdistrict_moves_on_to_the_next_field(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Enter opens the 街道 drop-down and Enter picks; the next Enter opened it again instead
    of moving on, as Enter does in every other field of the dialog."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            dialog = app.screen
            subdistrict = dialog.query_one("#new-subdistrict", Select)
            assert app.focused is subdistrict
            await pilot.press("enter")  # empty: Enter opens the list
            await pilot.pause()
            assert subdistrict.expanded
            await pilot.press("down", "enter")  # picks the first 街道
            await pilot.pause()
            assert not subdistrict.expanded and app.focused is subdistrict
            picked = subdistrict.value
            assert isinstance(picked, str)
            await pilot.press("enter")
            await pilot.pause()
            assert not subdistrict.expanded  # it reopened
            assert app.focused is dialog.query_one("#new-community", Input)
            await pilot.press(*"宜宾里社区", "enter")
            assert app.focused is dialog.query_one("#new-compound_name", Input)
            assert subdistrict.value == picked
            app.set_focus(subdistrict)
            await pilot.press("down")  # changing it: the arrows still open the list
            await pilot.pause()
            assert subdistrict.expanded

    run(body)


def test_user_keymap_remaps_a_binding(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, keymap={"survey.complete": "f10"})
        async with app.run_test(size=(100, 30)) as pilot:
            await open_survey(app, pilot, target.id)
            await pilot.press("f9")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)  # f9 does nothing any more
            await pilot.press("f10")
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemsModal)

    run(body)


def test_the_list_fetches_the_next_window_near_the_end(
    sample_db: Path, make_app: AppFactory, monkeypatch: Any
) -> None:
    from surveyor.tui.screens import buildings

    monkeypatch.setattr(buildings, "WINDOW", 15)

    async def body() -> None:
        app = make_app(sample_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, BuildingsScreen)
            table = screen.query_one("#buildings", DataTable)
            assert table.row_count == 15 and screen.total == 40
            table.focus()
            table.move_cursor(row=14)
            await settle(app, pilot)
            assert table.row_count == 30
            table.move_cursor(row=29)
            await settle(app, pilot)
            assert table.row_count == 40
            keys = [row.value for row in table.rows]
            assert len(set(keys)) == 40  # in order, no duplicates

    run(body)


def test_choices_by_key_by_filter_and_multiple(sample_db: Path, make_app: AppFactory) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("subdistrict")
            choice = screen.query_one("#subdistrict", ChoiceField)
            await pilot.press("/", *"万兴", "enter")  # filter the 12 options by label
            assert choice.value == "wanxing"
            await pilot.press("a")  # the tenth option's key
            assert choice.value == "shuishanggongyuan"
            await pilot.press("a")  # picked again it stays picked (it used to clear the answer)
            assert choice.value == "shuishanggongyuan"
            await pilot.press("/", *"万", "backspace")  # Backspace edits the filter…
            assert choice.filtering and choice.value == "shuishanggongyuan"
            await pilot.press("escape", "delete")  # …and outside one clears the answer
            assert choice.value is None
            await pilot.press("a")
            await screen.goto_field("info_sources")
            multi = screen.query_one("#info_sources", ChoiceField)
            await pilot.press("1", "2", "3", "2")  # toggle on, on, on, off
            assert multi.value == ["site", "committee"]
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id)
        assert saved.answers["subdistrict"] == "shuishanggongyuan"
        assert saved.answers["info_sources"] == ["site", "committee"]

    run(body)


def test_text_typed_into_a_choice_that_matches_no_option_is_said_not_dropped(
    sample_db: Path, make_app: AppFactory
) -> None:
    """居民改造意愿 answered 2 put 居民最关心问题 (a choice list) before the remarks box: the
    remarks typed after Enter went into its option filter, matched nothing and were dropped
    without a word. 供暖方式 = 1 then a number typed on 户内温控阀: its 8 did nothing, unseen."""
    target = first_with_status(sample_db, "not_started")
    remark = "顶层漏水严重"

    def toasts(app: Any) -> list[str]:
        return [str(n.message) for n in app._notifications]

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("resident_willingness")
            await pilot.press("2")  # 一般: 居民最关心问题 appears next
            burst(app, ["enter", *remark])
            await settle(app, pilot)
            choice = screen.query_one("#resident_priorities", ChoiceField)
            assert app.focused is choice
            assert "无匹配选项" in choice.render().plain  # the text stays, said unmatched
            assert f"筛选：{remark}_" in choice.render().plain
            assert any(m.startswith("居民最关心问题是选择题") for m in toasts(app))
            await pilot.press("enter")  # nothing to pick: the text is kept
            assert choice.filtering and choice.filter_text == remark
            await pilot.press("tab")  # leaving with it says it was not recorded, quoted
            assert any(f"「{remark}」没有匹配的选项，未记录" in m for m in toasts(app))
            assert not choice.filtering and choice.value is None

            await screen.goto_field("heating_source")
            await pilot.press("1")  # 集中供热: 户内温控阀 appears
            await screen.goto_field("trv")
            trv = screen.query_one("#trv", ChoiceField)
            await pilot.press("1", "8")  # 1 picks 无 (seen); 8 is no option's key
            assert trv.value == "none"
            assert trv.filtering and trv.filter_text == "8"
            assert "无匹配选项" in trv.render().plain
            assert any(m.startswith("户内温控阀是选择题") for m in toasts(app))
            await pilot.press("escape")  # Esc clears the filter, says nothing more
            assert not trv.filtering
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id).answers
        assert saved["trv"] == "none" and "resident_priorities" not in saved

    run(body)


def test_remarks_are_multi_line_and_come_back_from_the_database(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("inspector_remarks")
            area = screen.query_one("#inspector_remarks", TextArea)
            assert app.focused is area
            await pilot.press(*"北侧外墙渗水")
            area.insert("，约５０㎡")  # an IME commits its text at once, not as key presses
            await pilot.press("enter")  # Enter starts a new line here
            assert app.focused is area
            await pilot.press(*"[b]Ａ２[/b] east")  # full-width from an IME, markup-like text
            assert area.text == "北侧外墙渗水，约５０㎡\n[b]Ａ２[/b] east"
            await pilot.press("ctrl+down")  # moves on
            assert app.focused is screen.query_one("#follow_up")
            # shown as stored: full-width digits and letters as ASCII, Chinese punctuation kept
            assert area.text == "北侧外墙渗水，约50㎡\n[b]A2[/b] east"
            await pilot.press("shift+tab")
            assert app.focused is area
            await pilot.press("tab")  # Tab moves on too
            assert app.focused is screen.query_one("#follow_up")
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["inspector_remarks"] == (
            "北侧外墙渗水，约50㎡\n[b]A2[/b] east"
        )

        app = make_app(sample_db, lang="en")  # a new session: both lines from the database
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("inspector_remarks")
            area = screen.query_one("#inspector_remarks", TextArea)
            assert area.text == "北侧外墙渗水，约50㎡\n[b]A2[/b] east"
            assert area.document.line_count == 2
            shown = "".join(segment.text for segment in area.render_line(1))
            assert "[b]A2[/b] east" in shown  # as typed, never markup

    run(body)


def test_an_invalid_multiple_choice_stays_a_list_across_sessions(
    sample_db: Path, make_app: AppFactory
) -> None:
    """ "None" ticked with other options was saved as the text of a Python list: the boxes
    came back unticked, the message named the wrong option and the next key crashed."""
    target = first_with_status(sample_db, "not_started")
    ticked = ["old_building_upgrade", "elevator_added", "none"]

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("prior_programmes")
            # Left backwards: Tab past the section's last field opens the next one, as Enter.
            await pilot.press("2", "6", "7", "shift+tab")
            await settle(app, pilot)
            assert "cannot be combined" in (error_text(screen, "prior_programmes") or "")
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["prior_programmes"] == ticked

        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("prior_programmes")
            multi = screen.query_one("#prior_programmes", ChoiceField)
            assert multi.value == ticked
            assert "cannot be combined" in (error_text(screen, "prior_programmes") or "")
            await pilot.press("7")  # untick "none": valid again
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id)
        assert saved.answers["prior_programmes"] == ["old_building_upgrade", "elevator_added"]
        assert "prior_programmes" not in saved.errors

    run(body)


def burst(app: Any, keys: list[str]) -> None:
    """Send keys as a fast typist or a scanner does: all queued before any is handled."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


def test_typing_in_a_field_arrived_at_replaces_its_answer(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Correcting an answer appended to it: 地上层数 6 then "5" saved 65, an address typed
    again followed the old one; whatever still passed the checks was saved unnoticed. An
    arrow key keeps the answer for editing."""
    target = first_with_status(sample_db, "complete")
    before = read(sample_db, target.id).answers
    assert before["floors_above"] and before["floors_below"] is not None

    async def body() -> None:
        app = make_app(sample_db, lang="en", autosave_delay=0.2)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "floors_above")
            await pilot.press("7")
            burst(app, ["enter", "2"])  # typed on at once: the next field's answer replaced too
            await settle(app, pilot)
            assert screen.query_one("#floors_above", Input).value == "7"
            assert screen.query_one("#floors_below", Input).value == "2"
            await screen.goto_field("address")
            await settle(app, pilot)
            await pilot.press("end", *"甲")
            await settle(app, pilot)
            assert screen.query_one("#address", Input).value == f"{before['address']}甲"
            await pilot.press("escape")
            await settle(app, pilot)

    run(body)
    after = read(sample_db, target.id).answers
    assert (after["floors_above"], after["floors_below"]) == (7, 2)
    assert after["address"] == f"{before['address']}甲"


def test_the_first_answer_dates_the_survey_and_names_the_inspector(
    sample_db: Path, make_app: AppFactory
) -> None:
    """调查日期 and 调查人 were typed on every building of a day; the first answer now fills
    them (the form's defaults), shown at once, and what the inspector typed stays."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh", autosave_delay=0.2)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("info_sources")  # beside the two, in the first section
            await settle(app, pilot)
            await pilot.press("1")
            await pilot.pause(0.5)
            await settle(app, pilot)
            assert screen.indicator.state == "saved"
            assert screen.answers["survey_date"] == date.today().isoformat()
            assert screen.query_one("#survey_date", Input).value == date.today().isoformat()
            assert screen.query_one("#inspector_name", Input).value == app.author
            await pilot.press("escape")
            await settle(app, pilot)

    run(body)
    answers = read(sample_db, target.id).answers
    assert answers["info_sources"] and answers["inspector_name"]


def test_a_default_saved_while_its_field_has_the_cursor_is_shown_there(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The date typed and Enter: the first save filled 调查人 with the inspector's name while
    the cursor stood in it, but the screen left it out of its answers: 调查人 empty with
    「未填写」 after F9, the section 2/3 !1, the completeness lower than the database's, while
    ``surveyor show`` had the name. The default is shown in the field, selected, and the
    screen's answers are the database's."""
    target = first_with_status(sample_db, "not_started")
    today = date.today().isoformat()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            name = screen.query_one("#inspector_name", Input)
            assert app.focused is screen.query_one("#survey_date")
            await pilot.press(*today, "enter")
            assert app.focused is name
            await until(app, lambda: screen.status == "draft", "the first save")
            assert screen.answers["inspector_name"] == app.author
            assert name.value == app.author
            assert name.selected_text == app.author  # as arriving in a field selects it
            await pilot.press("enter", "1", "enter", "f9")
            await until(app, lambda: isinstance(app.screen, ProblemsModal), "the problem list")
            modal = app.screen
            assert isinstance(modal, ProblemsModal)
            assert "inspector_name" not in [p.field_id for p in modal.problems]
            record = screen.query_one("#nav", SectionNav).items[0]  # read 调查记录 2/3 !1
            assert (record.answered, record.required, record.errors) == (3, 3, 0)
            saved = read(sample_db, target.id)
            assert screen.answers == saved.answers
            assert screen.ev is not None
            assert round(screen.ev.completeness, 4) == saved.completeness  # 9% vs 11%

    run(body)


def test_ctrl_f_selects_the_old_search_so_a_new_one_replaces_it(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Already in the box, ctrl+f left the old query: 和水西里4号楼丰苑东里3号楼 found 0."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            search = app.screen.query_one("#search", Input)
            await pilot.press(*"和水")
            await settle(app, pilot)
            await pilot.press("ctrl+f", *"宜宾")
            await settle(app, pilot)
            assert search.value == "宜宾"
            await pilot.press("down")  # into the list, then back: the query is selected again
            await settle(app, pilot)
            await pilot.press("ctrl+f", *"春华")
            await settle(app, pilot)
            assert search.value == "春华"

    run(body)


def test_keys_typed_in_a_burst_land_in_the_field_they_were_typed_for(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Keys queued behind Tab or Enter went to the field being left: "0", Tab, "3" gave
    "03"; a Backspace or a second Enter was lost or edited the wrong field."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "floors_above")
            burst(app, ["6", "tab", "0", "tab", "3", "enter", "3", "7", "backspace", "6"])
            burst(app, ["enter", "enter", "1", "shift+tab", "shift+tab", "backspace", "5"])
            await settle(app, pilot)
            assert app.focused is screen.query_one("#household_count")
            await pilot.press("escape")
            await settle(app, pilot)
        answers = read(sample_db, target.id).answers
        assert answers["floors_above"] == 6
        assert answers["floors_below"] == 0
        assert answers["entrance_count"] == 3
        # Back in it, 36 is selected on arrival: Backspace clears it, 5 is the answer.
        assert answers["household_count"] == 5
        assert "gross_floor_area" not in answers  # Enter skipped it
        assert answers["non_self_contained_units"] == 1

    run(body)


def test_keys_typed_right_after_a_dialog_opens_go_to_the_dialog(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Ctrl+G then "2" at once: the 2 picked option 2 of the choice behind the palette and
    saved it, unseen; Ctrl+G then 楼道 filtered that choice and left the palette empty."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "heating_source")
            burst(app, ["ctrl+g", "2"])
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)
            assert app.screen.query_one(Input).value == "2"
            await pilot.press("escape")
            await settle(app, pilot)
            choice = screen.query_one("#heating_source", ChoiceField)
            assert choice.value is None and not choice.filtering
            await pilot.press("3")  # the palette closed: keys are the choice's again
            await settle(app, pilot)
            assert choice.value == choice.options[2].code
            await pilot.press("escape")
            await settle(app, pilot)
        assert "heating_source" in read(sample_db, target.id).answers

    run(body)


def test_an_edit_synced_in_underneath_becomes_a_conflict_not_an_overwrite(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen shows a field empty; a sync brings a colleague's answer into the database
    meanwhile; the inspector types another one. Saved with the head the screen loaded as its
    parent, the two are concurrent: a conflict for the supervisor, never a silent overwrite."""
    import sqlalchemy as sa

    from surveyor.store import models
    from surveyor.store.log import changes_for

    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        # The screen must not have noticed the sync (no live refresh), and 王五 is one save.
        monkeypatch.setattr(survey_screen, "LIVE_POLL_SECONDS", 3600.0)
        app = make_app(sample_db, lang="en", autosave_delay=1.0)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            assert "inspector_name" not in screen.answers
            store = open_store(sample_db)  # as `surveyor sync` (or `set` elsewhere) would
            try:
                theirs = save_answers(
                    store, FORM, target.id, {"inspector_name": "督导"}, author="督导"
                )
            finally:
                store.close()
            await pilot.click("#inspector_name")
            await pilot.press(*"王五")
            await until(app, lambda: screen.indicator.state == "saved", "saved")
            shown = screen.query_one("#inspector_name", Input).value
            assert shown == "王五"
            assert any("changed by someone else" in n.message for n in app._notifications)
            note = screen.query_one("#row-inspector_name", FieldRow).conflict_text
            assert note.startswith("In conflict, a supervisor decides: ")
            assert "督导 (督导, " in note and "王五 (" in note  # both values, who and when

        store = open_store(sample_db)
        try:
            with store.engine.connect() as conn:
                log = [c for c in changes_for(conn, target.id) if "inspector_name" in c.fields]
                table = models.CONFLICT_TABLE
                rows = conn.execute(
                    sa.select(table.c.field_key, table.c.head_change_ids).where(
                        table.c.entity_id == target.id, table.c.status == "open"
                    )
                ).all()
        finally:
            store.close()
        assert [c.fields["inspector_name"] for c in log] == ["督导", "王五"]
        assert "inspector_name" not in log[1].parents  # it saw the field unanswered
        assert [(r.field_key, sorted(r.head_change_ids)) for r in rows] == [
            ("inspector_name", sorted([str(theirs.change_id), str(log[1].change_id)]))
        ]
        state = read(sample_db, target.id)
        assert state.conflict_count == 1
        assert state.answers["inspector_name"] == "王五"  # provisional until resolved

    run(body)


def test_an_open_conflict_stands_under_its_field_with_every_value(
    sample_db: Path, make_app: AppFactory
) -> None:
    """A sync left two inspectors' years on this building. Opening it says so under the
    field (both values, who, when), not only as a count in the list; the inspector's own new
    value then joins the note, which stays until a supervisor decides."""
    target = first_with_status(sample_db, "not_started")
    store = open_store(sample_db)
    try:
        save_answers(store, FORM, target.id, {"year_built": 1985}, author="李明")
        save_answers(
            store, FORM, target.id, {"year_built": 1990}, author="赵强", seen={"year_built": None}
        )
    finally:
        store.close()
    assert read(sample_db, target.id).conflict_count == 1

    async def body() -> None:
        app = make_app(sample_db, lang="zh", autosave_delay=0.2)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            said = [n.message for n in app._notifications]
            assert f"待主管裁定的冲突：{FORM.field('year_built').defn.label.zh}（" in said[-1]
            await screen.goto_field("year_built")
            await settle(app, pilot)
            row = screen.query_one("#row-year_built", FieldRow)
            assert row.has_class("-conflicted")
            nav = screen.query_one("#nav", SectionNav)
            marked = [i.section_id for i in nav.items if i.conflicts]
            assert marked == [FORM.field("year_built").section_id]
            assert " ?1" in nav.render().plain
            note = row.conflict_text
            assert note.startswith("冲突，待主管裁定：")
            assert "1985 年（李明，" in note and "1990 年（赵强，" in note
            other = screen.query_one("#row-year_built_basis", FieldRow)
            assert other.conflict_text == "" and not other.has_class("-conflicted")
            field = screen.query_one("#year_built", Input)
            field.value = ""
            await pilot.press(*"1988")
            await pilot.pause(0.5)
            await settle(app, pilot)
            assert screen.indicator.state == "saved"
            await settle(app, pilot)
            # The field showed 赵强's 1990 (the provisional value): the new value replaces it,
            # and stands against 李明's 1985 until a supervisor decides.
            note = row.conflict_text
            assert "1985 年（李明，" in note and f"1988 年（{app.author}，" in note
            assert "1990" not in note and row.has_class("-conflicted")
            await pilot.press("f2")  # English: the note follows, not only the labels
            await settle(app, pilot)
            row = screen.query_one("#row-year_built", FieldRow)
            english = row.conflict_text
            assert english.startswith("In conflict, a supervisor decides: 1985 (李明, ")

    run(body)


def test_steady_typing_is_saved_within_the_maximum_wait(
    sample_db: Path, make_app: AppFactory
) -> None:
    """The debounce restarts on every key; a key every 0.35 s must not hold the answer back
    until the typing stops (a crash or ``kill -9`` then loses all of it)."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, autosave_delay=0.8)
        async with app.run_test(size=(100, 30)) as pilot:
            await open_survey(app, pilot, target.id)
            await pilot.click("#inspector_name")
            saved_while_typing = None
            for key in "abcdefghij":  # 10 keys, 0.35 s apart: about 3.5 s of typing
                await pilot.press(key)
                await pilot.pause(0.35)
                saved = read(sample_db, target.id).answers.get("inspector_name")
                if saved and saved_while_typing is None:
                    saved_while_typing = saved
            assert saved_while_typing is not None, "nothing saved while typing went on"
            assert "abcdefghij".startswith(saved_while_typing)

    run(body)


def test_a_key_typed_after_the_longest_wait_is_saved(sample_db: Path, make_app: AppFactory) -> None:
    """A key that reached the screen once the longest wait had passed (a busy laptop: the
    event loop late with the timer) set a 0 s autosave timer, which crashes Textual's timer
    (it divides by its interval): the answer was not saved while typing went on, and the
    test run ended in a ZeroDivisionError."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, autosave_delay=0.8)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "inspector_name")
            await pilot.press("a")
            screen._pending_since = time.monotonic() - 10  # typed 10 s ago, still unsaved
            await pilot.press("b")

            def saved() -> bool:
                return read(sample_db, target.id).answers.get("inspector_name") == "ab"

            await until(app, saved, "the autosave", timeout=5)

    run(body)


def test_back_on_the_list_the_cursor_is_on_the_building_it_was_on(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Back from a survey, the palette or a dialog, the list was read again from its top and
    the cursor went to row 1: an inspector working down the list started over after every
    building, and the export dialog offered the first row's building for a label."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            listing = app.screen
            assert isinstance(listing, BuildingsScreen)
            table = listing.query_one("#buildings", DataTable)
            table.focus()
            for steps in (3, 75):  # within the first window, and past it (rows read later)
                await pilot.press(*["down"] * steps)
                await settle(app, pilot)
                code = listing.highlighted_code()
                await pilot.press("enter")  # open it
                await settle(app, pilot)
                assert isinstance(app.screen, SurveyScreen)
                assert app.screen.building.code == code
                await pilot.press("escape")
                await settle(app, pilot)
                assert app.screen is listing
                assert listing.highlighted_code() == code, steps
                await pilot.press("ctrl+p")
                await settle(app, pilot)
                await pilot.press("escape")
                await settle(app, pilot)
                assert listing.highlighted_code() == code, steps

    run(body)


def test_back_from_help_the_list_is_not_read_again(sample_db: Path, make_app: AppFactory) -> None:
    """Every F1 (or palette) read every loaded row again and rebuilt the table; only a screen
    that may change a building (a survey) makes the list read again."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            listing = app.screen
            assert isinstance(listing, BuildingsScreen)
            reads: list[int] = []
            show = listing._show
            listing._show = lambda page, offset, keep=None: (  # type: ignore[method-assign]
                reads.append(offset),
                show(page, offset, keep),
            )
            for key in ("f1", "ctrl+p"):
                await pilot.press(key)
                await settle(app, pilot)
                await pilot.press("escape")
                await settle(app, pilot)
                assert reads == [], key
            listing.query_one("#buildings", DataTable).focus()
            await pilot.press("enter")  # a survey
            await settle(app, pilot)
            await pilot.press("escape")
            await settle(app, pilot)
            assert reads == [0]

    run(body)


def test_the_app_and_the_cli_record_the_laptops_inspector_over_the_settings_name(
    sample_db: Path, make_app: AppFactory, isolated_config: Path
) -> None:
    """赵强's laptop used with a settings file naming 王芳: the app recorded 王芳 on every
    edit (kept for good, counted in progress by inspector) while the CLI and sync went by
    the laptop's 赵强. One rule for both: the database's inspector first."""
    import contextlib
    import sqlite3

    from surveyor.cli.options import author_name
    from surveyor.store.log import changes_for

    with contextlib.closing(sqlite3.connect(sample_db)) as conn, conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('inspector', '赵强')")
    isolated_config.parent.mkdir(parents=True, exist_ok=True)
    isolated_config.write_text('inspector = "王芳"\n', encoding="utf-8")
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh", inspector="王芳")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("year_built")
            screen.query_one("#year_built", Input).value = ""
            await pilot.press(*"1984", "enter")
            await until(app, lambda: screen.indicator.state == "saved", "the save")

    run(body)
    store = open_store(sample_db)
    try:
        with store.engine.connect() as conn:
            last = changes_for(conn, target.id)[-1]
        assert (last.fields.get("year_built"), last.author) == (1984, "赵强")
        assert author_name(None, store) == "赵强"
    finally:
        store.close()
