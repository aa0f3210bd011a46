"""One form field on the survey screen: label, the editor for its type, unit, inline messages.

The editor's widget id is the field id, so tests, the "go to field" command and the list of
problems can address it. Values are owned by the screen; the row only shows them.

Free text is a one-line input, except long text (remarks, notes): a few lines tall, soft-wrapped,
where Enter starts a new line and ``ctrl+down`` (or Tab) moves on to the next field; under it,
when the form limits its length, a counter ("123/500").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from surveyor.forms.display import format_value, unit_text
from surveyor.forms.model import UNKNOWN, UNKNOWN_ZH, CompiledField
from surveyor.forms.record import normalize_input
from surveyor.i18n import language, t, t_in
from surveyor.text import without_controls
from surveyor.tui.lifecycle import is_live
from surveyor.tui.text import plain
from surveyor.tui.widgets.choice import ChoiceField, Option
from surveyor.tui.widgets.keys import forward_if_moved, run_binding_now
from surveyor.tui.widgets.note import Note
from surveyor.tui.widgets.photo_field import PhotoField

INPUT_TYPES = frozenset({"text", "integer", "decimal", "date", "geopoint"})
BOOLEAN_CODES = {True: "true", False: "false"}
#: The form has no "appearance" attribute: a text field whose id ends with one of these is long,
#: free text (``inspector_remarks``) and gets a multi-line box.
MULTILINE_SUFFIXES = ("remarks", "remark", "notes", "note")


#: The label column at 80 columns, its last cell padding that parts it from the editor.
LABEL_WIDTH = 19


def required_mark(label: str) -> str:
    """The required mark after ``label``: " *", or "*" after a label on one line that
    leaves no room for the space (nine Chinese characters, 已更换节能窗户比例, fill the
    column but for its padding): " *" went alone onto a second line. A label that wraps
    anyway keeps the space."""
    return "*" if LABEL_WIDTH - 2 <= cell_len(label) <= LABEL_WIDTH - 1 else " *"


def mark_takes_padding(label: str) -> bool:
    """True when ``label`` and its mark fit the column only with its padding cell: the
    label of nine Chinese characters (18 cells), whose "*" went alone onto a second line."""
    return cell_len(label) + 1 == LABEL_WIDTH


def is_multiline(fld: CompiledField) -> bool:
    """True for a long free-text field (remarks, notes), edited in a multi-line box."""
    return fld.type == "text" and fld.id.endswith(MULTILINE_SUFFIXES)


def display_value(fld: CompiledField, value: Any, lang: str) -> str:
    """How a stored (or draft) value is shown in a text input ("unknown" as 不详 in zh)."""
    if value is None:
        return ""
    if value == UNKNOWN and fld.type != "text" and lang == "zh":
        return UNKNOWN_ZH
    if fld.type == "geopoint" and isinstance(value, dict):
        return f"{value.get('lat')},{value.get('lon')}"
    return plain(value).plain  # never a terminal escape, whatever another front end stored


def choice_value(fld: CompiledField, value: Any) -> str | list[str] | None:
    """A stored value as the choice widget's codes."""
    if value is None:
        return None
    if fld.type == "boolean":
        return BOOLEAN_CODES.get(value) if isinstance(value, bool) else str(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def refusal_with_hint(fld: CompiledField, error: str, lang: str) -> str:
    """A refused value's message with the field's hint after it: 2024-2025 typed in
    数据年度/采暖季 said only 「应为整数」 while the hint saying to enter 2024 was in F1 only."""
    hint = fld.defn.hint.get(lang) if fld.defn.hint is not None else ""
    if not hint or hint in error:
        return error
    return t_in(lang, "survey.refused_hint", error=error, hint=hint)


def placeholder_for(fld: CompiledField, lang: str) -> str:
    """A hint that cannot be read as an answer: a bare "39.12,117.15" or "不详" in dim grey
    looked like a recorded location or a recorded "unknown"."""
    if fld.type == "date":
        return "YYYY-MM-DD"
    if fld.type == "geopoint":
        return t_in(lang, "survey.placeholder_geopoint")
    if fld.defn.allow_unknown:  # either word is taken in either language
        return t_in(
            lang, "survey.placeholder_unknown", word=UNKNOWN_ZH if lang == "zh" else UNKNOWN
        )
    return ""


class FieldInput(Input):
    """A text input of the form: Enter moves to the next field at once.

    Arriving in it selects its answer, as a browser's form does on Tab: typing replaces the
    answer, an arrow key keeps it for editing. Without that, correcting "6" floors by typing
    "5" saved 65, and an address typed again was appended to the old one, unnoticed."""

    async def _on_key(self, event: events.Key) -> None:
        if forward_if_moved(self, event):
            return
        advance = getattr(self.screen, "advance_from", None)
        if event.key == "enter" and advance is not None and self.id is not None:
            # Handled here, in key order (keys typed after Enter must not land in this field).
            event.stop()
            event.prevent_default()
            advance(self.id)
            return
        if not await run_binding_now(self, event):
            await super()._on_key(event)


class FieldTextArea(TextArea):
    """A multi-line text field (remarks): soft-wrapped, a few lines tall, autosaved like the
    rest. Enter starts a new line; ``ctrl+down`` (or Tab) moves on to the next field.

    Arriving in it (Enter, Tab, a jump, reopening the building) puts the cursor at the end of
    the note, where one adds to it: it was before the note, and "XYZ " typed to add to
    "moreTest note 123" saved "XYZ moreTest note 123". Only a cursor still at the start (as
    the note was loaded) is moved: one the inspector put in the note, or a click, stays."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+down", "next_field", "survey.key_next_field", id="survey.next_field"),
        Binding(
            "tab", "next_field", "survey.key_next_field", show=False, id="survey.next_field_tab"
        ),
    ]

    async def _on_key(self, event: events.Key) -> None:
        # Its bindings (Tab and Ctrl+Down move on) run in key order, as in a one-line field.
        if not forward_if_moved(self, event) and not await run_binding_now(self, event):
            await super()._on_key(event)

    def on_focus(self, event: events.Focus) -> None:
        if event.from_app_focus:  # the terminal window got the focus back: nothing arrived
            return
        if self.text and self.selection == Selection.cursor((0, 0)):
            self.move_cursor(self.document.end)

    def action_next_field(self) -> None:
        advance = getattr(self.screen, "advance_from", None)
        if advance is not None and self.id is not None:
            advance(self.id)


class FieldRow(Widget):
    """A field: its label on the left, the editor, unit and messages on the right."""

    DEFAULT_CSS = """
    FieldRow {
        layout: horizontal;
        height: auto;
        padding: 0 0 0 1;
    }
    FieldRow > .label {
        width: 19;  /* LABEL_WIDTH: 9 Chinese characters and the mark, most labels on one line */
        height: auto;
        padding-right: 1;
    }
    FieldRow.-snug > .label { padding-right: 0; }  /* mark_takes_padding */
    FieldRow.-required > .label { text-style: bold; }
    FieldRow > .body { height: auto; width: 1fr; }
    FieldRow .editor-line { height: auto; width: 1fr; }
    FieldRow .editor-line > Input { width: 1fr; }
    FieldRow FieldTextArea { width: 1fr; height: 4; background: $surface; }
    FieldRow FieldTextArea:focus { background: $boost; }
    FieldRow .unit { width: auto; padding: 0 1; color: $text-muted; }
    FieldRow .counter { width: 1fr; height: 1; text-align: right; color: $text-muted; }
    FieldRow .counter.-over { color: $error; text-style: bold; }
    FieldRow > .body > Input { width: 1fr; }
    FieldRow .message { display: none; height: auto; color: $warning; }
    FieldRow.-warned .message { display: block; }
    FieldRow.-invalid .message { display: block; color: $error; }
    FieldRow.-calculated .value { color: $text-muted; padding: 0 1; }
    FieldRow .conflict { height: auto; color: $warning; text-style: italic; }
    FieldRow.-conflicted > .label { color: $warning; }
    """

    def __init__(
        self,
        fld: CompiledField,
        value: Any,
        *,
        lang: str,
        required: bool,
        blob_dir: Path | None = None,
    ) -> None:
        super().__init__(id=f"row-{fld.id}", classes="-required" if required else None)
        self.fld = fld
        self.value = value
        self.lang = lang
        self._blob_dir = blob_dir
        self._shown: tuple[str | None, str | None] = (None, None)
        self._label: Note | None = None
        self._message: Note | None = None
        self._conflict: Note | None = None
        self._conflict_note: str | None = None
        #: The editor column and, for a calculated field, its value (kept, not queried: the
        #: screen may update a row whose mount was cut short by leaving the screen).
        self._body: Vertical | None = None
        self._calculated: Static | None = None
        #: Under a text box with a length limit (the form's constraint): "123/500".
        self._counter: Static | None = None
        self._unit: Static | None = None
        if fld.type == "calculate":
            self.add_class("-calculated")
        self._fit_mark()

    @property
    def field_id(self) -> str:
        return self.fld.id

    def label_text(self) -> Text:
        label = self.fld.defn.label.get(self.lang)
        text = plain(label)
        if self.has_class("-required"):
            text.append(required_mark(label), style="bold red")
        return text

    def _fit_mark(self) -> None:
        """Let the label take its padding cell when its required mark needs it to stay on
        the label's line (``mark_takes_padding``), as marked and worded now."""
        label = self.fld.defn.label.get(self.lang)
        self.set_class(self.has_class("-required") and mark_takes_padding(label), "-snug")

    def compose(self) -> ComposeResult:
        fld, lang = self.fld, self.lang
        # Wrapped as Chinese is set (a long label keeps 13号楼 whole), like its messages.
        self._label = Note(self.label_text(), classes="label")
        yield self._label
        # As few widgets as possible: every one costs time when a section is mounted.
        self._body = Vertical(classes="body")
        with self._body:
            # A calculated value says its unit itself ("2025 年"): a second one beside it
            # read "Survey year 2025 year (calculated) year".
            if fld.defn.unit is not None and fld.type != "calculate":
                with Horizontal(classes="editor-line"):
                    yield from self._editor()
                    self._unit = Static(plain(unit_text(fld, lang)), classes="unit")
                    self._unit.display = bool(unit_text(fld, lang))  # an English year has none
                    yield self._unit
            else:
                yield from self._editor()
            # The message line is mounted the first time there is something to say.

    def _editor(self) -> ComposeResult:
        fld, lang, value = self.fld, self.lang, self.value
        if is_multiline(fld):
            text = display_value(fld, value, lang)
            yield FieldTextArea(
                text, soft_wrap=True, compact=True, highlight_cursor_line=False, id=fld.id
            )
            if fld.max_length() is not None:  # counted as typed, not found too long on leaving
                self._counter = Static(classes="counter")
                self._count(text)
                yield self._counter
        elif fld.type in INPUT_TYPES:
            yield FieldInput(
                value=display_value(fld, value, lang),
                placeholder=placeholder_for(fld, lang),
                id=fld.id,
                compact=True,
            )
        elif fld.type in ("select_one", "select_multiple"):
            options = [Option(c.code, c.label(lang)) for c in fld.choices]
            yield ChoiceField(
                options,
                multiple=fld.type == "select_multiple",
                value=choice_value(fld, value),
                id=fld.id,
                label=fld.defn.label.get(lang),
            )
        elif fld.type == "boolean":
            options = [Option("true", t("survey.yes")), Option("false", t("survey.no"))]
            yield ChoiceField(
                options,
                value=choice_value(fld, value),
                id=fld.id,
                label=fld.defn.label.get(lang),
            )
        elif fld.type == "photo":
            photos = value if isinstance(value, list) else []
            yield PhotoField(
                photos,
                blob_dir=self._blob_dir,
                max_count=fld.defn.max_count,
                required=self.has_class("-required"),
                id=fld.id,
            )
        else:  # calculate
            self._calculated = Static(self._calculated_text(value), classes="value", id=fld.id)
            yield self._calculated

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._count(event.text_area.text)  # and on to the screen, which records it

    def _count(self, text: str) -> None:
        """The counter under a text box with a length limit: "123/500", in the error colour
        once past it (a pasted 1,173-character note was found too long only on leaving)."""
        most = self.fld.max_length()
        if self._counter is None or most is None:
            return
        count = len(normalize_input(self.fld, without_controls(text)))
        self._counter.update(t("survey.text_count", count=count, most=most))
        self._counter.set_class(count > most, "-over")

    # -- updates from the screen --------------------------------------------------------------
    def relabel(self, lang: str, value: Any, *, focused: bool) -> None:
        """The row in ``lang`` (F2), its editor kept: what is typed in it, its cursor and its
        selection stay. The section used to be mounted again, so the focused field selected
        its text (19, F2, 85 gave 85) and the remarks box put its cursor at the start.

        ``value`` is the field's answer: a field not being typed in that shows it in the old
        language (不详) shows it in the new one (unknown).
        """
        old, self.lang = self.lang, lang
        self._fit_mark()
        if old == lang or self._label is None:
            return  # not composed yet: it will be, in ``lang``
        fld = self.fld
        self._label.update(self.label_text())
        if self._unit is not None:
            self._unit.update(plain(unit_text(fld, lang)))
            self._unit.display = bool(unit_text(fld, lang))
        editor = next(iter(self.query(f"#{fld.id}")), None)
        if isinstance(editor, FieldInput):
            editor.placeholder = placeholder_for(fld, lang)
            shown = display_value(fld, value, old)
            if not focused and editor.value == shown:
                with editor.prevent(Input.Changed):
                    editor.value = display_value(fld, value, lang)
        elif isinstance(editor, ChoiceField):
            if fld.type == "boolean":
                yes, no = t_in(lang, "survey.yes"), t_in(lang, "survey.no")
                editor.options = [Option("true", yes), Option("false", no)]
            else:
                editor.options = [Option(c.code, c.label(lang)) for c in fld.choices]
            editor.label = fld.defn.label.get(lang)
            editor.refresh(layout=True)
        elif isinstance(editor, PhotoField):
            editor.refresh(layout=True)

    def show_value(self, value: Any) -> None:
        """Show ``value``, an answer another program stored (the screen keeps a field being
        typed in out of this), without posting a change: it is saved already. A row not
        composed yet is composed with it."""
        self.value = value
        editor = self._editor_widget()
        if isinstance(editor, FieldInput):
            with editor.prevent(Input.Changed):
                editor.value = display_value(self.fld, value, self.lang)
        elif isinstance(editor, FieldTextArea):
            with editor.prevent(TextArea.Changed):
                editor.load_text(display_value(self.fld, value, self.lang))
            self._count(editor.text)
        elif isinstance(editor, ChoiceField):
            editor.show_value(choice_value(self.fld, value))
        elif isinstance(editor, PhotoField):
            editor.set_photos(value if isinstance(value, list) else [])

    def _editor_widget(self) -> Widget | None:
        """The field's editor, once composed."""
        return next(iter(self.query(f"#{self.fld.id}")), None)

    def holds_typing(self) -> bool:
        """True when the editor holds keys of its own: a text field, or a choice list being
        filtered. A choice picked or a photo attached is recorded at once; such an editor
        may show another program's answer under the cursor."""
        editor = self._editor_widget()
        if isinstance(editor, ChoiceField):
            return editor.filtering
        return isinstance(editor, Input | TextArea)

    def shows(self, value: Any) -> bool:
        """True when the editor shows ``value`` already (or the row is not composed)."""
        editor = self._editor_widget()
        if isinstance(editor, Input):
            return editor.value == display_value(self.fld, value, self.lang)
        if isinstance(editor, TextArea):
            return editor.text == display_value(self.fld, value, self.lang)
        if isinstance(editor, ChoiceField):
            return editor.value == choice_value(self.fld, value)
        if isinstance(editor, PhotoField):
            return editor.photos == (value if isinstance(value, list) else [])
        return True

    def show_required(self, required: bool) -> None:
        """Mark the field required or not, as the current answers make it: a ``required_if``
        field (问题照片, required once a defect is answered) was marked from the start."""
        if required == self.has_class("-required"):
            return
        self.set_class(required, "-required")
        self._fit_mark()
        if self._label is not None:
            self._label.update(self.label_text())
        for photos in self.query(PhotoField):  # Enter attaches while a photo is needed
            photos.set_required(required)

    def show_messages(self, error: str | None, warning: str | None) -> None:
        """The inline message: the error if any, else the warning, else nothing."""
        shown = (error, warning)
        if shown == self._shown:
            return
        self._shown = shown
        self.set_class(error is not None, "-invalid")
        self.set_class(error is None and warning is not None, "-warned")
        text = error or warning or ""
        if self._message is not None:
            self._message.update(text)
        elif self._body is not None and is_live(self._body):
            self._message = Note(text, classes="message")
            self._body.mount(self._message)

    def show_conflict(self, note: str | None) -> None:
        """The open conflict on this field in words (every value, who, when), or nothing."""
        if note == self._conflict_note:
            return
        self._conflict_note = note
        self.set_class(note is not None, "-conflicted")
        if self._conflict is not None:
            self._conflict.update(note or "")
            self._conflict.display = note is not None
        elif note is not None and self._body is not None and is_live(self._body):
            self._conflict = Note(note, classes="conflict")
            self._body.mount(self._conflict)

    @property
    def conflict_text(self) -> str:
        """The conflict note as drawn under the field (empty when there is none)."""
        shown = self._conflict
        if shown is None or not shown.display or not shown.is_mounted:
            return ""
        return shown.text

    @property
    def message_text(self) -> str:
        """The inline message as shown (empty when there is none)."""
        return self._message.text if self._message is not None else ""

    @property
    def shown_error(self) -> str | None:
        return self._shown[0]

    def show_error(self, message: str | None) -> None:
        self.show_messages(message, self._shown[1])

    def show_calculated(self, value: Any) -> None:
        if self._calculated is not None:
            self._calculated.update(self._calculated_text(value))

    def _calculated_text(self, value: Any) -> Text:
        """A calculated value as the inspector reads it: an era bin by its label, not its
        code (y1981_1990, E0)."""
        fld = self.fld
        if value is None:
            shown = ""
        elif fld.choices:
            shown = fld.choice_label(str(value), language())
        else:
            shown = format_value(fld, value, language())
        return plain(f"{shown}  ({t('survey.read_only')})".lstrip())
