"""Print layouts kept as data in ``exports/*.yaml``: label stocks and the sheet layout.

A file's kind is its top-level key (``layout:`` for a label stock, ``sheet:`` for a sheet), so
the folder can hold both and each command lists, and accepts, only its own. Problems are said
as ``file:line: key: message``, the line being the one the key is written on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from surveyor.errors import SurveyorError
from surveyor.forms.model import FormError
from surveyor.forms.yamlsource import key_line, load_yaml

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "exports"
Kind = Literal["label", "sheet"]
#: The top-level key that says what a layout file is.
KIND_KEYS: dict[Kind, str] = {"label": "layout", "sheet": "sheet"}
KIND_WORDS: dict[Kind, tuple[str, str]] = {"label": ("label", "标签"), "sheet": ("sheet", "需求单")}

Model = TypeVar("Model", bound=BaseModel)


class LayoutError(ValueError):
    """Parts of a layout that do not fit together; ``key`` is the setting to change."""

    def __init__(self, key: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.key = key


def kind_of(raw: Any) -> Kind | None:
    """What a parsed layout file is, by its top-level key; None when it is neither."""
    if isinstance(raw, dict):
        for kind, key in KIND_KEYS.items():
            if key in raw:
                return kind
    return None


def available(kind: Kind) -> dict[str, Any]:
    """The layouts of one kind in ``exports/``: file name (without .yaml) → parsed YAML."""
    found = {}
    for path in sorted(LAYOUT_DIR.glob("*.yaml")):
        try:
            raw = load_yaml(path)
        except SurveyorError:
            continue  # a broken file is reported when it is asked for by name
        if kind_of(raw) == kind:
            found[path.stem] = raw
    return found


def layout_file(name_or_path: str, kind: Kind) -> tuple[Path, Any]:
    """A layout of ``kind`` by name (a file in ``exports/``) or by YAML path, parsed.

    A name is looked up among the layouts of its kind only, and a file of the other kind is
    refused saying which it is: a sheet layout given to ``export labels`` would otherwise fail
    on every key.
    """
    word, word_zh = KIND_WORDS[kind]
    path = Path(name_or_path)
    if not path.suffix:
        path = LAYOUT_DIR / f"{name_or_path}.yaml"
        names = list(available(kind))
        if name_or_path not in names:
            raise SurveyorError(
                f"unknown {word} layout '{name_or_path}'; "
                f"use one of {', '.join(names)} or a YAML file",
                zh=f"未知的{word_zh}版式「{name_or_path}」；"
                f"请用 {'、'.join(names)} 或一个 YAML 文件",
            )
    raw = load_yaml(path)
    found = kind_of(raw)
    if found is not None and found != kind:
        other, other_zh = KIND_WORDS[found]
        raise SurveyorError(
            f"{path}: this is a {other} layout (its top-level key is '{KIND_KEYS[found]}'), "
            f"not a {word} layout",
            zh=f"{path}：这是{other_zh}版式（顶层键为「{KIND_KEYS[found]}」），不是{word_zh}版式",
        )
    return path, raw


def validated(model: type[Model], raw: Any, path: Path) -> Model:
    """``raw`` as ``model``; every problem becomes one ``file:line: key: message`` line."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, LayoutError):  # a whole-layout check names its own key
                loc, msg = cause.key, str(cause)
            problems.append(problem(raw, path, loc, msg))
        raise FormError(problems) from None


def problem(raw: Any, path: Path, loc: tuple[Any, ...], message: str) -> str:
    """One problem, at the line its key is written on."""
    key = ".".join(str(p) for p in loc) or "layout"
    return f"{path}:{key_line(raw, loc)}: {key}: {message}"
