"""Add a building found on site that is missing from the register (labels from the form)."""

from __future__ import annotations

import contextlib
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from surveyor.errors import ValidationFailed
from surveyor.i18n import error_text, language, t
from surveyor.services.survey import SameBuilding, SameBuildingExists, create_building
from surveyor.text import without_controls
from surveyor.tui.lifecycle import is_live
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.text import plain
from surveyor.tui.widgets.keys import InOrderInput, forward_if_moved, run_binding_now

if TYPE_CHECKING:
    from surveyor.tui.app import SurveyorApp

TEXT_FIELDS = ("community", "compound_name", "building_no", "address")


class ChosenSelect(Select[str]):
    """A drop-down that Enter leaves once a value is chosen, as Enter leaves a text field;
    empty, Enter opens it, and the arrows and space always do (to change the value). Enter
    used to open it again after every pick, so the dialog could not be filled in with Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "enter", "new.key_next", show=False, id="new.next"),
    ]

    async def _on_key(self, event: events.Key) -> None:
        """Keys in the order typed (``InOrderInput``): "abc" typed right after Enter on the
        picked 街道 was lost. A key bubbling up from the open list is the list's own."""
        focused = self.app.focused
        from_list = focused is not None and focused is not self and self in focused.ancestors
        if from_list or not (forward_if_moved(self, event) or await run_binding_now(self, event)):
            await super()._on_key(event)

    def action_enter(self) -> None:
        if self.is_blank():
            self.action_show_overlay()
        else:
            self.screen.focus_next()


class SameBuildingModal(Dialog[str | None]):
    """A live building already stands where the new one would: "open" it (Enter, the safe
    default), "add" a new one anyway (Ctrl+N), or None (Esc) to go back and edit."""

    DEFAULT_CSS = """
    SameBuildingModal > Vertical { border: thick $warning; }
    """
    HELP_OVERVIEW = "help.same_building_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "add", "new.key_add_anyway", id="new.add_anyway"),
        Binding("escape", "back", "new.key_back", id="new.back"),
    ]

    def __init__(self, existing: SameBuilding) -> None:
        super().__init__()
        self.existing = existing

    def compose(self) -> ComposeResult:
        same = self.existing
        key = "new.same_address" if same.same_address else "new.same_number"
        question = t(key, code=same.code, place=same.place, address=same.address or "")
        with Vertical():
            yield Static(plain(question), classes="title", id="same-question")
            yield Static(t("new.same_hint"), classes="hint")
            with Horizontal():
                yield Button(t("new.add_anyway"), id="same-add", compact=True)
                yield Button(
                    t("new.open_existing", code=same.code),
                    variant="primary",
                    id="same-open",
                    compact=True,
                )

    def on_mount(self) -> None:
        self.query_one("#same-open", Button).focus()  # Enter opens: the safe default

    @on(Button.Pressed, "#same-open")
    def open_existing(self) -> None:
        self.dismiss("open")

    @on(Button.Pressed, "#same-add")
    def action_add(self) -> None:
        self.dismiss("add")

    def action_back(self) -> None:
        self.dismiss(None)


class NewBuildingModal(Dialog[uuid.UUID | None]):
    """Returns the new building's id (or, if one already stood there, the id of the one the
    inspector chose to open instead), or None if cancelled."""

    DEFAULT_CSS = """
    NewBuildingModal Input, NewBuildingModal Select { margin-bottom: 0; }
    """
    HELP_OVERVIEW = "help.new_building_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "new.cancel", id="new.cancel")
    ]

    app: SurveyorApp

    def __init__(self) -> None:
        super().__init__()
        #: Esc once with something typed arms this; Esc again discards it (one stray Esc
        #: threw away all five fields typed on site, and the dialog opened blank again).
        self._discard_armed = False

    def compose(self) -> ComposeResult:
        form, lang = self.app.form, language()
        sub = form.field("subdistrict")
        with Vertical():
            yield Static(t("new.title"), classes="title")
            yield Label(plain(sub.defn.label.get(lang) + " *"))
            yield ChosenSelect(
                [(c.label(lang), c.code) for c in sub.choices],
                prompt=t("new.choose"),  # Textual's own prompt is the English "Select"
                id="new-subdistrict",
                compact=True,
            )
            for fid in TEXT_FIELDS:
                fld = form.field(fid)
                mark = " *" if fld.defn.required else ""
                yield Label(plain(fld.defn.label.get(lang) + mark))
                yield InOrderInput(
                    id=f"new-{fid}", compact=True, on_enter=partial(self.next_input, fid)
                )
            yield Static("", classes="problem", id="new-problem")
            with Horizontal():
                yield Button(t("new.cancel"), id="new-cancel", compact=True)
                yield Button(t("new.create"), variant="primary", id="new-create", compact=True)

    def answers(self) -> dict[str, str]:
        out = {"district": "nankai"}
        sub = self.query_one("#new-subdistrict", Select).value
        if isinstance(sub, str):
            out["subdistrict"] = sub
        for fid in TEXT_FIELDS:
            # Normalised by the core like any answer (free text keeps its punctuation).
            value = without_controls(self.query_one(f"#new-{fid}", Input).value).strip()
            if value:
                out[fid] = value
        return out

    def next_input(self, field_id: str) -> None:
        """Enter moves on; in the last field it creates the building (it used to move to
        Cancel, where a second Enter threw away everything typed). Run in the field's key
        handler, so keys typed behind the Enter go to the next field (``InOrderInput``)."""
        if field_id == TEXT_FIELDS[-1]:
            self.create()
        else:
            self.focus_next()

    @on(Button.Pressed, "#new-create")
    def create(self) -> None:
        answers = self.answers()
        form = self.app.form
        needed = [
            f
            for f in ("subdistrict", *TEXT_FIELDS)
            if form.field(f).defn.required and f not in answers
        ]
        if needed:
            self.query_one("#new-problem", Static).update(t("new.needed"))
            return
        self._create(answers)

    @work(thread=True, exit_on_error=False)
    def _create(self, answers: dict[str, str], *, anyway: bool = False) -> None:
        """Create the building, unless a live one already stands there and the inspector has
        not said to add it anyway: then ask (it was created without a word, and the duplicate
        only flagged at the merge on the central, after the wrong record may have been
        surveyed)."""
        app = self.app
        try:
            result = create_building(
                app.store,
                app.form,
                answers,
                author=app.author,
                lang=language(),
                check_same=not anyway,
            )
        except SameBuildingExists as exc:
            self._from_thread(self._ask_same, exc.existing, answers)
            return
        except ValidationFailed as exc:
            self._from_thread(self._problem, "; ".join(exc.errors.values()))
            return
        except Exception as exc:  # refused, a locked database, a bug: said in the dialog
            self._from_thread(self._problem, error_text(exc))
            return
        self._from_thread(app.notify, t("new.created", code=result.code), markup=False)
        self._from_thread(self._created, result.building_id)

    def _from_thread(self, callback: Any, *args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
            self.app.call_from_thread(callback, *args, **kwargs)

    def _problem(self, text: str) -> None:
        if is_live(self):  # the dialog may have been closed while the building was created
            self.query_one("#new-problem", Static).update(plain(text))

    def _ask_same(self, existing: SameBuilding, answers: dict[str, str]) -> None:
        if not (is_live(self) and self.is_current):
            return

        def chosen(choice: str | None) -> None:
            if choice == "open":
                self.dismiss(existing.id)
            elif choice == "add":
                self._create(answers, anyway=True)

        self.app.push_screen(SameBuildingModal(existing), chosen)

    def _created(self, building_id: uuid.UUID) -> None:
        if is_live(self) and self.is_current:
            self.dismiss(building_id)

    @on(Button.Pressed, "#new-cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Esc: leave at once when nothing was typed; else say so first, and leave on a
        second Esc."""
        typed = set(self.answers()) - {"district"}
        if not typed or self._discard_armed:
            self.dismiss(None)
            return
        self._discard_armed = True
        self.query_one("#new-problem", Static).update(t("new.discard_confirm"))

    @on(Input.Changed)
    @on(Select.Changed)
    def typing_again(self) -> None:
        if self._discard_armed:
            self._discard_armed = False
            self.query_one("#new-problem", Static).update("")
