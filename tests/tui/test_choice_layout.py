"""Every option of a choice list is on screen, however its labels wrap (80×24 gives the
widget about 34 cells)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.geometry import Region

from surveyor.forms.catalog import get_form
from surveyor.tui.widgets.choice import KEYS, ChoiceField, Option, wrap_cells
from tests.tui.conftest import run

FORM = get_form()
CHOICE_FIELDS = [f for f in FORM.fields.values() if f.choices]


class Host(App[None]):
    """An empty app to mount one choice list at a time into."""


async def shown_lines(app: Host, pilot: Any, options: list[Option], width: int) -> list[str]:
    """The lines a choice list of ``width`` cells draws for ``options`` (multiple choice)."""
    await app.screen.remove_children()
    field = ChoiceField(options, multiple=True)
    field.styles.width = width
    await app.screen.mount(field)
    await pilot.pause()
    size = field.outer_size
    return [strip.text.rstrip() for strip in field.render_lines(Region(0, 0, *size))]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_option_of_the_form_is_shown_at_80_columns(lang: str) -> None:
    async def body() -> None:
        app = Host()
        async with app.run_test(size=(80, 60)) as pilot:
            for fld in CHOICE_FIELDS:
                options = [Option(c.code, c.label(lang)) for c in fld.choices]
                lines = await shown_lines(app, pilot, options, 36)  # 34 cells inside padding
                text = "".join("".join(line.split()) for line in lines)
                for i, option in enumerate(options):
                    whole = f"[]{KEYS[i]}" + "".join(option.label.split())
                    assert whole in text, (fld.id, option.label, lines)

    run(body)


def test_a_long_label_wraps_under_itself_at_a_space() -> None:
    token = "[ ]1 Energy & heat-metering retrofit (about 2007–2016)"
    assert wrap_cells(token, 34, indent=5) == [
        "[ ]1 Energy & heat-metering",
        "     retrofit (about 2007–2016)",
    ]
    assert wrap_cells("( )1 很长很长很长的选项名称", 12, indent=5) == [
        "( )1 很长很",
        "     长很长",
        "     的选项",
        "     名称",
    ]
