"""The key a binding has now, in words, for the messages that say which key to press.

A message names a binding, not a key (``{key[survey.complete]}``, see ``surveyor.i18n``): with
``"survey.complete" = "f10"`` in the settings' keymap the footer said f10 while the messages
still said "press F9". ``key_named`` reads the keymap Textual applies, else the binding's own
key, from the app's classes' ``BINDINGS``. ``install`` (run when the package is imported)
has every message name keys so, with the keymap of the app running at the time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from textual._context import active_app
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key

from surveyor.i18n import name_keys_with

#: Keys said as words (Textual's footer shows ⏎, ↓: arrows are ambiguous-width in Chinese text).
KEY_WORDS: dict[str, tuple[str, str]] = {  # key: (zh, en)
    "escape": ("Esc", "Esc"),
    "enter": ("回车", "Enter"),
    "space": ("空格", "Space"),
    "tab": ("Tab", "Tab"),
    "pageup": ("PgUp", "PgUp"),
    "pagedown": ("PgDn", "PgDn"),
    "delete": ("Delete", "Delete"),
    "backspace": ("Backspace", "Backspace"),
    "insert": ("Insert", "Insert"),
    "home": ("Home", "Home"),
    "end": ("End", "End"),
    "up": ("Up", "Up"),
    "down": ("Down", "Down"),
    "left": ("Left", "Left"),
    "right": ("Right", "Right"),
}
FUNCTION_KEY = re.compile(r"f\d{1,2}")


def key_in_words(key: str, lang: str) -> str:
    """``key`` (Textual's name, "ctrl+q", "f9", "pagedown") as a message says it: Ctrl+Q,
    F9, PgDn; a letter alone stays as typed (the review's "press d again")."""
    *modifiers, name = key.split("+")
    if name in KEY_WORDS:
        word = KEY_WORDS[name][0 if lang == "zh" else 1]
    elif FUNCTION_KEY.fullmatch(name):
        word = name.upper()
    else:
        word = format_key(name)
        if modifiers and len(word) == 1:
            word = word.upper()
    return "+".join([*(m.capitalize() for m in modifiers), word])


def _classes(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _classes(sub)


def surveyor_bindings() -> dict[str, list[Binding]]:
    """Every binding of Surveyor's own screens, dialogs, widgets and app, by id, with its
    default keys (one ``Binding`` per key), from the classes imported so far (``key_named``
    imports the rest when it needs them)."""
    out: dict[str, list[Binding]] = {}
    for cls in dict.fromkeys(_classes(DOMNode)):  # once each, in the order defined
        if not cls.__module__.startswith("surveyor."):
            continue
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.id is not None:
                known = out.setdefault(binding.id, [])
                if binding.key not in (b.key for b in known):
                    known.append(binding)
    return out


def key_named(binding_id: str, lang: str, keymap: Mapping[str, str]) -> str:
    """The key bound to ``binding_id`` now, in words: the keymap's first key for it, else
    the binding's own first key; the id itself if no binding has it (a test catches that)."""
    if binding_id in keymap:
        return key_in_words(keymap[binding_id].split(",")[0].strip(), lang)
    bindings = surveyor_bindings().get(binding_id)
    if not bindings:
        _import_every_screen()
        bindings = surveyor_bindings().get(binding_id)
    if not bindings:
        return binding_id
    return key_in_words(bindings[0].key, lang)


def _import_every_screen() -> None:
    """Import every module of ``surveyor.tui``: a message may name a key of a screen not
    opened yet (F1 on the list, before any building, names the survey's PgDn)."""
    import contextlib
    import importlib
    import pkgutil

    import surveyor.tui

    for module in pkgutil.walk_packages(surveyor.tui.__path__, "surveyor.tui."):
        with contextlib.suppress(ImportError):  # an optional part (exports) not installed
            importlib.import_module(module.name)


def closing_key(dialog: DOMNode, lang: str, keymap: Mapping[str, str]) -> str:
    """The key that closes ``dialog`` now: the one its own Esc binding has (a keymap may have
    moved it), or Esc for a dialog whose Esc binding has no id (Textual's palette)."""
    for cls in type(dialog).__mro__:
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", [])):
            if binding.key == "escape" and binding.id is not None:
                return key_named(binding.id, lang, keymap)
    return key_in_words("escape", lang)


def key_named_now(binding_id: str, lang: str) -> str:
    """``key_named`` with the keymap of the app running now: a screen hosted by another app
    (a test's), or a message worded in a thread, gets the bindings' own keys."""
    app = active_app.get(None)
    # Textual (pinned) keeps the keymap it applies, normalised, in ``App._keymap``.
    keymap: Mapping[str, str] = getattr(app, "_keymap", None) or {}
    return key_named(binding_id, lang, keymap)


def install() -> None:
    """Have the catalog's ``{key[binding.id]}`` say the key the binding has now: set
    when the package is imported, so no screen can word a message before it."""
    name_keys_with(key_named_now)
