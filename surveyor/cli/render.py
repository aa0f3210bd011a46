"""Plain-terminal rendering of a building for ``surveyor show`` (rich, not textual)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from surveyor.forms.model import CompiledField, Form
from surveyor.forms.record import Evaluation
from surveyor.services.survey import BuildingState


def format_value(fld: CompiledField, value: Any, lang: str) -> str:
    """An answer as a person reads it: option labels, units, 'yes'/'no'."""
    if value is None:
        return ""
    if fld.type == "select_one" or (fld.type == "calculate" and fld.choices):
        return f"{fld.choice_label(str(value), lang)} [{value}]"
    if fld.type == "select_multiple" and isinstance(value, list):
        return ", ".join(fld.choice_label(str(v), lang) for v in value)
    if fld.type == "boolean":
        yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
        return yes if value is True else no if value is False else str(value)
    if fld.type == "photo" and isinstance(value, list):
        return ", ".join(str(p.get("sha256", ""))[:12] for p in value)
    if fld.type == "geopoint" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    unit = f" {fld.defn.unit.get(lang)}" if fld.defn.unit and value != "unknown" else ""
    return f"{value}{unit}"


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
