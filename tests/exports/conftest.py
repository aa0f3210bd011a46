"""Fixtures for export tests: a real sample database, and the real poppler and zxing tools."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image


def require_tool(name: str) -> str:
    """The path of a command-line tool; fails (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found; run 'bash scripts/ensure_tools.sh' (installs poppler-utils)"
        )
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deterministic 120-building sample made by the real generator."""
    db = tmp_path_factory.mktemp("sample") / "sample.db"
    subprocess.run(
        ["surveyor", "sample", "--out", str(db), "--buildings", "120", "--seed", "2024"],
        check=True,
        capture_output=True,
    )
    return db


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def pdf_fonts(pdf: Path) -> list[list[str]]:
    """Rows of ``pdffonts``: name, type, encoding, emb, sub, uni, object id."""
    out = subprocess.run(
        [require_tool("pdffonts"), str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def render_pages(pdf: Path, folder: Path, dpi: int = 150) -> list[Path]:
    """Each page as PNG, as pdftoppm renders it."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [require_tool("pdftoppm"), "-r", str(dpi), "-png", str(pdf), str(folder / "page")],
        check=True,
    )
    return sorted(folder.glob("page-*.png"))


def decode_qr(png: Path) -> list[str]:
    """Every QR code a real decoder (zxing-cpp) finds on the image."""
    import zxingcpp

    with Image.open(png) as image:
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in results]


def small_subdistrict(db: Path) -> str:
    """The sub-district code with the fewest (but some) buildings in a sample."""
    import sqlite3

    with sqlite3.connect(db) as con:
        row = con.execute(
            "SELECT subdistrict FROM building WHERE subdistrict IS NOT NULL "
            "GROUP BY subdistrict ORDER BY count(*), subdistrict LIMIT 1"
        ).fetchone()
    return str(row[0])


@dataclass(frozen=True)
class Word:
    """One word pdftotext found, with its box in points from the page's top left."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def pdf_words(pdf: Path, page: int = 1) -> list[Word]:
    """The words of one page with their boxes (``pdftotext -bbox``), in reading order."""
    out = subprocess.run(
        [require_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        Word(html.unescape(m[5]), float(m[1]), float(m[2]), float(m[3]), float(m[4]))
        for m in _WORD.finditer(out)
    ]
