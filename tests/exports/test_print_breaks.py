"""Printed lines never break a number from its measure word nor split the label's count of
rules to check: the thermal label broke '南开区城厢中路17 / 号' and '待核 / 实5'."""

from __future__ import annotations

import itertools
from pathlib import Path

from surveyor.exports.fonts import register_font, setup_font
from surveyor.exports.text import text_width, wrap
from tests.exports.conftest import pdf_text
from tests.exports.test_print_content import WORN, derive, label, render


def test_label_lines_keep_a_number_with_its_word_and_the_open_count_whole() -> None:
    """The thermal label broke '南开区城厢中路17 / 号' and '待核 / 实5'."""
    font = register_font(str(setup_font().path))
    em = text_width("号", font, 6.4)
    texts = ("南开区城厢中路17号", "和平路3单元102室", "B10 W3 T5 P1×3 待核实5", "1984年建成")
    for text in texts:
        for width in (em * n / 4 for n in range(16, 60)):
            lines = wrap(text, font, 6.4, width, max_lines=10)
            assert "".join(lines).replace(" ", "") == text.replace(" ", ""), (width, lines)
            for before, after in itertools.pairwise(lines):
                assert not (before[-1].isdigit() and after[0] in "号楼栋单层户室年"), lines
                assert not (before.endswith(("待", "待核")) and after.startswith(("核", "实"))), (
                    lines
                )
                assert not (before.endswith("待核实") and after[0].isdigit()), lines


def test_the_thermal_label_prints_the_address_number_with_its_hao(tmp_path: Path) -> None:
    answers = {**WORN, "address": "南开区城厢中路17号", "roof_insulation": "unknown"}
    data = label(answers, "complete")
    assert "待核实" in data.classes_short
    pdf = render([data], tmp_path / "thermal.pdf", "thermal_50x30")
    lines = [line.strip() for line in pdf_text(pdf).splitlines() if line.strip()]
    assert any("17号" in line for line in lines), lines
    n_open = len(derive(answers).undetermined)
    assert any(f"待核实{n_open}" in line.replace(" ", "") for line in lines), lines
