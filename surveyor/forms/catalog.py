"""Where the bundled form and rule files are, and a cached loader for them."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from surveyor.forms.model import Form, load_form

#: The repository's data folder of form and rule definitions.
FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
DEFAULT_FORM = FORMS_DIR / "residential_census.yaml"
FORM_ENV_VAR = "SURVEYOR_FORM"


def default_form_path() -> Path:
    env = os.environ.get(FORM_ENV_VAR)
    return Path(env) if env else DEFAULT_FORM


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Form:
    return load_form(Path(path))


def get_form(path: Path | None = None) -> Form:
    """The census form, loaded once per process (reloaded if the file changes)."""
    p = (path or default_form_path()).resolve()
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        from surveyor.errors import SurveyorError

        raise SurveyorError(f"form file {p} not found", zh=f"找不到表单文件 {p}") from None
    return _load_cached(str(p), mtime)
