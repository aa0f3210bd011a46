"""A number typed into a choice list: what was recorded is said, not only what was not."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyor.tui.widgets.choice import ChoiceField
from tests.tui.conftest import AppFactory, run, settle, toasts
from tests.tui.test_flows import burst, first_with_status, open_at, read


@pytest.mark.parametrize("at_once", [False, True], ids=["typed", "one-burst"])
@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "年份依据是选择题，记录的是「档案」；「994」没有匹配的选项，未记录"),
        (
            "en",
            'Basis of year is a choice list: it holds "Records"; "994" matches no option'
            " and was not recorded",
        ),
    ],
)
def test_a_year_typed_into_a_choice_list_says_what_was_recorded(
    sample_db: Path, make_app: AppFactory, lang: str, said: str, at_once: bool
) -> None:
    """1994 typed on 年份依据 (the inspector thought the cursor was on 建成年份): 1 picked
    档案 and was saved, and the toast said 「994」… 未记录, "not recorded", as if nothing
    had been."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "year_built_basis")
            choice = screen.query_one("#year_built_basis", ChoiceField)
            if at_once:
                burst(app, [*"1994", "tab"])
            else:
                await pilot.press(*"1994", "tab")
            await settle(app, pilot)
            assert choice.value == "archive"
            assert said in toasts(app), toasts(app)
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["year_built_basis"] == "archive"

    run(body)


@pytest.mark.parametrize("typed", ["１", "３"])
def test_a_full_width_digit_from_a_chinese_ime_picks_its_option(
    sample_db: Path, make_app: AppFactory, typed: str
) -> None:
    """With the Chinese IME on, 「１」 started a filter matching nothing (「筛选：１_ 无匹配选项」)
    where number fields take ４户: the option's key is read after NFKC, as they read it."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "year_built_basis")
            choice = screen.query_one("#year_built_basis", ChoiceField)
            await pilot.press(typed)
            await settle(app, pilot)
            assert not choice.filtering
            assert choice.value == choice.options[int(typed) - 1].code
            assert not toasts(app), toasts(app)

    run(body)
