"""Plain-terminal rendering of a building for ``surveyor show`` (rich, not textual)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from surveyor.forms.display import format_value, status_label
from surveyor.forms.model import Form
from surveyor.forms.record import Evaluation
from surveyor.i18n import t_in
from surveyor.services.survey import BuildingState, KeptBuilding, kept_elsewhere_error
from surveyor.sync.review import ConflictDetail
from surveyor.text import can_break, colon, no_break_before, wrap_text


def print_building(
    form: Form,
    state: BuildingState,
    ev: Evaluation,
    lang: str,
    *,
    merged_into: KeptBuilding | None = None,
    role: str = "laptop",
    conflicts: Sequence[ConflictDetail] = (),
) -> None:
    """The building's answers by section, in ``lang``; a deleted one says so first, and its
    open conflicts (each value, who set it and when) come before the answers: the "open
    problems" ``show`` promises, which a laptop holding three of them did not print.

    An answer the form no longer asks (elevators counted, then "has elevator" answered no)
    stays in its place, beside the answer that hid it, marked as not asked: the database keeps
    it, but the sheet, the needs and the data exports leave it out."""
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
    if conflicts:
        _print_conflicts(console, form, conflicts, lang)
    in_conflict = {d.field_key for d in conflicts}
    for section in form.sections:
        table = Table(
            title=section.title.get(lang),
            title_justify="left",
            show_header=False,
            box=None,
            padding=(0, 1),
        )
        # A long answer is wrapped onto more lines, never cut: a remark without spaces (Chinese)
        # was one "word" too long for its column and ended in "…", also when piped to a file.
        table.add_column(no_wrap=True)
        table.add_column()
        table.add_column(no_wrap=True)
        shown = False
        for fdef in section.fields:
            fld = form.field(fdef.id)
            value = ev.values.get(fld.id) if fld.type == "calculate" else state.answers.get(fld.id)
            if value is None and fld.id not in ev.missing:
                continue
            shown = True
            marks = []
            if fld.id in in_conflict:
                marks.append(f"[magenta]{t_in(lang, 'show.in_conflict')}[/]")
            if fld.id not in ev.relevant:  # only a stored answer gets here: a hidden one
                marks.append(f"[dim]{t_in(lang, 'show.not_asked')}[/]")
            elif fld.id in ev.errors:
                marks.append(f"[red]! {escape(ev.errors[fld.id].get(lang))}[/]")
            elif fld.id in ev.missing:
                marks.append(f"[yellow]{'必填' if zh else 'required'}[/]")
            elif fld.id in ev.warnings:  # the app's note under the field: allowed, unlikely
                said = t_in(lang, "show.warning", message=ev.warnings[fld.id].get(lang))
                marks.append(f"[yellow]{escape(said)}[/]")
            mark = " ".join(marks)
            answer = Wrapped(format_value(fld, value, lang))
            table.add_row(escape(fdef.label.get(lang)), answer, mark)
        if shown:
            _print_whole(console, table)


class Wrapped:
    """Plain text (never markup) wrapped as the app wraps it (``surveyor.text.wrap_text``) at
    the width Rich gives it: Rich folds Chinese anywhere, and split "13号楼" into "13号" / "楼"."""

    def __init__(self, text: str) -> None:
        self.paragraphs = text.split("\n")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """As narrow as its widest stretch a line may not break inside, as wide as its
        longest paragraph."""
        widest = max(cell_len(p) for p in self.paragraphs)
        whole = max(_widest_unbreakable(p) for p in self.paragraphs)
        return Measurement(min(whole, options.max_width), min(widest, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = [line for p in self.paragraphs for line in wrap_text(p, options.max_width)]
        yield Text("\n".join(lines), no_wrap=True, end="")


def _widest_unbreakable(text: str) -> int:
    """Cells of the widest stretch of ``text`` with no break allowed inside it."""
    forbidden = no_break_before(text)
    widest, start = 0, 0
    for at in range(1, len(text) + 1):
        if at == len(text) or can_break(text, at, forbidden):
            widest = max(widest, cell_len(text[start:at].strip(" ")))
            start = at
    return widest


def _print_whole(console: Console, table: Table) -> None:
    """``table`` folded to the terminal's width; piped or redirected, as wide as its longest
    answer, so a script or a file gets each answer whole on its line."""
    if not console.is_terminal:
        needed = Measurement.get(console, console.options.update_width(100_000), table).maximum
        if needed > console.width:
            console = Console(highlight=False, width=needed)
    console.print(table)


def _print_conflicts(
    console: Console, form: Form, conflicts: Sequence[ConflictDetail], lang: str
) -> None:
    """Each open conflict in the words the app shows under the field (``conflict_note``),
    with the field's name in front."""
    from surveyor.sync.wording import conflict_note, field_name

    console.print(f"[magenta]{escape(t_in(lang, 'show.open_conflicts', n=len(conflicts)))}[/]")
    for d in conflicts:
        note = conflict_note(form, d, lang)
        if d.field_key in form.fields:  # the note leaves the field to the screen it is under
            note = field_name(form, d.field_key, lang) + colon(lang) + note
        line = Text("  ")
        line.append(note)  # values and names typed by inspectors: never markup
        # Folded in a terminal; piped, each conflict whole on its line.
        if console.is_terminal:
            console.print(line, overflow="fold")
        else:
            console.print(line, soft_wrap=True)
