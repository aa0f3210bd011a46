"""QR label sheets whose geometry is data (``exports/*.yaml``), with calibration offsets.

A label carries the QR (the building URI the app's scanner search understands), the printed
code under the eye, the address and, once the survey is complete, its date and need classes.
The QR must stay at least 18 mm across (the smallest size that still decoded from a 150 dpi
bilevel render) and a label at least 20 mm high; a layout that breaks either is refused when
loaded.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from reportlab.lib.units import mm

from surveyor.exports.layoutfile import LayoutError, available, layout_file, validated
from surveyor.exports.qr import QUIET_ZONE, draw_qr, qr_ops
from surveyor.exports.text import text_width, wrap
from surveyor.forms.model import Localized
from surveyor.retrofit.derive import NeedsReport
from surveyor.store.ids import building_uri

DEFAULT_LABEL_LAYOUT = "a4_3x8"
MIN_QR_MM = 18.0
MIN_LABEL_HEIGHT_MM = 20.0
TEXT_SIZE = 6.4  # points, the lines beside the QR
LEADING = 8.0
#: The code beside the QR shrinks to fit its column, but never below this size (points): still
#: read off a 203 dpi thermal label (13 dots to the em), and the widest code at it fits the
#: common 40 x 20 mm thermal stock beside an 18 mm QR.
MIN_CODE_PT = 4.8
CODE_SIZE = 8.2
#: Width in em of the widest code, "NK-WWWWW-WWWWW", in wqy-microhei (the packaged font; a test
#: keeps this in step with it): most codes are narrower (~8 em).
WIDEST_CODE_EM = 10.8
#: Gap between the QR and the text beside it (mm).
TEXT_GAP_MM = 1.5
#: Most laser and inkjet printers leave the outer ~4 mm of a sheet unprinted; a layout says
#: otherwise with ``printer_margin_mm``. A page that is one label is a roll printer's, which
#: prints to the edge: 0 unless the layout says.
PRINTER_MARGIN_MM = 4.0
#: How far a line's glyphs reach below its baseline (wqy-microhei's descent at TEXT_SIZE).
DESCENT = 1.6
#: From the top of the text to the first line under the code (the code's line is above it).
FIRST_LINE = 18.0
CODE_UNDER_SIZE = 5.5


@dataclass(frozen=True)
class Box:
    """A rectangle in points on the page: where a label's text goes."""

    left: float
    bottom: float
    right: float
    top: float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageSize(_Strict):
    width_mm: float = Field(gt=0, le=1000)
    height_mm: float = Field(gt=0, le=1000)


class LabelSize(_Strict):
    width_mm: float = Field(gt=0)
    height_mm: float = Field(ge=MIN_LABEL_HEIGHT_MM)


class Grid(_Strict):
    columns: int = Field(ge=1, le=20)
    rows: int = Field(ge=1, le=40)
    left_mm: float = Field(ge=0)
    top_mm: float = Field(ge=0)
    pitch_x_mm: float = Field(gt=0)
    pitch_y_mm: float = Field(gt=0)


class Calibration(_Strict):
    offset_x_mm: float = Field(ge=-20, le=20)
    offset_y_mm: float = Field(ge=-20, le=20)


class LabelLayout(_Strict):
    layout: str
    title: Localized
    page: PageSize
    label: LabelSize
    grid: Grid
    qr_mm: float = Field(ge=MIN_QR_MM)
    padding_mm: float = Field(ge=0, le=10)
    calibration: Calibration
    printer_margin_mm: float | None = Field(default=None, ge=0, le=10)

    @model_validator(mode="after")
    def _title_aligns_in_the_app(self) -> LabelLayout:
        """The app's export dialog lists stocks by title; an East-Asian ambiguous-width
        character ("×") is one column wide to some terminals and two to others, and shifted the
        dialog's lines at 80 columns (the catalog's strings are held to the same rule)."""
        for lang in ("zh", "en"):
            odd = ambiguous_width(self.title.get(lang))
            if odd:
                chars = " ".join(repr(c) for c in odd)
                raise LayoutError(("title", lang), "layout.title_ambiguous", chars=chars)
        return self

    @model_validator(mode="after")
    def _fits(self) -> LabelLayout:
        """The QR fits the label, the text beside it has room, labels do not overlap, and what
        is printed stays on the page."""
        if self.qr_mm + 2 * self.padding_mm > min(self.label.width_mm, self.label.height_mm) + 0.01:
            raise LayoutError(("qr_mm",), "layout.qr_too_big")
        self._text_column_fits()
        g, size = self.grid, self.label
        for key, pitch, extent, count, name in (
            ("pitch_x_mm", g.pitch_x_mm, size.width_mm, g.columns, "width_mm"),
            ("pitch_y_mm", g.pitch_y_mm, size.height_mm, g.rows, "height_mm"),
        ):
            if count > 1 and pitch < extent - 0.01:
                raise LayoutError(
                    ("grid", key),
                    "layout.labels_overlap",
                    pitch=f"{pitch:g}",
                    name=name,
                    extent=f"{extent:g}",
                )
        right = g.left_mm + (g.columns - 1) * g.pitch_x_mm + size.width_mm
        bottom = g.top_mm + (g.rows - 1) * g.pitch_y_mm + size.height_mm
        if right > self.page.width_mm + 0.01 or bottom > self.page.height_mm + 0.01:
            raise LayoutError(("grid",), "layout.grid_off_page")
        # Calibration shifts the whole grid; stock without margins (a4_3x8) puts the label's
        # edge off the page at any offset, so judge by what is printed: the label inside its
        # padding.
        pad = self.padding_mm
        for key, low, high, extent, shift in (
            ("offset_x_mm", g.left_mm + pad, right - pad, self.page.width_mm, 1),
            ("offset_y_mm", g.top_mm + pad, bottom - pad, self.page.height_mm, -1),
        ):
            offset = getattr(self.calibration, key)
            on_page = low + shift * offset >= -0.01 and high + shift * offset <= extent + 0.01
            if not on_page:
                lo, hi = sorted((-low * shift, (extent - high) * shift))
                raise LayoutError(
                    ("calibration", key),
                    "layout.calibration_off_page",
                    offset=f"{offset:g}",
                    low=f"{lo:g}",
                    high=f"{hi:g}",
                )
        self._code_under_qr_fits()
        return self

    def _text_column_fits(self) -> None:
        """The column beside the QR holds the code at ``MIN_CODE_PT`` (and so a building number
        of the form's 10 characters on two lines). A 35 mm label with a 30 mm QR left -1.5 mm:
        it passed, and printed mirrored text at a negative size, the number gone."""
        have = self.text_column[1] / mm
        need = min_text_column_mm()
        if have < need - 0.01:
            raise LayoutError(
                ("qr_mm",),
                "layout.text_column",
                have=f"{have:.1f}",
                gap=f"{TEXT_GAP_MM:g}",
                need=f"{need:.1f}",
                pt=f"{MIN_CODE_PT:g}",
            )

    def _code_under_qr_fits(self) -> None:
        """Wherever the code is printed under the QR, the widest code fits there at
        ``MIN_CODE_PT``: it is the label's permanent id, read off it when the QR will not scan,
        and under an 18 mm QR it was cut to "NK-WWWWW-WW…"."""
        need = min_text_column_mm()
        for index in range(self.per_page):
            place = self.under_qr(*self.origin(index), self.text_box(index)[0])
            if place is not None and place[2] / mm < need - 0.01:
                raise LayoutError(
                    ("qr_mm",),
                    "layout.code_under_qr",
                    layout=self.layout,
                    have=f"{place[2] / mm:.1f}",
                    need=f"{need:.1f}",
                    pt=f"{MIN_CODE_PT:g}",
                )

    def under_qr(self, x: float, y: float, box: Box) -> tuple[float, float, float] | None:
        """(left, baseline, width) in points of the code printed under the QR of the label at
        (x, y) whose text goes in ``box``; None when the label has no room under its QR. It may
        run on under half the gap beside the QR: the widest code at ``MIN_CODE_PT`` is a little
        wider than an 18 mm QR, and the other half keeps it apart from the text column."""
        pad = self.padding_mm * mm
        baseline = y + self.label.height_mm * mm - pad - self.qr_mm * mm - 6
        # In the padding, or, near the sheet's edge, above the printer's margin.
        if baseline < (box.bottom if box.bottom > y + pad + 0.01 else y + 1):
            return None
        return box.left, baseline, x + self.text_column[0] - TEXT_GAP_MM * mm / 2 - box.left

    @property
    def per_page(self) -> int:
        return self.grid.columns * self.grid.rows

    @property
    def text_column(self) -> tuple[float, float]:
        """(x from the label's left edge, width) of the text beside the QR, in points."""
        x = (self.padding_mm + self.qr_mm + TEXT_GAP_MM) * mm
        return x, self.label.width_mm * mm - self.padding_mm * mm - x

    @property
    def margin_mm(self) -> float:
        """The printer's unprintable margin: ``printer_margin_mm``, else 4 mm for a sheet of
        labels and 0 for a page that is one label (a roll printer prints to its edge)."""
        if self.printer_margin_mm is not None:
            return self.printer_margin_mm
        roll = self.per_page == 1 and (self.page.width_mm, self.page.height_mm) == (
            self.label.width_mm,
            self.label.height_mm,
        )
        return 0.0 if roll else PRINTER_MARGIN_MM

    def text_box(self, index: int) -> tuple[Box, tuple[str, ...]]:
        """Where the text of the label at ``index`` goes: the label inside its padding, kept
        ``printer_margin_mm`` from the sheet's edges where the label leaves room for that (a
        4 mm margin still leaves the code its ``MIN_CODE_PT`` and the code and number their
        lines); and the edges ("left", "bottom", ...) where it does not, said by
        ``margin_edges``. Edge-to-edge stock (a4_3x8) printed its outer labels' text 2.5 mm
        from the sheet's edge, where most laser printers print nothing."""
        x, y = self.origin(index)
        pad, margin = self.padding_mm * mm, self.margin_mm * mm
        width, height = self.label.width_mm * mm, self.label.height_mm * mm
        page_w, page_h = self.page.width_mm * mm, self.page.height_mm * mm
        label = Box(x + pad, y + pad, x + width - pad, y + height - pad)
        if margin <= 0:
            return label, ()
        missed: list[str] = []
        column = x + self.text_column[0]
        right = min(label.right, page_w - margin)
        if right - column < min_text_column_mm() * mm - 0.01:
            right, missed = label.right, [*missed, "right"]
        top, bottom = min(label.top, page_h - margin), max(label.bottom, margin + DESCENT)
        if top - bottom < FIRST_LINE + LEADING:  # the code and the number's line
            top, bottom, missed = label.top, label.bottom, [*missed, "top", "bottom"]
        left = max(label.left, margin)
        if left > x + pad + self.qr_mm * mm / 2:  # the code under the QR would lose half
            left, missed = label.left, [*missed, "left"]
        return Box(left, bottom, right, top), tuple(m for m in missed if self._near(index, m))

    def _near(self, index: int, edge: str) -> bool:
        """Whether the label at ``index``'s printed part comes within the margin of ``edge``."""
        x, y = self.origin(index)
        pad, margin = self.padding_mm * mm, self.margin_mm * mm
        width, height = self.label.width_mm * mm, self.label.height_mm * mm
        page_w, page_h = self.page.width_mm * mm, self.page.height_mm * mm
        near: dict[str, bool] = {
            "left": x + pad < margin,
            "bottom": y + pad < margin + DESCENT,
            "right": x + width - pad > page_w - margin,
            "top": y + height - pad > page_h - margin,
        }
        return near[edge]

    def margin_edges(self) -> list[str]:
        """The sheet edges ("left", "bottom", ...) a printer may leave part of this stock's
        labels off at: where a label's text (``text_box``) or its QR's dark modules come within
        ``printer_margin_mm``. Empty when the stock's geometry keeps everything clear of it;
        ``forms check`` and the export warn otherwise."""
        if self.margin_mm <= 0:
            return []
        edges: dict[str, None] = {}
        for index in range(self.per_page):
            edges.update(dict.fromkeys(self.text_box(index)[1]))
            edges.update(dict.fromkeys(self._qr_edges(index)))
        return list(edges)

    def _qr_edges(self, index: int) -> list[str]:
        """The sheet edges the QR's dark modules (inside its quiet zone) come within the
        margin of."""
        x, y = self.origin(index)
        pad, margin, qr = self.padding_mm * mm, self.margin_mm * mm, self.qr_mm * mm
        quiet = qr * QUIET_ZONE / qr_modules()
        left, top = x + pad + quiet, y + self.label.height_mm * mm - pad - quiet
        right, bottom = x + pad + qr - quiet, y + self.label.height_mm * mm - pad - qr + quiet
        page_w, page_h = self.page.width_mm * mm, self.page.height_mm * mm
        near = {
            "left": left < margin,
            "bottom": bottom < margin,
            "right": right > page_w - margin,
            "top": top > page_h - margin,
        }
        return [edge for edge, close in near.items() if close]

    def origin(self, index: int) -> tuple[float, float]:
        """Lower-left corner (points) of the label at ``index`` on its page, calibrated."""
        g = self.grid
        col, row = index % g.columns, index // g.columns
        x = g.left_mm + col * g.pitch_x_mm + self.calibration.offset_x_mm
        top = g.top_mm + row * g.pitch_y_mm + self.label.height_mm
        y = self.page.height_mm - top + self.calibration.offset_y_mm
        return x * mm, y * mm


def min_text_column_mm() -> float:
    """The narrowest text column a label stock may have: the widest code at ``MIN_CODE_PT``."""
    return float(WIDEST_CODE_EM * MIN_CODE_PT / mm)


@lru_cache(maxsize=1)
def qr_modules() -> int:
    """Modules across a building's QR, quiet zone included (every code is as long)."""
    return qr_ops(building_uri("NK-00000-00000"))[0]


def code_size(code: str, font: str, width: float, largest: float = CODE_SIZE) -> float:
    """The size a code is printed at (beside the QR, or under it at ``CODE_UNDER_SIZE``):
    shrunk to fit ``width`` rather than cut (it is what a person reads off the label), never
    below ``MIN_CODE_PT`` (the stock check keeps the widest code fitting at it)."""
    return max(MIN_CODE_PT, min(largest, width / max(text_width(code, font, 1), 1e-6)))


def ambiguous_width(text: str) -> list[str]:
    """The East-Asian ambiguous-width characters of ``text``, in order, once each."""
    return list(dict.fromkeys(c for c in text if unicodedata.east_asian_width(c) == "A"))


def label_layouts(lang: str = "en") -> list[tuple[str, str]]:
    """(name, title) of every label stock in ``exports/``, for choosers."""
    layouts = []
    for name, raw in available("label").items():
        title = raw.get("title")
        layouts.append((name, str(title.get(lang, name)) if isinstance(title, dict) else name))
    return layouts


def load_layout(name_or_path: str) -> LabelLayout:
    """A label layout by name (``a4_3x8``, ``l7160``, ``thermal_50x30``) or by YAML path."""
    path, raw = layout_file(name_or_path, "label")
    return validated(LabelLayout, raw, path)


#: The answers a label prints (besides its code and needs).
LABEL_FIELDS = ("compound_name", "building_no", "address")

#: Records whose needs a label may carry: a label stays on the door for years, so a draft's
#: counts (still changing, "B0 W0 T0" read as "no needs") and a "not surveyed" that stops being
#: true are never printed; the QR leads to the record as it is now.
FINAL_STATUSES = ("complete", "approved")


@dataclass(frozen=True)
class LabelData:
    code: str
    uri: str
    address: str
    compound: str
    building_no: str
    #: The need classes of a complete or approved record, as of ``status_note``; empty otherwise.
    classes: str
    classes_short: str = ""
    #: Printed above the classes: the survey date they are from ("2025-05-01调查").
    status_note: str = ""


def prepare_label(
    code: str, status: str, answers: Mapping[str, Any], report: NeedsReport
) -> LabelData:
    """What one label prints: code, address, compound and, for a complete or approved record
    only, its survey date and need classes B/W/T (with the priority-1 needs and the rules left
    to check, 待核实)."""
    classes = short = note = ""
    if status in FINAL_STATUSES:
        counts = report.class_counts
        urgent = sum(n.priority == 1 for n in report.needs)
        open_rules = len(report.undetermined)
        classes = f"基础B{counts['B']} 完善W{counts['W']} 提升T{counts['T']}"
        short = f"B{counts['B']} W{counts['W']} T{counts['T']}"
        if urgent:
            classes += f" · 急P1×{urgent}"
            short += f" P1×{urgent}"
        if open_rules:
            classes += f" · 待核实{open_rules}"
            short += f" 待核实{open_rules}"
        surveyed = str(answers.get("survey_date") or "")
        note = f"{surveyed}调查" if surveyed else "已调查"
    compound = str(answers.get("compound_name") or "")
    number = str(answers.get("building_no") or "")
    address = str(answers.get("address") or "")
    return LabelData(code, building_uri(code), address, compound, number, classes, short, note)


def draw_label(
    canvas: Any,
    layout: LabelLayout,
    data: LabelData,
    x: float,
    y: float,
    box: Box,
    font: str,
    short: bool = False,
) -> None:
    """One label with its lower-left corner at (x, y) points, its text in ``box``
    (``LabelLayout.text_box``); ``short``: classes as B/W/T."""
    pad = layout.padding_mm * mm
    h = layout.label.height_mm * mm
    qr = layout.qr_mm * mm
    qr_y = y + h - pad - qr
    draw_qr(canvas, data.uri, x + pad, qr_y, qr)
    tx = x + layout.text_column[0]
    tw = box.right - tx
    canvas.setFont(font, code_size(data.code, font, tw))
    canvas.drawString(tx, box.top - 8, data.code)
    canvas.setFont(font, TEXT_SIZE)
    top = box.top - FIRST_LINE
    slots = int((top - box.bottom) // LEADING) + 1
    for i, line in enumerate(label_lines(data, font, tw, slots, short)):
        canvas.drawString(tx, top - i * LEADING, line)
    under = layout.under_qr(x, y, box)
    if under is not None:
        left, baseline, width = under
        canvas.setFont(font, code_size(data.code, font, width, CODE_UNDER_SIZE))
        canvas.drawString(left, baseline, data.code)


def label_lines(
    data: LabelData, font: str, width: float, slots: int, short: bool = False
) -> list[str]:
    """The text beside the QR in at most ``slots`` lines of ``width``.

    The building number and the classes (with their survey date) always get their lines; the
    compound name is cut before the number is, and the address takes the lines left over. A
    number wider than the column (the form allows 10 characters) takes two lines of its own
    rather than be cut.
    """
    classes = data.classes_short if short and data.classes_short else data.classes
    tail = wrap(data.status_note, font, TEXT_SIZE, width, 1)
    tail += wrap(classes, font, TEXT_SIZE, width, 2)
    number = f" {data.building_no}" if data.compound and data.building_no else data.building_no
    if text_width(data.building_no, font, TEXT_SIZE) > width:
        own = wrap(data.building_no, font, TEXT_SIZE, width, 2)
        place = wrap(data.compound, font, TEXT_SIZE, width, 1) if slots > len(tail) + 2 else []
        place += own
    else:
        rows = min(2, max(slots - len(tail), 1))
        place = wrap(data.compound, font, TEXT_SIZE, width, rows, number)
    room = min(2, slots - len(tail) - len(place))
    address = wrap(data.address, font, TEXT_SIZE, width, room) if room > 0 else []
    return [*place, *address, *tail][:slots]


def needs_short_classes(page: list[LabelData], font: str, width: float) -> bool:
    """Whether a page prints its classes as 'B7 W6 T3 P1×2': when any label's full form
    ('基础B7 完善W6 提升T3 · 急P1×2') would not fit one line. One format per sheet, so
    neighbouring labels read alike."""
    return any(d.classes_short and text_width(d.classes, font, TEXT_SIZE) > width for d in page)


def draw_label_pages(
    canvas: Any, layout: LabelLayout, labels: list[LabelData | None], font: str
) -> int:
    """Draw labels page after page; returns the number of pages. A None leaves its position
    blank (the used labels of a partly used sheet, ``--start``)."""
    canvas.setPageSize((layout.page.width_mm * mm, layout.page.height_mm * mm))
    pages = 0
    for start in range(0, len(labels), layout.per_page):
        page = labels[start : start + layout.per_page]
        placed = [(layout.origin(i), layout.text_box(i)[0]) for i in range(len(page))]
        widths = [
            box.right - x - layout.text_column[0]
            for data, ((x, _), box) in zip(page, placed, strict=True)
            if data is not None
        ]
        drawn = [d for d in page if d is not None]
        short = needs_short_classes(drawn, font, min(widths))
        for data, ((x, y), box) in zip(page, placed, strict=True):
            if data is not None:  # a position left blank before --start
                draw_label(canvas, layout, data, x, y, box, font, short)
        canvas.showPage()
        pages += 1
    return pages
