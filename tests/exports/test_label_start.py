"""``export labels --start N``: the first label at position N of a partly used sheet, checked on
the rendered page with a real QR decoder; a position the stock has not is refused."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.units import mm
from textual.widgets import Input, Select

from surveyor.exports.labels import LabelLayout, load_layout
from surveyor.forms.catalog import get_form
from surveyor.store.db import open_store
from surveyor.store.ids import building_uri
from surveyor.tui.screens.exports import ExportScreen
from tests.exports.conftest import render_pages, small_subdistrict
from tests.exports.test_pdf import codes
from tests.exports.test_tui_export import Host, _wait_idle

DPI = 150


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def qr_by_position(png: Path, layout: LabelLayout) -> list[str | None]:
    """What the QR at each label position of a page decodes to (None: a blank position),
    the page cut along the layout's grid."""
    import zxingcpp

    scale = DPI / 72
    page_h = layout.page.height_mm * mm
    found: list[str | None] = []
    with Image.open(png) as image:
        for i in range(layout.per_page):
            x, y = layout.origin(i)
            box = (
                round(x * scale),
                round((page_h - y - layout.label.height_mm * mm) * scale),
                round((x + layout.label.width_mm * mm) * scale),
                round((page_h - y) * scale),
            )
            results = zxingcpp.read_barcodes(image.crop(box), formats=zxingcpp.BarcodeFormat.QRCode)
            assert len(results) <= 1
            found.append(results[0].text if results else None)
    return found


@pytest.mark.parametrize(("layout", "start"), [("a4_3x8", 5), ("l7160", 21)])
def test_the_first_label_lands_at_the_start_position(
    sample_db: Path, tmp_path: Path, layout: str, start: int
) -> None:
    """There was no way to print on a sheet whose first labels were used: the first label
    always went top left."""
    sub = small_subdistrict(sample_db)
    expected = codes(sample_db, where=[f"subdistrict={sub}"])
    out = tmp_path / "labels.pdf"
    done = sv(
        "export", "labels", "--db", str(sample_db), "--out", str(out), "--layout", layout,
        "--where", f"subdistrict={sub}", "--start", str(start),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{len(expected)} building(s)" in done.stdout  # the blanks are no buildings
    stock = load_layout(layout)
    pngs = render_pages(out, tmp_path / "png", DPI)
    assert len(pngs) == -(-(start - 1 + len(expected)) // stock.per_page)
    first = qr_by_position(pngs[0], stock)
    assert first[: start - 1] == [None] * (start - 1)
    on_first = expected[: stock.per_page - start + 1]
    assert first[start - 1 : start - 1 + len(on_first)] == [building_uri(c) for c in on_first]
    if len(pngs) > 1:  # the next sheet starts top left
        assert qr_by_position(pngs[1], stock)[0] == building_uri(expected[len(on_first)])


@pytest.mark.parametrize(
    ("args", "en", "zh"),
    [
        (["--start", "25"], "not on the a4_3x8 sheet (24 labels a page)", "每页 24 个"),
        (["--start", "0"], "start at 1 to 24", "起始位置应为 1 到 24"),
        (["--start", "22", "--layout", "l7160"], "(21 labels a page)", "每页 21 个"),
        (["--start", "2", "--split"], "not for --split", "不能与 --split"),
    ],
)  # fmt: skip
def test_a_start_position_off_the_sheet_is_refused(
    sample_db: Path, tmp_path: Path, args: list[str], en: str, zh: str
) -> None:
    out = str(tmp_path / "labels.pdf")
    for lang, said in (("en", en), ("zh", zh)):
        done = sv("export", "labels", "--db", str(sample_db), "--out", out, *args, "--lang", lang)
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_export_dialog_starts_labels_at_a_position(sample_db: Path, tmp_path: Path) -> None:
    sub = small_subdistrict(sample_db)
    expected = codes(sample_db, where=[f"subdistrict={sub}"])
    store = open_store(sample_db, readonly=True)
    screen = ExportScreen(store, get_form(), tmp_path, lang="en")
    out = tmp_path / "labels.pdf"

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            start_at = screen.query_one("#export-start-at", Input)
            assert not start_at.display  # asked for labels only
            screen.query_one("#export-kind", Select).value = "labels"
            await pilot.pause()
            assert start_at.display
            start_at.value = "3"
            screen.query_one("#export-subdistrict", Select).value = sub
            screen.query_one("#export-out", Input).value = str(out)
            await pilot.click("#export-start")
            await pilot.pause()
            await _wait_idle(screen)

    try:
        asyncio.run(scenario())
    finally:
        store.close()
    (png, *_) = render_pages(out, tmp_path / "png", DPI)
    first = qr_by_position(png, load_layout("a4_3x8"))
    assert first[:3] == [None, None, building_uri(expected[0])]
