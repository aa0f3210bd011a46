"""Rendering many sheets or labels on all cores, with progress and cancel.

The parent process prepares plain page data (cheap); worker processes draw the pages into PDF
bytes (the expensive part: text layout, QR encoding, font subsetting). Every PDF part embeds
its own subset of the CJK font, which costs about as much as ten label pages, so each worker
gets one large part; progress comes per page through a shared counter, and cancel stops the
workers at once. For one PDF the parts are joined in order with pypdf; with ``--split`` each
worker writes one file per building.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surveyor.errors import SurveyorError
from surveyor.exports.fonts import register_font
from surveyor.exports.labels import LabelData, LabelLayout, draw_label_pages
from surveyor.exports.sheet import draw_sheet
from surveyor.exports.sheetdata import SheetData
from surveyor.exports.sheetlayout import SheetLayout

Progress = Callable[[int, int], None]
Tick = Callable[[int], None]
#: How often the parent looks at progress and cancel while workers draw (seconds).
POLL_SECONDS = 0.1


class Cancelled(SurveyorError):
    """The user cancelled an export; nothing was written."""

    def __init__(self) -> None:
        super().__init__("export cancelled; nothing was written")


@dataclass(frozen=True)
class RenderSpec:
    """What every worker needs besides its items: the font, and the sheet or label layout."""

    font_path: str
    layout: SheetLayout | LabelLayout

    @property
    def per_page(self) -> int:
        """Items per page: one sheet per building, or a page of labels."""
        return self.layout.per_page if isinstance(self.layout, LabelLayout) else 1


def _no_tick(n: int) -> None:
    """Progress sink when nobody listens."""


def drawn(items: Sequence[Any]) -> int:
    """How many of ``items`` are drawn: a None is a label position left blank (``--start``),
    no building, so it is neither counted in the progress nor in the summary."""
    return sum(item is not None for item in items)


def _pdf_bytes(spec: RenderSpec, items: Sequence[Any], tick: Tick = _no_tick) -> bytes:
    """One PDF of sheets (one per item) or of label pages; ``tick(n)`` after each page."""
    from reportlab.pdfgen.canvas import Canvas

    font = register_font(spec.font_path)
    buf = io.BytesIO()
    canvas = Canvas(buf, pageCompression=1, invariant=1, initialFontName=font)
    canvas.setCreator("Surveyor")
    layout = spec.layout
    if isinstance(layout, LabelLayout):
        for start in range(0, len(items), layout.per_page):
            page = list(items[start : start + layout.per_page])
            draw_label_pages(canvas, layout, page, font)
            tick(drawn(page))
    else:
        for data in items:
            draw_sheet(canvas, data, font, layout)
            canvas.showPage()
            tick(1)
    canvas.save()
    return buf.getvalue()


# ------------------------------------------------------------------ worker side
_COUNTER: Any = None


def _init_worker(counter: Any) -> None:
    """Pool initializer: keep the shared page counter, and forget the parent's signal wiring.

    A worker forked from the app inherits asyncio's wakeup socket: the SIGTERM the pool sends
    its workers when it ends (finished or cancelled) was written into it and read by the app
    as two ``kill``s, which quit it at once (exit 143, terminal left raw)."""
    global _COUNTER
    _COUNTER = counter
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)


def _count(n: int) -> None:
    with _COUNTER.get_lock():
        _COUNTER.value += n


def _render_chunk(args: tuple[RenderSpec, Sequence[Any]]) -> bytes:
    spec, items = args
    return _pdf_bytes(spec, items, _count if _COUNTER is not None else _no_tick)


def _write_split_chunk(args: tuple[RenderSpec, Sequence[Any], str]) -> int:
    """One file per item, named by building code, into a (temporary) folder."""
    spec, items, folder = args
    for item in items:
        Path(folder, f"{item.code}.pdf").write_bytes(_pdf_bytes(spec, [item]))
        if _COUNTER is not None:
            _count(1)
    return len(items)


# ------------------------------------------------------------------ parent side


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _split(items: Sequence[Any], parts: int, unit: int) -> list[Sequence[Any]]:
    """``parts`` nearly equal slices, each a whole number of ``unit`` (label pages)."""
    pages = -(-len(items) // unit)
    per = -(-pages // max(parts, 1)) * unit
    return [items[i : i + per] for i in range(0, len(items), per)]


def _in_process(
    fn: Callable[[Any], Any],
    tasks: list[Any],
    total: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> Iterator[Any]:
    """One process: the tick reports progress and checks cancel after every page."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        done += n
        if progress:
            progress(done, total)

    for spec, items, *rest in tasks:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if rest:  # split: one file per item
            for item in items:
                fn((spec, [item], *rest))
                tick(1)
            yield len(items)
        else:
            yield _pdf_bytes(spec, items, tick)


def _run(
    fn: Callable[[Any], Any],
    tasks: list[Any],
    total: int,
    jobs: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> Iterator[Any]:
    """Results of ``fn`` over tasks, in order, on up to ``jobs`` processes."""
    if jobs <= 1 or len(tasks) <= 1:
        yield from _in_process(fn, tasks, total, progress, cancel)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    counter = ctx.Value("i", 0)
    pool = ctx.Pool(min(jobs, len(tasks)), initializer=_init_worker, initargs=(counter,))
    try:
        results = pool.imap(fn, tasks)
        for _ in tasks:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if progress:
                    progress(min(counter.value, total), total)
                try:
                    result = results.next(timeout=POLL_SECONDS)
                except multiprocessing.TimeoutError:
                    continue
                except queue.Empty:  # pragma: no cover - older pools
                    continue
                break
            yield result
        if progress:
            progress(total, total)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def render_pdf(
    spec: RenderSpec,
    items: Sequence[SheetData] | Sequence[LabelData | None],
    out: Path,
    *,
    jobs: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Render all items into one PDF at ``out`` (a temporary path); returns the page count."""
    from pypdf import PdfReader, PdfWriter

    tasks = [(spec, part) for part in _split(items, jobs, spec.per_page)]
    parts = list(_run(_render_chunk, tasks, drawn(items), jobs, progress, cancel))
    if len(parts) == 1:
        out.write_bytes(parts[0])
        return len(PdfReader(io.BytesIO(parts[0])).pages)
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    with out.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def render_split(
    spec: RenderSpec,
    items: Sequence[SheetData | LabelData],
    folder: Path,
    *,
    jobs: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """One PDF per building into ``folder`` (a temporary folder); returns the file count."""
    tasks = [(spec, part, str(folder)) for part in _split(items, jobs, 1)]
    return sum(_run(_write_split_chunk, tasks, len(items), jobs, progress, cancel))
