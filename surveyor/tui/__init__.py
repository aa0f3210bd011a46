"""The Textual front end. Only this package imports textual."""

import os

# Textual waits this long (ms) after Esc for the rest of an escape sequence; a key typed
# within it was read as Alt+key and lost (its default is 100). A terminal writes a sequence
# whole, so 25 ms is ample on a laptop; over a slow SSH link, set ESCDELAY higher.
os.environ.setdefault("ESCDELAY", "25")

from surveyor.tui.keynames import install as _name_keys

# A message naming a key ({key[survey.complete]}) says the key the user's keymap gives it.
_name_keys()
