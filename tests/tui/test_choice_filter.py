"""A choice list's filter at 80×24: the list comes back whole when the filter ends, and the
filter's line is never cut at the screen's edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets._toast import Toast

from surveyor.i18n import t
from surveyor.text import NO_LINE_START
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.choice import ChoiceField
from surveyor.tui.widgets.field_row import FieldRow
from tests.tui.conftest import AppFactory, run, settle, toasts
from tests.tui.test_flows import FORM, burst, first_with_status, open_at
from tests.tui.test_line_breaking import drawn_lines


def screen_lines(screen: SurveyScreen) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text for strip in screen._compositor.render_strips()]


@pytest.mark.parametrize(
    ("field_id", "typed", "picked", "next_id"),
    [
        ("year_built_basis", "39", "(*)3 居民告知", "era_bin"),
        # Coordinates typed into the wrong field: "3" saved 文物保护单位, the rest a filter.
        ("heritage_status", "39.5,117.2", "(*)3 文物保护单位", None),
    ],
)
def test_a_choice_list_comes_back_whole_after_a_filter_typed_in_one_burst(
    sample_db: Path,
    make_app: AppFactory,
    field_id: str,
    typed: str,
    picked: str,
    next_id: str | None,
) -> None:
    """ "39" typed at once on 年份依据: 3 picked 居民告知, 9 started a filter matching nothing;
    after Esc the list stayed one line tall ("( )1 档案  ( )2 楼牌"), 建造年代 moved up and the
    answer just picked could not be seen until the section was opened again. Typed slowly it
    came back whole. Same on 保护状态 (coordinates typed there by mistake)."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, field_id)
            choice = screen.query_one(f"#{field_id}", ChoiceField)
            assert app.focused is choice
            whole = choice.region.height
            assert whole >= 2  # the options take two lines at 80 columns

            burst(app, list(typed))  # as an input method or a quick typist sends it
            await settle(app, pilot)
            assert choice.filtering and choice.filter_text == typed[1:]
            assert f"筛选：{typed[1:]}_" in "\n".join(screen_lines(screen))

            await pilot.press("escape")
            await settle(app, pilot)
            assert not choice.filtering and choice.value is not None
            assert choice.region.height == whole == len(choice._grid(choice.content_size.width))
            shown = "\n".join(screen_lines(screen))
            assert picked in shown, shown
            if next_id is not None:  # the next row starts below the whole list
                below = screen.query_one(f"#row-{next_id}", FieldRow).region
                assert below.y >= choice.region.bottom

    run(body)


@pytest.mark.parametrize(
    ("lang", "typed", "said"),
    [
        ("zh", "39.5,117.2", ["筛选：9.5,117.2_", "无匹配选项（Esc 清除）"]),
        ("en", "39.5,117.2", ["Filter: 9.5,117.2_", "no option matches (Esc clears)"]),
        # Remarks typed into a choice by mistake: longer than a line, wrapped, not cut.
        ("zh", "3顶层漏水严重楼道墙皮脱落雨天地下室进水", ["顶层漏水严重", "地下室进水_"]),
    ],
)
def test_the_filter_line_is_whole_at_80_columns(
    sample_db: Path, make_app: AppFactory, lang: str, typed: str, said: list[str]
) -> None:
    """Coordinates typed on 保护状态 by mistake: the filter's line read "筛选：9.5,117.2_
    无匹配选项（Esc", the rest cut at the edge of the screen."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "heritage_status")
            choice = screen.query_one("#heritage_status", ChoiceField)
            burst(app, list(typed))
            await settle(app, pilot)
            assert choice.unmatched
            inside = choice.content_region
            strips = screen._compositor.render_strips()[inside.y : inside.bottom]
            drawn = [strip.crop(inside.x, inside.right).text for strip in strips]
            text = "".join(line.strip() for line in drawn)
            for words in said:
                assert words.replace(" ", "") in text.replace(" ", ""), drawn
            assert choice.region.bottom <= screen.query_one("#fields").content_region.bottom

    run(body)


def test_the_no_match_toast_is_said_once_and_breaks_as_chinese_is_set(
    sample_db: Path, make_app: AppFactory
) -> None:
    """燃气供应 1 shows 燃气立管位置 (four options): "6 Enter 0 Enter 3 Enter" typed there
    left four identical toasts covering the 80×24 screen for 5 s, and each wrapped with
    「）：」 at the start of its second line."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            screen = await open_at(app, pilot, target.id, "gas_supply")
            await pilot.press("1", "enter")
            await settle(app, pilot)
            choice = screen.query_one("#gas_riser_location", ChoiceField)
            assert app.focused is choice
            await pilot.press("6", "enter", "0", "enter", "3", "enter")
            await settle(app, pilot)
            assert choice.unmatched and choice.filter_text == "603"
            said = [m for m in toasts(app) if m.startswith("燃气立管位置是选择题")]
            assert len(said) == 1, toasts(app)
            drawn = [
                line.lstrip("▌ ")
                for toast in screen.query(Toast)
                for line in drawn_lines(toast)
                if line.lstrip("▌ ")
            ]
            assert drawn and drawn[0].startswith("燃气立管位置是选择题"), drawn
            assert not [line for line in drawn if line[0] in NO_LINE_START], drawn
            # Each line fits the toast for every choice list's label: Textual never breaks it.
            width = next(iter(screen.query(Toast))).content_size.width
            for fld in FORM.fields.values():
                if fld.type in ("select_one", "select_multiple", "boolean"):
                    lines = t("survey.choice_no_match_told", label=fld.defn.label.zh).split("\n")
                    assert max(cell_len(line) for line in lines) <= width, lines

    run(body)
