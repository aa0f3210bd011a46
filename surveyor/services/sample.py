"""A realistic, deterministic sample database of Nankai residential buildings.

Everything is drawn from one ``random.Random(seed)``, so the same seed and building count give
the same register, the same building codes and the same answers on every run. Only what the
store stamps itself (change ids, HLCs, wall times, the site id) differs between runs.

The data follows domain-census.md §4: the 12 sub-districts; compounds (小区/里) that each lie in
one 街道 and one 社区, their buildings sharing era, structure, storeys, management and
renovation programmes; the compounds the research names with its stated facts (罗江东里,
观景里, the 西营门 group); ~70 % 1977–2000 5–7-storey brick-concrete walk-ups with the typical
present-day defects; a few % of pre-1977 stock, mostly in 鼓楼 (平房片区, old-town low-rise);
and later RC shear-wall high-rises with elevators.

Every building goes through the one write path (``SurveyWriter``): ``create`` with the register
row, then ``save`` with the inspector's answers, then ``set_status`` for finished records.
"""

from __future__ import annotations

import hashlib
import random
import struct
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count, islice
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from surveyor.errors import SurveyorError
from surveyor.forms.model import Form
from surveyor.i18n import t_in
from surveyor.paths import blob_dir_for
from surveyor.services.survey import BUILDING, STATUSES, SurveyWriter, writer
from surveyor.store import models
from surveyor.store.db import init_store

T = TypeVar("T")

ATTACHMENT = models.TABLES.tables["attachment"]

#: Buildings per write transaction: large enough to be fast, small enough to keep memory flat.
BATCH_SIZE = 500
#: Who imports the register and approves records.
SUPERVISOR = "孙红（督导）"
#: Survey dates are drawn from this window (inclusive).
FIRST_SURVEY_DAY = date(2024, 3, 1)
LAST_SURVEY_DAY = date(2025, 10, 31)
#: The sample register is "imported" at this instant; building ids carry it as their
#: UUIDv7 timestamp (plus the building's index in ms), so ids stay time-ordered.
REGISTER_EPOCH_MS = 1_706_745_600_000  # 2024-02-01T00:00:00Z
#: Share of buildings by status (the rest of the mix follows from the draws).
STATUS_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("not_started", 0.25),
    ("draft", 0.30),
    ("complete", 0.40),
    ("approved", 0.05),
)

INSPECTOR_NAMES = (
    "张伟",
    "李娜",
    "王磊",
    "刘洋",
    "陈静",
    "杨帆",
    "赵军",
    "黄丽",
    "周涛",
    "吴敏",
    "徐强",
    "马丽",
    "胡斌",
    "郭婷",
    "何亮",
    "高燕",
)
_SURNAMES = "张李王刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明")

#: Sub-district code → approximate centre (lat, lon) inside Nankai.
SUBDISTRICT_CENTRES: dict[str, tuple[float, float]] = {
    "changhong": (39.128, 117.158),
    "gulou": (39.143, 117.178),
    "xingnan": (39.129, 117.180),
    "guangkai": (39.138, 117.168),
    "wanxing": (39.121, 117.170),
    "xuefu": (39.106, 117.170),
    "xiangyanglu": (39.140, 117.148),
    "jialingdao": (39.128, 117.135),
    "wangdingdi": (39.112, 117.130),
    "shuishanggongyuan": (39.098, 117.158),
    "tiyuzhongxin": (39.092, 117.175),
    "huayuan": (39.090, 117.118),
}
LAT_RANGE = (39.08, 39.16)
LON_RANGE = (117.10, 117.20)

#: Compound-name stems: the real Nankai ones (罗江东里, 观景里, 宜宾东里, 泊江东里, 沱江里) and
#: look-alikes. Every stem belongs to one sub-district (``stem_homes``), so 宜宾东里 and 宜宾西里
#: are neighbours, never 10 km apart.
_REAL_STEMS = (
    "罗江",
    "观景",
    "宜宾",
    "泊江",
    "沱江",
    "嘉陵",
    "长江",
    "黄河",
    "鞍山",
    "咸阳",
    "西湖",
    "宾水",
    "天拖",
    "迎水",
    "复康",
    "卫津",
    "白堤",
    "南丰",
    "凌宾",
    "简阳",
    "雅安",
    "川府",
    "芥园",
    "密云",
    "华宁",
    "保山",
    "冶金",
    "云居",
    "风荷",
    "假山",
    "邮电",
    "长实",
    "龙井",
    "时代",
    "居华",
    "日华",
    "安华",
    "碧华",
    "天华",
    "地华",
    "久华",
    "长华",
    "雅士",
    "紫金",
    "环湖",
    "红日",
    "万德",
    "庄王",
    "育梁",
    "宁发",
    "崇明",
    "青林",
    "金平",
    "岷江",
    "乐山",
    "雅江",
    "峨眉",
    "大渡",
    "岳阳",
    "汾水",
)
#: Stems whose sub-district is stated or plain from the name; a stem that starts a street's
#: name lives by that street; the rest are dealt out in turn. 泊江/沱江 in 万兴 is an
#: assumption (the research names no 街道 for 西营门片区).
_STEM_HOMES = {
    "泊江": "wanxing",
    "沱江": "wanxing",
    "观景": "shuishanggongyuan",
    "嘉陵": "jialingdao",
    **dict.fromkeys(("居华", "日华", "安华", "碧华", "天华", "地华", "久华", "长华"), "huayuan"),
}
_STEM_FIRST = "安康宁丰华泰和兴嘉瑞福顺昌盛新景秀翠明春"
_STEM_SECOND = "园苑华安康宁丰泰和兴盛景林水湖河阳山"
_OLD_SUFFIXES = (
    ("里", 4.0),
    ("东里", 2.0),
    ("西里", 1.5),
    ("南里", 1.0),
    ("北里", 1.0),
    ("新村", 1.5),
)
_NEW_SUFFIXES = (("花园", 3.0), ("家园", 2.0), ("园", 1.5), ("公寓", 1.0), ("新苑", 1.0))
#: Pre-1977 stock: old-town 里 and 大院; a 平房片区 is a patch of single-storey rows.
_OLD_TOWN_SUFFIXES = (("里", 3.0), ("大院", 1.0))
_BUNGALOW_SUFFIX = "片区"
_PHASES = "二三四五六七八九"
#: Streets for addresses, by sub-district: a compound's address is on a street of its own
#: 街道. The old-town ring roads are 鼓楼's; 宜宾道/罗江路/沱江路 in 万兴 is the same assumption
#: as their compounds'; the rest follow their names or are spread out.
STREETS_BY_SUBDISTRICT: dict[str, tuple[str, ...]] = {
    "changhong": ("长虹支路", "芥园道", "咸阳路", "西湖道"),
    "gulou": ("南门外大街", "城厢中路", "东马路", "北马路", "西马路", "南马路"),
    "xingnan": ("南丰路", "红旗路", "南开三马路"),
    "guangkai": ("广开四马路", "黄河道辅路", "鞍山西道"),
    "wanxing": ("宜宾道", "罗江路", "沱江路", "西营门外大街", "简阳路", "雅安道"),
    "xuefu": ("卫津路", "白堤路", "复康路"),
    "xiangyanglu": ("黄河道", "长江道", "迎水道"),
    "jialingdao": ("嘉陵道", "红旗南路"),
    "wangdingdi": ("王顶堤大街", "保山道", "冶金路", "密云路"),
    "shuishanggongyuan": ("水上公园西路", "水上公园北道", "天拖南道"),
    "tiyuzhongxin": ("凌宾路", "时代奥城路", "宾水西道", "宾水道"),
    "huayuan": ("华苑路", "华苑东路", "华宁道", "航天道", "苍穹道"),
}
#: Share of a sub-district's compounds built before 1977 (research §4.3: the old town and most
#: 平房片区 are in 鼓楼; a few older patches elsewhere).
PRE1977_SHARE = {"gulou": 0.50}
PRE1977_SHARE_ELSEWHERE = 0.01
#: Of the pre-1977 compounds, the share that are 平房片区 (single-storey rows).
BUNGALOW_SHARE = 0.35


@dataclass(frozen=True)
class RealCompound:
    """A compound the research names, with what it states (domain-census.md §4.2).

    ``None`` means "not stated": that fact is drawn like any 1977–2000 compound's.
    """

    name: str
    subdistrict: str
    street: str
    year: int | None = None
    structure: str | None = None
    buildings: int | None = None
    entrances: int | None = None  # 门栋 in the whole compound
    floors: tuple[int, ...] = ()  # storeys its buildings have
    total_area: float | None = None  # m², the whole compound
    mean_area: float | None = None  # m² per building
    per_landing: int | None = None  # flats per landing (derived in §4.2)
    programme: tuple[str, int] | None = None  # the programme it was a pilot of, and its year
    gas_pipes_renewed: bool = False  # the programme renewed the gas pipes


#: 罗江东里: 2012 pilot; 观景里: 2013 pilot (水上公园街); 宜宾东里, 泊江东里, 沱江里: 西营门片区
#: 第五组团, 2024 complete-community upgrade, ≈3,800 m² per building (街道 assumed: 万兴).
REAL_COMPOUNDS = (
    RealCompound(
        "罗江东里",
        "wanxing",
        "罗江路",
        year=1984,
        structure="brick_concrete",
        buildings=14,
        entrances=42,
        floors=(5,),
        total_area=35_500.0,
        per_landing=2,
        programme=("old_building_upgrade", 2012),
        gas_pipes_renewed=True,
    ),
    RealCompound(
        "观景里",
        "shuishanggongyuan",
        "水上公园西路",
        year=1994,
        structure="brick_concrete",
        buildings=6,
        entrances=20,
        floors=(6, 7),
        total_area=50_800.0,
        per_landing=4,
        programme=("old_building_upgrade", 2013),
        gas_pipes_renewed=True,
    ),
    RealCompound(
        "宜宾东里", "wanxing", "宜宾道", mean_area=3_800.0, programme=("old_community_2020", 2024)
    ),
    RealCompound(
        "泊江东里", "wanxing", "沱江路", mean_area=3_800.0, programme=("old_community_2020", 2024)
    ),
    RealCompound(
        "沱江里", "wanxing", "沱江路", mean_area=3_800.0, programme=("old_community_2020", 2024)
    ),
)


def stem_homes(subdistricts: Sequence[str]) -> dict[str, str]:
    """Every compound-name stem → its one sub-district: the known ones from ``_STEM_HOMES``, then
    a street's (宜宾 by 宜宾道), the rest dealt out in turn (the same for every seed)."""
    stems = list(_REAL_STEMS) + [a + b for a in _STEM_FIRST for b in _STEM_SECOND if a != b]
    by_street = {
        street[:2]: sub for sub, streets in STREETS_BY_SUBDISTRICT.items() for street in streets
    }
    homes: dict[str, str] = {}
    dealt = 0
    for stem in stems:
        if stem in homes:
            continue
        home = _STEM_HOMES.get(stem) or by_street.get(stem)
        if home is None:
            home = subdistricts[dealt % len(subdistricts)]
            dealt += 1
        homes[stem] = home
    return homes


Weighted = Sequence[tuple[T, float]]


def _pick(rng: random.Random, options: Weighted[T]) -> T:
    """One option, drawn with the given relative weights."""
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _multi(rng: random.Random, options: Weighted[str], *, empty: str = "none") -> list[str]:
    """Independent draws per option; ``[empty]`` when nothing was drawn."""
    chosen = [code for code, p in options if rng.random() < p]
    return chosen or [empty]


def _uuid7_from(rng: random.Random, unix_ms: int) -> uuid.UUID:
    """A UUIDv7 with a fixed timestamp and a tail from ``rng``: deterministic building ids."""
    value = (unix_ms & ((1 << 48) - 1)) << 80 | rng.getrandbits(80)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0b11 << 62) | 0b10 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


def inspector_names(count: int) -> list[str]:
    """``count`` distinct inspector names; the first 16 are fixed, then composed ones."""
    names = list(INSPECTOR_NAMES[:count])
    i = 0
    while len(names) < count:
        name = (
            _SURNAMES[i % len(_SURNAMES)]
            + _GIVEN[(i // len(_SURNAMES)) % len(_GIVEN)]
            + ("" if i < len(_SURNAMES) * len(_GIVEN) else str(i))
        )
        if name not in names:
            names.append(name)
        i += 1
    return names


# ---------------------------------------------------------------------------------------------
# Placeholder photos: tiny, valid baseline JPEGs encoded here, so their bytes (and the sha256
# stored in the answers) do not depend on an image library's version.

_RGB = tuple[int, int, int]
_PALETTE: dict[str, _RGB] = {
    "S": (150, 190, 230),  # sky
    "W": (70, 90, 110),  # window
    "G": (110, 120, 100),  # ground
    "D": (90, 60, 40),  # door
    "K": (40, 40, 40),  # crack / dark stain
    "Y": (230, 190, 40),  # gas pipe
    "L": (235, 235, 220),  # light
    "R": (120, 120, 125),  # roof / concrete
}
_PICTURES: dict[str, tuple[_RGB, tuple[str, ...]]] = {
    "facade_beige": (
        (220, 200, 160),
        ("SSSSSSSS", "BWBWBWBW", "BBBBBBBB", "BWBWBWBW", "BBBBBBBB", "GGGDGGGG"),
    ),
    "facade_brick": (
        (170, 90, 70),
        ("SSSSSSSS", "BWBWBWBW", "BBBBBBBB", "BWBWBWBW", "BBBDBBBB", "GGGGGGGG"),
    ),
    "facade_grey": (
        (200, 200, 195),
        ("SSSBBSSS", "SSBWWBSS", "SSBWWBSS", "SSBWWBSS", "SSBBDBSS", "GGGGGGGG"),
    ),
    "stairwell": (
        (180, 175, 165),
        ("BBBLLBBB", "BBBLLBBB", "BRRRBBBB", "BBRRRBBB", "BBBRRRBB", "BBBBRRRB"),
    ),
    "gas_riser": (
        (210, 200, 180),
        ("BBYBBBBB", "BBYBWWBB", "BBYBWWBB", "BBYYYYBB", "BBYBBBBB", "BBYBBBBB"),
    ),
    "defect": (
        (200, 190, 170),
        ("BBBBKBBB", "BBBKBBBB", "BBKBBBBB", "BBBKKBBB", "BBBBBKBB", "BBBBBBKB"),
    ),
    "roof": (
        (120, 120, 125),
        ("SSSSSSSS", "SSSSSSSS", "RRRRRRRR", "RRLLRRRR", "RRRRRRLL", "RRRRRRRR"),
    ),
}
_ZIGZAG_LEN = 64
# Standard luminance DC Huffman table (ITU-T T.81 Annex K.3): code lengths and values.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALS = tuple(range(12))
_QUANT = 8  # with flat 8×8 blocks, DC/8 is exactly the level-shifted sample


def _huffman_codes(bits: Sequence[int], vals: Sequence[int]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, n_codes in enumerate(bits, start=1):
        for _ in range(n_codes):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def _ycbcr(rgb: _RGB) -> tuple[int, int, int]:
    r, g, b = rgb

    def clamp(v: float) -> int:
        return min(255, max(0, round(v)))

    return (
        clamp(0.299 * r + 0.587 * g + 0.114 * b),
        clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b),
        clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b),
    )


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def block_jpeg(rows: Sequence[Sequence[_RGB]]) -> bytes:
    """A baseline JPEG whose 8×8 pixel blocks each have one flat colour (a mosaic)."""
    height, width = len(rows) * 8, len(rows[0]) * 8
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALS)
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += _segment(0xDB, bytes([0]) + bytes([_QUANT] * _ZIGZAG_LEN))
    comps = b"".join(bytes([cid, 0x11, 0]) for cid in (1, 2, 3))
    out += _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + comps)
    ac_bits = (1,) + (0,) * 15  # a one-symbol AC table: only end-of-block, code "0"
    out += _segment(0xC4, bytes([0x00, *_DC_BITS, *_DC_VALS]) + bytes([0x10, *ac_bits, 0]))
    out += _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    acc, nbits = 0, 0
    data = bytearray()

    def put(value: int, length: int) -> None:
        nonlocal acc, nbits
        acc = acc << length | value
        nbits += length
        while nbits >= 8:
            nbits -= 8
            byte = acc >> nbits & 0xFF
            data.append(byte)
            if byte == 0xFF:
                data.append(0)  # byte stuffing
        acc &= (1 << nbits) - 1

    pred = [0, 0, 0]
    for row in rows:
        for rgb in row:
            for c, sample in enumerate(_ycbcr(rgb)):
                dc = sample - 128  # = 8 × level-shifted mean / quantiser 8
                diff, pred[c] = dc - pred[c], dc
                size = abs(diff).bit_length()
                code, length = dc_codes[size]
                put(code, length)
                if size:
                    put(diff if diff >= 0 else diff + (1 << size) - 1, size)
                put(0, 1)  # end of block: every AC coefficient is zero
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)  # pad with 1 bits
    out += data + b"\xff\xd9"
    return bytes(out)


@dataclass(frozen=True)
class Blob:
    sha256: str
    data: bytes
    mime: str = "image/jpeg"


def placeholder_blobs() -> dict[str, Blob]:
    """The handful of placeholder photos shared by all sample buildings, by name."""
    blobs = {}
    for name, (wall, pattern) in _PICTURES.items():
        palette = _PALETTE | {"B": wall}
        data = block_jpeg([[palette[ch] for ch in line] for line in pattern])
        blobs[name] = Blob(hashlib.sha256(data).hexdigest(), data)
    return blobs


class _PhotoStore:
    """Writes each placeholder blob and its ``attachment`` row the first time it is used."""

    def __init__(self, blob_dir: Path) -> None:
        self.blob_dir = blob_dir
        self.blobs = placeholder_blobs()
        self.by_sha = {b.sha256: b for b in self.blobs.values()}
        self.saved: set[str] = set()

    def photo(self, name: str, caption: str) -> dict[str, Any]:
        blob = self.blobs[name]
        return {
            "sha256": blob.sha256,
            "size": len(blob.data),
            "mime": blob.mime,
            "caption": caption,
        }

    def ensure(
        self, conn: Connection, answers: Mapping[str, Any], photo_fields: Sequence[str]
    ) -> None:
        for fid in photo_fields:
            for item in answers.get(fid) or ():
                sha = item["sha256"]
                if sha in self.saved:
                    continue
                blob = self.by_sha[sha]
                path = self.blob_dir / sha[:2] / sha[2:]
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    path.write_bytes(blob.data)
                conn.execute(
                    sa.insert(ATTACHMENT),
                    [{"sha256": sha, "size": len(blob.data), "mime": blob.mime, "stored": True}],
                )
                self.saved.add(sha)


# ---------------------------------------------------------------------------------------------
# The register plan: communities → compounds → buildings.


@dataclass(frozen=True)
class Layout:
    """One building of a real compound, laid out so the compound adds up to its stated totals."""

    entrances: int
    floors: int
    area: float
    per_landing: int


def real_compound_layout(real: RealCompound, rng: random.Random) -> tuple[Layout, ...]:
    """Entrances, storeys and floor area per building that add up to the stated 门栋 and m²
    (empty when the research gives no totals). Area goes by entrances × storeys."""
    if not (real.buildings and real.entrances and real.floors and real.total_area):
        return ()
    n = real.buildings
    each, extra = divmod(real.entrances, n)
    entrances = [each + 1] * extra + [each] * (n - extra)
    rng.shuffle(entrances)
    floors = list(real.floors) + [rng.choice(real.floors) for _ in range(n - len(real.floors))]
    rng.shuffle(floors)
    total = sum(e * f for e, f in zip(entrances, floors, strict=True))
    return tuple(
        Layout(e, f, round(real.total_area * e * f / total, 1), real.per_landing or 2)
        for e, f in zip(entrances, floors, strict=True)
    )


@dataclass
class _Stock:
    """What a compound's buildings share because they were built together: era, structure,
    storeys, management and the renovation programmes that reached them."""

    year: int
    years: tuple[int, int]  # the era's bounds: no building of the compound leaves them
    structure: str
    floors: int
    floor_range: tuple[int, int]  # a building may differ by a storey, within these
    management: str
    origin: str
    programmes: dict[str, int]  # programme code → year done (compound-wide)
    size: int
    highrise: bool = False


@dataclass
class _Compound:
    subdistrict: str
    community: str
    name: str
    street: str
    centre: tuple[float, float]
    stock: _Stock
    inspector: str
    first_day: date
    heating: str
    layouts: tuple[Layout, ...] = ()  # a real compound's buildings, as stated
    mean_area: float | None = None  # a real compound's stated m² per building
    fixed_structure: bool = False  # stated by the research: every building has it
    gas_pipes_renewed: bool = False

    # The stock's facts, read everywhere below.
    @property
    def old(self) -> bool:
        """Built by 2000: the old-community stock (pre-1977 included)."""
        return self.stock.year <= 2000

    @property
    def pre1977(self) -> bool:
        return self.stock.year <= 1976

    @property
    def bungalow(self) -> bool:
        """A 平房片区: single-storey rows."""
        return self.stock.floors == 1

    @property
    def highrise(self) -> bool:
        return self.stock.highrise

    @property
    def year(self) -> int:
        return self.stock.year

    @property
    def structure(self) -> str:
        return self.stock.structure

    @property
    def floors(self) -> int:
        return self.stock.floors

    @property
    def management(self) -> str:
        return self.stock.management

    @property
    def origin(self) -> str:
        return self.stock.origin

    @property
    def programmes(self) -> dict[str, int]:
        return self.stock.programmes


@dataclass
class _Plan:
    """One building to write: register row, target status and the survey answers."""

    building_id: uuid.UUID
    register: dict[str, Any]
    status: str
    inspector: str
    answers: dict[str, Any] = field(default_factory=dict)


class _Generator:
    def __init__(
        self, rng: random.Random, form: Form, inspectors: list[str], photos: _PhotoStore
    ) -> None:
        self.rng = rng
        self.form = form
        self.inspectors = inspectors
        self.photos = photos
        self.subdistricts = [c.code for c in form.field("subdistrict").choices]
        self.section_index = {s.id: i for i, s in enumerate(form.sections)}
        # The research's compounds keep their names: no drawn compound takes one.
        self.used_names: set[str] = {real.name for real in REAL_COMPOUNDS}
        self.real_pending = {
            sub: [real for real in REAL_COMPOUNDS if real.subdistrict == sub]
            for sub in self.subdistricts
        }
        self.pre1977_due = {sub: rng.random() for sub in self.subdistricts}
        self.street_next: dict[str, int] = {}
        homes = stem_homes(self.subdistricts)
        self.stems = {sub: [s for s, h in homes.items() if h == sub] for sub in self.subdistricts}
        self.real_stems = {
            sub: [s for s in _REAL_STEMS if homes[s] == sub] for sub in self.subdistricts
        }
        self.count = 0

    # -- register -------------------------------------------------------------------------
    def plans(self, total: int) -> Iterator[_Plan]:
        """``total`` building plans, compound by compound; sub-districts cycle in shuffled
        rounds so every one of them appears early."""
        order: list[str] = []
        while self.count < total:
            if not order:
                order = list(self.subdistricts)
                self.rng.shuffle(order)
            sub = order.pop()
            community: str | None = None
            for _ in range(_pick(self.rng, ((1, 5.0), (2, 3.0), (3, 2.0)))):
                compound = self._compound(sub, community)
                community = compound.community
                for k in range(compound.stock.size):
                    if self.count >= total:
                        return
                    yield self._building(compound, k)
                    self.count += 1

    def _compound_name(self, sub: str, suffixes: Weighted[str]) -> str:
        """A new compound name from the sub-district's own stems: a name belongs to one place."""
        rng = self.rng
        stems = self.stems.get(sub) or [s for pool in self.stems.values() for s in pool]
        real = self.real_stems.get(sub) or stems
        for _ in range(12):
            pool = real if _chance(rng, 0.5) else stems
            name = rng.choice(pool) + _pick(rng, suffixes)
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        base = rng.choice(stems) + _pick(rng, suffixes)
        for n in count():
            phase = _PHASES[n] if n < len(_PHASES) else str(n + 2)
            name = f"{base}{phase}期"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise AssertionError("unreachable")  # pragma: no cover

    def _compound(self, sub: str, community: str | None) -> _Compound:
        """The next compound of a visit to ``sub``: a research-named one first (it heads its
        own 社区), else one drawn by era."""
        rng = self.rng
        pending = self.real_pending.get(sub)
        if community is None and pending:
            return self._real_compound(pending.pop(0))
        # Pre-1977 compounds come at a steady rate per sub-district: drawn one by one, a few-%
        # share swung from 1 % to 5 % between seeds.
        due = self.pre1977_due.get(sub, 0.0) + PRE1977_SHARE.get(sub, PRE1977_SHARE_ELSEWHERE)
        self.pre1977_due[sub] = due % 1.0
        # Old compounds are bigger: 64 % of them make ~70 % of the buildings (research §4.3).
        era = "pre1977" if due >= 1.0 else "old" if _chance(rng, 0.64) else "new"
        suffixes: Weighted[str]
        if era == "pre1977":
            stock = self._pre1977_stock()
            suffixes = ((_BUNGALOW_SUFFIX, 1.0),) if stock.floors == 1 else _OLD_TOWN_SUFFIXES
        elif era == "old":
            stock = self._walkup_stock()
            suffixes = _OLD_SUFFIXES
        else:
            stock = self._new_stock()
            suffixes = _NEW_SUFFIXES
        streets = STREETS_BY_SUBDISTRICT.get(sub) or STREETS_BY_SUBDISTRICT["gulou"]
        return self._assemble(
            sub, community, self._compound_name(sub, suffixes), rng.choice(streets), stock
        )

    def _real_compound(self, real: RealCompound) -> _Compound:
        """A compound the research names, with its stated facts; the rest drawn as for any
        1977–2000 compound."""
        stock = self._walkup_stock()
        if real.year is not None:
            stock.year, stock.years = real.year, (real.year, real.year)
        if real.structure is not None:
            stock.structure = real.structure
        if real.floors:
            stock.floors = real.floors[0]
            stock.floor_range = (min(real.floors), max(real.floors))
        layouts = real_compound_layout(real, self.rng)
        if layouts:
            stock.size = len(layouts)
        compound = self._assemble(real.subdistrict, None, real.name, real.street, stock)
        if real.programme is not None and real.programme[1] <= compound.first_day.year:
            code, year = real.programme
            stock.programmes[code] = year
        compound.layouts = layouts
        compound.mean_area = real.mean_area
        compound.fixed_structure = real.structure is not None
        compound.gas_pipes_renewed = real.gas_pipes_renewed
        return compound

    def _assemble(
        self, sub: str, community: str | None, name: str, street: str, stock: _Stock
    ) -> _Compound:
        """The compound's place, inspector and heating around its building stock."""
        rng = self.rng
        if stock.floors == 1:  # 平房: mostly stoves replaced by electric or gas heaters
            heating_odds: Weighted[str] = (
                ("electric", 40.0),
                ("gas_wall", 20.0),
                ("dh_unknown", 20.0),
                ("none", 20.0),
            )
        elif stock.year < 2016:
            heating_odds = (
                ("dh_chp", 45.0),
                ("dh_boiler", 25.0),
                ("dh_unknown", 22.0),
                ("gas_wall", 5.0),
                ("electric", 2.0),
                ("heat_pump", 1.0),
            )
        else:
            heating_odds = (
                ("dh_chp", 50.0),
                ("dh_boiler", 20.0),
                ("dh_unknown", 15.0),
                ("gas_wall", 8.0),
                ("heat_pump", 5.0),
                ("electric", 2.0),
            )
        heating = _pick(rng, heating_odds)
        lat0, lon0 = SUBDISTRICT_CENTRES.get(sub, (39.12, 117.15))
        centre = (
            min(LAT_RANGE[1] - 0.002, max(LAT_RANGE[0] + 0.002, rng.gauss(lat0, 0.006))),
            min(LON_RANGE[1] - 0.002, max(LON_RANGE[0] + 0.002, rng.gauss(lon0, 0.007))),
        )
        span = (LAST_SURVEY_DAY - FIRST_SURVEY_DAY).days
        return _Compound(
            subdistrict=sub,
            community=community or f"{name}社区",
            name=name,
            street=street,
            centre=centre,
            stock=stock,
            inspector=rng.choice(self.inspectors),
            first_day=FIRST_SURVEY_DAY + timedelta(days=rng.randint(0, span)),
            heating=heating,
        )

    def _pre1977_stock(self) -> _Stock:
        """≤1976 (research §4.3): a 平房片区 of single-storey brick-timber rows, or old-town
        low-rise and early multi-storey, brick-timber or early brick-concrete."""
        rng = self.rng
        if _chance(rng, BUNGALOW_SHARE):
            year = rng.randint(1930, 1975)
            structure, floors, floor_range = "brick_wood", 1, (1, 1)
            size = round(rng.triangular(4, 16, 8))
            programmes = self._old_programmes(energy=0.0, upgrade=0.0, safety=0.60)
        else:
            year = rng.randint(1950, 1976)
            structure = _pick(rng, (("brick_wood", 45.0), ("brick_concrete", 55.0)))
            floors = rng.randint(2, 3) if structure == "brick_wood" else rng.randint(3, 4)
            floor_range = (2, 4)
            size = round(rng.triangular(3, 10, 5))
            programmes = self._old_programmes(energy=0.35, upgrade=0.50, safety=0.55)
        management = _pick(rng, (("none", 55.0), ("basic", 35.0), ("work_unit", 10.0)))
        origin = _pick(
            rng,
            (
                ("public_direct", 45.0),
                ("work_unit", 15.0),
                ("mixed", 25.0),
                ("unknown", 15.0),
            ),
        )
        return _Stock(
            year, (1900, 1976), structure, floors, floor_range, management, origin, programmes, size
        )

    def _walkup_stock(self) -> _Stock:
        """1977–2000: post-earthquake and work-unit walk-ups, mostly 5–7-storey brick-concrete."""
        rng = self.rng
        year = _pick(
            rng,
            (
                (rng.randint(1977, 1985), 0.35),
                (rng.randint(1986, 1995), 0.45),
                (rng.randint(1996, 2000), 0.20),
            ),
        )
        structure = _pick(
            rng,
            (
                ("brick_concrete", 85.0),
                ("large_panel", 5.0),
                ("frame_masonry", 6.0),
                ("rc_frame", 2.0),
                ("brick_wood", 1.0),
                ("other", 1.0),
            ),
        )
        floors = _pick(
            rng,
            ((5, 0.40), (6, 0.45), (7, 0.15)) if year < 1990 else ((5, 0.15), (6, 0.50), (7, 0.35)),
        )
        floor_range = (5, 7)
        if structure == "brick_wood":
            floors = rng.randint(2, 4)
            floor_range = (floors, floors)
        management = _pick(
            rng, (("basic", 55.0), ("none", 20.0), ("work_unit", 10.0), ("professional", 15.0))
        )
        origin = _pick(
            rng,
            (
                ("public_direct", 25.0),
                ("work_unit", 25.0),
                ("reform", 20.0),
                ("resettlement", 12.0),
                ("mixed", 12.0),
                ("unknown", 6.0),
            )
            if year < 1991
            else (
                ("reform", 35.0),
                ("work_unit", 15.0),
                ("commodity", 15.0),
                ("resettlement", 15.0),
                ("mixed", 12.0),
                ("unknown", 8.0),
            ),
        )
        programmes = self._old_programmes(energy=0.70, upgrade=0.80, safety=0.55)
        size = max(3, min(20, round(rng.triangular(3, 20, 8))))
        return _Stock(
            year, (1977, 2000), structure, floors, floor_range, management, origin, programmes, size
        )

    def _new_stock(self) -> _Stock:
        """2001 on: 6-storey walk-ups first, then RC shear-wall high-rises."""
        rng = self.rng
        year = rng.randint(2001, 2023)
        highrise = year >= 2005 or _chance(rng, 0.4)
        if highrise:
            structure = _pick(rng, (("rc_shear", 92.0), ("rc_frame", 5.0), ("other", 3.0)))
            floors = min(30, max(10, round(rng.triangular(10, 30, 18))))
            floor_range = (10, 30)
        else:
            structure = _pick(
                rng, (("brick_concrete", 70.0), ("frame_masonry", 20.0), ("rc_frame", 10.0))
            )
            floors = _pick(rng, ((6, 0.8), (7, 0.2)))
            floor_range = (5, 7)
        management = _pick(rng, (("professional", 85.0), ("basic", 15.0)))
        origin = _pick(
            rng,
            (("commodity", 65.0), ("resettlement", 15.0), ("affordable", 15.0), ("mixed", 5.0)),
        )
        programmes = {}
        if year <= 2004 and _chance(rng, 0.3):
            programmes["energy_retrofit"] = rng.randint(2010, 2015)
        size = max(3, min(20, round(rng.triangular(3, 15, 6))))
        return _Stock(
            year,
            (2001, LAST_SURVEY_DAY.year),
            structure,
            floors,
            floor_range,
            management,
            origin,
            programmes,
            size,
            highrise,
        )

    def _old_programmes(self, *, energy: float, upgrade: float, safety: float) -> dict[str, int]:
        """Tianjin's renovation waves, as they hit a pre-2000 compound (the 旧楼区 upgrade and
        the energy retrofit were for multi-storey 楼区, not 平房)."""
        rng = self.rng
        done: dict[str, int] = {}
        if _chance(rng, energy):
            done["energy_retrofit"] = rng.randint(2008, 2015)
        if _chance(rng, upgrade):
            done["old_building_upgrade"] = rng.randint(2012, 2014)
        if _chance(rng, safety):
            done["safety_upgrade"] = rng.randint(2017, 2019)
        if _chance(rng, 0.15):
            done["old_community_2020"] = rng.randint(2020, 2023)
        if _chance(rng, 0.05):
            done["seismic"] = rng.randint(2009, 2012)
        return done

    def _building(self, c: _Compound, k: int) -> _Plan:
        rng = self.rng
        bid = _uuid7_from(rng, REGISTER_EPOCH_MS + self.count)
        number = self.street_next.get(c.street, rng.randint(1, 40))
        self.street_next[c.street] = number + rng.choice((1, 2, 2, 4))
        register = {
            "district": "nankai",
            "subdistrict": c.subdistrict,
            "community": c.community,
            "compound_name": c.name,
            "building_no": f"{k + 1}号楼",
            "address": f"南开区{c.street}{number}号",
        }
        status = _pick(rng, STATUS_WEIGHTS)
        plan = _Plan(bid, register, status, c.inspector)
        if status != "not_started":
            answers = self._answers(c, k, register, finished=status != "draft")
            if status == "draft":
                keep = rng.randint(1, self.section_index["energy_data"])
                answers = {
                    fid: v
                    for fid, v in answers.items()
                    if self.section_index[self.form.field(fid).section_id] < keep
                }
            plan.answers = answers
        return plan

    # -- answers ----------------------------------------------------------------------------
    def _answers(
        self, c: _Compound, k: int, register: Mapping[str, Any], *, finished: bool
    ) -> dict[str, Any]:
        rng = self.rng
        a: dict[str, Any] = {}
        day = min(LAST_SURVEY_DAY, c.first_day + timedelta(days=k // 3 + rng.randint(0, 2)))
        survey_year = day.year
        # S0 record
        a["survey_date"] = day.isoformat()
        a["inspector_name"] = c.inspector
        census = _chance(rng, 0.15)
        a["info_sources"] = (
            ["site"]
            + [
                code
                for code, p in (
                    ("property", 0.0 if c.management == "none" else 0.6),
                    ("committee", 0.7),
                    ("archive", 0.25),
                    ("residents", 0.6),
                )
                if _chance(rng, p)
            ]
            + (["census2021"] if census else [])
        )
        # S1 identification (register fields come from the register)
        if _chance(rng, 0.92):
            a["location"] = {
                "lat": round(c.centre[0] + rng.uniform(-0.0012, 0.0012), 6),
                "lon": round(c.centre[1] + rng.uniform(-0.0015, 0.0015), 6),
            }
        if census:
            a["building_census_code"] = f"120104{rng.randrange(10**12):012d}"
        heritage = (
            (("none", 80.0), ("style", 15.0), ("unknown", 5.0))
            if c.subdistrict == "gulou" and c.old and c.year < 1985
            else (("none", 96.0), ("unknown", 4.0))
        )
        a["heritage_status"] = _pick(rng, heritage)
        self._basic_facts(a, c, k, survey_year)
        self._structure(a, c, survey_year)
        self._envelope(a, c, survey_year)
        self._heating(a, c, day)
        self._pipes(a, c, survey_year)
        self._elevators(a, c, survey_year)
        self._stairwells(a, c)
        self._accessibility(a, c)
        self._digital(a, c)
        self._energy_data(a, survey_year)
        if finished:
            self._photos(a, register)
        self._remarks(a, c)
        return a

    def _basic_facts(self, a: dict[str, Any], c: _Compound, k: int, survey_year: int) -> None:
        rng = self.rng
        # A building may be finished a year or two after its compound's first, inside the era.
        late = c.year + _pick(rng, ((0, 0.7), (1, 0.2), (2, 0.1)))
        year = min(survey_year - 1, c.stock.years[1], late)
        a["year_built"] = year
        a["year_built_basis"] = _pick(
            rng, (("archive", 30.0), ("plate", 20.0), ("resident", 35.0), ("estimate", 15.0))
        )
        a["housing_origin"] = (
            c.origin if _chance(rng, 0.9) else _pick(rng, (("mixed", 1.0), ("unknown", 1.0)))
        )
        if a["housing_origin"] == "public_direct":  # most tenants bought under the reform
            a["single_owner"] = _pick(rng, (("no", 75.0), ("yes", 10.0), ("unknown", 15.0)))
        structure = c.structure
        if c.old and not c.fixed_structure and structure == "brick_concrete" and _chance(rng, 0.03):
            structure = "frame_masonry"
        use = _pick(rng, (("residential", 80.0), ("res_shop", 17.0), ("mixed", 3.0)))
        if structure == "frame_masonry":
            use = "res_shop"
        a["building_use"] = use
        a["structure_type"] = structure
        if structure in ("brick_concrete", "brick_wood", "frame_masonry") and _chance(rng, 0.9):
            a["floor_slab_type"] = _pick(
                rng,
                # timber floors and roofs: no slab choice fits, mostly
                (("unknown", 55.0), ("mixed", 30.0), ("precast_hollow", 15.0))
                if structure == "brick_wood"
                else (
                    ("precast_hollow", 50.0),
                    ("cast_in_situ", 30.0),
                    ("mixed", 10.0),
                    ("unknown", 10.0),
                )
                if year <= 1976
                else (
                    ("precast_hollow", 75.0),
                    ("cast_in_situ", 10.0),
                    ("mixed", 8.0),
                    ("unknown", 7.0),
                )
                if year <= 1995
                else (
                    ("precast_hollow", 35.0),
                    ("cast_in_situ", 45.0),
                    ("mixed", 12.0),
                    ("unknown", 8.0),
                ),
            )
        layout = c.layouts[k] if k < len(c.layouts) else None
        floors = c.floors if layout is None else layout.floors
        low, high = c.stock.floor_range
        if c.highrise:
            floors = max(low, min(high, floors + rng.randint(-3, 3)))
        elif layout is None and low < high and _chance(rng, 0.15):
            floors = max(low, min(high, floors + rng.choice((-1, 1))))
        a["floors_above"] = floors
        if layout is not None:  # a real compound's stated 门栋 and m²
            a["floors_below"] = 0
            entrances = layout.entrances
            households = floors * entrances * layout.per_landing
            flat = layout.area / households
        elif floors == 1:  # a 平房 row: every household has its own door
            a["floors_below"] = 0
            households = entrances = rng.randint(4, 12)
            flat = rng.uniform(25, 45)
        elif floors <= 4:  # old-town low-rise: small stairs, small flats
            a["floors_below"] = 1 if _chance(rng, 0.05) else 0
            entrances = _pick(rng, ((1, 0.30), (2, 0.45), (3, 0.25)))
            per_landing = _pick(rng, ((2, 0.40), (3, 0.35), (4, 0.25)))
            households = floors * entrances * per_landing
            if use != "residential":
                households -= entrances * rng.randint(0, per_landing - 1)  # shops at ground level
            flat = rng.uniform(35, 58)
        elif c.highrise:
            a["floors_below"] = _pick(rng, ((0, 0.15), (1, 0.6), (2, 0.25)))
            entrances = _pick(rng, ((1, 0.45), (2, 0.4), (3, 0.15)))
            per_landing = _pick(rng, ((2, 0.3), (3, 0.2), (4, 0.35), (6, 0.15)))
            households = floors * entrances * per_landing
            flat = rng.uniform(80, 130)
        else:
            a["floors_below"] = 1 if _chance(rng, 0.08) else 0
            # §4.2: ≈69 dwellings and ≈4,600 m² per pre-2000 building on average.
            entrances = _pick(rng, ((2, 0.15), (3, 0.40), (4, 0.45)))
            per_landing = _pick(rng, ((2, 0.25), (3, 0.50), (4, 0.25)))
            households = floors * entrances * per_landing
            while households < 40 and per_landing < 4:
                per_landing += 1
                households = floors * entrances * per_landing
            while households > 120:
                per_landing -= 1
                households = floors * entrances * per_landing
            if use != "residential":
                households -= entrances * rng.randint(0, per_landing)  # shops at ground level
            households = max(40 if floors >= 5 else 8, households - rng.randint(0, 2))
            flat = rng.uniform(52, 82)
        a["entrance_count"] = entrances
        a["household_count"] = households
        area = households * flat
        if c.mean_area is not None:  # stated m² per building: around it, ≥30 m² a flat
            area = max(30.0 * households, c.mean_area * rng.triangular(0.75, 1.25, 1.0))
        if layout is None and not c.highrise and floors >= 5:
            area = min(8500.0, max(2500.0, area))
        a["gross_floor_area"] = round(area, 1)
        a["non_self_contained_units"] = self._shared_flats(year, floors, households)
        a["property_management"] = c.management
        programmes = dict(c.programmes)
        if not c.highrise and floors >= 4 and programmes and _chance(rng, 0.03):
            programmes["elevator_added"] = rng.randint(2020, survey_year)
        if c.old and _chance(rng, 0.04):
            a["prior_programmes"] = ["unknown"]
        elif programmes:
            a["prior_programmes"] = list(programmes)
            if _chance(rng, 0.9):
                last = min(max(programmes.values()), survey_year)
                a["last_renovation_year"] = max(last, year)
            else:
                a["last_renovation_year"] = "unknown"
        else:
            a["prior_programmes"] = ["none"]
        # Facts the later sections depend on (not answers).
        a["_programmes"] = programmes

    def _shared_flats(self, year: int, floors: int, households: int) -> int:
        """Dwellings without their own kitchen or WC: common in pre-1977 stock (平房 rows share
        public toilets), rare in the 1980s, none later."""
        rng = self.rng
        if year <= 1976 and floors == 1:
            return rng.randint(households // 2, households) if _chance(rng, 0.7) else 0
        if year <= 1976:
            return rng.randint(1, max(1, households // 3)) if _chance(rng, 0.45) else 0
        if year <= 1985 and _chance(rng, 0.12):
            return rng.randint(1, max(1, households // 10))
        return 0

    def _structure(self, a: dict[str, Any], c: _Compound, survey_year: int) -> None:
        rng = self.rng
        old = c.old
        a["appraisal_done"] = _pick(
            rng,
            (("no", 45.0), ("unknown", 35.0), ("yes", 20.0))
            if old
            else (("no", 60.0), ("unknown", 35.0), ("yes", 5.0)),
        )
        if a["appraisal_done"] == "yes":
            lo = max(a["year_built"], 2005)
            a["appraisal_year"] = rng.randint(lo, survey_year) if _chance(rng, 0.9) else "unknown"
            a["appraisal_grade"] = _pick(
                rng, (("A", 15.0), ("B", 55.0), ("C", 25.0), ("D", 2.0), ("other", 3.0))
            )
        if "seismic" in a["_programmes"]:
            a["seismic_retrofit"] = "yes"
        else:
            a["seismic_retrofit"] = _pick(
                rng, (("no", 45.0), ("unknown", 55.0)) if old else (("no", 80.0), ("unknown", 20.0))
            )
        if a.get("appraisal_grade") in ("C", "D"):  # a dangerous grade has visible symptoms
            crack_odds: Weighted[str] = (("visible", 70.0), ("severe", 30.0))
        elif old:
            crack_odds = (("none", 35.0), ("hairline", 40.0), ("visible", 20.0), ("severe", 5.0))
        else:
            crack_odds = (("none", 70.0), ("hairline", 27.0), ("visible", 3.0))
        cracks = _pick(rng, crack_odds)
        a["structural_cracks"] = cracks
        masonry = a["structure_type"] in (
            "brick_concrete",
            "brick_wood",
            "frame_masonry",
            "large_panel",
        )
        if cracks in ("visible", "severe"):
            places = (
                ("wall", 0.7),
                ("slab", 0.35 if masonry else 0.15),
                ("parapet", 0.25),
                ("balcony", 0.2),
                ("foundation", 0.1),
                ("beam", 0.1 if not masonry else 0.03),
                ("column", 0.1 if a["structure_type"] in ("rc_frame", "frame_masonry") else 0.0),
            )
            a["crack_locations"] = _multi(rng, places, empty="wall")
        a["tilt_settlement"] = _pick(rng, (("none", 93.0), ("suspected", 6.0), ("obvious", 1.0)))
        if a["structure_type"] in ("brick_concrete", "brick_wood", "frame_masonry"):
            a["masonry_deterioration"] = _pick(
                rng,
                (("none", 30.0), ("local", 50.0), ("extensive", 20.0))
                if c.pre1977
                else (("none", 55.0), ("local", 38.0), ("extensive", 7.0))
                if old
                else (("none", 90.0), ("local", 10.0)),
            )
        else:
            a["masonry_deterioration"] = "na"
        if old:
            alterations = _multi(
                rng,
                (
                    ("sill_wall_removed", 0.12),
                    ("bay_window_added", 0.05),
                    ("rooftop_addition", 0.06),
                    ("bearing_wall_removed", 0.03),
                    ("column_removed", 0.05 if a["building_use"] != "residential" else 0.0),
                ),
            )
            a["unauthorized_alterations"] = ["unknown"] if _chance(rng, 0.1) else alterations
        else:
            a["unauthorized_alterations"] = _multi(rng, (("bay_window_added", 0.03),))
        a["balcony_condition"] = _pick(
            rng,
            (
                ("good", 30.0),
                ("minor", 45.0),
                ("exposed_rebar", 18.0),
                ("severe", 2.0),
                ("none", 5.0),
            )
            if old
            else (("good", 80.0), ("minor", 18.0), ("none", 2.0)),
        )

    def _envelope(self, a: dict[str, Any], c: _Compound, survey_year: int) -> None:
        rng = self.rng
        year = a["year_built"]
        structure = a["structure_type"]
        if structure == "large_panel":
            material, thickness = "concrete_panel", _pick(rng, ((200, 0.5), (250, 0.5)))
        elif structure in ("rc_shear", "rc_frame", "steel", "other") and not c.old:
            material = _pick(rng, (("cast_concrete", 60.0), ("block", 40.0)))
            thickness = _pick(rng, ((200, 0.5), (250, 0.3), (300, 0.2)))
        elif year < 1995:
            material = "solid_clay_brick"
            thickness = _pick(
                rng,
                ((240, 0.6), (370, 0.4)) if c.floors <= 4 else ((370, 0.7), (240, 0.2), (490, 0.1)),
            )
        else:
            material = _pick(
                rng, (("perforated_brick", 50.0), ("solid_clay_brick", 35.0), ("block", 15.0))
            )
            thickness = _pick(rng, ((370, 0.5), (240, 0.5)))
        if _chance(rng, 0.05):
            material = "unknown"
        a["wall_material"] = material
        if material != "unknown" and _chance(rng, 0.9):
            a["wall_thickness_mm"] = thickness if _chance(rng, 0.92) else "unknown"
        retrofit = a["_programmes"].get("energy_retrofit")
        if retrofit is not None or year >= 2005:
            insulation = "external" if _chance(rng, 0.95) else "unknown"
            ins_year = retrofit if retrofit is not None else year
        elif year >= 1996:
            insulation = _pick(rng, (("internal", 30.0), ("none", 50.0), ("unknown", 20.0)))
            ins_year = year
        else:
            insulation = _pick(rng, (("none", 85.0), ("unknown", 15.0)))
            ins_year = year
        a["wall_insulation"] = insulation
        eps_retrofit = False
        if insulation in ("external", "internal", "sandwich"):
            if insulation == "internal":
                ins_material = _pick(rng, (("mortar", 60.0), ("eps", 30.0), ("unknown", 10.0)))
            elif ins_year >= 2015:
                ins_material = _pick(
                    rng,
                    (
                        ("rock_wool", 35.0),
                        ("composite", 30.0),
                        ("xps", 15.0),
                        ("eps", 15.0),
                        ("unknown", 5.0),
                    ),
                )
            else:
                ins_material = _pick(
                    rng, (("eps", 78.0), ("xps", 10.0), ("mortar", 6.0), ("unknown", 6.0))
                )
            a["insulation_material"] = ins_material
            eps_retrofit = ins_material == "eps" and 2008 <= ins_year <= 2015
            thick = (
                rng.choice((30, 40))
                if insulation == "internal"
                else rng.choice((50, 60, 60, 80))
                if ins_year < 2013
                else rng.choice((80, 90, 100, 120))
            )
            a["insulation_thickness_mm"] = "unknown" if _chance(rng, 0.10) else thick
            if _chance(rng, 0.85):
                a["insulation_year"] = (
                    min(max(ins_year, year), survey_year) if _chance(rng, 0.9) else "unknown"
                )
        finish = _pick(
            rng,
            (("paint", 55.0), ("render", 20.0), ("tile", 6.0), ("fair_brick", 10.0), ("mixed", 9.0))
            if c.old
            else (("paint", 50.0), ("tile", 35.0), ("stone", 5.0), ("mixed", 10.0)),
        )
        if insulation == "external" and finish == "fair_brick":
            finish = "paint"
        a["facade_finish"] = finish
        leak_prone = c.old
        a["facade_defects"] = _multi(
            rng,
            (
                # none on a wall recorded without insulation (the form warns about that)
                ("insulation_cracked", 0.40 if eps_retrofit else 0.03 * (insulation != "none")),
                ("insulation_detached", 0.15 if eps_retrofit else 0.0),
                ("tile_hollow_falling", 0.35 if finish in ("tile", "mixed") else 0.0),
                (
                    "render_spalling",
                    0.25 if leak_prone and finish in ("render", "paint", "mixed") else 0.02,
                ),
                ("parapet_damaged", 0.15 if leak_prone else 0.02),
                ("water_staining", 0.25 if leak_prone else 0.05),
            ),
        )
        a["hanging_objects"] = _multi(
            rng,
            (
                ("ac_brackets_rusted", 0.40 if c.old else 0.08),
                ("grilles_oversized", 0.35 if c.old else 0.03),
                ("signs", 0.5 if a["building_use"] != "residential" else 0.02),
                ("cables", 0.40 if c.old else 0.08),
            ),
        )
        if c.old:
            share = _pick(
                rng,
                (
                    ("p0", 4.0),
                    ("p25", 10.0),
                    ("p50", 20.0),
                    ("p75", 36.0),
                    ("p100", 25.0),
                    ("unknown", 5.0),
                ),
            )
        else:
            share = _pick(rng, (("p100", 90.0), ("p75", 10.0)))
        a["windows_replaced_share"] = share
        if share in ("p0", "p25"):
            frame = _pick(
                rng, (("steel", 45.0), ("wood", 10.0), ("alu_plain", 15.0), ("mixed", 30.0))
            )
            glazing = _pick(rng, (("single", 55.0), ("double_air", 35.0), ("mixed", 10.0)))
        elif share in ("p50", "p75", "unknown"):
            frame = _pick(rng, (("mixed", 55.0), ("pvc", 30.0), ("steel", 10.0), ("unknown", 5.0)))
            glazing = _pick(
                rng, (("mixed", 50.0), ("igu", 30.0), ("double_air", 15.0), ("unknown", 5.0))
            )
        elif c.old:
            frame = _pick(rng, (("pvc", 70.0), ("alu_thermal_break", 15.0), ("mixed", 15.0)))
            glazing = _pick(rng, (("igu", 80.0), ("mixed", 15.0), ("igu_lowe", 5.0)))
        else:
            frame = _pick(rng, (("pvc", 50.0), ("alu_thermal_break", 50.0)))
            glazing = _pick(
                rng,
                (("igu", 55.0), ("igu_lowe", 40.0), ("triple", 5.0))
                if year >= 2013
                else (("igu", 85.0), ("igu_lowe", 15.0)),
            )
        a["window_frame"] = frame
        a["window_glazing"] = glazing
        if not c.bungalow:  # a 平房 has no stairwell, entrance door or intercom (not asked)
            self._stairwell_envelope(a, c)
        if c.bungalow:  # tiled timber roofs, some flat concrete ones
            roof = _pick(rng, (("pitched", 65.0), ("flat", 30.0), ("unknown", 5.0)))
        elif c.old:
            roof = _pick(
                rng, (("flat", 65.0), ("flat_to_pitched", 25.0), ("pitched", 8.0), ("unknown", 2.0))
            )
        else:
            roof = _pick(rng, (("flat", 85.0), ("pitched", 15.0)))
        a["roof_form"] = roof
        if c.old:
            upgraded = "old_building_upgrade" in a["_programmes"] or retrofit is not None
            a["roof_insulation"] = _pick(
                rng,
                (("present", 60.0), ("none", 15.0), ("unknown", 25.0))
                if upgraded
                else (("none", 55.0), ("present", 10.0), ("unknown", 35.0)),
            )
            a["roof_leakage"] = _pick(
                rng,
                (("none", 45.0), ("local", 38.0), ("severe", 9.0), ("unknown", 8.0))
                if roof == "flat"
                else (("none", 70.0), ("local", 20.0), ("severe", 3.0), ("unknown", 7.0)),
            )
            a["dampness"] = _pick(
                rng,
                (
                    ("none", 45.0),
                    ("local", 32.0),
                    ("severe", 5.0),
                    ("na", 0.0 if a["floors_below"] else 18.0),
                ),
            )
        else:
            a["roof_insulation"] = _pick(rng, (("present", 85.0), ("unknown", 15.0)))
            a["roof_leakage"] = _pick(rng, (("none", 80.0), ("local", 12.0), ("unknown", 8.0)))
            a["dampness"] = _pick(
                rng, (("none", 65.0), ("na", 0.0 if a["floors_below"] else 25.0), ("local", 10.0))
            )

    def _heating(self, a: dict[str, Any], c: _Compound, day: date) -> None:
        rng = self.rng
        source = c.heating
        a["heating_source"] = source
        retrofit = "energy_retrofit" in a["_programmes"]
        year = a["year_built"]
        if source in ("dh_chp", "dh_boiler", "dh_unknown"):
            if year >= 2005:
                layout = _pick(
                    rng,
                    (
                        ("horizontal_per_dwelling", 85.0),
                        ("vertical_double", 10.0),
                        ("unknown", 5.0),
                    ),
                )
                metering = _pick(
                    rng,
                    (("dwelling", 75.0), ("building", 15.0), ("unknown", 10.0))
                    if year >= 2011
                    else (
                        ("dwelling", 35.0),
                        ("building", 35.0),
                        ("time_area", 15.0),
                        ("unknown", 15.0),
                    ),
                )
            elif retrofit:
                layout = _pick(
                    rng,
                    (
                        ("vertical_single_bypass", 55.0),
                        ("vertical_double", 15.0),
                        ("horizontal_per_dwelling", 10.0),
                        ("unknown", 20.0),
                    ),
                )
                metering = _pick(
                    rng,
                    (
                        ("time_area", 40.0),
                        ("dwelling", 25.0),
                        ("building", 20.0),
                        ("unknown", 15.0),
                    ),
                )
            else:
                layout = _pick(
                    rng,
                    (
                        ("vertical_single_series", 60.0),
                        ("vertical_single_bypass", 10.0),
                        ("vertical_double", 10.0),
                        ("unknown", 20.0),
                    ),
                )
                metering = _pick(rng, (("none", 60.0), ("building", 15.0), ("unknown", 25.0)))
            a["heating_layout"] = layout
            a["heat_metering"] = metering
            if _chance(rng, 0.7):
                a["balancing_valve"] = _pick(
                    rng,
                    (("yes", 35.0), ("no", 25.0), ("unknown", 40.0))
                    if retrofit or year >= 2005
                    else (("no", 45.0), ("unknown", 50.0), ("yes", 5.0)),
                )
        if source != "none":
            a["trv"] = _pick(
                rng,
                (("all", 25.0), ("some", 45.0), ("none", 15.0), ("unknown", 15.0))
                if retrofit or year >= 2005
                else (("none", 60.0), ("some", 15.0), ("unknown", 25.0)),
            )
            cold = not retrofit and year < 2005
            a["heating_complaints"] = _pick(
                rng,
                (("many", 30.0), ("some", 40.0), ("none", 20.0), ("unknown", 10.0))
                if cold
                else (("none", 55.0), ("some", 35.0), ("many", 5.0), ("unknown", 5.0)),
            )
            in_season = (day.month, day.day) >= (11, 15) or (day.month, day.day) <= (3, 15)
            if in_season and _chance(rng, 0.6):
                mean = 17.0 if cold else 20.5
                a["indoor_temp_sample"] = round(min(27.0, max(11.0, rng.gauss(mean, 1.8))), 1)
        a["dhw_source"] = _pick(
            rng,
            (
                ("gas_heater", 60.0),
                ("electric", 18.0),
                ("solar", 8.0),
                ("mixed", 12.0),
                ("unknown", 2.0),
            )
            if c.old
            else (
                ("gas_heater", 55.0),
                ("electric", 30.0),
                ("mixed", 10.0),
                ("central", 2.0),
                ("unknown", 3.0),
            ),
        )
        a["pv_installed"] = "yes" if _chance(rng, 0.03) else "no"
        if a["roof_form"] != "unknown" and _chance(rng, 0.5):
            footprint = a["gross_floor_area"] / a["floors_above"]
            a["roof_free_area"] = round(footprint * rng.uniform(0.35, 0.7), 0)

    def _pipes(self, a: dict[str, Any], c: _Compound, survey_year: int) -> None:
        rng = self.rng
        year = a["year_built"]
        programmes = a["_programmes"]
        gulou_old = c.subdistrict == "gulou" and year < 1985
        supply = _pick(
            rng,
            (("piped_ng", 70.0), ("lpg_bottle", 25.0), ("none", 5.0))
            if c.bungalow
            else (("piped_ng", 90.0), ("lpg_bottle", 8.0), ("none", 2.0))
            if gulou_old
            else (("piped_ng", 97.0), ("lpg_bottle", 2.0), ("none", 1.0))
            if c.old
            else (("piped_ng", 94.0), ("none", 6.0)),
        )
        a["gas_supply"] = supply
        if supply == "piped_ng":
            a["gas_riser_location"] = _pick(
                rng,
                (("kitchen", 55.0), ("external", 40.0), ("unknown", 5.0))
                if c.bungalow  # no stairwell
                else (("kitchen", 45.0), ("external", 30.0), ("stairwell", 20.0), ("unknown", 5.0))
                if c.old
                else (("kitchen", 80.0), ("external", 15.0), ("unknown", 5.0)),
            )
            if "old_building_upgrade" in programmes and (c.gas_pipes_renewed or _chance(rng, 0.6)):
                pipe_year = programmes["old_building_upgrade"]
            elif c.bungalow and "safety_upgrade" in programmes:  # 2017–19: gas for 平房片区
                pipe_year = programmes["safety_upgrade"]
            elif year <= 1990:
                pipe_year = rng.randint(max(year, 1983), 1990)  # 三年煤气化 and after
            else:
                pipe_year = year
            if _chance(rng, 0.9):
                a["gas_pipe_year"] = "unknown" if _chance(rng, 0.10) else pipe_year
            age = survey_year - pipe_year
            a["gas_pipe_condition"] = _pick(
                rng,
                (
                    ("corroded", 45.0),
                    ("good", 33.0),
                    ("damaged", 5.0),
                    ("tampered", 7.0),
                    ("unknown", 10.0),
                )
                if age >= 25
                else (("good", 80.0), ("corroded", 8.0), ("tampered", 4.0), ("unknown", 8.0)),
            )
        if supply != "none":
            if _chance(rng, 0.08):
                devices = ["unknown"]
            else:
                modern = supply == "piped_ng" and (
                    not c.old or "old_building_upgrade" in programmes
                )
                devices = _multi(
                    rng,
                    (
                        ("self_closing_valve", 0.75 if modern else 0.2),
                        ("alarm", 0.35 if not c.old else 0.15),
                        ("flame_failure", 0.6 if not c.old else 0.4),
                        ("metal_hose", 0.6 if modern else 0.25),
                    ),
                )
            a["gas_safety_devices"] = devices
            a["rubber_hose"] = _pick(
                rng,
                (("none", 35.0), ("some", 37.0), ("many", 12.0), ("unknown", 16.0))
                if c.old
                else (("none", 70.0), ("some", 20.0), ("unknown", 10.0)),
            )
        replaced = "safety_upgrade" in programmes and _chance(rng, 0.5)
        if c.old and not replaced:
            water = _pick(
                rng,
                (
                    ("galvanised_steel", 65.0),
                    ("cast_iron", 12.0),
                    ("ppr_pe", 10.0),
                    ("cement_asbestos", 3.0),
                    ("unknown", 10.0),
                ),
            )
            # Pre-1950 houses mostly got their piped water (or new risers) after 1949.
            water_year = year if year >= 1950 else rng.randint(1950, 1976)
        elif c.old:
            water = _pick(
                rng, (("ppr_pe", 65.0), ("composite", 20.0), ("stainless", 10.0), ("unknown", 5.0))
            )
            water_year = programmes["safety_upgrade"]
        else:
            water = _pick(
                rng,
                (
                    ("ppr_pe", 50.0),
                    ("composite", 25.0),
                    ("stainless", 15.0),
                    ("galvanised_steel", 5.0),
                    ("unknown", 5.0),
                ),
            )
            water_year = year
        a["water_pipe_material"] = water
        if _chance(rng, 0.8):
            a["water_pipe_year"] = "unknown" if _chance(rng, 0.15) else water_year
        old_pipes = water in ("galvanised_steel", "cast_iron", "cement_asbestos")
        a["water_leaks"] = _pick(
            rng,
            (("none", 45.0), ("some", 37.0), ("frequent", 8.0), ("unknown", 10.0))
            if old_pipes
            else (("none", 85.0), ("some", 10.0), ("unknown", 5.0)),
        )
        floors = a["floors_above"]
        a["secondary_supply"] = (
            _pick(rng, (("variable_pump", 70.0), ("pump_tank", 25.0), ("unknown", 5.0)))
            if floors > 7
            else _pick(
                rng, (("none", 55.0), ("roof_tank", 25.0), ("pump_tank", 10.0), ("unknown", 10.0))
            )
        )
        if _chance(rng, 0.05):
            a["water_quality_pressure"] = ["unknown"]
        else:
            a["water_quality_pressure"] = _multi(
                rng,
                (
                    ("low_pressure", 0.15 if floors >= 6 else 0.05),
                    ("discoloured", 0.30 if old_pipes else 0.04),
                    ("odour", 0.05 if a["secondary_supply"] == "roof_tank" else 0.01),
                ),
            )
        a["drain_issues"] = _multi(
            rng,
            (
                ("leaking", 0.25 if c.old else 0.05),  # cast-iron stacks
                ("blocked", 0.20 if c.old else 0.05),
                ("cracked", 0.10 if c.old else 0.01),
                ("sewage_overflow", 0.08 if c.old else 0.01),
                ("rainwater_leak", 0.15 if c.old else 0.03),
            ),
        )
        a["electrical_issues"] = _multi(
            rng,
            (
                ("aged_wiring", 0.40 if c.old else 0.03),
                ("exposed", 0.15 if c.old else 0.02),
                ("flying_wires", 0.25 if c.old else 0.05),
                ("meter_box_damaged", 0.10 if c.old else 0.02),
                ("undersized", 0.15 if c.old else 0.01),
                ("messy_telecom", 0.45 if c.old else 0.10),
            ),
        )

    def _elevators(self, a: dict[str, Any], c: _Compound, survey_year: int) -> None:
        rng = self.rng
        added = a["_programmes"].get("elevator_added")
        has = c.highrise or added is not None
        a["has_elevator"] = has
        if has:
            entrances = a["entrance_count"]
            per_core = 2 if a["floors_above"] >= 18 else 1
            a["elevator_count"] = entrances * (per_core if added is None else 1)
            first = added if added is not None else a["year_built"]
            if _chance(rng, 0.85):
                a["elevator_oldest_year"] = (
                    min(survey_year, first) if _chance(rng, 0.9) else "unknown"
                )
            age = survey_year - first
            # Most working elevators have no faults worth reporting; old ones fail more often.
            a["elevator_faults"] = _pick(
                rng,
                (
                    ("none", 50.0),
                    ("rare", 22.0),
                    ("frequent", 15.0),
                    ("out_of_service", 3.0),
                    ("unknown", 10.0),
                )
                if age >= 15
                else (("none", 75.0), ("rare", 12.0), ("frequent", 5.0), ("unknown", 8.0)),
            )
        elif a["floors_above"] >= 4:
            a["elevator_addition_space"] = _pick(
                rng, (("yes", 25.0), ("constrained", 40.0), ("no", 15.0), ("not_assessed", 20.0))
            )

    def _stairwell_envelope(self, a: dict[str, Any], c: _Compound) -> None:
        """Stairwell windows and the entrance door, whose intercom goes to ``_digital``."""
        rng = self.rng
        a["stairwell_windows"] = _pick(
            rng,
            (("good", 60.0), ("broken", 35.0), ("no_window", 5.0))
            if c.old
            else (("good", 95.0), ("broken", 5.0)),
        )
        access = _pick(
            rng,
            (("intercom", 60.0), ("none", 25.0), ("smart", 15.0))
            if c.old
            else (("smart", 50.0), ("intercom", 50.0)),
        )
        a["_access_control"] = access
        a["entrance_door"] = (
            "intercom"
            if access != "none"
            else _pick(rng, (("ordinary", 60.0), ("none", 20.0), ("closing_insulated", 20.0)))
        )

    def _stairwells(self, a: dict[str, Any], c: _Compound) -> None:
        rng = self.rng
        old = c.old
        if not c.bungalow:  # a 平房 row has no stairs (not asked)
            a["stair_defects"] = _multi(
                rng,
                (
                    ("steps_damaged", 0.15 if old else 0.02),
                    ("handrail_loose", 0.20 if old else 0.03),
                    ("guardrail_loose", 0.05 if old else 0.01),
                    ("lighting_broken", 0.25 if old else 0.05),
                ),
            )
        a["flue_shaft_blocked"] = _pick(rng, (("no", 70.0), ("yes", 12.0), ("unknown", 18.0)))
        if c.highrise:
            fire = _multi(
                rng,
                (
                    ("fire_door_defective", 0.30),
                    ("hydrant_defective", 0.15),
                    ("exit_sign_defective", 0.20),
                    ("extinguisher_missing", 0.10),
                ),
            )
        else:
            fire = _multi(
                rng,
                (
                    ("extinguisher_missing", 0.40),
                    ("extinguisher_on_floor", 0.20),
                    ("exit_sign_defective", 0.05),
                ),
            )
        a["fire_facility_defects"] = fire
        a["corridor_clutter"] = _pick(
            rng,
            (("none", 45.0), ("some", 45.0), ("serious", 10.0))
            if old
            else (("none", 75.0), ("some", 22.0), ("serious", 3.0)),
        )
        a["ebike_indoors"] = _pick(
            rng,
            (("none", 50.0), ("parked", 35.0), ("charging", 15.0))
            if old
            else (("none", 80.0), ("parked", 15.0), ("charging", 5.0)),
        )
        a["flood_history"] = _pick(
            rng, (("none", 75.0), ("occasional", 18.0), ("frequent", 4.0), ("unknown", 3.0))
        )

    def _accessibility(self, a: dict[str, Any], c: _Compound) -> None:
        rng = self.rng
        old = c.old
        steps = "steps" if _chance(rng, 0.85 if old else 0.5) else "level"
        a["entrance_steps"] = steps
        if steps == "steps":
            if _chance(rng, 0.55 if old else 0.2):
                a["entrance_access"] = ["none"]
            else:
                a["entrance_access"] = _multi(
                    rng,
                    (
                        ("ramp_ok", 0.2 if old else 0.6),
                        ("ramp_poor", 0.35 if old else 0.1),
                        ("handrail", 0.5),
                    ),
                    empty="handrail",
                )
        if not c.bungalow:  # no stairs in a 平房 (not asked)
            a["stair_handrail_wall"] = _pick(
                rng,
                (("one", 80.0), ("both", 10.0), ("none", 10.0))
                if old
                else (("one", 70.0), ("both", 30.0)),
            )
        a["antislip"] = "no" if _chance(rng, 0.65 if old else 0.4) else "yes"
        if _chance(rng, 0.8):
            a["elderly_share"] = _pick(
                rng,
                (
                    ("gt50", 20.0),
                    ("p30_50", 40.0),
                    ("p20_30", 25.0),
                    ("lt20", 5.0),
                    ("unknown", 10.0),
                )
                if old
                else (("lt20", 40.0), ("p20_30", 30.0), ("p30_50", 15.0), ("unknown", 15.0)),
            )
        if _chance(rng, 0.6):
            households = a["household_count"]
            a["mobility_impaired"] = min(
                households, round(households * rng.uniform(0.0, 0.1 if old else 0.04))
            )

    def _digital(self, a: dict[str, Any], c: _Compound) -> None:
        rng = self.rng
        old = c.old
        if "_access_control" in a:  # drawn with the entrance door; a 平房 has neither
            a["access_control"] = a.pop("_access_control")
        security = _multi(rng, (("intrusion_alarm", 0.03 if old else 0.10),))
        cctv = _pick(
            rng,
            (("none", 45.0), ("cctv_partial", 45.0), ("cctv_full", 10.0))
            if old
            else (("cctv_full", 50.0), ("cctv_partial", 40.0), ("none", 10.0)),
        )
        if cctv != "none":
            security = [cctv] + [s for s in security if s != "none"]
        a["security_systems"] = security
        a["smoke_detectors_public"] = _pick(
            rng,
            (("no", 70.0), ("partial", 20.0), ("yes", 10.0))
            if old
            else (("yes", 60.0), ("partial", 25.0), ("no", 15.0)),
        )
        if _chance(rng, 0.05):
            a["smart_meters"] = ["unknown"]
        else:
            a["smart_meters"] = _multi(
                rng,
                (
                    ("electricity", 0.85),
                    ("water", 0.25 if old else 0.5),
                    ("gas", 0.25 if old else 0.45),
                    ("heat", 0.8 if a.get("heat_metering") == "dwelling" else 0.0),
                ),
            )
        a["fiber"] = _pick(rng, (("yes", 80.0), ("partial", 15.0), ("no", 2.0), ("unknown", 3.0)))

    def _energy_data(self, a: dict[str, Any], survey_year: int) -> None:
        rng = self.rng
        available = _chance(rng, 0.15)
        a["energy_data_available"] = available
        if not available:
            return
        a["energy_data_year"] = max(2015, survey_year - rng.choice((1, 1, 2)))
        area = a["gross_floor_area"]
        households = a["household_count"]
        heated = round(area * rng.uniform(0.85, 0.95), 1)
        if _chance(rng, 0.8):
            a["heated_area"] = heated
        if _chance(rng, 0.7):
            a["annual_heat"] = round(heated * rng.uniform(0.22, 0.45), 1)
        if _chance(rng, 0.5):
            a["annual_electricity"] = round(households * rng.uniform(1800, 3200))
        if _chance(rng, 0.4):
            a["annual_gas"] = round(households * rng.uniform(110, 260))
        a["energy_data_source"] = _pick(
            rng,
            (
                ("heat_company", 60.0),
                ("property", 15.0),
                ("grid", 10.0),
                ("gas_company", 5.0),
                ("estimate", 10.0),
            ),
        )

    def _photos(self, a: dict[str, Any], register: Mapping[str, Any]) -> None:
        rng = self.rng
        bno = register["building_no"]
        facade = rng.choice(("facade_beige", "facade_brick", "facade_grey"))
        ph = self.photos.photo
        a["photo_facade_main"] = [ph(facade, f"{register['compound_name']}{bno}主立面")]
        if a["floors_above"] > 1:  # a 平房 has no stairwell to photograph (not asked)
            a["photo_stairwell"] = [
                ph("stairwell", f"{bno}{i + 1}单元楼道")
                for i in range(rng.randint(1, min(3, a["entrance_count"])))
            ]
        if _chance(rng, 0.4):
            a["photo_other"] = [ph("roof", f"{bno}屋面")]
        if a["gas_supply"] == "piped_ng" and _chance(rng, 0.5):
            a["photo_gas_riser"] = [ph("gas_riser", f"{bno}燃气立管")]
        defects = _defects(a)
        if defects:
            a["photo_defects"] = [ph("defect", f"{bno}：{text}") for text in defects[:5]]

    def _remarks(self, a: dict[str, Any], c: _Compound) -> None:
        rng = self.rng
        programmes: dict[str, int] = a.pop("_programmes")
        will = _pick(
            rng,
            (("strong", 45.0), ("moderate", 35.0), ("weak", 8.0), ("not_surveyed", 12.0))
            if c.old
            else (("strong", 10.0), ("moderate", 40.0), ("weak", 30.0), ("not_surveyed", 20.0)),
        )
        a["resident_willingness"] = will
        if will != "not_surveyed" and _chance(rng, 0.85):
            concerns = [
                code
                for code, hit in (
                    ("leaks", a["roof_leakage"] in ("local", "severe")),
                    ("cold", a.get("heating_complaints") == "many"),
                    ("gas", a.get("gas_pipe_condition") in ("corroded", "damaged", "tampered")),
                    ("elevator", not a["has_elevator"] and a["floors_above"] >= 5),
                    ("parking", a["ebike_indoors"] != "none"),
                    ("facade", "insulation_detached" in a["facade_defects"]),
                    (
                        "stairs",
                        a["corridor_clutter"] == "serious"
                        or "lighting_broken" in a.get("stair_defects", ()),
                    ),
                )
                if hit
            ]
            rng.shuffle(concerns)
            a["resident_priorities"] = concerns[:3] or [rng.choice(("security", "other"))]
        if _chance(rng, 0.3):
            a["inspector_remarks"] = _remark(a, programmes)
        follow = []
        if (
            a["structural_cracks"] == "severe"
            or a["tilt_settlement"] == "obvious"
            or a["balcony_condition"] == "severe"
        ):
            follow.append("structural")
        if (
            a.get("gas_pipe_condition") in ("corroded", "damaged", "tampered")
            or a.get("rubber_hose") == "many"
        ):
            follow.append("gas")
        if a["ebike_indoors"] == "charging" or a["corridor_clutter"] == "serious":
            follow.append("fire")
        if a.get("elevator_faults") in ("frequent", "out_of_service"):
            follow.append("elevator")
        a["follow_up"] = follow or ["none"]


_DEFECT_TEXT: tuple[tuple[str, Sequence[str], str], ...] = (
    ("structural_cracks", ("visible", "severe"), "承重墙体裂缝"),
    ("tilt_settlement", ("suspected", "obvious"), "墙角倾斜、勒脚错台"),
    ("masonry_deterioration", ("local", "extensive"), "勒脚砖体风化酥碱"),
    ("balcony_condition", ("exposed_rebar", "severe"), "阳台板底露筋锈胀"),
    ("roof_leakage", ("local", "severe"), "顶层楼梯间顶棚渗水"),
    ("dampness", ("local", "severe"), "底层墙根潮湿霉斑"),
    ("gas_pipe_condition", ("corroded", "damaged", "tampered"), "燃气立管锈蚀"),
)
_MULTI_DEFECT_TEXT: dict[str, str] = {
    "insulation_cracked": "外墙保温层开裂空鼓",
    "insulation_detached": "外墙保温层脱落",
    "tile_hollow_falling": "外墙面砖空鼓脱落",
    "render_spalling": "外檐抹灰脱落",
    "parapet_damaged": "女儿墙破损",
    "water_staining": "外墙渗水痕迹",
    "ac_brackets_rusted": "空调支架锈蚀",
    "grilles_oversized": "防盗网超出外墙",
    "signs": "底商招牌",
    "cables": "外挂线缆杂乱",
}


def _defects(a: Mapping[str, Any]) -> list[str]:
    """Captions for the defects that make ``photo_defects`` required (mirrors its required_if)."""
    found = [text for fid, codes, text in _DEFECT_TEXT if a.get(fid) in codes]
    for fid in ("facade_defects", "hanging_objects"):
        found.extend(_MULTI_DEFECT_TEXT[code] for code in a.get(fid, ()) if code != "none")
    return found


def _remark(a: Mapping[str, Any], programmes: Mapping[str, int]) -> str:
    parts = []
    if "old_building_upgrade" in programmes:
        parts.append(f"{programmes['old_building_upgrade']}年实施旧楼区提升改造")
    if "energy_retrofit" in programmes:
        parts.append(f"{programmes['energy_retrofit']}年完成外墙保温及供热计量改造")
    if "insulation_detached" in a["facade_defects"]:
        parts.append("北立面保温层局部脱落，已设警示")
    if a["roof_leakage"] in ("local", "severe"):
        parts.append("顶层住户反映雨季屋面渗漏")
    if a["ebike_indoors"] == "charging":
        parts.append("楼道内有电动车飞线充电")
    if not a["has_elevator"] and a["floors_above"] >= 5:
        parts.append("无电梯，老年住户上下楼困难")
    if a["water_pipe_material"] == "galvanised_steel":
        parts.append("给水立管为镀锌钢管，锈蚀")
    return "；".join(parts)[:480] + "。" if parts else "现场情况与登记信息一致。"


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def _write(w: SurveyWriter, plan: _Plan, photos: _PhotoStore, photo_fields: Sequence[str]) -> None:
    w.author = SUPERVISOR
    created = w.create(plan.register, building_id=plan.building_id)
    if plan.status == "not_started":
        return
    w.author = plan.inspector
    photos.ensure(w.conn, plan.answers, photo_fields)
    w.save(created.building_id, plan.answers, draft=True)
    if plan.status in ("complete", "approved"):
        w.set_status(created.building_id, "complete")  # IncompleteRecord here = generator bug
    if plan.status == "approved":
        w.author = SUPERVISOR
        w.set_status(created.building_id, "approved")


def planned_buildings(
    form: Form, *, buildings: int, seed: int, inspectors: int = 8
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(status, register row + answers) of each building ``generate_sample`` writes for the
    same arguments, as handed to the write path (which still puts multiple choices in the form's
    order), without writing anything: shares over many buildings, checked in a blink."""
    gen = _Generator(random.Random(seed), form, inspector_names(inspectors), _PhotoStore(Path(".")))
    for plan in gen.plans(buildings):
        yield plan.status, plan.register | plan.answers


def generate_sample(
    out: Path,
    form: Form,
    *,
    buildings: int,
    seed: int,
    inspectors: int = 8,
    lang: str = "en",
) -> str:
    """Create a new SQLite survey database at ``out`` and fill it deterministically.

    Returns a one-line summary with the counts by status.
    """
    if buildings < 1:
        raise SurveyorError("the sample needs at least one building")
    if inspectors < 1:
        raise SurveyorError("the sample needs at least one inspector")
    out = Path(out)
    rng = random.Random(seed)
    names = inspector_names(inspectors)
    store = init_store(out, role="laptop", inspector=names[0])
    try:
        photos = _PhotoStore(blob_dir_for(out))
        photo_fields = [f.id for f in form.fields.values() if f.type == "photo"]
        gen = _Generator(rng, form, names, photos)
        for batch in _batches(gen.plans(buildings), BATCH_SIZE):
            with writer(store, form, SUPERVISOR) as w:
                for plan in batch:
                    _write(w, plan, photos, photo_fields)
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(BUILDING.c.status, sa.func.count()).group_by(BUILDING.c.status)
            ).all()
            compounds = conn.execute(
                sa.select(sa.func.count(sa.distinct(BUILDING.c.compound_name)))
            ).scalar_one()
    finally:
        store.close()
    counts: dict[str, int] = {str(status): int(n) for status, n in rows}
    total = sum(counts.values())
    if lang == "zh":
        mix = "、".join(f"{t_in('zh', f'status.{s}')} {counts.get(s, 0)}" for s in STATUSES)
        return (
            f"{out}：{compounds} 个小区 {total} 栋楼（种子 {seed}，{inspectors} 名普查员）：{mix}"
        )
    mix = ", ".join(f"{s} {counts.get(s, 0)}" for s in STATUSES)
    return (
        f"{out}: {total} buildings in {compounds} compounds (seed {seed}, "
        f"{inspectors} inspectors): {mix}"
    )
