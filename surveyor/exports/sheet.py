"""Drawing the A4 retrofit-need sheet on a reportlab canvas: a page per building, and more
when its needs and open rules do not fit one (nothing is left to "see the data export").

All text is set in the embedded CJK TrueType subset (Latin included), so the page looks the
same on every viewer and printer. The QR code is vector rectangles and carries the building URI
that the app's scanner search resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from surveyor.exports.qr import draw_qr
from surveyor.exports.sheetdata import NeedRow, SheetData
from surveyor.exports.text import fit, wrap
from surveyor.forms.display import status_label

if TYPE_CHECKING:
    from surveyor.exports.sheetlayout import SheetLayout

PAGE_W, PAGE_H = A4
MARGIN = 12 * mm
WIDTH = PAGE_W - 2 * MARGIN
#: The two columns of key facts and element conditions.
COLUMN = (WIDTH - 6) / 2
ELEMENT_TITLE_W = COLUMN * 0.33
#: Text sizes of the lines the layout file words (checked to fit when it is loaded).
DISTRICT_SIZE, TITLE_SIZE, SUBTITLE_SIZE = 9.0, 17.0, 9.5
ELEMENT_TITLE_SIZE = 7.0
SIGNATURE_SIZE, SIGNATURE_PITCH = 6.3, 105.0
DISCLAIMER_ZH_SIZE, DISCLAIMER_EN_SIZE = 7.0, 6.3
#: The English disclaimer shares its line with the form and rule versions.
DISCLAIMER_EN_W = WIDTH - 110
THUMB_W = 38 * mm
#: The footer (photos, inspector, signatures, disclaimer) fills the page below this height.
FOOTER_TOP = MARGIN + 22 + 28 * mm
#: The boxes of defaulted inputs and undetermined rules: their text, and least height.
BOX_SIZE = 6.3
BOX_LEADING = 7.5
MIN_BOX_H = 60.0
ROADMAP_ROW_H = 9.0
GREY = (0.93, 0.93, 0.93)
REVIEW_RED = (0.75, 0.05, 0.05)
PRIORITY_FILL = {1: (0.98, 0.82, 0.80), 2: (1.0, 0.93, 0.78), 3: (0.88, 0.94, 0.86)}


class _Pen:
    """A few drawing helpers bound to one canvas and font."""

    def __init__(self, canvas: Any, font: str) -> None:
        self.c = canvas
        self.font = font

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 8,
        width: float | None = None,
        right: bool = False,
    ) -> None:
        self.c.setFont(self.font, size)
        if width is not None:
            s = fit(s, self.font, size, width)
        if right:
            self.c.drawRightString(x, y, s)
        else:
            self.c.drawString(x, y, s)

    def lines(self, x: float, y: float, lines: list[str], size: float, leading: float) -> float:
        """Draw already wrapped lines downwards from ``y``; returns the baseline after them."""
        self.c.setFont(self.font, size)
        for line in lines:
            self.c.drawString(x, y, line)
            y -= leading
        return y

    def heading(self, x: float, y: float, zh: str, en: str, width: float) -> None:
        self.c.setFillColorRGB(*GREY)
        self.c.rect(x, y - 2, width, 11, stroke=0, fill=1)
        self.c.setFillColorRGB(0, 0, 0)
        self.text(x + 2, y + 1, f"{zh}  {en}", 8.5)


def fixed_lines(layout: SheetLayout) -> list[tuple[tuple[str | int, ...], str, float, float]]:
    """Each line the layout file words, as (its key, text, size, the width it must fit).

    They are printed on one line each and cut when too long, so the loader refuses a layout
    whose line would be cut; the widths are the ones the drawing below uses.
    """
    header, text_w = layout.header, _header_text_width(layout)
    lines: list[tuple[tuple[str | int, ...], str, float, float]] = [
        (("header", "district"), _district(layout), DISTRICT_SIZE, text_w),
        (("header", "title", "zh"), header.title.zh, TITLE_SIZE, text_w),
        (("header", "title", "en"), header.title.en, SUBTITLE_SIZE, text_w),
        (("disclaimer", "zh"), layout.disclaimer.zh, DISCLAIMER_ZH_SIZE, WIDTH),
        (("disclaimer", "en"), layout.disclaimer.en, DISCLAIMER_EN_SIZE, DISCLAIMER_EN_W),
    ]
    for i, element in enumerate(layout.elements):
        title = f"{element.title.zh} {element.title.en}"
        lines.append((("elements", i, "title"), title, ELEMENT_TITLE_SIZE, ELEMENT_TITLE_W))
    for i, signature in enumerate(layout.signatures):
        lines.append(
            (
                ("signatures", i),
                _signature(signature.zh, signature.en),
                SIGNATURE_SIZE,
                SIGNATURE_PITCH - 10,
            )
        )
    return lines


def _header_text_width(layout: SheetLayout) -> float:
    """The header's text runs beside the QR."""
    return float(WIDTH - layout.qr_mm * mm - 4)


def _district(layout: SheetLayout) -> str:
    return f"{layout.header.district.zh} · {layout.header.district.en}"


def _signature(zh: str, en: str) -> str:
    return f"{zh} {en} / 日期 date"


def draw_sheet(canvas: Any, data: SheetData, font: str, layout: SheetLayout) -> int:
    """Draw one building's sheet: one page, or more when its needs or open rules do not fit
    one (each later page repeats the QR, code and address). The caller calls ``showPage``
    after the last page (so many sheets can share one PDF); returns the number of pages."""
    pen = _Pen(canvas, font)
    top = PAGE_H - MARGIN
    y = _header(pen, data, layout, top)
    y = _facts_and_conditions(pen, data, y, WIDTH)
    rows = _need_rows(pen, data, WIDTH)
    roadmap = _roadmap_rows(pen, data, WIDTH)
    roadmap_h = 11 + sum(_cells_height(wrapped, ROADMAP_ROW_H) for _, wrapped in roadmap) + 2
    blocks = _box_blocks(pen, data)
    pages = plan_pages(
        [height for *_, height in rows],
        NEED_ROW_H if data.needs_note else 0.0,
        roadmap_h,
        [[len(b) for b in box] for box in blocks],
        (y, FOOTER_TOP + 8),
        (_continuation_top(pen, data, layout, top), CONTINUATION_FLOOR),
    )
    for number, parts in enumerate(pages, 1):
        if number > 1:
            canvas.showPage()
            _continuation_header(pen, data, layout, top, number, len(pages))
        if len(pages) > 1:
            _page_mark(pen, layout, top, number, len(pages))
        for part in parts:
            if isinstance(part, NeedsPart):
                _needs(pen, data, rows, part, number + 1)
            elif isinstance(part, RoadmapPart):
                end = _roadmap(pen, part.y, WIDTH, roadmap)
                if part.more:
                    pen.text(MARGIN + 2, end + 2, _boxes_follow(number + 1), 7)
            else:
                _boxes(pen, data, blocks, part, number + 1)
        if number == 1:
            _footer(pen, data, layout)
        else:
            _disclaimer(pen, data, layout)
    return len(pages)


# ---------------------------------------------------------------- pages
#: Text of later pages reaches down to here (the disclaimer is below it).
CONTINUATION_FLOOR = MARGIN + 24
NEED_ROW_H = 9.2
#: From a section's top baseline to its table's first column heads.
SECTION_HEAD = 11.0


@dataclass(frozen=True)
class NeedsPart:
    """Needs rows ``start:end`` at ``y``; ``more``: the rest follow on the next page."""

    y: float
    start: int
    end: int
    note: bool
    more: bool


@dataclass(frozen=True)
class RoadmapPart:
    """The roadmap at ``y``; ``more``: the boxes follow on the next page."""

    y: float
    more: bool = False


@dataclass(frozen=True)
class BoxesPart:
    """The two boxes from ``y`` down to ``bottom``: for each, the items ``(start, end)`` shown
    here, or None when the box has nothing (left) on this page; ``continued`` per box."""

    y: float
    bottom: float
    items: tuple[tuple[int, int] | None, ...]
    continued: tuple[bool, ...]


Part = NeedsPart | RoadmapPart | BoxesPart


def plan_pages(
    row_heights: list[float],
    note_h: float,
    roadmap_h: float,
    box_items: list[list[int]],
    first: tuple[float, float],
    later: tuple[float, float],
) -> list[list[Part]]:
    """Where the needs, the roadmap and the two boxes go, page by page.

    ``first`` and ``later`` are (top, floor) of the space below the first page's condition
    table and below a later page's short header. A sheet stays one page when its needs leave
    room for the roadmap and boxes of at least ``MIN_BOX_H`` and every box item fits; otherwise
    the needs go on to the next page (each cut marked), then the roadmap (which names the needs,
    so it always follows the last of them), then the boxes, whose items continue likewise.
    ``box_items`` are the line counts of each box's items.
    """
    pages: list[list[Part]] = []
    row = 0
    needs_done = roadmap_done = False
    box_at = [0 for _ in box_items]
    boxes_started = False
    y, floor = first
    while True:
        parts: list[Part] = []
        if not needs_done:
            rest = row_heights[row:]
            room = y - SECTION_HEAD - floor
            tail = sum(rest) + note_h
            boxes_fit = tail <= room - MIN_BOX_H - roadmap_h
            roadmap_fits = tail <= room - roadmap_h - NEED_ROW_H
            if boxes_fit or roadmap_fits or tail <= room - NEED_ROW_H:
                end = len(row_heights)
            else:
                end = row + max(fitting(rest, room - NEED_ROW_H, 0), 1 if pages else 0)
            more = not (boxes_fit or roadmap_fits)
            note = end == len(row_heights) and note_h > 0
            parts.append(NeedsPart(y, row, end, note, more))
            used = sum(row_heights[row:end]) + NEED_ROW_H * (int(note) + int(more))
            y -= SECTION_HEAD + NEED_ROW_H + used + 2
            needs_done, row = end == len(row_heights), end
            if more:
                pages.append(parts)
                y, floor = later
                continue
            if not boxes_fit:  # the roadmap ends this page; the boxes start the next
                parts.append(RoadmapPart(y, more=True))
                roadmap_done = True
                pages.append(parts)
                y, floor = later
                continue
        if not roadmap_done:
            parts.append(RoadmapPart(y))
            y -= roadmap_h
            roadmap_done = True
        slots = int((y - 18 - (floor + 3)) // BOX_LEADING) + 1
        shown: list[tuple[int, int] | None] = []
        for i, items in enumerate(box_items):
            start = box_at[i]
            if boxes_started and start == len(items):
                shown.append(None)  # this box ended on an earlier page
                continue
            end = start + fitting([float(n) for n in items[start:]], slots, 1)
            shown.append((start, end))
            box_at[i] = end
        parts.append(BoxesPart(y, floor, tuple(shown), tuple([boxes_started] * len(shown))))
        pages.append(parts)
        if all(at == len(items) for at, items in zip(box_at, box_items, strict=True)):
            return pages
        boxes_started = True
        y, floor = later


def _page_mark(pen: _Pen, layout: SheetLayout, top: float, number: int, pages: int) -> None:
    """The page ("第2页/共3页 page 2 of 3") above the QR, on every page of a longer sheet."""
    pen.text(MARGIN + WIDTH, top + 4, _page_words(number, pages), 7, right=True)


def _page_words(number: int, pages: int) -> str:
    return f"第{number}页/共{pages}页 page {number} of {pages}"


def _continuation_lines(
    pen: _Pen, d: SheetData, layout: SheetLayout
) -> tuple[list[str], list[str]]:
    text_w = _header_text_width(layout)
    place = f"{d.subdistrict} · {d.community} · {d.compound}"
    return _wrap(pen, place, 11, text_w, f" {d.building_no}"), _wrap(pen, d.address, 9, text_w)


def _continuation_top(pen: _Pen, d: SheetData, layout: SheetLayout, top: float) -> float:
    """Where a later page's content starts, below its short header."""
    place, address = _continuation_lines(pen, d, layout)
    y = top - 30 - 13 * len(place) + 1 - 11 * len(address)  # the code line, as drawn below
    y = _review(pen, d, y, _header_text_width(layout), draw=False)
    return float(min(top - layout.qr_mm * mm - 22, y - 13))


def _header_qr(pen: _Pen, d: SheetData, layout: SheetLayout, top: float) -> None:
    """The building's QR at the top right with its code under it, on every page."""
    qr_size = layout.qr_mm * mm
    qr_x = MARGIN + WIDTH - qr_size
    draw_qr(pen.c, d.uri, qr_x, top - qr_size, qr_size)
    pen.text(
        qr_x + qr_size / 2 - stringWidth(d.code, pen.font, 8) / 2, top - qr_size - 8, d.code, 8
    )


def _continuation_header(
    pen: _Pen, d: SheetData, layout: SheetLayout, top: float, number: int, pages: int
) -> None:
    """A later page's header: the QR and code again, the place and address, the page."""
    _header_qr(pen, d, layout, top)
    text_w = _header_text_width(layout)
    title = layout.header.title
    pen.text(MARGIN, top - 12, f"{title.zh}（续） {title.en}, continued", 11, text_w)
    place, address = _continuation_lines(pen, d, layout)
    y = pen.lines(MARGIN, top - 30, place, 11, 13)
    y = pen.lines(MARGIN, y + 1, address, 9, 11)
    pen.text(MARGIN, y, f"楼栋编码 Code: {d.code}    {_page_words(number, pages)}", 9, text_w)
    _review(pen, d, y, text_w)


def _header(pen: _Pen, d: SheetData, layout: SheetLayout, top: float) -> float:
    _header_qr(pen, d, layout, top)
    qr_size = layout.qr_mm * mm
    text_w = _header_text_width(layout)
    pen.text(MARGIN, top - 10, _district(layout), DISTRICT_SIZE, text_w)
    pen.text(MARGIN, top - 28, layout.header.title.zh, TITLE_SIZE, text_w)
    pen.text(MARGIN, top - 41, layout.header.title.en, SUBTITLE_SIZE, text_w)
    # Long names wrap, and the building number, code and status always stay whole: they are
    # what identifies the sheet, so the names are cut instead.
    place = f"{d.subdistrict} · {d.community} · {d.compound}"
    y = pen.lines(MARGIN, top - 57, _wrap(pen, place, 11, text_w, f" {d.building_no}"), 11, 13)
    y = pen.lines(MARGIN, y + 1, _wrap(pen, d.address, 9, text_w), 9, 11)
    status = f"{status_label(d.status, 'zh')} {status_label(d.status, 'en')}"
    pen.text(MARGIN, y, f"楼栋编码 Code: {d.code}    状态 Status: {status}", 9, text_w)
    y = _review(pen, d, y, text_w)
    flags = "；".join(d.flags) if d.flags else "—"
    y = pen.lines(
        MARGIN, y - 12, _wrap(pen, f"标记与提示 Flags, notes: {flags}", 7.5, text_w), 7.5, 9
    )
    return float(min(top - qr_size - 22, y - 4))


REVIEW_SIZE, REVIEW_LEADING = 8.0, 9.5


def _review(pen: _Pen, d: SheetData, y: float, width: float, draw: bool = True) -> float:
    """What awaits a supervisor, in red under the code and status line at ``y`` (open
    conflicts, a possible duplicate), on every page; returns the baseline of its last line
    (``y`` when nothing awaits review). ``draw=False`` only measures."""
    if draw and d.review:
        pen.c.setFillColorRGB(*REVIEW_RED)
    for item in d.review:
        lines = _wrap(pen, item, REVIEW_SIZE, width)
        if draw:
            pen.lines(MARGIN, y - 11, lines, REVIEW_SIZE, REVIEW_LEADING)
        y -= 11 + REVIEW_LEADING * (len(lines) - 1)
    if draw and d.review:
        pen.c.setFillColorRGB(0, 0, 0)
    return y


def _wrap(pen: _Pen, text: str, size: float, width: float, keep: str = "") -> list[str]:
    """Header text on at most two lines."""
    return wrap(text, pen.font, size, width, 2, keep)


def _facts_and_conditions(pen: _Pen, d: SheetData, y: float, width: float) -> float:
    col = COLUMN
    left, right = MARGIN, MARGIN + col + 6
    pen.heading(left, y, "基本情况", "Key facts", col)
    pen.heading(right, y, "部位状况", "Element conditions", col)
    row_h = 9.6
    yy = y - row_h - 1
    for zh, en, value in d.facts:
        cells = [
            (left + 2, col * 0.52, f"{zh} {en}", 6.8),
            (left + col * 0.54, col * 0.45, value, 7.2),
        ]
        yy -= _draw_cells(pen, yy, cells, _wrap_cells(pen, cells), row_h)
    facts_h = y - row_h - 1 - yy
    y_facts = yy
    yy = y - row_h - 1
    # Each element's answers take one or two lines under its name; elements spread out to
    # match the facts column when they need less.
    descs = [wrap(cond.text, pen.font, 6, col - 4, 2) for cond in d.conditions]
    heights = [7.2 + 6.6 * len(lines) + 1.2 for lines in descs]
    spare = max(facts_h - sum(heights), 0) / max(len(heights), 1)
    for cond, lines, height in zip(d.conditions, descs, heights, strict=True):
        zh, en, grade, label = cond.title_zh, cond.title_en, cond.grade, cond.label
        if grade >= 2 and cond.applies:  # the highlight spans the grade's words, 2 pt either side
            mark = stringWidth(label, pen.font, 6.8) + 4
            pen.c.setFillColorRGB(*PRIORITY_FILL[1 if grade == 3 else 2])
            pen.c.rect(right + col - mark, yy - 2, mark, 9, stroke=0, fill=1)
            pen.c.setFillColorRGB(0, 0, 0)
        pen.text(right + 2, yy, f"{zh} {en}", ELEMENT_TITLE_SIZE, ELEMENT_TITLE_W)
        pen.lines(right + 2, yy - 7.2, lines, 6, 6.6)
        pen.text(right + col - 2, yy, label, 6.8, right=True)
        yy -= height + spare
    return min(y_facts, yy + spare) - 4


def _need_rows(
    pen: _Pen, d: SheetData, width: float
) -> list[tuple[NeedRow, list[Cell], list[list[str]], float]]:
    """Each need's cells, wrapped, and its height."""
    cols = NEED_COLUMNS
    rows = []
    for row in d.needs:
        cells = [
            (MARGIN + cols[1] + 1, cols[2] - cols[1] - 2, row.rule_id, 7.0),
            (MARGIN + cols[2] + 1, cols[3] - cols[2] - 3, f"{row.title_zh} {row.title_en}", 6.8),
            (MARGIN + cols[3] + 1, cols[4] - cols[3] - 2, row.need_class, 6.8),
            (MARGIN + cols[4] + 1, cols[5] - cols[4] - 2, row.indicator, 6.5),
            (
                MARGIN + cols[5] + 1,
                cols[6] - cols[5] - 3,
                f"{row.source_status} {row.source_text}",
                6.2,
            ),
            (MARGIN + cols[6] + 1, width - cols[6] - 2, row.estimate, 6.2),
        ]
        wrapped = _wrap_cells(pen, cells)
        rows.append((row, cells, wrapped, _cells_height(wrapped, NEED_ROW_H)))
    return rows


NEED_COLUMNS = (0, 16, 40, 190, 218, 272, 400)
NEED_HEADS = ("优先", "编号", "需求 Need", "类别", "城市体检指标", "依据 Source", "估算 Estimate")


def _needs(
    pen: _Pen,
    d: SheetData,
    rows: list[tuple[NeedRow, list[Cell], list[list[str]], float]],
    part: NeedsPart,
    next_page: int,
) -> None:
    """The needs table's rows ``part.start:part.end``; rows before them were on an earlier
    page, rows after them follow on ``next_page``."""
    counts = " ".join(f"{k}{v}" for k, v in d.class_counts.items()) or "—"
    continued = "（续）" if part.start else ""
    pen.heading(
        MARGIN,
        part.y,
        f"改造需求（按优先级）{continued}",
        f"Retrofit needs by priority — classes B/W/T {counts}"
        + (", continued" if part.start else ""),
        WIDTH,
    )
    yy = part.y - SECTION_HEAD
    for x, h in zip(NEED_COLUMNS, NEED_HEADS, strict=True):
        pen.text(MARGIN + x + 1, yy, h, 6.5)
    yy -= NEED_ROW_H
    for row, cells, wrapped, height in rows[part.start : part.end]:
        pen.c.setFillColorRGB(*PRIORITY_FILL[row.priority])
        pen.c.rect(MARGIN, yy - height + NEED_ROW_H - 2.2, 14, height - 0.8, stroke=0, fill=1)
        pen.c.setFillColorRGB(0, 0, 0)
        pen.text(MARGIN + 5, yy, str(row.priority), 7)
        yy -= _draw_cells(pen, yy, cells, wrapped, NEED_ROW_H)
    if part.note:
        pen.text(MARGIN + 2, yy, d.needs_note, 7.5, WIDTH - 4)
        yy -= NEED_ROW_H
    if part.more:
        rest = len(rows) - part.end
        said = (
            f"另有{rest}项，见第{next_page}页 {rest} more on page {next_page}"
            if rest
            else f"分步改造路线、默认输入及待核实事项见第{next_page}页 "
            f"Roadmap, defaulted inputs and open items on page {next_page}"
        )
        pen.text(MARGIN + 2, yy, said, 7)


def _boxes_follow(page: int) -> str:
    return f"默认输入及待核实事项见第{page}页 Defaulted inputs and open items on page {page}"


#: One cell of a table row: x, width, text, font size. Cells wrap to two lines.
Cell = tuple[float, float, str, float]
ROW_LEADING = 7.2  # between the two lines of one table row


def _wrap_cells(pen: _Pen, cells: list[Cell]) -> list[list[str]]:
    return [wrap(text, pen.font, size, w, 2) for _, w, text, size in cells]


def _cells_height(wrapped: list[list[str]], row_h: float) -> float:
    """A row's height: one line, or two when a cell wraps."""
    return row_h + ROW_LEADING * (max((len(lines) for lines in wrapped), default=1) - 1)


def _draw_cells(
    pen: _Pen, y: float, cells: list[Cell], wrapped: list[list[str]], row_h: float
) -> float:
    """Draw a row whose first baseline is ``y``; returns its height."""
    for (x, _, _, size), lines in zip(cells, wrapped, strict=True):
        pen.lines(x, y, lines, size, ROW_LEADING)
    return _cells_height(wrapped, row_h)


def fitting(heights: list[float], room: float, count_line: float) -> int:
    """How many blocks (rows, items) to show in ``room``: all when they fit; otherwise as many
    as leave ``count_line`` for the line that counts the rest, so that line never stands where
    the last block itself would have fit."""
    if sum(heights) <= room:
        return len(heights)
    used = 0.0
    for i, height in enumerate(heights):
        if used + height > room - count_line:
            return i
        used += height
    return len(heights)


def _roadmap_rows(
    pen: _Pen, d: SheetData, width: float
) -> list[tuple[list[Cell], list[list[str]]]]:
    rows = []
    for title, low, capital in d.roadmap:
        cells = [
            (MARGIN + 2, 200, title, 6.8),
            (MARGIN + 205, 120, f"低成本 {low}", 6.8),
            (MARGIN + 330, width - 332, f"投资 {capital}", 6.8),
        ]
        rows.append((cells, _wrap_cells(pen, cells)))
    return rows


def _roadmap(
    pen: _Pen, y: float, width: float, rows: list[tuple[list[Cell], list[list[str]]]]
) -> float:
    pen.heading(MARGIN, y, "分步改造路线", "Staged roadmap (low/no-cost | capital)", width)
    yy = y - 11
    for cells, wrapped in rows:
        yy -= _draw_cells(pen, yy, cells, wrapped, ROADMAP_ROW_H)
    return yy - 2


BOX_TITLES = (
    ("默认/假定输入", "Defaulted inputs"),
    ("待核实（信息不详）", "Undetermined, needs check"),
)


def _box_columns() -> tuple[float, float]:
    """A box's width and the width of its text."""
    col = (WIDTH - 6) / 2
    return col, col - 8


def _box_blocks(pen: _Pen, d: SheetData) -> list[list[list[str]]]:
    """Each box's items, each wrapped to two lines at most."""
    width = _box_columns()[1]
    return [
        [wrap(item, pen.font, BOX_SIZE, width, 2) for item in items]
        for items in (d.defaulted, d.undetermined)
    ]


def _boxes(
    pen: _Pen, d: SheetData, blocks: list[list[list[str]]], part: BoxesPart, next_page: int
) -> None:
    """The defaulted-inputs and undetermined boxes side by side, from ``part.y`` down to
    ``part.bottom``, each with its items of this page."""
    col, _ = _box_columns()
    y, bottom = part.y, part.bottom
    for i, shown in enumerate(part.items):
        if shown is None:
            continue
        x = MARGIN + i * (col + 6)
        zh, en = BOX_TITLES[i]
        if part.continued[i]:
            zh, en = f"{zh}（续）", f"{en}, continued"
        pen.c.setLineWidth(0.5)
        pen.c.rect(x, bottom, col, y - bottom, stroke=1, fill=0)
        pen.text(x + 3, y - 9, f"{zh}  {en}", 7.5, col - 6)
        start, end = shown
        items = blocks[i]
        if not items:
            lines = [d.empty_boxes[i]]
        else:
            lines = [line for block in items[start:end] for line in block]
            rest = len(items) - end
            if rest:
                lines.append(more_line(rest, next_page))
        pen.lines(x + 4, y - 18, lines, BOX_SIZE, BOX_LEADING)


def more_line(rest: int, page: int) -> str:
    """The last line of a box whose other items continue on ``page``."""
    return f"…另有{rest}项，见第{page}页 (+{rest} more on page {page})"


def _footer(pen: _Pen, d: SheetData, layout: SheetLayout) -> None:
    c = pen.c
    width = WIDTH
    base = MARGIN + 22
    thumb_w, thumb_h = THUMB_W, FOOTER_TOP - base
    for i in range(layout.photos.count):
        x = MARGIN + i * (thumb_w + 4)
        c.setLineWidth(0.4)
        c.rect(x, base, thumb_w, thumb_h, stroke=1, fill=0)
        if i < len(d.photos):
            try:
                c.drawImage(
                    d.photos[i],
                    x + 1,
                    base + 1,
                    thumb_w - 2,
                    thumb_h - 2,
                    preserveAspectRatio=True,
                    anchor="c",
                )
            except (OSError, ValueError):
                pen.text(x + 4, base + thumb_h / 2, "照片无法读取 photo unreadable", 6.5)
        else:
            pen.text(x + 4, base + thumb_h / 2, "无照片 no photo", 6.5)
    sx = MARGIN + layout.photos.count * (thumb_w + 4) + 6
    pen.text(
        sx, base + thumb_h - 8, f"调查人 Inspector: {d.inspector or '—'}", 8, MARGIN + width - sx
    )
    pen.text(sx, base + thumb_h - 20, f"调查日期 Survey date: {d.survey_date or '—'}", 8)
    c.setLineWidth(0.5)
    for i, signature in enumerate(layout.signatures):
        lx = sx + i * SIGNATURE_PITCH
        c.line(lx, base + 4, lx + SIGNATURE_PITCH - 10, base + 4)
        pen.text(lx, base - 4, _signature(signature.zh, signature.en), SIGNATURE_SIZE)
    _disclaimer(pen, d, layout)


def _disclaimer(pen: _Pen, d: SheetData, layout: SheetLayout) -> None:
    """The disclaimer and the versions at the foot of every page."""
    pen.text(MARGIN, MARGIN + 10, layout.disclaimer.zh, DISCLAIMER_ZH_SIZE, WIDTH)
    pen.text(MARGIN, MARGIN + 2, layout.disclaimer.en, DISCLAIMER_EN_SIZE, DISCLAIMER_EN_W)
    pen.text(MARGIN + WIDTH, MARGIN + 2, d.versions, 5.8, right=True)
