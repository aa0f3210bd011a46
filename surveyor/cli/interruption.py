"""What Ctrl-C means for the command it stops, said by ``cli.main.run``.

A merge or a sync keeps what it committed before; an export writes its file only when whole,
so "what was merged or saved is kept … run the same command again to continue" was untrue
there. A command whose interruption means something else declares it as it starts.
"""

from __future__ import annotations

#: The catalog key of the sentence for the command running now.
_MEANING = {"key": "cli.interrupted"}


def interruption_means(key: str) -> None:
    """Declare, as a command starts, the catalog sentence (``key``) that is true if Ctrl-C
    stops it."""
    _MEANING["key"] = key


def interruption_key() -> str:
    """The catalog key of what an interruption of the running command means."""
    return _MEANING["key"]
