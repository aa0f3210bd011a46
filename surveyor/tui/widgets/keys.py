"""Keys handled in the order they were typed, across a change of focus.

Textual queues each key for the widget that has the focus when the key arrives. Keys typed
fast (a quick typist, a barcode scanner, an input method committing a phrase) are queued for
a field before the key in front of them (Enter, Tab) has moved the focus on; the field editors
pass them on with ``forward_if_moved``. Bindings run in key order too (``run_binding_now``).
A dialog's text boxes do both (``InOrderInput``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.widget import Widget
from textual.widgets import Input


def forward_if_moved(widget: Widget, event: events.Key) -> bool:
    """Send a key queued for ``widget`` on to the widget that has the focus now.

    Every key goes on, not only printable ones: a Backspace or Ctrl+K left behind edited the
    field the inspector had already left, and an Enter left behind was lost. Keys typed just
    after Ctrl+G picked an option of the choice behind the palette.
    """
    app = widget.app
    if widget.screen is not app.screen:
        # A dialog or the palette opened over the field (Ctrl+G, F9…) and has no focus yet:
        # the key is the dialog's. Sent round the app, it reaches the dialog, in order.
        event.stop()
        event.prevent_default()
        app.post_message(events.Key(event.key, event.character))
        return True
    target = app.focused
    if target is None or target is widget:
        return False
    event.stop()
    event.prevent_default()
    target._forward_event(events.Key(event.key, event.character))
    return True


async def run_binding_now(widget: Widget, event: events.Key) -> bool:
    """Run the binding for ``event`` at once, in key order: the field's own (Backspace,
    Ctrl+K, arrows…) or, for a key that types nothing, its screen's or the app's (Tab, Esc,
    F9…).

    Textual runs bindings only when the key has bubbled up to the app, after the field has
    taken the keys typed behind it: "3", "7", Backspace, "6" gave 37, "0", Tab, "3" gave 03,
    and Esc then "z" typed the z into the building being left. A printable key bound above
    the field is text typed into it, as Textual has it.

    The action runs inside the field's own key handler, so it must not await the field's
    removal (another section's rows replacing it): that waits on this very handler for ever.
    Such an action schedules the change instead (``call_later``), as F8 does.
    """
    entry = widget.screen.active_bindings.get(event.key)
    if entry is None or not entry.enabled:
        return False
    if event.is_printable and entry.node is not widget:
        return False
    if not await widget.app.run_action(entry.binding.action, entry.node):
        return False
    event.stop()
    event.prevent_default()
    return True


class InOrderInput(Input):
    """A dialog's one-line input that takes its keys in the order they were typed.

    Enter runs ``on_enter`` (move on, create, attach) in the input's own key handler, before
    the keys typed behind it, which then follow the focus (``forward_if_moved``); its editing
    keys run in order too (``run_binding_now``). Moving on from ``Input.Submitted``, a message
    handled after those keys, 「２号楼 Enter 南开区云居里2号」 typed at once gave 楼号
    「２号楼南开区云居里2号」, and a second quick Enter was lost. Without ``on_enter``, Enter
    submits as in any ``Input``.
    """

    def __init__(self, *args: Any, on_enter: Callable[[], object] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._when_entered = on_enter

    async def _on_key(self, event: events.Key) -> None:
        if forward_if_moved(self, event):
            return
        if event.key == "enter" and self._when_entered is not None:
            event.stop()
            event.prevent_default()
            self._when_entered()
            return
        if not await run_binding_now(self, event):
            await super()._on_key(event)
