"""Plain words (a field's validation message, an open conflict, F1's overview), wrapped as
Chinese is set: closing punctuation stays with the character before it. Textual folds Chinese
anywhere, so a message one cell too long left its 。 alone on the last line."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from surveyor.text import without_controls, wrap_text


class Note(Widget):
    """Plain text (never markup), wrapped by ``surveyor.text.wrap_text`` at the widget's width."""

    DEFAULT_CSS = """
    Note {
        height: auto;
        width: 1fr;
        text-wrap: nowrap;  /* wrapped by lines(): the lines must stay as counted */
    }
    """

    def __init__(
        self, text: str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._text = without_controls(text)

    @property
    def text(self) -> str:
        """The text as given (without control characters), unwrapped."""
        return self._text

    def update(self, text: str) -> None:
        self._text = without_controls(text)
        self.refresh(layout=True)

    def lines(self, width: int) -> list[str]:
        """The text as drawn in ``width`` cells, line by line."""
        return [line for part in self._text.split("\n") for line in wrap_text(part, width)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n".join(self.lines(self.content_size.width)), no_wrap=True, end="")
