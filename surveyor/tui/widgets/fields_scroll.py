"""The scrolling column of a section's fields: the field with the cursor stays in view when the
rows are laid out again under it."""

from __future__ import annotations

from textual import events
from textual.containers import VerticalScroll
from textual.widget import Widget


class FieldsScroll(VerticalScroll, can_focus=False):
    """Scrolls the row holding the focus back into view whenever the column's size or content
    height changes: the scrollbar appearing narrows every row and rewraps labels and options
    above, the rest of a section is mounted, a message line comes under a field. A jump to
    既往改造 at 80×24 scrolled before the rows above it grew by two lines, so its last
    options ended below the screen."""

    DEFAULT_CSS = """
    FieldsScroll { height: 1fr; }
    """

    def on_resize(self, event: events.Resize) -> None:
        self.keep_focus_in_view()

    def watch_virtual_size(self) -> None:
        # Rows growing or shrinking change only the height of the content: no Resize for that.
        self.keep_focus_in_view()

    def keep_focus_in_view(self) -> None:
        row = self.focused_row()
        if row is not None:
            self.scroll_to_widget(row, animate=False)

    def focused_row(self) -> Widget | None:
        """The child of this column that holds the focus (a field's whole row), or None."""
        node = self.screen.focused
        while node is not None and node.parent is not self:
            parent = node.parent
            node = parent if isinstance(parent, Widget) else None
        return node
