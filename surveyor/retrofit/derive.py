"""Deriving a building's retrofit needs from its census record: a pure function.

``derive_needs(form, rules, params, answers)`` reads nothing else (no clock, no database), so a
sheet printed twice from the same record says the same thing, and each rule can be tested with
a hand-made record.

Unknown is never no. A rule is *undetermined* when its condition cannot be decided: either the
engine's three-valued logic says so (a missing answer), or the condition came out false only
because an answer was ``'unknown'`` — found by evaluating again with every ``'unknown'`` turned
into "no answer" and seeing whether the result is still false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from surveyor.forms.expr import (
    And,
    Compare,
    Expr,
    Node,
    Or,
    child_nodes,
)
from surveyor.forms.expr import Field as FieldRef
from surveyor.forms.model import UNKNOWN, CompiledField, Form, Localized
from surveyor.forms.record import evaluate
from surveyor.retrofit.estimates import DefaultedInput, EstimateResult, estimate
from surveyor.retrofit.model import CompiledRule, Params, RuleSet, Source, flag_var, rule_var

INDICATORS: tuple[str, ...] = (
    "STR",
    "GAS",
    "COR",
    "ENV",
    "PIPE",
    "NSC",
    "WAT",
    "AGE",
    "ENG",
    "DIG",
)
INDICATOR_TITLES: dict[str, Localized] = {
    "STR": Localized(zh="结构安全隐患", en="Structural safety hazard"),
    "GAS": Localized(zh="燃气安全隐患", en="Gas safety hazard"),
    "COR": Localized(zh="楼道安全隐患", en="Stairwell safety hazard"),
    "ENV": Localized(zh="围护安全隐患", en="Envelope safety hazard"),
    "PIPE": Localized(zh="管线管道破损", en="Damaged pipes and lines"),
    "NSC": Localized(zh="非成套住宅", en="Non-self-contained dwellings"),
    "WAT": Localized(zh="入户水质不达标", en="Tap-water quality"),
    "AGE": Localized(zh="需适老化改造", en="Needs age-friendly retrofit"),
    "ENG": Localized(zh="需节能改造", en="Needs energy retrofit"),
    "DIG": Localized(zh="需数字化改造", en="Needs digital retrofit"),
}
CLASS_TITLES: dict[str, Localized] = {
    "B": Localized(zh="基础类", en="Basic"),
    "W": Localized(zh="完善类", en="Improvement"),
    "T": Localized(zh="提升类", en="Enhancement"),
}
STEP_TITLES: dict[int, Localized] = {
    1: Localized(zh="第1步 安全与基础修缮", en="Step 1 Safety and basic repair"),
    2: Localized(zh="第2步 围护与供热（先围护后供热）", en="Step 2 Envelope, then heating"),
    3: Localized(zh="第3步 适老化、电梯与功能", en="Step 3 Accessibility, elevator, function"),
    4: Localized(zh="第4步 数字化与可再生能源", en="Step 4 Digital and renewables"),
}


@dataclass(frozen=True)
class Need:
    """One triggered rule: what to do, how urgent, where it rolls up, and why."""

    rule_id: str
    need: str
    title: Localized
    category: str
    priority: int
    base_priority: int
    need_class: str
    indicator: str | None
    scale: str
    step: int
    sequence: int
    cost: str
    source: Source
    evidence: dict[str, Any]
    estimate: EstimateResult | None = None
    #: Answers, 'unknown' or not given, the need was triggered by: a real answer in their place
    #: could clear it (the worst case was assumed for them, e.g. G01 for a gas pipe year not
    #: given, E05 for a roof of unknown insulation).
    assumed_unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Awaited:
    """What an undetermined rule waits for, when no answer the form asks now would decide it:
    a triggered rule whose work comes first (A01 of a building S01 sends to a structural
    appraisal reads the appraisal grade, asked only once an appraisal is done), or, failing
    that, the unasked answer itself (``is_rule`` False, ``ident`` its field id)."""

    ident: str
    title: Localized
    is_rule: bool = True

    def label(self, lang: str) -> str:
        """「待S01 房屋安全鉴定…」 / "awaiting S01 Structural safety appraisal"."""
        title = self.title.get(lang)
        what = f"{self.ident} {title}" if self.is_rule else title
        return f"待{what}" if lang == "zh" else f"awaiting {what}"


@dataclass(frozen=True)
class Undetermined:
    """A rule (or flag/modifier) that could not be decided; ``fields`` are the answers to check
    (each one the form asks with the current answers), ``awaiting`` what it waits for
    beyond them."""

    rule_id: str
    title: Localized
    fields: tuple[str, ...]
    awaiting: tuple[Awaited, ...] = ()

    def field_labels(self, form: Form, lang: str) -> list[str]:
        """The answers to check by their labels in ``lang``, as people know them."""
        return [form.fields[f].defn.label.get(lang) if f in form.fields else f for f in self.fields]

    def check_labels(self, form: Form, lang: str) -> list[str]:
        """The answers to check, then what the rule waits for (the CLI's ``surveyor needs``,
        the data exports and the printed sheet say the same)."""
        return self.field_labels(form, lang) + [a.label(lang) for a in self.awaiting]


@dataclass(frozen=True)
class FlagResult:
    flag_id: str
    title: Localized
    value: bool | None


@dataclass(frozen=True)
class NoteResult:
    """A note (``notes:`` in the rule file): advice printed with the needs, never counted as
    one (no class, indicator or roadmap place), e.g. E10 "envelope and heating together"."""

    note_id: str
    title: Localized
    value: bool | None


@dataclass(frozen=True)
class RoadmapStep:
    step: int
    title: Localized
    low_cost: tuple[str, ...]
    capital: tuple[str, ...]


@dataclass
class NeedsReport:
    """Everything the sheet and the district roll-ups need about one building."""

    needs: list[Need]
    flags: list[FlagResult]
    undetermined: list[Undetermined]
    indicators: dict[str, bool]
    class_counts: dict[str, int]
    roadmap: list[RoadmapStep]
    defaulted: list[DefaultedInput]
    bundled: bool
    rules_version: str
    #: The fields the form asks with these answers (``evaluate``'s relevance, computed once
    #: with the needs): ``values`` holds None for the others, as the sheet prints them, and the
    #: data exports leave their stored answers out.
    relevant: frozenset[str]
    #: The notes decided for this record (shown where true, like the flags).
    notes: list[NoteResult] = field(default_factory=list)
    #: The record as the form shows it (refused answers included, as recorded), with the
    #: parameters, flags and rule outcomes.
    values: dict[str, Any] = field(repr=False, default_factory=dict)
    #: The answers the form refuses (a draft's "abc" year, an unknown 街道 code): ``values``
    #: holds them as recorded, and the sheet marks them to be corrected.
    refused: frozenset[str] = frozenset()

    @property
    def need_ids(self) -> list[str]:
        return [n.rule_id for n in self.needs]


def _is_unknown(value: Any) -> bool:
    """An explicit 'unknown' answer (select_multiple holds it as a one-item list)."""
    return bool(value == UNKNOWN or value == [UNKNOWN])


def _decide(expr: Expr, env: Mapping[str, Any], blind: Mapping[str, Any]) -> bool | None:
    """True / False / None; False only if it stays False with the 'unknown' answers removed."""
    result = expr.truth(env)
    depends_on_unknown = any(_is_unknown(env.get(ref)) for ref in expr.references)
    if result is False and depends_on_unknown and expr.truth(blind) is None:
        return None
    return result


def _open_refs(expr: Expr, blind: Mapping[str, Any]) -> set[str]:
    """The variables read by the parts of ``expr`` still open with the 'unknown' answers
    removed: an ``and`` with a false item, or an ``or`` with a true one, is decided whatever
    its other items say, and an item an open ``and`` already has true (an open ``or`` false)
    decides nothing. A01 of a building with no structural doubt (``not(${rule_s01}) or
    …appraisal_grade…`` true) is open only over its ownership, not over an appraisal grade
    that could not change it."""
    refs: set[str] = set()
    stack: list[Node] = [expr.ast]
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            decisive = isinstance(node, Or)  # the item value that decides the whole
            truths = [(item, expr.node_truth(item, blind)) for item in node.items]
            if any(t is decisive for _, t in truths):
                continue
            stack.extend(item for item, t in truths if t is None)
        elif isinstance(node, FieldRef):
            refs.add(node.name)
        else:
            stack.extend(child_nodes(node))
    return refs


@dataclass(frozen=True)
class _Decided:
    """A flag or rule decided earlier, as a condition read through ``${flag_…}``/``${rule_…}``."""

    ident: str
    title: Localized
    when: Expr


def _waits_for(
    origin: Expr, unasked: CompiledField, env: Mapping[str, Any], decided: Mapping[str, _Decided]
) -> set[Awaited]:
    """What a condition waits for when it reads an answer the form does not ask, its
    relevance decided by given answers: the triggered flags and rules it reads (A01 reads
    ``${rule_s01}``: awaiting S01's appraisal); none if one it reads is undetermined (its own
    answers, already named, decide first whether the unasked one matters); else that answer."""
    read = [ref for ref in origin.references if ref in decided]
    triggered = {
        Awaited(decided[ref].ident, decided[ref].title) for ref in read if env.get(ref) is True
    }
    if triggered:
        return triggered
    if any(env.get(ref) is None for ref in read):
        return set()
    return {Awaited(unasked.id, unasked.defn.label, is_rule=False)}


def _open_fields(
    expr: Expr,
    env: Mapping[str, Any],
    form: Form,
    decided: Mapping[str, _Decided],
    relevant: set[str],
    blind: Mapping[str, Any],
) -> tuple[tuple[str, ...], tuple[Awaited, ...]]:
    """The answers to check: the form fields of a condition that are unanswered or 'unknown',
    in the parts of it that are still open (``_open_refs``); and what it waits for.

    A condition that reads an undetermined flag or rule (``${rule_s01}``), or a calculation
    with no value (``${energy_era}`` of a refused year built), is open because of *that*
    condition's answers, so those are followed: A01 "needs check" names the answers that
    would decide S01 and S02, not an empty list. ``decided`` maps ``flag_…``/``rule_…``
    variables to their conditions.

    An answer the form does not ask now is never named, as nobody can enter it: the answers
    its relevance reads are followed instead while they are open (E11's roof area with the
    roof form 不详: check the roof form). Once they are given and say "not asked", the rule
    waits: for the triggered rules its condition reads (A01's appraisal grade with no
    appraisal done, while S01 asks for one: awaiting S01), else for that answer itself.
    """
    found: set[str] = set()
    awaited: set[Awaited] = set()
    seen: set[str] = set()
    # (expression, the flag/rule condition it serves, the unasked field of it being explained)
    stack: list[tuple[Expr, Expr, str | None]] = [(expr, expr, None)]
    while stack:
        current, origin, unasked = stack.pop()
        for ref in sorted(_open_refs(current, blind)):
            value = env.get(ref)
            if ref in seen or not (value is None or _is_unknown(value)):
                continue
            seen.add(ref)
            fld = form.fields.get(ref)
            if fld is None:
                if ref in decided:
                    stack.append((decided[ref].when, decided[ref].when, None))
            elif fld.calculate is not None:
                stack.append((fld.calculate, origin, unasked))
            elif ref in relevant:
                found.add(ref)
            elif fld.relevant is not None and _decide(fld.relevant, env, blind) is None:
                stack.append((fld.relevant, origin, unasked or ref))
            else:
                awaited |= _waits_for(origin, form.fields[unasked or ref], env, decided)
    return tuple(sorted(found)), tuple(sorted(awaited, key=lambda a: a.ident))


#: The most urgent priority a modifier may give: priority 1 means safety (research §3), and
#: an ageing population makes a ramp more urgent, not a safety need beside the gas risers.
MODIFIER_MOST_URGENT = 2


def _modified(priority: int, change: int) -> int:
    """A priority after a modifier: within 1–3, never raised above ``MODIFIER_MOST_URGENT``
    (a priority that is already more urgent, set by the rule itself, is kept)."""
    new = min(3, max(1, priority + change))
    if change < 0:
        new = max(new, min(priority, MODIFIER_MOST_URGENT))
    return new


def _priority(rule: CompiledRule, env: Mapping[str, Any]) -> int:
    for expr, priority in rule.priority_if:
        if expr.truth(env) is True:
            return priority
    return rule.defn.priority


def _evidence(expr: Expr, env: Mapping[str, Any], form: Form) -> dict[str, Any]:
    return {
        r: env[r] for r in sorted(expr.references) if r in form.fields and env.get(r) is not None
    }


def _numbers_compared(expr: Expr, fid: str, env: Mapping[str, Any]) -> list[float]:
    """The values ``fid`` is compared with in ``expr`` (2005 for ``${gas_pipe_year} <=
    ${survey_year} - ${p_gas_pipe_service_years}`` surveyed in 2025)."""
    found: list[float] = []
    stack = [expr.ast]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            for own, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(own, FieldRef) and own.name == fid:
                    value = expr.node_value(other, env)
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        found.append(value)
        stack.extend(child_nodes(node))
    return found


def _candidates(fld: CompiledField, expr: Expr, env: Mapping[str, Any]) -> list[Any]:
    """Real answers ``fld`` could have had: its options (one at a time for a multiple choice),
    true/false, or numbers on either side of what the condition compares it with."""
    codes = sorted(fld.choice_codes - {UNKNOWN})
    if fld.type == "select_one":
        return list(codes)
    if fld.type == "select_multiple":
        return [[code] for code in codes]
    if fld.type == "boolean":
        return [True, False]
    if fld.type in ("integer", "decimal"):
        return [n + d for n in _numbers_compared(expr, fld.id, env) for d in (-1, 0, 1)]
    return []


def _open_input(value: Any, fid: str, relevant: set[str]) -> bool:
    """An answer 'unknown', or not given though the form asks it."""
    return _is_unknown(value) or (value is None and fid in relevant)


def _assumed(
    expr: Expr,
    env: dict[str, Any],
    form: Form,
    relevant: set[str],
    through: Mapping[str, tuple[str, ...]],
) -> tuple[str, ...]:
    """The answers, 'unknown' or not given (though asked), a triggered condition relied on:
    some real answer in their place would not trigger it. G01 triggers for a gas pipe of
    unknown or unanswered year (assumed ≥ 20 years); with the year 2006 it would not.

    An answer that would only open the condition again is not an assumption: A01 and E01 read
    an appraisal (S02) only after a structural sign (S01) or once one is done, and "done"
    alone decides nothing before its grade, so an appraisal 不详 on a building with no
    structural sign is not listed as a worst case.

    The same holds through a flag or rule the condition reads: ``through`` maps each
    triggered ``flag_…``/``rule_…`` variable to the answers assumed for it, and they count
    when the condition would not be true without it (S04 reads F03, true for a 抗震加固 不详).

    Each real answer is tried in ``env`` itself, which is restored before returning.
    """
    out: set[str] = set()
    for fid in sorted(expr.references):
        fld = form.fields.get(fid)
        value = env.get(fid)
        if fld is None or fld.calculate is not None:
            continue
        if not _open_input(value, fid, relevant):
            continue
        try:
            for candidate in _candidates(fld, expr, env):
                env[fid] = candidate
                if expr.truth(env) is False:
                    out.add(fid)
                    break
        finally:
            env[fid] = value
    for var in sorted(expr.references & through.keys()):
        if not through[var] or env.get(var) is not True:
            continue
        try:
            env[var] = False
            if expr.truth(env) is not True:
                out.update(through[var])
        finally:
            env[var] = True
    return tuple(sorted(out))


def _build_env(
    form: Form, params: Params, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """Answers after the form's calculations and relevance, plus the scalar parameters; and
    the refused answers apart.

    An answer the form refuses (its constraint fails, or it is not of the field's type, as a
    draft may hold) counts as not answered, as calculations from it are already blanked: year
    built 1899 must leave F01/F03 undetermined, not decide them from a value the form rejects.
    The refused answers are returned so the report can still show what was recorded, and the
    fields the form asks (relevant ones).
    """
    evaluation = evaluate(form, answers)
    env = dict(evaluation.values)
    refused = {fid: env[fid] for fid in evaluation.errors}
    for fid in refused:
        env[fid] = None
    env.update(params.scalars)
    return env, refused, set(evaluation.relevant)


def _blind(env: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if _is_unknown(v) else v) for k, v in env.items()}


def _already_listed(item: Undetermined, listed: list[Undetermined]) -> bool:
    """Whether every answer an open note waits for is already named by a listed flag or rule:
    E10 open because E07 is (balancing valve not recorded) would only repeat E07's line."""
    named = {fid for other in listed for fid in other.fields}
    return set(item.fields) <= named and not item.awaiting


def derive_needs(
    form: Form, rules: RuleSet, params: Params, answers: Mapping[str, Any]
) -> NeedsReport:
    """Flags, needs (sorted by priority), undetermined rules and roll-ups for one record."""
    env, refused, relevant = _build_env(form, params, answers)
    blind = _blind(env)
    undetermined: list[Undetermined] = []
    flags: list[FlagResult] = []
    decided: dict[str, _Decided] = {}
    #: The answers assumed (worst case) by each triggered flag and rule, by its variable.
    assumed: dict[str, tuple[str, ...]] = {}

    def open_item(ident: str, title: Localized, expr: Expr) -> Undetermined:
        """An undetermined flag, rule or modifier, with the answers that would decide it."""
        fields, awaiting = _open_fields(expr, env, form, decided, relevant, blind)
        return Undetermined(ident, title, fields, awaiting)

    for flag, expr in rules.flags:
        var = flag_var(flag.id)
        value = _decide(expr, env, blind)
        env[var] = blind[var] = value
        decided[var] = _Decided(flag.id, flag.title, expr)
        flags.append(FlagResult(flag.id, flag.title, value))
        if value is None:  # listed with the answers that would decide it, as rules are
            undetermined.append(open_item(flag.id, flag.title, expr))
        elif value:
            assumed[var] = _assumed(expr, env, form, relevant, assumed)
    triggered: dict[str, tuple[CompiledRule, int]] = {}
    for rule in rules.rules:
        var = rule_var(rule.id)
        value = _decide(rule.when, env, blind)
        env[var] = blind[var] = value
        decided[var] = _Decided(rule.id, rule.defn.title, rule.when)
        if value is None:
            undetermined.append(open_item(rule.id, rule.defn.title, rule.when))
        elif value:
            triggered[rule.id] = (rule, _priority(rule, env))
            assumed[var] = _assumed(rule.when, env, form, relevant, assumed)
    notes: list[NoteResult] = []
    for note, expr in rules.notes:
        value = _decide(expr, env, blind)
        notes.append(NoteResult(note.id, note.title, value))
        if value is None:  # listed as flags are, unless it would only repeat other lines
            item = open_item(note.id, note.title, expr)
            if not _already_listed(item, undetermined):
                undetermined.append(item)
    for mod, expr in rules.modifiers:
        value = _decide(expr, env, blind)
        if value is None:
            undetermined.append(open_item(mod.id, mod.title, expr))
        elif value:
            for rid in mod.rules:
                if rid in triggered:
                    rule, prio = triggered[rid]
                    triggered[rid] = (rule, _modified(prio, mod.priority_change))
    needs = [
        _make_need(rule, prio, env, form, params, assumed[rule_var(rule.id)])
        for rule, prio in triggered.values()
    ]
    needs.sort(key=lambda n: (n.priority, n.step, n.sequence, n.rule_id))
    return NeedsReport(
        needs=needs,
        flags=flags,
        undetermined=undetermined,
        indicators={ind: any(n.indicator == ind for n in needs) for ind in INDICATORS},
        class_counts={c: sum(n.need_class == c for n in needs) for c in CLASS_TITLES},
        roadmap=_roadmap(needs),
        defaulted=_defaulted(needs, env, form),
        bundled=any(
            result.value and note.bundle is not None
            for result, (note, _) in zip(notes, rules.notes, strict=True)
        ),
        rules_version=rules.version,
        relevant=frozenset(relevant),
        notes=notes,
        values={**env, **refused},
        refused=frozenset(refused),
    )


def _make_need(
    rule: CompiledRule,
    priority: int,
    env: Mapping[str, Any],
    form: Form,
    params: Params,
    assumed_unknown: tuple[str, ...],
) -> Need:
    d = rule.defn
    est = estimate(d.estimate.method, env, params) if d.estimate is not None else None
    return Need(
        rule_id=d.id,
        need=d.need,
        title=d.title,
        category=d.category,
        priority=priority,
        base_priority=d.priority,
        need_class=d.class_,
        indicator=d.indicator,
        scale=d.scale,
        step=1 if priority == 1 else d.step,
        sequence=d.sequence,
        cost=d.cost,
        source=d.source,
        evidence=_evidence(rule.when, env, form),
        estimate=est,
        assumed_unknown=assumed_unknown,
    )


def _roadmap(needs: list[Need]) -> list[RoadmapStep]:
    """Four staged steps (EPBD renovation-passport style), low/no-cost apart from capital."""
    steps = []
    for step, title in STEP_TITLES.items():
        in_step = sorted(
            (n for n in needs if n.step == step), key=lambda n: (n.sequence, n.priority, n.rule_id)
        )
        steps.append(
            RoadmapStep(
                step,
                title,
                tuple(n.rule_id for n in in_step if n.cost == "low"),
                tuple(n.rule_id for n in in_step if n.cost == "capital"),
            )
        )
    return steps


def _defaulted(needs: list[Need], env: Mapping[str, Any], form: Form) -> list[DefaultedInput]:
    """Inputs that are defaults or assumptions, not observations (HEScore pattern). An answer
    assumed for several needs is listed once, with all their ids."""
    out: list[DefaultedInput] = []
    if env.get("year_built_basis") == "estimate":
        out.append(
            DefaultedInput(
                Localized(zh="建成年份为估计", en="Year built is an estimate"),
                str(env.get("year_built")),
            )
        )
    assumed_by: dict[str, list[str]] = {}
    for need in needs:
        for fid in need.assumed_unknown:
            assumed_by.setdefault(fid, []).append(need.rule_id)
    for need in needs:
        for fid in need.assumed_unknown:
            if fid in form.fields and assumed_by[fid][0] == need.rule_id:
                out.append(_worst_case(form, env, fid, " ".join(assumed_by[fid])))
        if need.estimate is not None:
            out.extend(need.estimate.defaulted)
    unique: dict[tuple[str, str], DefaultedInput] = {}
    for item in out:
        unique.setdefault((item.label.en, item.value), item)
    return list(unique.values())


def _worst_case(form: Form, env: Mapping[str, Any], fid: str, rule_ids: str) -> DefaultedInput:
    """「抗震加固：不详，按不利情况」, for the needs that assumed it."""
    label = form.fields[fid].defn.label
    zh, en = ("不详", "unknown") if _is_unknown(env.get(fid)) else ("未填", "not given")
    return DefaultedInput(
        Localized(zh=f"{label.zh}：{zh}，按不利情况", en=f"{label.en}: {en}, worst case assumed"),
        rule_ids,
    )
