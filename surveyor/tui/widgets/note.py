"""Words wrapped as Chinese is set (a field's label and validation message, an open conflict,
F1's overview and field help): closing punctuation stays with the character before it and a
number keeps its measure word (13号楼, 3单元, 2024年), by the one rule of
``surveyor.text.no_break_before``. Textual folds Chinese anywhere, so a message one cell too
long left its 。 alone on the last line, and a label or hint could break 2024 / 年."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from surveyor.text import without_controls, wrap_text


def wrap_styled(text: Text, width: int) -> list[Text]:
    """``text`` in lines of at most ``width`` cells, broken where ``wrap_text`` breaks its
    plain words, each line keeping its styles (a label's red required mark, F1's bold
    headings)."""
    plain, lines, start = text.plain, [], 0
    for part in plain.split("\n"):
        at = start
        for line in wrap_text(part, width):
            at = plain.index(line, at) if line else at  # wrapping drops spaces at a break
            lines.append(text[at : at + len(line)])
            at += len(line)
        start += len(part) + 1
    return lines


class Note(Widget):
    """Text (never markup; plain words or a styled ``Text``), wrapped by
    ``surveyor.text.wrap_text`` at the widget's width."""

    DEFAULT_CSS = """
    Note {
        height: auto;
        width: 1fr;
        text-wrap: nowrap;  /* wrapped by lines(): the lines must stay as counted */
    }
    """

    def __init__(
        self, text: str | Text = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._text = self._clean(text)
        #: The last wrapping, by width: layout and drawing both ask (a section's labels).
        self._wrapped: tuple[int, list[Text]] | None = None

    @staticmethod
    def _clean(text: str | Text) -> Text:
        """``text`` as a ``Text`` without control characters (a ``Text`` is built from
        cleaned words already: ``tui.text.plain``)."""
        return text if isinstance(text, Text) else Text(without_controls(text))

    @property
    def text(self) -> str:
        """The text as given (without control characters), unwrapped."""
        return self._text.plain

    def update(self, text: str | Text) -> None:
        self._text = self._clean(text)
        self._wrapped = None
        self.refresh(layout=True)

    def _lines(self, width: int) -> list[Text]:
        """The text wrapped to ``width`` cells (kept until the width or the text changes)."""
        if self._wrapped is None or self._wrapped[0] != width:
            self._wrapped = (width, wrap_styled(self._text, width))
        return self._wrapped[1]

    def lines(self, width: int) -> list[str]:
        """The text as drawn in ``width`` cells, line by line."""
        return [line.plain for line in self._lines(width)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n", no_wrap=True, end="").join(self._lines(self.content_size.width))
