"""The form loader checks the definition itself and names file, line and field."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from surveyor.forms.catalog import DEFAULT_FORM
from surveyor.forms.model import FormError, load_form

TEXT = DEFAULT_FORM.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _problems(path: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        load_form(path)
    return info.value.problems


def test_the_census_form_loads(form: object) -> None:
    loaded = load_form(DEFAULT_FORM)
    assert len(loaded.sections) == 14
    assert 115 <= len(loaded.fields) <= 125
    assert loaded.version
    # yes/no option codes stay strings (YAML 1.1 would have made them booleans).
    codes = loaded.field("seismic_retrofit").choice_codes
    assert {"yes", "no", "unknown"} <= codes
    # Every select a field inspector may not be able to see offers 'unknown'.
    for fid in ("appraisal_done", "wall_insulation", "heat_metering", "gas_pipe_condition"):
        assert loaded.field(fid).accepts_unknown(), fid


def test_unknown_reference_names_file_line_and_field(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path,
        ". <= ${floors_above} * ${entrance_count} * 8",
        ". <= ${floor} * ${entrance_count} * 8",
    )
    line = _line_of(text, "- id: household_count")
    assert _problems(path) == [
        f"{path}:{line}: field 'household_count': warn refers to unknown field 'floor'"
    ]


def test_duplicate_id(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "- id: floors_below", "- id: floors_above")
    line = _line_of(text, "- id: floors_above\n        type: integer\n        label: {zh: 地下层数")
    problems = _problems(path)
    assert f"{path}:{line}: field 'floors_above': duplicate field id" in problems


def test_bad_expression_reports_position(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path, 'constraint: ". >= 1 and . <= 60"', 'constraint: ". >= 1 and and . <= 60"'
    )
    line = _line_of(text, "- id: floors_above")
    [problem] = _problems(path)
    assert problem.startswith(
        f"{path}:{line}: field 'floors_above': constraint is not a valid expression"
    )


def test_unknown_type_and_key(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path,
        "- id: floors_above\n        type: integer",
        "- id: floors_above\n        type: number\n        colour: red",
    )
    line = _line_of(text, "- id: floors_above")
    problems = _problems(path)
    assert any(
        p.startswith(
            f"{path}:{line}: field 'floors_above': sections.fields.type: unknown type 'number'"
        )
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}:{line}: field 'floors_above': sections.fields.colour: unknown key")
        for p in problems
    ), problems


def test_select_without_choices_and_unknown_list(tmp_path: Path) -> None:
    path, _text = _broken(tmp_path, "choices: yes_no_unknown", "choices: yes_no_maybe")
    problems = _problems(path)
    assert len(problems) == 1 and "choices refer to unknown list 'yes_no_maybe'" in problems[0]


def test_constraint_without_message(tmp_path: Path) -> None:
    src = Path(__file__).with_name("data") / "mini_form.yaml"
    text = src.read_text(encoding="utf-8").replace(
        "        constraint_message: {zh: 层数应为1至60, en: Storeys must be 1 to 60}\n", ""
    )
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    line = _line_of(text, "- id: floors_above")
    assert _problems(path) == [
        f"{path}:{line}: field 'floors_above': constraint needs a constraint_message in zh and en"
    ]


def test_calculation_cycle(tmp_path: Path) -> None:
    src = Path(__file__).with_name("data") / "mini_form.yaml"
    text = src.read_text(encoding="utf-8") + (
        "      - {id: a, type: calculate, label: {zh: 甲, en: A}, calculate: '${b} + 1'}\n"
        "      - {id: b, type: calculate, label: {zh: 乙, en: B}, calculate: '${a} + 1'}\n"
    )
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    problems = _problems(path)
    assert any("calculations form a cycle: a → b → a" in p for p in problems), problems


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("form: x\nsections:\n  - id: [unclosed\n", encoding="utf-8")
    from surveyor.errors import SurveyorError

    with pytest.raises(SurveyorError, match=rf"^{path}:\d+: "):
        load_form(path)


def test_cli_forms_check(tmp_path: Path) -> None:
    ok = subprocess.run(
        ["surveyor", "forms", "check", str(DEFAULT_FORM)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "14 sections" in ok.stdout
    path, _ = _broken(tmp_path, "- id: floors_below", "- id: floors_above")
    bad = subprocess.run(["surveyor", "forms", "check", str(path)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert f"{path}:" in bad.stderr and "duplicate field id" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_day_or_an_inspector_default_only_on_a_field_of_its_kind(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path, "default: inspector()  # who starts", "default: today()  # who starts"
    )
    line = _line_of(text, "- id: inspector_name")
    assert _problems(path) == [
        f"{path}:{line}: field 'inspector_name': default today() is only for date fields"
    ]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        # The gas-riser photo would never be asked: no gas supply is 'piped_gas'.
        (
            "relevant: \"${gas_supply} = 'piped_ng'\"",
            "relevant: \"${gas_supply} = 'piped_gas'\"",
            "gas_riser_location",
            "relevant: 'piped_gas' is not an option of field 'gas_supply'",
        ),
        (
            "selected-any(${facade_defects}, 'insulation_cracked'",
            "selected-any(${facade_defects}, 'insulation_crackd'",
            "photo_defects",
            "required_if: 'insulation_crackd' is not an option of field 'facade_defects'",
        ),
        # '.' in a warning is the field itself.
        (
            "selected-any(., 'insulation_cracked'",
            "selected-any(., 'insulation_crakd'",
            "facade_defects",
            "warn: 'insulation_crakd' is not an option of field 'facade_defects'",
        ),
    ],
)
def test_a_misspelled_option_code_in_a_condition_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    path, text = _broken(tmp_path, old, new)
    line = _line_of(text, f"- id: {field}\n")
    assert _problems(path) == [f"{path}:{line}: field '{field}': {message}"]
    cli = subprocess.run(["surveyor", "forms", "check", str(path)], capture_output=True, text=True)
    assert cli.returncode == 2 and f"{path}:{line}: field '{field}': {message}" in cli.stderr
