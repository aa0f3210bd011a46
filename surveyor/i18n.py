"""Surveyor's own strings in zh and en, for the app and the CLI (``locale/messages.yaml``).

``t("list.mine")`` gives the text in the current language; ``set_language`` switches it. Form
labels do not come from here: they come from the form (``Localized.get(lang)``).

A message that says which key to press names the key binding, not the key:
``{key[survey.complete]}`` is filled with the key that binding has now (a user's keymap may
have moved it), as the TUI names it (``name_keys_with``): this module knows no keys.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from surveyor.errors import SurveyorError, database_trouble, driver_detail, os_reason
from surveyor.logfile import log_exception

CATALOG_PATH = Path(__file__).resolve().parent / "locale" / "messages.yaml"
LANGUAGES = ("zh", "en")

_current = {"lang": "zh"}

#: The placeholder of a message naming a key binding's key: ``{key[binding.id]}``.
KEY_PLACEHOLDER = re.compile(r"\{key\[([^\]]+)\]\}")

#: Names a binding id's key in a language (``name_keys_with``); none without the TUI.
KeyNamer = Callable[[str, str], str]
_key_namer: dict[str, KeyNamer] = {}


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """Every message id with its zh and en text (loaded once)."""
    # libyaml's parser when it is there: the catalog is read before the first frame.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw: Any = yaml.load(CATALOG_PATH.read_text(encoding="utf-8"), Loader=loader)
    out: dict[str, dict[str, str]] = {}
    for key, texts in raw.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            raise ValueError(f"{CATALOG_PATH}: message '{key}' needs exactly zh and en")
        out[str(key)] = {lang: str(texts[lang]) for lang in LANGUAGES}
    return out


def language() -> str:
    return _current["lang"]


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; use zh or en")
    _current["lang"] = lang


def name_keys_with(namer: KeyNamer | None) -> None:
    """Have ``{key[binding.id]}`` filled by ``namer(binding_id, lang)``: the TUI installs one
    that reads the app's keymap, so a message says F10 where the inspector moved F9 to F10."""
    _key_namer.clear()
    if namer is not None:
        _key_namer["namer"] = namer


class _KeysIn:
    """What ``str.format`` indexes for ``{key[binding.id]}``: the binding's key in ``lang``.
    With no namer (the TUI not imported) it is the binding id: no CLI message names a key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, binding_id: str) -> str:
        namer = _key_namer.get("namer")
        return binding_id if namer is None else namer(binding_id, self.lang)


def t(key: str, **values: object) -> str:
    """The message ``key`` in the current language; an unknown key is returned as it is."""
    return t_in(_current["lang"], key, **values)


def t_in(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (a screen opened in a given language keeps it)."""
    texts = catalog().get(key)
    if texts is None:
        return key
    lang = lang if lang in LANGUAGES else "zh"
    text = texts[lang]
    if "{key[" in text:
        values = {"key": _KeysIn(lang), **values}
    return text.format(**values) if values else text


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """What to say of any error, in one sentence in ``lang``, as the CLI's last resort says it:
    a SurveyorError's own sentence; a file the system refused, with its reason; a database
    driver's error in words. Anything else is a bug: its traceback goes to the log
    (``surveyor.logfile``) and the sentence says so, and where the log is."""
    lang = lang or language()
    if isinstance(exc, SurveyorError):
        return exc.text(lang)
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if exc.filename else ""
        return t_in(lang, "cli.cannot_access", name=name, reason=os_reason(exc, lang))
    trouble = database_trouble(exc, lang)
    if trouble is not None:
        return trouble
    # SQLAlchemy is loaded only by what uses it (not before the app's first frame), so its
    # errors are recognised through sys.modules.
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError):
        return t_in(lang, "cli.database_error", detail=driver_detail(exc))
    return t_in(lang, "cli.internal_error", log=log_exception(exc))


def error_from(key: str, kind: type[SurveyorError] = SurveyorError, **values: Any) -> SurveyorError:
    """A ``kind`` error saying the catalog's ``key`` in both languages; a value with a
    ``text(lang)`` method (another error, a report) is said in each language too."""

    def said(lang: str) -> str:
        filled = {k: v.text(lang) if hasattr(v, "text") else v for k, v in values.items()}
        return t_in(lang, key, **filled)

    return kind(said("en"), zh=said("zh"))
