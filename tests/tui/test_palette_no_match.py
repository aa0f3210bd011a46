"""The palette says "nothing matches" in the interface language, and names a field that
exists but is hidden by the current answers (Textual's own said "No matches found")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from surveyor.tui.screens.survey import SurveyScreen
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import first_with_status, open_survey
from tests.tui.test_photos_and_services import a_walk_up


async def said_for(app: Any, pilot: Any, key: str, query: str, awaited: str) -> str:
    """What the palette opened with ``key`` shows for ``query`` once ``awaited`` is on it (or
    10 s have passed: a loaded machine can take longer than Textual's 0.5 s countdown), its
    lines joined by a space."""
    await pilot.press(key)
    await settle(app, pilot)
    palette = app.screen
    assert isinstance(palette, CommandPalette)
    palette.query_one(Input).value = query
    shown = ""
    for _ in range(50):
        await pilot.pause(0.2)
        await settle(app, pilot)
        lines = [strip.text.strip() for strip in palette._compositor.render_strips()]
        shown = " ".join(line for line in lines if line)  # a long note wraps
        if awaited in shown:
            break
    await pilot.press("escape")
    await settle(app, pilot)
    return shown


def test_the_palette_says_nothing_matches_in_chinese(sample_db: Path, make_app: AppFactory) -> None:
    """ctrl+p with 乱七八糟xyz, ctrl+g with 室温 (抽测室温 is hidden until 供暖方式 is
    answered): both said "No matches found", in English, in the Chinese app."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            shown = await said_for(app, pilot, "ctrl+p", "乱七八糟xyz", "没有匹配")
            assert "没有匹配的命令、楼栋或字段" in shown and "No matches" not in shown

            screen = await open_survey(app, pilot, target.id)
            assert not screen.is_shown("indoor_temp_sample")
            shown = await said_for(app, pilot, "ctrl+g", "室温", "已隐藏")
            assert "No matches" not in shown
            assert "没有可跳到的字段。" in shown and "抽测室温" in shown, shown
            assert "：按目前的回答不适用，已隐藏" in shown, shown
            shown = await said_for(app, pilot, "ctrl+g", "乱七八糟xyz", "没有匹配")
            assert "没有匹配的字段" in shown and "No matches" not in shown
            shown = await said_for(app, pilot, "ctrl+p", "室温", "不适用")  # the app's palette too
            assert "抽测室温" in shown and "不适用" in shown, shown
            assert isinstance(app.screen, SurveyScreen)

    run(body)


def test_the_english_palette_says_which_field_is_hidden(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await open_survey(app, pilot, target.id)
            shown = await said_for(app, pilot, "ctrl+g", "Spot indoor temperature", "(hidden)")
            assert "No field to go to. Spot indoor temperature" in shown, shown
            assert "not applicable with the current answers (hidden)" in shown
            shown = await said_for(app, pilot, "ctrl+g", "qqqzzz", "No field")
            assert "No field matches" in shown and "No matches found" not in shown

    run(body)


def test_go_to_field_lists_the_field_named_exactly_first(
    sample_db: Path, make_app: AppFactory
) -> None:
    """ctrl+g 楼道: the fuzzy score put 楼道占用堆物 before the photo field 楼道 itself. The
    field whose label is the text comes first, then labels starting with it."""
    target = a_walk_up(sample_db)  # a building with a stairwell: its photo field is asked

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await open_survey(app, pilot, target.id)
            await pilot.press("ctrl+g")
            await settle(app, pilot)
            palette = app.screen
            assert isinstance(palette, CommandPalette)
            palette.query_one(Input).value = "楼道"
            hits: list[str] = []
            for _ in range(50):  # until the hits are in and stay the same
                await pilot.pause(0.2)
                listed = palette.query_one(CommandList)
                before = hits
                hits = [
                    str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)
                ]
                if len(hits) >= 2 and hits == before:
                    break
            assert hits and "楼道 Stairwell" in hits[0], hits
            assert "楼道占用堆物" in hits[1], hits

    run(body)
