"""The census form as data: a pydantic model of the YAML definition, and its checker.

``load_form`` validates the definition itself (structure, unique ids, choices, expressions,
references) and reports every problem as ``file:line: field 'x': message``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from surveyor.errors import SurveyorError
from surveyor.forms import expr as ast
from surveyor.forms.expr import (
    Call,
    Compare,
    Current,
    Expr,
    ExprError,
    Node,
    Str,
    child_nodes,
    parse,
)
from surveyor.forms.expr import Field as FieldRef
from surveyor.forms.yamlsource import LineDict, line_of, load_yaml

FieldType = Literal[
    "text",
    "integer",
    "decimal",
    "select_one",
    "select_multiple",
    "date",
    "geopoint",
    "photo",
    "boolean",
    "calculate",
]
SELECT_TYPES = frozenset({"select_one", "select_multiple"})
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
#: The answer code an inspector gives when the fact cannot be seen on site.
UNKNOWN = "unknown"
#: How "unknown" reads in Chinese; taken as input in either language (forms.record).
UNKNOWN_ZH = "不详"


#: How alike (difflib's ratio) a mistyped field name and a field must be to be suggested.
SIMILAR_FIELD_CUTOFF = 0.6

#: Defaults a survey starts with that are not literals: the day it starts, and who starts it.
TODAY_DEFAULT = "today()"
INSPECTOR_DEFAULT = "inspector()"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """A text in both interface languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Choice(_Strict):
    code: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class FieldDef(_Strict):
    id: str
    type: FieldType
    label: Localized
    hint: Localized | None = None
    unit: Localized | None = None
    required: bool = False
    required_if: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Localized | None = None
    warn: str | None = None
    warn_message: Localized | None = None
    choices: str | list[Choice] | None = None
    exclusive: list[str] = Field(default_factory=list)
    allow_unknown: bool = False
    calculate: str | None = None
    default: Any = None
    max_count: int = Field(default=1, ge=1, le=50)

    #: Expression attributes, in the order they are checked.
    EXPRESSION_KEYS: tuple[str, ...] = (
        "relevant",
        "required_if",
        "constraint",
        "warn",
        "calculate",
    )

    def expression_sources(self) -> Iterator[tuple[str, str]]:
        for key in self.EXPRESSION_KEYS:
            text = getattr(self, key)
            if text is not None:
                yield key, text


class Section(_Strict):
    id: str
    title: Localized
    fields: list[FieldDef] = Field(min_length=1)


class FormDef(_Strict):
    form: str
    version: str = Field(min_length=1, max_length=32)
    title: Localized
    choice_lists: dict[str, list[Choice]] = Field(default_factory=dict)
    sections: list[Section] = Field(min_length=1)


class CompiledField:
    """A field with its expressions parsed and its choices resolved, ready to evaluate."""

    __slots__ = (
        "calculate",
        "choice_codes",
        "choices",
        "constraint",
        "defn",
        "relevant",
        "required_if",
        "section_id",
        "warn",
    )

    def __init__(self, defn: FieldDef, section_id: str, choices: list[Choice]) -> None:
        self.defn = defn
        self.section_id = section_id
        self.choices = choices
        self.choice_codes = frozenset(c.code for c in choices)
        self.relevant = _maybe(defn.relevant)
        self.required_if = _maybe(defn.required_if)
        self.constraint = _maybe(defn.constraint)
        self.warn = _maybe(defn.warn)
        self.calculate = _maybe(defn.calculate)

    @property
    def id(self) -> str:
        return self.defn.id

    @property
    def type(self) -> str:
        return self.defn.type

    def max_length(self) -> int | None:
        """The most characters the constraint allows (``string-length(.) <= 500``, also
        inside an ``and``), or None: what a text box counts against as it is typed."""
        if self.constraint is None:
            return None
        root = self.constraint.ast
        limits = [
            _length_limit(node) for node in (root.items if isinstance(root, ast.And) else (root,))
        ]
        found = [n for n in limits if n is not None]
        return min(found) if found else None

    def accepts_unknown(self) -> bool:
        return self.defn.allow_unknown or UNKNOWN in self.choice_codes

    def code_for(self, text: str) -> str | None:
        """The option ``text`` names: its code, or its zh or en label (typed on the command
        line or in a register file by someone who reads the labels, not the codes); else
        the one option whose label without its parenthetical is ``text`` (砖混 for 砖混（砌体）),
        else the one whose label or code starts with it (two characters at least). A text
        that could name two options names none: 砖 is 砖混（砌体） or 砖木."""
        if text in self.choice_codes:
            return text
        folded = _folded(text)
        if not folded:
            return None
        for choice in self.choices:
            if folded in (_folded(choice.zh), _folded(choice.en)):
                return choice.code
        short = {c.code for c in self.choices if folded in (_short(c.zh), _short(c.en))}
        if len(short) == 1:
            return short.pop()
        if short or len(folded) < 2:
            return None
        starts = {
            c.code
            for c in self.choices
            if any(_folded(name).startswith(folded) for name in (c.code, c.zh, c.en))
        }
        return starts.pop() if len(starts) == 1 else None

    def options_text(self, lang: str) -> str:
        """The options as a person picks them, for a refusal: "砖混（砌体）、砖木、…"."""
        return ("、" if lang == "zh" else ", ").join(c.label(lang) for c in self.choices)

    def choice_label(self, code: str, lang: str) -> str:
        for choice in self.choices:
            if choice.code == code:
                return choice.label(lang)
        return code


def _folded(text: str) -> str:
    """Text compared as typed by a person: NFKC (full-width letters, spaces), no case."""
    return unicodedata.normalize("NFKC", text).strip().lower()


#: A label's parenthetical: 砖混（砌体） is said 砖混 (NFKC makes （） ASCII).
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)\s*$")


def _short(label: str) -> str:
    """A label without its trailing parenthetical, folded."""
    return _PARENTHETICAL.sub("", _folded(label))


def _length_limit(node: ast.Node) -> int | None:
    """``n`` from ``string-length(.) <= n`` (``< n``: n - 1; either way round), else None."""
    if not isinstance(node, ast.Compare):
        return None
    flipped = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}
    left, op, right = node.left, node.op, node.right
    if isinstance(left, ast.Int):
        left, op, right = right, flipped.get(op, op), left
    measured = (
        isinstance(left, ast.Call)
        and left.name == "string-length"
        and len(left.args) == 1
        and isinstance(left.args[0], ast.Current)
    )
    if not measured or not isinstance(right, ast.Int) or op not in ("<=", "<"):
        return None
    return right.value if op == "<=" else right.value - 1


def _maybe(text: str | None) -> Expr | None:
    return parse(text) if text is not None else None


class Form:
    """A loaded, checked form: the definition plus compiled fields in form order."""

    def __init__(self, defn: FormDef, source: Path | None) -> None:
        self.defn = defn
        self.source = source
        self.fields: dict[str, CompiledField] = {}
        for section in defn.sections:
            for field in section.fields:
                choices = _resolve_choices(defn, field) or []
                self.fields[field.id] = CompiledField(field, section.id, choices)

    def __reduce__(self) -> tuple[type[Form], tuple[FormDef, Path | None]]:
        # Compiled fields hold closures; a copy (for a merge's worker processes) recompiles.
        return (Form, (self.defn, self.source))

    @property
    def version(self) -> str:
        return self.defn.version

    @property
    def sections(self) -> list[Section]:
        return self.defn.sections

    def field(self, field_id: str) -> CompiledField:
        return self.fields[field_id]

    @cached_property
    def calculation_order(self) -> list[CompiledField]:
        """Calculated fields sorted so each comes after the calculations it reads."""
        calcs = {f.id: f for f in self.fields.values() if f.calculate is not None}
        ordered: list[CompiledField] = []
        seen: set[str] = set()

        def visit(fid: str) -> None:
            if fid in seen:
                return
            seen.add(fid)
            expr = calcs[fid].calculate
            assert expr is not None
            for ref in sorted(expr.references):
                if ref in calcs:
                    visit(ref)
            ordered.append(calcs[fid])

        for fid in calcs:
            visit(fid)
        return ordered

    def section_fields(self, section_id: str) -> list[CompiledField]:
        return [f for f in self.fields.values() if f.section_id == section_id]

    def similar_fields(self, name: str, most: int = 3) -> list[str]:
        """The fields a name that is no field's was likely meant for, best first, each as the
        person would type it: its id for a name in Latin letters, else its Chinese label.

        A field is near when its id or a label is like the name (difflib's ratio at least
        0.6: 建成年分 → 建成年份, adress → address) or holds it whole (remarks →
        inspector_remarks, 结构 → 结构类型 and 承重结构裂缝); fields well behind the best are
        left out, and a name like nothing gets no hint (nosuch was offered info_sources at
        the old cutoff of 0.5)."""
        typed = _folded(name)
        if not typed:
            return []
        whole_from = 3 if typed.isascii() else 2
        scored: list[tuple[float, int, str]] = []
        for order, (fid, fld) in enumerate(self.fields.items()):
            names = (fid, _folded(fld.defn.label.zh), _folded(fld.defn.label.en))
            score = max(difflib.SequenceMatcher(None, typed, n).ratio() for n in names)
            if len(typed) >= whole_from and any(typed in n for n in names):
                score = max(score, 0.7)
            if score >= SIMILAR_FIELD_CUTOFF:
                shown = fid if typed.isascii() else fld.defn.label.zh
                scored.append((-score, order, shown))
        scored.sort()
        # A clear best stands alone (year_buit: year_built, not also year_built_basis).
        return [shown for score, _, shown in scored[:most] if score <= scored[0][0] + 0.1]

    @cached_property
    def options(self) -> dict[str, FieldOptions]:
        """Each field's option codes, for checking the codes a rule compares with."""
        return field_options(self.defn)


def _resolve_choices(defn: FormDef, field: FieldDef) -> list[Choice] | None:
    if field.choices is None:
        return None
    if isinstance(field.choices, str):
        return defn.choice_lists.get(field.choices)
    return field.choices


class FieldOptions(NamedTuple):
    """What a condition may compare a field with: its type and option codes."""

    type: str
    codes: frozenset[str]
    accepts_unknown: bool


def field_options(defn: FormDef) -> dict[str, FieldOptions]:
    """Every field's options, from a definition not yet compiled (its expressions may be
    broken: the form check reports those itself)."""
    options = {}
    for section in defn.sections:
        for field in section.fields:
            codes = frozenset(c.code for c in _resolve_choices(defn, field) or [])
            accepts = field.allow_unknown or UNKNOWN in codes
            options[field.id] = FieldOptions(field.type, codes, accepts)
    return options


def _codes_used(node: Node, current: str | None) -> Iterator[tuple[str, str]]:
    """(field, code) pairs a condition compares a field with: ``${f} = 'x'`` (either way
    round), ``one-of(${f}, 'x', …)``, ``selected(${f}, 'x')``, ``selected-any(…)``; ``.``
    is the field ``current`` (the one whose constraint or warning this is)."""

    def field_of(arg: Node) -> str | None:
        if isinstance(arg, FieldRef):
            return arg.name
        return current if isinstance(arg, Current) else None

    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                fid = field_of(side)
                if fid is not None and isinstance(other, Str):
                    yield fid, other.value
        elif isinstance(node, Call) and node.name in ("one-of", "selected", "selected-any"):
            fid = field_of(node.args[0]) if node.args else None
            if fid is not None:
                for arg in node.args[1:]:
                    if isinstance(arg, Str):
                        yield fid, arg.value
        stack.extend(child_nodes(node))


def option_code_problems(
    expr: Expr, options: Mapping[str, FieldOptions], current: str | None = None
) -> list[str]:
    """Every option code ``expr`` compares a field with that the field does not have,
    as "'nonee' is not an option of field 'wall_insulation'" (the form check and the
    rule check both prefix it with file, line, field or rule, and the expression's key)."""
    problems: list[str] = []
    for fid, code in _codes_used(expr.ast, current):
        field = options.get(fid)
        if field is None or not field.codes:
            continue
        if code not in field.codes and not (code == UNKNOWN and field.accepts_unknown):
            problems.append(f"'{code}' is not an option of field '{fid}'")
    return problems


class FormError(SurveyorError):
    """A form or rule definition is broken; ``problems`` lists every ``file:line: ...`` line,
    and ``problems_zh``, when given, the same lines in Chinese."""

    def __init__(self, problems: list[str], problems_zh: list[str] | None = None) -> None:
        self.problems = problems
        self.problems_zh = problems_zh
        super().__init__("\n".join(problems), zh="\n".join(problems_zh) if problems_zh else None)

    def problems_in(self, lang: str) -> list[str]:
        """The problem lines in ``lang``; English where no Chinese was given."""
        return self.problems_zh if lang == "zh" and self.problems_zh else self.problems


#: The common pydantic complaints in Chinese, by error type; {…} are the error's context
#: (``ge``, ``expected``…). Others are said in pydantic's English.
_PYDANTIC_ZH = {
    "extra_forbidden": "未知的键",
    "missing": "缺少此项（必填）",
    "greater_than_equal": "应大于或等于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应小于或等于 {le}",
    "less_than": "应小于 {lt}",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "dict_type": "应为一组设置（键: 值）",
    "model_type": "应为一组设置（键: 值）",
    "model_attributes_type": "应为一组设置（键: 值）",
    "list_type": "应为列表",
    "literal_error": "应为其中之一：{expected}",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "至多可有 {max_length} 项",
}


def pydantic_message(err: ErrorDetails, lang: str = "en") -> str:
    """One pydantic complaint as a form or layout problem says it, in ``lang``: "unknown key"
    for a key the model does not have; the common ones in Chinese when asked (a layout
    refused under --lang zh read "错误：padding_mm: Input should be greater than or equal to 0").
    """
    kind = err["type"]
    if lang == "zh" and kind in _PYDANTIC_ZH:
        ctx = {k: f"{v:g}" if isinstance(v, float) else v for k, v in err.get("ctx", {}).items()}
        return _PYDANTIC_ZH[kind].format(**ctx)
    return "unknown key" if kind == "extra_forbidden" else err["msg"]


def check_definition(defn: FormDef, raw: Any, source: str) -> list[str]:
    """Every semantic problem of a structurally valid definition, as ``file:line:`` lines."""
    problems: list[str] = []

    def report(loc: tuple[Any, ...], field_id: str | None, message: str) -> None:
        where = f"field '{field_id}': " if field_id else ""
        problems.append(f"{source}:{line_of(raw, loc)}: {where}{message}")

    all_ids = [f.id for s in defn.sections for f in s.fields]
    known = set(all_ids)
    options = field_options(defn)
    seen_fields: set[str] = set()
    seen_sections: set[str] = set()

    for name, choices in defn.choice_lists.items():
        _check_choices(choices, ("choice_lists", name), None, report)

    for si, section in enumerate(defn.sections):
        sloc: tuple[Any, ...] = ("sections", si)
        if not ID_PATTERN.match(section.id):
            report(sloc, None, f"section id '{section.id}' is not snake_case")
        if section.id in seen_sections:
            report(sloc, None, f"duplicate section id '{section.id}'")
        seen_sections.add(section.id)
        for fi, field in enumerate(section.fields):
            floc = (*sloc, "fields", fi)
            fid = field.id
            if not ID_PATTERN.match(fid):
                report(floc, fid, "id is not snake_case (a-z, 0-9, _)")
            if fid in seen_fields:
                report(floc, fid, "duplicate field id")
            seen_fields.add(fid)
            _check_field(defn, field, floc, known, options, report)
    problems.extend(_calculation_cycles(defn, raw, source))
    return problems


def _check_choices(
    choices: list[Choice], loc: tuple[Any, ...], fid: str | None, report: Any
) -> None:
    codes: set[str] = set()
    for ci, choice in enumerate(choices):
        if choice.code in codes:
            report((*loc, ci), fid, f"duplicate choice code '{choice.code}'")
        codes.add(choice.code)
    if not choices:
        report(loc, fid, "choice list is empty")


def _check_field(
    defn: FormDef,
    field: FieldDef,
    loc: tuple[Any, ...],
    known: set[str],
    options: Mapping[str, FieldOptions],
    report: Any,
) -> None:
    fid = field.id
    is_select = field.type in SELECT_TYPES
    if isinstance(field.choices, str) and field.choices not in defn.choice_lists:
        report(loc, fid, f"choices refer to unknown list '{field.choices}'")
    elif isinstance(field.choices, list):
        _check_choices(field.choices, (*loc, "choices"), fid, report)
    if is_select and field.choices is None:
        report(loc, fid, f"a {field.type} field needs choices")
    if field.choices is not None and not is_select and field.type != "calculate":
        report(loc, fid, f"a {field.type} field cannot have choices")
    codes = {c.code for c in (_resolve_choices(defn, field) or [])}
    if field.exclusive and field.type != "select_multiple":
        report(loc, fid, "exclusive is only for select_multiple fields")
    for code in field.exclusive:
        if code not in codes:
            report(loc, fid, f"exclusive code '{code}' is not one of its choices")
    if field.type == "calculate" and field.calculate is None:
        report(loc, fid, "a calculate field needs a calculate expression")
    if field.calculate is not None and field.type != "calculate":
        report(loc, fid, "only calculate fields may have a calculate expression")
    if field.required and field.required_if is not None:
        report(loc, fid, "use either required or required_if, not both")
    if field.constraint is not None and field.constraint_message is None:
        report(loc, fid, "constraint needs a constraint_message in zh and en")
    if field.warn is not None and field.warn_message is None:
        report(loc, fid, "warn needs a warn_message in zh and en")
    if field.type == "calculate" and (field.required or field.required_if):
        report(loc, fid, "a calculate field cannot be required")
    if field.allow_unknown and field.type in SELECT_TYPES | {"boolean", "photo", "calculate"}:
        report(loc, fid, f"allow_unknown does not apply to {field.type} (add an option)")
    if field.default == TODAY_DEFAULT and field.type != "date":
        report(loc, fid, f"default {TODAY_DEFAULT} is only for date fields")
    if field.default == INSPECTOR_DEFAULT and field.type != "text":
        report(loc, fid, f"default {INSPECTOR_DEFAULT} is only for text fields")
    if field.default is not None and is_select:
        defaults = field.default if isinstance(field.default, list) else [field.default]
        for code in defaults:
            if code not in codes:
                report(loc, fid, f"default '{code}' is not one of its choices")
    if field.max_count != 1 and field.type != "photo":
        report(loc, fid, "max_count is only for photo fields")
    for key, text in field.expression_sources():
        try:
            expr = parse(text)
        except ExprError as exc:
            at = f" at character {exc.position + 1}" if exc.position is not None else ""
            report(loc, fid, f"{key} is not a valid expression{at}: {exc.message}")
            continue
        for ref in sorted(expr.references - known):
            report(loc, fid, f"{key} refers to unknown field '{ref}'")
        for problem in option_code_problems(expr, options, fid):
            report(loc, fid, f"{key}: {problem}")
        if expr.uses_current and key not in ("constraint", "warn"):
            report(loc, fid, "'.' (this field's value) is only allowed in constraint and warn")
        if key == "calculate" and fid in expr.references:
            report(loc, fid, "calculate refers to the field itself")


def _calculation_cycles(defn: FormDef, raw: Any, source: str) -> list[str]:
    graph: dict[str, set[str]] = {}
    where: dict[str, tuple[Any, ...]] = {}
    for si, section in enumerate(defn.sections):
        for fi, field in enumerate(section.fields):
            if field.calculate is None:
                continue
            try:
                graph[field.id] = set(parse(field.calculate).references)
            except ExprError:
                continue
            where[field.id] = ("sections", si, "fields", fi)
    problems: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = " → ".join([*path[path.index(nxt) :], nxt]) if nxt in path else nxt
                problems.append(
                    f"{source}:{line_of(raw, where[node])}: field '{node}': "
                    f"calculations form a cycle: {cycle}"
                )
            elif state.get(nxt) is None:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    return problems


def _pydantic_problems(exc: ValidationError, raw: Any, source: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field_id = _field_id_at(raw, loc)
        where = f"field '{field_id}': " if field_id else ""
        key = ".".join(str(p) for p in loc if not isinstance(p, int))
        msg = pydantic_message(err)
        if err["type"] == "literal_error" and loc and loc[-1] == "type":
            msg = f"unknown type {err.get('input')!r}; {err['msg'].lower()}"
        problems.append(f"{source}:{line_of(raw, loc)}: {where}{key}: {msg}")
    return problems


def _field_id_at(raw: Any, loc: tuple[Any, ...]) -> str | None:
    node = raw
    found = None
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, LineDict) and "type" in node and isinstance(node.get("id"), str):
            found = node["id"]
    return found


def form_from_data(raw: Any, source: str, path: Path | None = None) -> Form:
    """Validate a parsed definition (structure, then meaning) and compile it."""
    if raw is None:
        raise FormError([f"{source}: the file is empty"], [f"{source}：文件是空的"])
    if not isinstance(raw, dict):
        raise FormError(
            [f"{source}:1: the file must be a mapping with form, version, sections"],
            [f"{source}:1：文件应是一组设置，含 form、version、sections"],
        )
    try:
        defn = FormDef.model_validate(raw)
    except ValidationError as exc:
        raise FormError(_pydantic_problems(exc, raw, source)) from None
    problems = check_definition(defn, raw, source)
    if problems:
        raise FormError(problems)
    return Form(defn, path)


def load_form(path: Path | str) -> Form:
    """Load and check a form file; raises FormError listing every problem found."""
    p = Path(path)
    return form_from_data(load_yaml(p), str(path), p)
