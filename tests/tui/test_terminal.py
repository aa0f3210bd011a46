"""The terminal reader: Esc stays Esc when a key follows it, however fast."""

from __future__ import annotations

import time

import pytest
from textual import constants

from surveyor.tui.terminal import PromptEscapeParser


def keys_read(*chunks: str, gap: float = 0.0) -> list[str]:
    """The keys the app's parser makes of ``chunks``, each one terminal read, ``gap`` apart."""
    parser = PromptEscapeParser()
    messages = []
    for chunk in chunks:
        messages += parser.feed(chunk)
        time.sleep(gap)
    time.sleep(constants.ESCAPE_DELAY + 0.05)
    messages += parser.tick()
    return [message.key for message in messages if hasattr(message, "key")]


def test_esc_and_the_keys_after_it_in_one_read_are_esc_then_the_keys() -> None:
    """A busy laptop's reader fell behind and got Esc and "zzq" in one read: Textual made
    Alt+z of it, the z went into the field and the Esc was lost (the building stayed open)."""
    assert keys_read("\x1bzzq") == ["escape", "z", "z", "q"]
    assert keys_read("\x1b1") == ["escape", "1"]
    assert keys_read("\x1b张") == ["escape", "张"]


def test_an_esc_whose_wait_ran_out_ends_before_the_next_read() -> None:
    assert keys_read("\x1b", "zq", gap=constants.ESCAPE_DELAY + 0.01) == ["escape", "z", "q"]


def test_option_arrows_stay_word_jumps() -> None:
    """macOS terminals send Option+←/→ as Esc b / Esc f, which Textual reads as a word jump;
    split, they left the building and typed a letter."""
    assert keys_read("\x1bb") == ["ctrl+left"]
    assert keys_read("\x1bf") == ["ctrl+right"]


@pytest.mark.parametrize(
    ("sequence", "key"),
    [("\x1b[A", "up"), ("\x1bOP", "f1"), ("\x1b[6~", "pagedown"), ("\x1b[Z", "shift+tab")],
)
def test_escape_sequences_keep_their_meaning(sequence: str, key: str) -> None:
    assert keys_read(sequence) == [key]
    assert keys_read("\x1b" + sequence) == ["escape", key]
