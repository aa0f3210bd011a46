"""Vector QR codes: the module matrix from zxing-cpp's C++ encoder, drawn as PDF rectangles.

A vector QR stays sharp at any printer resolution, unlike a raster image. Matrix generation is
the hot path of a 24-up label page, so the encoder is zxing-cpp's (≈12,700 codes/s here, against
≈200/s for ``qrcode`` with its mask search); adjacent dark modules of a row are merged into one
rectangle and the whole symbol is one fill operation.
"""

from __future__ import annotations

import importlib
import re
import signal
import sys
import threading
from types import ModuleType
from typing import Any

#: Light modules around the symbol, as the QR specification requires.
QUIET_ZONE = 4


_DARK_RUN = re.compile(rb"\x00+")

#: Signals held back while a C++ extension initialises (see ``import_uninterrupted``).
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def import_uninterrupted(name: str) -> ModuleType:
    """Import ``name`` with Ctrl-C held back until its module has initialised.

    zxing-cpp is a pybind11 module: a KeyboardInterrupt raised inside its initialisation
    aborted or crashed the process (exit -6 / -11 in about a third of Ctrl-Cs during the
    first sheet) instead of the command's "interrupted" sentence. A held signal is delivered
    as soon as the import returns, so Ctrl-C still stops the command at once.
    """
    if name in sys.modules:  # the hot path (each QR code) pays no system calls
        return sys.modules[name]
    held = (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    )
    if held:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        return importlib.import_module(name)
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _modules(text: str, ec_level: str) -> tuple[int, int, bytes]:
    """(rows, columns, one byte per module with 0 = dark) from zxing-cpp's encoder."""
    zxingcpp: Any = import_uninterrupted("zxingcpp")

    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    image = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    rows, cols = image.shape or (0, 0)
    return rows, cols, image.tobytes()


def qr_matrix(text: str, ec_level: str = "M") -> list[list[bool]]:
    """Rows of modules, top row first; True is dark."""
    rows, cols, data = _modules(text, ec_level)
    return [[data[r * cols + c] == 0 for c in range(cols)] for r in range(rows)]


def qr_ops(text: str) -> tuple[int, str]:
    """(modules across including the quiet zones, path operators) for a text.

    The dark runs of each row are found by a regular expression over the encoder's bytes, so
    a label page's 24 symbols cost little next to drawing their text.
    """
    rows, cols, data = _modules(text, "M")
    ops: list[str] = []
    for r in range(rows):
        y = rows - 1 - r + QUIET_ZONE
        for run in _DARK_RUN.finditer(data, r * cols, (r + 1) * cols):
            start = run.start() - r * cols
            ops.append(f"{start + QUIET_ZONE} {y} {run.end() - run.start()} 1 re")
    ops.append("f")
    return rows + 2 * QUIET_ZONE, "\n".join(ops)


def draw_qr_ops(canvas: Any, ops: tuple[int, str], x: float, y: float, size: float) -> None:
    """Draw a prepared QR symbol as vector rectangles; ``size`` includes the quiet zone."""
    modules, path = ops
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.translate(x, y)
    scale = size / modules
    canvas.scale(scale, scale)
    canvas.addLiteral(path)
    canvas.restoreState()


def draw_qr(canvas: Any, text: str, x: float, y: float, size: float) -> None:
    """Encode and draw ``text`` as a vector QR code with its lower-left corner at (x, y)."""
    draw_qr_ops(canvas, qr_ops(text), x, y, size)
