"""ctrl+n at a building already in the database: the dialog asks before adding a second one.

An inspector added 新苑里 1号楼 at 南开区咸阳路48号, an exact copy of a register building, and
was not told: the list then showed two, and only the merge on the central flagged them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input, Static

from surveyor.services.browse import browse_buildings
from surveyor.services.survey import get_building
from surveyor.store.db import open_store
from surveyor.tui.modals.new_building import NewBuildingModal, SameBuildingModal
from surveyor.tui.screens.survey import SurveyScreen
from tests.tui.conftest import AppFactory, run, settle


def a_register_building(db: Path) -> Any:
    """A live building of the sample with its register answers."""
    store = open_store(db)
    try:
        row = browse_buildings(store, limit=1).rows[0]
        return get_building(store, row.id)
    finally:
        store.close()


def live_codes(db: Path) -> set[str]:
    store = open_store(db)
    try:
        return {r.code for r in browse_buildings(store, limit=1000).rows}
    finally:
        store.close()


async def fill_and_submit(pilot: Any, app: Any, answers: dict[str, str]) -> None:
    """ctrl+n, the 街道 picked, the four text fields typed with Enter after each."""
    await pilot.press("ctrl+n")
    await settle(app, pilot)
    assert isinstance(app.screen, NewBuildingModal)
    app.screen.query_one("#new-subdistrict").value = answers["subdistrict"]
    app.screen.query_one("#new-community", Input).focus()
    for fid in ("community", "compound_name", "building_no", "address"):
        await pilot.press(*answers[fid], "enter")
    await settle(app, pilot)


def test_same_address_asks_and_enter_opens_the_building_already_there(
    sample_db: Path, make_app: AppFactory
) -> None:
    there = a_register_building(sample_db)
    before = live_codes(sample_db)
    # The address typed on site: spaced and full-width, still the same normalised address.
    typed = " ".join(there.answers["address"]).replace("号", "号 ")
    answers = {
        "subdistrict": there.answers["subdistrict"],
        "community": there.answers.get("community") or "某社区",
        "compound_name": "另一个名字",
        "building_no": there.answers["building_no"].replace("号楼", "栋"),  # the same 楼号
        "address": typed,
    }

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await fill_and_submit(pilot, app, answers)
            assert isinstance(app.screen, SameBuildingModal)
            question = str(app.screen.query_one("#same-question", Static).render())
            assert question.startswith(f"该地址已有楼栋 {there.code}（")
            assert there.answers["compound_name"] in question
            await pilot.press("enter")  # the safe default
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            assert app.screen.building.code == there.code

    run(body)
    assert live_codes(sample_db) == before  # nothing was added


def test_add_anyway_still_creates_the_building(sample_db: Path, make_app: AppFactory) -> None:
    there = a_register_building(sample_db)
    before = live_codes(sample_db)
    answers = {f: there.answers.get(f) or "某社区" for f in ("subdistrict", "community")}
    answers |= {f: there.answers[f] for f in ("compound_name", "building_no", "address")}

    async def body() -> str:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await fill_and_submit(pilot, app, answers)
            assert isinstance(app.screen, SameBuildingModal)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            assert isinstance(app.screen, SurveyScreen)
            return app.screen.building.code

    code = run(body)
    assert code != there.code
    assert live_codes(sample_db) == before | {code}


def test_same_compound_and_number_asks_and_esc_goes_back_to_the_form(
    sample_db: Path, make_app: AppFactory
) -> None:
    """Another address typed, but the same 小区 and 楼号 (楼号 in full-width digits)."""
    there = a_register_building(sample_db)
    before = live_codes(sample_db)
    number = there.answers["building_no"].translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    answers = {
        "subdistrict": there.answers["subdistrict"],
        "community": there.answers.get("community") or "某社区",
        "compound_name": there.answers["compound_name"],
        "building_no": number,
        "address": "南开区不存在路1234号",
    }

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await fill_and_submit(pilot, app, answers)
            assert isinstance(app.screen, SameBuildingModal)
            question = str(app.screen.query_one("#same-question", Static).render())
            assert f"already has building {there.code} with that number" in question
            assert there.answers["address"] in question
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, NewBuildingModal)  # what was typed is still there
            address = app.screen.query_one("#new-address", Input).value
            assert address == "南开区不存在路1234号"

    run(body)
    assert live_codes(sample_db) == before


def test_a_pasted_number_with_a_zero_width_space_is_the_same_building(
    sample_db: Path, make_app: AppFactory
) -> None:
    """楼号 pasted from a web page with a zero-width space: it looked the same, matched
    nothing, and a second building was added without a question."""
    there = a_register_building(sample_db)
    before = live_codes(sample_db)

    async def body() -> None:
        app = make_app(sample_db, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            assert isinstance(app.screen, NewBuildingModal)
            app.screen.query_one("#new-subdistrict").value = there.answers["subdistrict"]
            pasted = {
                "community": "某社区",
                "compound_name": "\ufeff" + there.answers["compound_name"],
                "building_no": there.answers["building_no"] + "\u200b",
                "address": "南开区不存在路\u20601234号",
            }
            for fid, text in pasted.items():
                field = app.screen.query_one(f"#new-{fid}", Input)
                field.focus()
                await pilot.pause()
                field.post_message(events.Paste(text))
                await pilot.pause()
                assert field.value == text  # pasted as is; cleaned on the way in
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, SameBuildingModal)
            question = str(app.screen.query_one("#same-question", Static).render())
            assert f"already has building {there.code} with that number" in question

    run(body)
    assert live_codes(sample_db) == before


def test_one_esc_does_not_throw_away_what_was_typed(sample_db: Path, make_app: AppFactory) -> None:
    """Esc in the new-building dialog threw away the five fields typed on site at once, and
    the dialog opened blank again. With something typed, Esc says so and a second Esc
    discards it; typing on disarms it; an empty dialog still closes on one Esc."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n", "escape")
            await settle(app, pilot)
            assert not isinstance(app.screen, NewBuildingModal)  # nothing typed: closed
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, NewBuildingModal)
            dialog.query_one("#new-compound_name", Input).focus()
            await pilot.press(*"新苑里", "escape")
            await settle(app, pilot)
            assert app.screen is dialog
            said = str(dialog.query_one("#new-problem", Static).render())
            assert said == "再按 Esc 放弃已填写的内容；继续填写请直接输入", said
            await pilot.press("x", "escape")  # typing on disarms: one Esc only warns again
            await settle(app, pilot)
            assert app.screen is dialog
            assert dialog.query_one("#new-compound_name", Input).value == "新苑里x"
            await pilot.press("escape")
            await settle(app, pilot)
            assert not isinstance(app.screen, NewBuildingModal)

    run(body)
