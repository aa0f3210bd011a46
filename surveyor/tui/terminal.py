"""Esc read as Esc when a key follows it quickly.

Textual's terminal reader waits ``ESCDELAY`` ms after an Esc for the rest of an escape
sequence, but it only looks at that wait between 100 ms polls, and a key arriving before the
poll joins the Esc as Alt+key. Esc then a key within 100 ms lost the Esc (the building stayed
open) and the key's meaning. Here a lone Esc whose wait has run out ends before the next key
is read, and the wait is 25 ms (see ``surveyor.tui.__init__``).

On a busy laptop the reader can fall behind, and the Esc and the key then arrive in one read,
where no wait can tell them apart. Surveyor binds no Alt+letter, so Esc followed by a
printable key is read as Esc, then the key. Escape sequences keep their meaning: the
characters that introduce one (``[`` CSI, ``O`` SS3, ``]`` OSC, ``P`` DCS…) are not split,
nor are the pairs Textual reads as a key (``Esc b``/``Esc f``: Option+←/→ on macOS, a word
left/right in a field).

The terminal closed under the app (the window shut, ``tmux kill-session``: SIGHUP) used to
keep the process alive until the 15 s watchdog: Textual's writer thread died on the first
write to the gone terminal (EIO), its queue of 30 writes filled, and the app's own thread
blocked for ever putting the next one (the exit's "disable mouse" sequence), after the
answers were saved. ``ClosedTerminalWriter`` drops what it cannot write instead, so the app
exits as soon as the answers are committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
from textual.drivers._writer_thread import WriterThread
from textual.message import Message

ESC = "\x1b"
SEQUENCE_INTRODUCERS = frozenset("[]OPNX\\^_")
"""After Esc these begin an escape sequence (CSI, OSC, SS3, DCS, SS2, SOS, ST, PM, APC)."""


def is_esc_then_key(sequence: str) -> bool:
    """Whether ``sequence`` is Esc followed by one printable key that begins no sequence and
    is no key of its own."""
    return (
        len(sequence) == 2
        and sequence[0] == ESC
        and sequence[1].isprintable()
        and sequence[1] not in SEQUENCE_INTRODUCERS
        and not isinstance(ANSI_SEQUENCES_KEYS.get(sequence), tuple)
    )


class PromptEscapeParser(XTermParser):
    """Textual's parser, ending an expired Esc wait before new input is parsed and reading
    Esc + a printable key as two keys."""

    def feed(self, data: str) -> Iterable[Message]:
        yield from self.tick()
        yield from super().feed(data)

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if is_esc_then_key(sequence):
            yield events.Key("escape", ESC)
            sequence = sequence[1]
        yield from super()._sequence_to_key_events(sequence, alt)


def read_escape_promptly() -> None:
    """Make Textual's Linux/macOS driver use ``PromptEscapeParser`` (Textual is pinned)."""
    setattr(linux_driver, "XTermParser", PromptEscapeParser)  # noqa: B010


class TerminalOutput:
    """The terminal as the writer thread writes to it: once a write or flush fails (EIO, the
    terminal is gone), everything after it is dropped, there being no one to show it to."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._file.write(text)
            except OSError:
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except OSError:
                self.gone = True

    def fileno(self) -> int:
        return self._file.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class ClosedTerminalWriter(WriterThread):
    """Textual's writer thread, which goes on taking writes (and drops them) once the
    terminal is gone, so a writer never waits on a full queue no thread empties."""

    def __init__(self, file: IO[str]) -> None:
        super().__init__(TerminalOutput(file))  # type: ignore[arg-type]


def survive_a_closed_terminal() -> None:
    """Make Textual's Linux/macOS driver write through ``ClosedTerminalWriter`` (Textual is
    pinned)."""
    setattr(linux_driver, "WriterThread", ClosedTerminalWriter)  # noqa: B010
