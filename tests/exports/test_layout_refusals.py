"""A broken label layout is refused in the language asked for, at its file:line; an empty file,
a list, or a stock whose ``layout:`` key is mistyped gets one sentence that says what it is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from surveyor.exports.layoutfile import LAYOUT_DIR

STOCK = (LAYOUT_DIR / "a4_3x8.yaml").read_text(encoding="utf-8")


def sv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["surveyor", *args], capture_output=True, text=True)


def stock(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def labels(db: Path, layout: Path, *more: str) -> subprocess.CompletedProcess[str]:
    out = layout.with_suffix(".pdf")
    done = sv(
        "export", "labels", "--db", str(db), "--out", str(out), "--layout", str(layout), *more
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert not out.exists()
    return done


def test_common_problems_are_said_in_chinese_when_asked(sample_db: Path, tmp_path: Path) -> None:
    """Under --lang zh a layout's problems read "错误：" and pydantic's English."""
    text = (
        STOCK.replace("padding_mm: 2.5", "padding_mm: -1")
        .replace("qr_mm: 30", "qr_mm: 大")
        .replace("calibration: {offset_x_mm: 0, offset_y_mm: 0}\n", "")
        .replace("columns: 3", "columns: 21")
    )
    bad = stock(tmp_path, "bad.yaml", text)
    expected = {
        "zh": [
            f"{bad}:{line_of(text, 'qr_mm')}: qr_mm：应为数字",
            f"{bad}:{line_of(text, 'padding_mm')}: padding_mm：应大于或等于 0",
            f"{bad}:{line_of(text, 'grid')}: grid.columns：应小于或等于 20",
            f"{bad}:{line_of(text, 'layout')}: calibration：缺少此项（必填）",
        ],
        "en": [
            f"{bad}:{line_of(text, 'padding_mm')}: padding_mm: Input should be greater than or "
            "equal to 0",
            f"{bad}:{line_of(text, 'layout')}: calibration: Field required",
        ],
    }
    for lang, lines in expected.items():
        said = labels(sample_db, bad, "--lang", lang).stderr
        checked = sv("forms", "check", str(bad), "--lang", lang)
        assert checked.returncode == 2
        for line in lines:
            assert line in said, said
            assert line in checked.stderr.splitlines(), checked.stderr
        assert ("Input should" in said) == (lang == "en")
    assert sv("forms", "check", str(bad), "--lang", "zh").stderr.endswith("错误：1 个文件有错误\n")


@pytest.mark.parametrize(
    ("content", "en", "zh"),
    [
        ("", "the file is empty; a label layout is a mapping", "文件是空的"),
        ("# only a comment\n", "the file is empty", "文件是空的"),
        ("- a4_3x8\n", "this is not a label layout: it must be a mapping", "这不是标签版式"),
        ("24\n", "this is not a label layout", "这不是标签版式"),
    ],
)
def test_an_empty_or_list_layout_is_one_sentence(
    sample_db: Path, tmp_path: Path, content: str, en: str, zh: str
) -> None:
    """It said ``empty.yaml:0: layout: Input should be a valid dictionary or instance of
    LabelLayout``."""
    path = stock(tmp_path, "stock.yaml", content)
    for lang, said in (("en", f"error: {path}: {en}"), ("zh", f"错误：{path}：{zh}")):
        done = labels(sample_db, path, "--lang", lang)
        assert done.stderr.startswith(said), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Input should" not in done.stderr


@pytest.mark.parametrize("typo", ["Layout", "LAYOUT", "layuot", "lay_out"])
def test_a_mistyped_layout_key_is_asked_about(sample_db: Path, tmp_path: Path, typo: str) -> None:
    """``forms check`` of a stock whose top key read ``Layout:`` checked it as a census form
    (form: Field required …, every label key an unknown key)."""
    text = STOCK.replace("layout: a4_3x8", f"{typo}: a4_3x8")
    path = stock(tmp_path, "typo.yaml", text)
    line = line_of(text, typo)
    checked = sv("forms", "check", str(path))
    assert checked.returncode == 2
    problems = checked.stderr.splitlines()[:-1]
    assert problems == [
        f"{path}:{line}: {typo}: did you mean 'layout'? (a label layout starts with it)"
    ]
    zh = sv("forms", "check", str(path), "--lang", "zh").stderr
    assert f"{path}:{line}: {typo}：是否应为「layout」？" in zh
    said = labels(sample_db, path).stderr
    assert said == f"error: {problems[0]}\n"


def test_forms_check_still_checks_a_form_and_says_an_empty_file(tmp_path: Path) -> None:
    empty = stock(tmp_path, "empty.yaml", "")
    done = sv("forms", "check", str(empty), "--lang", "zh")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{empty}：文件是空的", "错误：1 个文件有错误"]
    form = stock(tmp_path, "form.yaml", "form: x\nversion: 1\nsection: []\n")
    done = sv("forms", "check", str(form))
    assert "sections: Field required" in done.stderr and "did you mean" not in done.stderr


def test_a_stocks_whole_layout_checks_are_said_in_chinese(tmp_path: Path) -> None:
    """Labels that would overlap, or no room beside the QR, were said in English under zh."""
    text = STOCK.replace("pitch_x_mm: 70", "pitch_x_mm: 60")
    bad = stock(tmp_path, "overlap.yaml", text)
    checked = sv("forms", "check", str(bad), "--lang", "zh")
    assert checked.returncode == 2
    line = line_of(text, "grid")
    assert checked.stderr.splitlines()[0] == (
        f"{bad}:{line}: grid.pitch_x_mm：60 毫米小于 label.width_mm（70 毫米），相邻的标签会重叠"
    )
    narrow = stock(
        tmp_path, "narrow.yaml", STOCK.replace("width_mm: 70, height", "width_mm: 45, height")
    )
    checked = sv("forms", "check", str(narrow), "--lang", "zh")
    assert "qr_mm：二维码旁的文字只有 " in checked.stderr, checked.stderr
