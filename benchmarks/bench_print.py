"""Printing speed: sheets and label pages per second, against a bare reportlab page.

usage: python benchmarks/bench_print.py [--db SAMPLE.db] [--sheets 300]

* sheets/s on one core: our renderer (layout, fitting, QR encoding, font subset) in-process;
* the baseline: a bare reportlab canvas replaying the very same drawing calls, recorded once
  (strings already fitted to their columns, QR already encoded to rectangles) — the cost of the
  page's content alone, without our layout and encoding work; target ≥ 0.7×;
* sheets/s on all cores (worker processes + merging the parts);
* label pages/s (A4 3×8, 24 QR codes per page), one core and all cores;
* seconds to export sheets for the whole sample (select, derive needs, render, write): ≤ 30 s.
Ratios are against the same run's baseline, so a busy machine moves both sides.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from surveyor.exports.fonts import FONT_NAME, setup_font  # noqa: E402
from surveyor.exports.labels import LabelData, load_layout  # noqa: E402
from surveyor.exports.qr import qr_ops  # noqa: E402
from surveyor.exports.render import RenderSpec, _pdf_bytes, default_jobs, render_pdf  # noqa: E402
from surveyor.exports.service import Context, export_sheets, label_data, sheet_data  # noqa: E402
from surveyor.exports.sheet import draw_sheet  # noqa: E402
from surveyor.exports.sheetdata import SheetData  # noqa: E402
from surveyor.exports.sheetlayout import (  # noqa: E402
    DEFAULT_SHEET_LAYOUT,
    SheetLayout,
    load_sheet_layout,
)
from surveyor.exports.source import select_buildings  # noqa: E402
from surveyor.forms.catalog import get_form  # noqa: E402
from surveyor.retrofit import get_params, get_rules  # noqa: E402
from surveyor.services.selection import parse_selection  # noqa: E402
from surveyor.store.db import open_store  # noqa: E402


class Recorder:
    """Stands in for a canvas and records every drawing call the sheet makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kw: Any) -> None:
            self.calls.append((name, args, kw))

        return record


def recorded_page(
    d: SheetData, layout: SheetLayout
) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """The exact primitives of one sheet (strings already fitted, QR already encoded)."""
    rec = Recorder()
    draw_sheet(rec, d, FONT_NAME, layout)
    return rec.calls


def bare_pdf(pages: list[list[tuple[str, tuple[Any, ...], dict[str, Any]]]]) -> bytes:
    """The baseline: replay precomputed primitives on a plain canvas, no layout logic."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pageCompression=1, invariant=1, initialFontName=FONT_NAME)
    for calls in pages:
        for name, args, kw in calls:
            getattr(c, name)(*args, **kw)
        c.showPage()
    c.save()
    return buf.getvalue()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


LAST_CPU = [0.0]


def timed(fn: Any, *args: Any, **kw: Any) -> float:
    """Wall seconds of one call; its CPU seconds (workers included) go to LAST_CPU."""
    c = cpu_seconds()
    t = time.perf_counter()
    fn(*args, **kw)
    wall = time.perf_counter() - t
    LAST_CPU[0] = cpu_seconds() - c
    return wall


def ensure_sample(db: Path | None) -> Path:
    if db is not None:
        return db
    default = ROOT / "sample_db" / "nankai_sample.db"
    if default.exists():
        return default
    out = Path(tempfile.mkdtemp()) / "sample.db"
    print(f"building a 2,000-building sample at {out} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "surveyor",
            "sample",
            "--out",
            str(out),
            "--buildings",
            "2000",
            "--seed",
            "2024",
        ],
        check=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path)
    ap.add_argument("--sheets", type=int, default=300)
    args = ap.parse_args()
    db = ensure_sample(args.db)
    load_before = os.getloadavg()[0]
    font = setup_font()
    form = get_form()
    params = get_params()
    ctx = Context(form, get_rules(form, params), params)
    store = open_store(db, readonly=True)
    records = select_buildings(store, parse_selection(form, [], None))
    surveyed = [r for r in records if r.status in ("complete", "approved")] or records
    sample = (surveyed * (args.sheets // len(surveyed) + 1))[: args.sheets]
    sheet_layout = load_sheet_layout(DEFAULT_SHEET_LAYOUT, form, FONT_NAME)
    sheets: list[SheetData] = sheet_data(ctx, store, sample, sheet_layout)
    spec = RenderSpec(str(font.path), sheet_layout)
    jobs = default_jobs()
    _pdf_bytes(spec, sheets[:5])  # warm-up: imports, font registration

    precomputed = [recorded_page(d, sheet_layout) for d in sheets]
    bare_s = min(timed(bare_pdf, precomputed) for _ in range(3))
    ours_s = min(timed(_pdf_bytes, spec, sheets) for _ in range(3))
    n = len(sheets)
    many = sheets * 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "many.pdf"
        multi_s = timed(render_pdf, spec, many, out, jobs=jobs)
        multi_cpu = LAST_CPU[0]

    layout = load_layout("a4_3x8")
    labels: list[LabelData] = label_data(ctx, records[: layout.per_page * 40])
    lspec = RenderSpec(str(font.path), layout)
    _pdf_bytes(lspec, labels[: layout.per_page])
    label_pages = -(-len(labels) // layout.per_page)
    qr_s = timed(lambda: [qr_ops(x.uri) for x in labels])
    label_one_s = min(timed(_pdf_bytes, lspec, labels) for _ in range(2))
    with tempfile.TemporaryDirectory() as tmp:
        label_multi_s = timed(render_pdf, lspec, labels, Path(tmp) / "l.pdf", jobs=jobs)
        label_multi_cpu = LAST_CPU[0]

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = export_sheets(
            ctx, store, parse_selection(form, [], None), Path(tmp) / "all.pdf", jobs=jobs
        )
        whole_s = time.perf_counter() - t
    store.close()

    rows = [
        ("bare reportlab page (precomputed), 1 core", f"{n / bare_s:,.0f} pages/s", "1.00×"),
        (
            "retrofit-need sheet, 1 core",
            f"{n / ours_s:,.0f} sheets/s",
            f"{bare_s / ours_s:.2f}× bare (target ≥ 0.70)",
        ),
        (
            f"retrofit-need sheet, {jobs} cores (incl. merge)",
            f"{len(many) / multi_s:,.0f} sheets/s",
            f"{bare_s / n * len(many) / multi_s:.2f}× bare 1-core; "
            f"{len(many) / multi_cpu:,.0f} sheets per CPU-s",
        ),
        (
            "label page A4 3×8 (24 QR), 1 core",
            f"{label_pages / label_one_s:,.1f} pages/s",
            f"QR encoding {qr_s / label_pages * 1000:.1f} of "
            f"{label_one_s / label_pages * 1000:.1f} ms per page",
        ),
        (
            f"label page A4 3×8, {jobs} cores",
            f"{label_pages / label_multi_s:,.1f} pages/s",
            f"{label_pages / label_multi_cpu:,.1f} pages per CPU-s",
        ),
        (
            f"whole sample: {result.buildings} sheets, select→PDF, {jobs} cores",
            f"{whole_s:.1f} s",
            "target ≤ 30 s",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(
        f"sample {db} ({len(records)} buildings); font {font.path.name} ({font.origin}); "
        f"load average before/after {load_before:.2f}/{os.getloadavg()[0]:.2f} on {jobs} cores"
    )
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")


if __name__ == "__main__":
    main()
