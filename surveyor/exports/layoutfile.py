"""Print layouts kept as data in ``exports/*.yaml``: label stocks and the sheet layout.

A file's kind is its top-level key (``layout:`` for a label stock, ``sheet:`` for a sheet), so
the folder can hold both and each command lists, and accepts, only its own. Problems are said
as ``file:line: key: message``, the line being the one the key is written on.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from surveyor.errors import SurveyorError
from surveyor.forms.model import FormError, pydantic_message
from surveyor.forms.yamlsource import key_line, load_yaml
from surveyor.i18n import t_in

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "exports"
Kind = Literal["label", "sheet"]
#: The top-level key that says what a layout file is.
KIND_KEYS: dict[Kind, str] = {"label": "layout", "sheet": "sheet"}
KIND_WORDS: dict[Kind, tuple[str, str]] = {"label": ("label", "标签"), "sheet": ("sheet", "需求单")}
#: Top-level keys only a layout of that kind has: a file with one of them but no kind key is a
#: layout whose kind key is mistyped (``Layout:``), not a census form.
KIND_MARKS: dict[Kind, frozenset[str]] = {
    "label": frozenset({"page", "label", "grid", "padding_mm", "calibration"}),
    "sheet": frozenset({"header", "key_facts", "elements", "photos", "signatures", "disclaimer"}),
}

Model = TypeVar("Model", bound=BaseModel)


class LayoutError(ValueError):
    """Parts of a layout that do not fit together; ``key`` is the setting to change, and
    ``message`` the catalog's sentence (``surveyor/locale/messages.yaml``) filled with
    ``values``, so ``forms check --lang zh`` says it in Chinese too."""

    def __init__(self, key: tuple[str, ...], message: str, **values: object) -> None:
        super().__init__(t_in("en", message, **values))
        self.key = key
        self.message = message
        self.values = values

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return t_in(lang, self.message, **self.values)


def kind_of(raw: Any) -> Kind | None:
    """What a parsed layout file is, by its top-level key; None when it is neither."""
    if isinstance(raw, dict):
        for kind, key in KIND_KEYS.items():
            if key in raw:
                return kind
    return None


def mistyped_kind_key(raw: Any) -> tuple[Kind, str] | None:
    """For a mapping with no kind key: the kind it looks like and the key that was probably
    meant as its kind key (``Layout:``, ``layuot:``); None when it does not look like one."""
    if not isinstance(raw, dict) or kind_of(raw) is not None:
        return None
    keys = [k for k in raw if isinstance(k, str)]
    for kind, key in KIND_KEYS.items():
        near = [k for k in keys if k.lower() == key] or difflib.get_close_matches(key, keys, 1)
        if near and (near[0].lower() == key or KIND_MARKS[kind] & set(keys)):
            return kind, near[0]
    return None


def looks_like(raw: Any) -> Kind | None:
    """The kind of layout a file is, or looks like with its kind key mistyped or missing."""
    if (kind := kind_of(raw)) is not None:
        return kind
    if (mistyped := mistyped_kind_key(raw)) is not None:
        return mistyped[0]
    if isinstance(raw, dict) and "sections" not in raw:
        return next((kind for kind, marks in KIND_MARKS.items() if marks & set(raw)), None)
    return None


def require_settings(raw: Any, path: Path, kind: Kind) -> None:
    """Refuse, in one sentence naming the file, a layout file that is empty or is not a
    mapping of settings, and say which key a layout with a mistyped kind key meant: such files
    were checked as a census form, or said "layout: Input should be a valid dictionary"."""
    word, word_zh = KIND_WORDS[kind]
    key = KIND_KEYS[kind]
    if raw is None:
        raise SurveyorError(
            f"{path}: the file is empty; a {word} layout is a mapping of settings that starts "
            f"with '{key}:'",
            zh=f"{path}：文件是空的；{word_zh}版式是一组设置，以「{key}:」开头",
        )
    if not isinstance(raw, dict):
        raise SurveyorError(
            f"{path}: this is not a {word} layout: it must be a mapping of settings "
            f"(key: value) that starts with '{key}:'",
            zh=f"{path}：这不是{word_zh}版式：它应是一组设置（键: 值），以「{key}:」开头",
        )
    mistyped = mistyped_kind_key(raw)
    if mistyped is not None and mistyped[0] == kind:
        typo = mistyped[1]
        line = key_line(raw, (typo,))
        raise FormError(
            [f"{path}:{line}: {typo}: did you mean '{key}'? (a {word} layout starts with it)"],
            [f"{path}:{line}: {typo}：是否应为「{key}」？（{word_zh}版式以它开头）"],
        )


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


def layout_path(name_or_path: str) -> Path:
    """The file of a layout given by name (in ``exports/``) or by path."""
    path = Path(name_or_path)
    return LAYOUT_DIR / f"{name_or_path}.yaml" if not path.suffix else path


def layout_file(name_or_path: str, kind: Kind) -> tuple[Path, Any]:
    """A layout of ``kind`` by name (a file in ``exports/``) or by YAML path, parsed.

    A name is looked up among the layouts of its kind only, and a file of the other kind is
    refused saying which it is: a sheet layout given to ``export labels`` would otherwise fail
    on every key.
    """
    word, word_zh = KIND_WORDS[kind]
    path = layout_path(name_or_path)
    if not Path(name_or_path).suffix:
        names = list(available(kind))
        if name_or_path not in names:
            raise SurveyorError(
                f"unknown {word} layout '{name_or_path}'; "
                f"use one of {', '.join(names)} or a YAML file",
                zh=f"未知的{word_zh}版式「{name_or_path}」；"
                f"请用 {'、'.join(names)} 或一个 YAML 文件",
            )
    raw = load_yaml(path)
    found = looks_like(raw)
    if found is not None and found != kind:
        other, other_zh = KIND_WORDS[found]
        is_, is_zh = ("is", "为") if kind_of(raw) else ("should be", "应为")  # or mistyped
        raise SurveyorError(
            f"{path}: this is a {other} layout (its top-level key {is_} '{KIND_KEYS[found]}'), "
            f"not a {word} layout",
            zh=f"{path}：这是{other_zh}版式（顶层键{is_zh}「{KIND_KEYS[found]}」），不是{word_zh}版式",
        )
    require_settings(raw, path, kind)
    return path, raw


def validated(model: type[Model], raw: Any, path: Path) -> Model:
    """``raw`` as ``model``; every problem becomes one ``file:line: key: message`` line, in
    English and (the common pydantic ones) in Chinese."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems: dict[str, list[str]] = {"en": [], "zh": []}
        for err in exc.errors():
            loc = tuple(err["loc"])
            cause = err.get("ctx", {}).get("error")
            for lang, said in problems.items():
                msg = pydantic_message(err, lang)
                if isinstance(cause, LayoutError):  # a whole-layout check names its own key
                    loc, msg = cause.key, cause.text(lang)
                said.append(problem(raw, path, loc, msg, lang))
        raise FormError(problems["en"], problems["zh"]) from None


def problem(raw: Any, path: Path, loc: tuple[Any, ...], message: str, lang: str = "en") -> str:
    """One problem, at the line its key is written on."""
    key = ".".join(str(p) for p in loc) or "layout"
    colon = "：" if lang == "zh" else ": "
    return f"{path}:{key_line(raw, loc)}: {key}{colon}{message}"
