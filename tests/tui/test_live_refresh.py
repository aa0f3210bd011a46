"""The open survey shows what another program stores meanwhile in the same database (a photo
added by ``surveyor photo add``, a sync's answer): it kept the old photos and answers until the
building was opened again. A field being typed in keeps its text, and the inspector is told."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from surveyor.forms.catalog import get_form
from surveyor.services.photos import attach_photo
from surveyor.services.survey import save_answers
from surveyor.store.db import open_store
from surveyor.store.watch import CommitWatch
from surveyor.tui.screens.survey import SurveyScreen
from surveyor.tui.widgets.photo_field import PhotoField
from tests.tui.conftest import AppFactory, run, toasts, until
from tests.tui.test_flows import first_with_status, open_at
from tests.tui.test_photos_and_services import a_jpeg

FORM = get_form()


@pytest.fixture(autouse=True)
def quick_looks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look for outside writes every 0.1 s, so the tests do not wait 1.5 s for each."""
    monkeypatch.setattr("surveyor.tui.screens.survey.LIVE_POLL_SECONDS", 0.1, raising=False)


def test_the_watch_sees_another_connections_commit_only(sample_db: Path) -> None:
    """``PRAGMA data_version`` moves for a commit by another connection; asking again without
    one says nothing changed (the screen then reads nothing)."""
    store, other = open_store(sample_db), open_store(sample_db)
    watch = CommitWatch(store)
    try:
        target = first_with_status(sample_db, "draft")
        assert watch.changed()  # the first question: read, something may have changed
        assert not watch.changed()
        save_answers(other, FORM, target.id, {"building_no": "99号楼"}, author="别人", draft=True)
        assert watch.changed()
        assert not watch.changed()
    finally:
        watch.close()
        store.close()
        other.close()
    assert not watch.changed()  # closed: quiet


def test_a_photo_added_by_another_program_shows_in_the_open_survey(
    sample_db: Path, make_app: AppFactory, tmp_path: Path
) -> None:
    target = first_with_status(sample_db, "not_started")
    facade, other = a_jpeg(tmp_path / "facade.jpg"), a_jpeg(tmp_path / "o.jpg", (10, 90, 200))

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "photo_other")
            shown = screen.query_one("#photo_other", PhotoField)
            assert shown.photos == [] and app.focused is shown
            elsewhere = open_store(sample_db)  # another program: its own connection
            try:
                attach_photo(elsewhere, FORM, target.id, "photo_facade_main", facade, author="cli")
                attach_photo(elsewhere, FORM, target.id, "photo_other", other, author="cli")
            finally:
                elsewhere.close()
            facade_field = screen.query_one("#photo_facade_main", PhotoField)
            await until(app, lambda: len(shown.photos) == 1, "the focused field's new photo")
            await until(app, lambda: len(facade_field.photos) == 1, "the other field's photo")
            assert len(screen.answers["photo_other"]) == 1
            assert screen.status == "draft"  # the write started the survey
            said = "\n".join(toasts(app))
            assert "已显示别处保存的答案" in said and "其他立面/屋面" in said, said

    run(body)


def test_the_field_being_typed_in_keeps_its_text_and_says_so(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "draft")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "building_no")
            assert isinstance(screen, SurveyScreen)
            await pilot.press("5", "号", "楼")
            await until(app, lambda: screen.unsaved() == 0 and not screen.saving, "saved")
            elsewhere = open_store(sample_db)
            try:
                new = {"building_no": "7号楼", "address": "南开区城厢中路17号"}
                save_answers(elsewhere, FORM, target.id, new, author="同步", draft=True)
            finally:
                elsewhere.close()
            address = screen.query_one("#address", Input)
            typed = screen.query_one("#building_no", Input)
            await until(app, lambda: address.value == "南开区城厢中路17号", "the new address")
            await until(app, lambda: any("刚在别处被修改" in s for s in toasts(app)), "told")
            assert typed.value == "5号楼" and app.focused is typed  # not replaced under the keys
            assert screen.answers["address"] == "南开区城厢中路17号"
            # Its own save of 5号楼 was never taken for someone else's.
            shown = [s for s in toasts(app) if "已显示别处保存的答案" in s]
            assert shown == ["已显示别处保存的答案：门牌地址"], shown
            await pilot.press("tab")  # left unchanged: the stored answer is shown
            await until(app, lambda: typed.value == "7号楼", "the stored number once left")

    run(body)
