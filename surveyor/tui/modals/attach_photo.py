"""Ask for a photo to attach (its file path and a caption), or for the one to take off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from surveyor.errors import SurveyorError
from surveyor.forms.model import Localized
from surveyor.i18n import language, t
from surveyor.services.photos import check_photo_file
from surveyor.text import without_controls
from surveyor.tui.modals.dialog import Dialog
from surveyor.tui.text import plain
from surveyor.tui.widgets.keys import InOrderInput


@dataclass(frozen=True)
class PhotoRequest:
    path: Path
    caption: str


class AttachPhotoModal(Dialog[PhotoRequest | None]):
    """A photo for the field labelled ``label`` (both languages: F2 relabels the dialog)."""

    HELP_OVERVIEW = "help.attach_photo_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "new.cancel", id="photo.cancel")
    ]

    def __init__(self, label: Localized) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            title = t("photo.title", label=self.label.get(language()))
            yield Static(plain(title), classes="title")
            yield Label(t("photo.path"))
            yield InOrderInput(
                id="photo-path",
                placeholder="/media/usb/DCIM/IMG_0001.JPG",
                on_enter=self.path_entered,
            )
            yield Label(t("photo.caption"))
            yield InOrderInput(id="photo-caption", on_enter=self.attach)
            yield Static("", classes="problem", id="photo-problem")
            with Horizontal():
                yield Button(t("new.cancel"), id="photo-cancel")
                yield Button(t("photo.attach"), variant="primary", id="photo-ok")

    @on(Input.Changed, "#photo-path")
    def path_changed(self) -> None:
        self.query_one("#photo-problem", Static).update("")  # it was about another path

    def path_entered(self) -> None:
        """Enter in the path: on to the caption, in the path's key handler, so a second quick
        Enter reaches the caption and attaches (``InOrderInput``; it was lost). The focus
        moves now (``set_focus``): ``Widget.focus`` moves it later, after those keys."""
        self.set_focus(self.query_one("#photo-caption", Input))

    @on(Button.Pressed, "#photo-ok")
    def attach(self) -> None:
        # A path is used as typed (NFKC would change "（" in a folder name and miss the file).
        raw = without_controls(self.query_one("#photo-path", Input).value).strip().strip("'\"")
        path = Path(raw).expanduser()
        problem = _photo_problem(path) if raw else t("photo.not_a_file", path=raw)
        if problem is not None:  # corrected here, with what was typed kept
            self.query_one("#photo-problem", Static).update(plain(problem))
            self.set_focus(self.query_one("#photo-path", Input))
            return
        caption = without_controls(self.query_one("#photo-caption", Input).value).strip()
        self.dismiss(PhotoRequest(path, caption))

    @on(Button.Pressed, "#photo-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _photo_problem(path: Path) -> str | None:
    """Why ``path`` cannot be attached (not a file, too large, not a photo), or None."""
    try:
        check_photo_file(path)
    except SurveyorError as exc:
        return exc.text(language())
    return None


class RemovePhotoModal(Dialog[str | None]):
    """Returns the SHA-256 of the photo to take off, or None."""

    DEFAULT_CSS = """
    RemovePhotoModal > Vertical { max-height: 80%; border: thick $warning; }
    RemovePhotoModal OptionList { height: auto; max-height: 12; }
    """
    HELP_OVERVIEW = "help.remove_photo_overview"  # F1: what this dialog is for, and its keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "new.cancel", id="photo_remove.cancel")
    ]

    def __init__(self, label: Localized, photos: list[dict[str, Any]]) -> None:
        super().__init__()
        self.label = label
        self.photos = photos

    def compose(self) -> ComposeResult:
        from surveyor.tui.widgets.photo_field import photo_line

        with Vertical():
            title = t("photo.remove_title", label=self.label.get(language()))
            yield Static(plain(title), classes="title")
            yield OptionList(
                *(
                    Option(photo_line(n, photo), id=str(photo.get("sha256", "")))
                    for n, photo in enumerate(self.photos, 1)
                ),
                id="photo-list",
            )
            yield Static(t("photo.remove_hint"), classes="hint")

    def on_key(self, event: Any) -> None:
        # A photo's number takes it at once, as a choice's digit does.
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.photos):
                event.stop()
                self.dismiss(str(self.photos[index].get("sha256", "")))

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
