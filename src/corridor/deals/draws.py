"""The uncertain behavioural parameters and the draws every deal is run over (common random numbers).

Run k of every deal has the seed `derive_seed(seed, k)` and the parameter values `draw_unit(seed, k, path)`
(corridor.batch.ensemble): the same for every deal, whichever worker runs it. By default the uncertain
parameters are the shared behaviour the calibration fits (corridor.batch.calibration.params.BEHAVIOUR_PARAMS),
each drawn uniformly (log-uniformly for a log-scaled range) in a band half as wide as its calibration range,
centred on the scenario's fitted value and clipped to the range: ASSUMED, a judgement of how far the fit
leaves each parameter uncertain (the calibration reports no posterior). `--vary PATH=LOW:HIGH` replaces the set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..batch.ensemble import derive_seed, draw_unit
from ..batch.ranges import check_ranges, normalise_ranges

BAND = 0.5      # share of the calibration range's width (log width for log-scaled ranges) drawn around the fit


@dataclass(frozen=True)
class Uncertain:
    path: str
    low: float
    high: float
    log: bool
    integer: bool
    meaning: str


def default_uncertain(raw: dict) -> list[Uncertain]:
    from ..batch.calibration.params import BEHAVIOUR_PARAMS, get_value, parse_param
    out = []
    for spec, meaning in BEHAVIOUR_PARAMS:
        p = parse_param(spec, raw, meaning=meaning)
        v = get_value(raw, p.paths[0], p.name)
        if v is None:
            continue
        if p.log:
            lo, hi, c = math.log(p.low), math.log(p.high), math.log(min(max(float(v), p.low), p.high))
        else:
            lo, hi, c = p.low, p.high, min(max(float(v), p.low), p.high)
        half = BAND * (hi - lo) / 2
        a, b = max(lo, c - half), min(hi, c + half)
        if p.log:
            a, b = math.exp(a), math.exp(b)
        out.append(Uncertain(p.paths[0], a, b, p.log, p.integer, meaning))
    return out


def given_uncertain(raw: dict, vary) -> list[Uncertain]:
    ranges = normalise_ranges(vary, "--vary")
    kinds = check_ranges(raw, ranges, "--vary")
    return [Uncertain(k, lo, hi, False, kinds[k] == "int", "given with --vary") for k, (lo, hi) in ranges.items()]


def draw(seed: int, k: int, params: list[Uncertain]) -> tuple[int, dict[str, float]]:
    """Run k's seed and parameter values."""
    values = {}
    for p in params:
        u = draw_unit(seed, k, p.path)
        if p.log:
            v = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
        else:
            v = p.low + u * (p.high - p.low)
        values[p.path] = int(round(v)) if p.integer else float(v)
    return derive_seed(seed, k), values
