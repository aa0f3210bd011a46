"""Keys handled in the order they were typed, across a change of focus.

Textual queues each key for the widget that has the focus when the key arrives. Keys typed
fast (a quick typist, a barcode scanner, an input method committing a phrase) are queued for
a field before the key in front of them (Enter, Tab) has moved the focus on; the field editors
pass them on with ``forward_if_moved``. Their own bindings run in key order too
(``run_binding_now``).
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget

#: Actions of the screen's Tab bindings (after the user's keymap), done by the field itself.
FOCUS_MOVES = {"app.focus_next": "focus_next", "app.focus_previous": "focus_previous"}


def forward_if_moved(widget: Widget, event: events.Key) -> bool:
    """Send a key queued for ``widget`` on to the widget that has the focus now.

    Every key goes on, not only printable ones: a Backspace or Ctrl+K left behind edited the
    field the inspector had already left, and an Enter left behind was lost.
    """
    target = widget.app.focused
    if target is None or target is widget:
        return False
    event.stop()
    event.prevent_default()
    target._forward_event(events.Key(event.key, event.character))
    return True


async def run_binding_now(widget: Widget, event: events.Key) -> bool:
    """Run the field's own binding for ``event`` (Backspace, Ctrl+K, arrows…), or a Tab
    binding of the screen, at once, in key order.

    Textual runs a widget's bindings only when the key has bubbled up to the app, after the
    field has taken the keys typed behind it: "3", "7", Backspace, "6" gave 37, and "0", Tab,
    "3" gave 03 in one field.
    """
    entry = widget.screen.active_bindings.get(event.key)
    if entry is None:
        return False
    move = FOCUS_MOVES.get(entry.binding.action)
    if entry.node is widget:
        await widget.run_action(entry.binding.action)
    elif move is not None:
        getattr(widget.screen, move)()
    else:
        return False
    event.stop()
    event.prevent_default()
    return True
