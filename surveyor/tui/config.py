"""The inspector's settings: ``config.toml`` in the user config directory (platformdirs).

``$SURVEYOR_CONFIG`` points elsewhere (tests, shared laptops). Unknown keys are ignored with a
warning rather than refusing to start: a typo in a settings file must not lock anyone out.

    inspector = "王芳"
    language = "zh"          # zh | en
    theme = "textual-dark"
    autosave_delay = 0.8     # seconds after the last keystroke
    [keymap]                 # binding id = keys, comma separated
    "survey.complete" = "f9"
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from surveyor.paths import config_dir

CONFIG_ENV_VAR = "SURVEYOR_CONFIG"


class Settings(BaseModel):
    inspector: str | None = None
    language: str = "zh"
    theme: str = "textual-dark"
    autosave_delay: float = Field(default=0.8, ge=0.1, le=10.0)
    keymap: dict[str, str] = Field(default_factory=dict)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("language must be zh or en")
        return value


def config_path() -> Path:
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env) if env else config_dir() / "config.toml"


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings and any problems found (a broken file gives the defaults, not a crash)."""
    p = path or config_path()
    if not p.exists():
        return Settings(), []
    try:
        raw: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Settings(), [f"{p}: {exc}"]
    known = set(Settings.model_fields)
    problems = [f"{p}: unknown setting '{k}' ignored" for k in raw if k not in known]
    try:
        return Settings.model_validate({k: v for k, v in raw.items() if k in known}), problems
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return Settings(), [*problems, f"{p}: {where}: {first['msg']}"]


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
    for key, value in settings.model_dump(exclude={"keymap"}).items():
        if value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    if settings.keymap:
        lines.append("")
        lines.append("[keymap]")
        lines.extend(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in settings.keymap.items())
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(p)
    return p
