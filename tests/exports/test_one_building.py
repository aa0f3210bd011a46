"""One building's sheet or label (``--building``, the export dialog over a building): a lost
label is reprinted without printing the 街道; a code that names no live building is refused."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from textual.widgets import Input, Select

from surveyor.forms.catalog import get_form
from surveyor.services.survey import create_building
from surveyor.settings import Settings
from surveyor.store.db import init_store
from surveyor.store.ids import building_uri
from surveyor.sync.actions import Choice, delete_building, resolve_conflict
from surveyor.sync.fold import DUPLICATE_KEY
from surveyor.sync.transfer import push
from surveyor.tui.app import SurveyorApp
from surveyor.tui.screens.buildings import BuildingsScreen
from surveyor.tui.screens.exports import ExportScreen
from surveyor.tui.screens.survey import SurveyScreen
from tests.conftest import REGISTER_ROW
from tests.exports.conftest import decode_qr, pdf_text, render_pages
from tests.tui.conftest import settle


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def codes_in_register_order(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT code FROM building WHERE deleted = 0 ORDER BY code")
        return [r[0] for r in rows]


def label_uris(pdf: Path, folder: Path) -> list[str]:
    return [uri for png in render_pages(pdf, folder) for uri in decode_qr(png)]


def test_labels_for_the_buildings_named_and_no_others(sample_db: Path, tmp_path: Path) -> None:
    """Codes as typed (lower case, no dashes) or scanned (the QR URI) name the same building;
    one named twice prints once."""
    first, second = codes_in_register_order(sample_db)[5:7]
    out = tmp_path / "labels.pdf"
    typed = first.lower().replace("-", "")
    result = run(
        "export", "labels", "--db", str(sample_db), "--out", str(out),
        "--building", typed, "--building", building_uri(second), "--building", first,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 building(s)" in result.stdout
    assert sorted(label_uris(out, tmp_path / "png")) == sorted(
        [building_uri(first), building_uri(second)]
    )


def test_one_building_with_other_filters_must_meet_them_too(
    sample_db: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(sample_db) as con:
        code, status = con.execute(
            "SELECT code, status FROM building WHERE deleted = 0 AND status != 'approved' LIMIT 1"
        ).fetchone()
    out = tmp_path / "sheet.pdf"
    base = ("export", "sheets", "--db", str(sample_db), "--out", str(out), "--building", code)
    refused = run(*base, "--status", "approved")
    assert refused.returncode == 2 and not out.exists()
    assert f"no buildings match the selection (status=approved, {code})" in refused.stderr
    shown = run(*base, "--status", status)
    assert shown.returncode == 0, shown.stderr
    assert code in pdf_text(out)


def test_a_code_that_names_no_live_building_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    form = get_form()
    db = tmp_path / "laptop.db"
    store = init_store(db, role="laptop", inspector="王芳")
    kept = create_building(store, form, REGISTER_ROW, author="王芳")
    gone = create_building(store, form, REGISTER_ROW | {"building_no": "4号楼"}, author="王芳")
    delete_building(store, form, gone.code, author="王芳")
    store.close()
    out = tmp_path / "labels.pdf"
    base = ("export", "labels", "--db", str(db), "--out", str(out), "--building", kept.code)
    cases = {
        "NK-00000-00000": "no building with code NK-00000-00000",
        gone.code: f"building {gone.code} has been deleted",
        "3号楼": "--building: '3号楼' is not a building code (NK-XXXXX-XXXXX)",
    }
    for ref, said in cases.items():
        result = run(*base, "--building", ref)
        assert result.returncode == 2, (ref, result.stdout)
        assert said in result.stderr, (ref, result.stderr)
        assert "Traceback" not in result.stderr
        assert not out.exists()


def test_a_duplicate_merged_away_prints_the_building_kept(tmp_path: Path) -> None:
    """Its old label is still on the door; a reprint for it is the kept building's label."""
    form = get_form()
    central = init_store(tmp_path / "central.db", role="central")
    a = init_store(tmp_path / "a.db", role="laptop", inspector="甲")
    b = init_store(tmp_path / "b.db", role="laptop", inspector="乙")
    x = create_building(a, form, REGISTER_ROW, author="甲")
    y = create_building(b, form, REGISTER_ROW, author="乙")
    push(a, central, form)
    push(b, central, form)
    resolve_conflict(
        central, form, y.code, DUPLICATE_KEY, Choice("merge_into", value=x.code), author="组长"
    )
    for store in (a, b, central):
        store.close()
    out = tmp_path / "labels.pdf"
    central_db = str(tmp_path / "central.db")
    result = run(
        "export", "labels", "--central", central_db, "--out", str(out), "--building", y.code
    )
    assert result.returncode == 0, result.stderr
    assert label_uris(out, tmp_path / "png") == [building_uri(x.code)]


async def _export_from_survey(app: SurveyorApp, code: str, out: Path) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        app.open_building(code, "address")
        await settle(app, pilot)
        survey = app.screen
        assert isinstance(survey, SurveyScreen)
        assert app.focused is not None and app.focused.id == "address"
        # Typed and not yet autosaved when the dialog is asked for: the sheet must show it.
        await pilot.press(*"南开区宜宾道99号")
        await app.open_exports()
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        assert dialog.query_one("#export-scope", Select).value == "building"
        assert not dialog.query_one("#export-status", Select).display
        box = dialog.query_one("#export-out", Input)
        assert Path(box.value).name == f"sheets-{code}.pdf"
        box.value = str(out)
        await pilot.click("#export-start")
        for _ in range(600):
            await pilot.pause(0.05)
            if not dialog.running and out.exists():
                break
        assert out.exists()


def test_the_dialog_over_a_survey_prints_that_building_as_it_is_on_screen(
    sample_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sample.db"
    shutil.copy(sample_db, db)
    code = codes_in_register_order(db)[3]
    out = tmp_path / "one.pdf"
    app = SurveyorApp(db, settings=Settings(language="en"), settings_path=tmp_path / "s.toml")
    asyncio.run(_export_from_survey(app, code, out))
    app.close_store()
    text = pdf_text(out)
    # one building: its code alone, on one page or on pages "n of N" of its one sheet (a
    # building with many needs or open rules goes on to a second page)
    assert set(re.findall(r"NK-[0-9A-Z]{5}-[0-9A-Z]{5}", text)) == {code}
    pages = text.count("\f")
    assert pages == 1 or f"page {pages} of {pages}" in text
    assert "宜宾道99号" in text


async def _scope_from_list(app: SurveyorApp, out: Path) -> tuple[str | None, list[str]]:
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        listing = app.screen
        assert isinstance(listing, BuildingsScreen)
        await pilot.press("down", "down")
        highlighted = listing.highlighted_code()
        await app.open_exports()
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        scope = dialog.query_one("#export-scope", Select)
        assert scope.value == "filter"  # from the list, all buildings unless asked
        assert dialog.query_one("#export-status", Select).display
        scope.value = "building"
        dialog.query_one("#export-kind", Select).value = "labels"
        await settle(app, pilot)
        assert Path(dialog.query_one("#export-out", Input).value).name == (
            f"labels-{highlighted}.pdf"
        )
        dialog.query_one("#export-out", Input).value = str(out)
        await pilot.click("#export-start")
        for _ in range(600):
            await pilot.pause(0.05)
            if not dialog.running and out.exists():
                break
        return highlighted, label_uris(out, out.parent / "png")


def test_the_dialog_over_the_list_offers_the_building_under_the_cursor(
    sample_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "one-label.pdf"
    app = SurveyorApp(
        sample_db, settings=Settings(language="en"), settings_path=tmp_path / "s.toml"
    )
    highlighted, uris = asyncio.run(_scope_from_list(app, out))
    app.close_store()
    assert highlighted is not None and uris == [building_uri(highlighted)]
