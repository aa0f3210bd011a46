"""Read-only queries for lists and search, always windowed in SQL (never all rows in Python)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from surveyor.services.survey import (
    BUILDING,
    NUMBER_SUFFIXES,
    building_number_key,
    number_sort,
)
from surveyor.store.db import Store
from surveyor.store.ids import normalize_code
from surveyor.text import normalize_text

#: How the register is listed everywhere: 街道, compound, building number, then code.
REGISTER_ORDER = (
    BUILDING.c.subdistrict,
    BUILDING.c.compound_name,
    BUILDING.c.building_sort,  # natural order of building numbers
    BUILDING.c.code,
)


@dataclass(frozen=True)
class BuildingRow:
    id: uuid.UUID
    code: str
    subdistrict: str | None
    community: str | None
    compound_name: str | None
    building_no: str | None
    address: str | None
    status: str
    completeness: float
    conflict_count: int
    assigned_to: str | None


@dataclass(frozen=True)
class BuildingPage:
    rows: list[BuildingRow]
    total: int
    #: The rows the search found through their community alone (``found_by_community``).
    by_community: frozenset[uuid.UUID] = frozenset()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def building_filter(
    *,
    subdistrict: str | None = None,
    status: str | tuple[str, ...] | None = None,
    search: str | None = None,
    assigned_to: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses shared by the list, its count and exports' selections; ``status`` may
    name several (an export of "complete or approved")."""
    clauses: list[sa.ColumnElement[bool]] = [BUILDING.c.deleted.is_(False)]
    if subdistrict:
        clauses.append(BUILDING.c.subdistrict == subdistrict)
    if isinstance(status, str):
        status = (status,)
    if status:
        clauses.append(BUILDING.c.status.in_(status))
    if assigned_to:
        clauses.append(BUILDING.c.assigned_to == assigned_to)
    if search:
        clauses.extend(search_clauses(search))
    return clauses


def search_clauses(search: str) -> list[sa.ColumnElement[bool]]:
    """What the list's search box means, as WHERE clauses on ``building``: a whole code finds
    that building, other text its words (``_text_search``). The conflict review's filter
    takes them too, so 「宜宾 13」 finds the same buildings there as in the list."""
    code = normalize_code(search)
    if code is not None:
        return [BUILDING.c.code == code]
    return _text_search(search)


#: Where a search word is cut: between a Chinese character and a digit, either way round, so
#: 天大北五村13号楼 is 天大北五村 and 13号楼; and before the 第 of a 楼号 (天大北五村第13栋).
#: ASCII runs (a code, 3-1, A座's A) stay whole.
_CUT = re.compile(r"(?<=[^\x00-\x7f])(?=[0-9]|第[0-9])|(?<=[0-9])(?=[^\x00-\x7f])")
#: What may follow a searched number and is kept with it: a 楼号's suffix, a 门牌's 号, 单元.
_SUFFIX = "|".join(map(re.escape, (*NUMBER_SUFFIXES, "单元")))
_LEADING_SUFFIX = re.compile(f"^(?:{_SUFFIX})")
#: A piece that is a number, alone or with its suffix: 4, 04, 13号楼, 7栋, 2#, 3单元.
_NUMBER = re.compile(f"([0-9]+)(?:{_SUFFIX})?")


def search_words(search: str) -> list[str]:
    """The pieces of a query that must each be found (NFKC, lower case): its words, each cut
    where Chinese text meets digits, a number's suffix kept with its digits (13号楼), the 第
    before a 楼号 left out (``building_number_key`` drops it: 第3号楼 finds a stored 3 号楼).

    A word was one piece: 天大北五村13号楼 and 兴水7 found nothing, while 兴水 7 did."""
    pieces: list[str] = []
    for word in normalize_text(search).lower().split():
        after_digits = False
        for piece in _CUT.split(word):
            suffix = _LEADING_SUFFIX.match(piece) if after_digits else None
            if suffix is not None:
                pieces[-1] += suffix.group()
                piece = piece[suffix.end() :]
            if piece and piece != "第":
                pieces.append(piece)
            after_digits = bool(piece) and piece[-1].isdigit()
    return pieces


def searched_number(piece: str) -> str | None:
    """The number a search piece is (4 for 4, 04, 4号楼, 4栋, 4号, 4单元), found whole
    (``_number_search``); None for any other piece, found as text.

    As text, 宜宾 4 listed 14号楼, 宜宾道24号 and every code holding a 4 beside 4号楼."""
    number = _NUMBER.fullmatch(piece)
    return None if number is None else building_number_key(number.group(1))


def _squeezed(text: str | None) -> str:
    """A column as the search sees it: NFKC, lower case, no spaces (``search_text``)."""
    return normalize_text(text or "").lower().replace(" ", "")


def found_by_community(row: BuildingRow, search: str | None) -> bool:
    """Whether a piece of ``search`` is in the row's community and in none of the columns the
    list shows (code, compound, 楼号, address): then the list says the community, or the
    row seems not to match. 盛河 2 listed 顺林东里's buildings, of 盛河东里社区, without a
    word why. A number is never looked for in the community (``searched_number``)."""
    if not search or not row.community or normalize_code(search) is not None:
        return False
    community = _squeezed(row.community)
    shown = [_squeezed(v) for v in (row.code, row.compound_name, row.building_no, row.address)]
    return any(
        searched_number(piece) is None
        and piece in community
        and not any(piece in column for column in shown)
        for piece in search_words(search)
    )


#: Suffixes that make a searched number a 楼号 only: 5号楼 is not every building at 华苑路5号.
_BUILDING_SUFFIXES = tuple(suffix for suffix in NUMBER_SUFFIXES if suffix != "号")


def _number_search(number: str, door_too: bool) -> sa.ColumnElement[bool]:
    """A searched number, whole: the 楼号 however spelled (13, 13号楼, 13栋: ``number_sort``)
    and, unless it was typed as a 楼号 (``door_too``), a number of the 门牌 or compound
    (``place_numbers``); never a part of a longer number or of a code. Both columns are in
    the list's covering index."""
    building = BUILDING.c.building_sort == number_sort(number)
    if not door_too:
        return building
    return sa.or_(building, BUILDING.c.place_numbers.like(f"% {number} %"))


def _text_search(search: str) -> list[sa.ColumnElement[bool]]:
    """Every piece of the query (``search_words``): a number whole (``_number_search``), other
    text anywhere in the code, address, compound, 楼号, community.

    Spaces are ignored on both sides, so 和水西里9号楼 finds 和水西里 9号楼 and 黄河道 25 finds
    南开区黄河道25号 (the whole query as one string found neither); 天大北五村13号楼 finds
    天大北五村's 楼号 13, 宜宾 4 its 4号楼 (or 宜宾道4号) and not 14号楼. Every test stays in
    the list's covering index (``search_text``, ``building_sort``, ``place_numbers``).
    """
    squeezed = sa.func.replace(BUILDING.c.search_text, " ", "")
    clauses: list[sa.ColumnElement[bool]] = []
    for piece in search_words(search):
        number = searched_number(piece)
        if number is not None:
            clauses.append(_number_search(number, door_too=not piece.endswith(_BUILDING_SUFFIXES)))
        else:
            clauses.append(squeezed.like(f"%{_escape_like(piece)}%", escape="\\"))
    return clauses


def list_buildings(
    store: Store,
    *,
    subdistrict: str | None = None,
    status: str | tuple[str, ...] | None = None,
    search: str | None = None,
    assigned_to: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> BuildingPage:
    """One window of the register, ordered by 街道, compound and building number."""
    clauses = building_filter(
        subdistrict=subdistrict, status=status, search=search, assigned_to=assigned_to
    )
    cols = [getattr(BUILDING.c, f) for f in BuildingRow.__dataclass_fields__]
    query = sa.select(*cols).where(*clauses).order_by(*REGISTER_ORDER).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        rows = [BuildingRow(**r) for r in conn.execute(query).mappings()]
        total = conn.execute(
            sa.select(sa.func.count()).select_from(BUILDING).where(*clauses)
        ).scalar_one()
    return BuildingPage(rows=rows, total=total, by_community=by_community(rows, search))


def by_community(rows: list[BuildingRow], search: str | None) -> frozenset[uuid.UUID]:
    """The ids of ``rows`` found through their community alone (``found_by_community``)."""
    return frozenset(r.id for r in rows if found_by_community(r, search))
