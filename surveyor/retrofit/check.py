"""``surveyor forms check`` for rule and parameter files (the file kind is its top-level key)."""

from __future__ import annotations

from pathlib import Path

from surveyor.forms.catalog import get_form
from surveyor.forms.yamlsource import load_yaml
from surveyor.i18n import t_in
from surveyor.retrofit.model import file_kind, load_params, params_from_data, rules_from_data


def params_for(rules_path: Path) -> Path:
    """The parameters a rule file is checked with: ``params.yaml`` beside it, else the default."""
    from surveyor.retrofit import DEFAULT_PARAMS

    beside = rules_path.parent / "params.yaml"
    return beside if beside.exists() else DEFAULT_PARAMS


def check_rule_file(path: Path, lang: str = "en") -> str | None:
    """Check a rule or parameter file and return its one-line summary in ``lang``.

    Returns None when the file is neither (so the caller checks it as a form); raises FormError
    listing every problem as ``file:line: ...``.
    """
    raw = load_yaml(path)
    kind = file_kind(raw)
    if kind == "params":
        params = params_from_data(raw, str(path), path)
        return t_in(
            lang,
            "check.ok_params",
            path=path,
            version=params.defn.params_version,
            n=len(params.defn.params),
        )
    if kind == "rules":
        rules = rules_from_data(raw, str(path), get_form(), load_params(params_for(path)), path)
        return t_in(
            lang,
            "check.ok_rules",
            path=path,
            version=rules.version,
            flags=len(rules.flags),
            rules=len(rules.rules),
            notes=len(rules.notes),
            modifiers=len(rules.modifiers),
        )
    return None
