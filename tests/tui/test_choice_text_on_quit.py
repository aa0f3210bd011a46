"""Text left in a choice list's filter is not dropped unseen by quitting."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from surveyor import paths
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.choice import ChoiceField
from tests.tui.conftest import AppFactory, run, settle, toasts, until
from tests.tui.test_flows import burst, first_with_status, open_at, read

REMARK = "楼顶漏水严重"


async def on_the_priorities(app: Any, pilot: Any, target_id: Any) -> ChoiceField:
    """意愿与备注: 1 (strong) and Enter put 居民最关心问题 under the cursor, where the
    inspector expected the remarks box (the remark typed next goes into its filter)."""
    screen = await open_at(app, pilot, target_id, "resident_willingness")
    await pilot.press("1", "enter")
    await settle(app, pilot)
    choice = screen.query_one("#resident_priorities", ChoiceField)
    assert app.focused is choice
    return choice


def test_ctrl_q_first_says_the_text_left_in_a_choice_filter(
    sample_db: Path, make_app: AppFactory
) -> None:
    """ctrl+q quit at once and the remark typed into 居民最关心问题's filter was gone: the
    first ctrl+q now stays and says which field holds what; the second quits."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            choice = await on_the_priorities(app, pilot, target.id)
            burst(app, [*REMARK, "ctrl+q"])  # typed fast: ctrl+q is acted on before the keys
            said = "居民最关心问题是选择题，筛选行里的「楼顶漏水严重」没有匹配的选项"
            await until(app, lambda: any(said in m for m in toasts(app)), "the warning")
            assert app.is_running and isinstance(app.screen, SurveyScreen)
            assert choice.filter_text == REMARK
            await pilot.press("ctrl+q")  # the inspector's decision: quit, the text dropped
            await until(app, lambda: not app.is_running, "quitting")
        assert read(sample_db, target.id).answers["resident_willingness"] == "strong"

    run(body)


def test_quitting_on_a_signal_logs_the_text_left_in_a_choice_filter(
    sample_db: Path,
    make_app: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The terminal closed (SIGHUP) or ``kill``: no one to ask, the text goes to the log."""
    monkeypatch.setattr(paths, "log_dir", lambda: tmp_path / "log")
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            choice = await on_the_priorities(app, pilot, target.id)
            await pilot.press(*REMARK)
            assert choice.unmatched
            # What ``_quit_signal`` runs (without its watchdog, which ends the process).
            app._quitting_on = signal.SIGHUP
            app.run_worker(app._quit_after_saving(), group="quit-signal")
            await until(app, lambda: not app.is_running, "quitting")
        log = (tmp_path / "log" / "surveyor.log").read_text(encoding="utf-8")
        assert "SIGHUP" in log and target.code in log and "居民最关心问题" in log
        assert REMARK in log

    run(body)
