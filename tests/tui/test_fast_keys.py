"""Keys typed at once after a choice that shows or hides the fields after it (skip logic).

A terminal delivers a burst (a busy laptop, a quick typist) in one read: every key is queued
for the focused field before the first is handled. The next field must be the one the answer
just picked shows, not the one the form showed before it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from surveyor.tui.widgets.choice import ChoiceField
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import burst, first_with_status, open_at, read
from tests.tui.test_tmux_smoke import quit_cleanly, run_surveyor


@pytest.mark.parametrize("first", [["1"], ["3", "1"]], ids=["1", "3-then-1"])
@pytest.mark.parametrize("move", ["enter", "tab"])
def test_keys_after_a_choice_that_shows_fields_go_into_those_fields(
    sample_db: Path, make_app: AppFactory, move: str, first: list[str]
) -> None:
    """燃气供应 1 (管道天然气) shows 燃气立管位置 after it; "1 Enter 2 Enter" in one burst put
    the 2 into 给水立管材质 (铸铁), the field the form showed next before the 1, and left
    燃气立管位置 empty, without a word. Typed 20 ms apart it was right. "3 1" (无, then
    管道天然气, a second look) must end on the last pick too."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "gas_supply")
            assert not screen.is_shown("gas_riser_location")
            burst(app, [*first, move, "2", move])
            await settle(app, pilot)
            assert app.focused is not None and app.focused.id == "gas_pipe_year"
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id).answers
        assert saved["gas_supply"] == "piped_ng"
        assert saved.get("gas_riser_location") == "stairwell"
        assert saved.get("water_pipe_material") is None

    run(body)


@pytest.mark.parametrize("move", ["enter", "tab"])
def test_keys_after_a_choice_that_hides_fields_skip_them(
    sample_db: Path, make_app: AppFactory, move: str
) -> None:
    """The other way round: 燃气供应 changed to 3 (无) hides 燃气立管位置 … 橡胶软管; the key
    after Enter went into the hidden 燃气立管位置 instead of 给水立管材质."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "gas_supply")
            await pilot.press("1")
            await settle(app, pilot)
            assert screen.is_shown("gas_riser_location")
            burst(app, ["3", move, "2"])
            await settle(app, pilot)
            water = screen.query_one("#water_pipe_material", ChoiceField)
            assert app.focused is water
            await pilot.press("escape")
            await settle(app, pilot)
        saved = read(sample_db, target.id).answers
        assert saved["gas_supply"] == "none"
        assert saved.get("gas_riser_location") is None
        assert saved.get("water_pipe_material") == "cast_iron"

    run(body)


def test_page_down_right_after_a_pick_keeps_the_pick(sample_db: Path, make_app: AppFactory) -> None:
    """PgDn typed at once after a pick: the pick is saved, the next section opens."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_at(app, pilot, target.id, "gas_supply")
            index = screen.section_index
            burst(app, ["1", "pagedown"])
            await settle(app, pilot)
            assert screen.section_index == index + 1
            await pilot.press("escape")
            await settle(app, pilot)
        assert read(sample_db, target.id).answers["gas_supply"] == "piped_ng"

    run(body)


@pytest.mark.slow
def test_in_a_real_terminal_the_keys_after_a_choice_go_into_the_fields_it_shows(
    sample_db: Path, tmp_path: Path
) -> None:
    """The inspector's burst in tmux: ctrl+g 燃气供应 Enter, then "1 Enter 2 Enter" in one
    write, as a busy laptop's terminal delivers it."""
    target = first_with_status(sample_db, "not_started")
    tmux, rc_file = run_surveyor(tmp_path, f"app --db '{sample_db}'", 'language = "zh"\n')
    try:
        tmux.wait_for(target.code)
        tmux.keys(target.code, literal=True)
        tmux.keys("Enter")
        tmux.wait_for("调查日期")
        tmux.keys("C-g")
        time.sleep(0.5)
        tmux.keys("燃气供应", literal=True)
        time.sleep(0.5)
        tmux.keys("Enter")
        tmux.wait_for("管道天然气")  # its section is shown, the cursor on it
        time.sleep(0.5)
        tmux.keys("1", "Enter", "2", "Enter")  # one write
        tmux.wait_for("(*)2 楼梯间")
        quit_cleanly(tmux, rc_file)
    finally:
        tmux("kill-server")
    saved = read(sample_db, target.id).answers
    assert saved["gas_supply"] == "piped_ng"
    assert saved.get("gas_riser_location") == "stairwell"
    assert saved.get("water_pipe_material") is None
