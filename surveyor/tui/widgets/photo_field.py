"""A photo field: a listing of the attached photos with small thumbnails.

Space (or a click) attaches a photo. Enter attaches one only while the record still needs it
here (a required field with none yet); everywhere else Enter moves on to the next field, as
in any field: on an empty optional field (其他立面/屋面, 燃气立管) Enter always opened the dialog,
so only Tab or PgDn got past it. The field's last line says which key does what."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from surveyor.i18n import t
from surveyor.tui.text import plain
from surveyor.tui.widgets.keys import forward_if_moved, run_binding_now

THUMB_W, THUMB_H = 12, 3  # cells; each cell shows two pixels stacked (half blocks)


@lru_cache(maxsize=256)
def thumbnail(path: str) -> tuple[tuple[tuple[int, int, int], ...], ...] | None:
    """Pixel rows of a tiny thumbnail (2×THUMB_H rows of THUMB_W pixels), or None."""
    try:
        from PIL import Image  # reportlab's dependency; only needed here

        with Image.open(path) as img:
            raw = img.convert("RGB").resize((THUMB_W, THUMB_H * 2)).tobytes()
            data = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    except Exception:  # any unreadable or non-image file simply has no thumbnail
        return None
    return tuple(tuple(data[y * THUMB_W : (y + 1) * THUMB_W]) for y in range(THUMB_H * 2))


class _Thumb:
    """Renders pixel rows as upper-half-block cells."""

    def __init__(self, rows: tuple[tuple[tuple[int, int, int], ...], ...]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Any, options: Any) -> Any:
        for y in range(0, len(self.rows), 2):
            top, bottom = self.rows[y], self.rows[y + 1]
            for (r1, g1, b1), (r2, g2, b2) in zip(top, bottom, strict=True):
                yield Segment("\u2580", Style.parse(f"rgb({r1},{g1},{b1}) on rgb({r2},{g2},{b2})"))
            yield Segment.line()


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def photo_line(number: int, photo: dict[str, Any]) -> Text:
    """One attached photo as listed: its number, hash start, size, type and caption."""
    sha = str(photo.get("sha256", ""))
    line = Text(f"{number}. {sha[:10]}  {human_size(int(photo.get('size', 0)))}  ")
    line.append_text(plain(photo.get("mime", "")))
    caption = str(photo.get("caption") or "")
    if caption:
        line.append("  ")
        line.append_text(plain(caption, style="italic"))
    return line


class PhotoField(Widget, can_focus=True):
    DEFAULT_CSS = """
    PhotoField {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $surface;
    }
    PhotoField:focus { background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "attach", "photo.key_attach", id="photo.attach"),
        Binding("delete,backspace", "remove", "photo.key_remove", id="photo.remove"),
    ]

    class _Request(Message):
        def __init__(self, photo_field: PhotoField) -> None:
            super().__init__()
            self.photo_field = photo_field

        @property
        def control(self) -> PhotoField:
            return self.photo_field

    class AttachRequested(_Request):
        """The inspector asked to attach a photo to this field."""

    class RemoveRequested(_Request):
        """The inspector asked to take a photo off this field."""

    def __init__(
        self,
        photos: list[dict[str, Any]],
        *,
        blob_dir: Path | None,
        max_count: int,
        required: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.photos = photos
        self.blob_dir = blob_dir
        self.max_count = max_count
        #: Required with the current answers (the row's mark): Enter attaches while empty.
        self.required = required

    def set_photos(self, photos: list[dict[str, Any]]) -> None:
        self.photos = photos
        self.refresh(layout=True)

    def set_required(self, required: bool) -> None:
        """Required or not, as the answers now make it (问题照片 once a defect is answered)."""
        self.required = required
        self.refresh(layout=True)

    @property
    def full(self) -> bool:
        """True when the field holds its most photos (space asks, to be told so)."""
        return len(self.photos) >= self.max_count

    @property
    def enter_attaches(self) -> bool:
        """True while the record still needs a photo here (required, none yet): Enter opens
        the dialog. Otherwise Enter moves on, as in any field, and space attaches."""
        return self.required and not self.photos

    async def on_key(self, event: events.Key) -> None:
        if forward_if_moved(self, event) or await run_binding_now(self, event):
            return
        if event.key != "enter":
            return
        event.stop()
        advance = getattr(self.screen, "advance_from", None)
        if self.enter_attaches or advance is None or self.id is None:
            self.post_message(self.AttachRequested(self))
        else:
            advance(self.id)

    def action_attach(self) -> None:
        self.post_message(self.AttachRequested(self))

    def action_remove(self) -> None:
        self.post_message(self.RemoveRequested(self))

    def on_click(self) -> None:
        self.post_message(self.AttachRequested(self))

    def render(self) -> RenderableType:
        parts: list[RenderableType] = []
        if not self.photos:
            parts.append(Text(t("survey.no_photos"), style="dim"))
        for index, photo in enumerate(self.photos, start=1):
            sha = str(photo.get("sha256", ""))
            parts.append(photo_line(index, photo))
            if self.blob_dir is not None and sha:
                rows = thumbnail(str(self.blob_dir / sha[:2] / sha[2:]))
                if rows is not None:
                    parts.append(_Thumb(rows))
        count = {"n": len(self.photos), "most": self.max_count}
        if self.full:
            said = t("survey.photos_full", **count)
        elif self.enter_attaches:
            said = t("survey.attach_needed", **count)
        else:
            said = t("survey.attach_optional", **count)
        parts.append(Text(said, style="bold"))
        if self.photos:
            parts.append(Text(t("survey.remove_hint"), style="dim"))
        return Group(*parts)
