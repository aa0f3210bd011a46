"""Enter on a choice list's filter picks the option the text names, never a guess.

A new inspector typed 跨越 + Enter on 室内系统形式 and 「垂直单管顺流（无跨越管）」 was saved,
the opposite of 「垂直单管跨越式」: Enter took the first label *containing* the text. The
widget alone, with the form's own options, in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from surveyor.i18n import language, set_language
from surveyor.tui.widgets.choice import ChoiceField, Option
from tests.tui.conftest import run, toasts
from tests.tui.test_flows import FORM


class ChoiceApp(App[None]):
    """One choice field of the form, focused, in Chinese."""

    def __init__(self, field_id: str) -> None:
        super().__init__()
        fld = FORM.field(field_id)
        self.options = [Option(c.code, c.label("zh")) for c in fld.choices]
        self.multiple = fld.type == "select_multiple"

    def compose(self) -> ComposeResult:
        yield ChoiceField(self.options, multiple=self.multiple, id="choice", label="字段")

    def on_mount(self) -> None:
        self.query_one(ChoiceField).focus()


@pytest.fixture(autouse=True)
def in_chinese() -> Any:
    was = language()
    set_language("zh")
    yield
    set_language(was)


@pytest.mark.parametrize(
    ("field_id", "typed", "picked"),
    [
        ("heating_layout", "垂直单管跨越", ["vertical_single_bypass"]),  # prefix of one
        ("heating_layout", "双管", ["vertical_double"]),  # contained in one only
        ("entrance_access", "坡道", ["ramp_poor"]),  # prefix beats 规范坡道 (listed first)
        ("entrance_access", "扶手", ["handrail"]),  # exact
    ],
)
def test_enter_picks_the_option_the_filter_names(
    field_id: str, typed: str, picked: list[str]
) -> None:
    async def body() -> None:
        app = ChoiceApp(field_id)
        async with app.run_test(size=(80, 24)) as pilot:
            choice = app.query_one(ChoiceField)
            await pilot.press("slash", *typed, "enter")
            await pilot.pause()
            value = choice.value
            assert (value if isinstance(value, list) else [value]) == picked
            assert not choice.filtering

    run(body)


def test_enter_on_text_several_options_start_with_picks_nothing() -> None:
    """垂直 starts three labels of 室内系统形式: Enter would pick the first, a guess."""

    async def body() -> None:
        app = ChoiceApp("heating_layout")
        async with app.run_test(size=(80, 24)) as pilot:
            choice = app.query_one(ChoiceField)
            await pilot.press("slash", *"垂直", "enter")
            await pilot.pause()
            assert choice.value is None and choice.filtering
            assert any("3 个选项含「垂直」" in said for said in toasts(app)), toasts(app)

    run(body)


def test_enter_on_text_several_options_contain_picks_nothing_and_says_so() -> None:
    """跨越 is in 「垂直单管顺流（无跨越管）」 and 「垂直单管跨越式」, at the start of
    neither: Enter picked the first. Now it says two match and to use the arrows; the
    filter stays, and Right then Enter picks the one moved to."""

    async def body() -> None:
        app = ChoiceApp("heating_layout")
        async with app.run_test(size=(80, 24)) as pilot:
            choice = app.query_one(ChoiceField)
            await pilot.press("slash", *"跨越", "enter")
            await pilot.pause()
            assert choice.value is None
            assert choice.filtering and choice.filter_text == "跨越"
            assert any("2 个选项含「跨越」" in said for said in toasts(app)), toasts(app)
            await pilot.press("right", "right", "enter")
            await pilot.pause()
            assert choice.value == "vertical_single_bypass"
            assert not choice.filtering

    run(body)
