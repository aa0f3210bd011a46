"""The district report says which buildings it covers in zh and en, and counts in English
with the right number ("1 building", not "1 buildings")."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from surveyor.exports.report import headline, needs_review_note, summarize
from surveyor.exports.source import BuildingRecord
from surveyor.forms.catalog import get_form
from surveyor.retrofit import get_params, get_rules
from tests.exports.conftest import pdf_text
from tests.exports.test_print_content import derive, one_line
from tests.retrofit.records import CLEAN


def test_the_selection_is_said_in_both_languages(sample_db: Path, tmp_path: Path) -> None:
    """``--where 街道=广开街道 --status draft --lang zh`` headed the report with
    "district report (subdistrict=guangkai, status=draft; …)": codes, in English only."""
    with sqlite3.connect(sample_db) as con:
        (sub,) = con.execute(
            "SELECT subdistrict FROM building WHERE status = 'draft' ORDER BY code LIMIT 1"
        ).fetchone()
    name = get_form().field("subdistrict").choice_label(sub, "zh")
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        ["surveyor", "export", "report", "--db", str(sample_db), "--out", str(out),
         "--where", f"街道={name}", "--status", "draft", "--lang", "zh"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page1 = one_line(pdf_text(out).split("\f")[0])
    said = f"所选楼栋 selection：街道={name}，状态=草稿 · subdistrict={sub}, status=draft"
    assert said in page1, page1[:400]
    everything = tmp_path / "all.pdf"
    done = subprocess.run(
        ["surveyor", "export", "report", "--db", str(sample_db), "--out", str(everything)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "所选楼栋 selection：全部楼栋 · all buildings" in one_line(pdf_text(everything))


def test_one_building_under_review_is_one_building() -> None:
    """ "Under review: 1 buildings with open conflicts, 1 possible duplicates"."""
    answers = {**CLEAN, "household_count": None}
    records = [
        BuildingRecord("NK-00000-00001", "complete", answers, open_conflicts=1),
        BuildingRecord("NK-00000-00002", "draft", answers, possible_duplicate=True),
    ]
    form = get_form()
    reports = {r.code: derive(r.answers) for r in records}
    summary = summarize(form, records, reports, get_rules(form, get_params()))
    _counts, missing, _zh, en = headline(summary)
    assert missing == "其中1栋未填户数 1 surveyed building without a household count"
    assert en.startswith("Under review: 1 building with open conflicts, 1 possible duplicate;")
    assert "The needs include 1 building under review" in needs_review_note(summary)
