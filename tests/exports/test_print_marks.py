"""What printed sheets and labels must not hide or garble: a building under review, an answer
the form refuses, a character the font lacks, a stock with no room for its text or whose text
sits in the printer's unprintable margin, a number broken from its 号. Rendered to PDF and read
back with the real poppler and zxing tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.labels import load_layout
from surveyor.exports.layoutfile import LAYOUT_DIR
from surveyor.exports.text import text_width
from surveyor.forms.model import FormError
from tests.exports.conftest import (
    central_under_review,
    decode_qr,
    pdf_text,
    pdf_words,
    render_pages,
)
from tests.exports.test_print_content import (
    DRAFT,
    LONG_ZH,
    WORN,
    label,
    layout_file,
    one_line,
    render,
    sheet,
)

MM = 72 / 25.4
A4_W, A4_H = 595.2756, 841.8898


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def pages_by_code(pdf: Path, codes: list[str]) -> dict[str, str]:
    """Each building's pages' text (one line), by the code its pages print."""
    found: dict[str, str] = {}
    for page in pdf_text(pdf).split("\f"):
        for code in codes:
            if code in page:
                found[code] = found.get(code, "") + " " + one_line(page)
    return found


# ---------------------------------------------------------------- a building under review


def test_a_sheet_says_its_open_conflicts_and_possible_duplicate(tmp_path: Path) -> None:
    """A sheet printed 建成年份 1984年 and 已完成 with a reviewer's signature line while the year
    was in open conflict, and two full sheets for a possible duplicate pair, with no 冲突 or 重复
    anywhere: each now says under its status what awaits a supervisor, on every page."""
    central, codes = central_under_review(tmp_path)
    out = tmp_path / "sheets.pdf"
    done = run("export", "sheets", "--central", str(central), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = pages_by_code(out, list(codes.values()))
    conflict = text[codes["conflict"]]
    assert "待审核：调查人、建成年份 有未裁定的冲突" in conflict
    assert "Under review: open conflict in Inspector, Year built" in conflict
    for me, other in (("twin", "other_twin"), ("other_twin", "twin")):
        assert f"待审核：可能与 {codes[other]} 重复" in text[codes[me]]
        assert f"Under review: possible duplicate of {codes[other]}" in text[codes[me]]
    assert "待审核" not in text[codes["clean"]] and "Under review" not in text[codes["clean"]]
    # A later page, which may be read alone, says it too.
    later = [p for p in pdf_text(out).split("\f") if "page 2 of" in p and codes["conflict"] in p]
    assert later and all("有未裁定的冲突" in p for p in later)


def test_labels_for_possible_duplicates_are_warned_of_by_code(tmp_path: Path) -> None:
    """A label glued to a door for a duplicate's id is hard to undo: the export says which."""
    central, codes = central_under_review(tmp_path)
    out = tmp_path / "labels.pdf"
    done = run("export", "labels", "--central", str(central), "--out", str(out))
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "duplicate" in line]
    assert len(warned) == 2, done.stderr
    twin, other = codes["twin"], codes["other_twin"]
    assert any(line.startswith(f"{twin} may be a duplicate of {other}") for line in warned)
    assert any(line.startswith(f"{other} may be a duplicate of {twin}") for line in warned)
    assert codes["conflict"] not in done.stderr and codes["clean"] not in done.stderr
    assert "wrote" in done.stdout and out.stat().st_size > 0  # written all the same


# ---------------------------------------------------------------- a draft's refused answers


def test_a_drafts_refused_answers_print_marked_to_correct(tmp_path: Path) -> None:
    """`set --draft CODE year_built=abc` printed the key fact 'abc年（档案）', and an unknown 街道
    saved as a draft a raw 'dongmalu' as the place."""
    answers = {
        **DRAFT,
        "year_built": "abc",
        "year_built_basis": "archive",
        "subdistrict": "dongmalu",
        "wall_insulation": "sometimes",  # not an option: graded as not known, not as good
    }
    data = sheet(answers, "draft")
    facts = {zh: value for zh, _, value in data.facts}
    assert facts["建成年份"].startswith("abc（待更正 to correct）")
    assert "abc年" not in facts["建成年份"]
    assert data.subdistrict == "dongmalu（待更正 to correct）"
    [walls] = [c for c in data.conditions if c.title_zh == "外墙"]
    assert walls.label == "不详 unknown" and walls.text == "保温：sometimes（待更正 to correct）"
    text = one_line(pdf_text(render([data], tmp_path / "sheet.pdf")))
    assert "abc（待更正 to correct）（档案）" in text
    assert "dongmalu（待更正 to correct）" in text
    assert "sometimes（待更正 to correct）" in text
    # A valid answer reads as before.
    valid = {zh: value for zh, _, value in sheet(DRAFT, "draft").facts}
    assert valid["建成年份"] == "1985年"


# ---------------------------------------------------------------- characters the font lacks


def test_characters_the_font_lacks_are_warned_of_once_per_building(tmp_path: Path) -> None:
    """wqy-microhei lacks CJK Extension A/B: '𡒄园' printed as ' 园' without a word."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    db = tmp_path / "s.db"
    store = init_store(db, role="laptop", inspector="甲")
    odd = create_building(store, get_form(), REGISTER_ROW, author="甲").code
    plain = create_building(
        store, get_form(), {**REGISTER_ROW, "building_no": "9号楼"}, author="甲"
    ).code
    store.close()
    done = run("set", "--db", str(db), odd, "compound_name=𡒄园", "address=南开区𠮷祥道1号")
    assert done.returncode == 0, done.stderr
    for kind in ("labels", "sheets"):
        done = run("export", kind, "--db", str(db), "--out", str(tmp_path / f"{kind}.pdf"))
        assert done.returncode == 0, done.stderr
        [line] = [line for line in done.stderr.splitlines() if "glyph" in line]
        assert line.startswith(f"{odd}: the embedded font has no glyph for ")
        assert "Compound name '𡒄'" in line and "Street address '𠮷'" in line
        assert plain not in done.stderr
    done = run(
        "export", "labels", "--db", str(db), "--out", str(tmp_path / "zh.pdf"), "--lang", "zh"
    )
    assert f"{odd}：嵌入的字体中没有 小区名称「𡒄」、门牌地址「𠮷」 的字形" in done.stderr


def test_layout_text_the_font_lacks_is_warned_of_naming_its_file_and_key(tmp_path: Path) -> None:
    """The check covered typed answers only: a heading or an element's short name of the sheet
    layout with a character the font lacks printed as a box on every sheet, silently."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    text = (LAYOUT_DIR / "sheet_a4.yaml").read_text(encoding="utf-8")
    odd = text.replace("short: 裂缝,", "short: 𡒄缝,", 1)
    assert odd != text
    layout = tmp_path / "odd_sheet.yaml"
    layout.write_text(odd, encoding="utf-8")
    db = tmp_path / "s.db"
    store = init_store(db, role="laptop", inspector="甲")
    create_building(store, get_form(), REGISTER_ROW, author="甲")
    store.close()
    key = "elements.0.answers.0.short"
    out = tmp_path / "sheets.pdf"
    done = run("export", "sheets", "--db", str(db), "--out", str(out), "--layout", str(layout))
    assert done.returncode == 0 and out.exists(), done.stderr
    assert f"{layout}: {key}: the embedded font has no glyph for '𡒄'" in done.stderr
    checked = run("forms", "check", str(layout), "--lang", "zh")
    assert checked.returncode == 0, checked.stderr
    assert f"；警告：{layout}：{key}：嵌入的字体中没有「𡒄」的字形" in checked.stdout
    stock = run("forms", "check", str(LAYOUT_DIR / "sheet_a4.yaml"))
    assert stock.returncode == 0 and "warning" not in stock.stdout


def test_the_export_dialog_says_the_warnings_under_its_result(tmp_path: Path) -> None:
    """The app's export dialog said only 'Wrote … (1 buildings, 1 pages)'."""
    import asyncio

    from textual.widgets import Input, Select, Static

    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from surveyor.tui.screens.exports import ExportScreen
    from tests.conftest import REGISTER_ROW
    from tests.exports.test_tui_export import Host, _wait_idle

    store = init_store(tmp_path / "s.db", role="laptop", inspector="甲")
    row = {**REGISTER_ROW, "compound_name": "𡒄园"}
    code = create_building(store, get_form(), row, author="甲").code
    screen = ExportScreen(store, get_form(), tmp_path, lang="zh")

    async def scenario() -> None:
        async with Host(screen).run_test() as pilot:
            screen.query_one("#export-kind", Select).value = "labels"
            await pilot.pause()
            screen.query_one("#export-out", Input).value = str(tmp_path / "labels.pdf")
            await pilot.click("#export-start")
            await pilot.pause()
            await _wait_idle(screen)
            await pilot.pause()
            said = str(screen.query_one("#export-message", Static).render())
            assert "已写入" in said and f"{code}：嵌入的字体中没有 小区名称「𡒄」" in said

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_the_app_gets_the_warnings_with_its_result(tmp_path: Path) -> None:
    """The export dialog says what the CLI says on stderr: the service returns it."""
    from surveyor.exports.service import Context, export_labels
    from surveyor.forms.catalog import get_form
    from surveyor.retrofit import get_params, get_rules
    from surveyor.services.selection import parse_selection
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    form = get_form()
    store = init_store(tmp_path / "s.db", role="laptop", inspector="甲")
    code = create_building(store, form, {**REGISTER_ROW, "compound_name": "㐀园"}, author="甲").code
    params = get_params()
    ctx = Context(form, get_rules(form, params), params)
    result = export_labels(ctx, store, parse_selection(form, [], None), tmp_path / "l.pdf", jobs=1)
    store.close()
    [warning] = result.warnings
    assert code in warning.en and "'㐀'" in warning.en and "「㐀」" in warning.zh


# ---------------------------------------------------------------- room beside the QR


def test_a_label_stock_without_room_beside_the_qr_is_refused(tmp_path: Path) -> None:
    """35 × 35 mm with a 30 mm QR and 2.5 mm padding passed `forms check` and printed mirrored
    text at a negative size, a one-character column and no building number."""
    path = layout_file(
        tmp_path,
        "label: {width_mm: 70, height_mm: 37}",
        "label: {width_mm: 35, height_mm: 35}",
    )
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("columns: 3, rows: 8", "columns: 6, rows: 8")
        .replace("pitch_x_mm: 70, pitch_y_mm: 37", "pitch_x_mm: 35, pitch_y_mm: 35"),
        encoding="utf-8",
    )
    from surveyor.exports.labels import min_text_column_mm

    with pytest.raises(FormError) as info:
        load_layout(str(path))
    [problem] = info.value.problems
    assert ": qr_mm: the text beside the QR gets -1.5 mm" in problem
    assert f"needs {min_text_column_mm():.1f} mm" in problem and "(4.8 pt)" in problem
    checked = run("forms", "check", str(path))
    assert checked.returncode == 2 and "gets -1.5 mm" in checked.stderr


def test_the_code_beside_the_qr_never_prints_below_its_minimum() -> None:
    from surveyor.exports.labels import (
        MIN_CODE_PT,
        WIDEST_CODE_EM,
        code_size,
        min_text_column_mm,
    )

    font = register_font(str(setup_font().path))
    widest = "NK-WWWWW-WWWWW"
    # The constant the stock check uses is the packaged font's widest code.
    assert WIDEST_CODE_EM - 0.1 < text_width(widest, font, 1) <= WIDEST_CODE_EM
    assert code_size(widest, font, 1.0) == MIN_CODE_PT  # a column too narrow: not below it
    assert code_size(widest, font, min_text_column_mm() * MM) >= MIN_CODE_PT - 1e-9
    assert code_size("NK-7Q3FK-2M9AB", font, 1000) == 8.2
    # Every shipped stock holds the widest code at the minimum beside its QR.
    for name in ("a4_3x8", "l7160", "thermal_50x30"):
        assert load_layout(name).text_column[1] >= text_width(widest, font, MIN_CODE_PT)


def test_a_long_building_number_is_never_cut_on_a_thermal_label(tmp_path: Path) -> None:
    """The form allows 10 characters; beside a long compound name on the 50 × 30 mm label the
    number was cut ('东区十二号楼…')."""
    number = "东区十二号楼甲单元乙"
    data = label({**LONG_ZH, "building_no": number}, "complete")
    pdf = render([data], tmp_path / "thermal.pdf", "thermal_50x30")
    text = "".join(pdf_text(pdf).split())
    assert number in text or all(part in text for part in (number[:5], number[5:]))
    words = [w.text for w in pdf_words(pdf)]
    assert not any(w.endswith("…") and w.removesuffix("…") in number for w in words if w)
    [uri] = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert uri == data.uri


# ---------------------------------------------------------------- the printer's margin


def test_label_text_keeps_clear_of_the_printers_margin(tmp_path: Path) -> None:
    """On a4_3x8 the code under the QR sat 2.5 mm from the sheet's left and bottom edges,
    inside the ~4 mm most laser printers leave unprinted; every word now keeps 4 mm."""
    layout = load_layout("a4_3x8")
    items = [
        label(LONG_ZH if i % 2 else WORN, "complete", f"NK-00000-{i:05d}")
        for i in range(layout.per_page)
    ]
    pdf = render(items, tmp_path / "labels.pdf", "a4_3x8")
    words = pdf_words(pdf)
    margin = 4 * MM - 0.05
    assert min(w.x0 for w in words) >= margin
    assert min(w.y0 for w in words) >= margin
    assert max(w.x1 for w in words) <= A4_W - margin
    assert max(w.y1 for w in words) <= A4_H - margin
    decoded = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert sorted(decoded) == sorted(i.uri for i in items)
    assert layout.margin_mm == 4 and layout.margin_edges() == []  # nothing to warn of


@pytest.mark.parametrize(("old", "new", "edge"), [("offset_x_mm: 0", "offset_x_mm: -2.5", "left")])
def test_a_stock_that_cannot_keep_the_margin_is_warned_of(
    tmp_path: Path, old: str, new: str, edge: str
) -> None:
    """Moved 2.5 mm left, the left column's QR modules come within 4 mm of the edge: `forms
    check` says so beside its ok, and so does the export; the shipped stocks say nothing."""
    path = layout_file(tmp_path, old, new)
    assert load_layout(str(path)).margin_edges() == [edge]
    checked = run("forms", "check", str(path))
    assert checked.returncode == 0, checked.stderr
    assert (
        f"; warning: label layout a4_3x8: the labels at the sheet's {edge} edge" in checked.stdout
    )
    stock = run("forms", "check", *(str(p) for p in sorted(LAYOUT_DIR.glob("*.yaml"))))
    assert stock.returncode == 0 and "warning" not in stock.stdout


def test_a_roll_printer_prints_to_the_edge() -> None:
    layout = load_layout("thermal_50x30")
    assert layout.margin_mm == 0 and layout.margin_edges() == []
    box, missed = layout.text_box(0)
    assert missed == () and box.left == layout.padding_mm * MM


# ---------------------------------------------------------------- the code under the QR

#: A roll label with the smallest QR allowed and room under it for the code.
SMALL_QR = (
    "layout: small_qr\ntitle: {zh: 小二维码标签, en: Small QR label}\n"
    "page: {width_mm: 40, height_mm: 26}\nlabel: {width_mm: 40, height_mm: 26}\n"
    "grid: {columns: 1, rows: 1, left_mm: 0, top_mm: 0, pitch_x_mm: 40, pitch_y_mm: 26}\n"
    "qr_mm: 18\npadding_mm: 1\ncalibration: {offset_x_mm: 0, offset_y_mm: 0}\n"
)


def test_the_code_under_an_18mm_qr_is_never_cut(tmp_path: Path) -> None:
    """The code under the QR is what is read off a label whose QR will not scan; under an
    18 mm QR the widest printed as 'NK-WWWWW-WW…'. It shrinks to fit; a stock where even the
    smallest readable size cannot fit is refused, naming the stock."""
    path = tmp_path / "small_qr.yaml"
    path.write_text(SMALL_QR, encoding="utf-8")
    widest = "NK-WWWWW-WWWWW"
    data = label(WORN, "complete", widest)
    pdf = render([data], tmp_path / "small.pdf", str(path))
    words = [w.text for w in pdf_words(pdf)]
    assert words.count(widest) == 2, words  # beside the QR and under it, whole
    assert not [w for w in words if "…" in w and w.startswith("NK-")], words
    [uri] = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert uri == data.uri
    # A printer's margin that pushes the code under the QR right leaves it 9.8 mm.
    cramped = tmp_path / "cramped.yaml"
    cramped.write_text(SMALL_QR + "printer_margin_mm: 10\n", encoding="utf-8")
    with pytest.raises(FormError) as info:
        load_layout(str(cramped))
    [problem] = info.value.problems
    assert ": qr_mm: label layout small_qr: the building code under the QR gets 9.8 mm" in problem
    checked = run("forms", "check", str(cramped), "--lang", "zh")
    assert checked.returncode == 2
    assert "qr_mm：标签版式 small_qr：二维码下方的楼栋编号只有 9.8 毫米宽" in checked.stderr
