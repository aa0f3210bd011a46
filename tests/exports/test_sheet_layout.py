"""The retrofit-need sheet's layout is data (exports/sheet_a4.yaml): what the file says is what
the sheet prints, and a file with a mistake is refused line by line before a page is drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from surveyor.exports.labels import label_layouts
from surveyor.exports.layoutfile import LAYOUT_DIR
from surveyor.forms.model import FormError
from tests.exports.conftest import pdf_text
from tests.exports.test_print_content import line_with, one_line, render, sheet, sheet_layout
from tests.retrofit.records import CLEAN

SHEET_A4 = (LAYOUT_DIR / "sheet_a4.yaml").read_text(encoding="utf-8")


def sheet_file(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """sheet_a4.yaml with each (old, new) replaced once."""
    text = SHEET_A4
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "sheet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        sheet_layout(str(path))
    return info.value.problems


def surveyor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "surveyor", *args], capture_output=True, text=True, timeout=300
    )


def test_sheet_prints_the_words_and_facts_of_its_layout_file(tmp_path: Path) -> None:
    path = sheet_file(
        tmp_path,
        (
            'district: {zh: 天津市南开区, en: "Nankai District, Tianjin"}',
            'district: {zh: 天津市河西区, en: "Hexi District, Tianjin"}',
        ),
        ("  - household_count\n", "  - wall_material\n"),
        ("  count: 2 ", "  count: 0 "),
        ("  - {zh: 复核人签字, en: Reviewer}\n", ""),
        ("  zh: 本表为普查结论，", "  zh: 本表仅供试点，"),
    )
    layout = sheet_layout(str(path))
    text = one_line(pdf_text(render([sheet(CLEAN, layout=layout)], tmp_path / "s.pdf", layout)))
    assert "天津市河西区 · Hexi District, Tianjin" in text
    assert "南开区" not in text
    assert "外墙材料 External wall material 现浇混凝土" in text
    assert "户数" not in text
    assert "无照片" not in text  # no thumbnail boxes
    assert "调查人签字 Inspector" in text and "复核人签字" not in text
    assert "本表仅供试点，不替代房屋安全鉴定" in text


def test_key_fact_with_a_second_answer_prints_it_in_brackets() -> None:
    facts = {zh: value for zh, _, value in sheet(CLEAN).facts}
    assert facts["建成年份"] == "2016年（档案）"


def test_element_grades_come_from_the_layout_file(tmp_path: Path) -> None:
    leaking = {**CLEAN, "roof_leakage": "local"}

    def roof_grade(layout_path: Path | None) -> int:
        layout = sheet_layout(str(layout_path)) if layout_path else sheet_layout()
        conditions = {c.title_zh: c.grade for c in sheet(leaking, layout=layout).conditions}
        return conditions["屋面"]

    assert roof_grade(None) == 2
    harsher = sheet_file(
        tmp_path,
        (
            "{field: roof_leakage, short: 渗漏, grade: {local: 2,",
            "{field: roof_leakage, short: 渗漏, grade: {local: 3,",
        ),
    )
    assert roof_grade(harsher) == 3


def test_each_mistake_in_a_sheet_layout_is_named_at_its_line(tmp_path: Path) -> None:
    path = sheet_file(
        tmp_path,
        ("  - energy_era\n", "  - energy_eraa\n"),
        ("  - floors_below\n", "  - photo_defects\n"),
        (
            "{field: roof_leakage, short: 渗漏, grade: {local: 2, severe: 3}}",
            "{field: roof_leakage, short: 渗漏, grade: {local: 2, sever: 3}}",
        ),
        ("{field: heat_metering, short: 计量", "{field: year_built, short: 计量"),
        ("photo_defects, photo_stairwell", "photo_defects, year_built"),
        ("  zh: 本表为普查结论，", "  zh: 本表为普查结论，" + "请注意" * 10),
    )
    problems = problems_of(path)
    expected = [
        (line_with(path, "energy_eraa"), "key_facts.1: the form residential_census"),
        (line_with(path, "  - photo_defects"), "key_facts.4: a photo field cannot be printed"),
        (
            line_with(path, "sever: 3"),
            "grade.sever: 'roof_leakage' has no option 'sever' "
            "(its options: none, local, severe, unknown)",
        ),
        (line_with(path, "{field: year_built, short"), "only a choice field can grade"),
        (line_with(path, "photo_defects, year_built"), "photos.fields.2: 'year_built' is not"),
        (line_with(path, "请注意"), "disclaimer.zh: too long for its line on the sheet"),
    ]
    assert len(problems) == len(expected), problems
    for (line, words), said in zip(expected, problems, strict=True):
        assert said.startswith(f"{path}:{line}: "), said
        assert words in said, said


def test_sheet_layout_settings_are_bounded(tmp_path: Path) -> None:
    path = sheet_file(tmp_path, ("qr_mm: 30 ", "qr_mm: 12 "), ("  count: 2 ", "  count: 3 "))
    problems = problems_of(path)
    assert any(p.startswith(f"{path}:{line_with(path, 'qr_mm')}: qr_mm:") for p in problems)
    assert any(
        p.startswith(f"{path}:{line_with(path, 'count: 3')}: photos.count:") for p in problems
    )


def test_sheet_export_refuses_a_bad_layout_and_writes_nothing(
    sample_db: Path, tmp_path: Path
) -> None:
    bad = sheet_file(tmp_path, ("  - energy_era\n", "  - energy_eraa\n"))
    out = tmp_path / "sheets.pdf"
    done = surveyor(
        "export", "sheets", "--db", str(sample_db), "--out", str(out), "--layout", str(bad)
    )
    assert done.returncode == 2, done.stderr
    assert f"{bad}:{line_with(bad, 'energy_eraa')}: key_facts.1" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_a_layout_of_the_other_kind_is_refused_saying_what_it_is(
    sample_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.pdf"
    labels = surveyor(
        "export",
        "labels",
        "--db",
        str(sample_db),
        "--out",
        str(out),
        "--layout",
        str(LAYOUT_DIR / "sheet_a4.yaml"),
    )
    assert labels.returncode == 2
    assert "this is a sheet layout (its top-level key is 'sheet'), not a label layout" in (
        labels.stderr
    )
    by_name = surveyor(
        "export", "labels", "--db", str(sample_db), "--out", str(out), "--layout", "sheet_a4"
    )
    assert "unknown label layout 'sheet_a4'; use one of a4_3x8, l7160, thermal_50x30" in (
        by_name.stderr
    )
    sheets = surveyor(
        "export", "sheets", "--db", str(sample_db), "--out", str(out), "--layout", "a4_3x8"
    )
    assert "unknown sheet layout 'a4_3x8'; use one of sheet_a4" in sheets.stderr
    assert not out.exists()


def test_forms_check_checks_every_print_layout() -> None:
    files = sorted(str(p) for p in LAYOUT_DIR.glob("*.yaml"))
    done = surveyor("forms", "check", *files)
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    assert (
        f"{LAYOUT_DIR / 'sheet_a4.yaml'}: ok (sheet layout sheet_a4, 14 key facts, "
        "9 elements)" in said
    )
    assert f"{LAYOUT_DIR / 'l7160.yaml'}: ok (label layout l7160, 21 per page)" in said


def test_label_choosers_list_the_label_stocks_of_the_folder_only() -> None:
    names = [name for name, _ in label_layouts("zh")]
    assert names == ["a4_3x8", "l7160", "thermal_50x30"]
    assert dict(label_layouts("en"))["l7160"] == "Avery L7160 (21 per sheet, 63.5x38.1 mm)"


def test_forms_check_says_its_ok_lines_and_a_layouts_problems_in_chinese(tmp_path: Path) -> None:
    """Under --lang zh the "ok (…)" lines and the checks of a layout as a whole (a fact the form
    has not, a line too long for the sheet) were English."""
    forms = Path(__file__).resolve().parents[2] / "forms"
    files = [*sorted(LAYOUT_DIR.glob("*.yaml")), *sorted(forms.glob("*.yaml"))]
    done = surveyor("forms", "check", *(str(p) for p in files), "--lang", "zh")
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    assert len(said) == len(files) and not [line for line in said if "ok" in line], said
    assert f"{LAYOUT_DIR / 'l7160.yaml'}：通过（标签版式 l7160，每页 21 枚）" in said
    assert any(
        line.startswith(f"{forms / 'residential_census.yaml'}：通过（表单 ") for line in said
    )
    bad = sheet_file(
        tmp_path,
        ("  - energy_era\n", "  - energy_eraa\n"),
        ("  zh: 本表为普查结论，", "  zh: 本表为普查结论，" + "请注意" * 10),
    )
    refused = surveyor("forms", "check", str(bad), "--lang", "zh")
    assert refused.returncode == 2
    problems = refused.stderr.splitlines()[:-1]
    assert problems[0].startswith(f"{bad}:{line_with(bad, 'energy_eraa')}: key_facts.1：表单 ")
    assert "中没有字段「energy_eraa」" in problems[0]
    assert "disclaimer.zh：在需求单上超出了它的一行" in problems[1], problems
