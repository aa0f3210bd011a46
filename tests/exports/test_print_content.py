"""What printed sheets and labels say, for hand-made records: rendered to PDF, read back with
pdftotext, rendered with pdftoppm and decoded with zxing-cpp."""

from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from reportlab.graphics import renderPDF
from reportlab.lib import colors

from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.labels import LabelData, load_layout, prepare_label
from surveyor.exports.layoutfile import LAYOUT_DIR
from surveyor.exports.render import RenderSpec, render_pdf
from surveyor.exports.report import _bar
from surveyor.exports.sheet import BoxesPart, _box_blocks, _Pen, more_line, plan_pages
from surveyor.exports.sheetdata import SheetData, prepare_sheet
from surveyor.exports.sheetlayout import DEFAULT_SHEET_LAYOUT, SheetLayout, load_sheet_layout
from surveyor.exports.text import text_width, wrap
from surveyor.forms.catalog import get_form
from surveyor.forms.model import FormError
from surveyor.retrofit import derive_needs, get_params, get_rules
from surveyor.retrofit.derive import INDICATORS, NeedsReport
from surveyor.text import NO_LINE_END, NO_LINE_START
from tests.exports.conftest import Word, decode_qr, pdf_text, pdf_words, render_pages
from tests.retrofit.records import CLEAN

CODE = "NK-7Q3FK-2M9AB"
REGISTER_ONLY = {
    k: CLEAN[k]
    for k in ("district", "subdistrict", "community", "compound_name", "building_no", "address")
}


def derive(answers: dict[str, Any]) -> NeedsReport:
    form = get_form()
    params = get_params()
    return derive_needs(form, get_rules(form, params), params, answers)


def summary_of(records: list[Any]) -> Any:
    """The district report's summary of hand-made building records."""
    from surveyor.exports.report import summarize

    form = get_form()
    reports = {r.code: derive(r.answers) for r in records}
    return summarize(form, records, reports, get_rules(form, get_params()))


def sheet_layout(name: str = DEFAULT_SHEET_LAYOUT) -> SheetLayout:
    return load_sheet_layout(name, get_form(), register_font(str(setup_font().path)))


def sheet(
    answers: dict[str, Any], status: str = "complete", layout: SheetLayout | None = None
) -> SheetData:
    layout = layout or sheet_layout()
    return prepare_sheet(get_form(), CODE, status, answers, derive(answers), layout)


def label(answers: dict[str, Any], status: str = "complete", code: str = CODE) -> LabelData:
    return prepare_label(code, status, answers, derive(answers))


def render(
    items: list[SheetData] | list[LabelData], out: Path, layout: str | SheetLayout | None = None
) -> Path:
    """Labels in the label layout named ``layout``, or sheets in a sheet layout (the default)."""
    if isinstance(layout, str):
        spec = RenderSpec(str(setup_font().path), load_layout(layout))
    else:
        spec = RenderSpec(str(setup_font().path), layout or sheet_layout())
    render_pdf(spec, items, out, jobs=1)
    return out


def sheet_text(tmp_path: Path, answers: dict[str, Any], status: str = "complete") -> str:
    return pdf_text(render([sheet(answers, status)], tmp_path / "sheet.pdf"))


def one_line(text: str) -> str:
    """pdftotext's layout text with runs of spaces folded (columns are spaced out)."""
    return " ".join(text.split())


DRAFT = {**REGISTER_ONLY, "year_built": 1985, "survey_date": "2025-05-01"}


# ---------------------------------------------------------------- 1. needs that were not found


def test_unsurveyed_sheet_says_not_surveyed_not_no_need(tmp_path: Path) -> None:
    text = one_line(sheet_text(tmp_path, REGISTER_ONLY, "not_started"))
    assert "Not surveyed: no needs derived yet" in text
    assert "No retrofit need found" not in text
    assert "No need found so far" not in text
    assert "Not surveyed: rules are decided after the survey" in text


def test_draft_without_needs_says_how_many_rules_are_open(tmp_path: Path) -> None:
    report = derive(DRAFT)
    assert not report.needs and len(report.undetermined) > 10
    n = len(report.undetermined)
    text = one_line(sheet_text(tmp_path, DRAFT, "draft"))
    assert f"No need found so far; {n} rules could not be decided (see the box below)" in text
    assert f"另有{n}条规则无法判断" in text
    assert "No retrofit need found" not in text


def test_decided_record_without_needs_says_no_need_found(tmp_path: Path) -> None:
    report = derive(CLEAN)
    assert not report.needs and not report.undetermined
    assert "未发现改造需求 No retrofit need found" in one_line(sheet_text(tmp_path, CLEAN))


def test_a_label_carries_needs_only_for_a_finished_survey(tmp_path: Path) -> None:
    """A label stays on the door for years: a draft's 'B0 W0 T0' (41 % answered, rules still
    open) read as 'no needs', and '未调查 not surveyed' outlives the survey. Such labels carry the
    building only; the QR leads to the record as it is now."""
    draft = label(DRAFT, "draft", "NK-00000-00001")
    unsurveyed = label(REGISTER_ONLY, "not_started", "NK-00000-00003")
    pdf = render([draft, unsurveyed], tmp_path / "open.pdf", "a4_3x8")
    text = one_line(pdf_text(pdf))
    for word in ("基础", "B0", "W0", "T0", "P1", "草稿", "未调查", "待核实", "调查"):
        assert word not in text, word
    assert text.count(REGISTER_ONLY["address"]) == 2
    assert text.count("NK-00000-00001") == text.count("NK-00000-00003") == 2
    decoded = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert sorted(decoded) == sorted([draft.uri, unsurveyed.uri])


def test_a_finished_label_dates_its_needs_and_counts_the_open_rules(tmp_path: Path) -> None:
    clean = label(CLEAN, "complete", "NK-00000-00002")
    open_answers = {**CLEAN, "roof_insulation": "unknown", "secondary_supply": "unknown"}
    n_open = len(derive(open_answers).undetermined)
    assert n_open >= 1
    checked = label(open_answers, "approved", "NK-00000-00004")
    text = one_line(pdf_text(render([clean, checked], tmp_path / "done.pdf", "a4_3x8")))
    assert text.count("2025-05-01调查") == 2  # the survey date the counts are from
    assert "基础B0 完善W0 提升T0" in text  # every rule decided: no need, truly
    assert f"待核实{n_open}" in text and text.count("待核实") == 1


@pytest.mark.parametrize("layout", ["a4_3x8", "l7160", "thermal_50x30"])
def test_a_finished_label_fits_every_layout(tmp_path: Path, layout: str) -> None:
    answers = {**WORN, "roof_insulation": "unknown"}
    data = label(answers, "approved")
    assert data.classes_short.startswith("B") and "P1×" in data.classes and "待核实" in data.classes
    pdf = render([data], tmp_path / "l.pdf", layout)
    text = one_line(pdf_text(pdf))
    assert "2025-05-01调查" in text
    assert f"待核实{len(derive(answers).undetermined)}" in text.replace(" ", "")
    assert "…" not in text  # nothing of the date or counts is cut
    [uri] = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert uri == data.uri


# ---------------------------------------------------------------- 2. layouts that cannot print

A4_3X8 = (LAYOUT_DIR / "a4_3x8.yaml").read_text(encoding="utf-8")


def layout_file(tmp_path: Path, old: str, new: str, base: str = A4_3X8) -> Path:
    assert old in base, old
    path = tmp_path / "layout.yaml"
    path.write_text(base.replace(old, new, 1), encoding="utf-8")
    return path


def layout_problems(path: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        load_layout(str(path))
    return info.value.problems


def line_with(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("pitch_x_mm: 70", "pitch_x_mm: 60", "grid.pitch_x_mm"),
        ("pitch_y_mm: 37", "pitch_y_mm: 30", "grid.pitch_y_mm"),
        ("offset_x_mm: 0", "offset_x_mm: 15", "calibration.offset_x_mm"),
        ("offset_x_mm: 0", "offset_x_mm: -15", "calibration.offset_x_mm"),
        ("offset_y_mm: 0", "offset_y_mm: 15", "calibration.offset_y_mm"),
        ("offset_y_mm: 0", "offset_y_mm: -15", "calibration.offset_y_mm"),
    ],
)
def test_overlapping_or_off_page_layouts_are_refused(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    path = layout_file(tmp_path, old, new)
    [problem] = layout_problems(path)
    assert problem.startswith(f"{path}:{line_with(path, new)}: {key}: "), problem
    assert "overlap" in problem or "off the page" in problem


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("offset_x_mm: 0", "offset_x_mm: 1"),
        ("offset_x_mm: 0", "offset_x_mm: 2.5"),
        ("offset_x_mm: 0", "offset_x_mm: -2"),
        ("offset_y_mm: 0", "offset_y_mm: 3"),
        ("offset_y_mm: 0", "offset_y_mm: -3"),
    ],
)
def test_small_calibration_offsets_on_edge_to_edge_stock_pass(
    tmp_path: Path, old: str, new: str
) -> None:
    load_layout(str(layout_file(tmp_path, old, new)))


def test_refused_layout_exits_2_in_one_sentence_writing_nothing(
    sample_db: Path, tmp_path: Path
) -> None:
    path = layout_file(tmp_path, "offset_x_mm: 0", "offset_x_mm: 15")
    out = tmp_path / "labels.pdf"
    args = ["export", "labels", "--db", str(sample_db), "--out", str(out), "--layout", str(path)]
    result = subprocess.run(["surveyor", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"{path}:{line_with(path, 'offset_x_mm: 15')}: calibration.offset_x_mm: 15 mm" in line
    assert not out.exists()


# ---------------------------------------------------------------- 3. the sheet's header

LONG_ZH = {
    **CLEAN,
    "compound_name": "长" * 56 + "花园小区",  # 60 characters
    "community": "社" * 38 + "社区",  # 40
    "building_no": "1234567890",
    "address": "南开区" + "长江道" * 22 + "1号",  # 71
}
LONG_EN = {
    **CLEAN,
    "compound_name": "Riverside Garden Residential Compound of the Nankai Water Park",
    "community": "Shuishang Park Community Residents Committee",
    "building_no": "1234567890",
    "address": "No. 1234 Weijin Road South, Nankai District, Tianjin, next to the Water Park",
}
QR_LEFT_PT = 595.2756 - 34.0157 - 30 * 72 / 25.4  # the header QR's left edge (12 mm margin)
QR_BOTTOM_PT = 34.0157 + 30 * 72 / 25.4  # from the page top


@pytest.mark.parametrize(("answers", "status"), [(LONG_ZH, "not_started"), (LONG_EN, "draft")])
def test_long_names_wrap_and_keep_number_code_and_status(
    tmp_path: Path, answers: dict[str, Any], status: str
) -> None:
    pdf = render([sheet(answers, status)], tmp_path / "sheet.pdf")
    words = pdf_words(pdf)
    header = [w for w in words if w.y1 < QR_BOTTOM_PT + 40 and w.x0 < QR_LEFT_PT]
    assert all(w.x1 <= QR_LEFT_PT for w in header), [w for w in header if w.x1 > QR_LEFT_PT]
    text = " ".join(w.text for w in header)
    assert "1234567890" in text.split()
    assert f"Code: {CODE}" in text
    zh, en = {"not_started": ("未开始", "not started"), "draft": ("草稿", "draft")}[status]
    assert f"状态 Status: {zh} {en}" in text
    assert "not_started" not in text  # the raw status code is not printed
    # The address is wrapped, not cut: all of it is there (it fits two lines).
    assert "".join(answers["address"].split()) in "".join(text.split())
    if answers is LONG_EN:
        assert "Water Park 1234567890" in text  # English breaks at spaces, nothing is cut
        assert "Riverside Garden" in text
    else:
        assert "… 1234567890" in text  # the compound name is cut, the number is not


# ---------------------------------------------------------------- 4. text on labels


@pytest.mark.parametrize("layout", ["a4_3x8", "l7160", "thermal_50x30"])
@pytest.mark.parametrize("answers", [LONG_ZH, LONG_EN], ids=["zh", "en"])
def test_label_keeps_the_number_marks_cuts_and_breaks_latin_at_spaces(
    tmp_path: Path, layout: str, answers: dict[str, Any]
) -> None:
    data = label(answers, "complete")
    pdf = render([data], tmp_path / "label.pdf", layout)
    words = [w.text for w in pdf_words(pdf)]
    assert "1234567890" in words  # the number is never cut
    source = " ".join(
        [
            data.compound,
            data.building_no,
            data.address,
            data.status_note,
            data.classes,
            data.classes_short,
        ]
    )
    whole = {*source.split(), CODE}
    for word in words:
        if word.endswith("…") and word.isascii():  # cut Latin: the start of a source word
            assert any(w.startswith(word[:-1]) for w in whole), word
        elif word.isascii():  # Latin: only whole words (no "Di" / "strict")
            assert word in whole, word
        else:  # Chinese breaks anywhere: a piece of the source
            assert word.removesuffix("…") in source, word
    assert any(w.endswith("…") for w in words)  # these names do not fit: the cut is marked
    assert pdf_text(pdf).count(CODE) == 2  # beside and under the QR
    [uri] = decode_qr(render_pages(pdf, tmp_path / "png")[0])
    assert uri == data.uri


def test_printed_lines_break_chinese_punctuation_as_the_screen_does() -> None:
    """A wrapped printed line never ends with an opening bracket (（“) nor starts with closing
    punctuation (，）…％): the same sets as the screen's ``wrap_text``."""
    font = register_font(str(setup_font().path))
    text = "水上公园东路（北段）1号楼，燃气立管锈蚀“严重”……需更换；渗水约３５％（估计）。"
    size = 8.0
    em = text_width("楼", font, size)
    seen = 0
    # From four characters wide: "重”……" cannot break, and a line narrower has to cut it.
    for width in (em * n / 4 for n in range(16, 90)):
        lines = wrap(text, font, size, width, max_lines=50)
        assert "".join(lines) == text, (width, lines)
        assert all(text_width(line, font, size) <= width for line in lines), (width, lines)
        assert not any(line[-1] in NO_LINE_END for line in lines[:-1]), (width, lines)
        assert not any(line[0] in NO_LINE_START for line in lines[1:]), (width, lines)
        seen += len(lines) > 1
    assert seen > 50  # most widths wrap


# ---------------------------------------------------------------- 5. the two boxes


def test_undetermined_box_uses_the_page_names_answers_and_counts_inside(tmp_path: Path) -> None:
    report = derive(DRAFT)
    pdf = render([sheet(DRAFT, "draft")], tmp_path / "sheet.pdf")
    words = pdf_words(pdf)
    box = [w for w in words if w.x0 > 595.2756 / 2 and "待核实" not in w.text]
    box_top = next(w for w in words if w.text.startswith("待核实")).y1
    ids = [u.rule_id for u in report.undetermined]
    shown = [w.text for w in box if w.y0 > box_top and w.text in ids]
    assert len(shown) > 20  # not 6: the box reaches down to the footer
    [more] = [w for w in box if w.text.startswith("…另有")]
    rest = len(ids) - len(shown)
    assert more.text == f"…另有{rest}项，见第2页" and rest > 0
    # Each open rule says which answers would decide it, by the form's labels (as the CLI does).
    form = get_form()
    text = one_line(pdf_text(pdf))
    first = report.undetermined[0]
    assert f"{first.rule_id} {first.title.zh}：核实 " in text
    assert form.fields[first.fields[0]].defn.label.zh in text
    # The count line sits inside the box: above its bottom border, found in the rendered page.
    png = render_pages(pdf, tmp_path / "png", dpi=144)[0]
    with Image.open(png) as image:
        grey = image.convert("L")
        x = round((more.x0 - 2) * 2)  # between the border and the text, in pixels at 144 dpi
        dark = [y for y in range(round(more.y1 * 2), grey.height) if grey.getpixel((x, y)) < 128]
    assert dark, "no bottom border below the count line"
    assert more.y1 * 2 < dark[0]
    # The rest continue on page 2, in order: every open rule is printed once.
    later = [w.text for w in pdf_words(pdf, 2) if w.text in ids]
    assert shown + later == ids
    assert "待核实（信息不详）（续）" in one_line(pdf_text(pdf).split("\f")[1])


def test_undetermined_box_never_asks_to_check_a_question_the_form_does_not_ask(
    tmp_path: Path,
) -> None:
    # A 1958 municipal walk-up with cracks and no appraisal done: the appraisal grade is not
    # asked, so A01 waits for S01's appraisal; the roof area is not asked while the roof form
    # is 不详, so the roof form is checked. (Rules 1.3.0 printed 「核实 鉴定结论」 and
    # 「核实 屋面可利用面积」.)
    answers = {
        **CLEAN,
        "year_built": 1958,
        "housing_origin": "public_direct",
        "single_owner": "no",
        "structure_type": "brick_concrete",
        "masonry_deterioration": "none",
        "floors_above": 5,
        "has_elevator": False,
        "structural_cracks": "visible",
        "pv_installed": "no",
        "roof_form": "unknown",
    }
    boxes = sheet(answers).undetermined
    assert "A01 加装电梯可行性：待S01 房屋安全鉴定（JGJ 125-2016）" in boxes
    assert "E11 屋顶光伏评估：核实 屋面形式" in boxes
    text = one_line(pdf_text(render([sheet(answers)], tmp_path / "sheet.pdf")))
    assert "鉴定结论" not in text.split("待核实（信息不详）")[1]
    assert "屋面可利用面积" not in text


def test_box_counts_only_what_does_not_fit() -> None:
    """A box's items as the sheet wraps them (``_box_blocks``) and places them (``plan_pages``):
    all of them when they fill the box exactly, with no "另有1项" line in place of the last;
    else the count line takes the last line and the rest continue on the next page."""
    base = sheet(CLEAN)
    pen = _Pen(None, register_font(str(setup_font().path)))
    area = (300.0, 100.0)  # (top, floor) of the space for the needs, roadmap and boxes

    def planned(items: list[str]) -> tuple[list[list[str]], list[tuple[int, int] | None]]:
        blocks = _box_blocks(pen, replace(base, defaulted=items, undetermined=[]))
        pages = plan_pages([], 0.0, 0.0, [[len(b) for b in box] for box in blocks], area, area)
        boxes = [p for parts in pages for p in parts if isinstance(p, BoxesPart)]
        return blocks[0], [b.items[0] for b in boxes]

    items = [f"S{i:02} 规则" for i in range(1, 80)]
    first = planned(items)[1][0]
    assert first is not None and 0 < first[1] < len(items)
    slots = first[1] + 1  # the items shown and the count line fill the box
    assert planned(items[:slots])[1] == [(0, slots)]  # exactly full: no "另有1项"
    assert planned(items[: slots + 1])[1] == [(0, slots - 1), (slots - 1, slots + 1)]
    assert more_line(2, 2) == "…另有2项，见第2页 (+2 more on page 2)"
    two_line = "E07 热力入口水力平衡：核实 " + "、".join(["热力入口平衡阀"] * 6)
    blocks, shown = planned([two_line, *items[: slots - 1]])
    assert len(blocks[0]) == 2  # wrapped to two lines, and counted as two
    assert shown[0] == (0, slots - 2)


# ---------------------------------------------------------------- 6. element conditions


def test_condition_answers_are_labelled_worst_first_and_unknown_is_unknown(
    tmp_path: Path,
) -> None:
    answers = {
        **CLEAN,
        "stair_defects": ["steps_damaged"],
        "fire_facility_defects": ["none"],
        "corridor_clutter": "serious",
        "electrical_issues": None,
    }
    text = one_line(sheet_text(tmp_path, answers))
    assert "堆物：严重" in text  # the worst answer first (severe), then damaged, then fine
    start = text.index("堆物：")
    assert text.index("楼梯：踏步缺损", start) < text.index("消防：无", start)
    assert "裂缝：无；倾斜沉降：无；砌体：" in text  # every answer says what it answers
    assert "不详 unknown" in text  # electrical: nothing answered
    assert "n/a" not in text


def element_rows(pdf: Path) -> dict[str, str]:
    """The condition table as printed: each element's title → its grade words, and under
    '<title> answers' the line(s) under it (page 1, right column above the needs)."""
    words = pdf_words(pdf)
    top = next(w for w in words if w.text == "部位状况").y1
    bottom = next(w for w in words if w.text.startswith("改造需求")).y0
    half = 595.2756 / 2
    lines: list[list[Word]] = []  # words whose tops are within 2.5 pt: one line
    for w in sorted((w for w in words if w.x0 > half and top < w.y0 < bottom), key=lambda w: w.y0):
        if lines and w.y0 - lines[-1][0].y0 < 2.5:
            lines[-1].append(w)
        else:
            lines.append([w])
    rows: dict[str, str] = {}
    title = ""
    for line in (sorted(ws, key=lambda w: w.x0) for ws in lines):
        first = line[0]
        if first.text in TITLES:  # a title line: the grade is right-aligned after it
            title = first.text
            rows[title] = " ".join(w.text for w in line[2:] if w.x0 > half + 120)
        else:
            key = f"{title} answers"
            rows[key] = (rows.get(key, "") + " " + " ".join(w.text for w in line)).strip()
    return rows


TITLES = ("主体结构", "外墙", "外窗", "屋面", "供暖", "燃气", "给排水", "电气", "楼道消防")


def test_an_unknown_answer_never_leaves_an_element_good(tmp_path: Path) -> None:
    """A mostly-不详 building printed 主体结构 完好 good over "裂缝：不详；砌体：不详", and
    给排水 完好 over "立管：不详"."""
    answers = {
        **CLEAN,
        "structural_cracks": "unknown",
        "masonry_deterioration": "unknown",
        "water_pipe_material": "unknown",
        "roof_leakage": "unknown",
        "roof_insulation": "unknown",
        # Severe render beside an unknown insulation (a list mixing a defect with 'unknown' is
        # refused by the form, and a refused answer grades nothing).
        "wall_insulation": "unknown",
        "facade_defects": ["render_spalling"],
    }
    rows = element_rows(render([sheet(answers)], tmp_path / "sheet.pdf"))
    assert rows["主体结构"] == "部分不详 partly unknown"
    assert rows["给排水"] == "部分不详 partly unknown"
    assert rows["屋面"] == "不详 unknown"  # nothing known at all
    assert rows["外墙"] == "严重损坏 severe"  # nothing hidden can make severe worse
    assert "裂缝：不详" in rows["主体结构 answers"]
    assert rows["电气"] == "完好 good"  # every answer known and fine
    hairline = {**answers, "structural_cracks": "hairline", "masonry_deterioration": "local"}
    rows = element_rows(
        render([sheet({**hairline, "masonry_deterioration": "unknown"})], tmp_path / "b.pdf")
    )
    assert rows["主体结构"] == "基本完好，部分不详 fair, partly unknown"


def test_structure_reads_the_appraisal_balcony_and_alterations(tmp_path: Path) -> None:
    """Appraisal grade D, a severe balcony and a removed bearing wall printed 主体结构 完好."""
    answers = {
        **CLEAN,
        "appraisal_done": "yes",
        "appraisal_grade": "D",
        "appraisal_year": 2020,
        "balcony_condition": "severe",
        "unauthorized_alterations": ["bearing_wall_removed"],
    }
    for change, words in (
        ({}, "严重损坏 severe"),
        ({"appraisal_grade": "A", "balcony_condition": "good"}, "严重损坏 severe"),
        (
            {
                "appraisal_grade": "A",
                "balcony_condition": "exposed_rebar",
                "unauthorized_alterations": ["none"],
            },
            "一般损坏 damaged",
        ),
        (
            {
                "appraisal_grade": "B",
                "balcony_condition": "good",
                "unauthorized_alterations": ["none"],
            },
            "基本完好 fair",
        ),
    ):
        pdf = render([sheet({**answers, **change})], tmp_path / "sheet.pdf")
        assert element_rows(pdf)["主体结构"] == words, change
    text = element_rows(render([sheet(answers)], tmp_path / "sheet.pdf"))["主体结构 answers"]
    for said in ("鉴定：D级（整幢危房）", "阳台：严重（下挠/断裂）", "改建：拆改承重墙"):
        assert said in squeezed(text), said
    # Without an appraisal its grade does not apply: not "unknown", not printed.
    rows = element_rows(render([sheet(CLEAN)], tmp_path / "clean.pdf"))
    assert rows["主体结构"] == "完好 good" and "鉴定" not in rows["主体结构 answers"]


def test_heating_and_gas_without_supply_are_not_applicable(tmp_path: Path) -> None:
    answers = {**CLEAN, "heating_source": "none", "gas_supply": "none"}
    rows = element_rows(render([sheet(answers)], tmp_path / "sheet.pdf"))
    assert rows["供暖"] == "不适用 not applicable"
    assert rows["燃气"] == "不适用 not applicable"
    assert "不详" not in rows["供暖"] + rows["燃气"]


def test_an_element_with_nothing_recorded_prints_no_stray_dash(tmp_path: Path) -> None:
    rows = element_rows(render([sheet(REGISTER_ONLY, "not_started")], tmp_path / "sheet.pdf"))
    assert all(rows[t] == "不详 unknown" for t in TITLES), rows
    assert not [k for k in rows if k.endswith("answers")], rows  # no lone "—" under a title


# ---------------------------------------------------------------- 7. rows wrap instead of cut

WORN = {
    **CLEAN,
    "year_built": 1985,
    "structure_type": "brick_concrete",
    "has_elevator": False,
    "wall_insulation": "none",
    "roof_insulation": "none",
    "window_glazing": "single",
    "windows_replaced_share": "p0",
    "heating_layout": "vertical_single_series",
    "heat_metering": "none",
    "trv": "none",
    "balancing_valve": "no",
    "heating_complaints": "many",
    "rubber_hose": "many",
    "gas_pipe_condition": "corroded",
    "gas_safety_devices": ["none"],
    "water_pipe_material": "cast_iron",
    "water_leaks": "frequent",
    "drain_issues": ["leaking"],
    "electrical_issues": ["aged_wiring", "flying_wires"],
    "stair_defects": ["steps_damaged", "handrail_loose"],
    "fire_facility_defects": ["extinguisher_missing"],
    "corridor_clutter": "serious",
    "entrance_steps": "steps",
    "stair_handrail_wall": "none",
    "antislip": "no",
    "access_control": "none",
    "security_systems": ["none"],
    "smart_meters": ["none"],
    "fiber": "no",
    "smoke_detectors_public": "no",
    "pv_installed": "no",
    "elderly_share": "p30_50",
    "facade_defects": ["render_spalling"],
    "roof_leakage": "severe",
    "dampness": "local",
    "flood_history": "occasional",
}
NEED_ID_X = 34.0157 + 16  # the needs table's id column (12 mm margin)


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("names", [{}, LONG_ZH], ids=["short", "long-header"])
def test_rows_wrap_and_every_need_is_printed(tmp_path: Path, names: dict[str, Any]) -> None:
    answers = {**WORN, **{k: v for k, v in names.items() if k not in WORN or k in REGISTER_ONLY}}
    report = derive(answers)
    assert len(report.needs) >= 25
    data = sheet(answers)
    pdf = render([data], tmp_path / "sheet.pdf")
    ids = [n.rule_id for n in report.needs]
    pages = pdf_text(pdf).split("\f")[:-1]
    assert len(pages) == 2  # 28 needs do not fit one page: they go on to a second
    shown = []
    for number in (1, 2):
        words = pdf_words(pdf, number)
        column = sorted((w for w in words if NEED_ID_X < w.x0 < NEED_ID_X + 4), key=lambda w: w.y0)
        shown.append([w.text for w in column if w.text in ids])
        if number == 1:
            titles = column_text(words, NEED_ID_X + 24, NEED_ID_X + 174)
            for need in report.needs[: len(shown[0])]:  # titles are whole, not "Replace rub…"
                assert squeezed(f"{need.title.zh} {need.title.en}") in titles, need.rule_id
            fact_labels = column_text(words, 34, 170)
            assert squeezed("地下层数 Storeys below ground (incl. semi-basement)") in fact_labels
        else:
            steps = column_text(words, 34, 236)
            assert squeezed("Step 2 Envelope, then heating") in steps
            assert squeezed("Step 3 Accessibility, elevator, function") in steps
    assert shown[0] and shown[1]
    assert shown[0] + shown[1] == ids  # every need, once, in priority order
    first, second = (one_line(p) for p in pages)
    rest = len(shown[1])
    assert f"另有{rest}项，见第2页 {rest} more on page 2" in first
    assert "数据导出" not in first + second
    # The second page says whose it is and which page; the roadmap names only printed needs.
    assert f"楼栋编码 Code: {CODE} 第2页/共2页 page 2 of 2" in second
    assert "第1页/共2页 page 1 of 2" in first
    assert squeezed(answers["address"])[:20] in squeezed(second)
    assert "分步改造路线" not in first and "分步改造路线" in second
    roadmap_ids = {rid for step in report.roadmap for rid in (*step.low_cost, *step.capital)}
    assert roadmap_ids <= set(ids)
    for png in render_pages(pdf, tmp_path / "png"):  # the QR on every page
        assert decode_qr(png) == [data.uri]


def test_a_sheet_that_fits_stays_one_page_without_a_page_number(tmp_path: Path) -> None:
    pdf = render([sheet(CLEAN), sheet(DRAFT, "draft")], tmp_path / "sheets.pdf")
    pages = pdf_text(pdf).split("\f")[:-1]
    assert len(pages) == 3  # the clean record one page; the draft's 40 open rules two
    assert "页/共" not in pages[0] and "page 1 of" not in pages[0]
    assert "第1页/共2页" in pages[1] and "第2页/共2页" in pages[2]


def column_text(words: list[Word], x0: float, x1: float) -> str:
    """The words starting between x0 and x1, top to bottom, without spaces."""
    inside = sorted((w for w in words if x0 <= w.x0 < x1), key=lambda w: (round(w.y0), w.x0))
    return squeezed(" ".join(w.text for w in inside))


# ---------------------------------------------------------------- 8. layout errors: which line


@pytest.mark.parametrize(
    ("old", "new", "where", "key"),
    [
        ("qr_mm: 30", "qr_mm: abc", "qr_mm: abc", "qr_mm"),
        ("qr_mm: 30", "qr_mm: 60", "qr_mm: 60", "qr_mm"),
        ("padding_mm: 2.5", "padding_mm: lots", "padding_mm: lots", "padding_mm"),
        ("padding_mm: 2.5\n", "padding_mm: 2.5\ncolour: red\n", "colour: red", "colour"),
        ("columns: 3", "columns: 4", "grid:", "grid"),
        ("width_mm: 70,", "width_mm: wide,", "label:", "label.width_mm"),
    ],
)
def test_layout_errors_name_the_line_of_their_key(
    tmp_path: Path, old: str, new: str, where: str, key: str
) -> None:
    path = layout_file(tmp_path, old, new)
    [problem] = layout_problems(path)
    assert problem.startswith(f"{path}:{line_with(path, where)}: {key}: "), problem


def test_a_label_title_the_app_would_misalign_is_refused_at_its_line(tmp_path: Path) -> None:
    """The app's dialog lists stocks by title: '×' is ambiguous-width in a CJK terminal."""
    path = layout_file(tmp_path, 'zh: "A4 3x8 标签（70x37 mm）"', 'zh: "A4 3×8 标签（70×37 mm）"')
    [problem] = layout_problems(path)
    assert problem.startswith(f"{path}:{line_with(path, 'title:')}: title.zh: '×' has an ")
    assert "use the letter x" in problem


# ---------------------------------------------------------------- 9. one style per sheet


def test_one_class_format_per_label_sheet(tmp_path: Path) -> None:
    font = register_font(str(setup_font().path))
    layout = load_layout("a4_3x8")
    worn, clean = label(WORN, code="NK-00000-00001"), label(CLEAN, code="NK-00000-00002")
    # the text beside the QR: label less padding, QR and its 1.5 mm gap, in points
    width = (layout.label.width_mm - 2 * layout.padding_mm - layout.qr_mm - 1.5) * 72 / 25.4
    assert text_width(worn.classes, font, 6.4) > width >= text_width(clean.classes, font, 6.4)
    text = one_line(pdf_text(render([worn, clean], tmp_path / "labels.pdf", "a4_3x8")))
    assert worn.classes_short in text and clean.classes_short in text
    assert "基础B" not in text  # not 'B14 W10 T4 P1×7' beside '基础B0 完善W0 提升T0'
    alone = one_line(pdf_text(render([clean], tmp_path / "clean.pdf", "a4_3x8")))
    assert clean.classes in alone  # a sheet where every full form fits keeps it


def test_grade_highlight_spans_its_words(tmp_path: Path) -> None:
    pdf = render([sheet(WORN)], tmp_path / "sheet.pdf")
    words = pdf_words(pdf)
    png = render_pages(pdf, tmp_path / "png", dpi=144)[0]
    marked = [(w, n) for w, n in itertools.pairwise(words) if w.text == "一般损坏"]
    assert marked and all(n.text == "damaged" for _, n in marked)
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        for first, last in marked:
            mid = round(first.y0 + first.y1)  # y at 144 dpi = 2 px per point
            for x_pt in (first.x0 - 1, (first.x1 + last.x0) / 2, last.x1 + 1):
                assert rgb.getpixel((round(x_pt * 2), mid))[2] < 230, (x_pt, "not highlighted")
            assert rgb.getpixel((round((first.x0 - 6) * 2), mid)) == (255, 255, 255)


def test_units_and_estimates_say_what_they_are(tmp_path: Path) -> None:
    text = one_line(sheet_text(tmp_path, WORN))
    assert "2,400 m²" in text and "平方米" not in text  # key facts as the defaulted inputs
    assert "6层" in text  # counting words stay Chinese
    assert "减排CO₂" in text and "t/年" in text
    assert re.search(r"减排\d", text) is None  # not '减排29 t'


# ---------------------------------------------------------------- 10. the district report


def test_report_without_surveyed_records_says_no_data(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    args = ["export", "report", "--db", str(sample_db), "--out", str(out), "--status", "draft"]
    result = subprocess.run(["surveyor", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    page1, page2, page3 = pdf_text(out).split("\f")[:3]
    assert page2.count("无数据 no data") == 3  # needs, indicators, classes: nothing surveyed
    assert "0.002" not in page2 and "0.01" not in page2
    assert "草稿 draft" in page1 and "未开始 not started" in page1  # the legend in words
    assert "not_started" not in page1
    today = date.today().isoformat()
    assert f"page 1 of 3 · {today}" in page1 and f"page 2 of 3 · {today}" in page2
    assert f"page 3 of 3 · {today}" in page3 and "合计 total 0 0 0 0.00" in one_line(page3)


def test_report_households_are_those_of_the_buildings_it_counts_needs_for(
    sample_db: Path, tmp_path: Path
) -> None:
    """'楼栋 2000 · 户数 99,601' summed the households of every building with a count, drafts
    among them, while the needs covered only the complete and approved ones."""
    import json
    import sqlite3

    with sqlite3.connect(sample_db) as con:
        rows = [
            (status, json.loads(answers).get("household_count"))
            for status, answers in con.execute(
                "SELECT status, answers FROM building WHERE deleted = 0"
            )
        ]
    surveyed = [hh for status, hh in rows if status in ("complete", "approved")]
    counted = sum(hh for hh in surveyed if isinstance(hh, int))
    everyone = sum(hh for _, hh in rows if isinstance(hh, int))
    assert everyone > counted  # drafts have household counts too: the old total mixed them
    missing = sum(not isinstance(hh, int) for hh in surveyed)
    out = tmp_path / "report.pdf"
    result = subprocess.run(
        ["surveyor", "export", "report", "--db", str(sample_db), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    page1 = one_line(pdf_text(out).split("\f")[0])
    expected = (
        f"楼栋 buildings {len(rows)} · 已完成调查 surveyed {len(surveyed)} · "
        f"其户数 their households {counted:,}"
    )
    assert expected in page1
    assert f"{everyone:,}" not in page1
    if missing:
        assert f"其中{missing}栋未填户数 {missing} surveyed buildings without a household" in page1
    assert "Households of surveyed buildings by sub-district" in page1


def test_report_says_how_many_surveyed_buildings_have_no_household_count() -> None:
    from surveyor.exports.report import headline
    from surveyor.exports.source import BuildingRecord

    records = [
        BuildingRecord("NK-00000-00001", "complete", {**CLEAN, "household_count": 24}),
        BuildingRecord("NK-00000-00002", "approved", {**CLEAN, "household_count": None}),
        BuildingRecord("NK-00000-00003", "draft", {**CLEAN, "household_count": 500}),
    ]
    summary = summary_of(records)
    assert headline(summary) == [
        "楼栋 buildings 3 · 已完成调查 surveyed 2 · 其户数 their households 24 · "
        "有优先级1需求 with a priority-1 need 0",
        "其中1栋未填户数 1 surveyed building without a household count",
    ]


def test_report_says_how_many_counted_buildings_await_review(tmp_path: Path) -> None:
    """A report printed before the review was finished gave its figures as final: the
    headline says how many buildings have open conflicts or possible-duplicate flags, and how
    many of them are surveyed ones, whose needs and households it counts; the needs page,
    which may be read alone, says it too."""
    from surveyor.exports.report import headline, write_report
    from surveyor.exports.source import BuildingRecord

    answers = {**CLEAN, "household_count": 10}
    records = [
        BuildingRecord("NK-00000-00001", "complete", answers, open_conflicts=2),
        BuildingRecord("NK-00000-00002", "approved", answers, possible_duplicate=True),
        BuildingRecord("NK-00000-00003", "draft", answers, 1, possible_duplicate=True),
        BuildingRecord("NK-00000-00004", "complete", answers),
        BuildingRecord("NK-00000-00005", "draft", answers, possible_duplicate=True),
    ]
    summary = summary_of(records)
    assert headline(summary) == [
        "楼栋 buildings 5 · 已完成调查 surveyed 3 · 其户数 their households 30 · "
        "有优先级1需求 with a priority-1 need 0",
        "待审核：2栋有未解决的冲突，3栋疑似重复；其中2栋已完成调查，计入需求和户数。"
        "审核完成前以上数字为暂定",
        "Under review: 2 buildings with open conflicts, 3 possible duplicates; 2 of them "
        "surveyed, counted in the needs and households. The figures are provisional until "
        "the review is done",
    ]
    font = register_font(str(setup_font().path))
    write_report(tmp_path / "report.pdf", summary, font, "test")
    page2 = one_line(pdf_text(tmp_path / "report.pdf").split("\f")[1])
    assert "需求含2栋待审核楼栋（有冲突或疑似重复），审核完成前为暂定。" in page2
    assert "The needs include 2 buildings under review" in page2
    reviewed = [BuildingRecord(r.code, r.status, r.answers) for r in records]
    summary = summary_of(reviewed)
    assert len(headline(summary)) == 1  # nothing open: nothing said
    write_report(tmp_path / "final.pdf", summary, font, "test")
    assert "审核" not in pdf_text(tmp_path / "final.pdf").replace("已审核", "")


def test_report_counts_the_buildings_each_indicator_is_undetermined_for(tmp_path: Path) -> None:
    """Unknown is never no: the indicator chart counted a building only when a need
    triggered, so the buildings it could not be decided for (A01 open in 287 of 696 sample
    buildings) read as clear. Each bar now adds them, pale, and says both numbers."""
    from surveyor.exports.report import write_report
    from surveyor.exports.source import BuildingRecord

    open_str = {**CLEAN, "structural_cracks": "unknown"}  # S01 undetermined: STR open
    records = [
        BuildingRecord("NK-00000-00001", "complete", open_str),
        BuildingRecord("NK-00000-00002", "approved", {**CLEAN, "structural_cracks": "severe"}),
        BuildingRecord("NK-00000-00003", "complete", open_str),
        BuildingRecord("NK-00000-00004", "draft", open_str),  # not surveyed: not counted
        BuildingRecord("NK-00000-00005", "complete", CLEAN),
    ]
    summary = summary_of(records)
    assert summary.indicators["STR"] == 1
    assert summary.undetermined_indicators == {i: 2 if i == "STR" else 0 for i in INDICATORS}
    font = register_font(str(setup_font().path))
    write_report(tmp_path / "report.pdf", summary, font, "test")
    page2 = one_line(pdf_text(tmp_path / "report.pdf").split("\f")[1])
    assert re.search(r"STR 1 ?\+ ?2 ", page2)  # 1 with the need, 2 undetermined
    assert "有需求 need" in page2 and "无法判定（待核实）undetermined, needs check" in page2


def test_the_printed_report_says_its_figures_await_review(tmp_path: Path) -> None:
    """Checked on the PDF: the review line is printed under the headline, whole."""
    from tests.exports.conftest import central_under_review

    central, _ = central_under_review(tmp_path)
    out = tmp_path / "report.pdf"
    args = ["export", "report", "--central", str(central), "--out", str(out)]
    result = subprocess.run(["surveyor", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    page1 = one_line(pdf_text(out).split("\f")[0])
    headline = "楼栋 buildings 4 · 已完成调查 surveyed 0"
    review = "待审核：1栋有未解决的冲突，2栋疑似重复；均未完成调查，不计入需求和户数。"
    assert headline in page1 and review in page1
    assert page1.index(headline) < page1.index(review) < page1.index("Buildings by sub-district")
    assert "2 possible duplicates; none of them surveyed or in the needs" in page1
    assert "provisional until the review is done" in page1


@pytest.mark.parametrize("peak", [3, 5, 12, 95, 100, 743])
def test_count_axes_end_above_the_longest_bar(peak: int) -> None:
    font = register_font(str(setup_font().path))
    fills = [colors.HexColor("#8e44ad")]
    drawing = _bar(400, 200, [[1, peak, 2]], ["a", "b", "c"], font, fills, horizontal=True)
    renderPDF.drawToString(drawing)  # lays the axes out as a printed page would
    axis = drawing.contents[0].valueAxis
    assert axis._valueMax > peak
    ticks = axis._tickValues
    assert all(float(t).is_integer() for t in ticks)  # counts: whole-number ticks
    assert ticks[-1] > peak  # a labelled tick beyond the longest bar
