"""Retrofit rules and parameters as data: pydantic models of the two YAML files, and their checks.

The rules are written by domain people, not programmers, so every problem is reported as
``file:line: rule 'X': message`` (the same shape as form errors) and a file with a problem is
never used. Checks go beyond structure: every ``${...}`` must name a form field, a parameter,
a flag or an earlier rule, and every option code a condition compares with must exist.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from surveyor.forms.expr import Compare, Dec, Expr, ExprError, Int, Node, child_nodes, parse
from surveyor.forms.expr import Field as FieldRef
from surveyor.forms.model import Form, FormError, Localized, option_code_problems
from surveyor.forms.yamlsource import line_of, load_yaml

Status = Literal["confirmed", "recalled", "proposal"]
NeedClass = Literal["B", "W", "T"]
Indicator = Literal["STR", "GAS", "COR", "ENV", "PIPE", "NSC", "WAT", "AGE", "ENG", "DIG"]
Scale = Literal["building", "common_parts", "dwellings"]
Category = Literal[
    "safety", "gas", "pipes", "stairwell", "energy", "accessibility", "housing", "digital"
]
Cost = Literal["low", "capital"]

#: Estimate methods the engine knows (surveyor.retrofit.estimates implements each).
ESTIMATE_METHODS = frozenset(
    {
        "refer_professional",
        "roof_area",
        "per_entrance",
        "per_dwelling",
        "heat_loss_wall",
        "heat_loss_roof",
        "heat_loss_window",
        "incentive_balancing",
        "incentive_metering",
        "pv_yield",
        "elevator_subsidy",
    }
)
RULE_ID = re.compile(r"^[A-Z][0-9]{2}$")
PARAM_ID = re.compile(r"^p_[a-z0-9_]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Source(_Strict):
    """Where a rule or value comes from, and how sure we are of it."""

    text: str = Field(min_length=1)
    status: Status


class PriorityIf(_Strict):
    """A condition that sets a different priority (the first true one wins)."""

    when: str
    priority: int = Field(ge=1, le=3)


class Estimate(_Strict):
    method: str


class Bundle(_Strict):
    """Needs to be done together, ``first`` before ``then`` (envelope before heating)."""

    first: list[str] = Field(min_length=1)
    then: list[str] = Field(min_length=1)


class FlagDef(_Strict):
    id: str
    title: Localized
    when: str
    source: Source


class RuleDef(_Strict):
    id: str
    need: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Localized
    category: Category
    when: str
    priority: int = Field(ge=1, le=3)
    priority_if: list[PriorityIf] = Field(default_factory=list)
    class_: NeedClass = Field(alias="class")
    indicator: Indicator | None
    scale: Scale
    step: int = Field(ge=1, le=4)
    sequence: int = Field(default=0, ge=0, le=9)
    cost: Cost
    estimate: Estimate | None = None
    bundle: Bundle | None = None
    source: Source


class NoteDef(_Strict):
    """Advice shown with a building's needs but not counted as one: no priority, class,
    indicator or roadmap place (E10's bundling instruction, research §3.5: "– (bundling
    instruction)"). Decided after the rules, so its condition may read any rule's outcome."""

    id: str
    title: Localized
    when: str
    bundle: Bundle | None = None
    source: Source


class ModifierDef(_Strict):
    id: str
    title: Localized
    when: str
    rules: list[str] = Field(min_length=1)
    priority_change: int = Field(ge=-2, le=2)
    source: Source


class RulesDef(_Strict):
    rules_version: str = Field(min_length=1, max_length=32)
    form: str
    flags: list[FlagDef] = Field(default_factory=list)
    rules: list[RuleDef] = Field(min_length=1)
    notes: list[NoteDef] = Field(default_factory=list)
    modifiers: list[ModifierDef] = Field(default_factory=list)


class ParamDef(_Strict):
    id: str
    label: Localized
    value: int | float | None = None
    table: dict[str, dict[str, float]] | None = None
    unit: Localized
    source: Source


class ParamsDef(_Strict):
    params_version: str = Field(min_length=1, max_length=32)
    params: list[ParamDef] = Field(min_length=1)


class Params:
    """Loaded parameters: scalars for expressions, tables for estimates, each with its source."""

    def __init__(self, defn: ParamsDef, source: Path | None) -> None:
        self.defn = defn
        self.source = source
        self.by_id = {p.id: p for p in defn.params}
        self.scalars: dict[str, float | int] = {
            p.id: p.value for p in defn.params if p.value is not None
        }

    def value(self, pid: str) -> float:
        """A scalar parameter (KeyError for a missing one is a programming error)."""
        return float(self.scalars[pid])

    def table(self, pid: str) -> dict[str, dict[str, float]]:
        table = self.by_id[pid].table
        assert table is not None
        return table


class CompiledRule:
    """A rule with its expressions parsed once."""

    __slots__ = ("defn", "priority_if", "when")

    def __init__(self, defn: RuleDef) -> None:
        self.defn = defn
        self.when = parse(defn.when)
        self.priority_if = [(parse(p.when), p.priority) for p in defn.priority_if]

    @property
    def id(self) -> str:
        return self.defn.id


class RuleSet:
    """A checked rule file, compiled and ready to run against records."""

    def __init__(self, defn: RulesDef, source: Path | None) -> None:
        self.defn = defn
        self.source = source
        self.flags = [(f, parse(f.when)) for f in defn.flags]
        self.rules = [CompiledRule(r) for r in defn.rules]
        self.notes = [(n, parse(n.when)) for n in defn.notes]
        self.modifiers = [(m, parse(m.when)) for m in defn.modifiers]
        self.by_id = {r.id: r for r in self.rules}

    @property
    def version(self) -> str:
        return self.defn.rules_version


def flag_var(flag_id: str) -> str:
    """The expression variable holding a flag's value, e.g. F03 → ``flag_f03``."""
    return "flag_" + flag_id.lower()


def rule_var(rule_id: str) -> str:
    """The expression variable holding an earlier rule's outcome, e.g. E01 → ``rule_e01``."""
    return "rule_" + rule_id.lower()


# ------------------------------------------------------------------------ checking


def _pydantic_problems(exc: ValidationError, raw: Any, source: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc if not isinstance(p, int))
        item = _item_id(raw, loc)
        where = f"{item}: " if item else ""
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{source}:{line_of(raw, loc)}: {where}{key}: {msg}")
    return problems


def _item_id(raw: Any, loc: tuple[Any, ...]) -> str | None:
    """'rule S01' / 'param p_x' for the list item a pydantic error points into."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        try:
            ident = raw[loc[0]][loc[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        kind = {
            "rules": "rule",
            "flags": "flag",
            "notes": "note",
            "modifiers": "modifier",
            "params": "param",
        }
        if isinstance(ident, str) and loc[0] in kind:
            return f"{kind[loc[0]]} '{ident}'"
    return None


class _Checker:
    """Collects every problem of a rule file against a form and parameters."""

    def __init__(self, raw: Any, source: str, form: Form, params: Params) -> None:
        self.raw = raw
        self.source = source
        self.form = form
        self.params = params
        self.problems: list[str] = []
        self.rule_ids: set[str] = set()

    def report(self, loc: tuple[Any, ...], who: str, message: str) -> None:
        self.problems.append(f"{self.source}:{line_of(self.raw, loc)}: {who}: {message}")

    def expression(
        self, loc: tuple[Any, ...], who: str, key: str, text: str, known: set[str]
    ) -> None:
        try:
            expr = parse(text)
        except ExprError as exc:
            at = f" at character {exc.position + 1}" if exc.position is not None else ""
            self.report(loc, who, f"{key} is not a valid expression{at}: {exc.message}")
            return
        if expr.uses_current:
            self.report(loc, who, f"{key}: '.' has no meaning in a rule")
        for ref in sorted(expr.references - known):
            self.report(loc, who, f"{key} refers to unknown field, parameter, flag or rule '{ref}'")
        for problem in option_code_problems(expr, self.form.options):
            self.report(loc, who, f"{key}: {problem}")

    def run(self, defn: RulesDef) -> list[str]:
        fields = set(self.form.fields)
        params = set(self.params.scalars)
        for pid in sorted(params & fields):
            self.report((), f"param '{pid}'", "clashes with a form field id")
        if defn.form != self.form.defn.form:
            self.report(
                ("form",), "rules", f"written for form '{defn.form}', not '{self.form.defn.form}'"
            )
        known = fields | params
        seen: set[str] = set()
        for i, flag in enumerate(defn.flags):
            who = f"flag '{flag.id}'"
            self._id(("flags", i), who, flag.id, seen, "F")
            self.expression(("flags", i), who, "when", flag.when, known)
        known |= {flag_var(f.id) for f in defn.flags}
        self.rule_ids = {r.id for r in defn.rules}
        for i, rule in enumerate(defn.rules):
            self._rule(i, rule, known, seen)
            known = known | {rule_var(rule.id)}
        rule_ids = {r.id for r in defn.rules}
        for i, note in enumerate(defn.notes):
            who = f"note '{note.id}'"
            self._id(("notes", i), who, note.id, seen, None)
            self.expression(("notes", i), who, "when", note.when, known)
            self._bundle(("notes", i), who, note.bundle)
        for i, mod in enumerate(defn.modifiers):
            who = f"modifier '{mod.id}'"
            self._id(("modifiers", i), who, mod.id, seen, None)
            self.expression(("modifiers", i), who, "when", mod.when, known)
            for rid in mod.rules:
                if rid not in rule_ids:
                    self.report(("modifiers", i), who, f"names unknown rule '{rid}'")
        if not self.problems:
            self._form_thresholds(defn)
        return self.problems

    def _form_thresholds(self, defn: RulesDef) -> None:
        """A form condition deciding whether a question is asked must compare with the value
        of the parameter the rules compare the same answer with: the form cannot read
        parameters, so its threshold is a copy. The pair is a rule reading every answer the
        form condition reads, comparing one the same way (A01: ``${floors_above} >=
        ${p_elevator_min_floors}``; ``elevator_addition_space`` is asked when ``${has_elevator}
        = false() and ${floors_above} >= 4``). Raising the parameter to 5 alone would leave
        4-storey buildings asked about a lift the rules no longer consider."""
        items = [("flags", i, f.id, f.when) for i, f in enumerate(defn.flags)]
        items += [("rules", i, r.id, r.when) for i, r in enumerate(defn.rules)]
        items += [("notes", i, n.id, n.when) for i, n in enumerate(defn.notes)]
        items += [("modifiers", i, m.id, m.when) for i, m in enumerate(defn.modifiers)]
        # (field, relevant/required_if, answers read, comparisons of an answer with a number)
        asked = [
            (fld.id, kind, expr.references, _comparisons(expr))
            for fld in self.form.fields.values()
            for kind, expr in (("relevant", fld.relevant), ("required_if", fld.required_if))
            if expr is not None
        ]
        for key, i, ident, when in items:
            rule = parse(when)
            by_param = {
                (answer, op): other
                for answer, op, other in _comparisons(rule)
                if other in self.params.scalars and answer in self.form.fields
            }
            for fid, kind, reads, comparisons in asked:
                if not reads <= rule.references:
                    continue
                for answer, op, literal in comparisons:
                    pid = by_param.get((answer, op))
                    if pid is None or isinstance(literal, str):
                        continue
                    value = self.params.scalars[str(pid)]
                    if literal != value:
                        self.report(
                            (key, i),
                            f"{key[:-1]} '{ident}'",
                            f"compares {answer} {op} {pid} ({value:g}), but the form's field "
                            f"'{fid}' {kind} compares {answer} {op} {literal:g}: make them "
                            "the same (a form cannot read parameters)",
                        )

    def _id(
        self, loc: tuple[Any, ...], who: str, ident: str, seen: set[str], prefix: str | None
    ) -> None:
        if not RULE_ID.match(ident) or (prefix and not ident.startswith(prefix)):
            want = f"{prefix}NN" if prefix else "a letter and two digits"
            self.report(loc, who, f"id must be {want}")
        if ident in seen:
            self.report(loc, who, "duplicate id")
        seen.add(ident)

    def _rule(self, i: int, rule: RuleDef, known: set[str], seen: set[str]) -> None:
        loc: tuple[Any, ...] = ("rules", i)
        who = f"rule '{rule.id}'"
        self._id(loc, who, rule.id, seen, None)
        self.expression(loc, who, "when", rule.when, known)
        for j, pif in enumerate(rule.priority_if):
            self.expression((*loc, "priority_if", j), who, "priority_if", pif.when, known)
        if rule.estimate is not None and rule.estimate.method not in ESTIMATE_METHODS:
            self.report(
                loc,
                who,
                f"unknown estimate method '{rule.estimate.method}' "
                f"(known: {', '.join(sorted(ESTIMATE_METHODS))})",
            )
        self._bundle(loc, who, rule.bundle)

    def _bundle(self, loc: tuple[Any, ...], who: str, bundle: Bundle | None) -> None:
        """A bundle (of a rule or a note) names only rules of the file."""
        if bundle is not None:
            for rid in bundle.first + bundle.then:
                if rid not in self.rule_ids:
                    self.report(loc, who, f"bundle names unknown rule '{rid}'")


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _comparisons(expr: Expr) -> list[tuple[str, str, str | int | float]]:
    """Each comparison of an answer ``${x}`` with another ``${y}`` or a number, as (x, op, y
    or the number) with the answer on the left (``4 <= ${floors_above}`` is ``floors_above
    >= 4``)."""
    found: list[tuple[str, str, str | int | float]] = []
    stack: list[Node] = [expr.ast]
    while stack:
        node = stack.pop()
        stack.extend(child_nodes(node))
        if not isinstance(node, Compare):
            continue
        for own, other, op in ((node.left, node.right, node.op), (node.right, node.left, None)):
            if not isinstance(own, FieldRef):
                continue
            op = op or _FLIPPED[node.op]
            if isinstance(other, FieldRef):
                found.append((own.name, op, other.name))
            elif isinstance(other, Int | Dec):
                found.append((own.name, op, other.value))
    return found


def _check_params(defn: ParamsDef, raw: Any, source: str) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for i, p in enumerate(defn.params):
        where = f"{source}:{line_of(raw, ('params', i))}: param '{p.id}'"
        if not PARAM_ID.match(p.id):
            problems.append(f"{where}: id must start with p_ and be snake_case")
        if p.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(p.id)
        if (p.value is None) == (p.table is None):
            problems.append(f"{where}: give exactly one of value or table")
    return problems


def params_from_data(raw: Any, source: str, path: Path | None = None) -> Params:
    """Validate a parsed parameter file; raises FormError listing every problem."""
    if not isinstance(raw, dict):
        raise FormError([f"{source}:1: the file must be a mapping with params_version, params"])
    try:
        defn = ParamsDef.model_validate(raw)
    except ValidationError as exc:
        raise FormError(_pydantic_problems(exc, raw, source)) from None
    problems = _check_params(defn, raw, source)
    if problems:
        raise FormError(problems)
    return Params(defn, path)


def rules_from_data(
    raw: Any, source: str, form: Form, params: Params, path: Path | None = None
) -> RuleSet:
    """Validate a parsed rule file against the form and parameters, then compile it."""
    if not isinstance(raw, dict):
        raise FormError([f"{source}:1: the file must be a mapping with rules_version, rules"])
    try:
        defn = RulesDef.model_validate(raw)
    except ValidationError as exc:
        raise FormError(_pydantic_problems(exc, raw, source)) from None
    problems = _Checker(raw, source, form, params).run(defn)
    if problems:
        raise FormError(problems)
    return RuleSet(defn, path)


def load_params(path: Path | str) -> Params:
    """Load and check a parameter file."""
    p = Path(path)
    return params_from_data(load_yaml(p), str(path), p)


def load_rules(path: Path | str, form: Form, params: Params) -> RuleSet:
    """Load and check a rule file against the form and the parameters."""
    p = Path(path)
    return rules_from_data(load_yaml(p), str(path), form, params, p)


def file_kind(raw: Any) -> str:
    """'form', 'rules' or 'params', from the file's top-level key; '' if none matches."""
    if not isinstance(raw, dict):
        return ""
    for key, kind in (("rules_version", "rules"), ("params_version", "params"), ("form", "form")):
        if key in raw:
            return kind
    return ""
