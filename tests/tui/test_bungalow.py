"""A 平房 in the app (form 1.0.8): F9's list of what stops completion asked for the stairwell
photo, windows and entrance door of a building with none."""

from __future__ import annotations

from pathlib import Path

from surveyor.forms.catalog import get_form
from surveyor.services.survey import save_answers
from surveyor.store.db import open_store
from surveyor.tui.modals.problems import ProblemsModal
from tests.retrofit.test_bungalow import BUNGALOW
from tests.tui.conftest import AppFactory, run, until
from tests.tui.test_flows import first_with_status, open_survey


def test_f9_does_not_ask_a_bungalow_for_its_stairwell(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")
    store = open_store(sample_db)
    try:
        answers = {k: v for k, v in BUNGALOW.items() if k != "photo_facade_main"}
        save_answers(store, get_form(), target.id, answers, author="测试员")
    finally:
        store.close()

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await open_survey(app, pilot, target.id)
            await pilot.press("f9")
            await until(app, lambda: isinstance(app.screen, ProblemsModal), "F9's list")
            modal = app.screen
            assert isinstance(modal, ProblemsModal)
            assert [p.field_id for p in modal.problems] == ["photo_facade_main"]

    run(body)
