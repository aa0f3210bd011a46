"""The district report: a short PDF of charts (reportlab graphics) over the selected buildings.

Needs and households are counted over surveyed records (complete or approved) only: a draft's
needs are still changing, and a total must cover the buildings its needs do. Buildings and
survey progress count every selected building.

A report printed before the supervisor's review is finished counts values that may still
change: the headline says how many buildings have open conflicts or possible-duplicate flags,
and how many of them are surveyed ones (counted in the needs and households).

Page 3 is the retrofit plan as a planner reads it, in buildings and floor area (Tianjin plans
its programmes in 万m²), not rule hits: by 街道 and by year-built band, the surveyed buildings,
those with a priority-1 need, and the floor area needing each category; what could not be
decided ("needs check") is a table of its own, never added to the firm needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from surveyor.exports.source import BuildingRecord
from surveyor.exports.text import wrap
from surveyor.forms.display import status_label
from surveyor.forms.model import Form
from surveyor.retrofit.derive import CLASS_TITLES, INDICATOR_TITLES, INDICATORS, NeedsReport
from surveyor.retrofit.model import RuleDef, RuleSet

SURVEYED = ("complete", "approved")
STATUS_ORDER = ("not_started", "draft", "complete", "approved")
CATEGORY_ZH = {
    "safety": "安全",
    "gas": "燃气",
    "pipes": "管线",
    "stairwell": "楼道消防",
    "energy": "节能",
    "accessibility": "适老",
    "housing": "住房",
    "digital": "数字化",
}
PRIORITY_COLORS = (
    colors.HexColor("#d9534f"),
    colors.HexColor("#f0ad4e"),
    colors.HexColor("#5cb85c"),
)
#: The lines that say the figures are provisional (open conflicts, possible duplicates).
REVIEW_COLOR = colors.HexColor("#a94442")
STATUS_COLORS = (
    colors.HexColor("#cccccc"),
    colors.HexColor("#f0ad4e"),
    colors.HexColor("#5bc0de"),
    colors.HexColor("#5cb85c"),
)


@dataclass
class PlanRow:
    """One row of the plan tables: surveyed buildings (complete or approved) only.

    A need triggered by a worst case the rules assume (an unknown gas pipe year) is a need, as
    on the sheet; a rule left undetermined is a check, counted apart: ``priority1_check`` the
    buildings with no priority-1 need but an undetermined rule that may be one, ``check_area``
    per category the floor area of buildings with no need of that category but an undetermined
    rule in it."""

    surveyed: int = 0
    priority1: int = 0
    priority1_check: int = 0
    #: m² of the buildings with a floor area; ``without_area`` counts those without one (their
    #: needs count in the buildings, not in the areas).
    floor_area: float = 0.0
    without_area: int = 0
    need_area: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORY_ZH, 0.0))
    check_area: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORY_ZH, 0.0))

    def add(self, building: BuildingPlan) -> None:
        """Count one surveyed building in this row."""
        self.surveyed += 1
        self.priority1 += building.priority1
        self.priority1_check += building.priority1_check
        if building.floor_area is None:
            self.without_area += 1
            return
        self.floor_area += building.floor_area
        for c in building.need_categories:
            self.need_area[c] += building.floor_area
        for c in building.check_categories:
            self.check_area[c] += building.floor_area


@dataclass(frozen=True)
class BuildingPlan:
    """What one surveyed building adds to the plan tables."""

    floor_area: float | None
    priority1: bool
    priority1_check: bool
    need_categories: frozenset[str]
    check_categories: frozenset[str]


def may_be_priority1(rule: RuleDef) -> bool:
    """An undetermined rule whose need could be priority 1 (its own or a ``priority_if``'s)."""
    return rule.priority == 1 or any(p.priority == 1 for p in rule.priority_if)


def building_plan(report: NeedsReport, rules: RuleSet) -> BuildingPlan:
    """A building's firm needs and checks by category and priority 1, and its floor area (the
    form's value; None when not given, 不详 or refused)."""
    firm = frozenset(n.category for n in report.needs)
    p1 = any(n.priority == 1 for n in report.needs)
    open_rules = [
        rules.by_id[u.rule_id].defn for u in report.undetermined if u.rule_id in rules.by_id
    ]
    area = report.values.get("gross_floor_area")
    known = isinstance(area, int | float) and not isinstance(area, bool) and area > 0
    return BuildingPlan(
        float(area) if known and area is not None else None,
        p1,
        not p1 and any(may_be_priority1(r) for r in open_rules),
        firm,
        frozenset(r.category for r in open_rules) - firm,
    )


@dataclass
class DistrictSummary:
    """Counts behind every chart (also what the tests check)."""

    buildings: dict[str, int] = field(default_factory=dict)
    #: Households of the surveyed buildings (the ones the needs are counted over).
    households: dict[str, int] = field(default_factory=dict)
    #: Surveyed buildings whose household count is not given (or 不详).
    without_households: int = 0
    status: dict[str, dict[str, int]] = field(default_factory=dict)
    needs: dict[str, list[int]] = field(default_factory=dict)
    indicators: dict[str, int] = field(default_factory=dict)
    #: Surveyed buildings for which an indicator could not be decided: none of its rules
    #: triggered and one of them is undetermined (needs check). Unknown is never no: without
    #: these the 城市体检 counts read as if every such building were clear.
    undetermined_indicators: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    surveyed: int = 0
    #: The plan tables (page 3): by 街道 (zh name, the charts' order), by year-built band
    #: (``era_bin`` label, the form's order, then 未填), and the district's total.
    plan_subdistricts: dict[str, PlanRow] = field(default_factory=dict)
    plan_eras: dict[str, PlanRow] = field(default_factory=dict)
    plan_total: PlanRow = field(default_factory=PlanRow)
    #: Buildings with open field conflicts; flagged as possible duplicates; and the surveyed
    #: buildings with either (their needs and households are counted, provisionally).
    with_conflicts: int = 0
    possible_duplicates: int = 0
    surveyed_under_review: int = 0


def undetermined_indicators(report: NeedsReport, rules: RuleSet) -> set[str]:
    """The indicators ``report`` leaves open: not triggered, with an undetermined rule that
    rolls up to them (A01, the lift, undetermined for want of 是否单一产权 leaves AGE open when
    no other accessibility need decided it)."""
    opened = {
        rules.by_id[u.rule_id].defn.indicator
        for u in report.undetermined
        if u.rule_id in rules.by_id
    }
    return {ind for ind in opened if ind is not None and not report.indicators.get(ind)}


def summarize(
    form: Form,
    records: Sequence[BuildingRecord],
    reports: Mapping[str, NeedsReport],
    rules: RuleSet,
) -> DistrictSummary:
    """Buildings, households, progress by 街道; needs by category × priority; roll-ups, with
    the buildings each indicator is undetermined for."""
    sub = form.fields["subdistrict"]
    s = DistrictSummary()
    s.needs = {c: [0, 0, 0] for c in CATEGORY_ZH}
    s.indicators = dict.fromkeys(INDICATORS, 0)
    s.undetermined_indicators = dict.fromkeys(INDICATORS, 0)
    s.classes = dict.fromkeys(CLASS_TITLES, 0)
    for r in records:
        code = r.answers.get("subdistrict")
        name = sub.choice_label(code, "zh") if isinstance(code, str) else NOT_GIVEN
        s.buildings[name] = s.buildings.get(name, 0) + 1
        s.status.setdefault(name, dict.fromkeys(STATUS_ORDER, 0))[r.status] += 1
        s.with_conflicts += r.open_conflicts > 0
        s.possible_duplicates += r.possible_duplicate
        if r.status not in SURVEYED:
            continue
        s.surveyed += 1
        s.surveyed_under_review += r.under_review
        hh = r.answers.get("household_count")
        if isinstance(hh, int) and not isinstance(hh, bool):
            s.households[name] = s.households.get(name, 0) + hh
        else:
            s.without_households += 1
        report = reports[r.code]
        for n in report.needs:
            s.needs[n.category][n.priority - 1] += 1
            s.classes[n.need_class] += 1
        for ind, hit in report.indicators.items():
            s.indicators[ind] += int(hit)
        for ind in undetermined_indicators(report, rules):
            s.undetermined_indicators[ind] += 1
        plan = building_plan(report, rules)
        s.plan_subdistricts.setdefault(name, PlanRow()).add(plan)
        s.plan_eras.setdefault(era_name(form, report), PlanRow()).add(plan)
        s.plan_total.add(plan)
    s.plan_subdistricts = {n: s.plan_subdistricts.get(n, PlanRow()) for n in s.buildings}
    order = [c.label("zh") for c in form.fields["era_bin"].choices] + [NOT_GIVEN]
    s.plan_eras = {e: s.plan_eras[e] for e in order if e in s.plan_eras}
    return s


NOT_GIVEN = "未填"


def era_name(form: Form, report: NeedsReport) -> str:
    """The building's year-built band (``era_bin``, the 2021 housing survey's bins), or 未填
    when the year is not given."""
    era = report.values.get("era_bin")
    return form.fields["era_bin"].choice_label(era, "zh") if isinstance(era, str) else NOT_GIVEN


def counted(n: int, noun: str) -> str:
    """``n`` and an English noun, singular for one: "1 buildings" read as a slip."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def selection_line(zh: str, en: str) -> str:
    """The buildings the report covers, in zh then en like the rest of the report (the header
    gave the English codes only: "subdistrict=guangkai, status=draft")."""
    return f"所选楼栋 selection：{zh} · {en}" if zh != en else f"所选楼栋 selection：{zh}"


def headline(s: DistrictSummary) -> list[str]:
    """The report's counts: households are those of the surveyed buildings, as the needs are,
    and the surveyed buildings without a household count are said (on a second line), not
    silently left out."""
    p1 = s.plan_total
    check = f" + 待核实 needs check {p1.priority1_check}"
    lines = [
        f"楼栋 buildings {sum(s.buildings.values())} · 已完成调查 surveyed {s.surveyed} · "
        f"其户数 their households {sum(s.households.values()):,} · "
        f"有优先级1需求 with a priority-1 need {p1.priority1}"
        + (check if p1.priority1_check else "")
    ]
    if s.without_households:
        n = s.without_households
        lines.append(
            f"其中{n}栋未填户数 {counted(n, 'surveyed building')} without a household count"
        )
    return lines + review_lines(s)


def review_lines(s: DistrictSummary) -> list[str]:
    """What still awaits the supervisor, in zh then en; nothing when nothing does. A report
    printed before the review is finished is not taken for final figures."""
    c, d, k = s.with_conflicts, s.possible_duplicates, s.surveyed_under_review
    if not (c or d):
        return []
    if k:
        zh = f"其中{k}栋已完成调查，计入需求和户数"
        en = f"{k} of them surveyed, counted in the needs and households"
    else:
        zh, en = (
            "均未完成调查，不计入需求和户数",
            "none of them surveyed or in the needs and households",
        )
    return [
        f"待审核：{c}栋有未解决的冲突，{d}栋疑似重复；{zh}。审核完成前以上数字为暂定",
        f"Under review: {counted(c, 'building')} with open conflicts, "
        f"{counted(d, 'possible duplicate')}; {en}. "
        "The figures are provisional until the review is done",
    ]


def needs_review_note(s: DistrictSummary) -> str:
    """Page 2's word on its needs (a page may be read alone): "" when no surveyed building
    awaits review."""
    k = s.surveyed_under_review
    if not k:
        return ""
    return (
        f"需求含{k}栋待审核楼栋（有冲突或疑似重复），审核完成前为暂定。"
        f"The needs include {counted(k, 'building')} under review (open conflicts or possible "
        "duplicates): provisional until the review is done."
    )


NO_DATA = "无数据 no data"


def _count_axis(peak: int) -> tuple[int, int]:
    """(top, step) of a count axis: whole-number steps of 1, 2 or 5 × 10ⁿ, and a top one step
    above the largest bar, so the longest bar never touches the frame."""
    step = 1
    while peak / step > 5:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2  # 1, 2, 5, 10, 20, 50 …
    return (peak // step + 1) * step, step


def _bar(
    width: float,
    height: float,
    data: list[list[int]],
    names: list[str],
    font: str,
    fills: Sequence[Any],
    horizontal: bool = False,
    stacked: bool = False,
    legend: list[tuple[Any, str]] | None = None,
    end_labels: Sequence[str] | None = None,
) -> Drawing:
    """A bar chart of counts; with nothing to count, the words "no data" instead of empty axes
    (reportlab would label them 0, 0.002 … 0.01). ``end_labels``: a text at the end of each
    (stacked) bar, with room kept for it inside the frame."""
    drawing = Drawing(width, height)
    totals = (
        [sum(col) for col in zip(*data, strict=True)] if stacked else [v for s in data for v in s]
    )
    peak = max(totals, default=0)
    if peak <= 0:
        drawing.add(
            String(width / 2, height / 2, NO_DATA, fontName=font, fontSize=10, textAnchor="middle")
        )
        return drawing
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (90, 15) if horizontal else (30, 45)
    room = max((stringWidth(t, font, 7) for t in end_labels or ()), default=0.0)
    chart.width = width - chart.x - 10 - room
    chart.height = height - chart.y - 22  # room for a legend on top
    chart.data = data
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax, chart.valueAxis.valueStep = _count_axis(peak)
    if not horizontal:
        chart.categoryAxis.labels.angle = 35
        chart.categoryAxis.labels.boxAnchor = "ne"
    if stacked:
        chart.categoryAxis.style = "stacked"
    for i, fill in enumerate(fills[: len(data)]):
        chart.bars[i].fillColor = fill
    chart.barLabels.fontName = font
    if end_labels:
        _label_bar_ends(chart, data, list(end_labels), horizontal)
    drawing.add(chart)
    if legend:
        drawing.add(_legend(40, height - 4, legend, font))
    return drawing


def _label_bar_ends(
    chart: HorizontalBarChart | VerticalBarChart,
    data: list[list[int]],
    labels: list[str],
    horizontal: bool,
) -> None:
    """Each bar's label just past its end: the last series' labels, placed at its high end
    (a segment of 0 still ends where the bar does)."""
    last = len(data) - 1
    chart.bars[last].strokeColor = None  # a segment of 0 would draw a line past the bar
    chart.barLabelFormat = [None] * last + ["values"]
    chart.barLabelArray = [[""] * len(labels)] * last + [labels]
    ends = chart.barLabels  # only the last series has texts
    ends.fontSize = 7
    ends.boxTarget = "hi"
    ends.boxAnchor = "w" if horizontal else "s"
    ends.nudge = 3


def _legend(x: float, y: float, items: list[tuple[Any, str]], font: str) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName = font
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = items
    legend.deltax = 95
    return legend


INDICATOR_COLORS = (colors.HexColor("#8e44ad"), colors.HexColor("#d7bde2"))


def indicator_bar_label(hit: int, undetermined: int) -> str:
    """What a bar of the indicator chart says at its end: the buildings with the need, and
    those it could not be decided for ("502 + 187"; the legend names the two)."""
    return f"{hit} + {undetermined}" if undetermined else str(hit)


def _indicator_chart(s: DistrictSummary, width: float, font: str) -> Drawing:
    """城市体检 indicators: buildings with the need, then (pale) the buildings it is
    undetermined for, so an open rule never reads as "no"; each bar says both numbers."""
    inds = list(s.indicators)
    return _bar(
        width,
        220,
        [[s.indicators[i] for i in inds], [s.undetermined_indicators.get(i, 0) for i in inds]],
        [f"{INDICATOR_TITLES[i].zh} {i}" for i in inds],
        font,
        INDICATOR_COLORS,
        horizontal=True,
        stacked=True,
        legend=[
            (INDICATOR_COLORS[0], "有需求 need"),
            (INDICATOR_COLORS[1], "无法判定（待核实）undetermined, needs check"),
        ],
        end_labels=[
            indicator_bar_label(s.indicators[i], s.undetermined_indicators.get(i, 0)) for i in inds
        ],
    )


def draw_report(canvas: Any, s: DistrictSummary, font: str, title: str) -> None:
    """Two A4 pages of charts; ``title`` says which buildings (``selection_line``)."""
    w, h = A4
    m = 15 * mm
    canvas.setFont(font, 16)
    canvas.drawString(m, h - m - 10, "南开区既有住宅普查 · 区级汇总")
    canvas.setFont(font, 9)
    canvas.drawString(
        m,
        h - m - 24,
        f"Nankai District residential census — district report · {date.today().isoformat()}",
    )
    width = w - 2 * m
    under_review = review_lines(s)
    lines = [(text, False) for text in wrap(title, font, 9, width, max_lines=2)]
    lines += [
        (text, line in under_review)
        for line in headline(s)
        for text in wrap(line, font, 9, width, max_lines=3)
    ]
    for i, (line, provisional) in enumerate(lines):
        canvas.setFillColor(REVIEW_COLOR if provisional else colors.black)
        canvas.drawString(m, h - m - 37 - 10 * i, line)
    canvas.setFillColor(colors.black)
    names = list(s.buildings)
    y = h - m - 30 - 10 * len(lines)

    def section(label: str, drawing: Drawing, height: float) -> None:
        nonlocal y
        canvas.setFont(font, 10)
        canvas.drawString(m, y - 12, label)
        renderPDF.draw(drawing, canvas, m, y - 14 - height)
        y -= height + 22

    section(
        "各街道楼栋数 Buildings by sub-district",
        _bar(
            width, 150, [[s.buildings[n] for n in names]], names, font, [colors.HexColor("#337ab7")]
        ),
        150,
    )
    section(
        "各街道户数（已完成调查的楼栋）Households of surveyed buildings by sub-district",
        _bar(
            width,
            150,
            [[s.households.get(n, 0) for n in names]],
            names,
            font,
            [colors.HexColor("#5bc0de")],
        ),
        150,
    )
    progress = _bar(
        width,
        170,
        [[s.status[n][st] for n in names] for st in STATUS_ORDER],
        names,
        font,
        STATUS_COLORS,
        stacked=True,
        legend=[
            (STATUS_COLORS[i], f"{status_label(st, 'zh')} {status_label(st, 'en')}")
            for i, st in enumerate(STATUS_ORDER)
        ],
    )
    section("调查进度 Survey progress", progress, 170)
    _page_footer(canvas, font, 1)
    canvas.showPage()
    y = h - m
    cats = list(s.needs)
    needs = _bar(
        width,
        190,
        [[s.needs[c][p] for c in cats] for p in range(3)],
        [f"{CATEGORY_ZH[c]} {c}" for c in cats],
        font,
        PRIORITY_COLORS,
        stacked=True,
        legend=[(PRIORITY_COLORS[p], f"优先级 priority {p + 1}") for p in range(3)],
    )
    section("改造需求（按类别和优先级）Needs by category and priority", needs, 190)
    section(
        "城市体检住房指标（楼栋数）City-examination housing indicators (buildings)",
        _indicator_chart(s, width, font),
        220,
    )
    classes = list(s.classes)
    section(
        "老旧小区改造类别（需求数）Old-community renovation classes (needs)",
        _bar(
            width * 0.6,
            130,
            [[s.classes[c] for c in classes]],
            [f"{CLASS_TITLES[c].zh} {c}" for c in classes],
            font,
            [colors.HexColor("#16a085")],
        ),
        130,
    )
    canvas.setFont(font, 7)
    _draw_review_note(canvas, font, s, m, width)
    canvas.drawString(
        m,
        m,
        "需求仅统计已完成/已审核记录；普查结论不替代房屋安全鉴定。"
        "Needs count complete/approved records only; a census does not replace a "
        "safety appraisal.",
    )
    _page_footer(canvas, font, 2)
    canvas.showPage()


PAGES = 3

#: Short English names of the categories, for the plan tables' narrow columns.
CATEGORY_SHORT_EN = {
    "safety": "safety",
    "gas": "gas",
    "pipes": "pipes",
    "stairwell": "stairs",
    "energy": "energy",
    "accessibility": "access",
    "housing": "housing",
    "digital": "digital",
}


def wan_m2(m2: float) -> str:
    """Floor area in 万m² (10,000 m²), as Tianjin plans its programmes: "1.23"."""
    return f"{m2 / 10000:,.2f}"


def plan_needs_table(rows: Mapping[str, PlanRow], total: PlanRow) -> list[list[str]]:
    """The firm-needs table's body: per row the surveyed buildings, those with a priority-1
    need, those that may have one (needs check), the floor area and the floor area needing
    each category, in 万m²; the district's total last."""
    return [
        [
            name,
            str(r.surveyed),
            str(r.priority1),
            str(r.priority1_check),
            wan_m2(r.floor_area),
            *(wan_m2(r.need_area[c]) for c in CATEGORY_ZH),
        ]
        for name, r in [*rows.items(), (TOTAL, total)]
    ]


def plan_check_table(rows: Mapping[str, PlanRow], total: PlanRow) -> list[list[str]]:
    """The needs-check table's body: the floor area, in 万m², of buildings with no need of a
    category but a rule of it left undetermined (a check, not a need)."""
    return [
        [name, str(r.surveyed), *(wan_m2(r.check_area[c]) for c in CATEGORY_ZH)]
        for name, r in [*rows.items(), (TOTAL, total)]
    ]


TOTAL = "合计 total"
_CATEGORY_HEADS = [(CATEGORY_ZH[c], CATEGORY_SHORT_EN[c]) for c in CATEGORY_ZH]
NEEDS_HEADS = [
    ("已调查", "surveyed"),
    ("优先级1", "priority 1"),
    ("P1待核实", "P1 check"),
    ("建筑面积", "floor area"),
    *_CATEGORY_HEADS,
]
CHECK_HEADS = [("已调查", "surveyed"), *_CATEGORY_HEADS]


def _draw_table(
    canvas: Any,
    font: str,
    x: float,
    y: float,
    widths: Sequence[float],
    heads: Sequence[tuple[str, str]],
    body: list[list[str]],
) -> float:
    """A plain table: a two-line head (zh over en), names from the left and figures to the
    right, the last row (the total) set off by a rule; returns the y under it."""
    row_h, size = 10.0, 7.0
    canvas.setFont(font, 6.5)
    edges = [x]
    for w in widths:
        edges.append(edges[-1] + w)
    canvas.drawString(x + 1, y - 8, heads[0][0])  # the names' column reads from the left
    canvas.drawString(x + 1, y - 16, heads[0][1])
    for i, (zh, en) in enumerate(heads[1:], start=1):
        canvas.drawRightString(edges[i + 1] - 2, y - 8, zh)
        canvas.drawRightString(edges[i + 1] - 2, y - 16, en)
    y -= 20
    canvas.setLineWidth(0.5)
    canvas.line(x, y, edges[-1], y)
    canvas.setFont(font, size)
    for n, row in enumerate(body):
        if n == len(body) - 1:
            canvas.line(x, y - 1, edges[-1], y - 1)
        name, *cells = row
        canvas.drawString(x + 1, y - 8, wrap(name, font, size, widths[0] - 2, max_lines=1)[0])
        for i, cell in enumerate(cells):
            canvas.drawRightString(edges[i + 2] - 2, y - 8, cell)
        y -= row_h
    canvas.line(x, y, edges[-1], y)
    return y


def draw_plan_page(canvas: Any, s: DistrictSummary, font: str) -> None:
    """Page 3: the plan tables, by 街道 then by year-built band, firm needs then checks."""
    w, h = A4
    m = 15 * mm
    width = w - 2 * m
    first = 26 * mm
    needs_widths = [first, *[(width - first) / (len(NEEDS_HEADS))] * len(NEEDS_HEADS)]
    check_widths = [first, *[(width - first) / (len(CHECK_HEADS))] * len(CHECK_HEADS)]
    y = h - m
    canvas.setFont(font, 12)
    canvas.drawString(
        m, y - 12, "改造计划汇总（已完成调查的楼栋）Retrofit plan (surveyed buildings)"
    )
    canvas.setFont(font, 7)
    note = (
        "楼栋数为栋；面积为建筑面积，单位万m²：有该类需求的楼栋之和。"
        "按最不利假定得出的需求计为需求；无法判定的规则列入「待核实」表，不计入需求。"
        "Counts are buildings; areas are gross floor area in 万m² (10,000 m²) of the buildings "
        "with a need of the category. A need assumed from a worst case counts as a need; a rule "
        "that could not be decided is in the needs-check tables, not in the needs."
    )
    lines = wrap(note, font, 7, width, max_lines=4)
    for i, line in enumerate(lines):
        canvas.drawString(m, y - 24 - 9 * i, line)
    y -= 28 + 9 * len(lines)
    if s.plan_total.without_area:
        n = s.plan_total.without_area
        canvas.drawString(
            m,
            y,
            f"其中{n}栋未填建筑面积，计入楼栋数，不计入面积 "
            f"{counted(n, 'surveyed building')} without a floor area: in the counts, not the areas",
        )
        y -= 9
    groups = [
        (("各街道", "by sub-district"), s.plan_subdistricts, ("街道", "sub-district")),
        (("各建成年代", "by year built"), s.plan_eras, ("建成年代", "year built")),
    ]
    for (zh, en), rows, head in groups:
        canvas.setFont(font, 9)
        canvas.drawString(m, y - 12, f"{zh}需求 Needs {en}")
        body = plan_needs_table(rows, s.plan_total)
        y = _draw_table(canvas, font, m, y - 16, needs_widths, [head, *NEEDS_HEADS], body)
        canvas.setFont(font, 9)
        canvas.drawString(m, y - 14, f"{zh}待核实（无法判定）Needs check {en} (undetermined)")
        body = plan_check_table(rows, s.plan_total)
        y = _draw_table(canvas, font, m, y - 18, check_widths, [head, *CHECK_HEADS], body) - 6
    canvas.setFont(font, 7)
    _draw_review_note(canvas, font, s, m, width)
    _page_footer(canvas, font, 3)
    canvas.showPage()


def _draw_review_note(canvas: Any, font: str, s: DistrictSummary, m: float, width: float) -> None:
    """In two lines above the footer, how many surveyed buildings still await review: pages
    2 and 3 both count needs, and either may be read alone (``needs_review_note``)."""
    note = needs_review_note(s)
    if note:
        canvas.setFillColor(REVIEW_COLOR)
        for i, line in enumerate(wrap(note, font, 7, width, max_lines=2)):
            canvas.drawString(m, m + 20 - 9 * i, line)
        canvas.setFillColor(colors.black)


def _page_footer(canvas: Any, font: str, page: int) -> None:
    """Page number and date at the bottom right, so a loose page is still placed and dated."""
    w, _ = A4
    canvas.setFont(font, 7)
    canvas.drawRightString(
        w - 15 * mm,
        15 * mm - 10,
        f"第{page}/{PAGES}页 page {page} of {PAGES} · {date.today().isoformat()}",
    )


def write_report(path: Path, s: DistrictSummary, font: str, title: str) -> None:
    from reportlab.graphics import shapes
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4, pageCompression=1, initialFontName=font)
    canvas.setTitle("Nankai residential census — district report")
    # Charts start from reportlab's default state font (Helvetica, not embedded); use ours.
    default = shapes.STATE_DEFAULTS["fontName"]
    shapes.STATE_DEFAULTS["fontName"] = font
    try:
        draw_report(canvas, s, font, title)
        draw_plan_page(canvas, s, font)
    finally:
        shapes.STATE_DEFAULTS["fontName"] = default
    canvas.save()


def category_totals(s: DistrictSummary) -> dict[str, int]:
    return {c: sum(v) for c, v in s.needs.items()}


__all__ = [
    "DistrictSummary",
    "category_totals",
    "summarize",
    "undetermined_indicators",
    "write_report",
]
