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


def _heat_loss(env: Mapping[str, Any], params: Params, element: str) -> EstimateResult | None:
    """ΔQ ≈ (U_before − U_after) × A × HDD18 × 24 / 1000 kWh per year, and its CO₂."""
    geo = _geometry(env, params)
    if geo is None:
        return None
    area = {"wall": geo.opaque_wall, "roof": geo.footprint, "window": geo.window}[element]
    u_before, dflt = _era_u(env, params, element)
    u_after = params.value(f"p_u_target_{element}")
    saving = max(u_before - u_after, 0.0) * area * params.value("p_hdd18") * 24 / 1000
    co2 = saving * params.value("p_co2_heat_kg_kwh") / 1000
    mwh = saving / 1000
    return EstimateResult(
        _loc(
            f"约{area:,.0f} m²，节热{mwh:,.0f} MWh/年，减排CO₂ {co2:,.0f} t/年",
            f"≈{area:,.0f} m², saves ≈{mwh:,.0f} MWh/yr heat, ≈{co2:,.0f} tCO₂/yr",
        ),
        {"area_m2": area, "saving_kwh": saving, "co2_t": co2},
        (dflt, *geo.defaulted),
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
    return EstimateResult(
        _loc(
            f"参考奖励水平(2007) {rate:g}元/m²，约{yuan / 10000:,.1f}万元",
            f"reference subsidy level (2007) {rate:g} yuan/m², ≈{yuan / 10000:,.1f}万 yuan",
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


def _elevator(env: Mapping[str, Any], params: Params) -> EstimateResult | None:
    n = _num(env, "entrance_count")
    if n is None:
        return None
    yuan = n * params.value("p_elevator_subsidy_yuan")
    return EstimateResult(
        _loc(
            f"按每单元1台：{n:g}台，补贴约{yuan / 10000:,.0f}万元",
            f"one lift per entrance: {n:g}, subsidy ≈{yuan / 10000:,.0f}万 yuan",
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
