"""Scenario -> compiled arrays: places, legs, crossings, sectors, nationalities, and every lever as a
per-day timeline. The kernels only ever see these arrays.

Day 0 is the first spin-up day (`start - spinup_days`); the recorded period starts at `first_day`.
"""
from __future__ import annotations

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from .codes import COUNTS_AS, CROSSING_KINDS, MODES, NOT_COUNTED, PLACE_KINDS, REGIONS
from .errors import InputError
from .timelines import LeverBook, Timelines

# The arrays the kernels read, as one namedtuple (numba accepts it as a single argument).
Net = namedtuple("Net", [
    "place_kind", "place_dwell", "leg_from", "leg_to", "leg_mode", "leg_days", "leg_cost", "leg_capacity",
    "leg_detection", "leg_region", "leg_visa", "leg_counts", "out_start", "out_legs", "dist", "dist_visa", "target_place",
    "place_target", "nat_origin_start", "nat_origin_place", "nat_origin_cum",
    "nat_transit_mexico", "nat_returnable", "city_bp", "city_port_start", "city_ports",
    "crossing_kind", "crossing_city", "crossing_sector", "crossing_appt", "sector_gotaway", "south_place",
])


def _days(sc) -> list[dt.date]:
    d0 = sc.start - dt.timedelta(days=sc.spinup_days)
    n = (sc.end - d0).days + 1
    return [d0 + dt.timedelta(days=i) for i in range(n)]


def _shortest_days(n_places: int, leg_from, leg_to, weight) -> np.ndarray:
    """All-pairs shortest travel days (Floyd-Warshall; the world has ~100 places)."""
    inf = np.inf
    d = np.full((n_places, n_places), inf)
    np.fill_diagonal(d, 0.0)
    for a, b, w in zip(leg_from, leg_to, weight):
        d[a, b] = min(d[a, b], w)
    for k in range(n_places):
        d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
    return d


@dataclass
class World:
    """A compiled scenario. `net` and `levers` go to the kernels; the rest names things for results."""
    scenario: object                    # the corridor.scenario.Scenario it was compiled from
    dates: list[dt.date]
    first_day: int
    net: Net
    lever_book: LeverBook
    place_ids: list[str]
    place_names: list[str]
    leg_ids: list[str]
    crossing_ids: list[str]
    sector_names: list[str]
    nat_names: list[str]
    border_cities: list[int]
    sector_processing: np.ndarray
    sector_holding: np.ndarray
    crossing_redeploy: np.ndarray
    crossing_trade: np.ndarray
    sector_of_city: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def levers(self) -> Timelines:
        """The levers as the scenario sets them, day by day (a run works on its own copy)."""
        return self.lever_book.timelines


def compile_world(sc) -> World:
    """A scenario (`corridor.scenario.Scenario`) as the arrays the kernels read."""
    dates = _days(sc)
    P = {p.id: i for i, p in enumerate(sc.places)}
    S = {s.name: i for i, s in enumerate(sc.sectors)}
    if (len(sc.nationalities) > 127 or len(sc.crossings) > 127 or len(sc.sectors) > 127 or len(sc.places) > 32000
            or len(sc.legs) > 32000):
        raise InputError(f"{sc.name}: too many nationalities, crossings or sectors (127 at most) or places or legs "
                         f"(32,000) for the compact agent store")
    n_p = len(sc.places)

    place_kind = np.array([PLACE_KINDS.index(p.kind) for p in sc.places], np.int8)
    place_dwell = np.array([p.dwell_days for p in sc.places], np.float64)
    leg_from = np.array([P[l.from_place] for l in sc.legs], np.int64)
    leg_to = np.array([P[l.to_place] for l in sc.legs], np.int64)
    leg_days = np.array([l.days for l in sc.legs], np.float64)
    order = np.argsort(leg_from, kind="stable")
    out_start = np.zeros(n_p + 1, np.int64)
    np.add.at(out_start, leg_from + 1, 1)
    out_start = np.cumsum(out_start)

    border = [i for i, p in enumerate(sc.places) if p.kind == "border_city"]
    if len(border) > 127:
        raise InputError(f"{sc.name}: at most 127 border cities")
    place_target = np.full(n_p, -1, np.int64)
    for t, pi in enumerate(border):
        place_target[pi] = t
    full = _shortest_days(n_p, leg_from, leg_to, leg_days + place_dwell[leg_to])
    dist = full[:, border].T.copy()  # dist[t, place]: days from place to border city t
    # The same without flights that need a Mexican visa: the map for those who would need one.
    leg_visa = np.array([l.visa_gated for l in sc.legs], np.bool_)
    land = ~leg_visa
    dist_visa = _shortest_days(n_p, leg_from[land], leg_to[land], (leg_days + place_dwell[leg_to])[land])[:, border].T.copy()

    nat_origin_start, nat_origin_place, nat_origin_cum = [0], [], []
    ords = np.array([d.toordinal() for d in dates])
    # target_cum[day, nat, t]: cumulative split over border cities for people leaving that day
    target_cum = np.zeros((len(dates), len(sc.nationalities), len(border)))
    heads_for = np.zeros((len(sc.nationalities), len(border)), np.bool_)   # any weight at any date
    for ni, nat in enumerate(sc.nationalities):
        w = np.array(list(nat.origins.values()), float)
        if w.sum() <= 0:
            raise InputError(f"{sc.name}: nationalities ({nat.name}).origins: weights must sum to more than 0")
        nat_origin_place += [P[k] for k in nat.origins]
        nat_origin_cum += list(np.cumsum(w) / w.sum())
        nat_origin_start.append(len(nat_origin_place))
        for si, (start, weights) in enumerate(nat.city_splits()):
            tw = np.zeros(len(border))
            for k, v in weights.items():
                tw[border.index(P[k])] = v
            # the first split also holds before its date
            days = slice(None) if si == 0 else ords >= start.toordinal()
            target_cum[days, ni] = np.cumsum(tw) / tw.sum()
            heads_for[ni] |= tw > 0
        for k in nat.origins:
            for t, pi in enumerate(border):
                if heads_for[ni, t] and not np.isfinite(dist[t, P[k]]):
                    raise InputError(f"{sc.name}: nationalities ({nat.name}): no route from origin {k!r} "
                                     f"to border city {sc.places[pi].id!r}; add legs that connect them")

    city_bp = np.full(n_p, -1, np.int64)
    ports_by_city: dict[int, list[int]] = {}
    for ci, c in enumerate(sc.crossings):
        pc = P[c.city]
        if c.kind == "between_ports":
            city_bp[pc] = ci
        else:
            ports_by_city.setdefault(pc, []).append(ci)
    city_port_start, city_ports = [0], []
    for pi in range(n_p):
        city_ports += ports_by_city.get(pi, [])
        city_port_start.append(len(city_ports))
    sector_of_city = np.full(n_p, -1, np.int64)
    for p in sc.places:
        if p.kind == "border_city":
            sector_of_city[P[p.id]] = S[p.sector]

    south_place = P[sc.policies.return_south_to]

    net = Net(
        place_kind=place_kind, place_dwell=place_dwell, leg_from=leg_from, leg_to=leg_to,
        leg_mode=np.array([MODES.index(l.mode) for l in sc.legs], np.int64), leg_days=leg_days,
        leg_cost=np.array([l.cost_usd for l in sc.legs], np.float64),
        leg_capacity=np.array([np.inf if l.capacity is None else l.capacity for l in sc.legs], np.float64),
        leg_detection=np.array([l.inspection.detection if l.inspection else 0.0 for l in sc.legs], np.float64)
        * sc.behaviour.detection_scale,
        leg_region=np.array([REGIONS.index(l.region) for l in sc.legs], np.int64),
        leg_visa=np.array([l.visa_gated for l in sc.legs], np.bool_),
        leg_counts=np.array([COUNTS_AS.index(l.counts_as) if l.counts_as in COUNTS_AS else NOT_COUNTED for l in sc.legs],
                            np.int64),
        out_start=out_start, out_legs=order.astype(np.int64), dist=dist, dist_visa=dist_visa, target_place=np.array(border, np.int64),
        place_target=place_target, nat_origin_start=np.array(nat_origin_start, np.int64),
        nat_origin_place=np.array(nat_origin_place, np.int64), nat_origin_cum=np.array(nat_origin_cum, np.float64),
        nat_transit_mexico=np.array([n.transit_mexico for n in sc.nationalities], np.bool_),
        nat_returnable=np.array([n.returnable_to_mexico for n in sc.nationalities], np.bool_),
        city_bp=city_bp, city_port_start=np.array(city_port_start, np.int64), city_ports=np.array(city_ports, np.int64),
        crossing_kind=np.array([CROSSING_KINDS.index(c.kind) for c in sc.crossings], np.int64),
        crossing_city=np.array([P[c.city] for c in sc.crossings], np.int64),
        crossing_sector=np.array([S[c.sector] for c in sc.crossings], np.int64),
        crossing_appt=np.array([c.appointment_share for c in sc.crossings], np.float64),
        sector_gotaway=np.array([s.gotaway_share for s in sc.sectors], np.float64),
        south_place=np.int64(south_place),
    )
    book = LeverBook(sc, dates, target_cum)
    for ni, nat in enumerate(sc.nationalities):
        if not book.timelines.mexico_visa_required[:, ni].any():
            continue
        for k in nat.origins:
            for t in np.flatnonzero(heads_for[ni]):
                if not np.isfinite(dist_visa[t, P[k]]):
                    raise InputError(f"{sc.name}: policies.mexico_visa_required.{nat.name}: from origin {k!r} the only "
                                     f"route to {sc.places[border[t]].id!r} is a visa-gated flight; add an overland leg")
    return World(
        scenario=sc, dates=dates, first_day=sc.spinup_days, net=net, lever_book=book,
        place_ids=[p.id for p in sc.places], place_names=[p.name for p in sc.places],
        leg_ids=[l.id for l in sc.legs], crossing_ids=[c.id for c in sc.crossings],
        sector_names=[s.name for s in sc.sectors], nat_names=[n.name for n in sc.nationalities],
        border_cities=border,
        sector_processing=np.array([s.processing_capacity for s in sc.sectors], float),
        sector_holding=np.array([s.holding_capacity for s in sc.sectors], float),
        crossing_redeploy=np.array([c.redeploy_capacity for c in sc.crossings], float),
        crossing_trade=np.array([c.trade_usd_per_day for c in sc.crossings], float),
        sector_of_city=sector_of_city,
    )
