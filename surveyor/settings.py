"""The inspector's settings: ``config.toml`` in the user config directory (platformdirs).

``$SURVEYOR_CONFIG`` points elsewhere (tests, shared laptops). Unknown keys are ignored with a
warning rather than refusing to start: a typo in a settings file must not lock anyone out.

    inspector = "王芳"
    language = "zh"          # zh | en
    theme = "textual-dark"
    autosave_delay = 0.8     # seconds after the last keystroke
    [keymap]                 # binding id = keys, comma separated
    "survey.complete" = "f9"

The settings are read before the app's first frame, so this module is a plain dataclass with its
own checks: pydantic would add ~90 ms to the start (docs/PERFORMANCE.md, "TUI").
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveyor.paths import config_dir

CONFIG_ENV_VAR = "SURVEYOR_CONFIG"
LANG_ENV_VAR = "SURVEYOR_LANG"
DELAY_RANGE = (0.1, 10.0)


class SettingError(ValueError):
    """One setting has a value of the wrong type or out of range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Settings:
    inspector: str | None = None
    language: str = "zh"
    theme: str = "textual-dark"
    autosave_delay: float = 0.8
    keymap: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.inspector is not None and not isinstance(self.inspector, str):
            raise SettingError("inspector", "must be a string")
        if self.language not in ("zh", "en"):
            raise SettingError("language", "must be zh or en")
        if not isinstance(self.theme, str):
            raise SettingError("theme", "must be a string")
        delay = self.autosave_delay
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise SettingError("autosave_delay", "must be a number of seconds")
        low, high = DELAY_RANGE
        if not low <= delay <= high:
            raise SettingError("autosave_delay", f"must be between {low} and {high} seconds")
        object.__setattr__(self, "autosave_delay", float(delay))
        keymap = self.keymap
        if not isinstance(keymap, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
        ):
            raise SettingError("keymap", 'must be a table of "binding id" = "keys"')

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)


SETTING_NAMES = tuple(f.name for f in dataclasses.fields(Settings))


def config_path() -> Path:
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env) if env else config_dir() / "config.toml"


def default_language() -> str:
    """The language when the settings file does not say: ``$SURVEYOR_LANG`` (zh or en), the
    variable every command reads, else zh."""
    lang = os.environ.get(LANG_ENV_VAR, "")
    return lang if lang in ("zh", "en") else "zh"


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings and any problems found (a broken file gives the defaults, not a crash)."""
    p = path or config_path()
    defaults = Settings(language=default_language())
    if not p.exists():
        return defaults, []
    try:
        raw: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return defaults, [f"{p}: {exc}"]
    problems = [f"{p}: unknown setting '{k}' ignored" for k in raw if k not in SETTING_NAMES]
    raw.setdefault("language", default_language())
    try:
        return Settings(**{k: v for k, v in raw.items() if k in SETTING_NAMES}), problems
    except SettingError as exc:
        return defaults, [*problems, f"{p}: {exc}"]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A JSON string (no ensure_ascii) is a valid TOML basic string.
    return json.dumps(str(value), ensure_ascii=False)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings file (via a temp file and rename, so it is never half written)."""
    p = path or config_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for key in SETTING_NAMES:
        value = getattr(settings, key)
        if key != "keymap" and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    if settings.keymap:
        lines.append("")
        lines.append("[keymap]")
        lines.extend(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in settings.keymap.items())
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(p)
    return p


def recorded_author(given: str | None, db_inspector: str | None, configured: str | None) -> str:
    """Whose name a change is recorded under, one rule for the app and the command line: the
    name given for this run; else the inspector the database was set up for (a laptop: sync
    pulls by that name, progress counts by it, and the log keeps it for good); else the
    settings file's ``inspector`` (a central has no inspector). "" when none is known: the
    command line then refuses the write (``cli.options.author_name``), never inventing one.

    The app put the settings file's name first and the CLI the database's, so a laptop used
    under another inspector's settings recorded that colleague on every edit."""
    for name in (given, db_inspector, configured):
        if name and name.strip():
            return name.strip()
    return ""
