"""Work that runs later must check that its widgets are still there.

A callback scheduled for later — after the next frame (``call_after_refresh``), by a timer, from a
thread worker (``call_from_thread``), after a palette or modal choice, or the continuation of an
``async`` handler after an ``await`` — can run after the inspector has left the screen or quit
the app. By then the screen's widgets are being removed (or are gone) and ``query_one`` raises
``NoMatches``. Such code asks ``is_live`` first and does nothing to the screen if it is not.

``settle_keys`` lets keys that were already delivered to the focused field be handled (and the
changes they post reach the screen) before the screen is saved for the last time: a key typed
right before ``ctrl+q`` or ``esc`` is still in the field's queue when the app runs the quit.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

#: How long ``settle_keys`` waits for one widget at most (a widget that is busy or closing).
SETTLE_TIMEOUT = 0.5


def is_live(node: DOMNode) -> bool:
    """True while ``node`` is in the app's DOM and not being removed.

    ``is_attached`` is false once the app is exiting (``App.exit``) or the node is detached;
    ``_pruning`` is set on a whole subtree the moment its removal starts (a screen dismissed,
    a section's rows replaced); ``_closing``/``_closed`` once its message queue is shut.
    """
    return node.is_attached and not (node._pruning or node._closing or node._closed)


async def _round_trip(node: DOMNode) -> None:
    """Wait until ``node`` has handled every message queued for it before this call."""
    if node._task is None or node._task is asyncio.current_task() or not is_live(node):
        return  # not running, or it is us: waiting would only time out
    done = asyncio.Event()
    if node.call_later(done.set):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), SETTLE_TIMEOUT)


async def settle_keys(screen: Screen[Any]) -> None:
    """Let the focused widget handle the keys already sent to it, and let the messages they
    post (``Input.Changed`` …) bubble up to ``screen``.

    A message a widget posts while it handles a key is queued behind anything already there,
    so the focused widget gets two round trips; a bubbling message then hops one queue per
    ancestor, and each ancestor in turn gets one, up to the screen.
    """
    focused = screen.focused
    if focused is None:
        return
    chain: list[DOMNode] = [focused, focused]
    node: DOMNode | None = focused.parent
    while isinstance(node, Widget):
        chain.append(node)
        if node is screen:
            break
        node = node.parent
    for node in chain:
        await _round_trip(node)
