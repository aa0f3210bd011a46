"""The district report: a short PDF of charts (reportlab graphics) over the selected buildings.

Needs and households are counted over surveyed records (complete or approved) only: a draft's
needs are still changing, and a total must cover the buildings its needs do. Buildings and
survey progress count every selected building.

A report printed before the supervisor's review is finished counts values that may still
change: the headline says how many buildings have open conflicts or possible-duplicate flags,
and how many of them are surveyed ones (counted in the needs and households).
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
from surveyor.retrofit.model import RuleSet

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
        name = sub.choice_label(code, "zh") if isinstance(code, str) else "未填"
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
    return s


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
    lines = [
        f"楼栋 buildings {sum(s.buildings.values())} · 已完成调查 surveyed {s.surveyed} · "
        f"其户数 their households {sum(s.households.values()):,}"
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
    note = needs_review_note(s)
    if note:
        canvas.setFillColor(REVIEW_COLOR)
        for i, line in enumerate(wrap(note, font, 7, width, max_lines=2)):
            canvas.drawString(m, m + 20 - 9 * i, line)
        canvas.setFillColor(colors.black)
    canvas.drawString(
        m,
        m,
        "需求仅统计已完成/已审核记录；普查结论不替代房屋安全鉴定。"
        "Needs count complete/approved records only; a census does not replace a "
        "safety appraisal.",
    )
    _page_footer(canvas, font, 2)
    canvas.showPage()


PAGES = 2


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
