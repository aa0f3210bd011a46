"""Printed outputs, checked with real tools: pdftotext, pdffonts, pdftoppm and zxing-cpp."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest

from surveyor.errors import SurveyorError
from surveyor.exports.fonts import find_font
from surveyor.exports.labels import load_layout
from surveyor.exports.render import Cancelled
from surveyor.exports.service import Context, export_labels, export_sheets
from surveyor.exports.source import select_buildings
from surveyor.forms.catalog import get_form
from surveyor.forms.model import FormError
from surveyor.retrofit import get_params, get_rules
from surveyor.services.selection import parse_selection
from surveyor.store.db import open_store
from surveyor.store.ids import building_uri
from tests.exports.conftest import (
    decode_qr,
    pdf_fonts,
    pdf_text,
    render_pages,
    small_subdistrict,
)

CODE = re.compile(r"NK-[0-9A-Z]{5}-[0-9A-Z]{5}")


def ctx() -> Context:
    form = get_form()
    params = get_params()
    return Context(form, get_rules(form, params), params)


def codes(db: Path, where: list[str] | None = None, status: str | None = None) -> list[str]:
    store = open_store(db, readonly=True)
    try:
        return [
            r.code
            for r in select_buildings(store, parse_selection(get_form(), where or [], status))
        ]
    finally:
        store.close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def sheets_pdf(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheets") / "complete.pdf"
    result = run(
        "export", "sheets", "--db", str(sample_db), "--out", str(out), "--status", "complete"
    )
    assert result.returncode == 0, result.stderr
    return out


def test_sheet_text_in_chinese_and_english(sheets_pdf: Path, sample_db: Path) -> None:
    text = pdf_text(sheets_pdf)
    for phrase in (
        "既有住宅改造需求单",
        "基本情况",
        "部位状况",
        "改造需求",
        "分步改造路线",
        "默认/假定输入",
        "调查人签字",
        "不替代房屋安全鉴定",
        "南开区",
    ):
        assert phrase in text, phrase
    for phrase in (
        "Retrofit-need sheet",
        "Key facts",
        "Element conditions",
        "Staged roadmap",
        "Defaulted inputs",
        "does not replace a building safety appraisal",
    ):
        assert phrase in text, phrase
    expected = codes(sample_db, status="complete")
    pages = [p for p in text.split("\f") if p.strip()]
    # Each page shows its own building code, in register order (a building may take two).
    on_pages = [CODE.search(p).group(0) for p in pages]  # type: ignore[union-attr]
    assert list(dict.fromkeys(on_pages)) == expected


def test_cjk_font_is_embedded(sheets_pdf: Path) -> None:
    rows = pdf_fonts(sheets_pdf)
    assert rows, "no fonts listed"
    for row in rows:
        # columns: name type [type] encoding emb sub uni object ID → 'yes' for emb and sub
        assert row[-5] == "yes", f"font not embedded: {row}"
    assert any(
        "SurveyorCJK" in row[0] or "WenQuanYi" in row[0] or "Micro" in row[0] for row in rows
    ), rows


def test_sheet_qr_decodes_to_the_building_uri(
    sheets_pdf: Path, sample_db: Path, tmp_path: Path
) -> None:
    """Every page carries its building's QR, a continued sheet's later pages too; the
    buildings follow in register order."""
    expected = codes(sample_db, status="complete")
    subprocess.run(
        ["pdfseparate", "-f", "1", "-l", "4", str(sheets_pdf), str(tmp_path / "p%d.pdf")],
        check=True,
    )
    found = []
    for i in range(1, 5):
        pngs = render_pages(tmp_path / f"p{i}.pdf", tmp_path / f"png{i}")
        (uri,) = decode_qr(pngs[0])
        found.append(uri)
    in_order = list(dict.fromkeys(found))  # a sheet of two pages shows its QR twice
    assert in_order == [building_uri(c) for c in expected[: len(in_order)]]


@pytest.mark.parametrize(("layout", "per_page"), [("a4_3x8", 24), ("l7160", 21)])
def test_every_label_on_a_sheet_decodes(
    sample_db: Path, tmp_path: Path, layout: str, per_page: int
) -> None:
    out = tmp_path / f"{layout}.pdf"
    result = run("export", "labels", "--db", str(sample_db), "--out", str(out), "--layout", layout)
    assert result.returncode == 0, result.stderr
    expected = codes(sample_db)
    pngs = render_pages(out, tmp_path / "png")
    assert len(pngs) == -(-len(expected) // per_page)
    found = decode_qr(pngs[0])
    assert sorted(found) == sorted(building_uri(c) for c in expected[:per_page])
    assert len(found) == per_page
    assert "南开区" in pdf_text(out) or "号" in pdf_text(out)


def test_thermal_label_and_a_20mm_label_decode(sample_db: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(
        "layout: small\ntitle: {zh: 小标签, en: Small label}\n"
        "page: {width_mm: 40, height_mm: 20}\nlabel: {width_mm: 40, height_mm: 20}\n"
        "grid: {columns: 1, rows: 1, left_mm: 0, top_mm: 0, pitch_x_mm: 40, pitch_y_mm: 20}\n"
        "qr_mm: 18\npadding_mm: 1\ncalibration: {offset_x_mm: 0, offset_y_mm: 0}\n",
        encoding="utf-8",
    )
    sub = small_subdistrict(sample_db)
    label = get_form().field("subdistrict").choice_label(sub, "zh")
    expected = codes(sample_db, where=[f"subdistrict={sub}"])
    for layout in ("thermal_50x30", str(small)):
        out = tmp_path / f"{Path(layout).stem}.pdf"
        result = run(
            "export",
            "labels",
            "--db",
            str(sample_db),
            "--out",
            str(out),
            "--layout",
            layout,
            "--where",
            f"街道={label}",
        )
        assert result.returncode == 0, result.stderr
        pngs = render_pages(out, tmp_path / f"png_{Path(layout).stem}")
        assert len(pngs) == len(expected)
        assert decode_qr(pngs[0]) == [building_uri(expected[0])]


def test_calibration_offset_moves_labels() -> None:
    layout = load_layout("a4_3x8")
    shifted = layout.model_copy(
        update={
            "calibration": layout.calibration.model_copy(
                update={"offset_x_mm": 1.5, "offset_y_mm": -2.0}
            )
        }
    )
    (x0, y0), (x1, y1) = layout.origin(4), shifted.origin(4)
    assert round((x1 - x0) / 72 * 25.4, 3) == 1.5
    assert round((y1 - y0) / 72 * 25.4, 3) == -2.0


@pytest.mark.parametrize(
    ("change", "message"),
    [("qr_mm: 30", "qr_mm: 12"), ("height_mm: 37}", "height_mm: 15}")],
)
def test_layouts_that_would_not_decode_are_refused(
    tmp_path: Path, change: str, message: str
) -> None:
    text = (
        Path(load_layout.__code__.co_filename).parents[2] / "exports" / "a4_3x8.yaml"
    ).read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(change, message), encoding="utf-8")
    with pytest.raises(FormError) as info:
        load_layout(str(path))
    assert str(path) in info.value.problems[0]


def building_pages(pdf: Path) -> dict[str, list[str]]:
    """Each building's pages' text, by the code its pages print."""
    pages: dict[str, list[str]] = {}
    for page in pdf_text(pdf).split("\f"):
        if page.strip():
            pages.setdefault(CODE.search(page).group(0), []).append(page)  # type: ignore[union-attr]
    return pages


def test_every_need_and_open_rule_is_printed_and_pages_are_counted(
    sheets_pdf: Path, sample_db: Path, tmp_path: Path
) -> None:
    """No sheet says "N more in the data export": a building's needs and open rules go on to
    a second page, which repeats its code, address and QR and says which page it is."""
    from surveyor.retrofit import derive_needs

    c = ctx()
    store = open_store(sample_db, readonly=True)
    try:
        records = select_buildings(store, parse_selection(c.form, [], "complete"))
    finally:
        store.close()
    printed = building_pages(sheets_pdf)
    longer = 0
    for r in records:
        report = derive_needs(c.form, c.rules, c.params, r.answers)
        pages = printed[r.code]
        text = " ".join(" ".join(p.split()) for p in pages)
        words = set(text.split())
        assert {n.rule_id for n in report.needs} <= words, r.code
        assert {u.rule_id for u in report.undetermined} <= words, r.code
        assert "数据导出" not in text and "data export" not in text
        n = len(pages)
        if n > 1:
            longer += 1
            for k, page in enumerate(pages, 1):
                assert f"第{k}页/共{n}页 page {k} of {n}" in " ".join(page.split())
        else:
            assert "页/共" not in text
    assert longer  # the sample has buildings of more needs than one page holds
    result = run(
        "export",
        "sheets",
        "--db",
        str(sample_db),
        "--out",
        str(tmp_path / "s.pdf"),
        "--status",
        "complete",
    )
    pages = sum(len(p) for p in printed.values())
    assert result.stdout.strip().endswith(f"{len(records)} building(s), {pages} page(s)")
    # --split: one file per building, with all its pages.
    split = tmp_path / "split"
    result = run(
        "export",
        "sheets",
        "--db",
        str(sample_db),
        "--out",
        str(split),
        "--split",
        "--status",
        "complete",
    )
    assert result.returncode == 0, result.stderr
    assert f"in {len(records)} files" in result.stdout
    for code, text in printed.items():
        assert building_pages(split / f"{code}.pdf") == {code: text}


def test_a_continued_page_carries_the_buildings_qr(sheets_pdf: Path, tmp_path: Path) -> None:
    texts = [p for p in pdf_text(sheets_pdf).split("\f") if p.strip()]
    second = next(i for i, p in enumerate(texts, 1) if "page 2 of" in p)
    code = CODE.search(texts[second - 1]).group(0)  # type: ignore[union-attr]
    one = tmp_path / "page.pdf"
    subprocess.run(
        ["pdfseparate", "-f", str(second), "-l", str(second), str(sheets_pdf), str(one)],
        check=True,
    )
    assert decode_qr(render_pages(one, tmp_path / "png")[0]) == [building_uri(code)]


def test_split_writes_one_file_per_building(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "split"
    sub = small_subdistrict(sample_db)
    result = run(
        "export",
        "sheets",
        "--db",
        str(sample_db),
        "--out",
        str(out),
        "--split",
        "--where",
        f"subdistrict={sub}",
    )
    assert result.returncode == 0, result.stderr
    expected = codes(sample_db, where=[f"subdistrict={sub}"])
    assert sorted(p.stem for p in out.iterdir()) == sorted(expected)
    assert expected[0] in pdf_text(out / f"{expected[0]}.pdf")


def test_parallel_and_single_core_give_the_same_pages(sample_db: Path, tmp_path: Path) -> None:
    store = open_store(sample_db, readonly=True)
    try:
        sel = parse_selection(get_form(), [], None)
        one = export_sheets(ctx(), store, sel, tmp_path / "one.pdf", jobs=1)
        two = export_sheets(ctx(), store, sel, tmp_path / "two.pdf", jobs=2)
    finally:
        store.close()
    assert one.pages == two.pages >= len(codes(sample_db))
    assert pdf_text(tmp_path / "one.pdf") == pdf_text(tmp_path / "two.pdf")


def test_cancel_leaves_no_file(sample_db: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    store = open_store(sample_db, readonly=True)
    try:
        with pytest.raises(Cancelled):
            export_labels(
                ctx(),
                store,
                parse_selection(get_form(), [], None),
                tmp_path / "l.pdf",
                jobs=2,
                cancel=cancel,
            )
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []


def test_font_choice_and_refusals(tmp_path: Path, sample_db: Path) -> None:
    packaged = find_font()
    assert packaged.path.suffix == ".ttc"
    otf = tmp_path / "font.otf"
    otf.write_bytes(b"OTTO")
    with pytest.raises(SurveyorError, match="cannot embed"):
        find_font(otf)
    result = run(
        "export",
        "sheets",
        "--db",
        str(sample_db),
        "--out",
        str(tmp_path / "x.pdf"),
        "--font",
        str(otf),
    )
    assert result.returncode == 2 and "TrueType" in result.stderr
    assert not (tmp_path / "x.pdf").exists()
    ok = run(
        "export",
        "sheets",
        "--db",
        str(sample_db),
        "--out",
        str(tmp_path / "y.pdf"),
        "--font",
        str(packaged.path),
        "--where",
        f"subdistrict={small_subdistrict(sample_db)}",
    )
    assert ok.returncode == 0, ok.stderr


def test_district_report(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = run("export", "report", "--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = pdf_text(out)
    for phrase in (
        "区级汇总",
        "Buildings by sub-district",
        "Households of surveyed buildings by sub-district",
        "Needs by category and priority",
        "City-examination housing indicators",
        "Old-community renovation classes",
        "Survey progress",
        "结构安全隐患",
    ):
        assert phrase in text, phrase
    assert all(row[-5] == "yes" for row in pdf_fonts(out))
