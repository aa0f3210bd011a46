"""Which buildings an export covers: ``--where field=value`` and ``--status``, read from a store.

Field names and values are checked against the form before anything is read or written, so a
typo gets a sentence ("the form has no field '街区'") instead of an empty or partial file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.forms.record import normalize_text
from surveyor.paths import blob_dir_for
from surveyor.services.queries import REGISTER_ORDER, building_filter
from surveyor.services.survey import BUILDING, STATUSES
from surveyor.store.db import Store, is_url


@dataclass(frozen=True)
class BuildingRecord:
    """One selected building: its code, status and stored answers."""

    code: str
    status: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class Selection:
    """Validated filters: answers that must equal a value, and an optional status."""

    where: tuple[tuple[str, Any], ...] = ()
    status: str | None = None

    def describe(self) -> str:
        parts = [f"{f}={v}" for f, v in self.where]
        if self.status:
            parts.append(f"status={self.status}")
        return ", ".join(parts) or "all buildings"


def _resolve_field(form: Form, name: str) -> str:
    """A field id from its id or its zh/en label (``街道`` → ``subdistrict``)."""
    key = normalize_text(name)
    if key in form.fields:
        return key
    for fid, fld in form.fields.items():
        label = fld.defn.label
        if key == label.zh or key.lower() == label.en.lower():
            return fid
    candidates = list(form.fields) + [f.defn.label.zh for f in form.fields.values()]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise SurveyorError(f"--where: the form has no field '{name}'{hint}")


def _resolve_value(form: Form, fid: str, raw: str) -> Any:
    """The stored value for a --where value: option codes or labels, numbers, yes/no."""
    fld = form.fields[fid]
    text = normalize_text(raw)
    if fld.choices:
        for choice in fld.choices:
            if text in (choice.code, choice.zh) or text.lower() == choice.en.lower():
                return choice.code
        codes = ", ".join(c.code for c in fld.choices[:8])
        raise SurveyorError(f"--where: '{raw}' is not an option of {fid} (options: {codes} …)")
    if fld.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise SurveyorError(f"--where: {fid} needs a whole number, not '{raw}'") from None
    if fld.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "是", "1"):
            return True
        if lowered in ("false", "no", "否", "0"):
            return False
        raise SurveyorError(f"--where: {fid} needs yes or no, not '{raw}'")
    return text


def parse_selection(form: Form, where: list[str], status: str | None) -> Selection:
    """Check ``field=value`` filters and the status against the form; raise on any mistake."""
    pairs: list[tuple[str, Any]] = []
    for item in where:
        if "=" not in item:
            raise SurveyorError(f"--where '{item}' must be written field=value")
        name, _, value = item.partition("=")
        fid = _resolve_field(form, name.strip())
        pairs.append((fid, _resolve_value(form, fid, value.strip())))
    if status is not None and status not in STATUSES:
        raise SurveyorError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
    return Selection(tuple(pairs), status)


def _matches(answers: Mapping[str, Any], where: tuple[tuple[str, Any], ...]) -> bool:
    for fid, value in where:
        answer = answers.get(fid)
        if isinstance(answer, list):
            if value not in answer:
                return False
        elif answer != value:
            return False
    return True


def select_buildings(store: Store, selection: Selection) -> list[BuildingRecord]:
    """The selected buildings in register order (街道, compound, building number, code)."""
    subdistrict = next((v for f, v in selection.where if f == "subdistrict"), None)
    clauses = building_filter(subdistrict=subdistrict, status=selection.status)
    query = (
        sa.select(BUILDING.c.code, BUILDING.c.status, BUILDING.c.answers)
        .where(*clauses)
        .order_by(*REGISTER_ORDER)
    )
    out: list[BuildingRecord] = []
    with store.engine.connect() as conn:
        for code, status, answers in conn.execute(query):
            record = dict(answers or {})
            if _matches(record, selection.where):
                out.append(BuildingRecord(code, status, record))
    return out


def require_some(records: list[BuildingRecord], selection: Selection) -> None:
    """An empty selection is an error: no file is written for it."""
    if not records:
        raise SurveyorError(
            f"no buildings match the selection ({selection.describe()}); nothing was written"
        )


def blob_dir(store: Store) -> Path | None:
    """Where a SQLite store keeps its photos; None for PostgreSQL (photos stay on laptops)."""
    if is_url(store.target):
        return None
    folder = blob_dir_for(Path(store.target))
    return folder if folder.is_dir() else None


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
