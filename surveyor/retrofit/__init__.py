"""Retrofit needs derived from census records by rules kept as data (forms/retrofit_rules.yaml).

UI-free: used by the CLI, the TUI and the printed outputs alike; never imports textual.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from surveyor.errors import SurveyorError
from surveyor.forms.catalog import FORMS_DIR
from surveyor.forms.model import Form
from surveyor.retrofit.derive import NeedsReport, derive_needs
from surveyor.retrofit.model import Params, RuleSet, load_params, load_rules

DEFAULT_RULES = FORMS_DIR / "retrofit_rules.yaml"
DEFAULT_PARAMS = FORMS_DIR / "params.yaml"

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_RULES",
    "NeedsReport",
    "Params",
    "RuleSet",
    "derive_needs",
    "get_params",
    "get_rules",
]


def _mtime(path: Path) -> int:
    try:
        return path.resolve().stat().st_mtime_ns
    except OSError:
        raise SurveyorError(f"rule file {path} not found", zh=f"找不到规则文件 {path}") from None


@lru_cache(maxsize=8)
def _params_cached(path: str, mtime: int) -> Params:
    return load_params(path)


@lru_cache(maxsize=8)
def _rules_cached(path: str, mtime: int, form: Form, params: Params) -> RuleSet:
    return load_rules(path, form, params)


def get_params(path: Path | None = None) -> Params:
    """The parameters, loaded once per process (reloaded if the file changes)."""
    p = path or DEFAULT_PARAMS
    return _params_cached(str(p.resolve()), _mtime(p))


def get_rules(form: Form, params: Params | None = None, path: Path | None = None) -> RuleSet:
    """The rule set, checked against ``form`` and the parameters, loaded once per process."""
    p = path or DEFAULT_RULES
    return _rules_cached(str(p.resolve()), _mtime(p), form, params or get_params())
