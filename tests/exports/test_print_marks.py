"""What printed sheets and labels must not hide or garble: a building under review, an answer
the form refuses, a character the font lacks, a stock with no room for its text or whose text
sits in the printer's unprintable margin. Rendered to PDF and read back with the real poppler
and zxing tools."""

from __future__ import annotations

from pathlib import Path

from tests.exports.conftest import pdf_text
from tests.exports.test_print_content import DRAFT, one_line, render, sheet

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
