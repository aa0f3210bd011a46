"""Plain-terminal rendering of a building for ``surveyor show`` (rich, not textual)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from surveyor.forms.display import format_value, status_label
from surveyor.forms.model import Form
from surveyor.forms.record import Evaluation
from surveyor.services.survey import BuildingState, KeptBuilding, kept_elsewhere_error


def print_building(
    form: Form,
    state: BuildingState,
    ev: Evaluation,
    lang: str,
    *,
    merged_into: KeptBuilding | None = None,
    role: str = "laptop",
) -> None:
    """The building's answers by section, in ``lang``; a deleted one says so first."""
    zh = lang == "zh"
    console = Console(highlight=False)
    complete = f"完成度 {ev.completeness:.0%}" if zh else f"{ev.completeness:.0%} complete"
    console.print(
        f"[bold]{escape(state.code)}[/]  {escape(status_label(state.status, lang))}  "
        f"{complete}  {'表单' if zh else 'form'} {escape(state.form_version)}"
    )
    if merged_into is not None and not merged_into.here:
        # The kept building is not in this database: say how to get it, never a raw id.
        said = kept_elsewhere_error(role, state.code, merged_into.code).text(lang)
        console.print(f"[red]{escape(said)}[/]")
    elif merged_into is not None:
        console.print(
            f"[red]{'重复记录，已并入' if zh else 'merged into'} {escape(merged_into.code)}"
            f"{'' if zh else ' (a duplicate)'}[/]"
        )
    elif state.deleted:
        console.print(f"[red]{'已删除' if zh else 'deleted'}[/]")
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
                mark = f"[yellow]{'必填' if zh else 'required'}[/]"
            table.add_row(
                escape(fdef.label.get(lang)), escape(format_value(fld, value, lang)), mark
            )
        if shown:
            console.print(table)
