"""What printed sheets and labels must not hide or garble: a building under review, an answer
the form refuses, a character the font lacks, a stock with no room for its text or whose text
sits in the printer's unprintable margin. Rendered to PDF and read back with the real poppler
and zxing tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.labels import load_layout
from surveyor.exports.text import text_width
from surveyor.forms.model import FormError
from tests.exports.conftest import decode_qr, pdf_text, pdf_words, render_pages
from tests.exports.test_print_content import (
    DRAFT,
    LONG_ZH,
    label,
    layout_file,
    one_line,
    render,
    sheet,
)

MM = 72 / 25.4


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


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
