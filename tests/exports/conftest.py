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


def central_under_review(folder: Path) -> tuple[Path, dict[str, str]]:
    """A central whose buildings still await review, made by the real commands: ``conflict``
    was edited on the central and on the laptop at once (year built, and the inspector's name
    each side sets: two open conflicts), ``twin`` and ``other_twin`` are two laptops' entries
    at one address (possible duplicates), ``clean`` has nothing open. Returns the central and
    the buildings' codes by role."""
    from surveyor.forms.catalog import get_form
    from surveyor.services.survey import create_building
    from surveyor.store.db import init_store
    from tests.conftest import REGISTER_ROW

    def sv(*args: str) -> None:
        done = subprocess.run(["surveyor", *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    central = folder / "central.db"
    sv("central", "init", str(central))
    form = get_form()
    a = init_store(folder / "a.db", role="laptop", inspector="甲")
    b = init_store(folder / "b.db", role="laptop", inspector="乙")
    rows = {
        "conflict": {**REGISTER_ROW, "building_no": "4号楼", "address": "南开区宜宾道14号"},
        "clean": {**REGISTER_ROW, "building_no": "5号楼", "address": "南开区宜宾道16号"},
        "twin": REGISTER_ROW,
    }
    codes = {role: create_building(a, form, row, author="甲").code for role, row in rows.items()}
    codes["other_twin"] = create_building(b, form, REGISTER_ROW, author="乙").code
    a.close()
    b.close()
    for laptop in ("a.db", "b.db"):
        sv("sync", "--db", str(folder / laptop), "--central", str(central))
    sv("set", "--central", str(central), codes["conflict"], "year_built=1990", "--by", "李督导")
    sv("set", "--db", str(folder / "a.db"), codes["conflict"], "year_built=1984")
    sv("sync", "--db", str(folder / "a.db"), "--central", str(central))
    return central, codes


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
