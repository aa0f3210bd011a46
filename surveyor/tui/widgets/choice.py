"""A keyboard-first choice widget: a code digit or letter picks, ``/`` filters, multi-select.

Options are shown inline and wrap, so a 12-option list takes two or three lines, not twelve.
Keys: the option's key (1–9, then a–z; full-width １ from a Chinese IME too) picks it; arrows
move the highlight; space picks the highlighted option (toggles it in a multiple choice);
Delete or Backspace clears the answer; ``/``, any other non-ASCII character (Chinese) or a key
that is no option's starts a filter over the labels; backspace edits it and escape clears
it; enter on a filter picks the option it names (``best_match``: exact, the only one starting
with it, the only one containing it; never a guess among several), otherwise enter asks to
move on to the next field.

Text typed into a choice by mistake (a field the skip logic has just put before the remarks
box caught the remarks typed after Enter) never vanishes unseen: a filter that matches no
option says so on its line and in a toast naming the field as a choice list (one at a time:
Enter again, or more keys, do not pile up copies), Enter keeps it,
and leaving the field with it says the text was not recorded, quoting it. Such keys used to
be dropped without a word, the remarks lost. A paste is treated the same: a short one goes in
as typed keys would, a long one (a whole note) is said at once not to be recorded.
The filter's line wraps like the options (it was cut at the edge of an 80-column screen),
and the list is laid out again when the filter starts, changes or ends.

A single choice picked again stays picked: a key pressed twice (a bouncy key, a second look)
used to clear the answer without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from surveyor.i18n import language, t
from surveyor.sync.wording import joined_names
from surveyor.text import normalize_text, wrap_text
from surveyor.tui.toasts import ToastOnce
from surveyor.tui.widgets.keys import forward_if_moved, run_binding_now

KEYS = "123456789abcdefghijklmnopqrstuvwxyz"
GAP = 2
#: Characters of a long text quoted in a toast that says it is not recorded (a paste, the
#: text left in a filter on quitting).
QUOTED_CHARS = 20
#: Cells before an option's label ("(*)1 "): a wrapped label goes on under itself.
TOKEN_INDENT = 5


@dataclass(frozen=True)
class Option:
    code: str
    label: str


class ChoiceField(Widget, can_focus=True):
    """Single (``multiple=False``) or multiple choice over a short list of coded options."""

    DEFAULT_CSS = """
    ChoiceField {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $surface;
        text-wrap: nowrap;  /* _grid has wrapped the lines: they must stay as counted */
    }
    ChoiceField:focus {
        background: $boost;
    }
    ChoiceField.-invalid {
        border-left: outer $error;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,up", "move(-1)", "choice.key_previous", show=False, id="choice.previous"),
        Binding("right,down", "move(1)", "choice.key_next", show=False, id="choice.next"),
        Binding("space", "pick", "choice.key_pick", show=False, id="choice.pick"),
        Binding("delete,backspace", "clear", "choice.key_clear", show=False, id="choice.clear"),
        Binding("escape", "end_filter", "choice.key_end_filter", show=False, id="choice.unfilter"),
    ]

    highlighted: reactive[int] = reactive(0)
    # Both change the widget's height (the filter line, the options shown): a layout each
    # time. A repaint only kept the height of the last layout: "3" then "9" typed at once
    # (one layout, taken mid-filter, with no option matching "9") left the list one line
    # tall after Esc, the option just picked out of sight.
    filter_text: reactive[str] = reactive("", layout=True)
    filtering: reactive[bool] = reactive(False, layout=True)

    class Changed(Message):
        """The selection changed; ``value`` is a code, a list of codes, or None."""

        def __init__(self, choice: ChoiceField, value: str | list[str] | None) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> ChoiceField:
            return self.choice

    class Submitted(Message):
        """Enter was pressed: move to the next field."""

        def __init__(self, choice: ChoiceField) -> None:
            super().__init__()
            self.choice = choice

        @property
        def control(self) -> ChoiceField:
            return self.choice

    def __init__(
        self,
        options: list[Option],
        *,
        multiple: bool = False,
        value: str | list[str] | None = None,
        id: str | None = None,
        classes: str | None = None,
        label: str = "",
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.options = options
        self.multiple = multiple
        self.selected: list[str] = self._as_list(value)
        #: The field's label, for the toasts about text that matches no option.
        self.label = label
        #: This filter's "no option matches" toast was shown (once per filter).
        self._no_match_told = False
        #: That toast, not said again while it is on the screen.
        self._no_match_toast = ToastOnce()
        #: The highlight was moved with the arrows since the filter last changed: Enter
        #: picks it, not the filter's ``best_match``.
        self._arrowed = False
        #: The "several options match" toast, not said again while it is on the screen.
        self._ambiguous_toast = ToastOnce()

    @staticmethod
    def _as_list(value: object) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        return [str(value)]

    # -- value ----------------------------------------------------------------------------
    @property
    def value(self) -> str | list[str] | None:
        if self.multiple:
            return list(self.selected) or None
        return self.selected[0] if self.selected else None

    @property
    def unmatched(self) -> bool:
        """True while a filter's text matches no option (the keys typed would be lost)."""
        return self.filtering and bool(self.filter_text) and not self.matching()

    def matching(self) -> list[tuple[int, Option]]:
        """The options that match the filter, with their index in the full list."""
        needle = self.filter_text.lower()
        return [
            (i, o)
            for i, o in enumerate(self.options)
            if not needle or needle in o.label.lower() or needle in o.code.lower()
        ]

    def pick(self, code: str) -> None:
        """Choose ``code`` (toggle it in a multiple choice) and post ``Changed``."""
        if self.multiple:
            if code in self.selected:
                self.selected.remove(code)
            else:
                # A stored code the form lacks (a newer form's, a damaged draft) goes last.
                order = {o.code: i for i, o in enumerate(self.options)}
                self.selected = sorted(
                    {*self.selected, code}, key=lambda c: (order.get(c, len(order)), c)
                )
        elif self.selected == [code]:
            return
        else:
            self.selected = [code]
        self._changed()

    def show_value(self, value: str | list[str] | None) -> None:
        """Show ``value``, stored by another program, without posting ``Changed``: it is
        saved already, and recording it again would make it this screen's answer."""
        self.selected = self._as_list(value)
        self.refresh(layout=True)

    def _changed(self) -> None:
        self.refresh(layout=True)
        self.post_message(self.Changed(self, self.value))

    # -- keys -----------------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        shown = self.matching()
        if not shown:
            return
        positions = [i for i, _ in shown]
        try:
            at = positions.index(self.highlighted)
        except ValueError:
            at = -1 if step > 0 else 0
        self.highlighted = positions[(at + step) % len(positions)]
        self._arrowed = True

    def action_clear(self) -> None:
        if self.selected:
            self.selected = []
            self._changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While filtering, Backspace edits the filter (on_key) and Esc ends it; otherwise Esc
        # is the screen's (leave the building) and Backspace clears the answer.
        if action == "end_filter":
            return self.filtering
        return not (action == "clear" and self.filtering)

    def action_end_filter(self) -> None:
        self._end_filter()

    def action_pick(self) -> None:
        shown = dict(self.matching())
        if self.highlighted in shown:
            self.pick(shown[self.highlighted].code)

    async def on_key(self, event: events.Key) -> None:
        if forward_if_moved(self, event) or await run_binding_now(self, event):
            return
        key, char = event.key, event.character
        if key == "enter":
            event.stop()
            if self.unmatched:
                self._tell_no_match()  # nothing to pick: the text stays, Esc clears it
            elif self.filtering:
                self._enter_in_filter()
            else:
                advance = getattr(self.screen, "advance_from", None)
                if advance is not None and self.id is not None:
                    advance(self.id)
                else:
                    self.post_message(self.Submitted(self))
            return
        if key == "backspace" and self.filtering:
            event.stop()
            self.filter_text = self.filter_text[:-1]
            self._filter_edited()
            return
        if char is None or not char.isprintable() or char == " ":
            return
        event.stop()
        self._typed(char)

    def _enter_in_filter(self) -> None:
        """Enter on a filter picks the option it names (``best_match``) or the one moved to
        with the arrows. When several labels contain the text and none is or starts with it,
        it picks nothing and says how many match: 跨越 picked 「垂直单管顺流（无跨越管）」,
        the first label containing it, the opposite of what was meant."""
        shown = dict(self.matching())
        if not shown:
            self._end_filter()
            return
        if (self._arrowed or not self.filter_text) and self.highlighted in shown:
            chosen: int | None = self.highlighted
        else:
            chosen = self.best_match()
        if chosen is None:
            said = t("survey.choice_ambiguous", count=len(shown), text=self.filter_text)
            self._ambiguous_toast.say(self.app, said)
            return
        self.highlighted = chosen
        self.pick(self.options[chosen].code)
        self._end_filter()

    def best_match(self) -> int | None:
        """The index of the option the filter names: the one whose label (or code) is the
        text, else the only one starting with it, else the only one containing it; None
        when several start with it or contain it (垂直 on 室内系统形式: Enter must not guess)."""
        needle = self.filter_text.lower()
        shown = self.matching()
        if not needle:
            return None
        exact = [i for i, o in shown if needle in (o.label.lower(), o.code.lower())]
        if exact:
            return exact[0]
        starting = [
            i
            for i, o in shown
            if o.label.lower().startswith(needle) or o.code.lower().startswith(needle)
        ]
        if starting:
            return starting[0] if len(starting) == 1 else None
        return shown[0][0] if len(shown) == 1 else None

    def _typed(self, text: str) -> None:
        """A printable key (or a short paste): a one-character option key picks its option;
        anything else goes into the filter, seen."""
        if self.filtering:
            self.filter_text += text
            self._filter_edited()
            return
        # As typed with a Chinese IME on: 「１」 is 1 (NFKC, as number fields read ４户).
        key = normalize_text(text).lower()
        index = KEYS.find(key)
        if len(key) == 1 and key.isascii() and 0 <= index < len(self.options):
            self.highlighted = index
            self.pick(self.options[index].code)
            return
        # "/", Chinese, or a key that is no option's (8 in a list of four): a filter, seen.
        self.filtering = True
        self.filter_text = "" if key == "/" else text
        self._filter_edited()

    def on_paste(self, event: events.Paste) -> None:
        """A paste is typed text too: one that could name an option (one line, no longer than
        the longest label) goes in as typed keys would; a longer one (a note pasted where the
        remarks box was expected) is said at once, quoting its start, and not recorded. Pastes
        used to be dropped without a word."""
        event.stop()
        text = event.text.strip()
        if not text:
            return
        longest = max((len(o.label) for o in self.options), default=0)
        if "\n" not in text and "\r" not in text and len(text) <= longest:
            self._typed(text)
            return
        said = t(
            "survey.choice_paste_dropped",
            label=self.label or self.id,
            count=len(text),
            start=quoted_start(text),
        )
        self.app.notify(said, severity="warning", markup=False, timeout=10)

    def _filter_edited(self) -> None:
        """After the filter text changed: highlight the first match, or say once that the
        text matches no option of this choice list."""
        self._highlight_first()
        if self.unmatched and not self._no_match_told:
            self._tell_no_match()

    def _tell_no_match(self) -> None:
        """A toast: this field is a choice list and what was typed matches no option; not
        again while it is still on the screen. Enter said it again on every press: "6 Enter
        0 Enter 3 Enter" left four identical toasts over half an 80×24 screen."""
        self._no_match_told = True
        said = t("survey.choice_no_match_told", label=self.label or self.id)
        self._no_match_toast.say(self.app, said)

    def _highlight_first(self) -> None:
        """Highlight the option Enter would pick; none (-1) while the text is ambiguous, so
        the highlight never suggests a guess (the arrows then start from the first match)."""
        self._arrowed = False
        best, shown = self.best_match(), self.matching()
        if best is not None:
            self.highlighted = best
        elif self.filter_text and len(shown) > 1:
            self.highlighted = -1
        elif shown:
            self.highlighted = shown[0][0]

    def _end_filter(self) -> None:
        self.filtering = False
        self.filter_text = ""
        self._no_match_told = False
        self._arrowed = False

    def on_blur(self) -> None:
        # Leaving with text that matches nothing: it is not kept, but it is said, quoted, with
        # the answer the field holds. 1994 typed here picked option 1 with its 1: saying only
        # that 「994」 was not recorded read as if nothing had been.
        if self.unmatched:
            label, text = self.label or self.id, self.filter_text
            names = [o.label for o in self.options if o.code in self.selected]
            if names:
                answer = joined_names(names, language())
                said = t("survey.choice_dropped_kept", label=label, text=text, answer=answer)
            else:
                said = t("survey.choice_dropped", label=label, text=text)
            self.app.notify(said, severity="warning", markup=False)
        self._end_filter()

    # -- rendering ------------------------------------------------------------------------
    def _token(self, index: int, option: Option) -> str:
        chosen = option.code in self.selected
        marks = ("[x]", "[ ]") if self.multiple else ("(*)", "( )")
        key = KEYS[index] if index < len(KEYS) else " "
        return f"{marks[0] if chosen else marks[1]}{key} {option.label}"

    def _grid(self, width: int) -> list[list[tuple[int, str]]]:
        """Options flowed into lines of at most ``width`` cells, as (option index, text) pieces.

        Short options share a line; one too long for a line of its own wraps, its label going
        on under itself. The widget's height is this count of lines, so every option is drawn
        (a label that wrapped on its own used to push the last line of options out of sight).
        """
        lines: list[list[tuple[int, str]]] = []
        used = 0
        for index, option in self.matching():
            token = self._token(index, option)
            size = cell_len(token)
            if lines and used + GAP + size <= width:
                lines[-1].append((index, token))
                used += GAP + size
            elif size <= width:
                lines.append([(index, token)])
                used = size
            else:
                first, *rest = wrap_cells(token, width, indent=TOKEN_INDENT)
                lines.append([(index, first)])
                lines.extend([(index, piece)] for piece in rest)
                used = width  # nothing shares a wrapped option's last line
        return lines

    def _filter_lines(self, width: int) -> list[Text]:
        """The filter's line, wrapped to ``width`` cells: "筛选：" and the text typed, then
        the "no option matches" note, on a line of its own when it does not fit after them
        (it was cut at the edge: "筛选：9.5,117.2_  无匹配选项（Esc")."""
        if not self.filtering:
            return []
        prefix = t("survey.choice_filter")
        lines = [
            Text(piece, style="bold") for piece in wrap_text(prefix + self.filter_text + "_", width)
        ]
        lines[0].stylize("not bold italic", 0, len(prefix))
        if self.unmatched:
            note = t("survey.choice_no_match")
            if cell_len(lines[-1].plain) + GAP + cell_len(note) <= width:
                lines[-1].append(" " * GAP)
                lines[-1].append(note, style="bold red")
            else:
                lines += [Text(piece, style="bold red") for piece in wrap_text(note, width)]
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._filter_lines(width)) + len(self._grid(width)))

    def render(self) -> Text:
        width = max(1, self.content_size.width)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        lines = self._filter_lines(width)
        for r, line in enumerate(lines):
            if r:
                text.append("\n")
            text.append_text(line)
        focused = self.has_focus
        for r, row in enumerate(self._grid(width)):
            if r or lines:
                text.append("\n")
            for n, (index, piece) in enumerate(row):
                if n:
                    text.append(" " * GAP)
                style = "bold" if self.options[index].code in self.selected else ""
                if focused and index == self.highlighted:
                    style += " reverse"
                text.append(piece, style=style.strip())
        return text


def quoted_start(text: str) -> str:
    """The start of a long text, on one line, for a toast that quotes it (the whole text
    would cover the screen)."""
    start = " ".join(text.split())
    return start if len(start) <= QUOTED_CHARS else start[:QUOTED_CHARS] + "..."


def wrap_cells(text: str, width: int, *, indent: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, the lines after the first indented by
    ``indent`` spaces; Latin breaks at a space when it can, Chinese anywhere but before
    closing punctuation (``surveyor.text.wrap_text``); the first line keeps its "(*)1 " whole."""
    return wrap_text(text, width, indent=indent, keep=indent)
