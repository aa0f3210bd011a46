"""Words under a field wrap as Chinese is set: no line starts with closing punctuation.

Textual folds Chinese anywhere, so at 80×24 the 给水管年份 message (35 cells wide there) left
its 。 alone on the second line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget

from surveyor.text import NO_LINE_END, NO_LINE_START, wrap_text
from surveyor.tui.widgets.field_row import FieldRow
from tests.tui.conftest import AppFactory, run, settle
from tests.tui.test_flows import first_with_status, open_at, open_survey


def drawn_lines(widget: Widget) -> list[str]:
    """The lines ``widget`` draws, as text, trailing blanks dropped."""
    region = widget.region.reset_offset
    return [strip.text.rstrip() for strip in widget.render_lines(region)]


def test_closing_punctuation_goes_down_with_the_character_before_it() -> None:
    assert wrap_text("给水管年份须在1900年至调查年份之间。", 35) == [
        "给水管年份须在1900年至调查年份之",
        "间。",
    ]
    assert wrap_text("（纬度）之间。", 6) == ["（纬", "度）之", "间。"]
    assert wrap_text("请核实“地上层数”", 8) == ["请核实", "“地上层", "数”"]  # “ ends no line
    assert wrap_text("纬度38.9–39.3，经度", 12) == ["纬度", "38.9–39.3，", "经度"]  # nor cut 38.9
    assert wrap_text("The year must be between 1950 and the survey year.", 20) == [
        "The year must be",
        "between 1950 and the",
        "survey year.",
    ]
    for width in range(4, 40):
        for text in (
            "给水管年份须在1900年至调查年份之间。",
            "户数超过“地上层数×单元数×8”，请核实户数、层数和单元数。",
        ):
            lines = wrap_text(text, width)
            assert "".join(lines) == text
            assert not any(line[0] in NO_LINE_START for line in lines[1:]), (width, lines)
            assert not any(line[-1] in NO_LINE_END for line in lines[:-1]), (width, lines)


def test_a_wrapped_message_keeps_its_full_stop_at_80_by_24(
    sample_db: Path, make_app: AppFactory
) -> None:
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            await screen.goto_field("water_pipe_year")
            await pilot.press(*"1899", "enter")  # before 1900: refused, said when left
            await settle(app, pilot)
            row = screen.query_one("#row-water_pipe_year", FieldRow)
            lines = drawn_lines(row.query_one(".message"))
            hint = next(i for i, line in enumerate(lines) if line.startswith("提示："))
            assert "".join(lines[:hint]) == "给水管年份须在1900年至调查年份之间。"
            assert hint == 2  # it does wrap at this size
            assert lines[hint - 1] == "间。", lines  # was "。" alone

    run(body)


def test_f1s_overview_never_starts_a_line_with_closing_punctuation(
    sample_db: Path, make_app: AppFactory
) -> None:
    """F1's overview, in Chinese, had lines starting with 、 and 。 at some widths (the
    conflict review's, the longest, is shown here over the list)."""

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            app.screen.HELP_OVERVIEW = "help.review_overview"  # type: ignore[attr-defined]
            app.screen.help_values = lambda: {"seconds": "5"}  # type: ignore[attr-defined]
            await pilot.press("f1")
            await settle(app, pilot)
            overview = app.screen.query_one("#overview")
            for width in (60, 66, 72, 80, 90, 100):
                await pilot.resize_terminal(width, 24)
                await settle(app, pilot)
                lines = [line.lstrip() for line in drawn_lines(overview) if line.strip()]
                assert len(lines) > 1  # it wraps
                assert not any(line[0] in NO_LINE_START for line in lines), (width, lines)

    run(body)


@pytest.mark.parametrize(
    ("lang", "field_id", "label"),
    [
        ("zh", "windows_replaced_share", "已更换节能窗户比例*"),
        ("zh", "ebike_indoors", "电动车楼道停放充电*"),
        ("en", "balcony_condition", "Balcony condition*"),
        ("zh", "survey_date", "调查日期 *"),  # a shorter label keeps its space
    ],
)
def test_the_required_mark_stays_on_the_labels_line_at_80_columns(
    sample_db: Path, make_app: AppFactory, lang: str, field_id: str, label: str
) -> None:
    """A required label of nine Chinese characters fills the 18 cells of the label column
    (19 with its padding): " *" after it went alone onto a second line."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, field_id)
            row = screen.query_one(f"#row-{field_id}", FieldRow)
            lines = [line for line in drawn_lines(row.query_one(".label")) if line]
            assert lines == [label], lines

    run(body)


#: Each stretch the one rule (``surveyor.text.no_break_before``) keeps on one line.
WHOLE = ("13号楼", "3单元", "502室", "2024年")
REMARK = "请到南开区城厢中路13号楼3单元502室核实，该楼外墙保温于2024年更换。"


def split_stretches(lines: list[str]) -> list[str]:
    """The stretches of ``WHOLE`` that no line holds whole (split across lines)."""
    return [piece for piece in WHOLE if not any(piece in line for line in lines)]


def test_a_number_keeps_its_measure_word_on_screen_and_on_paper() -> None:
    """The app's wrapping split "13号楼" into "13号" / "楼" and "2024年" into "2024" / "年" (only
    the PDF's kept them): the app, the CLI and the PDF now ask one rule."""
    from surveyor.exports.fonts import register_font, setup_font
    from surveyor.exports.text import wrap

    assert wrap_text(REMARK, 22)[0] == "请到南开区城厢中路"  # "…中路13号" / "楼…" before
    for width in range(8, 60):
        lines = wrap_text(REMARK, width)
        assert "".join(lines) == REMARK
        assert split_stretches(lines) == [], (width, lines)
    font = register_font(str(setup_font().path))
    for width in range(50, 300, 7):
        printed = wrap(REMARK, font, 6.4, width, 20)
        assert "".join(printed) == REMARK and split_stretches(printed) == [], (width, printed)


def stretches_split(text: str, lines: list[str]) -> list[str]:
    """The stretches of ``text`` the one rule keeps whole (``unbreakable_spans``) that no
    drawn line holds whole."""
    from surveyor.text import unbreakable_spans

    pieces = [text[a:b] for a, b in unbreakable_spans(text)]
    return [piece for piece in pieces if not any(piece in line for line in lines)]


def test_a_long_label_keeps_13号楼_whole_at_80_by_24(
    sample_db: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Labels were Textual ``Static`` text, which folds Chinese anywhere: in the label column
    (18 cells) 「备注：城厢中路13号楼3单元2024年改造」 broke as 「…中路13号」 / 「楼3单元…」.
    They wrap by the rule the messages, the PDF and ``show`` use."""
    from surveyor.forms.model import Localized

    label = "备注：城厢中路13号楼3单元2024年改造"
    from surveyor.forms.catalog import get_form

    fld = get_form().field("address")  # the app's form: the loader caches it
    monkeypatch.setattr(
        fld, "defn", fld.defn.model_copy(update={"label": Localized(zh=label, en="Address")})
    )
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_at(app, pilot, target.id, "address")
            row = screen.query_one("#row-address", FieldRow)
            lines = [line for line in drawn_lines(row.query_one(".label")) if line]
            assert len(lines) > 1  # it does wrap at this size
            assert "".join(lines) == label + " *", lines  # required: its mark after it
            assert stretches_split(label, lines) == [], lines

    run(body)


def test_f1_field_help_keeps_years_whole_at_80_by_24(sample_db: Path, make_app: AppFactory) -> None:
    """F1's help for a field (label, hint, rule) was a ``Static`` too: its hint could break a
    number from its measure word where a line ended (7 / 层, 3号 / 楼)."""
    target = first_with_status(sample_db, "not_started")

    async def body() -> None:
        app = make_app(sample_db, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_survey(app, pilot, target.id)
            for field_id in ("building_no", "structure_type"):
                await screen.goto_field(field_id)
                await settle(app, pilot)
                assert screen.focused is not None and screen.focused.id == field_id
                await pilot.press("f1")
                await settle(app, pilot)
                lines = drawn_lines(app.screen.query_one("#field-help"))
                hint = app.form.field(field_id).defn.hint
                assert hint is not None and len([line for line in lines if line]) > 2
                assert stretches_split(hint.zh, lines) == [], lines
                assert not any(line.lstrip()[:1] in NO_LINE_START for line in lines if line)
                await pilot.press("f1")
                await settle(app, pilot)

    run(body)
