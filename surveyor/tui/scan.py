"""A label scanned anywhere in the app opens its building.

A keyboard-wedge scanner types the label's URI (``URN:NKCENSUS:B:NK-…``) and Enter as fast
keys. Keys that spell the start of that URI are held back until they either complete it
(the building opens, nothing is typed) or stop matching (they go on to the focused widget,
in order, as if never held). Without this, a scan while a building was open typed the URI
into its fields, and digits picked options in choice fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events

from surveyor.store.ids import URI_PREFIX, normalize_code

#: Length of a full label URI: the prefix and a code ``NK-XXXXX-XXXXX``.
URI_LENGTH = len(URI_PREFIX) + len("NK-00000-00000")
#: Scanners type a key every few ms; a pause this long ends a scan (and releases held keys).
SCAN_GAP = 0.1
#: Keys a scanner may send after the URI: swallowed when they follow a scan at once.
TERMINATORS = {"enter", "tab"}


@dataclass
class Fed:
    """What to do with a key: pass these keys on now, open this code, or wait."""

    release: list[events.Key] = field(default_factory=list)
    code: str | None = None


class ScanCatcher:
    """Holds keys while they could be a scanned label URI (pure logic: the app owns timing)."""

    def __init__(self) -> None:
        self._held: list[events.Key] = []
        self._scanned_at = -1e9

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, event: events.Key, now: float) -> Fed:
        if not self._held and event.key in TERMINATORS and now - self._scanned_at < SCAN_GAP:
            return Fed()  # the scanner's Enter after a scan just opened
        text = self._text() + (event.character or "\0")
        if not _could_be_uri(text):
            return Fed(release=[*self._release(), event])
        self._held.append(event)
        if len(text) < URI_LENGTH:
            return Fed()
        code = normalize_code(text)
        if code is None:  # a full-length URI that is not a code (a misread): type it
            return Fed(release=self._release())
        self._held.clear()
        self._scanned_at = now
        return Fed(code=code)

    def flush(self) -> list[events.Key]:
        """The pause after the last key: what was held was typed by hand, so pass it on."""
        return self._release()

    def _text(self) -> str:
        return "".join(e.character or "" for e in self._held)

    def _release(self) -> list[events.Key]:
        held, self._held = self._held, []
        return held


def _could_be_uri(text: str) -> bool:
    """True while ``text`` is a prefix of some label URI (upper or lower case)."""
    upper = text.upper()
    if len(upper) <= len(URI_PREFIX):
        return URI_PREFIX.startswith(upper)
    return upper.startswith(URI_PREFIX) and len(upper) <= URI_LENGTH
