"""Plain-terminal rendering of a building for ``surveyor show`` (rich, not textual)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from surveyor.forms.display import format_value
from surveyor.forms.model import Form
from surveyor.forms.record import Evaluation
from surveyor.services.survey import BuildingState


def print_building(form: Form, state: BuildingState, ev: Evaluation, lang: str) -> None:
    console = Console(highlight=False)
    console.print(
        f"[bold]{escape(state.code)}[/]  {escape(state.status)}  "
        f"{ev.completeness:.0%} complete  form {escape(state.form_version)}"
    )
    for section in form.sections:
        table = Table(
            title=section.title.get(lang),
            title_justify="left",
            show_header=False,
            box=None,
            padding=(0, 1),
        )
        shown = False
        for fdef in section.fields:
            fld = form.field(fdef.id)
            value = ev.values.get(fld.id) if fld.type == "calculate" else state.answers.get(fld.id)
            if value is None and fld.id not in ev.missing:
                continue
            shown = True
            mark = ""
            if fld.id in ev.errors:
                mark = f"[red]! {escape(ev.errors[fld.id].get(lang))}[/]"
            elif fld.id in ev.missing:
                mark = "[yellow]required[/]"
            table.add_row(
                escape(fdef.label.get(lang)), escape(format_value(fld, value, lang)), mark
            )
        if shown:
            console.print(table)
