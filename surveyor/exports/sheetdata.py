"""The plain data printed on a retrofit-need sheet or label, prepared from a record.

Preparing (form labels, needs, conditions) is separated from drawing so that worker processes
receive small picklable objects, and so that the benchmark can draw a bare page of exactly the
same content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from surveyor.exports.sheetlayout import Element, GradedAnswer, Photos, SheetLayout
from surveyor.forms.display import unit_text
from surveyor.forms.model import UNKNOWN, Form
from surveyor.retrofit.derive import CLASS_TITLES, INDICATOR_TITLES, NeedsReport, Undetermined
from surveyor.store.ids import building_uri

STATUS_ZH = {"confirmed": "已证实", "recalled": "依据待查证", "proposal": "提案"}
CONDITION_ZH = ("完好", "基本完好", "一般损坏", "严重损坏")
CONDITION_EN = ("good", "fair", "damaged", "severe")

#: Measures print as SI symbols in both languages ("6,364 m²", as the estimates and defaulted
#: inputs on the same sheet do); counting words stay Chinese ("6层", "96户").
UNIT_SYMBOLS = {
    "平方米": "m²",
    "立方米": "m³",
    "米": "m",
    "毫米": "mm",
    "千瓦时": "kWh",
    "吉焦": "GJ",
    "摄氏度": "°C",  # the form says 摄氏度 (° is ambiguous-width in a CJK terminal)
}


@dataclass(frozen=True)
class NeedRow:
    priority: int
    rule_id: str
    title_zh: str
    title_en: str
    need_class: str
    indicator: str
    source_status: str
    source_text: str
    estimate: str


@dataclass(frozen=True)
class SheetData:
    """Everything one sheet prints, as plain strings (picklable, font-independent)."""

    code: str
    uri: str
    subdistrict: str
    community: str
    compound: str
    building_no: str
    address: str
    status: str
    facts: list[tuple[str, str, str]]
    conditions: list[Condition]
    needs: list[NeedRow]
    roadmap: list[tuple[str, str, str]]
    defaulted: list[str]
    undetermined: list[str]
    #: The flags that hold, then the notes that apply (E10, E15): one line on the sheet.
    flags: list[str]
    class_counts: dict[str, int]
    indicators: list[str]
    #: Said in the needs section besides its rows: why there are none, or nothing.
    needs_note: str = ""
    #: What each box says when it lists nothing (defaulted inputs, undetermined rules).
    empty_boxes: tuple[str, str] = ("无 none", "无 none")
    photos: list[str] = field(default_factory=list)
    inspector: str = ""
    survey_date: str = ""
    versions: str = ""
    #: What still awaits a supervisor, said under the status: open conflicts, a possible
    #: duplicate ("under_review"); empty when nothing is open.
    review: list[str] = field(default_factory=list)


def text_of(form: Form, fid: str, value: Any, lang: str = "zh") -> str:
    """An answer as printed text: option labels, yes/no, numbers with their unit."""
    if value is None:
        return "—"
    fld = form.fields.get(fid)
    if fld is None:
        return str(value)
    if value == UNKNOWN:
        return "不详" if lang == "zh" else "unknown"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, list):
        return (
            "、".join(text_of(form, fid, v, lang) for v in value)
            if all(isinstance(v, str) for v in value)
            else f"{len(value)}"
        )
    if fld.choices and isinstance(value, str):
        return fld.choice_label(value, lang)
    if isinstance(value, float):
        value = f"{value:,.0f}" if value >= 100 else f"{value:g}"
    unit = unit_text(fld, lang)
    if unit in UNIT_SYMBOLS:
        return f"{value} {UNIT_SYMBOLS[unit]}"
    return f"{value}{unit}" if lang == "zh" else f"{value} {unit}".strip()


#: Said after an answer the form refuses (a draft may keep one as it was entered).
TO_CORRECT = "（待更正 to correct）"


def answer_text(form: Form, fid: str, value: Any, refused: frozenset[str]) -> str:
    """An answer as the sheet prints it: ``text_of``; or, when the form refuses it (a draft's
    year "abc", an unknown 街道 code), what was recorded, marked to be corrected and without a
    unit: the sheet printed "abc年（档案）" and a raw "dongmalu" as facts."""
    if value is None or fid not in refused:
        return text_of(form, fid, value)
    recorded = " ".join(map(str, value)) if isinstance(value, list) else str(value)
    return recorded + TO_CORRECT


@dataclass(frozen=True)
class Condition:
    """One row of the element condition table.

    ``grade`` is the worst grade of the known answers (0 good … 3 severe; -1 when none is
    known); ``unknown`` says that some answer that applies is 不详 or not given, so the element
    may be worse than its known answers say; ``applies`` is False when none of its answers
    applies to the building (no heating, no gas supply).
    """

    title_zh: str
    title_en: str
    text: str
    grade: int
    unknown: bool = False
    applies: bool = True

    @property
    def label(self) -> str:
        """The grade in words: never 完好 while an answer is unknown."""
        if not self.applies:
            return "不适用 not applicable"
        if self.grade < 0:
            return "不详 unknown"
        if self.unknown and self.grade == 0:
            return "部分不详 partly unknown"
        zh, en = CONDITION_ZH[self.grade], CONDITION_EN[self.grade]
        if self.unknown and self.grade < 3:  # a known damage, and more may be hidden
            return f"{zh}，部分不详 {en}, partly unknown"
        return f"{zh} {en}"


def _grade(answer: GradedAnswer, value: Any) -> int | None:
    """Worst grade of one answer (0 good … 3 severe); None when it is not known."""
    if value is None or value == UNKNOWN or value == [UNKNOWN]:
        return None
    codes = value if isinstance(value, list) else [value]
    return max((answer.grade.get(c, 0) for c in codes if isinstance(c, str)), default=0)


def _applies(form: Form, values: Mapping[str, Any], fid: str) -> bool:
    """Whether a field applies to the building: False only when its relevance is decided
    false (heating answers without heating); undecided relevance is an unknown answer."""
    fld = form.fields.get(fid)
    if fld is None or fld.relevant is None:
        return True
    return fld.relevant.truth(values) is not False


def condition(
    form: Form, values: Mapping[str, Any], element: Element, refused: frozenset[str] = frozenset()
) -> Condition:
    """An element's row: its grade from the answers that apply, and its answers in words. An
    answer the form refuses grades nothing (it is not known), and is printed to be corrected."""
    answers = [a for a in element.answers if _applies(form, values, a.field)]
    grades = [None if a.field in refused else _grade(a, values.get(a.field)) for a in answers]
    known = [g for g in grades if g is not None]
    partly = any(
        isinstance(v := values.get(a.field), list) and UNKNOWN in v and len(v) > 1 for a in answers
    )
    return Condition(
        element.title.zh,
        element.title.en,
        _condition_text(form, values, answers, bool(known), refused),
        max(known) if known else -1,
        unknown=len(known) < len(answers) or partly,
        applies=bool(answers),
    )


def _condition_text(
    form: Form,
    values: Mapping[str, Any],
    answers: list[GradedAnswer],
    any_known: bool,
    refused: frozenset[str],
) -> str:
    """The answers, each after its short label, worst first: what needs work, then what is
    unknown, then what is fine (a cut line loses the least). An answer not given says so when
    others are given; an element with nothing given prints no line (its grade says 不详)."""

    def rank(answer: GradedAnswer) -> int:
        grade = None if answer.field in refused else _grade(answer, values.get(answer.field))
        return -grade if grade else (0 if grade is None else 1)

    def said(answer: GradedAnswer) -> str:
        value = values.get(answer.field)
        return "未填" if value is None else answer_text(form, answer.field, value, refused)

    shown = [a for a in answers if values.get(a.field) is not None or any_known]
    return "；".join(f"{a.short}：{said(a)}" for a in sorted(shown, key=rank))


def _source_text(text: str, status: str) -> str:
    """The source without a leading status word the sheet already prints ("提案：…")."""
    if text.startswith(status):
        return text[len(status) :].lstrip("：；，、 ")
    return text


def under_review(
    form: Form, conflicts: Sequence[str], duplicate: bool, duplicate_of: Sequence[str]
) -> list[str]:
    """The sheet's lines on what a supervisor has yet to decide: the fields in open conflict
    (what it prints of them is one side's answer) and the buildings it may repeat. A sheet of a
    conflicted record read 已完成 with a reviewer's signature line and nothing else."""
    from surveyor.sync.wording import field_name

    order = {fid: i for i, fid in enumerate(form.fields)}
    keys = sorted(conflicts, key=lambda k: (order.get(k, len(order)), k))
    lines = []
    if keys:
        zh = "、".join(field_name(form, k, "zh") for k in keys)
        en = ", ".join(field_name(form, k, "en") for k in keys)
        lines.append(f"待审核：{zh} 有未裁定的冲突 Under review: open conflict in {en}")
    if duplicate and duplicate_of:
        zh, en = "、".join(duplicate_of), ", ".join(duplicate_of)
        lines.append(f"待审核：可能与 {zh} 重复 Under review: possible duplicate of {en}")
    elif duplicate:
        lines.append(
            "待审核：可能与另一栋楼重复 Under review: possible duplicate of another building"
        )
    return lines


NOT_SURVEYED = "not_started"
UNSURVEYED_BOXES = (
    "未调查 not surveyed",
    "未调查：调查后判断各规则 Not surveyed: rules are decided after the survey",
)


def needs_note(status: str, needs: int, undetermined: int) -> str:
    """The sentence the needs section prints besides its rows.

    "No need found" is only said when every rule was decided: a draft or an unsurveyed building
    whose rules could not be decided has not been shown to need nothing.
    """
    if status == NOT_SURVEYED:
        return "未调查：尚未推导改造需求 Not surveyed: no needs derived yet"
    if needs:
        return ""
    if undetermined:
        return (
            f"目前未发现改造需求；另有{undetermined}条规则无法判断（见下方方框） "
            f"No need found so far; {undetermined} rules could not be decided (see the box below)"
        )
    return "未发现改造需求 No retrofit need found"


def _undetermined(form: Form, u: Undetermined) -> str:
    """An open rule, the answers that would decide it and what it waits for: 「核实」 only
    before answers the form asks (A01 waiting for S01's appraisal says 「待S01 …」, never
    「核实 鉴定结论」, a question not asked while no appraisal is done)."""
    parts = []
    check = "、".join(u.field_labels(form, "zh"))
    if check:
        parts.append(f"核实 {check}")
    parts.extend(a.label("zh") for a in u.awaiting)
    return f"{u.rule_id} {u.title.zh}：{'；'.join(parts)}" if parts else f"{u.rule_id} {u.title.zh}"


def _roadmap(report: NeedsReport) -> list[tuple[str, str, str]]:
    rows = []
    for step in report.roadmap:
        rows.append(
            (
                step.title.zh + " / " + step.title.en,
                " ".join(step.low_cost) or "—",
                " ".join(step.capital) or "—",
            )
        )
    return rows


#: The typed answers the sheet's header and footer print as entered.
HEADER_FIELDS = ("community", "compound_name", "building_no", "address", "inspector_name")


def printed_text_fields(form: Form, layout: SheetLayout) -> list[str]:
    """The answers a sheet prints as typed (free text, whose characters the font may lack):
    the header's and footer's, and the key facts that are text fields."""
    facts = [f for fact in layout.facts for f in (fact.field, fact.with_field) if f is not None]
    typed = [f for f in facts if f in form.fields and form.fields[f].type == "text"]
    return list(dict.fromkeys([*HEADER_FIELDS, *typed]))


def prepare_sheet(
    form: Form,
    code: str,
    status: str,
    answers: Mapping[str, Any],
    report: NeedsReport,
    layout: SheetLayout,
    blob_dir: Path | None = None,
    review: Sequence[str] = (),
) -> SheetData:
    """The sheet's content for one building (labels resolved, needs and roll-ups formatted);
    ``review``: its lines on what awaits a supervisor (``under_review``)."""
    surveyed = status != NOT_SURVEYED
    if not surveyed:
        # Register data alone (address, compound) decides nothing: print no partial results.
        report = _nothing_derived(report)
    values, refused = report.values, report.refused

    def t(fid: str) -> str:
        return answer_text(form, fid, values.get(fid), refused)

    facts = []
    for fact in layout.facts:
        label = form.fields[fact.field].defn.label
        value = t(fact.field)
        if fact.with_field is not None and values.get(fact.with_field) is not None:
            value = f"{value}（{t(fact.with_field)}）"
        facts.append((label.zh, label.en, value))
    conditions = [condition(form, values, element, refused) for element in layout.elements]
    needs = [
        NeedRow(
            priority=n.priority,
            rule_id=n.rule_id,
            title_zh=n.title.zh,
            title_en=n.title.en,
            need_class=CLASS_TITLES[n.need_class].zh,
            indicator=INDICATOR_TITLES[n.indicator].zh if n.indicator else "—",
            source_status=STATUS_ZH[n.source.status],
            source_text=_source_text(n.source.text, STATUS_ZH[n.source.status]),
            estimate=n.estimate.summary.zh if n.estimate else "",
        )
        for n in report.needs
    ]
    photos = _photo_paths(answers, blob_dir, layout.photos)
    return SheetData(
        code=code,
        uri=building_uri(code),
        subdistrict=t("subdistrict"),
        community=str(values.get("community") or "—"),
        compound=str(values.get("compound_name") or "—"),
        building_no=str(values.get("building_no") or "—"),
        address=str(values.get("address") or "—"),
        status=status,
        facts=facts,
        conditions=conditions,
        needs=needs,
        roadmap=_roadmap(report),
        defaulted=[f"{d.label.zh}：{d.value}" for d in report.defaulted],
        undetermined=[_undetermined(form, u) for u in report.undetermined],
        flags=[f"{f.flag_id} {f.title.zh}" for f in report.flags if f.value]
        + [f"{n.note_id} {n.title.zh}" for n in report.notes if n.value],
        class_counts=dict(report.class_counts),
        indicators=[k for k, hit in report.indicators.items() if hit],
        photos=photos,
        inspector=str(values.get("inspector_name") or ""),
        survey_date=t("survey_date") if values.get("survey_date") is not None else "",
        versions=f"form {form.version} · rules {report.rules_version}",
        needs_note=needs_note(status, len(needs), len(report.undetermined)),
        empty_boxes=("无 none", "无 none") if surveyed else UNSURVEYED_BOXES,
        review=list(review),
    )


def _nothing_derived(report: NeedsReport) -> NeedsReport:
    """The report of a building not yet surveyed: no needs, flags, roll-ups or open rules."""
    return replace(
        report,
        needs=[],
        flags=[],
        undetermined=[],
        indicators=dict.fromkeys(report.indicators, False),
        class_counts={},
        roadmap=[replace(step, low_cost=(), capital=()) for step in report.roadmap],
        defaulted=[],
    )


def _photo_paths(answers: Mapping[str, Any], blob_dir: Path | None, photos: Photos) -> list[str]:
    """The first ``photos.count`` photo files that exist, in the layout's field order."""
    if blob_dir is None or photos.count == 0:
        return []
    out: list[str] = []
    for fid in photos.fields:
        for item in answers.get(fid) or []:
            sha = item.get("sha256") if isinstance(item, dict) else None
            if isinstance(sha, str) and len(sha) > 2:
                path = blob_dir / sha[:2] / sha[2:]
                if path.is_file() and str(path) not in out:
                    out.append(str(path))
            if len(out) == photos.count:
                return out
    return out
