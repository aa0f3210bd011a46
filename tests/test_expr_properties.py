"""Property-based tests for the form expression engine (surveyor.forms.expr)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from surveyor.forms.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_SOURCE_LENGTH,
    Add,
    And,
    Bool,
    Call,
    Compare,
    Current,
    Dec,
    Expr,
    ExprError,
    Field,
    Int,
    Mul,
    Neg,
    Node,
    Not,
    Or,
    Str,
    parse,
    unparse,
)

DAY = date(2024, 5, 1)
PATTERNS = ["^[0-9]+$", "a|b", "[a-z]{2,}", "^$", "x?y*"]
# Functions built from generic argument lists; regex/date/true/false/not are special.
GENERIC_FUNCTIONS = sorted(set(FUNCTIONS) - {"regex", "date", "true", "false", "not"})


# ---------------------------------------------------------------- AST strategies


def _children(node: Node) -> list[Node]:
    if isinstance(node, Neg | Not):
        return [node.operand]
    if isinstance(node, Compare):
        return [node.left, node.right]
    if isinstance(node, Add | Mul):
        return [node.first, *(item for _, item in node.rest)]
    if isinstance(node, And | Or):
        return list(node.items)
    if isinstance(node, Call):
        return list(node.args)
    return []


def height(node: Node) -> int:
    kids = _children(node)
    return 0 if not kids else 1 + max(height(k) for k in kids)


def size(node: Node) -> int:
    return 1 + sum(size(k) for k in _children(node))


def leaves(field_ids: st.SearchStrategy[str]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.integers(min_value=0, max_value=10**12).map(Int),
        st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
        .map(lambda x: round(x, 4))
        .map(Dec),
        st.text(max_size=6).map(Str),
        st.sampled_from(["x", "unknown", "it's", 'say "hi"', "a'b\"c", ""]).map(Str),
        st.booleans().map(Bool),
        field_ids.map(Field),
        st.just(Current()),
    )


def _chain(
    children: st.SearchStrategy[Node], ops: list[str]
) -> st.SearchStrategy[tuple[tuple[str, Node], ...]]:
    return st.lists(st.tuples(st.sampled_from(ops), children), min_size=1, max_size=3).map(tuple)


def _calls(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def generic(name: str) -> st.SearchStrategy[Node]:
        low, high = FUNCTIONS[name]
        top = low + 3 if high is None else high
        return st.lists(children, min_size=low, max_size=top).map(
            lambda args: Call(name, tuple(args))
        )

    regex_call = st.builds(
        lambda subject, pattern: Call("regex", (subject, Str(pattern))),
        children,
        st.sampled_from(PATTERNS),
    )
    date_call = st.one_of(
        st.dates().map(lambda d: Call("date", (Str(d.isoformat()),))),
        children.filter(lambda c: not isinstance(c, Str)).map(lambda c: Call("date", (c,))),
    )
    return st.one_of(st.sampled_from(GENERIC_FUNCTIONS).flatmap(generic), regex_call, date_call)


def asts(field_ids: st.SearchStrategy[str], max_leaves: int = 20) -> st.SearchStrategy[Node]:
    """Random well-formed ASTs in the shape the parser produces."""

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.one_of(
            children.map(Neg),
            children.map(Not),
            st.builds(
                Compare, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), children, children
            ),
            st.builds(Add, children, _chain(children, ["+", "-"])),
            st.builds(Mul, children, _chain(children, ["*", "div", "mod"])),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
            _calls(children),
        )

    return st.recursive(leaves(field_ids), extend, max_leaves=max_leaves)


ANY_FIELD_ID = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
FIXED_FIELDS = ["a", "b", "c"]
FIXED_FIELD_ID = st.sampled_from(FIXED_FIELDS)


# -------------------------------------------------------------- (1) round trip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(asts(ANY_FIELD_ID))
def test_unparse_then_parse_gives_the_same_ast(ast: Node) -> None:
    text = unparse(ast)
    if height(ast) <= MAX_DEPTH and size(ast) <= MAX_NODES and len(text) <= MAX_SOURCE_LENGTH:
        assert parse(text).ast == ast
        assert unparse(parse(text)) == text  # canonical text is a fixed point
    else:
        with pytest.raises(ExprError):
            parse(text)


# ---------------------------------------------------------- (2) arbitrary text

TOKEN_SOUP = st.lists(
    st.sampled_from(
        [
            "${a}",
            "${b}",
            "${Bad}",
            "${",
            "}",
            ".",
            "1",
            "2.5",
            "0",
            "'x'",
            '"y"',
            "'",
            "(",
            ")",
            ",",
            "and",
            "or",
            "not",
            "not(",
            "div",
            "mod",
            "/",
            "*",
            "+",
            "-",
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "==",
            "true()",
            "false()",
            "if(",
            "selected(",
            "count-selected(",
            "regex(",
            "date(",
            "'2024-01-01'",
            "concat(",
            "foo(",
            "today()",
            "one-of(",
            "coalesce(",
            "min(",
            " ",
            "\n",
            "$",
            "-1",
        ]
    ),
    max_size=25,
).map("".join)


def _parse_or_error(text: str) -> Expr | None:
    try:
        return parse(text)
    except ExprError as err:
        assert isinstance(err.message, str) and err.message
        assert err.position is None or 0 <= err.position <= len(text)
        return None


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_expr_error(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=800)
@given(TOKEN_SOUP)
def test_token_soup_parses_or_raises_expr_error(text: str) -> None:
    e = _parse_or_error(text)
    if e is not None:
        # Whatever parsed also survives a canonical round trip and evaluates safely.
        assert parse(unparse(e)).ast == e.ast
        e.evaluate({"a": 1, "b": "unknown"}, current=None, today=DAY)


# --------------------------------------------------------- (3) evaluation safety

VALUES = st.one_of(
    st.none(),
    st.just("unknown"),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.sampled_from(["x", "y", "unknown", "1"]), max_size=3),
    st.dates(),
    st.builds(lambda la, lo: {"lat": la, "lon": lo}, st.floats(-90, 90), st.floats(-180, 180)),
)
RESULT_TYPES = (type(None), bool, int, float, str, date, list, dict)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    asts(FIXED_FIELD_ID),
    st.fixed_dictionaries({name: VALUES for name in FIXED_FIELDS}),
    VALUES,
)
def test_evaluation_never_raises(ast: Node, values: dict[str, object], current: object) -> None:
    text = unparse(ast)
    assume(height(ast) <= MAX_DEPTH and size(ast) <= MAX_NODES and len(text) <= MAX_SOURCE_LENGTH)
    e = parse(text)
    result = e.evaluate(values, current=current, today=DAY)
    assert isinstance(result, RESULT_TYPES)
    if isinstance(result, int) and not isinstance(result, bool):
        # Computed integers stay within 64 bits; larger ones can only be passed through.
        assert abs(result) < 2**63 or result in values.values() or result == current
    if isinstance(result, str):
        assert len(result) < 10_000 or result in values.values()
    assert e.truth(values, current=current, today=DAY) in (True, False, None)


# ------------------------------------------------------ (4) integer arithmetic

SMALL_INTS = st.integers(min_value=-(10**6), max_value=10**6)


def _reference(op: str, a: int, b: int) -> int | float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    if op == "div":
        return a / b
    return int(math.fmod(a, b))  # XPath/ODK mod: the sign follows the dividend


@settings(max_examples=500)
@given(SMALL_INTS, SMALL_INTS, st.sampled_from(["+", "-", "*", "div", "mod"]))
def test_integer_arithmetic_matches_python(a: int, b: int, op: str) -> None:
    expected = _reference(op, a, b)
    from_fields = parse(f"${{a}} {op} ${{b}}").evaluate({"a": a, "b": b})
    # Literals are non-negative; a negative operand is written with unary minus.
    left = str(a) if a >= 0 else f"-{-a}"
    right = str(b) if b >= 0 else f"(-{-b})"
    from_literals = parse(f"{left} {op} {right}").evaluate({})
    for result in (from_fields, from_literals):
        if expected is None:
            assert result is None
        else:
            assert result == expected
            assert not isinstance(result, bool)
            if op in ("+", "-", "*", "mod"):
                assert type(result) is int


@given(SMALL_INTS, SMALL_INTS)
def test_python_operator_precedence_is_respected(a: int, b: int) -> None:
    values = {"a": a, "b": b}
    assert parse("${a} + ${b} * 3 - ${a}").evaluate(values) == a + b * 3 - a
    assert parse("-${a} * ${b} + 2").evaluate(values) == -a * b + 2
    assert parse("(${a} - ${b}) * (${a} + ${b})").evaluate(values) == (a - b) * (a + b)


# ------------------------------------------------------------ (5) Kleene laws

TRI = st.sampled_from([True, False, None])
# Other answers exercise truthiness (0, '', [] are false; 'unknown' is true).
TRUTHY_ANSWERS = st.one_of(TRI, st.sampled_from([0, 1, "", "unknown", [], ["x"], 0.0]))


def kleene_not(x: bool | None) -> bool | None:
    return None if x is None else not x


@settings(max_examples=200)
@given(TRUTHY_ANSWERS, TRUTHY_ANSWERS)
def test_and_or_are_commutative(x: object, y: object) -> None:
    values = {"x": x, "y": y}
    assert parse("${x} and ${y}").truth(values) is parse("${y} and ${x}").truth(values)
    assert parse("${x} or ${y}").truth(values) is parse("${y} or ${x}").truth(values)


@settings(max_examples=200)
@given(TRUTHY_ANSWERS, TRUTHY_ANSWERS)
def test_de_morgan(x: object, y: object) -> None:
    values = {"x": x, "y": y}
    assert parse("not(${x} and ${y})").truth(values) is parse("not(${x}) or not(${y})").truth(
        values
    )
    assert parse("not(${x} or ${y})").truth(values) is parse("not ${x} and not ${y}").truth(values)


@settings(max_examples=200)
@given(TRI, TRI, TRI)
def test_kleene_matches_min_max_on_false_unknown_true(
    x: bool | None, y: bool | None, z: bool | None
) -> None:
    # Kleene logic is min/max over the order False < None < True.
    rank = {False: 0, None: 1, True: 2}
    by_rank = {0: False, 1: None, 2: True}
    values = {"x": x, "y": y, "z": z}
    got_and = parse("${x} and ${y} and ${z}").truth(values)
    got_or = parse("${x} or ${y} or ${z}").truth(values)
    assert got_and is by_rank[min(rank[x], rank[y], rank[z])]
    assert got_or is by_rank[max(rank[x], rank[y], rank[z])]
    assert parse("not ${x}").truth(values) is kleene_not(x)
    # Associativity: grouping does not change the result.
    assert parse("(${x} and ${y}) and ${z}").truth(values) is got_and
    assert parse("${x} or (${y} or ${z})").truth(values) is got_or
