"""Safe, bounded expression engine for form logic (an XLSForm-style subset).

Relevance, constraints, calculations, required-if and retrofit rules are written by
survey designers and re-evaluated on every answer, so this module:

* never uses ``eval``/``exec``: text is tokenised, parsed into a small frozen AST and
  compiled once into plain Python closures;
* is bounded: source length, AST size and nesting depth are capped at parse time, the
  language has no loops, and string/regex work is capped at evaluation time;
* keeps "unanswered" (``None``) distinct from the answer ``'unknown'`` and uses
  three-valued (Kleene) logic, so an undetermined rule yields ``None`` instead of
  silently becoming ``False`` or raising.

See docs/EXPRESSIONS.md for the user-facing reference.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import regex as _regex

__all__ = [
    "EXTENSION_FUNCTIONS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_REGEX_INPUT",
    "MAX_SOURCE_LENGTH",
    "MAX_STRING_LENGTH",
    "REGEX_TIMEOUT",
    "Add",
    "And",
    "Bool",
    "Call",
    "Compare",
    "Current",
    "Dec",
    "Expr",
    "ExprError",
    "Field",
    "Int",
    "Mul",
    "Neg",
    "Node",
    "Not",
    "Or",
    "Str",
    "parse",
    "unparse",
]

MAX_SOURCE_LENGTH: Final = 2_000
MAX_NODES: Final = 500
MAX_DEPTH: Final = 40
MAX_STRING_LENGTH: Final = 10_000  # concat() results of this length or more become None
MAX_REGEX_INPUT: Final = 2_000  # regex() on longer text is undetermined (None)
REGEX_TIMEOUT: Final = 0.05  # seconds; a timed-out match is undetermined (None)
# Counted repeats such as (a{1000}){1000} are expanded by the regex compiler and can
# exhaust memory, so the product of all repeat counts in a pattern is capped.
_MAX_REPEAT_PRODUCT: Final = 10_000
# Numbers produced by arithmetic must fit a 64-bit integer (the store's INTEGER type);
# this also stops repeated multiplication from building enormous integers.
_INT_LIMIT: Final = 2**63 - 1


class ExprError(ValueError):
    """A parse/compile error, raised only by :func:`parse` (evaluation never raises).

    ``message`` is plain English for form authors; ``position`` is the 0-based
    character offset in the source (``None`` when no single place is to blame).
    """

    message: str
    position: int | None

    def __init__(self, message: str, position: int | None = None) -> None:
        where = "" if position is None else f" (at position {position})"
        super().__init__(message + where)
        self.message = message
        self.position = position

    def __reduce__(self) -> tuple[type[ExprError], tuple[str, int | None]]:
        """Keep ``position`` when pickled (e.g. across worker processes)."""
        return (ExprError, (self.message, self.position))


# --------------------------------------------------------------------------- AST
# Small frozen dataclasses so that structural equality drives the round-trip tests.
# Chains of the same precedence level (a + b - c, a and b and c) are flattened into
# one node so that long sums or long "or" lists do not make the tree deep.


@dataclass(frozen=True, slots=True)
class Int:
    """Integer literal (always non-negative; ``-3`` is ``Neg(Int(3))``)."""

    value: int


@dataclass(frozen=True, slots=True)
class Dec:
    """Decimal literal such as ``12.5`` (finite, non-negative)."""

    value: float


@dataclass(frozen=True, slots=True)
class Str:
    """String literal."""

    value: str


@dataclass(frozen=True, slots=True)
class Bool:
    """``true()`` / ``false()``."""

    value: bool


@dataclass(frozen=True, slots=True)
class Field:
    """``${name}``: the answer to another field (``None`` when missing)."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """``.``: the value being validated by a constraint."""


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Not:
    """Kleene negation; both ``not x`` and ``not(x)`` parse to this."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Compare:
    """One (non-chainable) comparison; ``op`` is one of = != < <= > >=."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Add:
    """``first (+|-) x (+|-) y ...``, evaluated left to right."""

    first: Node
    rest: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Mul:
    """``first (*|div|mod) x ...``, evaluated left to right (``/`` parses as ``div``)."""

    first: Node
    rest: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class And:
    """Kleene conjunction of two or more items."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Kleene disjunction of two or more items."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call other than true()/false()/not(), which have their own nodes."""

    name: str
    args: tuple[Node, ...]


Node: TypeAlias = (
    Int | Dec | Str | Bool | Field | Current | Neg | Not | Compare | Add | Mul | And | Or | Call
)


def child_nodes(node: Node) -> tuple[Node, ...]:
    """Direct sub-expressions: size/depth checks, references, the retrofit rules' walks."""
    if isinstance(node, Neg | Not):
        return (node.operand,)
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Add | Mul):
        return (node.first, *(item for _, item in node.rest))
    if isinstance(node, And | Or):
        return node.items
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> Iterator[Node]:
    """Iterate over all nodes without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child_nodes(current))


# ---------------------------------------------------------------------- functions
# name -> (min args, max args or None for variadic). true/false/not are built in.
FUNCTIONS: Final[Mapping[str, tuple[int, int | None]]] = MappingProxyType(
    {
        "selected": (2, 2),
        "count-selected": (1, 1),
        "if": (3, 3),
        "today": (0, 0),
        "string-length": (1, 1),
        "regex": (2, 2),
        "true": (0, 0),
        "false": (0, 0),
        "not": (1, 1),
        "one-of": (2, None),
        "selected-any": (2, None),
        "answered": (1, 1),
        "year": (1, 1),
        "date": (1, 1),
        "number": (1, 1),
        "int": (1, 1),
        "coalesce": (2, None),
        "concat": (1, None),
        "min": (1, None),
        "max": (1, None),
        "latitude": (1, 1),
        "longitude": (1, 1),
    }
)
# Not part of XLSForm; forms using these will not work unchanged in ODK/Kobo.
EXTENSION_FUNCTIONS: Final = frozenset(
    {
        "one-of",
        "selected-any",
        "answered",
        "year",
        "date",
        "coalesce",
        "min",
        "max",
        "latitude",
        "longitude",
    }
)


# -------------------------------------------------------------------------- lexer

_FIELD_ID: Final = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_FUNC_NAME: Final = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*")
_WORD: Final = re.compile(r"[a-z][a-z0-9]*")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMERIC_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_REPEAT: Final = re.compile(r"\{\s*([0-9]*)\s*(?:,\s*([0-9]*)\s*)?\}")
_KEYWORDS: Final = frozenset({"and", "or", "not", "div", "mod"})
_INFIX_KEYWORDS: Final = frozenset({"and", "or", "div", "mod"})
_COMPARISONS: Final = frozenset({"=", "!=", "<", "<=", ">", ">="})
_OPERATOR_HINTS: Final = {
    "==": "use a single '=' for equality",
    "<>": "use '!=' for 'not equal'",
    "&&": "use 'and'",
    "||": "use 'or'",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num | str | field | func | kw | op | end
    text: str  # literal text, decoded string, field id, function name or operator
    pos: int


def _tokenize(src: str) -> list[_Token]:
    """Split source into tokens, rejecting anything outside the language early."""
    tokens: list[_Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif c == "$":
            if not src.startswith("${", i):
                raise ExprError("'$' must start a field reference such as ${household_size}", i)
            close = src.find("}", i + 2)
            if close < 0:
                raise ExprError("unterminated field reference: missing '}'", i)
            name = src[i + 2 : close]
            if not _FIELD_ID.fullmatch(name):
                raise ExprError(
                    f"invalid field id {name!r}: ids are lowercase snake_case such as "
                    "${household_size}",
                    i + 2,
                )
            tokens.append(_Token("field", name, i))
            i = close + 1
        elif c in "'\"":
            value, i_next = _scan_string(src, i)
            tokens.append(_Token("str", value, i))
            i = i_next
        elif "0" <= c <= "9":
            m = _NUMBER.match(src, i)
            assert m is not None  # a digit always matches
            tokens.append(_Token("num", m.group(), i))
            i = m.end()
        elif "a" <= c <= "z":
            i = _scan_name(src, i, tokens)
        else:
            pair = src[i : i + 2]
            if pair in _OPERATOR_HINTS:
                raise ExprError(f"unexpected {pair!r}: {_OPERATOR_HINTS[pair]}", i)
            if pair in ("<=", ">=", "!="):
                tokens.append(_Token("op", pair, i))
                i += 2
            elif c in "=<>+-*/(),.":
                tokens.append(_Token("op", c, i))
                i += 1
            else:
                raise ExprError(_unexpected_character(c), i)
    tokens.append(_Token("end", "", n))
    return tokens


def _unexpected_character(c: str) -> str:
    """Name the character, hinting at the ASCII form of full-width input (IME typing)."""
    ascii_form = unicodedata.normalize("NFKC", c)
    if ascii_form != c and ascii_form.isascii() and ascii_form.strip():
        return f"unexpected character {c!r}: use the half-width {ascii_form!r}"
    return f"unexpected character {c!r}"


def _scan_string(src: str, start: int) -> tuple[str, int]:
    """Read a quoted string; a doubled quote inside stands for one quote character."""
    quote = src[start]
    parts: list[str] = []
    j = start + 1
    while True:
        k = src.find(quote, j)
        if k < 0:
            raise ExprError("unterminated string: missing closing quote", start)
        parts.append(src[j:k])
        if src.startswith(quote, k + 1):
            parts.append(quote)
            j = k + 2
        else:
            return "".join(parts), k + 1


def _scan_name(src: str, i: int, tokens: list[_Token]) -> int:
    """Read a function name (may contain '-') or a keyword; bare words are errors."""
    m = _FUNC_NAME.match(src, i)
    assert m is not None
    name = m.group()
    j = m.end()
    while j < len(src) and src[j].isspace():
        j += 1
    if j < len(src) and src[j] == "(" and name not in _INFIX_KEYWORDS:
        tokens.append(_Token("func", name, i))
        return m.end()
    w = _WORD.match(src, i)
    assert w is not None
    word = w.group()
    if word in _KEYWORDS:
        tokens.append(_Token("kw", word, i))
        return w.end()
    if name in FUNCTIONS:
        raise ExprError(f"function {name!r} must be called with parentheses: {name}(...)", i)
    raise ExprError(
        f"unexpected word {word!r}: refer to fields as ${{{word}}} and quote text as '{word}'",
        i,
    )


# ------------------------------------------------------------------------- parser


def _describe(tok: _Token) -> str:
    if tok.kind == "end":
        return "end of expression"
    if tok.kind == "str":
        return f"string {tok.text!r}"
    if tok.kind == "num":
        return f"number {tok.text}"
    if tok.kind == "field":
        return f"${{{tok.text}}}"
    if tok.kind == "func":
        return f"{tok.text}("
    return repr(tok.text)


class _Parser:
    """Recursive-descent parser; recursion is bounded by the nesting-depth check."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.nodes = 0
        self.heights: dict[int, int] = {}

    # -- helpers
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, *texts: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and tok.text in texts

    def expect_op(self, text: str, what: str) -> _Token:
        if not self.at("op", text):
            raise self.unexpected(what)
        return self.advance()

    def unexpected(self, expected: str) -> ExprError:
        tok = self.peek()
        return ExprError(f"unexpected {_describe(tok)}; expected {expected}", tok.pos)

    def enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (limit {MAX_DEPTH} levels)", tok.pos)

    def leave(self) -> None:
        self.depth -= 1

    def make(self, node: Node, pos: int) -> Node:
        """Register a new node, enforcing the size and tree-depth limits."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"expression is too large (limit {MAX_NODES} parts)", pos)
        # Leaves have height 0, so MAX_DEPTH counts operator/function levels.
        height = 1 + max((self.heights[id(c)] for c in child_nodes(node)), default=-1)
        if height > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (limit {MAX_DEPTH} levels)", pos)
        self.heights[id(node)] = height
        return node

    # -- grammar, lowest precedence first
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("expression is empty", 0)
        node = self.parse_or()
        if self.peek().kind != "end":
            tok = self.peek()
            raise ExprError(
                f"unexpected {_describe(tok)}; expected an operator or the end of the expression",
                tok.pos,
            )
        return node

    def parse_or(self) -> Node:
        start = self.peek().pos
        items = [self.parse_and()]
        while self.at("kw", "or"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else self.make(Or(tuple(items)), start)

    def parse_and(self) -> Node:
        start = self.peek().pos
        items = [self.parse_not()]
        while self.at("kw", "and"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else self.make(And(tuple(items)), start)

    def parse_not(self) -> Node:
        if self.at("kw", "not"):
            tok = self.advance()
            self.enter(tok)
            operand = self.parse_not()
            self.leave()
            return self.make(Not(operand), tok.pos)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        start = self.peek().pos
        left = self.parse_additive()
        tok = self.peek()
        if tok.kind != "op" or tok.text not in _COMPARISONS:
            return left
        self.advance()
        right = self.parse_additive()
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text in _COMPARISONS:
            raise ExprError(
                "comparisons cannot be chained; combine them with 'and' "
                "(e.g. ${a} < ${b} and ${b} < ${c})",
                nxt.pos,
            )
        return self.make(Compare(tok.text, left, right), start)

    def parse_additive(self) -> Node:
        start = self.peek().pos
        first = self.parse_multiplicative()
        rest: list[tuple[str, Node]] = []
        while self.at("op", "+", "-"):
            op = self.advance().text
            rest.append((op, self.parse_multiplicative()))
        return self.make(Add(first, tuple(rest)), start) if rest else first

    def parse_multiplicative(self) -> Node:
        start = self.peek().pos
        first = self.parse_unary()
        rest: list[tuple[str, Node]] = []
        while self.at("op", "*", "/") or self.at("kw", "div", "mod"):
            op = self.advance().text
            rest.append(("div" if op == "/" else op, self.parse_unary()))
        return self.make(Mul(first, tuple(rest)), start) if rest else first

    def parse_unary(self) -> Node:
        if self.at("op", "-"):
            tok = self.advance()
            self.enter(tok)
            operand = self.parse_unary()
            self.leave()
            return self.make(Neg(operand), tok.pos)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.advance()
            if "." not in tok.text:
                return self.make(Int(int(tok.text)), tok.pos)
            value = float(tok.text)
            if not math.isfinite(value):
                raise ExprError("number is too large", tok.pos)
            return self.make(Dec(value), tok.pos)
        if tok.kind == "str":
            self.advance()
            return self.make(Str(tok.text), tok.pos)
        if tok.kind == "field":
            self.advance()
            return self.make(Field(tok.text), tok.pos)
        if tok.kind == "func":
            return self.parse_call()
        if tok.kind == "op" and tok.text == ".":
            self.advance()
            return self.make(Current(), tok.pos)
        if tok.kind == "op" and tok.text == "(":
            self.advance()
            self.enter(tok)
            node = self.parse_or()
            self.expect_op(")", "')'")
            self.leave()
            return node
        raise self.unexpected("a value, ${field}, '.', a function call or '('")

    def parse_call(self) -> Node:
        name_tok = self.advance()
        name = name_tok.text
        if name not in FUNCTIONS:
            raise ExprError(_unknown_function_message(name), name_tok.pos)
        self.expect_op("(", "'('")
        self.enter(name_tok)
        args: list[Node] = []
        arg_pos: list[int] = []
        if self.at("op", ")"):
            self.advance()
        else:
            while True:
                arg_pos.append(self.peek().pos)
                args.append(self.parse_or())
                if self.at("op", ","):
                    self.advance()
                elif self.at("op", ")"):
                    self.advance()
                    break
                else:
                    raise self.unexpected("',' or ')'")
        self.leave()
        _check_arity(name, len(args), name_tok.pos)
        if name in ("true", "false"):
            return self.make(Bool(name == "true"), name_tok.pos)
        if name == "not":
            return self.make(Not(args[0]), name_tok.pos)
        if name == "regex":
            pattern = args[1]
            if not isinstance(pattern, Str):
                raise ExprError(
                    "the pattern of regex() must be a quoted string, e.g. regex(., '^[0-9]+$')",
                    arg_pos[1],
                )
            _compile_pattern(pattern.value, arg_pos[1])
        if name == "date" and isinstance(args[0], Str) and _iso_date(args[0].value) is None:
            raise ExprError(
                f"date() needs a real date written YYYY-MM-DD, got {args[0].value!r}", arg_pos[0]
            )
        return self.make(Call(name, tuple(args)), name_tok.pos)


def _unknown_function_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
    hint = f"; did you mean {close[0]}()?" if close else ""
    return f"unknown function {name!r}{hint}"


def _check_arity(name: str, got: int, pos: int) -> None:
    low, high = FUNCTIONS[name]
    if low <= got and (high is None or got <= high):
        return
    if high is None:
        need = f"at least {low} argument{'s' if low != 1 else ''}"
    elif low == high == 0:
        need = "no arguments"
    elif low == high:
        need = f"exactly {low} argument{'s' if low != 1 else ''}"
    else:
        need = f"{low} to {high} arguments"
    raise ExprError(f"{name}() takes {need} (got {got})", pos)


def _compile_pattern(pattern: str, pos: int) -> _regex.Pattern[str]:
    """Compile a regex() pattern, rejecting ones whose compilation could blow up."""
    product = 1
    for m in _REPEAT.finditer(pattern):
        bound = max((int(g) for g in m.groups() if g), default=0)
        product *= max(bound, 1)
        if product > _MAX_REPEAT_PRODUCT:
            raise ExprError(
                f"regex pattern repeats too much (repeat counts multiply beyond "
                f"{_MAX_REPEAT_PRODUCT})",
                pos,
            )
    try:
        return _regex.compile(pattern)
    except Exception as exc:  # any compile failure of untrusted text is a parse error
        raise ExprError(f"invalid regex pattern {pattern!r}: {exc}", pos) from None


# ------------------------------------------------------------ value semantics

_NONE: Final = 0
_BOOL: Final = 1
_NUM: Final = 2
_STR: Final = 3
_DATE: Final = 4
_LIST: Final = 5
_DICT: Final = 6
_OTHER: Final = 7

_Number: TypeAlias = int | float


def _as_number(v: object) -> _Number | None:
    """A number for arithmetic, or None; bools and text are deliberately not numbers."""
    if type(v) is int or type(v) is float:  # fast path: exact types, so never bool
        return v
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float | Decimal | Fraction):
        try:
            return float(v)
        except (OverflowError, ValueError):
            return None
    return None


def _checked(r: _Number) -> _Number | None:
    """Turn overflowing or non-finite results into None (undetermined)."""
    if type(r) is int:
        return r if -_INT_LIMIT <= r <= _INT_LIMIT else None
    return r if math.isfinite(r) else None


def _iso_date(s: str) -> date | None:
    """Parse strictly 'YYYY-MM-DD' (fromisoformat alone accepts other shapes too)."""
    if len(s) != 10 or not _ISO_DATE.fullmatch(s):
        return None
    try:
        return date.fromisoformat(s)
    except ValueError:
        return None


def _as_date(v: object) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        return _iso_date(v)
    return None


def _kind(v: object) -> tuple[int, object]:
    """Classify a value for comparison, normalising numbers and datetimes."""
    if v is None:
        return _NONE, None
    if isinstance(v, bool):
        return _BOOL, v
    if isinstance(v, str):
        return _STR, v
    n = _as_number(v)
    if n is not None:
        return _NUM, n
    if isinstance(v, datetime):
        return _DATE, v.date()
    if isinstance(v, date):
        return _DATE, v
    if isinstance(v, list | tuple):
        return _LIST, list(v)
    if isinstance(v, Mapping):
        return _DICT, v
    return _OTHER, v


# Any: these are only applied to same-kind operands (numbers, text or dates).
_ORDER_OPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_CMP_OPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    **_ORDER_OPS,
}
_EQ_FAST_TYPES: Final = frozenset({str, int, float, bool, date})
_ORDER_FAST_TYPES: Final = frozenset({str, int, float, date})


def _compare(op: str, a: object, b: object) -> bool | None:
    """Typed comparison: None if either side is unanswered or the order is undefined.

    Equality between different kinds is simply False ('unknown' = 2000), but ordering
    them is undetermined ('unknown' <= 2000 is None) rather than an error.
    """
    if a is None or b is None:
        return None
    ka, va = _kind(a)
    kb, vb = _kind(b)
    if ka == _DATE and isinstance(vb, str):  # a date against ISO text compares as dates
        as_date = _iso_date(vb)
        if as_date is not None:
            kb, vb = _DATE, as_date
    elif kb == _DATE and isinstance(va, str):
        as_date = _iso_date(va)
        if as_date is not None:
            ka, va = _DATE, as_date
    equality = op in ("=", "!=")
    if ka != kb:
        return (op == "!=") if equality else None
    if equality:
        try:
            same = bool(va == vb)
        except Exception:  # foreign objects with a broken __eq__: undetermined
            return None
        return same if op == "=" else not same
    if ka in (_NUM, _STR, _DATE):
        try:
            return bool(_ORDER_OPS[op](va, vb))
        except TypeError:
            return None
    return None


def _equals(a: object, b: object) -> bool | None:
    if a is None or b is None:
        return None
    t = type(a)
    if t is type(b) and t in _EQ_FAST_TYPES:
        return bool(a == b)
    return _compare("=", a, b)


def _truth(v: object) -> bool | None:
    """Tri-state truthiness: None stays None; bools as is; numbers != 0; text/lists non-empty."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | Decimal | Fraction):
        return v != 0
    if isinstance(v, str | list | tuple | set | frozenset):
        return len(v) > 0
    return True  # dates, geopoints and anything else that is present


def _to_string(v: object) -> str | None:
    """Text form used by concat(), string-length() and regex()."""
    if isinstance(v, str):
        return v
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        try:
            return str(v)
        except ValueError:  # more digits than Python will convert
            return None
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        parts = [_to_string(item) for item in v]
        return " ".join(p for p in parts if p is not None)
    if isinstance(v, Mapping):
        lat, lon = _geo(v, "lat"), _geo(v, "lon")
        return None if lat is None or lon is None else f"{lat!r} {lon!r}"
    return str(v)


def _geo(v: object, key: str) -> float | None:
    if not isinstance(v, Mapping):
        return None
    n = _as_number(v.get(key))
    return None if n is None else float(n)


def _to_number(v: object) -> _Number | None:
    """number(): explicit conversion, so numeric text and booleans are accepted here."""
    if isinstance(v, bool):
        return 1 if v else 0
    n = _as_number(v)
    if n is None and isinstance(v, str):
        text = v.strip()
        if _NUMERIC_TEXT.fullmatch(text):
            try:
                n = float(text) if "." in text else int(text)
            except (ValueError, OverflowError):
                return None
    return None if n is None else _checked(n)


def _to_int(v: object) -> int | None:
    n = _to_number(v)
    if n is None or isinstance(n, int):
        return n
    t = math.trunc(n)  # toward zero, like XPath int(); n is finite here
    return t if -_INT_LIMIT <= t <= _INT_LIMIT else None


def _arith(op: str, a: object, b: object) -> _Number | None:
    """Arithmetic on numbers only; anything else, overflow or division by zero is None.

    ``div`` is true division (exact integer results stay integers); ``mod`` keeps the
    sign of the dividend like XPath/ODK (math.fmod), so -7 mod 3 = -1.
    """
    x = _as_number(a)
    if x is None:
        return None
    y = _as_number(b)
    if y is None:
        return None
    try:
        if op == "+":
            r: _Number = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        elif y == 0:
            return None
        elif op == "div":
            exact = isinstance(x, int) and isinstance(y, int) and x % y == 0
            r = x // y if exact else x / y
        elif isinstance(x, int) and isinstance(y, int):
            r = abs(x) % abs(y)
            if x < 0:
                r = -r
        else:
            r = math.fmod(x, y)
    except (OverflowError, ValueError):
        return None
    return _checked(r)


def _selected(choice: object, code: object) -> bool | None:
    """selected(): membership for select_multiple lists, equality for select_one text."""
    if choice is None or code is None:
        return None
    wanted = _to_string(code)
    if wanted is None:
        return None
    if isinstance(choice, list | tuple | set | frozenset):
        return wanted in choice
    text = _to_string(choice)
    return None if text is None else text == wanted


def _count_selected(choice: object) -> int | None:
    if isinstance(choice, list | tuple | set | frozenset):
        return len(choice)
    if isinstance(choice, str):
        return len(choice.split())
    return None


def _string_length(v: object) -> int | None:
    s = _to_string(v)
    return None if s is None else len(s)


def _year(v: object) -> int | None:
    d = _as_date(v)
    return None if d is None else d.year


def _latitude(v: object) -> float | None:
    return _geo(v, "lat")


def _longitude(v: object) -> float | None:
    return _geo(v, "lon")


def _extreme(want_max: bool, vals: list[object]) -> object:
    """min()/max() over numbers, or over dates; None if any is missing or kinds mix."""
    if any(v is None for v in vals):
        return None
    nums = [n for n in map(_as_number, vals) if n is not None]
    if len(nums) == len(vals):
        return max(nums) if want_max else min(nums)
    dates = [d for d in map(_as_date, vals) if d is not None]
    if len(dates) == len(vals):
        return max(dates) if want_max else min(dates)
    return None


# ----------------------------------------------------------------------- compiler

_Values: TypeAlias = Mapping[str, object]
# Every compiled node is a closure (values, current, today) -> value. Passing three
# positional arguments avoids allocating a context object per evaluation.
_Fn: TypeAlias = Callable[[_Values, object, date | None], object]


def _constant(value: object) -> _Fn:
    def const(values: _Values, current: object, today: date | None) -> object:
        return value

    return const


#: Compiled sub-expressions of one parsed expression, by the identity of their AST node (the
#: Expr keeps its nodes alive, so an id names one node for as long as the map is used).
_Compiled: TypeAlias = dict[int, _Fn]


def _compile(node: Node, compiled: _Compiled | None = None) -> _Fn:
    """Turn an AST node into a closure; recursion depth is bounded by MAX_DEPTH. Every node
    compiled is recorded in ``compiled``, so its sub-expressions need no second compilation."""
    fn = _compile_node(node, compiled)
    if compiled is not None:
        compiled[id(node)] = fn
    return fn


def _compile_node(node: Node, compiled: _Compiled | None) -> _Fn:
    if isinstance(node, Int | Dec | Str | Bool):
        return _constant(node.value)
    if isinstance(node, Field):
        name = node.name

        def get_field(values: _Values, current: object, today: date | None) -> object:
            return values.get(name)

        return get_field
    if isinstance(node, Current):

        def get_current(values: _Values, current: object, today: date | None) -> object:
            return current

        return get_current
    if isinstance(node, Neg):
        return _compile_neg(_compile(node.operand, compiled))
    if isinstance(node, Not):
        return _compile_not(_compile(node.operand, compiled))
    if isinstance(node, Compare):
        return _compile_compare(node, compiled)
    if isinstance(node, Add | Mul):
        return _compile_arith(node, compiled)
    if isinstance(node, And):
        return _compile_and(tuple(_compile(item, compiled) for item in node.items))
    if isinstance(node, Or):
        return _compile_or(tuple(_compile(item, compiled) for item in node.items))
    return _compile_call(node, compiled)


def _compile_neg(fn: _Fn) -> _Fn:
    def neg(values: _Values, current: object, today: date | None) -> object:
        x = _as_number(fn(values, current, today))
        return None if x is None else _checked(-x)

    return neg


def _compile_not(fn: _Fn) -> _Fn:
    def not_(values: _Values, current: object, today: date | None) -> object:
        t = _truth(fn(values, current, today))
        return None if t is None else not t

    return not_


def _compile_compare(node: Compare, compiled: _Compiled | None) -> _Fn:
    """Comparison with fast paths for same-typed operands and ``${f} op literal``."""
    op = node.op
    pyop = _CMP_OPS[op]
    fast = _EQ_FAST_TYPES if op in ("=", "!=") else _ORDER_FAST_TYPES
    right = node.right
    if isinstance(node.left, Field) and isinstance(right, Int | Dec | Str):
        if compiled is not None:  # the sides alone, for a walk that reads them
            _compile(node.left, compiled)
            _compile(right, compiled)
        name = node.left.name
        lit: object = right.value
        lit_type = type(lit)

        def compare_field_literal(values: _Values, current: object, today: date | None) -> object:
            a = values.get(name)
            if a is None:
                return None
            if type(a) is lit_type:
                return pyop(a, lit)
            return _compare(op, a, lit)

        return compare_field_literal
    fl = _compile(node.left, compiled)
    fr = _compile(right, compiled)

    def compare(values: _Values, current: object, today: date | None) -> object:
        a = fl(values, current, today)
        if a is None:
            return None
        b = fr(values, current, today)
        if b is None:
            return None
        t = type(a)
        if t is type(b) and t in fast:
            return pyop(a, b)
        return _compare(op, a, b)

    return compare


def _compile_arith(node: Add | Mul, compiled: _Compiled | None) -> _Fn:
    first = _compile(node.first, compiled)
    rest = tuple((op, _compile(item, compiled)) for op, item in node.rest)

    def arith(values: _Values, current: object, today: date | None) -> object:
        acc = first(values, current, today)
        for op, fn in rest:
            if acc is None:
                return None
            b = fn(values, current, today)
            if type(acc) is int and type(b) is int and op in ("+", "-", "*"):
                r = acc + b if op == "+" else acc - b if op == "-" else acc * b
                acc = r if -_INT_LIMIT <= r <= _INT_LIMIT else None
            else:
                acc = _arith(op, acc, b)
        return acc

    return arith


def _compile_and(fns: tuple[_Fn, ...]) -> _Fn:
    def and_(values: _Values, current: object, today: date | None) -> object:
        unknown = False
        for fn in fns:
            v = fn(values, current, today)
            if v is True:
                continue
            t = _truth(v)
            if t is False:
                return False  # False dominates even an undetermined operand
            if t is None:
                unknown = True
        return None if unknown else True

    return and_


def _compile_or(fns: tuple[_Fn, ...]) -> _Fn:
    def or_(values: _Values, current: object, today: date | None) -> object:
        unknown = False
        for fn in fns:
            v = fn(values, current, today)
            if v is False:
                continue
            t = _truth(v)
            if t is True:
                return True  # True dominates even an undetermined operand
            if t is None:
                unknown = True
        return None if unknown else False

    return or_


_STRICT_UNARY: Final[Mapping[str, Callable[[object], object]]] = {
    "count-selected": _count_selected,
    "string-length": _string_length,
    "year": _year,
    "number": _to_number,
    "int": _to_int,
    "latitude": _latitude,
    "longitude": _longitude,
}


def _compile_call(node: Call, compiled: _Compiled | None) -> _Fn:
    name = node.name
    fns = tuple(_compile(arg, compiled) for arg in node.args)
    if name in _STRICT_UNARY:
        return _strict_unary(_STRICT_UNARY[name], fns[0])
    if name == "selected":
        fa, fb = fns

        def selected(values: _Values, current: object, today: date | None) -> object:
            return _selected(fa(values, current, today), fb(values, current, today))

        return selected
    if name == "if":
        return _compile_if(*fns)
    if name == "today":

        def today_(values: _Values, current: object, today: date | None) -> object:
            return today if today is not None else date.today()

        return today_
    if name == "regex":
        pattern = node.args[1]
        assert isinstance(pattern, Str)  # enforced by the parser
        return _compile_regex(fns[0], _compile_pattern(pattern.value, 0))
    if name == "date":
        arg = node.args[0]
        if isinstance(arg, Str):
            return _constant(_iso_date(arg.value))
        return _strict_unary(_as_date, fns[0])
    if name == "answered":
        fx = fns[0]

        def answered(values: _Values, current: object, today: date | None) -> object:
            return fx(values, current, today) is not None

        return answered
    if name == "one-of":
        return _compile_any_of(_equals, fns[0], fns[1:])
    if name == "selected-any":
        return _compile_any_of(_selected, fns[0], fns[1:])
    if name == "coalesce":
        return _compile_coalesce(fns)
    if name == "concat":
        return _compile_concat(fns)
    if name in ("min", "max"):
        want_max = name == "max"

        def extreme(values: _Values, current: object, today: date | None) -> object:
            return _extreme(want_max, [fn(values, current, today) for fn in fns])

        return extreme
    raise AssertionError(f"no implementation for {name}()")  # pragma: no cover


def _strict_unary(impl: Callable[[object], object], fx: _Fn) -> _Fn:
    """A one-argument function where an unanswered argument gives an unanswered result."""

    def call(values: _Values, current: object, today: date | None) -> object:
        x = fx(values, current, today)
        return None if x is None else impl(x)

    return call


def _compile_if(fc: _Fn, fa: _Fn, fb: _Fn) -> _Fn:
    def if_(values: _Values, current: object, today: date | None) -> object:
        cond = _truth(fc(values, current, today))
        if cond is None:
            return None
        return fa(values, current, today) if cond else fb(values, current, today)

    return if_


def _compile_regex(fx: _Fn, pattern: _regex.Pattern[str]) -> _Fn:
    def regex_(values: _Values, current: object, today: date | None) -> object:
        s = _to_string(fx(values, current, today))
        if s is None or len(s) > MAX_REGEX_INPUT:
            return None
        try:
            return pattern.search(s, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            return None

    return regex_


def _compile_any_of(
    test: Callable[[object, object], bool | None], fx: _Fn, fcodes: tuple[_Fn, ...]
) -> _Fn:
    """Kleene 'or' of test(x, code) over the codes (one-of, selected-any)."""

    def any_of(values: _Values, current: object, today: date | None) -> object:
        x = fx(values, current, today)
        if x is None:
            return None
        unknown = False
        for fn in fcodes:
            r = test(x, fn(values, current, today))
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return any_of


def _compile_coalesce(fns: tuple[_Fn, ...]) -> _Fn:
    def coalesce(values: _Values, current: object, today: date | None) -> object:
        for fn in fns:
            v = fn(values, current, today)
            if v is not None:
                return v
        return None

    return coalesce


def _compile_concat(fns: tuple[_Fn, ...]) -> _Fn:
    def concat(values: _Values, current: object, today: date | None) -> object:
        parts: list[str] = []
        total = 0
        for fn in fns:
            s = _to_string(fn(values, current, today))
            if s is None:
                return None  # an unanswered part leaves the whole text undetermined
            total += len(s)
            if total >= MAX_STRING_LENGTH:
                return None
            parts.append(s)
        return "".join(parts)

    return concat


# ---------------------------------------------------------------------- public API


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed, compiled expression; immutable, so cached instances can be shared.

    Two Exprs are equal when their ASTs are equal, whatever their spacing.
    """

    source: str = field(compare=False)
    ast: Node
    references: frozenset[str] = field(compare=False)  # field ids used via ${...}
    uses_current: bool = field(compare=False)  # whether '.' appears
    _fn: _Fn = field(compare=False, repr=False)
    _compiled: _Compiled = field(compare=False, repr=False, default_factory=dict)

    def evaluate(
        self, values: _Values, *, current: object = None, today: date | None = None
    ) -> object:
        """Evaluate against answers; missing fields are None. Never raises.

        ``today`` pins today() for reproducible results (tests, re-validation).
        """
        return self._fn(values, current, today)

    def truth(
        self, values: _Values, *, current: object = None, today: date | None = None
    ) -> bool | None:
        """Evaluate and apply tri-state truthiness (None means undetermined)."""
        return _truth(self._fn(values, current, today))

    def node_value(self, node: Node, env: _Values) -> object:
        """The value of one sub-expression of this expression's ``ast`` in ``env`` (the other
        side of a comparison), by the function compiled with the whole."""
        fn = self._compiled.get(id(node))
        return (fn if fn is not None else _compile(node))(env, None, None)

    def node_truth(self, node: Node, env: _Values) -> bool | None:
        """One sub-expression as a condition (as ``and``/``or`` read their items)."""
        return _truth(self.node_value(node, env))

    def __str__(self) -> str:
        return self.source


@lru_cache(maxsize=4096)
def _parse_cached(source: str) -> Expr:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExprError(
            f"expression is too long ({len(source)} characters; limit {MAX_SOURCE_LENGTH})",
            MAX_SOURCE_LENGTH,
        )
    ast = _Parser(_tokenize(source)).parse()
    nodes = list(_walk(ast))
    compiled: _Compiled = {}
    return Expr(
        source=source,
        ast=ast,
        references=frozenset(n.name for n in nodes if isinstance(n, Field)),
        uses_current=any(isinstance(n, Current) for n in nodes),
        _fn=_compile(ast, compiled),
        _compiled=compiled,
    )


def parse(source: str) -> Expr:
    """Parse and compile ``source``; raises ExprError. Results are cached by source text."""
    return _parse_cached(source)


# ------------------------------------------------------------------------ unparse

_PREC_OR: Final = 1
_PREC_AND: Final = 2
_PREC_CMP: Final = 4
_PREC_ADD: Final = 5
_PREC_MUL: Final = 6
_PREC_NEG: Final = 7
_PREC_ATOM: Final = 8


def _precedence(node: Node) -> int:
    if isinstance(node, Or):
        return _PREC_OR
    if isinstance(node, And):
        return _PREC_AND
    if isinstance(node, Compare):
        return _PREC_CMP
    if isinstance(node, Add):
        return _PREC_ADD
    if isinstance(node, Mul):
        return _PREC_MUL
    if isinstance(node, Neg):
        return _PREC_NEG
    return _PREC_ATOM  # literals, fields, calls and not(...)


def _wrap(node: Node, min_prec: int) -> str:
    text = _unparse(node)
    return text if _precedence(node) >= min_prec else f"({text})"


def _quote(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "'" + s.replace("'", "''") + "'"


def _format_decimal(x: float) -> str:
    """Shortest round-tripping text without exponent (the grammar has no 1e5 form)."""
    text = format(Decimal(repr(x)), "f")
    return text if "." in text else text + ".0"


def _unparse(node: Node) -> str:
    if isinstance(node, Int):
        return str(node.value)
    if isinstance(node, Dec):
        return _format_decimal(node.value)
    if isinstance(node, Str):
        return _quote(node.value)
    if isinstance(node, Bool):
        return "true()" if node.value else "false()"
    if isinstance(node, Field):
        return f"${{{node.name}}}"
    if isinstance(node, Current):
        return "."
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, _PREC_NEG)
    if isinstance(node, Not):
        return f"not({_unparse(node.operand)})"
    if isinstance(node, Compare):
        return f"{_wrap(node.left, _PREC_ADD)} {node.op} {_wrap(node.right, _PREC_ADD)}"
    if isinstance(node, Add | Mul):
        # Every item binds tighter than the chain itself; a nested chain of the same
        # level keeps its parentheses so the tree shape survives a round trip.
        level = _PREC_MUL if isinstance(node, Add) else _PREC_NEG
        parts = [_wrap(node.first, level)]
        for op, item in node.rest:
            parts.append(f"{op} {_wrap(item, level)}")
        return " ".join(parts)
    if isinstance(node, And):
        return " and ".join(_wrap(item, _PREC_CMP) for item in node.items)
    if isinstance(node, Or):
        return " or ".join(_wrap(item, _PREC_AND) for item in node.items)
    return f"{node.name}({', '.join(_unparse(arg) for arg in node.args)})"


def unparse(expr: Expr | Node) -> str:
    """Canonical text for an expression or AST; ``parse(unparse(e))`` has an equal AST."""
    return _unparse(expr.ast if isinstance(expr, Expr) else expr)
