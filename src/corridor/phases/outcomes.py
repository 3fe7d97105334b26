"""The legal outcome of a processed encounter, by nationality and regime — shared by the US encounter at a
port (Office of Field Operations) and Border Patrol custody — and the metrics of those outcomes."""
from __future__ import annotations

from numba import njit

from ..codes import (DECIDE_RETRY, F_EXPELLED, ICE_DETENTION, NO_LEG, OUT_EXPELLED, OUT_ICE, OUT_RELEASE,
                     OUT_REMOVED_LAND, OUT_RETURN_MX, RELEASED_US, SUSPENSION, TITLE8_RESTRICTED, TITLE42,
                     WAITING_BORDER)
from ..metrics import Metric
from .common import S, to_sink


@njit(cache=True)
def outcome(net, lv, d, nat, u, u_accept, p_accept, restricted_factor, row, o):
    """Title 42 expulsion (to Mexico if Mexico takes them, else ICE), Title 8 removal (over land for
    Mexicans, a return to Mexico within the cap where Mexico accepts the nationality, else ICE), or release.
    Under a suspension of entry nobody is released: everyone is removed or returned (or waits in ICE)."""
    regime = lv.regime[d]
    mexican = not net.nat_transit_mexico[nat]
    to_mexico_ok = mexican or net.nat_returnable[nat] or lv.mexico_accepts_returns[d, nat]
    if regime == TITLE42 and u < lv.title42_expulsion[d, nat]:
        row[o[S.expulsions]] += 1
        if to_mexico_ok:
            if mexican or net.nat_returnable[nat]:
                return OUT_EXPELLED
            row[o[S.return_demand]] += 1
            if u_accept < p_accept:
                return OUT_EXPELLED
        return OUT_ICE
    r = lv.title8_removal[d, nat]
    if regime == TITLE8_RESTRICTED:
        r = 1.0 - (1.0 - r) * restricted_factor
    elif regime == SUSPENSION:
        r = 1.0
    if u < r:
        if mexican:
            return OUT_REMOVED_LAND
        if lv.mexico_accepts_returns[d, nat] and not net.nat_returnable[nat]:
            row[o[S.return_demand]] += 1
            if u_accept < p_accept:
                return OUT_RETURN_MX
        return OUT_ICE
    return OUT_RELEASE


@njit(inline="always", cache=True)
def apply_outcome(ag, i, out, city, d, nat, row, o):
    if out == OUT_RELEASE:
        row[o[S.releases]] += 1
        row[o[S.good] + nat] += 1
        to_sink(ag, i, RELEASED_US, d, row, o)
    elif out == OUT_ICE:
        row[o[S.ice_in] + nat] += 1
        ag.status[i] = ICE_DETENTION
        ag.leg[i] = NO_LEG
        ag.since[i] = d
    else:
        # returned to Mexico (Title 42 expulsion, return, or removal of a Mexican over land)
        if out == OUT_REMOVED_LAND:
            row[o[S.removals]] += 1
        else:
            row[o[S.returns]] += 1
        row[o[S.bad] + nat] += 1
        ag.status[i] = WAITING_BORDER
        ag.place[i] = city
        ag.leg[i] = NO_LEG
        ag.flags[i] = F_EXPELLED if out == OUT_EXPELLED else 0
        ag.since[i] = d
        ag.timer[i] = DECIDE_RETRY             # the retry decision is taken in `retries`


def _count(block):
    return lambda _, day: day.one(block) * day.scale


METRICS = (
    Metric("releases", None, "people", "flow", True, "released into the US (at a port, from custody or ICE)",
           _count("releases")),
    Metric("removals", None, "people", "flow", True, "removed by flight, or Mexicans removed over land",
           _count("removals")),
    Metric("returns_to_mexico", None, "people", "flow", True, "non-Mexicans returned to Mexico", _count("returns")),
    Metric("title42_expulsions", None, "people", "flow", True, "Title 42 expulsions", _count("expulsions")),
)
