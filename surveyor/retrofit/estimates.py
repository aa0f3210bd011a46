"""Rough, clearly labelled estimates attached to needs (research note §3.5).

They are orders of magnitude for planning, not costs: the only published per-m² figure is the
2007 incentive benchmark, printed as a reference subsidy level. Every input that is a default
rather than an observation is returned as a ``DefaultedInput`` so the sheet can say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from surveyor.forms.model import Localized
from surveyor.retrofit.model import Params


@dataclass(frozen=True)
class DefaultedInput:
    """An input taken from a default or assumption instead of the record."""

    label: Localized
    value: str


@dataclass(frozen=True)
class EstimateResult:
    summary: Localized
    values: dict[str, float] = field(default_factory=dict)
    defaulted: tuple[DefaultedInput, ...] = ()


def _loc(zh: str, en: str) -> Localized:
    return Localized(zh=zh, en=en)


def _yuan(yuan: float, wan_decimals: int) -> tuple[str, str]:
    """An amount of money rounded once, as Chinese counts it (「6.3万元」) and as English does
    ("63,000 yuan"): 万 is not an English word, and both must say the same amount."""
    wan = round(yuan / 10000, wan_decimals)
    return f"{wan:,.{wan_decimals}f}万元", f"{wan * 10000:,.0f} yuan"


def _num(env: Mapping[str, Any], key: str) -> float | None:
    """A numeric answer, or None when missing, 'unknown' or not a number."""
    value = env.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class _Geometry:
    footprint: float
    opaque_wall: float
    window: float
    defaulted: tuple[DefaultedInput, ...]


def _geometry(env: Mapping[str, Any], params: Params) -> _Geometry | None:
    """Element areas from floor area and storeys, with the plan shape assumed (a default)."""
    gfa, floors = _num(env, "gross_floor_area"), _num(env, "floors_above")
    if gfa is None or floors is None or gfa <= 0 or floors <= 0:
        return None
    footprint = gfa / floors
    aspect = params.value("p_plan_aspect_ratio")
    depth = math.sqrt(footprint / aspect)
    perimeter = 2 * (aspect * depth + depth)
    gross_wall = perimeter * floors * params.value("p_storey_height_m")
    window = gross_wall * params.value("p_window_wall_ratio")
    defaulted = (
        DefaultedInput(
            _loc("几何：平面长宽比、层高、窗墙比", "Geometry: plan aspect, storey height, WWR"),
            f"{aspect:g} / {params.value('p_storey_height_m'):g} m / "
            f"{params.value('p_window_wall_ratio'):g}",
        ),
    )
    return _Geometry(footprint, gross_wall - window, window, defaulted)


def _era_u(env: Mapping[str, Any], params: Params, element: str) -> tuple[float, DefaultedInput]:
    """The era's default U-value of an element; E0 (worst) when the era is not known."""
    era = env.get("energy_era")
    table = params.table("p_era_u_values")
    key = era if isinstance(era, str) and era in table else "E0"
    u = table[key][element]
    names = {"wall": ("外墙", "wall"), "roof": ("屋面", "roof"), "window": ("外窗", "window")}
    zh, en = names[element]
    return u, DefaultedInput(
        _loc(f"{zh}U值（{key}年代默认）", f"{en.capitalize()} U-value ({key} era default)"),
        f"{u:g} W/(m²·K)",
    )


#: What was observed sets a floor under the era default: (answer field, answer, parameter).
#: A 2016 building seen with no wall insulation is not an E4 element.
_OBSERVED_U: dict[str, tuple[str, str, str]] = {
    "wall": ("wall_insulation", "none", "p_u_wall_uninsulated"),
    "roof": ("roof_insulation", "none", "p_u_roof_uninsulated"),
}
_OBSERVED_LABEL: dict[str, tuple[str, str]] = {
    "wall": ("外墙U值（观测无保温）", "Wall U-value (seen uninsulated)"),
    "roof": ("屋面U值（观测无保温）", "Roof U-value (seen uninsulated)"),
}
#: Share of the windows not yet replaced, by the replaced-share answer (the band's upper end
#: replaced: p25 "1–25 %" counts 75 % still to do).
_WINDOWS_LEFT = {"p0": 1.0, "p25": 0.75, "p50": 0.5, "p75": 0.25, "p100": 0.0}


def _u_before(env: Mapping[str, Any], params: Params, element: str) -> tuple[float, DefaultedInput]:
    """The era default, raised to the observed element's value where the record says more."""
    if element == "window":
        return _window_u(env, params)
    u, dflt = _era_u(env, params, element)
    fid, answer, pid = _OBSERVED_U[element]
    if env.get(fid) == answer and params.value(pid) > u:
        u = params.value(pid)
        zh, en = _OBSERVED_LABEL[element]
        dflt = DefaultedInput(_loc(zh, en), f"{u:g} W/(m²·K)")
    return u, dflt


def _window_u(env: Mapping[str, Any], params: Params) -> tuple[float, DefaultedInput]:
    """The window U-value from the glazing and frame seen (``p_window_u_values``, rows by
    glazing, columns by frame), raising or lowering the era default.

    Both seen: that cell. One seen (the other unknown or mixed): the era default kept within
    the range that answer allows (single glazing is 4.7–6.4 whatever the era; a steel frame is
    never below 3.0). Neither: the era default.
    """
    u, dflt = _era_u(env, params, "window")
    table = params.table("p_window_u_values")
    glazing, frame = env.get("window_glazing"), env.get("window_frame")
    rows = [table[glazing]] if isinstance(glazing, str) and glazing in table else []
    any_row = next(iter(table.values()))
    frame_seen = isinstance(frame, str) and frame in any_row
    if not rows and not frame_seen:
        return u, dflt
    cells = [
        value
        for row in (rows or list(table.values()))
        for code, value in row.items()
        if not frame_seen or code == frame
    ]
    seen = min(max(u, min(cells)), max(cells))
    if rows and frame_seen:
        zh, en = "按观测窗框与玻璃", "from the frame and glazing seen"
    elif seen == u:
        return u, dflt
    elif rows:
        zh, en = "年代默认，按观测玻璃限定", "era default, bounded by the glazing seen"
    else:
        zh, en = "年代默认，按观测窗框限定", "era default, bounded by the frame seen"
    label = _loc(f"外窗U值（{zh}）", f"Window U-value ({en})")
    return seen, DefaultedInput(label, f"{seen:g} W/(m²·K)")


def _about(amount: float) -> tuple[str, str]:
    """An estimated amount in zh and en: '82' / '≈82', and '<1' for what rounds to 0."""
    if amount < 0.5:
        return "<1", "<1"
    return f"{amount:,.0f}", f"≈{amount:,.0f}"


def _heat_co2_factor(
    env: Mapping[str, Any], params: Params
) -> tuple[float, tuple[DefaultedInput, ...]]:
    """kg CO₂ per kWh of heat saved, by the heating source: electricity for direct electric
    heating, electricity ÷ COP for heat pumps, gas ÷ boiler efficiency for gas boilers (an
    estate gas boiler house included), the district-heat factor for district heat."""
    source = env.get("heating_source")
    electricity = params.value("p_co2_electricity_kg_kwh")
    if source == "electric":
        return electricity, ()
    if source == "heat_pump":
        return electricity / params.value("p_heat_pump_cop"), ()
    if source in ("gas_wall", "dh_boiler"):
        return params.value("p_co2_gas_kg_kwh") / params.value("p_gas_boiler_efficiency"), ()
    factor = params.value("p_co2_heat_kg_kwh")
    if source in ("dh_chp", "dh_unknown"):
        return factor, ()
    assert source != "none", "no heat saving is estimated without heating"
    return factor, (
        DefaultedInput(
            _loc(
                "排放因子：供暖方式不详，按集中供热",
                "CO₂ factor: heating source not known, district heat assumed",
            ),
            f"{factor:g} kgCO₂/kWh",
        ),
    )


def _heat_loss(env: Mapping[str, Any], params: Params, element: str) -> EstimateResult | None:
    """ΔQ ≈ (U_before − U_after) × A × HDD18 × 24 / 1000 kWh per year, and its CO₂."""
    geo = _geometry(env, params)
    if geo is None:
        return None
    area = {"wall": geo.opaque_wall, "roof": geo.footprint, "window": geo.window}[element]
    defaulted: list[DefaultedInput] = []
    if element == "window":
        share = env.get("windows_replaced_share")
        left = _WINDOWS_LEFT.get(share, 1.0) if isinstance(share, str) else 1.0
        area *= left
        if share != "p0":  # a band ("1–25 %"), not a count: its top end is assumed
            defaulted.append(
                DefaultedInput(
                    _loc(
                        "未换窗比例（已换比例按区间上限）",
                        "Windows not yet replaced (replaced share at the top of its band)",
                    ),
                    f"{left:.0%}",
                )
            )
    if env.get("heating_source") == "none":  # nothing heated: no heat to save, no CO₂ factor
        return EstimateResult(
            _loc(
                f"约{area:,.0f} m²，无供暖，不估算节热",
                f"≈{area:,.0f} m², no space heating: no heat saving estimated",
            ),
            {"area_m2": area},
            (*defaulted, *geo.defaulted),
        )
    u_before, dflt = _u_before(env, params, element)
    u_after = params.value(f"p_u_target_{element}")
    saving = max(u_before - u_after, 0.0) * area * params.value("p_hdd18") * 24 / 1000
    if saving <= 0:  # already at or below the target: no saving to estimate, never "0 MWh"
        return EstimateResult(
            _loc(
                f"约{area:,.0f} m²，预计无节热（现状U值{u_before:g}不高于目标{u_after:g}）",
                f"≈{area:,.0f} m², no heat saving expected "
                f"(U {u_before:g} already at or below the target {u_after:g})",
            ),
            {"area_m2": area, "u_before": u_before, "saving_kwh": 0.0},
            (dflt, *defaulted, *geo.defaulted),
        )
    factor, factor_dflt = _heat_co2_factor(env, params)
    co2 = saving * factor / 1000
    (mwh_zh, mwh_en), (co2_zh, co2_en) = _about(saving / 1000), _about(co2)
    return EstimateResult(
        _loc(
            f"约{area:,.0f} m²，节热{mwh_zh} MWh/年，减排CO₂ {co2_zh} t/年",
            f"≈{area:,.0f} m², saves {mwh_en} MWh/yr heat, {co2_en} tCO₂/yr",
        ),
        {
            "area_m2": area,
            "u_before": u_before,
            "saving_kwh": saving,
            "co2_factor": factor,
            "co2_t": co2,
        },
        (dflt, *defaulted, *factor_dflt, *geo.defaulted),
    )


def _incentive(env: Mapping[str, Any], params: Params, weight_id: str) -> EstimateResult | None:
    """Reference subsidy level (2007): benchmark × item weight × heated (or floor) area."""
    area = _num(env, "heated_area")
    defaulted: tuple[DefaultedInput, ...] = ()
    if area is None:
        area = _num(env, "gross_floor_area")
        if area is None:
            return None
        defaulted = (
            DefaultedInput(
                _loc("供热面积按建筑面积", "Heated area taken as floor area"), f"{area:,.0f} m²"
            ),
        )
    rate = params.value("p_incentive_benchmark_yuan_m2") * params.value(weight_id)
    yuan = rate * area
    zh, en = _yuan(yuan, 1)
    return EstimateResult(
        _loc(
            f"参考奖励水平(2007) {rate:g}元/m²，约{zh}",
            f"reference subsidy level (2007) {rate:g} yuan/m², ≈{en}",
        ),
        {"yuan": yuan},
        defaulted,
    )


def _pv(env: Mapping[str, Any], params: Params) -> EstimateResult | None:
    area = _num(env, "roof_free_area")
    if area is None:
        return None
    kwp = area / params.value("p_pv_m2_per_kwp")
    kwh = kwp * params.value("p_pv_yield_kwh_per_kwp")
    co2 = kwh * params.value("p_co2_electricity_kg_kwh") / 1000
    return EstimateResult(
        _loc(
            f"约{kwp:,.0f} kWp，发电{kwh / 1000:,.0f} MWh/年，减排CO₂ {co2:,.0f} t/年",
            f"≈{kwp:,.0f} kWp, ≈{kwh / 1000:,.0f} MWh/yr, ≈{co2:,.0f} tCO₂/yr",
        ),
        {"kwp": kwp, "kwh": kwh, "co2_t": co2},
    )


def _count(env: Mapping[str, Any], key: str, zh: str, en: str) -> EstimateResult | None:
    n = _num(env, key)
    if n is None:
        return None
    return EstimateResult(_loc(f"{n:g}{zh}", f"{n:g} {en}"), {"count": n})


def _lifts_to_add(env: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lifts to add, entrances): one lift per entrance (Tianjin adds lifts per 门栋), less the
    lifts the building has, as A01 compares ``elevator_count < entrance_count``."""
    entrances = _num(env, "entrance_count")
    if entrances is None:
        return None
    if env.get("has_elevator") is not True:
        return entrances, entrances
    lifts = _num(env, "elevator_count")
    if lifts is None:
        return None
    return max(0.0, entrances - lifts), entrances


def _elevator(env: Mapping[str, Any], params: Params) -> EstimateResult | None:
    counted = _lifts_to_add(env)
    if counted is None:
        return None
    n, entrances = counted
    yuan = n * params.value("p_elevator_subsidy_yuan")
    zh, en = _yuan(yuan, 0)
    have_zh, have_en = "", ""
    if n != entrances:
        have_zh = f"（{entrances:g}个单元，已有{entrances - n:g}台）"
        have_en = f" ({entrances:g} entrances, {entrances - n:g} with a lift)"
    return EstimateResult(
        _loc(
            f"按每单元1台：{n:g}台{have_zh}，补贴约{zh}",
            f"one lift per entrance: {n:g}{have_en}, subsidy ≈{en}",
        ),
        {"lifts": n, "yuan": yuan},
        (DefaultedInput(_loc("每单元加装1台电梯", "One lift per entrance"), f"{n:g}"),),
    )


def _roof_area(env: Mapping[str, Any], params: Params) -> EstimateResult | None:
    gfa, floors = _num(env, "gross_floor_area"), _num(env, "floors_above")
    if gfa is None or not floors:
        return None
    area = gfa / floors
    return EstimateResult(_loc(f"屋面约{area:,.0f} m²", f"roof ≈{area:,.0f} m²"), {"area_m2": area})


_Method = Callable[[Mapping[str, Any], Params], EstimateResult | None]
METHODS: dict[str, _Method] = {
    "refer_professional": lambda env, p: EstimateResult(
        _loc("委托有资质的鉴定机构", "refer to a licensed appraiser")
    ),
    "roof_area": _roof_area,
    "per_entrance": lambda env, p: _count(env, "entrance_count", "个单元", "entrances"),
    "per_dwelling": lambda env, p: _count(env, "household_count", "户", "dwellings"),
    "heat_loss_wall": lambda env, p: _heat_loss(env, p, "wall"),
    "heat_loss_roof": lambda env, p: _heat_loss(env, p, "roof"),
    "heat_loss_window": lambda env, p: _heat_loss(env, p, "window"),
    "incentive_balancing": lambda env, p: _incentive(env, p, "p_incentive_weight_balancing"),
    "incentive_metering": lambda env, p: _incentive(env, p, "p_incentive_weight_metering"),
    "pv_yield": _pv,
    "elevator_subsidy": _elevator,
}


def estimate(method: str, env: Mapping[str, Any], params: Params) -> EstimateResult | None:
    """Run a named estimate method; None when the record lacks the inputs it needs."""
    return METHODS[method](env, params)
