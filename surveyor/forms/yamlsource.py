"""YAML loading that remembers line numbers, so definition errors can say ``file:line``.

It also follows YAML 1.2 for booleans: only ``true``/``false`` are booleans, so option codes
such as ``yes``, ``no``, ``on`` and ``off`` stay strings (PyYAML's YAML 1.1 would turn them
into booleans and silently corrupt a choice list).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from surveyor.errors import SurveyorError, cannot_read


class LineDict(dict[str, Any]):
    """A mapping that knows the 1-based line it started on, and the line of each of its keys."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A list that knows the 1-based line of each item (a bare string has no line of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


# libyaml's C parser when available: it makes loading the 2,000-line form several times faster
# (this is on the app's start-up path); node marks, and so line numbers, are the same.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


# Drop YAML 1.1's bool resolver and add back only true/false.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList()
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; syntax errors become one ``file:line: message`` sentence."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise cannot_read(path, exc) from exc
    except UnicodeDecodeError as exc:
        raise SurveyorError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise SurveyorError(f"{path}:{line}: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise SurveyorError(f"{path}: {exc}") from exc


def key_line(data: Any, loc: tuple[Any, ...]) -> int:
    """The line the key at the end of ``loc`` is written on (``qr_mm: abc`` → that line).

    A key that is not there (a missing setting) gives the line of the deepest key or mapping
    found on the way. ``line_of`` instead gives the enclosing mapping, which the form loader
    uses to name a whole field.
    """
    line = data.line if isinstance(data, LineDict) else 0
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node.key_lines:
            line = node.key_lines[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, LineDict) and not isinstance(part, str):
            line = node.line  # a list item: where its mapping starts
    return line


def line_of(data: Any, loc: tuple[Any, ...]) -> int:
    """The line of the deepest mapping on the path ``loc`` through ``data``."""
    line = data.line if isinstance(data, LineDict) else 0
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, LineDict):
            line = node.line
    return line
