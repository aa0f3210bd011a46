"""A toast that is not shown again while it is still on the screen.

Keys pressed again (Enter on a choice list's unmatched text, PgDn held on the last section)
each raised a copy: four identical toasts covered half an 80×24 screen for five seconds.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

#: How long such a toast stays (Textual's default).
SHOWN_SECONDS = 5.0


class ToastOnce:
    """Says a toast, then does not say the same one again until it has gone from the screen."""

    def __init__(self, seconds: float = SHOWN_SECONDS) -> None:
        self.seconds = seconds
        #: The last toast said, and until when (monotonic seconds) it is on the screen.
        self._shown = ""
        self._shown_until = 0.0

    def say(self, app: App[Any], message: str, *, severity: SeverityLevel = "warning") -> bool:
        """Show ``message`` (plain text) unless it is the one still shown; True if shown."""
        now = time.monotonic()
        if message == self._shown and now < self._shown_until:
            return False
        self._shown, self._shown_until = message, now + self.seconds
        app.notify(message, severity=severity, timeout=self.seconds, markup=False)
        return True
